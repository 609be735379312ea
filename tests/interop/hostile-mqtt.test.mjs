// SPDX-License-Identifier: MIT
//
// The MQTT topics against a hostile network (issue 12): whoever can publish
// on the broker sends garbage, oversized payloads, JSON that is not quite
// JSON, frames of the wrong OCPP version and frames on wrong topics, on the
// down topics (read by the gateway) and the up topics (read by the bridge).
// Each case asserts what comes back (a CALLERROR on the other topic, or a
// drop with its log line), and after it that gateway and bridge still run
// and a well-behaved charger still gets its answers end to end. It starts
// its own mosquitto, like mqtt.test.mjs.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { closeClient, connectCharger, sleep, startCsms, startGateway, stopAll, waitFor } from './lib/harness.mjs';
import { mqttClient, startBridge, startBroker } from './lib/mosquitto.mjs';
import { rawWsServer, streamHugeAnswer } from './lib/rawws.mjs';

const SITE = 'hostile';
const MAX_FRAME = 8192;
const T = (id, dir) => `ocpp/${SITE}/${id}/${dir}`;

let broker;
let csms;
let bridge;
let gw;
let good;     // 2.0.1, asked after every case
let old;      // 1.6, the target of wrong-version frames
let spy;      // publishes the hostile payloads and watches every topic
let seq = 0;

before(async () => {
  broker = await startBroker();
  csms = await startCsms();
  bridge = await startBridge({ mqtt: broker.url(SITE), csms: csms.url,
    args: ['--max-frame-size', String(MAX_FRAME)] });
  gw = await startGateway({ csmsUrl: broker.url(SITE),
    args: ['--max-frame-size', String(MAX_FRAME), '--response-timeout', '5'] });
  await waitFor(() => /mqtt: connected to/.test(gw.stderr), 5000, 'gateway on the broker');
  good = await connectCharger(gw, 'GOOD-M', '2.0.1');
  old = await connectCharger(gw, 'OLD-M', '1.6');
  await csms.waitClient('GOOD-M', 10000);
  await csms.waitClient('OLD-M', 10000);
  spy = await mqttClient(broker.port);
  spy.subscribe(`ocpp/${SITE}/+/up`);
  spy.subscribe(`ocpp/${SITE}/+/down`);
  await sleep(200);
});

after(async () => {
  spy?.close();
  await closeClient(good);
  await closeClient(old);
  try {
    await stopAll({ gw, csms });
    if (bridge) assert.equal((await bridge.stop()).code, 0, 'bridge exit status');
  } finally {
    await broker?.close();
  }
});

afterEach(async () => {
  assert.equal(gw.proc.exitCode, null, 'gateway exited');
  assert.equal(gw.proc.signalCode, null, 'gateway killed');
  assert.equal(bridge.proc.exitCode, null, 'bridge exited');
  assert.equal(bridge.proc.signalCode, null, 'bridge killed');
  const res = await good.call('Heartbeat', {});
  assert.equal(typeof res.currentTime, 'string', 'the good charger is answered');
});

// The first message on @topic carrying @id, after @from messages.
function answerOn(topic, id, from) {
  return waitFor(() => spy.messages.slice(from).find((m) => m.topic === topic &&
    m.payload.includes(`"${id}"`)), 5000, `answer ${id} on ${topic}`);
}

// Waits until the gateway (or bridge) log has grown by a line matching @re.
async function logged(proc, re, fromLen) {
  await waitFor(() => re.test(proc.stderr.slice(fromLen)), 5000, `log line ${re}`);
}

