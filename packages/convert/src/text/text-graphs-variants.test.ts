import { describe, it } from 'vitest';
import { checkPrefillAndCachedDecoding, TEXT_CONFIG_VARIANTS, tinyVariant, variantPrompt } from './text-graph-test-harness';

/**
 * Config corners the named tiny shapes do not reach (TEXT_CONFIG_VARIANTS): each is prefilled
 * past the window and checked against the reference, then decoded with the cache.
 */
describe.each(TEXT_CONFIG_VARIANTS)('text graphs, %s', (_, edit) => {
  it('prefill equals the reference and cached decoding equals the prefill', async () => {
    const { config, weights } = tinyVariant('tiny-window-4', edit);
    await checkPrefillAndCachedDecoding({ config, weights, reference: weights, options: {}, prompt: variantPrompt(config) });
  });
});
