// Hugging Face `tokenizers` (the official npm binding of the Rust library) as the oracle for
// lmkit's tokenizer, on inputs nobody wrote expected outputs for:
//  1. every tokenizer named on the command line encodes a few hundred generated strings (mixed
//     scripts, whitespace runs, special-token look-alikes, emoji sequences, accents, digits);
//     lmkit must give the same ids, tokens and offsets, with and without special tokens;
//  2. a tokenizer trained by `lmkit tokenizer train` on the shared sample corpus loads in
//     `tokenizers` and encodes the corpus and the generated strings exactly as lmkit does; its
//     vocab.json and merges.txt carry the same vocabulary and merges as its tokenizer.json.
// usage: node tokenizer_oracle.cjs --lmkit BIN --data SHARED_DATA --work DIR --tokenizers a,b,c
// Exits 1 listing the first mismatches.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { spawnSync } = require('node:child_process');
const { Tokenizer } = require('tokenizers');
const { rng } = require('../tokenizer/oracle/oracle_records.cjs');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const required of ['lmkit', 'data', 'work', 'tokenizers']) {
  if (!args[required]) {
    console.error(`tokenizer_oracle: --${required} is required`);
    process.exit(2);
  }
}
fs.mkdirSync(args.work, { recursive: true });

// ---- generated inputs: a seeded mix of the things tokenizers get wrong ----
const PIECES = [
  'Hello', 'world', "don't", "I'll", 'THE', 'tokenization', 'naïve', 'café', 'Ünïcödé', 'e\u0301',
  '123', '4567890', '3.14159', '1,000,000', '0x1F', '²³', '½', 'ﬁ', 'Ⅻ', '①',
  ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', '\u00a0', '\u3000', '\u2009', ' \n ',
  '你好', '世界', '中文分词测试', '繁體中文', 'こんにちは', 'カタカナ', '한국어', '안녕하세요',
  'Привет', 'мир', 'مرحبا', 'שלום', 'नमस्ते', 'ไทย', 'Ελληνικά',
  '😀', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '❤️', '\u200d', '\ufeff', '\ufffd', '\u{1d11e}', '\ue000',
  '<s>', '</s>', '<unk>', '<|endoftext|>', '<|im_start|>', '<|im_end|>', '[CLS]', '[SEP]', '[MASK]',
  '<|begin_of_text|>', '<pad>', '<mask>', '<|im_start', 'im_end|>',
  '.', ',', '!', '?', '...', '—', '–', '“quoted”', '«ok»', '(x)', '[y]', '{z}', '#', '@user',
  'def f(x):', '    return x', 'int main() {', '}', '</div>', 'a_b_c', 'camelCase', 'snake_case',
  'https://example.com/a?b=c', 'e-mail@example.org', '$HOME', '~/.bashrc', '\\n', '\x00', '\x07', '\x7f',
  '\u0085', '\u2028',
];
function generatedStrings(seed, count) {
  const next = rng(seed);
  const out = [''];
  for (let i = 0; i < count; ++i) {
    const n = 1 + Math.floor(next() * 12);
    let s = '';
    for (let k = 0; k < n; ++k) {
      const p = PIECES[Math.floor(next() * PIECES.length)];
      s += p;
      if (next() < 0.5) s += ' ';
    }
    out.push(s);
  }
  return out;
}

