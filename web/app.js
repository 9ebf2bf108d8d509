// The lmkit chat page. It talks to the server only through the public OpenAI-compatible
// endpoints (GET /v1/models, POST /v1/chat/completions with stream: true), so what works here
// works for any client. Markdown goes through marked, then DOMPurify (model output is untrusted
// HTML), then highlight.js for code blocks.
'use strict';

const $ = (id) => document.getElementById(id);
const els = {
  model: $('model-name'), messages: $('messages'), input: $('input'), send: $('send'),
  stop: $('stop'), clear: $('clear'), settings: $('settings'), settingsToggle: $('settings-toggle'),
  system: $('system-prompt'), maxTokens: $('max-tokens'), temperature: $('temperature'),
  topP: $('top-p'), apiKey: $('api-key'), error: $('error'), composer: $('composer'),
};

const SETTINGS_KEY = 'lmkit.settings';
const settingFields = { system: 'value', maxTokens: 'value', temperature: 'value', topP: 'value', apiKey: 'value' };

let history = [];       // [{role, content}] of finished turns
let modelId = null;
let running = null;     // {controller, bubble} while a reply streams
let epoch = 0;          // bumped by Clear, so a reply stopped by it does not refill the history

function loadSettings() {
  try {
    const saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) || '{}');
    for (const key of Object.keys(settingFields)) if (key in saved) els[key].value = saved[key];
  } catch (_) { /* a corrupt entry is ignored, defaults stay */ }
}
function saveSettings() {
  const out = {};
  for (const key of Object.keys(settingFields)) out[key] = els[key].value;
  localStorage.setItem(SETTINGS_KEY, JSON.stringify(out));
}

function headers() {
  const h = { 'Content-Type': 'application/json' };
  if (els.apiKey.value.trim()) h.Authorization = `Bearer ${els.apiKey.value.trim()}`;
  return h;
}

function showError(message) {
  els.error.textContent = message;
  els.error.hidden = !message;
}

async function errorMessage(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && body.error && body.error.message) return `${response.status}: ${body.error.message}`;
  } catch (_) { /* not JSON: show the raw text */ }
  return `${response.status}: ${text || response.statusText}`;
}

async function loadModel() {
  try {
    const r = await fetch('/v1/models', { headers: headers() });
    if (!r.ok) throw new Error(await errorMessage(r));
    const body = await r.json();
    modelId = body.data && body.data.length ? body.data[0].id : null;
    els.model.textContent = modelId || 'no model';
    showError('');
  } catch (e) {
    els.model.textContent = 'not connected';
    showError(`Could not list models: ${e.message}`);
  }
}

function renderMarkdown(target, text) {
  const html = window.marked ? window.marked.parse(text) : text;
  target.innerHTML = window.DOMPurify ? window.DOMPurify.sanitize(html) : '';
  if (!window.DOMPurify) target.textContent = text;  // never inject unsanitised HTML
  if (window.hljs) {
    for (const block of target.querySelectorAll('pre code')) {
      (window.hljs.highlightElement || window.hljs.highlightBlock).call(window.hljs, block);
    }
  }
}

function addBubble(role, text) {
  const wrap = document.createElement('div');
  wrap.className = `message ${role}`;
  wrap.setAttribute('data-testid', `message-${role}`);
  const body = document.createElement('div');
  body.className = 'body';
  if (role === 'user') body.textContent = text;
  else renderMarkdown(body, text);
  wrap.appendChild(body);
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.setAttribute('data-testid', 'message-meta');
  wrap.appendChild(meta);
  els.messages.appendChild(wrap);
  wrap.scrollIntoView({ block: 'end' });
  return { wrap, body, meta };
}

function setRunning(on) {
  els.send.hidden = on;
  els.stop.hidden = !on;
  els.input.disabled = false;
}

// Reads an SSE body and calls onEvent with each parsed `data:` JSON; resolves at [DONE] or EOF.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') return;
        onEvent(JSON.parse(data));
      }
    }
  }
}

