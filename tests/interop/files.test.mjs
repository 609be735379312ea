// SPDX-License-Identifier: MIT
//
// Firmware through the gateway (docs/FILES.md): a CSMS's UpdateFirmware
// reaches the charger with the gateway's own file server as location; the
// gateway downloads the CSMS's URL once from a real file host started
// here, the charger downloads from the gateway, and the bytes are the
// host's. A failed download (unreachable host, unsupported scheme, over
// the cap, truncated) gives the CSMS one DownloadFailed and a log line,
// and the gateway goes on relaying.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  adminApi, connectCharger, freePort, isoNow, sleep, startCsms, startGateway, stopAll, tmpDir, waitFor,
  withTimeout,
} from './lib/harness.mjs';
import {
  bodyOf, firmwareCharger, haveFtpd, logCharger, logHost, putFile, rawAdmin, sha256, startFileHost,
  startFtpd, statusOf,
} from './lib/files-peers.mjs';

const FW = crypto.randomBytes(200000);
const SIGNED = crypto.randomBytes(50000);
const BIG = crypto.randomBytes(300000);
const CUT = crypto.randomBytes(100000);
const MAX_FILE = 262144;

async function setup(chargers, extraConfig = '') {
  const host = await startFileHost({
    '/fw.bin': FW, '/signed.bin': SIGNED, '/big.bin': BIG, '/shared.bin': FW,
    '/cut.bin': { body: CUT, truncateAt: 30000 },
  });
  const csms = await startCsms();
  const filePort = await freePort();
  const gw = await startGateway({
    csmsUrl: csms.url,
    config: `files = { listen = "127.0.0.1:${filePort}"; max_file_size = ${MAX_FILE};\n` +
      `  max_retry_interval = 1; upload_retry_interval = 1; idle_timeout = 2; };\n${extraConfig}`,
  });
  const clients = {};
  for (const [id, version] of chargers) clients[id] = firmwareCharger(await connectCharger(gw, id, version), version);
  const upstream = {};
  for (const [id] of chargers) upstream[id] = await csms.waitClient(id);
  return { host, csms, gw, clients, upstream, filePort };
}

const statuses = (csms, id) => csms.callsOf(id)
  .filter((c) => /FirmwareStatusNotification$/.test(c.method))
  .map((c) => c.params.status);

async function teardown(t) {
  await stopAll({ clients: Object.values(t.clients), gw: t.gw, csms: t.csms });
  await t.host.close();
}

describe('firmware through the gateway', { timeout: 120000 }, () => {
  let t;
  before(async () => {
    t = await setup([['FW16', '1.6'], ['FW201', '2.0.1'], ['FWT16', '1.6']],
      'groups = ( { name = "translated"; upstream_ocpp = "2.0.1"; chargers = [ "FWT16" ]; } );');
  });
  after(() => teardown(t));

  it('1.6: the charger gets the gateway\'s location and the host\'s bytes; the CSMS hears Downloaded', async () => {
    const url = `${t.host.base}/fw.bin`;
    await t.upstream.FW16.call('UpdateFirmware', { location: url, retrieveDate: isoNow() });
    const rec = await waitFor(() => t.clients.FW16.firmware.find((r) => r.done), 20000, 'charger download');
    assert.ok(rec.location.startsWith(`http://127.0.0.1:${t.filePort}/f/`), rec.location);
    assert.ok(!rec.location.includes(t.host.base), 'the CSMS host must not reach the charger');
    assert.equal(rec.error, undefined);
    assert.equal(rec.hash, sha256(FW));
    await waitFor(() => statuses(t.csms, 'FW16').includes('Downloaded'), 5000, 'Downloaded at the CSMS');
    assert.equal(t.host.count('/fw.bin'), 1);
  });

  it('2.0.1: signed firmware passes byte for byte, signature fields untouched', async () => {
    const firmware = {
      location: `${t.host.base}/signed.bin`, retrieveDateTime: isoNow(),
      signingCertificate: '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----',
      signature: Buffer.from('sig').toString('base64'),
    };
    const res = await t.upstream.FW201.call('UpdateFirmware', { requestId: 7, firmware });
    assert.equal(res.status, 'Accepted');
    const rec = await waitFor(() => t.clients.FW201.firmware.find((r) => r.done), 20000, 'charger download');
    assert.equal(rec.hash, sha256(SIGNED), 'signed firmware bytes changed');
    assert.equal(rec.params.firmware.signature, firmware.signature);
    assert.equal(rec.params.firmware.signingCertificate, firmware.signingCertificate);
    assert.equal(rec.params.requestId, 7);
    await waitFor(() => t.csms.callsOf('FW201').some((c) => c.method === 'FirmwareStatusNotification' &&
      c.params.status === 'Downloaded' && c.params.requestId === 7), 5000, 'Downloaded requestId 7');
  });

  it('2.0.1 CSMS, 1.6 charger (translated): the same, through the translator', async () => {
    await t.upstream.FWT16.call('UpdateFirmware', {
      requestId: 9, firmware: { location: `${t.host.base}/fw.bin?v=t`, retrieveDateTime: isoNow() },
    });
    const rec = await waitFor(() => t.clients.FWT16.firmware.find((r) => r.done), 20000, 'charger download');
    assert.ok(rec.location.startsWith(`http://127.0.0.1:${t.filePort}/f/`), rec.location);
    assert.equal(rec.hash, sha256(FW));
    await waitFor(() => t.csms.callsOf('FWT16').some((c) => c.method === 'FirmwareStatusNotification' &&
      c.params.status === 'Downloaded'), 5000, 'Downloaded at the 2.0.1 CSMS');
    assert.equal(t.host.count('/fw.bin?v=t'), 1);
  });

  it('a path the gateway never gave out is 404', async () => {
    const res = await fetch(`http://127.0.0.1:${t.filePort}/f/${'0'.repeat(32)}/fw.bin`);
    assert.equal(res.status, 404);
  });

  // The file server is a door chargers on the LAN reach: whatever arrives
  // gets a status line, and nothing else on the gateway stops.
  it('hostile requests get a status each; chargers carry on', async () => {
    const raw = (bytes) => new Promise((resolve, reject) => {
      const sock = net.connect(t.filePort, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => { got += d.toString('latin1'); });
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
      sock.write(bytes);
    });
    const status = (reply) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1]);
    // binary garbage with a header end: no path the gateway gave out
    assert.equal(status(await raw(Buffer.concat([crypto.randomBytes(200), Buffer.from('\r\n\r\n')]))), 404);
    // a head that never ends, past the 4 KiB the server reads
    assert.equal(status(await raw(`GET /f/${'a'.repeat(6000)} HTTP/1.1\r\n`)), 431);
    // a NUL inside the head hides its end: the same refusal
    assert.equal(status(await raw(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nX: \0'),
      Buffer.alloc(5000, 0x41), Buffer.from('\r\n\r\n')]))), 431);
    // an upload to a token never given out
    assert.equal(status(await raw(`PUT /u/${'0'.repeat(32)}/log.txt HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc`)), 404);
    const res = await fetch(`http://127.0.0.1:${t.filePort}/f/${'0'.repeat(32)}/fw.bin`);
    assert.equal(res.status, 404);
    const hb = await t.clients.FW16.call('Heartbeat', {});
    assert.ok(hb.currentTime);
  });
});

