// SPDX-License-Identifier: MIT
//
// Split by token (docs/MULTI_CSMS.md, rules 4 and 5), the owner's side:
// a company card's transaction belongs to the employer's CSMS (a
// secondary); while the employer is down the charger is answered by the
// gateway (the offline stage's local answers: the card is on local_list)
// and the whole transaction waits in the employer's queue, to reach it,
// in order and under its own transaction id, when it is back. The primary
// never sees it. Then token_routing = "ask": a card no list names goes to
// whichever CSMS accepts its Authorize, primary first. All peers strict.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  connectCharger, isoNow, startCsms, startGateway, stopAll, subprotocol, waitFor,
} from './lib/harness.mjs';
import { txEvents } from './lib/payloads.mjs';
import { assertClean, watchStrict } from './lib/translate-peers.mjs';

const COMPANY = 'CO-4711';

const callsOf = (csms, identity, method) => csms.callsOf(identity)
  .filter((c) => c.method === method).map((c) => c.params);

// Boot, statuses and heartbeats any CSMS answers.
function answerBasics(csms, version) {
  csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
  csms.responders.StatusNotification = {};
  csms.responders.MeterValues = {};
  if (version !== '1.6') csms.responders.TransactionEvent = {};
}

// A gateway showing charger `identity` to a primary and a secondary
// "employer" (its peers strict, their problems in `problems`).
async function startPair({ identity, chargerVersion, primaryVersion, employerVersion, extra }) {
  const problems = [];
  const primary = await startCsms({ protocols: [subprotocol(primaryVersion)] });
  const employer = await startCsms({ protocols: [subprotocol(employerVersion)] });
  primary.server.on('client', (c) => watchStrict(problems, 'primary', c));
  employer.server.on('client', (c) => watchStrict(problems, 'employer', c));
  answerBasics(primary, primaryVersion);
  answerBasics(employer, employerVersion);
  const gw = await startGateway({
    args: ['--upstream-ocpp', primaryVersion],
    config: `csms = {\n  url = "${primary.url}";\n  reconnect_min = 0.2;\n  reconnect_max = 0.5;\n` +
      `${extra.csms}  secondaries = ( {\n    name = "employer";\n    url = "${employer.url}";\n` +
      `    upstream_ocpp = "${employerVersion}";\n${extra.employer ?? ''}  } );\n};\n` +
      (extra.root ?? ''),
  });
  const charger = await connectCharger(gw, identity, chargerVersion);
  watchStrict(problems, 'charger', charger);
  await primary.waitClient(identity);
  await employer.waitClient(identity);
  return { problems, primary, employer, gw, charger };
}

// The employer's CSMS closed: once the gateway saw its leg go.
async function employerDown(m) {
  await m.employer.close();
  await waitFor(() => /north\.employer.*(leg up -> down|reconnecting)/.test(m.gw.stderr), 5000,
    'the gateway to see the employer go');
}

// The employer's CSMS back on its port, strict, with `responders`.
async function employerBack(m, version, responders) {
  const back = await startCsms({ protocols: [subprotocol(version)], port: m.employer.port });
  back.server.on('client', (c) => watchStrict(m.problems, 'employer-back', c));
  answerBasics(back, version);
  Object.assign(back.responders, responders);
  return back;
}

const energy16 = (wh) => [{ timestamp: isoNow(), sampledValue: [{ value: String(wh), unit: 'Wh',
  measurand: 'Energy.Active.Import.Register', context: 'Sample.Periodic' }] }];

// What a 1.6 CSMS concluded of the charger's transactions.
function concluded16(csms, identity) {
  return {
    authorized: callsOf(csms, identity, 'Authorize').map((a) => a.idTag),
    starts: callsOf(csms, identity, 'StartTransaction').map((s) => [s.idTag, s.meterStart]),
    meters: callsOf(csms, identity, 'MeterValues').filter((v) => v.transactionId)
      .map((v) => [v.transactionId, Number(v.meterValue[0].sampledValue[0].value)]),
    stops: callsOf(csms, identity, 'StopTransaction').map((s) => [s.transactionId, s.meterStop]),
  };
}

const LOCAL_LIST = `local_list = ( { id = "${COMPANY}"; status = "Accepted"; } );\n`;

