// Prefill and decode speed of a model folder through @gemma3n/gemma3n/node (after `pnpm build`):
//   node bench/generation-bench.mjs <model folder> [new tokens] [threads]
// With a tiny random model this measures the runtime's own per-token overhead (sampling over the
// 262k vocabulary, tensor copies); with E2B/E4B, the model.
import { Gemma3n } from '@gemma3n/gemma3n/node';

const [folder, newTokensText = '64', threadsText = '2'] = process.argv.slice(2);
if (folder === undefined) throw new Error('usage: node bench/generation-bench.mjs <model folder> [new tokens] [threads]');
const model = await Gemma3n.load(folder, { node: { intraOpNumThreads: Number(threadsText) } });
const prompt = 'Write a short story about a lighthouse keeper who finds a message in a bottle.';
const maxNewTokens = Number(newTokensText);

for (const [label, sampling] of [
  ['greedy', { temperature: 0 }],
  ['top-k 64, top-p 0.95', { temperature: 1, topK: 64, topP: 0.95, seed: 1 }],
]) {
  await model.generate({ messages: [{ role: 'user', content: prompt }], ...sampling, maxNewTokens: 4, stopTokenIds: [] }); // warm-up
  const result = await model.generate({ messages: [{ role: 'user', content: prompt }], ...sampling, maxNewTokens, stopTokenIds: [] });
  const { ttftMs, prefillTokensPerSecond, decodeTokensPerSecond } = result.stats;
  console.log(
    `${label.padEnd(22)} prompt ${result.promptTokens} tokens, ${result.tokenIds.length} new: ` +
      `TTFT ${ttftMs.toFixed(1)} ms, prefill ${prefillTokensPerSecond.toFixed(0)} tok/s, decode ${decodeTokensPerSecond.toFixed(1)} tok/s`,
  );
}
await model.dispose();
