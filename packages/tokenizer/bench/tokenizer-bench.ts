import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GemmaTokenizer } from '../src/gemma-tokenizer';
import { buildCorpus } from '../test/corpus';
import { ensureGemma3nFixtureFolder } from '../test/gemma3n-fixture-folder';
import { loadOracleTokenizer } from '../test/oracle';

/**
 * `pnpm bench:tokenizer`: load time, memory, encode and decode throughput of this tokenizer and
 * of transformers.js on the same files and corpus, with the ratios.
 *
 * Each measurement is the median of several runs; the two implementations alternate so that
 * machine noise hits both alike. Throughput counts UTF-8 bytes of the corpus text. Load time is
 * measured in fresh child processes (files read, parsed and built; module import excluded), as
 * an application sees it at startup: in one long-lived process the heaps left by earlier loads
 * make later ones slower and noisier.
 *
 * Memory is measured the same way, in fresh child processes run with `--expose-gc`: the
 * tokenizer is loaded, the files' text and parsed JSON go out of scope, and after full
 * collections what is left is the tokenizer's own (heap, plus typed arrays counted as external).
 * The heap right after loading, before any collection, still holds the parsed JSON that the
 * next GC frees; peak RSS is the process's high-water mark above its RSS before loading.
 */

const loadRuns = 5;
const encodeRuns = 5;
const decodeRuns = 5;
const memoryRuns = 3;
const mebibyte = 2 ** 20;

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

