// Random multi-line templates that mix block tags, expressions and comments with every kind
// of whitespace control ({%- -%} {{- -}} {#- -#}), indentation, blank lines and CRLF-free
// text, to check trim_blocks / lstrip_blocks handling against @huggingface/jinja. Writes
// ../data/whitespace_snippets.jsonl. Seeded:
//   JINJA_ORACLE_DIR=/tmp/jinja-oracle node tests/jinja/oracle/generate_whitespace_snippets.cjs
const fs = require("fs");
const path = require("path");
const oracleDir = process.env.JINJA_ORACLE_DIR || process.cwd();
const { Template } = require(require.resolve("@huggingface/jinja", { paths: [oracleDir] }));

let seed = Number(process.env.SNIPPET_SEED || 4242);
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const context = { items: ["a", "b", "c"], flag: true, name: "N", messages: [{ role: "user", content: " x " }] };

const lead = () => pick(["", "", " ", "  ", "\t", "\n", "\n  ", " \n", "\n\n", "text ", " text\n  "]);
const open = (c) => "{" + c + pick(["", "", "-"]) + pick([" ", " ", "", "  "]);
const close = (c) => pick([" ", " ", "", "  "]) + pick(["", "", "-"]) + c + "}";
const stmt = (body) => open("%") + body + close("%");
const out = (e) => open("{") + e + close("}");
const comment = () => open("#") + pick(["note", " spaced ", "multi\nline"]) + close("#");

function block(depth) {
  let s = "";
  const parts = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < parts; i++) {
    s += lead();
    const r = Math.floor(rand() * 6);
    if (depth > 0 && r === 0) s += stmt("for x in items") + block(depth - 1) + lead() + stmt("endfor");
    else if (depth > 0 && r === 1) s += stmt("if flag") + block(depth - 1) + lead() + stmt("else") + block(depth - 1) + lead() + stmt("endif");
    else if (r === 2) s += out(pick(["x", "name", "loop.index", "messages[0].content", "'lit'"]));
    else if (r === 3) s += comment();
    else if (r === 4) s += stmt("set y = " + pick(["1", "name", "'q'"]));
    else s += pick(["word", "two words", "<tag>", "", " "]);
  }
  return s;
}

const results = [];
const wanted = Number(process.env.SNIPPET_COUNT || 400);
let tried = 0;
while (results.length < wanted && tried < 20 * wanted) {
  tried++;
  const template = block(2) + pick(["", "\n", " \n", "\n\n"]);
  let output;
  try {
    output = new Template(template).render(JSON.parse(JSON.stringify(context)));
  } catch (err) {
    continue;
  }
  results.push(JSON.stringify({ template, context, output }));
}
fs.writeFileSync(process.env.SNIPPET_OUT || path.join(__dirname, "..", "data", "whitespace_snippets.jsonl"), results.join("\n") + "\n");
console.log(`${results.length} snippets kept of ${tried} generated`);
