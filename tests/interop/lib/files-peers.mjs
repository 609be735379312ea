// SPDX-License-Identifier: MIT
//
// The file side of the files tests: a CSMS file host (a Node http server
// on a free 127.0.0.1 port that counts every request and can truncate or
// stall, or nginx), and a charger that downloads the firmware location it is given
// and reports the matching status notifications, as a real one does.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { freePort, waitFor, withTimeout } from './harness.mjs';

export const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// files: { '/path': Buffer | { truncateAt: n, body: Buffer } }.
export async function startFileHost(files) {
  const host = { requests: [] };
  const server = http.createServer((req, res) => {
    host.requests.push(req.url);
    const f = files[req.url.split('?')[0]];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    if (Buffer.isBuffer(f)) {
      res.writeHead(200, { 'Content-Length': f.length }).end(f);
      return;
    }
    // Announces the whole length, sends part, then drops the connection.
    res.writeHead(200, { 'Content-Length': f.body.length });
    res.write(f.body.subarray(0, f.truncateAt), () => res.socket.destroy());
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  host.base = `http://127.0.0.1:${port}`;
  host.count = (p) => host.requests.filter((r) => r === p).length;
  host.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });
  return host;
}

// GET @url (http or https; @ca: the PEM an https server must chain to).
function get(url, ca) {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    mod.get(url, ca ? { ca } : {}, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        else resolve(Buffer.concat(chunks));
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

// Makes @client (an ocpp-rpc charger of @version) take firmware updates:
// it accepts, downloads the location, and reports Downloading, then
// Downloaded or DownloadFailed, then Installing and Installed (or
// InstallationFailed with opts.failInstall; opts.ca: the CA an https
// location must chain to). client.firmware records each request and what
// came of it ({ params, location, hash, error, at }).
export function firmwareCharger(client, version, opts = {}) {
  client.firmware = [];
  const report = (method, status, requestId) => client.call(method,
    requestId === undefined ? { status } : { status, requestId }).catch(() => {});
  const take = (params, location, method, requestId) => {
    const rec = { params, location, at: Date.now() };
    client.firmware.push(rec);
    setImmediate(async () => {
      await report(method, 'Downloading', requestId);
      try {
        const body = await get(location, opts.ca);
        rec.hash = sha256(body);
        rec.size = body.length;
        await report(method, 'Downloaded', requestId);
      } catch (err) {
        rec.error = err.message;
        await report(method, 'DownloadFailed', requestId);
        rec.done = true;
        return;
      }
      rec.done = true;
      await report(method, 'Installing', requestId);
      rec.installedAt = Date.now();
      await report(method, opts.failInstall ? 'InstallationFailed' : 'Installed', requestId);
    });
  };
  if (version === '1.6') {
    client.handle('UpdateFirmware', ({ params }) => {
      take(params, params.location, 'FirmwareStatusNotification');
      return {};
    });
    client.handle('SignedUpdateFirmware', ({ params }) => {
      take(params, params.firmware.location, 'SignedFirmwareStatusNotification', params.requestId);
      return { status: 'Accepted' };
    });
  } else {
    client.handle('UpdateFirmware', ({ params }) => {
      take(params, params.firmware.location, 'FirmwareStatusNotification', params.requestId);
      return { status: 'Accepted' };
    });
  }
  return client;
}

// A CSMS log host: takes PUT and POST, keeps each body with when it came
// ({ method, url, type, body, at }). listen() may be called late, on a
// port chosen early, to play an outage.
export function logHost(port) {
  const host = { received: [], port, base: `http://127.0.0.1:${port}` };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      host.received.push({ method: req.method, url: req.url, type: req.headers['content-type'],
        body: Buffer.concat(chunks), at: Date.now() });
      res.writeHead(req.method === 'PUT' ? 201 : 200).end();
    });
  });
  host.listen = () => new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  host.close = () => new Promise((resolve) => {
    if (!server.listening) { resolve(); return; }
    server.closeAllConnections();
    server.close(resolve);
  });
  return host;
}

