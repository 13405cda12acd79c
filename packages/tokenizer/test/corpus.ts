/**
 * The parity and benchmark corpus, generated in code so it is reproducible and reviewable:
 * hand-written cases for every class of input the issue names, plus a seeded generator that
 * mixes them. `buildCorpus()` always returns the same strings in the same order.
 */

/** mulberry32: a tiny seeded PRNG, enough for reproducible test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Real text in 24 scripts (sentences or common words), for BPE paths that merge a lot. */
export const scriptSamples: Record<string, string> = {
  english: 'The quick brown fox jumps over the lazy dog, and then it rests.',
  french: "L'été dernier, nous sommes allés à la plage près de Saint-Malo.",
  german: 'Größere Straßenbahnhaltestellen benötigen überdachte Wartebereiche.',
  vietnamese: 'Tiếng Việt có nhiều dấu thanh: sắc, huyền, hỏi, ngã, nặng.',
  cyrillic: 'Съешь же ещё этих мягких французских булок, да выпей чаю.',
  greek: 'Ξεσκεπάζω την ψυχοφθόρα βδελυγμία των ημερών μας.',
  arabic: 'نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر',
  hebrew: 'דג סקרן שט בים מאוכזב ולפתע מצא חברה',
  devanagari: 'ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले',
  bengali: 'আমি বাংলায় গান গাই, আমি বাংলার গান গাই।',
  tamil: 'யாமறிந்த மொழிகளிலே தமிழ்மொழி போல் இனிதாவது எங்கும் காணோம்',
  telugu: 'తెలుగు భాష చాలా అందమైనది మరియు ప్రాచీనమైనది',
  thai: 'เป็นมนุษย์สุดประเสริฐเลิศคุณค่า กว่าบรรดาฝูงสัตว์เดรัจฉาน',
  khmer: 'ខ្ញុំអាចញ៉ាំកញ្ចក់បាន ដោយគ្មានបញ្ហា',
  myanmar: 'ကျွန်တော် ကြယ်စင်များကို ကြည့်နေပါသည်',
  georgian: 'მინას ვჭამ და არა მტკივა',
  armenian: 'Կրնամ ապակի ուտել և ինծի անհանգիստ չըներ',
  ethiopic: 'ብርሃን ዘር ዘለቄታዊ ነው፡፡ ሰላም ለዓለም',
  chinese: '我能吞下玻璃而不伤身体。今天天气很好，我们去公园散步吧。',
  japanese: 'いろはにほへと ちりぬるを わかよたれそ つねならむ カタカナも混ぜる',
  korean: '키스의 고유조건은 입술끼리 만나야 하고 특별한 기술은 필요치 않다',
  tibetan: 'ཤེལ་སྒོ་ཟ་ནས་ང་ན་གི་མ་རེད།',
  sinhala: 'මට වීදුරු කෑමට හැකියි. එයින් මට කිසි හානියක් සිදු නොවේ.',
  mongolian: 'ᠪᠢ ᠰᠢᠯᠢ ᠢᠳᠡᠵᠦ ᠴᠢᠳᠠᠨᠠ',
  cherokee: 'ᎠᏍᎦᏯᎡᎦᎢᎾᎨᎢᎣᏍᏓᏤᎵᏍᏗ',
  runic: 'ᚠᛇᚻ᛫ᛒᛦᚦ᛫ᚠᚱᚩᚠᚢᚱ᛫ᚠᛁᚱᚪ᛫ᚷᛖᚻᚹᛦᛚᚳᚢᛗ',
};

/** Code point ranges to draw random characters from, including rare blocks that need byte fallback. */
const randomBlocks: Array<[number, number]> = [
  [0x0020, 0x007e], [0x00a0, 0x024f], [0x0370, 0x03ff], [0x0400, 0x04ff], [0x0530, 0x058f],
  [0x0590, 0x05ff], [0x0600, 0x06ff], [0x0900, 0x097f], [0x0980, 0x09ff], [0x0b80, 0x0bff],
  [0x0e00, 0x0e7f], [0x10a0, 0x10ff], [0x1100, 0x11ff], [0x1780, 0x17ff], [0x3040, 0x30ff],
  [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xa000, 0xa48f], [0x1d400, 0x1d7ff], [0x1f300, 0x1faff],
  [0x13000, 0x1342f], [0x10000, 0x1007f], [0x2200, 0x22ff], [0x2500, 0x257f], [0xe000, 0xe0ff],
];

