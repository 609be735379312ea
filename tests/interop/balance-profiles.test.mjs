// SPDX-License-Identifier: MIT
//
// Profiles that stay: a CSMS's ClearChargingProfile (no criteria, or
// criteria matching the balancer's stack level and purpose) must not leave
// a charger without the balancer's limit. Strict ocpp-rpc chargers keep a
// full record of the profiles they hold and clear them by the rules of
// their version (1.6 §5.4 / 2.0.1 K10); one 1.6 and one 2.0.1 charger
// behind a 2.0.1 CSMS, and one 2.0.1 charger behind a 1.6 CSMS (translated).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { connectCharger, isoNow, startGateway, stopAll, waitFor } from './lib/harness.mjs';
import { startBalanceCsms } from './lib/balance-csms.mjs';

const SITE_A = 30;
const CONF_STACK = 8;       // load_balancing.stack_level
const STACK = 6;            // the chargers' ChargeProfileMaxStackLevel: what the balancer takes
const CAR_A = 32;            // what each car would take without a limit
const OURS = (id) => id >= 770000000;
const EXT = 'ChargingStationExternalConstraints';

const FLEET = [
  { id: 'CLR16', ver: '1.6' },
  { id: 'CLR201', ver: '2.0.1' },
  { id: 'CLR201T', ver: '2.0.1', upstream: '1.6' },  // the CSMS speaks 1.6
  { id: 'CLR201X', ver: '2.0.1', noExt: true },       // refuses external constraints
];

const config = () => `
log = { level = "debug"; };
groups = ( { name = "translated"; upstream_ocpp = "1.6"; chargers = [ "CLR201T" ]; } );
load_balancing = {
  stack_level = ${CONF_STACK}; update_interval = 30; min_change = 1.0; min_interval = 1;
  site = { limit_a = ${SITE_A.toFixed(1)}; phases = 3; };
};
`;

// A charger holding profiles as the spec says and drawing what they allow.
class Charger {
  constructor(spec) {
    Object.assign(this, spec);
    this.v16 = spec.ver === '1.6';
    this.ext = !this.v16 && !spec.noExt;
    this.held = [];          // { id, evse, purpose, level, limit }
    this.tx = null;
  }

