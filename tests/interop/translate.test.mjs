// SPDX-License-Identifier: MIT
//
// Version translation end to end: a strict ocpp-rpc charger of one version ->
// the real ocppgw with --upstream-ocpp -> a strict ocpp-rpc CSMS of another.
// Each suite checks what each side sees after translation (ids, seqNo,
// enums, configuration keys), that neither strict peer ever rejects a frame
// and that no CALLERROR crosses either leg. The last suite restarts the
// gateway in the middle of a transaction with the same --data-dir.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { isoNow, sleep, stopAll, tmpDir, waitFor } from './lib/harness.mjs';
import {
  RFID, UUID_RE, assertClean, attachCharger, chargerCall, csmsCall, startPair, waitCsmsCall,
} from './lib/translate-peers.mjs';

const HB = { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } };
const ID_TOKEN = { idToken: RFID, type: 'ISO14443' };

const only = (seen, method) => {
  const calls = seen.filter((c) => c.method === method);
  assert.equal(calls.length, 1, `expected one ${method}, CSMS saw ${JSON.stringify(seen)}`);
  return calls[0].params;
};

// ---------------------------------------------------------------------------
describe('1.6 charger -> 2.0.1 CSMS', { timeout: 60000 }, () => {
  const identity = 'TR-16-201';
  let p;
  let txInt;
  let txUuid;

  before(async () => {
    p = await startPair({ chargerVersion: '1.6', csmsVersion: '2.0.1', identity });
    p.csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    p.csms.responders.Authorize = { idTokenInfo: { status: 'Accepted' } };
    p.csms.responders.TransactionEvent = (params) =>
      (params.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {});
  });
  after(async () => stopAll({ clients: [p?.charger], gw: p?.gw, csms: p?.csms }));

  it('negotiates 1.6 south and 2.0.1 north', () => {
    assert.equal(p.charger.protocol, 'ocpp1.6');
    assert.equal(p.upstream.protocol, 'ocpp2.0.1');
  });

  it('BootNotification becomes a 2.0.1 BootNotification (PowerUp)', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'BootNotification',
      { chargePointVendor: 'Acme', chargePointModel: 'FastCharger 50', chargePointSerialNumber: 'SN-1',
        firmwareVersion: '1.2.3' });
    const up = only(seen, 'BootNotification');
    assert.equal(up.reason, 'PowerUp');
    assert.equal(up.chargingStation.vendorName, 'Acme');
    assert.equal(up.chargingStation.model, 'FastCharger 50');
    assert.equal(up.chargingStation.serialNumber, 'SN-1');
    assert.equal(answer.status, 'Accepted');
    assert.equal(answer.interval, 300);
  });

  it('Heartbeat', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'Heartbeat', {});
    only(seen, 'Heartbeat');
    assert.ok(answer.currentTime);
  });

  it('StatusNotification becomes a 2.0.1 StatusNotification', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'StatusNotification',
      { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: isoNow() });
    const up = only(seen, 'StatusNotification');
    assert.equal(up.evseId, 1);
    assert.equal(up.connectorId, 1);
    assert.equal(up.connectorStatus, 'Occupied');
    assert.deepEqual(answer, {});
  });

  it('Authorize carries an ISO14443 idToken', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'Authorize', { idTag: RFID });
    assert.deepEqual(only(seen, 'Authorize').idToken, ID_TOKEN);
    assert.equal(answer.idTagInfo.status, 'Accepted');
  });

  it('StartTransaction: charger gets an integer id, CSMS sees Started seqNo 0 with a UUID', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'StartTransaction',
      { connectorId: 1, idTag: RFID, meterStart: 12345, timestamp: isoNow() });
    assert.ok(Number.isInteger(answer.transactionId), `transactionId ${answer.transactionId}`);
    assert.equal(answer.idTagInfo.status, 'Accepted');
    const te = seen.filter((c) => c.method === 'TransactionEvent');
    assert.equal(te.length, 1, `TransactionEvents: ${JSON.stringify(te)}`);
    const ev = te[0].params;
    assert.equal(ev.eventType, 'Started');
    assert.equal(ev.seqNo, 0);
    assert.match(ev.transactionInfo.transactionId, UUID_RE);
    assert.deepEqual(ev.idToken, ID_TOKEN);
    assert.equal(ev.evse.id, 1);
    txInt = answer.transactionId;
    txUuid = ev.transactionInfo.transactionId;
  });

  it('MeterValues becomes TransactionEvent Updated seqNo 1 with numeric values', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'MeterValues', {
      connectorId: 1, transactionId: txInt, meterValue: [{ timestamp: isoNow(), sampledValue: [
        { value: '12845', context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        { value: '16.0', context: 'Sample.Periodic', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
      ] }] });
    assert.deepEqual(answer, {});
    const ev = only(seen, 'TransactionEvent');
    assert.equal(ev.eventType, 'Updated');
    assert.equal(ev.seqNo, 1);
    assert.equal(ev.transactionInfo.transactionId, txUuid);
    const values = ev.meterValue.flatMap((mv) => mv.sampledValue);
    assert.deepEqual(values.map((v) => v.value), [12845, 16]);
    assert.equal(values[0].measurand, 'Energy.Active.Import.Register');
    assert.equal(values[0].unitOfMeasure?.unit ?? 'Wh', 'Wh');
  });

  it('RequestStopTransaction with the UUID reaches the charger as RemoteStop with the integer', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'RequestStopTransaction',
      { transactionId: txUuid }, { RemoteStopTransaction: { status: 'Accepted' } });
    assert.deepEqual(got, [{ method: 'RemoteStopTransaction', params: { transactionId: txInt } }]);
    assert.equal(result.status, 'Accepted');
  });

  it('StopTransaction becomes TransactionEvent Ended seqNo 2, same transactionId', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'StopTransaction',
      { transactionId: txInt, idTag: RFID, meterStop: 20345, timestamp: isoNow(), reason: 'Remote' });
    const ev = only(seen, 'TransactionEvent');
    assert.equal(ev.eventType, 'Ended');
    assert.equal(ev.seqNo, 2);
    assert.equal(ev.transactionInfo.transactionId, txUuid);
    assert.equal(ev.transactionInfo.stoppedReason, 'Remote');
    assert.ok(answer && typeof answer === 'object');
  });

  it('RequestStartTransaction reaches the charger as RemoteStartTransaction', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'RequestStartTransaction',
      { idToken: ID_TOKEN, remoteStartId: 77, evseId: 1 },
      { RemoteStartTransaction: { status: 'Accepted' } });
    assert.equal(got.length, 1);
    assert.equal(got[0].method, 'RemoteStartTransaction');
    assert.equal(got[0].params.idTag, RFID);
    assert.equal(got[0].params.connectorId, 1);
    assert.equal(result.status, 'Accepted');
  });

  it('Reset Immediate reaches the charger as Reset Hard', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'Reset', { type: 'Immediate' },
      { Reset: { status: 'Accepted' } });
    assert.deepEqual(got, [{ method: 'Reset', params: { type: 'Hard' } }]);
    assert.equal(result.status, 'Accepted');
  });

  it('SetVariables OCPPCommCtrlr/HeartbeatInterval becomes ChangeConfiguration HeartbeatInterval', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'SetVariables',
      { setVariableData: [{ attributeValue: '120', ...HB }] },
      { ChangeConfiguration: { status: 'Accepted' } });
    assert.deepEqual(got, [{ method: 'ChangeConfiguration', params: { key: 'HeartbeatInterval', value: '120' } }]);
    assert.equal(result.setVariableResult.length, 1);
    assert.equal(result.setVariableResult[0].attributeStatus, 'Accepted');
    assert.deepEqual(result.setVariableResult[0].component, HB.component);
    assert.deepEqual(result.setVariableResult[0].variable, HB.variable);
  });

  it('GetBaseReport becomes GetConfiguration and the CSMS receives NotifyReport', async () => {
    const from = p.csms.calls.length;
    p.csms.responders.NotifyReport = {};
    const { result, got } = await csmsCall(p.upstream, p.charger, 'GetBaseReport',
      { requestId: 5, reportBase: 'FullInventory' },
      { GetConfiguration: { configurationKey: [
        { key: 'HeartbeatInterval', readonly: false, value: '120' },
        { key: 'NumberOfConnectors', readonly: true, value: '1' },
      ] } });
    assert.equal(got.length, 1);
    assert.equal(got[0].method, 'GetConfiguration');
    assert.equal(result.status, 'Accepted');
    const nr = (await waitCsmsCall(p.csms, identity, 'NotifyReport', from)).params;
    assert.equal(nr.requestId, 5);
    assert.equal(nr.seqNo, 0);
    const hb = nr.reportData.find((r) => r.component.name === 'OCPPCommCtrlr' &&
      r.variable.name === 'HeartbeatInterval');
    assert.ok(hb, `no OCPPCommCtrlr/HeartbeatInterval in ${JSON.stringify(nr.reportData)}`);
    assert.equal(hb.variableAttribute[0].value, '120');
    // The CSMS's answer to the gateway's own NotifyReport must not hurt it.
    await sleep(200);
    assert.deepEqual([p.gw.proc.exitCode, p.gw.proc.signalCode], [null, null],
      'ocppgw died after the CSMS answered its NotifyReport');
  });

  it('SetChargingProfile reaches the charger as a 1.6 profile', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'SetChargingProfile', {
      evseId: 1, chargingProfile: { id: 10, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Absolute', chargingSchedule: [{ id: 1, chargingRateUnit: 'A',
          startSchedule: '2025-03-14T09:30:00.000Z',
          chargingSchedulePeriod: [{ startPeriod: 0, limit: 16, numberPhases: 3 }] }] } },
    { SetChargingProfile: { status: 'Accepted' } });
    assert.equal(got.length, 1);
    assert.equal(got[0].method, 'SetChargingProfile');
    const cp = got[0].params;
    assert.equal(cp.connectorId, 1);
    assert.equal(cp.csChargingProfiles.chargingProfileId, 10);
    assert.equal(cp.csChargingProfiles.chargingProfilePurpose, 'TxDefaultProfile');
    assert.equal(cp.csChargingProfiles.chargingProfileKind, 'Absolute');
    assert.equal(cp.csChargingProfiles.chargingSchedule.chargingRateUnit, 'A');
    assert.deepEqual(cp.csChargingProfiles.chargingSchedule.chargingSchedulePeriod,
      [{ startPeriod: 0, limit: 16, numberPhases: 3 }]);
    assert.equal(result.status, 'Accepted');
  });

  it('TriggerMessage reaches the charger', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'TriggerMessage',
      { requestedMessage: 'Heartbeat' }, { TriggerMessage: { status: 'Accepted' } });
    assert.deepEqual(got, [{ method: 'TriggerMessage', params: { requestedMessage: 'Heartbeat' } }]);
    assert.equal(result.status, 'Accepted');
  });

  it('no strict-mode rejection and no CALLERROR on either leg', () => {
    assertClean(p.problems, [['charger', p.charger], ['csms', p.upstream]]);
  });
});

