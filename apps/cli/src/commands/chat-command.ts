import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { addGenerationFlags, type GenerationFlags } from '../generation-flags';
import { describeStats, generationOptions, loadModel } from '../load-model';
import { describeError } from '../output';

const help = 'type a message; /reset starts over, /exit (or Ctrl-D) quits';

export function chatCommand(): Command {
  const command = new Command('chat').description('interactive multi-turn chat that keeps the KV cache between turns');
  addGenerationFlags(command);
  return command.action(async (flags: GenerationFlags) => {
    const model = await loadModel(flags);
    const chat = model.chat();
    const terminal = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY) });
    process.stderr.write(`${help}\n`);
    try {
      for (;;) {
        let line: string;
        try {
          line = await terminal.question('> ');
        } catch {
          break; // stdin closed
        }
        const text = line.trim();
        if (text === '') continue;
        if (text === '/exit' || text === '/quit') break;
        if (text === '/reset') {
          chat.reset();
          process.stderr.write('conversation cleared\n');
          continue;
        }
        const abort = new AbortController();
        const onInterrupt = () => abort.abort(new Error('interrupted'));
        process.once('SIGINT', onInterrupt);
        try {
          const stream = chat.stream(text, generationOptions(flags, abort.signal));
          for await (const delta of stream) process.stdout.write(delta.text);
          const result = await stream.result;
          process.stdout.write('\n');
          process.stderr.write(`${describeStats(result)}; ${result.reusedTokens} tokens reused from the cache\n`);
        } catch (error) {
          process.stdout.write('\n');
          process.stderr.write(`error: ${describeError(error)}\n`);
        } finally {
          process.off('SIGINT', onInterrupt);
        }
      }
    } finally {
      terminal.close();
      await model.dispose();
    }
  });
}
