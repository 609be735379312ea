// SPDX-License-Identifier: MIT
//
// Firmware and logs through the gateway, with ocppgw-sim's chargers as the
// chargers (src/sim/files.c) and real servers as the CSMS's file hosts:
// nginx (GET, and PUT uploads), python3-pyftpdlib (FTP). The chargers reach
// only the gateway; every assertion is about what the CSMS concludes: its
// status notifications, the bytes its host received, the fetches its host
// answered.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import {
  adminApi, freePort, isoNow, sleep, startCsms, startGateway, tmpDir, waitFor,
} from './lib/harness.mjs';
import { haveFtpd, simLog, startFtpd, startNginx } from './lib/files-peers.mjs';
import { fleetResponders, startFleet } from './lib/sim-peers.mjs';

const FW = crypto.randomBytes(300000);
const SIGNED = crypto.randomBytes(120000);
const MAX_FILE = 1 << 20;
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';   // the gateway's files.max_file_size here

// Sim chargers that only boot and wait: no charging sessions of their own
// (the first plug-in comes within one idle time), real-time clock.
const quiet = ['--time-scale', '1', '--idle', '10000000', '--session', '60'];
const fleet = (url, version, count, idPattern) => startFleet({ url, version, count, duration: 600,
  idPattern, extra: quiet });

