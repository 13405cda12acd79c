import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { addGenerationFlags, type GenerationFlags } from '../generation-flags';
import { describeStats, generationOptions, type LoadedModel, loadModel } from '../load-model';
import { describeError } from '../output';

const help = 'type a message; /image PATH or /audio PATH attaches a file to your next message; /reset starts over, /exit (or Ctrl-D) quits';

type Attachment = { type: 'image'; image: string } | { type: 'audio'; audio: string };

export function chatCommand(): Command {
  const command = new Command('chat').description('interactive multi-turn chat that keeps the KV cache between turns');
  addGenerationFlags(command);
  return command.action(async (flags: GenerationFlags) => {
    const model = await loadModel(flags);
    const chat = model.chat();
    // Lines are read through the async iterator, which buffers them: piped input (a script
    // feeding several turns) arrives while a turn is still generating and must not be lost.
    const terminal = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY) });
    const prompt = () => process.stderr.write('> ');
    process.stderr.write(`${help}\n`);
    prompt();
    let attachments: Attachment[] = [];
    try {
      for await (const line of terminal) {
        const text = line.trim();
        const attach = /^\/(image|audio)\s+(.+)$/.exec(text);
        if (text === '/exit' || text === '/quit') break;
        if (text === '/reset') {
          chat.reset();
          attachments = [];
          process.stderr.write('conversation cleared\n');
        } else if (attach !== null) {
          const path = attach[2]!.trim();
          attachments.push(attach[1] === 'image' ? { type: 'image', image: path } : { type: 'audio', audio: path });
          process.stderr.write(`attached ${attach[1]} ${path} (sent with your next message)\n`);
        } else if (text !== '') {
          // Attachments go with this message whether or not it succeeds: a failed turn is not kept.
          const content = attachments.length === 0 ? text : [...attachments, { type: 'text' as const, text }];
          attachments = [];
          await answer(chat, content, flags);
        }
        prompt();
      }
    } finally {
      terminal.close();
      await model.dispose();
    }
  });
}

/** One turn: streams the answer; Ctrl-C stops this answer only, errors end the turn, not the chat. */
async function answer(
  chat: ReturnType<LoadedModel['chat']>,
  content: Parameters<ReturnType<LoadedModel['chat']>['stream']>[0],
  flags: GenerationFlags,
): Promise<void> {
  const abort = new AbortController();
  const onInterrupt = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onInterrupt);
  try {
    const stream = chat.stream(content, {
      ...generationOptions(flags, abort.signal),
      onWarning: (warning) => process.stderr.write(`warning: ${warning.message}\n`),
    });
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
