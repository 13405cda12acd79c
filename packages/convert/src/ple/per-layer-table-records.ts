import { PER_LAYER_SCALE_BYTES, perLayerDataBytes, perLayerTableLayout, type PerLayerDataType, type PerLayerTableLayout, UnsupportedError } from '@gemma3n/core';
import { float16BitsToFloat32 } from '../safetensors/float-conversions';
import type { FoundPerLayerTable, PerLayerTableForm } from './find-per-layer-table';
import { OnnxInitializerReader, TENSOR_TYPES } from './onnx-initializer-reader';
import { encodePerLayerRows, layoutForEncoding, type PerLayerTableEncoding } from './per-layer-table-encoders';

/**
 * The layout a found table is stored in, and its records a block of rows at a time. Quantized
 * tables keep their own bytes (data, scales and zero points are copied, never re-quantized), so
 * the file decodes to exactly what the graph computes; float tables are copied too, or encoded
 * as `encoding` when one is asked for.
 */
export interface PerLayerRecordSource {
  layout: PerLayerTableLayout;
  /** Records of rows [first, first + count). */
  records(first: number, count: number): Promise<Uint8Array>;
}

export async function perLayerRecordSource(
  reader: OnnxInitializerReader,
  found: FoundPerLayerTable,
  shape: { numLayers: number; layerWidth: number },
  encoding?: PerLayerTableEncoding,
): Promise<PerLayerRecordSource> {
  const form = found.form;
  const base = { rows: found.rows, numLayers: shape.numLayers, layerWidth: shape.layerWidth, outputScale: found.outputScale, source: `${reader.path.split('/').pop()}: ${found.description}` };
  if (form.kind === 'gather') {
    const sourceType = form.table.dataType === TENSOR_TYPES.float16 ? 'fp16' : 'fp32';
    const layout = layoutForEncoding(encoding ?? sourceType, base);
    return {
      layout,
      records: async (first, count) => {
        const width = found.rowWidth;
        const bytesPerValue = sourceType === 'fp16' ? 2 : 4;
        const raw = await reader.readRange(form.table, first * width * bytesPerValue, count * width * bytesPerValue);
        const aligned = raw.byteOffset % 4 === 0 ? raw : new Uint8Array(raw);
        const values =
          sourceType === 'fp16'
            ? float16BitsToFloat32(new Uint16Array(aligned.buffer, aligned.byteOffset, count * width))
            : new Float32Array(aligned.buffer, aligned.byteOffset, count * width);
        return encodePerLayerRows(layout, values, count);
      },
    };
  }
  if (encoding !== undefined) {
    throw new UnsupportedError({
      feature: 'per-layer table encoding',
      value: encoding,
      message: `The per-layer table of ${reader.path} is already quantized (${found.description}); it is copied as it is, since re-encoding it would only lose precision. Leave the encoding out.`,
    });
  }
  return quantizedRecordSource(reader, form, found, base);
}

async function quantizedRecordSource(
  reader: OnnxInitializerReader,
  form: Exclude<PerLayerTableForm, { kind: 'gather' }>,
  found: FoundPerLayerTable,
  base: { rows: number; numLayers: number; layerWidth: number; outputScale: number; source: string },
): Promise<PerLayerRecordSource> {
  const width = found.rowWidth;
  if (form.kind === 'gather-block-quantized') {
    const dataType: PerLayerDataType =
      form.data.dataType === TENSOR_TYPES.uint8 ? (form.bits === 8 ? 'uint8' : 'uint4') : form.data.dataType === TENSOR_TYPES.int4 ? 'int4' : 'uint4';
    const scaleType = form.scales.dataType === TENSOR_TYPES.float16 ? 'float16' : 'float32';
    // GatherBlockQuantized's implicit zero point: the middle of the range for unsigned data.
    const implicitZeroPoint = dataType === 'uint8' ? 128 : dataType === 'uint4' ? 8 : 0;
    const layout = perLayerTableLayout({ ...base, dataType, blockSize: form.blockSize, scaleType, zeroPoints: form.zeroPoints ? 'stored' : implicitZeroPoint });
    const blocks = layout.blocksPerRow;
    const rowDataBytes = perLayerDataBytes(dataType, width);
    const scaleBytes = PER_LAYER_SCALE_BYTES[scaleType];
    return {
      layout,
      records: async (first, count) => {
        const data = await reader.readRange(form.data, first * rowDataBytes, count * rowDataBytes);
        const scales = await reader.readRange(form.scales, first * blocks * scaleBytes, count * blocks * scaleBytes);
        const zeroPoints = form.zeroPoints === undefined ? undefined : await unpackedZeroPoints(reader, form.zeroPoints, dataType, form.data.dataType!, blocks, first, count);
        return assemble(layout, count, (row) => ({
          scales: scales.subarray(row * blocks * scaleBytes, (row + 1) * blocks * scaleBytes),
          zeroPoints: zeroPoints?.subarray(row * blocks, (row + 1) * blocks),
          data: data.subarray(row * rowDataBytes, (row + 1) * rowDataBytes),
        }));
      },
    };
  }
  // dequantize-linear and row-scaled: one block per row, int8 or uint8 values.
  const dataType: PerLayerDataType = form.data.dataType === TENSOR_TYPES.int8 ? 'int8' : 'uint8';
  return wholeRowSource(reader, form, dataType, width, base);
}

