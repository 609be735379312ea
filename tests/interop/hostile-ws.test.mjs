// SPDX-License-Identifier: MIT
//
// The charger WebSocket door against a hostile network (issue 12): bad
// upgrade requests and identities, frame headers announcing too much,
// binary and malformed frames, JSON that is not quite JSON, unknown message
// types per version, ping floods and a slowloris, all written byte by byte
// on bare TCP sockets (lib/rawws.mjs) where a WebSocket library would refuse.
// Every case asserts the answer (HTTP status and reason, close code, or
// CALLERROR code and description), and after it that the gateway is still
// up and a well-behaved charger on it still gets its answers.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { errorCodes, rawCharger, sleep, startCsms, startGateway, stopAll, withTimeout } from './lib/harness.mjs';
import { frame, rawConnect, rawSession, rawWsServer, streamHugeAnswer, upgradeRequest } from './lib/rawws.mjs';
import { gatewayConfig, makePki } from './lib/tls.mjs';

const MAX_FRAME = 8192;

let csms;
let gw;
let good;        // a well-behaved 2.0.1 charger, asked after every case
const victims = {}; // connected chargers a bad identity must not replace
let seq = 0;

async function heartbeat(raw, id = `hb-${++seq}`) {
  raw.send([2, id, 'Heartbeat', {}]);
  const reply = await raw.next(5000);
  assert.deepEqual(reply.slice(0, 2), [3, id], `Heartbeat answer: ${JSON.stringify(reply)}`);
}

before(async () => {
  csms = await startCsms();
  gw = await startGateway({ csmsUrl: csms.url, args: ['--max-frame-size', String(MAX_FRAME)] });
  good = await rawCharger(gw, 'GOOD', '2.0.1');
  for (const id of ['a', 'x']) victims[id] = await rawCharger(gw, id, '1.6');
  for (const id of ['GOOD', 'a', 'x']) await csms.waitClient(id, 10000);
});

after(async () => {
  await stopAll({ raws: [good, ...Object.values(victims)], gw, csms });
});

// After every case: the gateway runs and still serves the good charger.
afterEach(async () => {
  assert.equal(gw.proc.exitCode, null, 'gateway exited');
  assert.equal(gw.proc.signalCode, null, 'gateway killed');
  await heartbeat(good);
});

// Sends @request on a new connection and returns the HTTP answer.
async function upgrade(request) {
  const c = await rawConnect(gw.port);
  try {
    c.send(request);
    return await c.response(5000);
  } finally {
    c.destroy();
  }
}

describe('upgrade: identities', { timeout: 60000 }, () => {
  const long = 'L'.repeat(49);
  // [path, HTTP status, reason in the body]
  const cases = [
    ['/ocpp/a%0D%0Ab', 400, 'identity contains a control character'],
    ['/ocpp/x%0D', 400, 'identity contains a control character'],
    ['/ocpp/a%0Ab', 400, 'identity contains a control character'],
    ['/ocpp/a%09b', 400, 'identity contains a control character'],
    ['/ocpp/a?x=1', 400, 'a query string is not part of an OCPP-J connection URL'],
    ['/ocpp/a;b', 400, 'identity contains a character outside'],
    ['/ocpp/%FF', 400, 'identity contains a byte outside US-ASCII'],
    ['/ocpp/%C3%A9', 400, 'identity contains a byte outside US-ASCII'],
    ['/ocpp/', 400, 'identity is empty'],
    [`/ocpp/${long}`, 400, 'identity is longer than 48 characters'],
    ['/ocpp/a%3Ab', 400, "identity contains ':'"],
    ['/ocpp/a%20b', 400, 'identity contains a character outside'],
    ['/ocpp/a%2Fb', 400, 'identity contains a character outside'],
    ['/ocpp/a%2541', 400, 'identity contains a character outside'],
    ['/ocpp/a%22%3E', 400, 'identity contains a character outside'],
    // lws resolves dot segments before the gateway sees the path.
    ['/ocpp/..', 404, 'no such charger'],
    ['/ocpp/%2E%2E', 404, 'no such charger'],
    ['/elsewhere/a', 404, 'no such charger'],
  ];
  for (const [path, status, reason] of cases) {
    it(`${JSON.stringify(path)} -> HTTP ${status}, the connected charger keeps its session`, async () => {
      const before = csms.handshakes.length;
      const res = await upgrade(upgradeRequest(gw.port, path));
      assert.equal(res.status, status, res.body);
      assert.ok(res.body.includes(reason), `body "${res.body}" should say "${reason}"`);
      for (const [id, raw] of Object.entries(victims)) {
        assert.ok(raw.isOpen, `charger ${id} lost its connection`);
        await heartbeat(raw);
      }
      assert.equal(csms.handshakes.length, before, 'a refused charger reached the CSMS');
    });
  }

  // lws 4.1.6 drops a request whose path decodes to a NUL before any
  // callback: no answer at all, and nothing reaches a session.
  it('"/ocpp/a%00b" -> connection dropped without an upgrade', async () => {
    const c = await rawConnect(gw.port);
    c.send(upgradeRequest(gw.port, '/ocpp/a%00b'));
    await withTimeout(c.ended, 5000, 'connection dropped');
    assert.ok(victims.a.isOpen);
    await heartbeat(victims.a);
  });
});