describe('the owner down for a whole transaction: a 1.6 charger, two 1.6 CSMSs', { timeout: 90000 }, () => {
  const identity = 'OWNER-16';
  let m;
  let back;
  let localId;
  before(async () => {
    m = await startPair({ identity, chargerVersion: '1.6', primaryVersion: '1.6',
      employerVersion: '1.6', extra: { csms: '  token_routing = "list";\n',
        employer: '    token_prefixes = [ "CO-" ];\n', root: LOCAL_LIST } });
    m.primary.responders.StartTransaction = { transactionId: 777, idTagInfo: { status: 'Accepted' } };
    await m.charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'M1' });
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.primary });
    await m?.employer.close();
    await back?.close();
  });

  it('the employer down: the company card\'s session answered by the gateway at once', async () => {
    await employerDown(m);
    const t0 = Date.now();
    const auth = await m.charger.call('Authorize', { idTag: COMPANY });
    assert.equal(auth.idTagInfo.status, 'Accepted', 'local_list, as the offline stage answers');
    const start = await m.charger.call('StartTransaction', { connectorId: 1, idTag: COMPANY,
      meterStart: 1000, timestamp: isoNow() });
    assert.equal(start.idTagInfo.status, 'Accepted');
    localId = start.transactionId;
    assert.ok(localId >= 1000000000, `a gateway-issued id: ${localId}`);
    await m.charger.call('MeterValues', { connectorId: 1, transactionId: localId,
      meterValue: energy16(2000) });
    await m.charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError',
      status: 'Finishing' });
    await m.charger.call('StopTransaction', { transactionId: localId, meterStop: 3000,
      timestamp: isoNow(), reason: 'Local', idTag: COMPANY });
    assert.ok(Date.now() - t0 < 3000, `answered in ${Date.now() - t0} ms`);
    // the primary is up and undelayed: it saw the status, not the transaction
    await waitFor(() => callsOf(m.primary, identity, 'StatusNotification').length, 5000, 'status');
    assert.deepEqual(concluded16(m.primary, identity),
      { authorized: [], starts: [], meters: [], stops: [] });
  });

  it('back: the employer gets the transaction whole, under its own id', async () => {
    back = await employerBack(m, '1.6', {
      StartTransaction: { transactionId: 4242, idTagInfo: { status: 'Accepted' } },
      StopTransaction: { idTagInfo: { status: 'Accepted' } },
    });
    await waitFor(() => callsOf(back, identity, 'StopTransaction').length, 15000,
      'the StopTransaction at the employer');
    assert.deepEqual(concluded16(back, identity), { authorized: [],
      starts: [[COMPANY, 1000]], meters: [[4242, 2000]], stops: [[4242, 3000]] });
    assert.equal(callsOf(back, identity, 'StopTransaction')[0].idTag, COMPANY);
    // a status while it was down is not worth a late delivery
    assert.equal(callsOf(back, identity, 'StatusNotification').length, 0);
  });

  it('a second company session with the employer back goes live, its id the employer\'s', async () => {
    back.responders.Authorize = { idTagInfo: { status: 'Accepted' } };
    back.responders.StartTransaction = { transactionId: 4243, idTagInfo: { status: 'Accepted' } };
    const start = await m.charger.call('StartTransaction', { connectorId: 1, idTag: COMPANY,
      meterStart: 3000, timestamp: isoNow() });
    assert.equal(start.transactionId, 4243);
    await m.charger.call('StopTransaction', { transactionId: 4243, meterStop: 3500,
      timestamp: isoNow(), reason: 'Local' });
    assert.deepEqual(concluded16(back, identity).stops, [[4242, 3000], [4243, 3500]]);
    assert.deepEqual(concluded16(m.primary, identity).starts, [], 'the primary never saw one');
  });

  it('started while the employer is down, stopped once it is back: the live stop under its id', async () => {
    await back.close();
    await waitFor(() => (m.gw.stderr.match(/north\.employer.*leg up -> down/g) ?? []).length >= 2,
      5000, 'the gateway to see the employer go again');
    const start = await m.charger.call('StartTransaction', { connectorId: 1, idTag: COMPANY,
      meterStart: 3500, timestamp: isoNow() });
    assert.ok(start.transactionId >= 1000000000 && start.transactionId !== localId);
    const again = await employerBack(m, '1.6', {
      StartTransaction: { transactionId: 4244, idTagInfo: { status: 'Accepted' } },
      StopTransaction: { idTagInfo: { status: 'Accepted' } },
    });
    try {
      await waitFor(() => callsOf(again, identity, 'StartTransaction').length, 15000,
        'the queued start at the employer');
      await m.charger.call('MeterValues', { connectorId: 1, transactionId: start.transactionId,
        meterValue: energy16(3700) });
      await m.charger.call('StopTransaction', { transactionId: start.transactionId, meterStop: 3900,
        timestamp: isoNow(), reason: 'Local' });
      assert.deepEqual(concluded16(again, identity), { authorized: [],
        starts: [[COMPANY, 3500]], meters: [[4244, 3700]], stops: [[4244, 3900]] });
      assert.deepEqual(concluded16(m.primary, identity).starts, []);
      assertClean(m.problems, [['charger', m.charger]]);
    } finally {
      await again.close();
    }
  });
});

