// SPDX-License-Identifier: MIT
//
// Hostile and broken input against the real ocppgw: malformed frames,
// unknown message types and actions, oversize frames, floods, schema
// violations in both directions, a missing CSMS, refused handshakes and
// duplicate identities. Raw `ws` peers send what no OCPP library would.
// Each case checks the exact CALLERROR (code spelled per version) and that
// the charger's connection survives when it should.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  VERSIONS, closeClient, connectCharger, errorCodes, freePort, isoNow, rawCharger,
  runOcppgw, startCsms, startGateway, startRawCsms, stopAll, withTimeout,
} from './lib/harness.mjs';

const tag = (version) => version.replaceAll('.', '');

// Asserts `frame` is [4, id, code, description, {}] and returns description.
function assertCallError(frame, id, code) {
  assert.ok(Array.isArray(frame), `not a frame: ${JSON.stringify(frame)}`);
  assert.equal(frame[0], 4, `expected CALLERROR, got ${JSON.stringify(frame)}`);
  assert.equal(frame[1], id, `CALLERROR id in ${JSON.stringify(frame)}`);
  assert.equal(frame[2], code, `CALLERROR code in ${JSON.stringify(frame)}`);
  assert.equal(typeof frame[3], 'string');
  assert.ok(frame[3].length <= 255, 'errorDescription is string[255]');
  assert.equal(typeof frame[4], 'object');
  assert.ok(frame[4] !== null && !Array.isArray(frame[4]), 'errorDetails must be an object');
  return frame[3];
}

// A Heartbeat round trip on a raw charger: proves the connection still works.
async function assertHeartbeat(raw, id = `hb-${Math.random().toString(36).slice(2, 10)}`) {
  raw.send([2, id, 'Heartbeat', {}]);
  const reply = await raw.next();
  assert.deepEqual(reply.slice(0, 2), [3, id], `Heartbeat answer: ${JSON.stringify(reply)}`);
  assert.equal(typeof reply[2].currentTime, 'string');
}

// Schema violations per version: [name, action, payload, code, field].
function schemaCases(version) {
  const c = errorCodes(version);
  if (version === '1.6') {
    return [
      ['missing required', 'BootNotification', { chargePointModel: 'M1' }, c.occurrence, 'chargePointVendor'],
      ['wrong type', 'StatusNotification',
        { connectorId: '1', errorCode: 'NoError', status: 'Available' }, 'TypeConstraintViolation'],
      ['bad enum', 'StatusNotification',
        { connectorId: 1, errorCode: 'NoError', status: 'Bogus' }, 'PropertyConstraintViolation'],
      ['too long', 'BootNotification',
        { chargePointVendor: 'V'.repeat(21), chargePointModel: 'M1' }, 'PropertyConstraintViolation'],
      ['extra property', 'Heartbeat', { foo: 1 }, c.format],
    ];
  }
  return [
    ['missing required', 'BootNotification', { reason: 'PowerUp' }, c.occurrence, 'chargingStation'],
    ['wrong type', 'StatusNotification',
      { timestamp: isoNow(), connectorStatus: 'Available', evseId: '1', connectorId: 1 },
      'TypeConstraintViolation'],
    ['bad enum', 'StatusNotification',
      { timestamp: isoNow(), connectorStatus: 'Bogus', evseId: 1, connectorId: 1 },
      'PropertyConstraintViolation'],
    ['too long', 'BootNotification',
      { reason: 'PowerUp', chargingStation: { model: 'M1', vendorName: 'V'.repeat(51) } },
      'PropertyConstraintViolation'],
    ['extra property', 'Heartbeat', { foo: 1 }, c.format],
  ];
}

function validBoot(version) {
  return version === '1.6'
    ? { chargePointVendor: 'Acme', chargePointModel: 'M1' }
    : { reason: 'PowerUp', chargingStation: { model: 'M1', vendorName: 'Acme' } };
}

