// The official `openai` npm client against a real `lmkit serve` (stories260K): models list,
// completions, chat streamed and not (the streamed text equals the non-streamed one), usage,
// n choices, and errors surfacing as the client's typed exceptions.
// Run: LMKIT_BINARY=build/lmkit node --test tests/node/openai_client.test.cjs
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const OpenAI = require('openai');
const { startServer } = require('./lmkit_server.cjs');

const API_KEY = 'sk-lmkit-node-test';
let server;
let client;

test.before(async () => {
  server = await startServer({ extraArgs: ['--alias', 'stories', '--api-key', API_KEY, '--ctx', '512', '--threads', '1'] });
  client = new OpenAI({ apiKey: API_KEY, baseURL: `${server.base}/v1`, maxRetries: 0 });
});

test.after(async () => {
  if (server) {
    const status = await server.stop();
    assert.deepStrictEqual(status, { code: 0, signal: null }, `server did not exit cleanly:\n${server.output()}`);
  }
});

test('models list', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepStrictEqual(ids, ['stories']);
  const one = await client.models.retrieve('stories');
  assert.strictEqual(one.id, 'stories');
});

test('completions, streamed equals non-streamed', async () => {
  const params = { model: 'stories', prompt: 'Once upon a time', max_tokens: 24, temperature: 0 };
  const full = await client.completions.create(params);
  assert.strictEqual(full.object, 'text_completion');
  assert.strictEqual(full.choices.length, 1);
  assert.ok(full.choices[0].text.length > 0);
  assert.ok(['stop', 'length'].includes(full.choices[0].finish_reason));
  assert.strictEqual(full.usage.total_tokens, full.usage.prompt_tokens + full.usage.completion_tokens);

  const stream = await client.completions.create({ ...params, stream: true });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      text += c.text;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.strictEqual(text, full.choices[0].text);
  assert.strictEqual(finish, full.choices[0].finish_reason);
});

test('chat, streamed equals non-streamed, with usage', async () => {
  const params = {
    model: 'stories',
    messages: [{ role: 'system', content: 'Tell a story.' }, { role: 'user', content: 'A dog and a cat' }],
    max_completion_tokens: 32,
    temperature: 0,
  };
  const full = await client.chat.completions.create(params);
  assert.strictEqual(full.object, 'chat.completion');
  assert.strictEqual(full.choices[0].message.role, 'assistant');
  assert.strictEqual(typeof full.choices[0].message.content, 'string');
  assert.ok(full.usage.completion_tokens > 0);

  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage = null;
  let role = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role) role = c.delta.role;
      if (c.delta.content) text += c.delta.content;
    }
  }
  assert.strictEqual(role, 'assistant');
  assert.strictEqual(text, full.choices[0].message.content);
  assert.strictEqual(usage.completion_tokens, full.usage.completion_tokens);
  assert.strictEqual(usage.prompt_tokens, full.usage.prompt_tokens);
});

test('n choices with a seed', async () => {
  const r = await client.chat.completions.create({
    model: 'stories', messages: [{ role: 'user', content: 'Once' }], n: 3, seed: 5, max_tokens: 8,
  });
  assert.deepStrictEqual(r.choices.map((c) => c.index), [0, 1, 2]);
});

test('errors come back as the client\'s typed errors', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404);
  await assert.rejects(client.chat.completions.create({ model: 'stories', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && /temperature/.test(e.message));
  const noKey = new OpenAI({ apiKey: 'wrong', baseURL: `${server.base}/v1`, maxRetries: 0 });
  await assert.rejects(noKey.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
});

test('a json_schema response parses and validates', async () => {
  // ajv is the independent judge of the replies. The tiny model knows no JSON: the constraint
  // alone shapes its replies; some seeds run out of tokens inside a string.
  const Ajv2020 = require('ajv/dist/2020');
  const schema = {
    type: 'object', additionalProperties: false, required: ['name', 'mood', 'tags'],
    properties: {
      name: { type: 'string', maxLength: 12 },
      mood: { enum: ['happy', 'sad'] },
      tags: { type: 'array', items: { type: 'string', maxLength: 6 }, maxItems: 3 },
      age: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
    },
  };
  const validate = new Ajv2020({ strict: false }).compile(schema);
  let valid = 0;
  for (let seed = 0; seed < 64 && valid < 3; seed++) {
    const r = await client.chat.completions.create({
      model: 'stories', messages: [{ role: 'user', content: 'Reply in JSON' }], max_tokens: 200,
      temperature: 1.2, seed,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
    });
    const choice = r.choices[0];
    if (choice.finish_reason !== 'stop') continue;
    const value = JSON.parse(choice.message.content);
    assert.ok(validate(value), `${choice.message.content}: ${JSON.stringify(validate.errors)}`);
    valid++;
  }
  assert.ok(valid > 0, 'no constrained reply completed its document');
  await assert.rejects(client.chat.completions.create({
    model: 'stories', messages: [{ role: 'user', content: 'x' }],
    response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'string', pattern: '^a' } } },
  }), (e) => e instanceof OpenAI.BadRequestError && /'pattern' at '#\/pattern' cannot be enforced/.test(e.message));
});

