export { forEachProtobufField, forEachProtobufMessage, type ProtobufField } from './onnx-protobuf-fields';
export { protobufBytesField, protobufIntegerField, protobufTextField } from './onnx-protobuf-writer';
export {
  externalDataLocations,
  externalDataReferences,
  externalDataRequirements,
  type ExternalDataReference,
} from './onnx-external-data';
