// @huggingface/jinja (the Jinja of transformers.js, from npm) as a live oracle for lmkit's
// chat templates, on conversations nobody wrote expected outputs for: every template of
// tests/jinja/data and of the shared data renders a set of seeded random conversations, built
// by recombining the messages of tests/jinja/oracle/conversations.json (roles in any order,
// tool calls and results, thinking fields, empty and whitespace content, with and without a
// generation prompt and tools). `lmkit tokenizer render` must print exactly what the oracle
// renders, or fail with the same message when the template's own raise_exception fires.
// Conversations the oracle itself cannot render (outside raise_exception) are counted and left
// out: there is nothing to compare against. One known oracle bug is allowed for, not hidden:
// @huggingface/jinja 0.5 ignores the characters given to strip/lstrip/rstrip ('x'.lstrip('\n')
// also strips spaces), where transformers' Python Jinja strips only those characters, as lmkit
// does; a difference on a template that strips with characters, for content with other
// whitespace at its ends, is counted as that divergence and printed.
// usage: node jinja_oracle.cjs --lmkit BIN --data SHARED_DATA --work DIR [--per-template N]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Template } = require('@huggingface/jinja');
const { rng } = require('../tokenizer/oracle/oracle_records.cjs');

const args = { 'per-template': '14' };
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const required of ['lmkit', 'data', 'work']) {
  if (!args[required]) {
    console.error(`jinja_oracle: --${required} is required`);
    process.exit(2);
  }
}
fs.mkdirSync(args.work, { recursive: true });

const oracleDir = path.join(__dirname, '../jinja/oracle');
const conversations = JSON.parse(fs.readFileSync(path.join(oracleDir, 'conversations.json'), 'utf8'));
const specs = JSON.parse(fs.readFileSync(path.join(oracleDir, 'templates.json'), 'utf8'));

// Templates: the oracle set (with the special tokens and the conversations each one takes)
// and the shared ones (tokens from their cases; list-content messages only for Gemma 3).
const templates = [];
for (const [name, spec] of Object.entries(specs)) {
  templates.push({ name, file: path.join(__dirname, '../jinja/data', name, 'chat_template.jinja'), tokens: spec.tokens || {},
    extra: spec.extra || {}, usable: (id) => !(spec.skip || []).includes(id) && (!spec.only || spec.only.includes(id)) });
}
for (const name of fs.readdirSync(path.join(args.data, 'chat_templates'))) {
  const dir = path.join(args.data, 'chat_templates', name);
  if (!fs.existsSync(path.join(dir, 'cases.jsonl'))) continue;
  const first = JSON.parse(fs.readFileSync(path.join(dir, 'cases.jsonl'), 'utf8').split('\n')[0]);
  const tokens = Object.fromEntries(Object.entries(first.context).filter(([k]) => k.endsWith('_token')));
  const listParts = (id) => ['c17', 'c18'].includes(id);
  templates.push({ name: `shared/${name}`, file: path.join(dir, 'chat_template.jinja'), tokens, extra: {},
    usable: (id) => name === 'gemma3' || !listParts(id) });
}

// A random conversation from the messages of the conversations this template takes.
function randomConversation(template, next) {
  const pool = conversations.filter((c) => template.usable(c.id));
  const pick = (xs) => xs[Math.floor(next() * xs.length)];
  const messages = [];
  let tools = null, extra = {};
  const turns = 1 + Math.floor(next() * 6);
  // Mostly a system/user/assistant shape, sometimes anything goes (roles out of order).
  const shaped = next() < 0.7;
  for (let i = 0; i < turns; ++i) {
    const conv = pick(pool);
    let candidates = conv.messages;
    if (shaped) {
      const role = i === 0 && next() < 0.4 ? 'system' : (messages.filter((m) => m.role !== 'system').length % 2 ? 'assistant' : 'user');
      const same = pool.flatMap((c) => c.messages.map((m) => ({ m, c }))).filter(({ m }) => m.role === role);
      if (same.length) {
        const { m, c } = pick(same);
        messages.push(m);
        if (c.tools) tools = c.tools;
        if (c.extra) extra = { ...extra, ...c.extra };
        continue;
      }
    }
    messages.push(pick(candidates));
    if (conv.tools) tools = conv.tools;
    if (conv.extra) extra = { ...extra, ...conv.extra };
  }
  const context = { messages, add_generation_prompt: next() < 0.6, ...template.tokens, ...template.extra, ...extra };
  if (tools && next() < 0.8) context.tools = tools;
  return context;
}

const perTemplate = Number(args['per-template']);
const failures = [];
let compared = 0, raised = 0, oracleFailures = 0, stripDivergences = 0;
const stripsWithCharacters = (source) => /\b[lr]?strip\(\s*['"]/.test(source);
const paddedContent = (context) => context.messages.some((m) => typeof m.content === 'string' && /^\s|\s$/.test(m.content));
templates.forEach((t, ti) => {
  const source = fs.readFileSync(t.file, 'utf8');
  const oracle = new Template(source);
  const next = rng(9000 + ti);
  for (let k = 0; k < perTemplate; ++k) {
    const context = randomConversation(t, next);
    let expected, expectedError;
    try {
      expected = oracle.render(JSON.parse(JSON.stringify(context)));
    } catch (err) {
      if (!source.includes(err.message)) {
        ++oracleFailures;
        continue;
      }
      expectedError = err.message;
    }
    const contextFile = path.join(args.work, `context-${ti}-${k}.json`);
    fs.writeFileSync(contextFile, JSON.stringify(context));
    // An empty directory: the tokens are in the context, the template comes from --template.
    const r = spawnSync(args.lmkit, ['tokenizer', 'render', '--tokenizer', args.work, '--template', t.file, '--context', contextFile],
      { encoding: 'utf8' });
    ++compared;
    const label = `${t.name} #${k} (${contextFile})`;
    if (expectedError !== undefined) {
      ++raised;
      if (r.status === 0 || !r.stderr.includes(expectedError))
        failures.push(`${label}: expected the template's error "${expectedError}", got status ${r.status}: ${r.stderr || r.stdout.slice(0, 200)}`);
    } else if (r.status !== 0) {
      failures.push(`${label}: lmkit failed: ${r.stderr}`);
    } else if (r.stdout !== expected && stripsWithCharacters(source) && paddedContent(context)) {
      ++stripDivergences;
      console.log(`${label}: differs where the oracle ignores strip's characters (known divergence)`);
    } else if (r.stdout !== expected) {
      let i = 0;
      while (i < expected.length && expected[i] === r.stdout[i]) ++i;
      failures.push(`${label}: differs at ${i}: expected ${JSON.stringify(expected.slice(i, i + 80))}, got ${JSON.stringify(r.stdout.slice(i, i + 80))}`);
    }
  }
});
console.log(`jinja_oracle: ${templates.length} templates, ${compared} random conversations compared ` +
  `(${raised} raising the template's own error, ${stripDivergences} on the oracle's strip divergence), ` +
  `${oracleFailures} the oracle could not render`);
if (compared < templates.length * perTemplate / 2) failures.push(`too few comparisons (${compared}): the generator is broken`);
if (failures.length) {
  console.error(failures.slice(0, 20).join('\n'));
  console.error(`jinja_oracle: ${failures.length} mismatches`);
  process.exit(1);
}
