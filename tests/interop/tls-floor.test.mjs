// SPDX-License-Identifier: MIT
//
// The TLS floor on both legs of the real ocppgw (issue 14, deliver 3): TLS
// 1.2 or later and only the TLS 1.2 suites the OCPP security specification
// lists. South: openssl s_client offering TLS 1.0, 1.1 or an unlisted suite
// is refused by the gateway, TLS 1.2 with a listed suite and TLS 1.3 are
// taken, and tls.min_version / tls.ciphers narrow that further. North: a
// CSMS that only speaks TLS 1.1, or only an unlisted suite, is refused and
// the log says why; `ocppgw bridge` refuses such a CSMS too, and the MQTT
// uplink such a broker. --check-config refuses a floor below 1.2 and unlisted
// suite names with file:line. Each refusal has a control: the same client
// (or CSMS) succeeds against a peer without the floor, so the refusal is
// the gateway's and not this machine's OpenSSL defaults.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, describe, it } from 'node:test';

import {
  closeClient, connectCharger, freePort, runOcppgw, startCsms, startGateway, stopAll, tmpDir,
  waitFor,
} from './lib/harness.mjs';
import { startBridge, startBroker } from './lib/mosquitto.mjs';
import { chargerToCsms } from './lib/payloads.mjs';
import { connectTlsCharger, gatewayConfig, makePki, startTlsCsms } from './lib/tls.mjs';