describe('ten chargers, one download', { timeout: 120000 }, () => {
  let t;
  const ids = Array.from({ length: 10 }, (_, i) => [`FWX${i}`, '1.6']);
  before(async () => { t = await setup(ids); });
  after(() => teardown(t));

  it('the host sees one request; every charger gets the bytes on its own path', async () => {
    const url = `${t.host.base}/shared.bin`;
    await Promise.all(ids.map(([id]) => t.upstream[id].call('UpdateFirmware',
      { location: url, retrieveDate: isoNow() })));
    const recs = await waitFor(() => {
      const r = ids.map(([id]) => t.clients[id].firmware.find((x) => x.done));
      return r.every(Boolean) ? r : null;
    }, 30000, 'ten downloads');
    for (const r of recs) assert.equal(r.hash, sha256(FW));
    assert.equal(new Set(recs.map((r) => r.location)).size, 10, 'each request gets its own path');
    assert.equal(t.host.count('/shared.bin'), 1);
  });
});

describe('failed downloads', { timeout: 120000 }, () => {
  let t;
  const cases = [
    ['FWUNR', 'unreachable host', async () => `http://127.0.0.1:${await freePort()}/fw.bin`],
    ['FWSCH', 'unsupported scheme', async () => 'gopher://127.0.0.1/fw.bin'],
    ['FWBIG', 'over the cap', async (host) => `${host.base}/big.bin`],
    ['FWCUT', 'truncated', async (host) => `${host.base}/cut.bin`],
  ];
  before(async () => {
    t = await setup([...cases.map(([id]) => [id, '1.6']), ['FWS201', '2.0.1']]);
  });
  after(() => teardown(t));

  for (const [id, what, urlOf] of cases) {
    it(`${what}: the CSMS hears DownloadFailed once, the log says why`, async () => {
      const url = await urlOf(t.host);
      await t.upstream[id].call('UpdateFirmware', { location: url, retrieveDate: isoNow() });
      await waitFor(() => statuses(t.csms, id).includes('DownloadFailed'), 20000, 'DownloadFailed');
      await waitFor(() => t.clients[id].firmware.find((r) => r.done), 20000, 'charger gave up');
      await sleep(500);
      assert.equal(statuses(t.csms, id).filter((s) => s === 'DownloadFailed').length, 1,
        `statuses ${statuses(t.csms, id)}`);
      assert.ok(t.clients[id].firmware[0].error, 'the charger got no firmware');
      assert.match(t.gw.stderr, new RegExp(`file ${url.replace(/[.?]/g, '\\$&')}: download failed`));
      // Nothing else stopped: the charger's Heartbeat still gets through.
      const hb = await t.clients[id].call('Heartbeat', {});
      assert.ok(hb.currentTime);
    });
  }

  it('truncated with retries: each attempt reaches the host, then DownloadFailed (2.0.1, requestId kept)', async () => {
    const before = t.host.count('/cut.bin');
    await t.upstream.FWS201.call('UpdateFirmware', {
      requestId: 31, retries: 2, retryInterval: 1,
      firmware: { location: `${t.host.base}/cut.bin`, retrieveDateTime: isoNow() },
    });
    await waitFor(() => t.csms.callsOf('FWS201').some((c) => c.method === 'FirmwareStatusNotification' &&
      c.params.status === 'DownloadFailed' && c.params.requestId === 31), 20000, 'DownloadFailed 31');
    assert.equal(t.host.count('/cut.bin') - before, 3);
  });
});

