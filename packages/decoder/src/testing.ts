/**
 * Test doubles that ship with the package (`@gemma3n/decoder/testing`): fake embed/decoder
 * sessions that check what they are fed, and a byte-level toy tokenizer.
 */
export { createFakeTextModel, defaultFakeNextToken, type FakeTextModel, type FakeTextModelParams } from './testing/fake-sessions';
export { FakeTokenizer } from './testing/fake-tokenizer';
export { runBackendConformance, type BackendConformanceParams, type ConformanceCheck } from './conformance/backend-conformance';
