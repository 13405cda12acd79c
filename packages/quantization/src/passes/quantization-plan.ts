import { attributeFloat, attributeInt, DATA_TYPE } from '../onnx/onnx-nodes';
import { dimsOf } from '../onnx/onnx-model-reader';
import type { OnnxTypes } from '../onnx/onnx-proto';

/**
 * Which nodes of a graph the q4 / q8 passes rewrite, and which candidates they leave float:
 *
 * - `matmul`: `MatMul(A, W)` with W a 2-D float32 initializer [K, N];
 * - `gemm`: `Gemm(A, B, transB=1)` with B a 2-D float32 initializer [N, K] (the tied lm_head
 *   of the optimized graph profile multiplies by the token table [V, D] this way), no C,
 *   transA 0 and alpha 1 (beta is unused without C). MatMulNBits keeps W column by column,
 *   which is B's row order, so B is quantized as it is stored;
 * - `table`: `Gather(T, ids, axis=0)` on a 2-D float32 table [rows, columns].
 *
 * A Gemm whose weight qualifies but whose attributes do not is reported in `skipped` with the
 * reason, and left float: the graph still runs, only that product is not quantized.
 */
export type PlanKind = 'matmul' | 'gemm' | 'table';

export interface Plan {
  kind: PlanKind;
  tensor: OnnxTypes.ITensorProto;
  /** The initializer's shape as stored: [K, N] (matmul), [N, K] (gemm), [rows, columns] (table). */
  shape: [number, number];
}

/** A node that multiplies by a weight the pass could quantize, left float, and why. */
export interface SkippedNodeReport {
  node: string;
  opType: string;
  /** The weight initializer it reads. */
  tensor: string;
  reason: string;
}

export interface PlanOptions {
  minimumDimension: number;
  quantizeTables: boolean;
  dtype: 'q4' | 'q8';
}

export interface GraphPlan {
  plans: Map<OnnxTypes.INodeProto, Plan>;
  skipped: SkippedNodeReport[];
}

export function planGraph(graph: OnnxTypes.IGraphProto, options: PlanOptions): GraphPlan {
  const initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor]));
  const plans = new Map<OnnxTypes.INodeProto, Plan>();
  const skipped: SkippedNodeReport[] = [];
  for (const node of graph.node ?? []) {
    const result = planNode(node, initializers, options);
    if (result === undefined) continue;
    if ('reason' in result) skipped.push(result);
    else plans.set(node, result);
  }
  return { plans, skipped };
}

function planNode(node: OnnxTypes.INodeProto, initializers: Map<string, OnnxTypes.ITensorProto>, options: PlanOptions): Plan | SkippedNodeReport | undefined {
  const minimum = options.minimumDimension;
  const floatMatrix = (name: string | undefined): [OnnxTypes.ITensorProto, [number, number]] | undefined => {
    const tensor = name === undefined ? undefined : initializers.get(name);
    if (!tensor || tensor.dataType !== DATA_TYPE.float32) return undefined;
    const dims = dimsOf(tensor);
    if (dims.length !== 2 || dims[0]! < minimum || dims[1]! < minimum) return undefined;
    return [tensor, dims as [number, number]];
  };
  const inputs = node.input ?? [];
  const standardDomain = (node.domain ?? '') === '';
  if (node.opType === 'MatMul' && standardDomain && !initializers.has(inputs[0] ?? '')) {
    const found = floatMatrix(inputs[1]);
    if (found) return { kind: 'matmul', tensor: found[0], shape: found[1] };
  }
  if (node.opType === 'Gemm' && standardDomain && !initializers.has(inputs[0] ?? '')) {
    const found = floatMatrix(inputs[1]);
    if (!found) return undefined;
    const problems = gemmProblems(node);
    if (problems.length === 0) return { kind: 'gemm', tensor: found[0], shape: found[1] };
    return { node: node.name ?? '', opType: 'Gemm', tensor: found[0].name ?? '', reason: `left float: ${problems.join('; ')}` };
  }
  if (options.quantizeTables && node.opType === 'Gather' && standardDomain && (attributeInt(node, 'axis') ?? 0) === 0) {
    const found = floatMatrix(inputs[0]);
    // 4-bit rows pack two values per byte: an odd width cannot be stored.
    if (found && !(options.dtype === 'q4' && found[1][1] % 2 !== 0)) return { kind: 'table', tensor: found[0], shape: found[1] };
  }
  return undefined;
}

/** Why a Gemm on a float weight cannot become MatMulNBits / DynamicQuantizeMatMul as it is. */
function gemmProblems(node: OnnxTypes.INodeProto): string[] {
  const problems: string[] = [];
  const transA = attributeInt(node, 'transA') ?? 0;
  const transB = attributeInt(node, 'transB') ?? 0;
  const alpha = attributeFloat(node, 'alpha') ?? 1;
  if (transB !== 1) problems.push(`transB=${transB} (only Gemm with transB=1 on a [N, K] weight is quantized; write a product with a [K, N] weight as MatMul)`);
  if (transA !== 0) problems.push(`transA=${transA} (the quantized ops multiply A untransposed)`);
  if (alpha !== 1) problems.push(`alpha=${alpha} (the quantized ops have no output scale)`);
  if ((node.input ?? [])[2]) problems.push('a bias input C (not folded into the quantized op)');
  return problems;
}
