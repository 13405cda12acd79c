/**
 * onnx-proto is a CommonJS package whose `onnx` namespace is not a static named export, so
 * Node's ESM loader refuses `import { onnx } from 'onnx-proto'`; the default import works in
 * Node, bundlers and vitest alike.
 */
import onnxProtoPackage from 'onnx-proto';

export const onnx = onnxProtoPackage.onnx;
// eslint-disable-next-line @typescript-eslint/no-namespace
export type { onnx as OnnxTypes } from 'onnx-proto';
