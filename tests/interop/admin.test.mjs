// SPDX-License-Identifier: MIT
//
// The admin API (docs/API.md) against the real ocppgw with strict ocpp-rpc
// chargers (1.6 and 2.0.1) and a strict CSMS: every endpoint, the commands
// as each charger receives them in its own version, the 400/404/405/503/504
// answers, a client that leaves before the charger answers, auth, and the
// metrics parsed as strict Prometheus text.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';

import {
  adminApi as api, connectCharger, rawCharger, runOcppgw, sleep, startCsms, startGateway, stopAll,
  waitFor,
} from './lib/harness.mjs';
import { parsePrometheus, sampleValue } from './lib/prometheus.mjs';

const now = () => new Date().toISOString();


// A charger that records what the gateway sends it and answers `answers`.
async function charger(gw, id, version, answers) {
  const c = await connectCharger(gw, id, version);
  c.received = [];
  for (const [method, answer] of Object.entries(answers)) {
    c.handle(method, ({ params }) => {
      c.received.push({ method, params });
      return typeof answer === 'function' ? answer(params) : answer;
    });
  }
  return c;
}

const accepted = { status: 'Accepted' };
const answers16 = {
  ReserveNow: accepted, CancelReservation: accepted, RemoteStartTransaction: accepted,
  RemoteStopTransaction: accepted, Reset: accepted, UnlockConnector: { status: 'Unlocked' },
  ChangeAvailability: accepted, TriggerMessage: accepted,
};
const answers201 = {
  ReserveNow: accepted, CancelReservation: accepted, RequestStartTransaction: accepted,
  RequestStopTransaction: accepted, Reset: accepted, UnlockConnector: { status: 'Unlocked' },
  ChangeAvailability: accepted, TriggerMessage: accepted,
};

