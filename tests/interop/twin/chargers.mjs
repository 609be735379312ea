// SPDX-License-Identifier: MIT
//
// Simulated chargers of the twin harness, one class per version family
// (1.6; 2.0.1 and 2.1), strict ocpp-rpc clients. Each turns a physical step
// of scenarios.mjs into what a spec-following charger of its version sends,
// and answers the CSMS's calls as such a charger would (configuration or
// device model, profiles, reservations, resets). What it does after an
// answer (a StartTransaction after a remote start, a report after
// GetChargingProfiles) runs on a queue that settle() drains.

import { randomUUID } from 'node:crypto';

import { RPCClient } from 'ocpp-rpc';

import { strictModeValidators, subprotocol } from '../lib/harness.mjs';
import { TOKENS, at } from './scenarios.mjs';

const REGISTER = 'Energy.Active.Import.Register';
const PUBLIC_KEY = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEsimtwinpublickey0000000000000000000000000000';
const SIGNING_METHOD = 'ECDSA-secp256r1-SHA256';

// The OCMF string a signing meter gives for a register reading.
export function ocmf(time, wh) {
  const payload = { FV: '1.0', GI: 'TWIN METER', GS: 'M-42',
    RD: [{ TM: `${time} S`, RV: wh / 1000, RI: '1-b:1.8.0', RU: 'kWh', ST: 'G' }] };
  const sig = { SA: SIGNING_METHOD, SD: `3045022100${String(wh).padStart(8, '0')}` };
  return `OCMF|${JSON.stringify(payload)}|${JSON.stringify(sig)}`;
}

const HASH_DATA = [{ hashAlgorithm: 'SHA256', issuerNameHash: 'a1b2c3d4e5f6', issuerKeyHash: 'f6e5d4c3b2a1',
  serialNumber: '1A2B3C', responderURL: 'http://ocsp.example.test/' }];

// What both families share: the connection, the reaction queue, the
// physical state of each connector.
class SimBase {
  constructor({ version, identity, endpoint, password, scenario, layout }) {
    Object.assign(this, { version, identity, endpoint, password, scenario, layout });
    this.quirks = scenario.quirks ?? {};
    this.conns = new Map(layout.map((l) => [l.conn, { ...l, plugged: false, wh: 0, auth: null,
      tx: null, reserved: null, faulted: false, state: null }]));
    this.problems = [];
    this.queue = Promise.resolve();
    this.profiles = [];
  }

  async connect() {
    const client = new RPCClient({
      endpoint: this.endpoint, identity: this.identity, protocols: [subprotocol(this.version)],
      strictMode: true, strictModeValidators, reconnect: false, callTimeoutMs: 20000,
      pingIntervalMs: 0, password: this.password,
    });
    client.on('strictValidationFailure', (e) => this.problems.push(
      `strict ${e.method} ${e.outbound ? 'out' : 'in'}: ${e.error?.message ?? e.error}`));
    client.on('badMessage', (e) => this.problems.push(`bad message: ${e.error?.message ?? e.error}`));
    this.installHandlers(client);
    await client.connect();
    this.client = client;
  }

  async close() {
    await this.client?.close({ force: true }).catch(() => {});
  }

  // A CALL of the charger's; a CALLERROR or a timeout is kept, not thrown:
  // a real charger goes on with its session.
  async send(method, params) {
    try {
      return await this.client.call(method, params);
    } catch (err) {
      this.problems.push(`${method}: ${err.rpcErrorCode ?? ''} ${err.message}`);
      return null;
    }
  }

  // Runs fn after the current answer has left (handlers return first).
  react(fn) {
    this.queue = this.queue.then(() => new Promise((r) => setTimeout(r, 5))).then(fn)
      .catch((err) => this.problems.push(`reaction: ${err.message}`));
  }

  // Waits for the reactions; a reset the charger scheduled for when it is
  // idle happens once they and the step's messages are out.
  async settle() {
    let q;
    do { q = this.queue; await q; } while (q !== this.queue);
    if (this.resetDue) {
      this.resetDue = false;
      await this.reboot();
    }
  }

