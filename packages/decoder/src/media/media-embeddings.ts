import { InputError } from '@gemma3n/core';

/**
 * Encoder rows for one modality of a prompt: `rowCount` rows of `hidden` floats each, written
 * in order over the prompt positions whose id is `tokenId` (`config.image_token_id` or
 * `config.audio_token_id`), the way transformers.js merges them (model-folder-contract.md).
 * Several images (or clips) are simply their rows one after another.
 */
export interface MediaEmbedding {
  tokenId: number;
  /** `rowCount × hidden` float32, row-major. */
  rows: Float32Array;
  rowCount: number;
  /** What the rows are, for error messages: "image", "audio". */
  label?: string;
}

/** Checks the shape of each entry: float32 rows, a whole number of rows. */
export function checkMediaEmbeddings(media: readonly MediaEmbedding[]): void {
  for (const [index, entry] of media.entries()) {
    if (entry === null || typeof entry !== 'object' || !(entry.rows instanceof Float32Array) || !Number.isSafeInteger(entry.rowCount) || entry.rowCount < 0) {
      throw new InputError({ field: `media[${index}]`, value: entry, expected: '{ tokenId, rows: Float32Array, rowCount ≥ 0 }' });
    }
    if ((entry.rowCount === 0 && entry.rows.length !== 0) || (entry.rowCount > 0 && entry.rows.length % entry.rowCount !== 0)) {
      throw new InputError({
        field: `media[${index}].rows`,
        value: `${entry.rows.length} floats`,
        expected: `a multiple of rowCount ${entry.rowCount}`,
      });
    }
  }
}

/**
 * Checks that the placeholders of each media token id in `tokenIds` are exactly as many as the
 * rows given for it, so a mismatch is an InputError before anything runs.
 */
export function checkMediaCounts(
  tokenIds: readonly number[],
  media: readonly Pick<MediaEmbedding, 'tokenId' | 'rowCount' | 'label'>[],
): void {
  const rowsByToken = new Map<number, { rows: number; label: string }>();
  for (const entry of media) {
    const previous = rowsByToken.get(entry.tokenId);
    rowsByToken.set(entry.tokenId, { rows: (previous?.rows ?? 0) + entry.rowCount, label: entry.label ?? previous?.label ?? `token ${entry.tokenId}` });
  }
  for (const [tokenId, { rows, label }] of rowsByToken) {
    let positions = 0;
    for (const id of tokenIds) if (id === tokenId) positions++;
    if (positions === rows) continue;
    throw new InputError({
      field: 'media',
      value: `${rows} ${label} rows`,
      expected: `${positions} (the prompt's ${label} placeholder tokens, id ${tokenId})`,
      message:
        `The prompt has ${positions} ${label} placeholder tokens (id ${tokenId}) but the ${label} encoder gave ${rows} rows: ` +
        (positions < rows
          ? `there are more ${label} inputs than ${label} placeholders in the prompt (each ${label} needs its own placeholder in the messages)`
          : `there are fewer ${label} inputs than ${label} placeholders (a prompt that writes the placeholder token itself needs a matching ${label})`),
    });
  }
}

/**
 * Consumes media rows in prompt order across prefill pieces: each piece takes the next rows of
 * each token id for the placeholder positions it holds.
 */
export class MediaRowCursor {
  private readonly queues: Map<number, { parts: MediaEmbedding[]; part: number; row: number }>;

  constructor(media: readonly MediaEmbedding[]) {
    this.queues = new Map();
    for (const entry of media) {
      if (entry.rowCount === 0) continue;
      const queue = this.queues.get(entry.tokenId) ?? { parts: [], part: 0, row: 0 };
      queue.parts.push(entry);
      this.queues.set(entry.tokenId, queue);
    }
  }

  get isEmpty(): boolean {
    return this.queues.size === 0;
  }

  /** Whether any of `tokenIds` is a media placeholder with rows to take. */
  touches(tokenIds: readonly number[]): boolean {
    return tokenIds.some((id) => this.queues.has(id));
  }

  /**
   * Writes the next rows over `embeddings` (`tokenIds.length × hidden`, float32, in place) at
   * each placeholder position of `tokenIds`.
   */
  writeInto(embeddings: Float32Array, tokenIds: readonly number[], hidden: number): void {
    for (const [position, id] of tokenIds.entries()) {
      const queue = this.queues.get(id);
      if (queue === undefined) continue;
      const part = queue.parts[queue.part];
      if (part === undefined) throw new RangeError(`more placeholders of id ${id} than media rows (checkMediaCounts first)`);
      const width = part.rows.length / part.rowCount;
      if (width !== hidden) {
        throw new InputError({
          field: 'media',
          value: `${part.label ?? 'media'} rows of ${width} floats`,
          expected: `${hidden} floats per row (the embedder's hidden size): the encoder does not belong to this text model`,
        });
      }
      embeddings.set(part.rows.subarray(queue.row * hidden, (queue.row + 1) * hidden), position * hidden);
      queue.row++;
      if (queue.row === part.rowCount) {
        queue.part++;
        queue.row = 0;
      }
    }
  }
}

/** Milliseconds spent in the encoders for one prompt (only the modalities that ran). */
export interface EncoderStats {
  visionEncoderMs?: number;
  audioEncoderMs?: number;
}

/** What a generation needs from its media: the rows to merge, and how long encoding took. */
export interface PreparedMedia {
  embeddings: readonly MediaEmbedding[];
  encoderStats?: EncoderStats;
}