// ---- lmkit: one process per tokenizer, all texts through --input as JSONL ----
function lmkitEncode(tokenizerPath, texts, addSpecial, tag) {
  const input = path.join(args.work, `${tag}.jsonl`);
  fs.writeFileSync(input, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const argv = ['tokenizer', 'encode', '--tokenizer', tokenizerPath, '--input', input, '--json'];
  if (addSpecial) argv.push('--add-special-tokens');
  const r = spawnSync(args.lmkit, argv, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`lmkit ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.length);
  if (lines.length !== texts.length) throw new Error(`lmkit gave ${lines.length} lines for ${texts.length} texts`);
  return lines.map((l) => JSON.parse(l));
}

let failures = 0;
async function compare(name, hf, texts, tokenizerPath, tag) {
  for (const addSpecial of [false, true]) {
    const ours = lmkitEncode(tokenizerPath, texts, addSpecial, `${tag}-${addSpecial}`);
    const theirs = await hf.encodeBatch(texts, { addSpecialTokens: addSpecial });
    let checked = 0;
    texts.forEach((text, i) => {
      const e = theirs[i];
      const want = { ids: Array.from(e.getIds()), tokens: e.getTokens(), offsets: e.getOffsets() };
      const got = ours[i];
      for (const field of ['ids', 'tokens', 'offsets']) {
        if (JSON.stringify(want[field]) !== JSON.stringify(got[field])) {
          if (++failures <= 10) {
            console.error(`MISMATCH ${name} (add_special_tokens=${addSpecial}) ${field} for ${JSON.stringify(text)}\n` +
              `  tokenizers: ${JSON.stringify(want[field])}\n  lmkit:      ${JSON.stringify(got[field])}`);
          }
          return;
        }
      }
      ++checked;
    });
    console.log(`${name} add_special_tokens=${addSpecial}: ${checked}/${texts.length} identical`);
  }
}

function materialize(dir) {
  const plain = path.join(dir, 'tokenizer.json');
  if (fs.existsSync(plain)) return plain;
  const out = path.join(args.work, `${path.basename(dir)}-tokenizer.json`);
  fs.writeFileSync(out, zlib.gunzipSync(fs.readFileSync(`${plain}.gz`)));
  return out;
}

async function main() {
// 1. The shared real tokenizers on generated strings.
const generated = generatedStrings(20261202, 300);
for (const name of args.tokenizers.split(',').filter(Boolean)) {
  const file = materialize(path.join(args.data, 'tokenizers', name));
  await compare(name, Tokenizer.fromFile(file), generated, file, name);
}

// 2. A tokenizer lmkit trains, loaded by Hugging Face.
const corpus = path.join(args.data, 'corpus', 'sample.jsonl');
const trainedDir = path.join(args.work, 'trained');
const template = path.join(args.work, 'chatml.jinja');
fs.writeFileSync(template,
  "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");
const train = spawnSync(args.lmkit, ['tokenizer', 'train', '--corpus', corpus, '--field', 'text',
  '--vocab-size', '4000', '--special-tokens', '<|endoftext|>,<|im_start|>,<|im_end|>',
  '--chat-template', template, '--out', trainedDir, '--quiet'], { encoding: 'utf8' });
if (train.status !== 0) {
  console.error(`lmkit tokenizer train failed (${train.status}): ${train.stderr}`);
  process.exit(1);
}
const trainedJson = path.join(trainedDir, 'tokenizer.json');
const trained = Tokenizer.fromFile(trainedJson);
const corpusTexts = fs.readFileSync(corpus, 'utf8').split('\n').filter((l) => l.trim())
  .slice(0, 400).map((l) => JSON.parse(l).text);
await compare('trained-on-sample', trained, corpusTexts.concat(generated), trainedJson, 'trained');

const saved = JSON.parse(fs.readFileSync(trainedJson, 'utf8'));
const vocabJson = JSON.parse(fs.readFileSync(path.join(trainedDir, 'vocab.json'), 'utf8'));
if (JSON.stringify(Object.entries(vocabJson).sort()) !== JSON.stringify(Object.entries(saved.model.vocab).sort())) {
  console.error('MISMATCH vocab.json differs from tokenizer.json model.vocab');
  ++failures;
}
const mergesTxt = fs.readFileSync(path.join(trainedDir, 'merges.txt'), 'utf8').split('\n')
  .filter((l) => l && !l.startsWith('#version'));
const mergesJson = saved.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
if (JSON.stringify(mergesTxt) !== JSON.stringify(mergesJson)) {
  console.error(`MISMATCH merges.txt (${mergesTxt.length} merges) differs from tokenizer.json (${mergesJson.length})`);
  ++failures;
}
if (trained.getVocabSize(true) !== 4000) {
  console.error(`MISMATCH trained vocabulary has ${trained.getVocabSize(true)} tokens, asked for 4000`);
  ++failures;
}
for (const special of ['<|endoftext|>', '<|im_start|>', '<|im_end|>']) {
  const e = await trained.encode(`a${special}b`, null, { addSpecialTokens: false });
  if (!e.getTokens().includes(special)) {
    console.error(`MISMATCH ${special} is not a single special token in the trained tokenizer`);
    ++failures;
  }
}
console.log(`vocab.json, merges.txt, ${mergesJson.length} merges and special tokens checked`);

if (failures) {
  console.error(`tokenizer_oracle: ${failures} mismatch(es)`);
  process.exit(1);
}
console.log('tokenizer_oracle: all identical');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
