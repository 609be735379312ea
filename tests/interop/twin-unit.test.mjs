// SPDX-License-Identifier: MIT
//
// The twin harness's own logic, without a gateway: the observer on recorded
// frames of each version (what a CSMS concludes from them), the comparison
// with its rules, the TWIN_PAIR / TWIN_CASE selection, and that the rule
// tables in docs/TRANSLATION.md are the ones rules.mjs generates.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { SRC_ROOT } from './lib/harness.mjs';
import { compareFacts } from './twin/compare.mjs';
import { spliced } from './twin/doc.mjs';
import { observe16, observe2x } from './twin/observer.mjs';
import { RULES } from './twin/rules.mjs';
import { selection } from './twin/run.mjs';

// A log as the twin CSMS records it: connections, then frames in order.
const conn = (password = null) => ({ conn: { password } });
const callIn = (id, action, params) => ({ dir: 'in', frame: [2, id, action, params] });
const callOut = (id, action, params) => ({ dir: 'out', frame: [2, id, action, params] });
const resultOut = (id, payload = {}) => ({ dir: 'out', frame: [3, id, payload] });
const resultIn = (id, payload = {}) => ({ dir: 'in', frame: [3, id, payload] });
const errorOut = (id, code) => ({ dir: 'out', frame: [4, id, code, '', {}] });

const T = (s) => `2025-06-02T08:00:${String(s).padStart(2, '0')}.000Z`;
const REG = 'Energy.Active.Import.Register';

describe('observer, 1.6 CSMS', () => {
  const log = [
    conn('pw1'),
    callIn('a', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }), resultOut('a', {}),
    callIn('b', 'StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available' }), resultOut('b'),
    callIn('c', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' }), resultOut('c'),
    callOut('r1', 'RemoteStartTransaction', { connectorId: 1, idTag: 'T1' }), resultIn('r1', { status: 'Accepted' }),
    callIn('d', 'StartTransaction', { connectorId: 1, idTag: 'T1', meterStart: 100, timestamp: T(1) }),
    resultOut('d', { transactionId: 7, idTagInfo: { status: 'Accepted' } }),
    callIn('e', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' }), resultOut('e'),
    callIn('f', 'MeterValues', { connectorId: 1, transactionId: 7, meterValue: [{ timestamp: T(2), sampledValue: [
      { value: '150', measurand: REG, unit: 'Wh' },
      { value: '16.0', measurand: 'Current.Import', phase: 'L1', unit: 'A' }] }] }), resultOut('f'),
    // A MeterValues for a transaction this CSMS never issued.
    callIn('g', 'MeterValues', { connectorId: 1, transactionId: 99, meterValue: [{ timestamp: T(2),
      sampledValue: [{ value: '1' }] }] }), resultOut('g'),
    callIn('h', 'StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' }), resultOut('h'),
    callIn('i', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' }), resultOut('i'),
    callIn('j', 'StopTransaction', { transactionId: 7, meterStop: 200, timestamp: T(3), reason: 'Remote',
      transactionData: [{ timestamp: T(3), sampledValue: [
        { value: '200', context: 'Transaction.End', measurand: REG, unit: 'Wh' },
        { value: 'OCMF|x|y', context: 'Transaction.End', format: 'SignedData', measurand: REG, unit: 'Wh' }] }] }),
    resultOut('j'),
    callIn('k', 'StopTransaction', { transactionId: 7, meterStop: 200, timestamp: T(4) }), resultOut('k'),
    callIn('l', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Finishing' }), resultOut('l'),
    callOut('g1', 'GetConfiguration', {}), resultIn('g1', { configurationKey: [
      { key: 'NumberOfConnectors', readonly: true, value: '1' }, { key: 'HeartbeatInterval', readonly: false, value: '60' }] }),
    callOut('c1', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '0' }), resultIn('c1', { status: 'Rejected' }),
    conn('pw2'),
    callIn('m', 'Heartbeat', {}), errorOut('m', 'InternalError'),
  ];
  const f = observe16(log);

  it('reduces a transaction to what the CSMS bills', () => {
    assert.equal(f.transactions, 1);
    assert.equal(f['tx1.id'], 7);
    assert.equal(f['tx1.token'], 'T1');
    assert.equal(f['tx1.remoteStart'], true, 'correlated with the accepted RemoteStartTransaction');
    assert.equal(f['tx1.start.energy'], 100);
    assert.equal(f['tx1.start.time'], T(1));
    assert.equal(f['tx1.stop.energy'], 200);
    assert.equal(f['tx1.stop.reason'], 'Remote');
    assert.equal(f['tx1.stop.token'], null);
    assert.equal(f['tx1.stops'], 2, 'a repeated StopTransaction is counted, its content not taken');
    assert.equal(f['tx1.stop.time'], T(3));
    assert.equal(f[`tx1.sample.${T(2)}|${REG}||Outlet|Sample.Periodic`], '150 Wh');
    assert.equal(f[`tx1.sample.${T(2)}|Current.Import|L1|Outlet|Sample.Periodic`], '16 A', '"16.0" reads as 16');
    assert.equal(f[`tx1.sample.${REG}||Outlet|Transaction.End`], '200 Wh');
    assert.equal(f['tx1.signed.Transaction.End'], 'OCMF|x|y');
    assert.equal(f.orphanMessages, 1);
  });

  it('keeps the status timeline with transaction boundaries and faults', () => {
    assert.deepEqual(f['status.c0'], ['Available']);
    assert.deepEqual(f['status.c1'], ['Preparing', 'tx-start', 'Charging', 'Faulted', 'Charging', 'tx-stop', 'Finishing']);
    assert.deepEqual(f['faults.c1'], ['raised:GroundFailure', 'cleared']);
  });

  it('reads configuration answers, CALLERRORs sent and the password of each connection', () => {
    assert.equal(f['config.1.NumberOfConnectors'], '1 (readonly)');
    assert.equal(f['config.1.HeartbeatInterval'], '60');
    assert.equal(f['set.HeartbeatInterval'], 'Rejected');
    assert.deepEqual(f.errorsSent, ['Heartbeat:InternalError']);
    assert.equal(f['auth.heartbeatPassword'], 'pw2');
  });
});

