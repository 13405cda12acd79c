import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
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

/** A minimal RGB PNG (8-bit, no filter), so the test needs no image library. */
function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const check = Buffer.alloc(4);
    check.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, check]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows.set(pixel(x, y), y * (1 + width * 3) + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 16-bit PCM mono WAV of a 440 Hz tone. */
function wav(seconds: number, rate = 16_000): Buffer {
  const count = Math.round(seconds * rate);
  const bytes = Buffer.alloc(44 + count * 2);
  bytes.write('RIFF', 0, 'latin1');
  bytes.writeUInt32LE(36 + count * 2, 4);
  bytes.write('WAVEfmt ', 8, 'latin1');
  bytes.writeUInt32LE(16, 16);
  bytes.writeUInt16LE(1, 20);
  bytes.writeUInt16LE(1, 22);
  bytes.writeUInt32LE(rate, 24);
  bytes.writeUInt32LE(rate * 2, 28);
  bytes.writeUInt16LE(2, 32);
  bytes.writeUInt16LE(16, 34);
  bytes.write('data', 36, 'latin1');
  bytes.writeUInt32LE(count * 2, 40);
  for (let index = 0; index < count; index++) bytes.writeInt16LE(Math.round(12_000 * Math.sin((2 * Math.PI * 440 * index) / rate)), 44 + index * 2);
  return bytes;
}

// The CLI is tested as a user runs it: the built bin in a child process.
describe('gemma3n CLI', () => {
  let workDir: string;
  let modelDir: string;

  beforeAll(async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm build\` first (pnpm test does)`);
    workDir = mkdtempSync(join(tmpdir(), 'gemma3n-cli-'));
    modelDir = join(workDir, 'tiny');
    // The compat profile (plain ONNX ops); the optimized default is made and compared below.
    const made = await cli(['make-tiny', modelDir, '--shape', 'tiny-real-vocab', '--seed', '7', '--graph', 'compat']);
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

  it('quantize writes a q8 copy that run --dtype q8 loads, and eval-quant scores it', async () => {
    const quantized = join(workDir, 'tiny-q8');
    const made = await cli(['quantize', modelDir, '--dtype', 'q8', '--output', quantized, '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect(existsSync(join(quantized, 'onnx', 'decoder_model_merged_quantized.onnx'))).toBe(true);
    expect(existsSync(join(modelDir, 'onnx', 'decoder_model_merged_quantized.onnx'))).toBe(false); // input untouched
    const promptIds = [2, 105, 2364, 107, 9259];
    const result = await cli(['run', '--model', quantized, '--dtype', 'q8', '--prompt-ids', promptIds.join(','), '--greedy', '--max-new-tokens', '6', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const model = await Gemma3n.load(quantized, { dtype: 'q8' });
    const expected = await model.generate({ promptIds, doSample: false, maxNewTokens: 6 });
    await model.dispose();
    expect((JSON.parse(result.stdout) as { tokens: number[] }).tokens).toEqual(expected.tokenIds);
    const scored = await cli(['eval-quant', modelDir, '--dtype', 'q8', '--quantized', quantized, '--prompts', '2', '--length', '6', '--json']);
    expect(scored.code, scored.stderr).toBe(0);
    const figures = JSON.parse(scored.stdout) as { positions: number; topOneAgreement: number; meanKl: number };
    expect(figures.positions).toBe(12);
    expect(figures.meanKl).toBeGreaterThan(0); // int8 weights are not the fp32 weights
    expect(figures.topOneAgreement).toBeGreaterThan(0);
  });

  it('make-tiny writes the optimized profile by default (fused attention) and it gives the compat folder\'s greedy tokens', async () => {
    const optimized = join(workDir, 'tiny-optimized');
    const made = await cli(['make-tiny', optimized, '--shape', 'tiny-real-vocab', '--seed', '7']);
    expect(made.code, made.stderr).toBe(0);
    const decoderBytes = readFileSync(join(optimized, 'onnx', 'decoder_model_merged.onnx'));
    expect(decoderBytes.includes('GroupQueryAttention')).toBe(true);
    expect(readFileSync(join(modelDir, 'onnx', 'decoder_model_merged.onnx')).includes('GroupQueryAttention')).toBe(false);
    const promptIds = [2, 105, 2364, 107, 9259, 1902, 106, 107, 105, 4368, 107];
    const args = ['--prompt-ids', promptIds.join(','), '--greedy', '--max-new-tokens', '10', '--json'];
    const [fused, plain] = await Promise.all([cli(['run', '--model', optimized, ...args]), cli(['run', '--model', modelDir, ...args])]);
    expect(fused.code, fused.stderr).toBe(0);
    expect((JSON.parse(fused.stdout) as { tokens: number[] }).tokens).toEqual((JSON.parse(plain.stdout) as { tokens: number[] }).tokens);
    const bad = await cli(['make-tiny', join(workDir, 'never'), '--graph', 'fast']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--graph expects compat or optimized, got "fast"/);
  });

  it('bench --synthetic tiny builds both folders once, runs all four rows and agrees with transformers.js on the compat folder', async () => {
    const cacheDir = join(workDir, 'bench-cache');
    const args = ['bench', '--synthetic', 'tiny', '--cache-dir', cacheDir, '--prompt-tokens', '24', '--new-tokens', '6', '--json'];
    const first = await cli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/RANDOM weights/);
    expect(first.stderr).toMatch(/writing the compat tiny folder/);
    const report = JSON.parse(first.stdout) as {
      rows: { id: string; runtime: string; folder: string; loadMs: number; ttftMs: number; prefillTokensPerSecond: number; decodeTokensPerSecond: number; peakRssMiB: number; tokensMatchBaseline: boolean | null }[];
      weightBytesPerDecodeToken: { compat: number; optimized: number };
      memoryReadBandwidthGBps: number;
    };
    expect(report.rows.map((row) => row.id)).toEqual(['tjs-compat', 'ours-compat', 'ours-optimized', 'ours-optimized-ple']);
    for (const row of report.rows) {
      expect(row.loadMs).toBeGreaterThan(0);
      expect(row.ttftMs).toBeGreaterThan(0);
      expect(row.decodeTokensPerSecond).toBeGreaterThan(0);
      expect(row.peakRssMiB).toBeGreaterThan(20);
    }
    // Greedy ids: ours equal transformers.js's on the same q4 folder; PLE rows from the file equal the graph's.
    expect(report.rows[1]!.tokensMatchBaseline).toBe(true);
    expect(report.rows[3]!.tokensMatchBaseline).toBe(true);
    expect(report.memoryReadBandwidthGBps).toBeGreaterThan(0.5);
    // Every decoder weight is read once per step: at least the q4 lm_head (V · D / 2 bytes).
    expect(report.weightBytesPerDecodeToken.compat).toBeGreaterThan((320 * 48) / 2);
    expect(report.weightBytesPerDecodeToken.optimized).toBeGreaterThan((320 * 48) / 2);
    const second = await cli([...args, '--rows', 'ours-compat']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/writing the/);
    expect((JSON.parse(second.stdout) as { rows: unknown[] }).rows).toHaveLength(1);
  }, 240_000);

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

  describe('with images and audio', () => {
    let multimodalDir: string;
    beforeAll(async () => {
      multimodalDir = join(workDir, 'multimodal');
      const made = await cli(['make-tiny', multimodalDir, '--shape', 'tiny-multimodal', '--seed', '3']);
      expect(made.code, made.stderr).toBe(0);
      writeFileSync(join(workDir, 'red.png'), png(96, 96, (x, y) => [200, (x * 2) % 256, (y * 3) % 256]));
      writeFileSync(join(workDir, 'blue.png'), png(120, 80, (x, y) => [(x + y) % 256, 40, 220]));
      writeFileSync(join(workDir, 'tone.wav'), wav(0.6));
    });

    it('run --image (repeatable) --audio gives the library’s tokens, and --json adds the encoder times', async () => {
      const [red, blue, tone] = ['red.png', 'blue.png', 'tone.wav'].map((name) => join(workDir, name)) as [string, string, string];
      const args = ['run', '--model', multimodalDir, '--prompt', 'What do you see and hear?', '--image', red, '--image', blue, '--audio', tone];
      const result = await cli([...args, '--greedy', '--max-new-tokens', '6', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const printed = JSON.parse(result.stdout) as {
        tokens: number[];
        promptTokens: number;
        stats: { visionEncoderMs: number; audioEncoderMs: number };
        warnings: string[];
      };
      const model = await Gemma3n.load(multimodalDir);
      const expected = await model.generate({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', image: red },
              { type: 'image', image: blue },
              { type: 'audio', audio: tone },
              { type: 'text', text: 'What do you see and hear?' },
            ],
          },
        ],
        doSample: false,
        maxNewTokens: 6,
      });
      await model.dispose();
      expect(printed.tokens).toEqual(expected.tokenIds);
      expect(printed.promptTokens).toBe(expected.promptTokens);
      // Two images of 4 soft tokens and one clip of 188, each framed by start/end tokens and blank lines.
      expect(printed.promptTokens).toBeGreaterThan(2 * 4 + 188);
      expect(printed.stats.visionEncoderMs).toBeGreaterThan(0);
      expect(printed.stats.audioEncoderMs).toBeGreaterThan(0);
      expect(printed.warnings).toEqual([]);
      expect(result.stderr).toMatch(/vision encoder \d+ ms, audio encoder \d+ ms/);
    });

    it('chat attaches /image files to the next message and keeps the cache across the image turn', async () => {
      const red = join(workDir, 'red.png');
      const turns = `/image ${red}\nWhat is it?\nAnd now?\n/exit\n`;
      const result = await cli(['chat', '--model', multimodalDir, '--greedy', '--max-new-tokens', '4'], turns);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`attached image ${red} (sent with your next message)`);
      const reused = [...result.stderr.matchAll(/(\d+) tokens reused from the cache/g)].map((match) => Number(match[1]));
      expect(reused).toHaveLength(2);
      expect(reused[1]).toBeGreaterThan(4); // the image's soft tokens were not prefilled again
      const model = await Gemma3n.load(multimodalDir);
      const chat = model.chat();
      const first = await chat.send([{ type: 'image', image: red }, { type: 'text', text: 'What is it?' }], { doSample: false, maxNewTokens: 4 });
      const second = await chat.send('And now?', { doSample: false, maxNewTokens: 4 });
      await model.dispose();
      expect(result.stdout.split('\n').slice(0, 2)).toEqual([first.text, second.text]);
      expect(reused[1]).toBe(second.reusedTokens);
    });

    it('names a missing image file, and refuses media with --prompt-ids', async () => {
      const missing = await cli(['run', '--model', multimodalDir, '--prompt', 'hi', '--image', join(workDir, 'nope.png')]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toMatch(/nope\.png/);
      const withIds = await cli(['run', '--model', multimodalDir, '--prompt-ids', '2,105', '--image', join(workDir, 'red.png')]);
      expect(withIds.code).not.toBe(0);
      expect(withIds.stderr).toMatch(/--image and --audio go with a chat --prompt/);
    });

    it('says which file a text-only folder lacks when given an image', async () => {
      const result = await cli(['run', '--model', modelDir, '--prompt', 'hi', '--image', join(workDir, 'red.png')]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/no onnx\/vision_encoder\.onnx/);
    });
  });
});
