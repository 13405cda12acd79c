import type { GraphScope } from '../onnx/onnx-graph-builder';

/**
 * Reads rows [firstRow, firstRow + rowCount) of a 2-D float32 weight, row-major. For a
 * Linear weight the rows are output features (Hugging Face's W [out, in]); for a table, ids.
 */
export type WeightRowReader = (firstRow: number, rowCount: number) => Promise<Float32Array>;

/** `y = x · Wᵀ` for a Linear weight W [outFeatures, inFeatures]. */
export interface LinearEncodingRequest {
  scope: GraphScope;
  /** Node name inside the scope (`q_proj`); initializers go under `<name>/…`. */
  name: string;
  input: string;
  inFeatures: number;
  outFeatures: number;
  readRows: WeightRowReader;
}

/** `table[indices]` for a table [rows, columns]; the output has the indices' shape + [columns]. */
export interface GatherEncodingRequest {
  scope: GraphScope;
  name: string;
  indices: string;
  rows: number;
  columns: number;
  readRows: WeightRowReader;
}

/**
 * How the graph builders store weights, when not as float32 initializers: a quantizer plugs in
 * here so a model is written quantized straight from its checkpoint, one weight at a time
 * (a full-size E2B model is ~20 GB as float32 and never has to exist). Each method returns the
 * output value name, or `null` to keep the plain float32 MatMul / Gather for that weight
 * (e.g. weights too small to be worth it). The encoder adds its own nodes and initializers
 * through `scope` and declares any operator domain it uses in `opsetImports`.
 */
export interface WeightEncoding {
  /** Extra operator sets the encoder's nodes need (`com.microsoft` for MatMulNBits). */
  readonly opsetImports: readonly { domain: string; version: number }[];
  linear?(request: LinearEncodingRequest): Promise<string | null>;
  gather?(request: GatherEncodingRequest): Promise<string | null>;
}

/** Merges the opsets a graph needs with those of its weight encoding (one entry per domain). */
export function opsetsWithEncoding(
  base: readonly { domain: string; version: number }[],
  encoding: WeightEncoding | undefined,
): { domain: string; version: number }[] {
  const merged = new Map(base.map((entry) => [entry.domain, entry.version]));
  for (const entry of encoding?.opsetImports ?? []) merged.set(entry.domain, Math.max(entry.version, merged.get(entry.domain) ?? 0));
  return [...merged].map(([domain, version]) => ({ domain, version }));
}
