/** The rate Gemma 3n's audio feature extractor expects. */
export const MODEL_SAMPLE_RATE = 16_000;

/** Averages the channels of a decoded clip into one. */
export function mixToMono(channels: readonly Float32Array[]): Float32Array {
  const first = channels[0];
  if (first === undefined) return new Float32Array(0);
  if (channels.length === 1) return first.slice();
  const mono = new Float32Array(first.length);
  for (const channel of channels) for (let index = 0; index < mono.length; index += 1) mono[index]! += channel[index] ?? 0;
  for (let index = 0; index < mono.length; index += 1) mono[index]! /= channels.length;
  return mono;
}

/**
 * Band-limited resampling by a Hann-windowed sinc: each output sample is the input convolved
 * with a low-pass at the lower of the two Nyquist frequencies, so content above 8 kHz in a
 * 48 kHz clip is removed instead of folding back as aliases (which linear interpolation lets
 * through). `halfWidth` is the number of zero crossings on each side of the kernel.
 */
export function resampleAudio(samples: Float32Array, fromRate: number, toRate = MODEL_SAMPLE_RATE, halfWidth = 16): Float32Array {
  if (!(fromRate > 0 && toRate > 0)) throw new RangeError(`sample rates must be positive (got ${fromRate} → ${toRate})`);
  if (fromRate === toRate) return samples.slice();
  const ratio = toRate / fromRate;
  const outputLength = Math.floor(samples.length * ratio);
  const output = new Float32Array(outputLength);
  // Cut-off relative to the input rate: below both Nyquist frequencies.
  const cutoff = Math.min(1, ratio);
  const reach = halfWidth / cutoff;
  for (let outputIndex = 0; outputIndex < outputLength; outputIndex += 1) {
    const center = outputIndex / ratio;
    const first = Math.max(0, Math.ceil(center - reach));
    const last = Math.min(samples.length - 1, Math.floor(center + reach));
    let sum = 0;
    let weightSum = 0;
    for (let inputIndex = first; inputIndex <= last; inputIndex += 1) {
      const distance = inputIndex - center;
      const x = distance * cutoff;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const window = 0.5 + 0.5 * Math.cos((Math.PI * distance) / reach);
      const weight = sinc * window;
      sum += (samples[inputIndex] as number) * weight;
      weightSum += weight;
    }
    // Normalising by the weights keeps DC gain exactly 1, also at the clip's edges.
    output[outputIndex] = weightSum === 0 ? 0 : sum / weightSum;
  }
  return output;
}

/** Decodes an audio file (any format the browser reads) to mono 16 kHz samples. */
export async function decodeAudioTo16k(bytes: ArrayBuffer): Promise<Float32Array> {
  const context = new OfflineAudioContext(1, 1, 44_100);
  const decoded = await context.decodeAudioData(bytes);
  const channels = Array.from({ length: decoded.numberOfChannels }, (_, index) => decoded.getChannelData(index));
  return resampleAudio(mixToMono(channels), decoded.sampleRate);
}
