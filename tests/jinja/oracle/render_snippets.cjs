// Renders each line of snippets.txt (one small template per line; a line starting with '>'
// continues the previous snippet) with a fixed context using @huggingface/jinja, and
// writes ../data/snippets.jsonl: {"template", "output"} or {"template", "error"} for errors
// raised by raise_exception(). Snippets the oracle cannot render are listed and the script
// fails, so every committed snippet is one the oracle renders.
//   JINJA_ORACLE_DIR=/tmp/jinja-oracle node tests/jinja/oracle/render_snippets.cjs
const fs = require("fs");
const path = require("path");
const oracleDir = process.env.JINJA_ORACLE_DIR || process.cwd();
const { Template } = require(require.resolve("@huggingface/jinja", { paths: [oracleDir] }));

const context = {
  xs: [1, 2, 3, 4],
  s: "abcdef",
  d: { a: 1, b: "two", c: [3] },
  nested: { name: "n", list: [1, { k: "v" }], empty: {}, flag: false, none: null },
  users: [
    { name: "ann", age: 31, admin: true, role: "user", meta: { city: "Oslo" } },
    { name: "bob", age: 25, admin: false, role: "assistant" },
    { name: "cy", age: 40, role: "user", meta: { city: "Rome" } },
  ],
  messages: [
    { role: "system", content: "sys" },
    { role: "user", content: "hi" },
    { role: "assistant", content: "hello" },
    { role: "user", content: "bye" },
  ],
  tools: [{ type: "function", function: { name: "f", description: "d", parameters: { type: "object", properties: { a: { type: "string" } }, required: ["a", "b"] } } }],
};

const raw = fs.readFileSync(path.join(__dirname, "snippets.txt"), "utf8").split("\n");
const snippets = [];
for (const line of raw) {
  if (line.startsWith(">") && snippets.length) snippets[snippets.length - 1] += "\n" + line.slice(1);
  else if (line.length) snippets.push(line);
}
const out = [];
const failures = [];
for (const template of snippets) {
  const record = { template, context };
  try {
    record.output = new Template(template).render(JSON.parse(JSON.stringify(context)));
  } catch (err) {
    if (!template.includes("raise_exception")) {
      failures.push(`${JSON.stringify(template)}: ${err.message}`);
      continue;
    }
    record.error = err.message;
  }
  out.push(JSON.stringify(record));
}
fs.writeFileSync(path.join(__dirname, "..", "data", "snippets.jsonl"), out.join("\n") + "\n");
console.log(`${out.length} snippets`);
if (failures.length) {
  console.error(`the oracle cannot render ${failures.length} snippets (remove or split them):\n` + failures.join("\n"));
  process.exit(1);
}
