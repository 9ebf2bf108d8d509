// Writes crafted tokenizer.json files exercising the SentencePiece-family components (Unigram
// model, Metaspace pre-tokenizer and decoder, Precompiled normalizer) with the outputs Hugging
// Face `tokenizers` (npm, the official binding of the Rust library) gives for them, to
// tests/tokenizer/data/oracle/spm_*. oracle_cases_test.cpp checks lmkit against every case
// there; sentencepiece_test.cpp checks the configurations Hugging Face refuses to load
// (spm_load_errors.json).
// usage (from the repo root, after scripts/setup installed tests/node; needs the shared data
// for t5's precompiled_charsmap):
//   node tests/tokenizer/oracle/make_sentencepiece_cases.cjs
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { Tokenizer } = require(require.resolve('tokenizers', { paths: [path.join(__dirname, '../../node')] }));
const { rng, encodeRecords } = require('./oracle_records.cjs');

const outDir = path.join(__dirname, '../data/oracle');
const dataDir = process.env.LMKIT_TEST_DATA || path.join(__dirname, '../../../../shared/data');
fs.mkdirSync(outDir, { recursive: true });

const t5 = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(dataDir, 'tokenizers/t5/tokenizer.json.gz'))));
const NMT_NFKC = t5.normalizer.precompiled_charsmap;

// Inputs: space runs, the replacement character itself, unknown scripts, emoji (byte
// fallback), what nmt_nfkc rewrites (full-width, ligatures, circled digits, ™, ½, ideographic
// space, zero-width and control characters, CRLF, decomposed accents), special-token text.
const TEXTS = [
  '', ' ', '   ', 'Hello world', ' Hello world', 'Hello world ', 'Hello   world', 'a  b   c    d', 'hello\tworld\nnew line',
  '▁already▁marked', 'a ▁ b', 'unaffable unfair fairly', 'the cat sat on the mat', 'banana bandana',
  'quiz zebra jazz', '你好世界', 'mixed 漢字 and English', 'こんにちは world', '😀 emoji 👍🏽 ok', 'café naïve résumé',
  'cafe\u0301 e\u0301 a\u0300', 'ＡＢＣ ｆｕｌｌ ｗｉｄｔｈ', 'ﬁne ﬂow ﬀ', '① ② ⑩', 'Trade™ mark ½ cup', 'ideo\u3000space',
  'zero\u200bwidth\ufeffbom', 'ctrl\u0000nul\u0007bel\u0085nel', 'crlf\r\nline\rcr', 'tab\u00a0nbsp\u2009thin',
  '<unk> literal', 'x</s>y', '<s> start', 'a<sep>b', 'end <sep> mid <sep>', 'x<se y <sep>z <se', 'x\u0301\u0302\u0303 stacked',
  '👨‍👩‍👧 family', '🇫🇷 flag', 'ǅ ǈ ǋ ß', 'İstanbul', '1,000,000 3.14159', 'aaaa aaaaaaaa ab abab', 'Ⅻ ㎏ ㍻',
];
const PAIRS = [['Hello world', 'the cat sat'], [' leading', 'trailing '], ['你好', 'café'], ['', 'only pair'],
  ['a<sep>b', '<s> x']];

const ALL_TEXT = TEXTS.concat(PAIRS.flat());
const SPECIALS = ['<unk>', '<s>', '</s>'];
// Characters that get no piece, so the unknown/byte-fallback paths run.
const DROPPED = new Set([...'你好世界漢字こんにちは😀👍🏽👨👩👧🇫🇷qzǅİ\u0301\u200d']);

