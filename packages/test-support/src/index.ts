export { importGraph, type ImportGraph, isNodeBuiltin, nodeBuiltinImports, specifiersOf } from './import-graph';
export { type BrowserBundleCase, bundleEntry, type EntryBundle, itBundlesForTheBrowser, onnxruntimeWebFiles } from './browser-bundle';
export { referenceGreedyTokens, type ReferenceGreedyParams } from './reference-greedy';
