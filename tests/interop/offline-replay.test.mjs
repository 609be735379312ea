// SPDX-License-Identifier: MIT
//
// Offline replay at its edges, end to end with real processes:
// - a call the gateway relayed is in flight when the uplink drops: the
//   charger still gets an answer and the CSMS gets the message again (the
//   one allowed resend);
// - the gateway is killed (SIGKILL) while the CSMS holds its answer to a
//   replayed message: after the restart only that message is sent twice;
// - the CSMS refuses the id of a transaction started offline when its start
//   is replayed: the gateway stops it on the charger (stop_on_invalid_id),
//   with the charger's own id, and leaves finished ones alone;
// - several chargers of both versions on one gateway through one outage:
//   each one's messages once and in order.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { sleep, startGateway, tmpDir, waitFor } from './lib/harness.mjs';
import {
  ScriptedCharger, alive, checkDelivery, csmsAs, csmsKey, killGateway, offlineConfig,
  startOfflineSetup, startRecordingCsms, waitDelivered,
} from './lib/offline-peers.mjs';

const PAIRS = [['1.6', '1.6'], ['2.0.1', '2.0.1'], ['1.6', '2.0.1'], ['2.0.1', '1.6']];
const short = (v) => v.replaceAll('.', '');
const pairLabel = (cv, sv) => `${cv} charger -> ${sv} CSMS`;
const pairId = (cv, sv) => `${short(cv)}-${short(sv)}`;

// Online part every case starts with: boot, authorize, a transaction.
async function online(s) {
  await s.charger.boot();
  await s.charger.authorize();
  const tx = s.charger.newTx();
  await s.charger.start(tx);
  await waitDelivered(s.charger, s.csms, 5000);
  return tx;
}

// The keys seen more than once by the CSMS for this charger.
function resentKeys(s) {
  const keys = s.csms.callsOf(s.charger.identity).map(csmsKey).filter(Boolean);
  return [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))];
}

// ---------------------------------------------------------------------------
for (const [cv, sv] of PAIRS) {
  describe(`${pairLabel(cv, sv)}: a call in flight when the uplink drops`, { timeout: 60000 }, () => {
    let s;
    let tx;
    let inflight;

    before(async () => {
      s = await startOfflineSetup({ chargerVersion: cv, csmsVersion: sv,
        identity: `INFL-${pairId(cv, sv)}` });
    });
    after(async () => s?.stop());

    it('the charger gets an answer although the CSMS never answered', async () => {
      tx = await online(s);
      let held = null;
      s.csms.hold = (call) => {
        if (held || !csmsKey(call)) return null;
        held = call;
        return new Promise(() => {}); // never: the uplink goes first
      };
      s.charger.phase = 'inflight';
      const pending = s.charger.meter(tx);
      await waitFor(() => held, 5000, 'the CSMS to receive the MeterValues');
      await s.csms.stop();
      s.csms.hold = () => null;
      inflight = await pending;
      assert.equal(inflight.error, null, `the in-flight call failed: ${inflight.error}`);
      s.charger.phase = 'offline';
      await s.charger.meter(tx);
      await s.charger.stop(tx);
    });

    it('the CSMS returns: the lost call once more, then the rest, in order', async () => {
      await s.csms.start();
      await waitDelivered(s.charger, s.csms, 20000);
      checkDelivery(s.charger, s.csms, { label: `${pairLabel(cv, sv)}, call in flight`,
        maxResends: 1 });
      const resent = resentKeys(s);
      assert.ok(resent.every((k) => k === inflight.key),
        `resent ${resent.join(', ')}; only ${inflight.key} was in flight`);
      assert.ok(alive(s.gw));
    });
  });
}

// ---------------------------------------------------------------------------
for (const [cv, sv] of PAIRS) {
  describe(`${pairLabel(cv, sv)}: SIGKILL in the middle of the replay`, { timeout: 60000 }, () => {
    let s;
    let tx;
    let tx2;
    let held = null;
    let killedAt;

    before(async () => {
      s = await startOfflineSetup({ chargerVersion: cv, csmsVersion: sv,
        identity: `KREP-${pairId(cv, sv)}` });
    });
    after(async () => s?.stop());

    it('offline: meter values, a stop, a new transaction', async () => {
      tx = await online(s);
      await s.csms.stop();
      await sleep(300);
      s.charger.phase = 'offline';
      for (let i = 0; i < 3; i++) await s.charger.meter(tx);
      await s.charger.stop(tx);
      tx2 = s.charger.newTx();
      await s.charger.start(tx2);
      await s.charger.meter(tx2);
    });

    it('the CSMS returns and holds the third replayed message; SIGKILL; restart', async () => {
      let n = 0;
      s.csms.hold = (call) => {
        if (held || call.epoch !== s.csms.epoch || !csmsKey(call) || ++n < 3) return null;
        held = call;
        return new Promise(() => {});
      };
      await s.csms.start();
      await waitFor(() => held, 10000, 'the third replayed message');
      await killGateway(s.gw);
      killedAt = Date.now();
      s.csms.hold = () => null;
      await s.charger.disconnect();
      await s.startGateway();
    });

    it('after the restart: the boot first, only the held message twice, all in order', async () => {
      await waitDelivered(s.charger, s.csms, 20000);
      const afterKill = s.csms.callsOf(s.charger.identity).filter((c) => c.at > killedAt);
      assert.equal(afterKill[0]?.method, 'BootNotification',
        `first call after the restart: ${afterKill[0]?.method}`);
      checkDelivery(s.charger, s.csms, { label: `${pairLabel(cv, sv)}, SIGKILL mid-replay`,
        maxResends: 1 });
      assert.deepEqual(resentKeys(s), [csmsKey(held)], 'messages sent twice');
    });

    it('the charger comes back and goes on', async () => {
      await s.charger.connect(s.gw);
      s.charger.phase = 'after';
      await s.charger.meter(tx2);
      await s.charger.stop(tx2);
      await waitDelivered(s.charger, s.csms, 10000);
      checkDelivery(s.charger, s.csms, { label: `${pairLabel(cv, sv)}, SIGKILL mid-replay, after`,
        maxResends: 1 });
    });
  });
}

