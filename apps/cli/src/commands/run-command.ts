import { Command } from 'commander';
import { addGenerationFlags, collect, type GenerationFlags, parsePromptIds } from '../generation-flags';
import { describeStats, generationOptions, loadModel } from '../load-model';
import { writeJson } from '../output';

interface RunFlags extends GenerationFlags {
  prompt?: string;
  promptIds?: number[];
  system?: string;
  raw?: boolean;
  image?: string[];
  audio?: string[];
}

export function runCommand(): Command {
  const command = new Command('run')
    .description('generate an answer to one prompt, streamed to stdout')
    .option('-p, --prompt <text>', 'the user message (the chat template is applied)')
    .option('--system <text>', 'a system prompt, folded into the first user turn')
    .option('--raw', 'send --prompt as raw text (BOS added, no chat template)')
    .option('--prompt-ids <ids>', 'raw prompt token ids, e.g. 2,105,2364 (no template, nothing added)', parsePromptIds)
    .option('--image <path>', 'an image file (PNG, JPEG, WebP, GIF) shown before the prompt (repeatable)', collect)
    .option('--audio <path>', 'a WAV file played before the prompt, after the images (repeatable; 30 s at most each)', collect);
  addGenerationFlags(command);
  return command.action(async (flags: RunFlags) => {
    if ((flags.prompt === undefined) === (flags.promptIds === undefined)) {
      throw new Error('give exactly one of --prompt "…" or --prompt-ids 2,105,…');
    }
    const media = [
      ...(flags.image ?? []).map((path) => ({ type: 'image' as const, image: path })),
      ...(flags.audio ?? []).map((path) => ({ type: 'audio' as const, audio: path })),
    ];
    if (media.length > 0 && (flags.raw || flags.promptIds !== undefined)) {
      throw new Error('--image and --audio go with a chat --prompt (not --raw or --prompt-ids): the template places them');
    }
    const model = await loadModel(flags);
    const abort = new AbortController();
    const onInterrupt = () => abort.abort(new Error('interrupted'));
    process.once('SIGINT', onInterrupt);
    try {
      const options = {
        ...generationOptions(flags, abort.signal),
        onWarning: (warning: { message: string }) => process.stderr.write(`warning: ${warning.message}\n`),
      };
      const request =
        flags.promptIds !== undefined
          ? { promptIds: flags.promptIds, ...options }
          : flags.raw
            ? { prompt: flags.prompt as string, ...options }
            : {
                messages: [
                  ...(flags.system ? [{ role: 'system' as const, content: flags.system }] : []),
                  {
                    role: 'user' as const,
                    content: media.length === 0 ? (flags.prompt as string) : [...media, { type: 'text' as const, text: flags.prompt as string }],
                  },
                ],
                ...options,
              };
      const stream = model.stream(request);
      for await (const delta of stream) {
        if (!flags.json) process.stdout.write(delta.text);
      }
      const result = await stream.result;
      if (flags.json) {
        writeJson({
          text: result.text,
          tokens: result.tokenIds,
          promptTokens: result.promptTokens,
          finishReason: result.finishReason,
          stats: {
            ttftMs: result.stats.ttftMs,
            prefillTokensPerSecond: result.stats.prefillTokensPerSecond,
            decodeTokensPerSecond: result.stats.decodeTokensPerSecond,
            ...(result.stats.visionEncoderMs === undefined ? {} : { visionEncoderMs: result.stats.visionEncoderMs }),
            ...(result.stats.audioEncoderMs === undefined ? {} : { audioEncoderMs: result.stats.audioEncoderMs }),
          },
          warnings: result.warnings.map((warning) => warning.message),
        });
      } else {
        process.stdout.write('\n');
      }
      process.stderr.write(`${describeStats(result)}\n`);
    } finally {
      process.off('SIGINT', onInterrupt);
      await model.dispose();
    }
  });
}