// The signing key and certificate of a firmware vendor, made with openssl.
function vendorPki() {
  const dir = tmpDir('ocppgw-fwsign-');
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=firmware signer'], { stdio: 'pipe' });
  assert.equal(r.status, 0, r.stderr?.toString());
  const pki = { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') };
  fs.rmSync(dir, { recursive: true, force: true });
  pki.sign = (bytes) => crypto.sign('sha256', bytes, pki.key).toString('base64');
  return pki;
}

// A strict CSMS that answers 1.6 and 2.0.1 sim chargers alike, and records
// when each file status notification arrived.
async function fileCsms(problems) {
  const csms = await startCsms();
  const tables = { 'ocpp1.6': fleetResponders('1.6', problems), 'ocpp2.0.1': fleetResponders('2.0.1', problems) };
  for (const m of new Set([...Object.keys(tables['ocpp1.6']), ...Object.keys(tables['ocpp2.0.1'])])) {
    csms.responders[m] = (params, client) => tables[client.protocol][m](params, client);
  }
  csms.heard = [];
  for (const m of ['FirmwareStatusNotification', 'SignedFirmwareStatusNotification',
    'DiagnosticsStatusNotification', 'LogStatusNotification']) {
    csms.responders[m] = (params, client) => {
      csms.heard.push({ id: client.identity, method: m, ...params, at: Date.now() });
      return {};
    };
  }
  // The statuses the CSMS heard from `id` about `kind` (firmware or log).
  csms.statuses = (id, kind, requestId) => csms.heard.filter((h) => h.id === id &&
    (kind === 'firmware' ? /Firmware/.test(h.method) : !/Firmware/.test(h.method)) &&
    (requestId === undefined || h.requestId === requestId)).map((h) => h.status);
  return csms;
}

const untilLast = (csms, id, kind, last, requestId, ms = 30000) => waitFor(() => {
  const s = csms.statuses(id, kind, requestId);
  return s.includes(last) ? s : null;
}, ms, `${id} ${kind} ${last}`);

const sanitizerReports = [];
after(() => assert.deepEqual(sanitizerReports, [], 'ocppgw-sim died or reported a sanitizer error'));

async function stopRig({ fleets = [], gw, csms, hosts = [] }) {
  for (const f of fleets) {
    if (!f) continue;
    const res = await f.stop();
    // A sanitizer's report (an ASan build) is a failure of its own.
    if (res.signal || /Sanitizer|runtime error/.test(f.stderr)) {
      f.dumpLog(`exit ${JSON.stringify(res)}`);
      sanitizerReports.push(f.args.join(' '));
    }
  }
  await gw?.stop();
  await csms?.close();
  for (const h of hosts) await h?.stop();
}

describe('sim chargers: firmware and logs through the gateway (nginx host)', { timeout: 240000 }, () => {
  const problems = [];
  const pki = vendorPki();
  const fleets = [];
  let host;
  let csms;
  let gw;
  let filePort;

  before(async () => {
    host = await startNginx({ 'fw.bin': FW, 'signed.bin': SIGNED, 'shared.bin': FW, 'trans.bin': SIGNED,
      'huge.bin': crypto.randomBytes(MAX_FILE + 1) });
    csms = await fileCsms(problems);
    filePort = await freePort();
    gw = await startGateway({
      csmsUrl: csms.url,
      config: `files = { listen = "127.0.0.1:${filePort}"; upload_retry_interval = 1; max_file_size = ${MAX_FILE}; };\n` +
        'groups = ( { name = "translated"; upstream_ocpp = "2.0.1"; chargers = [ "SIMT16-1" ]; } );',
    });
    fleets.push(fleet(gw.endpoint, '1.6', 1, 'SIM16-%d'));
    fleets.push(fleet(gw.endpoint, '2.0.1', 1, 'SIM201-%d'));
    fleets.push(fleet(gw.endpoint, '1.6', 1, 'SIMT16-%d'));
    fleets.push(fleet(gw.endpoint, '1.6', 10, 'SIMX-%d'));
    for (const id of ['SIM16-1', 'SIM201-1', 'SIMT16-1', ...Array.from({ length: 10 }, (_, i) => `SIMX-${i + 1}`)]) {
      await csms.waitClient(id, 20000);
      await waitFor(() => csms.callsOf(id).some((c) => c.method === 'BootNotification'), 20000, `${id} boot`);
    }
  });
  after(async () => {
    await stopRig({ fleets, gw, csms, hosts: [host] });
    assert.deepEqual(problems, []);
  });

  it('1.6 UpdateFirmware: Downloading..Installed at the CSMS, the host fetched once (by the gateway)', async () => {
    const res = await (await csms.waitClient('SIM16-1')).call('UpdateFirmware',
      { location: `${host.base}/fw.bin`, retrieveDate: isoNow() });
    assert.deepEqual(res, {});
    const s = await untilLast(csms, 'SIM16-1', 'firmware', 'Installed');
    assert.deepEqual(s, ['Downloading', 'Downloaded', 'Installing', 'Installed']);
    assert.equal(host.count('/fw.bin'), 1, 'the host is fetched by the gateway only');
    assert.match(gw.stderr, /f\/[0-9a-f]{32}\/fw\.bin/, 'the charger downloads the gateway\'s path');
  });

  it('2.0.1 signed UpdateFirmware: the sim verifies the vendor\'s signature over the bytes it got', async () => {
    const client = await csms.waitClient('SIM201-1');
    const firmware = { location: `${host.base}/signed.bin`, retrieveDateTime: isoNow(),
      signingCertificate: pki.cert, signature: pki.sign(SIGNED) };
    assert.deepEqual(await client.call('UpdateFirmware', { requestId: 5, firmware }), { status: 'Accepted' });
    const s = await untilLast(csms, 'SIM201-1', 'firmware', 'Installed', 5);
    assert.deepEqual(s, ['Downloading', 'Downloaded', 'SignatureVerified', 'Installing', 'Installed']);
    // The same file with a signature over other bytes: the charger refuses it,
    // so a good verdict above means bytes, signature and certificate arrived intact.
    await client.call('UpdateFirmware', { requestId: 6,
      firmware: { ...firmware, signature: pki.sign(FW), retrieveDateTime: isoNow() } });
    const bad = await untilLast(csms, 'SIM201-1', 'firmware', 'InvalidSignature', 6);
    assert.deepEqual(bad, ['Downloading', 'Downloaded', 'InvalidSignature']);
    assert.equal(host.count('/signed.bin'), 1, 'one download for both requests');
  });

  it('2.0.1 CSMS, 1.6 charger (translated): SignedUpdateFirmware reaches the sim, the CSMS hears 2.0.1 statuses', async () => {
    const client = await csms.waitClient('SIMT16-1');
    assert.equal(client.protocol, 'ocpp2.0.1');
    await client.call('UpdateFirmware', { requestId: 8, firmware: { location: `${host.base}/trans.bin`,
      retrieveDateTime: isoNow(), signingCertificate: pki.cert, signature: pki.sign(SIGNED) } });
    const s = await untilLast(csms, 'SIMT16-1', 'firmware', 'Installed', 8);
    assert.deepEqual(s, ['Downloading', 'Downloaded', 'SignatureVerified', 'Installing', 'Installed']);
    assert.ok(csms.heard.filter((h) => h.id === 'SIMT16-1').every((h) => h.method === 'FirmwareStatusNotification'));
    assert.equal(host.count('/trans.bin'), 1);
  });

  it('ten sim chargers, one file: one fetch at the host, ten Installed', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `SIMX-${i + 1}`);
    await Promise.all(ids.map(async (id) => (await csms.waitClient(id)).call('UpdateFirmware',
      { location: `${host.base}/shared.bin`, retrieveDate: isoNow() })));
    for (const id of ids) {
      assert.deepEqual(await untilLast(csms, id, 'firmware', 'Installed'),
        ['Downloading', 'Downloaded', 'Installing', 'Installed'], id);
    }
    assert.equal(host.count('/shared.bin'), 1);
  });

  it('1.6 GetDiagnostics: the sim\'s log lands at the host byte for byte, Uploaded after it', async () => {
    const res = await (await csms.waitClient('SIM16-1')).call('GetDiagnostics', { location: `${host.base}/diag/` });
    assert.deepEqual(res, { fileName: 'SIM16-1.log' });
    const s = await untilLast(csms, 'SIM16-1', 'log', 'Uploaded');
    assert.deepEqual(s, ['Uploading', 'Uploaded']);
    assert.deepEqual(host.file('diag/SIM16-1.log'), simLog('SIM16-1'));
    assert.ok(host.requests().some((r) => r.method === 'PUT' && r.uri === '/diag/SIM16-1.log' && r.status < 300));
  });

  it('2.0.1 GetLog: LogStatusNotification Uploading, Uploaded with the requestId; the bytes at the host', async () => {
    const res = await (await csms.waitClient('SIM201-1')).call('GetLog',
      { logType: 'DiagnosticsLog', requestId: 44, log: { remoteLocation: `${host.base}/logs/` } });
    assert.deepEqual(res, { status: 'Accepted', filename: 'SIM201-1-44.log' });
    assert.deepEqual(await untilLast(csms, 'SIM201-1', 'log', 'Uploaded', 44), ['Uploading', 'Uploaded']);
    assert.deepEqual(host.file('logs/SIM201-1-44.log'), simLog('SIM201-1', 44));
  });

  it('2.0.1 CSMS GetLog, 1.6 sim charger (translated GetDiagnostics): the log and the requestId arrive', async () => {
    await (await csms.waitClient('SIMT16-1')).call('GetLog',
      { logType: 'DiagnosticsLog', requestId: 12, log: { remoteLocation: `${host.base}/t/` } });
    assert.deepEqual(await untilLast(csms, 'SIMT16-1', 'log', 'Uploaded', 12), ['Uploading', 'Uploaded']);
    assert.deepEqual(host.file('t/SIMT16-1.log'), simLog('SIMT16-1'));
  });

  it('an upload held through an outage of the CSMS host, delivered after it, Uploaded only then', async () => {
    const port = await freePort();
    let later;
    try {
      await (await csms.waitClient('SIMX-1')).call('GetDiagnostics', { location: `http://127.0.0.1:${port}/held/` });
      await waitFor(() => /log upload to .*\/held\/SIMX-1\.log: attempt 1 of \d+ failed/.test(gw.stderr), 20000,
        'a failed hand-over');
      await sleep(2000);
      assert.deepEqual(csms.statuses('SIMX-1', 'log'), ['Uploading'], 'Uploaded before the file reached the host');
      later = await startNginx({}, port);
      assert.deepEqual(await untilLast(csms, 'SIMX-1', 'log', 'Uploaded'), ['Uploading', 'Uploaded']);
      assert.deepEqual(later.file('held/SIMX-1.log'), simLog('SIMX-1'));
      const uploaded = csms.heard.find((h) => h.id === 'SIMX-1' && h.status === 'Uploaded');
      assert.ok(uploaded.at >= fs.statSync(path.join(later.root, 'held/SIMX-1.log')).mtimeMs - 5);
    } finally {
      await later?.stop();
    }
  });

  for (const [id, file, what] of [['SIMX-2', 'missing.bin', 'a 404 at the host'],
    ['SIMX-3', 'huge.bin', 'a file over files.max_file_size (it cannot be cached)']]) {
    it(`${what}: DownloadFailed once at the CSMS, the sim and the gateway carry on`, async () => {
      const client = await csms.waitClient(id);
      const earlier = csms.statuses(id, 'firmware').length;   // the ten chargers' test
      await client.call('UpdateFirmware', { location: `${host.base}/${file}`, retrieveDate: isoNow() });
      await untilLast(csms, id, 'firmware', 'DownloadFailed');
      await sleep(1500);
      const s = csms.statuses(id, 'firmware').slice(earlier);
      assert.equal(s.filter((x) => x === 'DownloadFailed').length, 1, String(s));
      assert.ok(!s.includes('Installed'));
      assert.match(gw.stderr, new RegExp(`file ${host.base}/${file}: download failed`));
      const r = await client.call('TriggerMessage', { requestedMessage: 'Heartbeat' });
      assert.equal(r.status, 'Accepted');
    });
  }
});