  conn(n) { return this.conns.get(n); }

  // A reaction's time: the scenario's clock at the step being played.
  now() { return this.clock ?? at(0); }

  async reboot() {
    await this.close();
    await this.connect();
    await this.boot(true);
  }

  async play(step) {
    const c = step.conn != null ? this.conn(step.conn) : null;
    const t = at(step.at);
    switch (step.do) {
      case 'plug': c.plugged = true; c.wh = step.wh; return this.plug(c, t);
      case 'card': return this.card(c, TOKENS[step.token], t);
      case 'contract': return this.contract(c, TOKENS[step.token], t);
      // Without a session (the charger was refused one) there is no
      // charging state and no transaction sample to send.
      case 'energy': return c.tx && this.chargingState(c, 'Charging', t);
      case 'suspendEV': return c.tx && this.chargingState(c, 'SuspendedEV', t);
      case 'suspendEVSE': return c.tx && this.chargingState(c, 'SuspendedEVSE', t);
      case 'resume': return c.tx && this.chargingState(c, 'Charging', t);
      case 'sample': c.wh = step.wh; return c.tx && this.sample(c, step, t);
      case 'clockSample': c.wh = step.wh; return this.clockSample(c, t);
      case 'unplug': c.plugged = false; return this.unplug(c, t);
      case 'fault': c.faulted = step.code; return this.fault(c, step.code, t);
      case 'clearFault': c.faulted = false; return this.clearFault(c, t);
      case 'costLimit': return this.costLimit(c, t);
      case 'reconnect': await this.close(); return this.connect();
      case 'heartbeat': return this.send('Heartbeat', {});
      default: return undefined; // a CSMS step: the charger only answers
    }
  }
}

// ---------------------------------------------------------------------------
// OCPP 1.6: a transaction needs an idTag, so it starts once the cable is in
// and the driver (or the CSMS) authorized; statuses carry the session.
export class Charger16 extends SimBase {
  constructor(opts) {
    super({ ...opts, version: '1.6' });
    const n = this.layout.length;
    this.config = {
      HeartbeatInterval: ['300', false],
      MeterValueSampleInterval: ['60', false],
      MeterValuesSampledData: [`${REGISTER},Power.Active.Import,Current.Import,SoC`, false],
      StopTxnSampledData: [REGISTER, false],
      ClockAlignedDataInterval: ['900', false],
      AuthorizeRemoteTxRequests: ['false', false],
      LocalAuthorizeOffline: ['true', false],
      LocalAuthListEnabled: ['true', false],
      StopTransactionOnEVSideDisconnect: ['true', false],
      NumberOfConnectors: [String(n), true],
      // The same physical charger as the 2.x station of the scenario, which
      // updates firmware and answers TriggerMessage (2.0.1 requires both).
      SupportedFeatureProfiles: ['Core,FirmwareManagement,RemoteTrigger,LocalAuthListManagement,' +
        'Reservation,SmartCharging', true],
      ConnectorPhaseRotation: [['0.RST', ...this.layout.map((l) => `${l.conn}.RST`)].join(','), false],
      SecurityProfile: ['1', true],
    };
  }

  async boot() {
    await this.send('BootNotification', { chargePointVendor: 'Twin', chargePointModel: 'Twin-16' });
    await this.status(0, 'Available', at(0));
    for (const c of this.conns.values()) {
      await this.status(c.conn, c.faulted ? 'Faulted' : c.reserved ? 'Reserved' :
        c.plugged ? 'Preparing' : 'Available', at(0), c.faulted || 'NoError');
    }
  }

  status(conn, status, t, errorCode = 'NoError') {
    return this.send('StatusNotification', { connectorId: conn, errorCode, status, timestamp: t });
  }

  async plug(c, t) {
    if (c.auth) return this.start(c, t);
    return this.status(c.conn, 'Preparing', t);
  }

