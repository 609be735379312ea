// SPDX-License-Identifier: MIT
//
// A full disk under the gateway's file store (issue 16, Deliver 5): the
// firmware and upload directories (data_dir/files, data_dir/uploads) are
// 256 KiB tmpfs mounts made by the test (root only), so a real write()
// fails with ENOSPC; the store stays on the real disk. A firmware download
// that does not fit gives the CSMS DownloadFailed and a log line naming
// the cause; a charger's log upload that does not fit gets 507, so the
// CSMS hears UploadFailed; the partial files are gone, a file that fits
// still goes through, and the chargers' relaying never stops. A firmware
// file the operator uploads (data_dir/firmware, a third mount) gets 507:
// at its head when the disk has less room than its length, at the write()
// when the disk fills while it comes.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  connectCharger, freePort, isoNow, startCsms, startGateway, stopAll, tmpDir, waitFor, withTimeout,
} from './lib/harness.mjs';
import {
  bodyOf, firmwareCharger, logCharger, putFile, rawAdmin, sha256, startFileHost, statusOf,
} from './lib/files-peers.mjs';

const BIG = crypto.randomBytes(400000);   // over the 256 KiB disk
const SMALL = crypto.randomBytes(60000);  // fits
const LOG = crypto.randomBytes(400000);

function tryMount(dir) {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', dir],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    return null;
  } catch (err) {
    return `mount failed: ${err.stderr?.toString().trim() || err.message}`;
  }
}

const base = tmpDir('ocppgw-files-disk-');
// firmware in data_dir/files, charger uploads in data_dir/uploads
const filesDir = path.join(base, 'data', 'files');
const uploadsDir = path.join(base, 'data', 'uploads');
const firmwareDir = path.join(base, 'data', 'firmware');  // the operator's uploads
for (const d of [filesDir, uploadsDir, firmwareDir]) fs.mkdirSync(d, { recursive: true });
const skip = tryMount(filesDir) || tryMount(uploadsDir) || tryMount(firmwareDir);

const statuses = (csms, id, re) => csms.callsOf(id).filter((c) => re.test(c.method))
  .map((c) => c.params.status);

