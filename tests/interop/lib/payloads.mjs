// SPDX-License-Identifier: MIT
//
// Realistic message sequences per OCPP version for the relay tests: what a
// charger sends and what a CSMS answers, then what a CSMS asks and what the
// charger answers. Each entry is {action, request, response}; all of them
// pass ocpp-rpc's strict validation for their version.

const T0 = Date.UTC(2025, 2, 14, 9, 30, 0);
const ts = (sec) => new Date(T0 + sec * 1000).toISOString();

const RFID = '04A2B3C4D5E6F7';

export function chargerToCsms(version) {
  return version === '1.6' ? charger16() : charger2x();
}

export function csmsToCharger(version) {
  return version === '1.6' ? csms16() : csms2x(version);
}

function charger16() {
  const txId = 4711;
  return [
    { action: 'BootNotification',
      request: { chargePointVendor: 'Acme', chargePointModel: 'FastCharger 50',
        chargePointSerialNumber: 'SN-0001', chargeBoxSerialNumber: 'CB-0001',
        firmwareVersion: '1.2.3', iccid: '8931440400012345678', imsi: '262019876543210',
        meterType: 'ABB B23', meterSerialNumber: 'M-42' },
      response: { status: 'Accepted', currentTime: ts(0), interval: 300 } },
    { action: 'Heartbeat', request: {}, response: { currentTime: ts(1) } },
    { action: 'StatusNotification',
      request: { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: ts(2),
        info: 'cable plugged', vendorId: 'Acme' },
      response: {} },
    { action: 'Authorize', request: { idTag: RFID },
      response: { idTagInfo: { status: 'Accepted', expiryDate: ts(86400), parentIdTag: 'FLEET-1' } } },
    { action: 'StartTransaction',
      request: { connectorId: 1, idTag: RFID, meterStart: 12345, timestamp: ts(5) },
      response: { transactionId: txId, idTagInfo: { status: 'Accepted', parentIdTag: 'FLEET-1' } } },
    { action: 'StatusNotification',
      request: { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: ts(6) },
      response: {} },
    { action: 'MeterValues',
      request: { connectorId: 1, transactionId: txId, meterValue: [{
        timestamp: ts(65),
        sampledValue: [
          { value: '12845', context: 'Sample.Periodic', format: 'Raw',
            measurand: 'Energy.Active.Import.Register', location: 'Outlet', unit: 'Wh' },
          { value: '11040', context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
          { value: '16.0', context: 'Sample.Periodic', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
          { value: '230.1', context: 'Sample.Periodic', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
          { value: '41', context: 'Sample.Periodic', measurand: 'SoC', location: 'EV', unit: 'Percent' },
        ] }] },
      response: {} },
    { action: 'DataTransfer',
      request: { vendorId: 'com.acme', messageId: 'Diag', data: '{"temp":41.5}' },
      response: { status: 'Accepted', data: 'ok' } },
    { action: 'StopTransaction',
      request: { transactionId: txId, idTag: RFID, meterStop: 20345, timestamp: ts(1800), reason: 'Local',
        transactionData: [{ timestamp: ts(1800), sampledValue: [
          { value: '20345', context: 'Transaction.End', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        ] }] },
      response: { idTagInfo: { status: 'Accepted' } } },
    { action: 'StatusNotification',
      request: { connectorId: 1, errorCode: 'NoError', status: 'Finishing', timestamp: ts(1801) },
      response: {} },
  ];
}

function csms16() {
  return [
    { action: 'RemoteStartTransaction',
      request: { connectorId: 1, idTag: RFID, chargingProfile: {
        chargingProfileId: 7, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Absolute',
        chargingSchedule: { chargingRateUnit: 'A', startSchedule: ts(0),
          chargingSchedulePeriod: [{ startPeriod: 0, limit: 16.0, numberPhases: 3 }] } } },
      response: { status: 'Accepted' } },
    { action: 'RemoteStopTransaction', request: { transactionId: 4711 }, response: { status: 'Accepted' } },
    { action: 'Reset', request: { type: 'Soft' }, response: { status: 'Accepted' } },
    { action: 'ChangeConfiguration', request: { key: 'HeartbeatInterval', value: '120' },
      response: { status: 'Accepted' } },
    { action: 'GetConfiguration', request: { key: ['HeartbeatInterval', 'FooKey'] },
      response: { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '120' }],
        unknownKey: ['FooKey'] } },
    { action: 'TriggerMessage', request: { requestedMessage: 'StatusNotification', connectorId: 1 },
      response: { status: 'Accepted' } },
    { action: 'ChangeAvailability', request: { connectorId: 0, type: 'Inoperative' },
      response: { status: 'Scheduled' } },
  ];
}

function charger2x() {
  const txId = '5b9c1a2e-8a1f-4c3e-9d7b-0e6f2a4c8b11';
  const idToken = { idToken: RFID, type: 'ISO14443' };
  const evse = { id: 1, connectorId: 1 };
  return [
    { action: 'BootNotification',
      request: { reason: 'PowerUp', chargingStation: { model: 'FastCharger 50', vendorName: 'Acme',
        serialNumber: 'SN-0001', firmwareVersion: '1.2.3',
        modem: { iccid: '8931440400012345678', imsi: '262019876543210' } } },
      response: { currentTime: ts(0), interval: 300, status: 'Accepted' } },
    { action: 'Heartbeat', request: {}, response: { currentTime: ts(1) } },
    { action: 'StatusNotification',
      request: { timestamp: ts(2), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 },
      response: {} },
    { action: 'Authorize', request: { idToken },
      response: { idTokenInfo: { status: 'Accepted', cacheExpiryDateTime: ts(86400),
        groupIdToken: { idToken: 'FLEET-1', type: 'Central' } } } },
    { action: 'TransactionEvent',
      request: { eventType: 'Started', timestamp: ts(5), triggerReason: 'Authorized', seqNo: 0,
        transactionInfo: { transactionId: txId, chargingState: 'EVConnected' }, idToken, evse,
        meterValue: [{ timestamp: ts(5), sampledValue: [
          { value: 12345, context: 'Transaction.Begin', measurand: 'Energy.Active.Import.Register',
            unitOfMeasure: { unit: 'Wh' } }] }] },
      response: { idTokenInfo: { status: 'Accepted' } } },
    { action: 'TransactionEvent',
      request: { eventType: 'Updated', timestamp: ts(65), triggerReason: 'MeterValuePeriodic', seqNo: 1,
        transactionInfo: { transactionId: txId, chargingState: 'Charging' },
        meterValue: [{ timestamp: ts(65), sampledValue: [
          { value: 12845, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register',
            location: 'Outlet', unitOfMeasure: { unit: 'Wh' } },
          { value: 11.04, context: 'Sample.Periodic', measurand: 'Power.Active.Import',
            unitOfMeasure: { unit: 'W', multiplier: 3 } },
          { value: 16, context: 'Sample.Periodic', measurand: 'Current.Import', phase: 'L1',
            unitOfMeasure: { unit: 'A' } },
          { value: 41, context: 'Sample.Periodic', measurand: 'SoC', location: 'EV',
            unitOfMeasure: { unit: 'Percent' } }] }] },
      response: {} },
    { action: 'MeterValues',
      request: { evseId: 0, meterValue: [{ timestamp: ts(70), sampledValue: [
        { value: 1523400, context: 'Sample.Clock', measurand: 'Energy.Active.Import.Register',
          unitOfMeasure: { unit: 'Wh' } }] }] },
      response: {} },
    { action: 'DataTransfer',
      request: { vendorId: 'com.acme', messageId: 'Diag', data: { temp: 41.5, fans: [1, 2] } },
      response: { status: 'Accepted', data: 'ok' } },
    { action: 'TransactionEvent',
      request: { eventType: 'Ended', timestamp: ts(1800), triggerReason: 'StopAuthorized', seqNo: 2,
        transactionInfo: { transactionId: txId, chargingState: 'EVConnected', stoppedReason: 'Local' },
        idToken, meterValue: [{ timestamp: ts(1800), sampledValue: [
          { value: 20345, context: 'Transaction.End', measurand: 'Energy.Active.Import.Register',
            unitOfMeasure: { unit: 'Wh' } }] }] },
      response: { totalCost: 3.45, idTokenInfo: { status: 'Accepted' } } },
    { action: 'StatusNotification',
      request: { timestamp: ts(1801), connectorStatus: 'Available', evseId: 1, connectorId: 1 },
      response: {} },
  ];
}

function csms2x() {
  const idToken = { idToken: RFID, type: 'ISO14443' };
  const hb = { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } };
  return [
    { action: 'RequestStartTransaction',
      request: { idToken, remoteStartId: 77, evseId: 1 },
      response: { status: 'Accepted' } },
    { action: 'RequestStopTransaction', request: { transactionId: '5b9c1a2e-8a1f-4c3e-9d7b-0e6f2a4c8b11' },
      response: { status: 'Accepted' } },
    { action: 'Reset', request: { type: 'OnIdle' }, response: { status: 'Scheduled' } },
    { action: 'SetVariables',
      request: { setVariableData: [{ attributeValue: '120', ...hb }] },
      response: { setVariableResult: [{ attributeStatus: 'Accepted', ...hb }] } },
    { action: 'GetVariables',
      request: { getVariableData: [hb] },
      response: { getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: '120', ...hb }] } },
    { action: 'TriggerMessage', request: { requestedMessage: 'StatusNotification', evse: { id: 1, connectorId: 1 } },
      response: { status: 'Accepted' } },
    { action: 'ChangeAvailability', request: { operationalStatus: 'Inoperative' },
      response: { status: 'Scheduled' } },
  ];
}

// A 2.x charger's TransactionEvents on EVSE 1, numbered from seqNo 0:
// `event(eventType, txid, token, wh, transactionInfo extras)`, the token
// (ISO14443) only when given, the energy register reading `wh`.
export function txEvents() {
  let seq = 0;
  return (eventType, txid, token, wh, extra = {}) => ({ eventType, timestamp: new Date().toISOString(),
    triggerReason: eventType === 'Started' ? 'Authorized' : 'MeterValuePeriodic', seqNo: seq++,
    transactionInfo: { transactionId: txid, ...extra },
    ...(token ? { idToken: { idToken: token, type: 'ISO14443' } } : {}),
    evse: { id: 1, connectorId: 1 },
    meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: wh,
      measurand: 'Energy.Active.Import.Register' }] }] });
}
