/**
 * The WebGPU facts this backend needs, typed structurally so the package builds without
 * WebGPU type declarations and tests can hand in a fake `navigator`.
 */
export interface GpuAdapterLike {
  readonly features: { has(feature: string): boolean; [Symbol.iterator](): Iterator<string> };
  readonly limits: object;
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
}

export interface GpuAdapterRequest {
  powerPreference?: 'low-power' | 'high-performance';
  forceFallbackAdapter?: boolean;
}

export interface NavigatorWithGpu {
  gpu?: { requestAdapter(options?: GpuAdapterRequest): Promise<GpuAdapterLike | null> };
}

/** What a caller can plan with: features (is there `shader-f16`?), identity, buffer limits. */
export interface WebGpuAdapterReport {
  features: string[];
  /** Whether float16 shaders can run. Without it, use fp32 / q4 graphs, not fp16 / q4f16. */
  shaderF16: boolean;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  /** Largest single buffer and storage binding, in bytes: tables above them cannot live on the GPU. */
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export type WebGpuProbe =
  | { available: true; adapter: GpuAdapterLike; report: WebGpuAdapterReport }
  | { available: false; reason: string };

/**
 * Asks for an adapter the way onnxruntime-web will (same power preference), so the features
 * reported are those of the adapter the sessions run on.
 */
export async function probeWebGpu(navigatorLike: NavigatorWithGpu | undefined, request: GpuAdapterRequest = {}): Promise<WebGpuProbe> {
  const gpu = navigatorLike?.gpu;
  if (gpu === undefined || typeof gpu.requestAdapter !== 'function') {
    return { available: false, reason: 'navigator.gpu is missing: this browser or runtime has no WebGPU (or the page is not a secure context)' };
  }
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter(request);
  } catch (error) {
    return { available: false, reason: `navigator.gpu.requestAdapter() failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (adapter === null || adapter === undefined) {
    return {
      available: false,
      reason: 'navigator.gpu.requestAdapter() found no adapter (no usable GPU; headless Chromium needs --enable-unsafe-webgpu, e.g. with --use-webgpu-adapter=swiftshader)',
    };
  }
  return { available: true, adapter, report: adapterReport(adapter) };
}

export function adapterReport(adapter: GpuAdapterLike): WebGpuAdapterReport {
  const limits = adapter.limits as { maxBufferSize?: number; maxStorageBufferBindingSize?: number };
  const info = adapter.info ?? {};
  const features = [...adapter.features].sort();
  return {
    features,
    shaderF16: adapter.features.has('shader-f16'),
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    maxBufferSize: limits.maxBufferSize ?? 0,
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize ?? 0,
  };
}