// The same identity rule at the admin API's /api/chargers/{id} (finding 4):
// raw requests, since fetch() would not send a %00 or %0D path as is.
describe('admin API: charger ids in the path', { timeout: 60000 }, () => {
  async function adminGet(method, path) {
    const port = Number(new URL(gw.adminUrl).port);
    const c = await rawConnect(port);
    try {
      c.send(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
        `Content-Length: 0\r\n\r\n`);
      const res = await c.response(5000);
      return { status: res.status, json: JSON.parse(res.body) };
    } finally {
      c.destroy();
    }
  }
  // The admin request parser refuses a path with control characters or
  // bytes that are not UTF-8 before any route sees it (admin_http.c); what
  // passes it meets the charger door's identity rule.
  const cases = [
    ['GET', '/api/chargers/%FF', 'path: not UTF-8 once percent-decoded'],
    ['GET', '/api/chargers/%C3%A9', 'charger id: identity contains a byte outside US-ASCII'],
    ['GET', '/api/chargers/%00', 'path: control character %00'],
    ['GET', '/api/chargers/', 'charger id: identity is empty'],
    ['GET', '/api/chargers/a%0D%0Ab', 'path: control character %0D'],
    ['GET', '/api/chargers/a%3Ab', "charger id: identity contains ':', the Basic auth separator"],
    ['GET', `/api/chargers/${'L'.repeat(49)}`, 'charger id: identity is longer than 48 characters'],
    ['POST', '/api/chargers/%FF/reset', 'path: not UTF-8 once percent-decoded'],
    ['POST', '/api/chargers/a%0D/reset', 'path: control character %0D'],
  ];
  for (const [method, path, error] of cases) {
    it(`${method} ${path} -> 400 "${error}"`, async () => {
      const res = await adminGet(method, path);
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.equal(res.json.error, error);
      assert.ok(victims.a.isOpen, 'charger a lost its connection');
    });
  }
  it('GET /api/chargers/a and /api/chargers still answer for the good ids', async () => {
    const one = await adminGet('GET', '/api/chargers/a');
    assert.equal(one.status, 200);
    assert.equal(one.json.id, 'a');
    const all = await adminGet('GET', '/api/chargers');
    assert.equal(all.status, 200);
    assert.deepEqual(all.json.map((c) => c.id).sort(), ['GOOD', 'a', 'x']);
  });
});

describe('upgrade: bad requests', { timeout: 60000 }, () => {
  const cases = [
    ['no subprotocol', upgradeRequest(0, '/ocpp/U1', { protocol: null }), 400, 'offer one of'],
    ['only ocpp1.5', upgradeRequest(0, '/ocpp/U2', { protocol: 'ocpp1.5' }), 400, 'offer one of'],
    ['POST upgrade', upgradeRequest(0, '/ocpp/U3').replace('GET', 'POST'), 400, 'request path'],
    ['not HTTP', 'HELLO\r\n\r\n', 403, ''],
  ];
  for (const [name, request, status, reason] of cases) {
    it(`${name} -> HTTP ${status}`, async () => {
      const res = await upgrade(request);
      assert.equal(res.status, status, res.body);
      assert.ok(res.body.includes(reason), res.body);
    });
  }

  for (const [name, request] of [
    ['no Sec-WebSocket-Key', upgradeRequest(0, '/ocpp/U4', { headers: { 'Sec-WebSocket-Key': null } })],
    ['8 KB header', upgradeRequest(0, '/ocpp/U5', { headers: { 'X-Big': 'x'.repeat(8000) } })],
  ]) {
    it(`${name} -> dropped without an upgrade`, async () => {
      const c = await rawConnect(gw.port);
      c.send(request);
      await withTimeout(c.ended, 5000, 'connection dropped');
    });
  }

  it('slowloris: a request that never ends is dropped, others are served meanwhile', async () => {
    const slow = [];
    for (let i = 0; i < 20; i++) {
      const c = await rawConnect(gw.port);
      c.send(`GET /ocpp/SLOW${i} HTTP/1.1\r\nHost: x\r\n`);
      slow.push(c);
    }
    const t0 = Date.now();
    // Trickle a byte now and then, as a slowloris does.
    const drip = setInterval(() => { for (const c of slow) c.send('X'); }, 1000);
    try {
      await heartbeat(good);
      await Promise.all(slow.map((c) => withTimeout(c.ended, 30000, 'slow request dropped')));
    } finally {
      clearInterval(drip);
    }
    assert.ok(Date.now() - t0 < 30000);
  });
});

