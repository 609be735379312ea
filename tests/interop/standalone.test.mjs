// SPDX-License-Identifier: MIT
//
// Standalone mode end to end: ocppgw without any CSMS is the site's central
// system. Strict chargers (1.6 and 2.0.1) and a simulated fleet of both
// versions connect, boot, authorize from the configured local list (unknown
// ids by offline.unknown_id) and charge; `ocppgw sessions` then lists every
// session with its charger, transaction id, id tag, start, stop and energy,
// as JSON and as CSV, while the gateway runs and after it stopped.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';

import {
  closeClient, connectCharger, isoNow, runOcppgw, startGateway, tmpDir,
} from './lib/harness.mjs';
import { RFID, ID_TOKEN } from './lib/offline-peers.mjs';
import { startFleet } from './lib/sim-peers.mjs';
import { watchStrict } from './lib/translate-peers.mjs';

const HEARTBEAT = 77;
const CONFIG = [
  `offline = { heartbeat_interval = ${HEARTBEAT}; unknown_id = "accept"; };`,
  'local_list = (',
  `  { id = "${RFID}"; status = "Accepted"; },`,
  '  { id = "LOST-CARD"; status = "Blocked"; }',
  ');',
  '',
].join('\n');

// One session as `ocppgw sessions --format json` lists it.
const SESSION_FIELDS = ['charger', 'tx_id', 'evse', 'connector', 'id_tag', 'started', 'stopped',
  'energy_kwh', 'stop_reason', 'offline'];
const kwhClose = (row, kwh) => Math.abs(row.energy_kwh - kwh) < 1e-9;

async function listSessions(dataDir, format, extra = []) {
  const res = await runOcppgw(['sessions', '--data-dir', dataDir, '--format', format, ...extra]);
  assert.equal(res.code, 0, `ocppgw sessions --format ${format}: exit ${res.code}\n${res.stderr}`);
  return res.stdout;
}

function parseJsonSessions(text) {
  const j = JSON.parse(text);
  const rows = Array.isArray(j) ? j : j.sessions;
  assert.ok(Array.isArray(rows), `sessions JSON is not a list: ${text.slice(0, 200)}`);
  return rows;
}

