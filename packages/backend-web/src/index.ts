/** @gemma3n/backend-web: runs gemma3n-js sessions on onnxruntime-web's WebGPU provider, keeping the KV cache on the GPU. */
export { createWebGpuBackend, webGpuBackendName, type WebGpuBackend, type WebGpuBackendEnvironment } from './webgpu-backend';
export {
  presentOutputNames,
  validateWebGpuBackendOptions,
  webGpuSessionOptions,
  type WebGpuBackendOptions,
} from './webgpu-backend-options';
export {
  adapterReport,
  probeWebGpu,
  type GpuAdapterLike,
  type GpuAdapterRequest,
  type NavigatorWithGpu,
  type WebGpuAdapterReport,
  type WebGpuProbe,
} from './webgpu-adapter';
export { GpuKvSession } from './gpu-kv-session';
export { scanOnnxGraph, type Float16Evidence, type OnnxGraphScan } from './onnx-graph-scan';
export { runWebGpuSelfTest, type WebGpuSelfTestParams, type WebGpuSelfTestResult } from './webgpu-self-test';
