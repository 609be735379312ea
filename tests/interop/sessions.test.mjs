// SPDX-License-Identifier: MIT
//
// `ocppgw sessions`: the transactions table of a store the real gateway
// created, listed while that gateway runs (WAL, busy timeout), as CSV and
// JSON, with --charger, --open, --from, --to and --limit; data_dir from
// -c; a missing store and bad usage as clear errors. GET /api/sessions
// gives the same rows: its CSV is byte for byte the command's for the same
// filters, its JSON adds energy sums per charger and per token; bad
// parameters are 400 naming the field. Rows are written with the sqlite3
// command, as the gateway's transaction log writes them.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { adminApi, runOcppgw, startGateway, tmpDir, waitFor } from './lib/harness.mjs';

const scratch = tmpDir('ocppgw-sessions-');
const dataDir = path.join(scratch, 'data');
const db = path.join(dataDir, 'ocppgw.db');
let gw;

// charger, tx_id, evse, connector, id_tag, started, stopped, meter_start_wh,
// meter_last_wh, stop_reason, offline (NULL where the log knows nothing yet)
const ROWS = [
  "('CP16', '1000000001', NULL, 1, 'TAG1', 1798761600, 1798765200, 1000, 7500, 'Local', 1)",
  "('CP201', 'a1b2', 1, 1, 'TAG,\"9\"', 1798768800, NULL, 1500, 4000, NULL, 0)",
  "('CP16', '42', NULL, 2, NULL, 1798772400, NULL, 0, NULL, NULL, 0)",
];

before(async () => {
  gw = await startGateway({ csmsUrl: 'ws://127.0.0.1:9/none', dataDir });
  await waitFor(() => fs.existsSync(db), 5000, 'the gateway creates its store');
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', db,
    `INSERT INTO transactions(charger, tx_id, evse, connector, id_tag, started, stopped,
       meter_start_wh, meter_last_wh, stop_reason, offline) VALUES ${ROWS.join(', ')};`]);
});

after(async () => {
  if (gw) await gw.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

// Minimal RFC 4180 reader: quoted fields, doubled quotes.
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; } else if (ch === '\n') {
      row.push(field); rows.push(row); row = []; field = '';
    } else field += ch;
  }
  return rows;
}

