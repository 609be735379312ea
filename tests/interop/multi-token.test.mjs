// SPDX-License-Identifier: MIT
//
// Split by token (docs/MULTI_CSMS.md, rule 4): with token_routing = "list"
// a company card's transaction belongs to the employer's CSMS (a secondary
// whose token_prefixes name it) and a private card's to the primary. Each
// CSMS must conclude only its own transactions (start, energy, stop, the
// token), the charger must get the owner's answers (its transaction id),
// and both still see what is not a transaction (boot, statuses). All
// peers strict; a 1.6 charger, a 2.0.1 charger, and a 1.6 charger whose
// employer CSMS speaks 2.0.1 (translated).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  adminApi, connectCharger, isoNow, startCsms, startGateway, stopAll, subprotocol, waitFor,
} from './lib/harness.mjs';
import { txEvents } from './lib/payloads.mjs';
import { assertClean, watchStrict } from './lib/translate-peers.mjs';

const COMPANY = 'CO-4711';
const PRIVATE = '04A2B3C4D5E6F7';

// A gateway showing charger `identity` to a primary and a secondary
// "employer" owning the cards that start with "CO-".
async function startSplit({ identity, chargerVersion, primaryVersion, secondaryVersion }) {
  const problems = [];
  const primary = await startCsms({ protocols: [subprotocol(primaryVersion)] });
  const employer = await startCsms({ protocols: [subprotocol(secondaryVersion)] });
  primary.server.on('client', (c) => watchStrict(problems, 'primary', c));
  employer.server.on('client', (c) => watchStrict(problems, 'employer', c));
  const gw = await startGateway({
    args: ['--upstream-ocpp', primaryVersion],
    config: `csms = {\n  url = "${primary.url}";\n  token_routing = "list";\n` +
      `  secondaries = ( {\n    name = "employer";\n    url = "${employer.url}";\n` +
      `    upstream_ocpp = "${secondaryVersion}";\n    token_prefixes = [ "CO-" ];\n  } );\n};\n`,
  });
  for (const [csms, v] of [[primary, primaryVersion], [employer, secondaryVersion]]) {
    csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
    csms.responders.StatusNotification = {};
    csms.responders.MeterValues = {};
    if (v !== '1.6') csms.responders.TransactionEvent = {};
  }
  const charger = await connectCharger(gw, identity, chargerVersion);
  watchStrict(problems, 'charger', charger);
  await primary.waitClient(identity);
  await employer.waitClient(identity);
  return { problems, primary, employer, gw, charger };
}

const callsOf = (csms, identity, method) => csms.callsOf(identity)
  .filter((c) => c.method === method).map((c) => c.params);

const energy = (wh) => [{ timestamp: isoNow(), sampledValue: [{ value: String(wh), unit: 'Wh',
  measurand: 'Energy.Active.Import.Register', context: 'Sample.Periodic' }] }];

// One whole 1.6 session with `idTag`: the transaction id the charger got.
async function session16(charger, idTag, meterStart, meterStop) {
  const auth = await charger.call('Authorize', { idTag });
  assert.equal(auth.idTagInfo.status, 'Accepted', `${idTag} accepted by its owner`);
  const start = await charger.call('StartTransaction', { connectorId: 1, idTag, meterStart,
    timestamp: isoNow() });
  await charger.call('MeterValues', { connectorId: 1, transactionId: start.transactionId,
    meterValue: energy((meterStart + meterStop) / 2) });
  const stop = await charger.call('StopTransaction', { transactionId: start.transactionId,
    meterStop, timestamp: isoNow(), reason: 'Local', idTag });
  // idTagInfo is optional in a 1.6 StopTransaction answer (a 2.0.1 Ended
  // with no token gets none to translate)
  if (stop.idTagInfo) assert.equal(stop.idTagInfo.status, 'Accepted');
  return start.transactionId;
}

// Answers of a 1.6 CSMS that knows only the cards `known` (prefix test),
// giving transaction ids from `firstId` up.
function answer16(csms, known, firstId) {
  let next = firstId;
  const info = (idTag) => ({ status: known(idTag) ? 'Accepted' : 'Invalid' });
  csms.responders.Authorize = ({ idTag }) => ({ idTagInfo: info(idTag) });
  csms.responders.StartTransaction = ({ idTag }) => ({ transactionId: next++,
    idTagInfo: info(idTag) });
  csms.responders.StopTransaction = () => ({ idTagInfo: { status: 'Accepted' } });
}

