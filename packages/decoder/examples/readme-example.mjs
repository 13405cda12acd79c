import {
  DecoderRuntime,
  generateTokens,
  selectCandidates,
  createTokenSampler,
  resolveSamplingOptions,
} from '@gemma3n/decoder';
import { InputError } from '@gemma3n/core';
import { createFakeTextModel, FakeTokenizer } from '@gemma3n/decoder/testing';

// 1. Sampling is plain typed-array functions.
const logits = Float32Array.from([0.5, 0.3, 0.15, 0.05].map(Math.log));
console.log(Array.from(selectCandidates(logits, { topK: 0, topP: 0.75, minP: 0 }).ids));
// [ 0, 1 ]
const sampler = createTokenSampler({ ...resolveSamplingOptions({ temperature: 1, seed: 42 }), firstMaskedId: 4 });
console.log([1, 2, 3, 4, 5, 6].map(() => sampler.sample(logits, [])));
// [ 1, 0, 0, 2, 0, 0 ]

// 2. The runtime drives any pair of sessions with the embed_tokens / decoder_model_merged
//    contract; here the shipped fakes, which check every feed like a real graph would.
const vocabulary = ['<pad>', '<eos>', '<bos>', ...'abcdefghijklmnopqrstuvwxyz'.split(''), '<img>', '<aud>'];
const tokenizer = new FakeTokenizer(vocabulary, new Set([0, 1, 2]));
const runtime = new DecoderRuntime(createFakeTextModel({ vocabSize: vocabulary.length, firstMaskedId: 29, contextLength: 64 }));
const result = await generateTokens({
  model: runtime,
  cache: runtime.createCache(),
  promptIds: tokenizer.encode('<bos>hello'),
  decoder: tokenizer,
  options: { temperature: 0, maxNewTokens: 8 },
});
console.log(result.text, result.tokenIds.join(' '), result.finishReason);
// twqnnncp 22 25 19 16 16 16 5 18 length

try {
  await generateTokens({ model: runtime, cache: runtime.createCache(), promptIds: [2, 3], decoder: tokenizer, options: { topP: 1.5 } });
} catch (error) {
  if (InputError.isInstance(error)) console.log(error.message);
}
// topP is 1.5; expected a number in (0, 1]
