import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseGemma3nConfig } from '@gemma3n/core';
import { randomCheckpointWeights, tinyShapeConfig } from '@gemma3n/convert';
import { referenceAudioEncoder, referenceDecoder, referenceEmbed, referenceEmbedHardToken, referenceVisionEncoder } from '@gemma3n/reference';
// The vision engineers' architecture parser, by path (not exported from @gemma3n/convert).
import { visionArchitectureFromConfig } from '../../convert/src/vision/mobilenet-v5-architecture';

/**
 * The reference pipeline for a tiny-multimodal folder made with `seed`: the TS reference
 * towers and decoder over the same random weights, with the encoder rows written over the
 * placeholder positions — what our runtime must reproduce.
 */
export function multimodalReference(seed: number) {
  const raw = tinyShapeConfig('tiny-multimodal');
  const config = parseGemma3nConfig(raw);
  const weights = randomCheckpointWeights(raw, { seed, includeTowers: true });
  const lookup = (name: string) => weights.get(name);
  const architecture = visionArchitectureFromConfig(config.vision!);
  const hidden = config.text.hiddenSize;
  return {
    config,
    imageRows: (pixels: Float32Array, count: number) => referenceVisionEncoder(config, architecture, lookup, pixels, count),
    audioRows: (features: Float32Array, mask: Uint8Array) => referenceAudioEncoder(config, lookup, features, mask),
    /** HF's audio padding row: embed_audio of id text vocab_size − 1. */
    audioPaddingRow: () => referenceEmbedHardToken(config, lookup, 'audio', config.text.vocabSize - 1),
    /** Greedy ids after `promptIds`, with `rows[tokenId]` merged over that id's positions in order. */
    greedy(promptIds: readonly number[], rows: ReadonlyMap<number, Float32Array>, steps: number, stopIds: readonly number[] = []): number[] {
      const ids = [...promptIds];
      const generated: number[] = [];
      for (let step = 0; step < steps; step++) {
        const { inputsEmbeds, perLayerInputs } = referenceEmbed(config, lookup, ids);
        for (const [tokenId, values] of rows) {
          let row = 0;
          ids.forEach((id, position) => {
            if (id !== tokenId || position >= promptIds.length) return;
            inputsEmbeds.set(values.subarray(row * hidden, (row + 1) * hidden), position * hidden);
            row++;
          });
          if (row * hidden !== values.length) throw new Error(`reference: ${row} placeholders of ${tokenId} for ${values.length / hidden} rows`);
        }
        const logits = referenceDecoder(config, lookup, inputsEmbeds, perLayerInputs, ids.length);
        const vocab = config.text.vocabSize;
        const last = logits.subarray((ids.length - 1) * vocab, ids.length * vocab);
        let best = 0;
        // Multimodal ids are never sampled (the runtime masks them from vocab_size_per_layer_input).
        for (let id = 1; id < config.text.vocabSizePerLayerInput; id++) if (last[id]! > last[best]!) best = id;
        generated.push(best);
        if (stopIds.includes(best)) break;
        ids.push(best);
      }
      return generated;
    },
  };
}

/** A 32-bit float mono WAV file (format 3), so the samples survive the round trip exactly. */
export function floatWav(samples: Float32Array, sampleRate: number): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 4);
  const view = new DataView(bytes.buffer);
  const text = (offset: number, value: string) => [...value].forEach((char, index) => view.setUint8(offset + index, char.charCodeAt(0)));
  text(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 4, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 3, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 4, true);
  view.setUint16(32, 4, true);
  view.setUint16(34, 32, true);
  text(36, 'data');
  view.setUint32(40, samples.length * 4, true);
  samples.forEach((sample, index) => view.setFloat32(44 + index * 4, sample, true));
  return bytes;
}

export async function readPreprocessorConfig(folder: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(folder, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
}
