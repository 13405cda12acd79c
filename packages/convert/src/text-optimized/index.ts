export { writeOptimizedTextGraphs, type WriteOptimizedTextGraphsOptions } from './write-optimized-text-graphs';
export { buildFusedDecoderGraph, type FusedDecoderOptions, type LmHeadLayout } from './fused-decoder-graph';
export { buildFusedEmbedTokensGraph } from './fused-embed-tokens-graph';
export { hardTokenTable, type HardTokenWeights } from './hard-token-tables';
export type { ConsumerAttention } from './fused-attention-block';
