// SPDX-License-Identifier: MIT
//
// The gateway's own server certificate through the CSMS (tls.identity): at
// start the gateway opens a leg of its own to the CSMS as LC-SITE-7, boots
// as a charging station (kept Pending once: it waits) and sends
// SignCertificate with its own CSR once accepted; a CSMS
// that signs with the test CA answers with CertificateSigned, which the
// gateway installs (key 0600) and serves on its wss listener from the next
// handshake, without a restart. A charger that trusts only that CA is
// refused while tls.cert (signed by another CA) serves, and let in once
// the obtained certificate does. While tls.cert serves, a DeleteCertificate
// of its root is refused. A DeleteCertificate of that CA sent to the
// charger is answered Failed by the gateway and never reaches the charger
// (one of another root does); an InstallCertificate of a new CSMS root
// reaches the charger and makes the gateway ask for a new certificate. A
// TLS 1.1 handshake arrives at the CSMS as InvalidTLSVersion from
// LC-SITE-7, a client certificate from another CA as
// InvalidChargingStationCertificate. After a restart the obtained
// certificate serves from the first handshake, and is renewed when
// certificate_renew_days reaches its expiry. In 2.0.1 and 1.6 (security
// extension).

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  adminApi, closeClient, startCsms, startGateway, stopAll, tmpDir, waitFor,
} from './lib/harness.mjs';
import { chargerToCsms } from './lib/payloads.mjs';
import { connectTlsCharger, makePki } from './lib/tls.mjs';

const pki = makePki();
after(() => pki.remove());
const LC = 'LC-SITE-7';
const LC_PASSWORD = 'lc-site-7-secret-0123';
const q = (s) => JSON.stringify(String(s));

// The CSMS's signer: @csr (PEM) signed by pki.ca as a server certificate
// for 127.0.0.1 (the names are the CSMS's CA policy: it knows where its
// Local Controller is), for 2 days.
let serial = 0;
function sign(csr) {
  const name = `lc-${serial++}`;
  const d = pki.dir;
  fs.writeFileSync(path.join(d, `${name}.csr`), csr);
  fs.writeFileSync(path.join(d, `${name}.ext`), ['basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost', ''].join('\n'));
  execFileSync('openssl', ['x509', '-req', '-in', `${name}.csr`, '-CA', pki.ca.cert, '-CAkey',
    pki.ca.key, '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`],
  { cwd: d, stdio: ['ignore', 'ignore', 'pipe'] });
  return fs.readFileSync(path.join(d, `${name}.crt`), 'utf8');
}

// The DER elements inside the DER element at [@start, @end) of @buf.
function derChildren(buf, start, end) {
  const out = [];
  for (let p = start; p < end;) {
    let len = buf[p + 1];
    let hdr = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[p + 2 + i];
      hdr += n;
    }
    out.push({ tag: buf[p], start: p, body: p + hdr, end: p + hdr + len });
    p += hdr + len;
  }
  return out;
}

// OCPP's CertificateHashDataType of root certificate @pem (self-signed:
// its issuer is its subject), SHA256.
function hashData(pem) {
  const x = new crypto.X509Certificate(pem);
  const der = x.raw;
  const [cert] = derChildren(der, 0, der.length);
  const [tbs] = derChildren(der, cert.body, cert.end);
  const f = derChildren(der, tbs.body, tbs.end);
  const at = f[0].tag === 0xa0 ? 1 : 0;  // [0] version
  const subject = f[at + 4];
  const spki = f[at + 5];
  const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
  return {
    hashAlgorithm: 'SHA256',
    issuerNameHash: sha(der.subarray(subject.start, subject.end)),
    issuerKeyHash: sha(der.subarray(spki.start, spki.end)),
    serialNumber: x.serialNumber.toLowerCase().replace(/^0+/, '') || '0',
  };
}

// A wss charger that trusts only pki.ca: resolves to the client, or to
// the error its TLS handshake failed with.
async function tryCharger(gw, id, version) {
  try {
    return { client: await connectTlsCharger(gw, id, version, { ca: pki.ca.pem }) };
  } catch (err) {
    return { err };
  }
}