describe('observer, 2.x CSMS', () => {
  const ev = (id, eventType, seqNo, trigger, extra = {}) => callIn(id, 'TransactionEvent', {
    eventType, timestamp: T(seqNo + 1), triggerReason: trigger, seqNo, evse: { id: 1, connectorId: 1 },
    ...extra, transactionInfo: { transactionId: 'TX-A', ...(extra.transactionInfo ?? {}) } });
  const begin = { meterValue: [{ timestamp: T(1), sampledValue: [{ value: 1.5, context: 'Transaction.Begin',
    measurand: REG, unitOfMeasure: { unit: 'Wh', multiplier: 3 },
    signedMeterValue: { signedMeterData: 'D', encodingMethod: 'OCMF', signingMethod: 'M', publicKey: 'K' } }] }] };
  const log = [
    conn(),
    callIn('a', 'BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } }), resultOut('a'),
    callIn('b', 'StatusNotification', { timestamp: T(0), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 }), resultOut('b'),
    callOut('r', 'RequestStartTransaction', { evseId: 1, remoteStartId: 5, idToken: { idToken: 'U', type: 'Central' } }),
    resultIn('r', { status: 'Accepted' }),
    ev('c', 'Started', 0, 'RemoteStart', { transactionInfo: { chargingState: 'EVConnected', remoteStartId: 5 }, ...begin }),
    resultOut('c'),
    ev('d', 'Updated', 1, 'ChargingStateChanged', { transactionInfo: { chargingState: 'Charging' } }), resultOut('d'),
    ev('e', 'Ended', 2, 'RemoteStop', { transactionInfo: { stoppedReason: 'Remote', chargingState: 'EVConnected' } }),
    resultOut('e'),
    // A repeated end of a closed transaction: a CSMS ignores it.
    ev('f', 'Ended', 2, 'RemoteStop', { transactionInfo: { stoppedReason: 'Remote' } }), resultOut('f'),
    callIn('g', 'NotifyEvent', { generatedAt: T(5), seqNo: 0, eventData: [{ eventId: 1, timestamp: T(5),
      trigger: 'Alerting', actualValue: 'true', techCode: 'GroundFailure', eventNotificationType: 'HardWiredNotification',
      component: { name: 'Connector', evse: { id: 1, connectorId: 1 } }, variable: { name: 'Problem' } }] }), resultOut('g'),
    callOut('p', 'GetChargingProfiles', { requestId: 9, chargingProfile: {} }), resultIn('p', { status: 'Accepted' }),
    callIn('h', 'ReportChargingProfiles', { requestId: 9, chargingLimitSource: 'CSO', evseId: 1, chargingProfile: [{
      id: 3, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Relative',
      chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16, limit_L2: 10 }] }] }] }),
    resultOut('h'),
    callOut('v', 'GetVariables', { getVariableData: [] }), resultIn('v', { getVariableResult: [
      { attributeStatus: 'Accepted', attributeValue: '30', component: { name: 'SampledDataCtrlr' }, variable: { name: 'TxUpdatedInterval' } },
      { attributeStatus: 'UnknownComponent', component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'PhaseRotation' } }] }),
    callIn('i', 'Authorize', { idToken: { idToken: 'TAG1', type: 'ISO14443' } }), errorOut('i', 'PropertyConstraintViolation'),
  ];
  const f = observe2x(log);

  it('takes the token of a remote start through remoteStartId', () => {
    assert.equal(f['tx1.token'], 'U (Central)');
    assert.equal(f['tx1.remoteStart'], true);
    assert.equal(f['tx1.start.trigger'], 'RemoteStart');
  });

  it('reads energy with its multiplier and signed data, and the end as the CSMS sees it', () => {
    assert.equal(f['tx1.start.energy'], '1500 Wh');
    assert.deepEqual(f['tx1.signed.Transaction.Begin'], { data: 'D', encoding: 'OCMF', method: 'M', publicKey: 'K' });
    assert.deepEqual(f['tx1.chargingStates'], ['EVConnected', 'Charging', 'EVConnected']);
    assert.equal(f['tx1.stop.chargingState'], 'EVConnected');
    assert.equal(f['tx1.stop.token'], null);
    assert.equal(f['tx1.stop.reason'], 'Remote');
    assert.equal(f['tx1.seqNo'], 'in order', 'the repeated Ended is not a new event');
    assert.equal(f.transactions, 1);
  });

  it('keeps statuses, faults, profile reports, variables and refusals', () => {
    assert.deepEqual(f['status.1/1'], ['Occupied', 'tx-start', 'tx-end']);
    assert.deepEqual(f['faults.1/1'], ['raised:GroundFailure']);
    assert.deepEqual(f['profiles@9'], ['3 TxDefaultProfile CSO evse 1 limits 16/10/16']);
    assert.equal(f['config.1.SampledDataCtrlr.TxUpdatedInterval'], '30');
    assert.equal(f['config.1.EVSE@1.PhaseRotation'], 'UnknownComponent');
    assert.deepEqual(f.errorsSent, ['Authorize:PropertyConstraintViolation']);
    assert.deepEqual(f.boots, ['PowerUp']);
  });
});

