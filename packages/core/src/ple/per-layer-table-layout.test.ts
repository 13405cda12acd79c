import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../errors/model-file-error';
import { parsePerLayerTableHeader, perLayerTableHeaderLength } from './per-layer-table-header';
import { encodePerLayerTableHeader, perLayerDataBytes, perLayerTableLayout, perLayerTableMetadata, type PerLayerTableLayoutParams } from './per-layer-table-layout';

/** Each data type, with the offsets worked out by hand: [scales][zero points][data], padded to 4. */
const cases: { params: PerLayerTableLayoutParams; offsets: { blocksPerRow: number; zeroPointsOffset: number; dataOffset: number; recordBytes: number } }[] = [
  // 9 float32 values: no scales, 36 bytes.
  { params: { rows: 7, numLayers: 3, layerWidth: 3, dataType: 'float32', outputScale: Math.sqrt(3) }, offsets: { blocksPerRow: 0, zeroPointsOffset: 0, dataOffset: 0, recordBytes: 36 } },
  // 9 float16 values: 18 bytes, padded to 20.
  { params: { rows: 7, numLayers: 3, layerWidth: 3, dataType: 'float16', outputScale: 16 }, offsets: { blocksPerRow: 0, zeroPointsOffset: 0, dataOffset: 0, recordBytes: 20 } },
  // E2B at q8 (GatherBlockQuantized uint8): 7680 values in 240 blocks, 960 bytes of float32 scales.
  {
    params: { rows: 262144, numLayers: 30, layerWidth: 256, dataType: 'uint8', blockSize: 32, zeroPoints: 128, outputScale: 16 },
    offsets: { blocksPerRow: 240, zeroPointsOffset: 960, dataOffset: 960, recordBytes: 8640 },
  },
  // 10 int4 values in 3 blocks of 4: 6 bytes of float16 scales, 3 stored zero points, 5 data bytes → 14 → 16.
  {
    params: { rows: 5, numLayers: 2, layerWidth: 5, dataType: 'int4', blockSize: 4, scaleType: 'float16', zeroPoints: 'stored', outputScale: 0.5 },
    offsets: { blocksPerRow: 3, zeroPointsOffset: 6, dataOffset: 9, recordBytes: 16 },
  },
  // 10 uint4 values in one (partial) block of 32: 4 + 5 bytes → 12.
  {
    params: { rows: 5, numLayers: 1, layerWidth: 10, dataType: 'uint4', blockSize: 32, zeroPoints: 8, outputScale: 1, source: 'x.onnx: GatherBlockQuantized' },
    offsets: { blocksPerRow: 1, zeroPointsOffset: 4, dataOffset: 4, recordBytes: 12 },
  },
  // 10 int8 values in one block: 4 + 10 bytes → 16.
  { params: { rows: 5, numLayers: 1, layerWidth: 10, dataType: 'int8', blockSize: 10, zeroPoints: -3, outputScale: 2 }, offsets: { blocksPerRow: 1, zeroPointsOffset: 4, dataOffset: 4, recordBytes: 16 } },
];

function jsonOf(header: Uint8Array): Uint8Array {
  return header.subarray(8, 8 + new DataView(header.buffer).getUint32(0, true));
}

