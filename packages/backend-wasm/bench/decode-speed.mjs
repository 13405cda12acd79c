// node bench/decode-speed.mjs <model folder> <wasm|node> [threads]   (after `pnpm build`)
// Greedy decode speed of the text pipeline: prefill of an 8-token prompt, then 24 tokens.
import { createWasmBackend } from '@gemma3n/backend-wasm';
import { createNodeBackend } from '@gemma3n/backend-node';
import { loadDecoderRuntime, generateTokens } from '@gemma3n/decoder';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';

const [folder, kind = 'wasm', threads] = process.argv.slice(2);
const numThreads = threads === undefined ? undefined : Number(threads);
const backend = kind === 'node' ? createNodeBackend({ intraOpNumThreads: numThreads ?? 0 }) : createWasmBackend({ numThreads });
const started = performance.now();
const { runtime } = await loadDecoderRuntime({ files: new NodeDirectoryModelFiles(folder), backend });
const loadMs = performance.now() - started;
const promptIds = [2, 17, 250, 33, 5, 99, 140, 61];
const run = () => generateTokens({
  model: runtime, cache: runtime.createCache(), promptIds, decoder: { decode: () => '' },
  options: { temperature: 0, maxNewTokens: 24, stopTokenIds: [] },
});
await run(); // warm-up
const timed = performance.now();
const result = await run();
const totalMs = performance.now() - timed;
console.log(JSON.stringify({ kind, threads: kind === 'wasm' ? backend.environment().numThreads : numThreads ?? 'default', loadMs: Math.round(loadMs), msPerTokenIncludingPrefill: +(totalMs / 24).toFixed(2), stats: result.stats, tokens: result.tokenIds.slice(0, 8) }));