describe('the owner down: a 2.0.1 charger, a 2.0.1 primary, a 1.6 owner (translated)', { timeout: 90000 }, () => {
  const identity = 'OWNER-201-16';
  let m;
  let back;
  const event = txEvents();

  before(async () => {
    m = await startPair({ identity, chargerVersion: '2.0.1', primaryVersion: '2.0.1',
      employerVersion: '1.6', extra: { csms: '  token_routing = "list";\n',
        employer: '    token_prefixes = [ "CO-" ];\n', root: LOCAL_LIST } });
    await m.charger.call('BootNotification', { reason: 'PowerUp',
      chargingStation: { vendorName: 'Acme', model: 'M2' } });
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.primary });
    await m?.employer.close();
    await back?.close();
  });

  it('the 1.6 employer down: the company card\'s transaction answered by the gateway', async () => {
    await employerDown(m);
    const t0 = Date.now();
    const auth = await m.charger.call('Authorize', { idToken: { idToken: COMPANY, type: 'ISO14443' } });
    assert.equal(auth.idTokenInfo.status, 'Accepted');
    const started = await m.charger.call('TransactionEvent', event('Started', 'tx-co', COMPANY, 1000));
    assert.equal(started.idTokenInfo.status, 'Accepted');
    await m.charger.call('TransactionEvent', event('Updated', 'tx-co', null, 2000));
    await m.charger.call('TransactionEvent', event('Ended', 'tx-co', null, 3000,
      { stoppedReason: 'Local' }));
    assert.ok(Date.now() - t0 < 3000, `answered in ${Date.now() - t0} ms`);
    await m.charger.call('Heartbeat', {});
    assert.equal(callsOf(m.primary, identity, 'TransactionEvent').length, 0,
      'the primary never sees the company card\'s transaction');
    assert.equal(callsOf(m.primary, identity, 'Authorize').length, 0);
  });

  it('back: the 1.6 employer concludes the transaction, start to stop, with its id', async () => {
    back = await employerBack(m, '1.6', {
      StartTransaction: { transactionId: 5151, idTagInfo: { status: 'Accepted' } },
      StopTransaction: { idTagInfo: { status: 'Accepted' } },
    });
    await waitFor(() => callsOf(back, identity, 'StopTransaction').length, 15000,
      'the StopTransaction at the employer');
    const c = concluded16(back, identity);
    assert.deepEqual(c.starts, [[COMPANY, 1000]]);
    assert.deepEqual(c.stops, [[5151, 3000]]);
    assert.ok(c.meters.length >= 1 && c.meters.every(([id]) => id === 5151),
      `meter values under the employer's id: ${JSON.stringify(c.meters)}`);
    assert.ok(c.meters.some(([, wh]) => wh === 2000), 'the reading taken while it was down');
    assert.equal(callsOf(m.primary, identity, 'TransactionEvent').length, 0);
    assertClean(m.problems, [['charger', m.charger]]);
  });
});

