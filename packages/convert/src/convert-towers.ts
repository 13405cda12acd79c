import type { Gemma3nConfig } from '@gemma3n/core';
import { AUDIO_TOWER_PREFIX, expectedAudioTowerTensors } from './audio/audio-tower-tensors';
import { writeAudioEncoderGraph } from './audio/audio-encoder-graph';
import type { ExpectedTensor } from './checkpoint/expected-checkpoint-tensors';
import type { TensorSource } from './tensor-source';
import { expectedVisionTensors, VISION_TOWER_PREFIX } from './vision/expected-vision-tensors';
import { visionArchitectureFromConfig } from './vision/mobilenet-v5-architecture';
import { writeVisionEncoderGraph } from './vision/vision-encoder-graph';

/** Which encoder towers a checkpoint carries. */
export interface CheckpointTowers {
  vision: boolean;
  audio: boolean;
}

/**
 * A tower counts as present when any tensor has its prefix; it is then validated in full, so a
 * checkpoint with half a tower is an error naming the missing tensors rather than a text-only
 * folder. Text-only exports (no tower tensors at all) convert to the two text files.
 */
export function checkpointTowers(config: Gemma3nConfig, weights: TensorSource): CheckpointTowers {
  const names = weights.names();
  return {
    vision: config.vision !== null && names.some((name) => name.startsWith(VISION_TOWER_PREFIX)),
    audio: config.audio !== null && names.some((name) => name.startsWith(AUDIO_TOWER_PREFIX)),
  };
}

/** The tower tensors the checkpoint must hold, for the towers it has. */
export function expectedTowerTensors(config: Gemma3nConfig, towers: CheckpointTowers): ExpectedTensor[] {
  const tensors: ExpectedTensor[] = [];
  if (towers.vision && config.vision !== null) tensors.push(...expectedVisionTensors(visionArchitectureFromConfig(config.vision)));
  if (towers.audio) tensors.push(...expectedAudioTowerTensors(config));
  return tensors;
}

export interface WriteTowerGraphsOptions {
  /** Rows of `audio_features`: processor_config.json's `audio_seq_length`. */
  audioSeqLength: number;
  maxExternalDataFileBytes?: number;
  externalDataThresholdBytes?: number;
  onProgress?: (event: { stage: string; done: number; total: number }) => void;
}

/** Writes `vision_encoder.onnx` and `audio_encoder.onnx` for the towers present; returns the files (relative to onnxDir). */
export async function writeTowerGraphs(
  config: Gemma3nConfig,
  weights: TensorSource,
  onnxDir: string,
  towers: CheckpointTowers,
  options: WriteTowerGraphsOptions,
): Promise<string[]> {
  const files: string[] = [];
  const layout = { maxExternalDataFileBytes: options.maxExternalDataFileBytes, externalDataThresholdBytes: options.externalDataThresholdBytes };
  if (towers.vision) {
    files.push(...(await writeVisionEncoderGraph(config, weights, onnxDir, { ...layout, onProgress: options.onProgress })).files);
  }
  if (towers.audio) {
    const written = await writeAudioEncoderGraph(config, weights, onnxDir, {
      ...layout,
      audioSeqLength: options.audioSeqLength,
      onProgress: options.onProgress,
    });
    files.push(...written.files);
  }
  return files;
}
