export { floatValueInfo } from './onnx-value-info';
export { tinyAddModel, tinyWeights } from './tiny-add-model';
export { refusedModelError, runTinyAdd, runTinyAddFromBytes, writeTinyAddFolder } from './tiny-add-sessions';
export { withoutFilesystem } from './model-files-views';
