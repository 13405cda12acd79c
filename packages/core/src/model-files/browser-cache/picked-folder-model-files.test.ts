import { describe, expect, it } from 'vitest';
import { conformanceFolder, describeModelFilesContract } from '../model-files-conformance';
import { FakeOpfsDirectory } from './fake-browser-storage';
import { PickedFolderModelFiles } from './picked-folder-model-files';

function fileInFolder(content: string | Uint8Array, relativePath: string): File {
  const file = new File([typeof content === 'string' ? new TextEncoder().encode(content) : new Uint8Array(content)], relativePath.split('/').pop()!);
  // What <input webkitdirectory> sets: the path from the picked folder, starting with its name.
  Object.defineProperty(file, 'webkitRelativePath', { value: relativePath });
  return file;
}

const pickedFiles = Object.entries(conformanceFolder).map(([path, content]) => fileInFolder(content, `gemma-3n-tiny/${path}`));

describe('PickedFolderModelFiles', () => {
  describe('from <input webkitdirectory> files', () => {
    describeModelFilesContract(() => PickedFolderModelFiles.fromFileList(pickedFiles));
  });

  it('drops the picked folder name from the paths and names it in location', () => {
    const files = PickedFolderModelFiles.fromFileList(pickedFiles);
    expect(files.paths()).toEqual(['broken.json', 'chat_template.jinja', 'config.json', 'onnx/model.onnx_data']);
    expect(files.location).toBe('picked folder "gemma-3n-tiny"');
  });

  it('walks a showDirectoryPicker() handle with sub-folders', async () => {
    const root = new FakeOpfsDirectory('gemma-3n-tiny');
    for (const [path, content] of Object.entries(conformanceFolder)) {
      const segments = path.split('/');
      let folder = root;
      for (const segment of segments.slice(0, -1)) folder = await folder.getDirectoryHandle(segment, { create: true });
      const file = await folder.getFileHandle(segments.at(-1)!, { create: true });
      const writable = await file.createWritable();
      await writable.write(typeof content === 'string' ? new TextEncoder().encode(content) : content);
      await writable.close();
    }
    const files = await PickedFolderModelFiles.fromDirectoryHandle(root);
    expect(files.paths()).toEqual(['broken.json', 'chat_template.jinja', 'config.json', 'onnx/model.onnx_data']);
    expect(await files.readBytes('onnx/model.onnx_data', { offset: 3, length: 4 })).toEqual(conformanceFolder['onnx/model.onnx_data'].slice(3, 7));
  });

  it('refuses an empty pick', () => {
    expect(() => PickedFolderModelFiles.fromFileList([])).toThrow(/the files of a model folder/);
  });
});
