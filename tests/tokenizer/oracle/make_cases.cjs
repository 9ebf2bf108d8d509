// Writes crafted tokenizer.json files exercising the WordPiece/BERT-family components and
// truncation/padding, with the outputs Hugging Face `tokenizers` (npm, the official binding
// of the Rust library) gives for them, to tests/tokenizer/data/oracle/. The gtest
// oracle_cases_test.cpp checks lmkit against these files.
// usage (from the repo root, after scripts/setup installed tests/node):
//   node tests/tokenizer/oracle/make_cases.cjs
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Tokenizer } = require(require.resolve('tokenizers', { paths: [path.join(__dirname, '../../node')] }));
const { encodeRecords } = require('./oracle_records.cjs');

const outDir = path.join(__dirname, '../data/oracle');
fs.mkdirSync(outDir, { recursive: true });

// Inputs: accents, CJK, controls, every kind of whitespace, punctuation and digit runs.
const TEXTS = [
  '', ' ', 'Hello, world!', 'HELLO   World?!  ', "don't stop-me now...", 'unaffable playing',
  'Café naïve Ünïcödé e\u0301 résumé', 'İstanbul ΣΑΣ ǅungla ß', '你好，世界！中文分词', 'こんにちは カタカナー 한국어',
  'mixed漢字and English', 'tab\there\nnew\r\nline\u00a0nbsp\u3000ideo\u2009thin', 'ctrl\u0000nul\u0007bel\u0085nel\ufffdrep\u200bzw',
  '\ufeffbom \u{1d11e} \ue000 😀👍🏽', '123 4567 3.14 1,000 ²³ ½ Ⅻ ① ٣٤', 'a1b22c333', '((x)) [y] {z} #tag @user $5 ~ `q`',
  '“quoted” «ok» — – … ¿qué? ¡sí!', 'https://example.com/a?b=c&d=e', 'supercalifragilisticexpialidocious',
  'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz', '  leading and trailing  ', 'Привет мир Ελληνικά',
  '[CLS] inside [MASK] text [SEP]', 'x [UNK] y', 'Don\'t   you do not know it\'s we\'re they\'ve I\'m',
];
const PAIRS = [
  ['Hello, world!', 'How are you?'], ['unaffable', 'playing games'], ['你好', 'Café'], ['', 'only pair'],
  ['a1b22c333 one two three four five', 'six seven eight nine ten eleven twelve'],
];

// Vocabularies built from the inputs so normalization and splitting show in the tokens.
function charsOf(texts) {
  const set = new Set();
  for (const t of texts) {
    for (const form of [t, t.normalize('NFD'), t.normalize('NFKC'), t.normalize('NFKD'), t.toLowerCase(),
      t.toLowerCase().normalize('NFD')])
      for (const c of form) set.add(c);
  }
  return [...set].sort();
}
const ALL_TEXT = TEXTS.concat(PAIRS.flat());
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
function wordpieceVocab({ prefix = '##', words = [], dropChars = [] } = {}) {
  const vocab = {};
  const add = (t) => { if (!(t in vocab)) vocab[t] = Object.keys(vocab).length; };
  SPECIALS.forEach(add);
  for (const c of charsOf(ALL_TEXT)) {
    if (dropChars.includes(c) || /\s/u.test(c)) continue;
    add(c);
    add(prefix + c);
  }
  words.forEach(add);
  return vocab;
}
const WORDS = ['hello', 'world', 'un', '##aff', '##able', 'play', '##ing', 'the', 'super', '##cal', '##ifr',
  '##agi', 'li', '##stic', 'do', 'not', 'stop', 'caf', '##é', 'cafe', 'Hello', 'HELLO', 'World', 'games', 'ab', '##cd'];

function addedTokens(vocab) {
  return SPECIALS.map((content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false,
    normalized: false, special: true }));
}
function bertJson({ normalizer, pre_tokenizer = { type: 'BertPreTokenizer' }, model = {}, post_processor, decoder,
  vocabOptions = {}, truncation = null, padding = null }) {
  const vocab = wordpieceVocab({ words: WORDS, ...vocabOptions });
  return {
    version: '1.0', truncation, padding, added_tokens: addedTokens(vocab),
    normalizer: normalizer === undefined ? { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true,
      strip_accents: null, lowercase: true } : normalizer,
    pre_tokenizer,
    post_processor: post_processor === undefined ? { type: 'BertProcessing', sep: ['[SEP]', vocab['[SEP]']],
      cls: ['[CLS]', vocab['[CLS]']] } : post_processor,
    decoder: decoder === undefined ? { type: 'WordPiece', prefix: '##', cleanup: true } : decoder,
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100,
      vocab, ...model },
  };
}

