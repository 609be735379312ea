// SPDX-License-Identifier: MIT
//
// ocppgw-sim against ocpp-rpc in strict mode, per OCPP version, where every
// frame is checked against the OCA schemas:
// 1. a simulated fleet -> a strict CSMS, which also sends commands to one
//    simulated charger; no strict-mode rejection, no CALLERROR, the whole
//    life of a charger seen, and the simulator exits 0;
// 2. a strict charger -> the responder CSMS (ocppgw-sim --csms): every
//    response valid and plausible, and POST /command reaches the charger and
//    brings its answer back.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  VERSIONS, closeClient, connectCharger, sleep, startCsms, subprotocol, waitFor, withTimeout,
} from './lib/harness.mjs';
import { chargerToCsms, csmsToCharger } from './lib/payloads.mjs';
import {
  fleetCommands, fleetResponders, startFleet, startResponder,
} from './lib/sim-peers.mjs';
import { assertClean, callErrors, watchStrict } from './lib/translate-peers.mjs';

const FLEET_S = 8;

for (const version of VERSIONS) {
  const v = version.replaceAll('.', '');
  const is16 = version === '1.6';

  describe(`ocppgw-sim fleet OCPP ${version} -> strict ocpp-rpc CSMS`, { timeout: 60000 }, () => {
    const ids = [1, 2, 3].map((i) => `SIMF${v}-${i}`);
    const problems = [];
    const legs = [];
    let csms;
    let fleet;
    let bootAfterReset;

    before(async () => {
      csms = await startCsms({ protocols: [subprotocol(version)] });
      Object.assign(csms.responders, fleetResponders(version, problems));
      csms.server.on('client', (c) => {
        legs.push([`csms<-${c.identity}`, c]);
        watchStrict(problems, `csms<-${c.identity}`, c);
      });
      fleet = startFleet({ url: csms.url, version, count: 3, duration: FLEET_S,
        idPattern: `SIMF${v}-%d` });
    });

    after(async () => {
      try {
        if (fleet) {
          const res = await fleet.stop();
          if (res.code !== 0) fleet.dumpLog(`exit ${JSON.stringify(res)}`);
        }
      } finally {
        await csms?.close();
      }
    });

    const callsOf = (id, method) => csms.calls.filter((c) => c.identity === id && c.method === method);

    it('every simulated charger boots, with the chosen subprotocol', async () => {
      await waitFor(() => ids.every((id) => callsOf(id, 'BootNotification').length > 0), 5000,
        'a BootNotification from every charger');
      for (const id of ids) {
        const hs = csms.handshakes.find((h) => h.identity === id);
        assert.ok(hs, `no handshake from ${id}`);
        assert.equal(hs.endpoint, '/ocpp');
        assert.equal(csms.clients.get(id).protocol, subprotocol(version));
      }
    });

    it('answers commands from the strict CSMS (strict-valid both ways)', async () => {
      const id = ids[0];
      const cmd = fleetCommands(version);
      const client = await csms.waitClient(id);
      const call = ([action, payload]) => client.call(action, payload);

      assert.deepEqual(await call(cmd.setConfig), is16 ? { status: 'Accepted' }
        : { setVariableResult: [{ attributeStatus: 'Accepted',
          component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] });
      const got = await call(cmd.getConfig);
      if (is16) {
        assert.equal(got.configurationKey.find((k) => k.key === 'HeartbeatInterval')?.value, '120',
          JSON.stringify(got));
      } else {
        assert.equal(got.getVariableResult[0].attributeStatus, 'Accepted', JSON.stringify(got));
        assert.equal(got.getVariableResult[0].attributeValue, '120', JSON.stringify(got));
      }

      assert.deepEqual(await call(cmd.setProfile), { status: 'Accepted' });
      const comp = await call(cmd.composite);
      assert.equal(comp.status, 'Accepted', JSON.stringify(comp));
      const sched = is16 ? comp.chargingSchedule : comp.schedule;
      assert.equal(sched.chargingSchedulePeriod[0].limit, 16, JSON.stringify(comp));

      const hbBefore = callsOf(id, 'Heartbeat').length;
      assert.deepEqual(await call(cmd.trigger), { status: 'Accepted' });
      await waitFor(() => callsOf(id, 'Heartbeat').length > hbBefore, 3000,
        'the triggered Heartbeat');

      // The EVSE may be busy with a session of its own: retry until free.
      const tag = `REMOTE${v}`;
      let answer;
      for (let i = 0; i < 40; i++) {
        answer = await call(cmd.remoteStart(tag, 4200 + i));
        assert.ok(['Accepted', 'Rejected'].includes(answer.status), JSON.stringify(answer));
        if (answer.status === 'Accepted') break;
        await sleep(100);
      }
      assert.equal(answer.status, 'Accepted', 'the remote start was never accepted');
      if (is16) {
        await waitFor(() => callsOf(id, 'StartTransaction').some((c) => c.params.idTag === tag),
          3000, 'StartTransaction with the remote idTag');
      } else {
        assert.equal(typeof answer.transactionId, 'string', JSON.stringify(answer));
        await waitFor(() => callsOf(id, 'TransactionEvent').some((c) =>
          c.params.eventType === 'Started' && c.params.transactionInfo.transactionId === answer.transactionId &&
          c.params.transactionInfo.remoteStartId !== undefined), 3000,
        'TransactionEvent Started for the remote start');
      }

      const bootsBefore = callsOf(id, 'BootNotification').length;
      assert.deepEqual(await call(cmd.reset), { status: 'Accepted' });
      await waitFor(() => callsOf(id, 'BootNotification').length > bootsBefore, 5000,
        'a new BootNotification after Reset');
      bootAfterReset = callsOf(id, 'BootNotification').at(-1).params;
    });

    // OCPP 2.0.1 B11/B12 (and 2.1): the BootNotification after a Reset
    // carries reason RemoteReset, not PowerUp.
    if (!is16) {
      it('boots with reason RemoteReset after the Reset', () => {
        assert.ok(bootAfterReset, 'no BootNotification after the Reset (see the test above)');
        assert.equal(bootAfterReset.reason, 'RemoteReset');
      });
    }

    it('ocppgw-sim exits 0 at the end of --duration', async () => {
      const res = await withTimeout(fleet.exited, (FLEET_S + 20) * 1000, 'ocppgw-sim exit');
      if (res.code !== 0) fleet.dumpLog(`exit ${JSON.stringify(res)}`);
      assert.deepEqual(res, { code: 0, signal: null });
    });

    it('the CSMS saw the whole life of the chargers', () => {
      const methods = new Set(csms.calls.map((c) => c.method));
      for (const m of ['BootNotification', 'StatusNotification', 'Authorize'])
        assert.ok(methods.has(m), `no ${m} (saw ${[...methods]})`);
      if (is16) {
        for (const m of ['StartTransaction', 'MeterValues', 'StopTransaction'])
          assert.ok(methods.has(m), `no ${m} (saw ${[...methods]})`);
        const started = new Set(csms.calls.filter((c) => c.method === 'StartTransaction')
          .map((c) => c.identity));
        assert.ok(started.size >= 2, `transactions from ${[...started]} only`);
      } else {
        const events = new Set(csms.calls.filter((c) => c.method === 'TransactionEvent')
          .map((c) => c.params.eventType));
        for (const e of ['Started', 'Updated', 'Ended'])
          assert.ok(events.has(e), `no TransactionEvent ${e} (saw ${[...events]})`);
        const periodic = csms.calls.some((c) => c.method === 'TransactionEvent' &&
          c.params.meterValue?.length > 0 && c.params.eventType === 'Updated');
        assert.ok(periodic, 'no TransactionEvent Updated with meter values');
      }
    });

    it('no strict-mode failure, unparsable frame, handler exception or CALLERROR', () => {
      assertClean(problems, legs);
    });
  });

  describe(`strict ocpp-rpc charger OCPP ${version} -> ocppgw-sim --csms`, { timeout: 60000 }, () => {
    const identity = `SIMR${v}`;
    const problems = [];
    let responder;
    let charger;

    before(async () => {
      responder = await startResponder();
      charger = await connectCharger(responder, identity, version);
      watchStrict(problems, `charger ${identity}`, charger);
    });

    after(async () => {
      await closeClient(charger);
      if (responder) {
        const res = await responder.stop();
        if (res.code !== 0) responder.dumpLog(`exit ${JSON.stringify(res)}`);
        assert.deepEqual(res, { code: 0, signal: null }, 'responder exit status');
      }
    });

    it('is listed by GET /chargers with its version', async () => {
      const list = await responder.chargers();
      const me = list.chargers.find((c) => c.id === identity);
      assert.ok(me, JSON.stringify(list));
      assert.equal(me.version, version, JSON.stringify(me));
    });

    // The payloads of the relay tests; the responder's answers need only be
    // valid (strict mode checks them) and plausible.
    for (const [i, msg] of chargerToCsms(version).entries()) {
      it(`charger -> responder #${i} ${msg.action}`, async () => {
        const res = await charger.call(msg.action, msg.request);
        switch (msg.action) {
          case 'BootNotification':
            assert.equal(res.status, 'Accepted');
            assert.ok(res.interval > 0, JSON.stringify(res));
            assert.ok(!Number.isNaN(Date.parse(res.currentTime)), JSON.stringify(res));
            break;
          case 'Heartbeat':
            assert.ok(Math.abs(Date.parse(res.currentTime) - Date.now()) < 60000, JSON.stringify(res));
            break;
          case 'Authorize':
            assert.equal((is16 ? res.idTagInfo : res.idTokenInfo).status, 'Accepted');
            break;
          case 'StartTransaction':
            assert.equal(res.idTagInfo.status, 'Accepted');
            assert.ok(Number.isInteger(res.transactionId), JSON.stringify(res));
            break;
          case 'StopTransaction':
            assert.equal(res.idTagInfo?.status, 'Accepted', JSON.stringify(res));
            break;
          case 'TransactionEvent':
            if (msg.request.idToken) assert.equal(res.idTokenInfo?.status, 'Accepted', JSON.stringify(res));
            break;
          case 'DataTransfer':
            assert.ok(res.status, JSON.stringify(res));
            break;
          default:
            break;
        }
      });
    }

    for (const [i, msg] of csmsToCharger(version).entries()) {
      it(`POST /command #${i} ${msg.action} reaches the charger and comes back`, async () => {
        const got = [];
        charger.handle(msg.action, ({ params }) => { got.push(params); return msg.response; });
        const { status, body } = await responder.command(identity, msg.action, msg.request);
        assert.equal(status, 200, JSON.stringify(body));
        assert.deepEqual(body, { result: msg.response });
        assert.deepEqual(got, [msg.request], 'the charger got another request');
      });
    }

    it('POST /command: unknown charger 404, invalid payload 400', async () => {
      const r404 = await responder.command('NOBODY', 'Reset', is16 ? { type: 'Soft' } : { type: 'Immediate' });
      assert.equal(r404.status, 404, JSON.stringify(r404.body));
      const r400 = await responder.command(identity, 'Reset', { type: 'Sideways' });
      assert.equal(r400.status, 400, JSON.stringify(r400.body));
    });

    it('a CALLERROR from the charger comes back as an error', async () => {
      charger.handle('ClearCache', () => { throw Object.assign(new Error('nope'), { code: 'InternalError' }); });
      const { status, body } = await responder.command(identity, 'ClearCache', {});
      assert.equal(status, 200, JSON.stringify(body));
      assert.ok(body.error?.code, JSON.stringify(body));
    });

    it('no strict-mode failure, unparsable frame or unexpected CALLERROR', () => {
      assert.deepEqual(problems, [], 'strict-mode rejections or unparsable frames');
      const errs = callErrors('charger', charger).filter(([, f]) => f.message[3] !== 'nope');
      assert.deepEqual(errs, [], 'CALLERROR frames');
    });
  });
}
