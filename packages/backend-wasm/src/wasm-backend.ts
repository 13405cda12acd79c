import * as ort from '#onnxruntime-web';
import type { InferenceSession } from 'onnxruntime-common';
import {
  type Backend,
  externalDataLocations,
  externalDataSessionOption,
  type ExternalDataEntry,
  InputError,
  loadSession,
  type ModelSource,
  ModelFileError,
  type SessionOptions,
  UnsupportedError,
} from '@gemma3n/core';
import { nodeFileAccess } from './node-files';
import { mergeWasmSessionOptions, validateWasmBackendOptions, type WasmBackendOptions } from './wasm-backend-options';
import { decideThreadCount, detectWasmRuntime } from './wasm-threads';
import { warmUpModel } from './warm-up-model';

export const wasmBackendName = 'wasm';

/** How onnxruntime-web's wasm runs here, known once `init()` has run. */
export interface WasmEnvironment {
  numThreads: number;
  threadReason: string;
  /** Always true: every onnxruntime-web 1.30 wasm binary is a SIMD build. */
  simd: true;
  crossOriginIsolated: boolean;
  /** `node`: onnxruntime-web's Node build (chosen by the `node` import condition); else `browser`. */
  build: 'node' | 'browser';
  onnxruntimeWebVersion: string;
}

export interface WasmBackend extends Backend {
  /** The environment `init()` set up, or undefined before it. */
  environment(): WasmEnvironment | undefined;
}

// onnxruntime-web keeps one wasm instance per realm, configured by the global `ort.env` before it
// starts; every backend object of this module shares it.
let sharedEnvironment: Promise<WasmEnvironment> | undefined;

/**
 * A Backend over onnxruntime-web's CPU (wasm) execution provider: SIMD always, threads where
 * shared memory allows. The same code runs in browsers (`onnxruntime-web/wasm`) and in Node
 * (onnxruntime-web's Node build, no native addon): package.json maps `#onnxruntime-web` by the
 * `node` import condition.
 *
 * Models: bytes with `externalData` everywhere; in Node also a path, whose external data files
 * (named by the model's initializers) are found next to it and read by onnxruntime-web.
 */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend {
  validateWasmBackendOptions(options);
  let environment: WasmEnvironment | undefined;
  const init = async (): Promise<void> => {
    environment = await initializeOnce(options);
  };
  return {
    name: wasmBackendName,
    isAvailable: () => wasmSimdAvailable(),
    init,
    environment: () => environment,
    async createSession(model: ModelSource, callOptions?: SessionOptions): Promise<InferenceSession> {
      if (environment === undefined) await init();
      const sessionOptions = mergeWasmSessionOptions(options, callOptions);
      if (model.type === 'bytes') {
        const name = model.name ?? '(bytes)';
        return load(name, model.bytes, { ...sessionOptions, ...externalDataSessionOption(model.externalData) });
      }
      if (model.type === 'path') return createFromPath(model.path, sessionOptions);
      throw new InputError({ field: 'model.type', value: (model as { type: unknown }).type, expected: '"path" or "bytes"' });
    },
  };
}

function initializeOnce(options: WasmBackendOptions): Promise<WasmEnvironment> {
  const facts = detectWasmRuntime();
  const decision = decideThreadCount(options.numThreads, facts);
  if (sharedEnvironment === undefined) {
    sharedEnvironment = (async () => {
      ort.env.wasm.numThreads = decision.numThreads;
      ort.env.wasm.simd = true;
      // Proxying to onnxruntime's own worker forbids GPU outputs and adds a copy per run; apps
      // put the whole engine in their Worker instead.
      ort.env.wasm.proxy = false;
      if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
      if (options.wasmBinary !== undefined) ort.env.wasm.wasmBinary = options.wasmBinary;
      // Creating a session makes onnxruntime-web fetch and compile its wasm now, so a missing
      // file is an init failure the registry can fall back from.
      const session = await ort.InferenceSession.create(warmUpModel(), { executionProviders: ['wasm'] });
      await session.release();
      return {
        numThreads: ort.env.wasm.numThreads ?? decision.numThreads,
        threadReason: decision.reason,
        simd: true,
        crossOriginIsolated: facts.crossOriginIsolated,
        build: facts.isNode ? 'node' : 'browser',
        onnxruntimeWebVersion: ort.env.versions.web ?? 'unknown',
      } satisfies WasmEnvironment;
    })();
    // A failed start stays failed for this realm: onnxruntime-web refuses a second start after
    // a failure anyway ("previous call to 'initializeWebAssembly()' failed"). The catch only
    // keeps the rejection from being reported as unhandled before a caller awaits it.
    sharedEnvironment.catch(() => undefined);
  }
  return sharedEnvironment.then((environment) => {
    if (options.numThreads !== undefined && decision.numThreads !== environment.numThreads) {
      throw new UnsupportedError({
        feature: 'wasm thread count',
        value: decision.numThreads,
        message:
          `onnxruntime-web already runs with ${environment.numThreads} wasm threads in this realm; ` +
          `${decision.numThreads} cannot be set afterwards (create every wasm backend with the same numThreads)`,
      });
    }
    return environment;
  });
}

/** onnxruntime-web 1.30 ships SIMD builds only; this validates a 1-instruction SIMD module. */
export function wasmSimdAvailable(scope: typeof globalThis = globalThis): boolean {
  const wasm = (scope as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (wasm === undefined || typeof wasm.validate !== 'function') return false;
  // (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)) — the probe
  // onnxruntime-web and wasm-feature-detect use.
  const probe = Uint8Array.from([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
  ]);
  try {
    return wasm.validate(probe);
  } catch {
    return false;
  }
}

/**
 * Node only: reads the model, finds the external data files its initializers name next to it,
 * and lets onnxruntime-web's Node build read those (it takes file paths as `externalData`
 * data, and streams files past Node's 2 GiB readFile limit).
 */
async function createFromPath(path: string, sessionOptions: SessionOptions): Promise<InferenceSession> {
  const files = nodeFileAccess();
  if (files === undefined) {
    throw new UnsupportedError({
      feature: 'model source',
      value: 'path',
      supported: ['bytes'],
      message: `The wasm backend can open "${path}" only in Node (≥ 20.16); in a browser pass { type: 'bytes', bytes, externalData }`,
    });
  }
  const absolute = files.resolve(path);
  if (!(await files.isFile(absolute))) throw new ModelFileError({ path, problem: 'missing' });
  const bytes = await files.readFile(absolute);
  const folder = files.dirname(absolute);
  const externalData: ExternalDataEntry[] = [];
  for (const location of externalDataLocations(bytes)) {
    const dataPath = files.resolve(folder, location);
    if (!dataPath.startsWith(folder + files.separator)) {
      throw new InputError({ field: 'external data location', value: location, expected: `a file inside ${folder}` });
    }
    if (!(await files.isFile(dataPath))) {
      throw new ModelFileError({
        path: dataPath,
        problem: 'missing',
        message: `Model file "${dataPath}" does not exist; ${path} keeps its weights there`,
      });
    }
    externalData.push({ path: location, data: dataPath });
  }
  return load(path, bytes, { ...sessionOptions, ...externalDataSessionOption(externalData) });
}

function load(name: string, bytes: Uint8Array, sessionOptions: SessionOptions): Promise<InferenceSession> {
  return loadSession({
    backend: wasmBackendName,
    runtime: 'onnxruntime-web (wasm)',
    model: name,
    create: () => ort.InferenceSession.create(bytes, sessionOptions),
  });
}
