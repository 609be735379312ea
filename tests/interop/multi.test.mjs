// SPDX-License-Identifier: MIT
//
// One charger shown to two CSMSs at once (docs/MULTI_CSMS.md, issue 15):
// a 1.6 charger to a 1.6 primary and a 2.0.1 secondary, and a 2.0.1
// charger to a 2.0.1 primary and a 1.6 secondary, all strict peers. Both
// CSMSs must conclude the same about a whole session (boot, statuses, the
// token, the transaction's boundaries and energy); the charger gets the
// primary's answers only; a secondary's Reset is refused without reaching
// the charger and its read-only calls are answered by the charger; a
// secondary down delays nothing on the primary's side.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  adminApi, connectCharger, isoNow, sleep, startCsms, startGateway, stopAll, subprotocol, waitFor,
} from './lib/harness.mjs';
import { assertClean, callErrors, watchStrict } from './lib/translate-peers.mjs';

const TOKEN = '04A2B3C4D5E6F7';

// A gateway showing charger `identity` (`chargerVersion`) to a primary of
// `primaryVersion` and a secondary "energy" of `secondaryVersion`.
async function startMulti({ identity, chargerVersion, primaryVersion, secondaryVersion,
  secondaryExtra = '', csmsExtra = '' }) {
  const problems = [];
  const primary = await startCsms({ protocols: [subprotocol(primaryVersion)] });
  const secondary = await startCsms({ protocols: [subprotocol(secondaryVersion)] });
  primary.server.on('client', (c) => watchStrict(problems, 'primary', c));
  secondary.server.on('client', (c) => watchStrict(problems, 'secondary', c));
  const gw = await startGateway({
    args: ['--upstream-ocpp', primaryVersion],
    config: `csms = {\n  url = "${primary.url}";\n${csmsExtra}  secondaries = ( {\n` +
      `    name = "energy";\n    url = "${secondary.url}";\n` +
      `    upstream_ocpp = "${secondaryVersion}";\n${secondaryExtra}  } );\n};\n`,
  });
  const charger = await connectCharger(gw, identity, chargerVersion);
  watchStrict(problems, 'charger', charger);
  const up1 = await primary.waitClient(identity);
  const up2 = await secondary.waitClient(identity);
  return { problems, primary, secondary, gw, charger, up1, up2 };
}

const callsOf = (csms, identity, method) => csms.callsOf(identity)
  .filter((c) => c.method === method).map((c) => c.params);

