export * from './tensor-source';
export * from './checkpoint/index';