const pki = makePki();
after(() => pki.remove());
const dir = tmpDir('ocppgw-tls-floor-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// SECLEVEL=0 lets this machine's OpenSSL offer what its defaults forbid,
// so that whatever refuses it is the peer.
const LEGACY = 'DEFAULT@SECLEVEL=0';

// openssl s_client against 127.0.0.1:@port with @args; resolves to
// {ok, protocol, cipher, text}: ok when a handshake completed.
function sClient(port, args) {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`,
      '-CAfile', pki.ca.cert, '-servername', 'localhost', ...args],
    { timeout: 10000 }, (err, stdout, stderr) => {
      const text = `${stdout}\n${stderr}`;
      const m = /New, (\S+), Cipher is (\S+)/.exec(text);
      resolve({ ok: !!m && m[1] !== '(NONE),' && m[2] !== '(NONE)', protocol: m?.[1]?.replace(/,$/, ''),
        cipher: m?.[2], text });
    });
    child.stdin.end('');
  });
}

// A bare TLS server with @pki's certificate and @opts (min/maxVersion,
// ciphers): the control peer, with no floor of its own.
async function plainTlsServer(opts) {
  const server = tls.createServer({ cert: pki.server.pem.cert, key: pki.server.pem.key, ...opts },
    (sock) => sock.end());
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

async function withGateway(tlsExtra, fn) {
  const config = gatewayConfig({ tls: { cert: pki.server.cert, key: pki.server.key } })
    .replace('};', `${tlsExtra}};`);
  const gw = await startGateway({ config });
  try {
    await fn(gw);
  } finally {
    await stopAll({ gw });
  }
}

describe('south: the charger listener', { timeout: 120000 }, () => {
  it('refuses TLS 1.0, TLS 1.1 and unlisted suites; takes TLS 1.2 with a listed suite and TLS 1.3', async () => {
    const offers = {
      tls10: ['-tls1', '-cipher', LEGACY],
      tls11: ['-tls1_1', '-cipher', LEGACY],
      // no ECDHE, CBC and SHA-1; ECDHE but CBC and SHA-1; ECDHE with ChaCha20
      aes128sha: ['-tls1_2', '-cipher', `AES128-SHA:@SECLEVEL=0`],
      ecdheCbc: ['-tls1_2', '-cipher', `ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0`],
      chacha: ['-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
    };
    // Control: a server without a floor takes every offer but AES128-SHA
    // (its certificate is ECDSA, so a suite with RSA authentication cannot
    // be agreed by anyone: the gateway's refusal of it is tested anyway).
    const control = await plainTlsServer({ minVersion: 'TLSv1', ciphers: LEGACY });
    try {
      for (const [name, args] of Object.entries(offers)) {
        if (name === 'aes128sha') continue;
        const r = await sClient(control.address().port, args);
        assert.ok(r.ok, `control server refused ${name}:\n${r.text}`);
      }
    } finally {
      control.close();
    }
    await withGateway('', async (gw) => {
      assert.match(gw.stderr, /listening on 127\.0\.0\.1:\d+ \(wss, TLS 1\.2 or later, profiles 2,3\)/);
      for (const [name, args] of Object.entries(offers)) {
        const r = await sClient(gw.port, args);
        assert.ok(!r.ok, `gateway took ${name}: ${r.protocol} ${r.cipher}`);
        const alert = name.startsWith('tls1') ? 'protocol version' : 'handshake failure';
        assert.match(r.text, new RegExp(`alert ${alert}`), `${name}:\n${r.text}`);
      }
      // each refusal is in the log, with why and from where
      await waitFor(() => (gw.stderr.match(/\[south\] TLS handshake with the charger at 127\.0\.0\.1:\d+ failed: alert "protocol version" sent/g) || []).length >= 2
        && (gw.stderr.match(/\[south\] TLS handshake with the charger at 127\.0\.0\.1:\d+ failed: alert "handshake failure" sent/g) || []).length >= 3,
      5000, 'five refusals in the log');
      for (const suite of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384']) {
        const r = await sClient(gw.port, ['-tls1_2', '-cipher', suite]);
        assert.deepEqual([r.ok, r.protocol, r.cipher], [true, 'TLSv1.2', suite], r.text);
      }
      const r13 = await sClient(gw.port, ['-tls1_3']);
      assert.deepEqual([r13.ok, r13.protocol], [true, 'TLSv1.3'], r13.text);
      // Offered everything, the gateway picks forward secrecy and AES-GCM.
      const any = await sClient(gw.port, ['-tls1_2', '-cipher', LEGACY]);
      assert.equal(any.cipher, 'ECDHE-ECDSA-AES256-GCM-SHA384', any.text);
    });
  });

  it('a charger over TLS 1.2 with a listed suite boots through the gateway', async () => {
    const csms = await startCsms();
    const config = gatewayConfig({ tls: { cert: pki.server.cert, key: pki.server.key } });
    const gw = await startGateway({ config, csmsUrl: csms.url });
    let client;
    try {
      client = await connectTlsCharger(gw, 'FLOOR12', '2.0.1', {
        ca: pki.ca.pem, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
      });
      const sock = client._ws._socket;
      assert.deepEqual([sock.getProtocol(), sock.getCipher().standardName],
        ['TLSv1.2', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256']);
      const [boot] = chargerToCsms('2.0.1');
      csms.responders.BootNotification = boot.response;
      assert.deepEqual(await client.call('BootNotification', boot.request), boot.response);
      await waitFor(() => csms.callsOf('FLOOR12').some((c) => c.method === 'BootNotification'));
    } finally {
      await closeClient(client);
      await stopAll({ gw, csms });
    }
  });

  it('tls.min_version = "1.3" refuses TLS 1.2; tls.ciphers narrows the 1.2 suites', async () => {
    await withGateway('  min_version = "1.3";\n', async (gw) => {
      assert.match(gw.stderr, /\(wss, TLS 1\.3 or later, profiles 2,3\)/);
      const r12 = await sClient(gw.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
      assert.ok(!r12.ok, r12.text);
      assert.match(r12.text, /alert protocol version/);
      const r13 = await sClient(gw.port, ['-tls1_3']);
      assert.equal(r13.protocol, 'TLSv1.3', r13.text);
    });
    // the IANA spelling, as the OCPP specification writes it
    await withGateway('  ciphers = [ "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" ];\n', async (gw) => {
      const r128 = await sClient(gw.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
      assert.ok(!r128.ok, r128.text);
      const r256 = await sClient(gw.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384']);
      assert.equal(r256.cipher, 'ECDHE-ECDSA-AES256-GCM-SHA384', r256.text);
    });
  });
});

const limitedCsms = (tlsOpts) => startTlsCsms(pki, pki.server, tlsOpts);

describe('north: the CSMS connection', { timeout: 120000 }, () => {
  const cases = [
    { name: 'a CSMS that only speaks TLS 1.1', tls: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: LEGACY },
      why: /\[north\] TLS handshake with the CSMS at 127\.0\.0\.1:\d+ failed: alert "protocol version" received/ },
    { name: 'a CSMS that only offers an unlisted suite', tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0' },
      why: /\[north\] TLS handshake with the CSMS at 127\.0\.0\.1:\d+ failed: alert "handshake failure" received/ },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, and the log says why`, async () => {
      const csms = await limitedCsms(c.tls);
      const config = gatewayConfig({ csms: { ca: pki.ca.cert } });
      const gw = await startGateway({ config, csmsUrl: csms.wssUrl });
      let client;
      try {
        client = await connectCharger(gw, 'NORTHFLOOR', '1.6');
        await waitFor(() => c.why.test(gw.stderr), 15000, `log line matching ${c.why}`);
        // The gateway's handshake reached the CSMS and failed there; no
        // WebSocket upgrade followed.
        assert.ok(csms.tlsErrors.length > 0);
        assert.equal(csms.handshakes.length, 0);
        // The charger is still answered, by the gateway in the CSMS's place.
        const [boot] = chargerToCsms('1.6');
        const res = await client.call('BootNotification', boot.request);
        assert.equal(res.status, 'Accepted');
        assert.equal(csms.callsOf('NORTHFLOOR').length, 0);
      } finally {
        await closeClient(client);
        await stopAll({ gw, csms });
      }
    });
  }

  it('control: a CSMS at TLS 1.2 with a listed suite is reached', async () => {
    const csms = await limitedCsms({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    const config = gatewayConfig({ csms: { ca: pki.ca.cert } });
    const gw = await startGateway({ config, csmsUrl: csms.wssUrl });
    let client;
    try {
      client = await connectCharger(gw, 'NORTH12', '1.6');
      const [boot] = chargerToCsms('1.6');
      csms.responders.BootNotification = boot.response;
      assert.deepEqual(await client.call('BootNotification', boot.request), boot.response);
      assert.ok(csms.callsOf('NORTH12').some((x) => x.method === 'BootNotification'));
    } finally {
      await closeClient(client);
      await stopAll({ gw, csms });
    }
  });

  it('csms.tls_min_version = "1.3" refuses a TLS 1.2 CSMS', async () => {
    const csms = await limitedCsms({ maxVersion: 'TLSv1.2' });
    const config = gatewayConfig({ csms: { ca: pki.ca.cert } })
      .replace('csms = {', 'csms = {\n  tls_min_version = "1.3";');
    const gw = await startGateway({ config, csmsUrl: csms.wssUrl });
    let client;
    try {
      client = await connectCharger(gw, 'NORTH13', '1.6');
      await waitFor(() => /\[north\] TLS handshake with the CSMS at 127\.0\.0\.1:\d+ failed: alert "protocol version" received/.test(gw.stderr),
        15000, 'the refusal in the log');
      assert.ok(csms.tlsErrors.length > 0);
      assert.equal(csms.handshakes.length, 0);
      assert.equal(csms.callsOf('NORTH13').length, 0);
    } finally {
      await closeClient(client);
      await stopAll({ gw, csms });
    }
  });
});