describe('a 1.6 charger shown to a 1.6 primary and a 2.0.1 secondary', { timeout: 90000 }, () => {
  const identity = 'MULTI-16';
  let m;
  let txId;

  before(async () => {
    m = await startMulti({ identity, chargerVersion: '1.6', primaryVersion: '1.6',
      secondaryVersion: '2.0.1' });
    // The two CSMSs answer differently: the charger must get the primary's.
    m.primary.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    m.secondary.responders.BootNotification = { currentTime: isoNow(), interval: 900,
      status: 'Rejected' };
    m.primary.responders.Authorize = { idTagInfo: { status: 'Accepted' } };
    m.secondary.responders.Authorize = { idTokenInfo: { status: 'Blocked' } };
    m.primary.responders.StartTransaction = { transactionId: 777, idTagInfo: { status: 'Accepted' } };
    m.primary.responders.StopTransaction = { idTagInfo: { status: 'Accepted' } };
    // a slow secondary: the charger goes on before it answers the start
    m.secondary.responders.TransactionEvent = async (p) => {
      if (p.eventType === 'Started') await sleep(500);
      return p.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {};
    };
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.primary });
    await m?.secondary.close();
  });

  it('a whole session: the charger gets the primary\'s answers', async () => {
    const boot = await m.charger.call('BootNotification', { chargePointVendor: 'Acme',
      chargePointModel: 'M1' });
    assert.equal(boot.status, 'Accepted');
    assert.equal(boot.interval, 300);
    await m.charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
      status: 'Available' });
    const auth = await m.charger.call('Authorize', { idTag: TOKEN });
    assert.equal(auth.idTagInfo.status, 'Accepted', 'the primary accepted; the secondary\'s Blocked is not forwarded');
    await m.charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
      status: 'Preparing' });
    const start = await m.charger.call('StartTransaction', { connectorId: 1, idTag: TOKEN,
      meterStart: 1000, timestamp: isoNow() });
    txId = start.transactionId;
    assert.equal(txId, 777, 'the primary\'s transaction id');
    await m.charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
      status: 'Charging' });
    // at once: the secondary may not have answered the start yet; the
    // gateway holds the transaction's messages for it until it has
    await m.charger.call('MeterValues', { connectorId: 1, transactionId: txId, meterValue: [{
      timestamp: isoNow(), sampledValue: [{ value: '1500', unit: 'Wh',
        measurand: 'Energy.Active.Import.Register', context: 'Sample.Periodic' }] }] });
    const stop = await m.charger.call('StopTransaction', { transactionId: txId, meterStop: 2500,
      timestamp: isoNow(), reason: 'Local', idTag: TOKEN });
    assert.equal(stop.idTagInfo.status, 'Accepted');
    await m.charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
      status: 'Available' });
  });

  it('the 1.6 primary concluded: boot, token, transaction 777 from 1000 to 2500 Wh', () => {
    assert.equal(callsOf(m.primary, identity, 'BootNotification')[0].chargePointModel, 'M1');
    assert.deepEqual(callsOf(m.primary, identity, 'Authorize'), [{ idTag: TOKEN }]);
    const [start] = callsOf(m.primary, identity, 'StartTransaction');
    assert.equal(start.idTag, TOKEN);
    assert.equal(start.meterStart, 1000);
    const [mv] = callsOf(m.primary, identity, 'MeterValues');
    assert.equal(mv.transactionId, 777);
    assert.equal(mv.meterValue[0].sampledValue[0].value, '1500');
    const [stop] = callsOf(m.primary, identity, 'StopTransaction');
    assert.equal(stop.transactionId, 777);
    assert.equal(stop.meterStop, 2500);
    assert.deepEqual(callsOf(m.primary, identity, 'StatusNotification').map((s) => s.status),
      ['Available', 'Preparing', 'Charging', 'Available']);
  });

  it('the 2.0.1 secondary concluded the same: one transaction, same token and energy', async () => {
    const [boot] = callsOf(m.secondary, identity, 'BootNotification');
    assert.equal(boot.chargingStation.model, 'M1');
    assert.deepEqual(callsOf(m.secondary, identity, 'Authorize')[0].idToken.idToken, TOKEN);
    const events = await waitFor(() => {
      const e = callsOf(m.secondary, identity, 'TransactionEvent');
      return e.some((x) => x.eventType === 'Ended') ? e : null;
    }, 5000, 'Ended at the secondary');
    assert.equal(events.filter((e) => e.eventType === 'Started').length, 1);
    assert.equal(events.filter((e) => e.eventType === 'Ended').length, 1);
    const started = events.find((e) => e.eventType === 'Started');
    const ended = events.find((e) => e.eventType === 'Ended');
    const id = started.transactionInfo.transactionId;
    assert.ok(events.every((e) => e.transactionInfo.transactionId === id),
      'every event names the same transaction');
    assert.equal(started.idToken.idToken, TOKEN);
    assert.equal(started.meterValue[0].sampledValue[0].value, 1000);
    assert.equal(started.meterValue[0].sampledValue[0].context, 'Transaction.Begin');
    const periodic = events.filter((e) => e.eventType === 'Updated' && e.meterValue)
      .flatMap((e) => e.meterValue.flatMap((v) => v.sampledValue));
    assert.ok(periodic.some((v) => v.value === 1500), 'the periodic reading');
    const end = ended.meterValue.at(-1).sampledValue[0];
    assert.equal(end.value, 2500);
    assert.equal(end.context, 'Transaction.End');
    assert.equal(ended.transactionInfo.stoppedReason, 'Local');
    const statuses = await waitFor(() => {
      const all = callsOf(m.secondary, identity, 'StatusNotification').map((s) => s.connectorStatus);
      return all.length === 4 ? all : null;
    }, 5000, 'the four statuses at the secondary');
    assert.equal(statuses[0], 'Available');
    assert.equal(statuses.at(-1), 'Available');
    assert.ok(statuses.includes('Occupied'), 'Occupied while charging');
  });

  it('/api shows the secondary\'s leg and its recorded answers', async () => {
    const { status, json } = await adminApi(m.gw, 'GET', `/api/chargers/${identity}`);
    assert.equal(status, 200);
    assert.equal(json.upstreamOcpp, '1.6');
    assert.equal(json.secondaries.length, 1);
    const [sec] = json.secondaries;
    assert.equal(sec.name, 'energy');
    assert.equal(sec.upstreamOcpp, '2.0.1');
    assert.equal(sec.north, 'up');
    assert.equal(sec.queued, 0);
    // the session's 9 CALLs: boot, 4 statuses, authorize, start, meter
    // values, stop; each answered by the secondary too
    assert.equal(sec.answered, 9);
    assert.equal(sec.errors, 0);
  });

  it('the secondary\'s Reset is refused; the charger never sees it', async () => {
    let reached = false;
    m.charger.handle('Reset', () => { reached = true; return { status: 'Accepted' }; });
    await assert.rejects(m.up2.call('Reset', { type: 'Immediate' }),
      (err) => err.rpcErrorCode === 'SecurityError');
    assert.equal(reached, false);
  });

  it('the secondary\'s GetVariables is answered by the charger', async () => {
    m.charger.handle('GetConfiguration', ({ params }) => ({
      configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
      unknownKey: (params.key ?? []).filter((k) => k !== 'HeartbeatInterval'),
    }));
    const res = await m.up2.call('GetVariables', { getVariableData: [{
      component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] });
    assert.equal(res.getVariableResult[0].attributeStatus, 'Accepted');
    assert.equal(res.getVariableResult[0].attributeValue, '300');
  });

  it('the primary\'s Reset still reaches the charger', async () => {
    let reached = false;
    m.charger.handle('Reset', () => { reached = true; return { status: 'Accepted' }; });
    const res = await m.up1.call('Reset', { type: 'Soft' });
    assert.equal(res.status, 'Accepted');
    assert.equal(reached, true);
  });

  it('the secondary down: the charger\'s calls are answered by the primary at once', async () => {
    await m.secondary.close();
    const t0 = Date.now();
    const hb = await m.charger.call('Heartbeat', {});
    assert.ok(hb.currentTime);
    await m.charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
      status: 'Available' });
    assert.ok(Date.now() - t0 < 3000, `answered in ${Date.now() - t0} ms`);
    assert.equal(callsOf(m.primary, identity, 'Heartbeat').length, 1);
  });

  it('no strict-mode rejection; no CALLERROR but the refused Reset', () => {
    assertClean(m.problems, [['charger', m.charger], ['primary', m.up1]]);
    const errs = callErrors('secondary', m.up2).map(([, f]) => f.message[2]);
    assert.deepEqual(errs, ['SecurityError']);
  });
});