describe('logs through the gateway', { timeout: 120000 }, () => {
  let t;
  let up;
  let later;
  const LOG = crypto.randomBytes(40000);
  const heard = [];   // status notifications about logs, when the CSMS got them
  const at = (id, status) => heard.find((h) => h.id === id && h.status === status);

  before(async () => {
    up = logHost(await freePort());
    await up.listen();
    later = logHost(await freePort());   // down until the outage test brings it up
    t = await setup([['LG16', '1.6'], ['LG201', '2.0.1'], ['LGT16', '1.6'], ['LGO16', '1.6'],
      ['LGX16', '1.6'], ['LGS16', '1.6'], ['LGB16', '1.6']],
    'groups = ( { name = "translated"; upstream_ocpp = "2.0.1"; chargers = [ "LGT16" ]; } );');
    for (const id of ['LG16', 'LGT16', 'LGO16']) logCharger(t.clients[id], '1.6', LOG);
    logCharger(t.clients.LG201, '2.0.1', LOG);
    for (const m of ['DiagnosticsStatusNotification', 'LogStatusNotification']) {
      t.csms.responders[m] = (params, client) => {
        heard.push({ id: client.identity, status: params.status, requestId: params.requestId, at: Date.now() });
        return {};
      };
    }
  });
  after(async () => {
    await teardown(t);
    await up.close();
    await later.close();
  });

  it('1.6 GetDiagnostics: PUT through the gateway, Uploaded after the host has the file', async () => {
    const res = await t.upstream.LG16.call('GetDiagnostics', { location: `${up.base}/diag/` });
    assert.equal(res.fileName, 'LG16.log');
    const rec = await waitFor(() => t.clients.LG16.logs.find((r) => r.done), 20000, 'charger upload');
    assert.ok(rec.location.startsWith(`http://127.0.0.1:${t.filePort}/u/`), rec.location);
    assert.equal(rec.error, undefined);
    const uploaded = await waitFor(() => at('LG16', 'Uploaded'), 10000, 'Uploaded at the CSMS');
    const got = up.received.find((r) => r.url === '/diag/LG16.log');
    assert.ok(got, `host got ${up.received.map((r) => r.url)}`);
    assert.equal(got.method, 'PUT');
    assert.equal(sha256(got.body), sha256(LOG));
    assert.ok(uploaded.at >= got.at, 'Uploaded reached the CSMS before the file did');
  });

  it('2.0.1 GetLog: POST kept as POST with its type, LogStatusNotification Uploaded with the requestId', async () => {
    const res = await t.upstream.LG201.call('GetLog', {
      logType: 'DiagnosticsLog', requestId: 21, log: { remoteLocation: `${up.base}/logs/lg201` },
    });
    assert.equal(res.status, 'Accepted');
    const uploaded = await waitFor(() => at('LG201', 'Uploaded'), 20000, 'Uploaded at the CSMS');
    assert.equal(uploaded.requestId, 21);
    const got = up.received.find((r) => r.url === '/logs/lg201');
    assert.ok(got);
    assert.equal(got.method, 'POST');
    assert.equal(got.type, 'text/plain');
    assert.equal(sha256(got.body), sha256(LOG));
    assert.ok(uploaded.at >= got.at);
  });

  it('2.0.1 CSMS GetLog, 1.6 charger GetDiagnostics (translated): the file and requestId arrive', async () => {
    await t.upstream.LGT16.call('GetLog', {
      logType: 'DiagnosticsLog', requestId: 12, log: { remoteLocation: `${up.base}/t/` },
    });
    const uploaded = await waitFor(() => at('LGT16', 'Uploaded'), 20000, 'Uploaded at the CSMS');
    assert.equal(uploaded.requestId, 12);
    const got = up.received.find((r) => r.url === '/t/LGT16.log');
    assert.ok(got, `host got ${up.received.map((r) => r.url)}`);
    assert.equal(sha256(got.body), sha256(LOG));
    assert.ok(uploaded.at >= got.at);
  });

  it('held through an outage of the CSMS host, delivered after it, Uploaded only then', async () => {
    await t.upstream.LGO16.call('GetDiagnostics', { location: `${later.base}/held/` });
    const rec = await waitFor(() => t.clients.LGO16.logs.find((r) => r.done), 20000, 'charger upload');
    assert.equal(rec.error, undefined, 'the charger\'s upload to the gateway must succeed');
    await waitFor(() => /log upload to .*\/held\/LGO16\.log: attempt 1 of \d+ failed/.test(t.gw.stderr),
      10000, 'a failed hand-over');
    await sleep(1500);
    assert.equal(at('LGO16', 'Uploaded'), undefined, 'Uploaded before the file reached the CSMS');
    await later.listen();
    const uploaded = await waitFor(() => at('LGO16', 'Uploaded'), 20000, 'Uploaded after the outage');
    const got = later.received.find((r) => r.url === '/held/LGO16.log');
    assert.ok(got);
    assert.equal(sha256(got.body), sha256(LOG));
    assert.ok(uploaded.at >= got.at);
  });

  it('a charger that says Uploaded without sending the file: the CSMS hears UploadFailed', async () => {
    t.clients.LGX16.handle('GetDiagnostics', () => ({ fileName: 'never.log' }));
    await t.upstream.LGX16.call('GetDiagnostics', { location: `${up.base}/x/` });
    await t.clients.LGX16.call('DiagnosticsStatusNotification', { status: 'Uploaded' });
    const failed = await waitFor(() => heard.find((h) => h.id === 'LGX16'), 5000, 'status at the CSMS');
    assert.equal(failed.status, 'UploadFailed');
    assert.equal(up.received.filter((r) => r.url.startsWith('/x/')).length, 0);
  });

  it('a charger that never finishes its upload: cut off after files.idle_timeout, Uploaded becomes UploadFailed', async () => {
    let location;
    t.clients.LGS16.handle('GetDiagnostics', ({ params }) => { location = params.location; return { fileName: 's.log' }; });
    await t.upstream.LGS16.call('GetDiagnostics', { location: `${up.base}/s/` });
    const u = new URL(`${location}s.log`);
    const sock = net.connect(Number(u.port), u.hostname);
    const closed = new Promise((resolve) => sock.on('close', resolve));
    sock.on('error', () => {});
    sock.write(`PUT ${u.pathname} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n${'a'.repeat(100)}`);
    const started = Date.now();
    await withTimeout(closed, 10000, 'the gateway closing a stalled upload');
    assert.ok(Date.now() - started >= 1500, 'closed before the idle timeout');
    assert.match(t.gw.stderr, /no progress on a connection for 2 s/);
    assert.match(t.gw.stderr, /went away after 100 of 1000 bytes/);
    await t.clients.LGS16.call('DiagnosticsStatusNotification', { status: 'Uploaded' });
    const st = await waitFor(() => heard.find((h) => h.id === 'LGS16'), 5000, 'status at the CSMS');
    assert.equal(st.status, 'UploadFailed');
    assert.equal(up.received.filter((r) => r.url.startsWith('/s/')).length, 0);
  });

  it('a Content-Length that is not all digits is no length: 411, nothing handed on', async () => {
    let location;
    t.clients.LGB16.handle('GetDiagnostics', ({ params }) => { location = params.location; return { fileName: 'b.log' }; });
    await t.upstream.LGB16.call('GetDiagnostics', { location: `${up.base}/b/` });
    const u = new URL(`${location}b.log`);
    const reply = await new Promise((resolve, reject) => {
      const sock = net.connect(Number(u.port), u.hostname);
      let got = '';
      sock.on('data', (d) => { got += d.toString('latin1'); });
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
      // read as 12 before: the rest of the body would have been a new request
      sock.write(`PUT ${u.pathname} HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n${'a'.repeat(12)}`);
    });
    assert.equal(Number(/^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1]), 411, reply);
    await sleep(500);
    assert.equal(up.received.filter((r) => r.url.startsWith('/b/')).length, 0);
  });
});

