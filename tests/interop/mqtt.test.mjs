// SPDX-License-Identifier: MIT
//
// The MQTT uplink end to end: a strict ocpp-rpc charger -> the real ocppgw
// (csms.url mqtt://) -> a real mosquitto broker -> `ocppgw bridge` -> a strict
// ocpp-rpc CSMS, and back, for OCPP 1.6 and 2.0.1 in both directions; the
// retained state topics; a broker restart in the middle of a session (no
// answered message lost, duplicated or reordered); bad payloads on the
// topics, which are answered or dropped with a log line; mqtts:// with
// client certificates and passwords, wss:// to the CSMS, the last will.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  closeClient, connectCharger, sleep, startCsms, startGateway, stopAll, subprotocol, tmpDir,
  waitFor,
} from './lib/harness.mjs';
import { mqttClient, startBridge, startBroker } from './lib/mosquitto.mjs';
import { chargerToCsms, csmsToCharger } from './lib/payloads.mjs';
import { makePki, startTlsCsms } from './lib/tls.mjs';

const SITE = 'site1';
// Fast reconnects, so the restart test stays short.
const CONFIG = 'csms = { reconnect_min = 0.2; reconnect_max = 1.0; };\n' +
  'mqtt = { keepalive = 5; };\n';

describe('MQTT uplink and cloud bridge', { timeout: 110000 }, () => {
  let broker;
  let csms;
  let bridge;
  let gw;
  let confDir;
  let bridgeOpts;
  const chargers = [];

  before(async () => {
    broker = await startBroker();
    csms = await startCsms();
    confDir = tmpDir('ocppgw-bridge-');
    const bridgeConf = path.join(confDir, 'bridge.conf');
    fs.writeFileSync(bridgeConf, CONFIG);
    bridgeOpts = { mqtt: broker.url(SITE), csms: csms.url, args: ['-c', bridgeConf] };
    bridge = await startBridge(bridgeOpts);
    gw = await startGateway({ csmsUrl: broker.url(SITE), config: CONFIG,
      args: ['--response-timeout', '5'] });
    await waitFor(() => /mqtt: connected to/.test(gw.stderr), 5000, 'gateway on the broker');
  });

  after(async () => {
    for (const c of chargers) await closeClient(c);
    try {
      await stopAll({ gw, csms });
      if (bridge) assert.equal((await bridge.stop()).code, 0, 'bridge exit status');
    } finally {
      await broker?.close();
      if (confDir) fs.rmSync(confDir, { recursive: true, force: true });
    }
  });

  async function charger(identity, version) {
    const c = await connectCharger(gw, identity, version);
    chargers.push(c);
    return c;
  }

  for (const version of ['1.6', '2.0.1']) {
    describe(`OCPP ${version}`, () => {
      const identity = `MQTT-${version.replaceAll('.', '')}`;
      let ch;
      let upstream;

      before(async () => {
        ch = await charger(identity, version);
        upstream = await csms.waitClient(identity, 10000);
      });

      it('the bridge opens the CSMS WebSocket in the charger\'s version', () => {
        assert.equal(upstream.protocol, subprotocol(version));
        const hs = csms.handshakes.find((h) => h.identity === identity);
        assert.equal(hs.endpoint, '/ocpp');
      });

      it('relays every charger call and its answer unchanged, in order', async () => {
        for (const msg of chargerToCsms(version)) {
          const before = csms.callsOf(identity).length;
          csms.responders[msg.action] = msg.response;
          const result = await ch.call(msg.action, msg.request);
          assert.deepEqual(result, msg.response, `${msg.action}: response changed`);
          const seen = csms.callsOf(identity).slice(before);
          assert.equal(seen.length, 1, `${msg.action}: CSMS saw ${seen.length} calls`);
          assert.equal(seen[0].method, msg.action);
          assert.deepEqual(seen[0].params, msg.request, `${msg.action}: request changed`);
        }
      });

      it('relays CSMS-initiated calls down and their answers back', async () => {
        for (const msg of csmsToCharger(version)) {
          let got = null;
          ch.handle(msg.action, ({ params }) => {
            got = params;
            return msg.response;
          });
          const result = await upstream.call(msg.action, msg.request);
          assert.deepEqual(got, msg.request, `${msg.action}: request changed`);
          assert.deepEqual(result, msg.response, `${msg.action}: response changed`);
        }
      });
    });
  }

  it('publishes a retained state per charger and for the gateway', async () => {
    const watcher = await mqttClient(broker.port);
    try {
      watcher.subscribe(`ocpp/${SITE}/+/state`);
      const stateOf = (level) => waitFor(() => watcher.messages.find(
        (m) => m.topic === `ocpp/${SITE}/${level}/state`), 3000, `${level} state`);
      const s16 = JSON.parse((await stateOf('MQTT-16')).payload);
      assert.equal(s16.online, true);
      assert.equal(s16.ocpp, '1.6');
      assert.equal(s16.north, '1.6');
      assert.ok(s16.since);
      const gws = await stateOf('$gateway');
      assert.equal(gws.retain, true);
      assert.equal(JSON.parse(gws.payload).online, true);

      // A charger that leaves is offline for the cloud, and its WebSocket closes.
      const leaving = await charger('MQTT-LEAVE', '2.0.1');
      await csms.waitClient('MQTT-LEAVE', 10000);
      await closeClient(leaving);
      await waitFor(() => watcher.messages.some((m) => m.topic === `ocpp/${SITE}/MQTT-LEAVE/state` &&
        JSON.parse(m.payload).online === false), 3000, 'offline state');
      await waitFor(() => csms.closes.some((c) => c.identity === 'MQTT-LEAVE'), 5000,
        'CSMS WebSocket closed');
    } finally {
      watcher.close();
    }
  });

  it('survives a broker restart: every transaction message reaches the CSMS once, in order', async () => {
    const identity = 'MQTT-RESTART';
    const ch = await charger(identity, '1.6');
    await csms.waitClient(identity, 10000);
    csms.responders.StartTransaction = { transactionId: 7, idTagInfo: { status: 'Accepted' } };
    const start = await ch.call('StartTransaction',
      { connectorId: 1, idTag: 'T1', meterStart: 0, timestamp: new Date().toISOString() });
    assert.equal(start.transactionId, 7);
    // Meter values of the running transaction, before, during and after the
    // outage: the CSMS answers them, or the gateway does and queues them
    // (docs/OFFLINE.md); either way each one must reach the CSMS.
    let seq = 0;
    const send = () => ch.call('MeterValues', {
      connectorId: 1, transactionId: 7,
      meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: String(seq++) }] }],
    });
    for (let i = 0; i < 5; i++) await send();

    let restarted = false;
    const restart = broker.restart(1000).then(() => { restarted = true; });
    while (!restarted) {
      await send();
      await sleep(50);
    }
    await restart;
    for (let i = 0; i < 5; i++) await send();
    const sent = seq;

    const values = () => csms.callsOf(identity)
      .filter((c) => c.method === 'MeterValues')
      .map((c) => Number(c.params.meterValue[0].sampledValue[0].value));
    await waitFor(() => new Set(values()).size === sent, 20000,
      `all ${sent} meter values at the CSMS (has ${values().length})`);
    const seen = values();
    assert.match(gw.stderr, /queued messages to deliver/, 'the outage was never noticed');
    // At most the one in flight when the broker went away is sent twice.
    assert.ok(seen.length - sent <= 1, `delivered twice: ${seen}`);
    const dedup = seen.filter((v, i) => i === 0 || v !== seen[i - 1]);
    assert.deepEqual(dedup, [...Array(sent).keys()], `lost or reordered: ${seen}`);
    console.log(`# broker restart: ${sent} meter values sent, ${seen.length} received, ` +
      `${sent - new Set(seen).size} lost`);

    // CSMS-initiated calls flow again too.
    ch.handle('GetConfiguration', () => ({ configurationKey: [] }));
    const upstream = await csms.waitClient(identity, 10000);
    assert.deepEqual(await upstream.call('GetConfiguration', {}), { configurationKey: [] });
  });

  it('loses nothing across a bridge restart: the broker keeps its session', async () => {
    const identity = 'MQTT-BRIDGE';
    const ch = await charger(identity, '1.6');
    await csms.waitClient(identity, 10000);
    csms.responders.DataTransfer = { status: 'Accepted' };
    assert.equal((await bridge.stop()).code, 0, 'bridge exit status');
    await waitFor(() => csms.closes.some((c) => c.identity === identity), 3000,
      'the stopped bridge closed its WebSockets');
    // Published while no bridge is connected: the broker keeps it for the
    // bridge's persistent session and hands it over ahead of the retained
    // states, so the bridge holds it until it knows the charger's version.
    const pending = ch.call('DataTransfer', { vendorId: 'while-bridge-down', messageId: 'x' });
    await sleep(300);
    bridge = await startBridge(bridgeOpts);
    assert.deepEqual(await pending, { status: 'Accepted' });
    const seen = csms.callsOf(identity).filter((c) => c.params.vendorId === 'while-bridge-down');
    assert.equal(seen.length, 1);
    assert.match(bridge.stderr, /MQTT-BRIDGE bridge\] frame held until the state came/);
  });

  it('answers or drops bad payloads on the topics with a log line, never crashing', async () => {
    const identity = 'MQTT-BAD';
    const ch = await charger(identity, '2.0.1');
    await csms.waitClient(identity, 10000);
    const injector = await mqttClient(broker.port);
    try {
      injector.subscribe(`ocpp/${SITE}/${identity}/up`);
      await sleep(100);
      const down = `ocpp/${SITE}/${identity}/down`;
      injector.publish(down, 'not json at all');
      injector.publish(down, '{"an":"object"}');
      injector.publish(down, '[2,"bad-call"]');
      injector.publish(down, '[2,"bad-action","NoSuchAction",{}]');
      injector.publish(`ocpp/${SITE}/NOBODY-HERE/down`, '[2,"x","Reset",{"type":"Immediate"}]');
      // A CALL the gateway can answer goes back up as a CALLERROR.
      const err = await waitFor(() => injector.messages.find((m) => m.topic.endsWith('/up') &&
        m.payload.includes('bad-action')), 3000, 'CALLERROR for the unknown action');
      const frame = JSON.parse(err.payload);
      assert.equal(frame[0], 4);
      assert.equal(frame[2], 'NotImplemented');
      await waitFor(() => /not connected here dropped/.test(gw.stderr), 3000, 'unknown charger log');
      assert.match(gw.stderr, /bad frame/);

      // The bridge checks what comes up: an invalid CALL is answered down.
      injector.subscribe(down);
      await sleep(100);
      injector.publish(`ocpp/${SITE}/${identity}/up`, 'garbage');
      injector.publish(`ocpp/${SITE}/${identity}/up`, '[2,"bad-up","Heartbeat",{"extra":1}]');
      await waitFor(() => injector.messages.some((m) => m.topic === down &&
        m.payload.includes('bad-up')), 3000, 'bridge CALLERROR');
      assert.match(bridge.stderr, /bad frame from gateway/);
      assert.match(bridge.stderr, /CALL from gateway rejected/);
    } finally {
      injector.close();
    }
    assert.equal(gw.proc.exitCode, null, 'gateway still running');
    assert.equal(bridge.proc.exitCode, null, 'bridge still running');
    const res = await ch.call('Heartbeat', {});
    assert.ok(res.currentTime, 'calls still flow');
  });
});

