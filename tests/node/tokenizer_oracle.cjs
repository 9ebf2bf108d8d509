// Hugging Face `tokenizers` (the official npm binding of the Rust library) as the oracle for
// lmkit's tokenizer, on inputs nobody wrote expected outputs for:
//  1. every tokenizer named on the command line encodes a few hundred generated strings (mixed
//     scripts, whitespace runs, special-token look-alikes, emoji sequences, accents, digits);
//     lmkit must give the same ids, tokens and offsets, with and without special tokens;
//  2. a tokenizer trained by `lmkit tokenizer train` on the shared sample corpus loads in
//     `tokenizers` and encodes the corpus and the generated strings exactly as lmkit does; its
//     vocab.json and merges.txt carry the same vocabulary and merges as its tokenizer.json;
//  3. the same for `--model sentencepiece-bpe` and `--model wordpiece` (encodings, decodes and
//     vocab files), and their vocabularies against what `tokenizers` trains itself from the same
//     text file with the trainer its binding can run (the model's default trainer: vocabulary
//     30000, no special tokens, no alphabet limit): BPE over Metaspace words must give the same
//     vocabulary (ids shifted past lmkit's <unk> and 256 byte tokens) and the same merges;
//     WordPiece the same vocabulary once lmkit is told the order `tokenizers` gave its "##x"
//     forms (a hash-map order that changes from run to run).
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