describe('fleet rollout from the admin API, no CSMS', { timeout: 120000 }, () => {
  let host;
  let gw;
  const clients = {};
  const ids = [['RO1', '1.6'], ['RO2', '2.0.1'], ['RO3', '1.6'], ['RO4', '2.0.1'], ['RO5', '1.6'],
    ['RO6', '2.0.1']];
  before(async () => {
    host = await startFileHost({ '/fleet.bin': FW, '/fleet2.bin': SIGNED });
    gw = await startGateway({
      config: `files = { listen = "127.0.0.1:${await freePort()}"; idle_timeout = 2; };\n`,
    });
    for (const [id, version] of ids) {
      clients[id] = firmwareCharger(await connectCharger(gw, id, version), version,
        { failInstall: id === 'RO3' });
    }
    // RO6 accepts and then never reports anything.
    clients.RO6.handle('UpdateFirmware', () => ({ status: 'Accepted' }));
  });
  after(async () => {
    await stopAll({ clients: Object.values(clients), gw });
    await host.close();
  });

  it('refuses a body without chargers, and a location with another scheme', async () => {
    let r = await adminApi(gw, 'POST', '/api/firmware', { location: `${host.base}/fleet.bin` });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'chargers');
    r = await adminApi(gw, 'POST', '/api/firmware', { location: 'file:///etc/passwd', chargers: ['RO1'] });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'location');
    assert.equal((await adminApi(gw, 'GET', '/api/firmware')).json.state, 'none');
  });

  it('waves of 2: the next wave only after the last one reported Installed; one download', async () => {
    const r = await adminApi(gw, 'POST', '/api/firmware', {
      location: `${host.base}/fleet.bin`, chargers: ['RO1', 'RO2', 'RO4', 'RO5'], wave_size: 2,
    });
    assert.equal(r.status, 202, r.text);
    const done = await waitFor(async () => {
      const g = (await adminApi(gw, 'GET', '/api/firmware')).json;
      return g.state !== 'running' ? g : null;
    }, 30000, 'the rollout to end');
    assert.equal(done.state, 'done', JSON.stringify(done));
    assert.deepEqual(done.chargers.map((c) => [c.id, c.state, c.wave]),
      [['RO1', 'installed', 1], ['RO2', 'installed', 1], ['RO4', 'installed', 2], ['RO5', 'installed', 2]]);
    for (const id of ['RO1', 'RO2', 'RO4', 'RO5']) assert.equal(clients[id].firmware[0].hash, sha256(FW));
    const wave1Installed = Math.max(clients.RO1.firmware[0].installedAt, clients.RO2.firmware[0].installedAt);
    for (const id of ['RO4', 'RO5']) {
      assert.ok(clients[id].firmware[0].at >= wave1Installed, `${id} got UpdateFirmware before wave 1 was installed`);
    }
    assert.equal(clients.RO2.firmware[0].params.firmware.location.startsWith(host.base), false,
      'chargers get the gateway\'s location');
    assert.equal(host.count('/fleet.bin'), 1);
  });

  it('stops on the first failure above max_failures: later chargers get nothing', async () => {
    const before = Object.fromEntries(ids.map(([id]) => [id, clients[id].firmware.length]));
    const r = await adminApi(gw, 'POST', '/api/firmware', {
      location: `${host.base}/fleet2.bin`, chargers: ['RO3', 'RO1', 'RO2'], wave_size: 1, max_failures: 0,
    });
    assert.equal(r.status, 202, r.text);
    const end = await waitFor(async () => {
      const g = (await adminApi(gw, 'GET', '/api/firmware')).json;
      return g.state !== 'running' ? g : null;
    }, 30000, 'the rollout to stop');
    assert.equal(end.state, 'stopped');
    assert.equal(end.failures, 1);
    assert.deepEqual(end.chargers.map((c) => [c.id, c.state, c.detail]),
      [['RO3', 'failed', 'InstallationFailed'], ['RO1', 'pending', ''], ['RO2', 'pending', '']]);
    await sleep(500);
    assert.equal(clients.RO1.firmware.length, before.RO1);
    assert.equal(clients.RO2.firmware.length, before.RO2);
  });

  it('a charger that never reports Installed fails after charger_timeout; the rollout stops', async () => {
    const r = await adminApi(gw, 'POST', '/api/firmware', {
      location: `${host.base}/fleet.bin`, chargers: ['RO6', 'RO1'], charger_timeout: 1,
    });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.charger_timeout, 1);
    const before = clients.RO1.firmware.length;
    const end = await waitFor(async () => {
      const g = (await adminApi(gw, 'GET', '/api/firmware')).json;
      return g.state !== 'running' ? g : null;
    }, 10000, 'the rollout to stop');
    assert.equal(end.state, 'stopped');
    assert.deepEqual(end.chargers.map((c) => [c.id, c.state, c.detail]),
      [['RO6', 'failed', 'no Installed within 1 s'], ['RO1', 'pending', '']]);
    assert.equal(clients.RO1.firmware.length, before);
  });
});

