// SPDX-License-Identifier: MIT
//
// Compares the facts of a native session with those of the same session
// translated: each fact is equal, equal under a rule of rules.mjs, or
// different. Pure; the counts and the readable diff are what the twin test
// reports per pair.

import { isDeepStrictEqual } from 'node:util';

import { RULES, pairMatches } from './rules.mjs';

export function compareFacts(native, translated, { pair, scenario, rules = RULES }) {
  const active = rules.filter((r) => pairMatches(r, pair, scenario));
  // Renames first: a numbering that differs by construction.
  let tr = translated;
  for (const r of active.filter((x) => x.rekey)) {
    tr = Object.fromEntries(Object.entries(tr).map(([k, v]) => (r.facts.test(k) ? r.rekey(k, v) : [k, v])));
  }
  const keys = [...new Set([...Object.keys(native), ...Object.keys(tr)])].sort();
  const out = { compared: keys.length, equal: 0, underRule: [], different: [] };
  for (const key of keys) {
    const n = native[key];
    const t = tr[key];
    if (isDeepStrictEqual(n, t)) { out.equal++; continue; }
    const rule = active.find((r) => r.allow && r.facts.test(key) &&
      r.allow(n, t, { key, native, translated: tr }));
    if (rule) out.underRule.push({ key, rule: rule.id, native: n, translated: t });
    else out.different.push({ key, native: n, translated: t });
  }
  return out;
}

const show = (v) => (v === undefined ? '(absent)' : JSON.stringify(v));

export function formatDiff(different) {
  return different.map((d) => `  ${d.key}\n    native:     ${show(d.native)}\n    translated: ${show(d.translated)}`)
    .join('\n');
}