describe('a 2.0.1 charger shown to a 2.0.1 primary and a 1.6 secondary', { timeout: 90000 }, () => {
  const identity = 'MULTI-201';
  const TX = 'b3f1c1d0-4a9e-4c4e-9d7b-0c1a2b3c4d5e';
  let m;

  before(async () => {
    m = await startMulti({ identity, chargerVersion: '2.0.1', primaryVersion: '2.0.1',
      secondaryVersion: '1.6', secondaryExtra: '    refusal = "reject";\n' });
    m.primary.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    m.secondary.responders.BootNotification = { currentTime: isoNow(), interval: 900, status: 'Pending' };
    m.primary.responders.Authorize = { idTokenInfo: { status: 'Accepted' } };
    m.secondary.responders.Authorize = { idTagInfo: { status: 'Invalid' } };
    m.primary.responders.TransactionEvent = (p) =>
      (p.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {});
    // a slow secondary: the charger goes on before it answers the start
    m.secondary.responders.StartTransaction = async () => {
      await sleep(500);
      return { transactionId: 4242, idTagInfo: { status: 'Accepted' } };
    };
    m.secondary.responders.StopTransaction = {};
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.primary });
    await m?.secondary.close();
  });

  const ev = (eventType, seqNo, extra) => ({ eventType, timestamp: isoNow(), seqNo,
    triggerReason: eventType === 'Started' ? 'Authorized' : eventType === 'Ended' ? 'StopAuthorized'
      : 'MeterValuePeriodic',
    transactionInfo: { transactionId: TX, ...(eventType === 'Ended' ? { stoppedReason: 'Local' } : {}) },
    evse: { id: 1, connectorId: 1 }, ...extra });
  const reading = (value, context) => [{ timestamp: isoNow(), sampledValue: [{ value, context,
    measurand: 'Energy.Active.Import.Register' }] }];

  it('a whole session: the charger gets the primary\'s answers', async () => {
    const boot = await m.charger.call('BootNotification', { reason: 'PowerUp',
      chargingStation: { vendorName: 'Acme', model: 'M2' } });
    assert.equal(boot.status, 'Accepted');
    assert.equal(boot.interval, 300);
    await m.charger.call('StatusNotification', { timestamp: isoNow(), connectorStatus: 'Available',
      evseId: 1, connectorId: 1 });
    const auth = await m.charger.call('Authorize', { idToken: { idToken: TOKEN, type: 'ISO14443' } });
    assert.equal(auth.idTokenInfo.status, 'Accepted');
    await m.charger.call('StatusNotification', { timestamp: isoNow(), connectorStatus: 'Occupied',
      evseId: 1, connectorId: 1 });
    const started = await m.charger.call('TransactionEvent', ev('Started', 0, {
      idToken: { idToken: TOKEN, type: 'ISO14443' }, meterValue: reading(1000, 'Transaction.Begin') }));
    assert.equal(started.idTokenInfo.status, 'Accepted');
    await m.charger.call('TransactionEvent', ev('Updated', 1, {
      meterValue: reading(1500, 'Sample.Periodic') }));
    await m.charger.call('TransactionEvent', ev('Ended', 2, {
      idToken: { idToken: TOKEN, type: 'ISO14443' }, meterValue: reading(2500, 'Transaction.End') }));
    await m.charger.call('StatusNotification', { timestamp: isoNow(), connectorStatus: 'Available',
      evseId: 1, connectorId: 1 });
  });

  it('the 2.0.1 primary concluded: the transaction from 1000 to 2500 Wh with the token', () => {
    const events = callsOf(m.primary, identity, 'TransactionEvent');
    assert.deepEqual(events.map((e) => e.eventType), ['Started', 'Updated', 'Ended']);
    assert.ok(events.every((e) => e.transactionInfo.transactionId === TX));
    assert.equal(events[0].idToken.idToken, TOKEN);
    assert.equal(events[2].meterValue[0].sampledValue[0].value, 2500);
  });

  it('the 1.6 secondary concluded the same: its own transaction 4242, token, energy', async () => {
    assert.equal(callsOf(m.secondary, identity, 'BootNotification')[0].chargePointModel, 'M2');
    assert.deepEqual(callsOf(m.secondary, identity, 'Authorize'), [{ idTag: TOKEN }]);
    const starts = callsOf(m.secondary, identity, 'StartTransaction');
    assert.equal(starts.length, 1, 'one transaction, started once');
    const [start] = starts;
    assert.equal(start.idTag, TOKEN);
    assert.equal(start.meterStart, 1000);
    assert.equal(start.connectorId, 1);
    const stop = await waitFor(() => callsOf(m.secondary, identity, 'StopTransaction')[0], 5000,
      'StopTransaction at the secondary');
    assert.equal(stop.transactionId, 4242, 'its own id, not the charger\'s');
    assert.equal(stop.meterStop, 2500);
    assert.equal(stop.idTag, TOKEN);
    const mv = callsOf(m.secondary, identity, 'MeterValues');
    assert.ok(mv.some((x) => x.transactionId === 4242 &&
      x.meterValue.some((v) => v.sampledValue.some((s) => Number(s.value) === 1500))),
    'the periodic reading under its transaction');
    // the translation adds 1.6's own (Preparing, Charging, Finishing) from
    // the transaction's events: the charger's last, Available, ends them
    const statuses = await waitFor(() => {
      const all = callsOf(m.secondary, identity, 'StatusNotification').map((s) => s.status);
      return all.at(-1) === 'Available' && all.length > 1 ? all : null;
    }, 5000, 'the final Available at the secondary');
    assert.equal(statuses[0], 'Available');
    assert.equal(statuses.at(-1), 'Available');
  });

  it('the secondary\'s Reset gets the refusal it configured; the charger never sees it', async () => {
    let reached = false;
    m.charger.handle('Reset', () => { reached = true; return { status: 'Accepted' }; });
    const res = await m.up2.call('Reset', { type: 'Hard' });
    assert.equal(res.status, 'Rejected');
    assert.equal(reached, false);
  });

  it('the secondary\'s GetConfiguration is answered by the charger', async () => {
    m.charger.handle('GetVariables', ({ params }) => ({
      getVariableResult: params.getVariableData.map((d) => ({ attributeStatus: 'Accepted',
        attributeValue: '300', component: d.component, variable: d.variable })),
    }));
    const res = await m.up2.call('GetConfiguration', { key: ['HeartbeatInterval'] });
    assert.deepEqual(res.configurationKey.find((k) => k.key === 'HeartbeatInterval')?.value, '300');
  });

  it('no strict-mode rejection and no CALLERROR on any leg', () => {
    assertClean(m.problems, [['charger', m.charger], ['primary', m.up1], ['secondary', m.up2]]);
  });
});

