import { type Gemma3nConfig, Gemma3nError, ModelFileError } from '@gemma3n/core';
import { expectedCheckpointTensors, type ExpectedTensor } from './checkpoint/expected-checkpoint-tensors';
import type { TensorSource } from './tensor-source';

/** One way a checkpoint disagrees with its config. */
export interface TensorProblem {
  name: string;
  problem: 'missing' | 'wrong-shape' | 'unreadable';
  expectedShape: number[];
  actualShape?: number[];
  /** For `unreadable`: why (e.g. an unsupported dtype). */
  detail?: string;
}

/** How many problems the error message spells out before summarising the rest. */
const LISTED_PROBLEMS = 12;

/**
 * Checks every tensor the config implies (names and shapes, architecture doc §6) before any
 * output is written, and reports all problems at once: a user fixing a checkpoint wants the
 * whole list, not one name per run. `additional` lists more tensors to require (the towers the
 * checkpoint carries); other extra tensors (a tied `lm_head.weight`) are accepted.
 *
 * @param onProgress - called after each tensor with (done, total).
 * @throws ModelFileError naming each missing tensor with its expected shape, and each
 *   wrong-shaped tensor with expected vs actual shape.
 */
export function validateCheckpointTensors(
  config: Gemma3nConfig,
  weights: TensorSource,
  checkpointName: string,
  onProgress?: (done: number, total: number) => void,
  additional: readonly ExpectedTensor[] = [],
): void {
  const expected = [...expectedCheckpointTensors(config), ...additional];
  const problems: TensorProblem[] = [];
  for (const [index, tensor] of expected.entries()) {
    if (!weights.has(tensor.name)) {
      problems.push({ name: tensor.name, problem: 'missing', expectedShape: tensor.shape });
    } else {
      try {
        const actualShape = weights.info(tensor.name).shape;
        if (!sameShape(actualShape, tensor.shape)) {
          problems.push({ name: tensor.name, problem: 'wrong-shape', expectedShape: tensor.shape, actualShape });
        }
      } catch (error) {
        if (!Gemma3nError.isInstance(error)) throw error;
        problems.push({ name: tensor.name, problem: 'unreadable', expectedShape: tensor.shape, detail: error.message });
      }
    }
    onProgress?.(index + 1, expected.length);
  }
  // lm_head is tied to embed_tokens and usually absent; when an export carries it anyway, it
  // must at least have the embedding's shape (the graphs use embed_tokens either way).
  const embedding = expected[0];
  if (embedding !== undefined && weights.has('lm_head.weight')) {
    const actualShape = weights.info('lm_head.weight').shape;
    if (!sameShape(actualShape, embedding.shape)) {
      problems.push({ name: 'lm_head.weight', problem: 'wrong-shape', expectedShape: embedding.shape, actualShape });
    }
  }
  if (problems.length === 0) return;

  const lines = problems.slice(0, LISTED_PROBLEMS).map(describeProblem);
  if (problems.length > LISTED_PROBLEMS) lines.push(`… and ${problems.length - LISTED_PROBLEMS} more`);
  const missing = problems.filter((item) => item.problem === 'missing').length;
  throw new ModelFileError({
    path: checkpointName,
    problem: missing > 0 ? 'missing' : 'unreadable',
    message:
      `Checkpoint "${checkpointName}" does not match its config.json (${problems.length} of ${expected.length} ` +
      `expected tensors):\n  ${lines.join('\n  ')}`,
  });
}

function describeProblem(item: TensorProblem): string {
  const expected = `[${item.expectedShape.join(', ')}]`;
  switch (item.problem) {
    case 'missing':
      return `missing tensor "${item.name}" (expected shape ${expected})`;
    case 'wrong-shape':
      return `tensor "${item.name}" has shape [${(item.actualShape ?? []).join(', ')}], expected ${expected}`;
    case 'unreadable':
      return `tensor "${item.name}" cannot be read: ${item.detail ?? 'unknown reason'}`;
  }
}

function sameShape(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && left.every((size, index) => size === right[index]);
}
