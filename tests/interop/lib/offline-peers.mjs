// SPDX-License-Identifier: MIT
//
// Plumbing for the offline tests: a strict ocpp-rpc CSMS that records every
// CALL it receives across restarts on the SAME port (so the gateway's north
// leg can lose it and find it again), a scripted charger that numbers its
// transaction messages by timestamp so they can be found again after
// translation and replay, the delivery check (every transaction message
// exactly once, in the charger's order, ids consistent) with its message
// count line, and a sqlite3 reader for the store. It holds no test cases.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { RPCServer, createRPCError } from 'ocpp-rpc';
import WebSocket from 'ws';

import {
  closeClient, connectCharger, freePort, sleep, startGateway, strictModeValidators, subprotocol,
  tmpDir, waitFor,
} from './harness.mjs';
import { RFID, watchStrict } from './translate-peers.mjs';

export { RFID };
export const ID_TOKEN = { idToken: RFID, type: 'ISO14443' };
// Transaction ids the gateway hands out itself start here (1.6, offline).
export const GATEWAY_TX_MIN = 1000000000;

const execFileP = promisify(execFile);
const is16 = (version) => version === '1.6';

// The config text every offline test starts from: fast reconnects, short
// timeouts and retries. `offline` overrides or adds settings of the offline
// group (strings are quoted), `root` adds text at the root (store_max_size,
// local_list, ...).
export function offlineConfig({ offline = {}, root = '', responseTimeout = 3 } = {}) {
  const settings = { retry_interval: 1, message_attempts: 3, ...offline };
  const group = Object.entries(settings)
    .map(([k, v]) => `${k} = ${typeof v === 'string' ? JSON.stringify(v) : v};`).join(' ');
  return [
    'csms = { reconnect_min = 0.2; reconnect_max = 1.0; ping_interval = 0; };',
    `ocpp = { response_timeout = ${Number(responseTimeout).toFixed(1)}; };`,
    `offline = { ${group} };`,
    root,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// The recording CSMS. `calls` keeps {epoch, identity, protocol, method,
// params, messageId, conn, at, answer | error} over every start; `epoch`
// counts the starts (1 for the first), `conn` the upstream connections.
// `fail(call)` returning a truthy value makes the CSMS answer that call
// with a CALLERROR InternalError; `hold(call)` returning a promise delays
// its answer until the promise resolves.
// `versions` (instead of `version`) accepts chargers of several versions,
// each answered in its own (`version` is then the first).
export async function startRecordingCsms({ version, versions, port } = {}) {
  versions = versions ?? [version];
  version = versions[0];
  const rec = {
    version,
    connections: 0,
    port: port ?? await freePort(),
    epoch: 0,
    calls: [],
    problems: [],
    clients: new Map(),
    responders: defaultResponders(version),
    byProtocol: Object.fromEntries(versions.slice(1)
      .map((v) => [subprotocol(v), defaultResponders(v)])),
    fail: () => false,
    hold: () => null,
    server: null,
    http: null,
  };
  rec.url = `ws://127.0.0.1:${rec.port}/ocpp`;
  rec.isUp = () => rec.server !== null;

  rec.start = async () => {
    assert.equal(rec.server, null, 'recording CSMS already running');
    const server = new RPCServer({
      protocols: versions.map(subprotocol),
      strictMode: true,
      strictModeValidators,
      callTimeoutMs: 10000,
      pingIntervalMs: 0,
    });
    const epoch = ++rec.epoch;
    server.auth((accept) => accept());
    server.on('client', (client) => {
      const conn = ++rec.connections;
      rec.clients.set(client.identity, client);
      watchStrict(rec.problems, `csms<-${client.identity}`, client);
      client.frames = [];
      client.on('message', ({ message, outbound }) => {
        client.frames.push({ outbound, text: message.toString() });
      });
      client.handle(async ({ method, params, messageId }) => {
        const call = { epoch, conn, at: Date.now(), identity: client.identity,
          protocol: client.protocol, method, params, messageId };
        rec.calls.push(call);
        const held = rec.hold(call);
        if (held) await held;
        if (rec.fail(call)) {
          call.error = 'InternalError';
          throw createRPCError('InternalError', 'test CSMS refuses this message');
        }
        const r = (rec.byProtocol[client.protocol] ?? rec.responders)[method];
        call.answer = typeof r === 'function' ? r(params, client) : (r ?? {});
        return call.answer;
      });
    });
    // The port was ours a moment ago; the kernel may need a moment to let
    // the old listener's socket go.
    const end = Date.now() + 5000;
    for (;;) {
      try {
        rec.http = await server.listen(rec.port, '127.0.0.1');
        break;
      } catch (err) {
        if (err.code !== 'EADDRINUSE' || Date.now() > end) throw err;
        await sleep(100);
      }
    }
    rec.server = server;
  };

  // Drops every leg without a close frame (a lost uplink) and frees the port.
  rec.stop = async () => {
    if (!rec.server) return;
    const { server, http } = rec;
    rec.server = null;
    rec.http = null;
    rec.clients.clear();
    const closed = http.listening ? once(http, 'close') : Promise.resolve();
    await server.close({ force: true });
    http.close();
    await closed;
  };

  // The open upstream leg of `identity`.
  rec.waitClient = (identity, timeoutMs = 10000) => waitFor(() => {
    const c = rec.clients.get(identity);
    return c && c.state === WebSocket.OPEN ? c : null;
  }, timeoutMs, `upstream leg of ${identity}`);
  rec.callsOf = (identity, epoch) => rec.calls.filter((c) => c.identity === identity &&
    (epoch === undefined || c.epoch === epoch));

  await rec.start();
  return rec;
}

function defaultResponders(version) {
  const now = () => new Date().toISOString();
  if (is16(version)) {
    let nextTx = 7000;
    return {
      BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
      Heartbeat: () => ({ currentTime: now() }),
      Authorize: { idTagInfo: { status: 'Accepted' } },
      StartTransaction: () => ({ transactionId: ++nextTx, idTagInfo: { status: 'Accepted' } }),
      StopTransaction: (p) => (p.idTag ? { idTagInfo: { status: 'Accepted' } } : {}),
      MeterValues: {},
      StatusNotification: {},
      DataTransfer: { status: 'Accepted' },
    };
  }
  return {
    BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
    Heartbeat: () => ({ currentTime: now() }),
    Authorize: { idTokenInfo: { status: 'Accepted' } },
    TransactionEvent: (p) => (p.idToken ? { idTokenInfo: { status: 'Accepted' } } : {}),
    StatusNotification: {},
    MeterValues: {},
    SecurityEventNotification: {},
    NotifyEvent: {},
    NotifyReport: {},
  };
}

// ---------------------------------------------------------------------------
// A scripted charger. Every call is kept in `sent` as {phase, kind, key,
// tx, action, params, answer | error}; `phase` is whatever the test set
// (online / offline / after). Transaction messages carry a unique,
// increasing timestamp: `key` (kind@timestamp) finds them again on the
// CSMS, whatever the translation did to them.
export class ScriptedCharger {
  constructor(version, identity) {
    this.version = version;
    this.identity = identity;
    this.sent = [];
    this.phase = 'online';
    this.client = null;
    this.problems = [];
    this.handlers = {};
    this.received = [];
    this.clock = Date.now() - 3600 * 1000;
    this.txCount = 0;
  }

  // Connects (again) through `gw`; handlers set with handle() carry over.
  async connect(gw) {
    await this.disconnect();
    this.gw = gw;
    this.client = await connectCharger(gw, this.identity, this.version);
    watchStrict(this.problems, `charger ${this.identity}`, this.client);
    for (const [method, fn] of Object.entries(this.handlers)) this.#install(method, fn);
    return this.client;
  }

  // Connects again through the last gateway if the connection is gone
  // (a failed step must not hide what later steps would show).
  async ensureConnected() {
    if (this.client?.state === WebSocket.OPEN) return false;
    await this.connect(this.gw);
    return true;
  }

  async disconnect() {
    if (this.client) await closeClient(this.client);
    this.client = null;
  }

  handle(method, fn) {
    this.handlers[method] = fn;
    if (this.client) this.#install(method, fn);
  }

  #install(method, fn) {
    this.client.handle(method, ({ params }) => {
      this.received.push({ method, params });
      return typeof fn === 'function' ? fn(params) : fn;
    });
  }

  ts() {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  // Sends one CALL; a CALLERROR or timeout is recorded, and thrown unless
  // `tolerate` is set.
  async call(action, params, { kind = null, tx = null, tolerate = false } = {}) {
    const ts = kind ? (params.timestamp ?? params.meterValue?.[0]?.timestamp) : null;
    const rec = { phase: this.phase, kind, key: kind ? `${kind}@${ts}` : null, tx: tx?.label,
      action, params, answer: null, error: null };
    this.sent.push(rec);
    try {
      rec.answer = await this.client.call(action, params);
    } catch (err) {
      rec.error = err;
      if (!tolerate) throw err;
    }
    return rec;
  }

  boot() {
    return this.call('BootNotification', is16(this.version)
      ? { chargePointVendor: 'Acme', chargePointModel: 'Offline 1' }
      : { reason: 'PowerUp', chargingStation: { vendorName: 'Acme', model: 'Offline 1' } });
  }

  heartbeat() { return this.call('Heartbeat', {}); }

  status() {
    return this.call('StatusNotification', is16(this.version)
      ? { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: this.ts() }
      : { timestamp: this.ts(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
  }

  authorize() {
    return this.call('Authorize', is16(this.version) ? { idTag: RFID } : { idToken: ID_TOKEN });
  }

  // A new transaction; 1.6 takes its id from the answer.
  newTx() {
    const n = ++this.txCount;
    return { label: `tx${n}`, id: null, uuid: `${this.identity}-tx-${n}`, seq: 0, energy: n * 100000 };
  }

  async start(tx, opts = {}) {
    tx.energy += 10;
    if (is16(this.version)) {
      const rec = await this.call('StartTransaction', { connectorId: 1, idTag: RFID,
        meterStart: tx.energy, timestamp: this.ts() }, { kind: 'start', tx, ...opts });
      if (rec.answer) tx.id = rec.answer.transactionId;
      return rec;
    }
    // The register at the start, as a station's default TxStartedMeasurands
    // sends it: a 1.6 CSMS behind the gateway needs it for meterStart.
    const ts = this.ts();
    return this.call('TransactionEvent', { eventType: 'Started', timestamp: ts,
      triggerReason: 'Authorized', seqNo: tx.seq++, idToken: ID_TOKEN,
      transactionInfo: { transactionId: tx.uuid, chargingState: 'Charging' },
      evse: { id: 1, connectorId: 1 },
      meterValue: [{ timestamp: ts, sampledValue: [{ value: tx.energy, context: 'Transaction.Begin',
        measurand: 'Energy.Active.Import.Register' }] }] }, { kind: 'start', tx, ...opts });
  }

  // `pad` adds that many extra sampled values (a bigger message).
  meter(tx, { pad = 0, ...opts } = {}) {
    tx.energy += 500;
    const ts = this.ts();
    if (is16(this.version)) {
      const sampledValue = [{ value: String(tx.energy), context: 'Sample.Periodic',
        measurand: 'Energy.Active.Import.Register', unit: 'Wh' }];
      for (let i = 0; i < pad; i++) {
        sampledValue.push({ value: String(230 + (i % 10)), context: 'Sample.Periodic',
          measurand: 'Voltage', phase: 'L1-N', unit: 'V' });
      }
      return this.call('MeterValues', { connectorId: 1, transactionId: tx.id,
        meterValue: [{ timestamp: ts, sampledValue }] }, { kind: 'meter', tx, ...opts });
    }
    const sampledValue = [{ value: tx.energy, context: 'Sample.Periodic',
      measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }];
    for (let i = 0; i < pad; i++) {
      sampledValue.push({ value: 230 + (i % 10), context: 'Sample.Periodic', measurand: 'Voltage',
        phase: 'L1-N', unitOfMeasure: { unit: 'V' } });
    }
    return this.call('TransactionEvent', { eventType: 'Updated', timestamp: ts,
      triggerReason: 'MeterValuePeriodic', seqNo: tx.seq++,
      transactionInfo: { transactionId: tx.uuid, chargingState: 'Charging' },
      meterValue: [{ timestamp: ts, sampledValue }] }, { kind: 'meter', tx, ...opts });
  }

  stop(tx, opts = {}) {
    tx.energy += 7;
    const ts = this.ts();
    if (is16(this.version)) {
      return this.call('StopTransaction', { transactionId: tx.id, idTag: RFID,
        meterStop: tx.energy, timestamp: ts, reason: 'Local' }, { kind: 'stop', tx, ...opts });
    }
    return this.call('TransactionEvent', { eventType: 'Ended', timestamp: ts,
      triggerReason: 'StopAuthorized', seqNo: tx.seq++, idToken: ID_TOKEN,
      transactionInfo: { transactionId: tx.uuid, chargingState: 'EVConnected',
        stoppedReason: 'Local' },
      meterValue: [{ timestamp: ts, sampledValue: [{ value: tx.energy, context: 'Transaction.End',
        measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }] },
    { kind: 'stop', tx, ...opts });
  }

  // 2.x only: a security event the CSMS must get.
  security(opts = {}) {
    return this.call('SecurityEventNotification', { type: 'SettingSystemTime',
      timestamp: this.ts(), techInfo: `offline test ${this.sent.length}` },
    { kind: 'security', ...opts });
  }

  // The transaction messages the CSMS must receive: acknowledged ones only
  // (a refused message stays the charger's to resend).
  mustDeliver() {
    return this.sent.filter((s) => s.kind && s.answer && !s.error);
  }
}

// ---------------------------------------------------------------------------
// What a CSMS call is, in the charger's terms: kind@timestamp, or null for
// calls that are not the charger's transaction messages (Boot, Heartbeat,
// Status, Authorize, and the Transaction.Begin MeterValues a 2.x -> 1.6
// translation derives from a Started event).
export function csmsKey(call) {
  const p = call.params;
  switch (call.method) {
    case 'StartTransaction': return `start@${p.timestamp}`;
    case 'StopTransaction': return `stop@${p.timestamp}`;
    case 'MeterValues': {
      const mv = p.meterValue?.[0];
      if (p.transactionId === undefined || !mv) return null;
      if (mv.sampledValue?.every((v) => v.context === 'Transaction.Begin')) return null;
      return `meter@${mv.timestamp}`;
    }
    case 'TransactionEvent': {
      const kind = { Started: 'start', Updated: 'meter', Ended: 'stop' }[p.eventType];
      if (kind === 'meter' && !p.meterValue) return null; // a derived state change
      return `${kind}@${p.timestamp}`;
    }
    case 'SecurityEventNotification': return `security@${p.timestamp}`;
    default: return null;
  }
}

// Checks that every acknowledged transaction message of `charger` reached
// `csms` once (at most `maxResends` of them twice, back to back), in the
// charger's order, with consistent ids; prints the message count line and
// returns the counts and each key's CSMS calls.
export function checkDelivery(charger, csms, { label, maxResends = 0 } = {}) {
  const expected = charger.mustDeliver();
  const calls = csms.callsOf(charger.identity).filter((c) => csmsKey(c));
  const byKey = new Map();
  for (const c of calls) {
    const k = csmsKey(c);
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k).push(c);
  }
  const lost = expected.filter((s) => !byKey.has(s.key));
  const resent = expected.filter((s) => (byKey.get(s.key)?.length ?? 0) > 1);
  const expectedKeys = new Set(expected.map((s) => s.key));
  const stray = calls.filter((c) => !expectedKeys.has(csmsKey(c)));
  const counts = {
    label,
    sent: charger.sent.length,
    mustDeliver: expected.length,
    received: expected.length - lost.length,
    lost: lost.length,
    resent: resent.length,
    stray: stray.length,
  };
  console.log(`message count [${label}]: charger sent ${counts.sent} calls, ` +
    `${counts.mustDeliver} transaction messages / received by CSMS ${counts.received} / ` +
    `lost ${counts.lost} / resent ${counts.resent} / not sent by the charger ${counts.stray}`);

  assert.deepEqual(lost.map((s) => s.key), [], `${label}: messages lost`);
  assert.deepEqual(stray.map((c) => `${c.method} ${csmsKey(c)}`), [],
    `${label}: the CSMS got transaction messages the charger never had acknowledged`);
  assert.ok(resent.length <= maxResends,
    `${label}: ${resent.length} messages resent (allowed ${maxResends}): ` +
    `${resent.map((s) => `${s.key} x${byKey.get(s.key).length}`).join(', ')}`);
  for (const s of resent) {
    assert.equal(byKey.get(s.key).length, 2, `${label}: ${s.key} sent more than twice`);
  }
  // Order: the CSMS's calls with repeats folded equal the charger's order.
  const folded = [];
  for (const c of calls) {
    const k = csmsKey(c);
    if (!folded.includes(k)) folded.push(k);
  }
  const order = expected.map((s) => s.key);
  assert.deepEqual(folded, order, `${label}: order at the CSMS differs from the charger's`);
  // A resend must come right after the first copy (only the message in
  // flight may be sent twice).
  for (const s of resent) {
    const idx = calls.map((c, i) => [csmsKey(c), i]).filter(([k]) => k === s.key).map(([, i]) => i);
    assert.equal(idx[1], idx[0] + 1, `${label}: ${s.key} resent after other messages`);
  }
  checkIds(charger, csms, byKey, label);
  return { counts, byKey };
}

// Ids consistent per transaction on the CSMS side.
function checkIds(charger, csms, byKey, label) {
  const txs = new Map();
  for (const s of charger.mustDeliver()) {
    if (!s.tx) continue;
    if (!txs.has(s.tx)) txs.set(s.tx, []);
    txs.get(s.tx).push(s);
  }
  for (const [tx, msgs] of txs) {
    const seen = msgs.map((s) => ({ s, calls: byKey.get(s.key) }));
    if (is16(csms.version)) {
      // The CSMS's own id, from its answer to the (last copy of the) start.
      const start = seen.find((x) => x.s.kind === 'start');
      assert.ok(start, `${label} ${tx}: no StartTransaction`);
      const csmsId = start.calls.at(-1).answer?.transactionId;
      assert.ok(Number.isInteger(csmsId), `${label} ${tx}: CSMS never answered its start`);
      for (const x of seen.filter((y) => y.s.kind !== 'start')) {
        for (const c of x.calls) {
          assert.equal(c.params.transactionId, csmsId,
            `${label} ${tx}: ${x.s.key} reached the CSMS with transactionId ` +
            `${c.params.transactionId}, the CSMS gave ${csmsId}`);
        }
      }
      continue;
    }
    const ids = new Set(seen.flatMap((x) => x.calls.map((c) => c.params.transactionInfo?.transactionId)));
    assert.equal(ids.size, 1, `${label} ${tx}: transactionIds at the CSMS ${[...ids]}`);
    if (!is16(charger.version)) {
      assert.equal([...ids][0], seen[0].s.params.transactionInfo.transactionId,
        `${label} ${tx}: transactionId changed`);
    }
    let lastSeq = -1;
    for (const x of seen) {
      const c = x.calls[0];
      if (!is16(charger.version)) {
        assert.equal(c.params.seqNo, x.s.params.seqNo, `${label} ${tx}: ${x.s.key} seqNo changed`);
      }
      assert.ok(c.params.seqNo > lastSeq,
        `${label} ${tx}: seqNo ${c.params.seqNo} after ${lastSeq} (${x.s.key})`);
      lastSeq = c.params.seqNo;
      if (x.s.phase === 'offline') {
        assert.equal(c.params.offline, true,
          `${label} ${tx}: ${x.s.key} was sent offline, replayed without offline=true`);
      } else if (x.s.phase === 'online') {
        assert.notEqual(c.params.offline, true,
          `${label} ${tx}: ${x.s.key} was live but carries offline=true`);
      }
    }
  }
}

// The recording CSMS as a charger of `version` sees it (several versions).
export function csmsAs(csms, version) {
  return { ...csms, version };
}

// The CSMS-side id of `tx` (its start as the CSMS saw it): the CSMS's
// integer (1.6 CSMS) or the transactionId of the Started event (2.x).
export function csmsTxId(charger, csms, tx) {
  const s = charger.sent.find((x) => x.tx === tx.label && x.kind === 'start');
  const c = csms.callsOf(charger.identity).filter((x) => csmsKey(x) === s.key).at(-1);
  assert.ok(c, `the CSMS never saw the start of ${tx.label}`);
  return is16(csms.version) ? c.answer?.transactionId : c.params.transactionInfo.transactionId;
}

// Waits until the CSMS holds every acknowledged transaction message.
export function waitDelivered(charger, csms, timeoutMs = 20000) {
  return waitFor(() => {
    const have = new Set(csms.callsOf(charger.identity).map(csmsKey).filter(Boolean));
    return charger.mustDeliver().every((s) => have.has(s.key));
  }, timeoutMs, `CSMS to receive every message of ${charger.identity}`).catch((err) => {
    const keys = csms.callsOf(charger.identity).map(csmsKey).filter(Boolean);
    const have = new Set(keys);
    const missing = charger.mustDeliver().filter((s) => !have.has(s.key)).map((s) => s.key);
    err.message += `; the CSMS got ${keys.length} transaction messages (${have.size} distinct); ` +
      `missing ${missing.length}: ${missing.join(', ')}`;
    throw err;
  });
}

// ---------------------------------------------------------------------------
// A scripted charger of `chargerVersion` behind a gateway (its store in its
// own directory) in front of a recording CSMS of `csmsVersion` (default: the
// same; else the gateway translates). `dataDir`: the store's directory
// (default: a new one, removed by `stop`). `stop` tears it all down and
// asserts the gateway exits 0.
export async function startOfflineSetup({ chargerVersion, csmsVersion = chargerVersion, identity,
  config = offlineConfig(), dataDir }) {
  const ownDir = !dataDir; // a directory passed in is the caller's to remove
  dataDir = dataDir ?? tmpDir('ocppgw-offline-');
  const csms = await startRecordingCsms({ version: csmsVersion });
  const gwOpts = { csmsUrl: csms.url, dataDir, config,
    args: csmsVersion !== chargerVersion ? ['--upstream-ocpp', csmsVersion] : [] };
  const setup = { dataDir, csms, gwOpts, charger: new ScriptedCharger(chargerVersion, identity),
    gws: [] };
  setup.startGateway = async () => {
    setup.gw = await startGateway(gwOpts);
    setup.gws.push(setup.gw);
    return setup.gw;
  };
  await setup.startGateway();
  await setup.charger.connect(setup.gw);
  await csms.waitClient(identity);
  setup.stop = async () => {
    await setup.charger.disconnect();
    try {
      const res = await setup.gw.stop();
      assert.equal(res.code, 0, `ocppgw exit status ${JSON.stringify(res)}`);
    } finally {
      await csms.stop();
      if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
      for (const old of setup.gws.slice(0, -1)) fs.rmSync(old.dir, { recursive: true, force: true });
    }
  };
  return setup;
}

// ---------------------------------------------------------------------------
// The gateway's store, read with the sqlite3 command (JSON rows).
export async function sqlite(dataDir, sql) {
  const { stdout } = await execFileP('sqlite3', ['-json', '-readonly',
    path.join(dataDir, 'ocppgw.db'), sql]);
  return stdout.trim() ? JSON.parse(stdout) : [];
}

export function alive(gw) {
  return gw.proc.exitCode === null && gw.proc.signalCode === null;
}

// SIGKILL and wait: the store stays as the kill left it.
export async function killGateway(gw) {
  gw.signal('SIGKILL');
  return gw.exited;
}
