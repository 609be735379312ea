// SPDX-License-Identifier: MIT
//
// Smart charging from two CSMSs, combined (docs/MULTI_CSMS.md, rule 3): a
// 1.6 charger shown to a 1.6 primary and a 2.0.1 secondary allowed to set
// and clear charging profiles, all strict peers. The charger keeps its
// profiles and works out its limit as a 1.6 charger does (per purpose the
// highest stack level in force, a connector's own over connector 0's, the
// Max profile capping); the test asserts that limit, at once and ahead in
// time: the lowest of the CSMSs' at every instant, whichever CSMS set its
// profile last, across a gateway restart, until a clear gives the other
// CSMS's limit back. Then the same with the load balancer: the lower of
// the balancer's and the combined limit holds at the charger.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  connectCharger, isoNow, sleep, startCsms, startGateway, stopAll, subprotocol, tmpDir, waitFor,
} from './lib/harness.mjs';
import { assertClean, watchStrict } from './lib/translate-peers.mjs';

const identity = 'SMART-16';
const GW_IDS = 771000000;  // the gateway's combined profiles (src/features/multi/smart.c)

// The upstream leg @csms has for @id once the gateway opened one other than @prev.
// A primary and a secondary CSMS of the given versions, strict, watched
// into @problems, each accepting the charger's boot.
async function startPeers(problems, primaryVersion, secondaryVersion) {
  const peers = {};
  for (const [name, version] of [['primary', primaryVersion], ['secondary', secondaryVersion]]) {
    const csms = await startCsms({ protocols: [subprotocol(version)] });
    csms.server.on('client', (c) => watchStrict(problems, name, c));
    csms.responders.BootNotification = () => ({ currentTime: isoNow(), interval: 300,
      status: 'Accepted' });
    peers[name] = csms;
  }
  return peers;
}

const newLeg = (csms, id, prev) => waitFor(() => {
  const c = csms.clients.get(id);
  return c && c !== prev && c.state === 1 ? c : null;
}, 5000, `upstream leg of ${id}`);

// A charger's profile store and its composite limit, 1.6 or 2.x (OCPP 1.6
// §3.13, 2.0.1 K01).
class ChargerProfiles {
  constructor(v16 = true) {
    this.v16 = v16;
    this.profiles = new Map();  // profile id -> {connectorId, body, at}
    this.sets = [];             // every SetChargingProfile it got
    this.clears = [];           // every ClearChargingProfile it got
  }

