import { ConfigError, kvSharingPlan, parseGemma3nConfig, BackendRegistry, BackendError } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';

const files = new NodeDirectoryModelFiles(process.argv[2] ?? './gemma-3n-E2B-it-ONNX');
const config = parseGemma3nConfig(await files.readJson('config.json'));
console.log(config.text.numHiddenLayers, config.text.intermediateSize[0], config.text.eosTokenId);
// 30 8192 [ 1, 106 ]
console.log(config.text.layerTypes.indexOf('full_attention'), config.audio?.vocabOffset, config.vision);
// 4 262272 null

const plan = kvSharingPlan(config.text);
console.log(plan.cacheLayers.length, plan.layers[24].kvSourceLayer, plan.layers[25].kvSourceLayer);
// 20 19 18

try {
  parseGemma3nConfig({ model_type: 'gemma3n', text_config: { intermediate_size: [8192, 8192] } });
} catch (error) {
  if (ConfigError.isInstance(error)) console.log(error.message);
}
// config.json: text_config.intermediate_size is [8192,8192]; expected one value, or a list of 30 values (num_hidden_layers)

const registry = new BackendRegistry();
registry.register('webgpu', {
  name: 'webgpu',
  isAvailable: () => typeof navigator !== 'undefined' && 'gpu' in navigator,
  createSession: async () => { throw new Error('unreachable: never available in Node'); },
}, 10);
try {
  await registry.resolve();
} catch (error) {
  if (BackendError.isInstance(error)) console.log(error.message);
}
// No usable backend: [webgpu] not available in this environment
