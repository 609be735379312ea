// SPDX-License-Identifier: MIT
//
// Charger listeners per security profile (issue 14, deliver 2): the
// gateway's `listen` as ws:// for profile 1 and one entry of `listeners`
// as wss:// for profiles 2 and 3, chargers bound to their profile with
// security_profile (per charger and per group). Both listeners are bound
// (ss -ltn); a profile-1 charger on ws and a profile-3 charger with its
// certificate on wss work at the same time; every downgrade (profile 3 or
// 2 on the ws port, profile 2 without its password, profile 3 without a
// certificate or with another charger's) is refused with 401/403 and a log
// line naming the rule, while the well-behaved chargers keep being answered.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  closeClient, connectCharger, freePort, runOcppgw, startCsms, startGateway, stopAll, tmpDir,
  waitFor,
} from './lib/harness.mjs';
import { chargerToCsms } from './lib/payloads.mjs';
import { connectTlsCharger, makePki, passwordHash } from './lib/tls.mjs';

const pki = makePki();
after(() => pki.remove());
const dir = tmpDir('ocppgw-listeners-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const PW1 = 'profile-one-password-16';
const PW2 = 'profile-two-password-16';
const q = (s) => JSON.stringify(String(s));

// The charger's HTTP status when the upgrade is refused.
async function refusedWith(promise) {
  try {
    const c = await promise;
    await closeClient(c);
  } catch (err) {
    return err.code ?? err.message;
  }
  return 'accepted';
}

describe('listeners per security profile', { timeout: 180000 }, () => {
  let gw, csms, tlsPort, wss;
  const clients = [];

  before(async () => {
    csms = await startCsms();
    tlsPort = await freePort();
    wss = `wss://127.0.0.1:${tlsPort}/ocpp`;
    const [h1, h2] = [await passwordHash(PW1), await passwordHash(PW2)];
    const config = [
      'listeners = (',
      `  { listen = "127.0.0.1:${tlsPort}"; profiles = [ 2, 3 ];`,
      `    tls = { cert = ${q(pki.server.cert)}; key = ${q(pki.server.key)}; ca = ${q(pki.ca.cert)}; }; }`,
      ');',
      'chargers = (',
      `  { id = "P1"; security_profile = 1; password_hash = ${q(h1)}; },`,
      `  { id = "P2"; security_profile = 2; password_hash = ${q(h2)}; },`,
      '  { id = "P3"; security_profile = 3; },',
      '  { id = "G3"; }',
      ');',
      'groups = ( { name = "certified"; security_profile = 3; chargers = [ "G3" ]; } );',
      '',
    ].join('\n');
    gw = await startGateway({ config, csmsUrl: csms.url });
    // `listeners` open first; `listen`'s line is the one that means ready
    await waitFor(() => new RegExp(`listening on 127\\.0\\.0\\.1:${gw.port} `).test(gw.stderr));
  });

  after(async () => {
    for (const c of clients) await closeClient(c);
    await stopAll({ gw, csms });
  });

  it('both listeners are bound, each with its profiles', async () => {
    const ss = execFileSync('ss', ['-ltn'], { encoding: 'utf8' });
    assert.match(ss, new RegExp(`127\\.0\\.0\\.1:${gw.port}\\s`));
    assert.match(ss, new RegExp(`127\\.0\\.0\\.1:${tlsPort}\\s`));
    assert.match(gw.stderr, new RegExp(`listening on 127\\.0\\.0\\.1:${gw.port} \\(ws, profiles 1\\)`));
    assert.match(gw.stderr, new RegExp(`listening on 127\\.0\\.0\\.1:${tlsPort} \\(wss, TLS 1\\.2 or later, profiles 2,3\\)`));
  });

  it('profile 1 on ws, profiles 2 and 3 on wss, at the same time', async () => {
    const p1 = await connectCharger(gw, 'P1', '1.6', { password: PW1 });
    clients.push(p1);
    const p3 = await connectTlsCharger(gw, 'P3', '2.0.1', { endpoint: wss, ca: pki.ca.pem,
      cert: pki.clientCert('P3').pem.cert, key: pki.clientCert('P3').pem.key });
    clients.push(p3);
    const p2 = await connectTlsCharger(gw, 'P2', '2.0.1', { endpoint: wss, ca: pki.ca.pem, password: PW2 });
    clients.push(p2);
    const g3 = await connectTlsCharger(gw, 'G3', '1.6', { endpoint: wss, ca: pki.ca.pem,
      cert: pki.clientCert('G3').pem.cert, key: pki.clientCert('G3').pem.key });
    clients.push(g3);
    for (const [c, id, v] of [[p1, 'P1', '1.6'], [p3, 'P3', '2.0.1'], [p2, 'P2', '2.0.1'], [g3, 'G3', '1.6']]) {
      const [boot] = chargerToCsms(v);
      csms.responders.BootNotification = boot.response;
      assert.deepEqual(await c.call('BootNotification', boot.request), boot.response);
      assert.ok(csms.callsOf(id).some((x) => x.method === 'BootNotification'), id);
    }
  });

  it('each downgrade is refused with the rule in the log; the others keep being answered', async () => {
    const ws = gw.endpoint;
    const cert = (cn) => ({ cert: pki.clientCert(cn).pem.cert, key: pki.clientCert(cn).pem.key });
    const cases = [
      ['profile 3 on the ws port', 'P3', () => connectTlsCharger(gw, 'P3', '1.6', { endpoint: ws }),
        403, /\[P3 south\] refused: bound to security profile 3, and listen is not a listener for it/],
      ['profile 3 (by group) on the ws port', 'G3', () => connectTlsCharger(gw, 'G3', '1.6', { endpoint: ws }),
        403, /\[G3 south\] refused: bound to security profile 3, and listen is not a listener for it/],
      ['profile 2 on the ws port, password and all', 'P2',
        () => connectTlsCharger(gw, 'P2', '1.6', { endpoint: ws, password: PW2 }),
        403, /\[P2 south\] refused: bound to security profile 2, and listen is not a listener for it/],
      ['profile 1 on the wss port', 'P1',
        () => connectTlsCharger(gw, 'P1', '1.6', { endpoint: wss, ca: pki.ca.pem, password: PW1 }),
        403, /\[P1 south\] refused: bound to security profile 1, and listeners\[0\] \(127\.0\.0\.1:\d+\) is not a listener for it/],
      ['profile 2 without its password', 'P2',
        () => connectTlsCharger(gw, 'P2', '1.6', { endpoint: wss, ca: pki.ca.pem }),
        401, /\[P2 south\] refused: no Basic auth/],
      ['profile 3 without a certificate', 'P3',
        () => connectTlsCharger(gw, 'P3', '1.6', { endpoint: wss, ca: pki.ca.pem }),
        403, /\[P3 south\] refused: security profile 3 and no client certificate/],
      ['profile 3 with another charger\'s certificate', 'P3',
        () => connectTlsCharger(gw, 'P3', '1.6', { endpoint: wss, ca: pki.ca.pem, ...cert('G3') }),
        403, /\[P3 south\] refused: client certificate CN is not the identity/],
    ];
    for (const [name, , attempt, status, line] of cases) {
      const before = gw.stderr.length;
      assert.equal(await refusedWith(attempt()), status, name);
      await waitFor(() => line.test(gw.stderr.slice(before)), 5000, `log line for ${name}`);
    }
    // A certificate from another CA fails the handshake itself.
    const foreign = pki.foreignClientCert('P3');
    const r = await refusedWith(connectTlsCharger(gw, 'P3', '1.6', { endpoint: wss, ca: pki.ca.pem,
      cert: foreign.pem.cert, key: foreign.pem.key }));
    assert.notEqual(r, 'accepted');
    // The refused attempts replaced nobody: every well-behaved charger is answered.
    for (const c of clients) {
      const res = await c.call('Heartbeat', {});
      assert.ok(res.currentTime, `${c.identity} answered`);
    }
  });
});

describe('listeners: --check-config', { timeout: 60000 }, () => {
  it('refuses profiles the listener cannot carry and a profile-2 charger without a password', async () => {
    const f = path.join(dir, 'bad.conf');
    fs.writeFileSync(f, [
      'listeners = (',
      '  { listen = "127.0.0.1:9443"; profiles = [ 2, 3 ]; },',
      `  { listen = "127.0.0.1:9444"; profiles = [ 1, 3 ]; tls = { cert = ${q(pki.server.cert)}; key = ${q(pki.server.key)}; }; }`,
      ');',
      'chargers = ( { id = "P2"; security_profile = 2; } );',
      '',
    ].join('\n'));
    const r = await runOcppgw(['-c', f, '--check-config']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /listeners\[0\] \(127\.0\.0\.1:9443\): security profiles 2 and 3 need tls\.cert and tls\.key/);
    assert.match(r.stderr, /listeners\[1\] \(127\.0\.0\.1:9444\): security profile 1 is ws:\/\/, without tls/);
    assert.match(r.stderr, /listeners\[1\] \(127\.0\.0\.1:9444\): security profile 3 needs tls\.ca/);
    assert.match(r.stderr, /chargers: 'P2' is bound to security profile 2, which needs its password_hash/);
    const g = path.join(dir, 'bad-profile.conf');
    fs.writeFileSync(g, 'listeners = (\n  { listen = "127.0.0.1:9445"; profiles = [ 4 ]; }\n);\n'
      + 'chargers = ( { id = "X"; security_profile = 0; } );\n');
    const r2 = await runOcppgw(['-c', g, '--check-config']);
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, new RegExp(`${g.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: listeners\\[0\\]\\.profiles: security profiles are 1, 2 and 3`));
    assert.match(r2.stderr, /:4: chargers\[0\]\.security_profile: /);
  });

  it('checks the files each listener names, with file:line', async () => {
    const f = path.join(dir, 'files.conf');
    fs.writeFileSync(f, ['listeners = (', '  { listen = "127.0.0.1:9443"; profiles = [ 2 ];',
      `    tls = { cert = "/nonexistent/server.pem"; key = ${q(pki.server.key)}; }; }`, ');', ''].join('\n'));
    const r = await runOcppgw(['-c', f, '--check-config']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /:3: listeners\[0\]\.tls\.cert: cannot use '\/nonexistent\/server\.pem': No such file or directory/);
  });
});
