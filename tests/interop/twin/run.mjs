// SPDX-License-Identifier: MIT
//
// Runs the twin harness: one CSMS and one gateway for every session, each
// scenario played natively (a charger of the CSMS's version, relayed by the
// gateway untranslated, or straight to the CSMS where the scenario says)
// and translated (a charger of the other version behind the gateway told to
// speak the CSMS's version), all sessions at once. Returns each run's facts
// as the observer reduced them and the comparison per pair and scenario.

import fs from 'node:fs';

import { VERSIONS, runOcppgw, startGateway } from '../lib/harness.mjs';
import { makeCharger } from './chargers.mjs';
import { compareFacts } from './compare.mjs';
import { operatorCall, startTwinCsms } from './csms.mjs';
import { FINDINGS } from './findings.mjs';
import { observe } from './observer.mjs';
import { SCENARIOS, at, layoutOf } from './scenarios.mjs';

export const PAIRS = VERSIONS.flatMap((c) => VERSIONS.filter((s) => s !== c).map((s) => `${c}-${s}`));
export const splitPair = (pair) => pair.split('-');
const OLD_PASSWORD = 'twin-old-password-0001';

export const scenarioFits = (scenario, pair) => (!scenario.pairs || scenario.pairs.includes(pair)) &&
  splitPair(pair).every((v) => !scenario.versions || scenario.versions.includes(v));

// TWIN_PAIR (e.g. "1.6-2.0.1", comma-separated) and TWIN_CASE (scenario ids
// or "finding-N", comma-separated) narrow the run.
export function selection(env = process.env) {
  const list = (s) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : null);
  const pairs = list(env.TWIN_PAIR) ?? PAIRS;
  for (const p of pairs) if (!PAIRS.includes(p)) throw new Error(`TWIN_PAIR: unknown pair ${p} (${PAIRS.join(', ')})`);
  const cases = list(env.TWIN_CASE);
  let findings = FINDINGS;
  let scenarios = SCENARIOS;
  if (cases) {
    const ids = new Set();
    findings = FINDINGS.filter((f) => cases.includes(`finding-${f.n}`) || cases.includes(String(f.n)));
    for (const f of findings) ids.add(f.scenario);
    for (const c of cases) if (SCENARIOS.some((s) => s.id === c)) ids.add(c);
    if (!ids.size) throw new Error(`TWIN_CASE: nothing matches ${cases.join(',')}`);
    scenarios = SCENARIOS.filter((s) => ids.has(s.id));
    if (!cases.some((c) => /^(finding-)?\d+$/.test(c))) findings = FINDINGS.filter((f) => ids.has(f.scenario));
  }
  findings = findings.filter((f) => f.pairs.some((p) => pairs.includes(p)));
  return { pairs, scenarios, findings };
}

const short = (v) => v.replace(/\./g, '');
const identityOf = (scenario, charger, csms, mode) => `tw-${scenario.id}-${short(charger)}-${short(csms)}-${mode[0]}`;

function plan(pairs, scenarios) {
  const runs = [];
  for (const scenario of scenarios) {
    const fitting = pairs.filter((p) => scenarioFits(scenario, p));
    for (const csmsVersion of new Set(fitting.map((p) => splitPair(p)[1]))) {
      runs.push({ scenario, mode: 'native', chargerVersion: csmsVersion, csmsVersion,
        identity: identityOf(scenario, csmsVersion, csmsVersion, 'native') });
    }
    for (const pair of fitting) {
      const [chargerVersion, csmsVersion] = splitPair(pair);
      runs.push({ scenario, mode: 'translated', pair, chargerVersion, csmsVersion,
        identity: identityOf(scenario, chargerVersion, csmsVersion, 'translated') });
    }
  }
  return runs;
}

async function gatewayConfig(runs, csmsUrl) {
  const hash = (await runOcppgw(['passwd'], { input: `${OLD_PASSWORD}\n` })).stdout.trim();
  const entries = runs.filter((r) => !(r.mode === 'native' && r.scenario.native === 'direct')).map((r) => {
    const fields = [`id = "${r.identity}";`];
    if (r.mode === 'translated') fields.push(`upstream_ocpp = "${r.csmsVersion}";`);
    if (r.scenario.id === 'credentials') {
      fields.push(`password_hash = "${hash}";`, `upstream_password = "${OLD_PASSWORD}";`);
    }
    return `  { ${fields.join(' ')} }`;
  });
  return `csms = { url = "${csmsUrl}"; reconnect_min = 0.2; reconnect_max = 1.0; ping_interval = 0; };
ocpp = { response_timeout = 15.0; max_pending_calls = 64; };
offline = { retry_interval = 1; };
chargers = (
${entries.join(',\n')}
);
`;
}