// Byte-level BPE with a few merges, for RobertaProcessing and the GPT-2 style pipeline.
function byteLevelJson(post_processor, extra = {}) {
  const bytesToUnicode = () => {
    const bs = [];
    for (let b = 33; b <= 126; ++b) bs.push(b);
    for (let b = 161; b <= 172; ++b) bs.push(b);
    for (let b = 174; b <= 255; ++b) bs.push(b);
    const cs = bs.slice();
    let n = 0;
    for (let b = 0; b < 256; ++b) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
    const m = {};
    bs.forEach((b, i) => { m[b] = String.fromCodePoint(cs[i]); });
    return m;
  };
  const map = bytesToUnicode();
  const vocab = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, '<mask>': 4 };
  for (let b = 0; b < 256; ++b) vocab[map[b]] = Object.keys(vocab).length;
  const merges = [['Ġ', 'h'], ['Ġh', 'e'], ['l', 'l'], ['Ġhe', 'll'], ['Ġhell', 'o'], ['Ġ', 'Ġ'], ['w', 'o'], ['Ġ', 'w'],
    ['Ġw', 'o']];
  for (const [a, b] of merges) if (!((a + b) in vocab)) vocab[a + b] = Object.keys(vocab).length;
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: ['<s>', '<pad>', '</s>', '<unk>', '<mask>'].map((content) => ({ id: vocab[content], content,
      single_word: false, lstrip: content === '<mask>', rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
    ...extra,
  };
}

const bertNorm = (o) => ({ type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null,
  lowercase: true, ...o });
const CASES = {
  bert_default: bertJson({}),
  bert_no_lowercase: bertJson({ normalizer: bertNorm({ lowercase: false }) }),
  bert_strip_accents_true_cased: bertJson({ normalizer: bertNorm({ lowercase: false, strip_accents: true }) }),
  bert_strip_accents_false: bertJson({ normalizer: bertNorm({ strip_accents: false }) }),
  bert_no_clean_no_chinese: bertJson({ normalizer: bertNorm({ clean_text: false, handle_chinese_chars: false }),
    pre_tokenizer: { type: 'WhitespaceSplit' } }),
  bert_lowercase_only: bertJson({ normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'WhitespaceSplit' } }),
  wordpiece_short_words: bertJson({ model: { max_input_chars_per_word: 5 } }),
  wordpiece_other_prefix: (() => {
    const j = bertJson({ vocabOptions: { prefix: '@@' }, decoder: { type: 'WordPiece', prefix: '@@', cleanup: false } });
    j.model.continuing_subword_prefix = '@@';
    j.model.unk_token = '[MASK]';
    return j;
  })(),
  wordpiece_missing_chars: bertJson({ vocabOptions: { dropChars: ['é', 'x', '好'] } }),
  strip_and_accents: bertJson({ normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' },
    { type: 'Strip', strip_left: true, strip_right: false }] }, pre_tokenizer: { type: 'Split', pattern: { String: '  ' },
    behavior: 'Isolated', invert: false } }),
  strip_right_nfkc: bertJson({ normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' },
    { type: 'Strip', strip_left: false, strip_right: true }] }, pre_tokenizer: { type: 'Split', pattern: { String: 'o' },
    behavior: 'Isolated', invert: false } }),
  whitespace: bertJson({ normalizer: null, pre_tokenizer: { type: 'Whitespace' } }),
  whitespace_split: bertJson({ normalizer: null, pre_tokenizer: { type: 'WhitespaceSplit' } }),
  digits_individual: bertJson({ normalizer: null, pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'WhitespaceSplit' }, { type: 'Digits', individual_digits: true }] } }),
  digits_contiguous: bertJson({ normalizer: null, pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'WhitespaceSplit' }, { type: 'Digits', individual_digits: false }] } }),
  unicode_scripts: bertJson({ normalizer: null, pre_tokenizer: { type: 'UnicodeScripts' } }),
  word_level: (() => {
    const vocab = { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, hello: 3, ',': 4, world: 5, '!': 6, the: 7, '.': 8, 'you': 9 };
    return { version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: { type: 'Lowercase' },
      pre_tokenizer: { type: 'Whitespace' }, post_processor: { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] },
      decoder: null, model: { type: 'WordLevel', vocab, unk_token: '[UNK]' } };
  })(),
  // Hugging Face ignores the ids written in added_tokens (model id for a model text, else the
  // next past the vocabulary; a repeated text keeps its first id): every id here is "wrong".
  word_level_added_ids_rewritten: (() => {
    const vocab = { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, hello: 3, ',': 4, world: 5, '!': 6, the: 7, '.': 8, 'you': 9 };
    const added = (id, content, special) => ({ id, content, single_word: false, lstrip: false, rstrip: false,
      normalized: false, special });
    return { version: '1.0', truncation: null, padding: null,
      added_tokens: [added(40, 'world', false), added(99, 'x', true), added(3, 'y', false), added(7, 'x', false)],
      normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'Whitespace' },
      post_processor: { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] },
      decoder: null, model: { type: 'WordLevel', vocab, unk_token: '[UNK]' } };
  })(),
  word_level_untagged: (() => {
    const vocab = { '<unk>': 0, hello: 1, world: 2 };
    return { version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
      pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: null, decoder: null,
      model: { vocab, unk_token: '<unk>' } };
  })(),
  roberta_trim: byteLevelJson({ type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true,
    add_prefix_space: false }),
  roberta_trim_prefix: byteLevelJson({ type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true,
    add_prefix_space: true }),
  roberta_no_trim: byteLevelJson({ type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: false,
    add_prefix_space: true }),
  byte_level_prefix_space: byteLevelJson({ type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0],
    trim_offsets: true, add_prefix_space: true }, { pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true,
    trim_offsets: true, use_regex: true } }),
  byte_level_prefix_space_no_regex: byteLevelJson({ type: 'ByteLevel', add_prefix_space: true, trim_offsets: false,
    use_regex: true }, { pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' },
    { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: false }] } }),
  byte_level_post_trim: byteLevelJson({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }),
  template_pair: bertJson({ post_processor: { type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 1 } }, { Sequence: { id: 'B', type_id: 2 } },
      { SpecialToken: { id: '[SEP]', type_id: 2 } }],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } } } }),
  ctc_decoder: bertJson({ decoder: { type: 'CTC', pad_token: '[PAD]', word_delimiter_token: '|', cleanup: true } }),
  ctc_decoder_no_cleanup: bertJson({ decoder: { type: 'CTC', pad_token: '[PAD]', word_delimiter_token: '|', cleanup: false } }),
  wordpiece_decoder_no_cleanup: bertJson({ decoder: { type: 'WordPiece', prefix: '##', cleanup: false } }),
};
for (const behavior of ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
  CASES[`punctuation_${behavior}`] = bertJson({ normalizer: null, pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior }] } });
  CASES[`split_literal_${behavior}`] = bertJson({ normalizer: null, pre_tokenizer: { type: 'Split',
    pattern: { String: '!' }, behavior, invert: false } });
}
// Truncation and padding settings stored in tokenizer.json.
const trunc = (o) => ({ max_length: 8, stride: 0, strategy: 'LongestFirst', direction: 'Right', ...o });
const pad = (o) => ({ strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0,
  pad_token: '[PAD]', ...o });
