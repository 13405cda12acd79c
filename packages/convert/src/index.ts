export * from './tensor-source';
