// SPDX-License-Identifier: MIT
//
// A CSMS changes a charger's password (issue 20, finding 14): 1.6
// ChangeConfiguration AuthorizationKey or 2.x SetVariables
// SecurityCtrlr.BasicAuthPassword. Once the charger accepts, it must get
// back in with the new password (the gateway's own record follows), a wrong
// one stays out, and the password the gateway gives the CSMS for that
// charger switches too. Natively in 1.6 and 2.0.1, and translated (a 1.6
// charger behind a 2.0.1 CSMS), all with strict peers; over plain ws, and
// with security profile 2 on both legs (wss:// with the openssl CA of
// lib/tls.mjs, the charger verifying the gateway, the gateway the CSMS).

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { connectCharger, isoNow, startCsms, startGateway, stopAll, subprotocol, waitFor } from './lib/harness.mjs';
import { connectTlsCharger, gatewayConfig, makePki, passwordHash, startTlsCsms } from './lib/tls.mjs';

const pki = makePki();
after(() => pki.remove());

const OLD = 'Initial-Secret-0001';
const NEW = 'Rotated-Secret-0002';
const hex = (s) => Buffer.from(s, 'utf8').toString('hex');

// A gateway between a `csmsVersion` CSMS and one configured charger whose
// password is OLD, also given upstream as OLD; with @tls, wss:// on both
// legs (profile 2), else ws:// (profile 1 with a password). t.connect opens
// a charger the same way.
async function setup(identity, chargerVersion, csmsVersion, tls) {
  const csms = tls ? await startTlsCsms(pki) : await startCsms({ protocols: [subprotocol(csmsVersion)] });
  csms.responders.BootNotification = { currentTime: isoNow(), interval: 300, status: 'Accepted' };
  const chargers = [{ id: identity, passwordHash: await passwordHash(OLD), upstreamPassword: OLD }];
  const gw = await startGateway({
    csmsUrl: tls ? csms.wssUrl : csms.url,
    config: tls
      ? gatewayConfig({ tls: { cert: pki.server.cert, key: pki.server.key }, csms: { ca: pki.ca.cert }, chargers })
      : gatewayConfig({ csms: {}, chargers }),
    args: ['--upstream-ocpp', csmsVersion],
  });
  const connect = (id, version, opts) => (tls
    ? connectTlsCharger(gw, id, version, { ca: pki.ca.pem, ...opts })
    : connectCharger(gw, id, version, opts));
  const charger = await connect(identity, chargerVersion, { password: OLD });
  const upstream = await csms.waitClient(identity);
  return { csms, gw, charger, upstream, connect };
}

// The password the CSMS saw on the last handshake of `identity`.
const lastUpstreamPassword = (csms, identity) =>
  csms.handshakes.filter((h) => h.identity === identity).at(-1)?.password;

// After the change: the charger comes back with `chargerPassword`, a wrong
// password stays out, and once the CSMS drops the upstream leg the gateway
// reconnects it with `upstreamPassword`.
async function assertSwitched(t, identity, version, chargerPassword, upstreamPassword) {
  await t.charger.close();
  await assert.rejects(t.connect(identity, version, { password: 'Wrong-Secret-00000' }),
    (err) => /401/.test(String(err.message)) || err.code === 401);
  t.charger = await t.connect(identity, version, { password: chargerPassword });
  const before = t.csms.handshakes.length;
  const up = await t.csms.waitClient(identity);
  await up.close({ code: 1000, force: true });
  await waitFor(() => t.csms.handshakes.slice(before).some((h) => h.identity === identity &&
    h.password === upstreamPassword), 15000, `the upstream leg of ${identity} with the new password`);
  assert.equal(lastUpstreamPassword(t.csms, identity), upstreamPassword);
}

for (const tls of [false, true]) {
  const sfx = tls ? 'S' : '';
  describe(`a password the CSMS changes${tls ? ', profile 2 on both legs (wss://)' : ''}`, { timeout: 90000 }, () => {
    const pairs = [];
    after(async () => {
      for (const t of pairs) await stopAll({ clients: [t.charger], gw: t.gw, csms: t.csms });
    });

    it('native 1.6: ChangeConfiguration AuthorizationKey', async () => {
      const id = `PWN16${sfx}`;
      const t = await setup(id, '1.6', '1.6', tls);
      pairs.push(t);
      assert.equal(lastUpstreamPassword(t.csms, id), OLD);
      t.charger.handle('ChangeConfiguration', () => ({ status: 'Accepted' }));
      const res = await t.upstream.call('ChangeConfiguration', { key: 'AuthorizationKey', value: hex(NEW) });
      assert.equal(res.status, 'Accepted');
      // the charger sends its key as the bytes themselves
      await assertSwitched(t, id, '1.6', NEW, hex(NEW));
    });

    it('native 2.0.1: SetVariables BasicAuthPassword', async () => {
      const id = `PWN201${sfx}`;
      const t = await setup(id, '2.0.1', '2.0.1', tls);
      pairs.push(t);
      t.charger.handle('SetVariables', ({ params }) => ({
        setVariableResult: params.setVariableData.map((d) => ({ attributeStatus: 'Accepted',
          component: d.component, variable: d.variable })) }));
      const res = await t.upstream.call('SetVariables', { setVariableData: [{
        component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' }, attributeValue: NEW }] });
      assert.equal(res.setVariableResult[0].attributeStatus, 'Accepted');
      await assertSwitched(t, id, '2.0.1', NEW, NEW);
    });

    it('translated: a 2.0.1 CSMS sets a 1.6 charger\'s password', async () => {
      const id = `PWT16${sfx}`;
      const t = await setup(id, '1.6', '2.0.1', tls);
      pairs.push(t);
      let got;
      t.charger.handle('ChangeConfiguration', ({ params }) => { got = params; return { status: 'Accepted' }; });
      const res = await t.upstream.call('SetVariables', { setVariableData: [{
        component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' }, attributeValue: NEW }] });
      assert.equal(res.setVariableResult[0].attributeStatus, 'Accepted');
      assert.deepEqual(got, { key: 'AuthorizationKey', value: hex(NEW) });
      // the 1.6 charger uses the key's hex; the 2.0.1 CSMS expects the text
      await assertSwitched(t, id, '1.6', hex(NEW), NEW);
    });

    it('a refused change changes nothing', async () => {
      const id = `PWR16${sfx}`;
      const t = await setup(id, '1.6', '1.6', tls);
      pairs.push(t);
      t.charger.handle('ChangeConfiguration', () => ({ status: 'Rejected' }));
      const res = await t.upstream.call('ChangeConfiguration', { key: 'AuthorizationKey', value: hex(NEW) });
      assert.equal(res.status, 'Rejected');
      await t.charger.close();
      await assert.rejects(t.connect(id, '1.6', { password: NEW }));
      t.charger = await t.connect(id, '1.6', { password: OLD });
    });
  });
}
