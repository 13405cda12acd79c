import { InputError, UnsupportedError } from '@gemma3n/core';

/** The part of a Web Audio `AudioBuffer` we read. */
export interface DecodedAudioBuffer {
  readonly numberOfChannels: number;
  readonly length: number;
  readonly sampleRate: number;
  getChannelData(channel: number): Float32Array;
}

/** The part of a Web Audio `BaseAudioContext` we use. */
export interface DecodingAudioContext {
  decodeAudioData(audioData: ArrayBuffer): Promise<DecodedAudioBuffer>;
}

/** Creates a context whose `decodeAudioData` resamples to `sampleRate`. */
export type AudioContextFactory = (sampleRate: number) => DecodingAudioContext;

export interface DecodeAudioInBrowserOptions {
  /** Rate of the returned samples; the browser's decoder resamples to it. Default 16000. */
  sampleRate?: number;
  /** Defaults to `new OfflineAudioContext(1, 1, sampleRate)`; inject one for tests or workers. */
  audioContextFactory?: AudioContextFactory;
}

export interface DecodedAudio {
  /** Mono samples (channels averaged) at `sampleRate`. */
  samples: Float32Array;
  sampleRate: number;
  /** Channels the decoder reported before mixing. */
  channels: number;
}

function defaultAudioContextFactory(sampleRate: number): DecodingAudioContext {
  const OfflineContext = (globalThis as { OfflineAudioContext?: new (channels: number, length: number, rate: number) => DecodingAudioContext })
    .OfflineAudioContext;
  if (OfflineContext === undefined) {
    throw new UnsupportedError({
      feature: 'runtime',
      value: 'without OfflineAudioContext',
      message:
        'decodeAudioInBrowser needs the Web Audio API (OfflineAudioContext), which this runtime lacks; ' +
        'use readWav and resample, or pass options.audioContextFactory',
    });
  }
  // An offline context of one frame renders nothing; it exists only to decode at its rate.
  return new OfflineContext(1, 1, sampleRate);
}

/**
 * Decodes any format the browser can (MP3, AAC, Ogg/Opus, FLAC, WAV…) with Web Audio's
 * `decodeAudioData`, resampled by the browser to `sampleRate` (16 kHz by default) and mixed to
 * mono. The bytes are copied first because `decodeAudioData` detaches the buffer it is given.
 * Throws {@link InputError} when the browser cannot decode the bytes.
 */
export async function decodeAudioInBrowser(
  bytes: Uint8Array | ArrayBuffer,
  options: DecodeAudioInBrowserOptions = {},
): Promise<DecodedAudio> {
  const sampleRate = options.sampleRate ?? 16_000;
  // Web Audio accepts rates in at least [8000, 96000] Hz; the browser reports anything outside.
  if (!Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw new InputError({ field: 'options.sampleRate', value: sampleRate, expected: 'a positive sample rate in Hz' });
  }
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (view.byteLength === 0) {
    throw new InputError({ field: 'bytes', value: 'an empty array', expected: 'the bytes of an audio file' });
  }
  const context = (options.audioContextFactory ?? defaultAudioContextFactory)(sampleRate);
  const copy = view.slice().buffer;
  let decoded: DecodedAudioBuffer;
  try {
    decoded = await context.decodeAudioData(copy);
  } catch (cause) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    throw new InputError({
      field: 'bytes',
      value: `${view.byteLength} bytes`,
      expected: 'audio in a format this browser decodes',
      message: `The browser could not decode the audio (${view.byteLength} bytes): ${reason}`,
      cause,
    });
  }
  const channels = decoded.numberOfChannels;
  const samples = new Float32Array(decoded.length);
  for (let channel = 0; channel < channels; channel++) {
    const data = decoded.getChannelData(channel);
    for (let index = 0; index < samples.length; index++) samples[index]! += data[index]!;
  }
  if (channels > 1) for (let index = 0; index < samples.length; index++) samples[index]! /= channels;
  return { samples, sampleRate: decoded.sampleRate, channels };
}
