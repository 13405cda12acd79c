export type { ByteRange, ModelFileProgressEvent, ModelFiles } from './model-files';
export { FetchModelFiles, type FetchModelFilesParams } from './fetch-model-files';
export { MemoryModelFiles } from './memory-model-files';
export { modelPathSegments } from './model-path';
export * from './browser-cache/index';
