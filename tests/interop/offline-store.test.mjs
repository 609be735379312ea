// SPDX-License-Identifier: MIT
//
// The offline store at its limits, end to end with real processes: a store
// that is full (store_max_size, SQLite's max_page_count) makes the gateway
// refuse what it cannot keep with a CALLERROR instead of acknowledging and
// losing it, while everything stored before still reaches the CSMS; a
// message the CSMS refuses on every replay ends in the dead_letter table
// after offline.message_attempts and does not block the ones behind it;
// GetTransactionStatus (2.0.1 CSMS, 2.0.1 or 1.6 charger) says
// messagesInQueue while the gateway still holds messages of the transaction; offline.queue = "all" queues the
// charger's other messages too.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { adminApi, sleep, tmpDir, waitFor } from './lib/harness.mjs';
import {
  alive, checkDelivery, csmsKey, csmsTxId, offlineConfig, sqlite, startOfflineSetup, waitDelivered,
} from './lib/offline-peers.mjs';

const startSetup = ({ version, ...rest }) => startOfflineSetup({ chargerVersion: version, ...rest });

// ---------------------------------------------------------------------------
// The store fills up: by the store_max_size cap (every run), or for real on
// a small tmpfs (only as root with OCPPGW_TEST_TMPFS=1: CI must not depend
// on mount). `fill` says how: {label, root (config text), mount (bool)}.
const FILLS = [
  // The empty store is about a dozen 4 KiB pages: 40 pages leave room for
  // a few dozen padded MeterValues and no more.
  { label: 'store_max_size', root: `store_max_size = ${40 * 4096};`, mount: false },
  { label: 'a full 512 KiB tmpfs', root: '', mount: true },
];
const canMount = process.env.OCPPGW_TEST_TMPFS === '1' && process.getuid?.() === 0;

function mountTmpfs() {
  const dir = tmpDir('ocppgw-offline-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', dir]);
  return dir;
}

for (const fill of FILLS) for (const version of ['1.6', '2.0.1']) {
  const skip = fill.mount && !canMount && 'needs root and OCPPGW_TEST_TMPFS=1 (mounts a tmpfs)';
  describe(`store full (${fill.label}), ${version} charger`, { timeout: 90000, skip }, () => {
    let s;
    let tx;
    let refused;
    let mounted = null;
    const accepted = [];

    before(async () => {
      if (fill.mount) mounted = mountTmpfs();
      s = await startSetup({ version, dataDir: mounted ?? undefined,
        identity: `FULL-${fill.mount ? 'T' : 'C'}-${version.replaceAll('.', '')}`,
        config: offlineConfig({ root: fill.root }) });
    });
    after(async () => {
      try {
        await s?.stop();
      } finally {
        if (mounted) {
          execFileSync('umount', [mounted]);
          fs.rmSync(mounted, { recursive: true, force: true });
        }
      }
    });

    it('online: a transaction starts', async () => {
      await s.charger.boot();
      await s.charger.authorize();
      tx = s.charger.newTx();
      await s.charger.start(tx);
      await waitDelivered(s.charger, s.csms, 5000);
    });

    it('offline: the gateway acknowledges until the store is full, then refuses with a CALLERROR', async () => {
      await s.csms.stop();
      await sleep(300);
      s.charger.phase = 'offline';
      for (let i = 0; i < 400 && !refused; i++) {
        const rec = await s.charger.meter(tx, { pad: 40, tolerate: true });
        if (rec.error) refused = rec; else accepted.push(rec);
      }
      assert.ok(refused, `the store never filled up: ${accepted.length} messages acknowledged ` +
        `(${fill.label})`);
      assert.ok(accepted.length >= 3, `only ${accepted.length} messages stored before the refusal`);
      assert.equal(refused.error.rpcErrorCode, 'InternalError',
        `refusal: ${refused.error.rpcErrorCode} ${refused.error.message}`);
      assert.match(refused.error.message, /full|space|store/i, 'the CALLERROR description');
    });

    it('full: it keeps refusing transaction messages, answers the rest, logs it, stays up', async () => {
      assert.ok(alive(s.gw), 'ocppgw died with a full store');
      // The log comes through a pipe, the CALLERROR through a socket: either may be read first.
      await waitFor(() => /no space left|(store|database|disk).*full|full.*(store|database|disk)/i
        .test(s.gw.stderr), 3000, 'the log saying the store is full');
      const lost = await s.charger.ensureConnected();
      const hb = await s.charger.heartbeat();
      assert.ok(hb.answer?.currentTime, 'Heartbeat not answered while the store is full');
      const again = await s.charger.meter(tx, { pad: 40, tolerate: true });
      assert.ok(again.error, 'a second message was acknowledged with the store full');
      assert.equal(again.error.rpcErrorCode, 'InternalError', `second refusal: ${again.error.message}`);
      assert.equal(lost, false, 'the gateway closed the charger\'s connection instead of answering');
    });

    it('the CSMS returns: everything acknowledged is delivered, nothing refused', async () => {
      await s.csms.start();
      await waitDelivered(s.charger, s.csms, 30000);
      checkDelivery(s.charger, s.csms, { label: `store full (${fill.label}), ${version} charger` });
      const refusedKeys = s.charger.sent.filter((x) => x.error).map((x) => x.key);
      const got = s.csms.callsOf(s.charger.identity).map(csmsKey);
      assert.deepEqual(refusedKeys.filter((k) => got.includes(k)), [],
        'the CSMS got messages the gateway had refused');
    });

    it('after the replay the store has room again', async () => {
      await s.csms.stop();
      await sleep(300);
      s.charger.phase = 'offline';
      await s.charger.ensureConnected();
      const rec = await s.charger.meter(tx, { pad: 40, tolerate: true });
      assert.equal(rec.error, null, `refused after the queue drained: ${rec.error?.message}`);
      await s.charger.stop(tx);
      await s.csms.start();
      await waitDelivered(s.charger, s.csms, 20000);
      checkDelivery(s.charger, s.csms,
        { label: `store full (${fill.label}), ${version} charger, after drain` });
    });
  });
}

