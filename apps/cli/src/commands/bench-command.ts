import { spawn } from 'node:child_process';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { RandomNumberGenerator } from '@gemma3n/convert';
import type { BenchChildRequest, BenchChildResult } from '../bench/bench-child';
import { measureReadBandwidth } from '../bench/memory-bandwidth';
import { parsePositiveInteger } from '../option-parsers';
import { BENCH_DTYPE, ensureBenchFolders, SYNTHETIC_SIZES, type BenchFolder, type SyntheticSize } from '../bench/synthetic-bench-folders';
import { writeJson } from '../output';
import { createProgressReporter } from '../progress-bar';

/** The rows of the comparison; the first is the baseline of every ratio. */
const ROWS = [
  { id: 'tjs-compat', runtime: 'transformers.js', profile: 'compat', label: 'transformers.js 4.3.2' },
  { id: 'ours-compat', runtime: 'gemma3n', profile: 'compat', label: 'gemma3n-js', pleOffload: false },
  { id: 'ours-optimized', runtime: 'gemma3n', profile: 'optimized', label: 'gemma3n-js, PLE in graph', pleOffload: false },
  { id: 'ours-optimized-ple', runtime: 'gemma3n', profile: 'optimized', label: 'gemma3n-js, PLE off the heap', pleOffload: true },
] as const;
type RowId = (typeof ROWS)[number]['id'];

export interface BenchRow {
  id: RowId;
  runtime: string;
  folder: string;
  loadMs: number;
  ttftMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  peakRssMiB: number;
  loadedRssMiB: number;
  /** Greedy ids equal those of the baseline row on the same folder (null: another folder). */
  tokensMatchBaseline: boolean | null;
}

interface BenchFlags {
  synthetic: SyntheticSize;
  cacheDir: string;
  promptTokens: number;
  newTokens: number;
  rows: RowId[];
  buildOnly?: boolean;
  rebuild?: boolean;
  json?: boolean;
}

function parseSize(value: string): SyntheticSize {
  if ((SYNTHETIC_SIZES as readonly string[]).includes(value)) return value as SyntheticSize;
  throw new InvalidArgumentError(`--synthetic expects one of ${SYNTHETIC_SIZES.join(', ')}, got "${value}"`);
}

function parseRows(value: string): RowId[] {
  const ids = value.split(',').map((entry) => entry.trim());
  const known = ROWS.map((row) => row.id) as string[];
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length > 0) throw new InvalidArgumentError(`--rows: unknown ${unknown.join(', ')}; expected some of ${known.join(', ')}`);
  return ids as RowId[];
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('benchmark against transformers.js on a full-size synthetic model (RANDOM weights, real shapes and files)')
    .requiredOption('--synthetic <size>', `model to build once and cache: ${SYNTHETIC_SIZES.join(' or ')}`, parseSize)
    .option('--cache-dir <dir>', 'where the synthetic folders are kept', join(homedir(), '.cache', 'gemma3n-js', 'bench'))
    .option('--prompt-tokens <n>', 'prompt length', parsePositiveInteger('--prompt-tokens'), 256)
    .option('--new-tokens <n>', 'tokens generated per row', parsePositiveInteger('--new-tokens'), 128)
    .option('--rows <ids>', `comma-separated rows (${ROWS.map((row) => row.id).join(', ')})`, parseRows, ROWS.map((row) => row.id))
    .option('--build-only', 'build (or find) the folders and stop')
    .option('--rebuild', 'rewrite the folders even if cached')
    .option('--json', 'print { rows, … } as JSON on stdout')
    .action(async (flags: BenchFlags) => runBench(flags));
}

async function runBench(flags: BenchFlags): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`gemma3n bench: synthetic ${flags.synthetic} model with RANDOM weights (real shapes; q8 embed_tokens + q4 decoder: block 32 in the compat folder as published, block 128 in the optimized one); the text it generates is noise by design.`);
  const progress = createProgressReporter('build');
  const buildStart = performance.now();
  const folders = await ensureBenchFolders(flags.synthetic, flags.cacheDir, { rebuild: flags.rebuild, onProgress: (event) => progress.update({ ...event, stage: `${event.profile}: ${event.stage}` }), log }).finally(() => progress.stop());
  if (folders.compat.built || folders.optimized.built) log(`folders written in ${((performance.now() - buildStart) / 1000).toFixed(0)} s`);
  if (flags.buildOnly) {
    if (flags.json) writeJson({ folders: Object.values(folders).map(({ dir, profile, decoderWeightBytes }) => ({ dir, profile, decoderWeightBytes })) });
    return;
  }

  const config = folders.compat.config;
  const promptIds = benchPromptIds(flags.promptTokens, config.text.vocabSizePerLayerInput);
  const threads = availableParallelism();
  log(`measuring memory read bandwidth (${threads} threads)…`);
  const bandwidth = await measureReadBandwidth({ threads });
  log(`memory read bandwidth: ${(bandwidth / 1e9).toFixed(1)} GB/s`);

  const rows: BenchRow[] = [];
  const tokensByFolder = new Map<string, number[]>();
  for (const row of ROWS.filter((entry) => flags.rows.includes(entry.id))) {
    const folder = folders[row.profile];
    log(`${row.id}: ${row.label} on ${folder.dir} (${flags.promptTokens}-token prompt, ${flags.newTokens} new tokens)…`);
    const request: BenchChildRequest = {
      runtime: row.runtime,
      dir: folder.dir,
      promptIds,
      newTokens: flags.newTokens,
      pleOffload: 'pleOffload' in row ? row.pleOffload : undefined,
      dtype: { ...BENCH_DTYPE },
    };
    const result = await runChild(request);
    const baseline = tokensByFolder.get(folder.dir);
    if (baseline === undefined) tokensByFolder.set(folder.dir, result.tokens);
    rows.push({
      id: row.id,
      runtime: row.label,
      folder: row.profile,
      loadMs: round(result.loadMs),
      ttftMs: round(result.ttftMs),
      prefillTokensPerSecond: round((flags.promptTokens * 1000) / result.ttftMs, 2),
      decodeTokensPerSecond: round(((result.tokens.length - 1) * 1000) / result.decodeMs, 2),
      peakRssMiB: round(result.peakRssMiB),
      loadedRssMiB: round(result.loadedRssMiB),
      tokensMatchBaseline: baseline === undefined ? null : sameIds(baseline, result.tokens),
    });
    log(`  load ${rows.at(-1)!.loadMs} ms, TTFT ${rows.at(-1)!.ttftMs} ms, decode ${rows.at(-1)!.decodeTokensPerSecond} tok/s, peak RSS ${rows.at(-1)!.peakRssMiB} MiB`);
  }

  const traffic = decodeTraffic(folders, config);
  printTable(rows, traffic, bandwidth, log);
  if (flags.json) {
    writeJson({
      model: flags.synthetic,
      promptTokens: flags.promptTokens,
      newTokens: flags.newTokens,
      memoryReadBandwidthGBps: round(bandwidth / 1e9, 2),
      weightBytesPerDecodeToken: traffic,
      rows: rows.map((row) => ({ ...row, bandwidthShare: round(shareOf(row, traffic, bandwidth), 3) })),
    });
  }
}

