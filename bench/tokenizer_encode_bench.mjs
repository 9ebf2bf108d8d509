// Encoding throughput, lmkit against Hugging Face `tokenizers` (npm 0.23.2, encodeBatch), with the
// Qwen3 tokenizer on the same ~50 MB mixed Chinese/English corpus, on 1 and 2 threads, in one run.
//   node bench/tokenizer_encode_bench.mjs --bench build/bench/bench_tokenizer_encode --npm-dir DIR
//        [--tokenizer ../shared/data/tokenizers/qwen3/tokenizer.json.gz] [--work DIR] [--mb 50]
// DIR holds node_modules with tokenizers@0.23.2 and chinese-poetry@2.0.1 (see tokenizer_train.md).
// Both sides load everything first and time only the encoding; both print a checksum of all ids,
// and the script fails if they differ (same tokens, or the comparison means nothing).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { buildCorpus } from './corpus.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const bench = path.resolve(args.bench ?? 'build/bench/bench_tokenizer_encode');
const npmDir = path.resolve(args['npm-dir'] ?? '.');
const work = path.resolve(args.work ?? '/tmp/lmkit-bench-train');
const targetBytes = Number(args.mb ?? 50) * 1e6;
const tokenizerSrc = path.resolve(args.tokenizer ?? '../shared/data/tokenizers/qwen3/tokenizer.json.gz');
fs.mkdirSync(work, { recursive: true });

const { jsonl } = buildCorpus({ work, npmDir, targetBytes });
let tokenizer = tokenizerSrc;
if (tokenizerSrc.endsWith('.gz')) {
  tokenizer = path.join(work, 'encode-bench-tokenizer.json');
  fs.writeFileSync(tokenizer, zlib.gunzipSync(fs.readFileSync(tokenizerSrc)));
}

// Hugging Face in a child process, so RAYON_NUM_THREADS takes effect for its pool.
const hfScript = path.join(work, 'hf_encode.cjs');
fs.writeFileSync(hfScript, `
const fs = require('node:fs');
const { Tokenizer } = require(${JSON.stringify(path.join(npmDir, 'node_modules/tokenizers'))});
(async () => {
  const t = Tokenizer.fromFile(${JSON.stringify(tokenizer)});
  const texts = fs.readFileSync(${JSON.stringify(jsonl)}, 'utf8').split('\\n').filter(Boolean).map((l) => JSON.parse(l).text);
  let bytes = 0;
  for (const s of texts) bytes += Buffer.byteLength(s);
  const start = process.hrtime.bigint();
  // Batches of 1000 texts, the way a data pipeline feeds it; one batch per call keeps memory flat.
  let tokens = 0, sum = 0;
  for (let i = 0; i < texts.length; i += 1000) {
    const encodings = await t.encodeBatch(texts.slice(i, i + 1000), { addSpecialTokens: false });
    for (const e of encodings) {
      const ids = e.getIds();
      tokens += ids.length;
      let h = 2166136261;
      for (const id of ids) h = Math.imul(h ^ id, 16777619) >>> 0;
      sum = (sum + h) >>> 0;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ texts: texts.length, bytes, tokens, seconds, mb_per_s: bytes / 1e6 / seconds, checksum: sum }));
})();
`);

function runJson(cmd, argv, env = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

let ok = true;
console.log(`corpus ${jsonl} (${(fs.statSync(jsonl).size / 1e6).toFixed(1)} MB), tokenizer ${tokenizerSrc}`);
for (const threads of [1, 2]) {
  const hf = runJson(process.execPath, [hfScript], { RAYON_NUM_THREADS: String(threads), TOKENIZERS_PARALLELISM: 'true' });
  const lm = runJson(bench, [tokenizer, jsonl, String(threads)]);
  const same = hf.checksum === lm.checksum && hf.tokens === lm.tokens;
  ok &&= same;
  console.log(`threads ${threads}: hf tokenizers 0.23.2 ${hf.mb_per_s.toFixed(2)} MB/s (${hf.seconds.toFixed(2)} s), ` +
    `lmkit ${lm.mb_per_s.toFixed(2)} MB/s (${lm.seconds.toFixed(2)} s), ratio ${(lm.mb_per_s / hf.mb_per_s).toFixed(2)}x; ` +
    `${lm.tokens} tokens, identical ids: ${same}`);
}
console.log(`load average: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
if (!ok) process.exitCode = 1;