// mqtts:// with a CA, client certificates and a password on both MQTT
// clients, wss:// from the bridge to the CSMS; then the gateway dies and its
// last will takes its chargers offline at the CSMS.
describe('MQTT over TLS, and the gateway\'s last will', { timeout: 60000 }, () => {
  const SITE_TLS = 'site-tls';
  let pki;
  let broker;
  let csms;
  let bridge;
  let gw;
  let confDir;
  let gwConfig;
  let ch;

  before(async () => {
    pki = makePki();
    broker = await startBroker({
      tls: { ca: pki.ca.cert, cert: pki.server.cert, key: pki.server.key },
      users: { 'gw-1': 'gw secret', bridge: 'bridge secret' },
    });
    csms = await startTlsCsms(pki);
    confDir = tmpDir('ocppgw-mqtts-');
    const mqttConf = (user, password, cn) => {
      const leaf = pki.clientCert(cn);
      return `mqtt = { username = "${user}"; password = "${password}"; ca = "${pki.ca.cert}";\n` +
        `  cert = "${leaf.cert}"; key = "${leaf.key}"; keepalive = 5; };\n`;
    };
    const bridgeConf = path.join(confDir, 'bridge.conf');
    fs.writeFileSync(bridgeConf, mqttConf('bridge', 'bridge secret', 'bridge') +
      `csms = { ca = "${pki.ca.cert}"; reconnect_min = 0.2; reconnect_max = 1.0; };\n`);
    bridge = await startBridge({ mqtt: broker.url('+'), csms: csms.wssUrl,
      args: ['-c', bridgeConf] });
    gwConfig = mqttConf('gw-1', 'gw secret', 'gw-1');
    gw = await startGateway({ csmsUrl: broker.url(SITE_TLS), config: gwConfig });
    await waitFor(() => /mqtt: connected to/.test(gw.stderr), 5000, 'gateway on the broker');
  });

  after(async () => {
    await closeClient(ch);
    try {
      if (gw && gw.proc.exitCode === null && gw.proc.signalCode === null) await gw.stop();
      if (bridge) assert.equal((await bridge.stop()).code, 0, 'bridge exit status');
    } finally {
      await csms?.close();
      await broker?.close();
      pki?.remove();
      if (confDir) fs.rmSync(confDir, { recursive: true, force: true });
    }
  });

  it('relays both ways over mqtts:// and wss://', async () => {
    ch = await connectCharger(gw, 'MQTTS-1', '2.0.1');
    const upstream = await csms.waitClient('MQTTS-1', 10000);
    const hs = csms.handshakes.find((h) => h.identity === 'MQTTS-1');
    assert.equal(hs.endpoint, '/ocpp');
    assert.deepEqual(hs.protocols, ['ocpp2.0.1']);
    const res = await ch.call('Heartbeat', {});
    assert.ok(res.currentTime);
    ch.handle('ClearCache', () => ({ status: 'Accepted' }));
    assert.deepEqual(await upstream.call('ClearCache', {}), { status: 'Accepted' });
  });

  it('a gateway that dies takes its chargers offline through its last will', async () => {
    gw.proc.kill('SIGKILL');
    await gw.exited;
    await waitFor(() => csms.closes.some((c) => c.identity === 'MQTTS-1'), 10000,
      'the CSMS WebSocket of the dead gateway\'s charger closed');
    assert.match(bridge.stderr, /MQTTS-1 bridge\] charger offline at its gateway/);
  });

  it('a restarted gateway marks its chargers that did not come back offline', async () => {
    gw = await startGateway({ csmsUrl: broker.url(SITE_TLS), config: gwConfig });
    await waitFor(() => /\[MQTTS-1 north\] mqtt: stale online state/.test(gw.stderr), 5000,
      'the stale retained state corrected');
  });
});

