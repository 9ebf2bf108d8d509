// Generates random small templates from a grammar of the features chat templates use, keeps
// those @huggingface/jinja renders, and writes ../data/random_snippets.jsonl
// ({"template", "context", "output"}). Seeded, so the file is reproducible:
//   JINJA_ORACLE_DIR=/tmp/jinja-oracle node tests/jinja/oracle/generate_random_snippets.cjs
// Constructs where lmkit deliberately follows Python rather than the oracle (strip with
// characters, capitalize, // and % of negatives, == between lists) are not generated.
const fs = require("fs");
const path = require("path");
const oracleDir = process.env.JINJA_ORACLE_DIR || process.cwd();
const { Template } = require(require.resolve("@huggingface/jinja", { paths: [oracleDir] }));

let seed = Number(process.env.SNIPPET_SEED || 20250214);
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const DEPTH = Number(process.env.SNIPPET_DEPTH || 2);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

const context = {
  n: 7, f: 2.5, z: 0, t: true, no: false, nil: null, s: " Hello, World ", e: "", cjk: "日本語 テキスト",
  xs: [3, 1, 2], words: ["b", "a", "c", "a"], d: { name: "x", count: 2, tags: ["p", "q"] },
  msgs: [{ role: "user", content: "hi" }, { role: "assistant", content: " yo " }, { role: "user", content: "" }],
};
const atoms = ["n", "f", "z", "t", "no", "nil", "s", "e", "cjk", "xs", "words", "d", "msgs", "missing",
  "1", "2.0", "-3", "'ab'", "\"q\"", "[1, 'x']", "{'k': 'v'}", "none", "true", "d.name", "d['tags']", "msgs[0]",
  "msgs[-1].content", "xs[1:]", "words[::-1]", "s[2:5]", "d.tags[0]", "msgs | length", "loopless"];
const stringFilters = ["trim", "upper", "lower", "title", "length", "tojson", "string", "first", "last", "list",
  "reverse", "join('-')", "replace('l', 'L')", "default('dflt')", "indent(2)"];
const listFilters = ["length", "first", "last", "tojson", "join(',')", "sort", "reverse", "unique", "list",
  "map(attribute='role')", "selectattr('role', 'equalto', 'user')", "rejectattr('content')", "string"];
const tests = ["defined", "undefined", "none", "string", "number", "integer", "mapping", "iterable", "sequence",
  "true", "false", "boolean", "odd", "even"];
const methods = [".strip()", ".upper()", ".lower()", ".split()", ".split(',')", ".startswith('He')",
  ".endswith(' ')", ".replace('o', '0')", ".title()", ".lstrip()", ".rstrip()"];

function expr(depth) {
  if (depth <= 0) return pick(atoms);
  switch (Math.floor(rand() * 10)) {
    case 0: return `${expr(depth - 1)} | ${pick(stringFilters)}`;
    case 1: return `${expr(depth - 1)} | ${pick(listFilters)}`;
    case 2: return `(${expr(depth - 1)} is ${rand() < 0.3 ? "not " : ""}${pick(tests)})`;
    case 3: return `s${pick(methods)}`;
    case 4: return `(${expr(depth - 1)} ${pick(["+", "-", "*", "~", "==", "!=", "<", ">", "and", "or", "in", "not in"])} ${expr(depth - 1)})`;
    case 5: return `(${expr(depth - 1)} if ${expr(depth - 1)} else ${expr(depth - 1)})`;
    case 6: return `(not ${expr(depth - 1)})`;
    case 7: return `[${expr(depth - 1)}, ${expr(depth - 1)}]`;
    case 8: return `{'a': ${expr(depth - 1)}}`;
    default: return pick(atoms);
  }
}

function statement() {
  switch (Math.floor(rand() * 4)) {
    case 0: return `{{ ${expr(DEPTH)} }}`;
    case 1: return `{% if ${expr(DEPTH)} %}Y{% else %}N{% endif %}`;
    case 2: return `{% for m in ${pick(["msgs", "xs", "words", "d", "d.tags"])} %}{{ loop.index }}:{{ ${pick(["m", "m | tojson", "loop.last", "loop.previtem"])} }};{% endfor %}`;
    default: return `{% set v = ${expr(DEPTH)} %}[{{ v }}]`;
  }
}

const out = [];
let tried = 0;
const wanted = Number(process.env.SNIPPET_COUNT || 600);
while (out.length < wanted && tried < 40 * wanted) {
  tried++;
  const template = statement() + "|" + statement();
  if (/\b(nil|none)\b/.test(template) && /[+~*<>-]/.test(template)) continue;
  let output;
  try {
    output = new Template(template).render(JSON.parse(JSON.stringify(context)));
  } catch (err) {
    continue;
  }
  if (/\[object |undefined|NaN|Infinity/.test(output)) continue;  // JavaScript artefacts
  out.push(JSON.stringify({ template, context, output }));
}
fs.writeFileSync(process.env.SNIPPET_OUT || path.join(__dirname, "..", "data", "random_snippets.jsonl"), out.join("\n") + "\n");
console.log(`${out.length} snippets kept of ${tried} generated`);
