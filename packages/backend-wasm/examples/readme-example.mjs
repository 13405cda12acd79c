// node examples/readme-example.mjs <model folder>   (after `pnpm build`)
import { createWasmBackend } from '@gemma3n/backend-wasm';
import { createGemma3n } from '@gemma3n/gemma3n';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';

const folder = process.argv[2] ?? './gemma-3n-E2B-it-ONNX';
const backend = createWasmBackend();
await backend.init();
console.log(backend.environment());

// A path: the backend reads the model and hands onnxruntime-web the external data it names.
const embed = await backend.createSession({ type: 'path', path: `${folder}/onnx/embed_tokens.onnx` });
console.log(embed.inputNames, embed.outputNames);

// The whole text pipeline on the same backend.
const model = await createGemma3n({ backend, files: new NodeDirectoryModelFiles(folder) });
const result = await model.generate({ promptIds: [2, 17, 250, 33, 5, 99, 140, 61], maxNewTokens: 6, doSample: false });
console.log(result.tokenIds);
