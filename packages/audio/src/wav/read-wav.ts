import { InputError, UnsupportedError } from '@gemma3n/core';

/** How the samples were stored: integer PCM or IEEE floating point. */
export type WavSampleFormat = 'pcm' | 'float';

export interface WavAudio {
  /** Mono samples in [−1, 1] (integers scaled by 2^(bits−1)); channels are averaged. */
  samples: Float32Array;
  sampleRate: number;
  /** Channels in the file (before mixing to mono). */
  channels: number;
  /** Bits per stored sample (the container size, e.g. 24 for 20-bit audio in 24-bit words). */
  bitsPerSample: number;
  format: WavSampleFormat;
  /** True when the file used WAVE_FORMAT_EXTENSIBLE (format code 0xFFFE). */
  extensible: boolean;
}

const formatPcm = 0x0001;
const formatFloat = 0x0003;
const formatExtensible = 0xfffe;

/** Names of common encodings we refuse, so the error says what the file actually is. */
const knownFormatNames: Readonly<Record<number, string>> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'µ-law',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG',
  0x0055: 'MPEG Layer 3 (MP3)',
  0x00ff: 'AAC',
  0x1610: 'HE-AAC',
  0xf1ac: 'FLAC',
};

const supportedEncodings = ['PCM 8/16/24/32-bit (code 1)', 'IEEE float 32/64-bit (code 3)', 'WAVE_FORMAT_EXTENSIBLE of those'];

/** The GUID tail shared by every KSDATAFORMAT_SUBTYPE_* GUID built from a format code. */
const subformatGuidTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

interface FormatChunk {
  formatCode: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  extensible: boolean;
}

function fourCc(view: DataView, offset: number): string {
  return String.fromCharCode(
    view.getUint8(offset),
    view.getUint8(offset + 1),
    view.getUint8(offset + 2),
    view.getUint8(offset + 3),
  );
}

function describeFormatCode(code: number): string {
  const hex = `0x${code.toString(16).padStart(4, '0')}`;
  const name = knownFormatNames[code];
  return name === undefined ? `format code ${code} (${hex})` : `format code ${code} (${hex}, ${name})`;
}

function truncatedError(what: string, expectedBytes: number, availableBytes: number): InputError {
  return new InputError({
    field: 'bytes',
    value: `${availableBytes} bytes`,
    expected: `${expectedBytes} bytes`,
    message: `The WAV file is truncated: ${what} needs ${expectedBytes} bytes, the file has ${availableBytes}`,
  });
}

function parseFormatChunk(view: DataView, offset: number, size: number): FormatChunk {
  if (size < 16) {
    throw new InputError({ field: 'fmt chunk size', value: size, expected: 'at least 16 bytes' });
  }
  let formatCode = view.getUint16(offset, true);
  const channels = view.getUint16(offset + 2, true);
  const sampleRate = view.getUint32(offset + 4, true);
  const blockAlign = view.getUint16(offset + 12, true);
  const bitsPerSample = view.getUint16(offset + 14, true);
  const extensible = formatCode === formatExtensible;
  if (extensible) {
    if (size < 40) {
      throw new InputError({
        field: 'fmt chunk size',
        value: size,
        expected: 'at least 40 bytes for WAVE_FORMAT_EXTENSIBLE',
      });
    }
    // The sub-format GUID starts after cbSize, validBits and the channel mask.
    const guidOffset = offset + 24;
    formatCode = view.getUint16(guidOffset, true);
    const tailMatches = subformatGuidTail.every((byte, index) => view.getUint8(guidOffset + 2 + index) === byte);
    if (!tailMatches) {
      throw new UnsupportedError({
        feature: 'WAV sub-format',
        value: 'a non-standard GUID',
        supported: supportedEncodings,
      });
    }
  }
  if (channels === 0) {
    throw new InputError({ field: 'fmt.channels', value: 0, expected: 'at least one channel' });
  }
  if (sampleRate === 0) {
    throw new InputError({ field: 'fmt.sampleRate', value: 0, expected: 'a positive sample rate in Hz' });
  }
  return { formatCode, channels, sampleRate, blockAlign, bitsPerSample, extensible };
}

/**
 * Decodes a RIFF/WAVE file to mono float32 samples at the file's own rate. Reads integer PCM
 * (8-bit unsigned, 16/24/32-bit signed), IEEE float (32/64-bit) and WAVE_FORMAT_EXTENSIBLE with
 * those sub-formats, any channel count (averaged to mono) and any rate; chunks may come in any
 * order and odd-sized chunks are padded to an even size, as RIFF requires.
 *
 * Throws {@link UnsupportedError} for other encodings (A-law, µ-law, ADPCM, MP3…, naming the
 * format code) and {@link InputError} for files that are not WAV, truncated, or missing their
 * `fmt ` or `data` chunk.
 */