// The CSMS's host speaks FTP (python3-pyftpdlib); skipped where it is missing.
describe('sim chargers and an FTP CSMS host (python3-pyftpdlib)', { timeout: 120000,
  skip: !haveFtpd && 'python3-pyftpdlib not installed' }, () => {
  const problems = [];
  let ftpd;
  let csms;
  let gw;
  let sims;
  before(async () => {
    ftpd = await startFtpd({ 'fw.bin': FW });
    csms = await fileCsms(problems);
    gw = await startGateway({ csmsUrl: csms.url,
      config: `files = { listen = "127.0.0.1:${await freePort()}"; };\n` });
    sims = fleet(gw.endpoint, '2.0.1', 1, 'SIMF-%d');
    await csms.waitClient('SIMF-1', 20000);
  });
  after(async () => {
    await stopRig({ fleets: [sims], gw, csms, hosts: [ftpd] });
    assert.deepEqual(problems, []);
  });

  it('firmware from ftp:// and a log to ftp://, the sim speaking HTTP to the gateway only', async () => {
    const client = await csms.waitClient('SIMF-1');
    await client.call('UpdateFirmware', { requestId: 3,
      firmware: { location: `${ftpd.base}/fw.bin`, retrieveDateTime: isoNow() } });
    assert.deepEqual(await untilLast(csms, 'SIMF-1', 'firmware', 'Installed', 3),
      ['Downloading', 'Downloaded', 'Installing', 'Installed']);
    await client.call('GetLog', { logType: 'SecurityLog', requestId: 4,
      log: { remoteLocation: `${ftpd.base}/logs/` } });
    assert.deepEqual(await untilLast(csms, 'SIMF-1', 'log', 'Uploaded', 4), ['Uploading', 'Uploaded']);
    assert.deepEqual(fs.readFileSync(path.join(ftpd.root, 'logs', 'SIMF-1-4.log')), simLog('SIMF-1', 4, 'SecurityLog'));
  });
});

