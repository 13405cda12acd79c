// node examples/readme-example.mjs <model folder>
import { createNodeBackend } from '@gemma3n/backend-node';
import { ModelFileError } from '@gemma3n/core';

const folder = process.argv[2] ?? './gemma-3n-E2B-it-ONNX';
const backend = createNodeBackend({ intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
const session = await backend.createSession({ type: 'path', path: `${folder}/onnx/embed_tokens.onnx` });
console.log(session.inputNames, session.outputNames);
console.log(session.outputMetadata.map((output) => output.shape.join('×')));

try {
  await backend.createSession({ type: 'path', path: `${folder}/onnx/embed_tokens_q4.onnx` });
} catch (error) {
  if (ModelFileError.isInstance(error)) console.log(error.problem, error.path.endsWith('embed_tokens_q4.onnx'));
}
