import { perLayerTableLayout, type PerLayerTableLayout } from '@gemma3n/core';

/**
 * How a float table (a checkpoint's, or an fp32/fp16 embed graph's) is stored:
 * - `fp32`: exact; 4 bytes per value (30 KB per E2B token row, 8 GB for the table).
 * - `fp16`: 2 bytes per value; exact for fp16 sources, round-to-nearest-even otherwise.
 * - `q8`: symmetric int8 in blocks of 32 values with a float32 scale each (max|x| / 127), the
 *   block size of the q8 GatherBlockQuantized tables; error ≤ scale / 2 per value. 1.125 bytes
 *   per value (2.26 GB for E2B).
 * - `q4`: symmetric int4 (−7…7) in blocks of 32 with float32 scales (max|x| / 7); error ≤
 *   scale / 2. 0.625 bytes per value (1.26 GB for E2B).
 */
export type PerLayerTableEncoding = 'fp32' | 'fp16' | 'q8' | 'q4';

export const PER_LAYER_TABLE_ENCODINGS: readonly PerLayerTableEncoding[] = ['fp32', 'fp16', 'q8', 'q4'];

/** Values per scale of the q8 / q4 encodings. */
export const PER_LAYER_BLOCK_SIZE = 32;

export function layoutForEncoding(
  encoding: PerLayerTableEncoding,
  shape: { rows: number; numLayers: number; layerWidth: number; outputScale: number; source?: string },
): PerLayerTableLayout {
  const common = { ...shape, blockSize: PER_LAYER_BLOCK_SIZE, scaleType: 'float32' as const, zeroPoints: 0 };
  switch (encoding) {
    case 'fp32':
      return perLayerTableLayout({ ...shape, dataType: 'float32' });
    case 'fp16':
      return perLayerTableLayout({ ...shape, dataType: 'float16' });
    case 'q8':
      return perLayerTableLayout({ ...common, dataType: 'int8' });
    case 'q4':
      return perLayerTableLayout({ ...common, dataType: 'int4' });
  }
}

/**
 * Encodes `rowCount` float32 rows (row-major, `layout.rowWidth` values each) as records of a
 * layout made by `layoutForEncoding`. Returns `rowCount · recordBytes` bytes.
 */
export function encodePerLayerRows(layout: PerLayerTableLayout, values: Float32Array, rowCount: number): Uint8Array {
  const width = layout.rowWidth;
  if (values.length !== rowCount * width) {
    throw new RangeError(`encodePerLayerRows: ${rowCount} rows of ${width} values need ${rowCount * width} values, got ${values.length}`);
  }
  const output = new Uint8Array(rowCount * layout.recordBytes);
  const view = new DataView(output.buffer);
  for (let row = 0; row < rowCount; row++) {
    const record = row * layout.recordBytes;
    const first = row * width;
    switch (layout.dataType) {
      case 'float32':
        for (let column = 0; column < width; column++) view.setFloat32(record + layout.dataOffset + column * 4, values[first + column]!, true);
        break;
      case 'float16':
        for (let column = 0; column < width; column++) {
          view.setUint16(record + layout.dataOffset + column * 2, float32ToFloat16Bits(values[first + column]!), true);
        }
        break;
      case 'int8':
      case 'int4':
        encodeSymmetricRow(layout, values, first, output, view, record);
        break;
      default:
        throw new RangeError(`encodePerLayerRows writes float32, float16, int8 and int4 records, not ${layout.dataType}`);
    }
  }
  return output;
}

function encodeSymmetricRow(layout: PerLayerTableLayout, values: Float32Array, first: number, output: Uint8Array, view: DataView, record: number): void {
  if (layout.zeroPoints !== 0 || layout.scaleType !== 'float32') throw new RangeError('symmetric rows have float32 scales and zero point 0');
  const fourBit = layout.dataType === 'int4';
  const limit = fourBit ? 7 : 127;
  for (let block = 0; block < layout.blocksPerRow; block++) {
    const start = block * layout.blockSize;
    const end = Math.min(layout.rowWidth, start + layout.blockSize);
    let maxAbs = 0;
    for (let column = start; column < end; column++) maxAbs = Math.max(maxAbs, Math.abs(values[first + column]!));
    const scale = Math.fround(maxAbs / limit);
    view.setFloat32(record + layout.scalesOffset + block * 4, scale, true);
    for (let column = start; column < end; column++) {
      const quantized = scale === 0 ? 0 : Math.max(-limit, Math.min(limit, Math.round(values[first + column]! / scale)));
      if (fourBit) {
        const index = record + layout.dataOffset + (column >> 1);
        output[index] = column & 1 ? output[index]! | ((quantized & 0xf) << 4) : quantized & 0xf;
      } else {
        output[record + layout.dataOffset + column] = quantized & 0xff;
      }
    }
  }
}

/** Rounds to IEEE half precision (nearest, ties to even, with subnormals) and returns the bits. */
export function float32ToFloat16Bits(value: number): number {
  const bits = floatBits(value);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    // Subnormal: shift the implicit-1 mantissa right and round to nearest even.
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    const truncated = full >>> shift;
    const remainder = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const rounded = remainder > halfway || (remainder === halfway && (truncated & 1) === 1) ? truncated + 1 : truncated;
    return sign | rounded;
  }
  const truncated = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  const rounded = remainder > 0x1000 || (remainder === 0x1000 && (truncated & 1) === 1) ? truncated + 1 : truncated;
  return sign | rounded;
}

const floatView = new Float32Array(1);
const floatBitsView = new Uint32Array(floatView.buffer);

function floatBits(value: number): number {
  floatView[0] = value;
  return floatBitsView[0]!;
}
