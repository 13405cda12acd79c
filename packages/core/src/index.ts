export * from './config/gemma3n-config-types';
