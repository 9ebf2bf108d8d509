// The chat page at "/", driven in Debian's chromium with playwright-core against a real
// `lmkit serve` (stories260K): type a message and see the reply stream in with its token speed,
// stop a generation half-way, clear the conversation, settings that reach the request, and
// Markdown with highlighted code. Run: LMKIT_BINARY=build/lmkit node --test tests/node/webui.test.cjs
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { chromium } = require('playwright-core');
const { startServer } = require('./lmkit_server.cjs');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
let server;
let browser;

test.before(async () => {
  server = await startServer();
  // --no-sandbox: CI runs as root, where chromium's sandbox cannot start.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

test.after(async () => {
  if (browser) await browser.close();
  if (server) {
    const status = await server.stop();
    assert.deepStrictEqual(status, { code: 0, signal: null }, `server did not exit cleanly:\n${server.output()}`);
  }
});

// maxTokens: the reply length; short by default so tests take seconds even on a busy machine.
async function openPage({ maxTokens = 40 } = {}) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript((n) => {
    if (!localStorage.getItem('lmkit.settings')) localStorage.setItem('lmkit.settings', JSON.stringify({ maxTokens: String(n) }));
  }, maxTokens);
  await page.goto(`${server.base}/`);
  await page.getByTestId('model-name').filter({ hasNotText: /connecting|not connected/ }).waitFor();
  return { page, errors };
}

test('a message gets a streamed reply with its token speed', async () => {
  const { page, errors } = await openPage();
  // Count how many times the reply's text changes while it streams.
  await page.evaluate(() => {
    window.replyUpdates = 0;
    new MutationObserver(() => { window.replyUpdates += 1; })
      .observe(document.getElementById('messages'), { subtree: true, childList: true, characterData: true });
  });
  await page.getByTestId('input').fill('Once upon a time');
  await page.getByTestId('input').press('Enter');
  await assert.doesNotReject(page.getByTestId('message-user').filter({ hasText: 'Once upon a time' }).waitFor());
  const reply = page.getByTestId('message-assistant').last();
  const meta = reply.getByTestId('message-meta');
  await meta.filter({ hasText: /tok\/s/ }).waitFor({ timeout: 60000 });
  const text = (await reply.locator('.body').innerText()).trim();
  assert.ok(text.length > 0, 'the reply is empty');
  assert.match(await meta.innerText(), /^\d+ tokens · [\d.]+ tok\/s · first token \d+ ms/);
  assert.ok(await page.evaluate(() => window.replyUpdates) > 3, 'the reply did not stream in pieces');
  assert.ok(await page.getByTestId('send').isVisible());
  assert.ok(!(await page.getByTestId('stop').isVisible()));
  assert.deepStrictEqual(errors, []);
  await page.close();
});

test('settings reach the request: max tokens caps the reply', async () => {
  const { page } = await openPage();
  await page.getByTestId('settings-toggle').click();
  await page.getByTestId('max-tokens').fill('5');
  await page.getByTestId('max-tokens').dispatchEvent('change');
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('system-prompt').fill('Tell a story.');
  const requestSeen = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions'));
  await page.getByTestId('input').fill('Hello');
  await page.getByTestId('send').click();
  const body = JSON.parse((await requestSeen).postData());
  assert.strictEqual(body.max_tokens, 5);
  assert.strictEqual(body.temperature, 0);
  assert.strictEqual(body.stream, true);
  assert.deepStrictEqual(body.messages[0], { role: 'system', content: 'Tell a story.' });
  const meta = page.getByTestId('message-assistant').last().getByTestId('message-meta');
  await meta.filter({ hasText: /tokens/ }).waitFor({ timeout: 60000 });
  assert.match(await meta.innerText(), /^5 tokens/);
  assert.match(await meta.innerText(), /finish: length/);
  // Settings survive a reload (localStorage).
  await page.evaluate(() => document.getElementById('max-tokens').dispatchEvent(new Event('change')));
  await page.reload();
  assert.strictEqual(await page.getByTestId('max-tokens').inputValue(), '5');
  await page.evaluate(() => localStorage.clear());
  await page.close();
});

test('stop ends a generation half-way and the next message still works', async () => {
  const { page } = await openPage({ maxTokens: 400 });
  // Throttle the page's network so the stream is still arriving when Stop is clicked: the server
  // generates this tiny model's reply faster than a person could press a button.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: 1500, uploadThroughput: -1,
  });
  await page.getByTestId('input').fill('Tell me a long story');
  await page.getByTestId('send').click();
  const reply = page.getByTestId('message-assistant').last();
  await page.getByTestId('stop').waitFor({ state: 'visible' });
  await reply.locator('.body').filter({ hasText: /\S/ }).waitFor({ timeout: 60000 });
  await page.getByTestId('stop').click();
  const meta = reply.getByTestId('message-meta');
  await meta.filter({ hasText: /stopped/ }).waitFor({ timeout: 10000 });
  const frozen = await reply.locator('.body').innerText();
  await page.waitForTimeout(500);
  assert.strictEqual(await reply.locator('.body').innerText(), frozen, 'text kept arriving after Stop');
  assert.ok(await page.getByTestId('send').isVisible());

  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
  });
  await page.getByTestId('settings-toggle').click();
  await page.getByTestId('max-tokens').fill('20');
  await page.getByTestId('input').fill('And then?');
  await page.getByTestId('send').click();
  await page.getByTestId('message-assistant').nth(1).getByTestId('message-meta')
    .filter({ hasText: /tok\/s|tokens/ }).waitFor({ timeout: 60000 });
  assert.strictEqual(await page.getByTestId('message-assistant').count(), 2);
  await page.close();
});

