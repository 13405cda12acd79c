import { describe, expect, it } from 'vitest';
import { ChatSession } from '../src/chat/chat-session';
import { generateTokens } from '../src/generation/generate-tokens';
import { fakeRuntime, ids, template, tokenizer } from './fake-fixtures';

const stopTokenIds = [ids.eos, ids.endOfTurn];

/** Answers "ab" + one letter per user turn, then <end_of_turn>, as a function of the turn count. */
function chatRule(sequence: readonly number[]): number {
  const turns = sequence.filter((id) => id === ids.startOfTurn).length; // user + model per turn
  let sinceModel = 0;
  for (let index = sequence.length - 1; index >= 0 && sequence[index] !== ids.newline; index--) sinceModel++;
  const answer = [ids.a, ids.a + 1, ids.a + turns, ids.endOfTurn];
  return answer[sinceModel] ?? ids.endOfTurn;
}

describe('ChatSession', () => {
  it('keeps the KV cache between turns and prefills only the new turn', async () => {
    const { fake, runtime } = fakeRuntime({ nextToken: chatRule });
    const session = new ChatSession({ model: runtime, cache: runtime.createCache(), tokenizer, template, defaults: { stopTokenIds } });

    const first = await session.send('hi', { temperature: 0 });
    expect(first.text).toBe('abc');
    expect(first.reusedTokens).toBe(0);
    const firstPrompt = tokenizer.encode(template([{ role: 'user', content: 'hi' }], true));
    expect(first.promptTokens).toBe(firstPrompt.length);

    const runsBefore = fake.decoderSession.fedTokenCounts.length;
    const second = await session.send('cd', { temperature: 0 });
    expect(second.text).toBe('abe');
    // Cached: the first prompt and the answer minus its last token (never fed). New: the
    // answer's last token, then "<end_of_turn>\n<start_of_turn>user\ncd<end_of_turn>\n<start_of_turn>model\n".
    const newTurn = tokenizer.encode('<end_of_turn>\n<start_of_turn>user\ncd<end_of_turn>\n<start_of_turn>model\n');
    expect(second.reusedTokens).toBe(firstPrompt.length + first.tokenIds.length - 1);
    expect(second.promptTokens).toBe(newTurn.length);
    expect(fake.decoderSession.fedTokenCounts[runsBefore]).toBe(newTurn.length);
    expect(session.messages).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'abc' },
      { role: 'user', content: 'cd' },
      { role: 'assistant', content: 'abe' },
    ]);
  });

  it('gives the logits of recomputing the whole conversation', async () => {
    const { runtime } = fakeRuntime();
    const session = new ChatSession({ model: runtime, cache: runtime.createCache(), tokenizer, template, defaults: { stopTokenIds } });
    await session.send('hi', { temperature: 0, maxNewTokens: 4 });
    const reused: Float32Array[] = [];
    let conversation: number[] = [];
    await session.send('ef', {
      temperature: 0,
      maxNewTokens: 4,
      onLogits: (logits, step) => {
        if (step === 0) conversation = [...session.tokenIds];
        reused.push(logits.slice());
      },
    });
    const recomputed: Float32Array[] = [];
    const fresh = fakeRuntime().runtime;
    await generateTokens({
      model: fresh, cache: fresh.createCache(), promptIds: conversation, decoder: tokenizer,
      options: { temperature: 0, maxNewTokens: 4, onLogits: (logits) => recomputed.push(logits.slice()) },
      defaults: { stopTokenIds },
    });
    expect(recomputed.length).toBeGreaterThan(0);
    expect(reused).toEqual(recomputed);
    expect(conversation.slice(0, 1)).toEqual([ids.bos]);
  });

  it('cuts the cache back to the shared prefix when an answer ended on a stop string', async () => {
    const { fake, runtime } = fakeRuntime({ nextToken: chatRule });
    const session = new ChatSession({ model: runtime, cache: runtime.createCache(), tokenizer, template, defaults: { stopTokenIds } });
    const first = await session.send('hi', { temperature: 0, stopStrings: ['c'] });
    expect(first.text).toBe('ab');
    expect(first.finishReason).toBe('stop-string');
    const beforeSecond = fake.decoderSession.runCount;
    const second = await session.send('x', { temperature: 0 });
    const full = tokenizer.encode(template(session.messages.slice(0, 3), true));
    // The answer is re-encoded as "ab": the cached "abc" is cut back after "ab".
    expect(second.reusedTokens + second.promptTokens).toBe(full.length);
    expect(fake.decoderSession.runCount).toBeGreaterThan(beforeSecond);
  });

  it('does not record a turn that failed', async () => {
    const { runtime } = fakeRuntime();
    const session = new ChatSession({ model: runtime, cache: runtime.createCache(), tokenizer, template, defaults: { stopTokenIds } });
    const controller = new AbortController();
    controller.abort();
    await expect(session.send('hi', { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(session.messages).toEqual([]);
    const result = await session.send('hi', { temperature: 0, maxNewTokens: 2 });
    expect(result.tokenIds).toHaveLength(2);
  });
});
