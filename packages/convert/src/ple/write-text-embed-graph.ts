import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ExternalDataWriter } from '../onnx/external-data-writer';
import { onnx, type OnnxTypes } from '../onnx/onnx-proto';
import { OnnxInitializerReader } from './onnx-initializer-reader';

/** Bytes per chunk when copying an initializer into the new external data file. */
const COPY_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * Writes `targetPath` (`embed_tokens_text{suffix}.onnx`): the embed graph of `reader` with the
 * `per_layer_inputs` output and everything only it needs removed — the per-layer table above
 * all — so a session of it holds the token table (and hard-token embedders) but not the 2 GB
 * per-layer table. Same nodes, initializers and bytes otherwise, so `inputs_embeds` is
 * unchanged. Kept external initializers are copied into the target's own `_data` file(s), so
 * the file stands alone (a browser fetches only what it needs). Temporary names + rename.
 */
export async function writeTextEmbedGraph(
  reader: OnnxInitializerReader,
  targetPath: string,
  options: { maxExternalDataFileBytes?: number } = {},
): Promise<{ files: string[]; removedInitializerBytes: number; keptInitializerBytes: number }> {
  const graph = reader.graph;
  const outputs = (graph.output ?? []).filter((output) => output.name !== 'per_layer_inputs');
  if (outputs.length === (graph.output ?? []).length) throw new Error(`${reader.path} has no per_layer_inputs output to remove`);

  // Backward reachability from the kept outputs.
  const producers = new Map<string, OnnxTypes.INodeProto>();
  for (const node of graph.node ?? []) for (const output of node.output ?? []) producers.set(output, node);
  const keptNodes = new Set<OnnxTypes.INodeProto>();
  const neededValues = new Set<string>();
  const pending = outputs.map((output) => output.name ?? '');
  while (pending.length > 0) {
    const value = pending.pop()!;
    if (neededValues.has(value)) continue;
    neededValues.add(value);
    const node = producers.get(value);
    if (node === undefined || keptNodes.has(node)) continue;
    keptNodes.add(node);
    pending.push(...(node.input ?? []).filter((input) => input !== ''));
  }

  const directory = dirname(targetPath);
  const fileName = basename(targetPath);
  const externalData = new ExternalDataWriter({ directory, modelFileName: fileName, maxFileBytes: options.maxExternalDataFileBytes });
  const temporaryPath = join(directory, `${fileName}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  let removedInitializerBytes = 0;
  let keptInitializerBytes = 0;
  try {
    const initializers: OnnxTypes.ITensorProto[] = [];
    for (const tensor of graph.initializer ?? []) {
      const bytes = OnnxInitializerReader.byteLength(tensor);
      if (!neededValues.has(tensor.name ?? '')) {
        removedInitializerBytes += bytes;
        continue;
      }
      keptInitializerBytes += bytes;
      if (!reader.isExternal(tensor)) {
        initializers.push(tensor);
        continue;
      }
      const location = await externalData.write(tensor.name ?? '', bytes, chunksOf(reader, tensor, bytes));
      // A copy of the tensor's description (name, type, dims) pointing at the new data file.
      const copy = onnx.TensorProto.decode(onnx.TensorProto.encode(tensor).finish());
      copy.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      copy.externalData = [
        onnx.StringStringEntryProto.create({ key: 'location', value: location.location }),
        onnx.StringStringEntryProto.create({ key: 'offset', value: String(location.offset) }),
        onnx.StringStringEntryProto.create({ key: 'length', value: String(location.length) }),
      ];
      initializers.push(copy);
    }
    const prunedGraph: OnnxTypes.IGraphProto = {
      ...graph,
      node: (graph.node ?? []).filter((node) => keptNodes.has(node)),
      initializer: initializers,
      output: outputs,
      valueInfo: (graph.valueInfo ?? []).filter((info) => neededValues.has(info.name ?? '')),
    };
    const model = onnx.ModelProto.create({ ...reader.model, graph: prunedGraph });
    await writeFile(temporaryPath, onnx.ModelProto.encode(model).finish());
    const dataFiles = await externalData.commit();
    await rename(temporaryPath, targetPath);
    return { files: [fileName, ...dataFiles], removedInitializerBytes, keptInitializerBytes };
  } catch (error) {
    await rm(temporaryPath, { force: true });
    await externalData.abort();
    throw error;
  }
}

async function* chunksOf(reader: OnnxInitializerReader, tensor: OnnxTypes.ITensorProto, total: number): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < total; start += COPY_CHUNK_BYTES) yield reader.readRange(tensor, start, Math.min(COPY_CHUNK_BYTES, total - start));
}