async function wholeRowSource(
  reader: OnnxInitializerReader,
  form: Extract<PerLayerTableForm, { kind: 'dequantize-linear' | 'row-scaled' }>,
  dataType: PerLayerDataType,
  width: number,
  base: { rows: number; numLayers: number; layerWidth: number; outputScale: number; source: string },
): Promise<PerLayerRecordSource> {
  const scaleTensor = form.kind === 'dequantize-linear' ? form.scale : form.scales;
  const scaleType = scaleTensor.dataType === TENSOR_TYPES.float16 ? 'float16' : 'float32';
  const scaleBytes = PER_LAYER_SCALE_BYTES[scaleType];
  // DequantizeLinear's zero point defaults to 0, like the row-scaled form's.
  const zeroPoint = form.kind === 'dequantize-linear' && form.zeroPoint !== undefined ? (await reader.numbers(form.zeroPoint))[0]! : 0;
  const layout = perLayerTableLayout({ ...base, dataType, blockSize: width, scaleType, zeroPoints: zeroPoint });
  // One scale for the whole table (DequantizeLinear) is repeated in every record.
  const tableScale = form.kind === 'dequantize-linear' ? await reader.readRange(scaleTensor, 0, scaleBytes) : undefined;
  return {
    layout,
    records: async (first, count) => {
      const data = await reader.readRange(form.data, first * width, count * width);
      const scales = tableScale ?? (await reader.readRange(scaleTensor, first * scaleBytes, count * scaleBytes));
      return assemble(layout, count, (row) => ({
        scales: tableScale ?? scales.subarray(row * scaleBytes, (row + 1) * scaleBytes),
        zeroPoints: undefined,
        data: data.subarray(row * width, (row + 1) * width),
      }));
    },
  };
}

/** Zero points of rows [first, first + count), one byte per block (4-bit ones unpacked). */
async function unpackedZeroPoints(
  reader: OnnxInitializerReader,
  tensor: Parameters<OnnxInitializerReader['readRange']>[0],
  dataType: PerLayerDataType,
  tensorDataType: number,
  blocks: number,
  first: number,
  count: number,
): Promise<Uint8Array> {
  if (dataType === 'uint8') return reader.readRange(tensor, first * blocks, count * blocks);
  const result = new Uint8Array(count * blocks);
  if (tensorDataType === TENSOR_TYPES.uint8) {
    // uint8 data with bits 4: zero points [rows, ceil(blocks / 2)], each row padded to whole bytes.
    const rowBytes = Math.ceil(blocks / 2);
    const packed = await reader.readRange(tensor, first * rowBytes, count * rowBytes);
    for (let row = 0; row < count; row++) {
      for (let block = 0; block < blocks; block++) {
        const byte = packed[row * rowBytes + (block >> 1)]!;
        result[row * blocks + block] = block & 1 ? byte >> 4 : byte & 0xf;
      }
    }
    return result;
  }
  // int4 / uint4 tensors [rows, blocks]: packed over the flattened index, across row ends.
  const firstElement = first * blocks;
  const startByte = firstElement >> 1;
  const endByte = Math.ceil((firstElement + count * blocks) / 2);
  const packed = await reader.readRange(tensor, startByte, endByte - startByte);
  for (let index = 0; index < count * blocks; index++) {
    const element = firstElement + index;
    const byte = packed[(element >> 1) - startByte]!;
    result[index] = element & 1 ? byte >> 4 : byte & 0xf;
  }
  return result;
}

/** Writes each row's parts at the layout's offsets (padding stays zero). */
function assemble(
  layout: PerLayerTableLayout,
  count: number,
  partsOf: (row: number) => { scales: Uint8Array; zeroPoints: Uint8Array | undefined; data: Uint8Array },
): Uint8Array {
  const output = new Uint8Array(count * layout.recordBytes);
  for (let row = 0; row < count; row++) {
    const record = row * layout.recordBytes;
    const parts = partsOf(row);
    output.set(parts.scales, record + layout.scalesOffset);
    if (parts.zeroPoints !== undefined) output.set(parts.zeroPoints, record + layout.zeroPointsOffset);
    output.set(parts.data, record + layout.dataOffset);
  }
  return output;
}
