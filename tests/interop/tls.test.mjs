// SPDX-License-Identifier: MIT
//
// TLS on both sides of the real ocppgw, per OCPP version. South: security
// profile 2 (wss:// + Basic auth; a 1.6 AuthorizationKey as its hex digits
// and as raw bytes, a 2.x text password) and profile 3 (client certificate
// whose CN is the identity). North: a wss:// CSMS verified against csms.ca,
// with and without a gateway client certificate, a CSMS signed by the wrong
// CA, and the per-charger upstream Basic credentials. The PKI is made with
// the openssl CLI in a temp dir for this run only.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  VERSIONS, adminApi, closeClient, connectCharger, startCsms, startGateway, stopAll, waitFor,
  withTimeout,
} from './lib/harness.mjs';
import { chargerToCsms } from './lib/payloads.mjs';
import {
  connectTlsCharger, gatewayConfig, makePki, passwordHash, startTlsCsms,
} from './lib/tls.mjs';

const pki = makePki();
after(() => pki.remove());

const tag = (version) => version.replaceAll('.', '');

// A 1.6 AuthorizationKey (SEC16 A00.FR.205: 16-20 bytes, configured as hex).
// Some bytes are unprintable, as in a random key.
const KEY16 = Buffer.from('00a1b2c3d4e5f60718293a4b5c6d7e8f90010203', 'hex');
const KEY16_HEX = KEY16.toString('hex');
// 2.x SecurityCtrlr.BasicAuthPassword: 16-40 characters of text.
const PASSWORD2X = 'Correct-Horse-Battery-2x!';
const passwordOf = (version) => (version === '1.6' ? KEY16_HEX : PASSWORD2X);

// BootNotification and Heartbeat from the charger through the gateway; the
// CSMS must see both with the charger's payloads.
async function bootAndHeartbeat(client, csms, identity, version) {
  const [boot, heartbeat] = chargerToCsms(version);
  csms.responders.BootNotification = boot.response;
  const before = csms.callsOf(identity).length;
  assert.deepEqual(await client.call('BootNotification', boot.request), boot.response);
  const hb = await client.call('Heartbeat', heartbeat.request);
  assert.equal(typeof hb.currentTime, 'string');
  const seen = csms.callsOf(identity).slice(before);
  assert.deepEqual(seen.map((c) => c.method), ['BootNotification', 'Heartbeat']);
  assert.deepEqual(seen[0].params, boot.request);
}

// Resolves with the error a connect attempt ends in; fails if it connects.
async function connectError(promise, what) {
  let client;
  try {
    client = await withTimeout(promise, 8000, what);
  } catch (err) {
    return err;
  }
  await closeClient(client);
  assert.fail(`${what}: connected, but should have been refused`);
}

// An error from the TLS layer or the socket, not an HTTP refusal.
function assertNotHttp(err) {
  assert.ok(!err.response, `expected a TLS failure, got HTTP ${err.code}: ${err.message}`);
}

