export * from './config/index';
export * from './errors/index';
