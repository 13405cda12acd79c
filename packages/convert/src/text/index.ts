export { writeTextGraphs, EMBED_TOKENS_FILE, DECODER_FILE, type WriteTextGraphsOptions, type TextGraphProgress } from './write-text-graphs';
export { buildEmbedTokensGraph } from './embed-tokens-graph';
export { buildDecoderGraph, validateTextConfig } from './decoder-graph';
export { inverseNormalCdf, normalCdf } from './inverse-normal-cdf';
export { supportsRowReads, type RowRangeReader } from './row-range-source';