describe('GET /api/sessions', () => {
  // The same filters, as the API's query and as the command's options.
  const filters = [
    [{}, []],
    [{ charger: 'CP16' }, ['--charger', 'CP16']],
    [{ from: '2027-01-01T01:30:00Z' }, ['--from', '2027-01-01T01:30:00Z']],
    [{ charger: 'CP201', from: '2027-01-01', to: '2027-01-02' },
      ['--charger', 'CP201', '--from', '2027-01-01', '--to', '2027-01-02']],
    [{ limit: '2' }, ['--limit', '2']],
  ];

  it('its CSV is what `ocppgw sessions` prints for the same filters', async () => {
    for (const [query, args] of filters) {
      const api = await adminApi(gw, 'GET', `/api/sessions?${new URLSearchParams({ ...query, format: 'csv' })}`);
      assert.equal(api.status, 200, api.text);
      assert.match(api.headers.get('content-type'), /^text\/csv/);
      const cli = await runOcppgw(['sessions', '--data-dir', dataDir, ...args]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(api.text, cli.stdout, JSON.stringify(query));
      assert.ok(parseCsv(api.text).length > 1 || query.from, `rows for ${JSON.stringify(query)}`);
    }
  });

  it('its JSON has the sessions and the energy per charger and per token', async () => {
    const r = await adminApi(gw, 'GET', '/api/sessions');
    assert.equal(r.status, 200, r.text);
    const cli = await runOcppgw(['sessions', '--data-dir', dataDir, '--format', 'json']);
    assert.deepEqual(r.json.sessions, JSON.parse(cli.stdout));
    // CP16: 6.5 kWh (TAG1), its other session's energy is unknown; CP201: 2.5 kWh.
    assert.deepEqual(r.json.sums, { energy_kwh: 9, by_charger: { CP16: 6.5, CP201: 2.5 },
      by_token: { TAG1: 6.5, 'TAG,"9"': 2.5 } });
    const one = await adminApi(gw, 'GET', '/api/sessions?charger=CP201&format=json');
    assert.deepEqual(one.json.sums.by_charger, { CP201: 2.5 });
  });

  it('refuses bad parameters with 400 naming the field', async () => {
    const cases = [
      ['format=xml', 'format'], ['from=yesterday', 'from'], ['to=2027-02-31', 'to'],
      ['limit=0', 'limit'], ['limit=x', 'limit'], ['charger=%00', 'charger'],
      [`charger=${'c'.repeat(80)}`, 'charger'],
    ];
    for (const [q, field] of cases) {
      const r = await adminApi(gw, 'GET', `/api/sessions?${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(r.json.field, field, `${q}: ${r.text}`);
    }
  });
});

describe('ocppgw sessions', () => {
  it('lists every session as CSV, newest first, while the gateway runs', async () => {
    const res = await runOcppgw(['sessions', '--data-dir', dataDir]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(gw.proc.exitCode, null, 'the gateway is still running');
    const rows = parseCsv(res.stdout);
    assert.deepEqual(rows[0], ['charger', 'tx_id', 'evse', 'connector', 'id_tag', 'started',
      'stopped', 'energy_kwh', 'stop_reason', 'offline']);
    assert.deepEqual(rows.slice(1), [
      ['CP16', '42', '0', '2', '', '2027-01-01T03:00:00Z', '', '', '', 'false'],
      ['CP201', 'a1b2', '1', '1', 'TAG,"9"', '2027-01-01T02:00:00Z', '', '2.500', '', 'false'],
      ['CP16', '1000000001', '0', '1', 'TAG1', '2027-01-01T00:00:00Z', '2027-01-01T01:00:00Z',
        '6.500', 'Local', 'true'],
    ]);
  });

  it('JSON with --charger, --open and --limit', async () => {
    let res = await runOcppgw(['sessions', '--data-dir', dataDir, '--format', 'json',
      '--charger', 'CP16']);
    assert.equal(res.code, 0, res.stderr);
    const all = JSON.parse(res.stdout);
    assert.deepEqual(all.map((s) => s.tx_id), ['42', '1000000001']);
    assert.deepEqual(all[1], {
      charger: 'CP16', tx_id: '1000000001', evse: 0, connector: 1, id_tag: 'TAG1',
      started: '2027-01-01T00:00:00Z', stopped: '2027-01-01T01:00:00Z', energy_kwh: 6.5,
      stop_reason: 'Local', offline: true,
    });
    assert.equal(all[0].stopped, null);
    assert.equal(all[0].energy_kwh, null);

    res = await runOcppgw(['sessions', '--data-dir', dataDir, '--format', 'json', '--open']);
    assert.deepEqual(JSON.parse(res.stdout).map((s) => s.tx_id), ['42', 'a1b2']);
    res = await runOcppgw(['sessions', '--data-dir', dataDir, '--format', 'json', '--limit', '1']);
    assert.deepEqual(JSON.parse(res.stdout).map((s) => s.tx_id), ['42']);
    res = await runOcppgw(['sessions', '--data-dir', dataDir, '--charger', 'nobody']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim().split('\n').length, 1, 'only the header');
  });

  it('--from and --to select by start time', async () => {
    let res = await runOcppgw(['sessions', '--data-dir', dataDir, '--format', 'json',
      '--from', '2027-01-01T01:30:00Z', '--to', '2027-01-01T03:00:00Z']);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout).map((s) => s.tx_id), ['a1b2'], 'from inclusive, to exclusive');
    res = await runOcppgw(['sessions', '--data-dir', dataDir, '--format', 'json', '--from', '2027-01-02']);
    assert.deepEqual(JSON.parse(res.stdout), []);
    res = await runOcppgw(['sessions', '--data-dir', dataDir, '--format', 'json', '--to', '2027-01-02']);
    assert.equal(JSON.parse(res.stdout).length, 3);
  });

  it('takes data_dir from the config file', async () => {
    const conf = path.join(scratch, 'sessions.conf');
    fs.writeFileSync(conf, `data_dir = "${dataDir}";\n`);
    const res = await runOcppgw(['sessions', '-c', conf, '--format', 'json']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).length, 3);
  });

  it('a missing store is an error, not an empty list, and is not created', async () => {
    const missing = path.join(scratch, 'nothing-here');
    const res = await runOcppgw(['sessions', '--data-dir', missing]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /nothing-here\/ocppgw\.db: No such file or directory/);
    assert.equal(fs.existsSync(missing), false);
  });

  it('bad usage exits 2 with a clear message', async () => {
    const cases = [
      [['--format', 'xml'], /--format: expected csv or json, got 'xml'/],
      [['--limit', '0'], /--limit: expected a whole number from 1 to 10000000, got '0'/],
      [['--limit', 'ten'], /--limit: expected a whole number/],
      [['extra'], /unexpected argument 'extra'/],
      [['--bogus'], /unrecognized option|Try 'ocppgw sessions --help'/],
      [['--charger', ''], /--charger: must not be empty/],
      [['--from', 'yesterday'], /--from: expected a date \(2026-12-04\) or an RFC 3339 time, got 'yesterday'/],
      [['--to', '2027-02-31'], /--to: expected a date/],
    ];
    for (const [args, want] of cases) {
      const res = await runOcppgw(['sessions', '--data-dir', dataDir, ...args]);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, want);
      assert.equal(res.stdout, '');
    }
    const conf = path.join(scratch, 'bad.conf');
    fs.writeFileSync(conf, 'data_dir = "";\n');
    const res = await runOcppgw(['sessions', '-c', conf]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /bad\.conf:1: data_dir: must not be empty/);
  });

  it('--help explains the columns', async () => {
    const res = await runOcppgw(['sessions', '--help']);
    assert.equal(res.code, 0);
    assert.match(res.stdout, /Usage: ocppgw sessions/);
    assert.match(res.stdout, /energy_kwh/);
    assert.match((await runOcppgw(['--help'])).stdout, /ocppgw sessions/);
  });
});
