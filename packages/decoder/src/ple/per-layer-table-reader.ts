import { InputError, type ModelFiles, ModelFileError, parsePerLayerTableHeader, perLayerTableHeaderLength, type PerLayerTableLayout } from '@gemma3n/core';
import { decodePerLayerRecord } from './per-layer-record-decoder';

export interface PerLayerTableReaderOptions {
  /**
   * Decoded rows kept in memory, least recently used dropped first (default 512: about 15 MB
   * for E2B's 7680-value rows). Prompts and answers repeat ids, chat turns repeat the template's.
   */
  cacheRows?: number;
  /**
   * Ids from here on (and negative ids) read row 0, as the embed graph's `Where` does for
   * multimodal ids. Default: the table's row count (262144 for released models).
   */
  vocabSizePerLayerInput?: number;
  /** Most ranged reads in flight at once (default 8). */
  maxConcurrentReads?: number;
  /** Longest run of consecutive missing ids fetched by one read (default 64 rows). */
  maxRowsPerRead?: number;
}

/** Counters for tests and measurements: what reading cost so far. */
export interface PerLayerTableReaderStats {
  /** `readBytes` calls made for rows. */
  reads: number;
  /** Record bytes read (the header excluded). */
  bytesRead: number;
  /** Distinct rows fetched from the file. */
  rowsRead: number;
  /** Row lookups answered by the cache (repeats within one call count once). */
  cacheHits: number;
}

/**
 * Reads rows of a per-layer embedding table file (`@gemma3n/core`'s per-layer-table-layout.ts) through
 * `ModelFiles` positioned reads — a file handle in Node, HTTP Range requests in browsers — so
 * the 2 GB table never sits in memory. `read(ids)` returns exactly the `per_layer_inputs` rows
 * the embed graph would, `[S, L, P]` float32.
 */
export class PerLayerTableReader {
  private readonly cache = new Map<number, Float32Array>();
  private readonly counters: PerLayerTableReaderStats = { reads: 0, bytesRead: 0, rowsRead: 0, cacheHits: 0 };
  private readonly cacheRows: number;
  private readonly idLimit: number;
  private readonly maxConcurrentReads: number;
  private readonly maxRowsPerRead: number;

