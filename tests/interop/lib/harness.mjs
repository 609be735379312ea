// SPDX-License-Identifier: MIT
//
// Shared plumbing for the interop tests: free ports, the real ocppgw binary
// started and stopped around each suite, a strict ocpp-rpc CSMS, strict
// ocpp-rpc chargers, and a raw `ws` charger for frames no OCPP library would
// send. Everything listens on 127.0.0.1 and is stopped by the suite that
// started it. It holds no test cases itself.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { RPCClient, RPCServer } from 'ocpp-rpc';
import WebSocket, { WebSocketServer } from 'ws';

const require = createRequire(import.meta.url);
const { createValidator } = require('ocpp-rpc/lib/validator.js');

export const SRC_ROOT = process.env.OCPPGW_SRC ||
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const OCPPGW_BIN = process.env.OCPPGW_BIN ||
  path.join(SRC_ROOT, 'build/src/ocppgw');

export const VERSIONS = ['1.6', '2.0.1', '2.1'];
export const subprotocol = (version) => `ocpp${version}`;

// Error codes as each version spells them (OCPP-J 1.6 keeps its two typos).
export function errorCodes(version) {
  return version === '1.6'
    ? { framework: 'FormationViolation', format: 'FormationViolation',
        occurrence: 'OccurenceConstraintViolation' }
    : { framework: 'RpcFrameworkError', format: 'FormatViolation',
        occurrence: 'OccurrenceConstraintViolation' };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves when fn() returns a truthy value; rejects after timeoutMs.
export async function waitFor(fn, timeoutMs = 5000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// The addresses `ss -ltn` shows listening on @port ("127.0.0.1:9000", "*:9000"...).
export function listeningOn(port) {
  const out = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)[3]).sort();
}

// A port nobody listens on right now: bind 127.0.0.1:0, read it, close.
// Never the same one twice in a test file: the kernel may hand a port it
// just freed out again, and a test that asks for two (a gateway's admin
// and file ports) would get one port for both.
const portsGiven = new Set();
export async function freePort() {
  for (;;) {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const { port } = srv.address();
    srv.close();
    await once(srv, 'close');
    if (!portsGiven.has(port)) {
      portsGiven.add(port);
      return port;
    }
  }
}

export function tmpDir(prefix = 'ocppgw-interop-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// ---------------------------------------------------------------------------
// ocpp-rpc 2.2.1's strict mode looks a schema up as `urn:<Action>.req` and
// `urn:<Action>.conf` (client.js), which is how its bundled 1.6 and 2.0.1
// files name them; its bundled 2.1 file names them `urn:<Action>Request` and
// `urn:<Action>Response`, so every 2.1 lookup would fail with "Schema ... is
// missing". We load that file, rewrite each `$id` to the names the lookup
// uses, and build our own 'ocpp2.1' validator, passed as
// strictModeValidators (it replaces the bundled one for that subprotocol).
// The 2.1 enum definitions also carry `additionalProperties` on string types,
// a no-op that makes Ajv print a strictTypes warning per schema; we drop it
// there so the test output stays readable.
function makeValidator21() {
  const schemas = structuredClone(require('ocpp-rpc/lib/schemas/ocpp2_1.json'));
  const dropNoOps = (node) => {
    if (!node || typeof node !== 'object') return;
    if (node.type && node.type !== 'object' && 'additionalProperties' in node) {
      delete node.additionalProperties;
    }
    Object.values(node).forEach(dropNoOps);
  };
  for (const s of schemas) {
    const m = /^urn:(.+?)(Request|Response)$/.exec(s.$id);
    if (m) s.$id = `urn:${m[1]}.${m[2] === 'Request' ? 'req' : 'conf'}`;
    dropNoOps(s);
  }
  return createValidator('ocpp2.1', schemas);
}
export const strictModeValidators = [makeValidator21()];

// ---------------------------------------------------------------------------
// The gateway.

function writeConfig(dir, config) {
  const file = path.join(dir, 'ocppgw.conf');
  fs.writeFileSync(file, config);
  return file;
}

// A frame as a test sees it; text that is not JSON is kept as such, so a
// misbehaving peer fails its test instead of crashing the runner.
function frameRecord(outbound, message) {
  const text = message.toString();
  try {
    return { outbound, message: JSON.parse(text) };
  } catch {
    return { outbound, unparsable: text };
  }
}

// Starts `ocppgw` and resolves once it logs "listening on 127.0.0.1:PORT".
// opts: csmsUrl (string, or null for none), config (libconfig text written
// to a temp file and passed with -c), args (extra options).
export async function startGateway(opts = {}) {
  const dir = tmpDir();
  const configPath = opts.config != null ? writeConfig(dir, opts.config) : null;
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = ['--listen', `127.0.0.1:${port}`, '-v'];
    // The admin API listens too: on its own free port unless the test says.
    if (!(opts.args || []).includes('--admin')) args.push('--admin', `127.0.0.1:${await freePort()}`);
    if (configPath) args.unshift('-c', configPath);
    // Each gateway gets its own store, kept across restarts of the same test.
    if (!(opts.args || []).includes('--data-dir'))
      args.push('--data-dir', opts.dataDir || path.join(dir, 'data'));
    if (opts.csmsUrl) args.push('--csms', opts.csmsUrl);
    args.push(...(opts.args || []));
    try {
      return await launch(args, port, dir, configPath);
    } catch (err) {
      lastErr = err;
      // Someone took the port between freePort() and bind(): try another.
      if (!/address already in use|EADDRINUSE/i.test(err.stderrText || '')) break;
    }
  }
  throw lastErr;
}

