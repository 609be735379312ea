// SPDX-License-Identifier: MIT
//
// The admin door against a hostile network (issue 12, findings 1, 2, 3, 6):
// raw sockets that probe ports, stop half way, stay silent, send TRACE,
// 5,000-character paths, 20-digit and negative Content-Lengths, oversized
// heads and bodies; what `ss -ltn` shows bound for each address form; user
// names through login timing; long admin tokens. Each asserts the answer,
// that the gateway stays up, and that a charger on the same gateway keeps
// getting its answers meanwhile.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  adminApi as api, connectCharger, freePort, listeningOn as listening, runOcppgw, sleep, startGateway,
  stopAll, tmpDir, waitFor, withTimeout,
} from './lib/harness.mjs';
import { SLOW_EXIT_MS, launchGateway } from './lib/launch.mjs';

// Sends @chunks (strings or Buffers, @gapMs apart) on a new connection and
// collects what comes back until the server closes or @waitMs pass.
// {text, status, json, closed}: status and json of the first response.
async function raw(port, chunks, { waitMs = 3000, gapMs = 0, end = false } = {}) {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  let text = '';
  let closed = false;
  sock.on('data', (d) => { text += d.toString('latin1'); });
  sock.on('error', () => {});
  const gone = new Promise((resolve) => sock.once('close', () => { closed = true; resolve(); }));
  for (const c of [].concat(chunks)) {
    if (!sock.writable) break;
    sock.write(c);
    if (gapMs) await sleep(gapMs);
  }
  if (end) sock.end();
  await Promise.race([gone, sleep(waitMs)]);
  sock.destroy();
  return { ...parseResponse(text), text, closed };
}

function parseResponse(text) {
  const m = /^HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n([\s\S]*?)\r\n\r\n/.exec(text);
  if (!m) return { status: null, json: null };
  const len = Number(/content-length: *(\d+)/i.exec(m[2])?.[1] ?? 0);
  const body = text.slice(m[0].length, m[0].length + len);
  let json = null;
  try { json = JSON.parse(body); } catch { /* not JSON */ }
  return { status: Number(m[1]), json, headers: m[2] };
}

function adminPort(gw) {
  return Number(new URL(gw.adminUrl).port);
}

// The gateway is alive, its admin API answers, and the charger gets an
// answer to a Heartbeat.
async function stillServing(gw, charger, what, headers = {}) {
  assert.equal(gw.proc.exitCode, null, `gateway exited after ${what}`);
  assert.equal(gw.proc.signalCode, null, `gateway killed by a signal after ${what}`);
  const hb = await withTimeout(charger.call('Heartbeat', {}), 10000, `Heartbeat after ${what}`);
  assert.ok(hb.currentTime, `Heartbeat answered after ${what}`);
  assert.equal((await api(gw, 'GET', '/api/site', undefined, headers)).status, 200,
    `admin API after ${what}`);
}

