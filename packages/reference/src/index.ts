/**
 * @gemma3n/reference: a plain TypeScript forward pass of the Gemma 3n text decoder
 * (architecture doc §1) and its multimodal hard/soft embedders, used only as the test oracle
 * for the ONNX graphs. Private, not published.
 */
export { type WeightLookup, layerWeightName, readWeight, textPrefix, textWeightName } from './weight-lookup';
export { referenceEmbed, type ReferenceEmbedOutput } from './embedding/reference-embed';
export { type EmbedderModality, isHardTokenOf, referenceEmbedHardToken, referenceEmbedSoftTokens } from './embedding/multimodal-embedder';
export { checkTextConfig, combinePerLayerInputs, initialiseStreams, outputLogits, referenceDecoder, type ReferenceDecoderOptions } from './decoder/reference-decoder';
export { referenceForward } from './reference-forward';
export { decoderLayer, type DecoderLayerResult, type TokenStreams } from './decoder/decoder-layer';
export { type LayerWeights, readLayerWeights } from './decoder/layer-weights';

// Blocks, each a pure function, exported so other packages' tests can reuse one piece.
export { geluTanh, softcap } from './blocks/activations';
export { altupCorrect, altupPredict, altupRouter, projectToMagnitude } from './blocks/altup';
export { isKeyVisible } from './blocks/attention-mask';
export { gaussianTopK } from './blocks/gaussian-top-k';
export { inverseNormalCdf } from './blocks/inverse-normal-cdf';
export { firstKvSharedLayerIndex, isKvSharedLayer, kvSourceLayerIndex } from './blocks/kv-sharing';
export { laurel } from './blocks/laurel';
export { linear, meanOfSquares } from './blocks/linear';
export { mlp } from './blocks/mlp';
export { rmsNorm } from './blocks/rms-norm';
export { applyRope, ropeInverseFrequencies, ropeThetaForLayer, rotateHalf } from './blocks/rotary-embedding';
export { computeKeyValues, type LayerKeyValues, selfAttention } from './blocks/self-attention';
export * from './audio';
export * from './vision';
