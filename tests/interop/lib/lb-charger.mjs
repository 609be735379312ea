// SPDX-License-Identifier: MIT
//
// A charger for the load-balancing tests: a strict ocpp-rpc peer (1.6, 2.0.1
// or 2.1, one EVSE) that obeys the charging profiles it gets as a real one
// would (the limit in force is the minimum of Max, external constraints and
// Tx-or-TxDefault, each at its highest stack level), and whose car draws what
// they allow per phase: on the phases the profile in force offers
// (numberPhases, 2.x phaseToUse), reported in MeterValues.

import assert from 'node:assert/strict';

import { connectCharger, isoNow } from './harness.mjs';


export function scheduleOf(payload, v16) {
  const body = v16 ? payload.csChargingProfiles : payload.chargingProfile;
  const sched = v16 ? body.chargingSchedule : body.chargingSchedule[0];
  return { body, sched, evse: v16 ? payload.connectorId : payload.evseId };
}

// The period of a profile in force now, or null.
export function periodNow({ body, sched }) {
  let elapsed = 0;
  if (body.chargingProfileKind === 'Absolute' && sched.startSchedule)
    elapsed = Math.max(0, (Date.now() - Date.parse(sched.startSchedule)) / 1000);
  let now = null;
  for (const p of sched.chargingSchedulePeriod) if (p.startPeriod <= elapsed) now = p;
  assert.equal(sched.chargingRateUnit, 'A');
  return now;
}

export function limitNow(s) {
  return periodNow(s)?.limit ?? Infinity;
}

export class Charger {
  // spec.rampMs: a car takes more current only once a higher limit has
  // been in force this long (a real one follows the PWM in seconds); less
  // at once. Default 0: at once both ways.
  constructor(spec, onReport) {
    Object.assign(this, spec);
    this.rampMs ??= 0;
    this.raiseSince = null;
    this.v16 = spec.ver === '1.6';
    this.profiles = new Map();   // `${purpose}/${evse}/${stackLevel}` -> schedule
    this.gwProfiles = [];        // every profile we got, in order
    this.tx = null;
    this.draw = [0, 0, 0];       // by grid phase
    this.switches = [];          // [ms, numberPhases, phaseToUse] as the profiles change them
    this.clears = [];            // ClearChargingProfile requests, in order
    this.onReport = onReport;
    this.seq = 0;
  }

  async connect(gw) {
    this.client = await connectCharger(gw, this.id, this.ver);
    this.client.handle('SetChargingProfile', ({ params }) => {
      const s = scheduleOf(params, this.v16);
      this.profiles.set(`${s.body.chargingProfilePurpose}/${s.evse}/${s.body.stackLevel}`, s);
      this.gwProfiles.push({ at: Date.now(), ...s });
      this.apply();
      return { status: 'Accepted' };
    });
    this.client.handle('ClearChargingProfile', ({ params }) => {
      const id = this.v16 ? params.id : params.chargingProfileId;
      // no criteria at all: every profile goes (1.6 §5.3, 2.0.1 K10)
      const all = id === undefined && (this.v16
        ? params.connectorId === undefined && params.chargingProfilePurpose === undefined &&
          params.stackLevel === undefined
        : params.chargingProfileCriteria === undefined);
      this.clears.push({ at: Date.now(), params });
      let found = false;
      for (const [k, s] of this.profiles) {
        if (!all && (this.v16 ? s.body.chargingProfileId : s.body.id) !== id) continue;
        this.profiles.delete(k);
        found = true;
      }
      this.apply();
      return { status: found ? 'Accepted' : 'Unknown' };
    });
    await this.client.call('BootNotification', this.v16
      ? { chargePointVendor: 'Test', chargePointModel: 'LB' }
      : { reason: 'PowerUp', chargingStation: { vendorName: 'Test', model: 'LB' } });
    await this.status('Available');
    this.timer = setInterval(() => this.report().catch(() => {}), 1000);
  }

  status(st) {
    return this.client.call('StatusNotification', this.v16
      ? { connectorId: 1, errorCode: 'NoError', status: st === 'Occupied' ? 'Charging' : st }
      : { timestamp: isoNow(), connectorStatus: st, evseId: 1, connectorId: 1 });
  }

  // The profile of @purpose on @evse with the highest stack level, or null.
  top(purpose, evse) {
    let best = null;
    for (const [k, s] of this.profiles)
      if (k.startsWith(`${purpose}/${evse}/`) && (!best || s.body.stackLevel > best.body.stackLevel))
        best = s;
    return best;
  }

  // The gateway's limit for EVSE 1 and its failsafe: 1.6 TxDefault and
  // Max, 2.x external constraints.
  gwEvse() {
    return this.top(this.v16 ? 'TxDefaultProfile' : 'ChargingStationExternalConstraints', 1);
  }

  gwMax() {
    return this.top(this.v16 ? 'ChargePointMaxProfile' : 'ChargingStationExternalConstraints', 0);
  }