// ---------------------------------------------------------------------------
for (const version of ['1.6', '2.0.1']) {
  describe(`dead letter, ${version} charger`, { timeout: 60000 }, () => {
    const ATTEMPTS = 3;
    let s;
    let tx;
    let poison;

    before(async () => {
      s = await startSetup({ version, identity: `DEAD-${version.replaceAll('.', '')}`,
        config: offlineConfig({ offline: { message_attempts: ATTEMPTS } }) });
    });
    after(async () => s?.stop());

    it('online start, offline meter values and stop', async () => {
      await s.charger.boot();
      await s.charger.authorize();
      tx = s.charger.newTx();
      await s.charger.start(tx);
      await waitDelivered(s.charger, s.csms, 5000);
      await s.csms.stop();
      await sleep(300);
      s.charger.phase = 'offline';
      await s.charger.meter(tx);
      poison = await s.charger.meter(tx);
      await s.charger.meter(tx);
      await s.charger.stop(tx);
    });

    it(`the CSMS refuses one replayed message ${ATTEMPTS} times: it goes to dead_letter`, async () => {
      s.csms.fail = (call) => csmsKey(call) === poison.key;
      await s.csms.start();
      const rest = s.charger.mustDeliver().filter((x) => x !== poison).map((x) => x.key);
      await waitFor(() => {
        const got = s.csms.callsOf(s.charger.identity).map(csmsKey);
        return rest.every((k) => got.includes(k));
      }, 30000, 'the messages behind the refused one');
      const calls = s.csms.callsOf(s.charger.identity);
      const keys = calls.map(csmsKey);
      const tries = keys.filter((k) => k === poison.key).length;
      assert.equal(tries, ATTEMPTS, `the refused message was sent ${tries} times`);
      // In order: nothing behind it overtook it while it was retried.
      const lastTry = keys.lastIndexOf(poison.key);
      const next = s.charger.mustDeliver()[s.charger.mustDeliver().indexOf(poison) + 1].key;
      assert.ok(keys.indexOf(next) > lastTry, `${next} overtook the retried ${poison.key}`);
      await sleep(2500);
      assert.equal(s.csms.callsOf(s.charger.identity).map(csmsKey)
        .filter((k) => k === poison.key).length, ATTEMPTS, 'retried after its attempts');
    });

    it('dead_letter holds it with the CSMS error; the queue is empty; the log says so', async () => {
      const dead = await sqlite(s.dataDir,
        'SELECT charger, action, payload, attempts, error_code FROM dead_letter');
      assert.equal(dead.length, 1, `dead_letter rows: ${JSON.stringify(dead)}`);
      assert.equal(dead[0].charger, s.charger.identity);
      assert.equal(dead[0].action, poison.action);
      assert.equal(dead[0].attempts, ATTEMPTS);
      assert.equal(dead[0].error_code, 'InternalError');
      const payload = JSON.parse(dead[0].payload);
      const ts = payload.timestamp ?? payload.meterValue?.[0]?.timestamp;
      assert.equal(`meter@${ts}`, poison.key, 'the dead letter is the refused message');
      const queued = await sqlite(s.dataDir,
        `SELECT count(*) AS n FROM queue WHERE charger = '${s.charger.identity}'`);
      assert.equal(queued[0].n, 0, 'messages left in the queue');
      assert.match(s.gw.stderr, /dead.?letter/i, 'the log reports the dead letter');
      // ... and so does the operator's event log.
      const events = await adminApi(s.gw, 'GET',
        `/api/events?kind=dead-letter&charger=${s.charger.identity}`);
      assert.equal(events.status, 200, events.text);
      assert.deepEqual(events.json.map((e) => e.text),
        [`queued ${poison.action} refused ${ATTEMPTS} times (InternalError): dead letter`]);
    });

    it('every other message once, in order', () => {
      // The refused message is the only one seen more than once.
      const s2 = { ...s.charger, identity: s.charger.identity,
        mustDeliver: () => s.charger.mustDeliver().filter((x) => x !== poison),
        sent: s.charger.sent, version: s.charger.version };
      const csmsView = { ...s.csms, callsOf: (id) => s.csms.callsOf(id)
        .filter((c) => csmsKey(c) !== poison.key) };
      checkDelivery(s2, csmsView, { label: `dead letter, ${version} charger` });
    });

    it('later messages still flow', async () => {
      s.charger.phase = 'after';
      const tx2 = s.charger.newTx();
      await s.charger.start(tx2);
      await s.charger.stop(tx2);
      await waitDelivered(s.charger, s.csms, 5000);
      assert.ok(alive(s.gw));
    });
  });
}

