import * as ort from 'onnxruntime-web/webgpu';
import type { InferenceSession } from 'onnxruntime-common';
import {
  type Backend,
  externalDataSessionOption,
  InputError,
  loadSession,
  type ModelSource,
  type SessionOptions,
  UnsupportedError,
} from '@gemma3n/core';
import { GpuKvSession } from './gpu-kv-session';
import { scanOnnxGraph } from './onnx-graph-scan';
import { warmUpModel } from './onnx-model-encoding';
import { type NavigatorWithGpu, probeWebGpu, type WebGpuAdapterReport, type WebGpuProbe } from './webgpu-adapter';
import { validateWebGpuBackendOptions, type WebGpuBackendOptions, webGpuSessionOptions } from './webgpu-backend-options';

export const webGpuBackendName = 'webgpu';

export interface WebGpuBackend extends Backend {
  /** The adapter's features and limits, once `isAvailable()` or `init()` has found one. */
  adapter(): WebGpuAdapterReport | undefined;
  /** Why `isAvailable()` answered false, for messages (the registry only says "not available"). */
  unavailableReason(): string | undefined;
}

/** Where the backend looks for WebGPU; tests pass a fake navigator. */
export interface WebGpuBackendEnvironment {
  navigator?: NavigatorWithGpu;
}

// onnxruntime-web keeps one wasm instance (and one WebGPU device) per realm, configured by the
// global `ort.env` before it starts; every backend object of this module shares it.
let sharedStart: Promise<void> | undefined;

/**
 * A Backend over onnxruntime-web's native WebGPU execution provider (`onnxruntime-web/webgpu`,
 * the C++ EP). Chosen over the default JSEP build on purpose: JSEP ignores GroupQueryAttention's
 * `local_window_size` (Gemma 3n's sliding window) and computes MatMulNBits with block size > 32
 * wrongly, and it returns zeros for float16 on adapters without `shader-f16` where the native EP
 * fails clearly (shared/docs/ort-op-support.md).
 *
 * The decoder's `present.*` outputs stay on the GPU and are fed back as the next step's past
 * (see GpuKvSession); logits and the embedder's outputs come back to the CPU.
 */
export function createWebGpuBackend(options: WebGpuBackendOptions = {}, environment: WebGpuBackendEnvironment = {}): WebGpuBackend {
  validateWebGpuBackendOptions(options);
  let probe: Promise<WebGpuProbe> | undefined;
  let report: WebGpuAdapterReport | undefined;
  let unavailable: string | undefined;
  const probeOnce = (): Promise<WebGpuProbe> => {
    probe ??= probeWebGpu(environment.navigator ?? (globalThis as { navigator?: NavigatorWithGpu }).navigator, {
      powerPreference: options.powerPreference,
      forceFallbackAdapter: options.forceFallbackAdapter,
    }).then((result) => {
      if (result.available) report = result.report;
      else unavailable = result.reason;
      return result;
    });
    return probe;
  };
  let started = false;
  const init = async (): Promise<void> => {
    const result = await probeOnce();
    if (!result.available) throw new Error(result.reason);
    await startOnnxRuntime(options);
    started = true;
  };
  return {
    name: webGpuBackendName,
    isAvailable: async () => (await probeOnce()).available,
    init,
    adapter: () => report,
    unavailableReason: () => unavailable,
    async createSession(model: ModelSource, callOptions?: SessionOptions): Promise<InferenceSession> {
      if (model.type === 'path') {
        throw new UnsupportedError({
          feature: 'model source',
          value: 'path',
          supported: ['bytes'],
          message: `The WebGPU backend cannot open "${model.path}": pass { type: 'bytes', bytes, externalData } (a browser has no filesystem)`,
        });
      }
      if (model.type !== 'bytes') {
        throw new InputError({ field: 'model.type', value: (model as { type: unknown }).type, expected: '"bytes"' });
      }
      const name = model.name ?? '(bytes)';
      // The adapter is known before onnxruntime starts, so a float16 graph is refused first.
      const probed = await probeOnce();
      if (!probed.available) throw new UnsupportedError({ feature: 'WebGPU', value: 'unavailable', message: probed.reason });
      const scan = scanOnnxGraph(model.bytes);
      if (scan.float16 !== undefined && report?.shaderF16 !== true && options.checkFloat16Support !== false) {
        throw new UnsupportedError({
          feature: 'float16 graph',
          value: name,
          message:
            `"${name}" computes in float16 (${scan.float16.kind} "${scan.float16.name}"), but this WebGPU adapter ` +
            `(${describeAdapter(report)}) lacks the "shader-f16" feature; use an fp32 or q4 file instead of fp16 / q4f16, ` +
            'or the wasm backend',
        });
      }
      if (!started) await init();
      const sessionOptions: SessionOptions = {
        ...webGpuSessionOptions(options, callOptions, scan.outputNames),
        ...externalDataSessionOption(model.externalData),
      };
      const session = await loadSession({
        backend: webGpuBackendName,
        runtime: 'onnxruntime-web (WebGPU)',
        model: name,
        create: () => ort.InferenceSession.create(model.bytes, sessionOptions),
      });
      return sessionOptions.preferredOutputLocation === undefined ? session : new GpuKvSession(session);
    },
  };
}

function describeAdapter(report: WebGpuAdapterReport | undefined): string {
  if (report === undefined) return 'unknown';
  return [report.vendor, report.architecture, report.description].filter((part) => part !== '').join(' ') || 'unnamed';
}

function startOnnxRuntime(options: WebGpuBackendOptions): Promise<void> {
  sharedStart ??= (async () => {
    if (options.powerPreference !== undefined) ort.env.webgpu.powerPreference = options.powerPreference;
    if (options.forceFallbackAdapter !== undefined) ort.env.webgpu.forceFallbackAdapter = options.forceFallbackAdapter;
    // Only nodes without a WebGPU kernel run on the wasm CPU provider; one thread avoids
    // starting workers for them (and needs no cross-origin isolation).
    ort.env.wasm.numThreads = options.numThreads ?? 1;
    ort.env.wasm.proxy = false; // onnxruntime's proxy worker cannot return GPU buffers
    if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
    // A first session makes onnxruntime-web fetch its wasm and open the WebGPU device now, so
    // either failing is an init failure the registry falls back from.
    const provider = options.device === undefined ? 'webgpu' : { name: 'webgpu', device: options.device };
    const session = await ort.InferenceSession.create(warmUpModel(), {
      executionProviders: [provider as NonNullable<SessionOptions['executionProviders']>[number]],
    });
    await session.release();
  })();
  return sharedStart;
}