for (const version of VERSIONS) {
  describe(`south profile 2 (wss + Basic auth) OCPP ${version}`, { timeout: 60000 }, () => {
    const ids = {
      good: `P2-${tag(version)}-A`,
      raw: `P2-${tag(version)}-B`,
      upper: `P2-${tag(version)}-C`,
      bad: `P2-${tag(version)}-D`,
      plain: `P2-${tag(version)}-E`,
    };
    let csms;
    let gw;
    const clients = [];

    before(async () => {
      const hash = await passwordHash(passwordOf(version));
      csms = await startCsms();
      gw = await startGateway({
        csmsUrl: csms.url,
        config: gatewayConfig({
          requireAuth: true,
          tls: { cert: pki.server.cert, key: pki.server.key },
          chargers: Object.values(ids).map((id) => ({ id, passwordHash: hash })),
        }),
      });
    });

    after(async () => {
      await stopAll({ clients, gw, csms });
    });

    it(`boots and heartbeats with the ${version === '1.6' ? 'AuthorizationKey as hex' : 'text password'}`, async () => {
      const c = await connectTlsCharger(gw, ids.good, version,
        { ca: pki.ca.pem, password: passwordOf(version) });
      clients.push(c);
      await csms.waitClient(ids.good);
      await bootAndHeartbeat(c, csms, ids.good, version);
    });

    if (version === '1.6') {
      it('boots and heartbeats with the AuthorizationKey as raw bytes', async () => {
        const c = await connectTlsCharger(gw, ids.raw, version, { ca: pki.ca.pem, password: KEY16 });
        clients.push(c);
        await csms.waitClient(ids.raw);
        await bootAndHeartbeat(c, csms, ids.raw, version);
      });

      it('accepts the AuthorizationKey hex in upper case', async () => {
        const c = await connectTlsCharger(gw, ids.upper, version,
          { ca: pki.ca.pem, password: KEY16_HEX.toUpperCase() });
        clients.push(c);
        await bootAndHeartbeat(c, csms, ids.upper, version);
      });
    }

    it('refuses a wrong password with 401', async () => {
      const wrong = version === '1.6' ? KEY16_HEX.replace(/^00/, '01') : `${PASSWORD2X}x`;
      const err = await connectError(connectTlsCharger(gw, ids.bad, version,
        { ca: pki.ca.pem, password: wrong }), 'wrong password');
      assert.equal(err.code, 401, err.message);
      if (version === '1.6') {
        const rawWrong = Buffer.from(KEY16);
        rawWrong[19] ^= 1;
        const err2 = await connectError(connectTlsCharger(gw, ids.bad, version,
          { ca: pki.ca.pem, password: rawWrong }), 'wrong raw key');
        assert.equal(err2.code, 401, err2.message);
      }
    });

    it('refuses a charger without a password with 401', async () => {
      const err = await connectError(connectTlsCharger(gw, ids.bad, version, { ca: pki.ca.pem }),
        'no password');
      assert.equal(err.code, 401, err.message);
    });

    it('refuses plain ws:// on the wss port', async () => {
      const err = await connectError(connectCharger(gw, ids.plain, version,
        { password: passwordOf(version) }), 'plain ws:// to the wss port');
      assertNotHttp(err);
    });

    it('fails the handshake for a charger that does not trust the CA', async () => {
      const err = await connectError(connectTlsCharger(gw, ids.plain, version,
        { password: passwordOf(version) }), 'untrusted server certificate');
      assertNotHttp(err);
      assert.match(String(err.code ?? err.message), /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
    });

    it('keeps serving after the refusals', async () => {
      const c = await connectTlsCharger(gw, ids.plain, version,
        { ca: pki.ca.pem, password: passwordOf(version) });
      clients.push(c);
      await bootAndHeartbeat(c, csms, ids.plain, version);
      // a refused charger reaches its CSMS only as the gateway's report
      // of its failed logins (security-events.test.mjs), never itself
      const bad = csms.callsOf(ids.bad);
      assert.ok(bad.length > 0, 'the failed logins were not reported');
      assert.deepEqual(bad.filter((c) => c.method !== 'SecurityEventNotification'), [],
        'a refused charger reached the CSMS');
    });
  });

  describe(`south profile 3 (client certificate) OCPP ${version}`, { timeout: 60000 }, () => {
    const id = `P3-${tag(version)}`;
    let csms;
    let gw;
    const clients = [];

    before(async () => {
      csms = await startCsms();
      gw = await startGateway({
        csmsUrl: csms.url,
        config: gatewayConfig({
          tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert,
            requireClientCert: true },
        }),
      });
    });

    after(async () => {
      await stopAll({ clients, gw, csms });
    });

    it('accepts a certificate whose CN is the identity', async () => {
      const { pem } = pki.clientCert(id);
      const c = await connectTlsCharger(gw, id, version,
        { ca: pki.ca.pem, cert: pem.cert, key: pem.key });
      clients.push(c);
      await csms.waitClient(id);
      await bootAndHeartbeat(c, csms, id, version);
    });

    it('refuses a certificate with another CN with 403', async () => {
      const { pem } = pki.clientCert(`${id}-OTHER`);
      const err = await connectError(connectTlsCharger(gw, `${id}-X`, version,
        { ca: pki.ca.pem, cert: pem.cert, key: pem.key }), 'certificate of another charger');
      assert.equal(err.code, 403, err.message);
      // The operator's event log names the charger and the reason.
      const refused = (await adminApi(gw, 'GET', `/api/events?kind=login-refused&charger=${id}-X`)).json;
      assert.deepEqual(refused.map((e) => e.text), ['client certificate CN is not the identity']);
    });

    it('refuses a certificate with the right CN from another CA at the TLS handshake', async () => {
      const { pem } = pki.foreignClientCert(id);
      const err = await connectError(connectTlsCharger(gw, id, version,
        { ca: pki.ca.pem, cert: pem.cert, key: pem.key }), 'certificate from an untrusted CA');
      assertNotHttp(err);
      // Refused before its identity is known: a site row.
      await waitFor(async () => (await adminApi(gw, 'GET', '/api/events?kind=login-refused')).json
        .some((e) => e.charger === null && /^TLS client certificate rejected/.test(e.text)), 5000,
      'the rejected certificate in the event log');
    });

    it('refuses a charger without a certificate at the TLS handshake', async () => {
      const err = await connectError(connectTlsCharger(gw, `${id}-Y`, version,
        { ca: pki.ca.pem }), 'no client certificate');
      assertNotHttp(err);
    });

    it('opens upstream legs for the accepted charger only', () => {
      assert.deepEqual([...new Set(csms.handshakes.map((h) => h.identity))], [id]);
    });
  });

  describe(`north wss:// OCPP ${version}`, { timeout: 60000 }, () => {
    const id = `N-${tag(version)}`;
    let csms;
    let gw;
    let charger;

    before(async () => {
      csms = await startTlsCsms(pki);
      gw = await startGateway({
        csmsUrl: csms.wssUrl,
        config: gatewayConfig({ csms: { ca: pki.ca.cert } }),
      });
    });

    after(async () => {
      await stopAll({ clients: [charger], gw, csms });
    });

    it('relays to a CSMS whose certificate csms.ca verifies', async () => {
      charger = await connectCharger(gw, id, version);
      await csms.waitClient(id);
      await bootAndHeartbeat(charger, csms, id, version);
      const hs = csms.handshakes.find((h) => h.identity === id);
      assert.equal(hs.endpoint, '/ocpp');
      assert.equal(hs.peerCert, null, 'no csms.cert configured, yet one was presented');
    });
  });
}

