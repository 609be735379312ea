// SPDX-License-Identifier: MIT
//
// The findings of issue 20 as named cases of the twin harness: each names
// the scenario and pairs that show it and asserts what the CSMS concludes
// from the translated session (t), against the native one (n) where the
// native charger is the measure. `cmp` is the pair's comparison; noDiff()
// asserts that no fact matching a pattern differs without a rule.

import assert from 'node:assert/strict';

import { formatDiff } from './compare.mjs';

const FROM_16 = ['1.6-2.0.1', '1.6-2.1'];
const TO_16 = ['2.0.1-1.6', '2.1-1.6'];
const WITH_16 = [...FROM_16, ...TO_16];
const NEW_PASSWORD = '0123456789ABCDEF0123456789ABCDEF01234567';

function noDiff(cmp, pattern) {
  const d = cmp.different.filter((x) => pattern.test(x.key));
  assert.equal(d.length, 0, `facts differ:\n${formatDiff(d)}`);
}

const same = (n, t, key) => assert.deepEqual(t[key], n[key], `${key}: translated ${JSON.stringify(t[key])}, ` +
  `native ${JSON.stringify(n[key])}`);

export const FINDINGS = [
  { n: 1, scenario: 'remote-start', pairs: TO_16,
    title: 'a remote-started session reaches the 1.6 CSMS as StartTransaction and StopTransaction',
    check: (n, t) => {
      assert.equal(t.transactions, 1, 'the 1.6 CSMS saw no transaction');
      assert.equal(t['tx1.remoteStart'], true, 'not tied to the CSMS\'s remote start');
      for (const k of ['tx1.token', 'tx1.start.energy', 'tx1.stop.energy', 'tx1.stop.time', 'tx1.stop.reason']) same(n, t, k);
    } },
  { n: 2, scenario: 'local-stop', pairs: TO_16,
    title: 'status timeline: no Preparing inside the transaction, Finishing after a stop with the cable in',
    check: (n, t) => {
      const s = t['status.c1'] ?? [];
      const inside = s.slice(s.indexOf('tx-start'), s.indexOf('tx-stop'));
      assert.ok(!inside.includes('Preparing'), `Preparing inside the transaction: ${s.join(', ')}`);
      assert.ok(inside.includes('Charging'), `never Charging: ${s.join(', ')}`);
      assert.equal(s[s.indexOf('tx-stop') + 1], 'Finishing', `no Finishing after the stop: ${s.join(', ')}`);
      same(n, t, 'status.c1');
    } },
  { n: 2, scenario: 'remote-after-plug', pairs: TO_16,
    title: 'status timeline of a plug-first session started remotely',
    check: (n, t) => same(n, t, 'status.c1') },
  { n: 3, scenario: 'no-start-reading', pairs: TO_16,
    title: 'meterStart is the last known register when Started has none, never 0',
    check: (n, t) => {
      assert.notEqual(t['tx1.start.energy'], 0, 'meterStart 0');
      same(n, t, 'tx1.start.energy');
      same(n, t, 'tx1.stop.energy');
    } },
  { n: 4, scenario: 'configuration', pairs: FROM_16,
    title: 'TxEndedInterval=0 and TxStartedMeasurands leave the periodic sampling settings alone',
    check: (n, t) => {
      same(n, t, 'config.2.SampledDataCtrlr.TxUpdatedInterval');
      same(n, t, 'config.2.SampledDataCtrlr.TxUpdatedMeasurands');
    } },
  { n: 5, scenario: 'smart-charging', pairs: TO_16,
    title: 'a 1.6 TxProfile without transactionId is accepted by a 2.x station (id filled in)',
    check: (n, t) => same(n, t, 'answer.SetChargingProfile#1') },
  { n: 6, scenario: 'plug-and-charge', pairs: WITH_16,
    title: 'Plug & Charge Authorize keeps the eMAID and its certificate hashes both ways',
    check: (n, t) => { same(n, t, 'authorizations'); same(n, t, 'tx1.token'); } },
  { n: 7, scenario: 'faults', pairs: WITH_16,
    title: 'a fault is raised with its code and cleared',
    check: (n, t, cmp) => noDiff(cmp, /^(faults|status)\./) },
  { n: 7, scenario: 'multi-connector', pairs: WITH_16,
    title: 'the connectors of a two-connector EVSE stay apart',
    check: (n, t, cmp) => noDiff(cmp, /^(faults|status)\.|\.evse$|\.connector$/) },
  { n: 8, scenario: 'remote-start', pairs: FROM_16,
    title: 'the token type the CSMS gave in a remote start is kept',
    check: (n, t) => assert.equal(t['tx1.token'], n['tx1.token']) },
  { n: 9, scenario: 'signed', pairs: WITH_16,
    title: 'signed meter values keep their reading, data and method',
    check: (n, t, cmp) => {
      assert.notEqual(t['tx1.start.energy'], '0 Wh');
      noDiff(cmp, /signed|Transaction\.(Begin|End)|\.energy$/);
    } },
  { n: 10, scenario: 'reset', pairs: WITH_16,
    title: 'a graceful reset now stops the session now, answered as the CSMS asked',
    check: (n, t) => {
      same(n, t, 'answer.Reset#1');
      same(n, t, 'tx1.stop.time');
      if (n['tx1.stop.reason'] !== 'SoftReset') same(n, t, 'tx1.stop.reason');
      else assert.ok(['SoftReset', 'HardReset'].includes(t['tx1.stop.reason']), t['tx1.stop.reason']);
    } },
  { n: 11, scenario: 'configuration', pairs: TO_16,
    title: 'GetConfiguration lists NumberOfConnectors, SupportedFeatureProfiles, ConnectorPhaseRotation',
    check: (n, t) => {
      for (const key of ['NumberOfConnectors', 'SupportedFeatureProfiles', 'ConnectorPhaseRotation']) {
        same(n, t, `config.1.${key}`);
      }
    } },
  { n: 12, scenario: 'smart-charging', pairs: FROM_16,
    title: 'GetChargingProfiles: the TxProfile is gone after its transaction',
    check: (n, t, cmp) => {
      same(n, t, 'profiles@230');
      // during it: the profile as the native one, but for per-phase limits a
      // 1.6 charger can only hold as the tightest (rule tightest-phase-limit-16)
      if (!cmp.underRule.some((u) => u.key === 'profiles@180' && u.rule === 'tightest-phase-limit-16')) {
        same(n, t, 'profiles@180');
      }
    } },
  { n: 13, scenario: 'smart-charging', pairs: ['2.0.1-2.1'],
    title: 'per-phase limits of a 2.1 CSMS never overload a phase of a 2.0.1 station',
    check: (n, t, cmp) => noDiff(cmp, /^profiles@/) },
  { n: 13, scenario: 'cost-limit', pairs: ['2.1-2.0.1'],
    title: 'a cost-limit stop does not reach a 2.0.1 CSMS as Deauthorized',
    check: (n, t) => {
      assert.notEqual(t['tx1.stop.trigger'], 'Deauthorized');
      same(n, t, 'tx1.stop.trigger');
      same(n, t, 'tx1.stop.reason');
    } },
  { n: 14, scenario: 'credentials', pairs: [...WITH_16, '2.0.1-2.1', '2.1-2.0.1'],
    title: 'a password the CSMS set is the one the charger connects with afterwards',
    check: (n, t) => {
      assert.equal(n['auth.heartbeatPassword'], NEW_PASSWORD, 'native run: the harness is wrong');
      same(n, t, 'auth.heartbeatPassword');
    } },
  { n: 15, scenario: 'duplicate-end', pairs: TO_16,
    title: 'a repeated TransactionEvent Ended is one StopTransaction',
    check: (n, t) => {
      assert.equal(t.transactions, 1, 'the repeat became another transaction');
      assert.equal(t['tx1.stops'], 1);
    } },
  { n: 16, scenario: 'local-stop', pairs: FROM_16,
    title: 'Ended carries the idToken when the driver\'s token stopped it',
    check: (n, t) => same(n, t, 'tx1.stop.token') },
  { n: 16, scenario: 'remote-start', pairs: FROM_16,
    title: 'Ended carries no idToken after a remote stop',
    check: (n, t) => assert.equal(t['tx1.stop.token'], null) },
  { n: 16, scenario: 'stop-tag-always', pairs: FROM_16,
    title: 'a remote stop is no token stop, even when the 1.6 charger names the idTag',
    check: (n, t) => assert.equal(t['tx1.stop.token'], null) },
  { n: 17, scenario: 'local-stop', pairs: FROM_16,
    title: 'Ended says EVConnected when the EV is still plugged',
    check: (n, t) => assert.equal(t['tx1.stop.chargingState'], 'EVConnected') },
  { n: 17, scenario: 'remote-after-plug', pairs: FROM_16,
    title: 'Ended says Idle when the EV left',
    check: (n, t) => assert.equal(t['tx1.stop.chargingState'], 'Idle') },
  { n: 18, scenario: 'plain-tag', pairs: FROM_16,
    title: 'a non-hex idTag is not typed ISO14443 and meets no CALLERROR',
    check: (n, t, cmp, run) => {
      assert.deepEqual(t.errorsSent, []);
      assert.doesNotMatch(String(t['tx1.token']), /ISO14443/);
      assert.deepEqual(run.chargerProblems, [], 'the 1.6 charger got errors');
    } },
  { n: 19, scenario: 'remote-after-plug', pairs: FROM_16,
    title: 'RequestStartTransaction names the transaction that already runs',
    check: (n, t) => same(n, t, 'answer.RequestStartTransaction#1.transaction') },
];
