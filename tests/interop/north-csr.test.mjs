// SPDX-License-Identifier: MIT
//
// A charger's north certificate obtained over OCPP (csms.request_certificates):
// the gateway makes the key and CSR (CN = the identity, O = the configured
// organization) and sends SignCertificate as the charger; a CSMS that signs
// with the test CA answers with CertificateSigned, which the gateway installs
// (key 0600 in data_dir/certs) and answers itself: the charger never sees
// it. A CertificateSigned for another key is the charger's and reaches it.
// After a restart the north leg presents the new certificate to a CSMS that
// now insists on CN = identity (profile 3) and the charger boots; with
// certificate_renew_days beyond its expiry the gateway asks anew. In 2.0.1
// and 1.6 (security extension).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  connectCharger, sleep, startGateway, stopAll, tmpDir, waitFor,
} from './lib/harness.mjs';
import { chargerToCsms } from './lib/payloads.mjs';
import { makePki, startTlsCsms } from './lib/tls.mjs';

const pki = makePki();
after(() => pki.remove());
const ORG = 'ocppgw test CPO';

// The CSMS's signer: @csr (PEM) signed by pki.ca for client use, for 2
// days, or until @endMs (`openssl ca`, which takes an end date).
let serial = 0;
function sign(csr, endMs) {
  const name = `csr-${serial++}`;
  const d = pki.dir;
  fs.writeFileSync(path.join(d, `${name}.csr`), csr);
  fs.writeFileSync(path.join(d, `${name}.ext`),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  if (!endMs) {
    execFileSync('openssl', ['x509', '-req', '-in', `${name}.csr`, '-CA', pki.ca.cert, '-CAkey',
      pki.ca.key, '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`],
    { cwd: d, stdio: ['ignore', 'ignore', 'pipe'] });
  } else {
    if (!fs.existsSync(path.join(d, 'signer.cnf'))) {
      fs.writeFileSync(path.join(d, 'signer-index.txt'), '');
      fs.writeFileSync(path.join(d, 'signer-serial'), '1000\n');
      fs.writeFileSync(path.join(d, 'signer.cnf'), ['[ca]', 'default_ca = s', '[s]',
        `database = ${path.join(d, 'signer-index.txt')}`, `serial = ${path.join(d, 'signer-serial')}`,
        `new_certs_dir = ${d}`, 'default_md = sha256', 'policy = p', 'unique_subject = no',
        '[p]', 'commonName = supplied', 'organizationName = optional', ''].join('\n'));
    }
    const end = new Date(endMs).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
    execFileSync('openssl', ['ca', '-batch', '-notext', '-config', 'signer.cnf', '-keyfile', pki.ca.key,
      '-cert', pki.ca.cert, '-in', `${name}.csr`, '-out', `${name}.crt`, '-enddate', end,
      '-extfile', `${name}.ext`], { cwd: d, stdio: ['ignore', 'ignore', 'pipe'] });
  }
  return fs.readFileSync(path.join(d, `${name}.crt`), 'utf8');
}

const DAY_MS = 86400 * 1000;

// The subject of CSR @csr as openssl prints it, once its signature checks.
function csrSubject(csr) {
  return execFileSync('openssl', ['req', '-verify', '-noout', '-subject', '-nameopt', 'RFC2253'],
    { input: csr, stdio: ['pipe', 'pipe', 'pipe'] }).toString().trim();
}

for (const version of ['2.0.1', '1.6']) {
  const id = `CSR-${version.replaceAll('.', '')}`;

  describe(`north certificate through SignCertificate, OCPP ${version}`, { timeout: 90000 }, () => {
    const dataDir = tmpDir('ocppgw-csr-data-');
    const csrs = [];
    const answers = [];
    let csms;
    let gw;
    let charger;
    let chargerGot = [];
    let endMs = null;  // the signer's end date: null for 2 days
    // the CSMS's profile: 2 (no certificate asked) until it has issued one
    const checks = { cnIsIdentity: false };

    const config = (renewDays) => [
      'csms = {', `  ca = ${JSON.stringify(pki.ca.cert)};`, '  request_certificates = true;',
      `  certificate_renew_days = ${renewDays};`, `  certificate_organization = ${JSON.stringify(ORG)};`,
      '  reconnect_min = 0.2;', '  reconnect_max = 1.0;', '};', ''].join('\n');

    const start = async (renewDays) => {
      gw = await startGateway({ csmsUrl: csms.wssUrl, dataDir, config: config(renewDays) });
      charger = await connectCharger(gw, id, version);
      chargerGot = [];
      charger.handle('CertificateSigned', ({ params }) => {
        chargerGot.push(params);
        return { status: 'Rejected' };
      });
    };
    const restart = async (renewDays) => {
      await stopAll({ clients: [charger], gw });
      await start(renewDays);
    };

    before(async () => {
      csms = await startTlsCsms(pki, pki.server, {}, checks);
      csms.responders.SignCertificate = (params, client) => {
        csrs.push(params);
        // signed "later", as a CSMS does, as a call of its own
        setTimeout(async () => {
          try {
            answers.push(await client.call('CertificateSigned',
              { certificateChain: sign(params.csr, endMs) }));
          } catch (err) {
            answers.push({ error: err.message });
          }
        }, 100);
        return { status: 'Accepted' };
      };
      await start(1);
    });

    after(async () => {
      await stopAll({ clients: [charger], gw, csms });
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('sends SignCertificate as the charger with its own CSR', async () => {
      await waitFor(() => csrs.length === 1, 10000, 'SignCertificate at the CSMS');
      assert.equal(csms.handshakes.filter((h) => h.identity === id).at(-1).peerCert, null);
      const subject = csrSubject(csrs[0].csr);
      assert.equal(subject, `subject=O=${ORG},CN=${id}`);
      if (version === '1.6') assert.deepEqual(Object.keys(csrs[0]), ['csr']);
      else assert.equal(csrs[0].certificateType, 'ChargingStationCertificate');
    });

    it('installs the CSMS\'s CertificateSigned itself, key 0600, and the charger sees nothing', async () => {
      await waitFor(() => answers.length === 1, 10000, 'the answer to CertificateSigned');
      assert.deepEqual(answers[0], { status: 'Accepted' });
      const key = path.join(dataDir, 'certs', `${id}.key`);
      assert.equal(fs.statSync(key).mode & 0o777, 0o600);
      assert.ok(fs.existsSync(path.join(dataDir, 'certs', `${id}.pem`)));
      assert.ok(!fs.existsSync(path.join(dataDir, 'certs', `${id}.key.new`)));
      await sleep(300);
      assert.deepEqual(chargerGot, []);
    });

    it('a CertificateSigned for another key is the charger\'s', async () => {
      const other = fs.readFileSync(pki.clientCert(id).cert, 'utf8');
      const res = await csms.clients.get(id).call('CertificateSigned', { certificateChain: other });
      assert.deepEqual(res, { status: 'Rejected' });  // the charger's own answer
      assert.equal(chargerGot.length, 1);
      assert.equal(chargerGot[0].certificateChain, other);
    });

    it('after a restart a profile-3 CSMS lets the new certificate in, and it asks no more', async () => {
      // the CSMS moves the charger to profile 3: from now on it refuses any
      // upgrade whose certificate is not its own, verified by the CA
      checks.cnIsIdentity = true;
      try {
        const before = csms.handshakes.length;
        await restart(1);
        await csms.waitClient(id, 10000);
        await waitFor(() => csms.handshakes.length > before, 10000, 'a new handshake');
        const hs = csms.handshakes.filter((h) => h.identity === id).at(-1);
        assert.equal(hs.peerCert, id);
        assert.equal(hs.authorized, true);
        const [boot] = chargerToCsms(version);
        csms.responders.BootNotification = boot.response;
        assert.deepEqual(await charger.call('BootNotification', boot.request), boot.response);
        const seen = csms.callsOf(id).filter((c) => c.method === 'BootNotification');
        assert.deepEqual(seen.at(-1)?.params, boot.request, 'the boot did not reach the CSMS');
        await sleep(500);
        assert.equal(csrs.length, 1, 'asked again for a certificate that is still good');
      } finally {
        // the renewal tests below start over without a certificate
        checks.cnIsIdentity = false;
      }
    });

    it('renews before expiry: certificate_renew_days beyond its end asks anew', async () => {
      await restart(3);
      await waitFor(() => csrs.length === 2, 10000, 'a second SignCertificate');
      assert.match(gw.stderr, /its certificate expires soon: asking the CSMS to sign a new key/);
      await waitFor(() => answers.length === 2, 10000, 'the second CertificateSigned answered');
      assert.deepEqual(answers[1], { status: 'Accepted' });
    });

    it('a leg that stays up asks when its renewal point comes', async () => {
      // a certificate whose renewal point (a day before its end) is 25 s
      // away, obtained as above: room for two restarts on a slow machine
      endMs = Date.now() + DAY_MS + 25000;
      const renewAt = endMs - DAY_MS;
      fs.rmSync(path.join(dataDir, 'certs', `${id}.pem`));
      await restart(1);
      await waitFor(() => answers.length === 3, 10000, 'the short-lived certificate installed');
      assert.deepEqual(answers[2], { status: 'Accepted' });
      // presented from the next connection; due at renewAt, not at connect
      const upstream = csms.clients.get(id);
      await restart(1);
      await waitFor(() => csms.clients.get(id) && csms.clients.get(id) !== upstream, 10000,
        'the new north leg');
      assert.equal(csms.handshakes.filter((h) => h.identity === id).at(-1).peerCert, id);
      await sleep(1000);
      assert.ok(Date.now() < renewAt, 'too slow: the renewal point passed before the check');
      assert.equal(csrs.length, 3, 'asked at connect, before its renewal point');
      const leg = csms.clients.get(id);
      await waitFor(() => csrs.length === 4, renewAt - Date.now() + 15000,
        'SignCertificate at the renewal point');
      assert.ok(Date.now() >= renewAt - 1000, 'asked before the renewal point');
      assert.equal(csms.clients.get(id), leg, 'the north leg was reconnected to ask');
    });
  });
}
