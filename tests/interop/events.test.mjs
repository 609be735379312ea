// SPDX-License-Identifier: MIT
//
// The operator's event log (GET /api/events): a small fleet connects,
// boots, reports a fault and a security event, gets a CALLERROR from the
// CSMS, the site limit is set and cleared, a charger leaves; each shows up
// once, in order, with its charger and text. The filters (charger, kind,
// since, limit) select what they say, bad parameters are 400 naming the field,
// and the rows survive a restart of the gateway on the same store.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createRPCError } from 'ocpp-rpc';

import {
  acceptProfiles, adminApi, closeClient, connectCharger, isoNow, runOcppgw, startCsms, startGateway, stopAll, tmpDir,
  waitFor,
} from './lib/harness.mjs';

const LB_CONFIG = `load_balancing = {
  site = { limit_a = 63.0; phases = 3; };
};
`;

describe('events', { timeout: 90000 }, () => {
  let csms;
  let gw;
  let dataDir;
  const clients = [];

  before(async () => {
    dataDir = path.join(tmpDir('ocppgw-events-'), 'data');
    csms = await startCsms();
    csms.responders.BootNotification = () => ({ currentTime: isoNow(), interval: 300, status: 'Accepted' });
    csms.responders.Authorize = () => { throw createRPCError('InternalError', 'CSMS database down'); };
    gw = await startGateway({ csmsUrl: csms.url, config: LB_CONFIG, dataDir });

    const a = acceptProfiles(await connectCharger(gw, 'EV-16', '1.6'));
    clients.push(a);
    await a.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'W16' });
    await a.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted',
      info: 'RCD tripped' });
    await assert.rejects(a.call('Authorize', { idTag: 'CARD1' }), (err) => err.rpcErrorCode === 'InternalError');

    const b = acceptProfiles(await connectCharger(gw, 'EV-201', '2.0.1'));
    clients.push(b);
    await b.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'Volt', model: 'W201' } });
    await b.call('SecurityEventNotification', { type: 'TamperDetectionActivated', timestamp: isoNow(),
      techInfo: 'lid opened' });

    assert.equal((await adminApi(gw, 'PUT', '/api/site/limit', { amps: 40 })).status, 200);
    assert.equal((await adminApi(gw, 'DELETE', '/api/site/limit')).status, 200);
    await closeClient(a);
    await waitFor(async () => (await adminApi(gw, 'GET', '/api/events?charger=EV-16')).json
      .some((e) => e.kind === 'disconnect'), 5000, 'EV-16 disconnect event');
  });

  after(async () => {
    await stopAll({ clients, gw, csms });
    fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  });

  const brief = (e) => `${e.charger ?? '-'} ${e.kind} ${e.text}`;

  it('records each event once, in order, with its charger and text', async () => {
    const r = await adminApi(gw, 'GET', '/api/events');
    assert.equal(r.status, 200, r.text);
    // The CSMS leg comes up on its own time, after the charger's connect:
    // each once, checked apart from the order of the rest.
    const up = r.json.filter((e) => e.kind === 'csms-up');
    assert.deepEqual(up.map(brief).sort(), ['EV-16 csms-up CSMS connection up, OCPP 1.6',
      'EV-201 csms-up CSMS connection up, OCPP 2.0.1']);
    for (const e of up) {
      const connect = r.json.find((c) => c.kind === 'connect' && c.charger === e.charger);
      assert.ok(e.seq > connect.seq, `${e.charger}: the CSMS leg after the charger's`);
    }
    r.json = r.json.filter((e) => e.kind !== 'csms-up');
    assert.deepEqual(r.json.slice(0, -1).map(brief), [
      'EV-16 connect connected, OCPP 1.6',
      'EV-16 boot boot: ACME W16',
      'EV-16 fault connector 1 Faulted: GroundFailure, RCD tripped',
      'EV-16 callerror CALLERROR InternalError to the charger on Authorize',
      'EV-201 connect connected, OCPP 2.0.1',
      'EV-201 boot boot: Volt W201 (PowerUp)',
      'EV-201 security TamperDetectionActivated: lid opened',
      '- limit site limit set to 40.0 A per phase',
      '- limit dynamic site limit cleared',
    ], 'every event once, in order');
    assert.equal(r.json.at(-1).charger, 'EV-16');
    assert.equal(r.json.at(-1).kind, 'disconnect');
    assert.match(r.json.at(-1).text, /^disconnected \(code \d+\)$/);
    for (let i = 1; i < r.json.length; i++) {
      assert.ok(r.json[i].seq > r.json[i - 1].seq, 'seq grows');
      assert.ok(r.json[i].at >= r.json[i - 1].at, 'times in order');
    }
    assert.match(r.json[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(r.json[0].at - Date.now()) < 60000, 'at is unix ms, now-ish');
  });

  it('filters by charger, since and limit', async () => {
    const all = (await adminApi(gw, 'GET', '/api/events')).json;
    const ev201 = (await adminApi(gw, 'GET', '/api/events?charger=EV-201')).json;
    assert.deepEqual(ev201.map((e) => e.kind).filter((k) => k !== 'csms-up'), ['connect', 'boot', 'security']);
    const none = await adminApi(gw, 'GET', '/api/events?charger=NOBODY');
    assert.deepEqual(none.json, []);

    const faults = (await adminApi(gw, 'GET', '/api/events?kind=fault')).json;
    assert.deepEqual(faults.map(brief), ['EV-16 fault connector 1 Faulted: GroundFailure, RCD tripped']);
    const limits = (await adminApi(gw, 'GET', '/api/events?kind=limit&charger=EV-16')).json;
    assert.deepEqual(limits, [], 'site events have no charger');

    const last2 = (await adminApi(gw, 'GET', '/api/events?limit=2')).json;
    assert.deepEqual(last2, all.slice(-2), 'the newest two, oldest first');

    const fault = all.find((e) => e.kind === 'fault');
    const since = (await adminApi(gw, 'GET', `/api/events?since=${fault.at}`)).json;
    assert.ok(since.every((e) => e.at > fault.at), 'since is exclusive');
    assert.deepEqual(since, all.filter((e) => e.at > fault.at));
    const future = (await adminApi(gw, 'GET', '/api/events?since=2999-01-01')).json;
    assert.deepEqual(future, []);
    const past = (await adminApi(gw, 'GET', '/api/events?since=2000-01-01T00:00:00Z')).json;
    assert.equal(past.length, all.length);
  });

  it('a long text from a charger is cut at a whole character', async () => {
    // techInfo may hold 255 characters: 'é' is two bytes, the row keeps 240.
    const b = clients[1];
    await b.call('SecurityEventNotification', { type: 'SettingSystemTime', timestamp: isoNow(),
      techInfo: 'é'.repeat(255) });
    const r = await adminApi(gw, 'GET', '/api/events?kind=security&limit=1');
    assert.equal(r.status, 200, r.text);
    const text = r.json[0].text;
    assert.match(text, /^SettingSystemTime: é+$/);
    assert.ok(Buffer.byteLength(text) <= 240 && Buffer.byteLength(text) >= 238, String(Buffer.byteLength(text)));
  });

  it('refuses bad parameters with 400 naming the field', async () => {
    const cases = [
      ['limit=0', 'limit'], ['limit=abc', 'limit'], ['limit=1001', 'limit'], ['limit=', 'limit'],
      ['since=yesterday', 'since'], ['since=2026-13-45', 'since'], ['since=-5', 'since'],
      ['charger=%00', 'charger'], ['charger=%FF', 'charger'], [`charger=${'x'.repeat(100)}`, 'charger'],
      ['charger=a%2Fb', 'charger'], ['kind=', 'kind'], ['kind=Fault', 'kind'],
      [`kind=${'f'.repeat(30)}`, 'kind'],
    ];
    for (const [q, field] of cases) {
      const r = await adminApi(gw, 'GET', `/api/events?${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(r.json.field, field, `${q}: ${r.text}`);
      assert.match(r.json.error, new RegExp(`^${field}`), q);
    }
    assert.equal((await adminApi(gw, 'POST', '/api/events', {})).status, 405);
  });

  it('keeps the rows over a restart on the same store', async () => {
    const before = (await adminApi(gw, 'GET', '/api/events')).json;
    clients.length = 0;
    await stopAll({ clients: [], gw });
    gw = await startGateway({ csmsUrl: csms.url, config: LB_CONFIG, dataDir });
    const afterRestart = (await adminApi(gw, 'GET', '/api/events')).json;
    assert.deepEqual(afterRestart.slice(0, before.length), before);
    // EV-201 was still connected when the gateway stopped.
    assert.deepEqual(afterRestart.slice(before.length).map(brief),
      ['EV-201 disconnect disconnected (the gateway stops)']);
  });
});

// What the event stage cannot see in frames: chargers refused at the door
// (bad password, unknown identity), recorded with the charger named and the
// reason, a flood of them capped; and each charger's CSMS connection going
// down and coming back.
describe('events: refused logins, the CSMS down and up', { timeout: 90000 }, () => {
  let csms;
  let gw;
  const clients = [];

  before(async () => {
    const pw = await runOcppgw(['passwd'], { input: 'door-pass-123\n' });
    assert.equal(pw.code, 0, pw.stderr);
    csms = await startCsms();
    csms.responders.BootNotification = () => ({ currentTime: isoNow(), interval: 300, status: 'Accepted' });
    gw = await startGateway({ csmsUrl: csms.url, config: `chargers = (
  { id = "LOCKED-1"; password_hash = "${pw.stdout.trim()}"; },
  { id = "OPEN-1"; } );
csms = { reconnect_min = 0.2; reconnect_max = 0.4; };
` });
  });

  after(async () => {
    await stopAll({ clients, gw, csms });
  });

  const kindOf = async (kind) => (await adminApi(gw, 'GET', `/api/events?kind=${kind}`)).json;

  it('records a wrong password and an unknown charger, naming them', async () => {
    await assert.rejects(connectCharger(gw, 'LOCKED-1', '1.6', { password: 'wrong-password' }));
    await assert.rejects(connectCharger(gw, 'STRANGER-9', '1.6'));
    await waitFor(async () => (await kindOf('login-refused')).length >= 2, 5000, 'two refusals recorded');
    const rows = await kindOf('login-refused');
    assert.deepEqual(rows.map((e) => `${e.charger} ${e.text}`), [
      'LOCKED-1 wrong password',
      'STRANGER-9 unknown charger (not in the charger list)',
    ]);
    // The right password is no event of this kind.
    const ok = await connectCharger(gw, 'LOCKED-1', '1.6', { password: 'door-pass-123' });
    clients.push(ok);
    await ok.call('Heartbeat', {});
    assert.equal((await kindOf('login-refused')).length, 2);
  });

  it('caps a flood of refused logins, the gateway serving on', async () => {
    const before = (await kindOf('login-refused')).length;
    for (let i = 0; i < 40; i++)
      await assert.rejects(connectCharger(gw, 'LOCKED-1', '1.6', { password: `guess-${i}` }));
    const rows = await kindOf('login-refused');
    assert.ok(rows.length - before <= 30 && rows.length - before >= 20,
      `${rows.length - before} of 40 recorded (at most 30 a minute)`);
    const hb = await clients[0].call('Heartbeat', {});
    assert.ok(hb.currentTime);
  });

  it('records the CSMS connection lost and back, per charger', async () => {
    const c = await connectCharger(gw, 'OPEN-1', '2.0.1');
    clients.push(c);
    await c.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'V', model: 'M' } });
    await waitFor(async () => (await kindOf('csms-up')).some((e) => e.charger === 'OPEN-1'), 5000, 'OPEN-1 csms-up');
    const port = csms.port;
    await csms.close();
    await waitFor(async () => (await kindOf('csms-down')).length >= 2, 10000, 'both chargers\' CSMS legs down');
    assert.deepEqual((await kindOf('csms-down')).map((e) => `${e.charger} ${e.text}`).sort(),
      ['LOCKED-1 CSMS connection lost', 'OPEN-1 CSMS connection lost']);
    // Failed reconnects are no further rows; the CSMS back is one csms-up each.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await kindOf('csms-down')).length, 2);
    csms = await startCsms({ port });
    await waitFor(async () => (await kindOf('csms-up')).filter((e) => e.charger === 'OPEN-1').length === 2,
      15000, 'OPEN-1 csms-up again');
    const open = (await adminApi(gw, 'GET', '/api/events?charger=OPEN-1')).json.map((e) => e.kind);
    assert.deepEqual(open.filter((k) => k.startsWith('csms')), ['csms-up', 'csms-down', 'csms-up']);
  });
});