  async start(c, t) {
    const params = { connectorId: c.conn, idTag: c.auth.id, meterStart: c.wh, timestamp: t };
    if (c.reserved) params.reservationId = c.reserved;
    c.reserved = null;
    const conf = await this.send('StartTransaction', params);
    c.tx = { id: conf?.transactionId ?? -1, token: c.auth, startWh: c.wh, startTime: t };
  }

  async card(c, token, t) {
    if (c.tx && c.tx.token.id === token.id) return this.stop(c, t, 'Local', token);
    const conf = await this.send('Authorize', { idTag: token.id });
    if (conf?.idTagInfo?.status !== 'Accepted') return undefined;
    c.auth = token;
    if (c.plugged) return this.start(c, t);
    return this.status(c.conn, 'Preparing', t);
  }

  // ISO 15118 Plug & Charge in 1.6 (OCA whitepaper): Authorize travels in a
  // DataTransfer with the contract's certificate hashes.
  async contract(c, token, t) {
    const conf = await this.send('DataTransfer', { vendorId: 'org.openchargealliance.iso15118pnc',
      messageId: 'Authorize', data: JSON.stringify({ idToken: { idToken: token.id, type: 'eMAID' },
        iso15118CertificateHashData: HASH_DATA }) });
    let info = null;
    try { info = JSON.parse(conf?.data ?? 'null'); } catch { /* refused */ }
    if (conf?.status !== 'Accepted' || info?.idTokenInfo?.status !== 'Accepted') return undefined;
    c.auth = token;
    return this.start(c, t);
  }

  chargingState(c, state, t) {
    c.state = state;
    return this.status(c.conn, state, t);
  }

  registerValue(t, wh, context) {
    return { timestamp: t, sampledValue: [{ value: String(wh), context, measurand: REGISTER, unit: 'Wh' }] };
  }