describe('frames', { timeout: 60000 }, () => {
  const open = (version = '1.6') =>
    rawSession(gw.port, `F${++seq}`, `ocpp${version}`);

  async function closeCode(c) {
    const f = await c.next(5000);
    assert.equal(f.opcode, 8, `expected a close frame, got ${JSON.stringify(f)}`);
    return f.code;
  }

  it('binary frame -> close 1003', async () => {
    const c = await open();
    c.send(frame('[2,"b1","Heartbeat",{}]', { opcode: 2 }));
    assert.equal(await closeCode(c), 1003);
    c.destroy();
  });

  it('header announcing 2^40 bytes -> CALLERROR, close 1009, the rest is not read', async () => {
    const c = await open();
    c.send(frame('[2,"big","DataTransfer",{"vendorId":"x","data":"', { length: 2 ** 40 }));
    // Keep streaming as the attacker would; the gateway must close anyway.
    const stream = setInterval(() => c.send(Buffer.alloc(65536, 0x41)), 5);
    try {
      const err = await c.next(5000);
      const reply = JSON.parse(err.text);
      assert.deepEqual(reply.slice(0, 3), [4, 'big', 'FormationViolation']);
      assert.equal(reply[3], `message of ${2 ** 40} bytes exceeds the limit of ${MAX_FRAME} bytes`);
      assert.equal(await closeCode(c), 1009);
      await withTimeout(c.ended, 10000, 'connection closed while the peer streams');
    } finally {
      clearInterval(stream);
      c.destroy();
    }
  });

  it('16-bit length just over max_frame_size -> close 1009 before the payload', async () => {
    const c = await open('2.0.1');
    c.send(frame('[2,"b2","DataTransfer",', { length: MAX_FRAME + 1 }));
    const reply = JSON.parse((await c.next(5000)).text);
    assert.deepEqual(reply.slice(0, 3), [4, 'b2', 'RpcFrameworkError']);
    assert.equal(await closeCode(c), 1009);
    c.destroy();
  });

  it('fragment flood: continuations past max_frame_size -> close 1009', async () => {
    const c = await open();
    c.send(frame('[2,"frag","DataTransfer",{"vendorId":"', { fin: false }));
    for (let i = 0; i < 10; i++) c.send(frame('x'.repeat(1000), { opcode: 0, fin: false }));
    const reply = JSON.parse((await c.next(5000)).text);
    assert.deepEqual(reply.slice(0, 2), [4, 'frag']);
    assert.equal(await closeCode(c), 1009);
    c.destroy();
  });

  it('fragments within the limit are reassembled and answered', async () => {
    const c = await open();
    const text = '[2,"f2","Heartbeat",{}]';
    c.send(frame(text.slice(0, 5), { fin: false }));
    c.send(frame(text.slice(5, 12), { opcode: 0, fin: false }));
    c.send(frame(text.slice(12), { opcode: 0 }));
    const reply = JSON.parse((await c.next(5000)).text);
    assert.deepEqual(reply.slice(0, 2), [3, 'f2']);
    c.destroy();
  });

  // RFC 6455 §5.2 violations lws refuses itself.
  for (const [name, bytes] of [
    ['continuation without a start', () => frame('[2,"1","Heartbeat",{}]', { opcode: 0 })],
    ['reserved opcode 3', () => frame('x', { opcode: 3 })],
    ['fragmented ping', () => frame('p', { opcode: 9, fin: false })],
    ['RSV1 set without an extension', () => { const b = frame('[2,"1","Heartbeat",{}]'); b[0] |= 0x40; return b; }],
  ]) {
    it(`${name} -> close 1002`, async () => {
      const c = await open();
      c.send(bytes());
      assert.equal(await closeCode(c), 1002);
      c.destroy();
    });
  }

  // RFC 6455 §5.1: a server MUST close on an unmasked client frame. lws
  // 4.1.6 reads the mask bit (lib/roles/ws/ops-ws.c, lws_ws_rx_sm) only to
  // decide whether a key follows, and no API, option or extension hook
  // shows it to the gateway; docs/SECURITY.md "Known gaps" has the detail.
  // Passes with an lws that checks the bit (tried: 4.1.6 plus that check).
  it('unmasked client frame -> close 1002', { todo: 'lws 4.1.6 neither checks nor exposes the mask bit' }, async () => {
    const c = await open();
    try {
      c.send(frame('[2,"u1","Heartbeat",{}]', { mask: false }));
      assert.equal(await closeCode(c), 1002);
    } finally {
      c.destroy();
    }
  });

  // Why the gap above costs little: a client picks its masking key (RFC
  // 6455 §5.3) and 00000000 is one, which puts the same payload bytes on
  // the wire as no mask at all. A server cannot tell it from a random key,
  // so it must answer, and does.
  it('frame masked with the key 00000000 is answered', async () => {
    const c = await open();
    try {
      const plain = frame('[2,"z1","Heartbeat",{}]', { mask: false });
      const head = Buffer.from([plain[0], plain[1] | 0x80]);
      c.send(Buffer.concat([head, Buffer.alloc(4), plain.subarray(2)]));
      const reply = JSON.parse((await c.next(5000)).text);
      assert.deepEqual(reply.slice(0, 2), [3, 'z1']);
    } finally {
      c.destroy();
    }
  });

  it('ping flood: every ping answered, the connection still works', async () => {
    const c = await open();
    for (let i = 0; i < 2000; i++) c.send(frame(`p${i}`, { opcode: 9 }));
    c.text('[2,"after-pings","Heartbeat",{}]');
    let pongs = 0;
    for (;;) {
      const f = await c.next(10000);
      if (f.opcode === 10) { pongs++; continue; }
      assert.deepEqual(JSON.parse(f.text).slice(0, 2), [3, 'after-pings']);
      break;
    }
    assert.ok(pongs > 0, 'no pong');
    c.destroy();
  });
});

