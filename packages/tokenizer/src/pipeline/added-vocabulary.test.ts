import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/corpus';
import { AddedVocabulary, type AddedToken } from './added-vocabulary';

function token(id: number, content: string): AddedToken {
  return { id, content, special: true, singleWord: false, lstrip: false, rstrip: false, normalized: false };
}

/** Leftmost-longest written plainly: at each position the longest token starting there, first listed on ties. */
function referenceSplit(text: string, tokens: readonly AddedToken[]): Array<[string, number]> {
  const sections: Array<[string, number]> = [];
  let plainStart = 0;
  let position = 0;
  while (position < text.length) {
    let best: AddedToken | undefined;
    for (const candidate of tokens) {
      if (candidate.content.length > 0 && text.startsWith(candidate.content, position) && candidate.content.length > (best?.content.length ?? 0)) {
        best = candidate;
      }
    }
    if (best === undefined) {
      position++;
      continue;
    }
    if (plainStart < position) sections.push([text.slice(plainStart, position), -1]);
    sections.push([best.content, best.id]);
    position += best.content.length;
    plainStart = position;
  }
  if (plainStart < text.length) sections.push([text.slice(plainStart), -1]);
  return sections;
}

describe('AddedVocabulary', () => {
  it('cuts tokens out leftmost-longest, like the plain search, on random tokens and texts', () => {
    const random = seededRandom(5);
    const alphabet = ['<', '>', 'a', 'b', '\n', '▁', '𓀀'];
    const pick = (length: number) => {
      let text = '';
      for (let index = 0; index < length; index++) text += alphabet[Math.floor(random() * alphabet.length)];
      return text;
    };
    for (let round = 0; round < 30; round++) {
      // Duplicate contents included: the first listed wins.
      const tokens = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, index) => token(1000 + index, pick(1 + Math.floor(random() * 5))));
      const vocabulary = new AddedVocabulary(tokens, null);
      for (let sample = 0; sample < 40; sample++) {
        const text = pick(Math.floor(random() * 60));
        const sections = vocabulary.split(text).map((section): [string, number] => [section.text, section.addedTokenId]);
        expect(sections).toEqual(referenceSplit(text, tokens));
      }
    }
  });
});
