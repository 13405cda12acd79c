import type { GraphScope } from '../onnx/onnx-graph-builder';
import { type AudioGraphContext, dimensionOf, rmsNorm, silu } from './audio-graph-context';
import { AUDIO_TOWER_PREFIX, type AudioGraphDimensions } from './audio-tower-tensors';

/*
 * Conformer blocks (§4.2) on `[B, T, hidden]`. HF's ±1e10 gradient clamps are left out: no
 * finite activation of a working model reaches them.
 *
 * Local attention is written as full `[T, T]` attention with a band mask instead of HF's
 * blocks of 12 queries × 24 context keys. Both give each query exactly the keys
 * q − max_past … q + max_future that are valid (the reference test checks the two membership
 * rules agree), and the band needs no padding to a block multiple, no unfold and no relative
 * shift. The cost is T² logits per head: 750² · 8 heads for a 30 s clip, a few percent of the
 * feed-forward work of a layer. The one difference is a query with no visible valid key: HF
 * averages over its block's 24 context slots, the band over all T frames. Only invalid frames
 * can have no visible key, and the block zeroes their rows right after the attention, so the
 * encoder output is the same.
 */

/** Epsilon of the feed-forward, attention and block norms: HF never passes rms_norm_eps to them. */
const FIXED_NORM_EPSILON = 1e-6;

/** float32's lowest value, HF's masked-logit fill (`torch.finfo(float32).min`). */
const FLOAT32_LOWEST = -3.4028234663852886e38;

/** Values every conformer block reuses, built once per graph. */
export interface ConformerSharedInputs {
  /** `[B, T, 1]` float, 1 for valid frames. */
  validRows: string;
  /** `[B, 1, T, T]` bool: key visible from query and valid. */
  attentionAllowed: string;
  /** `[T, F, T]` float one-hot: `[q − k == max_past − f]`, selects relative distance f for (q, k). */
  distanceOneHot: string;
}

/** Builds the masks and the relative-distance one-hot from the `[B, T]` frame mask. */
export function buildConformerSharedInputs(scope: GraphScope, dimensions: AudioGraphDimensions, validMask: string): ConformerSharedInputs {
  const frames = dimensionOf(scope, 'Frames', validMask, 1);
  const positions = scope.op('Range', [scope.int64([0], []), frames, scope.int64([1], [])], { name: 'Positions' });
  const queries = scope.op('Unsqueeze', [positions, scope.int64([1])], { name: 'QueryPositions' });
  const keys = scope.op('Unsqueeze', [positions, scope.int64([0])], { name: 'KeyPositions' });
  const distance = scope.op('Sub', [queries, keys], { name: 'Distance' }); // [T, T]: q − k
  const band = scope.op('And', [
    scope.op('LessOrEqual', [distance, scope.int64([dimensions.maxPastHorizon], [])], { name: 'WithinPast' }),
    scope.op('GreaterOrEqual', [distance, scope.int64([-dimensions.maxFutureHorizon], [])], { name: 'WithinFuture' }),
  ], { name: 'Band' });
  const validKeys = scope.op('Unsqueeze', [validMask, scope.int64([1, 2])], { name: 'ValidKeys' }); // [B, 1, 1, T]
  const attentionAllowed = scope.op('And', [band, validKeys], { name: 'AttentionAllowed' });
  const distances = Array.from({ length: dimensions.maxPastHorizon + dimensions.maxFutureHorizon + 1 }, (_, index) => dimensions.maxPastHorizon - index);
  const distanceColumn = scope.op('Unsqueeze', [distance, scope.int64([1])], { name: 'DistanceColumn' }); // [T, 1, T]
  const matches = scope.op('Equal', [distanceColumn, scope.int64(distances, [1, distances.length, 1])], { name: 'DistanceMatches' });
  const distanceOneHot = scope.op('Cast', [matches], { name: 'DistanceOneHot', attributes: { to: 1 } });
  const validRows = scope.op('Cast', [scope.op('Unsqueeze', [validMask, scope.int64([-1])], { name: 'ValidColumn' })], { name: 'ValidRows', attributes: { to: 1 } });
  return { validRows, attentionAllowed, distanceOneHot };
}

function softplus(x: number): number {
  return x > 20 ? x : Math.log1p(Math.exp(x));
}

/** `R[d] = pos_proj(timing(d))` for d = max_past … −max_future, laid out `[N, H, F]`. */
function relativePositionTable(dimensions: AudioGraphDimensions, posProjection: Float32Array): Float32Array {
  const { hiddenSize, headCount, headDim, maxPastHorizon } = dimensions;
  const spans = maxPastHorizon + dimensions.maxFutureHorizon + 1;
  const timescales = Math.floor(hiddenSize / 2);
  const increment = Math.log(1e4) / Math.max(timescales - 1, 1);
  const table = new Float32Array(headCount * headDim * spans);
  for (let span = 0; span < spans; span++) {
    const distance = maxPastHorizon - span;
    // HF computes the timing signal in fp32 before the projection.
    const signal = new Float32Array(2 * timescales);
    for (let index = 0; index < timescales; index++) {
      signal[index] = Math.sin(distance * Math.exp(-index * increment));
      signal[timescales + index] = Math.cos(distance * Math.exp(-index * increment));
    }
    for (let output = 0; output < headCount * headDim; output++) {
      let sum = 0;
      for (let input = 0; input < hiddenSize; input++) sum += posProjection[output * hiddenSize + input]! * signal[input]!;
      table[output * spans + span] = sum; // output = head·H + dim → [N, H, F]
    }
  }
  return table;
}