describe('one CSMS down for a stretch, the other keeps working, then its queue', { timeout: 90000 }, () => {
  const identity = 'MULTI-OUTAGE';
  let m;
  let secondary2;

  before(async () => {
    m = await startMulti({ identity, chargerVersion: '1.6', primaryVersion: '1.6',
      secondaryVersion: '2.0.1', csmsExtra: '  reconnect_min = 0.2;\n  reconnect_max = 0.5;\n' });
    m.primary.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    m.secondary.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    m.primary.responders.StartTransaction = { transactionId: 901, idTagInfo: { status: 'Accepted' } };
    await m.charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'M3' });
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.primary });
    await m?.secondary.close();
    await secondary2?.close();
  });

  it('the secondary down: a whole transaction answered by the primary without delay', async () => {
    await m.secondary.close();
    await waitFor(() => /north\.energy.*leg up -> down|north\.energy.*reconnecting/.test(m.gw.stderr),
      5000, 'the gateway to see the secondary go');
    const t0 = Date.now();
    const start = await m.charger.call('StartTransaction', { connectorId: 1, idTag: TOKEN,
      meterStart: 5000, timestamp: isoNow() });
    assert.equal(start.transactionId, 901);
    await m.charger.call('MeterValues', { connectorId: 1, transactionId: 901, meterValue: [{
      timestamp: isoNow(), sampledValue: [{ value: '6000', unit: 'Wh',
        measurand: 'Energy.Active.Import.Register', context: 'Sample.Periodic' }] }] });
    await m.charger.call('Heartbeat', {});
    await m.charger.call('StopTransaction', { transactionId: 901, meterStop: 7000,
      timestamp: isoNow(), reason: 'EVDisconnected' });
    assert.ok(Date.now() - t0 < 3000, `answered in ${Date.now() - t0} ms`);
    assert.equal(callsOf(m.primary, identity, 'StopTransaction')[0].meterStop, 7000);
  });

  it('back: the secondary gets its queue in order, the transaction whole', async () => {
    secondary2 = await startCsms({ protocols: [subprotocol('2.0.1')], port: m.secondary.port });
    secondary2.server.on('client', (c) => watchStrict(m.problems, 'secondary2', c));
    secondary2.responders.TransactionEvent = (p) =>
      (p.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {});
    const events = await waitFor(() => {
      const e = callsOf(secondary2, identity, 'TransactionEvent');
      return e.some((x) => x.eventType === 'Ended') ? e : null;
    }, 15000, 'the queued transaction at the secondary');
    assert.deepEqual(events.map((e) => e.eventType).filter((t) => t !== 'Updated').slice(0, 1),
      ['Started']);
    assert.equal(events.at(-1).eventType, 'Ended');
    const id = events[0].transactionInfo.transactionId;
    assert.ok(events.every((e) => e.transactionInfo.transactionId === id), 'one transaction');
    assert.equal(events[0].idToken.idToken, TOKEN);
    assert.equal(events[0].meterValue[0].sampledValue[0].value, 5000);
    const readings = events.flatMap((e) => (e.meterValue ?? []).flatMap((v) => v.sampledValue))
      .map((v) => v.value);
    assert.ok(readings.includes(6000), 'the reading taken while it was down');
    assert.equal(events.at(-1).meterValue.at(-1).sampledValue[0].value, 7000);
    assert.equal(events.at(-1).transactionInfo.stoppedReason, 'EVDisconnected');
    // a heartbeat is not worth a late delivery: it was not queued
    assert.equal(callsOf(secondary2, identity, 'Heartbeat').length, 0);
  });

  it('after the replay the secondary gets the charger\'s messages live again', async () => {
    await m.charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
      status: 'Available' });
    await waitFor(() => callsOf(secondary2, identity, 'StatusNotification').length, 5000,
      'StatusNotification at the secondary');
  });

  it('no strict-mode rejection and no CALLERROR on the charger\'s or the primary\'s leg', () => {
    assertClean(m.problems, [['charger', m.charger], ['primary', m.up1]]);
  });
});