// What a 1.6 CSMS concluded: its transactions, each start and stop.
function concluded16(csms, identity) {
  return {
    authorized: callsOf(csms, identity, 'Authorize').map((a) => a.idTag),
    starts: callsOf(csms, identity, 'StartTransaction').map((s) => [s.idTag, s.meterStart]),
    meters: callsOf(csms, identity, 'MeterValues').map((v) => v.transactionId),
    stops: callsOf(csms, identity, 'StopTransaction').map((s) => [s.transactionId, s.meterStop]),
    statuses: callsOf(csms, identity, 'StatusNotification').length,
    boots: callsOf(csms, identity, 'BootNotification').length,
  };
}

describe('split by token, a 1.6 charger, two 1.6 CSMSs', { timeout: 90000 }, () => {
  const identity = 'SPLIT-16';
  let m;
  before(async () => {
    m = await startSplit({ identity, chargerVersion: '1.6', primaryVersion: '1.6',
      secondaryVersion: '1.6' });
    answer16(m.primary, (t) => !t.startsWith('CO-'), 777);
    answer16(m.employer, (t) => t.startsWith('CO-'), 4242);
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.primary });
    await m?.employer.close();
  });

  it('each card\'s session runs with its owner\'s answers', async () => {
    await m.charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'M1' });
    await m.charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
      status: 'Available' });
    assert.equal(await session16(m.charger, COMPANY, 1000, 3000), 4242,
      'the employer\'s transaction id');
    assert.equal(await session16(m.charger, PRIVATE, 3000, 3500), 777,
      'the primary\'s transaction id');
  });

  it('the employer concluded the company card\'s transaction only', async () => {
    await waitFor(() => concluded16(m.employer, identity).statuses === 1, 5000, 'status');
    assert.deepEqual(concluded16(m.employer, identity), { authorized: [COMPANY],
      starts: [[COMPANY, 1000]], meters: [4242], stops: [[4242, 3000]], statuses: 1, boots: 1 });
  });

  it('the primary concluded the private card\'s transaction only', () => {
    assert.deepEqual(concluded16(m.primary, identity), { authorized: [PRIVATE],
      starts: [[PRIVATE, 3000]], meters: [777], stops: [[777, 3500]], statuses: 1, boots: 1 });
    assertClean(m.problems, [['charger', m.charger]]);
  });

  it('/api counts the employer\'s answers, its own transaction\'s included', async () => {
    const { status, json } = await adminApi(m.gw, 'GET', `/api/chargers/${identity}`);
    assert.equal(status, 200);
    const [sec] = json.secondaries;
    // boot and status (copies), Authorize, start, meter values, stop (its own)
    assert.deepEqual([sec.name, sec.answered, sec.errors, sec.unanswered, sec.queued],
      ['employer', 6, 0, 0, 0]);
  });
});

describe('split by token, a 1.6 charger, a 2.0.1 employer CSMS (translated)', { timeout: 90000 }, () => {
  const identity = 'SPLIT-16-201';
  let m;
  before(async () => {
    m = await startSplit({ identity, chargerVersion: '1.6', primaryVersion: '1.6',
      secondaryVersion: '2.0.1' });
    answer16(m.primary, (t) => !t.startsWith('CO-'), 777);
    const info = (t) => ({ status: t.startsWith('CO-') ? 'Accepted' : 'Invalid' });
    m.employer.responders.Authorize = ({ idToken }) => ({ idTokenInfo: info(idToken.idToken) });
    m.employer.responders.TransactionEvent = (p) => (p.eventType === 'Started' ?
      { idTokenInfo: info(p.idToken.idToken) } : {});
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.primary });
    await m?.employer.close();
  });

  it('the company card\'s session is the employer\'s, in 2.0.1', async () => {
    await m.charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'M1' });
    const id = await session16(m.charger, COMPANY, 1000, 3000);
    assert.ok(Number.isInteger(id) && id > 0, 'an id the gateway gave for the employer\'s');
    assert.equal(await session16(m.charger, PRIVATE, 3000, 3500), 777);

    const events = await waitFor(() => {
      const e = callsOf(m.employer, identity, 'TransactionEvent');
      return e.some((x) => x.eventType === 'Ended') ? e : null;
    }, 5000, 'Ended at the employer');
    const started = events.filter((e) => e.eventType === 'Started');
    assert.equal(started.length, 1, 'one transaction at the employer');
    assert.equal(started[0].idToken.idToken, COMPANY);
    assert.equal(started[0].meterValue[0].sampledValue[0].value, 1000);
    const ended = events.find((e) => e.eventType === 'Ended');
    assert.equal(ended.meterValue.at(-1).sampledValue[0].value, 3000);
    assert.ok(events.every((e) => e.transactionInfo.transactionId ===
      started[0].transactionInfo.transactionId), 'every event names the same transaction');
    assert.ok(!events.some((e) => e.idToken?.idToken === PRIVATE), 'never the private card');
    assert.deepEqual(callsOf(m.employer, identity, 'Authorize').map((a) => a.idToken.idToken),
      [COMPANY]);
  });

  it('the 1.6 primary concluded the private card\'s transaction only', () => {
    assert.deepEqual(concluded16(m.primary, identity), { authorized: [PRIVATE],
      starts: [[PRIVATE, 3000]], meters: [777], stops: [[777, 3500]], statuses: 0, boots: 1 });
    assertClean(m.problems, [['charger', m.charger]]);
  });
});