// At most `n` sessions connecting and booting at once: a burst of 150
// handshakes left half the gateway's upstream legs connecting forever
// (reported with the harness), and a real site does not boot all at once.
function gate(n) {
  let free = n;
  const waiting = [];
  return {
    async enter() {
      if (free > 0) { free--; return; }
      await new Promise((r) => waiting.push(r));
    },
    leave() {
      const next = waiting.shift();
      if (next) next(); else free++;
    },
  };
}

async function play(run, { gw, csms, boot }) {
  const { scenario, identity } = run;
  const layout = layoutOf(scenario);
  const direct = run.mode === 'native' && scenario.native === 'direct';
  const charger = makeCharger({ version: run.chargerVersion, identity, scenario, layout,
    endpoint: direct ? csms.url : gw.endpoint,
    password: scenario.id === 'credentials' ? OLD_PASSWORD : undefined });
  run.charger = charger;
  const peer = csms.peer(identity);
  try {
    await boot.enter();
    try {
      await charger.connect();
      await charger.boot(false);
    } finally {
      boot.leave();
    }
    for (const step of scenario.steps) {
      charger.clock = at(step.at);
      if (step.do === 'offline' || step.do === 'online') {
        await csms.quiet(identity);
        await csms.setOffline(identity, step.do === 'offline');
        if (step.do === 'online') await csms.quiet(identity, 1000, 15000);
        continue;
      }
      const loc = layout.find((l) => l.conn === (step.conn ?? 1));
      await csms.quiet(identity);
      const call = operatorCall(run.csmsVersion, step, loc, peer.log);
      if (call) await csms.call(identity, ...call);
      else await charger.play(step).catch((err) => charger.problems.push(`${step.do}: ${err.message}`));
      await charger.settle();
    }
    await csms.quiet(identity, 500, 10000);
  } catch (err) {
    charger.problems.push(`run: ${err.message}`);
  }
}

export async function runTwin({ pairs, scenarios }) {
  const started = Date.now();
  const csms = await startTwinCsms();
  const runs = plan(pairs, scenarios);
  let gw;
  let gatewayExit = null;
  try {
    gw = await startGateway({ config: await gatewayConfig(runs, csms.url) });
    const boot = gate(Number(process.env.TWIN_BOOT_PARALLEL ?? 8));
    await Promise.all(runs.map((r) => play(r, { gw, csms, boot })));
    for (const r of runs) {
      const peer = csms.peer(r.identity);
      r.facts = observe(r.csmsVersion, peer.log);
      r.chargerProblems = r.charger.problems;
      r.csmsProblems = peer.problems;
      r.connections = peer.log.filter((e) => e.conn).length;
    }
  } finally {
    await Promise.all(runs.map((r) => r.charger?.close()));
    // TWIN_GATEWAY_LOG=FILE keeps the gateway's log (it runs with -v).
    if (gw && process.env.TWIN_GATEWAY_LOG) fs.writeFileSync(process.env.TWIN_GATEWAY_LOG, gw.stderr);
    try {
      if (gw) gatewayExit = await gw.stop();
    } finally {
      await csms.close();
    }
  }
  const native = (scenario, csmsVersion) => runs.find((r) => r.mode === 'native' &&
    r.scenario === scenario && r.csmsVersion === csmsVersion);
  const comparisons = runs.filter((r) => r.mode === 'translated').map((r) => {
    const n = native(r.scenario, r.csmsVersion);
    return { pair: r.pair, scenario: r.scenario.id, native: n, translated: r,
      ...compareFacts(n.facts, r.facts, { pair: r.pair, scenario: r.scenario.id }) };
  });
  return { runs, comparisons, gatewayExit, seconds: (Date.now() - started) / 1000,
    native, translated: (pair, id) => comparisons.find((c) => c.pair === pair && c.scenario === id) };
}

// What a native run must show whatever the pair: the harness is right only
// if a charger of the CSMS's own version leads it to clean facts.
export function nativeProblems(run) {
  const f = run.facts;
  const out = [...run.chargerProblems, ...run.csmsProblems];
  if (f.errorsSent.length) out.push(`CSMS sent CALLERRORs: ${f.errorsSent.join(', ')}`);
  if (f.orphanMessages) out.push(`${f.orphanMessages} messages for unknown transactions`);
  if (run.scenario.steps.some((s) => s.do === 'offline') && run.connections < 2) {
    out.push('the CSMS was never unreachable: one connection only');
  }
  const sessions = run.scenario.steps.some((s) => s.do === 'plug') ? 1 : 0;
  if (f.transactions !== sessions) out.push(`${f.transactions} transactions, expected ${sessions}`);
  for (let i = 1; i <= f.transactions; i++) {
    if (f[`tx${i}.stop.time`] == null) out.push(`tx${i} never stopped`);
    if (f[`tx${i}.seqNo`] && f[`tx${i}.seqNo`] !== 'in order') out.push(`tx${i} seqNo ${f[`tx${i}.seqNo`]}`);
    if (f[`tx${i}.stops`] > 1) out.push(`tx${i} stopped ${f[`tx${i}.stops`]} times`);
  }
  return out;
}
