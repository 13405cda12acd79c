import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/corpus';
import { createTokenVocabulary, MapTokenVocabulary, PackedTokenVocabulary, type TokenVocabulary } from './token-vocabulary';

function fromRecord(vocab: Record<string, number>): { pieces: string[]; ids: number[] } {
  const pieces = Object.keys(vocab);
  return { pieces, ids: pieces.map((piece) => vocab[piece]!) };
}

/** What the tokenizer did before: look pieces up in the parsed object, ids in an array. */
function referenceOf(vocab: Record<string, number>) {
  const byId: string[] = [];
  for (const piece of Object.keys(vocab)) byId[vocab[piece]!] = piece;
  return {
    idOf: (piece: string) => (Object.hasOwn(vocab, piece) ? vocab[piece]! : -1),
    pieceOf: (id: number) => byId[id],
  };
}

function createFromRecord(vocab: Record<string, number>): TokenVocabulary {
  const { pieces, ids } = fromRecord(vocab);
  return createTokenVocabulary(pieces, ids);
}

function bothKinds(vocab: Record<string, number>): TokenVocabulary[] {
  const { pieces, ids } = fromRecord(vocab);
  const size = Math.max(-1, ...ids) + 1;
  return [new PackedTokenVocabulary(pieces, ids, size), new MapTokenVocabulary(pieces, ids, size)];
}

describe('TokenVocabulary', () => {
  // Parsed JSON gives "__proto__" as an own key, like any other.
  const awkward = JSON.parse(
    '{"": 5, "a": 0, "__proto__": 1, "constructor": 2, "▁the": 3, "𓀀": 4, "é": 7, "7": 8, "<0x0A>": 9}',
  ) as Record<string, number>;

  it('maps pieces to ids and back, holes and non-ids included', () => {
    const reference = referenceOf(awkward);
    for (const vocabulary of bothKinds(awkward)) {
      expect(vocabulary.size).toBe(10);
      for (const piece of [...Object.keys(awkward), 'b', 'toString', 'hasOwnProperty', '▁th', '▁thee', '<0x0a>']) {
        expect(vocabulary.idOf(piece)).toBe(reference.idOf(piece));
      }
      for (const id of [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1.5, Number.NaN, 2 ** 40]) {
        expect(vocabulary.pieceOf(id)).toBe(reference.pieceOf(id));
      }
      expect(vocabulary.pieceOf(5)).toBe('');
      expect(vocabulary.pieceOf(6)).toBeUndefined();
    }
  });

  it('keeps every piece of an id listed twice; the later one is the id’s piece', () => {
    const vocab = { a: 0, b: 1, c: 1, d: 2, e: 1 };
    for (const vocabulary of bothKinds(vocab)) {
      expect(['a', 'b', 'c', 'd', 'e'].map((piece) => vocabulary.idOf(piece))).toEqual([0, 1, 1, 2, 1]);
      expect(vocabulary.pieceOf(1)).toBe('e');
    }
  });

  it('agrees with the plain lookups on a random vocabulary', () => {
    const random = seededRandom(11);
    const vocab: Record<string, number> = {};
    const alphabet = ['a', 'b', '▁', 'é', '中', '𓀀'];
    let id = 0;
    while (id < 5000) {
      let piece = '';
      const length = 1 + Math.floor(random() * 6);
      for (let index = 0; index < length; index++) piece += alphabet[Math.floor(random() * alphabet.length)];
      if (vocab[piece] !== undefined) continue;
      vocab[piece] = id;
      id += random() < 0.05 ? 2 : 1;
    }
    const reference = referenceOf(vocab);
    const vocabulary = createFromRecord(vocab);
    expect(vocabulary).toBeInstanceOf(PackedTokenVocabulary);
    for (const piece of Object.keys(vocab)) expect(vocabulary.idOf(piece)).toBe(reference.idOf(piece));
    for (let probe = 0; probe < 2000; probe++) expect(vocabulary.idOf(`${probe}`)).toBe(-1);
    for (let probe = -1; probe <= vocabulary.size; probe++) expect(vocabulary.pieceOf(probe)).toBe(reference.pieceOf(probe));
  });

  it('uses Maps when ids are spread far wider than the pieces', () => {
    const vocab = { a: 0, b: 2 ** 30 };
    const vocabulary = createFromRecord(vocab);
    expect(vocabulary).toBeInstanceOf(MapTokenVocabulary);
    expect(vocabulary.size).toBe(2 ** 30 + 1);
    expect(vocabulary.idOf('b')).toBe(2 ** 30);
    expect(vocabulary.pieceOf(2 ** 30)).toBe('b');
    expect(vocabulary.pieceOf(1)).toBeUndefined();
  });
});
