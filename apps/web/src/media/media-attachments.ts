import type { AttachmentPart } from '../worker/worker-protocol';
import { decodeAudioTo16k, MODEL_SAMPLE_RATE } from './resample-audio';

/** A picked, pasted, photographed or recorded attachment waiting to be sent. */
export interface PendingAttachment {
  part: AttachmentPart;
  /** What the chip shows. */
  label: string;
  /** The image, or the 16 kHz mono samples, kept for when the runtime takes media. */
  data: Blob | Float32Array;
}

export async function imageAttachment(blob: Blob, name: string): Promise<PendingAttachment> {
  const bitmap = await createImageBitmap(blob);
  const label = `${name} (${bitmap.width}×${bitmap.height})`;
  bitmap.close();
  return { part: { type: 'image', name }, label, data: blob };
}

export async function audioAttachment(blob: Blob, name: string): Promise<PendingAttachment> {
  const samples = await decodeAudioTo16k(await blob.arrayBuffer());
  const seconds = samples.length / MODEL_SAMPLE_RATE;
  return {
    part: { type: 'audio', name, sampleRate: MODEL_SAMPLE_RATE, samples: samples.length },
    label: `${name} (${seconds.toFixed(1)} s at 16 kHz)`,
    data: samples,
  };
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
