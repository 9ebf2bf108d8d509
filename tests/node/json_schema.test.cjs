// JSON schemas against ajv (an independent JSON Schema validator, draft 2020-12):
// 1. every hand-written document label in tests/server/json_schema_cases.json (which the C++
//    recognizer test also reads) is what ajv says: valid and restricted documents parse and
//    validate, invalid ones do not; the schemas lmkit refuses are real schemas ajv compiles;
// 2. constrained generation through a real `lmkit serve` (stories260K) for each case's schema,
//    at several seeds and temperatures, streamed and not: every reply that stops parses and
//    validates, the streamed text equals the non-streamed one, and each schema gets some
//    complete replies.
// Run: LMKIT_BINARY=build/lmkit node --test tests/node/json_schema.test.cjs
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020');
const { startServer } = require('./lmkit_server.cjs');

const CASES = JSON.parse(fs.readFileSync(path.join(__dirname, '../server/json_schema_cases.json'), 'utf8'));

function validator(schema) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return ajv.compile(schema);
}

function parses(text) {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (_) {
    return { ok: false };
  }
}

test('hand-written labels agree with ajv', () => {
  for (const c of CASES.cases) {
    const validate = validator(c.schema);
    for (const doc of [...c.valid, ...c.restricted]) {
      const p = parses(doc);
      assert.ok(p.ok, `${c.name}: ${JSON.stringify(doc)} should parse`);
      assert.ok(validate(p.value), `${c.name}: ${JSON.stringify(doc)} should be valid: ${JSON.stringify(validate.errors)}`);
    }
    for (const doc of c.invalid) {
      const p = parses(doc);
      assert.ok(!p.ok || !validate(p.value), `${c.name}: ${JSON.stringify(doc)} should be invalid`);
    }
  }
});

test('refused schemas are schemas ajv compiles; malformed ones it rejects', () => {
  for (const r of CASES.refused)
    if (!r.external) assert.doesNotThrow(() => validator(r.schema), JSON.stringify(r.schema));
  for (const r of CASES.unsatisfiable) assert.doesNotThrow(() => validator(r), JSON.stringify(r));
  for (const r of CASES.malformed) {
    // A missing $ref target only shows when ajv resolves it, also at compile time.
    assert.throws(() => validator(r.schema), undefined, JSON.stringify(r.schema));
  }
});

let server;

test.before(async () => {
  server = await startServer({ extraArgs: ['--ctx', '512', '--threads', '1'] });
});

test.after(async () => {
  if (server) {
    const status = await server.stop();
    assert.deepStrictEqual(status, { code: 0, signal: null }, `server did not exit cleanly:\n${server.output()}`);
  }
});

async function chat(body) {
  const r = await fetch(`${server.base}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.strictEqual(r.status, 200, text);
  if (!body.stream) return JSON.parse(text).choices.map((c) => ({ text: c.message.content, finish: c.finish_reason }));
  const replies = [];
  for (const event of text.split('\n\n')) {
    if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
    for (const c of JSON.parse(event.slice(6)).choices) {
      replies[c.index] ??= { text: '', finish: null };
      if (typeof c.delta.content === 'string') replies[c.index].text += c.delta.content;
      if (c.finish_reason) replies[c.index].finish = c.finish_reason;
    }
  }
  return replies;
}

test('generated replies validate with ajv, streamed or not', async () => {
  let completeSchemas = 0;
  let total = 0;
  for (const c of CASES.cases) {
    const validate = validator(c.schema);
    let complete = 0;
    for (const [seed, temperature] of [[3, 1.5], [40, 1.0], [77, 0.7]]) {
      const body = {
        messages: [{ role: 'user', content: 'Reply in JSON' }], max_tokens: 120, seed, temperature, n: 4,
        response_format: { type: 'json_schema', json_schema: { name: 'reply', schema: c.schema, strict: true } },
      };
      const plain = await chat(body);
      const streamed = await chat({ ...body, stream: true });
      assert.strictEqual(plain.length, 4);
      assert.deepStrictEqual(streamed, plain, `${c.name}: streamed replies differ`);
      for (const reply of plain) {
        if (reply.finish !== 'stop') {
          assert.strictEqual(reply.finish, 'length');
          continue;
        }
        const p = parses(reply.text);
        assert.ok(p.ok, `${c.name}: ${JSON.stringify(reply.text)} does not parse`);
        assert.ok(validate(p.value), `${c.name}: ${JSON.stringify(reply.text)} is invalid: ${JSON.stringify(validate.errors)}`);
        complete++;
      }
    }
    total += complete;
    if (complete > 0) completeSchemas++;
  }
  // The tiny model sometimes runs out of tokens inside free strings; most schemas complete.
  assert.ok(completeSchemas > CASES.cases.length * 2 / 3, `only ${completeSchemas} schemas got a whole reply`);
  assert.ok(total > 150, `only ${total} whole replies`);
});

test('schemas lmkit cannot enforce are a 400 naming the pointer', async () => {
  for (const r of [...CASES.refused, ...CASES.malformed]) {
    const res = await fetch(`${server.base}/v1/chat/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'json_schema', json_schema: { name: 'r', schema: r.schema } } }),
    });
    const body = await res.json();
    assert.strictEqual(res.status, 400, JSON.stringify(body));
    assert.strictEqual(body.error.param, 'response_format');
    assert.ok(body.error.message.includes(`'#${r.pointer}'`), body.error.message);
  }
});