describe('standalone: no CSMS, chargers and a simulated fleet charge', { timeout: 90000 }, () => {
  const dataDir = tmpDir('ocppgw-standalone-data-');
  const problems = [];
  const fleetIds = { '1.6': ['SA-SIM16-1', 'SA-SIM16-2'], '2.0.1': ['SA-SIM201-1', 'SA-SIM201-2'] };
  let gw;
  let c16;
  let c201;
  let txInt;
  let sessions;

  before(async () => {
    gw = await startGateway({ csmsUrl: null, dataDir, config: CONFIG });
    c16 = await connectCharger(gw, 'SA-16', '1.6');
    c201 = await connectCharger(gw, 'SA-201', '2.0.1');
    watchStrict(problems, 'SA-16', c16);
    watchStrict(problems, 'SA-201', c201);
  });

  after(async () => {
    await closeClient(c16);
    await closeClient(c201);
    try {
      if (gw && gw.proc.exitCode === null) await gw.stop();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('BootNotification: Accepted with the configured interval', async () => {
    const a = await c16.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'SA' });
    assert.equal(a.status, 'Accepted');
    assert.equal(a.interval, HEARTBEAT);
    const b = await c201.call('BootNotification',
      { reason: 'PowerUp', chargingStation: { vendorName: 'Acme', model: 'SA' } });
    assert.equal(b.status, 'Accepted');
    assert.equal(b.interval, HEARTBEAT);
    assert.ok((await c16.call('Heartbeat', {})).currentTime);
  });

  it('Authorize: the local list first, unknown ids by offline.unknown_id', async () => {
    assert.equal((await c16.call('Authorize', { idTag: RFID })).idTagInfo.status, 'Accepted');
    assert.equal((await c16.call('Authorize', { idTag: 'LOST-CARD' })).idTagInfo.status, 'Blocked');
    assert.equal((await c16.call('Authorize', { idTag: 'SOMEONE-ELSE' })).idTagInfo.status, 'Accepted');
    const t = await c201.call('Authorize', { idToken: { idToken: 'LOST-CARD', type: 'ISO14443' } });
    assert.equal(t.idTokenInfo.status, 'Blocked');
  });

  it('a 1.6 transaction: Start, MeterValues, Stop', async () => {
    const s = await c16.call('StartTransaction', { connectorId: 1, idTag: RFID, meterStart: 1000,
      timestamp: isoNow() });
    assert.ok(Number.isInteger(s.transactionId), JSON.stringify(s));
    assert.equal(s.idTagInfo.status, 'Accepted');
    txInt = s.transactionId;
    await c16.call('MeterValues', { connectorId: 1, transactionId: txInt, meterValue: [{
      timestamp: isoNow(), sampledValue: [{ value: '2500', measurand: 'Energy.Active.Import.Register',
        unit: 'Wh' }] }] });
    await c16.call('StopTransaction', { transactionId: txInt, idTag: RFID, meterStop: 4500,
      timestamp: isoNow(), reason: 'Local' });
  });

  it('a 2.0.1 transaction: TransactionEvent Started, Updated, Ended', async () => {
    const info = { transactionId: 'SA-201-TX-1', chargingState: 'Charging' };
    const e = (eventType, seqNo, extra) => ({ eventType, seqNo, timestamp: isoNow(),
      triggerReason: 'Authorized', transactionInfo: info, ...extra });
    const mv = (v, context) => [{ timestamp: isoNow(), sampledValue: [{ value: v, context,
      measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }];
    const a = await c201.call('TransactionEvent', e('Started', 0, { idToken: ID_TOKEN,
      evse: { id: 1, connectorId: 1 }, meterValue: mv(2000, 'Transaction.Begin') }));
    assert.equal(a.idTokenInfo?.status, 'Accepted');
    await c201.call('TransactionEvent', e('Updated', 1, { meterValue: mv(3000, 'Sample.Periodic') }));
    await c201.call('TransactionEvent', e('Ended', 2, { meterValue: mv(6000, 'Transaction.End'),
      transactionInfo: { ...info, stoppedReason: 'Local' } }));
  });

  it('a simulated fleet of 1.6 and 2.0.1 chargers runs without an error', async () => {
    const fleets = Object.entries(fleetIds).map(([version, ids]) => startFleet({
      url: gw.endpoint, version, count: ids.length, duration: 8,
      idPattern: `${ids[0].slice(0, -2)}-%d` }));
    const results = await Promise.all(fleets.map((f) => f.exited));
    fleets.forEach((f, i) => { if (results[i].code !== 0) f.dumpLog(`exit ${JSON.stringify(results[i])}`); });
    assert.deepEqual(results.map((r) => r.code), [0, 0], 'ocppgw-sim exit codes');
  });

  it('ocppgw sessions --format json lists every session with its energy', async () => {
    sessions = parseJsonSessions(await listSessions(dataDir, 'json'));
    for (const r of sessions) assert.deepEqual(Object.keys(r).sort(), [...SESSION_FIELDS].sort());
    const mine16 = sessions.filter((r) => r.charger === 'SA-16');
    assert.equal(mine16.length, 1, `SA-16 sessions: ${JSON.stringify(mine16)}`);
    assert.equal(String(mine16[0].tx_id), String(txInt));
    assert.equal(mine16[0].id_tag, RFID);
    assert.ok(mine16[0].started && mine16[0].stopped, JSON.stringify(mine16[0]));
    assert.ok(Date.parse(mine16[0].stopped) >= Date.parse(mine16[0].started));
    assert.ok(kwhClose(mine16[0], 3.5), `energy ${JSON.stringify(mine16[0])}`);
    const mine201 = sessions.filter((r) => r.charger === 'SA-201');
    assert.equal(mine201.length, 1, `SA-201 sessions: ${JSON.stringify(mine201)}`);
    assert.equal(mine201[0].tx_id, 'SA-201-TX-1');
    assert.equal(mine201[0].id_tag, RFID);
    assert.ok(kwhClose(mine201[0], 4), `energy ${JSON.stringify(mine201[0])}`);
    for (const id of Object.values(fleetIds).flat()) {
      const rows = sessions.filter((r) => r.charger === id);
      assert.ok(rows.length >= 1, `no session of ${id}; chargers listed: ` +
        `${[...new Set(sessions.map((r) => r.charger))].join(', ')}`);
      const done = rows.filter((r) => r.stopped);
      assert.ok(done.length >= 1, `no finished session of ${id}: ${JSON.stringify(rows)}`);
      for (const r of done) assert.ok(r.energy_kwh > 0, `no energy in ${JSON.stringify(r)}`);
    }
    const one = parseJsonSessions(await listSessions(dataDir, 'json', ['--charger', 'SA-16']));
    assert.deepEqual(one, mine16, '--charger SA-16');
    console.log(`standalone: ${sessions.length} sessions of ` +
      `${new Set(sessions.map((r) => r.charger)).size} chargers listed, ` +
      `${sessions.filter((r) => r.stopped).length} finished, ` +
      `${sessions.reduce((sum, r) => sum + (r.energy_kwh ?? 0), 0).toFixed(3)} kWh`);
  });

  it('--format csv lists the same sessions', async () => {
    const lines = (await listSessions(dataDir, 'csv')).trim().split('\n');
    assert.match(lines[0], /charger/i);
    assert.match(lines[0], /energy/i);
    assert.equal(lines.length - 1, sessions.length, 'CSV rows vs JSON sessions');
    assert.ok(lines.some((l) => l.includes('SA-201-TX-1')));
  });

  it('no strict-mode rejection; the gateway stops cleanly and the sessions stay listed', async () => {
    assert.deepEqual(problems, []);
    await closeClient(c16);
    await closeClient(c201);
    const res = await gw.stop();
    assert.equal(res.code, 0);
    const again = parseJsonSessions(await listSessions(dataDir, 'json'));
    assert.equal(again.length, sessions.length);
  });
});