export function readWav(bytes: Uint8Array | ArrayBuffer): WavAudio {
  const array = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(array.buffer, array.byteOffset, array.byteLength);
  if (array.byteLength < 12) throw truncatedError('the RIFF header', 12, array.byteLength);
  const riff = fourCc(view, 0);
  if (riff === 'RF64' || riff === 'BW64') {
    throw new UnsupportedError({ feature: 'WAV container', value: riff, supported: ['RIFF'] });
  }
  if (riff !== 'RIFF' || fourCc(view, 8) !== 'WAVE') {
    throw new InputError({
      field: 'bytes',
      value: `a file starting with "${riff}"…"${fourCc(view, 8)}"`,
      expected: 'a RIFF/WAVE file ("RIFF" … "WAVE")',
    });
  }

  let format: FormatChunk | undefined;
  let dataOffset = -1;
  let dataSize = 0;
  let offset = 12;
  // Stop at the data chunk once the format is known: anything after the samples is metadata.
  while (offset + 8 <= array.byteLength && !(format !== undefined && dataOffset >= 0)) {
    const id = fourCc(view, offset);
    const size = view.getUint32(offset + 4, true);
    const bodyOffset = offset + 8;
    if (id === 'fmt ') {
      if (bodyOffset + size > array.byteLength) {
        throw truncatedError('the fmt chunk', bodyOffset + size, array.byteLength);
      }
      format = parseFormatChunk(view, bodyOffset, size);
    } else if (id === 'data') {
      if (bodyOffset + size > array.byteLength) {
        throw truncatedError(`the data chunk (${size} bytes of samples)`, bodyOffset + size, array.byteLength);
      }
      dataOffset = bodyOffset;
      dataSize = size;
    }
    offset = bodyOffset + size + (size & 1);
  }
  if (format === undefined) {
    throw new InputError({
      field: 'bytes',
      value: 'no fmt chunk',
      expected: 'a "fmt " chunk',
      message: 'The WAV file has no "fmt " chunk, so its encoding is unknown (is it truncated?)',
    });
  }
  if (dataOffset < 0) {
    throw new InputError({
      field: 'bytes',
      value: 'no data chunk',
      expected: 'a "data" chunk',
      message: 'The WAV file has no "data" chunk, so it holds no samples (is it truncated?)',
    });
  }

  const { formatCode, channels, sampleRate, bitsPerSample, extensible } = format;
  let sampleFormat: WavSampleFormat;
  if (formatCode === formatPcm && [8, 16, 24, 32].includes(bitsPerSample)) sampleFormat = 'pcm';
  else if (formatCode === formatFloat && (bitsPerSample === 32 || bitsPerSample === 64)) sampleFormat = 'float';
  else if (formatCode === formatPcm || formatCode === formatFloat) {
    throw new UnsupportedError({
      feature: 'WAV sample size',
      value: `${bitsPerSample}-bit ${formatCode === formatPcm ? 'PCM' : 'float'}`,
      supported: supportedEncodings,
    });
  } else {
    throw new UnsupportedError({
      feature: 'WAV encoding',
      value: describeFormatCode(formatCode),
      supported: supportedEncodings,
      message: `Unsupported WAV encoding: ${describeFormatCode(formatCode)}; supported: ${supportedEncodings.join(', ')}. Decode it first (in browsers, AudioContext.decodeAudioData).`,
    });
  }
  const bytesPerSample = bitsPerSample / 8;
  const frameBytes = bytesPerSample * channels;
  if (format.blockAlign !== frameBytes) {
    throw new InputError({
      field: 'fmt.blockAlign',
      value: format.blockAlign,
      expected: `${frameBytes} (${channels} channels × ${bytesPerSample} bytes)`,
    });
  }
  if (dataSize % frameBytes !== 0) {
    throw new InputError({
      field: 'data chunk size',
      value: dataSize,
      expected: `a multiple of the ${frameBytes}-byte sample frame; the file is truncated or corrupt`,
    });
  }

  const frameCount = dataSize / frameBytes;
  const samples = new Float32Array(frameCount);
  const readSample = sampleReader(view, sampleFormat, bitsPerSample);
  const scale = 1 / channels;
  for (let frame = 0, position = dataOffset; frame < frameCount; frame++) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel++, position += bytesPerSample) sum += readSample(position);
    samples[frame] = channels === 1 ? sum : sum * scale;
  }
  return { samples, sampleRate, channels, bitsPerSample, format: sampleFormat, extensible };
}

/** One sample at a byte position, as a number scaled to [−1, 1) for integers. */
function sampleReader(view: DataView, format: WavSampleFormat, bits: number): (position: number) => number {
  if (format === 'float') {
    return bits === 32 ? (position) => view.getFloat32(position, true) : (position) => view.getFloat64(position, true);
  }
  switch (bits) {
    case 8:
      // 8-bit WAV is unsigned with its zero at 128.
      return (position) => (view.getUint8(position) - 128) / 128;
    case 16:
      return (position) => view.getInt16(position, true) / 32768;
    case 24:
      return (position) => {
        const value = view.getUint8(position) | (view.getUint8(position + 1) << 8) | (view.getInt8(position + 2) << 16);
        return value / 8388608;
      };
    default:
      return (position) => view.getInt32(position, true) / 2147483648;
  }
}