  sample(c, s, t) {
    const sv = [
      { value: String(s.wh), context: 'Sample.Periodic', measurand: REGISTER, unit: 'Wh' },
      { value: String(s.w), context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
      ...s.a.map((a, i) => ({ value: a.toFixed(1), context: 'Sample.Periodic', measurand: 'Current.Import',
        phase: `L${i + 1}`, unit: 'A' })),
      { value: String(s.soc), context: 'Sample.Periodic', measurand: 'SoC', location: 'EV', unit: 'Percent' },
    ];
    return this.send('MeterValues', { connectorId: c.conn, transactionId: c.tx.id,
      meterValue: [{ timestamp: t, sampledValue: sv }] });
  }

  clockSample(c, t) {
    return this.send('MeterValues', { connectorId: c.conn,
      meterValue: [{ timestamp: t, sampledValue: [{ value: String(c.wh), context: 'Sample.Clock',
        measurand: REGISTER, unit: 'Wh' }] }] });
  }

  async stop(c, t, reason, token) {
    const tx = c.tx;
    c.tx = null;
    c.auth = null;
    const end = this.registerValue(t, c.wh, 'Transaction.End');
    const data = [end];
    if (this.quirks.signed) {
      const signed = (time, wh, context) => ({ value: ocmf(time, wh), context, format: 'SignedData',
        measurand: REGISTER, unit: 'Wh' });
      data.unshift({ timestamp: tx.startTime, sampledValue: [signed(tx.startTime, tx.startWh, 'Transaction.Begin')] });
      end.sampledValue.push(signed(t, c.wh, 'Transaction.End'));
    }
    const params = { transactionId: tx.id, meterStop: c.wh, timestamp: t, reason, transactionData: data };
    if (token) params.idTag = token.id;
    // Many 1.6 chargers name the session's idTag whatever stopped it.
    else if (this.quirks.stopIdTag) params.idTag = tx.token.id;
    await this.send('StopTransaction', params);
    this.profiles = this.profiles.filter((p) => p.txId !== tx.id);
    if (c.plugged) await this.status(c.conn, 'Finishing', t);
  }

  async unplug(c, t) {
    if (c.tx) await this.stop(c, t, 'EVDisconnected', null);
    return this.status(c.conn, 'Available', t);
  }

  fault(c, code, t) { return this.status(c.conn, 'Faulted', t, code); }

  clearFault(c, t) {
    return this.status(c.conn, c.tx ? 'Charging' : c.plugged ? 'Preparing' : 'Available', t);
  }

  costLimit(c, t) { return this.stop(c, t, 'Other', null); }

  installHandlers(client) {
    const connOf = (id) => this.conn(id) ?? this.conn(1);
    client.handle('RemoteStartTransaction', ({ params }) => {
      const c = connOf(params.connectorId ?? 1);
      if (c.tx) return { status: 'Rejected' };
      this.react(() => {
        c.auth = { id: params.idTag };
        return c.plugged ? this.start(c, this.now()) : this.status(c.conn, 'Preparing', this.now());
      });
      return { status: 'Accepted' };
    });
    client.handle('RemoteStopTransaction', ({ params }) => {
      const c = [...this.conns.values()].find((x) => x.tx?.id === params.transactionId);
      if (!c) return { status: 'Rejected' };
      this.react(() => this.stop(c, this.now(), 'Remote', null));
      return { status: 'Accepted' };
    });
    client.handle('Reset', ({ params }) => {
      this.react(async () => {
        for (const c of this.conns.values()) {
          if (c.tx) await this.stop(c, this.now(), params.type === 'Soft' ? 'SoftReset' : 'HardReset', null);
        }
        await this.reboot();
      });
      return { status: 'Accepted' };
    });
    client.handle('ReserveNow', ({ params }) => {
      const c = this.conn(params.connectorId);
      if (!c || c.tx || c.plugged) return { status: 'Occupied' };
      c.reserved = params.reservationId;
      this.react(() => this.status(c.conn, 'Reserved', this.now()));
      return { status: 'Accepted' };
    });
    client.handle('CancelReservation', () => ({ status: 'Rejected' }));
    client.handle('GetConfiguration', ({ params }) => {
      const keys = params.key?.length ? params.key : Object.keys(this.config);
      const known = keys.filter((k) => k in this.config);
      return {
        configurationKey: known.map((k) => ({ key: k, readonly: this.config[k][1], value: this.config[k][0] })),
        unknownKey: keys.filter((k) => !(k in this.config) && k !== 'AuthorizationKey'),
      };
    });
    client.handle('ChangeConfiguration', ({ params }) => {
      if (params.key === 'AuthorizationKey') {
        this.password = params.value;
        return { status: 'Accepted' };
      }
      const entry = this.config[params.key];
      if (!entry) return { status: 'NotSupported' };
      if (entry[1]) return { status: 'Rejected' };
      entry[0] = params.value;
      return { status: 'Accepted' };
    });
    client.handle('SetChargingProfile', ({ params }) => {
      const p = params.csChargingProfiles;
      const c = this.conn(params.connectorId);
      if (p.chargingProfilePurpose === 'TxProfile') {
        // 1.6 §3.13.4: a TxProfile needs a transaction on the connector; its
        // transactionId, when given, must name it.
        if (!c?.tx || (p.transactionId != null && p.transactionId !== c.tx.id)) return { status: 'Rejected' };
        this.profiles.push({ id: p.chargingProfileId, txId: c.tx.id, profile: p });
      } else {
        this.profiles = this.profiles.filter((x) => x.id !== p.chargingProfileId);
        this.profiles.push({ id: p.chargingProfileId, profile: p });
      }
      return { status: 'Accepted' };
    });
    client.handle('ClearChargingProfile', ({ params }) => {
      const before = this.profiles.length;
      this.profiles = this.profiles.filter((x) => params.id == null || x.id !== params.id);
      return { status: this.profiles.length < before ? 'Accepted' : 'Unknown' };
    });
    client.handle('TriggerMessage', () => ({ status: 'Rejected' }));
    client.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
    client.handle('ChangeAvailability', () => ({ status: 'Accepted' }));
    client.handle('UnlockConnector', () => ({ status: 'Unlocked' }));
  }

}

// ---------------------------------------------------------------------------
// OCPP 2.0.1 and 2.1: the transaction starts at cable plug-in (TxStartPoint
// EVConnected) and carries its own state; connector status is only
// Available / Occupied / Reserved / Unavailable / Faulted.
export class Charger2x extends SimBase {
  constructor(opts) {
    super(opts);
    const measurands = `${REGISTER},Power.Active.Import,Current.Import,SoC`;
    const rw = (value) => ({ value, mutability: 'ReadWrite' });
    const ro = (value) => ({ value, mutability: 'ReadOnly' });
    this.model = new Map([
      ['OCPPCommCtrlr.HeartbeatInterval', rw('300')],
      ['SampledDataCtrlr.TxUpdatedInterval', rw('60')],
      ['SampledDataCtrlr.TxEndedInterval', rw('60')],
      ['SampledDataCtrlr.TxUpdatedMeasurands', rw(measurands)],
      ['SampledDataCtrlr.TxStartedMeasurands', rw(measurands)],
      ['SampledDataCtrlr.TxEndedMeasurands', rw(REGISTER)],
      ['AlignedDataCtrlr.Interval', rw('900')],
      ['AuthCtrlr.AuthorizeRemoteStart', rw('false')],
      ['AuthCtrlr.LocalAuthorizeOffline', rw('true')],
      ['LocalAuthListCtrlr.Enabled', rw('true')],
      ['ReservationCtrlr.Enabled', rw('true')],
      ['SmartChargingCtrlr.Enabled', rw('true')],
      ['TxCtrlr.StopTxOnEVSideDisconnect', rw('true')],
      ['TxCtrlr.TxStartPoint', rw('EVConnected')],
      ['SecurityCtrlr.SecurityProfile', ro('1')],
      ['SecurityCtrlr.BasicAuthPassword', { value: '', mutability: 'WriteOnly' }],
      ['ChargingStation.PhaseRotation', ro('RST')],
    ]);
    for (const e of new Set(this.layout.map((l) => l.evse))) {
      this.model.set(`EVSE@${e}.PhaseRotation`, ro('RST'));
      this.model.set(`EVSE@${e}.Available`, ro('true'));
    }
    this.eventId = 1;
  }