describe('a wave rollout of sim chargers that stops on a failure (no CSMS)', { timeout: 120000 }, () => {
  let host;
  let gw;
  let fleetA;
  let fleetB;
  before(async () => {
    host = await startNginx({ 'roll.bin': FW });
    gw = await startGateway({ config: `files = { listen = "127.0.0.1:${await freePort()}"; };\n` });
    fleetA = fleet(gw.endpoint, '1.6', 4, 'ROLL-%d');
    fleetB = fleet(gw.endpoint, '2.0.1', 1, 'ROLLB-%d');
    const connected = async (id) => waitFor(async () => {
      const r = await adminApi(gw, 'GET', '/api/chargers');
      return JSON.stringify(r.json).includes(`"${id}"`);
    }, 20000, `${id} at the gateway`);
    for (const id of ['ROLL-1', 'ROLL-2', 'ROLL-3', 'ROLL-4', 'ROLLB-1']) await connected(id);
  });
  after(async () => {
    await stopRig({ fleets: [fleetA, fleetB], gw, hosts: [host] });
  });

  it('wave 1 installs, wave 2 has a charger gone: stopped, wave 3 never sent; one fetch', async () => {
    const res = await fleetB.stop();   // ROLLB-1 leaves before its wave
    assert.equal(res.signal, null);
    const r = await adminApi(gw, 'POST', '/api/firmware', {
      location: `${host.base}/roll.bin`, chargers: ['ROLL-1', 'ROLL-2', 'ROLLB-1', 'ROLL-3', 'ROLL-4'], wave_size: 2,
      max_failures: 0,
    });
    assert.equal(r.status, 202, r.text);
    const end = await waitFor(async () => {
      const g = (await adminApi(gw, 'GET', '/api/firmware')).json;
      return g.state !== 'running' ? g : null;
    }, 60000, 'the rollout to end');
    assert.equal(end.state, 'stopped', JSON.stringify(end));
    const by = Object.fromEntries(end.chargers.map((c) => [c.id, c]));
    assert.equal(by['ROLL-1'].state, 'installed');
    assert.equal(by['ROLL-2'].state, 'installed');
    assert.equal(by['ROLLB-1'].state, 'failed');
    assert.equal(by['ROLLB-1'].detail, 'not connected');
    assert.equal(by['ROLL-3'].wave, 2, 'ROLLB-1\'s wave');
    assert.equal(by['ROLL-4'].state, 'pending', 'wave 3 must not start');
    assert.equal(host.count('/roll.bin'), 1);
  });

  it('the status page shows the rollout: stopped, each charger\'s state', { skip: !fs.existsSync(CHROMIUM) &&
    `${CHROMIUM} is missing` }, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${gw.adminUrl}/`);
      await page.waitForSelector('#rollout:not([hidden]) #rollout-chargers tr[data-charger="ROLL-4"]', { timeout: 10000 });
      assert.match(await page.textContent('#rollout-sum'), /^#1 stopped: wave 2, 3 of 5 installed, 1 failed/);
      const row = async (id) => page.$$eval(`#rollout-chargers tr[data-charger="${id}"] td`, (tds) => tds.map((td) => td.textContent));
      assert.deepEqual(await row('ROLL-1'), ['ROLL-1', '1', 'installed', 'Installed']);
      assert.deepEqual(await row('ROLLB-1'), ['ROLLB-1', '–', 'failed', 'not connected']);
      assert.deepEqual(await row('ROLL-4'), ['ROLL-4', '–', 'pending', '']);
    } finally {
      await browser.close();
    }
  });
});

