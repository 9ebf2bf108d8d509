// The ~50 MB mixed Chinese/English benchmark corpus shared by the tokenizer benchmarks: Chinese
// poetry from the npm package chinese-poetry and English man pages and documentation from the
// machine's Debian packages, in ~4 kB records, about a third of the bytes Chinese,
// deterministically interleaved. Built once into WORK/corpus.jsonl and WORK/corpus.txt.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export function buildCorpus({ work, npmDir, targetBytes }) {
  function* walk(dir) {
    let entries = [];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) yield* walk(p);
      else if (e.isFile()) yield p;
    }
  }
  function chineseRecords() {
    const out = [];
    for (const f of walk(path.join(npmDir, 'node_modules/chinese-poetry/dist'))) {
      if (!f.endsWith('.json')) continue;
      let data;
      try { data = JSON.parse(fs.readFileSync(f, 'utf8')); } catch { continue; }
      if (!Array.isArray(data)) continue;
      for (const w of data) {
        if (!w || typeof w !== 'object') continue;
        const body = w.paragraphs ?? w.content ?? w.para;
        const lines = Array.isArray(body) ? body.flat().filter((x) => typeof x === 'string') : [];
        if (!lines.length) continue;
        out.push([w.title ?? w.rhythmic ?? w.chapter ?? '', w.author ?? '', ...lines].filter(Boolean).join('\n'));
      }
    }
    return out;
  }
  function englishRecords() {
    const out = [];
    const isText = (buf) => !buf.subarray(0, 4096).includes(0);
    for (const root of ['/usr/share/man/man1', '/usr/share/man/man3', '/usr/share/man/man5',
                        '/usr/share/man/man7', '/usr/share/man/man8', '/usr/share/doc']) {
      for (const f of walk(root)) {
        let buf;
        try { buf = fs.readFileSync(f); } catch { continue; }
        if (f.endsWith('.gz')) { try { buf = zlib.gunzipSync(buf); } catch { continue; } }
        else if (!/(README|NEWS|\.txt|\.md|\.rst)$/i.test(f)) continue;
        if (!isText(buf) || buf.length < 200) continue;
        const text = buf.toString('utf8');
        // Records of about 4 kB, split at paragraph breaks, like documents in a real corpus.
        let cur = '';
        for (const para of text.split(/\n\s*\n/)) {
          cur += para + '\n\n';
          if (cur.length > 4000) { out.push(cur.trimEnd()); cur = ''; }
        }
        if (cur.trim()) out.push(cur.trimEnd());
      }
    }
    return out;
  }
  function build() {
    const jsonl = path.join(work, 'corpus.jsonl'), txt = path.join(work, 'corpus.txt');
    if (fs.existsSync(jsonl) && fs.existsSync(txt)) return { jsonl, txt };
    const zh = chineseRecords(), en = englishRecords();
    console.log(`sources: ${zh.length} Chinese records, ${en.length} English records`);
    const jl = [], tl = [];
    let zhBytes = 0, enBytes = 0, i = 0, j = 0;
    // About a third of the bytes Chinese, the rest English, deterministically interleaved.
    while (zhBytes + enBytes < targetBytes && (i < zh.length || j < en.length)) {
      const takeZh = i < zh.length && (j >= en.length || zhBytes < 0.35 * (zhBytes + enBytes));
      const text = takeZh ? zh[i++] : en[j++];
      jl.push(JSON.stringify({ text }));
      tl.push(text);
      if (takeZh) zhBytes += Buffer.byteLength(text); else enBytes += Buffer.byteLength(text);
    }
    console.log(`corpus: ${(zhBytes / 1e6).toFixed(1)} MB Chinese, ${(enBytes / 1e6).toFixed(1)} MB English`);
    fs.writeFileSync(jsonl, jl.join('\n') + '\n');
    fs.writeFileSync(txt, tl.join('\n') + '\n');
    return { jsonl, txt };
  }
  return build();
}
