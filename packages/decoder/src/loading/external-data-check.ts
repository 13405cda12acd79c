import { externalDataRequirements, type ModelFiles, ModelFileError } from '@gemma3n/core';

// The protobuf walk that reads the sizes lives in core (backend-wasm reads the same references);
// re-exported so this package's `externalDataRequirements` keeps working.
export { externalDataRequirements };

/**
 * Checks that every external data file `modelPath` needs exists and is long enough, before
 * onnxruntime opens it: the q8 `embed_tokens` of the published E2B folder reads a
 * 2,013,265,920-byte table from its `.onnx_data`, and a short download makes onnxruntime fail
 * with "Deserialize tensor … out of bounds", which users cannot act on. Throws a
 * ModelFileError naming the file otherwise (`missing`, or `short` with "expected N bytes, got M"). Returns the
 * files as the model names them (relative to its folder) and as paths in `files`.
 */
export async function checkExternalData(
  files: ModelFiles,
  modelPath: string,
  model: Uint8Array,
): Promise<{ location: string; path: string }[]> {
  const checked: { location: string; path: string }[] = [];
  const folder = modelPath.includes('/') ? modelPath.slice(0, modelPath.lastIndexOf('/') + 1) : '';
  for (const [location, requiredBytes] of externalDataRequirements(model)) {
    const path = `${folder}${location}`;
    if (!(await files.exists(path))) {
      throw new ModelFileError({
        path,
        location: files.location,
        problem: 'missing',
        message: `Model file "${path}" does not exist in ${files.location}; ${modelPath} keeps its weights there`,
      });
    }
    const actualBytes = await files.size(path);
    if (actualBytes < requiredBytes) {
      throw new ModelFileError({ path, location: files.location, problem: 'short', expectedBytes: requiredBytes, actualBytes });
    }
    checked.push({ location, path });
  }
  return checked;
}