async function launch(args, port, dir, configPath) {
  const proc = spawn(OCPPGW_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  proc.stderr.setEncoding('utf8');
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const spawnError = new Promise((_, reject) => proc.once('error', reject));

  const ready = new Promise((resolve) => {
    proc.stderr.on('data', (d) => {
      stderr += d;
      if (/listening on 127\.0\.0\.1:\d+/.test(stderr)) resolve();
    });
  });
  const early = exited.then(({ code, signal }) => {
    const err = new Error(`ocppgw exited before listening (code ${code}, signal ${signal}):\n` +
      `  ${OCPPGW_BIN} ${args.join(' ')}\n${stderr}`);
    err.stderrText = stderr;
    throw err;
  });
  try {
    await withTimeout(Promise.race([ready, early, spawnError]), 10000,
      `ocppgw "listening on" line; stderr so far:\n${stderr}`);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }

  const admin = /admin API on (http:\/\/[^/\s]+)\//.exec(stderr);
  const gw = {
    proc,
    port,
    adminUrl: admin ? admin[1] : null,  // http://127.0.0.1:PORT, null: admin off
    args,
    dir,
    configPath,
    exited,
    get stderr() { return stderr; },
    get stdout() { return stdout; },
    url: (identity = '') => `ws://127.0.0.1:${port}/ocpp/${identity}`,
    endpoint: `ws://127.0.0.1:${port}/ocpp`,
    writeConfig: (text) => fs.writeFileSync(configPath, text),
    signal: (sig) => proc.kill(sig),
    // SIGTERM, then wait for the exit; SIGKILL after timeoutMs. Returns
    // {code, signal}. Prints the log when anything in this file has failed.
    async stop(timeoutMs = 5000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      let res;
      try {
        res = await withTimeout(exited, timeoutMs, 'ocppgw exit after SIGTERM');
      } catch (err) {
        proc.kill('SIGKILL');
        await exited;
        gw.dumpLog('did not exit after SIGTERM');
        throw err;
      }
      if (process.exitCode || res.code !== 0) gw.dumpLog(`exit ${res.code} signal ${res.signal}`);
      fs.rmSync(dir, { recursive: true, force: true });
      return res;
    },
    // Prints the log's tail and keeps the whole of it in a file.
    dumpLog(why) {
      const full = path.join(os.tmpdir(), `ocppgw-interop-${port}-${proc.pid}.log`);
      fs.writeFileSync(full, stderr);
      const lines = stderr.split('\n');
      const tail = lines.slice(-200).join('\n');
      console.error(`---- ocppgw ${args.join(' ')} (${why}); whole log in ${full}; ` +
        `last ${Math.min(200, lines.length)} lines:\n${tail}\n----`);
    },
  };
  return gw;
}

// Runs the binary to completion (for the subcommands and --check-config).
export async function runOcppgw(args, { input, timeoutMs = 10000 } = {}) {
  const proc = spawn(OCPPGW_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  proc.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  proc.stdin.on('error', () => {}); // it may exit before reading everything
  proc.stdin.end(input ?? '');
  const [code, signal] = await withTimeout(once(proc, 'exit'), timeoutMs,
    `ocppgw ${args.join(' ')}`).catch((err) => { proc.kill('SIGKILL'); throw err; });
  await new Promise((r) => setImmediate(r));
  return { code, signal, stdout, stderr };
}

// ---------------------------------------------------------------------------
// A strict ocpp-rpc CSMS. Every call it receives is recorded in `calls`
// ({identity, method, params, messageId}); replies come from `responders`
// (method -> function(params, client) or value), else {}. Each charger's
// upstream leg is an entry of `clients` (identity -> RPCServerClient).
export async function startCsms(opts = {}) {
  const server = new RPCServer({
    protocols: opts.protocols || VERSIONS.map(subprotocol),
    strictMode: true,
    strictModeValidators,
    callTimeoutMs: 10000,
    pingIntervalMs: 0,
  });
  const csms = {
    server,
    calls: [],
    clients: new Map(),
    closes: [],
    handshakes: [],
    // Heartbeat needs an answer strict mode accepts; tests add the rest.
    responders: { Heartbeat: () => ({ currentTime: new Date().toISOString() }) },
  };
  server.auth((accept, reject, handshake) => {
    csms.handshakes.push({ identity: handshake.identity, endpoint: handshake.endpoint,
      protocols: [...handshake.protocols], password: handshake.password?.toString() });
    accept();
  });
  server.on('client', (client) => {
    csms.clients.set(client.identity, client);
    client.frames = [];
    client.on('message', ({ message, outbound }) => {
      client.frames.push(frameRecord(outbound, message));
    });
    client.on('close', (ev) => csms.closes.push({ identity: client.identity, ...ev }));
    client.handle(async ({ method, params, messageId }) => {
      csms.calls.push({ identity: client.identity, protocol: client.protocol, method, params, messageId });
      const r = csms.responders[method];
      if (typeof r === 'function') return r(params, client);
      return r ?? {};
    });
  });
  // opts.port: a CSMS back on the port it had before (an outage's end)
  const port = opts.port ?? await freePort();
  const http = await server.listen(port, '127.0.0.1');
  csms.port = port;
  csms.url = `ws://127.0.0.1:${port}/ocpp`;
  // The upstream leg for `identity`, once the gateway has opened it.
  csms.waitClient = (identity, timeoutMs = 5000) => waitFor(() => {
    const c = csms.clients.get(identity);
    return c && c.state === WebSocket.OPEN ? c : null;
  }, timeoutMs, `upstream leg of ${identity}`);
  csms.callsOf = (identity) => csms.calls.filter((c) => c.identity === identity);
  csms.close = async () => {
    await server.close({ force: true });
    http.close();
  };
  return csms;
}

// A strict ocpp-rpc charger, connected. Records the raw frames it sends and
// receives in `frames` ({outbound, message}).
export async function connectCharger(gw, identity, version, opts = {}) {
  const client = new RPCClient({
    endpoint: gw.endpoint,
    identity,
    protocols: [subprotocol(version)],
    strictMode: true,
    strictModeValidators,
    reconnect: false,
    callTimeoutMs: opts.callTimeoutMs ?? 10000,
    pingIntervalMs: 0,
    password: opts.password,
  });
  client.frames = [];
  client.on('message', ({ message, outbound }) => {
    client.frames.push(frameRecord(outbound, message));
  });
  await client.connect();
  return client;
}

// The load balancer's profiles accepted by a charger (answered to the
// gateway, never seen by the CSMS); without handlers each would be a
// NotImplemented CALLERROR. The balancer first asks for the charger's
// highest stack level (1.6 GetConfiguration, 2.x GetVariables): this
// charger does not report it, as many do not, so the configured stack
// level applies.
export function acceptProfiles(client) {
  client.handle('SetChargingProfile', () => ({ status: 'Accepted' }));
  client.handle('ClearChargingProfile', () => ({ status: 'Accepted' }));
  client.handle('GetConfiguration', ({ params }) => ({ unknownKey: params.key ?? [] }));
  client.handle('GetVariables', ({ params }) => ({
    getVariableResult: params.getVariableData.map((d) => ({
      attributeStatus: 'UnknownVariable', component: d.component, variable: d.variable,
    })),
  }));
  return client;
}

// ---------------------------------------------------------------------------
// A raw `ws` charger: send anything, read frames one at a time.
export async function rawCharger(gw, identity, version, opts = {}) {
  const headers = {};
  if (opts.password !== undefined) {
    headers.Authorization = 'Basic ' +
      Buffer.from(`${identity}:${opts.password}`).toString('base64');
  }
  const protocols = opts.protocols ?? [subprotocol(version)];
  const ws = new WebSocket(gw.url(identity), protocols, { headers });
  const raw = wrapSocket(ws);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => {
      const err = new Error(`handshake refused: HTTP ${res.statusCode}`);
      err.statusCode = res.statusCode;
      reject(err);
    });
  });
  return raw;
}