// Cases 1-10 and 14 share one gateway per version.
for (const version of VERSIONS) {
  describe(`bad input from a charger, OCPP ${version}`, { timeout: 90000 }, () => {
    const c = errorCodes(version);
    let csms;
    let gw;
    const opened = [];

    const open = async (name) => {
      const raw = await rawCharger(gw, `${name}-${tag(version)}`, version);
      opened.push(raw);
      return raw;
    };

    before(async () => {
      csms = await startCsms();
      gw = await startGateway({
        csmsUrl: csms.url, args: ['--max-frame-size', '4096', '--response-timeout', '10'],
      });
    });

    after(async () => {
      await stopAll({ raws: opened, gw, csms });
    });

    it('1: non-JSON text -> CALLERROR "-1", connection stays open', async () => {
      const raw = await open('NOJSON');
      raw.send('this is { not json');
      assertCallError(await raw.next(), '-1', c.framework);
      await assertHeartbeat(raw);
    });

    it('2: message type 7', async () => {
      const raw = await open('TYPE7');
      raw.send([7, 'm7', 'Heartbeat', {}]);
      if (version === '2.0.1') {
        assertCallError(await raw.next(), 'm7', 'MessageTypeNotSupported');
      } else {
        await raw.silence(500);
      }
      await assertHeartbeat(raw);
      assert.equal(csms.callsOf(`TYPE7-${tag(version)}`).length, 1, 'only the Heartbeat goes up');
    });

    it('3: CALL without payload', async () => {
      const raw = await open('NOPAYLOAD');
      raw.send([2, 'id', 'Heartbeat']);
      assertCallError(await raw.next(), 'id', c.framework);
      await assertHeartbeat(raw);
    });

    it('4: message id of 37 characters -> id "-1"', async () => {
      const raw = await open('LONGID');
      raw.send([2, 'x'.repeat(37), 'Heartbeat', {}]);
      assertCallError(await raw.next(), '-1', c.framework);
      await assertHeartbeat(raw, 'y'.repeat(36));
    });

    it('5: unknown action -> NotImplemented, not forwarded', async () => {
      const raw = await open('UNKNOWN');
      raw.send([2, 'foo1', 'FooBar', {}]);
      assertCallError(await raw.next(), 'foo1', 'NotImplemented');
      await assertHeartbeat(raw);
      const seen = csms.callsOf(`UNKNOWN-${tag(version)}`).map((x) => x.method);
      assert.deepEqual(seen, ['Heartbeat']);
    });

    it('6: frame above max_frame_size -> error with the id, then close 1009', async () => {
      const raw = await open('BIG');
      const payload = { vendorId: 'com.acme', messageId: 'Blob', data: 'A'.repeat(10 * 1024) };
      raw.send([2, 'big1', 'DataTransfer', payload]);
      assertCallError(await raw.next(), 'big1', c.framework);
      // The header announced more than the limit: the rest is not read
      // (issue 12, finding 5), the connection ends with 1009.
      const closed = await withTimeout(raw.closed, 5000, 'close after an oversize frame');
      assert.equal(closed.code, 1009);
      assert.ok(!csms.callsOf(`BIG-${tag(version)}`).some((x) => x.method === 'DataTransfer'));
    });

    it('7: CALLRESULT for an unknown id -> no reply, connection stays open', async () => {
      const raw = await open('STRAYRESULT');
      raw.send([3, 'never-sent', {}]);
      await raw.silence(500);
      await assertHeartbeat(raw);
    });

    it('8: a second CALL while one is outstanding -> both answered in order', async () => {
      const raw = await open('TWOCALLS');
      const status = version === '1.6'
        ? { connectorId: 1, errorCode: 'NoError', status: 'Available' }
        : { timestamp: isoNow(), connectorStatus: 'Available', evseId: 1, connectorId: 1 };
      raw.send([2, 'c1', 'Heartbeat', {}]);
      raw.send([2, 'c2', 'StatusNotification', status]);
      const r1 = await raw.next();
      const r2 = await raw.next();
      assert.deepEqual(r1.slice(0, 2), [3, 'c1'], JSON.stringify(r1));
      assert.deepEqual(r2, [3, 'c2', {}]);
      const seen = csms.callsOf(`TWOCALLS-${tag(version)}`);
      assert.deepEqual(seen.map((x) => x.method), ['Heartbeat', 'StatusNotification']);
      assert.deepEqual(seen[1].params, status);
      const ids = seen.map((x) => x.messageId);
      assert.equal(new Set([...ids, 'c1', 'c2']).size, 4, `upstream ids ${ids} must be the gateway's own`);
    });

    it('9: flood of 300 Heartbeats -> one answer each, excess refused; others unaffected', async () => {
      // The CSMS holds the flood's Heartbeats until every refusal is in,
      // so which calls are relayed does not depend on timing.
      let openGate;
      const gate = new Promise((resolve) => { openGate = resolve; });
      csms.responders.Heartbeat = async (params, client) => {
        if (client.identity.startsWith('FLOOD')) await gate;
        return { currentTime: isoNow() };
      };
      const raw = await open('FLOOD');
      await csms.waitClient(`FLOOD-${tag(version)}`); // else calls queue while it connects
      const N = 300;
      for (let i = 0; i < N; i++) raw.send([2, `f${i}`, 'Heartbeat', {}]);

      // Meanwhile another charger works normally.
      const other = await connectCharger(gw, `CALM-${tag(version)}`, version);
      const t0 = Date.now();
      try {
        const hb = await other.call('Heartbeat', {});
        assert.equal(typeof hb.currentTime, 'string');
        assert.ok(Date.now() - t0 < 1000, `other charger waited ${Date.now() - t0} ms`);
      } finally {
        await closeClient(other);
      }

      const answers = new Map();
      const take = (f) => {
        assert.ok(!answers.has(f[1]), `two answers for ${f[1]}`);
        answers.set(f[1], f);
      };
      try {
        // Refusals first, while the gate is shut: until a second passes quietly.
        while (answers.size < N) {
          const f = await raw.next(1000).catch(() => null);
          if (!f) break;
          take(f);
        }
      } finally {
        openGate();
      }
      while (answers.size < N) take(await raw.next(15000));
      await raw.silence(300);
      const results = [];
      for (let i = 0; i < N; i++) {
        const f = answers.get(`f${i}`);
        assert.ok(f, `no answer for f${i}`);
        if (f[0] === 3) {
          results.push(i);
        } else {
          const desc = assertCallError(f, `f${i}`, 'GenericError');
          assert.match(desc, /pending/i);
        }
      }
      // The first ones are relayed: the one in flight plus a full queue (16).
      assert.deepEqual(results, [...Array(17).keys()], 'relayed: the first 17 exactly');
      await assertHeartbeat(raw);
    });

    for (const [name, action, payload, code, field] of schemaCases(version)) {
      it(`10: schema violation (${name}) -> ${code}, not forwarded`, async () => {
        const name_ = `SCHEMA-${name.replace(/ /g, '-')}`.toUpperCase();
        const raw = await open(name_);
        raw.send([2, 'bad1', action, payload]);
        const desc = assertCallError(await raw.next(), 'bad1', code);
        if (field) assert.ok(desc.includes(field), `description "${desc}" should name ${field}`);
        await assertHeartbeat(raw);
        const seen = csms.callsOf(`${name_}-${tag(version)}`).map((x) => x.method);
        assert.deepEqual(seen, ['Heartbeat'], 'the invalid CALL must not reach the CSMS');
      });
    }

    it('14: a second connection with the same identity replaces the first', async () => {
      const first = await open('DUP');
      await assertHeartbeat(first);
      const second = await open('DUP');
      const closed = await withTimeout(first.closed, 3000, 'first connection closed');
      assert.ok(closed.code, 'closed');
      await assertHeartbeat(second);
    });
  });
}

