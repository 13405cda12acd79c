import { fieldError, readRecord } from './json-fields';

/**
 * The `{"String": …}` / `{"Regex": …}` patterns of Replace and Split. A string pattern stays a
 * string (matched with indexOf, which is much faster than a regex); a regex pattern is compiled
 * with the `u` flag. Hugging Face compiles these with Oniguruma; the patterns tokenizer files use
 * (`\s+`, Unicode classes, alternations) mean the same in JavaScript.
 */
export type CompiledPattern = { kind: 'string'; text: string } | { kind: 'regex'; regex: RegExp };

export function compilePattern(value: unknown, path: string): CompiledPattern {
  const record = readRecord(value, path);
  if (typeof record['String'] === 'string') return { kind: 'string', text: record['String'] };
  if (typeof record['Regex'] === 'string') {
    try {
      return { kind: 'regex', regex: new RegExp(record['Regex'], 'gu') };
    } catch (error) {
      throw fieldError(`${path}.Regex`, record['Regex'], `a regular expression JavaScript can compile (${String(error)})`);
    }
  }
  throw fieldError(path, value, 'an object with a "String" or a "Regex" key');
}

/** Start/end offsets of every non-overlapping match, left to right. */
export function findMatches(text: string, pattern: CompiledPattern): Array<[number, number]> {
  const matches: Array<[number, number]> = [];
  if (pattern.kind === 'string') {
    if (pattern.text.length === 0) return matches;
    let position = text.indexOf(pattern.text);
    while (position !== -1) {
      matches.push([position, position + pattern.text.length]);
      position = text.indexOf(pattern.text, position + pattern.text.length);
    }
    return matches;
  }
  for (const match of text.matchAll(pattern.regex)) {
    const start = match.index;
    matches.push([start, start + match[0].length]);
  }
  return matches;
}

export function replaceAll(text: string, pattern: CompiledPattern, content: string): string {
  if (pattern.kind === 'string') return pattern.text.length === 0 ? text : text.replaceAll(pattern.text, content);
  // A function replacement keeps `$` in `content` literal, as in Hugging Face.
  return text.replace(pattern.regex, () => content);
}
