// SPDX-License-Identifier: MIT
// A WebSocket client on a bare TCP socket, for the bytes a WebSocket
// library refuses to send: any request line and headers, frames with any
// opcode, mask bit and announced length. It reads the server's answer as
// an HTTP status, then as frames (text, binary, close, ping, pong).
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

import { withTimeout } from './harness.mjs';

// One frame's bytes. opcode 1 text, 2 binary, 0 continuation, 8 close,
// 9 ping; `length` overrides the announced payload length (the payload
// sent is still `payload`), `mask` false sends it unmasked.
export function frame(payload, { opcode = 1, fin = true, mask = true, length } = {}) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload ?? '');
  const n = length ?? body.length;
  let head;
  if (n < 126) {
    head = Buffer.from([0, n]);
  } else if (n < 65536) {
    head = Buffer.alloc(4);
    head.writeUInt16BE(n, 2);
    head[1] = 126;
  } else {
    head = Buffer.alloc(10);
    head.writeBigUInt64BE(BigInt(n), 2);
    head[1] = 127;
  }
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (!mask) return Buffer.concat([head, body]);
  head[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const masked = Buffer.from(body);
  for (let i = 0; i < masked.length; i++) masked[i] ^= key[i & 3];
  return Buffer.concat([head, key, masked]);
}

// A close frame's payload: the code and a reason.
export const closePayload = (code, reason = '') =>
  Buffer.concat([Buffer.from([code >> 8, code & 255]), Buffer.from(reason)]);

