export * from './external-data-writer';
export * from './onnx-data-types';
export * from './onnx-graph-builder';
export * from './onnx-model-file';
export { onnx } from './onnx-proto';
