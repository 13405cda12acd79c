/**
 * A deliberately plain float64 re-derivation of Gemma 3n's log-mel features, written from the
 * formulas (architecture notes §4.1) rather than from our fast code: the DFT by its definition,
 * filters from the HTK formula evaluated filter by filter, no sparse tricks, no shared tables.
 * It is slow (O(frames · 513 · 512)), so tests use it on a few frames only.
 */

export const release = {
  samplingRate: 16_000,
  frameLength: 512,
  hopLength: 160,
  fftLength: 1024,
  melBins: 128,
  minFrequency: 125,
  maxFrequency: 7600,
  preemphasis: 0.97,
  melFloor: 1e-5,
  maxLength: 480_000,
  padToMultipleOf: 128,
} as const;

/** Edge frequencies (Hz) of the HTK mel filters: melBins + 2 points evenly spaced in mel. */
export function slowMelEdges(): number[] {
  const toMel = (hertz: number) => 2595 * Math.log10(1 + hertz / 700);
  const toHertz = (mel: number) => 700 * (Math.pow(10, mel / 2595) - 1);
  const low = toMel(release.minFrequency);
  const high = toMel(release.maxFrequency);
  const edges: number[] = [];
  for (let index = 0; index < release.melBins + 2; index++) {
    edges.push(toHertz(low + ((high - low) * index) / (release.melBins + 1)));
  }
  return edges;
}

/** Weight of FFT bin `bin` in mel filter `filter`: a triangle over edges[filter … filter+2] in Hz. */
export function slowMelWeight(edges: readonly number[], filter: number, bin: number): number {
  const frequency = (bin * release.samplingRate) / release.fftLength;
  const left = edges[filter]!;
  const centre = edges[filter + 1]!;
  const right = edges[filter + 2]!;
  if (frequency <= left || frequency >= right) return 0;
  return frequency <= centre ? (frequency - left) / (centre - left) : (right - frequency) / (right - centre);
}

/**
 * The log-mel vector of frame `frameIndex` of the (already truncated and padded) signal.
 * `precision: 'float32-frames'` rounds each step of pre-emphasis and windowing to float32, as
 * NumPy does in the Python reference (its input, window and frames are float32); `'float64'`
 * keeps everything in float64. Everything after the windowing is float64 either way.
 */
export function slowLogMelFrame(
  padded: ArrayLike<number>,
  frameIndex: number,
  edges: readonly number[],
  precision: 'float32-frames' | 'float64' = 'float32-frames',
): number[] {
  const round = precision === 'float64' ? (value: number) => value : Math.fround;
  const start = frameIndex * release.hopLength;
  const length = release.frameLength;
  const windowed: number[] = [];
  for (let n = 0; n < length; n++) {
    const emphasised =
      n === 0
        ? round(padded[start]! * round(1 - release.preemphasis))
        : round(padded[start + n]! - round(round(release.preemphasis) * padded[start + n - 1]!));
    const hann = round(0.5 * round(1 - round(Math.cos(round(round(round(2 * Math.PI) * n) / length)))));
    windowed.push(round(emphasised * hann));
  }
  const binCount = release.fftLength / 2 + 1;
  const magnitudes: number[] = [];
  for (let bin = 0; bin < binCount; bin++) {
    let real = 0;
    let imaginary = 0;
    for (let n = 0; n < length; n++) {
      const angle = (2 * Math.PI * ((bin * n) % release.fftLength)) / release.fftLength;
      real += windowed[n]! * Math.cos(angle);
      imaginary -= windowed[n]! * Math.sin(angle);
    }
    magnitudes.push(Math.sqrt(real * real + imaginary * imaginary));
  }
  const result: number[] = [];
  for (let filter = 0; filter < release.melBins; filter++) {
    let energy = 0;
    for (let bin = 0; bin < binCount; bin++) energy += slowMelWeight(edges, filter, bin) * magnitudes[bin]!;
    result.push(Math.log(Math.max(energy, release.melFloor)));
  }
  return result;
}

/** Truncates to 30 s and zero-pads to a multiple of 128, as the Python preprocessor does. */
export function slowPad(samples: ArrayLike<number>): Float64Array {
  const kept = Math.min(samples.length, release.maxLength);
  const padded = new Float64Array(Math.ceil(kept / release.padToMultipleOf) * release.padToMultipleOf);
  for (let index = 0; index < kept; index++) padded[index] = samples[index]!;
  return padded;
}

/** Deterministic test audio: two tones, a chirp and low-level noise, float32 like real input. */
export function testSpeechLikeSignal(length: number, seed = 1): Float32Array {
  const samples = new Float32Array(length);
  let state = seed >>> 0;
  for (let index = 0; index < length; index++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const noise = state / 2 ** 32 - 0.5;
    const time = index / release.samplingRate;
    samples[index] =
      0.3 * Math.sin(2 * Math.PI * 220 * time) +
      0.15 * Math.sin(2 * Math.PI * 1875 * time) +
      0.1 * Math.sin(2 * Math.PI * (300 + 1500 * time) * time) +
      0.02 * noise;
  }
  return samples;
}