// Frame queue around a ws: next() resolves with the next parsed frame,
// silence(ms) asserts none arrives, `closed` resolves with {code, reason}.
export function wrapSocket(ws) {
  const queue = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    const text = data.toString();
    let frame;
    try { frame = JSON.parse(text); } catch { frame = { unparsable: text, isBinary }; }
    const w = waiters.shift();
    if (w) w(frame); else queue.push(frame);
  });
  const closed = new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on('error', () => {});
  return {
    ws,
    closed,
    send(frame) { ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)); },
    next(timeoutMs = 5000) {
      if (queue.length) return Promise.resolve(queue.shift());
      let resolveFn;
      const p = new Promise((resolve) => { resolveFn = resolve; waiters.push(resolve); });
      return withTimeout(p, timeoutMs, 'next frame').catch((err) => {
        const i = waiters.indexOf(resolveFn);
        if (i >= 0) waiters.splice(i, 1);
        throw err;
      });
    },
    async silence(ms = 500) {
      await sleep(ms);
      if (queue.length) throw new Error(`expected no frame, got ${JSON.stringify(queue[0])}`);
    },
    get isOpen() { return ws.readyState === WebSocket.OPEN; },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close();
      await withTimeout(closed, 3000, 'ws close').catch(() => ws.terminate());
    },
  };
}

