export * from './config/gemma3n-config-types';
export * from './errors/index';