describe('split by token, a 2.0.1 charger, two 2.0.1 CSMSs', { timeout: 90000 }, () => {
  const identity = 'SPLIT-201';
  let m;
  const event = txEvents();

  before(async () => {
    m = await startSplit({ identity, chargerVersion: '2.0.1', primaryVersion: '2.0.1',
      secondaryVersion: '2.0.1' });
    for (const [csms, mine] of [[m.primary, (t) => !t.startsWith('CO-')],
      [m.employer, (t) => t.startsWith('CO-')]]) {
      const info = (t) => ({ status: mine(t) ? 'Accepted' : 'Invalid' });
      csms.responders.Authorize = ({ idToken }) => ({ idTokenInfo: info(idToken.idToken) });
      csms.responders.TransactionEvent = (p) => (p.idToken ? { idTokenInfo: info(p.idToken.idToken) } : {});
    }
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.primary });
    await m?.employer.close();
  });

  it('each card\'s transaction reaches its owner only, with its owner\'s answers', async () => {
    await m.charger.call('BootNotification', { reason: 'PowerUp',
      chargingStation: { vendorName: 'Acme', model: 'M2' } });
    for (const [token, txid, from, to] of [[COMPANY, 'tx-company', 1000, 3000],
      [PRIVATE, 'tx-private', 3000, 3500]]) {
      const auth = await m.charger.call('Authorize', { idToken: { idToken: token, type: 'ISO14443' } });
      assert.equal(auth.idTokenInfo.status, 'Accepted', `${token} accepted by its owner`);
      const started = await m.charger.call('TransactionEvent', event('Started', txid, token, from));
      assert.equal(started.idTokenInfo.status, 'Accepted');
      await m.charger.call('TransactionEvent', event('Updated', txid, null, (from + to) / 2));
      await m.charger.call('TransactionEvent', event('Ended', txid, null, to,
        { stoppedReason: 'Local' }));
    }
  });

  it('each CSMS concluded its own transaction: token, energy, end', async () => {
    for (const [csms, token, txid, from, to] of [[m.employer, COMPANY, 'tx-company', 1000, 3000],
      [m.primary, PRIVATE, 'tx-private', 3000, 3500]]) {
      const events = await waitFor(() => {
        const e = callsOf(csms, identity, 'TransactionEvent');
        return e.length >= 3 ? e : null;
      }, 5000, 'three events');
      assert.deepEqual(events.map((e) => [e.eventType, e.transactionInfo.transactionId]),
        [['Started', txid], ['Updated', txid], ['Ended', txid]]);
      assert.equal(events[0].idToken.idToken, token);
      assert.equal(events[0].meterValue[0].sampledValue[0].value, from);
      assert.equal(events[2].meterValue[0].sampledValue[0].value, to);
      assert.deepEqual(callsOf(csms, identity, 'Authorize').map((a) => a.idToken.idToken), [token]);
      assert.equal(callsOf(csms, identity, 'BootNotification').length, 1, 'both see the boot');
    }
    assertClean(m.problems, [['charger', m.charger]]);
  });
});
