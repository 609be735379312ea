// SPDX-License-Identifier: MIT
//
// Plumbing for the simulator tests: ocppgw-sim started as a charger fleet or
// as the responder CSMS (and stopped with SIGTERM), POST /command, and the
// answers a strict ocpp-rpc CSMS gives a simulated fleet. Every strict-mode
// rejection, unparsable frame and handler exception is recorded so a suite
// can assert there were none. It holds no test cases itself.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { SRC_ROOT, freePort, withTimeout } from './harness.mjs';

export const SIM_BIN = process.env.OCPPGW_SIM_BIN ||
  path.join(SRC_ROOT, 'build/src/sim/ocppgw-sim');

// Starts ocppgw-sim with `args`. `exited` resolves with {code, signal};
// stop() sends SIGTERM (SIGKILL after timeoutMs) and resolves the same way.
export function spawnSim(args, name = 'ocppgw-sim') {
  const proc = spawn(SIM_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  proc.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', (err) => resolve({ code: null, signal: null, error: String(err) }));
  });
  const sim = {
    proc,
    args,
    exited,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    get running() { return proc.exitCode === null && proc.signalCode === null; },
    async stop(timeoutMs = 8000) {
      if (sim.running) proc.kill('SIGTERM');
      try {
        return await withTimeout(exited, timeoutMs, `${name} exit after SIGTERM`);
      } catch (err) {
        proc.kill('SIGKILL');
        await exited;
        sim.dumpLog('did not exit after SIGTERM');
        throw err;
      }
    },
    // Keeps the whole output in a file and prints its tail.
    dumpLog(why) {
      const file = path.join(os.tmpdir(), `ocppgw-sim-interop-${proc.pid}.log`);
      fs.writeFileSync(file, `${SIM_BIN} ${args.join(' ')}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
      const tail = stderr.split('\n').slice(-60).join('\n');
      console.error(`---- ${name} ${args.join(' ')} (${why}); whole log in ${file}\n` +
        `stdout:\n${stdout}\nstderr (tail):\n${tail}\n----`);
    },
  };
  return sim;
}

// A simulated fleet of `count` chargers of one `version`, living fast.
export function startFleet({ url, version, count = 3, duration = 8, idPattern,
  extra = [] }) {
  return spawnSim(['--url', url, '--count', String(count), '--mix', `${version}:1`,
    '--duration', String(duration), '--time-scale', '60', '--meter-interval', '15',
    '--session', '120', '--idle', '40', '--seed', '3', '--timeout', '10',
    '--id-pattern', idPattern, '-v', ...extra], `ocppgw-sim fleet ${version}`);
}

// The responder CSMS on a free port of 127.0.0.1; resolves once it printed
// "listening on HOST:PORT".
export async function startResponder() {
  const sim = spawnSim(['--csms', '--listen', '127.0.0.1:0', '-v'], 'ocppgw-sim --csms');
  const ready = (async () => {
    for (;;) {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(sim.stdout);
      if (m) return Number(m[1]);
      if (!sim.running) throw new Error(`ocppgw-sim --csms exited early:\n${sim.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  let port;
  try {
    port = await withTimeout(ready, 10000, 'ocppgw-sim --csms "listening on" line');
  } catch (err) {
    await sim.stop().catch(() => {});
    throw err;
  }
  sim.port = port;
  sim.endpoint = `ws://127.0.0.1:${port}/ocpp`;
  // POST /command; resolves with {status, body} (body parsed when JSON).
  sim.command = async (charger, action, payload) => {
    const res = await fetch(`http://127.0.0.1:${port}/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ charger, action, payload }),
      signal: AbortSignal.timeout(40000),
    });
    const text = await res.text();
    let body;
    try { body = JSON.parse(text); } catch { body = text; }
    return { status: res.status, body };
  };
  sim.chargers = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/chargers`, { signal: AbortSignal.timeout(5000) });
    return res.json();
  };
  return sim;
}

export { freePort };

// What a strict CSMS answers a simulated charger: schema-valid and
// plausible. `problems` collects handler exceptions (a throwing handler
// would become an InternalError CALLERROR that nobody notices otherwise).
export function fleetResponders(version, problems) {
  let nextTx = 1000;
  const now = () => new Date().toISOString();
  const accepted = { status: 'Accepted' };
  const is16 = version === '1.6';
  const table = {
    BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
    Heartbeat: () => ({ currentTime: now() }),
    Authorize: () => (is16 ? { idTagInfo: accepted } : { idTokenInfo: accepted }),
    StartTransaction: () => ({ transactionId: ++nextTx, idTagInfo: accepted }),
    StopTransaction: (p) => (p.idTag ? { idTagInfo: accepted } : {}),
    TransactionEvent: (p) => (p.idToken ? { idTokenInfo: accepted } : {}),
    DataTransfer: () => ({ status: 'Accepted' }),
  };
  const wrapped = {};
  for (const [method, fn] of Object.entries(table)) {
    wrapped[method] = (params, client) => {
      try {
        return fn(params, client);
      } catch (err) {
        problems.push({ who: `csms handler ${method}`, kind: 'exception', error: String(err) });
        throw err;
      }
    };
  }
  return wrapped;
}

// The payloads a CSMS sends to a simulated charger, per version.
export function fleetCommands(version) {
  if (version === '1.6') {
    return {
      setConfig: ['ChangeConfiguration', { key: 'HeartbeatInterval', value: '120' }],
      getConfig: ['GetConfiguration', { key: ['HeartbeatInterval'] }],
      setProfile: ['SetChargingProfile', { connectorId: 0, csChargingProfiles: {
        chargingProfileId: 11, stackLevel: 0, chargingProfilePurpose: 'ChargePointMaxProfile',
        chargingProfileKind: 'Absolute', chargingSchedule: { chargingRateUnit: 'A',
          chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }] } } }],
      composite: ['GetCompositeSchedule', { connectorId: 1, duration: 600 }],
      trigger: ['TriggerMessage', { requestedMessage: 'Heartbeat' }],
      remoteStart: (tag) => ['RemoteStartTransaction', { idTag: tag }],
      reset: ['Reset', { type: 'Soft' }],
    };
  }
  const hb = { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } };
  return {
    setConfig: ['SetVariables', { setVariableData: [{ ...hb, attributeValue: '120' }] }],
    getConfig: ['GetVariables', { getVariableData: [hb] }],
    setProfile: ['SetChargingProfile', { evseId: 0, chargingProfile: {
      id: 12, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile',
      chargingProfileKind: 'Absolute', chargingSchedule: [{ id: 1, chargingRateUnit: 'A',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }] }] } }],
    composite: ['GetCompositeSchedule', { evseId: 1, duration: 600 }],
    trigger: ['TriggerMessage', { requestedMessage: 'Heartbeat' }],
    remoteStart: (tag, remoteStartId) => ['RequestStartTransaction',
      { idToken: { idToken: tag, type: 'ISO14443' }, remoteStartId }],
    reset: ['Reset', { type: 'Immediate' }],
  };
}

// Stops what a fleet test started, newest first: the browser, the fleets,
// the gateway, the responder CSMS. Each may be missing (a failed before()).
export async function stopFleetRig({ browser, fleets = [], gw, responder }) {
  await browser?.close();
  for (const f of fleets) await f.stop();
  await gw?.stop();
  await responder?.stop();
}