  keyOf(component, variable) {
    return `${component.name}${component.evse ? `@${component.evse.id}` : ''}.${variable.name}`;
  }

  async boot(afterReset) {
    await this.send('BootNotification', { reason: afterReset ? 'RemoteReset' : 'PowerUp',
      chargingStation: { vendorName: 'Twin', model: `Twin-${this.version}` } });
    for (const c of this.conns.values()) {
      await this.status(c, c.faulted ? 'Faulted' : c.reserved ? 'Reserved' : c.plugged ? 'Occupied' : 'Available', at(0));
    }
  }

  status(c, connectorStatus, t) {
    return this.send('StatusNotification', { timestamp: t, connectorStatus, evseId: c.evse,
      connectorId: c.evseConn });
  }

  registerValue(t, wh, context) {
    const sv = { value: wh, context, measurand: REGISTER, unitOfMeasure: { unit: 'Wh' } };
    if (this.quirks.signed) {
      sv.signedMeterValue = { signedMeterData: ocmf(t, wh), signingMethod: SIGNING_METHOD,
        encodingMethod: 'OCMF', publicKey: PUBLIC_KEY };
    }
    return { timestamp: t, sampledValue: [sv] };
  }

  event(c, eventType, triggerReason, t, extra = {}) {
    const { info = {}, ...rest } = extra;
    const params = { eventType, timestamp: t, triggerReason, seqNo: c.tx.seqNo++,
      transactionInfo: { transactionId: c.tx.id, ...info }, evse: { id: c.evse, connectorId: c.evseConn }, ...rest };
    return this.send('TransactionEvent', params);
  }

