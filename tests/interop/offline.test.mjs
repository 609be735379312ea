// SPDX-License-Identifier: MIT
//
// Offline operation end to end: a strict charger -> the real ocppgw -> a
// strict recording CSMS that goes away in the middle of a transaction and
// comes back on the same port. The charger keeps charging (the gateway
// answers it), and when the CSMS returns every transaction message the
// charger had acknowledged must reach it exactly once, in the charger's
// order, with consistent ids (the CSMS's own 1.6 ids; the same 2.x
// transactionId with increasing seqNo and offline=true on replayed events).
// Then the same with the gateway killed (SIGKILL) while it holds the queue,
// restarted on the same data dir, with the charger reconnecting or not.
// Each case runs for a 1.6 and a 2.0.1 charger, with and without
// translation, and prints a "message count" line.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { sleep, startGateway, tmpDir, waitFor } from './lib/harness.mjs';
import {
  GATEWAY_TX_MIN, ScriptedCharger, alive, checkDelivery, csmsKey, csmsTxId, killGateway, offlineConfig,
  startRecordingCsms, waitDelivered,
} from './lib/offline-peers.mjs';

const PAIRS = [['1.6', '1.6'], ['2.0.1', '2.0.1'], ['1.6', '2.0.1'], ['2.0.1', '1.6']];
const short = (v) => v.replaceAll('.', '');

// The CSMS's command that stops a transaction, and what the charger must
// receive for it.
function remoteStop(chargerVersion, csmsVersion, csmsId, tx) {
  const call = csmsVersion === '1.6'
    ? ['RemoteStopTransaction', { transactionId: csmsId }]
    : ['RequestStopTransaction', { transactionId: csmsId }];
  const expect = chargerVersion === '1.6'
    ? { method: 'RemoteStopTransaction', params: { transactionId: tx.id } }
    : { method: 'RequestStopTransaction', params: { transactionId: tx.uuid } };
  return { call, expect };
}