// openssl s_client offering only TLS 1.1; resolves once it has exited.
function tls11(port) {
  return new Promise((resolve) => {
    execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_1', '-cipher',
      'DEFAULT@SECLEVEL=0'], { timeout: 10000 }, (err, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
}

for (const version of ['2.0.1', '1.6']) {
  const id = `SRV-${version.replaceAll('.', '')}`;
  const rootType = version === '1.6' ? 'CentralSystemRootCertificate' : 'CSMSRootCertificate';

  describe(`the gateway's server certificate through SignCertificate, OCPP ${version}`, { timeout: 120000 }, () => {
    const dataDir = tmpDir('ocppgw-srvcert-data-');
    const foreign = pki.foreignServerCert();
    const csrs = [];
    const answers = [];
    let release;
    const signing = new Promise((r) => { release = r; });
    let csms;
    let gw;
    const clients = [];
    const chargerGot = [];

    // profiles 2 and 3: a client certificate is verified when shown
    const config = (renewDays = 1) => [
      `upstream_ocpp = ${q(version)};`, 'profiles = [2, 3];',
      `tls = { cert = ${q(foreign.cert)}; key = ${q(foreign.key)}; ca = ${q(pki.ca.cert)};`,
      `  identity = ${q(LC)}; };`,
      `csms = { security_event_interval = 0; certificate_renew_days = ${renewDays};`,
      '  reconnect_min = 0.2; reconnect_max = 1.0; };',
      // the identity's entry gives its own leg a password, nothing more
      `chargers = ( { id = ${q(id)}; }, { id = ${q(LC)}; upstream_password = ${q(LC_PASSWORD)}; } );`,
      ''].join('\n');

    const charger = async () => {
      const r = await tryCharger(gw, id, version);
      assert.ok(r.client, `the charger was refused: ${r.err?.message}`);
      const c = r.client;
      clients.push(c);
      for (const action of ['DeleteCertificate', 'InstallCertificate']) {
        c.handle(action, ({ params }) => {
          chargerGot.push({ action, params });
          return { status: 'Accepted' };
        });
      }
      return c;
    };

    before(async () => {
      csms = await startCsms();
      const [boot] = chargerToCsms(version);
      // the gateway's own boot is Pending once: it must not ask before
      let lcBoots = 0;
      csms.responders.BootNotification = (params, client) => (client.identity === LC && !lcBoots++ ?
        { ...boot.response, status: 'Pending', interval: 1 } : boot.response);
      csms.responders.SecurityEventNotification = {};
      csms.responders.SignCertificate = (params, client) => {
        csrs.push(params);
        // signed "later", as a CSMS does, as a call of its own
        signing.then(async () => {
          try {
            answers.push(await client.call('CertificateSigned', {
              certificateChain: sign(params.csr),
              ...(version === '1.6' ? {} : { certificateType: 'ChargingStationCertificate' }),
            }));
          } catch (err) {
            answers.push({ error: err.message });
          }
        });
        return { status: 'Accepted' };
      };
      gw = await startGateway({ csmsUrl: csms.url, dataDir, config: config() });
    });

    after(async () => {
      await stopAll({ clients, gw, csms });
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('boots as its own identity and sends SignCertificate with its own CSR', async () => {
      await waitFor(() => csrs.length === 1, 10000, 'SignCertificate from the gateway');
      const calls = csms.callsOf(LC).map((c) => c.method);
      assert.deepEqual(calls.slice(0, 3), ['BootNotification', 'BootNotification', 'SignCertificate']);
      assert.equal(csms.callsOf(LC)[0].protocol, `ocpp${version}`);
      assert.equal(csms.handshakes.find((h) => h.identity === LC).password, LC_PASSWORD);
      // the operator's charger list shows chargers only
      const list = await adminApi(gw, 'GET', '/api/chargers');
      assert.deepEqual(list.json.map((c) => c.id), [id]);
      const subject = execFileSync('openssl', ['req', '-verify', '-noout', '-subject', '-nameopt',
        'RFC2253'], { input: csrs[0].csr, stdio: ['pipe', 'pipe', 'pipe'] }).toString().trim();
      assert.equal(subject, `subject=CN=${LC}`);
      if (version === '1.6') assert.deepEqual(Object.keys(csrs[0]), ['csr']);
      else assert.equal(csrs[0].certificateType, 'ChargingStationCertificate');
    });

    it('a charger that trusts only the CSMS\'s root refuses tls.cert', async () => {
      const r = await tryCharger(gw, id, version);
      await closeClient(r.client);
      assert.ok(r.err, 'the charger accepted a certificate from another CA');
      assert.match(`${r.err.code} ${r.err.message}`, /verify|self.signed|UNABLE_TO|certificate/i);
    });

    it('while tls.cert serves, refuses a DeleteCertificate of the root that signs it', async () => {
      const c = await connectTlsCharger(gw, id, version, { ca: pki.otherCa.pem });
      const up = await csms.waitClient(id, 10000);
      const res = await up.call('DeleteCertificate', { certificateHashData: hashData(pki.otherCa.pem) });
      assert.equal(res.status, 'Failed');
      await closeClient(c);
      await waitFor(() => csms.closes.some((x) => x.identity === id), 10000, 'the north leg closed');
    });

    it('installs the CSMS\'s CertificateSigned and serves it from the next handshake', async () => {
      const pid = gw.proc.pid;
      release();
      await waitFor(() => answers.length === 1, 10000, 'the answer to CertificateSigned');
      assert.deepEqual(answers[0], { status: 'Accepted' });
      assert.equal(fs.statSync(path.join(dataDir, 'certs', `${LC}.key`)).mode & 0o777, 0o600);
      assert.ok(fs.existsSync(path.join(dataDir, 'certs', `${LC}.pem`)));
      const c = await charger();
      const [boot] = chargerToCsms(version);
      assert.deepEqual(await c.call('BootNotification', boot.request), boot.response);
      const seen = csms.callsOf(id).filter((x) => x.method === 'BootNotification');
      assert.deepEqual(seen.at(-1)?.params, boot.request);
      assert.equal(gw.proc.pid, pid, 'no restart');
      assert.match(gw.stderr, /serving the certificate the CSMS signed for the gateway/);
    });

    it('refuses a DeleteCertificate of that root for the charger; one of another root passes', async () => {
      const up = await csms.waitClient(id, 10000);
      const res = await up.call('DeleteCertificate', { certificateHashData: hashData(pki.ca.pem) });
      if (version === '1.6') assert.deepEqual(res, { status: 'Failed' });
      else {
        assert.equal(res.status, 'Failed');
        assert.equal(res.statusInfo.reasonCode, 'GatewayRootInUse');
      }
      assert.deepEqual(chargerGot, [], 'the DeleteCertificate reached the charger');
      const other = await up.call('DeleteCertificate', { certificateHashData: hashData(pki.otherCa.pem) });
      assert.deepEqual(other, { status: 'Accepted' });
      assert.deepEqual(chargerGot.map((g) => g.action), ['DeleteCertificate']);
      assert.deepEqual(chargerGot[0].params.certificateHashData, hashData(pki.otherCa.pem));
      const ev = await adminApi(gw, 'GET', `/api/events?charger=${id}&kind=security`);
      assert.ok(ev.json.some((e) => /refused a DeleteCertificate of the root/.test(e.text)),
        JSON.stringify(ev.json));
      // and the charger still trusts the gateway (this connection
      // replaces the first, and gets a north leg of its own)
      const legs = csms.handshakes.filter((h) => h.identity === id).length;
      await charger();
      await waitFor(() => csms.handshakes.filter((h) => h.identity === id).length > legs,
        10000, 'the new connection\'s north leg');
      await waitFor(() => csms.closes.filter((c) => c.identity === id).length === 2, 10000,
        'the replaced north leg closed');
    });

    it('an InstallCertificate of a new CSMS root reaches the charger and the gateway asks again', async () => {
      chargerGot.length = 0;
      const up = await csms.waitClient(id, 10000);
      const res = await up.call('InstallCertificate', { certificateType: rootType,
        certificate: pki.otherCa.pem.toString() });
      assert.deepEqual(res, { status: 'Accepted' });
      assert.deepEqual(chargerGot.map((g) => g.action), ['InstallCertificate']);
      await waitFor(() => csrs.length === 2, 10000, 'a second SignCertificate from the gateway');
      await waitFor(() => answers.length === 2, 10000, 'the second CertificateSigned');
      assert.deepEqual(answers[1], { status: 'Accepted' });
      const ev = await adminApi(gw, 'GET', `/api/events?charger=${id}&kind=security`);
      assert.ok(ev.json.some((e) => /installs a new CSMS root/.test(e.text)), JSON.stringify(ev.json));
    });

    it('reports a TLS 1.1 handshake as InvalidTLSVersion from its own identity', async () => {
      const out = await tls11(gw.port);
      assert.doesNotMatch(out, /New, TLSv1\.1/);
      await waitFor(() => csms.callsOf(LC).some((c) => c.method === 'SecurityEventNotification'),
        10000, 'a SecurityEventNotification from the gateway');
      const ev = csms.callsOf(LC).find((c) => c.method === 'SecurityEventNotification');
      assert.equal(ev.params.type, 'InvalidTLSVersion');
      assert.match(ev.params.techInfo, /refused a TLS handshake: TLS version: alert "protocol version" sent to 127\.0\.0\.1:\d+/);
      assert.ok(Math.abs(Date.parse(ev.params.timestamp) - Date.now()) < 60000);
    });

    it('reports a client certificate from another CA as InvalidChargingStationCertificate', async () => {
      const bad = pki.foreignClientCert(id);
      let err;
      try {
        clients.push(await connectTlsCharger(gw, id, version, { ca: pki.ca.pem, ...bad.pem }));
      } catch (e) {
        err = e;
      }
      assert.ok(err, 'a certificate from another CA was taken');
      const type = version === '1.6' ? 'InvalidChargePointCertificate' : 'InvalidChargingStationCertificate';
      await waitFor(() => csms.callsOf(LC).some((c) => c.params.type === type), 10000, type);
      const ev = csms.callsOf(LC).find((c) => c.params.type === type);
      assert.match(ev.params.techInfo, /TLS client certificate: alert "[^"]+" sent to 127\.0\.0\.1:\d+/);
    });

    it('serves the obtained certificate from the first handshake after a restart', async () => {
      for (const c of clients.splice(0)) await closeClient(c);
      await gw.stop();
      gw = await startGateway({ csmsUrl: csms.url, dataDir, config: config() });
      await charger();
      assert.match(gw.stderr, /serving the certificate the CSMS signed for the gateway/);
      await csms.waitClient(LC, 10000);
      assert.equal(csrs.length, 2, 'asked again with a certificate far from its renewal');
    });

    it('renews it when certificate_renew_days reaches its expiry', async () => {
      for (const c of clients.splice(0)) await closeClient(c);
      await gw.stop();
      gw = await startGateway({ csmsUrl: csms.url, dataDir, config: config(3) });
      await waitFor(() => csrs.length === 3, 10000, 'a renewal SignCertificate');
      assert.match(gw.stderr, /its certificate expires soon: asking the CSMS to sign a new key/);
      await waitFor(() => answers.length === 3, 10000, 'the renewed CertificateSigned');
      assert.deepEqual(answers[2], { status: 'Accepted' });
      await waitFor(() => gw.stderr.match(/serving the certificate the CSMS signed/g)?.length === 2,
        10000, 'the renewed certificate served');
      await charger();
    });

    it('refuses a charger that connects with the gateway\'s own identity', async () => {
      let err;
      try {
        clients.push(await connectTlsCharger(gw, LC, version, { ca: pki.ca.pem }));
      } catch (e) {
        err = e;
      }
      assert.equal(err?.code, 404);
    });
  });
}

describe('tls.identity in --check-config', () => {
  it('needs tls.cert and a CSMS over OCPP-J', async () => {
    const { runOcppgw } = await import('./lib/harness.mjs');
    const dir = tmpDir('ocppgw-srvcert-conf-');
    const conf = path.join(dir, 'gw.conf');
    fs.writeFileSync(conf, `tls = { identity = ${q(LC)}; };\n`);
    const res = await runOcppgw(['-c', conf, '--check-config']);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /tls\.identity needs tls\.cert and tls\.key/);
    assert.match(res.stderr, /tls\.identity needs csms\.url/);
  });
});
