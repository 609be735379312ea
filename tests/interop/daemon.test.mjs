// SPDX-License-Identifier: MIT
//
// The ocppgw process itself: --version, --check-config, the validate and
// passwd subcommands, SIGTERM (close frames on every leg, exit 0) and SIGHUP
// (charger list re-read without dropping connected chargers).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  SRC_ROOT, connectCharger, rawCharger, runOcppgw, startCsms, startGateway, stopAll,
  tmpDir, waitFor, withTimeout,
} from './lib/harness.mjs';

const scratch = tmpDir('ocppgw-daemon-');
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function scratchFile(name, text) {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, text);
  return file;
}

async function assertHeartbeat(raw, id) {
  raw.send([2, id, 'Heartbeat', {}]);
  const reply = await raw.next();
  assert.deepEqual(reply.slice(0, 2), [3, id], JSON.stringify(reply));
}

describe('command line', () => {
  it('--version prints the project version', async () => {
    const meson = fs.readFileSync(path.join(SRC_ROOT, 'meson.build'), 'utf8');
    const version = /version\s*:\s*'([^']+)'/.exec(meson)[1];
    const res = await runOcppgw(['--version']);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(res.stdout.includes(version), `"${res.stdout}" should contain ${version}`);
  });

  it('--check-config lists every error as file:line and exits 2', async () => {
    const file = scratchFile('errors.conf', [
      '# errors on lines 3, 5, 7 and 9',                   // 1
      'path_prefix = "/ocpp";',                            // 2
      'listen = "not-an-address";',                        // 3
      'ocpp = {',                                          // 4
      '  max_frame_size = "huge";',                        // 5
      '};',                                                // 6
      'log = { level = "chatty"; };',                      // 7
      'chargers = (',                                      // 8
      '  { id = "CP1"; password_hash = "plaintext"; }',    // 9
      ');',                                                // 10
      '',
    ].join('\n'));
    const res = await runOcppgw(['-c', file, '--check-config']);
    const out = res.stdout + res.stderr;
    assert.equal(res.code, 2, out);
    const lines = new Set();
    const re = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+): \\S`, 'gm');
    for (const m of out.matchAll(re)) lines.add(Number(m[1]));
    for (const n of [5, 7, 9]) assert.ok(lines.has(n), `no error for line ${n} in:\n${out}`);
    for (const n of lines) assert.ok([3, 5, 7, 9].includes(n), `error on good line ${n}:\n${out}`);
  });

  it('--check-config reports a syntax error with its line and exits 2', async () => {
    const file = scratchFile('syntax.conf', 'path_prefix = "/ocpp";\nlisten = ;\n');
    const res = await runOcppgw(['-c', file, '--check-config']);
    const out = res.stdout + res.stderr;
    assert.equal(res.code, 2, out);
    assert.ok(out.includes(`${file}:2: `), `no "${file}:2: " in:\n${out}`);
  });

  it('--check-config accepts conf/ocppgw.conf', async () => {
    const file = path.join(SRC_ROOT, 'conf/ocppgw.conf');
    assert.ok(fs.existsSync(file), `${file} is missing`);
    const res = await runOcppgw(['-c', file, '--check-config']);
    assert.equal(res.code, 0, res.stdout + res.stderr);
  });

  it('validate prints a verdict per line and exits 1 on invalid frames', async () => {
    const capture = [
      '[2,"v1","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"M1"}]',
      '[2,"v2","Heartbeat",{}]',
      '[2,"v3","BootNotification",{"chargePointModel":"M1"}]',
      '[2,"v4","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]',
      'this is not json',
    ];
    const file = scratchFile('capture16.jsonl', capture.join('\n') + '\n');
    const res = await runOcppgw(['validate', '--ocpp', '1.6', file]);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    // One verdict per line, in order; a summary line may follow.
    const out = res.stdout.split('\n').filter((l) => l.trim() !== '');
    assert.ok(out.length === capture.length || out.length === capture.length + 1,
      `one verdict per line:\n${res.stdout}`);
    const verdicts = out.slice(0, capture.length);
    const bad = /invalid|violation|error|fail/i;
    for (const i of [0, 1, 3]) assert.doesNotMatch(verdicts[i], bad, `line ${i + 1}: ${verdicts[i]}`);
    for (const i of [2, 4]) assert.match(verdicts[i], bad, `line ${i + 1}: ${verdicts[i]}`);
    assert.match(verdicts[2], /chargePointVendor/);
  });

  it('validate reads stdin and exits 0 when every frame is valid', async () => {
    const input = [
      '[2,"a","Heartbeat",{}]',
      '[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M1","vendorName":"Acme"}}]',
    ].join('\n') + '\n';
    const res = await runOcppgw(['validate', '--ocpp', '2.0.1'], { input });
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const out = res.stdout.split('\n').filter((l) => l.trim() !== '');
    assert.ok(out.length === 2 || out.length === 3, `one verdict per line:\n${res.stdout}`);
    for (const v of out.slice(0, 2)) assert.doesNotMatch(v, /invalid|violation|error|fail/i);
  });
});

describe('passwd and require_auth', { timeout: 30000 }, () => {
  const PASSWORD = 'Tr0ub4dor&3-station-key';
  let csms;
  let gw;
  let charger;

  before(async () => {
    const pw = await runOcppgw(['passwd'], { input: `${PASSWORD}\n` });
    assert.equal(pw.code, 0, pw.stderr);
    const hash = pw.stdout.trim();
    assert.match(hash, /^\$pbkdf2-sha256\$\d+\$[^$]+\$[^$]+$/);
    csms = await startCsms();
    gw = await startGateway({
      csmsUrl: csms.url,
      config: `require_auth = true;\nchargers = ( { id = "PW-1"; password_hash = "${hash}"; } );\n`,
    });
  });

  after(async () => {
    await stopAll({ clients: [charger], gw, csms });
  });

  it('a charger with the password connects and is relayed', async () => {
    charger = await connectCharger(gw, 'PW-1', '1.6', { password: PASSWORD });
    const hb = await charger.call('Heartbeat', {});
    assert.equal(typeof hb.currentTime, 'string');
  });

  it('a wrong or missing password is refused with 401', async () => {
    await assert.rejects(connectCharger(gw, 'PW-1', '1.6', { password: 'not-the-password' }),
      (err) => err.code === 401);
    await assert.rejects(connectCharger(gw, 'PW-1', '1.6'), (err) => err.code === 401);
  });
});

describe('signals', { timeout: 30000 }, () => {
  it('SIGTERM closes every leg with a close frame and exits 0', async () => {
    const csms = await startCsms();
    let gw;
    try {
      gw = await startGateway({ csmsUrl: csms.url });
      const raw = await rawCharger(gw, 'TERM-1', '2.0.1');
      await assertHeartbeat(raw, 't1');
      await csms.waitClient('TERM-1');
      gw.signal('SIGTERM');
      const closed = await withTimeout(raw.closed, 5000, 'charger socket closed');
      assert.notEqual(closed.code, 1006, 'charger leg closed without a close frame');
      const res = await gw.stop();
      assert.equal(res.code, 0, `exit ${JSON.stringify(res)}`);
      const up = await waitFor(() => csms.closes.find((c) => c.identity === 'TERM-1'), 3000,
        'upstream leg closed');
      assert.notEqual(up.code, 1006, 'upstream leg closed without a close frame');
    } finally {
      if (gw) await gw.stop().catch(() => {});
      await csms.close();
    }
  });

  it('SIGHUP adds a charger without dropping a connected one', async () => {
    const csms = await startCsms();
    const conf = (ids) => `chargers = (\n${ids.map((id) => `  { id = "${id}"; }`).join(',\n')}\n);\n`;
    let gw;
    const opened = [];
    try {
      gw = await startGateway({ csmsUrl: csms.url, config: conf(['HUP-A']) });
      const a = await rawCharger(gw, 'HUP-A', '1.6');
      opened.push(a);
      await assertHeartbeat(a, 'a1');
      await assert.rejects(rawCharger(gw, 'HUP-B', '1.6'), (err) => err.statusCode === 404);

      gw.writeConfig(conf(['HUP-A', 'HUP-B']));
      gw.signal('SIGHUP');
      const b = await waitFor(() => rawCharger(gw, 'HUP-B', '1.6').catch(() => null), 5000,
        'HUP-B accepted after SIGHUP');
      opened.push(b);
      await assertHeartbeat(b, 'b1');
      assert.ok(a.isOpen, 'HUP-A was dropped by the reload');
      await assertHeartbeat(a, 'a2');
      assert.equal(csms.handshakes.filter((h) => h.identity === 'HUP-A').length, 1,
        'the upstream leg of HUP-A must not be reopened');
    } finally {
      await stopAll({ raws: opened, gw, csms });
    }
  });
});

describe('identity', { timeout: 30000 }, () => {
  it('is the last path segment percent-decoded once, and reaches the CSMS as such', async () => {
    const csms = await startCsms();
    let gw;
    const opened = [];
    try {
      gw = await startGateway({ csmsUrl: csms.url });
      // "A+1" travels as A%2B1 and reaches the CSMS as "A+1".
      const raw = await rawCharger(gw, encodeURIComponent('A+1'), '2.0.1');
      opened.push(raw);
      await assertHeartbeat(raw, 'p1');
      await csms.waitClient('A+1');
      // "A%41" travels as A%2541: decoded once it has a '%', which no
      // identity may have (HTTP 400); decoded twice it would be "AA".
      await assert.rejects(rawCharger(gw, encodeURIComponent('A%41'), '2.0.1'),
        (err) => err.statusCode === 400);
      assert.ok(!csms.clients.has('AA') && !csms.clients.has('A%41'));
    } finally {
      await stopAll({ raws: opened, gw, csms });
    }
  });
});
