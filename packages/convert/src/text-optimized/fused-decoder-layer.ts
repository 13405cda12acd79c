import type { Gemma3nTextConfig } from '@gemma3n/core';
import { buildDecoderLayerWith, type DecoderLayerStreams } from '../text/decoder-layer';
import type { TextGraphContext } from '../text/text-graph-context';
import type { LayerWeightNames } from '../text/text-weight-names';
import { buildFusedAttention, type AttentionBlockInputs, type ProducedKeyValues } from './fused-attention-block';
import { simplifiedNorm, skipSimplifiedNorm } from './fused-norms';

export interface FusedDecoderLayerInputs extends DecoderLayerStreams {
  attention: Omit<AttentionBlockInputs, 'x'>;
}

/**
 * One decoder layer (§1.5), the compat layer (`text/decoder-layer.ts`, the same AltUp, Laurel,
 * MLP and per-layer-input wiring) with fused ops: every RMSNorm is a
 * SimplifiedLayerNormalization; the MLP residual `z = y + post_ffw(mlp)` and the AltUp-correct
 * router norm of z are one SkipSimplifiedLayerNormalization; attention is GroupQueryAttention
 * (fused-attention-block.ts). The MLP (gaussian top-k, Gelu-20 tanh) is the compat block unchanged.
 */
export async function buildFusedDecoderLayer(
  context: TextGraphContext,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  inputs: FusedDecoderLayerInputs,
): Promise<{ streams: string; produced: ProducedKeyValues | null }> {
  const { streams, keyValues } = await buildDecoderLayerWith(context, text, names, inputs, {
    norm: simplifiedNorm,
    attention: async (layer, normed) => {
      const { output, produced } = await buildFusedAttention(context, layer, text, names, { ...inputs.attention, x: normed });
      return { output, keyValues: produced };
    },
    // z = y + mlp, and the correct step's router norm of z, in one node.
    mlpResidual: (layer, residual, mlpNormed, routerNormWeight) => {
      const { normed, sum } = skipSimplifiedNorm(layer, 'altup/correct/router/SkipSimplifiedLayerNormalization', residual, mlpNormed, routerNormWeight, text.rmsNormEps);
      return { sum, routerNormed: normed };
    },
  });
  return { streams, produced: keyValues };
}