async function feedForward(context: AudioGraphContext, scope: GraphScope, dimensions: AudioGraphDimensions, prefix: string, x: string): Promise<string> {
  const hidden = dimensions.hiddenSize;
  const preWeight = await context.tensor(scope, 'pre_layer_norm/weight', `${prefix}.pre_layer_norm.weight`, [hidden]);
  const normed = rmsNorm(scope, 'pre_layer_norm', x, preWeight, FIXED_NORM_EPSILON);
  const up = await context.linear(scope, 'ffw_layer_1', normed, `${prefix}.ffw_layer_1.weight`, hidden, 4 * hidden);
  const down = await context.linear(scope, 'ffw_layer_2', silu(scope, 'silu', up), `${prefix}.ffw_layer_2.weight`, 4 * hidden, hidden);
  const postWeight = await context.tensor(scope, 'post_layer_norm/weight', `${prefix}.post_layer_norm.weight`, [hidden]);
  const post = rmsNorm(scope, 'post_layer_norm', down, postWeight, FIXED_NORM_EPSILON);
  const scaled = scope.op('Mul', [post, scope.float32(dimensions.residualWeight)], { name: 'ResidualScale' });
  return scope.op('Add', [x, scaled], { name: 'Residual' });
}

/** `[B, T, hidden]` → `[B, N, T, H]`. */
function splitHeads(scope: GraphScope, name: string, x: string, dimensions: AudioGraphDimensions, perm = [0, 2, 1, 3]): string {
  const reshaped = scope.op('Reshape', [x, scope.int64([0, 0, dimensions.headCount, dimensions.headDim])], { name: `${name}/Reshape` });
  return scope.op('Transpose', [reshaped], { name: `${name}/Transpose`, attributes: { perm } });
}

async function attention(context: AudioGraphContext, scope: GraphScope, dimensions: AudioGraphDimensions, prefix: string, x: string, shared: ConformerSharedInputs): Promise<string> {
  const { hiddenSize: hidden, headDim, logitCap } = dimensions;
  const preWeight = await context.tensor(scope, 'pre_attn_norm/weight', `${prefix}.pre_attn_norm.weight`, [hidden]);
  const normed = rmsNorm(scope, 'pre_attn_norm', x, preWeight, FIXED_NORM_EPSILON);
  const attn = scope.scope('attn');
  const query = splitHeads(attn, 'query', await context.linear(attn, 'q_proj', normed, `${prefix}.attn.q_proj.weight`, hidden, hidden), dimensions);
  const keyTransposed = splitHeads(attn, 'key', await context.linear(attn, 'k_proj', normed, `${prefix}.attn.k_proj.weight`, hidden, hidden), dimensions, [0, 2, 3, 1]);
  const value = splitHeads(attn, 'value', await context.linear(attn, 'v_proj', normed, `${prefix}.attn.v_proj.weight`, hidden, hidden), dimensions);

  // head_dim^-0.5 / softplus(0) · softplus(per_dim_scale), folded into one constant per dimension.
  const perDimScale = await context.read(`${prefix}.attn.per_dim_scale`, [headDim]);
  const queryScale = Float32Array.from(perDimScale, (value) => (headDim ** -0.5 / softplus(0)) * softplus(value));
  const scaledQuery = attn.op('Mul', [query, await attn.initializer('query_scale', 'float32', [headDim], queryScale)], { name: 'ScaleQuery' });

  const content = attn.op('MatMul', [scaledQuery, keyTransposed], { name: 'ContentLogits' }); // [B, N, T, T]
  const posProjection = await context.read(`${prefix}.attn.relative_position_embedding.pos_proj.weight`, [hidden, hidden]);
  const spans = dimensions.maxPastHorizon + dimensions.maxFutureHorizon + 1;
  const table = await attn.initializer('relative_position_embedding/table', 'float32', [dimensions.headCount, headDim, spans], relativePositionTable(dimensions, posProjection));
  const byDistance = attn.op('MatMul', [scaledQuery, table], { name: 'PositionLogitsByDistance' }); // [B, N, T, F]
  // [B, N, T, 1, F] · [T, F, T] → [B, N, T, 1, T]: per query, spread distance f to key q − (max_past − f).
  const expanded = attn.op('Unsqueeze', [byDistance, attn.int64([3])], { name: 'PositionLogitsRow' });
  const spread = attn.op('MatMul', [expanded, shared.distanceOneHot], { name: 'PositionLogitsSpread' });
  const position = attn.op('Squeeze', [spread, attn.int64([3])], { name: 'PositionLogits' });
  const logits = attn.op('Add', [content, position], { name: 'Logits' });
  const capped = attn.op('Mul', [attn.op('Tanh', [attn.op('Div', [logits, attn.float32(logitCap)], { name: 'CapDivide' })], { name: 'CapTanh' }), attn.float32(logitCap)], { name: 'Cap' });
  const masked = attn.op('Where', [shared.attentionAllowed, capped, attn.float32(FLOAT32_LOWEST)], { name: 'Mask' });
  const probabilities = attn.op('Softmax', [masked], { name: 'Softmax', attributes: { axis: -1 } });
  const heads = attn.op('MatMul', [probabilities, value], { name: 'Context' }); // [B, N, T, H]
  const merged = attn.op('Reshape', [attn.op('Transpose', [heads], { name: 'MergeHeads/Transpose', attributes: { perm: [0, 2, 1, 3] } }), attn.int64([0, 0, hidden])], { name: 'MergeHeads/Reshape' });

  const post = await context.linear(scope, 'post', merged, `${prefix}.post.weight`, hidden, hidden);
  const postWeight = await context.tensor(scope, 'post_norm/weight', `${prefix}.post_norm.weight`, [hidden]);
  return scope.op('Add', [x, rmsNorm(scope, 'post_norm', post, postWeight, FIXED_NORM_EPSILON)], { name: 'Residual' });
}