// ---------------------------------------------------------------------------
// The notifications the gateway makes up itself for a 1.6 charger (no
// charger call waits for their answer): the CSMS's answer must be taken in.
describe('1.6 charger -> 2.0.1 CSMS, notifications the gateway derives', { timeout: 60000 }, () => {
  const identity = 'TR-16-201-DERIVED';
  let p;

  before(async () => {
    p = await startPair({ chargerVersion: '1.6', csmsVersion: '2.0.1', identity });
    p.csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    p.csms.responders.TransactionEvent = (params) =>
      (params.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {});
    await p.charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'FastCharger 50' });
  });
  after(async () => stopAll({ clients: [p?.charger], gw: p?.gw, csms: p?.csms }));

  const alive = async (what) => {
    await sleep(200);
    assert.deepEqual([p.gw.proc.exitCode, p.gw.proc.signalCode], [null, null],
      `ocppgw died after the CSMS answered its ${what}`);
  };

  it('StatusNotification Faulted: StatusNotification and a NotifyEvent on Problem', async () => {
    const from = p.csms.calls.length;
    const { seen } = await chargerCall(p.csms, p.charger, identity, 'StatusNotification',
      { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', timestamp: isoNow() });
    assert.equal(only(seen, 'StatusNotification').connectorStatus, 'Faulted');
    const ev = (await waitCsmsCall(p.csms, identity, 'NotifyEvent', from)).params;
    assert.equal(ev.eventData[0].variable.name, 'Problem');
    assert.equal(ev.eventData[0].techCode, 'GroundFailure');
    await alive('NotifyEvent');
  });

  it('StatusNotification Charging in a transaction: TransactionEvent ChargingStateChanged', async () => {
    const start = await chargerCall(p.csms, p.charger, identity, 'StartTransaction',
      { connectorId: 1, idTag: RFID, meterStart: 0, timestamp: isoNow() });
    const uuid = only(start.seen, 'TransactionEvent').transactionInfo.transactionId;
    const from = p.csms.calls.length;
    await p.charger.call('StatusNotification',
      { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: isoNow() });
    const ev = (await waitCsmsCall(p.csms, identity, 'TransactionEvent', from)).params;
    assert.equal(ev.eventType, 'Updated');
    assert.equal(ev.triggerReason, 'ChargingStateChanged');
    assert.equal(ev.transactionInfo.transactionId, uuid);
    assert.equal(ev.transactionInfo.chargingState, 'Charging');
    assert.equal(ev.seqNo, 1);
    await alive('TransactionEvent');
  });

  it('GetChargingProfiles is answered from the cache with ReportChargingProfiles', async () => {
    p.charger.handle('SetChargingProfile', () => ({ status: 'Accepted' }));
    await p.upstream.call('SetChargingProfile', {
      evseId: 1, chargingProfile: { id: 11, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Relative', chargingSchedule: [{ id: 1, chargingRateUnit: 'W',
          chargingSchedulePeriod: [{ startPeriod: 0, limit: 7400 }] }] } });
    const from = p.csms.calls.length;
    const res = await p.upstream.call('GetChargingProfiles',
      { requestId: 9, chargingProfile: { chargingProfilePurpose: 'TxDefaultProfile' } });
    assert.equal(res.status, 'Accepted');
    const rep = (await waitCsmsCall(p.csms, identity, 'ReportChargingProfiles', from)).params;
    assert.equal(rep.requestId, 9);
    assert.deepEqual(rep.chargingProfile.map((cp) => cp.id), [11]);
    await alive('ReportChargingProfiles');
  });

  it('no strict-mode rejection and no CALLERROR on either leg', () => {
    assertClean(p.problems, [['charger', p.charger], ['csms', p.upstream]]);
  });
});

