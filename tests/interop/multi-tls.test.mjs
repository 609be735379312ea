// SPDX-License-Identifier: MIT
//
// Several CSMSs, each with its own TLS identity (docs/MULTI_CSMS.md,
// issue 15 Deliver 2: "each with its own URL ... and credentials"): a
// secondary on wss:// with a CA and client certificate of its own, beside
// a primary trusted through csms.ca from another PKI; and a group of
// chargers whose primary is another CSMS than the gateway's csms.url, with
// its own CA and certificate, changed by a reload. Real TLS (openssl-made
// PKIs), strict peers; what each CSMS concludes is asserted: who connected,
// with which certificate, and which charger's messages reached it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  adminApi, connectCharger, isoNow, startCsms, startGateway, stopAll, tmpDir, waitFor,
} from './lib/harness.mjs';
import { makePki, startTlsCsms } from './lib/tls.mjs';

const pkiA = makePki(); // the gateway's CSMS (csms.url, csms.ca)
const pkiB = makePki(); // the other operator: its CA, its server, its client certificates
const keys = tmpDir('ocppgw-multi-tls-');

// A client certificate of pkiB for @cn, its key at 0600 (the gateway
// refuses a key others may read).
function clientFiles(cn) {
  const leaf = pkiB.clientCert(cn);
  const key = path.join(keys, `${cn}.key`);
  fs.copyFileSync(leaf.key, key);
  fs.chmodSync(key, 0o600);
  return { cert: leaf.cert, key };
}

const q = JSON.stringify;
const handshakesOf = (csms, id) => csms.handshakes.filter((h) => h.identity === id);
const methodsOf = (csms, id) => csms.callsOf(id).map((c) => c.method);

async function bootAndCharge(charger, tx) {
  const boot = await charger.call('BootNotification', { chargePointVendor: 'Acme',
    chargePointModel: 'M1' });
  assert.equal(boot.status, 'Accepted');
  const start = await charger.call('StartTransaction', { connectorId: 1, idTag: 'TAG-1',
    meterStart: 100, timestamp: isoNow() });
  assert.equal(start.transactionId, tx);
  await charger.call('StopTransaction', { transactionId: tx, meterStop: 900,
    timestamp: isoNow(), reason: 'Local' });
}

function answer(csms, tx) {
  csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
  csms.responders.StartTransaction = { transactionId: tx, idTagInfo: { status: 'Accepted' } };
  csms.responders.StopTransaction = {};
}

after(() => {
  pkiA.remove();
  pkiB.remove();
  fs.rmSync(keys, { recursive: true, force: true });
});

describe('a secondary on wss:// with its own CA and client certificate', { timeout: 60000 }, () => {
  const id = 'MT-SEC-1';
  let primary;
  let secondary;
  let gw;
  let charger;

  before(async () => {
    primary = await startTlsCsms(pkiA);
    // pkiB's server certificate: csms.ca (pkiA) does not trust it
    secondary = await startTlsCsms(pkiB);
    answer(primary, 41);
    answer(secondary, 42);
    const own = clientFiles('site-7');
    gw = await startGateway({
      args: ['--upstream-ocpp', '1.6'],
      config: `csms = {\n  url = ${q(primary.wssUrl)};\n  ca = ${q(pkiA.ca.cert)};\n` +
        '  reconnect_min = 0.2;\n  reconnect_max = 1.0;\n' +
        `  secondaries = ( {\n    name = "other";\n    url = ${q(secondary.wssUrl)};\n` +
        `    ca = ${q(pkiB.ca.cert)};\n    cert = ${q(own.cert)};\n    key = ${q(own.key)};\n` +
        '  } );\n};\n',
    });
    charger = await connectCharger(gw, id, '1.6');
    await primary.waitClient(id, 10000);
    await secondary.waitClient(id, 10000);
  });
  after(async () => {
    await stopAll({ clients: [charger], gw, csms: primary });
    await secondary?.close();
  });

  it('each CSMS is reached with its own trust: the secondary sees its own certificate, verified', () => {
    const [hs] = handshakesOf(secondary, id);
    assert.equal(hs.peerCert, 'site-7', 'the secondary\'s own client certificate');
    assert.equal(hs.authorized, true, 'signed by the secondary\'s CA');
    // the primary gets no client certificate: none is configured for it
    assert.equal(handshakesOf(primary, id)[0].peerCert, null);
    assert.match(gw.stderr, /CSMS other: its own TLS settings/);
  });

  it('both CSMSs conclude the same transaction; the charger gets the primary\'s id', async () => {
    await bootAndCharge(charger, 41);
    await waitFor(() => methodsOf(secondary, id).includes('StopTransaction'), 10000,
      'the stop at the secondary');
    for (const csms of [primary, secondary]) {
      assert.deepEqual(methodsOf(csms, id).filter((m) => m !== 'Heartbeat'),
        ['BootNotification', 'StartTransaction', 'StopTransaction']);
      const stop = csms.callsOf(id).find((c) => c.method === 'StopTransaction').params;
      assert.equal(stop.meterStop, 900);
    }
    // the secondary's stop names the id it gave, not the primary's
    const stop2 = secondary.callsOf(id).find((c) => c.method === 'StopTransaction').params;
    assert.equal(stop2.transactionId, 42);
  });

  it('/metrics counts the secondary\'s answers, and keeps them when the session ends', async () => {
    const metric = async (name) => {
      const { text } = await adminApi(gw, 'GET', '/metrics');
      const line = text.split('\n').find((l) => l.startsWith(name + ' '));
      return line ? Number(line.split(' ')[1]) : null;
    };
    const answered = 'ocppgw_secondary_calls_total{csms="other",result="answered"}';
    await waitFor(async () => (await metric(answered)) >= 3, 5000, 'three answers counted');
    assert.equal(await metric('ocppgw_secondary_legs{csms="other",state="up"}'), 1);
    assert.equal(await metric('ocppgw_secondary_queue_depth{csms="other"}'), 0);
    const before = await metric(answered);
    await charger.close({ force: true });
    await waitFor(async () => (await metric('ocppgw_secondary_legs{csms="other",state="up"}')) === 0,
      10000, 'the secondary\'s leg gone with the session');
    assert.equal(await metric(answered), before, 'a counter never goes down');
  });
});

