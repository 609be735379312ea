// SPDX-License-Identifier: MIT
//
// Failed charger logins reach the charger's CSMS as a
// SecurityEventNotification from that charger: a wrong password while the
// charger is connected (sent on its north leg), a wrong password from a
// charger that is not connected (the gateway opens a north leg to deliver
// it, in 1.6 with the security extension's type name), a client
// certificate whose CN is another charger's, and a password-guessing burst
// that costs the CSMS one report per csms.security_event_interval with
// the rest counted in a summary. An identity nobody configured is never
// reported.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';

import {
  closeClient, connectCharger, sleep, startCsms, startGateway, stopAll, waitFor,
} from './lib/harness.mjs';
import { chargerToCsms } from './lib/payloads.mjs';
import { connectTlsCharger, makePki, passwordHash } from './lib/tls.mjs';

const PASSWORD = 'Correct-Horse-Battery-9';
const INTERVAL_S = 3;
const pki = makePki();
after(() => pki.remove());

const q = (s) => JSON.stringify(String(s));

function config(hash, chargers, tls) {
  const out = [`csms = { security_event_interval = ${INTERVAL_S}; reconnect_min = 0.2; reconnect_max = 1.0; };`];
  if (tls) {
    out.push(`tls = { cert = ${q(pki.server.cert)}; key = ${q(pki.server.key)}; ca = ${q(pki.ca.cert)};`,
      '  require_client_cert = true; };');
  }
  out.push('chargers = (', chargers.map((id) => `  { id = ${q(id)}; password_hash = ${q(hash)}; }`)
    .join(',\n'), ');');
  return out.join('\n') + '\n';
}

// A CSMS that takes security events and a gateway for @chargers in front.
async function start(chargers, tls = false) {
  const hash = await passwordHash(PASSWORD);
  const csms = await startCsms();
  csms.responders.SecurityEventNotification = {};
  const gw = await startGateway({ csmsUrl: csms.url, config: config(hash, chargers, tls) });
  return { csms, gw };
}

const eventsOf = (csms, id) => csms.callsOf(id).filter((c) => c.method === 'SecurityEventNotification');

// A connect that must be refused with @status.
async function refused(promise, status) {
  let client;
  try {
    client = await promise;
  } catch (err) {
    assert.equal(err.code, status, `refused with ${err.code}, not ${status}: ${err.message}`);
    return;
  }
  await closeClient(client);
  assert.fail('connected, but should have been refused');
}

describe('failed logins become SecurityEventNotification', { timeout: 90000 }, () => {
  let csms;
  let gw;
  const clients = [];

  before(async () => {
    ({ csms, gw } = await start(['SE-ON', 'SE-OFF16', 'SE-BURST']));
  });

  after(async () => {
    await stopAll({ clients, gw, csms });
  });

  it('a wrong password for a connected charger arrives on its north leg (2.0.1)', async () => {
    const c = await connectCharger(gw, 'SE-ON', '2.0.1', { password: PASSWORD });
    clients.push(c);
    await csms.waitClient('SE-ON');
    const [boot] = chargerToCsms('2.0.1');
    csms.responders.BootNotification = boot.response;
    await c.call('BootNotification', boot.request);
    await refused(connectCharger(gw, 'SE-ON', '2.0.1', { password: 'guess-1' }), 401);
    await waitFor(() => eventsOf(csms, 'SE-ON').length === 1, 10000, 'the event at the CSMS');
    const ev = eventsOf(csms, 'SE-ON')[0];
    assert.equal(ev.params.type, 'FailedToAuthenticateAtCsms');
    assert.match(ev.params.techInfo, /password: wrong password/);
    assert.ok(Math.abs(Date.parse(ev.params.timestamp) - Date.now()) < 60000);
    // the refused attempt replaced nothing: the charger is still answered
    const [, hb] = chargerToCsms('2.0.1');
    assert.equal(typeof (await c.call('Heartbeat', hb.request)).currentTime, 'string');
  });

  it('a charger that is not connected is reported on a north leg opened for it (1.6 type)', async () => {
    await refused(connectCharger(gw, 'SE-OFF16', '1.6', { password: 'guess-2' }), 401);
    await waitFor(() => eventsOf(csms, 'SE-OFF16').length === 1, 10000, 'the event at the CSMS');
    const ev = eventsOf(csms, 'SE-OFF16')[0];
    assert.equal(ev.protocol, 'ocpp1.6');
    assert.equal(ev.params.type, 'FailedToAuthenticateAtCentralSystem');
    assert.match(ev.params.techInfo, /wrong password/);
    // delivered: the gateway closes the leg it opened
    await waitFor(() => csms.closes.some((cl) => cl.identity === 'SE-OFF16'), 10000,
      'the delivering leg closed');
  });

  it('a password-guessing burst costs one report per interval and a summary', async () => {
    const t0 = Date.now();
    for (let i = 0; i < 8; i++)
      await refused(connectCharger(gw, 'SE-BURST', '2.0.1', { password: `guess-${i}` }), 401);
    await waitFor(() => eventsOf(csms, 'SE-BURST').length >= 1, 10000, 'the first report');
    assert.equal(eventsOf(csms, 'SE-BURST').length, 1, 'more than one report within the interval');
    await waitFor(() => eventsOf(csms, 'SE-BURST').length === 2, INTERVAL_S * 1000 + 10000,
      'the summary');
    const [first, summary] = eventsOf(csms, 'SE-BURST');
    assert.match(first.params.techInfo, /wrong password/);
    assert.match(summary.params.techInfo, /refused 7 more logins \(last: password: wrong password\)/);
    assert.ok(Date.now() - t0 >= (INTERVAL_S - 1) * 1000, 'the summary came before the interval');
    await sleep(INTERVAL_S * 1000 + 500);
    assert.equal(eventsOf(csms, 'SE-BURST').length, 2, 'a report with nothing to say');
  });

  it('an identity nobody configured is not reported', async () => {
    await refused(connectCharger(gw, 'SE-STRANGER', '2.0.1', { password: 'x' }), 404);
    await sleep(1000);
    assert.equal(csms.handshakes.filter((h) => h.identity === 'SE-STRANGER').length, 0);
  });
});