describe('admin API', { timeout: 90000 }, () => {
  let csms;
  let gw;
  let c16;
  let c201;
  let slow;

  before(async () => {
    csms = await startCsms();
    csms.responders.BootNotification = (p) => ({ currentTime: now(), interval: 300, status: 'Accepted' });
    csms.responders.StartTransaction = () => ({ transactionId: 77, idTagInfo: { status: 'Accepted' } });
    gw = await startGateway({
      csmsUrl: csms.url,
      args: ['--response-timeout', '2'],
      config: 'chargers = ( { id = "ADM16"; }, { id = "ADM201"; }, { id = "SLOW"; }, { id = "AWAY"; }, { id = "RAW"; } );\n',
    });
    c16 = await charger(gw, 'ADM16', '1.6', answers16);
    c201 = await charger(gw, 'ADM201', '2.0.1', answers201);
    slow = await connectCharger(gw, 'SLOW', '1.6');
    slow.handle('Reset', () => new Promise(() => {}));  // never answers
    await csms.waitClient('ADM16');
    await csms.waitClient('ADM201');

    await c16.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'W16',
      chargePointSerialNumber: 'SN16', firmwareVersion: '1.0' });
    await c16.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await c16.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Available' });
    await c16.call('StartTransaction', { connectorId: 2, idTag: 'TAG2', meterStart: 1000, timestamp: now() });
    await c16.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Charging' });
    await c16.call('MeterValues', { connectorId: 2, transactionId: 77, meterValue: [{ timestamp: now(),
      sampledValue: [
        { value: '2.5', unit: 'kWh' },
        { value: '11000', measurand: 'Power.Active.Import', unit: 'W' },
        { value: '16', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
        { value: '16', measurand: 'Current.Import', phase: 'L2', unit: 'A' },
        { value: '15', measurand: 'Current.Import', phase: 'L3', unit: 'A' },
      ] }] });

    await c201.call('BootNotification', { reason: 'PowerUp',
      chargingStation: { vendorName: 'Volt', model: 'W201', serialNumber: 'SN201', firmwareVersion: '2.0' } });
    await c201.call('StatusNotification', { timestamp: now(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    await c201.call('TransactionEvent', { eventType: 'Started', timestamp: now(), triggerReason: 'Authorized',
      seqNo: 0, transactionInfo: { transactionId: 'TX-201' }, idToken: { idToken: 'TOK', type: 'ISO14443' },
      evse: { id: 2, connectorId: 1 },
      meterValue: [{ timestamp: now(), sampledValue: [
        { value: 7, measurand: 'Current.Import' },
        { value: 1.2, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh' } }] }] });
  });

  after(async () => {
    await stopAll({ clients: [c16, c201, slow], gw, csms });
  });

  it('GET /api/chargers lists each charger with versions, boot info, EVSEs and figures', async () => {
    const { status, json } = await api(gw, 'GET', '/api/chargers');
    assert.equal(status, 200);
    const byId = Object.fromEntries(json.map((c) => [c.id, c]));
    assert.deepEqual(Object.keys(byId).sort(), ['ADM16', 'ADM201', 'AWAY', 'RAW', 'SLOW']);
    const a = byId.ADM16;
    assert.equal(a.connected, true);
    assert.equal(a.ocpp, '1.6');
    assert.equal(a.upstreamOcpp, '1.6');
    assert.equal(a.north, 'up');
    assert.match(a.connectedSince, /^\d{4}-\d\d-\d\dT/);
    assert.match(a.lastSeen, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual({ ...a.boot, at: undefined },
      { vendor: 'ACME', model: 'W16', serial: 'SN16', firmware: '1.0', at: undefined });
    const e2 = a.evses.find((e) => e.id === 2);
    assert.equal(e2.status, 'Charging');
    assert.equal(e2.transaction.id, '77');
    assert.equal(e2.transaction.idTag, 'TAG2');
    assert.equal(e2.energyWh, 2500);
    assert.equal(e2.powerW, 11000);
    assert.deepEqual(e2.currentA, [16, 16, 15]);
    assert.equal(e2.phasesUsed, 3);
    assert.deepEqual(a.currentA, [16, 16, 15]);
    const b = byId.ADM201;
    assert.equal(b.ocpp, '2.0.1');
    assert.equal(b.boot.vendor, 'Volt');
    const t = b.evses.find((e) => e.id === 2);
    assert.equal(t.transaction.id, 'TX-201');
    assert.equal(t.energyWh, 1200);
    assert.deepEqual(t.currentA, [7, 0, 0]);
    assert.equal(byId.AWAY.connected, false);
  });

  it('GET /api/chargers/{id}: 200, a configured absent one, 404 for an unknown one', async () => {
    const one = await api(gw, 'GET', '/api/chargers/ADM201');
    assert.equal(one.status, 200);
    assert.equal(one.json.id, 'ADM201');
    const away = await api(gw, 'GET', '/api/chargers/AWAY');
    assert.equal(away.status, 200);
    assert.equal(away.json.connected, false);
    const none = await api(gw, 'GET', '/api/chargers/NOPE');
    assert.equal(none.status, 404);
    assert.match(none.json.error, /unknown charger NOPE/);
  });

  it('GET /api/site: chargers, uplink, queue and phase load', async () => {
    const { status, json } = await api(gw, 'GET', '/api/site');
    assert.equal(status, 200);
    assert.equal(json.chargers.connected, 3);
    assert.equal(json.chargers.byOcpp['1.6'], 2);
    assert.equal(json.chargers.byOcpp['2.0.1'], 1);
    assert.equal(json.uplink.state, 'up');
    assert.equal(json.uplink.legsUp, 3);
    assert.equal(json.queue.depth, 0);
    assert.equal(json.queue.deadLetters, 0);
    assert.deepEqual(json.phases.measuredA, [23, 16, 15]);
    // No load_balancing section: said so, not left out.
    assert.deepEqual(json.balancing, { enabled: false, dynamicLimitA: null });
    assert.deepEqual(json.limits, { enabled: false, phaseA: null });
  });

  it('POST reserve sends ReserveNow in 1.6 and returns the answer', async () => {
    const r = await api(gw, 'POST', '/api/chargers/ADM16/reserve',
      { evse: 1, idTag: 'RES1', expiry: '2030-01-01T00:00:00Z', reservationId: 5 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.response, { status: 'Accepted' });
    assert.equal(r.json.reservationId, 5);
    const got = c16.received.find((x) => x.method === 'ReserveNow');
    assert.deepEqual(got.params, { connectorId: 1, expiryDate: '2030-01-01T00:00:00Z', idTag: 'RES1',
      reservationId: 5 });
  });

  it('POST reserve sends ReserveNow in 2.0.1, picking the available EVSE', async () => {
    const r = await api(gw, 'POST', '/api/chargers/ADM201/reserve', { idTag: 'RES2', expiresIn: 600 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.evse, 1);
    const got = c201.received.find((x) => x.method === 'ReserveNow').params;
    assert.equal(got.evseId, 1);
    assert.equal(got.id, r.json.reservationId);
    assert.deepEqual(got.idToken, { idToken: 'RES2', type: 'Central' });
    const ms = Date.parse(got.expiryDateTime) - Date.now();
    assert.ok(ms > 500000 && ms < 700000, `expiry ${got.expiryDateTime}`);
  });

  it('reserve: 503 when no EVSE is available or the charger is absent, 400 for a bad EVSE', async () => {
    const busy = await api(gw, 'POST', '/api/chargers/ADM16/reserve', { evse: 2, idTag: 'X' });
    assert.equal(busy.status, 503);
    assert.match(busy.json.error, /not available \(Charging\)/);
    const noStatus = await api(gw, 'POST', '/api/chargers/SLOW/reserve', { idTag: 'X' });
    assert.equal(noStatus.status, 503);
    assert.match(noStatus.json.error, /no EVSE of SLOW is available/);
    const away = await api(gw, 'POST', '/api/chargers/AWAY/reserve', { idTag: 'X' });
    assert.equal(away.status, 503);
    assert.match(away.json.error, /not connected/);
    const bad = await api(gw, 'POST', '/api/chargers/ADM16/reserve', { evse: 9, idTag: 'X' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'evse');
    const unknown = await api(gw, 'POST', '/api/chargers/NOPE/reserve', { idTag: 'X' });
    assert.equal(unknown.status, 404);
  });

  it('400 names the field at fault', async () => {
    const cases = [
      ['/api/chargers/ADM16/reserve', { evse: 1 }, 'idTag'],
      ['/api/chargers/ADM16/reserve', { idTag: 'X'.repeat(21) }, 'idTag'],
      ['/api/chargers/ADM16/reserve', { idTag: 'X', expiry: 'tomorrow' }, 'expiry'],
      ['/api/chargers/ADM16/reserve', '{"idTag": ', 'body'],
      ['/api/chargers/ADM16/reserve', '[1]', 'body'],
      ['/api/chargers/ADM16/reset', { type: 'Gentle' }, 'type'],
      ['/api/chargers/ADM16/unlock', {}, 'evse'],
      ['/api/chargers/ADM16/availability', { operative: 'yes' }, 'operative'],
      ['/api/chargers/ADM16/trigger', { message: 'Coffee' }, 'message'],
      ['/api/chargers/ADM201/trigger', { message: 'DiagnosticsStatusNotification' }, 'message'],
      ['/api/chargers/ADM201/stop', { transactionId: {} }, 'transactionId'],
    ];
    for (const [path, body, field] of cases) {
      const r = await api(gw, 'POST', path, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.json.field, field, `${path} ${JSON.stringify(body)}: ${r.text}`);
    }
    assert.equal(c16.received.filter((x) => x.method === 'TriggerMessage').length, 0);
  });

  it('DELETE a reservation sends CancelReservation', async () => {
    const r = await api(gw, 'DELETE', '/api/chargers/ADM16/reservations/5');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(c16.received.find((x) => x.method === 'CancelReservation').params, { reservationId: 5 });
    const r2 = await api(gw, 'DELETE', '/api/chargers/ADM201/reservations/9');
    assert.equal(r2.status, 200, r2.text);
    assert.deepEqual(c201.received.find((x) => x.method === 'CancelReservation').params, { reservationId: 9 });
  });

  const commands = [
    ['start', { evse: 1, idTag: 'GO' },
      ['RemoteStartTransaction', { idTag: 'GO', connectorId: 1 }],
      ['RequestStartTransaction', (p) => p.evseId === 1 && p.idToken.idToken === 'GO' &&
        Number.isInteger(p.remoteStartId)]],
    ['stop', { evse: 2 },
      ['RemoteStopTransaction', { transactionId: 77 }],
      ['RequestStopTransaction', { transactionId: 'TX-201' }]],
    ['reset', { type: 'Hard' }, ['Reset', { type: 'Hard' }], ['Reset', { type: 'Immediate' }]],
    ['unlock', { evse: 1 }, ['UnlockConnector', { connectorId: 1 }],
      ['UnlockConnector', { evseId: 1, connectorId: 1 }]],
    ['availability', { evse: 1, operative: false },
      ['ChangeAvailability', { connectorId: 1, type: 'Inoperative' }],
      ['ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 1 } }]],
    ['trigger', { message: 'StatusNotification', evse: 1 },
      ['TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 }],
      ['TriggerMessage', { requestedMessage: 'StatusNotification', evse: { id: 1 } }]],
  ];
  for (const [verb, body, want16, want201] of commands) {
    it(`POST ${verb} goes out in each charger's own version`, async () => {
      for (const [id, c, [action, want]] of [['ADM16', c16, want16], ['ADM201', c201, want201]]) {
        const r = await api(gw, 'POST', `/api/chargers/${id}/${verb}`, body);
        assert.equal(r.status, 200, `${id} ${verb}: ${r.text}`);
        assert.equal(r.json.action, action);
        const got = c.received.filter((x) => x.method === action).at(-1);
        assert.ok(got, `${id} received no ${action}`);
        if (typeof want === 'function') assert.ok(want(got.params), JSON.stringify(got.params));
        else assert.deepEqual(got.params, want);
        assert.deepEqual(r.json.response, answers16[action] ?? answers201[action]);
      }
    });
  }

  it('a CALLERROR from the charger is a 502', async () => {
    // SLOW has no handler for UnlockConnector: ocpp-rpc answers NotImplemented.
    const r = await api(gw, 'POST', '/api/chargers/SLOW/unlock', { evse: 1 });
    assert.equal(r.status, 502, r.text);
  });

  it('504 when the charger does not answer in time', async () => {
    const t0 = Date.now();
    const r = await api(gw, 'POST', '/api/chargers/SLOW/reset', {});
    assert.equal(r.status, 504, r.text);
    assert.match(r.json.error, /did not answer Reset/);
    assert.ok(Date.now() - t0 >= 1500, 'answered before the response timeout');
  });

  it('a client that leaves before the answer does not upset the gateway', async () => {
    const url = new URL(gw.adminUrl + '/api/chargers/SLOW/reset');
    await new Promise((resolve) => {
      const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } });
      req.on('error', () => resolve());
      req.end('{}');
      setTimeout(() => { req.destroy(); resolve(); }, 200);
    });
    await sleep(2500);  // past the response timeout: the answer finds no client
    const r = await api(gw, 'GET', '/api/site');
    assert.equal(r.status, 200);
    assert.equal(gw.proc.exitCode, null);
  });

  it('a body over 64 KiB is refused with 413, and the connection still serves', async () => {
    const r = await api(gw, 'POST', '/api/chargers/ADM16/reserve', JSON.stringify({ idTag: 'X', pad: 'x'.repeat(70000) }));
    assert.equal(r.status, 413);
    assert.equal(r.json.field, 'body');
    assert.equal((await api(gw, 'GET', '/api/site')).status, 200);
  });

  it('unknown paths are 404 and wrong methods 405; the site limit is 503 without balancing', async () => {
    for (const [method, body] of [['PUT', { amps: 10 }], ['DELETE', undefined], ['GET', undefined]]) {
      const r = await api(gw, method, '/api/site/limit', body);
      assert.equal(r.status, 503, `${method} ${r.text}`);
      assert.match(r.json.error, /load balancing is not configured/);
    }
    assert.equal((await api(gw, 'POST', '/api/site/limit', {})).status, 405);
    assert.equal((await api(gw, 'GET', '/api/nothing')).status, 404);
    assert.equal((await api(gw, 'DELETE', '/api/chargers')).status, 405);
    assert.equal((await api(gw, 'GET', '/api/chargers/ADM16/reset')).status, 405);
  });

  it('GET / serves the status page', async () => {
    const r = await api(gw, 'GET', '/');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/html/);
    assert.match(r.text, /<title>ocppgw status<\/title>/);
    assert.doesNotMatch(r.text, /<(script|link)[^>]+(src|href)=/, 'no external assets');
  });

  it('GET /metrics parses as strict Prometheus text with the expected series', async () => {
    // One invalid CALL from a raw charger, for the validation counter.
    const raw = await rawCharger(gw, 'RAW', '1.6');
    raw.send([2, 'bad-1', 'Heartbeat', { unexpected: true }]);
    assert.equal((await raw.next())[0], 4);
    await raw.close();
    const r = await api(gw, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const m = parsePrometheus(r.text);
    assert.equal(sampleValue(m, 'ocppgw_chargers_connected', { ocpp: '1.6' }), 2);
    assert.equal(sampleValue(m, 'ocppgw_chargers_connected', { ocpp: '2.0.1' }), 1);
    assert.equal(sampleValue(m, 'ocppgw_frames_total',
      { leg: 'south', direction: 'in', type: 'CALL', action: 'BootNotification' }), 2);
    assert.equal(sampleValue(m, 'ocppgw_frames_total',
      { leg: 'north', direction: 'out', type: 'CALL', action: 'BootNotification' }), 2);
    assert.ok(sampleValue(m, 'ocppgw_frames_total',
      { leg: 'south', direction: 'out', type: 'CALL', action: 'ReserveNow' }) >= 2);
    assert.ok(sampleValue(m, 'ocppgw_callerrors_total',
      { leg: 'south', direction: 'in', code: 'NotImplemented' }) >= 1);
    assert.equal(sampleValue(m, 'ocppgw_validation_failures_total', { leg: 'south', direction: 'in' }), 1,
      'the invalid Heartbeat was counted');
    assert.ok(sampleValue(m, 'ocppgw_call_latency_seconds_count', { leg: 'north' }) >= 9);
    assert.ok(sampleValue(m, 'ocppgw_call_latency_seconds_count', { leg: 'south' }) >= 10);
    assert.equal(sampleValue(m, 'ocppgw_uplink_up'), 1);
    assert.equal(sampleValue(m, 'ocppgw_queue_depth'), 0);
    assert.equal(sampleValue(m, 'ocppgw_measured_current_amperes', { phase: 'L1' }), 23);
    assert.equal(m.get('ocppgw_allocated_current_amperes').type, 'gauge');
    assert.equal(sampleValue(m, 'ocppgw_allocated_current_amperes', { phase: 'L3' }), 0);
    // No balancing: the site limit's family is there, without samples.
    assert.equal(sampleValue(m, 'ocppgw_balancing_enabled'), 0);
    assert.equal(sampleValue(m, 'ocppgw_site_dynamic_limit_active'), 0);
    assert.equal(m.get('ocppgw_site_limit_amperes').type, 'gauge');
    assert.equal(m.get('ocppgw_site_limit_amperes').samples.length, 0);
    assert.equal(m.get('ocppgw_call_latency_seconds').type, 'histogram');
  });

  it('the strict parser itself rejects broken text', () => {
    assert.throws(() => parsePrometheus('a 1\n# TYPE a counter\n'), /TYPE after samples/);
    assert.throws(() => parsePrometheus('a{x="\\q"} 1\n'), /bad escape/);
    assert.throws(() => parsePrometheus('a 1\nb 1\na{y="1"} 2\n'), /split/);
    assert.throws(() => parsePrometheus('a one\n'), /bad value/);
  });
});

describe('admin API auth', { timeout: 30000 }, () => {
  it('refuses a non-loopback admin address without credentials', async () => {
    const res = await runOcppgw(['--csms', 'ws://127.0.0.1:1/ocpp', '--admin', '0.0.0.0:8080',
      '--check-config']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /admin\.listen: 0\.0\.0\.0 is not a loopback address/);
  });

  it('a Bearer token or Basic user/password is required once configured', async () => {
    const pw = await runOcppgw(['passwd'], { input: 's3cret\n' });
    const hash = pw.stdout.trim();
    const csms = await startCsms();
    const gw = await startGateway({
      csmsUrl: csms.url,
      config: `admin = { token = "tok-123"; user = "ops"; password_hash = "${hash}"; };\n`,
    });
    try {
      const none = await api(gw, 'GET', '/api/site');
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') || '', /Basic/);
      assert.equal((await api(gw, 'GET', '/api/site', undefined, { authorization: 'Bearer nope' })).status, 401);
      assert.equal((await api(gw, 'GET', '/api/site', undefined, { authorization: 'Bearer tok-123' })).status, 200);
      const basic = (u, p) => ({ authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });
      assert.equal((await api(gw, 'GET', '/metrics', undefined, basic('ops', 's3cret'))).status, 200);
      assert.equal((await api(gw, 'GET', '/metrics', undefined, basic('ops', 'wrong'))).status, 401);
      const withBody = await api(gw, 'POST', '/api/chargers/X/reset', { type: 'Hard' });
      assert.equal(withBody.status, 401, 'a body does not get past auth');
      // Nothing but the page's shell answers without credentials: not the
      // new endpoints, not a bad charger id, not an unknown path.
      for (const [method, p] of [['GET', '/api/events'], ['GET', '/api/sessions?format=csv'],
        ['GET', '/api/events?limit=0'], ['GET', '/api/chargers'], ['GET', '/api/chargers/a%20b'],
        ['PUT', '/api/site/limit'], ['GET', '/nothing'], ['DELETE', '/'], ['GET', '/metrics']]) {
        const r = await api(gw, method, p);
        assert.equal(r.status, 401, `${method} ${p}: ${r.text}`);
        assert.deepEqual(r.json, { error: 'authentication required' }, `${method} ${p}`);
      }
      const page = await api(gw, 'GET', '/');
      assert.equal(page.status, 200, 'the page asks for credentials itself');
      assert.match(page.headers.get('content-type'), /^text\/html/);
      assert.match(page.text, /id="login"/);
      // A script's request (the page's) gets no challenge: no browser prompt.
      const quiet = await api(gw, 'GET', '/api/site', undefined, { 'x-requested-with': 'ocppgw-page' });
      assert.equal(quiet.status, 401);
      assert.equal(quiet.headers.get('www-authenticate'), null);
    } finally {
      await stopAll({ gw, csms });
    }
  });
});
