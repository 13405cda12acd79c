export * from './gemma3n-config-types';
export { parseGemma3nConfig, gemma3nTopLevelDefaults } from './parse-gemma3n-config';
export { gemma3nTextDefaults, defaultLayerTypes } from './parse-text-config';
export { gemma3nVisionDefaults, gemma3nAudioDefaults } from './parse-multimodal-config';
export { kvSharingPlan, type KvSharingPlan, type LayerKvPlan } from './kv-sharing-plan';