  private constructor(
    private readonly files: ModelFiles,
    readonly path: string,
    readonly layout: PerLayerTableLayout,
    private readonly dataStart: number,
    options: PerLayerTableReaderOptions,
  ) {
    this.cacheRows = positiveInteger(options.cacheRows ?? 512, 'cacheRows', true);
    this.maxConcurrentReads = positiveInteger(options.maxConcurrentReads ?? 8, 'maxConcurrentReads', false);
    this.maxRowsPerRead = positiveInteger(options.maxRowsPerRead ?? 64, 'maxRowsPerRead', false);
    const limit = options.vocabSizePerLayerInput ?? layout.rows;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > layout.rows) {
      throw new InputError({
        field: 'vocabSizePerLayerInput',
        value: limit,
        expected: `an integer in [1, ${layout.rows}] (the table "${path}" has ${layout.rows} rows)`,
      });
    }
    this.idLimit = limit;
  }

  /**
   * Opens a table file: reads and checks its header, then checks that the file holds every row
   * (a truncated download is a ModelFileError `truncated` with the expected and actual sizes).
   */
  static async open(files: ModelFiles, path: string, options: PerLayerTableReaderOptions = {}): Promise<PerLayerTableReader> {
    const fileBytes = await files.size(path);
    if (fileBytes < 8) throw new ModelFileError({ path, location: files.location, problem: 'short', expectedBytes: 8, actualBytes: fileBytes });
    const headerLength = perLayerTableHeaderLength(await files.readBytes(path, { offset: 0, length: 8 }), path, files.location, fileBytes);
    const header = parsePerLayerTableHeader(await files.readBytes(path, { offset: 8, length: headerLength }), path, files.location);
    const { layout, expectedFileBytes, dataStart } = header;
    if (fileBytes !== expectedFileBytes) {
      const sizes = `expected ${expectedFileBytes} bytes (${dataStart}-byte header + ${layout.rows} rows × ${layout.recordBytes} bytes), got ${fileBytes}`;
      throw new ModelFileError({
        path,
        location: files.location,
        problem: fileBytes < expectedFileBytes ? 'truncated' : 'unreadable',
        expectedBytes: expectedFileBytes,
        actualBytes: fileBytes,
        message:
          fileBytes < expectedFileBytes
            ? `Per-layer embedding file "${path}" in ${files.location} is truncated: ${sizes}; download it again`
            : `Per-layer embedding file "${path}" in ${files.location} is longer than its header says: ${sizes}`,
      });
    }
    return new PerLayerTableReader(files, path, layout, dataStart, options);
  }

  /** Values per token: numLayers · layerWidth. */
  get rowWidth(): number {
    return this.layout.rowWidth;
  }

  get stats(): Readonly<PerLayerTableReaderStats> {
    return { ...this.counters };
  }

  /** The table row an id reads: itself when 0 ≤ id < vocabSizePerLayerInput, else 0. */
  rowOf(id: number): number {
    return Number.isInteger(id) && id >= 0 && id < this.idLimit ? id : 0;
  }

  /** `per_layer_inputs` for `ids`: `[ids.length, numLayers, layerWidth]` float32, row-major. */
  async read(ids: readonly number[]): Promise<Float32Array> {
    const width = this.layout.rowWidth;
    const rows = new Map<number, Float32Array>();
    const missing: number[] = [];
    for (const id of ids) {
      const row = this.rowOf(id);
      if (rows.has(row)) continue;
      const cached = this.cache.get(row);
      if (cached === undefined) {
        missing.push(row);
        rows.set(row, EMPTY);
        continue;
      }
      this.counters.cacheHits++;
      rows.set(row, cached);
    }
    for (const [row, values] of await this.fetchRows(missing)) rows.set(row, values);

    const output = new Float32Array(ids.length * width);
    ids.forEach((id, position) => output.set(rows.get(this.rowOf(id))!, position * width));
    // Refresh recency in first-use order, so the rows of this call are the last to be dropped.
    for (const [row, values] of rows) {
      this.cache.delete(row);
      this.cache.set(row, values);
    }
    while (this.cache.size > this.cacheRows) this.cache.delete(this.cache.keys().next().value as number);
    return output;
  }

  /** Reads and decodes `rows` (distinct), runs of consecutive rows in one read each. */
  private async fetchRows(rows: readonly number[]): Promise<Map<number, Float32Array>> {
    const fetched = new Map<number, Float32Array>();
    if (rows.length === 0) return fetched;
    const sorted = [...rows].sort((left, right) => left - right);
    const runs: { first: number; count: number }[] = [];
    for (const row of sorted) {
      const last = runs[runs.length - 1];
      if (last !== undefined && row === last.first + last.count && last.count < this.maxRowsPerRead) last.count++;
      else runs.push({ first: row, count: 1 });
    }
    const { recordBytes, rowWidth } = this.layout;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < runs.length) {
        const run = runs[next++]!;
        const bytes = await this.files.readBytes(this.path, { offset: this.dataStart + run.first * recordBytes, length: run.count * recordBytes });
        this.counters.reads++;
        this.counters.bytesRead += bytes.byteLength;
        for (let index = 0; index < run.count; index++) {
          const values = new Float32Array(rowWidth);
          decodePerLayerRecord(this.layout, bytes.subarray(index * recordBytes, (index + 1) * recordBytes), values, 0);
          fetched.set(run.first + index, values);
        }
        this.counters.rowsRead += run.count;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxConcurrentReads, runs.length) }, worker));
    return fetched;
  }
}

const EMPTY = new Float32Array(0);

function positiveInteger(value: number, field: string, allowZero: boolean): number {
  if (Number.isSafeInteger(value) && (value >= 1 || (allowZero && value === 0))) return value;
  throw new InputError({ field, value, expected: allowZero ? 'an integer ≥ 0' : 'an integer ≥ 1' });
}
