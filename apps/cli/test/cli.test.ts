import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gemma3n } from '@gemma3n/gemma3n/node';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

async function cli(args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const child = run(process.execPath, [bin, ...args], { maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) child.child.stdin?.end(input);
    const { stdout, stderr } = await child;
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failure = error as { stdout: string; stderr: string; code: number };
    return { stdout: failure.stdout, stderr: failure.stderr, code: failure.code };
  }
}

// The CLI is tested as a user runs it: the built bin in a child process.
describe('gemma3n CLI', () => {
  let workDir: string;
  let modelDir: string;

  beforeAll(async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm build\` first (pnpm test does)`);
    workDir = mkdtempSync(join(tmpdir(), 'gemma3n-cli-'));
    modelDir = join(workDir, 'tiny');
    const made = await cli(['make-tiny', modelDir, '--shape', 'tiny-real-vocab', '--seed', '7']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toMatch(/RANDOM weights/);
  });

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('run --json gives the same greedy tokens as the library on the same prompt ids', async () => {
    const promptIds = [2, 105, 2364, 107, 9259, 1902, 106, 107, 105, 4368, 107];
    const result = await cli(['run', '--model', modelDir, '--prompt-ids', promptIds.join(','), '--greedy', '--max-new-tokens', '12', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as {
      text: string;
      tokens: number[];
      promptTokens: number;
      stats: { ttftMs: number; prefillTokensPerSecond: number; decodeTokensPerSecond: number };
    };
    const model = await Gemma3n.load(modelDir);
    const expected = await model.generate({ promptIds, doSample: false, maxNewTokens: 12 });
    await model.dispose();
    expect(printed.tokens).toEqual(expected.tokenIds);
    expect(printed.text).toBe(expected.text);
    expect(printed.promptTokens).toBe(promptIds.length);
    expect(printed.stats.ttftMs).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/prompt tokens/);
  });

  it('run --prompt streams text to stdout with the chat template applied', async () => {
    const result = await cli(['run', '--model', modelDir, '--prompt', 'Hello there', '--greedy', '--max-new-tokens', '8']);
    expect(result.code, result.stderr).toBe(0);
    const model = await Gemma3n.load(modelDir);
    const expected = await model.generate({ messages: [{ role: 'user', content: 'Hello there' }], doSample: false, maxNewTokens: 8 });
    await model.dispose();
    expect(result.stdout).toBe(`${expected.text}\n`);
  });

  it('chat keeps the KV cache between piped turns and /reset clears it', async () => {
    const turns = 'Hello there\nAnd then?\n/reset\nHello there\n/exit\n';
    const result = await cli(['chat', '--model', modelDir, '--greedy', '--max-new-tokens', '6'], turns);
    expect(result.code, result.stderr).toBe(0);
    const answers = result.stdout.split('\n').slice(0, 3);
    const reused = [...result.stderr.matchAll(/(\d+) tokens reused from the cache/g)].map((match) => Number(match[1]));
    expect(reused).toHaveLength(3);
    expect(reused[0]).toBe(0);
    expect(reused[1]).toBeGreaterThan(10); // the whole first turn came from the cache
    expect(reused[2]).toBe(0); // after /reset
    const model = await Gemma3n.load(modelDir);
    const chat = model.chat();
    const first = await chat.send('Hello there', { doSample: false, maxNewTokens: 6 });
    const second = await chat.send('And then?', { doSample: false, maxNewTokens: 6 });
    await model.dispose();
    expect(answers).toEqual([first.text, second.text, first.text]);
  });

  it('rejects invalid sampling values with a message naming the option', async () => {
    const result = await cli(['run', '--model', modelDir, '--prompt', 'hi', '--top-p', '1.5']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/topP/);
    expect(result.stderr).toMatch(/1\.5/);
    const notNumber = await cli(['run', '--model', modelDir, '--prompt', 'hi', '--temperature', 'warm']);
    expect(notNumber.code).not.toBe(0);
    expect(notNumber.stderr).toMatch(/--temperature expects a number, got "warm"/);
  });

  it('says when the model folder does not exist, and names the missing file when it is incomplete', async () => {
    const missing = await cli(['run', '--model', join(workDir, 'no-such-model'), '--prompt', 'hi']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/model folder .*no-such-model does not exist/);
    const incomplete = join(workDir, 'incomplete');
    cpSync(modelDir, incomplete, { recursive: true });
    rmSync(join(incomplete, 'onnx', 'embed_tokens.onnx'));
    const result = await cli(['run', '--model', incomplete, '--prompt', 'hi']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/embed_tokens\.onnx/);
  });
});
