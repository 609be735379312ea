// SPDX-License-Identifier: MIT
//
// Log uploads by FTP from chargers to the gateway (files.ftp, docs/FILES.md
// "FTP uploads from chargers"): the gateway starts its FTP server
// (ocppgw-ftpd on Debian's python3-pyftpdlib), gives FTP-uploading chargers
// an ftp:// location on it, and hands each file on to the CSMS's host. The
// chargers are ocppgw-sim's (libcurl's FTP client) and a strict ocpp-rpc
// charger with curl as its FTP client; the CSMS's hosts are pyftpdlib and a
// Node HTTP host. The assertions are what the CSMS concludes: the statuses
// it hears and the bytes its host stored.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  connectCharger, freePort, listeningOn, SRC_ROOT, startCsms, startGateway, stopAll, tmpDir, waitFor,
} from './lib/harness.mjs';
import { haveFtpd, logHost, sha256, simLog, startFtpd } from './lib/files-peers.mjs';
import { fleetResponders, startFleet } from './lib/sim-peers.mjs';

const FTPD_SCRIPT = path.join(SRC_ROOT, 'src', 'features', 'files', 'ocppgw-ftpd.py');
const CURL = '/usr/bin/curl';
const skip = (!haveFtpd && 'python3-pyftpdlib not installed') ||
  (!fs.existsSync(CURL) && `${CURL} missing`);

const ftpConfig = async (extra = '', ftpExtra = '') => {
  const ftpPort = await freePort();
  return {
    ftpPort,
    config: `files = { listen = "127.0.0.1:${await freePort()}"; upload_retry_interval = 1;
  ${extra}
  ftp = { listen = "127.0.0.1:${ftpPort}"; server = "${FTPD_SCRIPT}"; ${ftpExtra} }; };\n`,
  };
};

