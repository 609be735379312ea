// SPDX-License-Identifier: MIT
//
// Logs as an operator reads them: with --log-json, every line about a frame
// names the charger, the leg, the action and the message id, and one
// charger CALL can be followed south -> north -> back by its ids, both
// relayed as is and translated (1.6 charger, 2.0.1 CSMS).

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { connectCharger, startCsms, startGateway, stopAll, waitFor } from './lib/harness.mjs';

const now = () => new Date().toISOString();

function jsonLines(stderr) {
  return stderr.split('\n').filter((l) => l.trim()).map((l) => {
    try { return JSON.parse(l); } catch { throw new Error(`not a JSON log line: ${l}`); }
  });
}

// The lines that speak of one frame (they carry a message id) must say
// whose, on which leg, and which action.
function assertFrameLinesComplete(lines) {
  const frameLines = lines.filter((l) => l.msg_id && !/unknown message id/.test(l.msg));
  assert.ok(frameLines.length > 0, 'no frame lines at all');
  for (const l of frameLines) {
    assert.ok(l.charger, `no charger: ${JSON.stringify(l)}`);
    assert.ok(l.leg === 'south' || l.leg === 'north', `no leg: ${JSON.stringify(l)}`);
    assert.ok(l.action, `no action: ${JSON.stringify(l)}`);
  }
}

// Follows the charger's BootNotification `southId` through the log.
function trace(lines, id, southId) {
  const mine = lines.filter((l) => l.charger === id);
  const inSouth = mine.find((l) => l.leg === 'south' && l.msg_id === southId && /^<- frame/.test(l.msg));
  assert.ok(inSouth, 'the CALL arriving on the south leg is not logged');
  assert.equal(inSouth.action, 'BootNotification');
  const outNorth = mine.find((l) => l.leg === 'north' && l.msg.includes(`from south id ${southId}`));
  assert.ok(outNorth, 'the relayed CALL does not name its origin id');
  assert.notEqual(outNorth.msg_id, southId, 'the north leg uses its own id');
  assert.equal(outNorth.action, 'BootNotification');
  const answer = mine.find((l) => l.leg === 'north' && l.msg_id === outNorth.msg_id && /<- CALLRESULT/.test(l.msg));
  assert.ok(answer, 'the CSMS answer is not logged under the north id');
  const back = mine.find((l) => l.leg === 'south' && l.msg_id === southId && /-> CALLRESULT/.test(l.msg));
  assert.ok(back, 'the answer going back south is not logged under the charger id');
  return outNorth.msg_id;
}

describe('logs follow a frame', { timeout: 60000 }, () => {
  const stops = [];
  after(async () => {
    for (const s of stops) await s();
  });

  for (const [label, upstream] of [['relayed', null], ['translated', '2.0.1']]) {
    it(`${label}: south CALL -> north CALL -> answer, by ids`, async () => {
      const csms = await startCsms();
      csms.responders.BootNotification = () => ({ currentTime: now(), interval: 300, status: 'Accepted' });
      const args = ['--log-json'];
      if (upstream) args.push('--upstream-ocpp', upstream);
      const gw = await startGateway({ csmsUrl: csms.url, args });
      const id = `LOG-${label}`;
      const charger = await connectCharger(gw, id, '1.6');
      stops.push(() => stopAll({ clients: [charger], gw, csms }));

      await charger.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'L1' });
      const southId = charger.frames.find((f) => f.outbound && f.message[2] === 'BootNotification').message[1];
      await waitFor(() => /-> CALLRESULT/.test(gw.stderr), 3000, 'the answer line');

      const lines = jsonLines(gw.stderr);
      assertFrameLinesComplete(lines);
      const northId = trace(lines, id, southId);
      const seen = csms.calls.find((c) => c.identity === id && c.method === 'BootNotification');
      assert.equal(seen.messageId, northId, 'the id logged on the north leg is the one the CSMS got');
    });
  }
});