// The mask rule over wss:// as well: lws parses frames after TLS, so the
// gap and the lws patch that closes it (docs/SECURITY.md) hold there too.
// Its own gateway with a certificate; a masked charger on it is asked
// after every case.
describe('frames over wss://', { timeout: 60000 }, () => {
  let pki;
  let tlsOptions;
  let gws;
  let goodTls;

  before(async () => {
    pki = makePki();
    tlsOptions = { ca: pki.ca.pem };
    gws = await startGateway({ csmsUrl: csms.url,
      config: gatewayConfig({ tls: { cert: pki.server.cert, key: pki.server.key } }) });
    goodTls = await rawSession(gws.port, 'GOOD-TLS', 'ocpp2.0.1', tlsOptions);
    await csms.waitClient('GOOD-TLS', 10000);
  });

  afterEach(async () => {
    assert.equal(gws.proc.exitCode, null, 'TLS gateway exited');
    goodTls.text(`[2,"tls-${++seq}","Heartbeat",{}]`);
    const reply = JSON.parse((await goodTls.next(5000)).text);
    assert.deepEqual(reply.slice(0, 2), [3, `tls-${seq}`]);
  });

  after(async () => {
    goodTls?.destroy();
    try {
      await stopAll({ gw: gws });
    } finally {
      pki?.remove();
    }
  });

  it('unmasked client frame -> close 1002', { todo: 'lws 4.1.6 neither checks nor exposes the mask bit' }, async () => {
    const c = await rawSession(gws.port, `T${++seq}`, 'ocpp1.6', tlsOptions);
    try {
      c.send(frame('[2,"tu1","Heartbeat",{}]', { mask: false }));
      const f = await c.next(5000);
      assert.equal(f.opcode, 8, `expected a close frame, got ${JSON.stringify(f)}`);
      assert.equal(f.code, 1002);
    } finally {
      c.destroy();
    }
  });
});

