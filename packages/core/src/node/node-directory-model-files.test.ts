import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../errors/input-error';
import { ModelFileError } from '../errors/model-file-error';
import { conformanceFolder, describeModelFilesContract } from '../model-files/model-files-conformance';
import { NodeDirectoryModelFiles } from './node-directory-model-files';

async function modelFileErrorOf(promise: Promise<unknown>): Promise<ModelFileError> {
  try {
    await promise;
  } catch (error) {
    if (ModelFileError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a ModelFileError, but the promise resolved');
}

describe('NodeDirectoryModelFiles', () => {
  let directory: string;
  let files: NodeDirectoryModelFiles;
  const weights = Uint8Array.from({ length: 1000 }, (_, index) => (index * 7) % 256);

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'gemma3n-core-'));
    await mkdir(join(directory, 'onnx'));
    await writeFile(join(directory, 'config.json'), '{"model_type":"gemma3n","text_config":{"head_dim":256}}');
    await writeFile(join(directory, 'broken.json'), '{"model_type": ');
    await writeFile(join(directory, 'onnx', 'model.onnx_data'), weights);
    await writeFile(join(directory, 'chat_template.jinja'), '{{ bos_token }}…');
    files = new NodeDirectoryModelFiles(directory);
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  describe('contract', () => {
    let contractDirectory: string;
    beforeAll(async () => {
      contractDirectory = await mkdtemp(join(tmpdir(), 'gemma3n-core-contract-'));
      for (const [path, content] of Object.entries(conformanceFolder)) {
        await mkdir(join(contractDirectory, path, '..'), { recursive: true });
        await writeFile(join(contractDirectory, path), content);
      }
    });
    afterAll(async () => {
      await rm(contractDirectory, { recursive: true, force: true });
    });
    describeModelFilesContract(() => new NodeDirectoryModelFiles(contractDirectory));
  });

  it('answers exists and size', async () => {
    expect(files.location).toBe(directory);
    expect(await files.exists('config.json')).toBe(true);
    expect(await files.exists('onnx/model.onnx_data')).toBe(true);
    expect(await files.exists('onnx/missing.onnx')).toBe(false);
    // A directory is not a model file.
    expect(await files.exists('onnx')).toBe(false);
    expect(await files.size('onnx/model.onnx_data')).toBe(1000);
  });

  it('reads whole files, ranges, text and JSON', async () => {
    expect(await files.readBytes('onnx/model.onnx_data')).toEqual(weights);
    expect(await files.readBytes('onnx/model.onnx_data', { offset: 990, length: 10 })).toEqual(weights.slice(990, 1000));
    expect(await files.readBytes('onnx/model.onnx_data', { offset: 3, length: 0 })).toEqual(new Uint8Array(0));
    expect(await files.readText('chat_template.jinja')).toBe('{{ bos_token }}…');
    expect(await files.readJson('config.json')).toEqual({ model_type: 'gemma3n', text_config: { head_dim: 256 } });
  });

  it('reports a ranged read past the end with expected and actual bytes', async () => {
    const error = await modelFileErrorOf(files.readBytes('onnx/model.onnx_data', { offset: 995, length: 10 }));
    expect(error.problem).toBe('short');
    expect(error.expectedBytes).toBe(10);
    expect(error.actualBytes).toBe(5);
    expect(error.message).toContain('reading 10 bytes at offset 995 returned 5 (the file is 1000 bytes)');
  });

  it('names the file and the folder when a file is missing', async () => {
    const error = await modelFileErrorOf(files.readBytes('onnx/decoder_model_merged_q4.onnx'));
    expect(error.problem).toBe('missing');
    expect(error.path).toBe('onnx/decoder_model_merged_q4.onnx');
    expect(error.location).toBe(directory);
    expect(error.message).toBe(`Model file "onnx/decoder_model_merged_q4.onnx" in ${directory} does not exist`);
    expect((await modelFileErrorOf(files.size('nope.json'))).problem).toBe('missing');
  });

  it('names the file and the parse error for invalid JSON', async () => {
    const error = await modelFileErrorOf(files.readJson('broken.json'));
    expect(error.problem).toBe('invalid-json');
    expect(error.message).toMatch(/^Model file "broken\.json" in .* is not valid JSON: .+/);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('refuses paths that leave the folder', async () => {
    await expect(files.readBytes('../secret')).rejects.toThrow(InputError);
    await expect(files.exists('/etc/passwd')).rejects.toThrow(InputError);
    await expect(files.readBytes('config.json', { offset: -1, length: 2 })).rejects.toThrow(/range\.offset is -1/);
  });

  it('gives backends a local path', () => {
    expect(files.localPath('onnx/model.onnx_data')).toBe(join(directory, 'onnx', 'model.onnx_data'));
  });
});