// curl as a charger's FTP client: resolves to its exit code and stderr.
function curl(args, input) {
  return new Promise((resolve) => {
    const p = spawn(CURL, ['-sS', '--max-time', '20', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    p.stdout.resume();
    p.stdin.on('error', () => {});
    if (input) p.stdin.end(input);
    else p.stdin.end();
    p.on('exit', (code) => resolve({ code, err }));
  });
}

describe('sim chargers uploading logs by FTP through the gateway', { timeout: 120000, skip }, () => {
  const problems = [];
  let ftpd;
  let csms;
  let gw;
  let sims16;
  let sims201;
  let simsT;
  let ftpPort;

  before(async () => {
    ftpd = await startFtpd();
    csms = await startCsms();
    const tables = { 'ocpp1.6': fleetResponders('1.6', problems), 'ocpp2.0.1': fleetResponders('2.0.1', problems) };
    for (const m of new Set([...Object.keys(tables['ocpp1.6']), ...Object.keys(tables['ocpp2.0.1'])])) {
      csms.responders[m] = (params, client) => tables[client.protocol][m](params, client);
    }
    csms.heard = [];
    for (const m of ['DiagnosticsStatusNotification', 'LogStatusNotification']) {
      csms.responders[m] = (params, client) => { csms.heard.push({ id: client.identity, ...params }); return {}; };
    }
    const c = await ftpConfig();
    ftpPort = c.ftpPort;
    gw = await startGateway({ csmsUrl: csms.url, config: c.config +
      'groups = ( { name = "translated"; upstream_ocpp = "2.0.1"; chargers = [ "FTPT-1" ]; } );\n' });
    await waitFor(() => /FTP server for log uploads \(.*\) on 127\.0\.0\.1:\d+/.test(gw.stderr), 10000,
      'the FTP server ready');
    const quiet = ['--time-scale', '1', '--idle', '10000000', '--session', '60'];
    sims16 = startFleet({ url: gw.endpoint, version: '1.6', count: 1, duration: 600, idPattern: 'FTP16-%d', extra: quiet });
    sims201 = startFleet({ url: gw.endpoint, version: '2.0.1', count: 1, duration: 600, idPattern: 'FTP20-%d', extra: quiet });
    simsT = startFleet({ url: gw.endpoint, version: '1.6', count: 1, duration: 600, idPattern: 'FTPT-%d', extra: quiet });
    for (const id of ['FTP16-1', 'FTP20-1', 'FTPT-1']) await csms.waitClient(id, 20000);
  });
  after(async () => {
    for (const f of [sims16, sims201, simsT]) await f?.stop();
    await gw?.stop();
    await csms?.close();
    await ftpd?.stop();
    assert.deepEqual(problems, []);
  });

  const statuses = (id, requestId) => csms.heard.filter((h) => h.id === id &&
    (requestId === undefined || h.requestId === requestId)).map((h) => h.status);

  it('the FTP server listens on files.ftp.listen only', () => {
    assert.deepEqual(listeningOn(ftpPort), [`127.0.0.1:${ftpPort}`]);
  });

  it('1.6 GetDiagnostics to ftp://: the sim stores its log on the gateway by FTP, the CSMS host gets the bytes', async () => {
    const res = await (await csms.waitClient('FTP16-1')).call('GetDiagnostics', { location: `${ftpd.base}/logs/` });
    assert.equal(res.fileName, 'FTP16-1.log');
    await waitFor(() => statuses('FTP16-1').includes('Uploaded'), 30000, 'Uploaded at the CSMS');
    assert.deepEqual(statuses('FTP16-1'), ['Uploading', 'Uploaded']);
    // the charger was given the gateway's FTP server, not the CSMS's host
    assert.match(gw.stderr, new RegExp(`log for ${ftpd.base}/logs/: the charger uploads to ` +
      `ftp://127\\.0\\.0\\.1:${ftpPort}/[0-9a-f]{32}/`));
    assert.match(gw.stderr, /FTP16-1\.log received by FTP, \d+ bytes/);
    assert.deepEqual(fs.readFileSync(path.join(ftpd.root, 'logs', 'FTP16-1.log')), simLog('FTP16-1'));
  });

  it('2.0.1 GetLog to ftp://: by FTP both ways, Uploaded with the requestId', async () => {
    const res = await (await csms.waitClient('FTP20-1')).call('GetLog', { logType: 'SecurityLog', requestId: 7,
      log: { remoteLocation: `${ftpd.base}/logs/` } });
    assert.equal(res.status, 'Accepted');
    await waitFor(() => statuses('FTP20-1', 7).includes('Uploaded'), 30000, 'Uploaded at the CSMS');
    assert.deepEqual(statuses('FTP20-1', 7), ['Uploading', 'Uploaded']);
    assert.deepEqual(fs.readFileSync(path.join(ftpd.root, 'logs', 'FTP20-1-7.log')),
      simLog('FTP20-1', 7, 'SecurityLog'));
  });

  it('2.0.1 CSMS GetLog, 1.6 sim charger (translated GetDiagnostics): by FTP, the 2.0.1 statuses with the requestId', async () => {
    await (await csms.waitClient('FTPT-1')).call('GetLog', { logType: 'DiagnosticsLog', requestId: 9,
      log: { remoteLocation: `${ftpd.base}/logs/` } });
    await waitFor(() => statuses('FTPT-1', 9).includes('Uploaded'), 30000, 'Uploaded at the CSMS');
    assert.deepEqual(statuses('FTPT-1', 9), ['Uploading', 'Uploaded']);
    assert.match(gw.stderr, /\[FTPT-1 south\] GetDiagnostics: log for ftp:\/\/\S+\/logs\/: the charger uploads to ftp:/);
    assert.deepEqual(fs.readFileSync(path.join(ftpd.root, 'logs', 'FTPT-1.log')), simLog('FTPT-1'));
  });

  it('an http:// location still gets the HTTP upload path (files.ftp.uploads = "auto")', async () => {
    const host = logHost(await freePort());
    await host.listen();
    try {
      await (await csms.waitClient('FTP20-1')).call('GetLog', { logType: 'DiagnosticsLog', requestId: 8,
        log: { remoteLocation: `${host.base}/http/` } });
      await waitFor(() => statuses('FTP20-1', 8).includes('Uploaded'), 30000, 'Uploaded at the CSMS');
      assert.match(gw.stderr, new RegExp(`log for ${host.base}/http/: the charger uploads to ` +
        'http://127\\.0\\.0\\.1:\\d+/u/[0-9a-f]{32}/'));
      const got = host.received.find((r) => r.url === '/http/FTP20-1-8.log');
      assert.ok(got, `host got ${host.received.map((r) => r.url)}`);
      assert.deepEqual(got.body, simLog('FTP20-1', 8, 'DiagnosticsLog'));
    } finally {
      await host.close();
    }
  });
});

describe('the FTP door under hostile use (files.ftp.uploads = "always")', { timeout: 120000, skip }, () => {
  const LOG = crypto.randomBytes(3000);
  let csms;
  let gw;
  let host;
  let charger;
  let upstream;
  let location;
  let dir;

  before(async () => {
    dir = tmpDir('ocppgw-ftp-client-');
    host = logHost(await freePort());
    await host.listen();
    csms = await startCsms();
    csms.heard = [];
    csms.responders.DiagnosticsStatusNotification = (params, client) => {
      csms.heard.push({ id: client.identity, ...params });
      return {};
    };
    const c = await ftpConfig('max_file_size = 4096; idle_timeout = 2;', 'uploads = "always";');
    gw = await startGateway({ csmsUrl: csms.url, config: c.config });
    await waitFor(() => /FTP server for log uploads/.test(gw.stderr), 10000, 'the FTP server ready');
    charger = await connectCharger(gw, 'FTPX', '1.6');
    charger.handle('GetDiagnostics', ({ params }) => { location = params.location; return { fileName: 'x.log' }; });
    upstream = await csms.waitClient('FTPX');
  });
  after(async () => {
    await stopAll({ clients: [charger], gw, csms });
    await host.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses what is not an expected upload, survives its server\'s death, then delivers the real log', async () => {
    await upstream.call('GetDiagnostics', { location: `${host.base}/diag/` });
    assert.match(location, /^ftp:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}\/$/);
    const base = new URL(location);
    const root = `ftp://127.0.0.1:${base.port}/`;
    const file = (name, bytes) => { const p = path.join(dir, name); fs.writeFileSync(p, bytes); return p; };

    // listing, another directory, reading, a directory of its own: refused
    assert.notEqual((await curl([root])).code, 0, 'listing the root');
    assert.notEqual((await curl([location])).code, 0, 'listing the upload directory');
    const stray = `${root}${crypto.randomBytes(16).toString('hex')}/x.log`;
    assert.notEqual((await curl(['-T', file('a', 'x'), stray])).code, 0, 'a token never given out');
    assert.notEqual((await curl(['-T', file('b', 'x'), `${root}x.log`])).code, 0, 'the root');
    assert.notEqual((await curl(['-T', file('c', 'x'), `${location}sub/x.log`, '--ftp-create-dirs'])).code, 0,
      'a directory of its own');
    // over max_file_size: cut off, the charger may try again
    const big = await curl(['-T', file('big', crypto.randomBytes(9000)), `${location}x.log`]);
    assert.notEqual(big.code, 0, 'a file over the cap');
    await waitFor(() => /FTP upload of x\.log failed: over the 4096 bytes allowed/.test(gw.stderr), 5000, 'the cut logged');

    // the FTP server killed: started again, the expected upload allowed again
    const pid = Number(/FTP server for log uploads \(.*, pid (\d+)\)/.exec(gw.stderr)[1]);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => new RegExp(`FTP server \\(pid ${pid}\\) killed by signal 9`).test(gw.stderr), 5000, 'the death seen');
    await waitFor(() => (gw.stderr.match(/FTP server for log uploads/g) || []).length === 2, 10000, 'started again');

    const ok = await curl(['-T', file('x.log', LOG), `${location}x.log`]);
    assert.equal(ok.code, 0, ok.err);
    // a second file for the same request: refused
    assert.notEqual((await curl(['-T', file('y', 'again'), `${location}y.log`])).code, 0, 'a second file');
    await charger.call('DiagnosticsStatusNotification', { status: 'Uploaded' });
    const got = await waitFor(() => host.received.find((r) => r.url === '/diag/x.log'), 10000, 'the file at the host');
    assert.equal(got.method, 'PUT');
    assert.equal(sha256(got.body), sha256(LOG));
    const told = await waitFor(() => csms.heard.find((h) => h.id === 'FTPX'), 10000, 'the status at the CSMS');
    assert.equal(told.status, 'Uploaded');
    assert.equal(gw.proc.exitCode, null);
    // the session carries on
    assert.deepEqual(Object.keys(await charger.call('Heartbeat', {})), ['currentTime']);
  });

  it('Uploaded said while the FTP transfer stalls: held, then UploadFailed at the CSMS when it is cut', async () => {
    csms.heard.length = 0;
    await upstream.call('GetDiagnostics', { location: `${host.base}/stall/` });
    // a charger that stops sending: cut after files.idle_timeout (2 s here)
    const stalled = spawn(CURL, ['-sS', '-T', '-', `${location}s.log`], { stdio: ['pipe', 'ignore', 'ignore'] });
    stalled.stdin.on('error', () => {});
    stalled.stdin.write(Buffer.alloc(100, 0x61));
    await waitFor(() => /the charger stores s\.log by FTP/.test(gw.stderr), 5000, 'the transfer begun');
    const started = Date.now();
    // the charger claims success early: answered by the gateway, not relayed
    assert.deepEqual(await charger.call('DiagnosticsStatusNotification', { status: 'Uploaded' }), {});
    await waitFor(() => /FTP upload of s\.log failed: 421 Data connection timed out/.test(gw.stderr), 10000,
      'the stalled upload cut');
    assert.ok(Date.now() - started >= 1000, 'cut before the idle timeout');
    stalled.kill();
    const told = await waitFor(() => csms.heard.find((h) => h.id === 'FTPX'), 10000, 'the status at the CSMS');
    assert.equal(told.status, 'UploadFailed');
    assert.equal(csms.heard.length, 1, JSON.stringify(csms.heard));
    assert.equal(host.received.filter((r) => r.url.startsWith('/stall/')).length, 0);
  });
});

// The gateway's start with @config fails: its log.
async function failedStart(config) {
  let gw;
  try {
    gw = await startGateway({ config });
  } catch (err) {
    return err.stderrText ?? err.message;
  }
  // listening already (the chargers' port opens first): it must exit still
  const res = await Promise.race([gw.exited, new Promise((r) => setTimeout(r, 5000, null))]);
  if (res && res.code) {
    fs.rmSync(gw.dir, { recursive: true, force: true });
    return gw.stderr;
  }
  await gw.stop();
  throw new Error(`ocppgw started with:\n${config}`);
}

describe('the FTP server does not outlive the gateway', { timeout: 30000, skip }, () => {
  it('a SIGKILLed gateway\'s FTP server exits (the end of its standard input)', async () => {
    const c = await ftpConfig();
    const gw = await startGateway({ config: c.config });
    try {
      await waitFor(() => /FTP server for log uploads \(.*, pid \d+\)/.test(gw.stderr), 10000, 'the FTP server ready');
      const pid = Number(/FTP server for log uploads \(.*, pid (\d+)\)/.exec(gw.stderr)[1]);
      const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
      assert.ok(alive());
      gw.signal('SIGKILL');
      await gw.exited;
      await waitFor(() => !alive(), 5000, `the FTP server (pid ${pid}) gone`);
    } finally {
      await gw.stop();
    }
  });
});

describe('files.ftp settings', { timeout: 30000 }, () => {
  it('a missing server program stops the start with its name; bad settings name themselves', async () => {
    assert.match(await failedStart(`files = { listen = "127.0.0.1:${await freePort()}";
  ftp = { listen = "127.0.0.1:${await freePort()}"; server = "/nonexistent/ocppgw-ftpd"; }; };\n`),
    /:2: files\.ftp\.server: cannot use '\/nonexistent\/ocppgw-ftpd': No such file or directory/);
    assert.match(await failedStart(`files = { ftp = { listen = "127.0.0.1:${await freePort()}"; }; };\n`),
      /files\.ftp\.listen needs files\.listen/);
    assert.match(await failedStart(`files = { listen = "127.0.0.1:${await freePort()}";
  ftp = { listen = "127.0.0.1:2121"; passive_ports = "9-3"; }; };\n`),
    /:2: files\.ftp\.passive_ports: expected "FIRST-LAST"/);
    assert.match(await failedStart(`files = { listen = "127.0.0.1:${await freePort()}";
  ftp = { listen = "127.0.0.1:2121"; uploads = "sometimes"; }; };\n`),
    /files\.ftp\.uploads: expected auto or always/);
  });
});
