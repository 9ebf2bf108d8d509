// What the oracle scripts share: a seeded random generator, and the records written for each
// crafted tokenizer (every text and pair encoded with and without special tokens, as Hugging
// Face `tokenizers` gives them; an encoding it refuses is recorded as its error message).
'use strict';

// mulberry32: small, seeded, the same sequence everywhere.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function encodingRecord(e) {
  return { ids: Array.from(e.getIds()), tokens: e.getTokens(), offsets: e.getOffsets(), type_ids: Array.from(e.getTypeIds()),
    special_tokens_mask: Array.from(e.getSpecialTokensMask()), attention_mask: Array.from(e.getAttentionMask()),
    sequence_ids: e.getSequenceIds().map((s) => (s === null || s === undefined ? -1 : s)) };
}

// pairsWithSpecial: false leaves out the pairs encoded with special tokens (for a
// configuration whose output Hugging Face gets wrong there).
async function encodeRecords(tok, texts, pairs, { pairsWithSpecial = true } = {}) {
  const lines = [];
  for (const add of [false, true]) {
    for (const text of texts) {
      let e;
      try {
        e = await tok.encode(text, null, { addSpecialTokens: add });
      } catch (err) {
        lines.push({ text, add_special_tokens: add, error: String(err.message || err) });
        continue;
      }
      const rec = { text, add_special_tokens: add, ...encodingRecord(e) };
      rec.decode_keep_special = await tok.decode(rec.ids, false);
      rec.decode_skip_special = await tok.decode(rec.ids, true);
      lines.push(rec);
    }
    if (add && !pairsWithSpecial) continue;
    for (const [a, b] of pairs) {
      try {
        const e = await tok.encode(a, b, { addSpecialTokens: add });
        lines.push({ text: a, pair: b, add_special_tokens: add, ...encodingRecord(e) });
      } catch (err) {  // e.g. truncation that cannot fit the special tokens
        lines.push({ text: a, pair: b, add_special_tokens: add, error: String(err.message || err) });
      }
    }
  }
  return lines;
}

module.exports = { rng, encodingRecord, encodeRecords };