  attach(client) {
    const v16 = this.v16;
    client.handle('SetChargingProfile', ({ params }) => {
      const connectorId = v16 ? params.connectorId : params.evseId;
      const body = v16 ? params.csChargingProfiles : params.chargingProfile;
      const pid = v16 ? body.chargingProfileId : body.id;
      this.sets.push(params);
      // the same id, or the same stack level and purpose on the connector,
      // replaces (1.6 §3.13.2)
      for (const [id, p] of this.profiles)
        if (id === pid || (p.connectorId === connectorId &&
            p.body.stackLevel === body.stackLevel &&
            p.body.chargingProfilePurpose === body.chargingProfilePurpose))
          this.profiles.delete(id);
      this.profiles.set(pid, { connectorId, body, at: Date.now() });
      return { status: 'Accepted' };
    });
    client.handle('ClearChargingProfile', ({ params }) => {
      this.clears.push(params);
      const pid = v16 ? params.id : params.chargingProfileId;
      const c = (v16 ? params : params.chargingProfileCriteria) ?? {};
      const evse = v16 ? c.connectorId : c.evseId;
      let found = false;
      for (const [id, p] of this.profiles) {
        const match = pid !== undefined ? id === pid
          : (evse === undefined || evse === p.connectorId) &&
            (c.chargingProfilePurpose === undefined ||
             c.chargingProfilePurpose === p.body.chargingProfilePurpose) &&
            (c.stackLevel === undefined || c.stackLevel === p.body.stackLevel);
        if (match) {
          this.profiles.delete(id);
          found = true;
        }
      }
      return { status: found ? 'Accepted' : 'Unknown' };
    });
    // the balancer asks for ChargeProfileMaxStackLevel: not reported, as
    // many chargers do not, so its configured stack level applies
    client.handle('GetConfiguration', ({ params }) => ({ unknownKey: params.key ?? [] }));
    client.handle('GetCompositeSchedule', ({ params }) => {
      const sched = { duration: params.duration, chargingRateUnit: 'A',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: this.limitAt(Date.now()) }] };
      return v16 ? { status: 'Accepted', connectorId: params.connectorId, scheduleStart: isoNow(),
        chargingSchedule: sched }
        : { status: 'Accepted', schedule: { evseId: params.evseId, scheduleStart: isoNow(),
          ...sched } };
    });
  }

  schedule(p) {
    return this.v16 ? p.body.chargingSchedule : p.body.chargingSchedule[0];
  }

  // What profile @p limits at @t (ms), or null when it is not in force.
  valueAt(p, t) {
    const s = this.schedule(p);
    assert.equal(s.chargingRateUnit, 'A');
    // the gateway's are Absolute; the balancer's Relative, from when it
    // came (no transaction's start to go by in this model)
    const from = p.body.chargingProfileKind === 'Absolute' ? Date.parse(s.startSchedule) : p.at;
    const elapsed = (t - from) / 1000;
    if (elapsed < 0 || (s.duration !== undefined && elapsed >= s.duration)) return null;
    let lim = null;
    for (const per of s.chargingSchedulePeriod) if (per.startPeriod <= elapsed) lim = per.limit;
    return lim;
  }

  // The highest stack level of @purpose in force at @t on @connectors.
  top(purpose, connectors, t) {
    const c = [...this.profiles.values()]
      .filter((p) => p.body.chargingProfilePurpose === purpose && connectors.includes(p.connectorId))
      .sort((a, b) => b.body.stackLevel - a.body.stackLevel || b.connectorId - a.connectorId);
    for (const p of c) {
      const v = this.valueAt(p, t);
      if (v !== null) return v;
    }
    return null;
  }

  // Connector 1's limit at @t: min(Max, TxDefault) (the gateway sends no
  // TxProfile).
  limitAt(t) {
    const max = this.v16 ? 'ChargePointMaxProfile' : 'ChargingStationMaxProfile';
    return Math.min(this.top(max, [0], t) ?? Infinity,
      this.top('TxDefaultProfile', [1, 0], t) ?? Infinity);
  }
}