// ---------------------------------------------------------------------------
describe('2.0.1 charger -> 1.6 CSMS', { timeout: 60000 }, () => {
  const identity = 'TR-201-16';
  const txId = '5b9c1a2e-8a1f-4c3e-9d7b-0e6f2a4c8b11';
  const CSMS_TX = 4711;
  let p;

  before(async () => {
    p = await startPair({ chargerVersion: '2.0.1', csmsVersion: '1.6', identity });
    p.csms.responders.BootNotification = { status: 'Accepted', currentTime: isoNow(), interval: 300 };
    p.csms.responders.Authorize = { idTagInfo: { status: 'Accepted' } };
    p.csms.responders.StartTransaction = { transactionId: CSMS_TX, idTagInfo: { status: 'Accepted' } };
    p.csms.responders.StopTransaction = { idTagInfo: { status: 'Accepted' } };
  });
  after(async () => stopAll({ clients: [p?.charger], gw: p?.gw, csms: p?.csms }));

  it('negotiates 2.0.1 south and 1.6 north', () => {
    assert.equal(p.charger.protocol, 'ocpp2.0.1');
    assert.equal(p.upstream.protocol, 'ocpp1.6');
  });

  it('BootNotification becomes a 1.6 BootNotification', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'BootNotification',
      { reason: 'PowerUp', chargingStation: { model: 'FastCharger 50', vendorName: 'Acme',
        serialNumber: 'SN-1', firmwareVersion: '1.2.3' } });
    const up = only(seen, 'BootNotification');
    assert.equal(up.chargePointVendor, 'Acme');
    assert.equal(up.chargePointModel, 'FastCharger 50');
    assert.equal(answer.status, 'Accepted');
    assert.equal(answer.interval, 300);
  });

  it('Heartbeat', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'Heartbeat', {});
    only(seen, 'Heartbeat');
    assert.ok(answer.currentTime);
  });

  it('StatusNotification becomes a 1.6 StatusNotification', async () => {
    const { seen } = await chargerCall(p.csms, p.charger, identity, 'StatusNotification',
      { timestamp: isoNow(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    const up = only(seen, 'StatusNotification');
    assert.equal(up.connectorId, 1);
    assert.equal(up.status, 'Available');
    assert.equal(up.errorCode, 'NoError');
  });

  it('Authorize carries the idTag', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'Authorize', { idToken: ID_TOKEN });
    assert.equal(only(seen, 'Authorize').idTag, RFID);
    assert.equal(answer.idTokenInfo.status, 'Accepted');
  });

  it('TransactionEvent Started becomes StartTransaction', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'TransactionEvent', {
      eventType: 'Started', timestamp: isoNow(), triggerReason: 'Authorized', seqNo: 0,
      transactionInfo: { transactionId: txId, chargingState: 'EVConnected' }, idToken: ID_TOKEN,
      evse: { id: 1, connectorId: 1 },
      meterValue: [{ timestamp: isoNow(), sampledValue: [{ value: 12345, context: 'Transaction.Begin',
        measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }] });
    const st = only(seen, 'StartTransaction');
    assert.equal(st.connectorId, 1);
    assert.equal(st.idTag, RFID);
    assert.equal(st.meterStart, 12345);
    assert.equal(answer.idTokenInfo?.status, 'Accepted');
  });

  it('the Started event\'s Transaction.Begin reading is meterStart, no MeterValues sample', async () => {
    // A 1.6 charger sends its start register as meterStart only; the
    // Heartbeat after it shows the north queue has carried everything
    // queued before (it keeps order).
    await chargerCall(p.csms, p.charger, identity, 'Heartbeat', {});
    const begin = p.csms.calls.filter((c) => c.identity === identity && c.method === 'MeterValues' &&
      c.params.meterValue.some((mv) => mv.sampledValue.some((sv) => sv.context === 'Transaction.Begin')));
    assert.deepEqual(begin, []);
    assert.ok(p.csms.calls.some((c) => c.identity === identity && c.method === 'Heartbeat'));
  });

  it('TransactionEvent Updated becomes MeterValues with the CSMS-assigned id', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'TransactionEvent', {
      eventType: 'Updated', timestamp: isoNow(), triggerReason: 'MeterValuePeriodic', seqNo: 1,
      transactionInfo: { transactionId: txId, chargingState: 'Charging' },
      meterValue: [{ timestamp: isoNow(), sampledValue: [{ value: 12845, context: 'Sample.Periodic',
        measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }] });
    const mv = only(seen, 'MeterValues');
    assert.equal(mv.transactionId, CSMS_TX);
    assert.equal(mv.connectorId, 1);
    assert.equal(mv.meterValue[0].sampledValue[0].value, '12845');
    assert.deepEqual(answer, {});
  });

  it('RemoteStopTransaction with the integer reaches the charger with its own id', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'RemoteStopTransaction',
      { transactionId: CSMS_TX }, { RequestStopTransaction: { status: 'Accepted' } });
    assert.deepEqual(got, [{ method: 'RequestStopTransaction', params: { transactionId: txId } }]);
    assert.equal(result.status, 'Accepted');
  });

  it('TransactionEvent Ended becomes StopTransaction', async () => {
    const { seen } = await chargerCall(p.csms, p.charger, identity, 'TransactionEvent', {
      eventType: 'Ended', timestamp: isoNow(), triggerReason: 'RemoteStop', seqNo: 2,
      transactionInfo: { transactionId: txId, chargingState: 'EVConnected', stoppedReason: 'Remote' },
      idToken: ID_TOKEN,
      meterValue: [{ timestamp: isoNow(), sampledValue: [{ value: 20345, context: 'Transaction.End',
        measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }] });
    const st = only(seen, 'StopTransaction');
    assert.equal(st.transactionId, CSMS_TX);
    assert.equal(st.meterStop, 20345);
    assert.equal(st.reason, 'Remote');
  });

  it('RemoteStartTransaction reaches the charger as RequestStartTransaction', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'RemoteStartTransaction',
      { connectorId: 1, idTag: RFID }, { RequestStartTransaction: { status: 'Accepted' } });
    assert.equal(got.length, 1);
    assert.equal(got[0].method, 'RequestStartTransaction');
    assert.equal(got[0].params.idToken.idToken, RFID);
    assert.equal(got[0].params.evseId, 1);
    assert.ok(Number.isInteger(got[0].params.remoteStartId));
    assert.equal(result.status, 'Accepted');
  });

  it('Reset Hard reaches the charger as Reset Immediate', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'Reset', { type: 'Hard' },
      { Reset: { status: 'Accepted' } });
    assert.deepEqual(got, [{ method: 'Reset', params: { type: 'Immediate' } }]);
    assert.equal(result.status, 'Accepted');
  });

  it('ChangeConfiguration HeartbeatInterval becomes SetVariables OCPPCommCtrlr/HeartbeatInterval', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'ChangeConfiguration',
      { key: 'HeartbeatInterval', value: '120' },
      { SetVariables: { setVariableResult: [{ attributeStatus: 'Accepted', ...HB }] } });
    assert.equal(got.length, 1);
    assert.equal(got[0].method, 'SetVariables');
    assert.equal(got[0].params.setVariableData.length, 1);
    const d = got[0].params.setVariableData[0];
    assert.deepEqual([d.component, d.variable, d.attributeValue], [HB.component, HB.variable, '120']);
    assert.deepEqual(result, { status: 'Accepted' });
  });

  it('GetConfiguration with keys becomes GetVariables', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'GetConfiguration',
      { key: ['HeartbeatInterval'] },
      { GetVariables: { getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: '120', ...HB }] } });
    assert.equal(got.length, 1);
    assert.equal(got[0].method, 'GetVariables');
    const d = got[0].params.getVariableData;
    assert.equal(d.length, 1);
    assert.deepEqual([d[0].component, d[0].variable], [HB.component, HB.variable]);
    assert.equal(result.configurationKey.length, 1);
    assert.equal(result.configurationKey[0].key, 'HeartbeatInterval');
    assert.equal(result.configurationKey[0].value, '120');
  });

  it('SetChargingProfile reaches the charger as a 2.0.1 profile', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'SetChargingProfile', {
      connectorId: 1, csChargingProfiles: { chargingProfileId: 10, stackLevel: 0,
        chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
        chargingSchedule: { chargingRateUnit: 'A', startSchedule: '2025-03-14T09:30:00.000Z',
          chargingSchedulePeriod: [{ startPeriod: 0, limit: 16, numberPhases: 3 }] } } },
    { SetChargingProfile: { status: 'Accepted' } });
    assert.equal(got.length, 1);
    assert.equal(got[0].method, 'SetChargingProfile');
    const cp = got[0].params;
    assert.equal(cp.evseId, 1);
    assert.equal(cp.chargingProfile.id, 10);
    assert.equal(cp.chargingProfile.chargingProfilePurpose, 'TxDefaultProfile');
    assert.equal(cp.chargingProfile.chargingSchedule.length, 1);
    assert.deepEqual(cp.chargingProfile.chargingSchedule[0].chargingSchedulePeriod,
      [{ startPeriod: 0, limit: 16, numberPhases: 3 }]);
    assert.equal(result.status, 'Accepted');
  });

  it('TriggerMessage StatusNotification reaches the charger with its EVSE', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'TriggerMessage',
      { requestedMessage: 'StatusNotification', connectorId: 1 }, { TriggerMessage: { status: 'Accepted' } });
    assert.equal(got.length, 1);
    assert.equal(got[0].params.requestedMessage, 'StatusNotification');
    assert.equal(got[0].params.evse?.id, 1);
    assert.equal(result.status, 'Accepted');
  });

  it('no strict-mode rejection and no CALLERROR on either leg', () => {
    assertClean(p.problems, [['charger', p.charger], ['csms', p.upstream]]);
  });
});

