// SPDX-License-Identifier: MIT
//
// Each charger's own client certificate on the north leg (security profile
// 3 at the CSMS): csms.client_cert_dir holds <id>.pem and <id>.key, and a
// CSMS that refuses every upgrade whose certificate CN is not the identity
// in the URL takes three chargers through one gateway, all connected at once. A charger with no
// certificate there presents csms.cert when one is configured and nothing
// otherwise (and the strict CSMS refuses it); a key others may read is
// refused by --check-config and at start, and, made readable while the
// gateway runs, at the connect, before any handshake. The PKI is the openssl one
// of lib/tls.mjs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  closeClient, connectCharger, runOcppgw, sleep, startGateway, stopAll, tmpDir, waitFor,
} from './lib/harness.mjs';
import { chargerToCsms } from './lib/payloads.mjs';
import { gatewayConfig, makePki, startTlsCsms } from './lib/tls.mjs';

const pki = makePki();
const certDir = tmpDir('ocppgw-client-certs-');
after(() => {
  pki.remove();
  fs.rmSync(certDir, { recursive: true, force: true });
});

// <id>.pem and <id>.key in certDir, the key at @mode.
function install(id, mode = 0o600) {
  const leaf = pki.clientCert(id);
  fs.copyFileSync(leaf.cert, path.join(certDir, `${id}.pem`));
  const key = path.join(certDir, `${id}.key`);
  fs.copyFileSync(leaf.key, key);
  fs.chmodSync(key, mode);
}

const OWN = [
  { id: 'CC-A', version: '2.0.1' }, { id: 'CC-B', version: '1.6' }, { id: 'CC-C', version: '2.0.1' },
];
const NONE = 'CC-NONE';
const OPEN_KEY = 'CC-OPENKEY';
for (const c of OWN) install(c.id);
install(OPEN_KEY);

// The charger's BootNotification reaches the CSMS with its payload.
async function boots(client, csms, id, version) {
  const [boot] = chargerToCsms(version);
  csms.responders.BootNotification = boot.response;
  assert.deepEqual(await client.call('BootNotification', boot.request), boot.response);
  const seen = csms.callsOf(id).filter((c) => c.method === 'BootNotification');
  assert.equal(seen.length, 1, `${id}: the CSMS did not get the BootNotification`);
  assert.deepEqual(seen[0].params, boot.request);
}

const handshakesOf = (csms, id) => csms.handshakes.filter((h) => h.identity === id);

describe('north profile 3: each charger presents its own certificate', { timeout: 60000 }, () => {
  let csms;
  let gw;
  const clients = [];

  before(async () => {
    csms = await startTlsCsms(pki, pki.server, {}, { cnIsIdentity: true });
    gw = await startGateway({
      csmsUrl: csms.wssUrl,
      config: gatewayConfig({ csms: { ca: pki.ca.cert, clientCertDir: certDir } }),
    });
  });

  after(async () => {
    await stopAll({ clients, gw, csms });
  });

  for (const { id, version } of OWN) {
    it(`${id} (OCPP ${version}) is let in by a CSMS that checks CN = identity`, async () => {
      const c = await connectCharger(gw, id, version);
      clients.push(c);
      await csms.waitClient(id, 10000);
      const hs = handshakesOf(csms, id);
      assert.equal(hs.at(-1).peerCert, id);
      assert.equal(hs.at(-1).authorized, true, 'the CSMS could not verify the certificate');
      await boots(c, csms, id, version);
      assert.match(gw.stderr, new RegExp(`\\[${id} north\\] presenting its own client certificate`));
    });
  }

  it('all three stay connected, each with its own identity, at once', async () => {
    for (const { id } of OWN) assert.ok(csms.clients.get(id), `${id} is no longer connected`);
    // the CSMS's view: one verified certificate per identity, each its own CN
    for (const { id } of OWN) {
      const hs = handshakesOf(csms, id);
      assert.equal(hs.length, 1, `${id} needed ${hs.length} handshakes`);
      assert.deepEqual([hs[0].peerCert, hs[0].authorized], [id, true]);
    }
    // and each leg is still answered: a heartbeat of every charger reaches it
    for (const [i, { id }] of OWN.entries()) {
      const before = csms.callsOf(id).length;
      await clients[i].call('Heartbeat', {});
      const calls = csms.callsOf(id);
      assert.equal(calls.length, before + 1);
      assert.equal(calls.at(-1).method, 'Heartbeat');
    }
    // one vhost each, made once: a second connect of CC-A reuses it
    const lines = gw.stderr.split('\n').filter((l) => /presenting its own client certificate/.test(l));
    assert.equal(lines.length, OWN.length);
  });

  it('a charger without a certificate presents none and the CSMS refuses it', async () => {
    const c = await connectCharger(gw, NONE, '2.0.1');
    clients.push(c);
    await waitFor(() => handshakesOf(csms, NONE).length >= 1, 10000, 'a handshake of CC-NONE');
    assert.equal(handshakesOf(csms, NONE)[0].peerCert, null);
    await waitFor(() => new RegExp(`\\[${NONE} north\\] connection to CSMS failed`).test(gw.stderr),
      10000, 'the refused north leg in the log');
    assert.equal(csms.clients.get(NONE), undefined);
  });

  it('a key made readable by others while running is refused before any handshake', async () => {
    fs.chmodSync(path.join(certDir, `${OPEN_KEY}.key`), 0o644);
    const c = await connectCharger(gw, OPEN_KEY, '2.0.1');
    clients.push(c);
    await waitFor(() => /refusing .*CC-OPENKEY\.key: mode 644/.test(gw.stderr),
      10000, 'the refusal in the log');
    await sleep(500);
    assert.equal(handshakesOf(csms, OPEN_KEY).length, 0, 'the gateway connected with an open key');
  });
});