describe('the download cache survives a restart, within files.max_size', { timeout: 120000 }, () => {
  let csms;
  let host;
  let gw;
  let charger;
  const dataDir = path.join(tmpDir(), 'data');
  const start = async (maxSize) => startGateway({
    csmsUrl: csms.url, dataDir,
    config: `files = { listen = "127.0.0.1:${await freePort()}"; max_size = ${maxSize}; };\n`,
  });
  const update = async (file) => {
    const n = charger.firmware.length;
    await (await csms.waitClient('KC16')).call('UpdateFirmware', { location: `${host.base}${file}`, retrieveDate: isoNow() });
    const rec = await waitFor(() => charger.firmware[n]?.done && charger.firmware[n], 20000, `download of ${file}`);
    assert.equal(rec.error, undefined);
    return rec;
  };
  const connect = async () => { charger = firmwareCharger(await connectCharger(gw, 'KC16', '1.6'), '1.6'); };
  before(async () => {
    csms = await startCsms();
    host = await startFileHost({ '/keep.bin': FW, '/drop.bin': SIGNED });
  });
  after(async () => {
    await stopAll({ clients: [charger], gw, csms });
    await host.close();
  });

  it('a kept file is served without a new download; the least recently used one over the cap is dropped', async () => {
    gw = await start(1 << 20);
    await connect();
    assert.equal((await update('/keep.bin')).hash, sha256(FW));
    assert.equal((await update('/drop.bin')).hash, sha256(SIGNED));
    await update('/keep.bin');   // keep.bin is now the most recently used
    assert.equal(host.count('/keep.bin'), 1);
    await charger.close({ force: true });
    assert.equal((await gw.stop()).code, 0);

    // Room for one of the two: drop.bin, the older one, goes.
    gw = await start(FW.length + 1000);
    await waitFor(() => /1 download\(s\) of an earlier run kept, 200000 bytes/.test(gw.stderr), 5000,
      'the kept download');
    await connect();
    assert.equal((await update('/keep.bin')).hash, sha256(FW));
    assert.equal(host.count('/keep.bin'), 1, 'the kept file was downloaded again');
    assert.equal((await update('/drop.bin')).hash, sha256(SIGNED));
    assert.equal(host.count('/drop.bin'), 2, 'the dropped file must be downloaded again');
    const left = fs.readdirSync(path.join(dataDir, 'files')).sort();
    assert.ok(left.every((f) => /^\d+\.bin(\.url)?$/.test(f)), String(left));
  });
});