/** Seeded ids from the text vocabulary, away from the specials at both ends. */
export function benchPromptIds(count: number, textVocabulary: number): number[] {
  const random = new RandomNumberGenerator(256);
  const low = Math.min(1000, Math.floor(textVocabulary / 4));
  const high = Math.max(low + 1, textVocabulary - 2000);
  return Array.from({ length: count }, () => low + Math.floor(random.uniform() * (high - low)));
}

/**
 * Weight bytes one decode step reads per folder: every decoder weight once (the whole
 * decoder file set: all projections, the q4 lm_head) plus one token's rows of the q8 tables
 * (D bytes of embed_tokens and L·P of the per-layer table, with their scales).
 */
function decodeTraffic(folders: Record<'compat' | 'optimized', BenchFolder>, config: BenchFolder['config']): Record<'compat' | 'optimized', number> {
  const embedRows = config.text.hiddenSize + 4 + config.text.numHiddenLayers * config.text.hiddenSizePerLayerInput + 4;
  return { compat: folders.compat.decoderWeightBytes + embedRows, optimized: folders.optimized.decoderWeightBytes + embedRows };
}

function shareOf(row: BenchRow, traffic: Record<'compat' | 'optimized', number>, bandwidth: number): number {
  return (traffic[row.folder as 'compat' | 'optimized'] * row.decodeTokensPerSecond) / bandwidth;
}

function printTable(rows: BenchRow[], traffic: Record<'compat' | 'optimized', number>, bandwidth: number, log: (line: string) => void): void {
  const baseline = rows.find((row) => row.id === 'tjs-compat');
  const ratio = (value: number, base: number | undefined) => (base === undefined || base === 0 ? '' : ` (${(value / base).toFixed(2)}×)`);
  const header = ['runtime', 'folder', 'load ms', 'TTFT ms', 'prefill tok/s', 'decode tok/s', 'peak RSS MiB', 'bandwidth', 'ids = baseline'];
  const body = rows.map((row) => [
    row.runtime,
    row.folder,
    `${row.loadMs}${ratio(row.loadMs, baseline?.loadMs)}`,
    `${row.ttftMs}${ratio(row.ttftMs, baseline?.ttftMs)}`,
    `${row.prefillTokensPerSecond}${ratio(row.prefillTokensPerSecond, baseline?.prefillTokensPerSecond)}`,
    `${row.decodeTokensPerSecond}${ratio(row.decodeTokensPerSecond, baseline?.decodeTokensPerSecond)}`,
    `${row.peakRssMiB}${ratio(row.peakRssMiB, baseline?.peakRssMiB)}`,
    `${(100 * shareOf(row, traffic, bandwidth)).toFixed(0)} %`,
    row.tokensMatchBaseline === null ? '—' : row.tokensMatchBaseline ? 'yes' : 'NO',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  log('');
  log(line(header));
  log(line(widths.map((width) => '-'.repeat(width))));
  for (const cells of body) log(line(cells));
  log('');
  log(`weights read per decode token: compat ${(traffic.compat / 2 ** 20).toFixed(0)} MiB, optimized ${(traffic.optimized / 2 ** 20).toFixed(0)} MiB; memory read bandwidth ${(bandwidth / 1e9).toFixed(1)} GB/s ("bandwidth" = bytes/token × decode tok/s ÷ that)`);
  log('ratios are against transformers.js; TTFT = prompt prefill + first token; "ids = baseline": same greedy ids as the first row on the same folder');
}

function runChild(request: BenchChildRequest): Promise<BenchChildResult> {
  const script = fileURLToPath(new URL('./bench-child.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the ${request.runtime} benchmark process on ${request.dir} exited with code ${code}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as BenchChildResult);
      } catch (error) {
        reject(new Error(`the ${request.runtime} benchmark process printed no result line: ${String(error)}`));
      }
    });
  });
}

function sameIds(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && left.every((id, index) => id === right[index]);
}

function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