Object.assign(CASES, {
  trunc_longest_first: bertJson({ truncation: trunc({}) }),
  trunc_longest_first_odd: bertJson({ truncation: trunc({ max_length: 9 }) }),
  trunc_only_first: bertJson({ truncation: trunc({ strategy: 'OnlyFirst', max_length: 10 }) }),
  trunc_only_second: bertJson({ truncation: trunc({ strategy: 'OnlySecond', max_length: 10 }) }),
  trunc_left_stride: bertJson({ truncation: trunc({ direction: 'Left', stride: 1, max_length: 9 }) }),
  trunc_tiny: bertJson({ truncation: trunc({ max_length: 2 }) }),
  pad_fixed: bertJson({ padding: pad({ strategy: { Fixed: 24 } }) }),
  pad_fixed_left: bertJson({ padding: pad({ strategy: { Fixed: 20 }, direction: 'Left', pad_id: 4, pad_type_id: 3,
    pad_token: '[MASK]' }) }),
  pad_multiple: bertJson({ padding: pad({ pad_to_multiple_of: 8 }) }),
  trunc_and_pad: bertJson({ truncation: trunc({ max_length: 12 }), padding: pad({ strategy: { Fixed: 12 } }) }),
  trunc_pad_multiple: bertJson({ truncation: trunc({ max_length: 10 }), padding: pad({ strategy: { Fixed: 10 },
    pad_to_multiple_of: 4 }) }),
});

async function main() {
  const names = Object.keys(CASES).sort();
  for (const name of names) {
    const json = JSON.stringify(CASES[name]);
    const tok = Tokenizer.fromString(json);
    // A max_length below the number of special tokens underflows an unsigned subtraction in
    // Hugging Face (its pair output is not meaningful there); lmkit refuses it instead, which
    // oracle_cases_test.cpp checks on its own.
    const lines = await encodeRecords(tok, TEXTS, PAIRS, { pairsWithSpecial: name !== 'trunc_tiny' });
    // Decoding id lists no encoder produces: repeats, pads, delimiters, prefixes at the start.
    const vocab = CASES[name].model.vocab;
    const idOf = (t) => (Array.isArray(vocab) ? -1 : vocab[t]);
    const seqs = [['##a', 'b', '##c', '.', 'do', 'not', "'", 's', '?'], ['[PAD]', 'h', 'h', '[PAD]', 'e', '|', '|', 'l', 'l',
      '[PAD]', 'l', 'o', '[CLS]', '!', ','], ['hello', ',', 'world', '!', 'n', "'", 't', '[SEP]']];
    for (const seq of seqs) {
      const ids = seq.map(idOf).filter((id) => id !== undefined && id >= 0);
      for (const skip of [false, true]) lines.push({ decode_ids: ids, skip_special_tokens: skip, text: await tok.decode(ids, skip) });
    }
    fs.writeFileSync(path.join(outDir, `${name}.tokenizer.json`), JSON.stringify(CASES[name]) + '\n');
    fs.writeFileSync(path.join(outDir, `${name}.expected.jsonl`), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  }
  console.log(`wrote ${names.length} cases to ${outDir}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
