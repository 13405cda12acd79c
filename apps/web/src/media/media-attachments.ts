import { decodeAudioInBrowser, readWav } from '@gemma3n/audio';
import type { AttachmentPart } from '../worker/worker-protocol';

/** The rate Gemma 3n's audio feature extractor takes. */
export const MODEL_SAMPLE_RATE = 16_000;

/** A picked, pasted, photographed or recorded attachment waiting to be sent. */
export interface PendingAttachment {
  part: AttachmentPart;
  /** What the chip shows. */
  label: string;
}

/** An image as its encoded bytes; the worker decodes it (createImageBitmap) and the runtime resizes it. */
export async function imageAttachment(blob: Blob, name: string): Promise<PendingAttachment> {
  const bitmap = await createImageBitmap(blob);
  const label = `${name} (${bitmap.width}×${bitmap.height})`;
  bitmap.close();
  return { part: { type: 'image', name, image: blob }, label };
}

/**
 * A clip for the model. A WAV file goes as its bytes: the runtime reads it and resamples it to
 * 16 kHz with `@gemma3n/audio`'s resampler, exactly as in Node. Anything else (MP3, Ogg, the
 * microphone's WebM/Opus) is decoded by the browser straight to 16 kHz mono.
 */
export async function audioAttachment(blob: Blob, name: string): Promise<PendingAttachment> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  if (isWav(bytes)) {
    const wav = readWav(bytes);
    const seconds = wav.samples.length / wav.sampleRate;
    return { part: { type: 'audio', name, audio: bytes }, label: `${name} (${seconds.toFixed(1)} s WAV at ${wav.sampleRate} Hz)` };
  }
  const decoded = await decodeAudioInBrowser(bytes, { sampleRate: MODEL_SAMPLE_RATE });
  const seconds = decoded.samples.length / decoded.sampleRate;
  return {
    part: { type: 'audio', name, audio: { samples: decoded.samples, sampleRate: decoded.sampleRate } },
    label: `${name} (${seconds.toFixed(1)} s at 16 kHz)`,
  };
}

/** A RIFF/WAVE header. */
export function isWav(bytes: Uint8Array): boolean {
  const tag = (offset: number): string => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  return bytes.length >= 12 && tag(0) === 'RIFF' && tag(8) === 'WAVE';
}

/** One frame from the first camera. */
export async function captureCameraFrame(): Promise<Blob> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: true });
  try {
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = stream;
    await video.play();
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d')?.drawImage(video, 0, 0);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((blob) => (blob === null ? reject(new Error('The camera frame could not be encoded')) : resolve(blob)), 'image/png'),
    );
  } finally {
    for (const track of stream.getTracks()) track.stop();
  }
}

/** Starts recording the microphone; the returned function stops and gives the recording. */
export async function startMicrophoneRecording(): Promise<() => Promise<Blob>> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const recorder = new MediaRecorder(stream);
  const chunks: Blob[] = [];
  recorder.addEventListener('dataavailable', (event) => chunks.push(event.data));
  recorder.start();
  return () =>
    new Promise<Blob>((resolve) => {
      recorder.addEventListener('stop', () => {
        for (const track of stream.getTracks()) track.stop();
        resolve(new Blob(chunks, { type: recorder.mimeType }));
      });
      recorder.stop();
    });
}
