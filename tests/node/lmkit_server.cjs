// Starts a real `lmkit serve` on 127.0.0.1 for the JavaScript tests (web UI in chromium, the
// openai client) and stops it: a free port, bounded waiting for /health, the server's output kept
// for failure messages, SIGTERM at the end with a check that it exits 0.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The test model: stories260K (a real GGUF with its own vocabulary) and a ChatML-style template,
// as it ships without one.
function testModelArgs() {
  const data = process.env.LMKIT_TEST_DATA || path.resolve(__dirname, '../../../shared/data');
  const template = path.join(os.tmpdir(), `lmkit-node-template-${process.pid}.jinja`);
  fs.writeFileSync(template,
    "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] + '\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}");
  return [path.join(data, 'stories260K', 'stories260K.gguf'), '--chat-template', template];
}

async function startServer({ lmkit = process.env.LMKIT_BINARY, extraArgs = [] } = {}) {
  if (!lmkit) throw new Error('set LMKIT_BINARY to the lmkit executable');
  const port = await freePort();
  const args = ['serve', ...testModelArgs(), '--host', '127.0.0.1', '--port', String(port), ...extraArgs];
  const child = spawn(lmkit, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`lmkit serve exited early (${child.exitCode}):\n${output}`);
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) break;
    } catch (_) { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`lmkit serve did not answer /health within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    port,
    output: () => output,
    // SIGTERM, then the exit status: a clean shutdown exits 0.
    async stop() {
      if (child.exitCode !== null) return { code: child.exitCode, signal: null };
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
  };
}

module.exports = { startServer, freePort };