  // The limit in force: min(Max, external constraints, Tx or else TxDefault
  // for EVSE 1, else 0), each the profile with the highest stack level
  // (OCPP 1.6 §3.13, 2.0.1 K01).
  limit() {
    const p = (k) => {
      const s = this.top(...k.split('/'));
      return s ? limitNow(s) : null;
    };
    const max = p(this.v16 ? 'ChargePointMaxProfile/0' : 'ChargingStationMaxProfile/0');
    const ext = Math.min(p('ChargingStationExternalConstraints/0') ?? Infinity,
      p('ChargingStationExternalConstraints/1') ?? Infinity);
    let tx = this.tx ? p('TxProfile/1') : null;
    if (tx == null) tx = p('TxDefaultProfile/1') ?? p('TxDefaultProfile/0');
    return Math.min(max ?? Infinity, ext, tx ?? Infinity);
  }

  // The EVSE lines (0-2) the charger offers now: the gateway's EVSE
  // profile's numberPhases (default all it is wired to), with one phase
  // its phaseToUse (2.x) or else its L1.
  lines() {
    const p = this.gwEvse() ? periodNow(this.gwEvse()) : null;
    const n = p?.numberPhases ?? this.phases;
    if (n === 1) return [(p?.phaseToUse ?? 1) - 1];
    return [0, 1, 2].slice(0, Math.min(n, this.phases));
  }

  // What the car draws now, by grid phase; reported at once when it changes.
  apply() {
    const want = this.tx ? this.car[1] : 0;
    const lim = this.limit();
    const amps = lim < 6 ? 0 : Math.min(want, lim);
    const draw = [0, 0, 0];
    const lines = this.lines();
    const [, n, use] = this.switches.at(-1) ?? [];
    if (n !== lines.length || use !== lines[0])
      this.switches.push([Date.now(), lines.length, lines[0]]);
    // a single-phase car takes the first line offered
    for (const k of lines.slice(0, this.car[0])) draw[this.rot[k]] = amps;
    if (this.rampMs && draw.some((a, i) => a > this.draw[i])) {
      this.raiseSince ??= Date.now();
      const wait = this.raiseSince + this.rampMs - Date.now();
      if (wait > 0) {
        for (let i = 0; i < 3; i++) draw[i] = Math.min(draw[i], this.draw[i]);
        clearTimeout(this.rampTimer);
        this.rampTimer = setTimeout(() => this.apply(), wait + 1);
      } else {
        this.raiseSince = null;
      }
    } else {
      this.raiseSince = null;
    }
    const changed = draw.some((a, i) => a !== this.draw[i]);
    this.draw = draw;
    this.onReport();
    if (changed) this.report().catch(() => {});
  }

  // EVSE L1..L3 as the charger sees them.
  evseCurrents() {
    return [0, 1, 2].map((k) => this.draw[this.rot[k]]);
  }

  async report() {
    this.onReport();
    if (!this.tx) return;
    const cur = this.evseCurrents();
    if (this.v16) {
      await this.client.call('MeterValues', {
        connectorId: 1, transactionId: this.tx,
        meterValue: [{ timestamp: isoNow(), sampledValue: cur.map((a, k) => ({
          value: a.toFixed(1), measurand: 'Current.Import', phase: `L${k + 1}`, unit: 'A' })) }],
      });
    } else {
      await this.client.call('MeterValues', {
        evseId: 1,
        meterValue: [{ timestamp: isoNow(), sampledValue: cur.map((a, k) => ({
          value: a, measurand: 'Current.Import', phase: `L${k + 1}`,
          unitOfMeasure: { unit: 'A' } })) }],
      });
    }
  }

  async arrive() {
    await this.status('Occupied');
    if (this.v16) {
      const r = await this.client.call('StartTransaction', {
        connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: isoNow() });
      this.tx = r.transactionId;
    } else {
      const txId = `tx-${this.id}-${Date.now()}`;
      await this.client.call('TransactionEvent', {
        eventType: 'Started', timestamp: isoNow(), triggerReason: 'Authorized',
        seqNo: this.seq++, transactionInfo: { transactionId: txId },
        idToken: { idToken: 'TAG1', type: 'ISO14443' }, evse: { id: 1, connectorId: 1 } });
      this.tx = txId;
    }
    this.apply();
  }

  async leave() {
    const tx = this.tx;
    this.tx = null;
    this.apply();
    if (this.v16) {
      await this.client.call('StopTransaction', { transactionId: tx, meterStop: 0,
        timestamp: isoNow() });
    } else {
      await this.client.call('TransactionEvent', {
        eventType: 'Ended', timestamp: isoNow(), triggerReason: 'EVCommunicationLost',
        seqNo: this.seq++, transactionInfo: { transactionId: tx, stoppedReason: 'EVDisconnected' },
      });
    }
    await this.status('Available');
  }

  async close() {
    clearInterval(this.timer);
    clearTimeout(this.rampTimer);
    await this.client?.close({ force: true }).catch(() => {});
  }
}