describe('a rollout goes on across a restart of the gateway', { timeout: 120000 }, () => {
  let host;
  let gw;
  const clients = {};
  const dataDir = path.join(tmpDir(), 'data');
  const start = async () => startGateway({
    dataDir, config: `files = { listen = "127.0.0.1:${await freePort()}"; };\n`,
  });
  before(async () => {
    host = await startFileHost({ '/across.bin': FW });
    gw = await start();
  });
  after(async () => {
    await stopAll({ clients: Object.values(clients), gw });
    await host.close();
  });

  it('wave 1 in progress at the restart: sent again once back, then wave 2; the same rollout', async () => {
    // RX1 takes the update and goes quiet (the restart comes first)
    clients.RX1 = await connectCharger(gw, 'RX1', '2.0.1');
    const asked = [];
    clients.RX1.handle('UpdateFirmware', ({ params }) => { asked.push(params); return { status: 'Accepted' }; });
    clients.RX2 = firmwareCharger(await connectCharger(gw, 'RX2', '1.6'), '1.6');
    const r = await adminApi(gw, 'POST', '/api/firmware', {
      location: `${host.base}/across.bin`, chargers: ['RX1', 'RX2'], wave_size: 1, charger_timeout: 60,
    });
    assert.equal(r.status, 202, r.text);
    const id = r.json.id;
    await waitFor(() => asked.length === 1, 10000, 'wave 1 sent');
    for (const c of Object.values(clients)) await c.close({ force: true });
    assert.equal((await gw.stop()).code, 0);

    gw = await start();
    await waitFor(() => /firmware rollout \d+: resumed at wave 1 \(1 charger\(s\) to send to again/
      .test(gw.stderr), 5000, 'the rollout resumed');
    let g = (await adminApi(gw, 'GET', '/api/firmware')).json;
    assert.equal(g.id, id);
    assert.equal(g.state, 'running');
    assert.deepEqual(g.chargers.map((c) => [c.id, c.state]), [['RX1', 'resending'], ['RX2', 'pending']]);
    // back: a charger's first message gets it its UpdateFirmware again
    clients.RX1 = firmwareCharger(await connectCharger(gw, 'RX1', '2.0.1'), '2.0.1');
    clients.RX2 = firmwareCharger(await connectCharger(gw, 'RX2', '1.6'), '1.6');
    await clients.RX1.call('Heartbeat', {});
    g = await waitFor(async () => {
      const x = (await adminApi(gw, 'GET', '/api/firmware')).json;
      return x.state !== 'running' ? x : null;
    }, 30000, 'the rollout to end');
    assert.equal(g.state, 'done', JSON.stringify(g));
    assert.equal(g.id, id, 'the same rollout, not a new one');
    assert.deepEqual(g.chargers.map((c) => [c.id, c.state, c.wave]),
      [['RX1', 'installed', 1], ['RX2', 'installed', 2]]);
    for (const c of ['RX1', 'RX2']) assert.equal(clients[c].firmware[0].hash, sha256(FW));
    // a new rollout after the restart gets the next id
    const next = await adminApi(gw, 'POST', '/api/firmware', {
      location: `${host.base}/across.bin`, chargers: ['RX2'] });
    assert.equal(next.json.id, id + 1);
  });
});

describe('a firmware file uploaded to the gateway: hostile uploads, a rollout across a restart', { timeout: 120000 }, () => {
  const TOKEN = 'fw-files-admin-token';
  const AUTH = { authorization: `Bearer ${TOKEN}` };
  const UP = crypto.randomBytes(150000);
  const dataDir = path.join(tmpDir(), 'data');
  const fwDir = path.join(dataDir, 'firmware');
  let gw;
  const clients = {};
  const api = (method, p, body) => adminApi(gw, method, p, body, AUTH);
  const start = async () => startGateway({
    dataDir,
    config: `files = { listen = "127.0.0.1:${await freePort()}"; max_file_size = ${MAX_FILE}; ` +
      'firmware_max_files = 2; };\n' + `admin = { token = "${TOKEN}"; };\n`,
  });
  // The gateway answers, and its firmware folder holds exactly `names` (and their sidecars).
  const upAndHolding = async (names) => {
    assert.equal((await api('GET', '/api/firmware/files')).status, 200, 'the gateway serves on');
    assert.deepEqual(fs.readdirSync(fwDir).sort(),
      names.flatMap((n) => [n, `.${n}.sha256`]).sort());
  };
  before(async () => { gw = await start(); });
  after(async () => {
    await stopAll({ clients: Object.values(clients), gw });
  });

  it('without credentials: 401, nothing kept', async () => {
    const r = await putFile(gw, 'fw.bin', UP, {});
    assert.equal(r.status, 401, r.text);
    assert.equal((await adminApi(gw, 'GET', '/api/firmware/files')).status, 401);
    await upAndHolding([]);
  });

  it('bad names: 400 naming the field', async () => {
    for (const name of ['.hidden', 'a%2Fb', 'sp%20ace.bin', 'x'.repeat(65), '%C3%A9.bin']) {
      const r = await putFile(gw, name, UP, AUTH);
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.equal(r.json.field, 'name', name);
    }
    await upAndHolding([]);
  });

  it('no Content-Length: 411; over files.max_file_size: 413 naming the cap, before any body', async () => {
    let got = await rawAdmin(gw, `PUT /api/firmware/files/fw.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}`);
    assert.equal(statusOf(got), 411, got);
    assert.equal(bodyOf(got).field, 'Content-Length');
    got = await rawAdmin(gw, `PUT /api/firmware/files/fw.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `Expect: 100-continue\r\nContent-Length: ${MAX_FILE + 1}`);
    assert.equal(statusOf(got), 413, got);
    assert.match(bodyOf(got).error, new RegExp(`${MAX_FILE + 1} bytes is over files.max_file_size \\(${MAX_FILE} bytes\\)`));
    await upAndHolding([]);
  });

  it('a client that goes away mid-body leaves nothing; the next upload is whole', async () => {
    await rawAdmin(gw, `PUT /api/firmware/files/fw.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `Content-Length: ${UP.length}`, UP.subarray(0, 60000), { cut: true });
    await waitFor(() => /firmware file fw\.bin: upload dropped after \d+ of 150000 bytes/.test(gw.stderr), 5000,
      'the cut upload dropped');
    await upAndHolding([]);
    const r = await putFile(gw, 'fw.bin', UP, AUTH);
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json, { file: 'fw.bin', size: UP.length, sha256: sha256(UP) });
    const list = (await api('GET', '/api/firmware/files')).json;
    assert.deepEqual(list.files.map((f) => [f.name, f.size, f.sha256]), [['fw.bin', UP.length, sha256(UP)]]);
    assert.match(list.files[0].mtime, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(fs.readFileSync(path.join(fwDir, 'fw.bin')), UP);
  });

  it('files.firmware_max_files: the third file is 507, naming the setting', async () => {
    assert.equal((await putFile(gw, 'other.bin', UP.subarray(0, 1000), AUTH)).status, 201);
    const r = await putFile(gw, 'third.bin', UP.subarray(0, 1000), AUTH);
    assert.equal(r.status, 507, r.text);
    assert.match(r.json.error, /files\.firmware_max_files \(2\) reached/);
    assert.equal((await api('DELETE', '/api/firmware/files/other.bin')).status, 200);
    assert.equal((await api('DELETE', '/api/firmware/files/other.bin')).status, 404);
    await upAndHolding(['fw.bin']);
  });

  it('a rollout from the file: 409 on DELETE and PUT while it runs; across a restart it ends with the file\'s bytes', async () => {
    const bad = await api('POST', '/api/firmware', { file: 'none.bin', chargers: ['RY1'] });
    assert.equal(bad.status, 404, bad.text);
    assert.equal(bad.json.field, 'file');
    const both = await api('POST', '/api/firmware', { file: 'fw.bin', location: 'http://h/x', chargers: ['RY1'] });
    assert.equal(both.status, 400, both.text);
    assert.equal(both.json.field, 'file');
    // RY1 takes the update and goes quiet (the restart comes first)
    clients.RY1 = await connectCharger(gw, 'RY1', '2.0.1');
    const asked = [];
    clients.RY1.handle('UpdateFirmware', ({ params }) => { asked.push(params); return { status: 'Accepted' }; });
    clients.RY2 = firmwareCharger(await connectCharger(gw, 'RY2', '1.6'), '1.6');
    const r = await api('POST', '/api/firmware', { file: 'fw.bin', chargers: ['RY1', 'RY2'], wave_size: 1,
      charger_timeout: 60 });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.file, 'fw.bin');
    assert.equal(r.json.sha256, sha256(UP));
    assert.equal(r.json.location, undefined);
    await waitFor(() => asked.length === 1, 10000, 'wave 1 sent');
    assert.match(asked[0].firmware.location, /^http:\/\/127\.0\.0\.1:\d+\/f\/[0-9a-f]{32}\/fw\.bin$/);
    const del = await api('DELETE', '/api/firmware/files/fw.bin');
    assert.equal(del.status, 409, del.text);
    assert.match(del.json.error, /a running rollout sends it/);
    const put = await putFile(gw, 'fw.bin', UP.subarray(0, 5000), AUTH);
    assert.equal(put.status, 409, put.text);

    for (const c of Object.values(clients)) await c.close({ force: true });
    assert.equal((await gw.stop()).code, 0);
    gw = await start();
    await waitFor(() => /firmware rollout \d+: resumed at wave 1/.test(gw.stderr), 5000, 'the rollout resumed');
    const kept = (await api('GET', '/api/firmware/files')).json.files;
    assert.deepEqual(kept.map((f) => [f.name, f.sha256]), [['fw.bin', sha256(UP)]], 'kept, not hashed again');
    assert.doesNotMatch(gw.stderr, /firmware file fw\.bin: hashed/);
    let g = (await api('GET', '/api/firmware')).json;
    assert.equal(g.state, 'running');
    assert.equal(g.file, 'fw.bin');
    assert.deepEqual(g.chargers.map((c) => [c.id, c.state]), [['RY1', 'resending'], ['RY2', 'pending']]);
    assert.equal((await api('DELETE', '/api/firmware/files/fw.bin')).status, 409, 'still held after the restart');
    clients.RY1 = firmwareCharger(await connectCharger(gw, 'RY1', '2.0.1'), '2.0.1');
    clients.RY2 = firmwareCharger(await connectCharger(gw, 'RY2', '1.6'), '1.6');
    await clients.RY1.call('Heartbeat', {});
    g = await waitFor(async () => {
      const x = (await api('GET', '/api/firmware')).json;
      return x.state !== 'running' ? x : null;
    }, 30000, 'the rollout to end');
    assert.equal(g.state, 'done', JSON.stringify(g));
    assert.deepEqual(g.chargers.map((c) => [c.id, c.state, c.wave]), [['RY1', 'installed', 1], ['RY2', 'installed', 2]]);
    for (const id of ['RY1', 'RY2']) {
      assert.equal(clients[id].firmware.length, 1, id);
      assert.equal(clients[id].firmware[0].hash, sha256(UP), `${id} got the uploaded bytes`);
    }
    // done: the file is the operator's to replace or delete again
    assert.equal((await api('DELETE', '/api/firmware/files/fw.bin')).status, 200);
    await upAndHolding([]);
  });
});