describe('csms.client_cert_dir with a key others may read', () => {
  it('is refused by --check-config with the file and its mode', async () => {
    const dir = tmpDir('ocppgw-open-key-');
    try {
      const conf = path.join(dir, 'gw.conf');
      fs.writeFileSync(conf, gatewayConfig({ csms: { ca: pki.ca.cert, clientCertDir: certDir } }));
      fs.chmodSync(path.join(certDir, `${OPEN_KEY}.key`), 0o640);
      const res = await runOcppgw(['--check-config', '-c', conf]);
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /gw\.conf:\d+: csms\.client_cert_dir: cannot use '.*': CC-OPENKEY\.key has mode 640: a charger's key must be readable by its owner only \(chmod 600\)/);
    } finally {
      fs.chmodSync(path.join(certDir, `${OPEN_KEY}.key`), 0o600);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('north: a charger without its own certificate falls back to csms.cert', { timeout: 60000 }, () => {
  let csms;
  let gw;
  const clients = [];

  before(async () => {
    const gateway = pki.clientCert('ocppgw-test-gateway');
    csms = await startTlsCsms(pki);
    gw = await startGateway({
      csmsUrl: csms.wssUrl,
      config: gatewayConfig({
        csms: { ca: pki.ca.cert, cert: gateway.cert, key: gateway.key, clientCertDir: certDir },
      }),
    });
  });

  after(async () => {
    await stopAll({ clients, gw, csms });
  });

  it('CC-A presents its own, CC-NONE the gateway\'s', async () => {
    for (const id of ['CC-A', NONE]) {
      clients.push(await connectCharger(gw, id, '2.0.1'));
      await csms.waitClient(id, 10000);
    }
    assert.equal(handshakesOf(csms, 'CC-A').at(-1).peerCert, 'CC-A');
    assert.equal(handshakesOf(csms, NONE).at(-1).peerCert, 'ocppgw-test-gateway');
  });

  it('a reconnect reuses the charger\'s client vhost', async () => {
    await closeClient(clients.shift());
    await waitFor(() => !csms.clients.get('CC-A') || csms.clients.get('CC-A').state !== 1, 10000,
      'CC-A gone upstream');
    clients.push(await connectCharger(gw, 'CC-A', '2.0.1'));
    await waitFor(() => handshakesOf(csms, 'CC-A').length === 2, 10000, 'second handshake');
    assert.equal(handshakesOf(csms, 'CC-A').at(-1).peerCert, 'CC-A');
    const lines = gw.stderr.split('\n').filter((l) => /\[CC-A north\] presenting its own/.test(l));
    assert.equal(lines.length, 1, 'the vhost was made again');
  });
});
