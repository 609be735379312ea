// SPDX-License-Identifier: MIT
//
// CRLs on the charger leg (tls.crl): a charger whose certificate the CA
// revoked fails the TLS handshake (alert "certificate revoked" in the log)
// while one with a good certificate connects and boots; a CRL file that
// holds no CRL stops the start; `--check-config` refuses tls.crl without
// tls.ca. The CRL is made with `openssl ca` over lib/tls.mjs's test CA.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  closeClient, freePort, runOcppgw, startCsms, startGateway, stopAll, waitFor, withTimeout,
} from './lib/harness.mjs';
import { chargerToCsms } from './lib/payloads.mjs';
import { connectTlsCharger, makePki } from './lib/tls.mjs';

const pki = makePki();
after(() => pki.remove());

// `openssl ca` over pki.ca: revokes @certs and writes the CRL to crl.pem.
function makeCrl(certs) {
  const d = pki.dir;
  fs.writeFileSync(path.join(d, 'index.txt'), '');
  fs.writeFileSync(path.join(d, 'crlnumber'), '01\n');
  fs.writeFileSync(path.join(d, 'ca.cnf'), [
    '[ca]', 'default_ca = test', '[test]', `database = ${path.join(d, 'index.txt')}`,
    `crlnumber = ${path.join(d, 'crlnumber')}`, 'default_md = sha256', 'default_crl_days = 2', '',
  ].join('\n'));
  const ca = ['-config', 'ca.cnf', '-keyfile', pki.ca.key, '-cert', pki.ca.cert];
  for (const c of certs) execFileSync('openssl', ['ca', ...ca, '-revoke', c], { cwd: d, stdio: 'pipe' });
  execFileSync('openssl', ['ca', ...ca, '-gencrl', '-out', 'crl.pem'], { cwd: d, stdio: 'pipe' });
  return path.join(d, 'crl.pem');
}

const q = (s) => JSON.stringify(String(s));
const tlsConfig = (crl, ca = pki.ca.cert) => [
  'tls = {', `  cert = ${q(pki.server.cert)};`, `  key = ${q(pki.server.key)};`,
  ...(ca ? [`  ca = ${q(ca)};`] : []), `  crl = ${q(crl)};`, '  require_client_cert = true;', '};', '',
].join('\n');

describe('tls.crl on the charger listener', { timeout: 60000 }, () => {
  let csms;
  let gw;
  const clients = [];
  let crl;

  before(async () => {
    pki.clientCert('CRL-GOOD');
    crl = makeCrl([pki.clientCert('CRL-REVOKED').cert]);
    csms = await startCsms();
    gw = await startGateway({ csmsUrl: csms.url, config: tlsConfig(crl) });
  });

  after(async () => {
    await stopAll({ clients, gw, csms });
  });

  it('logs the CRLs it loaded', () => {
    assert.match(gw.stderr, /tls\.crl: 1 CRL\(s\) from /);
  });

  it('a charger with a good certificate connects and boots', async () => {
    const { pem } = pki.clientCert('CRL-GOOD');
    const c = await connectTlsCharger(gw, 'CRL-GOOD', '2.0.1', { ca: pki.ca.pem, cert: pem.cert, key: pem.key });
    clients.push(c);
    const [boot] = chargerToCsms('2.0.1');
    csms.responders.BootNotification = boot.response;
    assert.deepEqual(await c.call('BootNotification', boot.request), boot.response);
  });

  it('a revoked certificate fails the handshake', async () => {
    const { pem } = pki.clientCert('CRL-REVOKED');
    let client;
    try {
      client = await withTimeout(connectTlsCharger(gw, 'CRL-REVOKED', '2.0.1',
        { ca: pki.ca.pem, cert: pem.cert, key: pem.key }), 8000, 'revoked connect');
    } catch (err) {
      assert.ok(!err.response, `an HTTP refusal, not a TLS one: ${err.message}`);
      await waitFor(() => /TLS handshake with the charger at .* failed: alert "certificate revoked" sent/
        .test(gw.stderr), 5000, 'the alert in the log');
      assert.equal(csms.handshakes.filter((h) => h.identity === 'CRL-REVOKED').length, 0);
      return;
    }
    await closeClient(client);
    assert.fail('a revoked certificate connected');
  });
});

describe('tls.crl refused', () => {
  it('a file with no CRL in it stops the start', async () => {
    const res = await runOcppgw(['-c', writeTmp(tlsConfig(pki.ca.cert)),
      '--listen', `127.0.0.1:${await freePort()}`, '--admin', `127.0.0.1:${await freePort()}`,
      '--data-dir', path.join(pki.dir, 'data-bad-crl')]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /tls\.crl: .*ca\.crt holds no CRL in PEM/);
  });

  it('--check-config: tls.crl without tls.ca', async () => {
    const res = await runOcppgw(['--check-config', '-c', writeTmp(tlsConfig(pki.ca.cert, null).replace('  require_client_cert = true;\n', ''))]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /tls\.crl needs tls\.ca/);
  });
});

let nTmp = 0;
function writeTmp(text) {
  const p = path.join(pki.dir, `conf-${nTmp++}.conf`);
  fs.writeFileSync(p, text);
  return p;
}