  async plug(c, t) {
    await this.status(c, 'Occupied', t);
    c.tx = { id: randomUUID(), seqNo: 0, token: c.auth };
    const extra = { info: { chargingState: 'EVConnected' } };
    let trigger = 'CablePluggedIn';
    if (c.remote) {
      // Started carries the remote start's id and, as E02/F01 allow, no
      // idToken: the CSMS gave the token itself.
      trigger = 'RemoteStart';
      extra.info.remoteStartId = c.remote.remoteStartId;
      c.remote = null;
    } else if (c.auth) {
      extra.idToken = { idToken: c.auth.id, type: c.auth.type };
    }
    if (c.reserved) extra.reservationId = c.reserved;
    c.reserved = null;
    if (!this.quirks.noStartReading) extra.meterValue = [this.registerValue(t, c.wh, 'Transaction.Begin')];
    return this.event(c, 'Started', trigger, t, extra);
  }

  async card(c, token, t) {
    if (c.tx?.token && c.tx.token.id === token.id) {
      return this.end(c, t, 'StopAuthorized', 'Local', { idToken: { idToken: token.id, type: token.type } });
    }
    const conf = await this.send('Authorize', { idToken: { idToken: token.id, type: token.type } });
    if (conf?.idTokenInfo?.status !== 'Accepted') return undefined;
    return this.authorized(c, token, t, 'Authorized');
  }

  authorized(c, token, t, trigger, info = {}) {
    if (!c.tx) { c.auth = token; return undefined; }
    c.tx.token = token;
    return this.event(c, 'Updated', trigger, t, { idToken: { idToken: token.id, type: token.type }, info });
  }

  async contract(c, token, t) {
    const conf = await this.send('Authorize', { idToken: { idToken: token.id, type: token.type },
      iso15118CertificateHashData: HASH_DATA });
    if (conf?.idTokenInfo?.status !== 'Accepted') return undefined;
    return this.authorized(c, token, t, 'Authorized');
  }

  chargingState(c, state, t) {
    c.state = state;
    return this.event(c, 'Updated', 'ChargingStateChanged', t, { info: { chargingState: state } });
  }

  sample(c, s, t) {
    const unit = (u) => ({ unit: u });
    const sv = [
      { value: s.wh, context: 'Sample.Periodic', measurand: REGISTER, unitOfMeasure: unit('Wh') },
      { value: s.w, context: 'Sample.Periodic', measurand: 'Power.Active.Import', unitOfMeasure: unit('W') },
      ...s.a.map((a, i) => ({ value: a, context: 'Sample.Periodic', measurand: 'Current.Import',
        phase: `L${i + 1}`, unitOfMeasure: unit('A') })),
      { value: s.soc, context: 'Sample.Periodic', measurand: 'SoC', location: 'EV', unitOfMeasure: unit('Percent') },
    ];
    return this.event(c, 'Updated', 'MeterValuePeriodic', t, { meterValue: [{ timestamp: t, sampledValue: sv }] });
  }

  clockSample(c, t) {
    return this.send('MeterValues', { evseId: c.evse, meterValue: [{ timestamp: t, sampledValue: [
      { value: c.wh, context: 'Sample.Clock', measurand: REGISTER, unitOfMeasure: { unit: 'Wh' } }] }] });
  }

  async end(c, t, trigger, reason, extra = {}) {
    const chargingState = c.plugged ? 'EVConnected' : 'Idle';
    const params = { ...extra, meterValue: [this.registerValue(t, c.wh, 'Transaction.End')],
      info: { chargingState, stoppedReason: reason } };
    const tx = c.tx;
    await this.event(c, 'Ended', trigger, t, params);
    if (this.quirks.repeatEnd) {
      c.tx = { ...tx, seqNo: tx.seqNo - 1 };
      await this.event(c, 'Ended', trigger, t, params);
    }
    c.tx = null;
    c.auth = null;
    this.profiles = this.profiles.filter((p) => p.txId !== tx.id);
    if (this.scheduledReset && ![...this.conns.values()].some((x) => x.tx)) {
      this.scheduledReset = false;
      this.resetDue = true;
    }
  }