async function lightConv(context: AudioGraphContext, scope: GraphScope, dimensions: AudioGraphDimensions, prefix: string, x: string): Promise<string> {
  const hidden = dimensions.hiddenSize;
  const kernel = dimensions.convKernelSize;
  const epsilon = dimensions.lightConvNormEpsilon;
  const preWeight = await context.tensor(scope, 'pre_layer_norm/weight', `${prefix}.pre_layer_norm.weight`, [hidden]);
  const normed = rmsNorm(scope, 'pre_layer_norm', x, preWeight, epsilon);
  const started = await context.linear(scope, 'linear_start', normed, `${prefix}.linear_start.weight`, hidden, 2 * hidden);
  const lastAxis = scope.int64([-1]);
  const gate = scope.op('Slice', [started, scope.int64([0]), scope.int64([hidden]), lastAxis], { name: 'glu/First' });
  const gateInput = scope.op('Slice', [started, scope.int64([hidden]), scope.int64([2 * hidden]), lastAxis], { name: 'glu/Second' });
  const gated = scope.op('Mul', [gate, scope.op('Sigmoid', [gateInput], { name: 'glu/Sigmoid' })], { name: 'glu/Mul' });
  const channelsFirst = scope.op('Transpose', [gated], { name: 'ToChannels', attributes: { perm: [0, 2, 1] } });
  const convWeight = await context.tensor(scope, 'depthwise_conv1d/weight', `${prefix}.depthwise_conv1d.weight`, [hidden, 1, kernel]);
  // Causal: K − 1 zero frames before the first, none after.
  const convolved = scope.op('Conv', [channelsFirst, convWeight], {
    name: 'depthwise_conv1d/Conv',
    attributes: { group: hidden, kernel_shape: [kernel], pads: [kernel - 1, 0] },
  });
  const timeFirst = scope.op('Transpose', [convolved], { name: 'ToTime', attributes: { perm: [0, 2, 1] } });
  const convNormWeight = await context.tensor(scope, 'conv_norm/weight', `${prefix}.conv_norm.weight`, [hidden]);
  const activated = silu(scope, 'silu', rmsNorm(scope, 'conv_norm', timeFirst, convNormWeight, epsilon));
  const ended = await context.linear(scope, 'linear_end', activated, `${prefix}.linear_end.weight`, hidden, hidden);
  return scope.op('Add', [x, ended], { name: 'Residual' });
}

/** Conformer block `layer`: ffw_start → attention → zero invalid rows → light conv → ffw_end → norm. */
export async function buildConformerBlock(context: AudioGraphContext, dimensions: AudioGraphDimensions, layer: number, x: string, shared: ConformerSharedInputs): Promise<string> {
  const scope = context.graph.scope(`/audio_tower/conformer.${layer}`);
  const prefix = `${AUDIO_TOWER_PREFIX}conformer.${layer}`;
  let hidden = await feedForward(context, scope.scope('ffw_layer_start'), dimensions, `${prefix}.ffw_layer_start`, x);
  hidden = await attention(context, scope.scope('attention'), dimensions, `${prefix}.attention`, hidden, shared);
  // HF zeroes invalid frames before the light conv, so they never leak into later frames.
  hidden = scope.op('Mul', [hidden, shared.validRows], { name: 'ZeroInvalidFrames' });
  hidden = await lightConv(context, scope.scope('lconv1d'), dimensions, `${prefix}.lconv1d`, hidden);
  hidden = await feedForward(context, scope.scope('ffw_layer_end'), dimensions, `${prefix}.ffw_layer_end`, hidden);
  const normWeight = await context.tensor(scope, 'norm/weight', `${prefix}.norm.weight`, [dimensions.hiddenSize]);
  return rmsNorm(scope, 'norm', hidden, normWeight, FIXED_NORM_EPSILON);
}