// ---------------------------------------------------------------------------
// What the CSMS answers a replayed start to refuse its id, per CSMS version.
function refuseStarts(csms) {
  if (csms.version === '1.6') {
    let next = 8800;
    csms.responders.StartTransaction = () => ({ transactionId: ++next,
      idTagInfo: { status: 'Blocked' } });
  } else {
    csms.responders.TransactionEvent = (p) => (p.eventType === 'Started'
      ? { idTokenInfo: { status: 'Invalid' } }
      : (p.idToken ? { idTokenInfo: { status: 'Accepted' } } : {}));
  }
}

for (const [cv, sv] of PAIRS) {
  describe(`${pairLabel(cv, sv)}: the CSMS refuses the id of an offline start`, { timeout: 60000 }, () => {
    let s;
    let done;
    let running;

    before(async () => {
      s = await startOfflineSetup({ chargerVersion: cv, csmsVersion: sv,
        identity: `INV-${pairId(cv, sv)}` });
      s.charger.handle('RemoteStopTransaction', { status: 'Accepted' });
      s.charger.handle('RequestStopTransaction', { status: 'Accepted' });
    });
    after(async () => s?.stop());

    it('offline: one transaction ends, another is still running', async () => {
      await s.charger.boot();
      await s.charger.authorize();
      await s.csms.stop();
      await sleep(300);
      s.charger.phase = 'offline';
      done = s.charger.newTx();
      await s.charger.start(done);
      await s.charger.stop(done);
      running = s.charger.newTx();
      await s.charger.start(running);
      await s.charger.meter(running);
    });

    it('the replayed starts are refused: the running one is stopped on the charger with its id', async () => {
      refuseStarts(s.csms);
      await s.csms.start();
      await waitDelivered(s.charger, s.csms, 20000);
      const expect = cv === '1.6'
        ? { method: 'RemoteStopTransaction', params: { transactionId: running.id } }
        : { method: 'RequestStopTransaction', params: { transactionId: running.uuid } };
      await waitFor(() => s.charger.received.length > 0, 10000, `${expect.method} on the charger`);
      await sleep(500);
      assert.deepEqual(s.charger.received, [expect]);
    });

    it('the charger stops it; the CSMS gets the stop with its own id', async () => {
      s.charger.phase = 'after';
      await s.charger.stop(running);
      await waitDelivered(s.charger, s.csms, 10000);
      checkDelivery(s.charger, s.csms, { label: `${pairLabel(cv, sv)}, refused offline start` });
    });
  });
}

// ---------------------------------------------------------------------------
describe('four chargers of both versions through one outage', { timeout: 90000 }, () => {
  const versions = ['1.6', '2.0.1', '1.6', '2.0.1'];
  const dataDir = tmpDir('ocppgw-offline-fleet-');
  const chargers = versions.map((v, i) => new ScriptedCharger(v, `MULTI-${i + 1}-${short(v)}`));
  let csms;
  let gw;

  before(async () => {
    csms = await startRecordingCsms({ versions: ['1.6', '2.0.1'] });
    gw = await startGateway({ csmsUrl: csms.url, dataDir, config: offlineConfig() });
    for (const c of chargers) {
      await c.connect(gw);
      await csms.waitClient(c.identity);
    }
  });
  after(async () => {
    for (const c of chargers) await c.disconnect();
    try {
      const res = await gw.stop();
      assert.equal(res.code, 0);
    } finally {
      await csms.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('all charge through the outage, concurrently', async () => {
    const txs = await Promise.all(chargers.map(async (c) => {
      await c.boot();
      await c.authorize();
      const tx = c.newTx();
      await c.start(tx);
      return tx;
    }));
    await csms.stop();
    await sleep(300);
    await Promise.all(chargers.map(async (c, i) => {
      c.phase = 'offline';
      for (let k = 0; k < 15; k++) await c.meter(txs[i]);
      await c.stop(txs[i]);
      txs[i] = c.newTx();
      await c.start(txs[i]);
      for (let k = 0; k < 5; k++) await c.meter(txs[i]);
    }));
    await csms.start();
    await Promise.all(chargers.map(async (c, i) => {
      c.phase = 'after';
      await c.meter(txs[i]);
      await c.stop(txs[i]);
    }));
    for (const c of chargers) await waitDelivered(c, csmsAs(csms, c.version), 30000);
  });

  it('each charger: every message once, in order, ids consistent', () => {
    const total = { sent: 0, received: 0, lost: 0, resent: 0 };
    for (const c of chargers) {
      const { counts } = checkDelivery(c, csmsAs(csms, c.version), { label: `fleet ${c.identity}` });
      for (const k of Object.keys(total)) total[k] += counts[k === 'sent' ? 'mustDeliver' : k];
    }
    console.log(`message count [four chargers, one outage]: transaction messages sent by ` +
      `chargers ${total.sent} / received by CSMS ${total.received} / lost ${total.lost} / ` +
      `resent ${total.resent}`);
    for (const c of chargers) assert.deepEqual(c.problems, []);
    assert.deepEqual(csms.problems, []);
  });
});
