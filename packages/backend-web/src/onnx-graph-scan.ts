import { forEachProtobufField } from '@gemma3n/core';

/** Where a model first showed that it computes in float16. */
export interface Float16Evidence {
  kind: 'initializer' | 'input' | 'output' | 'value' | 'cast';
  /** The initializer, value or node name. */
  name: string;
}

export interface OnnxGraphScan {
  outputNames: string[];
  /** The first float16 initializer, graph value or Cast-to-float16 node; undefined for a float32 graph. */
  float16: Float16Evidence | undefined;
}

const float16Type = 10; // TensorProto.DataType.FLOAT16

/**
 * Reads a model's graph output names and whether it uses float16, before a session exists:
 * the output names decide which outputs stay on the GPU (a session option), and a float16
 * graph cannot run on an adapter without `shader-f16` (onnxruntime's native WebGPU EP fails
 * with "requires f16 but the device does not support it"; JSEP silently returns zeros).
 *
 * ModelProto.graph (7) → GraphProto node (1), initializer (5), input (11), output (12),
 * value_info (13); initializer bytes are skipped without being decoded.
 */
export function scanOnnxGraph(model: Uint8Array): OnnxGraphScan {
  const decoder = new TextDecoder();
  const outputNames: string[] = [];
  let float16: Float16Evidence | undefined;
  const note = (evidence: Float16Evidence) => {
    float16 ??= evidence;
  };
  forEachProtobufField(model, (modelField) => {
    if (modelField.field !== 7 || modelField.wireType !== 2) return;
    forEachProtobufField(modelField.bytes, (graphField) => {
      if (graphField.wireType !== 2) return;
      switch (graphField.field) {
        case 1: {
          const cast = readCastNode(graphField.bytes, decoder);
          if (cast !== undefined && cast.to === float16Type) note({ kind: 'cast', name: cast.name });
          break;
        }
        case 5: {
          const tensor = readTensorHeader(graphField.bytes, decoder);
          if (tensor.dataType === float16Type) note({ kind: 'initializer', name: tensor.name });
          break;
        }
        case 11:
        case 12:
        case 13: {
          const value = readValueInfo(graphField.bytes, decoder);
          if (graphField.field === 12) outputNames.push(value.name);
          if (value.elementType === float16Type) {
            note({ kind: graphField.field === 11 ? 'input' : graphField.field === 12 ? 'output' : 'value', name: value.name });
          }
          break;
        }
      }
    });
  });
  return { outputNames, float16 };
}

/** TensorProto name (8) and data_type (2). */
function readTensorHeader(tensor: Uint8Array, decoder: TextDecoder): { name: string; dataType: number } {
  let name = '';
  let dataType = 0;
  forEachProtobufField(tensor, (field) => {
    if (field.field === 8 && field.wireType === 2) name = decoder.decode(field.bytes);
    else if (field.field === 2 && field.wireType === 0) dataType = field.value;
  });
  return { name, dataType };
}

/** ValueInfoProto name (1) and type (2) → TypeProto.tensor_type (1) → elem_type (1). */
function readValueInfo(value: Uint8Array, decoder: TextDecoder): { name: string; elementType: number } {
  let name = '';
  let elementType = 0;
  forEachProtobufField(value, (field) => {
    if (field.wireType !== 2) return;
    if (field.field === 1) name = decoder.decode(field.bytes);
    else if (field.field === 2) {
      forEachProtobufField(field.bytes, (typeField) => {
        if (typeField.field !== 1 || typeField.wireType !== 2) return;
        forEachProtobufField(typeField.bytes, (tensorType) => {
          if (tensorType.field === 1 && tensorType.wireType === 0) elementType = tensorType.value;
        });
      });
    }
  });
  return { name, elementType };
}

/** For a NodeProto with op_type (4) `Cast`: its name (3) and attribute (5) `to` (name 1, i 3). */
function readCastNode(node: Uint8Array, decoder: TextDecoder): { name: string; to: number } | undefined {
  let opType = '';
  let name = '';
  let to = -1;
  forEachProtobufField(node, (field) => {
    if (field.wireType !== 2) return;
    if (field.field === 4) opType = decoder.decode(field.bytes);
    else if (field.field === 3) name = decoder.decode(field.bytes);
    else if (field.field === 5) {
      let attributeName = '';
      let integer = -1;
      forEachProtobufField(field.bytes, (attribute) => {
        if (attribute.field === 1 && attribute.wireType === 2) attributeName = decoder.decode(attribute.bytes);
        else if (attribute.field === 3 && attribute.wireType === 0) integer = attribute.value;
      });
      if (attributeName === 'to') to = integer;
    }
  });
  return opType === 'Cast' ? { name, to } : undefined;
}
