// SPDX-License-Identifier: MIT
//
// The file side of the files tests: a CSMS file host (a Node http server
// on a free 127.0.0.1 port that counts every request and can truncate or
// stall), and a charger that downloads the firmware location it is given
// and reports the matching status notifications, as a real one does.

import crypto from 'node:crypto';
import http from 'node:http';

import { freePort } from './harness.mjs';

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

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
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
// InstallationFailed with opts.failInstall). client.firmware records each
// request and what came of it ({ params, location, hash, error, at }).
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
        const body = await get(location);
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

function send(url, method, body, type) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { 'Content-Type': type, 'Content-Length': body.length } },
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
// Uploading, then Uploaded or UploadFailed. client.logs records each
// ({ params, location, error, done, reportedAt }).
export function logCharger(client, version, body) {
  client.logs = [];
  const take = (params, location, url, method, notify, requestId) => {
    const rec = { params, location };
    client.logs.push(rec);
    const report = (status) => client.call(notify,
      requestId === undefined ? { status } : { status, requestId }).catch(() => {});
    setImmediate(async () => {
      await report('Uploading');
      try {
        await send(url, method, body, 'text/plain');
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