// The gateway must not relay to a CSMS it cannot authenticate: one signed
// by a CA other than csms.ca, or one whose certificate names another host.
for (const [what, csmsCa, serverCert] of [
  ['signed by another CA than csms.ca', () => pki.otherCa.cert, () => pki.server],
  ['whose certificate is for another host', () => pki.ca.cert,
    () => pki.serverCertFor('csms.example.com')],
]) {
  describe(`north wss:// to a CSMS ${what}`, { timeout: 60000 }, () => {
    let csms;
    let gw;
    const clients = [];

    before(async () => {
      csms = await startTlsCsms(pki, serverCert());
      gw = await startGateway({
        csmsUrl: csms.wssUrl,
        config: gatewayConfig({ csms: { ca: csmsCa() } }),
      });
    });

    after(async () => {
      await stopAll({ clients, gw, csms });
    });

    for (const version of VERSIONS) {
      it(`answers the charger itself, as if offline (OCPP ${version})`, async () => {
        const id = `BADCSMS-${tag(version)}`;
        const c = await connectCharger(gw, id, version);
        clients.push(c);
        // A CSMS the gateway cannot trust is a CSMS it cannot reach: the
        // gateway answers in its place (docs/OFFLINE.md).
        for (let i = 0; i < 2; i++) {
          const r = await c.call('Heartbeat', {});
          assert.match(r.currentTime, /^\d{4}-\d\d-\d\dT/);
        }
        assert.equal(csms.calls.length, 0, 'a call reached a CSMS the gateway must not trust');
        assert.ok(!csms.handshakes.some((h) => h.identity === id),
          'the WebSocket handshake completed over an unauthenticated TLS session');
      });
    }

    it('keeps running', () => {
      assert.equal(gw.proc.exitCode, null);
      assert.equal(gw.proc.signalCode, null);
    });

    // The chargers are still connected and the CSMS still unreachable.
    it('stops promptly on SIGTERM', async () => {
      const stopping = gw;
      gw = null;
      const res = await stopping.stop();
      assert.deepEqual(res, { code: 0, signal: null });
    });
  });
}