describe('admin door: connections that end before a whole request (finding 1)', { timeout: 120000 }, () => {
  let gw;
  let c;

  before(async () => {
    gw = await startGateway();
    c = await connectCharger(gw, 'H1', '1.6');
  });
  after(async () => {
    await stopAll({ clients: [c], gw, stopTimeoutMs: SLOW_EXIT_MS });
  });

  it('survives port checks: connect and close, 20 times on each door', async () => {
    for (const port of [adminPort(gw), gw.port]) {
      for (let i = 0; i < 20; i++) {
        const s = net.connect(port, '127.0.0.1');
        await once(s, 'connect');
        s.destroy();
      }
    }
    await sleep(200);
    await stillServing(gw, c, 'port checks');
  });

  it('survives a half request that is then closed', async () => {
    const r = await raw(adminPort(gw), 'GET /api/site HTTP/1.1\r\nHost: x\r\n', { end: true, waitMs: 500 });
    assert.equal(r.status, null, 'no answer to half a request closed by the client');
    await stillServing(gw, c, 'a half request');
  });

  it('answers TRACE 501 and names the method', async () => {
    const r = await raw(adminPort(gw), 'TRACE / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(r.status, 501, r.text);
    assert.equal(r.json.error, 'method TRACE is not implemented');
    assert.ok(r.closed);
    await stillServing(gw, c, 'TRACE');
  });

  it('answers a 5,000-character path 414', async () => {
    const r = await raw(adminPort(gw), `GET /${'a'.repeat(5000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(r.status, 414, r.text);
    assert.match(r.json.error, /longer than 2048 bytes/);
    await stillServing(gw, c, 'a 5,000-character path');
  });

  it('answers a 20-digit Content-Length 400 naming the header', async () => {
    const r = await raw(adminPort(gw),
      'POST /api/chargers/H1/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}');
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.field, 'Content-Length');
    assert.match(r.json.error, /^Content-Length: 20 digits/);
    await stillServing(gw, c, 'a 20-digit Content-Length');
  });

});

describe('admin door limits: idle timeout, sizes, what is not HTTP/1.x', { timeout: 120000 }, () => {
  let gw;
  let c;

  before(async () => {
    gw = await startGateway({ config: 'admin = { idle_timeout = 1; };\n' });
    c = await connectCharger(gw, 'H2', '1.6');
  });
  after(async () => {
    await stopAll({ clients: [c], gw, stopTimeoutMs: SLOW_EXIT_MS });
  });

  it('answers a silent client 408 after admin.idle_timeout and closes', async () => {
    const t0 = Date.now();
    const r = await raw(adminPort(gw), [], { waitMs: 5000 });
    assert.equal(r.status, 408, r.text);
    assert.match(r.json.error, /no whole request within 1 s/);
    assert.ok(r.closed, 'connection closed after the 408');
    assert.ok(Date.now() - t0 >= 900, 'not before the timeout');
    await stillServing(gw, c, 'a silent client');
  });

  it('answers a request that stalls half way 408', async () => {
    const r = await raw(adminPort(gw), 'POST /api/chargers/H1/reset HTTP/1.1\r\nContent-Le', { waitMs: 5000 });
    assert.equal(r.status, 408, r.text);
    assert.ok(r.closed);
    await stillServing(gw, c, 'a stalled request');
  });

  it('answers a head over admin.max_header_size 431 and a body over admin.max_body_size 413', async () => {
    const big = await raw(adminPort(gw), `GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(9000)}\r\n\r\n`);
    assert.equal(big.status, 431, big.text);
    assert.match(big.json.error, /request head larger than 8192 bytes/);
    const body = await raw(adminPort(gw),
      'POST /api/chargers/H1/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n');
    assert.equal(body.status, 413, body.text);
    assert.match(body.json.error, /70000 bytes is larger than the 65536 allowed/);
    await stillServing(gw, c, 'oversized requests');
  });

  it('refuses what is not HTTP/1.x with the right status and a reason', async () => {
    const cases = [
      ['\x16\x03\x01\x02\x00\x01\x00', 400, /bad method/],                       // a TLS hello
      ['GET / HTTP/2.0\r\n\r\n', 505, /HTTP version 2.0 is not supported/],
      ['GET /\r\n\r\n', 400, /malformed request line/],
      ['GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n', 400, /folded/],
      ['GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n', 400, /malformed header name/],
      ['GET / HTTP/1.1\rX: 1\r\n\r\n', 400, /stray CR/],
      ['GET /api/chargers/%00 HTTP/1.1\r\n\r\n', 400, /control character %00/],
      ['GET /api/chargers/%FF HTTP/1.1\r\n\r\n', 400, /not UTF-8/],
      ['GET /api/%zz HTTP/1.1\r\n\r\n', 400, /two hex digits/],
      ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 501, /Transfer-Encoding is not supported/],
      ['POST / HTTP/1.1\r\nExpect: teapot\r\n\r\n', 417, /100-continue/],
      [`GET / HTTP/1.1\r\n${'X: 1\r\n'.repeat(101)}\r\n`, 431, /more than 100 header fields/],
    ];
    for (const [bytes, status, reason] of cases) {
      const r = await raw(adminPort(gw), bytes);
      assert.equal(r.status, status, `${JSON.stringify(bytes.slice(0, 40))}: ${r.text}`);
      assert.match(r.json.error, reason);
      assert.ok(r.closed, 'closed after a refusal');
    }
    await stillServing(gw, c, 'malformed requests');
  });

  it('keeps a connection for pipelined requests, answers HEAD without a body', async () => {
    const r = await raw(adminPort(gw),
      'GET /api/site HTTP/1.1\r\nHost: x\r\n\r\nHEAD /api/site HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const statuses = [...r.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 200, 404], r.text);
    const heads = r.text.split(/HTTP\/1\.1 /).slice(1);
    const len = Number(/Content-Length: (\d+)/.exec(heads[1])[1]);
    assert.ok(len > 0);
    assert.ok(heads[1].endsWith('\r\n\r\n'), 'HEAD: headers only');
    assert.ok(r.closed, 'closed after Connection: close');
  });
});

describe('admin requests with a bad Content-Length do nothing (finding 6)', { timeout: 60000 }, () => {
  let gw;
  let c;
  let resets = 0;

  before(async () => {
    gw = await startGateway();
    c = await connectCharger(gw, 'H6', '1.6');
    c.handle('Reset', () => { resets++; return { status: 'Accepted' }; });
  });
  after(async () => {
    await stopAll({ clients: [c], gw, stopTimeoutMs: SLOW_EXIT_MS });
  });

  it('400 names Content-Length, and the charger gets no Reset', async () => {
    const head = 'POST /api/chargers/H6/reset HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';
    const bad = [
      ['Content-Length: -5\r\n', /expected a number of bytes, got '-5'/],
      ['Content-Length: abc\r\n', /got 'abc'/],
      ['Content-Length: 2, 2\r\n', /got '2, 2'/],
      ['Content-Length: 0x2\r\n', /got '0x2'/],
      ['Content-Length: 2\r\nContent-Length: 3\r\n', /given twice/],
      ['Content-Length: 18446744073709551617\r\n', /digits is not a length/],
      ['Content-Length:\r\n', /empty/],
    ];
    for (const [hdr, reason] of bad) {
      const r = await raw(adminPort(gw), `${head}${hdr}\r\n{}`);
      assert.equal(r.status, 400, `${hdr}: ${r.text}`);
      assert.equal(r.json.field, 'Content-Length');
      assert.match(r.json.error, reason);
    }
    await sleep(500);
    assert.equal(resets, 0, 'no Reset reached the charger');
    // The same request with a valid length does reset: the test can see one.
    const ok = await raw(adminPort(gw), `${head}Content-Length: 2\r\nConnection: close\r\n\r\n{}`);
    assert.equal(ok.status, 200, ok.text);
    await waitFor(() => resets === 1, 5000, 'one Reset');
    await stillServing(gw, c, 'bad Content-Lengths');
  });
});

const hasIPv6Loopback = (() => {
  try {
    return fs.readFileSync('/proc/net/if_inet6', 'utf8').includes('00000000000000000000000000000001');
  } catch { return false; }
})();

describe('each door binds exactly its address (finding 2)', { timeout: 120000 }, () => {
  it('127.0.0.1 and 127.0.0.2 bind those addresses, not *', async () => {
    const [p, q] = [await freePort(), await freePort()];
    const g = await launchGateway(['--listen', `127.0.0.1:${p}`, '--admin', `127.0.0.2:${q}`]);
    try {
      assert.equal(g.code, null, g.log);
      assert.deepEqual(listening(p), [`127.0.0.1:${p}`]);
      assert.deepEqual(listening(q), [`127.0.0.2:${q}`]);
      assert.match(g.log, new RegExp(`admin API on http://127\\.0\\.0\\.2:${q}/`));
      assert.match(g.log, new RegExp(`listening on 127\\.0\\.0\\.1:${p} \\(ws, profiles 1\\)`));
      const r = await fetch(`http://127.0.0.2:${q}/api/site`);
      assert.equal(r.status, 200);
    } finally {
      await g.stop();
    }
  });

  it('a name is resolved once and each of its addresses bound; 127.1 is 127.0.0.1', async () => {
    const [p, q] = [await freePort(), await freePort()];
    const g = await launchGateway(['--listen', `127.1:${p}`, '--admin', `localhost:${q}`]);
    try {
      assert.equal(g.code, null, g.log);
      assert.deepEqual(listening(p), [`127.0.0.1:${p}`]);
      const admin = listening(q);
      assert.ok(admin.length >= 1, 'localhost bound');
      for (const a of admin) assert.match(a, new RegExp(`^(127\\.0\\.0\\.1|\\[::1\\]):${q}$`));
      assert.match(g.log, /admin API on http:\/\/(127\.0\.0\.1|\[::1\]):/);
      assert.doesNotMatch(g.log, /DOESN'T EXIST/);
    } finally {
      await g.stop();
    }
  });

  it('[::1] binds the IPv6 loopback only', { skip: !hasIPv6Loopback && 'no ::1 here' }, async () => {
    const [p, q] = [await freePort(), await freePort()];
    const g = await launchGateway(['--listen', `[::1]:${p}`, '--admin', `[::1]:${q}`]);
    try {
      assert.equal(g.code, null, g.log);
      assert.deepEqual(listening(p), [`[::1]:${p}`]);
      assert.deepEqual(listening(q), [`[::1]:${q}`]);
      assert.equal((await fetch(`http://[::1]:${q}/api/site`)).status, 200);
    } finally {
      await g.stop();
    }
  });

  it('0.0.0.0 is every IPv4 address, [::] every address of both families',
    { skip: !hasIPv6Loopback && 'no IPv6 here' }, async () => {
      const [p, q] = [await freePort(), await freePort()];
      const g = await launchGateway(['--listen', `0.0.0.0:${p}`, '--admin', '']);
      const h = await launchGateway(['--listen', `[::]:${q}`, '--admin', '']);
      try {
        assert.equal(g.code, null, g.log);
        assert.equal(h.code, null, h.log);
        assert.deepEqual(listening(p), [`0.0.0.0:${p}`]);
        assert.deepEqual(listening(q), [`*:${q}`]);
        // an IPv4 client reaches the dual-stack listener
        const s = net.connect(q, '127.0.0.1');
        await once(s, 'connect');
        s.destroy();
      } finally {
        await g.stop();
        await h.stop();
      }
    });

  it('an address that cannot be bound stops the start and says why', async () => {
    const busy = net.createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const taken = busy.address().port;
    // a start that should have failed and did not is stopped all the same
    const started = [];
    const launch = async (args) => {
      const g = await launchGateway(args);
      started.push(g);
      return g;
    };
    try {
      const a = await launch(['--listen', `127.0.0.1:${await freePort()}`, '--admin', `127.0.0.1:${taken}`]);
      assert.equal(a.code, 1, a.log);
      assert.match(a.log, new RegExp(`Failed to listen for the admin API \\(admin.listen = 127\\.0\\.0\\.1:${taken}\\): ` +
        `cannot listen on 127\\.0\\.0\\.1:${taken}: Address already in use`));
      assert.doesNotMatch(a.log, /admin API on/);
      const s = await launch(['--listen', `127.0.0.1:${taken}`, '--admin', '']);
      assert.equal(s.code, 1, s.log);
      assert.match(s.log, /Failed to listen for chargers .*Address already in use/);
      assert.doesNotMatch(s.log, /listening on/);
      // the file server's port too: the start fails before "listening on",
      // the line that tells a supervisor (and the tests) the gateway is up
      const f = await launch(['--listen', `127.0.0.1:${await freePort()}`, '--admin', '',
        '-c', writeConf(`files = { listen = "127.0.0.1:${taken}"; };\n`)]);
      assert.equal(f.code, 1, f.log);
      assert.match(f.log, new RegExp(`Failed to listen for file requests on 127\\.0\\.0\\.1:${taken}: ` +
        'address already in use'));
      assert.doesNotMatch(f.log, /listening on/);
      // 192.0.2.1 (TEST-NET-1) is on no interface here: nothing is sent.
      const t = await launch(['--listen', `127.0.0.1:${await freePort()}`, '--admin', '192.0.2.1:1',
        '-c', writeConf('admin = { token = "0123456789abcdef"; };\n')]);
      assert.equal(t.code, 1, t.log);
      assert.match(t.log, /cannot listen on 192\.0\.2\.1:1: Cannot assign requested address/);
    } finally {
      for (const g of started) await g.stop();
      busy.close();
    }
  });
});

function writeConf(text) {
  const dir = tmpDir();
  const file = path.join(dir, 'ocppgw.conf');
  fs.writeFileSync(file, text);
  return file;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('admin login (finding 3)', { timeout: 180000 }, () => {
  let gw;
  let c;
  const token = 'T'.repeat(1000);

  before(async () => {
    const { stdout } = await runOcppgw(['passwd'], { input: 'right-password\n' });
    const hash = stdout.trim();
    assert.match(hash, /^\$pbkdf2-sha256\$/);
    gw = await startGateway({
      config: `admin = { user = "operator"; password_hash = "${hash}"; token = "${token}"; };\n`,
    });
    c = await connectCharger(gw, 'H3', '1.6');
  });
  after(async () => {
    await stopAll({ clients: [c], gw, stopTimeoutMs: SLOW_EXIT_MS });
  });

  const basic = (u, p) => ({ authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });

  it('a wrong user takes as long as a wrong password', async () => {
    const ok = await api(gw, 'GET', '/api/site', undefined, basic('operator', 'right-password'));
    assert.equal(ok.status, 200);
    const wrongUser = [];
    const wrongPass = [];
    const pair = [[wrongUser, basic('nobody', 'right-password')],
      [wrongPass, basic('operator', 'wrong-password')]];
    for (let i = 0; i < 15; i++) {
      // interleaved, in turns first, so load on the machine weighs on both alike
      for (const [list, hdr] of i % 2 ? pair : [...pair].reverse()) {
        const t0 = process.hrtime.bigint();
        const r = await api(gw, 'GET', '/api/site', undefined, hdr);
        list.push(Number(process.hrtime.bigint() - t0) / 1e6);
        assert.equal(r.status, 401);
      }
    }
    const [u, p] = [median(wrongUser), median(wrongPass)];
    // Before the fix a wrong user skipped the hash: a few ms against tens.
    assert.ok(Math.abs(u - p) <= 0.35 * Math.max(u, p) + 3,
      `wrong user ${u.toFixed(1)} ms, wrong password ${p.toFixed(1)} ms (medians of 15)`);
    await stillServing(gw, c, 'failed logins', { authorization: `Bearer ${token}` });
  });

  it('a 1,000-character token works; a longer one is refused at config time with file:line', async () => {
    assert.equal((await api(gw, 'GET', '/api/site', undefined, { authorization: `Bearer ${token}` })).status, 200);
    assert.equal((await api(gw, 'GET', '/api/site', undefined, { authorization: `Bearer ${token}x` })).status, 401);
    const conf = writeConf(`# long token\nadmin = {\n  token = "${'L'.repeat(1100)}";\n};\n`);
    const r = await runOcppgw(['-c', conf, '--check-config']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`${conf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: admin.token: must be at most 1024 printable characters`));
  });
});