// kill: null (the gateway stays up), 'reconnect' (SIGKILL while offline,
// restart, the charger comes back) or 'never' (it does not).
function scenario(chargerVersion, csmsVersion, kill) {
  const translated = chargerVersion !== csmsVersion;
  const label = `${chargerVersion} charger -> ${csmsVersion} CSMS` +
    `${kill ? `, SIGKILL while offline, charger ${kill === 'never' ? 'never returns' : 'reconnects'}` : ''}`;
  const identity = `OFF-${short(chargerVersion)}-${short(csmsVersion)}${kill ? `-K${kill[0].toUpperCase()}` : ''}`;

  describe(label, { timeout: 60000 }, () => {
    const dataDir = tmpDir('ocppgw-offline-data-');
    const gwOpts = () => ({ dataDir, config: offlineConfig(),
      args: translated ? ['--upstream-ocpp', csmsVersion] : [] });
    const charger = new ScriptedCharger(chargerVersion, identity);
    const gws = [];
    let csms;
    let gw;
    let tx1;
    let tx2;
    let tx3;

    before(async () => {
      csms = await startRecordingCsms({ version: csmsVersion });
      gw = await startGateway({ csmsUrl: csms.url, ...gwOpts() });
      gws.push(gw);
      await charger.connect(gw);
      await csms.waitClient(identity);
      charger.handle('RemoteStopTransaction', { status: 'Accepted' });
      charger.handle('RequestStopTransaction', { status: 'Accepted' });
    });

    after(async () => {
      await charger.disconnect();
      try {
        const res = await gw.stop();
        assert.equal(res.code, 0, `ocppgw exit status ${JSON.stringify(res)}`);
      } finally {
        await csms.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
        for (const old of gws.slice(0, -1)) fs.rmSync(old.dir, { recursive: true, force: true });
      }
    });

    it('online: boot, authorize, a transaction starts', async () => {
      await charger.boot();
      await charger.status();
      await charger.authorize();
      tx1 = charger.newTx();
      await charger.start(tx1);
      await charger.meter(tx1);
      await waitDelivered(charger, csms, 5000);
    });

    it('the CSMS goes away: the charger keeps charging, answered by the gateway', async () => {
      await csms.stop();
      await sleep(300);
      charger.phase = 'offline';
      await charger.meter(tx1);
      await charger.heartbeat();
      await charger.stop(tx1);
      const auth = await charger.authorize();
      const st = chargerVersion === '1.6' ? auth.answer.idTagInfo : auth.answer.idTokenInfo;
      assert.equal(st.status, 'Accepted', 'offline Authorize of a tag the CSMS accepted before');
      tx2 = charger.newTx();
      const start2 = await charger.start(tx2);
      if (chargerVersion === '1.6') {
        assert.ok(Number.isInteger(tx2.id), `StartTransaction answer ${JSON.stringify(start2.answer)}`);
        assert.equal(start2.answer.idTagInfo.status, 'Accepted');
        if (!translated) {
          assert.ok(tx2.id >= GATEWAY_TX_MIN, `offline transactionId ${tx2.id} is not the gateway's`);
        }
      }
      await charger.meter(tx2);
      if (chargerVersion !== '1.6' && !translated) await charger.security();
      await charger.stop(tx2);
      tx3 = charger.newTx();
      await charger.start(tx3);
      await charger.meter(tx3);
      assert.ok(alive(gw), 'ocppgw died while offline');
    });

    if (kill) {
      it('SIGKILL with the queue full, restart on the same data dir', async () => {
        await killGateway(gw);
        await charger.disconnect();
        gw = await startGateway({ csmsUrl: csms.url, ...gwOpts() });
        gws.push(gw);
        if (kill === 'reconnect') {
          await charger.connect(gw);
          await charger.boot();
          await charger.status();
          await charger.meter(tx3);
        }
      });
    }

    it('the CSMS returns on the same port: the queue is replayed', async () => {
      // The CSMS holds its answer to the first replayed message while the
      // charger sends a new one: the new one must wait for the replay.
      let release;
      const gate = new Promise((r) => { release = r; });
      let held = null;
      csms.hold = (call) => {
        if (held || call.epoch !== csms.epoch || !csmsKey(call)) return null;
        held = call;
        return gate;
      };
      await csms.start();
      try {
        await waitFor(() => held, 10000, 'the first replayed transaction message');
        if (kill !== 'never') {
          charger.phase = 'after';
          const live = charger.meter(tx3);
          await Promise.race([live, sleep(1000)]);
          release();
          await live;
        }
      } finally {
        release();
        csms.hold = () => null;
      }
      await waitDelivered(charger, csms, 20000);
      if (kill) {
        const first = csms.callsOf(identity, 2)[0];
        assert.equal(first?.method, 'BootNotification',
          `first call after the restart: ${first?.method} ${JSON.stringify(first?.params)}`);
      }
    });

    it('every message once, in order, ids consistent', () => {
      checkDelivery(charger, csms, { label: `${label}, after replay`, maxResends: kill ? 1 : 0 });
    });

    if (kill !== 'never') {
      it('the CSMS stops the offline transaction with its own id', async () => {
        const upstream = await csms.waitClient(identity);
        const csmsId = csmsTxId(charger, csms, tx3);
        const { call, expect } = remoteStop(chargerVersion, csmsVersion, csmsId, tx3);
        const before = charger.received.length;
        const res = await upstream.call(...call);
        assert.equal(res.status, 'Accepted');
        assert.deepEqual(charger.received.slice(before), [expect]);
        await charger.stop(tx3);
        await waitDelivered(charger, csms, 5000);
        checkDelivery(charger, csms, { label, maxResends: kill ? 1 : 0 });
      });
    }

    it('no strict-mode rejection, no CALLERROR to the charger, no exit', () => {
      assert.deepEqual(charger.problems, [], 'charger: strict-mode rejections');
      assert.deepEqual(csms.problems, [], 'CSMS: strict-mode rejections');
      assert.deepEqual(charger.sent.filter((s) => s.error).map((s) => [s.action, String(s.error)]), []);
      assert.ok(alive(gw), 'ocppgw is not running');
      for (const old of gws.slice(0, -1)) assert.equal(old.proc.signalCode, 'SIGKILL');
    });
  });
}

for (const [chargerVersion, csmsVersion] of PAIRS) scenario(chargerVersion, csmsVersion, null);
for (const [chargerVersion, csmsVersion] of PAIRS) {
  scenario(chargerVersion, csmsVersion, 'reconnect');
  scenario(chargerVersion, csmsVersion, 'never');
}