describe('north wss:// with a gateway client certificate', { timeout: 60000 }, () => {
  const id = 'NCERT-1';
  let csms;
  let gw;
  let charger;

  before(async () => {
    const cert = pki.clientCert('ocppgw-test-gateway');
    csms = await startTlsCsms(pki);
    gw = await startGateway({
      csmsUrl: csms.wssUrl,
      config: gatewayConfig({ csms: { ca: pki.ca.cert, cert: cert.cert, key: cert.key } }),
    });
  });

  after(async () => {
    await stopAll({ clients: [charger], gw, csms });
  });

  it('presents csms.cert to the CSMS and relays', async () => {
    charger = await connectCharger(gw, id, '2.0.1');
    await csms.waitClient(id);
    const hs = csms.handshakes.find((h) => h.identity === id);
    assert.equal(hs.peerCert, 'ocppgw-test-gateway');
    assert.equal(hs.authorized, true, 'the CSMS could not verify the gateway certificate');
    await bootAndHeartbeat(charger, csms, id, '2.0.1');
  });
});

describe('north upstream credentials', { timeout: 60000 }, () => {
  const chargers = [
    { id: 'UP-16', version: '1.6', upstreamPassword: 'north-secret-16' },
    { id: 'UP-201', version: '2.0.1', upstreamUser: 'gw-account-7', upstreamPassword: 'north secret: 2.0.1' },
    { id: 'UP-21', version: '2.1', upstreamPassword: 'north-secret-21' },
    { id: 'UP-NONE', version: '2.0.1' },
  ];
  let csms;
  let gw;
  const clients = [];

  before(async () => {
    csms = await startTlsCsms(pki);
    gw = await startGateway({
      csmsUrl: csms.wssUrl,
      config: gatewayConfig({ csms: { ca: pki.ca.cert }, chargers }),
    });
  });

  after(async () => {
    await stopAll({ clients, gw, csms });
  });

  for (const c of chargers) {
    const expect = c.upstreamPassword
      ? `Basic ${c.upstreamUser ?? 'the identity'}:<upstream_password>`
      : 'no Authorization header';
    it(`${c.id} (OCPP ${c.version}): the CSMS gets ${expect}`, async () => {
      const client = await connectCharger(gw, c.id, c.version);
      clients.push(client);
      await csms.waitClient(c.id);
      const hs = await waitFor(() => csms.handshakes.find((h) => h.identity === c.id));
      if (c.upstreamPassword) {
        assert.deepEqual(hs.basic, { user: c.upstreamUser ?? c.id, password: c.upstreamPassword });
        if (!c.upstreamUser) assert.equal(hs.password, c.upstreamPassword);
      } else {
        assert.equal(hs.basic, null);
      }
      await bootAndHeartbeat(client, csms, c.id, c.version);
    });
  }
});