describe('a full disk under data_dir/files', { timeout: 90000, skip: skip || false }, () => {
  let host;
  let csms;
  let gw;
  const chargers = {};
  const up = {};

  before(async () => {
    host = await startFileHost({ '/big.bin': BIG, '/small.bin': SMALL });
    csms = await startCsms();
    const filePort = await freePort();
    gw = await startGateway({
      csmsUrl: csms.url,
      dataDir: path.join(base, 'data'),
      // the caps above the disk: the disk is what says no
      config: `files = { listen = "127.0.0.1:${filePort}"; max_file_size = 1048576;\n` +
        '  max_size = 4194304; max_retry_interval = 1; upload_retry_interval = 1; };\n',
    });
    for (const [id, version] of [['DISK16', '1.6'], ['DISK201', '2.0.1']]) {
      chargers[id] = await connectCharger(gw, id, version);
      firmwareCharger(chargers[id], version);
      logCharger(chargers[id], version, LOG);
      up[id] = await csms.waitClient(id);
    }
  });
  after(async () => {
    await stopAll({ clients: Object.values(chargers), gw, csms });
    await host?.close();
    for (const d of [filesDir, uploadsDir, firmwareDir]) {
      try { execFileSync('umount', [d]); } catch { /* not mounted */ }
    }
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('firmware larger than the disk: DownloadFailed at the CSMS, the cause in the log', async () => {
    await up.DISK16.call('UpdateFirmware', { location: `${host.base}/big.bin`,
      retrieveDate: isoNow(), retries: 1, retryInterval: 1 });
    await waitFor(() => statuses(csms, 'DISK16', /^FirmwareStatusNotification$/)
      .includes('DownloadFailed'), 20000, 'DownloadFailed at the CSMS');
    assert.match(gw.stderr, /big\.bin: attempt \d of \d failed: writing the file failed: No space left on device/);
    // the charger, waiting on the gateway's file server, got an error too;
    // its own DownloadFailed is answered by the gateway: the CSMS hears one
    const rec = await waitFor(() => chargers.DISK16.firmware.find((r) => r.done), 10000,
      'the charger\'s attempt');
    assert.ok(rec.error, 'the charger got no file');
    // done: its DownloadFailed was answered (forwarded, it would be at the CSMS now)
    assert.equal(statuses(csms, 'DISK16', /^FirmwareStatusNotification$/)
      .filter((x) => x === 'DownloadFailed').length, 1);
    // nothing left behind on the full disk
    assert.deepEqual(fs.readdirSync(filesDir).filter((f) => f.endsWith('.part')), []);
  });

  it('the chargers carry on, and a file that fits still goes through', async () => {
    const hb = await chargers.DISK201.call('Heartbeat', {});
    assert.ok(hb.currentTime);
    await up.DISK201.call('UpdateFirmware', { requestId: 3, firmware: {
      location: `${host.base}/small.bin`, retrieveDateTime: isoNow() } });
    const rec = await waitFor(() => chargers.DISK201.firmware.find((r) => r.done), 20000,
      'the small download');
    assert.equal(rec.hash, sha256(SMALL));
    await waitFor(() => statuses(csms, 'DISK201', /^FirmwareStatusNotification$/)
      .includes('Installed'), 10000, 'Installed');
  });

  it('a log upload larger than the disk: 507 to the charger, UploadFailed at the CSMS', async () => {
    await up.DISK16.call('GetDiagnostics', { location: 'http://127.0.0.1:9/logs/' });
    const rec = await waitFor(() => chargers.DISK16.logs.find((r) => r.done), 20000, 'the upload');
    assert.match(rec.error, /HTTP 507/);
    await waitFor(() => statuses(csms, 'DISK16', /^DiagnosticsStatusNotification$/)
      .includes('UploadFailed'), 10000, 'UploadFailed at the CSMS');
    assert.ok(!statuses(csms, 'DISK16', /^DiagnosticsStatusNotification$/).includes('Uploaded'));
    assert.match(gw.stderr, /log upload \S+: Failed to write the file: No space left on device/);
    await chargers.DISK16.call('Heartbeat', {});
  });

  it('a firmware file uploaded to the gateway: 507 up front or mid-body, nothing left behind', async () => {
    const got = await rawAdmin(gw, `PUT /api/firmware/files/big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: ${BIG.length}`);
    assert.equal(statusOf(got), 507, got);
    assert.match(bodyOf(got).error, /has \d+ bytes free/);
    // two that fit alone, not together: A's write() meets the disk B filled
    const A = crypto.randomBytes(150000);
    const B = crypto.randomBytes(150000);
    const { hostname, port } = new URL(gw.adminUrl);
    const sock = net.connect(Number(port), hostname);
    let answer = '';
    sock.on('data', (d) => { answer += d.toString('latin1'); });
    sock.on('error', () => {});
    const closed = new Promise((resolve) => sock.on('close', resolve));
    sock.write(`PUT /api/firmware/files/a.bin HTTP/1.1\r\nHost: x\r\nContent-Length: ${A.length}\r\n\r\n`);
    sock.write(A.subarray(0, 10000));
    await waitFor(() => /firmware file a\.bin: receiving/.test(gw.stderr), 5000, 'a.bin begun');
    const b = await putFile(gw, 'b.bin', B, {});
    assert.equal(b.status, 201, b.text);
    assert.equal(b.json.sha256, sha256(B));
    sock.write(A.subarray(10000));
    await withTimeout(closed, 10000, 'the answer to a.bin');
    assert.equal(statusOf(answer), 507, answer);
    assert.match(bodyOf(answer).error, /No space left on device/);
    assert.deepEqual(fs.readdirSync(firmwareDir).sort(), ['.b.bin.sha256', 'b.bin']);
    assert.deepEqual(fs.readFileSync(path.join(firmwareDir, 'b.bin')), B);
    await chargers.DISK16.call('Heartbeat', {});
  });
});

if (skip) {
  for (const d of [filesDir, uploadsDir, firmwareDir]) {
    try { execFileSync('umount', [d]); } catch { /* not mounted */ }
  }
  describe('a full disk under data_dir/files', () => {
    it(`skipped: ${skip}`, { skip }, () => {});
  });
  fs.rmSync(base, { recursive: true, force: true });
}