describe('down topics, read by the gateway', { timeout: 90000 }, () => {
  const deep = `${'['.repeat(2100)}${']'.repeat(2100)}`;
  // [name, payload for GOOD-M's down topic, id of the CALLERROR up, code, description]
  const answered = [
    ['not JSON', 'not json at all', '-1', 'RpcFrameworkError', /^frame is not valid JSON: syntax error at byte \d+$/],
    ['invalid UTF-8', Buffer.concat([Buffer.from('[2,"m1","Reset",{"type":"'), Buffer.from([0xff]),
      Buffer.from('"}]')]), 'm1', 'RpcFrameworkError', /^frame is not valid JSON: text is not valid UTF-8/],
    ['number 1e999', '[2,"m2","Reset",{"type":1e999}]', 'm2', 'RpcFrameworkError', /number out of range/],
    ['duplicate key', '[2,"m3","Reset",{"type":"Immediate","type":"OnIdle"}]', 'm3', 'RpcFrameworkError',
      /duplicate object key/],
    ['\\u0000', '[2,"m4","Reset",{"type":"a\\u0000"}]', 'm4', 'RpcFrameworkError', /\\u0000 in a string/],
    ['2100 levels deep', `[2,"m5","Reset",${deep}]`, 'm5', 'RpcFrameworkError', /nested deeper than 2048 levels/],
    ['oversized', `[2,"m6","DataTransfer",{"vendorId":"x","data":"${'A'.repeat(MAX_FRAME)}"}]`, 'm6',
      'RpcFrameworkError', new RegExp(`exceeds the limit of ${MAX_FRAME} bytes`)],
    ['unknown message type 9 (2.0.1)', '[9,"m7","Reset",{}]', 'm7', 'MessageTypeNotSupported',
      /^message type 9 is not supported$/],
    ['CALL of 3 elements', '[2,"m8","Reset"]', 'm8', 'RpcFrameworkError', /^CALL must have 4 elements$/],
    ['unknown action', '[2,"m9","NoSuchAction",{}]', 'm9', 'NotImplemented', /./],
    ['1.6 action for a 2.0.1 charger', '[2,"m10","RemoteStartTransaction",{"idTag":"X"}]', 'm10',
      'NotImplemented', /./],
    ['1.6 payload for a 2.0.1 action', '[2,"m11","Reset",{"type":"Hard"}]', 'm11',
      'PropertyConstraintViolation', /./],
  ];
  for (const [name, payload, id, code, desc] of answered) {
    it(`${name} -> CALLERROR ${code} on the up topic, not forwarded`, async () => {
      const from = spy.messages.length;
      const calls = good.frames.length;
      spy.publish(T('GOOD-M', 'down'), payload);
      const up = JSON.parse((await answerOn(T('GOOD-M', 'up'), id, from)).payload);
      assert.deepEqual(up.slice(0, 3), [4, id, code]);
      assert.match(up[3], desc);
      await sleep(100);
      assert.ok(!good.frames.slice(calls).some((f) => !f.outbound),
        'the charger must not see the hostile frame');
    });
  }

  it('2.0.1 frame to a 1.6 charger: NotImplemented in 1.6', async () => {
    const from = spy.messages.length;
    spy.publish(T('OLD-M', 'down'), '[2,"w1","GetVariables",{"getVariableData":[]}]');
    const up = JSON.parse((await answerOn(T('OLD-M', 'up'), 'w1', from)).payload);
    assert.deepEqual(up.slice(0, 3), [4, 'w1', 'NotImplemented']);
  });

  it('unknown message type 9 to a 1.6 charger: ignored (J16 §4.1.3)', async () => {
    const from = spy.messages.length;
    spy.publish(T('OLD-M', 'down'), '[9,"w2","Reset",{}]');
    spy.publish(T('OLD-M', 'down'), '[2,"w3","NoSuchAction",{}]');
    await answerOn(T('OLD-M', 'up'), 'w3', from);
    assert.ok(!spy.messages.slice(from).some((m) => m.topic.endsWith('/up') &&
      m.payload.includes('"w2"')), 'type 9 answered');
  });

  // Topics the gateway must not take as a charger's: dropped with a log line.
  const wrong = [
    ['identity %FF', `ocpp/${SITE}/%FF/down`, /unexpected topic/],
    ['identity with a colon', `ocpp/${SITE}/a%3Ab/down`, /unexpected topic/],
    ['identity ..', `ocpp/${SITE}/%2E%2E/down`, /unexpected topic/],
    ['identity of 49 characters', `ocpp/${SITE}/${'L'.repeat(49)}/down`, /unexpected topic/],
    ['malformed percent', `ocpp/${SITE}/a%zz/down`, /unexpected topic/],
    // Not subscribed to: the broker never hands them to the gateway.
    ['extra level', `ocpp/${SITE}/GOOD-M/down/x`, null],
    ['unknown direction', `ocpp/${SITE}/GOOD-M/sideways`, null],
    ['charger not connected here', `ocpp/${SITE}/NOBODY/down`, /not connected here dropped/],
  ];
  for (const [name, topic, re] of wrong) {
    it(`wrong topic (${name}) -> dropped with a log line`, async () => {
      const logLen = gw.stderr.length;
      const frames = good.frames.length;
      const from = spy.messages.length;
      spy.publish(topic, `[2,"wt${++seq}","Reset",{"type":"Immediate"}]`);
      if (re) await logged(gw, re, logLen);
      await sleep(re ? 100 : 500);
      assert.equal(good.frames.length, frames, 'a charger saw the frame');
      assert.ok(!spy.messages.slice(from).some((m) => m.topic.endsWith('/up') &&
        m.payload.includes(`"wt${seq}"`)), 'answered a dropped frame');
    });
  }

  it('garbage on $gateway/limit -> logged, the limit is not taken', async () => {
    const logLen = gw.stderr.length;
    spy.publish(`ocpp/${SITE}/$gateway/limit`, '{"amps":"lots"}');
    await logged(gw, /site limit/, logLen);
  });

  // Each garbage payload is answered up with a CALLERROR of id "-1", which
  // the bridge passes to the CSMS: the flooded charger's queue at the bridge
  // fills (docs/SECURITY.md), the other chargers' do not.
  it('a flood of 500 garbage payloads on one charger -> answered, another charger served meanwhile', async () => {
    const from = spy.messages.length;
    for (let i = 0; i < 500; i++) spy.publish(T('OLD-M', 'down'), `garbage ${i}`);
    const res = await good.call('Heartbeat', {});
    assert.equal(typeof res.currentTime, 'string');
    await waitFor(() => spy.messages.slice(from).filter((m) => m.topic === T('OLD-M', 'up')).length >= 500,
      20000, '500 CALLERRORs up');
  });
});