async function timeAsync(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

function loadOurs(folder: string): GemmaTokenizer {
  const read = (name: string) => readFileSync(join(folder, name), 'utf8');
  return GemmaTokenizer.fromJSON(JSON.parse(read('tokenizer.json')), JSON.parse(read('tokenizer_config.json')), {
    chatTemplate: read('chat_template.jinja'),
    processorConfig: JSON.parse(read('processor_config.json')),
  });
}

function format(value: number, digits = 1): string {
  return value.toFixed(digits).padStart(10);
}

/** Child-process mode: load once, print the milliseconds. */
async function measureLoadInThisProcess(which: string, folder: string): Promise<void> {
  const milliseconds = which === 'ours' ? time(() => loadOurs(folder)) : await timeAsync(() => loadOracleTokenizer(folder));
  process.stdout.write(JSON.stringify({ milliseconds }));
}

function measureLoadInChild(which: 'ours' | 'theirs', folder: string): number {
  const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--measure-load', which, folder], { encoding: 'utf8' });
  return (JSON.parse(output) as { milliseconds: number }).milliseconds;
}

/** MiB figures of one load; see the file comment. */
interface MemoryFigures {
  heapRightAfterLoad: number;
  retainedHeap: number;
  retainedExternal: number;
  rssAfterLoad: number;
  peakRss: number;
}

/** Where the loaded tokenizer is kept while the memory is read, so no optimisation drops it. */
let loadedTokenizer: unknown;

/** Child-process mode (needs --expose-gc): load once, print the MemoryFigures. */
async function measureMemoryInThisProcess(which: string, folder: string): Promise<void> {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('--measure-memory needs node --expose-gc');
  const settle = () => {
    for (let pass = 0; pass < 4; pass++) collect();
    return process.memoryUsage();
  };
  const before = settle();
  loadedTokenizer = which === 'ours' ? loadOurs(folder) : await loadOracleTokenizer(folder);
  const rightAfter = process.memoryUsage();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const after = settle();
  const figures: MemoryFigures = {
    heapRightAfterLoad: (rightAfter.heapUsed - before.heapUsed) / mebibyte,
    retainedHeap: (after.heapUsed - before.heapUsed) / mebibyte,
    // `external` includes the ArrayBuffers of typed arrays.
    retainedExternal: (after.external - before.external) / mebibyte,
    rssAfterLoad: (after.rss - before.rss) / mebibyte,
    peakRss: (peakRss - before.rss) / mebibyte,
  };
  process.stdout.write(JSON.stringify(figures));
}

function measureMemoryInChild(which: 'ours' | 'theirs', folder: string): MemoryFigures {
  const script = fileURLToPath(import.meta.url);
  const output = execFileSync(process.execPath, ['--expose-gc', script, '--measure-memory', which, folder], { encoding: 'utf8' });
  return JSON.parse(output) as MemoryFigures;
}

function medianFigures(runs: MemoryFigures[]): MemoryFigures {
  const of = (key: keyof MemoryFigures) => median(runs.map((run) => run[key]));
  return {
    heapRightAfterLoad: of('heapRightAfterLoad'),
    retainedHeap: of('retainedHeap'),
    retainedExternal: of('retainedExternal'),
    rssAfterLoad: of('rssAfterLoad'),
    peakRss: of('peakRss'),
  };
}

function printMemory(ours: MemoryFigures, theirs: MemoryFigures): void {
  const rows: Array<[string, number, number]> = [
    ['heap right after load', ours.heapRightAfterLoad, theirs.heapRightAfterLoad],
    ['retained heap', ours.retainedHeap, theirs.retainedHeap],
    ['retained typed arrays', ours.retainedExternal, theirs.retainedExternal],
    ['retained total', ours.retainedHeap + ours.retainedExternal, theirs.retainedHeap + theirs.retainedExternal],
    ['RSS after load and GC', ours.rssAfterLoad, theirs.rssAfterLoad],
    ['peak RSS during load', ours.peakRss, theirs.peakRss],
  ];
  console.log(`memory (MiB, median of ${memoryRuns} fresh processes)`.padEnd(45) + 'ours'.padStart(10) + 'transformers.js'.padStart(17));
  for (const [name, ourValue, theirValue] of rows) console.log(`  ${name}`.padEnd(45) + format(ourValue) + format(theirValue).padStart(17));
}

async function main(): Promise<void> {
  const folder = ensureGemma3nFixtureFolder();
  console.log(`fixture: ${folder}`);

  const ourLoads: number[] = [];
  const theirLoads: number[] = [];
  for (let run = 0; run < loadRuns; run++) {
    ourLoads.push(measureLoadInChild('ours', folder));
    theirLoads.push(measureLoadInChild('theirs', folder));
  }
  const ourMemory: MemoryFigures[] = [];
  const theirMemory: MemoryFigures[] = [];
  for (let run = 0; run < memoryRuns; run++) {
    ourMemory.push(measureMemoryInChild('ours', folder));
    theirMemory.push(measureMemoryInChild('theirs', folder));
  }
  const ours = loadOurs(folder);
  const theirs = await loadOracleTokenizer(folder);

  const addedTokens = ours.addedTokens.map((token) => token.content);
  const corpus = buildCorpus({ addedTokens, includeLong: true });
  const corpusBytes = corpus.reduce((total, text) => total + Buffer.byteLength(text, 'utf8'), 0);
  const ourIds = corpus.map((text) => ours.encode(text));
  const tokenCount = ourIds.reduce((total, ids) => total + ids.length, 0);
  // A cold pass on fresh instances: our piece cache and transformers.js's word cache start empty.
  const ourCold = time(() => corpus.forEach((text) => ours.encode(text)));
  const theirCold = time(() => corpus.forEach((text) => theirs.encode(text)));

  const ourEncodes: number[] = [];
  const theirEncodes: number[] = [];
  for (let run = 0; run < encodeRuns; run++) {
    ourEncodes.push(time(() => corpus.forEach((text) => ours.encode(text))));
    theirEncodes.push(time(() => corpus.forEach((text) => theirs.encode(text))));
  }
  const ourDecodes: number[] = [];
  const theirDecodes: number[] = [];
  for (let run = 0; run < decodeRuns; run++) {
    ourDecodes.push(time(() => ourIds.forEach((ids) => ids.length > 0 && ours.decode(ids))));
    theirDecodes.push(time(() => ourIds.forEach((ids) => ids.length > 0 && theirs.decode(ids))));
  }

  const megabytes = corpusBytes / 1e6;
  const rows: Array<[string, number, number, 'lower' | 'higher', string]> = [
    ['load (ms)', median(ourLoads), median(theirLoads), 'lower', 'ms'],
    ['encode, cold pass (MB/s)', megabytes / (ourCold / 1000), megabytes / (theirCold / 1000), 'higher', 'MB/s'],
    ['encode (MB/s)', megabytes / (median(ourEncodes) / 1000), megabytes / (median(theirEncodes) / 1000), 'higher', 'MB/s'],
    ['encode (tokens/s, millions)', tokenCount / (median(ourEncodes) / 1000) / 1e6, tokenCount / (median(theirEncodes) / 1000) / 1e6, 'higher', ''],
    ['decode (MB/s of text)', megabytes / (median(ourDecodes) / 1000), megabytes / (median(theirDecodes) / 1000), 'higher', 'MB/s'],
    ['decode (tokens/s, millions)', tokenCount / (median(ourDecodes) / 1000) / 1e6, tokenCount / (median(theirDecodes) / 1000) / 1e6, 'higher', ''],
  ];
  console.log(`load runs (ms), ours: ${ourLoads.map((value) => value.toFixed(0)).join(' ')}; transformers.js: ${theirLoads.map((value) => value.toFixed(0)).join(' ')}`);
  console.log(`corpus: ${corpus.length} strings, ${megabytes.toFixed(2)} MB UTF-8, ${tokenCount} tokens`);
  console.log(`${'measure'.padEnd(30)}${'ours'.padStart(10)}${'transformers.js'.padStart(17)}${'ours / theirs'.padStart(15)}`);
  for (const [name, ourValue, theirValue, better] of rows) {
    const ratio = better === 'higher' ? ourValue / theirValue : theirValue / ourValue;
    const label = `${ratio.toFixed(2)}x faster`;
    console.log(`${name.padEnd(30)}${format(ourValue, 2)}${format(theirValue, 2).padStart(17)}${label.padStart(15)}`);
  }
  printMemory(medianFigures(ourMemory), medianFigures(theirMemory));
}

function childMode(): Promise<void> | undefined {
  const loadFlag = process.argv.indexOf('--measure-load');
  if (loadFlag !== -1) return measureLoadInThisProcess(process.argv[loadFlag + 1]!, process.argv[loadFlag + 2]!);
  const memoryFlag = process.argv.indexOf('--measure-memory');
  if (memoryFlag !== -1) return measureMemoryInThisProcess(process.argv[memoryFlag + 1]!, process.argv[memoryFlag + 2]!);
  return undefined;
}

const run = childMode() ?? main();
run.catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