export const codeSamples: string[] = [
  'function add(a, b) {\n  return a + b;\n}\n\nconsole.log(add(2, 3));',
  'def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n',
  'fn main() {\n\tlet v: Vec<u32> = (0..10).map(|x| x * x).collect();\n\tprintln!("{:?}", v);\n}',
  '<!DOCTYPE html>\n<html>\n<body>\n<table><tr><td>cell</td></tr></table>\n<div class="x">hi</div>\n</body>\n</html>',
  '{"name": "gemma3n", "version": "1.0.0", "nested": {"array": [1, 2.5, -3e10, null, true]}}',
  'SELECT u.id, COUNT(*) AS n FROM users u JOIN orders o ON o.user_id = u.id WHERE o.total > 100 GROUP BY u.id;',
  '#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.txt; do echo "$f" | tr a-z A-Z; done',
  'const re = /^(?:[a-z0-9!#$%&\'*+/=?^_`{|}~-]+)@example\\.com$/i;',
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); return 0; }',
  '    indented with four spaces\n\tand a tab\n  \t mixed\n',
  'x = [i**2 for i in range(100) if i % 3 == 0]  # comprehension',
  'a->b; c::d; e=>f; g<=h; i>=j; k!=l; m===n; o&&p||q; r<<s>>t;',
];

export const emojiSamples: string[] = [
  '😀😃😄😁😆😅🤣😂🙂🙃', '👍🏻👍🏼👍🏽👍🏾👍🏿', '👨‍👩‍👧‍👦 family', '🏳️‍🌈 and 🏴‍☠️', '👩🏽‍💻 writes code',
  '🇯🇵🇫🇷🇺🇸🇧🇷 flags', '1️⃣ 2️⃣ #️⃣ *️⃣ keycaps', '❤️ vs ❤ (variation selector)', '🧑‍🤝‍🧑 🫶 🫠 🪿',
  'text😀text😀text', '🤷‍♀️🤷‍♂️🤦🏾‍♀️', '🐈‍⬛ black cat', 'e\u0301 combining acute, n\u0303, a\u0308\u0304',
];

export const whitespaceSamples: string[] = [
  ' ', '  ', '   ', ' '.repeat(31), ' '.repeat(64), '\t', '\t\t\t', '\t'.repeat(40), '\n', '\n\n', '\n'.repeat(33),
  '\r\n', '\r\n\r\n', 'a \t \n b', '  leading', 'trailing  ', ' both ', 'a  b   c    d', 'tab\tseparated\tvalues',
  'line1\nline2\r\nline3\rline4', '\u00a0non-breaking\u00a0spaces', '\u3000ideographic\u3000space', 'zero\u200bwidth\u200cjoin\u200d',
  '\u2028line separator\u2029paragraph', ' \n \n ', '\t \t \t', 'end with newline\n', '\n\nstart with newlines',
];

export const controlSamples: string[] = [
  '\u0000', '\u0001\u0002\u0003', 'null\u0000inside', '\u0007bell\u0008backspace', '\u001b[31mred\u001b[0m',
  '\u007f delete', '\u0080\u0081\u009f C1 controls', '\ufeffBOM at start', 'soft\u00adhyphen', '\u200e\u200f marks',
  '\ud800 lone high surrogate', 'lone low \udc00 surrogate', '\ufffd replacement char', '\uffff noncharacter',
  '\u0085 next line', '\u000b vertical tab \u000c form feed',
];

/** Partial and literal look-alikes of special tokens, which must not match. */
export const lookalikeSamples: string[] = [
  '<start_of_tur', 'start_of_turn>', '< start_of_turn>', '<START_OF_TURN>', '<unused', '<unused-1>', '<unused99999>',
  '<0x41>', '<0xZZ>', '<image_soft_token', '[multimodal]', '<mask>', '<b>bold</b> <i>it</i> <code>x</code>',
  '▁', '▁▁', '▁▁▁ literal markers', 'x>▁</y', 'a >▁</b', '> </', '<table><thead><tr><th>h</th></tr></thead></table>',
];