describe('up topics, read by the bridge', { timeout: 90000 }, () => {
  // [name, payload on GOOD-M's up topic, id answered down or null, code]
  const cases = [
    ['not JSON', 'garbage', null, null, /bad frame from gateway/],
    ['invalid UTF-8', Buffer.from([0x5b, 0x32, 0x2c, 0xff, 0x5d]), null, null, /bad frame from gateway/],
    ['invalid CALL', '[2,"u1","Heartbeat",{"extra":1}]', 'u1', 'FormatViolation', /CALL from gateway rejected/],
    ['1.6 action in a 2.0.1 session', '[2,"u2","StartTransaction",{"connectorId":1}]', 'u2',
      'NotImplemented', /CALL from gateway rejected/],
    ['oversized', `[2,"u3","DataTransfer",{"vendorId":"x","data":"${'A'.repeat(MAX_FRAME)}"}]`, null, null,
      /exceeds max_frame_size: dropped/],
    ['duplicate key', '[2,"u4","Heartbeat",{},{}]', 'u4', 'RpcFrameworkError', /bad frame from gateway|rejected/],
  ];
  for (const [name, payload, id, code, re] of cases) {
    it(`${name} -> ${id ? `CALLERROR ${code} down` : 'dropped'}, never at the CSMS`, async () => {
      const logLen = bridge.stderr.length;
      const from = spy.messages.length;
      const calls = csms.calls.length;
      spy.publish(T('GOOD-M', 'up'), payload);
      await logged(bridge, re, logLen);
      if (id) {
        const down = JSON.parse((await answerOn(T('GOOD-M', 'down'), id, from)).payload);
        assert.deepEqual(down.slice(0, 3), [4, id, code]);
      }
      await sleep(100);
      assert.equal(csms.calls.length, calls, 'the CSMS got a hostile call');
    });
  }

  it('up topic of a bad identity (%FF) -> ignored by the bridge', async () => {
    const calls = csms.calls.length;
    const handshakes = csms.handshakes.length;
    spy.publish(`ocpp/${SITE}/%FF/state`, '{"online":true,"ocpp":"2.0.1"}');
    spy.publish(`ocpp/${SITE}/%FF/up`, '[2,"b1","Heartbeat",{}]');
    await sleep(500);
    assert.equal(csms.calls.length, calls);
    assert.equal(csms.handshakes.length, handshakes, 'the bridge opened a CSMS connection for it');
  });

  it('garbage retained state -> logged, no CSMS connection', async () => {
    const logLen = bridge.stderr.length;
    const handshakes = csms.handshakes.length;
    spy.publish(`ocpp/${SITE}/STATE-X/state`, '{"online":true,"ocpp":"9.9"}');
    spy.publish(`ocpp/${SITE}/STATE-Y/state`, 'not json');
    await sleep(500);
    assert.equal(csms.handshakes.length, handshakes);
    assert.ok(bridge.stderr.length >= logLen);
  });
});

// The bridge's own WebSocket to the CSMS: an answer whose header announces
// 2^40 bytes is not read to its end, the connection is closed (1009).
describe('bridge: a CSMS announcing 2^40 bytes', { timeout: 60000 }, () => {
  const SITE2 = 'hostile-csms';
  let server;
  let bridge2;
  let gw2;
  let ch;

  before(async () => {
    server = await rawWsServer(streamHugeAnswer);
    bridge2 = await startBridge({ mqtt: broker.url(SITE2), csms: server.url,
      args: ['--max-frame-size', String(MAX_FRAME)] });
    gw2 = await startGateway({ csmsUrl: broker.url(SITE2), args: ['--response-timeout', '5'] });
    await waitFor(() => /mqtt: connected to/.test(gw2.stderr), 5000, 'gateway on the broker');
  });

  after(async () => {
    await closeClient(ch);
    await server.close();
    try {
      await stopAll({ gw: gw2 });
    } finally {
      if (bridge2) assert.equal((await bridge2.stop()).code, 0, 'bridge exit status');
    }
  });

  it('the bridge closes the CSMS connection and keeps running', async () => {
    ch = await connectCharger(gw2, 'BIG-CSMS', '1.6', { callTimeoutMs: 15000 });
    const answer = ch.call('Heartbeat', {}).catch((err) => err);
    await waitFor(() => server.sockets.some((s) => s.streaming), 10000, 'the CSMS got the call');
    const streaming = server.sockets.find((s) => s.streaming);
    await waitFor(() => streaming.closedAt, 10000, 'the bridge closed while the CSMS streams');
    assert.match(bridge2.stderr, /announces 1099511627776 bytes, over max_frame_size 8192: closing/);
    assert.equal(bridge2.proc.exitCode, null, 'bridge still running');
    const res = await answer;
    assert.ok(res instanceof Error, 'the call was not answered with a result');
  });
});