describe('per-layer table layout', () => {
  it.each(cases)('lays out $params.dataType records as worked out by hand', ({ params, offsets }) => {
    const layout = perLayerTableLayout(params);
    expect(layout).toMatchObject({ ...offsets, scalesOffset: 0, rowWidth: params.numLayers * params.layerWidth, outputScale: Math.fround(params.outputScale) });
    expect(layout.recordBytes % 4).toBe(0);
    expect(layout.dataOffset + perLayerDataBytes(params.dataType, layout.rowWidth)).toBeLessThanOrEqual(layout.recordBytes);
  });

  it.each(cases)('writes a $params.dataType header that parses back to the same layout', ({ params }) => {
    const layout = perLayerTableLayout(params);
    const header = encodePerLayerTableHeader(layout);
    expect(header.length % 4096).toBe(0);
    expect(header.subarray(4, 8)).toEqual(new Uint8Array(4));
    const length = perLayerTableHeaderLength(header.subarray(0, 8), 'table.safetensors', undefined, header.length);
    const parsed = parsePerLayerTableHeader(header.subarray(8, 8 + length), 'table.safetensors');
    expect(parsed.layout).toEqual(layout);
    expect(parsed.dataStart).toBe(header.length);
    expect(parsed.expectedFileBytes).toBe(header.length + layout.rows * layout.recordBytes);
  });

  it('stores the metadata as safetensors strings, with a U8 [rows, record_bytes] tensor', () => {
    const layout = perLayerTableLayout(cases[3]!.params);
    expect(perLayerTableMetadata(layout)).toEqual({
      format: 'gemma3n-per-layer-embeddings',
      version: '1',
      rows: '5',
      num_layers: '2',
      layer_width: '5',
      row_width: '10',
      data_type: 'int4',
      block_size: '4',
      scale_type: 'float16',
      zero_points: 'stored',
      output_scale: '0.5',
      scales_offset: '0',
      zero_points_offset: '6',
      data_offset: '9',
      record_bytes: '16',
      source: '',
    });
    const json = JSON.parse(new TextDecoder().decode(jsonOf(encodePerLayerTableHeader(layout))));
    expect(json.records).toEqual({ dtype: 'U8', shape: [5, 16], data_offsets: [0, 80] });
  });

  it('refuses impossible layouts', () => {
    expect(() => perLayerTableLayout({ rows: 1, numLayers: 1, layerWidth: 3, dataType: 'uint4', outputScale: 1 })).toThrow('per-layer table layout: 4-bit rows must hold an even number of values, got 3');
    expect(() => perLayerTableLayout({ rows: 1, numLayers: 1, layerWidth: 4, dataType: 'int4', zeroPoints: 8, outputScale: 1 })).toThrow('zero point 8 is outside the int4 range [-8, 7]');
    expect(() => perLayerTableLayout({ rows: 0, numLayers: 1, layerWidth: 4, dataType: 'int8', outputScale: 1 })).toThrow('rows must be a positive integer, got 0');
    expect(() => perLayerTableLayout({ rows: 1, numLayers: 1, layerWidth: 4, dataType: 'bfloat16' as 'float16', outputScale: 1 })).toThrow('unknown data type bfloat16');
  });

  it('refuses headers that disagree with their own layout, a later version, and lengths past the file', () => {
    const written = perLayerTableLayout(cases[2]!.params);
    const json = JSON.parse(new TextDecoder().decode(jsonOf(encodePerLayerTableHeader(written))));
    json.__metadata__.record_bytes = '7680';
    expect(() => parsePerLayerTableHeader(new TextEncoder().encode(JSON.stringify(json)), 'onnx/t.safetensors', '/models')).toThrow(
      'Model file "onnx/t.safetensors" is not a usable per-layer embedding table: __metadata__.record_bytes is 7680, but the layout gives 8640',
    );
    json.__metadata__.record_bytes = '8640';
    json.__metadata__.version = '2';
    expect(() => parsePerLayerTableHeader(new TextEncoder().encode(JSON.stringify(json)), 't')).toThrow('it is version 2 of the format; this reader knows version 1');

    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setUint32(0, 4088, true);
    const short = (() => {
      try {
        perLayerTableHeaderLength(prefix, 't', '/models', 100);
      } catch (error) {
        return error;
      }
    })();
    expect(ModelFileError.isInstance(short) && (short as ModelFileError).problem === 'short' && (short as ModelFileError).expectedBytes === 4096).toBe(true);
    new DataView(prefix.buffer).setUint32(4, 1, true);
    expect(() => perLayerTableHeaderLength(prefix, 't', undefined, 1 << 30)).toThrow('is not a per-layer embedding table: its header length 4294971384 is not that of a gemma3n-per-layer-embeddings file');
  });
});
