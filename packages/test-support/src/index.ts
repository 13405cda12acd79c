export { importGraph, type ImportGraph, isNodeBuiltin, nodeBuiltinImports, specifiersOf } from './import-graph';
export { type BrowserBundleCase, bundleEntry, type EntryBundle, itBundlesForTheBrowser, onnxruntimeWebFiles } from './browser-bundle';
export { bytesField, floatValueInfo, integerField, textField, varint } from './onnx-protobuf-writer';
export { tinyAddModel, tinyWeights } from './tiny-add-model';
export { refusedModelError, runTinyAdd, runTinyAddFromBytes, type TinyAddBackend, writeTinyAddFolder } from './tiny-add-sessions';
export { type FolderReads, withoutFilesystem } from './model-files-views';
export { referenceGreedyTokens, type ReferenceGreedyParams } from './reference-greedy';