test('tools through the client: validated, rendered, streamed deltas assembled by the client', async () => {
  // A second server that parses Qwen-style tool calls (its small template has no tool syntax,
  // so --tool-parser names the format). stories260K writes stories, not calls: the replies are
  // content, and the client's stream assembly must give the same message as the plain call.
  const tooled = await startServer({ extraArgs: ['--tool-parser', 'qwen', '--ctx', '512', '--threads', '1'] });
  try {
    const c = new OpenAI({ apiKey: 'unused', baseURL: `${tooled.base}/v1`, maxRetries: 0 });
    const tools = [{
      type: 'function',
      function: {
        name: 'get_weather', description: 'Weather for a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    }];
    const params = {
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'user', content: 'And tell me a story' },
      ],
      tools, tool_choice: 'auto', max_tokens: 24, temperature: 0,
    };
    const full = await c.chat.completions.create(params);
    const message = full.choices[0].message;
    assert.strictEqual(typeof message.content, 'string');
    assert.ok(message.tool_calls === undefined || message.tool_calls.length === 0);
    assert.ok(['stop', 'length'].includes(full.choices[0].finish_reason));

    const stream = c.chat.completions.stream(params);
    const assembled = await stream.finalChatCompletion();
    assert.strictEqual(assembled.choices[0].message.content, message.content);
    assert.ok(!assembled.choices[0].message.tool_calls || assembled.choices[0].message.tool_calls.length === 0);
    assert.strictEqual(assembled.choices[0].finish_reason, full.choices[0].finish_reason);

    // A forced call's parameters must be enforceable (here 'format' is not).
    await assert.rejects(c.chat.completions.create({
      ...params, tool_choice: 'required',
      tools: [{ type: 'function', function: { name: 'mail', parameters: { type: 'object', properties: { to: { type: 'string', format: 'email' } } } } }],
    }), (e) => e instanceof OpenAI.BadRequestError && /cannot be enforced/.test(e.message));

    // A named function without parameters: constrained decoding forces the call, and the
    // client assembles the streamed tool-call deltas into the same call.
    const forced = {
      ...params,
      tools: [...tools, { type: 'function', function: { name: 'get_time', description: 'The time now' } }],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
      max_tokens: 64, temperature: 0.7, seed: 3,
    };
    const called = await c.chat.completions.create(forced);
    assert.strictEqual(called.choices[0].finish_reason, 'tool_calls');
    assert.strictEqual(called.choices[0].message.content, null);
    const call = called.choices[0].message.tool_calls[0];
    assert.strictEqual(call.type, 'function');
    assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
    assert.strictEqual(call.function.name, 'get_time');
    assert.deepStrictEqual(JSON.parse(call.function.arguments), {});
    const forcedStream = await c.chat.completions.stream(forced).finalChatCompletion();
    assert.strictEqual(forcedStream.choices[0].finish_reason, 'tool_calls');
    const streamedCall = forcedStream.choices[0].message.tool_calls[0];
    assert.strictEqual(streamedCall.function.name, 'get_time');
    assert.strictEqual(streamedCall.function.arguments, call.function.arguments);
    assert.match(streamedCall.id, /^call_[A-Za-z0-9]{24}$/);
    await assert.rejects(c.chat.completions.create({ ...params, tools: [{ type: 'function', function: { name: 'bad name' } }] }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'tools[0].function.name');
  } finally {
    const status = await tooled.stop();
    assert.deepStrictEqual(status, { code: 0, signal: null }, `server did not exit cleanly:\n${tooled.output()}`);
  }
});