describe('JSON that is not quite JSON', { timeout: 60000 }, () => {
  const deep = `${'['.repeat(2100)}${']'.repeat(2100)}`;
  // [name, frame text or bytes, description]
  const cases = [
    ['number 1e999', '[2,"j1","Heartbeat",{"a":1e999}]', 'number out of range'],
    ['30-digit integer', '[2,"j2","Heartbeat",{"a":123456789012345678901234567890}]', 'number out of range'],
    ['\\u0000 in a string', '[2,"j3","Heartbeat",{"a":"x\\u0000y"}]', '\\u0000 in a string'],
    ['duplicate key', '[2,"j4","Heartbeat",{"a":1,"a":2}]', 'duplicate object key'],
    ['2100 levels deep', `[2,"j5","Heartbeat",{"a":${deep}}]`, 'nested deeper than 2048 levels'],
    ['invalid UTF-8', Buffer.concat([Buffer.from('[2,"j6","Heartbeat",{"a":"'),
      Buffer.from([0xc3, 0x28]), Buffer.from('"}]')]), 'text is not valid UTF-8'],
    ['truncated', '[2,"j7","Heartbeat",{', 'text ends too early'],
    ['trailing garbage', '[2,"j8","Heartbeat",{}] x', 'text after the end'],
    ['raw control character', '[2,"j9","Heartbeat",{"a":"\u0001"}]', 'syntax error'],
  ];
  for (const version of ['1.6', '2.0.1']) {
    for (const [name, text, desc] of cases) {
      it(`${version}: ${name} -> CALLERROR "${desc}"`, async () => {
        const c = await rawSession(gw.port, `J${++seq}`, `ocpp${version}`);
        c.send(frame(text));
        const reply = JSON.parse((await c.next(5000)).text);
        const id = JSON.parse(Buffer.from(text).toString('latin1').slice(0, 8).replace(/,$/, ']'))[1];
        assert.deepEqual(reply.slice(0, 3), [4, id, errorCodes(version).framework]);
        assert.match(reply[3], new RegExp(`^frame is not valid JSON: ${desc.replace(/\\/g, '\\\\')} at byte \\d+$`));
        // The connection stays: the next call is answered.
        c.text('[2,"ok","Heartbeat",{}]');
        assert.deepEqual(JSON.parse((await c.next(5000)).text).slice(0, 2), [3, 'ok']);
        c.destroy();
      });
    }
  }
});

// J16 §4.1.3 and J21 §4.4: a message type not in the list is ignored;
// J201 §4.4: answered with MessageTypeNotSupported.
describe('unknown message types, per version', { timeout: 60000 }, () => {
  for (const version of ['1.6', '2.0.1', '2.1']) {
    for (const [name, text] of [['type 9', '[9,"t9","Heartbeat",{}]'], ['type -1', '[-1,"tm","Heartbeat",{}]'],
      ['type 7', '[7,"t7",{}]']]) {
      const answered = version === '2.0.1';
      it(`${version}: ${name} -> ${answered ? 'MessageTypeNotSupported' : 'ignored'}`, async () => {
        const c = await rawSession(gw.port, `T${++seq}`, `ocpp${version}`);
        c.text(text);
        c.text('[2,"next","Heartbeat",{}]');
        let reply = JSON.parse((await c.next(5000)).text);
        if (answered) {
          const id = JSON.parse(text)[1];
          assert.deepEqual(reply.slice(0, 3), [4, id, 'MessageTypeNotSupported']);
          assert.match(reply[3], /^message type -?\d+ is not supported$/);
          reply = JSON.parse((await c.next(5000)).text);
        }
        assert.deepEqual(reply.slice(0, 2), [3, 'next'], 'the next call is answered, nothing before it');
        c.destroy();
      });
    }
  }
});

// The same header rule on the north leg: a CSMS that announces 2^40 bytes
// for an answer is not read to the end either. The CSMS here is a bare TCP
// server that does the upgrade by hand, so it can send such a header.
describe('north leg: a CSMS announcing 2^40 bytes', { timeout: 60000 }, () => {
  let server;
  let gw2;

  before(async () => {
    server = await rawWsServer(streamHugeAnswer);
    gw2 = await startGateway({ csmsUrl: server.url,
      args: ['--max-frame-size', String(MAX_FRAME), '--response-timeout', '10'] });
  });

  after(async () => {
    await server.close();
    await stopAll({ gw: gw2 });
  });

  it('the charger gets a CALLERROR for its call, the north socket is closed', async () => {
    const ch = await rawCharger(gw2, 'NORTH-BIG', '1.6');
    try {
      await withTimeout((async () => { while (!server.sockets.length) await sleep(20); })(), 10000,
        'north leg');
      ch.send([2, 'nb1', 'Heartbeat', {}]);
      const reply = await ch.next(10000);
      assert.deepEqual(reply.slice(0, 3), [4, 'nb1', 'InternalError'], JSON.stringify(reply));
      assert.match(reply[3], /max_frame_size/);
      await withTimeout((async () => { while (!server.sockets[0].closedAt) await sleep(20); })(), 10000,
        'north socket closed while the CSMS streams');
      assert.equal(gw2.proc.exitCode, null);
    } finally {
      await ch.close();
    }
  });
});
