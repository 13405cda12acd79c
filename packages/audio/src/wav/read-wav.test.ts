import { InputError, UnsupportedError } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { readWav } from './read-wav';

interface WavSpec {
  formatCode?: number;
  channels: number;
  sampleRate?: number;
  bitsPerSample: number;
  /** Raw sample bytes, already interleaved. */
  data: Uint8Array;
  extensibleSubformat?: number;
  /** Extra chunks written before `fmt ` and between `fmt ` and `data`. */
  before?: { id: string; body: Uint8Array }[];
  between?: { id: string; body: Uint8Array }[];
  blockAlign?: number;
  /** Write the data chunk before the fmt chunk (legal RIFF, if unusual). */
  dataFirst?: boolean;
}

function chunk(id: string, body: Uint8Array): Uint8Array {
  const padded = new Uint8Array(8 + body.length + (body.length & 1));
  const view = new DataView(padded.buffer);
  for (let index = 0; index < 4; index++) padded[index] = id.charCodeAt(index);
  view.setUint32(4, body.length, true);
  padded.set(body, 8);
  return padded;
}

/** An independent little WAV writer, byte by byte from the RIFF layout. */
function buildWav(spec: WavSpec): Uint8Array {
  const sampleRate = spec.sampleRate ?? 16_000;
  const blockAlign = spec.blockAlign ?? (spec.channels * spec.bitsPerSample) / 8;
  const extensible = spec.extensibleSubformat !== undefined;
  const format = new Uint8Array(extensible ? 40 : 16);
  const view = new DataView(format.buffer);
  view.setUint16(0, extensible ? 0xfffe : (spec.formatCode ?? 1), true);
  view.setUint16(2, spec.channels, true);
  view.setUint32(4, sampleRate, true);
  view.setUint32(8, sampleRate * blockAlign, true);
  view.setUint16(12, blockAlign, true);
  view.setUint16(14, spec.bitsPerSample, true);
  if (extensible) {
    view.setUint16(16, 22, true);
    view.setUint16(18, spec.bitsPerSample, true);
    view.setUint32(20, spec.channels === 2 ? 0x3 : 0x4, true);
    view.setUint16(24, spec.extensibleSubformat!, true);
    format.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  const middle = [chunk('fmt ', format), ...(spec.between ?? []).map((extra) => chunk(extra.id, extra.body)), chunk('data', spec.data)];
  if (spec.dataFirst) middle.reverse();
  const parts = [...(spec.before ?? []).map((extra) => chunk(extra.id, extra.body)), ...middle];
  const bodyLength = 4 + parts.reduce((sum, part) => sum + part.length, 0);
  const file = new Uint8Array(8 + bodyLength);
  const fileView = new DataView(file.buffer);
  file.set([0x52, 0x49, 0x46, 0x46], 0);
  fileView.setUint32(4, bodyLength, true);
  file.set([0x57, 0x41, 0x56, 0x45], 8);
  let offset = 12;
  for (const part of parts) {
    file.set(part, offset);
    offset += part.length;
  }
  return file;
}

function littleEndian(values: number[], bytesEach: number): Uint8Array {
  const bytes = new Uint8Array(values.length * bytesEach);
  values.forEach((value, index) => {
    let unsigned = value < 0 ? value + 2 ** (8 * bytesEach) : value;
    for (let byte = 0; byte < bytesEach; byte++) {
      bytes[index * bytesEach + byte] = unsigned & 0xff;
      unsigned = Math.floor(unsigned / 256);
    }
  });
  return bytes;
}

describe('readWav', () => {
  it('reads 16-bit mono PCM, scaling by 1/32768', () => {
    const wav = readWav(buildWav({ channels: 1, bitsPerSample: 16, data: littleEndian([0, 16384, -32768, 32767, -1], 2) }));
    expect(Array.from(wav.samples)).toEqual([0, 0.5, -1, Math.fround(32767 / 32768), Math.fround(-1 / 32768)]);
    expect(wav).toMatchObject({ sampleRate: 16_000, channels: 1, bitsPerSample: 16, format: 'pcm', extensible: false });
  });

  it('reads 8-bit unsigned PCM with its zero at 128', () => {
    const wav = readWav(buildWav({ channels: 1, bitsPerSample: 8, data: Uint8Array.from([128, 0, 255, 192]) }));
    expect(Array.from(wav.samples)).toEqual([0, -1, Math.fround(127 / 128), 0.5]);
  });

  it('reads 24-bit and 32-bit signed PCM', () => {
    const pcm24 = readWav(buildWav({ channels: 1, bitsPerSample: 24, data: littleEndian([4_194_304, -8_388_608, -1, 8_388_607], 3) }));
    expect(Array.from(pcm24.samples)).toEqual([0.5, -1, Math.fround(-1 / 8_388_608), Math.fround(8_388_607 / 8_388_608)]);
    const pcm32 = readWav(buildWav({ channels: 1, bitsPerSample: 32, data: littleEndian([-1_073_741_824, 2_147_483_647, -2_147_483_648], 4) }));
    expect(Array.from(pcm32.samples)).toEqual([-0.5, 1, -1]);
  });

  it('reads 32-bit and 64-bit IEEE float', () => {
    const values = [0.25, -0.75, 1.5];
    const float32 = readWav(buildWav({ formatCode: 3, channels: 1, bitsPerSample: 32, data: new Uint8Array(Float32Array.from(values).buffer) }));
    expect(Array.from(float32.samples)).toEqual(values);
    expect(float32.format).toBe('float');
    const float64 = readWav(
      buildWav({ formatCode: 3, channels: 1, bitsPerSample: 64, data: new Uint8Array(Float64Array.from([0.1, -0.2]).buffer) }),
    );
    expect(Array.from(float64.samples)).toEqual([Math.fround(0.1), Math.fround(-0.2)]);
  });

  it('averages any number of channels to mono', () => {
    // Stereo frames (L, R): (16384, 0) → 0.25, (−32768, 32767) → ≈0, (8192, 8192) → 0.25.
    const stereo = readWav(buildWav({ channels: 2, bitsPerSample: 16, data: littleEndian([16384, 0, -32768, 32767, 8192, 8192], 2) }));
    expect(stereo.channels).toBe(2);
    expect(Array.from(stereo.samples)).toEqual([0.25, Math.fround(-1 / 65536), 0.25]);
    const sixChannels = new Float32Array([0.6, 0.6, 0, 0, 0, 0, -0.3, -0.3, -0.3, -0.3, -0.3, -0.3]);
    const surround = readWav(buildWav({ formatCode: 3, channels: 6, bitsPerSample: 32, sampleRate: 48_000, data: new Uint8Array(sixChannels.buffer) }));
    expect(surround.samples.length).toBe(2);
    expect(surround.samples[0]).toBeCloseTo(0.2, 6);
    expect(surround.samples[1]).toBeCloseTo(-0.3, 6);
    expect(surround.sampleRate).toBe(48_000);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE with PCM and float sub-formats', () => {
    const pcm = readWav(buildWav({ channels: 2, bitsPerSample: 24, extensibleSubformat: 1, data: littleEndian([4_194_304, 4_194_304], 3) }));
    expect(Array.from(pcm.samples)).toEqual([0.5]);
    expect(pcm).toMatchObject({ format: 'pcm', extensible: true, bitsPerSample: 24, channels: 2 });
    const float = readWav(buildWav({ channels: 1, bitsPerSample: 32, extensibleSubformat: 3, data: new Uint8Array(Float32Array.from([-0.125]).buffer) }));
    expect(Array.from(float.samples)).toEqual([-0.125]);
    expect(() => readWav(buildWav({ channels: 1, bitsPerSample: 8, extensibleSubformat: 7, data: new Uint8Array(4) }))).toThrow(
      'format code 7 (0x0007, µ-law)',
    );
  });

  it('skips other chunks, including odd-sized ones with their pad byte, in any order', () => {
    const odd = Uint8Array.from([1, 2, 3]);
    const bytes = buildWav({
      channels: 1,
      bitsPerSample: 16,
      data: littleEndian([16384, -16384], 2),
      before: [{ id: 'JUNK', body: odd }],
      between: [{ id: 'LIST', body: Uint8Array.from([1, 2, 3, 4, 5]) }, { id: 'fact', body: new Uint8Array(4) }],
    });
    expect(Array.from(readWav(bytes).samples)).toEqual([0.5, -0.5]);
    // The same file handed over as an ArrayBuffer and as a view into a larger buffer.
    expect(Array.from(readWav(bytes.slice().buffer).samples)).toEqual([0.5, -0.5]);
    const larger = new Uint8Array(bytes.length + 10);
    larger.set(bytes, 5);
    expect(Array.from(readWav(larger.subarray(5, 5 + bytes.length)).samples)).toEqual([0.5, -0.5]);
    const dataFirst = buildWav({ channels: 1, bitsPerSample: 16, data: littleEndian([16384, -16384], 2), dataFirst: true });
    expect(Array.from(readWav(dataFirst).samples)).toEqual([0.5, -0.5]);
  });

  it('reads any sample rate and an empty data chunk', () => {
    const wav = readWav(buildWav({ channels: 1, bitsPerSample: 16, sampleRate: 22_050, data: new Uint8Array(0) }));
    expect(wav.sampleRate).toBe(22_050);
    expect(wav.samples.length).toBe(0);
  });

  it.each([
    [6, 'format code 6 (0x0006, A-law)'],
    [7, 'format code 7 (0x0007, µ-law)'],
    [2, 'format code 2 (0x0002, Microsoft ADPCM)'],
    [0x11, 'format code 17 (0x0011, IMA ADPCM)'],
    [0x55, 'format code 85 (0x0055, MPEG Layer 3 (MP3))'],
    [0x1234, 'format code 4660 (0x1234)'],
  ])('refuses format code %i with an UnsupportedError naming it', (formatCode, text) => {
    const bytes = buildWav({ formatCode, channels: 1, bitsPerSample: 8, data: new Uint8Array(4) });
    expect(() => readWav(bytes)).toThrow(UnsupportedError);
    expect(() => readWav(bytes)).toThrow(text);
  });

  it('refuses unusual sample sizes', () => {
    expect(() => readWav(buildWav({ channels: 1, bitsPerSample: 12, blockAlign: 2, data: new Uint8Array(4) }))).toThrow(
      'Unsupported WAV sample size "12-bit PCM"',
    );
    expect(() => readWav(buildWav({ formatCode: 3, channels: 1, bitsPerSample: 16, data: new Uint8Array(4) }))).toThrow(
      '16-bit float',
    );
  });

  it('reports truncated files, missing chunks, zero channels and non-WAV bytes', () => {
    const good = buildWav({ channels: 1, bitsPerSample: 16, data: littleEndian([1, 2, 3, 4], 2) });
    expect(() => readWav(good.subarray(0, good.length - 2))).toThrow(
      'The WAV file is truncated: the data chunk (8 bytes of samples) needs 52 bytes, the file has 50',
    );
    expect(() => readWav(good.subarray(0, 20))).toThrow('truncated: the fmt chunk needs 36 bytes');
    expect(() => readWav(good.subarray(0, 8))).toThrow(InputError);
    expect(() => readWav(good.subarray(0, 36))).toThrow('The WAV file has no "data" chunk');
    const noFormat = good.slice();
    noFormat.set([0x66, 0x6f, 0x6f, 0x20], 12); // rename "fmt " to "foo "
    expect(() => readWav(noFormat)).toThrow('The WAV file has no "fmt " chunk');
    expect(() => readWav(buildWav({ channels: 0, bitsPerSample: 16, blockAlign: 0, data: new Uint8Array(0) }))).toThrow(
      'fmt.channels is 0; expected at least one channel',
    );
    expect(() => readWav(new TextEncoder().encode('ID3\u0004 this is an mp3 file'))).toThrow(
      'expected a RIFF/WAVE file',
    );
    expect(() => readWav(buildWav({ channels: 2, bitsPerSample: 16, data: new Uint8Array(6) }))).toThrow(
      'data chunk size is 6; expected a multiple of the 4-byte sample frame',
    );
    expect(() => readWav(buildWav({ channels: 2, bitsPerSample: 16, blockAlign: 2, data: new Uint8Array(8) }))).toThrow(
      'fmt.blockAlign is 2; expected 4 (2 channels × 2 bytes)',
    );
  });
});
