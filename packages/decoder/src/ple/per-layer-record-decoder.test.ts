import { perLayerTableLayout } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { decodePerLayerRecord } from './per-layer-record-decoder';

describe('decodePerLayerRecord', () => {
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

  it('widens float16 rows and scales float32 rows by the output scale', () => {
    const half = perLayerTableLayout({ rows: 1, numLayers: 1, layerWidth: 3, dataType: 'float16', outputScale: 2 });
    const record = new Uint8Array(half.recordBytes);
    const view = new DataView(record.buffer);
    [0x3c00, 0xc000, 0x3555].forEach((bits, index) => view.setUint16(index * 2, bits, true)); // 1, −2, ≈ 1/3
    const output = new Float32Array(4);
    decodePerLayerRecord(half, record, output, 1);
    expect(Array.from(output)).toEqual([0, 2, -4, Math.fround(0.333251953125 * 2)]);
    const single = perLayerTableLayout({ rows: 1, numLayers: 2, layerWidth: 1, dataType: 'float32', outputScale: Math.sqrt(2) });
    const floats = new Float32Array([0.5, -3]);
    const singleOutput = new Float32Array(2);
    decodePerLayerRecord(single, new Uint8Array(floats.buffer), singleOutput, 0);
    expect(Array.from(singleOutput)).toEqual([Math.fround(0.5 * Math.fround(Math.sqrt(2))), Math.fround(-3 * Math.fround(Math.sqrt(2)))]);
  });
});