// 3. SentencePiece-style BPE and WordPiece.
const {
  BPE, WordPiece, metaspacePreTokenizer, bertNormalizer, bertPreTokenizer,
} = require('tokenizers');
function lmkitTrain(extra, out) {
  const r = spawnSync(args.lmkit, ['tokenizer', 'train', ...extra, '--out', out, '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lmkit tokenizer train ${extra.join(' ')} failed (${r.status}): ${r.stderr}`);
}
function mismatch(message) {
  if (++failures <= 10) console.error(`MISMATCH ${message}`);
}
async function compareDecodes(name, hf, tokenizerPath, texts) {
  let checked = 0;
  for (const text of texts) {
    const ids = Array.from((await hf.encode(text, null, { addSpecialTokens: true })).getIds());
    if (!ids.length) continue;
    for (const skip of [false, true]) {
      const want = await hf.decode(ids, skip);
      const argv = ['tokenizer', 'decode', '--tokenizer', tokenizerPath, ids.join(',')];
      if (skip) argv.push('--skip-special-tokens');
      const r = spawnSync(args.lmkit, argv, { encoding: 'utf8' });
      const got = r.stdout.replace(/\n$/, '');
      if (r.status !== 0 || got !== want) {
        mismatch(`${name} decode (skip_special_tokens=${skip}) of ${JSON.stringify(text)}\n` +
          `  tokenizers: ${JSON.stringify(want)}\n  lmkit:      ${JSON.stringify(got)} ${r.stderr}`);
      } else {
        ++checked;
      }
    }
  }
  console.log(`${name}: ${checked} decodes identical`);
}

// 3a. Trained by lmkit with each model's defaults, loaded by Hugging Face.
const modelChecks = [
  { model: 'sentencepiece-bpe', files: ['vocab.json'] },  // no merges.txt: tokens may hold a newline
  { model: 'wordpiece', files: ['vocab.txt'] },
];
for (const { model, files } of modelChecks) {
  const dir = path.join(args.work, `trained-${model}`);
  lmkitTrain(['--model', model, '--corpus', corpus, '--vocab-size', '4000', '--limit-alphabet', '1000'], dir);
  const file = path.join(dir, 'tokenizer.json');
  const hf = Tokenizer.fromFile(file);
  await compare(`trained-${model}`, hf, corpusTexts.concat(generated), file, `trained-${model}`);
  await compareDecodes(`trained-${model}`, hf, file, corpusTexts.slice(0, 10).concat(generated.slice(0, 30)));
  if (hf.getVocabSize(true) !== 4000) mismatch(`${model}: ${hf.getVocabSize(true)} tokens, asked for 4000`);
  const vocab = JSON.parse(fs.readFileSync(file, 'utf8')).model;
  const byId = Object.entries(vocab.vocab).sort((a, b) => a[1] - b[1]).map(([t]) => t);
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    let same;
    if (f === 'vocab.txt') same = JSON.stringify(text.split('\n').slice(0, -1)) === JSON.stringify(byId);
    else if (f === 'vocab.json') same = JSON.stringify(Object.entries(JSON.parse(text)).sort()) === JSON.stringify(Object.entries(vocab.vocab).sort());
    else same = JSON.stringify(text.split('\n').filter((l) => l && !l.startsWith('#version'))) === JSON.stringify(vocab.merges.map((m) => m.join(' ')));
    if (!same) mismatch(`${model}: ${f} differs from tokenizer.json`);
  }
  console.log(`trained-${model}: ${files.join(', ')} checked`);
}

// 3b. Hugging Face's own trainers on the same text file.
const sampleTxt = path.join(args.work, 'sample.txt');
fs.writeFileSync(sampleTxt, fs.readFileSync(corpus, 'utf8').split('\n').filter((l) => l.trim())
  .map((l) => JSON.parse(l).text).join('\n') + '\n');
function hfTrained(model, setup, name) {
  const t = new Tokenizer(model);
  setup(t);
  t.train([sampleTxt]);
  const out = path.join(args.work, `hf-${name}.json`);
  t.save(out);
  return JSON.parse(fs.readFileSync(out, 'utf8')).model;
}
function compareVocab(name, hfVocab, ours, shift) {
  const hfSize = Object.keys(hfVocab).length;
  let bad = 0;
  for (const [token, id] of Object.entries(hfVocab)) {
    if (ours[token] !== id + shift && ++bad <= 5) {
      mismatch(`${name}: "${token}" has id ${id} in tokenizers, ${ours[token]} in lmkit (expected ${id + shift})`);
    }
  }
  if (Object.keys(ours).length !== hfSize + shift) {
    mismatch(`${name}: lmkit has ${Object.keys(ours).length} tokens, tokenizers ${hfSize} + ${shift}`);
  }
  console.log(`${name}: ${hfSize - bad}/${hfSize} tokens of Hugging Face's trainer at the same id`);
}

const hfSp = hfTrained(BPE.empty(), (t) => t.setPreTokenizer(metaspacePreTokenizer('\u2581', 'first', true)), 'sentencepiece-bpe');
const spDir = path.join(args.work, 'lmkit-sentencepiece-bpe-30k');
const spSize = Object.keys(hfSp.vocab).length;
lmkitTrain(['--model', 'sentencepiece-bpe', '--corpus', sampleTxt, '--format', 'text', '--special-tokens', '<unk>',
  '--vocab-size', String(spSize + 257)], spDir);
const oursSp = JSON.parse(fs.readFileSync(path.join(spDir, 'tokenizer.json'), 'utf8')).model;
compareVocab('sentencepiece-bpe vs BpeTrainer', hfSp.vocab, oursSp.vocab, 257);
const hfMerges = hfSp.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
const ourMerges = oursSp.merges.map((m) => m.join(' '));
const firstDiff = hfMerges.findIndex((m, i) => m !== ourMerges[i]);
if (firstDiff >= 0 || hfMerges.length !== ourMerges.length) {
  mismatch(`sentencepiece-bpe merges differ from BpeTrainer's at ${firstDiff} (${hfMerges[firstDiff]} vs ${ourMerges[firstDiff]}); ` +
    `${hfMerges.length} vs ${ourMerges.length} merges`);
} else {
  console.log(`sentencepiece-bpe vs BpeTrainer: all ${hfMerges.length} merges identical in order`);
}

const hfWp = hfTrained(WordPiece.empty(), (t) => {
  t.setNormalizer(bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: true }));
  t.setPreTokenizer(bertPreTokenizer());
}, 'wordpiece');
const order = Object.entries(hfWp.vocab).filter(([t]) => t.startsWith('##') && [...t].length === 3)
  .sort((a, b) => a[1] - b[1]).map(([t]) => t);
const orderFile = path.join(args.work, 'wordpiece-order.txt');
fs.writeFileSync(orderFile, order.join('\n') + '\n');
const wpDir = path.join(args.work, 'lmkit-wordpiece-30k');
const wpSize = Object.keys(hfWp.vocab).length;
lmkitTrain(['--model', 'wordpiece', '--corpus', sampleTxt, '--format', 'text', '--special-tokens', '[UNK],[CLS],[SEP]',
  '--vocab-size', String(wpSize + 3), '--continuing-subword-order', orderFile], wpDir);
compareVocab('wordpiece vs WordPieceTrainer', hfWp.vocab,
  JSON.parse(fs.readFileSync(path.join(wpDir, 'tokenizer.json'), 'utf8')).model.vocab, 3);

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
