import { describe, expect, it } from 'vitest';
import { featureMap } from './feature-map';
import {
  edgeResidual,
  makeDivisible,
  mobileAttention,
  multiQueryAttention2d,
  multiScaleFusion,
  universalInvertedResidual,
  type BlockWeights,
} from './mobilenet-v5-blocks';

const IDENTITY_3X3 = [0, 0, 0, 0, 1, 0, 0, 0, 0];
const repeatValues = (values: readonly number[], times: number) => Float32Array.from({ length: values.length * times }, (_, index) => values[index % values.length]!);

function weightsOf(entries: Record<string, number[] | Float32Array>): BlockWeights {
  const table = new Map(Object.entries(entries).map(([name, values]) => [name, Float32Array.from(values)]));
  return {
    prefix: 'block.',
    epsilon: 1e-6,
    weights: (name) => {
      const values = table.get(name.replace(/^block\./, ''));
      if (!values) throw new Error(`no weight ${name}`);
      return values;
    },
  };
}

const sign = (value: number) => Math.sign(value);

describe('makeDivisible', () => {
  it('rounds like timm make_divisible(v, 8)', () => {
    expect([makeDivisible(64 * 4), makeDivisible(128 * 6), makeDivisible(640 * 2.5), makeDivisible(12), makeDivisible(3), makeDivisible(1920 * 2)]).toEqual([
      256, 768, 1600, 16, 8, 3840,
    ]);
  });
});

describe('edgeResidual', () => {
  // 1 channel in, 8 expanded (make_divisible(1·4)), every conv_exp filter the identity, so the
  // 8 channels equal x; bn1 over 8 equal channels gives sign(x); GELU; conv_pwl averages them
  // back to gelu(sign x); bn2 over one channel gives sign(x)·w = ±0.5.
  const block = weightsOf({
    'conv_exp.weight': repeatValues(IDENTITY_3X3, 8),
    'bn1.weight': new Float32Array(8).fill(1),
    'conv_pwl.weight': new Float32Array(8).fill(1 / 8),
    'bn2.weight': [0.5],
  });
  const input = featureMap(1, 1, 3, Float32Array.from([2, -3, 0.5]));

  it('adds the residual at stride 1 with in = out: x + 0.5·sign(x)', () => {
    const output = edgeResidual(block, input, { kind: 'edge_residual', kernelSize: 3, stride: 1, expansionRatio: 4, outChannels: 1 });
    expect(Array.from(output.data, (value) => Number(value.toFixed(4)))).toEqual([2.5, -3.5, 1]);
  });

  it('has no residual at stride 2, and SAME-pads 3 columns [1, 1] (reads columns 0 and 2)', () => {
    const output = edgeResidual(block, input, { kind: 'edge_residual', kernelSize: 3, stride: 2, expansionRatio: 4, outChannels: 1 });
    expect([output.height, output.width]).toEqual([1, 2]);
    expect(Array.from(output.data, (value) => Number(value.toFixed(4)))).toEqual([0.5 * sign(2), 0.5 * sign(0.5)]);
  });
});

describe('universalInvertedResidual', () => {
  // dw_start doubles x (no activation), its norm over one channel gives sign(x); pw_exp copies
  // it to 8 channels (norm keeps sign(x)), GELU; pw_proj averages back, its norm gives sign(x);
  // layer scale 0.25; residual: x + 0.25·sign(x).
  const entries = {
    'dw_start.conv.weight': IDENTITY_3X3.map((value) => 2 * value),
    'dw_start.bn.weight': [1],
    'pw_exp.conv.weight': new Float32Array(8).fill(1),
    'pw_exp.bn.weight': new Float32Array(8).fill(1),
    'dw_mid.conv.weight': repeatValues(IDENTITY_3X3, 8),
    'dw_mid.bn.weight': new Float32Array(8).fill(1),
    'pw_proj.conv.weight': new Float32Array(8).fill(1 / 8),
    'pw_proj.bn.weight': [1],
    'layer_scale.gamma': [0.25],
  };
  const input = featureMap(1, 2, 3, Float32Array.from([2, -3, 0.5, -1, 4, -0.25]));
  const spec = { kind: 'universal_inverted_residual', startKernelSize: 3, midKernelSize: 0, stride: 1, expansionRatio: 2, outChannels: 1 } as const;

  it('dw_start → pw_exp → pw_proj → layer scale → residual', () => {
    const output = universalInvertedResidual(weightsOf(entries), input, spec);
    expect(Array.from(output.data, (value) => Number(value.toFixed(4)))).toEqual([2.25, -3.25, 0.75, -1.25, 4.25, -0.5]);
  });

  it('no residual and no layer scale when asked (the MSFA FFN)', () => {
    const output = universalInvertedResidual(weightsOf(entries), input, spec, { layerScale: false, skip: false });
    expect(Array.from(output.data, (value) => Number(value.toFixed(4)))).toEqual([1, -1, 1, -1, 1, -1]);
  });

  it('a stride goes to dw_mid when there is one, else to dw_start', () => {
    // Rows alternate in sign: +, −, +, −, +, −.
    const large = featureMap(1, 6, 6, Float32Array.from({ length: 36 }, (_, index) => (Math.floor(index / 6) % 2 === 0 ? 1 : -1) * (1 + (index % 6))));
    const withMid = universalInvertedResidual(weightsOf(entries), large, { ...spec, midKernelSize: 3, stride: 2 });
    const startOnly = universalInvertedResidual(weightsOf(entries), large, { ...spec, stride: 2 });
    expect([withMid.height, startOnly.height]).toEqual([3, 3]); // one stride-2 conv each, not two
    // A stride-2 identity conv with SAME pads [0, 1] reads rows/columns 1, 3, 5 — all negative
    // rows — so every output is −0.25 (no residual at stride 2). Symmetric padding 1 would read
    // rows 0, 2, 4 and give +0.25.
    for (const output of [withMid, startOnly]) {
      expect(Array.from(output.data, (value) => Number(value.toFixed(4)))).toEqual(new Array(9).fill(-0.25));
    }
  });
});