// ---------------------------------------------------------------------------
// A 2.0.1 charger answers GetTransactionStatus itself (its own queue is
// empty: the gateway acknowledged everything); for a 1.6 charger the
// translator answers.
for (const version of ['2.0.1', '1.6']) {
  describe(`GetTransactionStatus from a 2.0.1 CSMS while messages are queued, ${version} charger`,
    { timeout: 60000 }, () => {
      let s;
      let tx;
      let release;
      let heldCall = null;
      const ask = async () => {
        const upstream = await s.csms.waitClient(s.charger.identity);
        return upstream.call('GetTransactionStatus', { transactionId: csmsTxId(s.charger, s.csms, tx) });
      };

      before(async () => {
        s = await startOfflineSetup({ chargerVersion: version, csmsVersion: '2.0.1',
          identity: `GTS-${version.replaceAll('.', '')}` });
        s.charger.handle('GetTransactionStatus', { messagesInQueue: false, ongoingIndicator: true });
      });
      after(async () => {
        release?.();
        await s?.stop();
      });

      it('online start, offline meter values and stop', async () => {
        await s.charger.boot();
        await s.charger.authorize();
        tx = s.charger.newTx();
        await s.charger.start(tx);
        await waitDelivered(s.charger, s.csms, 5000);
        await s.csms.stop();
        await sleep(300);
        s.charger.phase = 'offline';
        await s.charger.meter(tx);
        await s.charger.meter(tx);
        await s.charger.stop(tx);
      });

      it('messagesInQueue true while the replay is held up', async () => {
        const gate = new Promise((r) => { release = r; });
        s.csms.hold = (call) => {
          if (heldCall || call.method !== 'TransactionEvent') return null;
          heldCall = call;
          return gate;
        };
        await s.csms.start();
        await waitFor(() => heldCall, 10000, 'the first replayed TransactionEvent');
        const res = await ask();
        assert.equal(res.messagesInQueue, true, `answer ${JSON.stringify(res)}`);
        release();
      });

      it('messagesInQueue false once everything is delivered', async () => {
        await waitDelivered(s.charger, s.csms, 20000);
        await sleep(200);
        const res = await ask();
        assert.equal(res.messagesInQueue, false, `answer ${JSON.stringify(res)}`);
        checkDelivery(s.charger, s.csms, { label: `GetTransactionStatus, ${version} charger` });
      });
    });
}

// ---------------------------------------------------------------------------
describe('offline.queue = "all": the charger\'s other messages are queued too', { timeout: 60000 }, () => {
  let s;

  before(async () => {
    s = await startSetup({ version: '1.6', identity: 'QALL-16',
      config: offlineConfig({ offline: { queue: 'all' } }) });
  });
  after(async () => s?.stop());

  it('StatusNotification, Authorize and DataTransfer sent offline reach the CSMS in order; Heartbeat does not', async () => {
    await s.charger.boot();
    await s.csms.stop();
    await sleep(300);
    s.charger.phase = 'offline';
    const status = await s.charger.status();
    await s.charger.heartbeat();
    const dt = await s.charger.call('DataTransfer', { vendorId: 'com.acme', messageId: 'offline-1' });
    const tx = s.charger.newTx();
    await s.charger.authorize();
    await s.charger.start(tx);
    await s.charger.stop(tx);
    await s.csms.start();
    await waitDelivered(s.charger, s.csms, 20000);
    const wanted = [['StatusNotification', status.params], ['DataTransfer', dt.params]];
    await waitFor(() => wanted.every(([m, p]) => s.csms.callsOf(s.charger.identity, 2)
      .some((c) => c.method === m && JSON.stringify(c.params) === JSON.stringify(p))), 10000,
    'the queued StatusNotification and DataTransfer');
    const after2 = s.csms.callsOf(s.charger.identity, 2).filter((c) => c.method !== 'BootNotification');
    const order = after2.map((c) => c.method);
    assert.deepEqual(order.filter((m) => m !== 'Heartbeat'),
      ['StatusNotification', 'DataTransfer', 'Authorize', 'StartTransaction', 'StopTransaction'],
      `replayed: ${order.join(', ')}`);
    assert.ok(!order.includes('Heartbeat') || order.indexOf('Heartbeat') > 4,
      'an offline Heartbeat was replayed');
    checkDelivery(s.charger, s.csms, { label: 'queue all, 1.6 charger' });
  });
});