describe('a log on its way survives a restart of the gateway', { timeout: 120000 }, () => {
  let csms;
  let host;
  let gw;
  let charger;
  const dataDir = path.join(tmpDir(), 'data');
  const LOG = crypto.randomBytes(30000);
  const heard = [];
  const start = async () => startGateway({
    csmsUrl: csms.url, dataDir,
    config: `files = { listen = "127.0.0.1:${await freePort()}"; upload_retry_interval = 1; };\n`,
  });
  before(async () => {
    csms = await startCsms();
    csms.responders.DiagnosticsStatusNotification = (params, client) => {
      heard.push({ id: client.identity, status: params.status, at: Date.now() });
      return {};
    };
    host = logHost(await freePort());   // down until the gateway restarted
  });
  after(async () => {
    await stopAll({ clients: [charger], gw, csms });
    await host.close();
  });

  it('held through the outage and a restart, delivered after, Uploaded only then', async () => {
    gw = await start();
    charger = logCharger(await connectCharger(gw, 'LR16', '1.6'), '1.6', LOG);
    const upstream = await csms.waitClient('LR16');
    await upstream.call('GetDiagnostics', { location: `${host.base}/r/` });
    await waitFor(() => charger.logs.find((r) => r.done), 20000, 'charger upload');
    await waitFor(() => /log upload to .*\/r\/LR16\.log: attempt 1 of/.test(gw.stderr), 10000, 'a failed try');
    await waitFor(() => /Uploaded held until the file reaches/.test(gw.stderr), 10000, 'Uploaded held');
    assert.equal(heard.filter((h) => h.status === 'Uploaded').length, 0);
    await charger.close({ force: true });
    assert.equal((await gw.stop()).code, 0);
    assert.match(gw.stderr, /kept for the next start/);

    await host.listen();
    gw = await start();
    await waitFor(() => /log upload to .*\/r\/LR16\.log: resumed \(sending\)/.test(gw.stderr), 5000,
      'the upload resumed');
    charger = await connectCharger(gw, 'LR16', '1.6');
    const uploaded = await waitFor(() => heard.find((h) => h.status === 'Uploaded'), 20000, 'Uploaded after the restart');
    const got = host.received.find((r) => r.url === '/r/LR16.log');
    assert.ok(got, `host got ${host.received.map((r) => r.url)}`);
    assert.equal(sha256(got.body), sha256(LOG));
    assert.ok(uploaded.at >= got.at);
    assert.equal(heard.filter((h) => h.status === 'Uploaded').length, 1);
  });
});