// Case 11: the CSMS answers with a schema-invalid CALLRESULT.
for (const version of VERSIONS) {
  describe(`bad input from the CSMS, OCPP ${version}`, { timeout: 30000 }, () => {
    let rawCsms;
    let gw;
    let raw;

    before(async () => {
      rawCsms = await startRawCsms(([, id, action]) => {
        if (action === 'BootNotification') {
          return [3, id, { status: 'Accepted', currentTime: isoNow(), interval: 'soon' }];
        }
        return [3, id, { currentTime: isoNow() }];
      });
      gw = await startGateway({ csmsUrl: rawCsms.url, args: ['--response-timeout', '5'] });
    });

    after(async () => {
      await stopAll({ raws: [raw], gw, csms: rawCsms });
    });

    it('11: schema-invalid CALLRESULT -> InternalError naming the field', async () => {
      raw = await rawCharger(gw, `BADCSMS-${tag(version)}`, version);
      raw.send([2, 'boot1', 'BootNotification', validBoot(version)]);
      const desc = assertCallError(await raw.next(), 'boot1', 'InternalError');
      assert.match(desc, /interval/, `description "${desc}" should name the field`);
      await assertHeartbeat(raw);
    });
  });
}

// Case 12: no CSMS listening.
for (const version of ['1.6', '2.0.1']) {
  describe(`CSMS down, OCPP ${version}`, { timeout: 30000 }, () => {
    const TIMEOUT_S = 2;
    let gw;
    let raw;

    before(async () => {
      const deadPort = await freePort();
      gw = await startGateway({
        csmsUrl: `ws://127.0.0.1:${deadPort}/ocpp`, args: ['--response-timeout', String(TIMEOUT_S)],
      });
    });

    after(async () => {
      await stopAll({ raws: [raw], gw });
    });

    it('12: the gateway answers in the CSMS\'s place, in time; charger stays', async () => {
      raw = await rawCharger(gw, `LONELY-${tag(version)}`, version);
      for (const id of ['u1', 'u2']) {
        const t0 = Date.now();
        raw.send([2, id, 'Heartbeat', {}]);
        const frame = await raw.next((TIMEOUT_S + 2) * 1000);
        assert.equal(frame[0], 3, `expected a local CALLRESULT, got ${JSON.stringify(frame)}`);
        assert.equal(frame[1], id);
        assert.match(frame[2].currentTime, /^\d{4}-\d\d-\d\dT/);
        assert.ok(Date.now() - t0 <= TIMEOUT_S * 1000 + 1000, `answered after ${Date.now() - t0} ms`);
        assert.ok(raw.isOpen, 'charger must stay connected');
      }
      if (version !== '1.6') {
        // No local answer makes sense for a certificate only the CSMS has.
        raw.send([2, 'u3', 'Get15118EVCertificate',
          { iso15118SchemaVersion: 'urn:iso:15118:2:2013:MsgDef', action: 'Install', exiRequest: 'AA==' }]);
        const desc = assertCallError(await raw.next((TIMEOUT_S + 2) * 1000), 'u3', 'NotSupported');
        assert.match(desc, /Get15118EVCertificate|offline|CSMS/i);
        assert.ok(raw.isOpen, 'charger must stay connected');
      }
    });
  });
}