// Unigram pieces: specials, single characters, "▁"+word and word fragments, scored by a seeded
// generator; `coarse` rounds scores to whole numbers so Viterbi meets many ties.
// Added-token texts are kept out of the vocabulary: Hugging Face gives an added token whose text
// is a model piece that piece's id, whatever id the file declares.
function unigramPieces({ seed, coarse = false, byteFallback = false, nfkc = false, reserved = new Set() }) {
  const next = rng(seed);
  const score = () => (coarse ? -Math.floor(1 + next() * 6) : -(1 + next() * 12));
  const pieces = [];
  const seen = new Set();
  const add = (p, s) => {
    if (p.length === 0 || seen.has(p) || reserved.has(p)) return;
    seen.add(p);
    pieces.push([p, s]);
  };
  SPECIALS.forEach((p) => add(p, 0));
  if (byteFallback) for (let b = 0; b < 256; b++) add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, 0);
  const texts = nfkc ? ALL_TEXT.map((t) => t.normalize('NFKC')) : ALL_TEXT;
  add('▁', score());
  const chars = new Set();
  for (const t of texts) for (const c of t) chars.add(c);
  for (const c of [...chars].sort()) if (!DROPPED.has(c) && !/\s/u.test(c)) add(c, score());
  for (const t of texts) {
    for (const w of t.split(/\s+/u).filter(Boolean)) {
      const cs = [...w];
      if (cs.some((c) => DROPPED.has(c))) continue;
      if (next() < 0.8) add('▁' + w, score());
      for (let i = 0; i < cs.length; i++)
        for (let len = 2; len <= 4 && i + len <= cs.length; len++) if (next() < 0.35) add(cs.slice(i, i + len).join(''), score());
    }
  }
  return pieces;
}

function addedTokens(pieces, extra = []) {
  const ids = new Map(pieces.map(([p], i) => [p, i]));
  const out = SPECIALS.map((content) => ({ id: ids.get(content), content, single_word: false, lstrip: false,
    rstrip: false, normalized: false, special: true }));
  for (const e of extra) {
    const o = typeof e === 'string' ? { content: e } : e;
    out.push({ id: pieces.length + out.length - SPECIALS.length, single_word: false, lstrip: false, rstrip: false,
      normalized: false, special: false, ...o });
  }
  return out;
}

const eosTemplate = {
  type: 'TemplateProcessing',
  single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
  pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } },
    { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '</s>', type_id: 1 } }],
  special_tokens: { '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } },
};
const bosTemplate = {
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
  pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
    { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
  special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
};
const metaspace = (o = {}) => ({ type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true, ...o });

function unigramJson({ seed = 1, coarse, byteFallback, nfkc, unk_id = 0, normalizer = null, pre_tokenizer = metaspace(),
  decoder = metaspace(), post_processor = eosTemplate, extraAdded = [] }) {
  const reserved = new Set(extraAdded.map((e) => (typeof e === 'string' ? e : e.content)));
  const pieces = unigramPieces({ seed, coarse, byteFallback, nfkc, reserved });
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: addedTokens(pieces, extraAdded), normalizer,
    pre_tokenizer, post_processor, decoder, model: { type: 'Unigram', unk_id, vocab: pieces, byte_fallback: !!byteFallback },
  };
}

const llamaDecoder = { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' },
  { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] };

const CASES = {
  spm_unigram_always: unigramJson({ seed: 1 }),
  spm_unigram_ties: unigramJson({ seed: 2, coarse: true }),
  spm_unigram_ties_no_split: unigramJson({ seed: 3, coarse: true, pre_tokenizer: metaspace({ split: false }) }),
  spm_unigram_unk_not_first: unigramJson({ seed: 4, unk_id: 2 }),
  spm_unigram_no_unk: unigramJson({ seed: 5, unk_id: null }),
  spm_unigram_byte_fallback: unigramJson({ seed: 6, byteFallback: true, decoder: llamaDecoder, post_processor: bosTemplate,
    pre_tokenizer: metaspace({ prepend_scheme: 'first', split: false }), extraAdded: ['<sep>'] }),
  spm_unigram_no_pre_tokenizer: unigramJson({ seed: 7, pre_tokenizer: null, decoder: null }),
  spm_metaspace_first_split: unigramJson({ seed: 8, pre_tokenizer: metaspace({ prepend_scheme: 'first' }),
    decoder: metaspace({ prepend_scheme: 'first' }), extraAdded: ['<sep>'] }),
  // A single_word token touching a word character is dropped without trying the shorter
  // token that also starts there.
  spm_added_single_word: unigramJson({ seed: 16, pre_tokenizer: metaspace({ prepend_scheme: 'first' }),
    extraAdded: [{ content: '<sep>', single_word: true }, '<se'] }),
  spm_metaspace_never: unigramJson({ seed: 9, pre_tokenizer: metaspace({ prepend_scheme: 'never' }),
    decoder: metaspace({ prepend_scheme: 'never' }) }),
  spm_metaspace_never_no_split: unigramJson({ seed: 10, pre_tokenizer: metaspace({ prepend_scheme: 'never', split: false }),
    decoder: metaspace({ prepend_scheme: 'never', split: false }) }),
  spm_metaspace_legacy_fields: unigramJson({ seed: 11,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, str_rep: '▁' },
    decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: true } }),
  spm_metaspace_legacy_no_prefix: unigramJson({ seed: 12,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', add_prefix_space: false, prepend_scheme: 'never' },
    decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: false, prepend_scheme: 'never' } }),
  spm_metaspace_whitespace_split: unigramJson({ seed: 13,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, metaspace()] } }),
  spm_precompiled_t5_layout: unigramJson({ seed: 14, nfkc: true, normalizer: { type: 'Precompiled', precompiled_charsmap: NMT_NFKC },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, metaspace()] } }),
  spm_precompiled_modern_layout: unigramJson({ seed: 15, nfkc: true, byteFallback: true,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Precompiled', precompiled_charsmap: NMT_NFKC },
      { type: 'Replace', pattern: { Regex: ' {2,}' }, content: '▁' }] },
    pre_tokenizer: metaspace({ prepend_scheme: 'first' }), decoder: metaspace({ prepend_scheme: 'first' }) }),
};

