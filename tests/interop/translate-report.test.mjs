// SPDX-License-Identifier: MIT
//
// GetConfiguration without keys through the real ocppgw: a strict 1.6 CSMS
// asks a strict 2.0.1 charger for its whole configuration; the gateway sends
// a FullInventory GetBaseReport, answers the charger's NotifyReport parts
// itself and gives the CSMS the mapped keys they carried. Also the fallback
// to GetVariables when the charger refuses the report. Neither strict peer
// may reject a frame and no CALLERROR may cross either leg.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { isoNow, stopAll } from './lib/harness.mjs';
import { assertClean, chargerCall, startPair } from './lib/translate-peers.mjs';

const variable = (component, name, value, mutability, instance) => ({
  component: { name: component },
  variable: instance ? { name, instance } : { name },
  variableAttribute: [{ type: 'Actual', value, ...(mutability ? { mutability } : {}) }],
});

describe('2.0.1 charger -> 1.6 CSMS: GetConfiguration without keys', { timeout: 60000 }, () => {
  const identity = 'TR-REPORT-201-16';
  let p;

  before(async () => {
    p = await startPair({ chargerVersion: '2.0.1', csmsVersion: '1.6', identity });
    p.csms.responders.BootNotification = { status: 'Accepted', currentTime: isoNow(), interval: 300 };
    const { answer } = await chargerCall(p.csms, p.charger, identity, 'BootNotification',
      { reason: 'PowerUp', chargingStation: { model: 'FastCharger 50', vendorName: 'Acme' } });
    assert.equal(answer.status, 'Accepted');
  });
  after(async () => stopAll({ clients: [p?.charger], gw: p?.gw, csms: p?.csms }));

  it('becomes GetBaseReport; the NotifyReport parts come back as configurationKey', async () => {
    const got = [];
    const answers = [];
    let sent;
    const parts = [
      [variable('OCPPCommCtrlr', 'HeartbeatInterval', '300', 'ReadWrite'),
        variable('ChargingStation', 'Model', 'FastCharger 50', 'ReadOnly'),
        variable('SmartChargingCtrlr', 'RateUnit', 'A,W', 'ReadOnly')],
      [variable('TxCtrlr', 'EVConnectionTimeOut', '60'),
        variable('DeviceDataCtrlr', 'ItemsPerMessage', '20', 'ReadOnly', 'GetVariables'),
        { component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'AvailabilityState' },
          variableAttribute: [{ value: 'Available' }] },
        { component: { name: 'EVSE', evse: { id: 2 } }, variable: { name: 'AvailabilityState' },
          variableAttribute: [{ value: 'Available' }] }],
    ];
    p.charger.handle('GetBaseReport', ({ params }) => {
      got.push(params);
      // The parts follow the answer, as a station sends them (B07).
      const sendParts = async () => {
        for (const [seqNo, reportData] of parts.entries()) {
          answers.push(await p.charger.call('NotifyReport', {
            requestId: params.requestId, generatedAt: isoNow(), seqNo, reportData,
            tbc: seqNo < parts.length - 1,
          }));
        }
      };
      sent = new Promise((resolve) => setImmediate(resolve)).then(sendParts);
      return { status: 'Accepted' };
    });
    const result = await p.upstream.call('GetConfiguration', {});
    assert.equal(got.length, 1);
    assert.equal(got[0].reportBase, 'FullInventory');
    assert.ok(Number.isInteger(got[0].requestId) && got[0].requestId > 0);
    assert.deepEqual(result.configurationKey, [
      { key: 'HeartbeatInterval', readonly: false, value: '300' },
      { key: 'ChargingScheduleAllowedChargingRateUnit', readonly: true, value: 'A,W' },
      { key: 'ConnectionTimeOut', readonly: false, value: '60' },
      { key: 'GetConfigurationMaxKeys', readonly: true, value: '20' },
      // required by 1.6, said by the gateway from the report (issue 20, 11):
      // two EVSEs, and the smart charging controller the report showed
      { key: 'NumberOfConnectors', readonly: true, value: '2' },
      { key: 'SupportedFeatureProfiles', readonly: true,
        value: 'Core,FirmwareManagement,RemoteTrigger,SmartCharging' },
    ]);
    assert.equal(result.unknownKey, undefined);
    // The last part's answer may follow the CSMS's result.
    await sent;
    assert.deepEqual(answers, [{}, {}]);
    assert.equal(p.csms.callsOf(identity).filter((c) => c.method === 'NotifyReport').length, 0,
      'NotifyReport reached the 1.6 CSMS');
    p.charger.removeHandler('GetBaseReport');
  });

  it('falls back to GetVariables when the charger refuses the report', async () => {
    const got = [];
    p.charger.handle('GetBaseReport', ({ params }) => {
      got.push({ method: 'GetBaseReport', params });
      return { status: 'NotSupported' };
    });
    p.charger.handle('GetVariables', ({ params }) => {
      got.push({ method: 'GetVariables', params });
      return { getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: '120',
        component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] };
    });
    const result = await p.upstream.call('GetConfiguration', { key: [] });
    assert.deepEqual(got.map((g) => g.method), ['GetBaseReport', 'GetVariables']);
    assert.ok(got[1].params.getVariableData.length > 1, 'GetVariables asks for every mapped key');
    // the inventory the first report left still answers the required keys
    assert.deepEqual(result, { configurationKey: [
      { key: 'HeartbeatInterval', readonly: false, value: '120' },
      { key: 'NumberOfConnectors', readonly: true, value: '2' },
      { key: 'SupportedFeatureProfiles', readonly: true,
        value: 'Core,FirmwareManagement,RemoteTrigger,SmartCharging' }] });
    p.charger.removeHandler('GetBaseReport');
    p.charger.removeHandler('GetVariables');
  });

  it('no strict-mode rejection and no CALLERROR on either leg', () => {
    assertClean(p.problems, [['charger', p.charger], ['upstream', p.upstream]]);
  });
});