describe('token_routing "ask": the first CSMS that accepts the card, primary first', { timeout: 90000 }, () => {
  const identity = 'ASK-16';
  let m;
  // the primary knows P- and BOTH- cards, the employer E- and BOTH- cards
  const answer = (csms, known, firstId, refusal) => {
    let next = firstId;
    const info = (t) => ({ status: known.some((p) => t.startsWith(p)) ? 'Accepted' : refusal });
    csms.responders.Authorize = ({ idTag }) => ({ idTagInfo: info(idTag) });
    csms.responders.StartTransaction = ({ idTag }) => ({ transactionId: next++, idTagInfo: info(idTag) });
    csms.responders.StopTransaction = () => ({ idTagInfo: { status: 'Accepted' } });
  };
  const session = async (idTag, meterStart, meterStop) => {
    const start = await m.charger.call('StartTransaction', { connectorId: 1, idTag, meterStart,
      timestamp: isoNow() });
    await m.charger.call('MeterValues', { connectorId: 1, transactionId: start.transactionId,
      meterValue: energy16((meterStart + meterStop) / 2) });
    await m.charger.call('StopTransaction', { transactionId: start.transactionId, meterStop,
      timestamp: isoNow(), reason: 'Local' });
    return start.transactionId;
  };

  before(async () => {
    m = await startPair({ identity, chargerVersion: '1.6', primaryVersion: '1.6',
      employerVersion: '1.6', extra: { csms: '  token_routing = "ask";\n' } });
    answer(m.primary, ['P-', 'BOTH-'], 700, 'Invalid');
    answer(m.employer, ['E-', 'BOTH-'], 4200, 'Blocked');
    await m.charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'M1' });
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.primary });
    await m?.employer.close();
  });

  it('a card only the employer accepts: accepted, and its transaction is the employer\'s only', async () => {
    const auth = await m.charger.call('Authorize', { idTag: 'E-1' });
    assert.equal(auth.idTagInfo.status, 'Accepted', 'the employer\'s answer');
    assert.equal(await session('E-1', 100, 900), 4200, 'the employer\'s transaction id');
    assert.deepEqual(concluded16(m.employer, identity).starts, [['E-1', 100]]);
    assert.deepEqual(concluded16(m.employer, identity).stops, [[4200, 900]]);
    assert.deepEqual(concluded16(m.employer, identity).meters, [[4200, 500]]);
    assert.deepEqual(concluded16(m.primary, identity).starts, []);
  });

  it('a card both accept: the primary\'s', async () => {
    const auth = await m.charger.call('Authorize', { idTag: 'BOTH-1' });
    assert.equal(auth.idTagInfo.status, 'Accepted');
    assert.equal(await session('BOTH-1', 900, 1500), 700, 'the primary\'s transaction id');
    assert.deepEqual(concluded16(m.primary, identity).starts, [['BOTH-1', 900]]);
    assert.deepEqual(concluded16(m.primary, identity).stops, [[700, 1500]]);
    assert.deepEqual(concluded16(m.employer, identity).starts, [['E-1', 100]], 'not the employer\'s');
  });

  it('a card every CSMS refuses: the charger gets the primary\'s refusal', async () => {
    const auth = await m.charger.call('Authorize', { idTag: 'NONE-1' });
    assert.equal(auth.idTagInfo.status, 'Invalid', 'the primary\'s Invalid, not the employer\'s Blocked');
    // every CSMS was asked about every card
    const asked = ['E-1', 'BOTH-1', 'NONE-1'];
    assert.deepEqual(concluded16(m.primary, identity).authorized, asked);
    await waitFor(() => concluded16(m.employer, identity).authorized.length === 3, 5000, 'asked');
    assert.deepEqual(concluded16(m.employer, identity).authorized, asked);
  });

  it('the employer down: its cards are refused by it, the primary\'s answer stands', async () => {
    await employerDown(m);
    const auth = await m.charger.call('Authorize', { idTag: 'E-2' });
    assert.equal(auth.idTagInfo.status, 'Invalid');
    const ok = await m.charger.call('Authorize', { idTag: 'P-2' });
    assert.equal(ok.idTagInfo.status, 'Accepted');
    assertClean(m.problems, [['charger', m.charger]]);
  });
});

describe('token_routing "ask" with the primary down: the employer\'s Accepted counts', { timeout: 90000 }, () => {
  const identity = 'ASK-PDOWN';
  let m;
  before(async () => {
    m = await startPair({ identity, chargerVersion: '1.6', primaryVersion: '1.6',
      employerVersion: '1.6', extra: { csms: '  token_routing = "ask";\n' } });
    m.employer.responders.Authorize = { idTagInfo: { status: 'Accepted' } };
    m.employer.responders.StartTransaction = { transactionId: 6161, idTagInfo: { status: 'Accepted' } };
    m.employer.responders.StopTransaction = { idTagInfo: { status: 'Accepted' } };
    await m.charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'M1' });
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.employer });
  });

  it('a card the employer accepts while the primary is down is the employer\'s', async () => {
    await m.primary.close();
    await waitFor(() => new RegExp(`\\[${identity} north\\] .*(leg up -> down|reconnect)`)
      .test(m.gw.stderr), 5000, 'the gateway to see the primary go');
    // the gateway answers in the primary's place (offline.unknown_id
    // "reject": Invalid), which counts as a refusal: the employer's stands
    const auth = await m.charger.call('Authorize', { idTag: 'E-9' });
    assert.equal(auth.idTagInfo.status, 'Accepted');
    const start = await m.charger.call('StartTransaction', { connectorId: 1, idTag: 'E-9',
      meterStart: 10, timestamp: isoNow() });
    assert.equal(start.transactionId, 6161, 'the employer\'s id: its transaction');
    await m.charger.call('StopTransaction', { transactionId: 6161, meterStop: 20,
      timestamp: isoNow(), reason: 'Local' });
    assert.deepEqual(concluded16(m.employer, identity).stops, [[6161, 20]]);
    assertClean(m.problems, [['charger', m.charger]]);
  });
});

