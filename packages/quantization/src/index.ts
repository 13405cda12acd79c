/**
 * @gemma3n/quantization (browser-safe entry): pure typed-array quantize / dequantize functions
 * in the layouts of onnxruntime's MatMulNBits, GatherBlockQuantized and DynamicQuantizeMatMul,
 * and float16 conversion. The passes over ONNX files are in `@gemma3n/quantization/node`.
 */
export * from './blockwise-4bit';
export * from './int8';
export * from './float16';
export * from './quantization-dtypes';
export * from './evaluation/next-token-metrics';
export * from './evaluation/seeded-prompts';
export * from './weight-encoding/quantizing-weight-encoding';
