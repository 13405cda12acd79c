import { type Gemma3nConfig, InputError, ModelFileError } from '@gemma3n/core';
import type { ChatMediaItem, ChatTurnMedia, ConversationMessage, EncoderStats, MediaEncoders } from '@gemma3n/decoder';
import { type Gemma3nWarning, isMediaPart, type MediaPart } from './media-inputs';
import type { MediaPreprocessor } from './media-preprocessor';

/** What the pipeline needs from the loaded model. */
export interface MediaPipelineParams {
  config: Gemma3nConfig;
  /** Soft tokens per image / per clip (processor_config.json's image_seq_length, audio_seq_length). */
  sequenceLengths: { image: number; audio: number };
  preprocessor: () => Promise<MediaPreprocessor>;
  encoders: MediaEncoders;
  /**
   * The row a clip's output is padded with when the audio encoder gives fewer rows than
   * audio_seq_length: HF's `embed_audio` of id `text vocab_size − 1`. Our converter's graph
   * pads itself; this covers encoders exported without the padding.
   */
  audioPaddingRow?: () => Promise<Float32Array>;
}

interface TrackedPart {
  part: MediaPart;
  field: string;
}

/**
 * The images and clips of a conversation, as the decoder's ChatTurnMedia: one item per media
 * part in message order (the chat template emits their placeholders in that order). A part's
 * identity is the part object itself, and its encoder rows are kept while it stays in the
 * conversation, so a chat encodes each image or clip once and equal keys always mean equal rows.
 */
export class MediaPipeline {
  private readonly keys = new WeakMap<object, string>();
  private nextKey = 0;
  private readonly encoded = new Map<string, Float32Array>();

  constructor(private readonly params: MediaPipelineParams) {}

  /** The conversation's media, or undefined when it has none. */
  turnMedia(messages: readonly ConversationMessage[], onWarning: (warning: Gemma3nWarning) => void): ChatTurnMedia | undefined {
    const tracked = new Map<string, TrackedPart>();
    const items: ChatMediaItem[] = [];
    messages.forEach((message, messageIndex) => {
      if (typeof message.content === 'string') return;
      message.content.forEach((part, partIndex) => {
        if (!isMediaPart(part)) return;
        const field = `messages[${messageIndex}].content[${partIndex}]`;
        const key = this.keyOf(part);
        tracked.set(key, { part, field });
        const isImage = part.type === 'image';
        items.push({
          tokenId: isImage ? this.params.config.imageTokenId : this.params.config.audioTokenId,
          rowCount: isImage ? this.params.sequenceLengths.image : this.params.sequenceLengths.audio,
          key,
          label: part.type,
        });
      });
    });
    // Rows of parts no longer in the conversation are not needed again.
    for (const key of this.encoded.keys()) if (!tracked.has(key)) this.encoded.delete(key);
    if (items.length === 0) return undefined;
    return { items, encode: (wanted) => this.encode(wanted, tracked, onWarning) };
  }

  private keyOf(part: MediaPart): string {
    let key = this.keys.get(part);
    if (key === undefined) {
      key = `${part.type}-${this.nextKey++}`;
      this.keys.set(part, key);
    }
    return key;
  }

  private async encode(
    items: readonly ChatMediaItem[],
    tracked: ReadonlyMap<string, TrackedPart>,
    onWarning: (warning: Gemma3nWarning) => void,
  ): Promise<{ rows: Float32Array[]; encoderStats: EncoderStats }> {
    const stats: EncoderStats = {};
    const rows: Float32Array[] = [];
    let preprocessor: MediaPreprocessor | undefined;
    for (const item of items) {
      const cached = this.encoded.get(item.key);
      if (cached !== undefined) {
        rows.push(cached);
        continue;
      }
      const { part, field } = tracked.get(item.key)!;
      preprocessor ??= await this.params.preprocessor();
      let encoded: { rows: Float32Array; rowCount: number; hidden: number; milliseconds: number };
      if (part.type === 'image') {
        const pixels = await preprocessor.image(part.image, `${field}.image`);
        encoded = await this.params.encoders.encodeImages(pixels);
        stats.visionEncoderMs = (stats.visionEncoderMs ?? 0) + encoded.milliseconds;
      } else {
        const audio = await preprocessor.audio(part.audio, `${field}.audio`);
        for (const warning of audio.warnings) onWarning(warning);
        encoded = await this.params.encoders.encodeAudio(audio.features);
        stats.audioEncoderMs = (stats.audioEncoderMs ?? 0) + encoded.milliseconds;
        if (encoded.rowCount < item.rowCount && this.params.audioPaddingRow !== undefined) {
          const padding = await this.params.audioPaddingRow();
          if (padding.length === encoded.hidden) encoded = { ...encoded, ...padRows(encoded.rows, encoded.rowCount, item.rowCount, padding) };
        }
      }
      if (encoded.rowCount !== item.rowCount) {
        const session = part.type === 'image' ? 'vision_encoder' : 'audio_encoder';
        const setting = part.type === 'image' ? 'image_seq_length' : 'audio_seq_length';
        throw new ModelFileError({
          path: this.params.encoders.fileName(session),
          problem: 'unreadable',
          message:
            `${this.params.encoders.fileName(session)} gives ${encoded.rowCount} rows per ${part.type}, but processor_config.json's ` +
            `${setting} expands each ${part.type} to ${item.rowCount} placeholder tokens: the folder's files do not belong together`,
        });
      }
      this.encoded.set(item.key, encoded.rows);
      rows.push(encoded.rows);
    }
    return { rows, encoderStats: stats };
  }
}

function padRows(rows: Float32Array, rowCount: number, wanted: number, padding: Float32Array): { rows: Float32Array; rowCount: number } {
  const hidden = padding.length;
  const padded = new Float32Array(wanted * hidden);
  padded.set(rows.subarray(0, rowCount * hidden));
  for (let row = rowCount; row < wanted; row++) padded.set(padding, row * hidden);
  return { rows: padded, rowCount: wanted };
}

/** Media parts may sit in user and assistant turns; the Gemma template drops a system message's non-text parts. */
export function checkMediaRoles(messages: readonly ConversationMessage[]): void {
  messages.forEach((message, index) => {
    if (message.role !== 'system' || typeof message.content === 'string') return;
    const at = message.content.findIndex(isMediaPart);
    if (at !== -1) {
      throw new InputError({
        field: `messages[${index}].content[${at}]`,
        value: (message.content[at] as MediaPart).type,
        expected: 'text only in a system message (put images and audio in a user message)',
      });
    }
  });
}
