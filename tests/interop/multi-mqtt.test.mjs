// SPDX-License-Identifier: MIT
//
// A secondary CSMS reached over MQTT (docs/MULTI_CSMS.md, issue 15
// Deliver 2: each CSMS with its own transport): a 1.6 charger shown to a
// 1.6 primary over WebSocket and to a 2.0.1 CSMS behind mosquitto and
// `ocppgw bridge`, all real processes and strict peers. Both CSMSs must
// conclude the same transaction; with the broker down for a stretch the
// primary is not delayed, and the secondary gets the transaction whole
// from its queue once the broker is back.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  adminApi, connectCharger, isoNow, startCsms, startGateway, stopAll, subprotocol, waitFor,
} from './lib/harness.mjs';
import { startBridge, startBroker } from './lib/mosquitto.mjs';
import { assertClean, watchStrict } from './lib/translate-peers.mjs';

const TOKEN = 'RFID-MQTT-1';
const callsOf = (csms, identity, method) => csms.callsOf(identity)
  .filter((c) => c.method === method).map((c) => c.params);

describe('a 1.6 charger, a 1.6 primary over WebSocket, a 2.0.1 secondary over MQTT',
  { timeout: 90000 }, () => {
    const identity = 'MULTI-MQTT-1';
    const problems = [];
    let primary;
    let cloud;
    let broker;
    let bridge;
    let gw;
    let charger;

    before(async () => {
      primary = await startCsms({ protocols: [subprotocol('1.6')] });
      cloud = await startCsms({ protocols: [subprotocol('2.0.1')] });
      primary.server.on('client', (c) => watchStrict(problems, 'primary', c));
      cloud.server.on('client', (c) => watchStrict(problems, 'cloud', c));
      primary.responders.BootNotification = { currentTime: isoNow(), interval: 300,
        status: 'Accepted' };
      cloud.responders.BootNotification = { currentTime: isoNow(), interval: 300,
        status: 'Accepted' };
      primary.responders.StartTransaction = (p) => ({
        transactionId: p.meterStart === 1000 ? 71 : 72, idTagInfo: { status: 'Accepted' } });
      primary.responders.StopTransaction = {};
      cloud.responders.TransactionEvent = (p) =>
        (p.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {});
      broker = await startBroker();
      bridge = await startBridge({ mqtt: broker.url('site-b'), csms: cloud.url });
      gw = await startGateway({
        args: ['--upstream-ocpp', '1.6'],
        config: `csms = {\n  url = "${primary.url}";\n  reconnect_min = 0.2;\n` +
          '  reconnect_max = 0.5;\n  secondaries = ( {\n    name = "cloud";\n' +
          `    url = "${broker.url('site-b')}";\n    upstream_ocpp = "2.0.1";\n  } );\n};\n` +
          'mqtt = { keepalive = 5; };\n',
      });
      charger = await connectCharger(gw, identity, '1.6');
      watchStrict(problems, 'charger', charger);
      await primary.waitClient(identity);
    });
    after(async () => {
      await stopAll({ clients: [charger], gw, csms: primary });
      await bridge?.stop();
      await broker?.close();
      await cloud?.close();
    });

    async function session(meterStart, meterStop, txId) {
      const start = await charger.call('StartTransaction', { connectorId: 1, idTag: TOKEN,
        meterStart, timestamp: isoNow() });
      assert.equal(start.transactionId, txId, 'the primary\'s transaction id');
      await charger.call('MeterValues', { connectorId: 1, transactionId: txId, meterValue: [{
        timestamp: isoNow(), sampledValue: [{ value: String(meterStart + 500), unit: 'Wh',
          measurand: 'Energy.Active.Import.Register', context: 'Sample.Periodic' }] }] });
      await charger.call('StopTransaction', { transactionId: txId, meterStop,
        timestamp: isoNow(), reason: 'Local', idTag: TOKEN });
    }

    // The 2.0.1 CSMS's view of the transaction begun at @meterStart.
    const cloudTransaction = (meterStart) => waitFor(() => {
      const all = callsOf(cloud, identity, 'TransactionEvent');
      const started = all.find((e) => e.eventType === 'Started' &&
        e.meterValue?.[0].sampledValue[0].value === meterStart);
      if (!started) return null;
      const id = started.transactionInfo.transactionId;
      const mine = all.filter((e) => e.transactionInfo.transactionId === id);
      return mine.some((e) => e.eventType === 'Ended') ? mine : null;
    }, 20000, `the transaction from ${meterStart} Wh at the MQTT CSMS`);

    it('a whole session: both CSMSs conclude the same transaction', async () => {
      const boot = await charger.call('BootNotification', { chargePointVendor: 'Acme',
        chargePointModel: 'M-MQTT' });
      assert.equal(boot.status, 'Accepted');
      await cloud.waitClient(identity, 10000);
      await session(1000, 2500, 71);
      const [stop] = callsOf(primary, identity, 'StopTransaction');
      assert.equal(stop.meterStop, 2500);
      const events = await cloudTransaction(1000);
      assert.equal(callsOf(cloud, identity, 'BootNotification')[0].chargingStation.model, 'M-MQTT');
      assert.equal(events[0].idToken.idToken, TOKEN);
      const readings = events.flatMap((e) => (e.meterValue ?? []).flatMap((v) => v.sampledValue))
        .map((v) => v.value);
      assert.ok(readings.includes(1500), 'the periodic reading');
      assert.equal(events.at(-1).meterValue.at(-1).sampledValue[0].value, 2500);
      assert.match(gw.stderr, /mqtt: CSMS cloud over mqtt:\/\//);
    });

    it('the broker down: the primary answers at once; back, the MQTT CSMS gets the transaction whole',
      async () => {
        await broker.stop();
        await waitFor(() => /north\.cloud.*(up -> down|MQTT broker)/.test(gw.stderr), 15000,
          'the gateway to see the secondary\'s broker go');
        const t0 = Date.now();
        await session(3000, 4200, 72);
        assert.ok(Date.now() - t0 < 3000, `answered in ${Date.now() - t0} ms`);
        assert.equal(callsOf(primary, identity, 'StopTransaction').at(-1).meterStop, 4200);
        const { json } = await adminApi(gw, 'GET', `/api/chargers/${identity}`);
        assert.ok(json.secondaries[0].queued >= 2, `queued ${json.secondaries[0].queued}`);
        await broker.start();
        const events = await cloudTransaction(3000);
        assert.equal(events[0].idToken.idToken, TOKEN);
        const readings = events.flatMap((e) => (e.meterValue ?? []).flatMap((v) => v.sampledValue))
          .map((v) => v.value);
        assert.ok(readings.includes(3500), 'the reading taken while the broker was down');
        assert.equal(events.at(-1).meterValue.at(-1).sampledValue[0].value, 4200);
        // two transactions at the MQTT CSMS, each exactly once
        const started = callsOf(cloud, identity, 'TransactionEvent')
          .filter((e) => e.eventType === 'Started');
        assert.equal(started.length, 2);
      });

    it('no strict-mode rejection on any leg', () => {
      assertClean(problems, [['charger', charger]]);
    });
  });
