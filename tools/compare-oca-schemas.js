#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// Compares our generated schemas with the OCA JSON schemas bundled in the
// ocpp-rpc npm package, so a slip in schemas/src/*.def shows up as a line of
// text. It checks validation meaning only, not wording or layout.
//
// Usage: node tools/compare-oca-schemas.js <ocpp-rpc lib/schemas dir> <our schemas dir> <version>
//   <version>            1.6 | 2.0.1 | 2.1
//   <ocpp-rpc ... dir>   holds ocpp1_6.json, ocpp2_0_1.json, ocpp2_1.json
//                        (each a JSON array of schemas; ids urn:<Action>.req /
//                        urn:<Action>.conf for 1.6 and 2.0.1, urn:<Action>Request /
//                        urn:<Action>Response for 2.1, where the SEND-only
//                        NotifyPeriodicEventStream is plain urn:<Action>)
//   <our schemas dir>    `schemas` (its <version>/ folder is used) or the
//                        version folder itself; actions.json is skipped
//
// Both sides are normalized the same way before comparing:
//   - every $ref is replaced by its target (a recursive ref by a marker);
//   - annotations are dropped: description, $id, id, $schema, title, javaType,
//     comment, $comment, default (validators ignore them), and additionalItems
//     (meaningless when items is one schema);
//   - `required` and `enum` are sorted; an empty `required` is dropped;
//   - an object schema without `properties` gets `properties: {}`;
//   - `additionalProperties: true` is dropped (it is the default), and
//     `additionalProperties` is dropped on non-object schemas, so open objects
//     such as 2.x CustomDataType compare equal however they spell "open".
//
// Output: one line per difference, `<Action>Request: <path>: ours X, OCA Y`,
// where <path> is `$` for the message, `.name` for a property, `[]` for array
// items and `@keyword` for a keyword (e.g. `$.idTagInfo.status@enum`); for
// `enum` and `required`, X and Y list only the values the other side lacks.
// Actions present on one side only are listed too. Exit 0 when identical,
// 1 on any difference, 2 on usage or I/O errors.

'use strict';

const fs = require('fs');
const path = require('path');

const BUNDLES = { '1.6': 'ocpp1_6.json', '2.0.1': 'ocpp2_0_1.json', '2.1': 'ocpp2_1.json' };
const DROP = new Set(['description', '$id', 'id', '$schema', 'title', 'javaType',
  'comment', '$comment', 'default', 'additionalItems']);

function usage(msg) {
  if (msg) console.error(msg);
  console.error('usage: node tools/compare-oca-schemas.js <ocpp-rpc lib/schemas dir> <our schemas dir> <1.6|2.0.1|2.1>');
  process.exit(2);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
}

// "urn:Authorize.req" -> "AuthorizeRequest", "urn:AuthorizeResponse" -> itself.
function ocaName(id) {
  const m = /^urn:(.+?)(\.req|\.conf)?$/.exec(id || '');
  if (!m) return null;
  if (m[2] === '.req') return m[1] + 'Request';
  if (m[2] === '.conf') return m[1] + 'Response';
  return /(Request|Response)$/.test(m[1]) ? m[1] : m[1] + 'Request';
}

function normalize(node, root, stack) {
  if (Array.isArray(node)) return node.map((n) => normalize(n, root, stack));
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') {
    const ref = node.$ref;
    const m = /^#\/definitions\/(.+)$/.exec(ref);
    if (!m || !root.definitions || !(m[1] in root.definitions)) return { $unresolved: ref };
    if (stack.includes(ref)) return { $recursive: m[1] };
    return normalize(root.definitions[m[1]], root, stack.concat(ref));
  }
  const out = {};
  for (const key of Object.keys(node).sort()) {
    if (DROP.has(key) || key === 'definitions') continue;
    const v = node[key];
    if (key === 'properties') {
      out.properties = {};
      for (const p of Object.keys(v).sort()) out.properties[p] = normalize(v[p], root, stack);
    } else if (key === 'required' || key === 'enum') {
      if (key === 'required' && v.length === 0) continue;
      out[key] = v.slice().sort();
    } else {
      out[key] = normalize(v, root, stack);
    }
  }
  if (out.type === 'object' && !out.properties) out.properties = {};
  if (out.additionalProperties === true || (out.type !== 'object' && 'additionalProperties' in out))
    delete out.additionalProperties;
  return out;
}

function show(v) {
  if (v === undefined) return '(absent)';
  const s = JSON.stringify(v);
  return s.length > 160 ? s.slice(0, 157) + '...' : s;
}

function diff(ours, oca, where, out) {
  const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(ours) && isObj(oca)) {
    const keys = new Set([...Object.keys(ours), ...Object.keys(oca)]);
    for (const k of [...keys].sort()) {
      if (k === 'properties' && isObj(ours[k]) && isObj(oca[k])) {
        const names = new Set([...Object.keys(ours[k]), ...Object.keys(oca[k])]);
        for (const p of [...names].sort()) diff(ours[k][p], oca[k][p], `${where}.${p}`, out);
      } else if (k === 'items') {
        diff(ours[k], oca[k], `${where}[]`, out);
      } else if ((k === 'enum' || k === 'required') && Array.isArray(ours[k]) && Array.isArray(oca[k])) {
        const a = ours[k].filter((x) => !oca[k].includes(x));
        const b = oca[k].filter((x) => !ours[k].includes(x));
        if (a.length || b.length) out.push(`${where}@${k}: ours ${show(a)}, OCA ${show(b)}`);
      } else {
        diff(ours[k], oca[k], `${where}@${k}`, out);
      }
    }
    return;
  }
  if (JSON.stringify(ours) !== JSON.stringify(oca)) out.push(`${where}: ours ${show(ours)}, OCA ${show(oca)}`);
}

function main(argv) {
  if (argv.length !== 3) usage();
  const [ocaDir, oursArg, version] = argv;
  if (!BUNDLES[version]) usage(`unknown version '${version}'`);

  const oca = new Map();
  for (const schema of readJson(path.join(ocaDir, BUNDLES[version]))) {
    const name = ocaName(schema.$id || schema.id);
    if (!name) {
      console.error(`${BUNDLES[version]}: schema with unexpected id ${show(schema.$id || schema.id)}`);
      process.exit(2);
    }
    oca.set(name, schema);
  }

  const oursDir = fs.existsSync(path.join(oursArg, version)) ? path.join(oursArg, version) : oursArg;
  const ours = new Map();
  let files;
  try {
    files = fs.readdirSync(oursDir);
  } catch (e) {
    usage(`${oursDir}: ${e.message}`);
  }
  for (const f of files.sort()) {
    if (!f.endsWith('.json') || f === 'actions.json') continue;
    ours.set(f.slice(0, -5), readJson(path.join(oursDir, f)));
  }

  const lines = [];
  const names = [...new Set([...ours.keys(), ...oca.keys()])].sort();
  let same = 0;
  for (const name of names) {
    if (!oca.has(name)) {
      lines.push(`${name}: missing in OCA ${version}`);
      continue;
    }
    if (!ours.has(name)) {
      lines.push(`${name}: missing in ours (${oursDir})`);
      continue;
    }
    const out = [];
    diff(normalize(ours.get(name), ours.get(name), []), normalize(oca.get(name), oca.get(name), []), '$', out);
    for (const l of out) lines.push(`${name}: ${l}`);
    if (!out.length) same++;
  }
  for (const l of lines) console.log(l);
  console.error(`${version}: ${names.length} schemas, ${same} identical, ${lines.length} difference(s)`);
  return lines.length ? 1 : 0;
}

process.exit(main(process.argv.slice(2)));
