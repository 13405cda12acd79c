import { InputError } from '@gemma3n/core';

/** What decides how many wasm threads can run here. */
export interface WasmRuntimeFacts {
  /** Running in Node (onnxruntime-web's Node build, threads on worker_threads). */
  isNode: boolean;
  /** `crossOriginIsolated` of the page or worker; threads need it in browsers. */
  crossOriginIsolated: boolean;
  /** Whether `SharedArrayBuffer` exists; wasm threads share memory through it. */
  sharedArrayBuffer: boolean;
  /** `navigator.hardwareConcurrency`, or in Node `os.availableParallelism()`. */
  logicalCores: number;
}

export interface ThreadDecision {
  numThreads: number;
  /** Why this count, for `describe()` and logs. */
  reason: string;
}

/**
 * Four threads is where onnxruntime-web stops scaling usefully (its own cap); more workers
 * only add copies of the thread stacks and contention with the page.
 */
export const maxDefaultThreads = 4;

/** Reads the facts from the running environment without importing any Node module. */
export function detectWasmRuntime(scope: typeof globalThis = globalThis): WasmRuntimeFacts {
  const holder = scope as {
    process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown };
    navigator?: { hardwareConcurrency?: number };
    crossOriginIsolated?: boolean;
    SharedArrayBuffer?: unknown;
  };
  const isNode = typeof holder.process?.versions?.node === 'string';
  let logicalCores = holder.navigator?.hardwareConcurrency ?? 0;
  if (isNode && !(logicalCores > 0)) {
    // Node 20 has no navigator; getBuiltinModule (Node ≥ 20.16) reaches os without an import
    // statement a browser bundler would follow.
    const os = holder.process?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
    logicalCores = os?.availableParallelism?.() ?? 1;
  }
  return {
    isNode,
    crossOriginIsolated: holder.crossOriginIsolated === true,
    sharedArrayBuffer: typeof holder.SharedArrayBuffer === 'function',
    logicalCores: Number.isSafeInteger(logicalCores) && logicalCores > 0 ? logicalCores : 1,
  };
}

/**
 * The thread count to give onnxruntime-web. Threads need shared memory: always there in Node,
 * and in a browser only on a cross-origin isolated page (COOP/COEP headers). A requested count
 * that cannot run falls back to 1 with the reason, as onnxruntime-web itself would, but said
 * here instead of as a console warning.
 */
export function decideThreadCount(requested: number | undefined, facts: WasmRuntimeFacts): ThreadDecision {
  if (requested !== undefined && !(Number.isSafeInteger(requested) && requested >= 1)) {
    throw new InputError({ field: 'numThreads', value: requested, expected: 'an integer ≥ 1' });
  }
  const threadsPossible = facts.sharedArrayBuffer && (facts.isNode || facts.crossOriginIsolated);
  if (!threadsPossible) {
    const why = !facts.sharedArrayBuffer
      ? 'SharedArrayBuffer is unavailable'
      : 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)';
    return { numThreads: 1, reason: requested !== undefined && requested > 1 ? `${requested} threads requested, but ${why}` : `single-threaded: ${why}` };
  }
  if (requested !== undefined) return { numThreads: requested, reason: 'requested' };
  const numThreads = Math.min(maxDefaultThreads, facts.logicalCores);
  return { numThreads, reason: `${facts.logicalCores} logical cores${facts.logicalCores > maxDefaultThreads ? `, capped at ${maxDefaultThreads}` : ''}` };
}
