export { forEachProtobufField, forEachProtobufMessage, type ProtobufField } from './onnx-protobuf-fields';
export { protobufBytesField, protobufIntegerField, protobufTextField } from './onnx-protobuf-writer';
export {
  externalDataFileName,
  externalDataLocations,
  externalDataReferences,
  externalDataRequirements,
  type ExternalDataReference,
} from './onnx-external-data';
