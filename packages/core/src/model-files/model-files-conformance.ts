// Test support only (imports vitest; never exported from the package): the ModelFiles contract,
// run against every implementation so they cannot drift apart.
import { expect, it } from 'vitest';
import { InputError } from '../errors/input-error';
import { ModelFileError } from '../errors/model-file-error';
import type { ModelFiles } from './model-files';

/** The folder every implementation under test must serve. */
export const conformanceFolder = {
  'config.json': '{"model_type":"gemma3n","text_config":{"head_dim":256}}',
  'broken.json': '{"model_type": ',
  'chat_template.jinja': '{{ bos_token }}<start_of_turn>…',
  'onnx/model.onnx_data': Uint8Array.from({ length: 1000 }, (_, index) => (index * 7) % 256),
} satisfies Record<string, string | Uint8Array>;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Registers the contract's tests; `files()` returns an implementation serving `conformanceFolder`. */
export function describeModelFilesContract(files: () => ModelFiles): void {
  const weights = conformanceFolder['onnx/model.onnx_data'];

  it('contract: exists and size', async () => {
    expect(await files().exists('config.json')).toBe(true);
    expect(await files().exists('onnx/model.onnx_data')).toBe(true);
    expect(await files().exists('onnx/absent.onnx')).toBe(false);
    expect(await files().size('onnx/model.onnx_data')).toBe(1000);
  });

  it('contract: whole files, ranges, text and JSON', async () => {
    expect(await files().readBytes('onnx/model.onnx_data')).toEqual(weights);
    expect(await files().readBytes('onnx/model.onnx_data', { offset: 10, length: 5 })).toEqual(weights.slice(10, 15));
    expect(await files().readBytes('onnx/model.onnx_data', { offset: 999, length: 1 })).toEqual(weights.slice(999));
    expect(await files().readBytes('onnx/model.onnx_data', { offset: 4, length: 0 })).toEqual(new Uint8Array(0));
    expect(await files().readText('chat_template.jinja')).toBe('{{ bos_token }}<start_of_turn>…');
    expect(await files().readJson('config.json')).toEqual({ model_type: 'gemma3n', text_config: { head_dim: 256 } });
  });

  it('contract: a short ranged read is a ModelFileError with expected and actual bytes', async () => {
    const error = await rejection(files().readBytes('onnx/model.onnx_data', { offset: 996, length: 10 }));
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ problem: 'short', path: 'onnx/model.onnx_data', expectedBytes: 10, actualBytes: 4 });
  });

  it('contract: a missing file is a ModelFileError naming the file and the folder', async () => {
    for (const read of [
      (source: ModelFiles) => source.readBytes('tokenizer.json'),
      (source: ModelFiles) => source.size('tokenizer.json'),
      (source: ModelFiles) => source.readJson('tokenizer.json'),
    ]) {
      const source = files();
      const error = await rejection(read(source));
      expect(ModelFileError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ problem: 'missing', path: 'tokenizer.json', location: source.location });
      expect((error as Error).message).toContain(source.location);
    }
  });

  it('contract: invalid JSON is a ModelFileError naming the file and the parse error', async () => {
    const error = await rejection(files().readJson('broken.json'));
    expect(error).toMatchObject({ problem: 'invalid-json', path: 'broken.json' });
    expect((error as Error).message).toMatch(/"broken\.json" .* is not valid JSON: \S/);
  });

  it('contract: paths leaving the folder and bad ranges are InputErrors', async () => {
    expect(InputError.isInstance(await rejection(files().readBytes('../outside.json')))).toBe(true);
    expect(InputError.isInstance(await rejection(files().readBytes('/etc/hosts')))).toBe(true);
    expect(InputError.isInstance(await rejection(files().readBytes('config.json', { offset: 0, length: -1 })))).toBe(true);
  });
}