describe('comparison', () => {
  it('counts equal facts, differences and differences a rule allows', () => {
    const native = { a: 1, 'tx1.start.time': T(1), 'status.c0': ['Available'], b: [1, 2] };
    const translated = { a: 1, 'tx1.start.time': T(0), b: [2, 1], c: true };
    const r = compareFacts(native, translated, { pair: '2.0.1-1.6', scenario: 'local-stop' });
    assert.equal(r.compared, 5);
    assert.equal(r.equal, 1);
    assert.deepEqual(r.underRule.map((u) => u.rule).sort(), ['connector-zero', 'start-at-plug-in']);
    assert.deepEqual(r.different.map((d) => d.key), ['b', 'c']);
  });

  it('applies a rule only to its pairs and in its direction', () => {
    const r = compareFacts({ 'tx1.start.time': T(1) }, { 'tx1.start.time': T(2) },
      { pair: '2.0.1-1.6', scenario: 'local-stop' });
    assert.equal(r.different.length, 1, 'a later start is not what start-at-plug-in allows');
    const other = compareFacts({ 'status.c0': ['Available'] }, {}, { pair: '2.0.1-2.1', scenario: 'x' });
    assert.equal(other.different.length, 1);
  });

  it('renames translated facts before comparing (evse-numbering)', () => {
    const r = compareFacts({ 'status.1/2': ['Available'] }, { 'status.2/1': ['Available'] },
      { pair: '1.6-2.0.1', scenario: 'multi-connector' });
    assert.equal(r.equal, 1);
    assert.equal(r.different.length, 0);
  });

  it('every rule names its pairs, facts, how and why', () => {
    const ids = new Set();
    for (const rule of RULES) {
      assert.ok(!ids.has(rule.id), `duplicate rule ${rule.id}`);
      ids.add(rule.id);
      assert.ok(rule.pairs.length && rule.facts instanceof RegExp && rule.differs && rule.why.length > 20, rule.id);
      assert.ok(rule.allow || rule.rekey, rule.id);
    }
  });
});

describe('selection', () => {
  it('narrows to a pair, a scenario or a finding', () => {
    const s = selection({ TWIN_PAIR: '1.6-2.0.1', TWIN_CASE: 'remote-start' });
    assert.deepEqual(s.pairs, ['1.6-2.0.1']);
    assert.deepEqual(s.scenarios.map((x) => x.id), ['remote-start']);
    assert.ok(s.findings.every((f) => f.scenario === 'remote-start' && f.pairs.includes('1.6-2.0.1')));
    const f = selection({ TWIN_CASE: 'finding-16' });
    assert.deepEqual(f.scenarios.map((x) => x.id).sort(), ['local-stop', 'remote-start', 'stop-tag-always']);
    assert.deepEqual([...new Set(f.findings.map((x) => x.n))], [16]);
    assert.throws(() => selection({ TWIN_PAIR: '1.6-1.6' }), /unknown pair/);
    assert.throws(() => selection({ TWIN_CASE: 'nope' }), /nothing matches/);
  });
});

describe('docs/TRANSLATION.md', () => {
  it('shows the scenarios and rules rules.mjs has (tools/gen-translation-doc.sh)', () => {
    const file = path.join(SRC_ROOT, 'docs/TRANSLATION.md');
    const text = fs.readFileSync(file, 'utf8');
    assert.equal(text, spliced(text), 'docs/TRANSLATION.md is stale: run tools/gen-translation-doc.sh');
  });
});
