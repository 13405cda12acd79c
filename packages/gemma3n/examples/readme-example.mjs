// node examples/readme-example.mjs <model folder>
// e.g. a tiny random model: `pnpm gemma3n make-tiny --shape tiny-window-4 --seed 11 ./tiny`
import { Gemma3n, InputError } from '@gemma3n/gemma3n/node';

const model = await Gemma3n.load(process.argv[2] ?? './gemma-3n-E2B-it-ONNX', { node: { intraOpNumThreads: 2 } });
console.log(model.backend.name, model.runtime.pastInputNames.length, model.defaults.stopTokenIds);

const result = await model.generate({ messages: [{ role: 'user', content: 'Hello there' }], temperature: 0, maxNewTokens: 8 });
console.log(JSON.stringify(result.text), result.tokenIds.length, result.promptTokens, result.finishReason);
console.log(Object.keys(result.stats).join(' '));

let streamed = '';
for await (const delta of model.stream({ prompt: 'Once upon a time', temperature: 0.8, seed: 3, maxNewTokens: 8 })) streamed += delta.text;
console.log(JSON.stringify(streamed));

const chat = model.chat();
const first = await chat.send('Hi', { temperature: 0, maxNewTokens: 6 });
const second = await chat.send('And then?', { temperature: 0, maxNewTokens: 6 });
console.log(first.promptTokens, second.reusedTokens, second.promptTokens);

try {
  await model.generate({ prompt: 'x', topP: 0 });
} catch (error) {
  if (InputError.isInstance(error)) console.log(error.message);
}