describe('smart charging from a 1.6 primary and a 2.0.1 secondary, combined', { timeout: 120000 }, () => {
  const problems = [];
  const dataDir = path.join(tmpDir('ocppgw-smart-'), 'data');
  const cp = new ChargerProfiles();
  let primary; let secondary; let gw; let charger; let up1; let up2; let config;
  let T;  // when the secondary's 16 A start (ms)
  const answers = { primary: [], secondary: [] };

  async function connect(prevUp1, prevUp2) {
    charger = await connectCharger(gw, identity, '1.6');
    watchStrict(problems, 'charger', charger);
    cp.attach(charger);
    up1 = await newLeg(primary, identity, prevUp1);
    up2 = await newLeg(secondary, identity, prevUp2);
    const boot = await charger.call('BootNotification', { chargePointVendor: 'Acme',
      chargePointModel: 'S1' });
    assert.equal(boot.status, 'Accepted');
  }

  const set16 = async (id, stackLevel, limit) => {
    const r = await up1.call('SetChargingProfile', { connectorId: 1, csChargingProfiles: {
      chargingProfileId: id, stackLevel, chargingProfilePurpose: 'TxDefaultProfile',
      chargingProfileKind: 'Absolute', chargingSchedule: { startSchedule: isoNow(-1000),
        chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }] } } });
    answers.primary.push(['Set', r]);
    return r;
  };
  const call2 = async (action, params) => {
    const r = await up2.call(action, params);
    answers.secondary.push([action, r]);
    return r;
  };
  // the charger holds the gateway's one profile for connector 1, no other
  const onlyOurs = () => {
    const ids = [...cp.profiles.keys()];
    assert.deepEqual(ids, [GW_IDS + 101], `the charger's profiles: ${ids}`);
  };
  const until = (fn, what) => waitFor(() => (fn() ? true : null), 5000, what);

  before(async () => {
    ({ primary, secondary } = await startPeers(problems, '1.6', '2.0.1'));
    primary.responders.StatusNotification = {};
    config = `csms = {\n  url = "${primary.url}";\n  secondaries = ( {\n` +
      `    name = "energy";\n    url = "${secondary.url}";\n    upstream_ocpp = "2.0.1";\n` +
      '    allow = [ "SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule" ];\n' +
      '  } );\n};\n';
    gw = await startGateway({ args: ['--upstream-ocpp', '1.6'], config, dataDir });
    await connect(null, null);
  });
  after(async () => {
    await stopAll({ clients: [charger], gw, csms: primary });
    await secondary?.close();
  });

  it('the primary\'s 32 A: the charger holds the gateway\'s profile, 32 A for good', async () => {
    const r = await set16(1, 1, 32);
    assert.equal(r.status, 'Accepted');
    await until(() => cp.profiles.size === 1, 'a profile at the charger');
    onlyOurs();
    const [p] = cp.profiles.values();
    assert.equal(p.body.stackLevel, 1, 'the CSMS\'s own stack level');
    assert.equal(p.body.chargingSchedule.duration, undefined, 'open-ended, as the primary\'s');
    assert.equal(cp.limitAt(Date.now()), 32);
    assert.equal(cp.limitAt(Date.now() + 30 * 86400e3), 32);
  });

  it('the secondary\'s 16 A from now + 4 s: the charger\'s limit is the lowest at every instant', async () => {
    T = Date.now() + 4000;
    const r = await call2('SetChargingProfile', { evseId: 1, chargingProfile: {
      id: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile',
      chargingProfileKind: 'Absolute', chargingSchedule: [{ id: 1,
        startSchedule: new Date(T).toISOString(), duration: 1200, chargingRateUnit: 'A',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }, { startPeriod: 600, limit: 40 },
          { startPeriod: 900, limit: 6.25 }] }] } });
    assert.equal(r.status, 'Accepted');
    await until(() => cp.limitAt(T + 1000) === 16, 'the combined profile');
    onlyOurs();
    const at = (s) => cp.limitAt(T + s * 1000);
    assert.equal(cp.limitAt(Date.now()), 32, 'before the secondary\'s start: the primary\'s');
    assert.equal(at(1), 16);
    assert.equal(at(599), 16);
    assert.equal(at(601), 32, '40 A from the secondary: the primary\'s 32 A is lower');
    assert.equal(at(901), 6.2, '6.25 A rounded down to 0.1 A');
    assert.equal(at(1201), 32, 'the secondary\'s schedule over: the primary\'s again');
    assert.equal(at(86400 * 30), 32);
    const [p] = cp.profiles.values();
    assert.deepEqual(p.body.chargingSchedule.chargingSchedulePeriod.map((x) => x.limit),
      [32, 16, 32, 6.2, 32], 'a period wherever the lowest limit changes');
  });

  it('the charger draws 16 A once the secondary\'s period begins', async () => {
    await sleep(Math.max(0, T + 200 - Date.now()));
    assert.equal(cp.limitAt(Date.now()), 16);
    // the secondary's GetCompositeSchedule is answered by the charger: the
    // combined limit
    const r = await call2('GetCompositeSchedule', { evseId: 1, duration: 60 });
    assert.equal(r.status, 'Accepted');
    assert.equal(r.schedule.chargingSchedulePeriod[0].limit, 16);
  });

  it('the primary\'s next profile does not overwrite the secondary\'s limit', async () => {
    const sets = cp.sets.length;
    const r = await set16(1, 1, 24);
    assert.equal(r.status, 'Accepted');
    await until(() => cp.sets.length > sets, 'the next combined profile');
    await until(() => cp.limitAt(T + 601e3) === 24, 'the primary\'s 24 A');
    onlyOurs();
    assert.equal(cp.limitAt(Date.now()), 16, 'the secondary\'s 16 A still holds');
    assert.equal(cp.limitAt(T + 901e3), 6.2);
    assert.equal(cp.limitAt(T + 1201e3), 24);
  });

  it('a gateway restart loses no profile: the next one is combined with both', async () => {
    const old1 = up1; const old2 = up2;
    await charger.close({ force: true });
    await gw.stop();
    gw = await startGateway({ args: ['--upstream-ocpp', '1.6'], config, dataDir });
    await connect(old1, old2);
    const r = await set16(1, 1, 20);
    assert.equal(r.status, 'Accepted');
    await until(() => cp.limitAt(T + 601e3) === 20, 'the primary\'s 20 A');
    onlyOurs();
    assert.equal(cp.limitAt(Date.now()), 16, 'the secondary\'s 16 A, from the store');
  });

  it('the secondary\'s clear gives the primary\'s limit back', async () => {
    let r = await call2('ClearChargingProfile', { chargingProfileId: 1 });
    assert.equal(r.status, 'Accepted');
    await until(() => cp.limitAt(Date.now()) === 20, 'the primary\'s 20 A');
    onlyOurs();
    assert.equal(cp.limitAt(T + 901e3), 20);
    r = await call2('ClearChargingProfile', { chargingProfileId: 1 });
    assert.equal(r.status, 'Unknown', 'nothing of the secondary\'s left to clear');
    // a TxProfile without a transaction: refused as a charger would
    r = await call2('SetChargingProfile', { evseId: 1, chargingProfile: {
      id: 7, stackLevel: 0, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative',
      chargingSchedule: [{ id: 1, chargingRateUnit: 'A',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 8 }] }] } });
    assert.equal(r.status, 'Rejected');
    assert.equal(r.statusInfo.reasonCode, 'TxNotFound');
    assert.equal(cp.limitAt(Date.now()), 20);
  });

  it('the primary\'s clear: no CSMS limits, the gateway clears its profile', async () => {
    const r = await up1.call('ClearChargingProfile', {});
    answers.primary.push(['Clear', r]);
    assert.equal(r.status, 'Accepted');
    await until(() => cp.profiles.size === 0, 'no profile at the charger');
    assert.deepEqual(cp.clears.at(-1), { id: GW_IDS + 101 });
    assert.equal(cp.limitAt(Date.now()), Infinity);
  });

  it('what each CSMS was answered; no CSMS profile reached the charger as sent', () => {
    assert.deepEqual(answers.primary.map(([a, r]) => `${a} ${r.status}`),
      ['Set Accepted', 'Set Accepted', 'Set Accepted', 'Clear Accepted']);
    assert.deepEqual(answers.secondary.map(([a, r]) => `${a} ${r.status}`),
      ['SetChargingProfile Accepted', 'GetCompositeSchedule Accepted',
        'ClearChargingProfile Accepted', 'ClearChargingProfile Unknown',
        'SetChargingProfile Rejected']);
    assert.ok(cp.sets.every((s) => s.csChargingProfiles.chargingProfileId >= GW_IDS),
      'only the gateway\'s profiles at the charger');
    assertClean(problems, [['charger', charger], ['primary', up1], ['secondary', up2]]);
  });
});