describe('a client certificate of another charger is reported', { timeout: 60000 }, () => {
  let csms;
  let gw;
  const clients = [];

  before(async () => {
    ({ csms, gw } = await start(['SE-P3'], true));
  });

  after(async () => {
    await stopAll({ clients, gw, csms });
  });

  it('CN of another charger: 403 to the charger, the event to its CSMS', async () => {
    const { pem } = pki.clientCert('SE-P3-OTHER');
    await refused(connectTlsCharger(gw, 'SE-P3', '2.0.1',
      { ca: pki.ca.pem, cert: pem.cert, key: pem.key, password: PASSWORD }), 403);
    await waitFor(() => eventsOf(csms, 'SE-P3').length === 1, 10000, 'the event at the CSMS');
    const ev = eventsOf(csms, 'SE-P3')[0];
    assert.equal(ev.params.type, 'FailedToAuthenticateAtCsms');
    assert.match(ev.params.techInfo, /client certificate: client certificate CN is not the identity/);
  });
});

describe('a connection that replaces a connected charger is reported', { timeout: 90000 }, () => {
  let csms;
  let gw;
  const clients = [];

  before(async () => {
    ({ csms, gw } = await start(['SE-TWIN', 'SE-TWIN16', 'SE-AWAY']));
  });

  after(async () => {
    await stopAll({ clients, gw, csms });
  });

  // The charger @id connects and boots in @version; its CSMS sees it.
  async function booted(id, version) {
    const c = await connectCharger(gw, id, version, { password: PASSWORD });
    clients.push(c);
    const [boot] = chargerToCsms(version);
    csms.responders.BootNotification = boot.response;
    assert.deepEqual(await c.call('BootNotification', boot.request), boot.response);
    return c;
  }

  for (const [id, version] of [['SE-TWIN', '2.0.1'], ['SE-TWIN16', '1.6']]) {
    it(`the second connection of ${id} (OCPP ${version}) takes over; its CSMS hears of it`, async () => {
      const first = await booted(id, version);
      assert.equal(eventsOf(csms, id).length, 0, 'an event before any replacement');
      const closed = once(first, 'close');
      const second = await booted(id, version);
      const [{ code }] = await closed;
      assert.equal(code, 1008, 'the replaced connection closed otherwise');
      await waitFor(() => eventsOf(csms, id).length === 1, 10000, 'the event at the CSMS');
      const ev = eventsOf(csms, id)[0];
      assert.equal(ev.protocol, `ocpp${version}`);
      assert.equal(ev.params.type, 'ConnectionReplaced');
      assert.match(ev.params.techInfo, /connection replaced: a new connection from 127\.0\.0\.1/);
      // the new connection is the charger now, answered through its north leg
      const [, hb] = chargerToCsms(version);
      assert.equal(typeof (await second.call('Heartbeat', hb.request)).currentTime, 'string');
    });
  }

  it('replacements within the interval are counted into one summary', async () => {
    // past the interval of the report above: the next replacement is
    // reported at once, the two after it are held for the summary
    await sleep(INTERVAL_S * 1000 + 500);
    const t0 = eventsOf(csms, 'SE-TWIN').length;
    await booted('SE-TWIN', '2.0.1');
    await waitFor(() => eventsOf(csms, 'SE-TWIN').length === t0 + 1, 10000, 'the first report');
    await booted('SE-TWIN', '2.0.1');
    await booted('SE-TWIN', '2.0.1');
    await sleep(500);
    assert.equal(eventsOf(csms, 'SE-TWIN').length, t0 + 1, 'more than one report within the interval');
    await waitFor(() => eventsOf(csms, 'SE-TWIN').length === t0 + 2, INTERVAL_S * 1000 + 10000,
      'the summary');
    const summary = eventsOf(csms, 'SE-TWIN').at(-1);
    assert.equal(summary.params.type, 'ConnectionReplaced');
    assert.match(summary.params.techInfo, /saw 2 more replaced connections \(last: connection replaced/);
    await sleep(INTERVAL_S * 1000 + 500);
    assert.equal(eventsOf(csms, 'SE-TWIN').length, t0 + 2, 'a report with nothing to say');
  });

  it('with the CSMS away the report waits in the store and reaches it once it is back', async () => {
    const first = await booted('SE-AWAY', '2.0.1');
    const port = csms.port;
    await csms.close();
    await waitFor(() => /\[SE-AWAY north\] .*(lost|closed|failed)/i.test(gw.stderr), 10000,
      'the north leg down');
    const closed = once(first, 'close');
    clients.push(await connectCharger(gw, 'SE-AWAY', '2.0.1', { password: PASSWORD }));
    assert.equal((await closed)[0].code, 1008);
    await waitFor(() => /\[SE-AWAY north\] SecurityEventNotification: replaced connection queued for the CSMS/
      .test(gw.stderr), 10000, 'the report queued');
    csms = await startCsms({ port });
    csms.responders.SecurityEventNotification = {};
    await waitFor(() => eventsOf(csms, 'SE-AWAY').length === 1, 20000, 'the event at the CSMS back');
    const ev = eventsOf(csms, 'SE-AWAY')[0];
    assert.equal(ev.params.type, 'ConnectionReplaced');
    assert.match(ev.params.techInfo, /connection replaced: a new connection from 127\.0\.0\.1/);
  });
});
