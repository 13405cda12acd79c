import type { PerLayerTableLayout } from '@gemma3n/core';
import { float16BitsToNumber } from '../runtime/tensor-data';

/**
 * Reading side of the per-layer embedding (PLE) row file whose layout and header are defined in
 * `@gemma3n/core` (`ple/per-layer-table-layout.ts`):
 *
 *   record = [scales: blocks × scale_type] [zero points: blocks × 1 byte, if stored] [data] [pad to 4]
 *   value[c] = (q[c] − zp[block]) · scale[block]            for quantized data, block = ⌊c / block_size⌋
 *   per_layer_inputs[s, l, p] = value[l · layer_width + p] · output_scale   (float32 arithmetic)
 */

/**
 * Decodes one record into `target[targetOffset … + rowWidth)`: dequantized (or widened) values
 * times the output scale, each step rounded to float32 as onnxruntime's float kernels round.
 */
export function decodePerLayerRecord(
  layout: PerLayerTableLayout,
  record: Uint8Array,
  target: Float32Array,
  targetOffset: number,
): void {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const width = layout.rowWidth;
  const outputScale = layout.outputScale;
  const data = layout.dataOffset;
  const round = Math.fround;
  switch (layout.dataType) {
    case 'float32':
      for (let column = 0; column < width; column++) target[targetOffset + column] = round(view.getFloat32(data + column * 4, true) * outputScale);
      return;
    case 'float16':
      for (let column = 0; column < width; column++) {
        target[targetOffset + column] = round(float16BitsToNumber(view.getUint16(data + column * 2, true)) * outputScale);
      }
      return;
    default:
      break;
  }
  const blockSize = layout.blockSize;
  const fourBit = layout.dataType === 'int4' || layout.dataType === 'uint4';
  const signed = layout.dataType === 'int8' || layout.dataType === 'int4';
  for (let block = 0; block < layout.blocksPerRow; block++) {
    const scale =
      layout.scaleType === 'float32'
        ? view.getFloat32(layout.scalesOffset + block * 4, true)
        : round(float16BitsToNumber(view.getUint16(layout.scalesOffset + block * 2, true)));
    let zeroPoint = layout.zeroPoints === 'stored' ? record[layout.zeroPointsOffset + block]! : layout.zeroPoints;
    if (layout.zeroPoints === 'stored' && signed) zeroPoint = fourBit ? ((zeroPoint & 0xf) ^ 8) - 8 : (zeroPoint << 24) >> 24;
    const end = Math.min(width, (block + 1) * blockSize);
    for (let column = block * blockSize; column < end; column++) {
      let quantized: number;
      if (fourBit) {
        const byte = record[data + (column >> 1)]!;
        const nibble = column & 1 ? byte >> 4 : byte & 0xf;
        quantized = signed ? (nibble ^ 8) - 8 : nibble;
      } else {
        const byte = record[data + column]!;
        quantized = signed ? (byte << 24) >> 24 : byte;
      }
      target[targetOffset + column] = round(round((quantized - zeroPoint) * scale) * outputScale);
    }
  }
}