function send(url, method, body, type, ca) {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(url, { method, ...(ca ? { ca } : {}),
      headers: { 'Content-Type': type, 'Content-Length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
    req.on('error', reject);
    req.end(body);
  });
}

// Makes @client (of @version) answer log requests: it names its file,
// uploads @body to the location it is given (1.6 GetDiagnostics: PUT to
// location + file name; GetLog: POST to the location as is), and reports
// Uploading, then Uploaded or UploadFailed (opts.ca: as firmwareCharger's).
// client.logs records each ({ params, location, error, done, reportedAt }).
export function logCharger(client, version, body, opts = {}) {
  client.logs = [];
  const take = (params, location, url, method, notify, requestId) => {
    const rec = { params, location };
    client.logs.push(rec);
    const report = (status) => client.call(notify,
      requestId === undefined ? { status } : { status, requestId }).catch(() => {});
    setImmediate(async () => {
      await report('Uploading');
      try {
        await send(url, method, body, 'text/plain', opts.ca);
      } catch (err) {
        rec.error = err.message;
      }
      rec.reportedAt = Date.now();
      await report(rec.error ? 'UploadFailed' : 'Uploaded');
      rec.done = true;
    });
  };
  const name = `${client.identity}.log`;
  if (version === '1.6') {
    client.handle('GetDiagnostics', ({ params }) => {
      take(params, params.location, params.location + name, 'PUT', 'DiagnosticsStatusNotification');
      return { fileName: name };
    });
  }
  client.handle('GetLog', ({ params }) => {
    take(params, params.log.remoteLocation, params.log.remoteLocation, 'POST', 'LogStatusNotification',
      params.requestId);
    return { status: 'Accepted', filename: name };
  });
  return client;
}

// nginx as the CSMS's file host: serves `files` ({'/name': Buffer}) from a
// root of its own, takes PUT uploads into it (WebDAV PUT, directories
// made as needed) and logs every request, so a test can count fetches and
// read what was uploaded. `port` may be given to bring a host up where a
// location already points (the end of an outage). stop() ends it.
export async function startNginx(files = {}, port = null) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocppgw-nginx-'));
  const root = path.join(dir, 'www');
  fs.mkdirSync(root);
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(root, name), body);
  const p = port ?? await freePort();
  const log = path.join(dir, 'access.log');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `
daemon off; master_process off; worker_processes 1;
pid ${dir}/nginx.pid; error_log stderr warn;
events { worker_connections 256; }
http {
  log_format plain '$request_method $request_uri $status';
  access_log ${log} plain;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${p};
    root ${root};
    client_max_body_size 64m;
    location / { dav_methods PUT; create_full_put_path on; }
  }
}
`);
  const proc = spawn('/usr/sbin/nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  await waitFor(() => proc.exitCode === null && new Promise((resolve) => {
    const s = net.connect(p, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }), 10000, `nginx on ${p} (${stderr})`);
  const requests = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '')
    .split('\n').filter(Boolean).map((l) => { const [method, uri, status] = l.split(' '); return { method, uri, status: Number(status) }; });
  return {
    port: p,
    root,
    base: `http://127.0.0.1:${p}`,
    requests,
    // GETs of `uri` nginx answered, whatever the status.
    count: (uri) => requests().filter((r) => r.method === 'GET' && r.uri === uri).length,
    file: (name) => { const f = path.join(root, name); return fs.existsSync(f) ? fs.readFileSync(f) : null; },
    get stderr() { return stderr; },
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The log ocppgw-sim generates for a GetDiagnostics (`requestId` 0,
// `logType` DiagnosticsLog) or a GetLog, byte for byte (src/sim/files.c).
export function simLog(id, requestId = 0, logType = 'DiagnosticsLog') {
  let s = `ocppgw-sim ${logType} of ${id}, request ${requestId}\n`;
  for (let i = 0; i < 1000; i++) s += `${String(i).padStart(4, '0')} ${id}: connector 1 available, nothing to report\n`;
  return Buffer.from(s);
}

// The CSMS's host speaking FTP: Debian's python3-pyftpdlib, anonymous with
// write access to a fresh root holding `files` ({'name': Buffer}) and a
// `logs` folder, on a free port. `haveFtpd` says whether it is installed.
const FTPD = '/usr/bin/python3';
export const haveFtpd = spawnSync(FTPD, ['-c', 'import pyftpdlib'], { stdio: 'ignore' }).status === 0;

export async function startFtpd(files = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocppgw-ftp-'));
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(root, name), body);
  fs.mkdirSync(path.join(root, 'logs'));
  const port = await freePort();
  const proc = spawn(FTPD, ['-m', 'pyftpdlib', '-i', '127.0.0.1', '-p', String(port), '-w', '-d', root],
    { stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  await waitFor(() => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }), 10000, 'the FTP server');
  return {
    port,
    root,
    base: `ftp://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

// PUT /api/firmware/files/<name> with `body` (a Buffer: fetch sends its length).
export async function putFile(gw, name, body, headers) {
  const r = await fetch(`${gw.adminUrl}/api/firmware/files/${name}`, { method: 'PUT', headers, body });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

// A request written by hand on a socket of the admin API: `head` (the
// request line and fields, no blank line), then `body`; with `cut`, the
// socket is destroyed after the body instead of waiting for an answer.
export function rawAdmin(gw, head, body = Buffer.alloc(0), { cut = false } = {}) {
  const { hostname, port } = new URL(gw.adminUrl);
  return withTimeout(new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname);
    let got = '';
    sock.on('data', (d) => { got += d.toString('latin1'); });
    sock.on('error', (err) => (cut ? resolve('') : reject(err)));
    sock.on('close', () => resolve(got));
    sock.write(`${head}\r\n\r\n`);
    sock.write(body, () => { if (cut) setTimeout(() => sock.destroy(), 100); });
  }), 10000, 'the admin API\'s answer');
}

// An answer of rawAdmin(): its status, and its JSON body.
export const statusOf = (text) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
export const bodyOf = (text) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
