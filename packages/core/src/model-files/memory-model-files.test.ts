import { describe, expect, it } from 'vitest';
import { MemoryModelFiles } from './memory-model-files';
import { conformanceFolder, describeModelFilesContract } from './model-files-conformance';

describe('MemoryModelFiles', () => {
  describeModelFilesContract(() => new MemoryModelFiles(conformanceFolder, 'memory:e2b'));

  it('normalises paths and hands out copies', async () => {
    const bytes = Uint8Array.of(1, 2, 3);
    const files = new MemoryModelFiles({ './onnx//a.onnx': bytes });
    expect(await files.exists('onnx/a.onnx')).toBe(true);
    const read = await files.readBytes('onnx/a.onnx');
    read[0] = 9;
    expect(await files.readBytes('onnx/a.onnx')).toEqual(Uint8Array.of(1, 2, 3));
  });
});
