#!/usr/bin/env node
// Serving throughput end to end: `lmkit serve --random SHAPE` on 127.0.0.1, streaming
// /v1/completions requests over HTTP.
//
//   node bench/serve_http_bench.mjs --lmkit build/lmkit [--shape qwen2.5-0.5b] [--type q8_0]
//        [--threads 2] [--tokenizer DIR] [--prompt-words 48] [--gen 32] [--levels 1,4,16,64]
//
// For each concurrency level C, C distinct prompts (seeded random English words, greedy,
// ignore_eos so each generates exactly --gen tokens) are sent at once ("batched"); then C
// other prompts of the same kind and length are sent one after another, each when the
// previous one finished ("sequential", the reference, same server, same run). No prompt is
// sent twice, so the prefix cache cannot favour either side (every prompt differs from its
// first word on).
// Reported per level: aggregate generated tokens/s of both, their ratio, and time to first
// token (mean and max) of the batched run. The tokenizer defaults to the shared Qwen3 one
// (../shared/data/tokenizers/qwen3), the vocabulary Qwen2.5 shares.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = { lmkit: 'build/lmkit', shape: 'qwen2.5-0.5b', type: 'q8_0', threads: '2', tokenizer: '',
  'prompt-words': '48', gen: '32', levels: '1,4,16,64' };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '');
  if (!(key in args)) throw new Error(`unknown option ${process.argv[i]}`);
  args[key] = process.argv[i + 1];
}
const gen = Number(args.gen);
const levels = args.levels.split(',').map(Number);

function sharedQwenTokenizerDir() {
  const src = path.join(here, '../../shared/data/tokenizers/qwen3');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmkit-bench-tok-'));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), zlib.gunzipSync(fs.readFileSync(path.join(src, 'tokenizer.json.gz'))));
  fs.copyFileSync(path.join(src, 'tokenizer_config.json'), path.join(dir, 'tokenizer_config.json'));
  return dir;
}

function startServer(tokenizerDir) {
  const child = spawn(args.lmkit, ['serve', '--random', args.shape, '--type', args.type, '--tokenizer', tokenizerDir,
    '--port', '0', '--threads', args.threads, '--ctx', '1024', '--max-batch', String(Math.max(...levels)),
    '--max-waiting', '1024'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    child.stderr.on('data', (d) => {
      log += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve({ child, port: Number(m[1]), log: log.split('\n')[0] });
    });
    child.on('exit', (code) => reject(new Error(`lmkit serve exited with ${code}: ${log}`)));
  });
}

// Seeded (mulberry32) so every run sends the same prompts.
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const words = ('time person year way day thing man world life hand part child eye woman place work week ' +
  'case point government company number group problem fact river garden music letter window mountain ' +
  'paper story water light morning evening city country table language history science').split(' ');
function prompts(count, seed) {
  const r = rng(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: Number(args['prompt-words']) }, () => words[Math.floor(r() * words.length)]).join(' '));
}

// One streaming completion; resolves with its time to first token and generated tokens.
async function complete(port, prompt) {
  const start = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt, max_tokens: gen, temperature: 0, ignore_eos: true, stream: true,
      stream_options: { include_usage: true } }),
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  let ttft = null, tokens = 0, buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const data = JSON.parse(event.slice(6));
      if (ttft === null && data.choices?.length) ttft = (performance.now() - start) / 1000;
      if (data.usage) tokens = data.usage.completion_tokens;
    }
  }
  return { ttft, tokens };
}

async function measure(port, batch, concurrent) {
  const start = performance.now();
  let results = [];
  if (concurrent) results = await Promise.all(batch.map((p) => complete(port, p)));
  else for (const p of batch) results.push(await complete(port, p));
  const seconds = (performance.now() - start) / 1000;
  const tokens = results.reduce((s, r) => s + r.tokens, 0);
  const ttfts = results.map((r) => r.ttft);
  return { seconds, tokens, tokensPerS: tokens / seconds, ttftMean: ttfts.reduce((a, b) => a + b, 0) / ttfts.length,
    ttftMax: Math.max(...ttfts) };
}

const tokenizerDir = args.tokenizer || sharedQwenTokenizerDir();
const { child, port, log } = await startServer(tokenizerDir);
console.error(log);
try {
  await measure(port, prompts(1, 999), false);  // warm-up: first-touch of weights and buffers
  const rows = [];
  for (const c of levels) {
    const batched = await measure(port, prompts(c, c), true);
    const sequential = await measure(port, prompts(c, 1000 + c), false);
    if (batched.tokens !== c * gen || sequential.tokens !== c * gen)
      throw new Error(`expected ${c * gen} tokens, got ${batched.tokens} and ${sequential.tokens}`);
    const row = { streams: c, batched_tok_s: batched.tokensPerS, sequential_tok_s: sequential.tokensPerS,
      ratio: batched.tokensPerS / sequential.tokensPerS, ttft_mean_s: batched.ttftMean, ttft_max_s: batched.ttftMax,
      sequential_ttft_mean_s: sequential.ttftMean };
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  console.log(`\n| streams | batched tok/s | one-at-a-time tok/s | ratio | TTFT mean (s) | TTFT max (s) | one-at-a-time TTFT (s) |`);
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(`| ${r.streams} | ${r.batched_tok_s.toFixed(1)} | ${r.sequential_tok_s.toFixed(1)} | ${r.ratio.toFixed(2)}x | ` +
      `${r.ttft_mean_s.toFixed(2)} | ${r.ttft_max_s.toFixed(2)} | ${r.sequential_ttft_mean_s.toFixed(2)} |`);
} finally {
  child.kill('SIGTERM');
  if (!args.tokenizer) fs.rmSync(tokenizerDir, { recursive: true, force: true });
}