// The upgrade request for `path` as text; `headers` adds or replaces lines.
export function upgradeRequest(port, path, { protocol = 'ocpp1.6', headers = {} } = {}) {
  const h = {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...(protocol ? { 'Sec-WebSocket-Protocol': protocol } : {}),
    ...headers,
  };
  const lines = Object.entries(h).filter(([, v]) => v != null).map(([k, v]) => `${k}: ${v}`);
  return `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

// A raw connection: `send(bytes)`, `response()` resolves with the HTTP
// answer {status, headers, body} once its head (and a Content-Length body)
// is in, `next()` with the next server frame {opcode, payload, code,
// reason}, `ended` when the server has closed the TCP connection.
// `tlsOptions` (node:tls connect options, e.g. { ca }) makes it wss://.
export async function rawConnect(port, tlsOptions) {
  const sock = tlsOptions
    ? tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...tlsOptions })
    : net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => {
    sock.once(tlsOptions ? 'secureConnect' : 'connect', resolve);
    sock.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  let http = null;
  const frames = [];
  const waiters = [];
  let done = false;
  const ended = new Promise((resolve) => sock.once('close', () => { done = true; wake(); resolve(); }));
  sock.on('error', () => {});
  function wake() {
    for (const w of waiters.splice(0)) w();
  }
  function parse() {
    if (!http) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers = {};
      for (const l of head.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const status = Number(/^HTTP\/1\.[01] (\d+)/.exec(head[0])?.[1]);
      const clen = Number(headers['content-length'] ?? 0);
      if (status !== 101 && buf.length < end + 4 + clen) return;
      const bodyEnd = status === 101 ? end + 4 : end + 4 + clen;
      http = { status, headers, body: buf.subarray(end + 4, bodyEnd).toString() };
      buf = buf.subarray(bodyEnd);
    }
    while (http.status === 101 && buf.length >= 2) {
      let n = buf[1] & 127;
      let off = 2;
      if (n === 126) { if (buf.length < 4) return; n = buf.readUInt16BE(2); off = 4; }
      else if (n === 127) { if (buf.length < 10) return; n = Number(buf.readBigUInt64BE(2)); off = 10; }
      if (buf.length < off + n) return;
      const f = { opcode: buf[0] & 15, fin: !!(buf[0] & 0x80), payload: buf.subarray(off, off + n) };
      if (f.opcode === 8 && n >= 2) {
        f.code = f.payload.readUInt16BE(0);
        f.reason = f.payload.subarray(2).toString();
      }
      if (f.opcode === 1) f.text = f.payload.toString();
      frames.push(f);
      buf = buf.subarray(off + n);
    }
  }
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    parse();
    wake();
  });
  async function until(fn, ms, what) {
    return withTimeout((async () => {
      for (;;) {
        const v = fn();
        if (v !== undefined) return v;
        if (done) throw new Error(`connection closed before ${what}`);
        await new Promise((r) => waiters.push(r));
      }
    })(), ms, what);
  }
  return {
    sock,
    ended,
    get closed() { return done; },
    send(bytes) { if (!sock.destroyed) sock.write(bytes); },
    response(ms = 5000) { return until(() => http ?? undefined, ms, 'HTTP response'); },
    // The next frame other than a ping (pings are answered by nothing here).
    next(ms = 5000) {
      return until(() => {
        while (frames.length && frames[0].opcode === 9) frames.shift();
        return frames.length ? frames.shift() : undefined;
      }, ms, 'next frame');
    },
    destroy() { sock.destroy(); },
  };
}

// Opens an OCPP WebSocket by hand: upgrade, expect 101. Returns the raw
// connection; `call(frame)` sends a masked text frame of JSON text.
export async function rawSession(port, identity, protocol = 'ocpp1.6', tlsOptions) {
  const c = await rawConnect(port, tlsOptions);
  c.send(upgradeRequest(port, `/ocpp/${identity}`, { protocol }));
  const res = await c.response();
  if (res.status !== 101) {
    c.destroy();
    throw new Error(`upgrade of ${identity} answered ${res.status} ${res.body}`);
  }
  c.text = (t) => c.send(frame(t));
  return c;
}

// A WebSocket server on a bare TCP socket, for a peer that sends what a
// library would not (a CSMS announcing 2^40 bytes): it accepts any upgrade
// with the first subprotocol offered, unmasks the client's text frames and
// hands each to `onText(text, sock)`; `sock.write()` sends raw bytes and
// `sock.closedAt` is set when the client has closed. `close()` stops it.
export async function rawWsServer(onText) {
  const sockets = [];
  const srv = net.createServer((sock) => {
    sockets.push(sock);
    sock.closedAt = null;
    sock.on('close', () => { sock.closedAt = Date.now(); });
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let upgraded = false;
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        const key = /sec-websocket-key:\s*(\S+)/i.exec(head)[1];
        const proto = /sec-websocket-protocol:\s*([^,\r\n]+)/i.exec(head)?.[1].trim();
        const accept = crypto.createHash('sha1')
          .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' +
          `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n` +
          (proto ? `Sec-WebSocket-Protocol: ${proto}\r\n` : '') + '\r\n');
        upgraded = true;
      }
      while (buf.length >= 6) {
        let n = buf[1] & 127;
        let off = 2;
        if (n === 126) { if (buf.length < 8) return; n = buf.readUInt16BE(2); off = 4; }
        else if (n === 127) return; // a client of ours never sends that much
        if (buf.length < off + 4 + n) return;
        const mask = buf.subarray(off, off + 4);
        const payload = Buffer.from(buf.subarray(off + 4, off + 4 + n).map((b, i) => b ^ mask[i & 3]));
        const opcode = buf[0] & 15;
        buf = buf.subarray(off + 4 + n);
        if (opcode === 1) onText(payload.toString(), sock);
      }
    });
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: srv.address().port,
    url: `ws://127.0.0.1:${srv.address().port}/ocpp`,
    sockets,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => srv.close(resolve));
    },
  };
}

// An onText for rawWsServer(): answers the first CALL with a frame header
// announcing 2^40 bytes, then streams 64 KiB every 5 ms until the socket
// is closed.
export function streamHugeAnswer(text, sock) {
  if (sock.streaming) return;
  const call = JSON.parse(text);
  if (call[0] !== 2) return;
  sock.streaming = true;
  sock.write(frame(`[3,"${call[1]}",{"currentTime":"`, { mask: false, length: 2 ** 40 }));
  const t = setInterval(() => {
    if (sock.destroyed) clearInterval(t); else sock.write(Buffer.alloc(65536, 0x41));
  }, 5);
}