describe('a group\'s own primary, and a reload that moves it', { timeout: 60000 }, () => {
  const inGroup = 'MT-GRP-1';
  const outside = 'MT-OUT-1';
  let main;
  let groupCsms;
  let moved;
  let gw;
  const clients = [];
  let own;

  const config = (groupUrl, tlsLines) => `csms = {\n  url = ${q(main.wssUrl)};\n` +
    `  ca = ${q(pkiA.ca.cert)};\n  reconnect_min = 0.2;\n  reconnect_max = 1.0;\n};\n` +
    `groups = ( {\n  name = "fleet";\n  chargers = [ ${q(inGroup)} ];\n` +
    `  csms = { url = ${q(groupUrl)};${tlsLines} };\n} );\n`;

  before(async () => {
    main = await startTlsCsms(pkiA);
    groupCsms = await startTlsCsms(pkiB);
    moved = await startCsms();
    for (const [csms, tx] of [[main, 51], [groupCsms, 52], [moved, 53]]) answer(csms, tx);
    own = clientFiles('fleet-site');
    gw = await startGateway({
      args: ['--upstream-ocpp', '1.6'],
      config: config(groupCsms.wssUrl, ` ca = ${q(pkiB.ca.cert)}; cert = ${q(own.cert)};` +
        ` key = ${q(own.key)};`),
    });
  });
  after(async () => {
    await stopAll({ clients, gw, csms: main });
    await groupCsms?.close();
    await moved?.close();
  });

  it('the group\'s charger goes to the group\'s CSMS, with the group\'s certificate', async () => {
    const c = await connectCharger(gw, inGroup, '1.6');
    clients.push(c);
    await groupCsms.waitClient(inGroup, 10000);
    const [hs] = handshakesOf(groupCsms, inGroup);
    assert.equal(hs.peerCert, 'fleet-site');
    assert.equal(hs.authorized, true);
    await bootAndCharge(c, 52);
    assert.deepEqual(methodsOf(groupCsms, inGroup).filter((m) => m !== 'Heartbeat'),
      ['BootNotification', 'StartTransaction', 'StopTransaction']);
    assert.equal(handshakesOf(main, inGroup).length, 0, 'csms.url never saw the group\'s charger');
  });

  it('a charger outside the group stays with csms.url', async () => {
    const c = await connectCharger(gw, outside, '1.6');
    clients.push(c);
    await main.waitClient(outside, 10000);
    await bootAndCharge(c, 51);
    assert.equal(handshakesOf(groupCsms, outside).length, 0);
  });

  it('a reload that points the group elsewhere closes its session; it reconnects to the new CSMS',
    async () => {
      const closed = new Promise((r) => clients[0].once('close', r));
      gw.writeConfig(config(moved.url, ''));
      gw.signal('SIGHUP');
      const ev = await closed;
      assert.equal(ev.code, 1001, 'going away: shown to the new CSMS on reconnect');
      const c = await connectCharger(gw, inGroup, '1.6');
      clients.push(c);
      await moved.waitClient(inGroup, 10000);
      await bootAndCharge(c, 53);
      assert.deepEqual(methodsOf(moved, inGroup).filter((m) => m !== 'Heartbeat'),
        ['BootNotification', 'StartTransaction', 'StopTransaction']);
      // the charger outside the group kept its session through the reload
      await clients[1].call('Heartbeat', {});
      assert.ok(main.clients.get(outside), 'the other charger is still connected');
    });
});
