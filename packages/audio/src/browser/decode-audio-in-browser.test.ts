import { InputError, UnsupportedError } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { type DecodedAudioBuffer, decodeAudioInBrowser, type DecodingAudioContext } from './decode-audio-in-browser';

/** A stand-in for OfflineAudioContext that "decodes" two fixed channels and records its inputs. */
function fakeContext(record: { rates: number[]; buffers: ArrayBuffer[] }, fail?: Error) {
  return (sampleRate: number): DecodingAudioContext => {
    record.rates.push(sampleRate);
    return {
      async decodeAudioData(audioData: ArrayBuffer): Promise<DecodedAudioBuffer> {
        record.buffers.push(audioData);
        if (fail !== undefined) throw fail;
        const channels = [Float32Array.from([0.5, -0.5, 1]), Float32Array.from([0.25, 0.5, 0])];
        // Like the real decodeAudioData, take ownership of the buffer.
        structuredClone(audioData, { transfer: [audioData] });
        return { numberOfChannels: 2, length: 3, sampleRate, getChannelData: (channel) => channels[channel]! };
      },
    };
  };
}

describe('decodeAudioInBrowser', () => {
  it('decodes at 16 kHz by default, averages channels and leaves the caller’s bytes intact', async () => {
    const record = { rates: [] as number[], buffers: [] as ArrayBuffer[] };
    const bytes = Uint8Array.from([1, 2, 3, 4]);
    const decoded = await decodeAudioInBrowser(bytes, { audioContextFactory: fakeContext(record) });
    expect(record.rates).toEqual([16_000]);
    expect(Array.from(decoded.samples)).toEqual([0.375, 0, 0.5]);
    expect(decoded).toMatchObject({ sampleRate: 16_000, channels: 2 });
    expect(Array.from(bytes)).toEqual([1, 2, 3, 4]);
    expect(record.buffers[0]!.byteLength).toBe(0); // the copy was detached, not ours
  });

  it('passes the requested rate to the context', async () => {
    const record = { rates: [] as number[], buffers: [] as ArrayBuffer[] };
    const decoded = await decodeAudioInBrowser(new Uint8Array(8).buffer, { sampleRate: 22_050, audioContextFactory: fakeContext(record) });
    expect(record.rates).toEqual([22_050]);
    expect(decoded.sampleRate).toBe(22_050);
  });

  it('turns a decoding failure into an InputError that keeps the cause', async () => {
    const cause = new Error('Unable to decode audio data');
    cause.name = 'EncodingError';
    const record = { rates: [] as number[], buffers: [] as ArrayBuffer[] };
    const promise = decodeAudioInBrowser(new Uint8Array(10), { audioContextFactory: fakeContext(record, cause) });
    await expect(promise).rejects.toThrow(InputError);
    await expect(promise).rejects.toThrow(
      'The browser could not decode the audio (10 bytes): EncodingError: Unable to decode audio data',
    );
    await promise.catch((error: InputError) => expect(error.cause).toBe(cause));
  });

  it('says what to do where there is no Web Audio (as in Node)', async () => {
    expect((globalThis as { OfflineAudioContext?: unknown }).OfflineAudioContext).toBeUndefined();
    await expect(decodeAudioInBrowser(new Uint8Array(4))).rejects.toThrow(UnsupportedError);
    await expect(decodeAudioInBrowser(new Uint8Array(4))).rejects.toThrow('use readWav and resample');
    await expect(decodeAudioInBrowser(new Uint8Array(0))).rejects.toThrow('bytes is "an empty array"');
  });
});