// ---------------------------------------------------------------------------
// Issue 20: what a 1.6 central system concludes from a 2.0.1 station's
// sessions must be what a 1.6 charger would have told it: a remote start
// the station begins without an idToken is a transaction with the
// RemoteStart's idTag, and a plug-first session shows a 1.6 status timeline
// (Preparing only before StartTransaction, Finishing after the stop).
describe('2.0.1 charger -> 1.6 CSMS, the facts a 1.6 CSMS bills and shows', { timeout: 60000 }, () => {
  const identity = 'TR-201-16-FACTS';
  const reg = (wh, context) => [{ timestamp: isoNow(), sampledValue: [{ value: wh,
    measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' },
    ...(context ? { context } : {}) }] }];
  const statusesSince = (from) => p.csms.callsOf(identity).slice(from)
    .filter((c) => c.method === 'StatusNotification').map((c) => c.params.status);
  let p;
  let nextTx = 500;

  before(async () => {
    p = await startPair({ chargerVersion: '2.0.1', csmsVersion: '1.6', identity });
    p.csms.responders.BootNotification = { status: 'Accepted', currentTime: isoNow(), interval: 300 };
    p.csms.responders.StartTransaction = () => ({ transactionId: ++nextTx,
      idTagInfo: { status: 'Accepted' } });
    p.csms.responders.StopTransaction = { idTagInfo: { status: 'Accepted' } };
    await p.charger.call('BootNotification',
      { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } });
  });
  after(async () => stopAll({ clients: [p?.charger], gw: p?.gw, csms: p?.csms }));

  it('a remote start without idToken reaches the CSMS as Start and StopTransaction', async () => {
    const from = p.csms.callsOf(identity).length;
    const { result, got } = await csmsCall(p.upstream, p.charger, 'RemoteStartTransaction',
      { connectorId: 1, idTag: 'REMOTE01' }, { RequestStartTransaction: { status: 'Accepted' } });
    assert.equal(result.status, 'Accepted');
    const remoteStartId = got[0].params.remoteStartId;
    // 2.0.1 F02: the station starts with remoteStartId and, as allowed, no idToken.
    const started = await p.charger.call('TransactionEvent', {
      eventType: 'Started', timestamp: isoNow(), triggerReason: 'RemoteStart', seqNo: 0,
      transactionInfo: { transactionId: 'remote-tx-1', chargingState: 'Charging', remoteStartId },
      evse: { id: 1, connectorId: 1 }, meterValue: reg(1000, 'Transaction.Begin') });
    assert.deepEqual(started, {});
    const st = p.csms.callsOf(identity).slice(from).filter((c) => c.method === 'StartTransaction');
    assert.equal(st.length, 1, 'the CSMS must learn of the remote-started transaction');
    assert.equal(st[0].params.idTag, 'REMOTE01');
    assert.equal(st[0].params.meterStart, 1000);
    assert.equal(st[0].params.connectorId, 1);
    const id16 = nextTx;
    await p.charger.call('TransactionEvent', {
      eventType: 'Ended', timestamp: isoNow(), triggerReason: 'EVDeparted', seqNo: 1,
      transactionInfo: { transactionId: 'remote-tx-1', chargingState: 'Idle',
        stoppedReason: 'EVDisconnected' }, meterValue: reg(3500, 'Transaction.End') });
    const stop = (await waitCsmsCall(p.csms, identity, 'StopTransaction', from)).params;
    assert.equal(stop.transactionId, id16);
    assert.equal(stop.meterStop, 3500);
    assert.equal(stop.reason, 'EVDisconnected');
    // A repeated Ended (some stations send one at shutdown) stops nothing twice.
    await p.charger.call('TransactionEvent', {
      eventType: 'Ended', timestamp: isoNow(), triggerReason: 'EVDeparted', seqNo: 1,
      transactionInfo: { transactionId: 'remote-tx-1', chargingState: 'Idle',
        stoppedReason: 'EVDisconnected' }, meterValue: reg(3500, 'Transaction.End') });
    await sleep(300);
    const stops = p.csms.callsOf(identity).slice(from).filter((c) => c.method === 'StopTransaction');
    assert.equal(stops.length, 1);
  });

  it('a plug-first session: Preparing before StartTransaction, never inside it, Finishing after', async () => {
    const from = p.csms.callsOf(identity).length;
    const tx = 'plug-first-1';
    const status = (connectorStatus) => p.charger.call('StatusNotification',
      { timestamp: isoNow(), connectorStatus, evseId: 1, connectorId: 1 });
    await status('Occupied');
    await p.charger.call('TransactionEvent', {
      eventType: 'Started', timestamp: isoNow(), triggerReason: 'CablePluggedIn', seqNo: 0,
      transactionInfo: { transactionId: tx, chargingState: 'EVConnected' },
      evse: { id: 1, connectorId: 1 }, meterValue: reg(10000, 'Transaction.Begin') });
    assert.equal(p.csms.callsOf(identity).slice(from).filter((c) => c.method === 'StartTransaction').length,
      0, 'no 1.6 transaction before authorization');
    const authTs = isoNow();
    const auth = await p.charger.call('TransactionEvent', {
      eventType: 'Updated', timestamp: authTs, triggerReason: 'Authorized', seqNo: 1,
      transactionInfo: { transactionId: tx, chargingState: 'EVConnected' }, idToken: ID_TOKEN,
      meterValue: reg(10002) });
    assert.equal(auth.idTokenInfo?.status, 'Accepted');
    const start = (await waitCsmsCall(p.csms, identity, 'StartTransaction', from)).params;
    assert.equal(start.idTag, RFID);
    assert.equal(start.meterStart, 10002, 'meterStart is the register at authorization');
    assert.equal(start.timestamp, authTs);
    const id16 = nextTx;
    await p.charger.call('TransactionEvent', {
      eventType: 'Updated', timestamp: isoNow(), triggerReason: 'ChargingStateChanged', seqNo: 2,
      transactionInfo: { transactionId: tx, chargingState: 'Charging' } });
    await status('Occupied');
    await p.charger.call('TransactionEvent', {
      eventType: 'Ended', timestamp: isoNow(), triggerReason: 'StopAuthorized', seqNo: 3,
      transactionInfo: { transactionId: tx, chargingState: 'EVConnected', stoppedReason: 'Local' },
      idToken: ID_TOKEN, meterValue: reg(17000, 'Transaction.End') });
    const stop = (await waitCsmsCall(p.csms, identity, 'StopTransaction', from)).params;
    assert.equal(stop.transactionId, id16);
    assert.equal(stop.meterStop, 17000);
    await waitFor(() => statusesSince(from).includes('Finishing'), 5000, 'Finishing after the stop');
    await status('Available');
    await waitFor(() => statusesSince(from).at(-1) === 'Available', 5000, 'Available after unplug');

    // The timeline in 1.6 terms, relative to the transaction's boundaries.
    const calls = p.csms.callsOf(identity).slice(from);
    const iStart = calls.findIndex((c) => c.method === 'StartTransaction');
    const iStop = calls.findIndex((c) => c.method === 'StopTransaction');
    const sn = (a, b) => calls.slice(a, b).filter((c) => c.method === 'StatusNotification')
      .map((c) => c.params.status);
    assert.deepEqual(sn(0, iStart), ['Preparing']);
    const inside = sn(iStart, iStop);
    assert.ok(!inside.includes('Preparing'), `Preparing inside the transaction: ${inside}`);
    assert.ok(inside.includes('Charging'), `never Charging: ${inside}`);
    assert.deepEqual(sn(iStop), ['Finishing', 'Available']);
  });

  it('no strict-mode rejection and no CALLERROR on either leg', () => {
    assertClean(p.problems, [['charger', p.charger], ['csms', p.upstream]]);
  });
});

