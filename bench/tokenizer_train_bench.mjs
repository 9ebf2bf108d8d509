// Byte-level BPE training, lmkit against Hugging Face `tokenizers` (npm), on the same ~50 MB
// mixed Chinese/English corpus, same machine, same run. Usage (see tokenizer_train.md):
//   node bench/tokenizer_train_bench.mjs --lmkit build/lmkit --npm-dir DIR [--work DIR] [--mb 50]
// DIR holds node_modules with tokenizers@0.23.2 and chinese-poetry@2.0.1.
// The npm binding trains only with BpeTrainer defaults (vocab 30000, no special tokens, no
// initial alphabet, one sequence per line of a .txt), so lmkit runs with the same settings
// (--format text --seen-bytes-only --vocab-size 30000) and the outputs are compared merge by merge.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const lmkit = path.resolve(args.lmkit ?? 'build/lmkit');
const npmDir = path.resolve(args['npm-dir'] ?? '.');
const work = path.resolve(args.work ?? '/tmp/lmkit-bench-train');
const targetBytes = Number(args.mb ?? 50) * 1e6;
const threads = args.threads ?? '2';
fs.mkdirSync(work, { recursive: true });

import { buildCorpus } from './corpus.mjs';

function timed(cmd, argv, env = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', cmd, ...argv], {
    encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const last = r.stderr.trim().split('\n').pop().split(' ');
  return { seconds: Number(last[0]), peakMB: Number(last[1]) / 1024,
           cpu: Number(last[2]) + Number(last[3]), stdout: r.stdout };
}

const { txt } = buildCorpus({ work, npmDir, targetBytes });
const mb = fs.statSync(txt).size / 1e6;
console.log(`corpus: ${txt} (${mb.toFixed(1)} MB)`);

// ---- Hugging Face (npm) ----
const hfOut = path.join(work, 'hf_tokenizer.json');
const hfScript = path.join(work, 'hf_train.cjs');
fs.writeFileSync(hfScript, `
const { Tokenizer, BPE, byteLevelPreTokenizer } = require(${JSON.stringify(path.join(npmDir, 'node_modules/tokenizers'))});
const t = new Tokenizer(BPE.empty());
t.setPreTokenizer(byteLevelPreTokenizer(false, true));
t.train([${JSON.stringify(txt)}]);
t.save(${JSON.stringify(hfOut)});
`);
const hf = timed(process.execPath, [hfScript], { RAYON_NUM_THREADS: threads, TOKENIZERS_PARALLELISM: 'true' });

// ---- lmkit ----
const lmOut = path.join(work, 'lmkit_out');
const lm = timed(lmkit, ['tokenizer', 'train', '--corpus', txt, '--format', 'text', '--seen-bytes-only',
  '--vocab-size', '30000', '--threads', threads, '--out', lmOut, '--quiet']);

// ---- identical? ----
const a = JSON.parse(fs.readFileSync(hfOut, 'utf8')).model;
const b = JSON.parse(fs.readFileSync(path.join(lmOut, 'tokenizer.json'), 'utf8')).model;
const norm = (m) => m.map((x) => (Array.isArray(x) ? x.join(' ') : x));
const va = Object.entries(a.vocab), vb = b.vocab;
const vocabSame = va.length === Object.keys(vb).length && va.every(([k, v]) => vb[k] === v);
const ma = norm(a.merges), mbm = norm(b.merges);
let firstDiff = ma.findIndex((m, k) => m !== mbm[k]);
const mergesSame = ma.length === mbm.length && firstDiff < 0;

console.log(`threads ${threads}`);
// Wall time is what a user waits; CPU time (user + sys) is steadier on a shared machine.
console.log(`hf tokenizers 0.23.2: ${hf.seconds.toFixed(2)} s wall, ${hf.cpu.toFixed(2)} s cpu, peak ${hf.peakMB.toFixed(0)} MB`);
console.log(`lmkit:                ${lm.seconds.toFixed(2)} s wall, ${lm.cpu.toFixed(2)} s cpu, peak ${lm.peakMB.toFixed(0)} MB`);
console.log(`speedup ${(hf.seconds / lm.seconds).toFixed(2)}x wall, ${(hf.cpu / lm.cpu).toFixed(2)}x cpu; ` +
  `memory ratio ${(lm.peakMB / hf.peakMB).toFixed(2)}`);
console.log(`load average during the run: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log(`vocab identical: ${vocabSame} (${va.length} tokens); merges identical: ${mergesSame} (${ma.length})` +
  (mergesSame ? '' : `; first difference at merge ${firstDiff}: hf "${ma[firstDiff]}" lmkit "${mbm[firstDiff]}"`));
if (!vocabSame || !mergesSame) process.exitCode = 1;
