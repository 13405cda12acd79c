import { describe, expect, it, vi } from 'vitest';
import {
  BackendError,
  ConfigError,
  describeValue,
  Gemma3nError,
  InputError,
  ModelFileError,
  TokenizerError,
  UnsupportedError,
} from './index';

describe('error classes', () => {
  it('carry a code, a name and typed fields', () => {
    const error = new ModelFileError({
      path: 'onnx/embed_tokens_quantized.onnx_data',
      location: '/models/gemma-3n-E2B-it-ONNX',
      problem: 'short',
      expectedBytes: 2_013_265_920,
      actualBytes: 1_000_000,
    });
    expect(error.code).toBe('model-file');
    expect(error.name).toBe('ModelFileError');
    expect(error.expectedBytes).toBe(2_013_265_920);
    expect(error.actualBytes).toBe(1_000_000);
    expect(error.message).toBe(
      'Model file "onnx/embed_tokens_quantized.onnx_data" in /models/gemma-3n-E2B-it-ONNX is shorter ' +
        'than expected (expected 2013265920 bytes, got 1000000); the download is probably incomplete',
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(Gemma3nError);
  });

  it('build messages that name the field, the value and what was expected', () => {
    const config = new ConfigError({
      source: 'config.json',
      field: 'text_config.intermediate_size[3]',
      value: -1,
      expected: 'a positive integer',
    });
    expect(config.message).toBe('config.json: text_config.intermediate_size[3] is -1; expected a positive integer');
    const input = new InputError({ field: 'sampling.topP', value: 1.5, expected: 'a number in (0, 1]' });
    expect(input.message).toBe('sampling.topP is 1.5; expected a number in (0, 1]');
    const unsupported = new UnsupportedError({ feature: 'dtype', value: 'q3', supported: ['fp32', 'q4'] });
    expect(unsupported.message).toBe('Unsupported dtype "q3"; supported: fp32, q4');
    const tokenizer = new TokenizerError({ source: 'tokenizer.json', message: 'model.vocab is missing' });
    expect(tokenizer.message).toBe('tokenizer.json: model.vocab is missing');
  });

  it('lists every backend failure in a BackendError', () => {
    const error = new BackendError({
      failures: [
        { backend: 'webgpu', reason: 'navigator.gpu is undefined' },
        { backend: 'wasm', reason: 'fetch of ort-wasm.wasm failed' },
      ],
    });
    expect(error.message).toBe(
      'No usable backend: [webgpu] navigator.gpu is undefined; [wasm] fetch of ort-wasm.wasm failed',
    );
    expect(error.failures.map((failure) => failure.backend)).toEqual(['webgpu', 'wasm']);
  });

  it('keeps the cause', () => {
    const cause = new SyntaxError('Unexpected token');
    const error = new ModelFileError({ path: 'config.json', problem: 'invalid-json', cause });
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('Model file "config.json" is not valid JSON: Unexpected token');
  });

  it('isInstance tells the classes apart', () => {
    const config = new ConfigError({ field: 'x', value: 1, expected: 'y' });
    expect(ConfigError.isInstance(config)).toBe(true);
    expect(Gemma3nError.isInstance(config)).toBe(true);
    expect(ModelFileError.isInstance(config)).toBe(false);
    expect(InputError.isInstance(config)).toBe(false);
    expect(Gemma3nError.isInstance(new Error('plain'))).toBe(false);
    expect(Gemma3nError.isInstance(null)).toBe(false);
    expect(Gemma3nError.isInstance('config')).toBe(false);
  });

  it('isInstance works across two copies of the module, where instanceof does not', async () => {
    vi.resetModules();
    const copy = await import('./index');
    expect(copy.ConfigError).not.toBe(ConfigError);
    const foreign = new copy.ConfigError({ field: 'x', value: 1, expected: 'y' });
    expect(foreign instanceof ConfigError).toBe(false);
    expect(ConfigError.isInstance(foreign)).toBe(true);
    expect(Gemma3nError.isInstance(foreign)).toBe(true);
    expect(BackendError.isInstance(foreign)).toBe(false);
  });
});

describe('describeValue', () => {
  it('quotes strings, abbreviates long values and survives odd inputs', () => {
    expect(describeValue('abc')).toBe('"abc"');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue(10n)).toBe('10n');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe('[object Object]');
    const long = describeValue(new Array(100).fill(1));
    expect(long).toHaveLength(80);
    expect(long.endsWith('…')).toBe(true);
  });
});
