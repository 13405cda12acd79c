import { Command } from 'commander';
import { addGenerationFlags, type GenerationFlags, parsePromptIds } from '../generation-flags';
import { describeStats, generationOptions, loadModel } from '../load-model';
import { writeJson } from '../output';

interface RunFlags extends GenerationFlags {
  prompt?: string;
  promptIds?: number[];
  system?: string;
  raw?: boolean;
}

export function runCommand(): Command {
  const command = new Command('run')
    .description('generate an answer to one prompt, streamed to stdout')
    .option('-p, --prompt <text>', 'the user message (the chat template is applied)')
    .option('--system <text>', 'a system prompt, folded into the first user turn')
    .option('--raw', 'send --prompt as raw text (BOS added, no chat template)')
    .option('--prompt-ids <ids>', 'raw prompt token ids, e.g. 2,105,2364 (no template, nothing added)', parsePromptIds);
  addGenerationFlags(command);
  return command.action(async (flags: RunFlags) => {
    if ((flags.prompt === undefined) === (flags.promptIds === undefined)) {
      throw new Error('give exactly one of --prompt "…" or --prompt-ids 2,105,…');
    }
    const model = await loadModel(flags);
    const abort = new AbortController();
    const onInterrupt = () => abort.abort(new Error('interrupted'));
    process.once('SIGINT', onInterrupt);
    try {
      const options = generationOptions(flags, abort.signal);
      const request =
        flags.promptIds !== undefined
          ? { promptIds: flags.promptIds, ...options }
          : flags.raw
            ? { prompt: flags.prompt as string, ...options }
            : {
                messages: [
                  ...(flags.system ? [{ role: 'system' as const, content: flags.system }] : []),
                  { role: 'user' as const, content: flags.prompt as string },
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
          },
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