// ---------------------------------------------------------------------------
for (const [chargerVersion, csmsVersion] of [['2.1', '2.0.1'], ['2.0.1', '2.1']]) {
  describe(`${chargerVersion} charger -> ${csmsVersion} CSMS`, { timeout: 60000 }, () => {
    const identity = `TR-${chargerVersion.replaceAll('.', '')}-${csmsVersion.replaceAll('.', '')}`;
    const txId = chargerVersion === '2.1' ? 'tx-21-0001' : 'tx-201-0001';
    let p;

    before(async () => {
      p = await startPair({ chargerVersion, csmsVersion, identity });
      p.csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
      p.csms.responders.TransactionEvent = (params) =>
        (params.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {});
    });
    after(async () => stopAll({ clients: [p?.charger], gw: p?.gw, csms: p?.csms }));

    it(`negotiates ${chargerVersion} south and ${csmsVersion} north`, () => {
      assert.equal(p.charger.protocol, `ocpp${chargerVersion}`);
      assert.equal(p.upstream.protocol, `ocpp${csmsVersion}`);
    });

    it('BootNotification', async () => {
      const req = { reason: 'PowerUp', chargingStation: { model: 'FastCharger 50', vendorName: 'Acme' } };
      const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'BootNotification', req);
      assert.deepEqual(only(seen, 'BootNotification'), req);
      assert.equal(answer.status, 'Accepted');
    });

    it('Heartbeat', async () => {
      const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'Heartbeat', {});
      only(seen, 'Heartbeat');
      assert.ok(answer.currentTime);
    });

    it('TransactionEvent Started and Ended keep id and seqNo', async () => {
      const started = {
        eventType: 'Started', timestamp: isoNow(), triggerReason: 'Authorized', seqNo: 0,
        transactionInfo: { transactionId: txId, chargingState: 'EVConnected' }, idToken: ID_TOKEN,
        evse: { id: 1, connectorId: 1 } };
      const a = await chargerCall(p.csms, p.charger, identity, 'TransactionEvent', started);
      assert.deepEqual(only(a.seen, 'TransactionEvent'), started);
      assert.equal(a.answer.idTokenInfo?.status, 'Accepted');
      const ended = {
        eventType: 'Ended', timestamp: isoNow(), triggerReason: 'StopAuthorized', seqNo: 1,
        transactionInfo: { transactionId: txId, chargingState: 'EVConnected', stoppedReason: 'Local' },
        meterValue: [{ timestamp: isoNow(), sampledValue: [{ value: 20345, context: 'Transaction.End',
          measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }] };
      const b = await chargerCall(p.csms, p.charger, identity, 'TransactionEvent', ended);
      const up = only(b.seen, 'TransactionEvent');
      assert.equal(up.eventType, 'Ended');
      assert.equal(up.seqNo, 1);
      assert.equal(up.transactionInfo.transactionId, txId);
      assert.equal(up.meterValue[0].sampledValue[0].value, 20345);
    });

    it('CSMS command: GetVariables', async () => {
      const { result, got } = await csmsCall(p.upstream, p.charger, 'GetVariables',
        { getVariableData: [HB] },
        { GetVariables: { getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: '120', ...HB }] } });
      assert.deepEqual(got, [{ method: 'GetVariables', params: { getVariableData: [HB] } }]);
      assert.equal(result.getVariableResult[0].attributeValue, '120');
    });

    it('CSMS command: Reset', async () => {
      const { result, got } = await csmsCall(p.upstream, p.charger, 'Reset', { type: 'Immediate' },
        { Reset: { status: 'Accepted' } });
      assert.deepEqual(got, [{ method: 'Reset', params: { type: 'Immediate' } }]);
      assert.equal(result.status, 'Accepted');
    });

    it('no strict-mode rejection and no CALLERROR on either leg', () => {
      assertClean(p.problems, [['charger', p.charger], ['csms', p.upstream]]);
    });
  });
}