// Case 13: handshake checks with a chargers list.
for (const version of ['1.6', '2.0.1']) {
  describe(`handshake refusals, OCPP ${version}`, { timeout: 30000 }, () => {
    const PASSWORD = 'correct-horse-battery';
    const AUTH = `AUTH-${tag(version)}`;
    const OPEN_ID = `OPEN-${tag(version)}`;
    const PROTO_ID = `PROTO-${tag(version)}`;
    let csms;
    let gw;
    const opened = [];

    before(async () => {
      const pw = await runOcppgw(['passwd'], { input: `${PASSWORD}\n` });
      assert.equal(pw.code, 0, `ocppgw passwd: ${pw.stderr}`);
      const hash = pw.stdout.trim();
      assert.match(hash, /^\$pbkdf2-sha256\$/);
      csms = await startCsms();
      gw = await startGateway({
        csmsUrl: csms.url,
        config: [
          'require_auth = false;',
          'chargers = (',
          `  { id = "${AUTH}"; password_hash = "${hash}"; },`,
          `  { id = "${OPEN_ID}"; },`,
          `  { id = "${PROTO_ID}"; }`,
          ');',
          '',
        ].join('\n'),
      });
    });

    after(async () => {
      await stopAll({ raws: opened, gw, csms });
    });

    it('13a: unknown identity -> HTTP 404', async () => {
      await assert.rejects(rawCharger(gw, `STRANGER-${tag(version)}`, version),
        (err) => err.statusCode === 404);
    });

    it('13b: wrong Basic password -> HTTP 401', async () => {
      await assert.rejects(rawCharger(gw, AUTH, version, { password: 'wrong-password-123' }),
        (err) => err.statusCode === 401);
    });

    it('13c: right password and a listed charger without one are let in', async () => {
      const a = await rawCharger(gw, AUTH, version, { password: PASSWORD });
      opened.push(a);
      await assertHeartbeat(a);
      const b = await rawCharger(gw, OPEN_ID, version);
      opened.push(b);
      await assertHeartbeat(b);
      assert.equal(csms.handshakes.filter((h) => h.identity === AUTH).length, 1);
    });

    it('13d: no supported subprotocol offered -> handshake refused', async () => {
      let raw;
      try {
        raw = await rawCharger(gw, PROTO_ID, version, { protocols: ['ocpp1.5', 'ocpp0.9'] });
      } catch (err) {
        return; // refused at the HTTP level, or no subprotocol in the answer
      }
      opened.push(raw);
      assert.ok(!raw.ws.protocol, `server picked ${raw.ws.protocol}`);
      await withTimeout(raw.closed, 3000, 'close after a handshake with no subprotocol');
    });
  });
}
