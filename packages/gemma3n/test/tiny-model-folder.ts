// One cached tiny-model helper serves the runtime packages' tests: the decoder's.
export { tinyModelFolder } from '../../decoder/test/tiny-model-folder';