describe('--check-config', { timeout: 60000 }, () => {
  let n = 0;
  const conf = (text) => {
    const file = path.join(dir, `c${++n}.conf`);
    fs.writeFileSync(file, text);
    return file;
  };
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('refuses a floor below TLS 1.2 and unlisted suites, each with file:line', async () => {
    const f = conf(['tls = {', '  min_version = "1.1";', '  ciphers = "AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256";',
      '};', 'csms = {', '  tls_min_version = "1.0";', '  ciphers = [ "TLS_RSA_WITH_3DES_EDE_CBC_SHA" ];',
      '};', ''].join('\n'));
    const r = await runOcppgw(['-c', f, '--check-config']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${esc(f)}:2: tls\\.min_version: TLS 1\\.1 is below the floor of 1\\.2`));
    assert.match(r.stderr, new RegExp(`${esc(f)}:3: tls\\.ciphers: 'AES128-SHA' is not a TLS 1\\.2 suite`));
    assert.match(r.stderr, new RegExp(`${esc(f)}:6: csms\\.tls_min_version: TLS 1\\.0 is below the floor`));
    assert.match(r.stderr, new RegExp(`${esc(f)}:7: csms\\.ciphers: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA' is not`));
    assert.doesNotMatch(r.stderr, /ECDHE-RSA-AES128-GCM-SHA256/);
  });

  it('takes 1.2, 1.3 and every listed suite in either spelling', async () => {
    const f = conf(['tls = {', '  min_version = "1.3";',
      '  ciphers = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:ECDHE-RSA-AES256-GCM-SHA384, AES128-GCM-SHA256";',
      '};', 'csms = {', '  tls_min_version = "1.2";',
      '  ciphers = [ "TLS_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384" ];', '};', ''].join('\n'));
    const r = await runOcppgw(['-c', f, '--check-config']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('refuses a version that is no TLS version and an empty suite list', async () => {
    const f = conf('tls = {\n  min_version = "TLSv1.2";\n  ciphers = "";\n};\n');
    const r = await runOcppgw(['-c', f, '--check-config']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${esc(f)}:2: tls\\.min_version: expected "1\\.2" or "1\\.3"`));
    assert.match(r.stderr, new RegExp(`${esc(f)}:3: tls\\.ciphers: names no suite`));
  });
});

// `ocppgw bridge` holds the same floor on its WebSockets to the CSMS: a
// charger on a gateway whose uplink is MQTT reaches the CSMS only through
// the bridge, so what the CSMS sees is the bridge's handshake.
describe('bridge: the CSMS connection', { timeout: 120000 }, () => {
  const SITE = 'floor';
  const cases = [
    { name: 'refuses a CSMS that only speaks TLS 1.1', reached: false,
      tls: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: LEGACY } },
    { name: 'refuses a CSMS that only offers an unlisted suite', reached: false,
      tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0' } },
    { name: 'control: reaches a CSMS at TLS 1.2 with a listed suite', reached: true,
      tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const broker = await startBroker();
      const csms = await limitedCsms(c.tls);
      const conf = path.join(dir, `bridge-${SITE}-${cases.indexOf(c)}.conf`);
      fs.writeFileSync(conf, gatewayConfig({ csms: { ca: pki.ca.cert } }));
      let bridge;
      let gw;
      let client;
      try {
        bridge = await startBridge({ mqtt: broker.url(SITE), csms: csms.wssUrl, args: ['-c', conf] });
        gw = await startGateway({ csmsUrl: broker.url(SITE) });
        await waitFor(() => /mqtt: connected to/.test(gw.stderr), 5000, 'gateway on the broker');
        client = await connectCharger(gw, 'BRIDGEFLOOR', '2.0.1');
        if (c.reached) {
          await csms.waitClient('BRIDGEFLOOR', 15000);
          assert.equal(csms.tlsErrors.length, 0);
        } else {
          await waitFor(() => csms.tlsErrors.length >= 2, 15000, 'the bridge\'s refused handshakes');
          assert.equal(csms.handshakes.length, 0);
        }
      } finally {
        await closeClient(client);
        await stopAll({ gw, csms });
        if (bridge) assert.equal((await bridge.stop()).code, 0, 'bridge exit status');
        await broker.close();
      }
    });
  }
});

// The MQTT uplink (csms.url = mqtts://) takes the CSMS leg's floor: a
// TLS server standing in for the broker sees the gateway's handshake fail
// when it offers only TLS 1.1 or an unlisted suite, and complete otherwise.
describe('mqtts: the broker connection', { timeout: 60000 }, () => {
  const cases = [
    { name: 'refuses a broker that only speaks TLS 1.1', secure: false,
      tls: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: LEGACY } },
    { name: 'refuses a broker that only offers an unlisted suite', secure: false,
      tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0' } },
    { name: 'control: completes with a broker at TLS 1.2 with a listed suite', secure: true,
      tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const seen = { secure: 0, errors: [] };
      const server = tls.createServer({ cert: pki.server.pem.cert, key: pki.server.pem.key, ...c.tls },
        (sock) => { seen.secure++; sock.destroy(); });
      server.on('tlsClientError', (err) => seen.errors.push(err.code || err.message));
      const port = await freePort();
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      let gw;
      try {
        gw = await startGateway({ csmsUrl: `mqtts://127.0.0.1:${port}/floor`,
          config: `mqtt = { ca = ${JSON.stringify(pki.ca.cert)}; };\n` });
        if (c.secure) await waitFor(() => seen.secure > 0, 15000, 'a completed handshake');
        else {
          await waitFor(() => seen.errors.length > 0, 15000, 'a refused handshake');
          assert.equal(seen.secure, 0);
        }
      } finally {
        if (gw) await gw.stop();
        server.close();
      }
    });
  }
});
