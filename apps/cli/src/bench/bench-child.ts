import { readFileSync } from 'node:fs';

/**
 * One measured benchmark row, run in a process of its own so its peak RSS (VmHWM) is its own:
 * `node bench-child.js '<json BenchChildRequest>'` prints one JSON BenchChildResult line on
 * stdout. Both runtimes get the same prompt ids, greedy decoding and no stop tokens, so both
 * run exactly `newTokens` steps; both load their tokenizer with the model and decode the answer.
 */
export interface BenchChildRequest {
  runtime: 'transformers.js' | 'gemma3n';
  dir: string;
  promptIds: number[];
  newTokens: number;
  /** gemma3n only: PLE rows from the row file (true) or from the embed graph (false). */
  pleOffload?: boolean;
  /** transformers.js only: per-file dtypes. */
  dtype: Record<string, string>;
}

export interface BenchChildResult {
  loadMs: number;
  ttftMs: number;
  decodeMs: number;
  tokens: number[];
  peakRssMiB: number;
  /** RSS after loading, before the first prompt. */
  loadedRssMiB: number;
}

/** VmHWM / VmRSS of this process in MiB (Linux); the JS heap alone would miss ORT's native memory. */
export function processMemoryMiB(field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

async function runGemma3n(request: BenchChildRequest): Promise<BenchChildResult> {
  const { Gemma3n } = await import('@gemma3n/gemma3n/node');
  const start = performance.now();
  const model = await Gemma3n.load(request.dir, { dtype: request.dtype, pleOffload: request.pleOffload ?? 'auto' });
  const loadMs = performance.now() - start;
  const loadedRssMiB = processMemoryMiB('VmRSS');
  const begin = performance.now();
  let firstAt: number | undefined;
  const stream = model.stream({ promptIds: request.promptIds, temperature: 0, maxNewTokens: request.newTokens, stopTokenIds: [] });
  for await (const _delta of stream) firstAt ??= performance.now();
  const result = await stream.result;
  const end = performance.now();
  await model.dispose();
  return { loadMs, ttftMs: (firstAt ?? end) - begin, decodeMs: end - (firstAt ?? end), tokens: result.tokenIds, peakRssMiB: processMemoryMiB('VmHWM'), loadedRssMiB };
}

async function runTransformersJs(request: BenchChildRequest): Promise<BenchChildResult> {
  // The rival, loaded only in the benchmark's child process (never in product code).
  const transformers = await import('@huggingface/transformers');
  transformers.env.allowRemoteModels = false;
  const start = performance.now();
  const model = await transformers.Gemma3nForCausalLM.from_pretrained(request.dir, {
    local_files_only: true,
    dtype: request.dtype as never,
    device: 'cpu',
  });
  // Like ours (Gemma3n.load reads tokenizer.json), an app needs the tokenizer to turn the
  // answer into text: loaded in the timed load and used to decode, so both rows hold one.
  const tokenizer = await transformers.AutoTokenizer.from_pretrained(request.dir, { local_files_only: true });
  const loadMs = performance.now() - start;
  const loadedRssMiB = processMemoryMiB('VmRSS');
  const ids = request.promptIds;
  let puts = 0;
  let firstAt: number | undefined;
  // generate() calls put() once with the prompt, then once per new token.
  const streamer = {
    put() {
      puts++;
      if (puts === 2) firstAt = performance.now();
    },
    end() {},
  };
  const begin = performance.now();
  const output = (await model.generate({
    input_ids: new transformers.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new transformers.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    max_new_tokens: request.newTokens,
    do_sample: false,
    eos_token_id: [],
    streamer: streamer as never,
  })) as { data: BigInt64Array };
  const end = performance.now();
  const tokens = Array.from(output.data, Number).slice(ids.length);
  tokenizer.decode(tokens);
  await model.dispose();
  return { loadMs, ttftMs: (firstAt ?? end) - begin, decodeMs: end - (firstAt ?? end), tokens, peakRssMiB: processMemoryMiB('VmHWM'), loadedRssMiB };
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as BenchChildRequest;
  const result = request.runtime === 'transformers.js' ? await runTransformersJs(request) : await runGemma3n(request);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
