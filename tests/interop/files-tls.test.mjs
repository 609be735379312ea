// SPDX-License-Identifier: MIT
//
// The gateway's file server over HTTPS (issue 16, Deliver 1: "HTTP, or
// HTTPS with the gateway's certificate"; docs/FILES.md): with files.cert
// and files.key set, chargers are given https:// locations, download the
// firmware and upload their logs over TLS with a certificate from an
// openssl-made CA, and the CSMS concludes Installed / Uploaded as over
// HTTP. A charger that does not trust the CA, a TLS 1.1 client and plain
// HTTP on the port get nothing, and the gateway carries on.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';

import {
  adminApi, connectCharger, freePort, isoNow, startCsms, startGateway, stopAll, waitFor,
} from './lib/harness.mjs';
import {
  firmwareCharger, logCharger, logHost, putFile, sha256, startFileHost,
} from './lib/files-peers.mjs';
import { makePki } from './lib/tls.mjs';

const FW = crypto.randomBytes(150000);
const LOG = crypto.randomBytes(80000);
const pki = makePki();

const statuses = (csms, id, method) => csms.callsOf(id).filter((c) => c.method === method)
  .map((c) => c.params.status);

describe('the file server over HTTPS', { timeout: 90000 }, () => {
  let host;
  let logs;
  let csms;
  let gw;
  let filePort;
  const chargers = {};
  const up = {};

  before(async () => {
    host = await startFileHost({ '/fw.bin': FW });
    logs = logHost(await freePort());
    await logs.listen();
    csms = await startCsms();
    filePort = await freePort();
    gw = await startGateway({
      csmsUrl: csms.url,
      config: `files = { listen = "127.0.0.1:${filePort}";\n` +
        `  cert = "${pki.server.cert}"; key = "${pki.server.key}"; idle_timeout = 3; };\n`,
    });
    for (const [id, version, ca] of [['HT16', '1.6', pki.ca.pem], ['HT201', '2.0.1', pki.ca.pem],
      ['HTNOCA', '2.0.1', null]]) {
      const opts = ca ? { ca } : {};
      chargers[id] = logCharger(firmwareCharger(await connectCharger(gw, id, version), version, opts),
        version, LOG, opts);
      up[id] = await csms.waitClient(id);
    }
  });
  after(async () => {
    await stopAll({ clients: Object.values(chargers), gw, csms });
    await host?.close();
    await logs?.close();
    pki.remove();
  });

  it('1.6 firmware: an https:// location on the gateway, the host\'s bytes, Installed at the CSMS', async () => {
    await up.HT16.call('UpdateFirmware', { location: `${host.base}/fw.bin`, retrieveDate: isoNow() });
    const rec = await waitFor(() => chargers.HT16.firmware.find((r) => r.done), 20000, 'the download');
    assert.ok(rec.location.startsWith(`https://127.0.0.1:${filePort}/f/`), rec.location);
    assert.equal(rec.error, undefined);
    assert.equal(rec.hash, sha256(FW));
    await waitFor(() => statuses(csms, 'HT16', 'FirmwareStatusNotification').includes('Installed'),
      10000, 'Installed');
    assert.match(gw.stderr, /file server on 127\.0\.0\.1:\d+ \(HTTPS\)/);
  });

  it('2.0.1 GetLog: the log goes up over HTTPS, the CSMS hears Uploaded once it is at its host', async () => {
    await up.HT201.call('GetLog', { logType: 'DiagnosticsLog', requestId: 5,
      log: { remoteLocation: `${logs.base}/in/` } });
    const rec = await waitFor(() => chargers.HT201.logs.find((r) => r.done), 20000, 'the upload');
    assert.ok(rec.location.startsWith(`https://127.0.0.1:${filePort}/u/`), rec.location);
    assert.equal(rec.error, undefined);
    await waitFor(() => statuses(csms, 'HT201', 'LogStatusNotification').includes('Uploaded'),
      10000, 'Uploaded');
    const got = logs.received.find((r) => r.url === '/in/');
    assert.ok(got, `the host got ${logs.received.map((r) => r.url)}`);
    assert.equal(sha256(got.body), sha256(LOG));
  });

  it('a charger that does not trust the certificate gets nothing, and says DownloadFailed', async () => {
    await up.HTNOCA.call('UpdateFirmware', { requestId: 9, firmware: {
      location: `${host.base}/fw.bin`, retrieveDateTime: isoNow() } });
    const rec = await waitFor(() => chargers.HTNOCA.firmware.find((r) => r.done), 20000,
      'the refused download');
    assert.match(rec.error, /certificate/i);
    await waitFor(() => statuses(csms, 'HTNOCA', 'FirmwareStatusNotification')
      .includes('DownloadFailed'), 10000, 'DownloadFailed');
  });

  it('TLS 1.1 and plain HTTP on the port are refused; the server goes on', async () => {
    const old = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${filePort}`, '-tls1_1',
      '-CAfile', pki.ca.cert], { input: '', timeout: 10000 });
    assert.notEqual(old.status, 0, 'a TLS 1.1 handshake must fail');
    const plain = await new Promise((resolve) => {
      const req = http.get(`http://127.0.0.1:${filePort}/f/x/y`, (res) => resolve(`HTTP ${res.statusCode}`));
      req.on('error', (err) => resolve(err.code || err.message));
      req.setTimeout(5000, () => { req.destroy(); resolve('timeout'); });
    });
    assert.doesNotMatch(plain, /^HTTP /, `plain HTTP got an answer: ${plain}`);
    await waitFor(() => /file server: TLS handshake failed/.test(gw.stderr), 5000, 'the log line');
    // and a trusting charger still downloads
    await up.HT16.call('UpdateFirmware', { location: `${host.base}/fw.bin`, retrieveDate: isoNow() });
    const rec = await waitFor(() => chargers.HT16.firmware.filter((r) => r.done).length === 2 &&
      chargers.HT16.firmware[1], 20000, 'a second download');
    assert.equal(rec.hash, sha256(FW));
  });

  it('a rollout of a file uploaded to the gateway: an https:// location, the uploaded bytes', async () => {
    const UP = crypto.randomBytes(90000);
    const put = await putFile(gw, 'tls-fw.bin', UP, {});
    assert.equal(put.status, 201, put.text);
    const r = await adminApi(gw, 'POST', '/api/firmware', { file: 'tls-fw.bin', chargers: ['HT201'] });
    assert.equal(r.status, 202, r.text);
    const g = await waitFor(async () => {
      const x = (await adminApi(gw, 'GET', '/api/firmware')).json;
      return x.state !== 'running' ? x : null;
    }, 20000, 'the rollout to end');
    assert.equal(g.state, 'done', JSON.stringify(g));
    const rec = chargers.HT201.firmware.at(-1);
    assert.match(rec.location, new RegExp(`^https://127\\.0\\.0\\.1:${filePort}/f/[0-9a-f]{32}/tls-fw\\.bin$`));
    assert.equal(rec.hash, sha256(UP));
  });
});