  async unplug(c, t) {
    if (c.tx) await this.end(c, t, 'EVCommunicationLost', 'EVDisconnected');
    return this.status(c, 'Available', t);
  }

  async fault(c, code, t) {
    await this.status(c, 'Faulted', t);
    return this.problem(c, code, 'true', t);
  }

  async clearFault(c, t) {
    await this.status(c, c.plugged ? 'Occupied' : 'Available', t);
    return this.problem(c, null, 'false', t);
  }

  problem(c, code, actualValue, t) {
    const ev = { eventId: this.eventId++, timestamp: t, trigger: 'Alerting', actualValue,
      eventNotificationType: 'HardWiredNotification',
      component: { name: 'Connector', evse: { id: c.evse, connectorId: c.evseConn } },
      variable: { name: 'Problem' } };
    if (code) ev.techCode = code;
    if (actualValue === 'false') ev.cleared = true;
    return this.send('NotifyEvent', { generatedAt: t, seqNo: 0, eventData: [ev] });
  }

  // 2.1 names the cost limit; 2.0.1 has no cost limit at the station and
  // says the nearest limit trigger.
  costLimit(c, t) {
    return this.end(c, t, this.version === '2.1' ? 'CostLimitReached' : 'EnergyLimitReached', 'LocalOutOfCredit');
  }

  evseConn(evseId) {
    return [...this.conns.values()].find((c) => c.evse === evseId && (c.tx || c.plugged)) ??
      [...this.conns.values()].find((c) => c.evse === evseId);
  }

