// Node-only entry point (`@gemma3n/core/node`): everything here may import node: modules, so
// it is kept out of the browser-safe `src/index.ts`.
export { NodeDirectoryModelFiles } from './node/node-directory-model-files';
