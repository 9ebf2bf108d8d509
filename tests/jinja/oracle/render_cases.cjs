// Renders every conversation of conversations.json with every template listed in
// templates.json using @huggingface/jinja (the Jinja implementation of transformers.js), and
// writes ../data/<name>/cases.jsonl in the format of ../../../../shared/data/chat_templates.
//
//   mkdir -p /tmp/jinja-oracle && cd /tmp/jinja-oracle && npm init -y && npm i @huggingface/jinja@0.5.11
//   JINJA_ORACLE_DIR=/tmp/jinja-oracle node tests/jinja/oracle/render_cases.cjs
//
// Only errors raised by the template's own raise_exception() are kept as expected errors; any
// other oracle failure stops the script (or, for templates marked skip_oracle_failures, drops
// that conversation), so no case depends on the oracle's internal messages.
const fs = require("fs");
const path = require("path");
const oracleDir = process.env.JINJA_ORACLE_DIR || process.cwd();
const { Template } = require(require.resolve("@huggingface/jinja", { paths: [oracleDir] }));

const here = __dirname;
const dataDir = path.join(here, "..", "data");
const conversations = JSON.parse(fs.readFileSync(path.join(here, "conversations.json"), "utf8"));
const templates = JSON.parse(fs.readFileSync(path.join(here, "templates.json"), "utf8"));

for (const [name, spec] of Object.entries(templates)) {
  const source = fs.readFileSync(path.join(dataDir, name, "chat_template.jinja"), "utf8");
  const template = new Template(source);
  const lines = [];
  for (const conv of conversations) {
    if ((spec.skip || []).includes(conv.id)) continue;
    if (spec.only && !spec.only.includes(conv.id)) continue;
    const context = { messages: conv.messages, add_generation_prompt: conv.add_generation_prompt, ...spec.tokens };
    if (conv.tools) context.tools = conv.tools;
    Object.assign(context, spec.extra || {}, conv.extra || {});
    const record = { id: conv.id, case: conv.case, context };
    try {
      record.output = template.render(JSON.parse(JSON.stringify(context)));
    } catch (err) {
      if (!source.includes(err.message)) {
        if (spec.skip_oracle_failures) {
          console.log(`  ${name} ${conv.id}: skipped, the oracle fails: ${err.message}`);
          continue;
        }
        throw new Error(`${name} ${conv.id}: oracle failed outside raise_exception: ${err.message}`);
      }
      record.error = err.message;
      record.error_kind = "raise_exception";
    }
    lines.push(JSON.stringify(record));
  }
  fs.writeFileSync(path.join(dataDir, name, "cases.jsonl"), lines.join("\n") + "\n");
  console.log(`${name}: ${lines.length} cases`);
}