// A bridge in a shared-subscription group: its up topics are
// $share/<group>/..., it opens a charger's WebSocket on the charger's first
// frame, and relays both ways as without sharing.
describe('MQTT bridge with a shared subscription', { timeout: 30000 }, () => {
  let broker;
  let csms;
  let bridge;
  let gw;
  let ch;

  before(async () => {
    broker = await startBroker();
    csms = await startCsms();
    bridge = await startBridge({ mqtt: broker.url('+'), csms: csms.url,
      args: ['--share', 'bridges'] });
    gw = await startGateway({ csmsUrl: broker.url('site-shared') });
    await waitFor(() => /mqtt: connected to/.test(gw.stderr), 5000, 'gateway on the broker');
  });

  after(async () => {
    await closeClient(ch);
    try {
      await stopAll({ gw, csms });
      if (bridge) assert.equal((await bridge.stop()).code, 0, 'bridge exit status');
    } finally {
      await broker?.close();
    }
  });

  it('subscribes through the group and relays both ways', async () => {
    assert.match(bridge.stderr, /bridge subscribed to \$share\/bridges\/ocpp\/\+\/\+\/up/);
    ch = await connectCharger(gw, 'SHARED-1', '2.0.1');
    await sleep(300);
    assert.equal(csms.clients.has('SHARED-1'), false, 'no WebSocket before the first frame');
    const boot = { chargingStation: { model: 'M', vendorName: 'V' }, reason: 'PowerUp' };
    csms.responders.BootNotification = { currentTime: new Date().toISOString(), interval: 300,
      status: 'Accepted' };
    assert.equal((await ch.call('BootNotification', boot)).status, 'Accepted');
    const upstream = await csms.waitClient('SHARED-1');
    ch.handle('ClearCache', () => ({ status: 'Accepted' }));
    assert.deepEqual(await upstream.call('ClearCache', {}), { status: 'Accepted' });
  });
});