// Configurations Hugging Face refuses to load, with its message.
const LOAD_ERRORS = {
  metaspace_no_prefix_but_always: { pre_tokenizer: { type: 'Metaspace', replacement: '▁', add_prefix_space: false } },
  metaspace_two_characters: { pre_tokenizer: { type: 'Metaspace', replacement: '▁▁' } },
  metaspace_no_replacement: { pre_tokenizer: { type: 'Metaspace' } },
  metaspace_bad_scheme: { pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'sometimes' } },
  metaspace_decoder_no_prefix_but_first: { decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: false,
    prepend_scheme: 'first' } },
  unigram_unk_out_of_range: { model: { type: 'Unigram', unk_id: 3, vocab: [['a', -1], ['b', -2]] } },
  unigram_unk_in_empty_vocab: { model: { type: 'Unigram', unk_id: 0, vocab: [] } },
  unigram_vocab_not_pairs: { model: { type: 'Unigram', unk_id: 0, vocab: [['a', -1], ['b']] } },
  unigram_score_not_number: { model: { type: 'Unigram', unk_id: 0, vocab: [['a', 'x']] } },
  unigram_no_vocab: { model: { type: 'Unigram', unk_id: 0 } },
};

async function main() {
  const names = Object.keys(CASES).sort();
  for (const name of names) {
    const json = JSON.stringify(CASES[name]);
    const tok = Tokenizer.fromString(json);
    const lines = await encodeRecords(tok, TEXTS, PAIRS);
    // Decoding id lists no encoder produces: replacement-only pieces first, specials first,
    // byte pieces that do not form UTF-8.
    const vocab = CASES[name].model.vocab.map(([p]) => p);
    const idOf = (t) => vocab.indexOf(t);
    const next = rng(99);
    const seqs = [['▁', '▁', 'a', '▁'], ['<s>', '▁', 'Hello', '▁world', '</s>'], ['</s>', '▁the', '<unk>', '▁'],
      ['<0xE4>', '<0xBD>', '<0xA0>', '<0xFF>', '▁', '<0x41>'], Array.from({ length: 12 }, () => vocab[Math.floor(next() * vocab.length)])];
    for (const seq of seqs) {
      const ids = seq.map(idOf).filter((id) => id >= 0);
      for (const skip of [false, true]) lines.push({ decode_ids: ids, skip_special_tokens: skip, text: await tok.decode(ids, skip) });
    }
    fs.writeFileSync(path.join(outDir, `${name}.tokenizer.json`), json + '\n');
    fs.writeFileSync(path.join(outDir, `${name}.expected.jsonl`), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  }
  const errors = {};
  const base = { version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null,
    post_processor: null, decoder: null, model: { type: 'Unigram', unk_id: 0, vocab: [['<unk>', 0], ['a', -1]] } };
  for (const [name, patch] of Object.entries(LOAD_ERRORS)) {
    const json = { ...base, ...patch };
    try {
      Tokenizer.fromString(JSON.stringify(json));
      throw new Error(`${name}: Hugging Face accepted it`);
    } catch (err) {
      if (String(err.message).endsWith('accepted it')) throw err;
      errors[name] = { tokenizer: json, huggingface_error: String(err.message || err) };
    }
  }
  fs.writeFileSync(path.join(outDir, 'spm_load_errors.json'), JSON.stringify(errors, null, 1) + '\n');
  console.log(`wrote ${names.length} cases and ${Object.keys(errors).length} load errors to ${outDir}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
