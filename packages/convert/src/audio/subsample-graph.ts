import type { GraphScope } from '../onnx/onnx-graph-builder';
import { type AudioGraphContext, dimensionOf } from './audio-graph-context';
import { AUDIO_TOWER_PREFIX, type AudioGraphDimensions } from './audio-tower-tensors';

/*
 * The subsampling front end (§4.2 SSCP) in NCHW: [B, C, T, F] with time as H and frequency as W,
 * HF's Conv2d layout.
 */

/**
 * CumulativeGroupNorm as HF computes it, on `[B, C, T, F]`: per-frame sums over (C, F), CumSum
 * over time; the squared deviations of each frame are taken from that frame's own running
 * mean before their CumSum. Counts are CumSum of ones times C·F, exact in fp32 up to 2²⁴
 * (the release peaks at 1500 · 8192 ≈ 1.2·10⁷).
 */
function cumulativeGroupNorm(scope: GraphScope, x: string, weight: string, channelsTimesFrequencies: number, epsilon: number): string {
  const axes = scope.int64([1, 3]);
  const timeAxis = scope.int64([2], []);
  const perFrameSum = scope.op('ReduceSum', [x, axes], { name: 'FrameSum', attributes: { keepdims: 1 } });
  const ones = scope.op('ConstantOfShape', [scope.op('Shape', [perFrameSum], { name: 'FrameShape' })], {
    name: 'Ones',
    attributes: { value: { tensor: { dataType: 1, dims: [1], floatData: [1] } } },
  });
  const frameCounts = scope.op('CumSum', [ones, timeAxis], { name: 'FrameCount' });
  const counts = scope.op('Mul', [frameCounts, scope.float32(channelsTimesFrequencies)], { name: 'Count' });
  const mean = scope.op('Div', [scope.op('CumSum', [perFrameSum, timeAxis], { name: 'CumulativeSum' }), counts], { name: 'Mean' });
  const centered = scope.op('Sub', [x, mean], { name: 'Center' });
  const squared = scope.op('Mul', [centered, centered], { name: 'Square' });
  const perFrameSquares = scope.op('ReduceSum', [squared, axes], { name: 'FrameSquares', attributes: { keepdims: 1 } });
  const variance = scope.op('Div', [scope.op('CumSum', [perFrameSquares, timeAxis], { name: 'CumulativeSquares' }), counts], { name: 'Variance' });
  const root = scope.op('Sqrt', [scope.op('Add', [variance, scope.float32(epsilon)], { name: 'AddEpsilon' })], { name: 'Sqrt' });
  return scope.op('Mul', [scope.op('Div', [centered, root], { name: 'Normalize' }), weight], { name: 'Scale' });
}

/**
 * `input_features` `[B, T, F]` → `[B, T₂, hidden]`: two (Conv2d → cumulative group norm → ReLU)
 * blocks and input_proj_linear on the `[B, T₂, F₂·C₂]` flatten (index f·C + c).
 */
export async function buildSubsampleConvProjection(context: AudioGraphContext, dimensions: AudioGraphDimensions, features: string): Promise<string> {
  const root = context.graph.scope('/audio_tower/subsample_conv_projection');
  let x = root.op('Unsqueeze', [features, root.int64([1])], { name: 'AddChannelAxis' });
  let inChannels = 1;
  for (let index = 0; index < 2; index++) {
    const block = root.scope(`conv_${index}`);
    const prefix = `${AUDIO_TOWER_PREFIX}subsample_conv_projection.conv_${index}.`;
    const channels = dimensions.convChannels[index]!;
    const [kernelTime, kernelFrequency] = dimensions.convKernels[index]!;
    const convWeight = await context.tensor(block, 'conv/weight', `${prefix}conv.weight`, [channels, inChannels, kernelTime, kernelFrequency]);
    // HF pads time (0 before, k − 1 after) and frequency (1, 1): ONNX pads [t0, f0, t1, f1].
    const convolved = block.op('Conv', [x, convWeight], {
      name: 'conv/Conv',
      attributes: { kernel_shape: [kernelTime, kernelFrequency], strides: [...dimensions.convStrides[index]!], pads: [0, 1, kernelTime - 1, 1] },
    });
    const normWeight = await context.tensor(block, 'norm/weight', `${prefix}norm.weight`, [channels], [1, channels, 1, 1]);
    const normed = cumulativeGroupNorm(block.scope('norm'), convolved, normWeight, channels * dimensions.convOutputFrequencies[index]!, dimensions.groupNormEpsilon);
    x = block.op('Relu', [normed]);
    inChannels = channels;
  }
  const timeMajor = root.op('Transpose', [x], { name: 'ToTimeFrequencyChannel', attributes: { perm: [0, 2, 3, 1] } });
  const flattened = root.op('Reshape', [timeMajor, root.int64([0, 0, dimensions.projectionInputSize])], { name: 'Flatten' });
  return context.linear(
    root,
    'input_proj_linear',
    flattened,
    `${AUDIO_TOWER_PREFIX}subsample_conv_projection.input_proj_linear.weight`,
    dimensions.projectionInputSize,
    dimensions.hiddenSize,
  );
}

/**
 * The mask of the subsampled frames, `[B, T₂]` bool: frame t is valid iff input frame
 * t·Π(time strides) is (HF gathers those indices, clamped to the last frame).
 */
export function subsampledMask(scope: GraphScope, dimensions: AudioGraphDimensions, mask: string, hidden: string): string {
  const strideProduct = dimensions.convStrides[0][0] * dimensions.convStrides[1][0];
  const frames = dimensionOf(scope, 'SubsampledFrames', hidden, 1);
  const inputFrames = dimensionOf(scope, 'InputFrames', mask, 1);
  const positions = scope.op('Range', [scope.int64([0], []), frames, scope.int64([1], [])], { name: 'Positions' });
  const strided = scope.op('Mul', [positions, scope.int64([strideProduct], [])], { name: 'Strided' });
  const lastFrame = scope.op('Sub', [inputFrames, scope.int64([1], [])], { name: 'LastFrame' });
  const indices = scope.op('Min', [strided, lastFrame], { name: 'Clamp' });
  return scope.op('Gather', [mask, indices], { name: 'Gather', attributes: { axis: 1 } });
}
