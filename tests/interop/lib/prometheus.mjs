// SPDX-License-Identifier: MIT
//
// A strict parser for the Prometheus text exposition format 0.0.4, for the
// tests: it throws on anything a scraper could reject (bad names, bad
// escapes, a TYPE after samples, a family split in two, duplicate series,
// histogram buckets that are not cumulative or disagree with _count).
// Returns Map family name -> {type, help, samples: [{name, labels, value}]}.

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text, where) {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value '${text}'`);
  return Number(text);
}

function parseLabels(s, where) {
  const labels = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = s.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`${where}: bad label name '${name}'`);
    if (s[eq + 1] !== '"') throw new Error(`${where}: label value must be quoted`);
    let j = eq + 2;
    let v = '';
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === '\\') {
        const n = s[++j];
        if (n === 'n') v += '\n';
        else if (n === '\\' || n === '"') v += n;
        else throw new Error(`${where}: bad escape '\\${n}'`);
      } else if (s[j] === '\n') {
        throw new Error(`${where}: newline in a label value`);
      } else {
        v += s[j];
      }
    }
    if (s[j] !== '"') throw new Error(`${where}: unterminated label value`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    labels[name] = v;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (i < s.length) throw new Error(`${where}: expected ',' after a label`);
  }
  return labels;
}

function familyOf(name, families) {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : null;
    if (base && families.get(base)?.type === 'histogram') return base;
  }
  return name;
}

export function parsePrometheus(text) {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map();
  const seen = new Set();
  let current = null;
  const closed = new Set();
  const enter = (fam) => {
    if (current !== fam) {
      if (closed.has(fam)) throw new Error(`family ${fam} is split in two`);
      if (current) closed.add(current);
      current = fam;
    }
  };
  text.slice(0, -1).split('\n').forEach((line, idx) => {
    const where = `line ${idx + 1}`;
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
      enter(name);
      const fam = families.get(name) || { type: 'untyped', help: null, samples: [], typed: false };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type '${rest}'`);
        if (fam.samples.length) throw new Error(`${where}: TYPE after samples of ${name}`);
        if (fam.typed) throw new Error(`${where}: second TYPE for ${name}`);
        fam.type = rest;
        fam.typed = true;
      } else {
        if (fam.help !== null) throw new Error(`${where}: second HELP for ${name}`);
        fam.help = rest;
      }
      families.set(name, fam);
      return;
    }
    if (line.startsWith('#')) return;
    const m = /^([^\s{]+)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/.exec(line);
    if (!m) throw new Error(`${where}: cannot parse '${line}'`);
    const [, name, labelText, valueText] = m;
    if (!NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
    const labels = labelText ? parseLabels(labelText, where) : {};
    const value = parseValue(valueText, where);
    const famName = familyOf(name, families);
    enter(famName);
    const fam = families.get(famName) || { type: 'untyped', help: null, samples: [], typed: false };
    families.set(famName, fam);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    seen.add(key);
    if (fam.type === 'counter' && !(value >= 0)) throw new Error(`${where}: negative counter`);
    fam.samples.push({ name, labels, value });
  });
  for (const [name, fam] of families) {
    if (fam.type !== 'histogram') continue;
    const series = new Map();
    for (const s of fam.samples) {
      const { le, ...rest } = s.labels;
      const k = JSON.stringify(Object.entries(rest).sort());
      if (!series.has(k)) series.set(k, { buckets: [], count: null, sum: null });
      const e = series.get(k);
      if (s.name.endsWith('_bucket')) {
        if (le === undefined) throw new Error(`${name}: bucket without le`);
        e.buckets.push([parseValue(le, name), s.value]);
      } else if (s.name.endsWith('_count')) e.count = s.value;
      else if (s.name.endsWith('_sum')) e.sum = s.value;
    }
    for (const [k, e] of series) {
      if (e.count === null || e.sum === null) throw new Error(`${name}${k}: no _count or _sum`);
      const last = e.buckets.at(-1);
      if (!last || last[0] !== Infinity) throw new Error(`${name}${k}: no +Inf bucket`);
      if (last[1] !== e.count) throw new Error(`${name}${k}: +Inf bucket != _count`);
      for (let i = 1; i < e.buckets.length; i++) {
        if (e.buckets[i][0] <= e.buckets[i - 1][0]) throw new Error(`${name}${k}: le not increasing`);
        if (e.buckets[i][1] < e.buckets[i - 1][1]) throw new Error(`${name}${k}: buckets not cumulative`);
      }
    }
  }
  return families;
}

// The value of the one sample of @name whose labels include @labels.
export function sampleValue(families, name, labels = {}) {
  for (const fam of families.values())
    for (const s of fam.samples)
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
  return undefined;
}