function formatStats(stats) {
  const parts = [`${stats.tokens} tokens`];
  if (stats.tokensPerSecond !== null) parts.push(`${stats.tokensPerSecond.toFixed(1)} tok/s`);
  if (stats.ttftMs !== null) parts.push(`first token ${Math.round(stats.ttftMs)} ms`);
  if (stats.stopped) parts.push('stopped');
  else if (stats.finishReason && stats.finishReason !== 'stop') parts.push(`finish: ${stats.finishReason}`);
  return parts.join(' · ');
}

async function send(text) {
  if (running || !text.trim()) return;
  showError('');
  const userTurn = { role: 'user', content: text };
  addBubble('user', text);
  const messages = [];
  if (els.system.value.trim()) messages.push({ role: 'system', content: els.system.value.trim() });
  messages.push(...history, userTurn);

  const bubble = addBubble('assistant', '');
  bubble.wrap.classList.add('streaming');
  const controller = new AbortController();
  const myEpoch = epoch;
  running = { controller, bubble };
  setRunning(true);

  const request = { messages, stream: true, stream_options: { include_usage: true } };
  if (modelId) request.model = modelId;
  const maxTokens = parseInt(els.maxTokens.value, 10);
  if (maxTokens > 0) request.max_tokens = maxTokens;
  const temperature = parseFloat(els.temperature.value);
  if (!Number.isNaN(temperature)) request.temperature = temperature;
  const topP = parseFloat(els.topP.value);
  if (!Number.isNaN(topP)) request.top_p = topP;

  const started = performance.now();
  let firstAt = null;
  let reply = '';
  let chunks = 0;
  let usage = null;
  let finishReason = null;
  let stopped = false;
  let pending = false;
  const repaint = () => {
    pending = false;
    renderMarkdown(bubble.body, reply);
    bubble.wrap.scrollIntoView({ block: 'end' });
  };
  try {
    const response = await fetch('/v1/chat/completions', {
      method: 'POST', headers: headers(), body: JSON.stringify(request), signal: controller.signal,
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    await readEvents(response, (chunk) => {
      if (chunk.error) throw new Error(chunk.error.message || 'server error');
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices || []) {
        const piece = choice.delta && choice.delta.content;
        if (piece) {
          if (firstAt === null) firstAt = performance.now();
          reply += piece;
          ++chunks;
          if (!pending) { pending = true; requestAnimationFrame(repaint); }
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    });
  } catch (e) {
    if (e.name === 'AbortError') stopped = true;
    else showError(e.message);
  }
  const ended = performance.now();
  repaint();
  bubble.wrap.classList.remove('streaming');
  const tokens = usage ? usage.completion_tokens : chunks;
  const decodeSeconds = firstAt !== null ? (ended - firstAt) / 1000 : 0;
  bubble.meta.textContent = formatStats({
    tokens,
    tokensPerSecond: decodeSeconds > 0 && tokens > 1 ? (tokens - 1) / decodeSeconds : null,
    ttftMs: firstAt !== null ? firstAt - started : null,
    finishReason, stopped,
  });
  // A stopped or failed reply stays on screen; what was received is kept in the history so the
  // conversation can continue from it.
  if (epoch === myEpoch) {
    history.push(userTurn);
    if (reply) history.push({ role: 'assistant', content: reply });
  }
  running = null;
  setRunning(false);
  els.input.focus();
}

els.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = els.input.value;
  els.input.value = '';
  send(text);
});
els.input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    els.composer.requestSubmit();
  }
});
els.stop.addEventListener('click', () => { if (running) running.controller.abort(); });
els.clear.addEventListener('click', () => {
  if (running) running.controller.abort();
  ++epoch;
  history = [];
  els.messages.replaceChildren();
  showError('');
  els.input.focus();
});
els.settingsToggle.addEventListener('click', () => {
  els.settings.hidden = !els.settings.hidden;
  els.settingsToggle.setAttribute('aria-expanded', String(!els.settings.hidden));
});
for (const key of Object.keys(settingFields)) els[key].addEventListener('change', saveSettings);
els.apiKey.addEventListener('change', loadModel);

loadSettings();
loadModel();
els.input.focus();