describe('a charger that boots before its secondary\'s leg is up', { timeout: 60000 }, () => {
  let primary; let secondary; let gw; let charger;

  after(async () => {
    await stopAll({ clients: [charger], gw, csms: primary });
    await secondary?.close();
  });

  it('the secondary still gets the BootNotification, once its leg is up', async () => {
    primary = await startCsms({ protocols: [subprotocol('1.6')] });
    secondary = await startCsms({ protocols: [subprotocol('1.6')] });
    primary.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    secondary.responders.BootNotification = { currentTime: isoNow(), interval: 60, status: 'Accepted' };
    gw = await startGateway({ config: `csms = { url = "${primary.url}"; secondaries = ( ` +
      `{ name = "energy"; url = "${secondary.url}"; } ); };\n` });
    charger = await connectCharger(gw, 'MULTI-EARLY', '1.6');
    // at once: neither north leg has finished its handshake yet
    const boot = await charger.call('BootNotification', { chargePointVendor: 'Acme',
      chargePointModel: 'M4' });
    assert.equal(boot.interval, 300);
    const seen = await waitFor(() => callsOf(secondary, 'MULTI-EARLY', 'BootNotification')[0], 5000,
      'BootNotification at the secondary');
    assert.equal(seen.chargePointModel, 'M4');
  });
});