describe('an FTP CSMS host (python3-pyftpdlib)', { timeout: 120000, skip: !haveFtpd && 'python3-pyftpdlib not installed' }, () => {
  let ftpd;
  let root;
  let port;
  let t;
  const LOG = crypto.randomBytes(20000);
  const heard = [];
  before(async () => {
    ftpd = await startFtpd({ 'fw.bin': FW });
    ({ root, port } = ftpd);
    t = await setup([['FTP16', '1.6'], ['FTPL16', '1.6']]);
    logCharger(t.clients.FTPL16, '1.6', LOG);
    t.csms.responders.DiagnosticsStatusNotification = (params, client) => {
      heard.push({ id: client.identity, status: params.status, at: Date.now() });
      return {};
    };
  });
  after(async () => {
    await teardown(t);
    await ftpd?.stop();
  });

  it('firmware at an ftp:// location reaches the charger over the gateway\'s HTTP', async () => {
    await t.upstream.FTP16.call('UpdateFirmware', { location: `ftp://127.0.0.1:${port}/fw.bin`, retrieveDate: isoNow() });
    const rec = await waitFor(() => t.clients.FTP16.firmware.find((r) => r.done), 20000, 'charger download');
    assert.ok(rec.location.startsWith(`http://127.0.0.1:${t.filePort}/f/`), rec.location);
    assert.equal(rec.hash, sha256(FW));
  });

  it('a log for an ftp:// location is stored there (STOR), Uploaded after', async () => {
    await t.upstream.FTPL16.call('GetDiagnostics', { location: `ftp://127.0.0.1:${port}/logs/` });
    const file = path.join(root, 'logs', 'FTPL16.log');
    const uploaded = await waitFor(() => heard.find((h) => h.id === 'FTPL16' && h.status === 'Uploaded'),
      20000, 'Uploaded at the CSMS');
    assert.ok(fs.existsSync(file), 'the file is not on the FTP server');
    assert.equal(sha256(fs.readFileSync(file)), sha256(LOG));
    assert.ok(uploaded.at >= fs.statSync(file).mtimeMs - 5);
  });
});

describe('reload', { timeout: 60000 }, () => {
  it('a new files.listen on SIGHUP is said to need a restart; the running server stays', async () => {
    const port = await freePort();
    const gw = await startGateway({ config: `files = { listen = "127.0.0.1:${port}"; };\n` });
    try {
      gw.writeConfig(`files = { listen = "127.0.0.1:${await freePort()}"; };\n`);
      gw.signal('SIGHUP');
      await waitFor(() => /files\.listen\/public_url changes apply after a restart/.test(gw.stderr), 5000,
        'the reload warning');
      const res = await fetch(`http://127.0.0.1:${port}/f/${'a'.repeat(32)}`);
      assert.equal(res.status, 404, 'the file server on the old port answers');
    } finally {
      await stopAll({ gw });
    }
  });
});
