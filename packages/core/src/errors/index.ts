export { Gemma3nError, describeValue, type Gemma3nErrorCode, type Gemma3nErrorParams } from './gemma3n-error';
export { ModelFileError, type ModelFileErrorParams, type ModelFileProblem } from './model-file-error';
export { ConfigError, type ConfigErrorParams } from './config-error';
export { TokenizerError, type TokenizerErrorParams } from './tokenizer-error';
export { BackendError, type BackendErrorParams, type BackendFailure } from './backend-error';
export { InputError, type InputErrorParams } from './input-error';
export { UnsupportedError, type UnsupportedErrorParams } from './unsupported-error';