describe('token_routing "ask": a 2.0.1 charger, two 2.0.1 CSMSs', { timeout: 90000 }, () => {
  const identity = 'ASK-201';
  let m;
  const event = txEvents();
  const token = (t) => ({ idToken: t, type: 'ISO14443' });
  before(async () => {
    m = await startPair({ identity, chargerVersion: '2.0.1', primaryVersion: '2.0.1',
      employerVersion: '2.0.1', extra: { csms: '  token_routing = "ask";\n' } });
    for (const [csms, prefix] of [[m.primary, 'P-'], [m.employer, 'E-']]) {
      const info = (t) => ({ status: t.startsWith(prefix) ? 'Accepted' : 'Unknown' });
      csms.responders.Authorize = ({ idToken }) => ({ idTokenInfo: info(idToken.idToken) });
      csms.responders.TransactionEvent = (p) => (p.idToken ? { idTokenInfo: info(p.idToken.idToken) } : {});
    }
    await m.charger.call('BootNotification', { reason: 'PowerUp',
      chargingStation: { vendorName: 'Acme', model: 'M2' } });
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.primary });
    await m?.employer.close();
  });

  it('each card\'s transaction goes to the CSMS that accepted it, the other sees none of it', async () => {
    for (const [card, txid] of [['E-1', 'tx-e'], ['P-1', 'tx-p']]) {
      const auth = await m.charger.call('Authorize', { idToken: token(card) });
      assert.equal(auth.idTokenInfo.status, 'Accepted', `${card}: its owner's Accepted`);
      const started = await m.charger.call('TransactionEvent', event('Started', txid, card, 100));
      assert.equal(started.idTokenInfo.status, 'Accepted');
      await m.charger.call('TransactionEvent', event('Ended', txid, null, 400,
        { stoppedReason: 'Local' }));
    }
    const refused = await m.charger.call('Authorize', { idToken: token('X-1') });
    assert.equal(refused.idTokenInfo.status, 'Unknown', 'the primary\'s refusal');
    for (const [csms, txid, card] of [[m.employer, 'tx-e', 'E-1'], [m.primary, 'tx-p', 'P-1']]) {
      const events = callsOf(csms, identity, 'TransactionEvent');
      assert.deepEqual(events.map((e) => [e.eventType, e.transactionInfo.transactionId]),
        [['Started', txid], ['Ended', txid]]);
      assert.equal(events[0].idToken.idToken, card);
      assert.equal(events[1].meterValue[0].sampledValue[0].value, 400);
    }
    assertClean(m.problems, [['charger', m.charger]]);
  });
});

describe('the owner lost with the charger\'s start in flight (1.6)', { timeout: 90000 }, () => {
  const identity = 'OWNER-LOST';
  let m;
  let back;
  before(async () => {
    m = await startPair({ identity, chargerVersion: '1.6', primaryVersion: '1.6',
      employerVersion: '1.6', extra: { csms: '  token_routing = "list";\n',
        employer: '    token_prefixes = [ "CO-" ];\n', root: LOCAL_LIST } });
    await m.charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'M1' });
    // the employer goes away with the start unanswered
    m.employer.responders.StartTransaction = () => {
      setImmediate(() => m.employer.close());
      return new Promise(() => {});
    };
  });
  after(async () => {
    await stopAll({ clients: [m?.charger], gw: m?.gw, csms: m?.primary });
    await back?.close();
  });

  it('the charger gets the gateway\'s answer, and the owner, back, the transaction whole', async () => {
    const start = await m.charger.call('StartTransaction', { connectorId: 1, idTag: COMPANY,
      meterStart: 1000, timestamp: isoNow() });
    assert.equal(start.idTagInfo.status, 'Accepted');
    assert.ok(start.transactionId >= 1000000000, `a gateway-issued id: ${start.transactionId}`);
    await m.charger.call('StopTransaction', { transactionId: start.transactionId, meterStop: 2000,
      timestamp: isoNow(), reason: 'Local' });
    back = await employerBack(m, '1.6', {
      StartTransaction: { transactionId: 4242, idTagInfo: { status: 'Accepted' } },
      StopTransaction: { idTagInfo: { status: 'Accepted' } },
    });
    await waitFor(() => callsOf(back, identity, 'StopTransaction').length, 15000,
      'the StopTransaction at the employer');
    assert.deepEqual(concluded16(back, identity), { authorized: [], starts: [[COMPANY, 1000]],
      meters: [], stops: [[4242, 2000]] });
    assert.deepEqual(concluded16(m.primary, identity).starts, []);
    assertClean(m.problems, [['charger', m.charger]]);
  });
});
