export {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float16BitsToNumber,
  float32ToBfloat16,
  float32ToBfloat16Bits,
  roundToBfloat16,
} from './float-conversions';
export {
  SAFETENSORS_DTYPE_BYTES,
  READABLE_DTYPES,
  parseSafetensorsHeader,
  type ReadableDtype,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from './safetensors-header';
export { SafetensorsFile } from './safetensors-file';
export { SafetensorsCheckpoint, SINGLE_FILE_NAME, INDEX_FILE_NAME } from './safetensors-checkpoint';
export {
  writeSafetensorsFile,
  writeSafetensorsCheckpoint,
  type WritableDtype,
  type SafetensorsTensorPlan,
  type WriteSafetensorsOptions,
  type WriteCheckpointOptions,
} from './write-safetensors';
