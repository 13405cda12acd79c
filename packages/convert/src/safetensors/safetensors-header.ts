import { ModelFileError } from '@gemma3n/core';

/**
 * The safetensors layout: an 8-byte little-endian unsigned header length N, N bytes of JSON
 * (`{"__metadata__": {...}, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}}`),
 * then the tensor bytes. Offsets are relative to the first byte after the header.
 */

/** Bytes per element of every dtype the format defines (so unknown ones can be sized too). */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** The dtypes this project widens to float32. */
export const READABLE_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type ReadableDtype = (typeof READABLE_DTYPES)[number];

export function isReadableDtype(dtype: string): dtype is ReadableDtype {
  return (READABLE_DTYPES as readonly string[]).includes(dtype);
}

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte offsets in the file (header included), end exclusive. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Bytes before the tensor data: 8 + the JSON header length. */
  dataStart: number;
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** The safetensors reference implementation refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Reads the header length from the first 8 bytes, checking it against the file size. */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, path: string): number {
  if (fileSize < 8) {
    throw new ModelFileError({
      path,
      problem: 'short',
      expectedBytes: 8,
      actualBytes: fileSize,
      message: `Safetensors file "${path}" has ${fileSize} bytes, fewer than the 8-byte header length (expected at least 8 bytes)`,
    });
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const length = view.getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new ModelFileError({
      path,
      problem: 'unreadable',
      message: `Safetensors file "${path}" declares a ${length}-byte header (limit ${MAX_HEADER_BYTES}); it is not a safetensors file or is corrupt`,
    });
  }
  const headerLength = Number(length);
  if (8 + headerLength > fileSize) {
    throw new ModelFileError({
      path,
      problem: 'truncated',
      expectedBytes: 8 + headerLength,
      actualBytes: fileSize,
      message: `Safetensors file "${path}" is truncated inside its header: the header needs ${8 + headerLength} bytes, the file has ${fileSize}`,
    });
  }
  return headerLength;
}

/**
 * Parses and checks the JSON header: every entry well-formed, byte ranges matching
 * shape × dtype size, and all data inside the file (so a truncated download is reported
 * here, with expected and actual sizes, not as a short read later).
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, path: string): SafetensorsHeader {
  const dataStart = 8 + headerBytes.length;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(headerBytes));
  } catch (cause) {
    throw new ModelFileError({ path, problem: 'invalid-json', cause });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw invalid(path, 'the header is not a JSON object');
  }

  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  let dataEnd = 0;
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = readMetadata(value, path);
      continue;
    }
    const entry = readEntry(name, value, path);
    dataEnd = Math.max(dataEnd, entry.end);
    entries.set(name, { ...entry, begin: dataStart + entry.begin, end: dataStart + entry.end });
  }

  if (dataStart + dataEnd > fileSize) {
    const last = [...entries.values()].find((entry) => entry.end === dataStart + dataEnd);
    throw new ModelFileError({
      path,
      problem: 'truncated',
      expectedBytes: dataStart + dataEnd,
      actualBytes: fileSize,
      message:
        `Safetensors file "${path}" is truncated: its header places tensor data up to byte ${dataStart + dataEnd}` +
        `${last === undefined ? '' : ` (tensor "${last.name}")`}, but the file has ${fileSize} bytes ` +
        `(expected ${dataStart + dataEnd} bytes, got ${fileSize}); download it again`,
    });
  }
  return { dataStart, entries, metadata };
}

function readEntry(name: string, value: unknown, path: string): Omit<SafetensorsEntry, 'name'> & { name: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(path, `tensor "${name}" has no {dtype, shape, data_offsets} entry`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') throw invalid(path, `tensor "${name}" has no dtype string`);
  if (!Array.isArray(shape) || !shape.every((size) => Number.isSafeInteger(size) && (size as number) >= 0)) {
    throw invalid(path, `tensor "${name}" has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((offset) => Number.isSafeInteger(offset) && (offset as number) >= 0) ||
    (offsets[0] as number) > (offsets[1] as number)
  ) {
    throw invalid(path, `tensor "${name}" has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with 0 ≤ begin ≤ end`);
  }
  const begin = offsets[0] as number;
  const end = offsets[1] as number;
  const elementBytes = SAFETENSORS_DTYPE_BYTES[dtype];
  if (elementBytes !== undefined) {
    const expectedBytes = (shape as number[]).reduce((product, size) => product * size, 1) * elementBytes;
    if (end - begin !== expectedBytes) {
      throw invalid(
        path,
        `tensor "${name}" (${dtype} [${shape.join(', ')}]) spans ${end - begin} bytes; its shape needs ${expectedBytes}`,
      );
    }
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

function readMetadata(value: unknown, path: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(path, '__metadata__ is not an object of strings');
  }
  const metadata: Record<string, string> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (typeof item !== 'string') throw invalid(path, `__metadata__.${key} is not a string`);
    metadata[key] = item;
  }
  return metadata;
}

function invalid(path: string, detail: string): ModelFileError {
  return new ModelFileError({
    path,
    problem: 'unreadable',
    message: `Safetensors file "${path}" has an invalid header: ${detail}`,
  });
}