describe('multiQueryAttention2d', () => {
  // Two channels on a 1×2 map: x0 = (0, 1), x1 = (2, 4). Head 0 queries with x0, head 1 with
  // −x0; the one shared key is x0 and the value x1; kd = 1, so the scale is 1.
  const input = featureMap(2, 1, 2, Float32Array.from([0, 1, 2, 4]));
  const shared = {
    'attn.query.proj.weight': [1, 0, -1, 0],
    'attn.key.proj.weight': [1, 0],
    'attn.value.proj.weight': [0, 1],
    'attn.output.proj.weight': [1, 0, 0, 1],
  };
  const e = Math.E;

  it('softmax(q·k)·v per head; output channel = head·vd + d', () => {
    const output = multiQueryAttention2d(weightsOf(shared), input, { kind: 'multi_query_attention', numHeads: 2, keyDim: 1, valueDim: 1, kvStride: 1, kvKernelSize: 3, outChannels: 2 });
    // Token 0 (q = 0) averages the values: 3. Token 1: head 0 logits (0, 1), head 1 (0, −1).
    const expected = [3, (2 + 4 * e) / (1 + e), 3, (2 * e + 4) / (1 + e)];
    expected.forEach((value, index) => expect(output.data[index]).toBeCloseTo(value, 5));
  });

  it('kv_stride 2: depthwise down_conv (SAME pads [0, 1] on 2 columns, so it reads column 1) → norm → proj', () => {
    const weights = weightsOf({
      ...shared,
      'attn.key.down_conv.weight': repeatValues(IDENTITY_3X3, 2),
      'attn.key.norm.weight': [1, 1],
      'attn.value.down_conv.weight': repeatValues(IDENTITY_3X3, 2),
      'attn.value.norm.weight': [1, 1],
    });
    const output = multiQueryAttention2d(weights, input, { kind: 'multi_query_attention', numHeads: 2, keyDim: 1, valueDim: 1, kvStride: 2, kvKernelSize: 3, outChannels: 2 });
    // One key/value token: pixel (0, 1) = (1, 4), RmsNorm2d → 4 / sqrt(8.5). A symmetric
    // PyTorch padding=1 would read pixel (0, 0) = (0, 2) and give 2 / sqrt(2) instead.
    for (const value of output.data) expect(value).toBeCloseTo(4 / Math.sqrt(8.5 + 1e-6), 5);
  });

  it('MobileAttention: x + γ·attn(norm(x)); γ = 0 returns x exactly', () => {
    const weights = weightsOf({ ...shared, 'norm.weight': [1, 1], 'layer_scale.gamma': [0, 0] });
    const output = mobileAttention(weights, input, { kind: 'multi_query_attention', numHeads: 2, keyDim: 1, valueDim: 1, kvStride: 1, kvKernelSize: 3, outChannels: 2 });
    expect(Array.from(output.data)).toEqual([0, 1, 2, 4]);
  });
});

describe('multiScaleFusion', () => {
  it('upsamples the smaller input (nearest), fuses, average-pools to the output resolution, norms', () => {
    // Input A: 1 channel 2×2; input B: 1 channel 1×1 (upsampled to 2×2). pw_exp copies B into
    // all 8 expanded channels, so the output only depends on B: sign(B)·w after each norm.
    const weights = weightsOf({
      'ffn.pw_exp.conv.weight': repeatValues([0, 1], 8),
      'ffn.pw_exp.bn.weight': new Float32Array(8).fill(1),
      'ffn.pw_proj.conv.weight': new Float32Array(8).fill(1 / 8),
      'ffn.pw_proj.bn.weight': [1],
      'norm.weight': [3],
    });
    const high = featureMap(1, 2, 2, Float32Array.from([5, -6, 7, 8]));
    const low = featureMap(1, 1, 1, Float32Array.from([-2]));
    const output = multiScaleFusion(weights, [high, low], 1, 1);
    expect([output.channels, output.height, output.width]).toEqual([1, 1, 1]);
    expect(output.data[0]).toBeCloseTo(-3, 4);
  });
});
