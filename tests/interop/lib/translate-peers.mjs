// SPDX-License-Identifier: MIT
//
// Plumbing for the translation tests: one translating gateway between a
// strict charger of one version and a strict CSMS of another, with every
// strict-mode rejection and every CALLERROR on either leg recorded, so a
// suite can assert there were none. It holds no test cases itself.

import assert from 'node:assert/strict';

import {
  connectCharger, startCsms, startGateway, subprotocol, waitFor,
} from './harness.mjs';

export const RFID = '04A2B3C4D5E6F7';
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Records strict-mode failures and unparsable frames of an ocpp-rpc peer.
export function watchStrict(problems, who, client) {
  client.on('strictValidationFailure', (e) => problems.push({
    who, kind: 'strict', method: e.method, outbound: e.outbound, isCall: e.isCall,
    params: e.params, result: e.result, error: String(e.error?.message ?? e.error),
    details: e.error?.details,
  }));
  client.on('badMessage', (e) => problems.push({
    who, kind: 'badMessage', buffer: e.buffer?.toString(), error: String(e.error?.message ?? e.error),
  }));
}

// A CSMS speaking `csmsVersion`, a gateway told to speak it upstream, and a
// charger of `chargerVersion` connected through it. `dataDir` keeps the
// store (pass the same one to survive a restart); pass `csms` and its
// `problems` to put a new gateway in front of the CSMS of an earlier pair.
export async function startPair({ chargerVersion, csmsVersion, identity, dataDir, csms,
  problems = [] }) {
  if (!csms) {
    csms = await startCsms({ protocols: [subprotocol(csmsVersion)] });
    csms.server.on('client', (c) => watchStrict(problems, `csms<-${c.identity}`, c));
  }
  const gw = await startGateway({ csmsUrl: csms.url, dataDir,
    args: ['--upstream-ocpp', csmsVersion] });
  return { csms, gw, problems, ...(await attachCharger({ csms, gw, problems, chargerVersion, identity })) };
}

// Connects a strict charger through `gw` and waits for its upstream leg.
export async function attachCharger({ csms, gw, problems, chargerVersion, identity }) {
  const charger = await connectCharger(gw, identity, chargerVersion);
  watchStrict(problems, `charger ${identity}`, charger);
  const upstream = await csms.waitClient(identity);
  return { charger, upstream };
}

// CALLERROR frames seen on a leg, as [who, frame].
export function callErrors(who, client) {
  return (client?.frames ?? []).filter((f) => f.message[0] === 4).map((f) => [who, f]);
}

// Asserts no strict-mode failure and no CALLERROR on either leg.
export function assertClean(problems, legs) {
  assert.deepEqual(problems, [], 'strict-mode rejections or unparsable frames');
  const errs = legs.flatMap(([who, c]) => callErrors(who, c));
  assert.deepEqual(errs, [], 'CALLERROR frames on a leg');
}

// The charger calls `action`; returns its answer and the calls the CSMS saw
// meanwhile (from this identity).
export async function chargerCall(csms, charger, identity, action, params) {
  const before = csms.calls.length;
  const answer = await charger.call(action, params);
  const seen = csms.calls.slice(before).filter((c) => c.identity === identity);
  return { answer, seen };
}

// The CSMS calls `action` on its upstream leg; the charger answers
// `chargerAction` with `reply` (a value or function). Returns the CSMS's
// result and every call the charger got meanwhile ({method, params}).
export async function csmsCall(upstream, charger, action, params, handlers) {
  const got = [];
  for (const [method, reply] of Object.entries(handlers)) {
    charger.handle(method, ({ params: p }) => {
      got.push({ method, params: p });
      return typeof reply === 'function' ? reply(p) : reply;
    });
  }
  const result = await upstream.call(action, params);
  return { result, got };
}

// Waits for the CSMS to have seen a call `method` from `identity` after
// index `from` of csms.calls.
export function waitCsmsCall(csms, identity, method, from = 0, timeoutMs = 5000) {
  return waitFor(() => csms.calls.slice(from)
    .find((c) => c.identity === identity && c.method === method), timeoutMs,
  `CSMS to receive ${method} from ${identity}`);
}