describe('combined profiles under the load balancer', { timeout: 60000 }, () => {
  const id = 'SMART-LB';
  const problems = [];
  const cp = new ChargerProfiles();
  const dataDir = path.join(tmpDir('ocppgw-smart-lb-'), 'data');
  let primary; let secondary; let gw; let charger; let up1; let up2; let config;

  before(async () => {
    ({ primary, secondary } = await startPeers(problems, '1.6', '2.0.1'));
    primary.responders.StartTransaction = { transactionId: 55, idTagInfo: { status: 'Accepted' } };
    primary.responders.StopTransaction = {};
    secondary.responders.TransactionEvent = (p) =>
      (p.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {});
    config = `csms = {\n  url = "${primary.url}";\n  secondaries = ( {\n` +
      `    name = "energy";\n    url = "${secondary.url}";\n    upstream_ocpp = "2.0.1";\n` +
      '    allow = [ "SetChargingProfile", "ClearChargingProfile" ];\n  } );\n};\n' +
      'load_balancing = {\n  stack_level = 8; update_interval = 1; min_interval = 0;\n' +
      '  site = { limit_a = 40.0; phases = 3; };\n};\n';
    gw = await startGateway({ args: ['--upstream-ocpp', '1.6'], config, dataDir });
    charger = await connectCharger(gw, id, '1.6');
    watchStrict(problems, 'charger', charger);
    cp.attach(charger);
    up1 = await primary.waitClient(id);
    up2 = await secondary.waitClient(id);
    await charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'S1' });
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
      status: 'Preparing' });
    const start = await charger.call('StartTransaction', { connectorId: 1, idTag: 'TAG1',
      meterStart: 0, timestamp: isoNow() });
    assert.equal(start.transactionId, 55);
  });
  after(async () => {
    await stopAll({ clients: [charger], gw, csms: primary });
    await secondary?.close();
  });

  // the charger's TxDefault for connector 1 at the top stack level, and ours
  const top = () => [...cp.profiles.values()].filter((p) => p.connectorId === 1 &&
    p.body.chargingProfilePurpose === 'TxDefaultProfile')
    .sort((a, b) => b.body.stackLevel - a.body.stackLevel)[0];
  const ours = () => cp.profiles.get(GW_IDS + 101);

  it('the secondary\'s 10 A: the balancer\'s profile, on top, is capped by it', async () => {
    const r = await up2.call('SetChargingProfile', { evseId: 1, chargingProfile: {
      id: 3, stackLevel: 3, chargingProfilePurpose: 'TxDefaultProfile',
      chargingProfileKind: 'Absolute', chargingSchedule: [{ id: 1, startSchedule: isoNow(-1000),
        chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] }] } });
    assert.equal(r.status, 'Accepted');
    await waitFor(() => (ours() && top()?.body.chargingProfileId === 770000101 &&
      cp.limitAt(Date.now()) === 10 ? true : null), 8000, 'the balancer at 10 A');
    assert.equal(top().body.stackLevel, 8, 'the balancer\'s stack level');
    assert.ok(ours().body.stackLevel < 8, `ours below it (${ours().body.stackLevel})`);
    assert.equal(cp.valueAt(ours(), Date.now()), 10);
  });

  it('the primary\'s TxProfile of 6 A: combined, and the balancer follows', async () => {
    const r = await up1.call('SetChargingProfile', { connectorId: 1, csChargingProfiles: {
      chargingProfileId: 9, transactionId: 55, stackLevel: 2, chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative', chargingSchedule: { chargingRateUnit: 'A',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 6 }] } } });
    assert.equal(r.status, 'Accepted');
    await waitFor(() => (cp.limitAt(Date.now()) === 6 ? true : null), 8000,
      'the charger at 6 A');
    assert.equal(cp.valueAt(ours(), Date.now()), 6);
    assert.equal(top().body.chargingProfileId, 770000101);
  });

  it('a gateway restart during the transaction: the TxProfile still counts', async () => {
    const old1 = up1; const old2 = up2;
    await charger.close({ force: true });
    await gw.stop();
    gw = await startGateway({ args: ['--upstream-ocpp', '1.6'], config, dataDir });
    const sets = cp.sets.length;
    charger = await connectCharger(gw, id, '1.6');
    watchStrict(problems, 'charger', charger);
    cp.attach(charger);
    up1 = await newLeg(primary, id, old1);
    up2 = await newLeg(secondary, id, old2);
    // back without a new boot, charging on: the gateway sends its profiles again
    await charger.call('Heartbeat', {});
    await waitFor(() => (cp.sets.some((x, i) => i >= sets &&
      x.csChargingProfiles.chargingProfileId === GW_IDS + 101) ? true : null), 5000,
    'the combined profile again');
    assert.equal(cp.valueAt(ours(), Date.now()), 6, 'the primary\'s TxProfile, from the store');
  });

  it('the transaction ends: its TxProfile goes, the secondary\'s 10 A is combined again', async () => {
    await charger.call('StopTransaction', { transactionId: 55, meterStop: 100,
      timestamp: isoNow() });
    await waitFor(() => (cp.valueAt(ours(), Date.now()) === 10 ? true : null),
      5000, 'ours at 10 A');
    assert.ok(cp.limitAt(Date.now()) <= 10, 'never above the CSMSs\' limit');
    assertClean(problems, [['charger', charger], ['primary', up1], ['secondary', up2]]);
  });
});

describe('a 2.0.1 charger, a 2.0.1 primary and a 1.6 secondary: one profile per kind', { timeout: 60000 }, () => {
  const id = 'SMART-201';
  const problems = [];
  const cp = new ChargerProfiles(false);
  let primary; let secondary; let gw; let charger; let up1; let up2;

  before(async () => {
    ({ primary, secondary } = await startPeers(problems, '2.0.1', '1.6'));
    gw = await startGateway({ args: ['--upstream-ocpp', '2.0.1'], config:
      `csms = {\n  url = "${primary.url}";\n  secondaries = ( {\n` +
      `    name = "fleet";\n    url = "${secondary.url}";\n    upstream_ocpp = "1.6";\n` +
      '    allow = [ "SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule" ];\n' +
      '  } );\n};\n' });
    charger = await connectCharger(gw, id, '2.0.1');
    watchStrict(problems, 'charger', charger);
    cp.attach(charger);
    up1 = await primary.waitClient(id);
    up2 = await secondary.waitClient(id);
    const boot = await charger.call('BootNotification', { reason: 'PowerUp',
      chargingStation: { vendorName: 'Acme', model: 'S2' } });
    assert.equal(boot.status, 'Accepted');
  });
  after(async () => {
    await stopAll({ clients: [charger], gw, csms: primary });
    await secondary?.close();
  });

  const set201 = (evseId, pid, purpose, limit) => up1.call('SetChargingProfile', { evseId,
    chargingProfile: { id: pid, stackLevel: 1, chargingProfilePurpose: purpose,
      chargingProfileKind: 'Absolute', chargingSchedule: [{ id: 1, startSchedule: isoNow(-1000),
        chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }] }] } });
  const set16 = (connectorId, pid, purpose, limit) => up2.call('SetChargingProfile', {
    connectorId, csChargingProfiles: { chargingProfileId: pid, stackLevel: 2,
      chargingProfilePurpose: purpose, chargingProfileKind: 'Absolute', chargingSchedule: {
        startSchedule: isoNow(-1000), chargingRateUnit: 'A',
        chargingSchedulePeriod: [{ startPeriod: 0, limit }] } } });
  const held = () => Object.fromEntries([...cp.profiles].map(([pid, p]) =>
    [pid - GW_IDS, cp.valueAt(p, Date.now())]));

  it('the primary\'s Max 40 A and station-wide 32 A, the secondary\'s 16 A on EVSE 1 and Max 20 A', async () => {
    assert.equal((await set201(0, 1, 'ChargingStationMaxProfile', 40)).status, 'Accepted');
    assert.equal((await set201(0, 2, 'TxDefaultProfile', 32)).status, 'Accepted');
    assert.equal((await set16(1, 1, 'TxDefaultProfile', 16)).status, 'Accepted');
    await waitFor(() => (cp.limitAt(Date.now()) === 16 ? true : null), 5000, '16 A at EVSE 1');
    assert.deepEqual(held(), { 0: 40, 100: 32, 101: 16 },
      'Max, EVSE 0 and EVSE 1: one profile of the gateway\'s each');
    assert.equal(cp.profiles.get(GW_IDS).body.chargingProfilePurpose, 'ChargingStationMaxProfile');
    assert.equal((await set16(0, 2, 'ChargePointMaxProfile', 20)).status, 'Accepted');
    await waitFor(() => (held()[0] === 20 ? true : null), 5000, 'the Max profile at 20 A');
    assert.equal(cp.limitAt(Date.now()), 16);
    const r = await up2.call('GetCompositeSchedule', { connectorId: 1, duration: 60 });
    assert.equal(r.chargingSchedule.chargingSchedulePeriod[0].limit, 16,
      'the charger\'s composite, translated to the 1.6 secondary');
  });

  it('the secondary clears all of its own: EVSE 1\'s profile goes, the primary\'s limits stay', async () => {
    const r = await up2.call('ClearChargingProfile', {});
    assert.equal(r.status, 'Accepted');
    await waitFor(() => (cp.limitAt(Date.now()) === 32 ? true : null), 5000, '32 A at EVSE 1');
    assert.deepEqual(held(), { 0: 40, 100: 32 });
    assert.deepEqual(cp.clears.at(-1), { chargingProfileId: GW_IDS + 101 });
  });

  it('16 profiles per CSMS and charger: the 17th is refused, a replacement is not', async () => {
    const sets = cp.sets.length;
    const one = (pid, level, limit) => up2.call('SetChargingProfile', { connectorId: 1,
      csChargingProfiles: { chargingProfileId: pid, stackLevel: level,
        chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
        chargingSchedule: { startSchedule: isoNow(-1000), chargingRateUnit: 'A',
          chargingSchedulePeriod: [{ startPeriod: 0, limit }] } } });
    for (let i = 0; i < 16; i++) assert.equal((await one(10 + i, i, 30)).status, 'Accepted');
    assert.equal((await one(99, 20, 8)).status, 'Rejected', 'a 17th');
    assert.equal((await one(25, 15, 12)).status, 'Accepted', 'id 25 replaced');
    await waitFor(() => (cp.limitAt(Date.now()) === 12 ? true : null), 5000,
      'the highest stack level, 12 A');
    // only EVSE 1's changed: the Max and EVSE 0 profiles are not sent again
    assert.ok(cp.sets.length - sets <= 17, `${cp.sets.length - sets} profiles for 17 sets`);
    assert.deepEqual([...new Set(cp.sets.slice(sets).map((x) => x.evseId))], [1]);
    assert.equal((await up2.call('ClearChargingProfile', { connectorId: 1 })).status, 'Accepted');
    await waitFor(() => (cp.limitAt(Date.now()) === 32 ? true : null), 5000, '32 A again');
    assertClean(problems, [['charger', charger], ['primary', up1], ['secondary', up2]]);
  });

  it('the secondary removed by a reload: the gateway\'s profiles leave, the primary\'s go as sent', async () => {
    const closed = new Promise((r) => charger.once('close', r));
    const old1 = up1;
    gw.writeConfig(`csms = { url = "${primary.url}"; };\n`);
    gw.signal('SIGHUP');
    await closed;  // its CSMSs changed: shown to the new set on reconnect
    charger = await connectCharger(gw, id, '2.0.1');
    watchStrict(problems, 'charger', charger);
    cp.attach(charger);
    up1 = await newLeg(primary, id, old1);
    await charger.call('BootNotification', { reason: 'PowerUp',
      chargingStation: { vendorName: 'Acme', model: 'S2' } });
    await waitFor(() => (cp.profiles.size === 0 ? true : null), 5000, 'the gateway\'s cleared');
    assert.deepEqual(cp.clears.slice(-2).map((c) => c.chargingProfileId - GW_IDS).sort(),
      [0, 100]);
    // one CSMS: its profile reaches the charger as it sent it
    assert.equal((await set201(1, 5, 'TxDefaultProfile', 11)).status, 'Accepted');
    assert.deepEqual([...cp.profiles.keys()], [5]);
    assert.equal(cp.limitAt(Date.now()), 11);
    assertClean(problems, [['charger', charger], ['primary', up1]]);
  });
});