// A raw `ws` CSMS: `onCall(frame, socket)` answers each CALL by returning a
// frame (array, string, or null for no reply).
export async function startRawCsms(onCall) {
  const port = await freePort();
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port,
    handleProtocols: (protocols) => [...protocols][0] ?? false,
  });
  await once(wss, 'listening');
  const raw = { wss, port, url: `ws://127.0.0.1:${port}/ocpp`, sockets: [], received: [] };
  wss.on('connection', (ws, req) => {
    ws.identity = decodeURIComponent(req.url.split('/').pop());
    raw.sockets.push(ws);
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      raw.received.push({ identity: ws.identity, frame });
      if (frame[0] !== 2) return;
      const reply = onCall(frame, ws);
      if (reply != null) ws.send(typeof reply === 'string' ? reply : JSON.stringify(reply));
    });
  });
  raw.close = async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((r) => wss.close(r));
  };
  return raw;
}

// fetch() on the gateway's admin API (gw.adminUrl + path); JSON both
// ways: {status, json (null when the answer is not JSON), text, headers}.
export async function adminApi(gw, method, path, body, headers = {}) {
  const res = await fetch(gw.adminUrl + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: metrics, the page */ }
  return { status: res.status, json, text, headers: res.headers };
}

// Closes an RPCClient without waiting for pending calls.
export async function closeClient(client) {
  if (!client) return;
  await client.close({ force: true }).catch(() => {});
}

export function isoNow(offsetMs = 0) {
  return new Date(Date.now() + offsetMs).toISOString();
}

// Tears a suite down: chargers first, then the gateway (SIGTERM, must exit
// 0), then the CSMS, which is closed even when the gateway misbehaved.
// stopTimeoutMs: how long the gateway may take to exit (gw.stop's default
// when not given).
export async function stopAll({ clients = [], raws = [], gw, csms, stopTimeoutMs } = {}) {
  for (const c of clients) await closeClient(c);
  for (const r of raws) await r?.close();
  let res;
  try {
    if (gw) res = await gw.stop(stopTimeoutMs);
  } finally {
    if (csms) await csms.close();
  }
  if (res) assert.equal(res.code, 0, `ocppgw exit status ${JSON.stringify(res)}`);
}
