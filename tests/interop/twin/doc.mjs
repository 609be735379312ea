// SPDX-License-Identifier: MIT
//
// Writes the twin harness's scenarios and rules as Markdown tables: the
// block between the TWIN markers of docs/TRANSLATION.md. twin-unit.test.mjs
// fails while the document differs; `node doc.mjs --write FILE` (run by
// tools/gen-translation-doc.sh) rewrites the block and nothing else.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

import { RULES } from './rules.mjs';
import { SCENARIOS } from './scenarios.mjs';

export const BEGIN = '<!-- BEGIN TWIN RULES: tools/gen-translation-doc.sh -->';
export const END = '<!-- END TWIN RULES -->';

const cell = (s) => String(s).replace(/\|/g, '\\|');

export function twinBlock() {
  const lines = [BEGIN, '', '### Scripted sessions', '',
    '| scenario | what happens | findings of issue 20 | pairs |', '|---|---|---|---|'];
  for (const s of SCENARIOS) {
    const pairs = s.pairs ? s.pairs.join(', ') : s.versions ? `within ${s.versions.join(', ')}` : 'all';
    lines.push(`| ${s.id} | ${cell(s.title)} | ${s.findings.join(', ') || '-'} | ${pairs} |`);
  }
  lines.push('', '### Rules: how a translated session may differ', '',
    '| rule | pairs (charger-CSMS) | scenarios | facts | may differ by | why |', '|---|---|---|---|---|---|');
  for (const r of RULES) {
    lines.push(`| ${r.id} | ${r.pairs.join(', ')} | ${r.scenarios ? r.scenarios.join(', ') : 'all'} | ` +
      `\`${cell(r.facts.source)}\` | ${cell(r.differs)} | ${cell(r.why)} |`);
  }
  lines.push('', END);
  return lines.join('\n');
}

// The document with its block replaced; throws when a marker is missing.
export function spliced(text) {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error('docs/TRANSLATION.md has no twin rule markers');
  return text.slice(0, a) + twinBlock() + text.slice(b + END.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--write');
  if (i < 0 || !process.argv[i + 1]) {
    process.stdout.write(`${twinBlock()}\n`);
  } else {
    const file = process.argv[i + 1];
    fs.writeFileSync(file, spliced(fs.readFileSync(file, 'utf8')));
  }
}
