import { describe, expect, it } from 'vitest';
import * as writer from '../../../convert/src/ple/per-layer-table-layout';
import { decodePerLayerRecord, parsePerLayerTableHeader, perLayerTableLayout, type PerLayerTableLayoutParams } from './per-layer-table-format';

const cases: PerLayerTableLayoutParams[] = [
  { rows: 7, numLayers: 3, layerWidth: 3, dataType: 'float32', outputScale: Math.sqrt(3) },
  { rows: 7, numLayers: 3, layerWidth: 3, dataType: 'float16', outputScale: 16 },
  { rows: 262144, numLayers: 30, layerWidth: 256, dataType: 'uint8', blockSize: 32, zeroPoints: 128, outputScale: 16 },
  { rows: 5, numLayers: 2, layerWidth: 5, dataType: 'int4', blockSize: 4, scaleType: 'float16', zeroPoints: 'stored', outputScale: 0.5 },
  { rows: 5, numLayers: 1, layerWidth: 10, dataType: 'uint4', blockSize: 32, zeroPoints: 8, outputScale: 1, source: 'x.onnx: GatherBlockQuantized' },
  { rows: 5, numLayers: 1, layerWidth: 10, dataType: 'int8', blockSize: 10, zeroPoints: -3, outputScale: 2 },
];

describe('per-layer table format', () => {
  it.each(cases)('the converter writes what the reader parses: $dataType', (params) => {
    const written = writer.perLayerTableLayout(params as writer.PerLayerTableLayoutParams);
    const header = writer.encodePerLayerTableHeader(written);
    expect(header.length % 4096).toBe(0);
    const length = new DataView(header.buffer).getUint32(0, true);
    const parsed = parsePerLayerTableHeader(header.subarray(8, 8 + length), 'table.safetensors');
    expect(parsed.layout).toEqual(written);
    expect(parsed.layout).toEqual(perLayerTableLayout(params));
    expect(parsed.dataStart).toBe(header.length);
    expect(parsed.expectedFileBytes).toBe(header.length + written.rows * written.recordBytes);
  });

  it('decodes stored signed zero points, fp16 scales and 4-bit nibbles as (q − zp) · scale · output scale', () => {
    // int4, blocks of 4 over 6 values: block 0 scale 0.5 zp −2, block 1 scale 2 zp 7.
    const layout = perLayerTableLayout({ rows: 1, numLayers: 2, layerWidth: 3, dataType: 'int4', blockSize: 4, scaleType: 'float16', zeroPoints: 'stored', outputScale: 3 });
    expect(layout).toMatchObject({ zeroPointsOffset: 4, dataOffset: 6, recordBytes: 12 });
    const record = new Uint8Array(layout.recordBytes);
    const view = new DataView(record.buffer);
    view.setUint16(0, 0x3800, true); // 0.5
    view.setUint16(2, 0x4000, true); // 2
    record[4] = 0x0e; // −2 as a nibble
    record[5] = 0x07;
    // Values 7, −8, 1, 0 | −1, 5 (low nibble first).
    record.set([0x87, 0x01, 0x5f], 6);
    const output = new Float32Array(6);
    decodePerLayerRecord(layout, record, output, 0);
    expect(Array.from(output)).toEqual([(7 + 2) * 0.5 * 3, (-8 + 2) * 0.5 * 3, (1 + 2) * 0.5 * 3, (0 + 2) * 0.5 * 3, (-1 - 7) * 2 * 3, (5 - 7) * 2 * 3]);

    const int8 = perLayerTableLayout({ rows: 1, numLayers: 1, layerWidth: 2, dataType: 'int8', blockSize: 2, zeroPoints: 'stored', outputScale: 1 });
    const int8Record = new Uint8Array(int8.recordBytes);
    new DataView(int8Record.buffer).setFloat32(0, 0.25, true);
    int8Record[4] = 0xfd; // zero point −3
    int8Record.set([0x80, 0x7f], 5); // −128, 127
    const int8Output = new Float32Array(2);
    decodePerLayerRecord(int8, int8Record, int8Output, 0);
    expect(Array.from(int8Output)).toEqual([(-128 + 3) * 0.25, (127 + 3) * 0.25]);
  });

  it('refuses headers that disagree with their own layout', () => {
    const written = writer.perLayerTableLayout(cases[2] as writer.PerLayerTableLayoutParams);
    const json = JSON.parse(new TextDecoder().decode(writer.encodePerLayerTableHeader(written).subarray(8)).trim());
    json.__metadata__.record_bytes = '7680';
    const bytes = new TextEncoder().encode(JSON.stringify(json));
    expect(() => parsePerLayerTableHeader(bytes, 'onnx/t.safetensors', '/models')).toThrow(
      'Model file "onnx/t.safetensors" is not a usable per-layer embedding table: __metadata__.record_bytes is 7680, but the layout gives 8640',
    );
    json.__metadata__.record_bytes = '8640';
    json.__metadata__.version = '2';
    expect(() => parsePerLayerTableHeader(new TextEncoder().encode(JSON.stringify(json)), 't')).toThrow('it is version 2 of the format; this reader knows version 1');
  });
});
