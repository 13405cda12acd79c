// node examples/multimodal-example.mjs <model folder>
// e.g. a tiny random model with both encoders: `pnpm gemma3n make-tiny --shape tiny-multimodal --seed 3 ./tiny-mm`
import { Gemma3n } from '@gemma3n/gemma3n/node';

const model = await Gemma3n.load(process.argv[2] ?? './gemma-3n-E2B-it-ONNX', { node: { intraOpNumThreads: 2 } });

// A 64×48 gradient as pixels, and 1.5 s of a 440 Hz tone at 44.1 kHz (resampled to 16 kHz).
const image = { width: 64, height: 48, channels: 3, data: Uint8Array.from({ length: 64 * 48 * 3 }, (_, index) => index % 256) };
const samples = Float32Array.from({ length: 66_150 }, (_, index) => 0.3 * Math.sin((2 * Math.PI * 440 * index) / 44_100));

const result = await model.generate({
  messages: [{ role: 'user', content: [{ type: 'image', image }, { type: 'audio', audio: { samples, sampleRate: 44_100 } }, { type: 'text', text: 'What do you see and hear?' }] }],
  temperature: 0,
  maxNewTokens: 8,
});
console.log(result.promptTokens, result.tokenIds.length, typeof result.stats.visionEncoderMs, typeof result.stats.audioEncoderMs, result.warnings);

const long = new Float32Array(16_000 * 35);
const truncated = await model.generate({
  messages: [{ role: 'user', content: [{ type: 'audio', audio: { samples: long, sampleRate: 16_000 } }] }],
  maxNewTokens: 1,
  onWarning: (warning) => console.log(warning.code),
});
console.log(truncated.warnings.length);

const chat = model.chat();
await chat.send([{ type: 'image', image }, { type: 'text', text: 'Describe it.' }], { temperature: 0, maxNewTokens: 4 });
const next = await chat.send('Shorter, please.', { temperature: 0, maxNewTokens: 4 });
console.log(next.reusedTokens > 0, next.stats.visionEncoderMs);
await model.dispose();
