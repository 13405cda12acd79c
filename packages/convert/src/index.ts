export * from './tensor-source';
export * from './safetensors/index';
export * from './checkpoint/index';
