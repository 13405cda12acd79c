// Types of the `#onnxruntime-web` subpath import (package.json "imports"). onnxruntime-web's own
// types.d.ts declares ambient modules, which TypeScript cannot use as the target of an imports
// entry, so this file re-exports what they re-export: onnxruntime-common's API.
export * from 'onnxruntime-common';
