export * from './backend/index';
export { externalDataSessionOption, loadSession, type LoadSessionParams } from './backend/session-loading';
export * from './config/index';
export * from './errors/index';
export * from './model-files/index';
export { isOnnxDtype, onnxDtypeSuffixes, type OnnxDtype } from './model-files/onnx-dtype-suffixes';
export * from './onnx/index';
export * from './ple/index';