describe('a rollout of a file uploaded to the gateway, to sim chargers in waves (no CSMS, no file host)', { timeout: 120000 }, () => {
  const UP = crypto.randomBytes(700000);
  const hex = crypto.createHash('sha256').update(UP).digest('hex');
  let gw;
  let fleetA;
  let fleetB;
  before(async () => {
    gw = await startGateway({ config: `files = { listen = "127.0.0.1:${await freePort()}"; max_file_size = ${MAX_FILE}; };\n` });
    fleetA = fleet(gw.endpoint, '1.6', 3, 'UPF-%d');
    fleetB = fleet(gw.endpoint, '2.0.1', 2, 'UPFB-%d');
    for (const id of ['UPF-1', 'UPF-2', 'UPF-3', 'UPFB-1', 'UPFB-2']) {
      await waitFor(async () => JSON.stringify((await adminApi(gw, 'GET', '/api/chargers')).json).includes(`"${id}"`),
        20000, `${id} at the gateway`);
    }
  });
  after(async () => {
    await stopRig({ fleets: [fleetA, fleetB], gw });
  });

  it('the file PUT over the admin API, then waves of 2: all Installed, each sim downloaded the uploaded bytes', async () => {
    const put = await fetch(`${gw.adminUrl}/api/firmware/files/fw-1.2.bin`, { method: 'PUT', body: UP });
    assert.equal(put.status, 201);
    assert.deepEqual(await put.json(), { file: 'fw-1.2.bin', size: UP.length, sha256: hex });
    const order = ['UPF-1', 'UPFB-1', 'UPF-2', 'UPFB-2', 'UPF-3'];
    const r = await adminApi(gw, 'POST', '/api/firmware', { file: 'fw-1.2.bin', chargers: order, wave_size: 2 });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.sha256, hex);
    // the file is the rollout's until it ends
    assert.equal((await adminApi(gw, 'DELETE', '/api/firmware/files/fw-1.2.bin')).status, 409);
    const end = await waitFor(async () => {
      const g = (await adminApi(gw, 'GET', '/api/firmware')).json;
      return g.state !== 'running' ? g : null;
    }, 60000, 'the rollout to end');
    assert.equal(end.state, 'done', JSON.stringify(end));
    assert.equal(end.file, 'fw-1.2.bin');
    assert.deepEqual(end.chargers.map((c) => [c.id, c.state, c.wave]),
      order.map((id, i) => [id, 'installed', Math.floor(i / 2) + 1]));
    // what each sim downloaded, by its own log line (src/sim/files.c)
    const seen = new Set();
    const logs = fleetA.stderr + fleetB.stderr;
    for (const id of order) {
      const line = logs.split('\n').find((l) => l.includes(id) && /downloaded .*\/fw-1\.2\.bin: /.test(l));
      assert.ok(line, `${id} downloaded nothing`);
      const m = /downloaded (\S+): (\d+) bytes, sha256 ([0-9a-f]{64})/.exec(line);
      assert.equal(Number(m[2]), UP.length, id);
      assert.equal(m[3], hex, `${id}: the bytes are the uploaded file's`);
      assert.match(m[1], /^http:\/\/127\.0\.0\.1:\d+\/f\/[0-9a-f]{32}\/fw-1\.2\.bin$/);
      seen.add(m[1]);
    }
    assert.equal(seen.size, order.length, 'a path of its own for each charger');
    assert.equal((await adminApi(gw, 'DELETE', '/api/firmware/files/fw-1.2.bin')).status, 200);
    assert.deepEqual((await adminApi(gw, 'GET', '/api/firmware/files')).json.files, []);
  });

  it('the status page names the file and its sha256 in place of a URL', { skip: !fs.existsSync(CHROMIUM) &&
    `${CHROMIUM} is missing` }, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${gw.adminUrl}/`);
      await page.waitForSelector('#rollout:not([hidden]) #rollout-chargers tr[data-charger="UPF-3"]', { timeout: 10000 });
      assert.match(await page.textContent('#rollout-sum'),
        new RegExp(`^#1 done: wave 3, 5 of 5 installed, 0 failed .*, file fw-1\\.2\\.bin \\(sha256 ${hex}\\)$`));
    } finally {
      await browser.close();
    }
  });
});