  installHandlers(client) {
    client.handle('RequestStartTransaction', ({ params }) => {
      const c = this.evseConn(params.evseId ?? 1);
      if (!c) return { status: 'Rejected' };
      const token = { id: params.idToken.idToken, type: params.idToken.type };
      const answer = { status: 'Accepted' };
      if (c.tx) {
        if (c.tx.token) return { status: 'Rejected' };
        // F02: the transaction started at plug-in; the answer names it.
        answer.transactionId = c.tx.id;
        this.react(() => this.authorized(c, token, this.now(), 'RemoteStart',
          { remoteStartId: params.remoteStartId }));
      } else {
        c.remote = { remoteStartId: params.remoteStartId };
        c.auth = token;
      }
      return answer;
    });
    client.handle('RequestStopTransaction', ({ params }) => {
      const c = [...this.conns.values()].find((x) => x.tx?.id === params.transactionId);
      if (!c) return { status: 'Rejected' };
      this.react(() => this.end(c, this.now(), 'RemoteStop', 'Remote'));
      return { status: 'Accepted' };
    });
    client.handle('Reset', ({ params }) => {
      const busy = [...this.conns.values()].some((c) => c.tx);
      if (params.type === 'OnIdle' && busy) {
        this.scheduledReset = true;
        return { status: 'Scheduled' };
      }
      this.react(async () => {
        for (const c of this.conns.values()) {
          if (c.tx) await this.end(c, this.now(), 'ResetCommand', 'ImmediateReset');
        }
        await this.reboot();
      });
      return { status: 'Accepted' };
    });
    client.handle('ReserveNow', ({ params }) => {
      const c = this.evseConn(params.evseId ?? 1);
      if (!c || c.tx || c.plugged) return { status: 'Occupied' };
      c.reserved = params.id;
      this.react(() => this.status(c, 'Reserved', this.now()));
      return { status: 'Accepted' };
    });
    client.handle('CancelReservation', () => ({ status: 'Rejected' }));
    client.handle('GetVariables', ({ params }) => ({
      getVariableResult: params.getVariableData.map(({ component, variable }) => {
        const v = this.model.get(this.keyOf(component, variable));
        const r = { component, variable };
        if (!v) return { ...r, attributeStatus: 'UnknownVariable' };
        if (v.mutability === 'WriteOnly') return { ...r, attributeStatus: 'Rejected' };
        return { ...r, attributeStatus: 'Accepted', attributeValue: v.value };
      }),
    }));
    client.handle('SetVariables', ({ params }) => ({
      setVariableResult: params.setVariableData.map(({ component, variable, attributeValue }) => {
        const key = this.keyOf(component, variable);
        const v = this.model.get(key);
        const r = { component, variable };
        if (!v) return { ...r, attributeStatus: 'UnknownVariable' };
        if (v.mutability === 'ReadOnly') return { ...r, attributeStatus: 'Rejected' };
        v.value = attributeValue;
        if (key === 'SecurityCtrlr.BasicAuthPassword') this.password = attributeValue;
        return { ...r, attributeStatus: 'Accepted' };
      }),
    }));
    client.handle('GetBaseReport', ({ params }) => {
      this.react(() => this.send('NotifyReport', { requestId: params.requestId, generatedAt: this.now(),
        seqNo: 0, tbc: false, reportData: [...this.model].map(([key, v]) => {
          const [comp, variable] = key.split('.');
          const [name, evse] = comp.split('@');
          const component = evse ? { name, evse: { id: Number(evse) } } : { name };
          const attr = { type: 'Actual', mutability: v.mutability };
          if (v.mutability !== 'WriteOnly') attr.value = v.value;
          return { component, variable: { name: variable }, variableAttribute: [attr],
            variableCharacteristics: { dataType: 'string', supportsMonitoring: false } };
        }) }));
      return { status: 'Accepted' };
    });
    client.handle('SetChargingProfile', ({ params }) => {
      const p = params.chargingProfile;
      const c = this.evseConn(params.evseId);
      if (p.chargingProfilePurpose === 'TxProfile') {
        // K01.FR.03: a TxProfile names the running transaction.
        if (!c?.tx || p.transactionId !== c.tx.id) return { status: 'Rejected' };
      }
      this.profiles = this.profiles.filter((x) => x.id !== p.id);
      this.profiles.push({ id: p.id, evseId: params.evseId, txId: p.transactionId, profile: p });
      return { status: 'Accepted' };
    });
    client.handle('ClearChargingProfile', ({ params }) => {
      const before = this.profiles.length;
      this.profiles = this.profiles.filter((x) => params.chargingProfileId == null || x.id !== params.chargingProfileId);
      return { status: this.profiles.length < before ? 'Accepted' : 'Unknown' };
    });
    client.handle('GetChargingProfiles', ({ params }) => {
      const crit = params.chargingProfile ?? {};
      const match = this.profiles.filter((x) => (params.evseId == null || x.evseId === params.evseId) &&
        (!crit.chargingProfilePurpose || x.profile.chargingProfilePurpose === crit.chargingProfilePurpose) &&
        (!crit.chargingProfileId || crit.chargingProfileId.includes(x.id)));
      if (!match.length) return { status: 'NoProfiles' };
      this.react(async () => {
        const evses = [...new Set(match.map((x) => x.evseId))];
        for (const [i, e] of evses.entries()) {
          await this.send('ReportChargingProfiles', { requestId: params.requestId, chargingLimitSource: 'CSO',
            evseId: e, chargingProfile: match.filter((x) => x.evseId === e).map((x) => x.profile),
            tbc: i < evses.length - 1 });
        }
      });
      return { status: 'Accepted' };
    });
    client.handle('GetTransactionStatus', () => ({ messagesInQueue: false }));
    client.handle('TriggerMessage', () => ({ status: 'Rejected' }));
    client.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
    client.handle('ChangeAvailability', () => ({ status: 'Accepted' }));
    client.handle('UnlockConnector', () => ({ status: 'Unlocked' }));
    client.handle('GetReport', () => ({ status: 'NotSupported' }));
  }

}

export function makeCharger(opts) {
  return opts.version === '1.6' ? new Charger16(opts) : new Charger2x(opts);
}
