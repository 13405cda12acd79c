import { readArray, readComponentType, readRecord, readString } from './json-fields';
import { compilePattern, replaceAll } from './pattern';

/** A compiled normalizer: text in, normalized text out. */
export type Normalizer = (text: string) => string;

/** The normalizer types Gemma tokenizer files use (Gemma 1–3, CodeGemma, PaliGemma), plus the Unicode forms. */
export const supportedNormalizerTypes = [
  'Sequence',
  'Replace',
  'Prepend',
  'NFC',
  'NFD',
  'NFKC',
  'NFKD',
  'Lowercase',
] as const;

export function compileNormalizer(value: unknown, path = 'normalizer'): Normalizer | null {
  if (value === null || value === undefined) return null;
  const type = readComponentType(value, path, supportedNormalizerTypes);
  const record = readRecord(value, path);
  switch (type) {
    case 'Sequence': {
      const steps = readArray(record, 'normalizers', path).map((step, index) =>
        compileNormalizer(step, `${path}.normalizers[${index}]`),
      );
      const present = steps.filter((step): step is Normalizer => step !== null);
      return (text) => present.reduce((current, step) => step(current), text);
    }
    case 'Replace': {
      const pattern = compilePattern(record['pattern'], `${path}.pattern`);
      const content = readString(record, 'content', path);
      return (text) => replaceAll(text, pattern, content);
    }
    case 'Prepend': {
      const prepend = readString(record, 'prepend', path);
      // Hugging Face prepends only to non-empty text.
      return (text) => (text.length === 0 ? text : prepend + text);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return (text) => text.normalize(type);
    case 'Lowercase':
      return (text) => text.toLowerCase();
  }
  throw new Error(`unreachable normalizer type ${type}`);
}
