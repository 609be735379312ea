// SPDX-License-Identifier: MIT
//
// A whole remote-started session of a 1.6 charger as a strict 2.0.1 CSMS
// sees it (issue 20): the token and the type the CSMS gave, the energy at
// start, during and at the end, the transaction id in the start's answer,
// an Ended the CSMS prices (no idToken after a remote stop) that leaves
// the EVSE EVConnected, and a connector error raised and cleared.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { isoNow, stopAll, waitFor } from './lib/harness.mjs';
import { UUID_RE, assertClean, chargerCall, startPair } from './lib/translate-peers.mjs';

describe('1.6 charger -> 2.0.1 CSMS: a remote-started session', { timeout: 60000 }, () => {
  const identity = 'TR-SESSION-16';
  const TOKEN = 'TAG65159';
  let p;
  let txUuid;

  before(async () => {
    p = await startPair({ chargerVersion: '1.6', csmsVersion: '2.0.1', identity });
    p.csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    p.csms.responders.TransactionEvent = (params) =>
      (params.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : { totalCost: 1.5 });
    await p.charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'M' });
  });
  after(async () => stopAll({ clients: [p?.charger], gw: p?.gw, csms: p?.csms }));

  const events = () => p.csms.callsOf(identity).filter((c) => c.method === 'TransactionEvent')
    .map((c) => c.params);

  it('RequestStartTransaction: the charger starts before it answers, the answer names the transaction',
    async () => {
      let req;
      p.charger.handle('RemoteStartTransaction', async ({ params }) => {
        req = params;
        // a charger that starts at once and answers after its StartTransaction
        const conf = await p.charger.call('StartTransaction', { connectorId: 1, idTag: params.idTag,
          meterStart: 12345, timestamp: isoNow() });
        assert.equal(conf.idTagInfo.status, 'Accepted');
        return { status: 'Accepted' };
      });
      const result = await p.upstream.call('RequestStartTransaction', { evseId: 1, remoteStartId: 42,
        idToken: { idToken: TOKEN, type: 'Central' } });
      assert.deepEqual(req, { connectorId: 1, idTag: TOKEN });
      const started = events().find((e) => e.eventType === 'Started');
      txUuid = started.transactionInfo.transactionId;
      assert.match(txUuid, UUID_RE);
      assert.equal(result.status, 'Accepted');
      assert.equal(result.transactionId, txUuid);
      // the token the CSMS sent, with its type; the register at start
      assert.deepEqual(started.idToken, { idToken: TOKEN, type: 'Central' });
      assert.equal(started.triggerReason, 'RemoteStart');
      assert.equal(started.transactionInfo.remoteStartId, 42);
      assert.equal(started.meterValue[0].sampledValue[0].value, 12345);
      assert.equal(started.meterValue[0].sampledValue[0].context, 'Transaction.Begin');
    });

  it('charging with meter values', async () => {
    await p.charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    await p.charger.call('MeterValues', { connectorId: 1, transactionId: 1, meterValue: [{
      timestamp: isoNow(), sampledValue: [{ value: '13.5', unit: 'kWh', context: 'Sample.Periodic',
        measurand: 'Energy.Active.Import.Register' }] }] });
    const updated = events().filter((e) => e.eventType === 'Updated');
    assert.equal(updated.at(-2).transactionInfo.chargingState, 'Charging');
    const sample = updated.at(-1).meterValue[0].sampledValue[0];
    assert.equal(sample.value, 13.5);
    assert.deepEqual(sample.unitOfMeasure, { unit: 'Wh', multiplier: 3 });
  });

  it('a connector error is raised and cleared', async () => {
    const before = p.csms.calls.length;
    await p.charger.call('StatusNotification', { connectorId: 1, errorCode: 'OverVoltage',
      status: 'SuspendedEVSE', vendorErrorCode: 'E17' });
    await p.charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    const notes = await waitFor(() => {
      const n = p.csms.calls.slice(before).filter((c) => c.method === 'NotifyEvent');
      return n.length === 2 ? n : null;
    }, 5000, 'two NotifyEvents');
    const [raised, cleared] = notes.map((c) => c.params.eventData[0]);
    assert.equal(raised.actualValue, 'true');
    assert.equal(raised.techCode, 'OverVoltage');
    assert.equal(raised.techInfo, 'E17');
    assert.equal(cleared.actualValue, 'false');
    assert.equal(cleared.cleared, true);
    assert.deepEqual(cleared.component, raised.component);
  });

  it('RequestStopTransaction: Ended without a token, EVConnected, with the final register', async () => {
    p.charger.handle('RemoteStopTransaction', async ({ params }) => {
      assert.equal(params.transactionId, 1);
      setImmediate(() => p.charger.call('StopTransaction', { transactionId: 1, meterStop: 15000,
        timestamp: isoNow(), reason: 'Remote', idTag: TOKEN }));
      return { status: 'Accepted' };
    });
    const result = await p.upstream.call('RequestStopTransaction', { transactionId: txUuid });
    assert.equal(result.status, 'Accepted');
    const ended = await waitFor(() => events().find((e) => e.eventType === 'Ended'), 5000, 'Ended');
    assert.equal(ended.transactionInfo.transactionId, txUuid);
    assert.equal(ended.transactionInfo.stoppedReason, 'Remote');
    assert.equal(ended.transactionInfo.chargingState, 'EVConnected');
    assert.equal(ended.idToken, undefined, 'a remote stop names no token: the CSMS prices it');
    const end = ended.meterValue.at(-1).sampledValue[0];
    assert.equal(end.value, 15000);
    assert.equal(end.context, 'Transaction.End');
    const seqs = events().map((e) => e.seqNo);
    assert.deepEqual(seqs, seqs.map((_, i) => i), 'seqNo 0, 1, 2, ...');
  });

  it('the Local stop of a driver names the token', async () => {
    const { answer } = await chargerCall(p.csms, p.charger, identity, 'StartTransaction',
      { connectorId: 1, idTag: '04A2B3C4', meterStart: 15000, timestamp: isoNow() });
    await p.charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await p.charger.call('StopTransaction', { transactionId: answer.transactionId, meterStop: 16000,
      timestamp: isoNow(), reason: 'Local', idTag: '04A2B3C4' });
    const ended = events().filter((e) => e.eventType === 'Ended').at(-1);
    assert.deepEqual(ended.idToken, { idToken: '04A2B3C4', type: 'ISO14443' });
    assert.equal(ended.triggerReason, 'StopAuthorized');
    assert.equal(ended.transactionInfo.chargingState, 'Idle');
  });

  it('no strict-mode rejection and no CALLERROR on either leg', () => {
    assertClean(p.problems, [['charger', p.charger], ['upstream', p.upstream]]);
  });
});