// ---------------------------------------------------------------------------
describe('1.6 charger -> 2.0.1 CSMS, gateway restarted mid-transaction', { timeout: 60000 }, () => {
  const identity = 'TR-16-RESTART';
  const dataDir = tmpDir('ocppgw-translate-data-');
  let p;
  let first;
  let firstUpstream;
  let txInt;
  let txUuid;

  before(async () => {
    p = await startPair({ chargerVersion: '1.6', csmsVersion: '2.0.1', identity, dataDir });
    p.csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    p.csms.responders.TransactionEvent = (params) =>
      (params.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {});
  });
  after(async () => {
    await stopAll({ clients: [first, p?.charger], gw: p?.gw, csms: p?.csms });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts a transaction', async () => {
    await p.charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'FastCharger 50' });
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'StartTransaction',
      { connectorId: 1, idTag: RFID, meterStart: 100, timestamp: isoNow() });
    txInt = answer.transactionId;
    txUuid = only(seen, 'TransactionEvent').transactionInfo.transactionId;
    assert.ok(Number.isInteger(txInt));
    assert.match(txUuid, UUID_RE);
  });

  it('SIGTERM, then the same --data-dir again; the charger reconnects', async () => {
    first = p.charger;
    const res = await p.gw.stop();
    assert.equal(res.code, 0);
    await first.close({ force: true }).catch(() => {});
    firstUpstream = p.upstream;
    const again = await startPair({ chargerVersion: '1.6', csmsVersion: '2.0.1', identity, dataDir,
      csms: p.csms, problems: p.problems });
    Object.assign(p, { gw: again.gw, charger: again.charger, upstream: again.upstream });
  });

  it('MeterValues after the restart: Updated, same UUID, seqNo 1', async () => {
    const { seen } = await chargerCall(p.csms, p.charger, identity, 'MeterValues', {
      connectorId: 1, transactionId: txInt, meterValue: [{ timestamp: isoNow(), sampledValue: [
        { value: '500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
    const ev = only(seen, 'TransactionEvent');
    assert.equal(ev.eventType, 'Updated');
    assert.equal(ev.transactionInfo.transactionId, txUuid);
    assert.equal(ev.seqNo, 1);
  });

  it('StopTransaction after the restart: Ended, same UUID, seqNo 2', async () => {
    const { seen } = await chargerCall(p.csms, p.charger, identity, 'StopTransaction',
      { transactionId: txInt, meterStop: 900, timestamp: isoNow(), reason: 'Local' });
    const ev = only(seen, 'TransactionEvent');
    assert.equal(ev.eventType, 'Ended');
    assert.equal(ev.transactionInfo.transactionId, txUuid);
    assert.equal(ev.seqNo, 2);
  });

  it('no strict-mode rejection and no CALLERROR on either leg', () => {
    assertClean(p.problems, [['charger before restart', first], ['charger', p.charger],
      ['csms before restart', firstUpstream], ['csms', p.upstream]]);
  });
});

// ---------------------------------------------------------------------------
// 1.6 <-> 2.1: the 1.6 <-> 2.0.1 tables with the 2.0.1 <-> 2.1 adapter on
// the 2.1 leg. Actions only 2.1 has are refused by the gateway.
describe('1.6 charger -> 2.1 CSMS', { timeout: 60000 }, () => {
  const identity = 'TR-16-21';
  let p;
  let txInt;
  let txUuid;

  before(async () => {
    p = await startPair({ chargerVersion: '1.6', csmsVersion: '2.1', identity });
    p.csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    p.csms.responders.Authorize = { idTokenInfo: { status: 'Accepted' } };
    p.csms.responders.TransactionEvent = (params) =>
      (params.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {});
  });
  after(async () => stopAll({ clients: [p?.charger], gw: p?.gw, csms: p?.csms }));

  it('negotiates 1.6 south and 2.1 north', () => {
    assert.equal(p.charger.protocol, 'ocpp1.6');
    assert.equal(p.upstream.protocol, 'ocpp2.1');
  });

  it('BootNotification becomes a 2.1 BootNotification', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'BootNotification',
      { chargePointVendor: 'Acme', chargePointModel: 'FastCharger 50' });
    const up = only(seen, 'BootNotification');
    assert.equal(up.reason, 'PowerUp');
    assert.equal(up.chargingStation.vendorName, 'Acme');
    assert.equal(answer.status, 'Accepted');
  });

  it('a charging session: Start, MeterValues, Stop become TransactionEvents', async () => {
    await chargerCall(p.csms, p.charger, identity, 'Authorize', { idTag: RFID });
    const start = await chargerCall(p.csms, p.charger, identity, 'StartTransaction',
      { connectorId: 1, idTag: RFID, meterStart: 1000, timestamp: isoNow() });
    txInt = start.answer.transactionId;
    assert.ok(Number.isInteger(txInt));
    const started = only(start.seen, 'TransactionEvent');
    assert.equal(started.eventType, 'Started');
    assert.equal(started.seqNo, 0);
    txUuid = started.transactionInfo.transactionId;
    assert.match(txUuid, UUID_RE);

    const mv = await chargerCall(p.csms, p.charger, identity, 'MeterValues', {
      connectorId: 1, transactionId: txInt, meterValue: [{ timestamp: isoNow(),
        sampledValue: [{ value: '1500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
    const updated = only(mv.seen, 'TransactionEvent');
    assert.equal(updated.eventType, 'Updated');
    assert.equal(updated.seqNo, 1);
    assert.equal(updated.meterValue[0].sampledValue[0].value, 1500);

    const stop = await chargerCall(p.csms, p.charger, identity, 'StopTransaction',
      { transactionId: txInt, meterStop: 2000, timestamp: isoNow(), reason: 'Local' });
    const ended = only(stop.seen, 'TransactionEvent');
    assert.equal(ended.eventType, 'Ended');
    assert.equal(ended.seqNo, 2);
    assert.equal(ended.transactionInfo.transactionId, txUuid);
  });

  it('Reset Immediate reaches the charger as Reset Hard', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'Reset', { type: 'Immediate' },
      { Reset: { status: 'Accepted' } });
    assert.deepEqual(got, [{ method: 'Reset', params: { type: 'Hard' } }]);
    assert.equal(result.status, 'Accepted');
  });

  it('an action only 2.1 has is refused by the gateway, never reaching the charger', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'UsePriorityCharging',
      { transactionId: txUuid, activate: true }, {});
    assert.deepEqual(got, []);
    assert.equal(result.status, 'Rejected');
  });

  it('no strict-mode rejection and no CALLERROR on either leg', () => {
    assertClean(p.problems, [['charger', p.charger], ['csms', p.upstream]]);
  });
});

describe('2.1 charger -> 1.6 CSMS', { timeout: 60000 }, () => {
  const identity = 'TR-21-16';
  const txId = 'tx-21-16-0001';
  const CSMS_TX_21 = 9021;
  let p;

  before(async () => {
    p = await startPair({ chargerVersion: '2.1', csmsVersion: '1.6', identity });
    p.csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    p.csms.responders.Authorize = { idTagInfo: { status: 'Accepted' } };
    p.csms.responders.StartTransaction = { transactionId: CSMS_TX_21, idTagInfo: { status: 'Accepted' } };
    p.csms.responders.StopTransaction = {};
    p.csms.responders.MeterValues = {};
  });
  after(async () => stopAll({ clients: [p?.charger], gw: p?.gw, csms: p?.csms }));

  it('negotiates 2.1 south and 1.6 north', () => {
    assert.equal(p.charger.protocol, 'ocpp2.1');
    assert.equal(p.upstream.protocol, 'ocpp1.6');
  });

  it('BootNotification becomes a 1.6 BootNotification', async () => {
    const { answer, seen } = await chargerCall(p.csms, p.charger, identity, 'BootNotification',
      { reason: 'PowerUp', chargingStation: { vendorName: 'Acme', model: 'AC22' } });
    const up = only(seen, 'BootNotification');
    assert.equal(up.chargePointVendor, 'Acme');
    assert.equal(answer.status, 'Accepted');
  });

  it('TransactionEvent Started and Ended become Start and StopTransaction', async () => {
    const started = await chargerCall(p.csms, p.charger, identity, 'TransactionEvent', {
      eventType: 'Started', timestamp: isoNow(), triggerReason: 'Authorized', seqNo: 0,
      transactionInfo: { transactionId: txId }, idToken: ID_TOKEN, evse: { id: 1, connectorId: 1 },
      // 1.6 needs a register for meterStart (docs/TRANSLATION.md: without one
      // StartTransaction waits for the first reading).
      meterValue: [{ timestamp: isoNow(), sampledValue: [{ value: 2100, context: 'Transaction.Begin',
        measurand: 'Energy.Active.Import.Register' }] }] });
    const st = only(started.seen, 'StartTransaction');
    assert.equal(st.idTag, RFID);
    assert.equal(st.meterStart, 2100);
    assert.equal(started.answer.idTokenInfo?.status, 'Accepted');
    const ended = await chargerCall(p.csms, p.charger, identity, 'TransactionEvent', {
      eventType: 'Ended', timestamp: isoNow(), triggerReason: 'StopAuthorized', seqNo: 1,
      transactionInfo: { transactionId: txId, stoppedReason: 'Local' } });
    const sp = only(ended.seen, 'StopTransaction');
    assert.equal(sp.transactionId, CSMS_TX_21);
  });

  it('Reset Hard reaches the charger as a 2.1 Reset Immediate', async () => {
    const { result, got } = await csmsCall(p.upstream, p.charger, 'Reset', { type: 'Hard' },
      { Reset: { status: 'Accepted' } });
    assert.deepEqual(got, [{ method: 'Reset', params: { type: 'Immediate' } }]);
    assert.equal(result.status, 'Accepted');
  });

  it('no strict-mode rejection and no CALLERROR on either leg', () => {
    assertClean(p.problems, [['charger', p.charger], ['csms', p.upstream]]);
  });
});

// ---------------------------------------------------------------------------
// What a 1.6 charger never says and a 2.0.1 CSMS expects: the end of an
// unused reservation (ReservationStatusUpdate) and a Reset OnIdle that waits
// for the running transaction.
describe('1.6 charger -> 2.0.1 CSMS, reservations and Reset OnIdle', { timeout: 60000 }, () => {
  const identity = 'TR-16-201-RSV';
  let p;
  const resets = [];

  before(async () => {
    p = await startPair({ chargerVersion: '1.6', csmsVersion: '2.0.1', identity });
    p.csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    p.csms.responders.TransactionEvent = (params) =>
      (params.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {});
    p.charger.handle('Reset', ({ params }) => {
      resets.push(params);
      return { status: 'Accepted' };
    });
    await p.charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'FastCharger 50' });
  });
  after(async () => stopAll({ clients: [p?.charger], gw: p?.gw, csms: p?.csms }));

  const status = (connectorId, st) => chargerCall(p.csms, p.charger, identity, 'StatusNotification',
    { connectorId, errorCode: 'NoError', status: st, timestamp: isoNow() });

  it('ReserveNow accepted, then Reserved -> Available with no transaction: ReservationStatusUpdate Removed', async () => {
    const expiry = new Date(Date.now() + 3600e3).toISOString();
    const { result, got } = await csmsCall(p.upstream, p.charger, 'ReserveNow',
      { id: 21, expiryDateTime: expiry, idToken: ID_TOKEN, evseId: 1 },
      { ReserveNow: { status: 'Accepted' } });
    assert.equal(result.status, 'Accepted');
    assert.deepEqual(got, [{ method: 'ReserveNow',
      params: { connectorId: 1, expiryDate: expiry, idTag: RFID, reservationId: 21 } }]);

    const reserved = await status(1, 'Reserved');
    assert.equal(only(reserved.seen, 'StatusNotification').connectorStatus, 'Reserved');
    assert.equal(reserved.seen.filter((c) => c.method === 'ReservationStatusUpdate').length, 0);

    const from = p.csms.calls.length;
    const { answer, seen } = await status(1, 'Available');
    assert.deepEqual(answer, {});
    assert.equal(only(seen, 'StatusNotification').connectorStatus, 'Available');
    const upd = await waitCsmsCall(p.csms, identity, 'ReservationStatusUpdate', from);
    assert.deepEqual(upd.params, { reservationId: 21, reservationUpdateStatus: 'Removed' });
    const order = p.csms.calls.slice(from).filter((c) => c.identity === identity).map((c) => c.method);
    assert.deepEqual(order, ['StatusNotification', 'ReservationStatusUpdate']);
  });

  it('Reset OnIdle during a transaction: Scheduled, then Reset Soft after the StopTransaction', async () => {
    const start = await chargerCall(p.csms, p.charger, identity, 'StartTransaction',
      { connectorId: 1, idTag: RFID, meterStart: 0, timestamp: isoNow() });
    const txInt = start.answer.transactionId;
    assert.ok(Number.isInteger(txInt));

    const res = await p.upstream.call('Reset', { type: 'OnIdle' });
    assert.equal(res.status, 'Scheduled');
    await sleep(300);
    assert.deepEqual(resets, [], 'the charger was reset during its transaction');

    const stop = await chargerCall(p.csms, p.charger, identity, 'StopTransaction',
      { transactionId: txInt, meterStop: 500, timestamp: isoNow(), reason: 'Local' });
    assert.equal(only(stop.seen, 'TransactionEvent').eventType, 'Ended');
    for (let waited = 0; resets.length === 0 && waited < 5000; waited += 50) await sleep(50);
    assert.deepEqual(resets, [{ type: 'Soft' }]);
    await sleep(300);
    assert.equal(resets.length, 1, 'Reset sent more than once');
  });

  it('no strict-mode rejection and no CALLERROR on either leg', () => {
    assertClean(p.problems, [['charger', p.charger], ['csms', p.upstream]]);
  });
});