/**
 * Every added token of the vocabulary inside text, special or not: the caller passes the
 * token contents (read from the fixture) so the corpus covers exactly the file's tokens.
 */
export function addedTokenCases(addedTokens: readonly string[], random: () => number): string[] {
  const cases: string[] = [];
  // Every token that is not a reserved <unusedN> slot, plus reserved ones spread over the ids
  // and the last 20 (Gemma 3n's fill of the vision and audio ranges).
  const named = addedTokens.filter((token) => !/^<unused\d+>$/.test(token));
  const reserved = addedTokens.filter((token) => /^<unused\d+>$/.test(token));
  const picked = [...named, ...sampleEvenly(reserved, Math.min(reserved.length, 200)), ...addedTokens.slice(-20)];
  for (const token of picked) {
    const before = pick(random, ['', 'Hello', ' ', 'x', '\n', '日本']);
    const after = pick(random, ['', 'world', ' ', 'y', '\n', '語']);
    cases.push(`${before}${token}${after}`);
  }
  return cases;
}

function sampleEvenly<T>(items: readonly T[], count: number): T[] {
  const result: T[] = [];
  for (let index = 0; index < count; index++) result.push(items[Math.floor((index * items.length) / count)]!);
  return result;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomCodePoints(random: () => number, length: number): string {
  let text = '';
  for (let index = 0; index < length; index++) {
    const [start, end] = pick(random, randomBlocks);
    text += String.fromCodePoint(start + Math.floor(random() * (end - start + 1)));
  }
  return text;
}

export interface CorpusOptions {
  /** Contents of the tokenizer's added tokens, to embed in text. */
  addedTokens: readonly string[];
  /** Number of generated mixtures (the hand-written cases come on top). */
  mixtures?: number;
  /** Include the three strings over 100k characters. */
  includeLong?: boolean;
}

export function buildCorpus(options: CorpusOptions): string[] {
  const random = seededRandom(0x6e3a);
  const fragments = [
    ...Object.values(scriptSamples),
    ...codeSamples,
    ...emojiSamples,
    ...whitespaceSamples,
    ...controlSamples,
    ...lookalikeSamples,
  ];
  const specials = options.addedTokens.filter((token) => !/^<unused\d+>$/.test(token));
  const corpus: string[] = ['', ...fragments, ...addedTokenCases(options.addedTokens, random)];
  for (const sample of Object.values(scriptSamples)) {
    corpus.push(sample.toUpperCase(), sample.toLowerCase(), `${sample} ${sample}`, sample.replaceAll(' ', ''));
  }
  for (let index = 0; index < 300; index++) corpus.push(randomCodePoints(random, 1 + Math.floor(random() * 40)));
  const separators = ['', ' ', '  ', '\n', '\n\n', '\t', ' \n', '. ', ', ', '\r\n'];
  const mixtures = options.mixtures ?? 1500;
  for (let index = 0; index < mixtures; index++) {
    const parts: string[] = [];
    const partCount = 1 + Math.floor(random() * 6);
    for (let part = 0; part < partCount; part++) {
      const roll = random();
      if (roll < 0.55) parts.push(pick(random, fragments));
      else if (roll < 0.7) parts.push(randomCodePoints(random, 1 + Math.floor(random() * 12)));
      else if (roll < 0.85 && specials.length > 0) parts.push(pick(random, specials));
      else parts.push(pick(random, options.addedTokens));
      parts.push(pick(random, separators));
    }
    corpus.push(parts.join(''));
  }
  if (options.includeLong ?? true) corpus.push(...longStrings());
  return corpus;
}

/** Three strings over 100k characters: prose, Chinese with no spaces at all, and a random mixture. */
export function longStrings(): string[] {
  const random = seededRandom(0x100000);
  const prose = Object.values(scriptSamples).slice(0, 4).join(' ');
  const english = `${prose}\n`.repeat(Math.ceil(110_000 / (prose.length + 1)));
  const chineseBase = scriptSamples['chinese']!.replace(/[。，\s]/g, '');
  const chinese = chineseBase.repeat(Math.ceil(105_000 / chineseBase.length));
  let mixed = '';
  while (mixed.length < 101_000) mixed += randomCodePoints(random, 20) + pick(random, [' ', '', '\n', '\t\t', '<start_of_turn>']);
  return [english, chinese, mixed];
}
