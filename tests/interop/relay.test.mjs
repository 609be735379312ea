// SPDX-License-Identifier: MIT
//
// Relay end to end, per OCPP version: a strict ocpp-rpc charger -> the real
// ocppgw -> a strict ocpp-rpc CSMS. Every message must reach the other side
// with a deep-equal payload, and every response must come back deep-equal,
// in both directions, with the gateway's own message ids on each leg.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  VERSIONS, connectCharger, startCsms, startGateway, stopAll, subprotocol,
} from './lib/harness.mjs';
import { chargerToCsms, csmsToCharger } from './lib/payloads.mjs';

for (const version of VERSIONS) {
  describe(`relay OCPP ${version}`, { timeout: 60000 }, () => {
    const identity = `RELAY-${version.replaceAll('.', '')}`;
    let csms;
    let gw;
    let charger;
    let upstream;

    before(async () => {
      csms = await startCsms();
      gw = await startGateway({ csmsUrl: csms.url });
      charger = await connectCharger(gw, identity, version);
      upstream = await csms.waitClient(identity);
    });

    after(async () => {
      await stopAll({ clients: [charger], gw, csms });
    });

    it('opens the upstream leg with the same identity, path and subprotocol', () => {
      assert.equal(charger.protocol, subprotocol(version));
      assert.equal(upstream.protocol, subprotocol(version));
      const hs = csms.handshakes.find((h) => h.identity === identity);
      assert.ok(hs, 'CSMS saw no handshake');
      assert.equal(hs.endpoint, '/ocpp');
      assert.ok(hs.protocols.includes(subprotocol(version)));
    });

    for (const [i, msg] of chargerToCsms(version).entries()) {
      it(`charger -> CSMS #${i} ${msg.action}`, async () => {
        const before = csms.calls.length;
        csms.responders[msg.action] = msg.response;
        const result = await charger.call(msg.action, msg.request);
        assert.deepEqual(result, msg.response, 'response changed on its way back');
        const seen = csms.calls.slice(before);
        assert.equal(seen.length, 1, `CSMS should see exactly one call, saw ${JSON.stringify(seen)}`);
        assert.equal(seen[0].identity, identity);
        assert.equal(seen[0].method, msg.action);
        assert.deepEqual(seen[0].params, msg.request, 'request changed on its way up');

        const sent = charger.frames.filter((f) => f.outbound && f.message[0] === 2).at(-1).message;
        assert.equal(sent[2], msg.action);
        assert.notEqual(seen[0].messageId, sent[1], 'the upstream leg must use its own message id');
      });
    }

    it('uses a distinct upstream message id for every call', () => {
      const ids = csms.callsOf(identity).map((c) => c.messageId);
      assert.equal(new Set(ids).size, ids.length);
    });

    for (const [i, msg] of csmsToCharger(version).entries()) {
      it(`CSMS -> charger #${i} ${msg.action}`, async () => {
        let got = null;
        charger.handle(msg.action, ({ params, messageId }) => {
          got = { params, messageId };
          return msg.response;
        });
        const result = await upstream.call(msg.action, msg.request);
        assert.ok(got, 'charger never saw the call');
        assert.deepEqual(got.params, msg.request, 'request changed on its way down');
        assert.deepEqual(result, msg.response, 'response changed on its way up');
        const sentDown = upstream.frames.filter((f) => f.outbound && f.message[0] === 2).at(-1).message;
        assert.equal(sentDown[2], msg.action);
        assert.notEqual(got.messageId, sentDown[1], 'the charger leg must use its own message id');
      });
    }

    it('relays calls in both directions at the same time', async () => {
      charger.handle('TriggerMessage', async () => {
        await new Promise((r) => setTimeout(r, 200));
        return { status: 'Accepted' };
      });
      const trig = { requestedMessage: 'Heartbeat' };
      csms.responders.Heartbeat = { currentTime: new Date().toISOString() };
      const [down, up] = await Promise.all([
        upstream.call('TriggerMessage', trig),
        charger.call('Heartbeat', {}),
      ]);
      assert.deepEqual(down, { status: 'Accepted' });
      assert.deepEqual(up, csms.responders.Heartbeat);
    });
  });
}