test('clear empties the conversation and the next request starts fresh', async () => {
  const { page } = await openPage();
  await page.getByTestId('input').fill('First');
  await page.getByTestId('send').click();
  await page.getByTestId('message-assistant').last().getByTestId('message-meta')
    .filter({ hasText: /tokens/ }).waitFor({ timeout: 60000 });
  await page.getByTestId('clear').click();
  assert.strictEqual(await page.getByTestId('messages').locator('.message').count(), 0);
  const requestSeen = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions'));
  await page.getByTestId('input').fill('Second');
  await page.getByTestId('send').click();
  const body = JSON.parse((await requestSeen).postData());
  assert.deepStrictEqual(body.messages.map((m) => m.content), ['Second']);
  await page.close();
});

test('replies render as sanitised Markdown with highlighted code', async () => {
  // The tiny test model cannot be made to write Markdown, so this one test answers the page's
  // request itself with a recorded SSE stream in OpenAI's format; everything else is real.
  const { page } = await openPage();
  const pieces = ['# Title\n\nSome **bold** text and `code`.\n\n', '```python\ndef f(x):\n', '    return x  # comment\n```\n',
    '\n<img src=x onerror="window.pwned=1">'];
  const events = pieces.map((p) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm',
    choices: [{ index: 0, delta: { content: p }, finish_reason: null }] })}\n\n`);
  events.push(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm',
    choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`, 'data: [DONE]\n\n');
  await page.route('**/v1/chat/completions', (route) => route.fulfill({
    status: 200, headers: { 'Content-Type': 'text/event-stream' }, body: events.join(''),
  }));
  await page.getByTestId('input').fill('Show me code');
  await page.getByTestId('send').click();
  const body = page.getByTestId('message-assistant').last().locator('.body');
  await body.locator('h1').filter({ hasText: 'Title' }).waitFor();
  assert.strictEqual(await body.locator('strong').innerText(), 'bold');
  const code = body.locator('pre code');
  assert.match(await code.innerText(), /def f\(x\):/);
  assert.ok(await code.locator('.hljs-keyword').count() > 0, 'code block is not highlighted');
  assert.strictEqual(await page.evaluate(() => window.pwned), undefined, 'model output ran a script');
  assert.strictEqual(await body.locator('img[onerror]').count(), 0);
  await page.close();
});