  async connect(gw) {
    const v16 = this.v16;
    this.client = await connectCharger(gw, this.id, this.ver);
    // ChargeProfileMaxStackLevel, asked the 1.6 or the 2.x way
    this.client.handle('GetConfiguration', ({ params }) => {
      assert.deepEqual(params.key, ['ChargeProfileMaxStackLevel']);
      return { configurationKey: [{ key: 'ChargeProfileMaxStackLevel', readonly: true,
        value: String(STACK) }] };
    });
    this.client.handle('GetVariables', ({ params }) => ({
      getVariableResult: params.getVariableData.map((d) => {
        const ok = d.component.name === 'SmartChargingCtrlr' && d.variable.name === 'ProfileStackLevel';
        return { attributeStatus: ok ? 'Accepted' : 'UnknownVariable', component: d.component,
          variable: d.variable, ...(ok ? { attributeValue: String(STACK) } : {}) };
      }),
    }));
    this.client.handle('SetChargingProfile', ({ params }) => {
      const body = v16 ? params.csChargingProfiles : params.chargingProfile;
      if (body.stackLevel > STACK || (this.noExt && body.chargingProfilePurpose === EXT))
        return { status: 'Rejected' };
      const sched = v16 ? body.chargingSchedule : body.chargingSchedule[0];
      const p = { id: v16 ? body.chargingProfileId : body.id, evse: v16 ? params.connectorId : params.evseId,
        purpose: body.chargingProfilePurpose, level: body.stackLevel, body,
        limit: sched.chargingSchedulePeriod[0].limit };
      // same id, or same evse + purpose + stack level: replaced
      this.held = this.held.filter((h) => h.id !== p.id &&
        !(h.evse === p.evse && h.purpose === p.purpose && h.level === p.level));
      this.held.push(p);
      return { status: 'Accepted' };
    });
    this.client.handle('ClearChargingProfile', ({ params }) => {
      const id = v16 ? params.id : params.chargingProfileId;
      const c = v16 ? params : (params.chargingProfileCriteria ?? {});
      const evse = v16 ? c.connectorId : c.evseId;
      const hit = (h) => (id != null ? h.id === id
        : (evse == null || h.evse === evse) && (c.chargingProfilePurpose == null ||
          h.purpose === c.chargingProfilePurpose) && (c.stackLevel == null || h.level === c.stackLevel));
      const before = this.held.length;
      this.held = this.held.filter((h) => !hit(h));
      return { status: this.held.length < before ? 'Accepted' : 'Unknown' };
    });
    await this.client.call('BootNotification', v16
      ? { chargePointVendor: 'Test', chargePointModel: 'CLR' }
      : { reason: 'PowerUp', chargingStation: { vendorName: 'Test', model: 'CLR' } });
    await this.client.call('StatusNotification', v16
      ? { connectorId: 1, errorCode: 'NoError', status: 'Charging' }
      : { timestamp: isoNow(), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
    if (v16) {
      const r = await this.client.call('StartTransaction', { connectorId: 1, idTag: 'TAG1',
        meterStart: 0, timestamp: isoNow() });
      this.tx = r.transactionId;
    } else {
      this.tx = `tx-${this.id}`;
      await this.client.call('TransactionEvent', { eventType: 'Started', timestamp: isoNow(),
        triggerReason: 'Authorized', seqNo: 0, transactionInfo: { transactionId: this.tx },
        idToken: { idToken: 'TAG1', type: 'ISO14443' }, evse: { id: 1, connectorId: 1 } });
    }
  }

  // The top stack level of @purpose on @evse.
  top(purpose, evse) {
    return this.held.filter((h) => h.purpose === purpose && h.evse === evse)
      .sort((a, b) => b.level - a.level)[0] ?? null;
  }

  // The purpose the balancer uses here: 2.x external constraints (a
  // minimum with every other purpose), 1.6 TxDefault and Max.
  get purpose() {
    return this.ext ? EXT : 'TxDefaultProfile';
  }

  // The balancer's profile for EVSE 1, or null.
  ours() {
    const t = this.top(this.purpose, 1);
    return t && OURS(t.id) ? t : null;
  }

  // ... and its failsafe.
  oursMax() {
    const t = this.top(this.ext ? EXT : this.v16 ? 'ChargePointMaxProfile' : 'ChargingStationMaxProfile', 0);
    return t && OURS(t.id) ? t : null;
  }

  // What the car draws now: min(Max, Tx or TxDefault) (1.6 §3.13), no
  // profile: all it wants; under 6 A it pauses.
  draw() {
    const max = this.top(this.v16 ? 'ChargePointMaxProfile' : 'ChargingStationMaxProfile', 0);
    const tx = this.top('TxProfile', 1) ?? this.top('TxDefaultProfile', 1) ??
      this.top('TxDefaultProfile', 0);
    const ext = Math.min(this.top(EXT, 0)?.limit ?? Infinity, this.top(EXT, 1)?.limit ?? Infinity);
    const lim = Math.min(max?.limit ?? Infinity, ext, tx?.limit ?? Infinity, CAR_A);
    return lim < 6 ? 0 : lim;
  }
}

describe('a CSMS ClearChargingProfile leaves the balancer\'s limit in force', { timeout: 60000 }, () => {
  let csms, gw;
  const fleet = [];
  const csmsTx = new Map();
  const siteDraw = () => fleet.reduce((a, c) => a + c.draw(), 0);

  before(async () => {
    csms = await startBalanceCsms();
    // the 1.6 transaction ids the CSMS gave out, for its TxProfiles
    const start = csms.responders.StartTransaction;
    csms.responders.StartTransaction = (params, client) => {
      const r = start(params, client);
      csmsTx.set(client.identity, r.transactionId);
      return r;
    };
    gw = await startGateway({ csmsUrl: csms.url, config: config() });
    for (const spec of FLEET) {
      const c = new Charger(spec);
      fleet.push(c);
      await c.connect(gw);
    }
    await waitFor(() => fleet.every((c) => c.ours() && c.ours().limit >= 6), 5000,
      'the balancer\'s profiles');
    assert.ok(siteDraw() <= SITE_A, `draw ${siteDraw()} A within the site's ${SITE_A} A`);
    assert.equal((await csms.waitClient('CLR201T')).protocol, 'ocpp1.6', 'CLR201T is translated');
  });

  after(async () => {
    for (const c of fleet) await c.client?.close({ force: true }).catch(() => {});
    await stopAll({ gw, csms });
  });

  // The CSMS, in its own version: a TxDefault of its own, then @clear.
  const csmsSetsAndClears = async (c, clear16, clear2, wipesCsms, status = 'Accepted') => {
    const up = await csms.waitClient(c.id);
    const v16 = up.protocol === 'ocpp1.6';
    const sched = { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 30 }] };
    const st = await up.call('SetChargingProfile', v16
      ? { connectorId: 1, csChargingProfiles: { chargingProfileId: 5, stackLevel: 2,
        chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Relative',
        chargingSchedule: sched } }
      : { evseId: 1, chargingProfile: { id: 5, stackLevel: 2, chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Relative', chargingSchedule: [{ id: 1, ...sched }] } });
    assert.equal(st.status, 'Accepted');
    const sent = Date.now();
    const r = await up.call('ClearChargingProfile', v16 ? clear16 : clear2);
    assert.equal(r.status, status, 'what the CSMS sees of its clear');
    assert.equal(c.held.some((h) => h.id === 5), !wipesCsms, 'the CSMS\'s own profile as its clear says');
    await waitFor(() => c.ours() && c.oursMax(), 3000, `${c.id}: the balancer's profiles back`);
    console.log(`# ${c.id}: the balancer's limit back ${Date.now() - sent} ms after the clear was sent`);
    assert.equal(c.ours().level, STACK);
    assert.ok(c.ours().limit <= SITE_A, `${c.id} held at ${c.ours().limit} A`);
    assert.ok(siteDraw() <= SITE_A, `summed draw ${siteDraw()} A within the site's ${SITE_A} A`);
    // the gateway's own calls never reached the CSMS; a 2.x CSMS is told
    // the limit as an EMS's, a 1.6 CSMS has no such message
    assert.ok(!csms.callsOf(c.id).some((x) => /ChargingProfile/.test(x.method)));
    const told = csms.callsOf(c.id).filter((x) => x.method === 'NotifyChargingLimit');
    if (v16) assert.equal(told.length, 0);
    else await waitFor(() => told.length > 0 || csms.callsOf(c.id).some((x) =>
      x.method === 'NotifyChargingLimit'), 3000, 'NotifyChargingLimit');
  };

  // The CSMS puts @purpose at the charger's top stack level, 10 A above
  // what the balancer gives: the charger keeps the balancer's on top.
  const csmsAtTop = async (c, purpose) => {
    const up = await csms.waitClient(c.id);
    const v16 = up.protocol === 'ocpp1.6';
    const want = c.ours().limit + 10;
    const sched = { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: want }] };
    const txId = purpose === 'TxProfile' ? { transactionId: v16 ? csmsTx.get(c.id) : String(c.tx) } : {};
    const st = await up.call('SetChargingProfile', v16
      ? { connectorId: 1, csChargingProfiles: { chargingProfileId: 9, stackLevel: STACK,
        chargingProfilePurpose: purpose, chargingProfileKind: 'Relative', ...txId, chargingSchedule: sched } }
      : { evseId: 1, chargingProfile: { id: 9, stackLevel: STACK, chargingProfilePurpose: purpose,
        chargingProfileKind: 'Relative', ...txId, chargingSchedule: [{ id: 1, ...sched }] } });
    assert.equal(st.status, 'Accepted');
    const theirs = c.held.find((h) => h.id === 9);
    assert.ok(theirs, 'the CSMS\'s profile is on the charger');
    if (!c.ext) {
      // same purpose as the balancer's: moved below it, the balancer's on top
      assert.equal(theirs.level, STACK - 1, 'moved one below the balancer\'s');
      await waitFor(() => { const t = c.top(purpose, 1); return t && OURS(t.id); }, 3000,
        `${c.id}: the balancer's ${purpose} on top`);
      assert.equal(c.top(purpose, 1).level, STACK);
    } else {
      // another purpose than the balancer's: left where the CSMS put it
      assert.equal(theirs.level, STACK);
      assert.equal(c.ours().level, STACK);
    }
    assert.ok(c.draw() < want, `${c.id} draws ${c.draw()} A, not the CSMS's ${want} A`);
    assert.ok(siteDraw() <= SITE_A, `summed draw ${siteDraw()} A within the site's ${SITE_A} A`);
    await up.call('ClearChargingProfile', v16 ? { id: 9 } : { chargingProfileId: 9 });
  };

  for (const spec of FLEET) {
    const how = spec.upstream ? `${spec.ver} charger behind a ${spec.upstream} CSMS`
      : `${spec.ver} charger${spec.noExt ? ' refusing external constraints' : ''}`;
    it(`${how}: a clear without criteria`, async () => {
      await csmsSetsAndClears(fleet.find((c) => c.id === spec.id), {}, {}, true);
    });
    it(`${how}: a clear of the balancer's stack level and purpose`, async () => {
      const c = fleet.find((x) => x.id === spec.id);
      await csmsSetsAndClears(c,
        { connectorId: 1, chargingProfilePurpose: 'TxDefaultProfile', stackLevel: STACK },
        { chargingProfileCriteria: { evseId: 1, chargingProfilePurpose: c.purpose,
          stackLevel: STACK } }, false,
        // a 1.6 CSMS can only name TxDefault, which a 2.x charger does not
        // hold at that level: the balancer's are external constraints
        spec.upstream ? 'Unknown' : 'Accepted');
    });
    it(`${how}: a CSMS TxDefaultProfile at the top stack level does not override the balancer`,
      async () => {
        await csmsAtTop(fleet.find((c) => c.id === spec.id), 'TxDefaultProfile');
      });
    it(`${how}: a CSMS TxProfile at the top stack level does not override the balancer`,
      async () => {
        await csmsAtTop(fleet.find((c) => c.id === spec.id), 'TxProfile');
      });
  }
});

describe('2.x chargingPriority from the CSMS ranks the session', { timeout: 30000 }, () => {
  let csms, gw;
  const pair = [];

  before(async () => {
    csms = await startBalanceCsms();
    // the CSMS gives PRIO2's transaction the top priority (2.0.1 E01)
    csms.responders.TransactionEvent = (params, client) =>
      (client.identity === 'PRIO2' && params.eventType === 'Started' ? { chargingPriority: 9 } : {});
    gw = await startGateway({ csmsUrl: csms.url, config: config() });
    for (const id of ['PRIO1', 'PRIO2']) {
      const c = new Charger({ id, ver: '2.0.1' });
      pair.push(c);
      await c.connect(gw);
    }
  });

  after(async () => {
    for (const c of pair) await c.client?.close({ force: true }).catch(() => {});
    await stopAll({ gw, csms });
  });

  it('the prioritised car gets what is left after the other\'s minimum', async () => {
    const [low, high] = pair;
    // equal ranks would share the site's 30 A as 15 / 15
    await waitFor(() => low.ours()?.limit === 6 && high.ours()?.limit === SITE_A - 6, 5000,
      `6 A and ${SITE_A - 6} A (have ${low.ours()?.limit} and ${high.ours()?.limit})`);
    assert.ok(low.draw() + high.draw() <= SITE_A);
  });
});
