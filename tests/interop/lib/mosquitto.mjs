// SPDX-License-Identifier: MIT
//
// MQTT plumbing for the interop tests: a real mosquitto broker with its own
// config (127.0.0.1, a free port, persistence in a temp folder so a restart
// keeps persistent sessions), `ocppgw bridge` started and stopped like the
// gateway, and a minimal MQTT 3.1.1 client (QoS 0 publish and subscribe) for
// what the tests inject or watch. It holds no test cases itself.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { OCPPGW_BIN, freePort, sleep, tmpDir, withTimeout } from './harness.mjs';

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN || '/usr/sbin/mosquitto';

async function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

// Starts mosquitto; `restart()` stops it (SIGTERM, it saves its database)
// and starts it again on the same port with the same persistence.
// opts.tls {ca, cert, key}: TLS only, client certificates signed by ca
// required; opts.users {name: password}: password file, no anonymous access.
export async function startBroker(opts = {}) {
  const dir = tmpDir('ocppgw-mosquitto-');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  const auth = ['allow_anonymous true'];
  if (opts.users) {
    const file = path.join(dir, 'passwd');
    fs.writeFileSync(file, '');
    for (const [user, password] of Object.entries(opts.users)) {
      execFileSync('mosquitto_passwd', ['-b', file, user, password], { stdio: 'ignore' });
    }
    auth.splice(0, 1, 'allow_anonymous false', `password_file ${file}`);
  }
  if (opts.tls) {
    auth.push(`cafile ${opts.tls.ca}`, `certfile ${opts.tls.cert}`, `keyfile ${opts.tls.key}`,
      'require_certificate true');
  }
  fs.writeFileSync(conf, [
    // As root, mosquitto would drop to user mosquitto and could not write
    // its database into our temp folder: stay who we are.
    `user ${os.userInfo().username}`,
    `listener ${port} 127.0.0.1`,
    ...auth,
    'persistence true',
    `persistence_location ${dir}/`,
    'persistence_file mosquitto.db',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    '',
  ].join('\n'));
  const broker = { dir, port, proc: null, log: '' };
  broker.url = (site) => `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}/${site}`;
  broker.start = async () => {
    const proc = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr.setEncoding('utf8').on('data', (d) => { broker.log += d; });
    broker.proc = proc;
    broker.exited = new Promise((resolve) => proc.once('exit', resolve));
    const end = Date.now() + 5000;
    while (!(await canConnect(port))) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited:\n${broker.log}`);
      if (Date.now() > end) throw new Error(`mosquitto did not listen:\n${broker.log}`);
      await sleep(25);
    }
  };
  broker.stop = async () => {
    if (!broker.proc || broker.proc.exitCode !== null) return;
    broker.proc.kill('SIGTERM');
    await withTimeout(broker.exited, 5000, 'mosquitto exit').catch(async () => {
      broker.proc.kill('SIGKILL');
      await broker.exited;
    });
  };
  broker.restart = async (downMs = 0) => {
    await broker.stop();
    if (downMs) await sleep(downMs);
    await broker.start();
  };
  broker.close = async () => {
    await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  await broker.start();
  return broker;
}

// `ocppgw bridge ...`; resolves once it has subscribed (its log says so).
export async function startBridge({ mqtt, csms, args = [] }) {
  const argv = ['bridge', '--mqtt', mqtt, '--csms', csms, '-v', ...args];
  const proc = spawn(OCPPGW_BIN, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve) => {
    proc.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
      if (/bridge subscribed to/.test(stderr)) resolve();
    });
  });
  await withTimeout(Promise.race([ready, exited.then((r) => {
    throw new Error(`bridge exited (${JSON.stringify(r)}):\n${stderr}`);
  })]), 10000, `bridge start; log so far:\n${stderr}`).catch((err) => {
    proc.kill('SIGKILL');
    throw err;
  });
  const bridge = {
    proc,
    exited,
    get stderr() { return stderr; },
    async stop(timeoutMs = 5000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      let res;
      try {
        res = await withTimeout(exited, timeoutMs, 'bridge exit after SIGTERM');
      } catch (err) {
        proc.kill('SIGKILL');
        await exited;
        bridge.dumpLog('did not exit after SIGTERM');
        throw err;
      }
      if (process.exitCode || res.code !== 0) bridge.dumpLog(`exit ${res.code} signal ${res.signal}`);
      return res;
    },
    dumpLog(why) {
      const full = path.join(os.tmpdir(), `ocppgw-bridge-${proc.pid}.log`);
      fs.writeFileSync(full, stderr);
      console.error(`---- ocppgw ${argv.join(' ')} (${why}); whole log in ${full}; tail:\n` +
        `${stderr.split('\n').slice(-150).join('\n')}\n----`);
    },
  };
  return bridge;
}

// ---------------------------------------------------------------------------
// A minimal MQTT 3.1.1 client: clean session, QoS 0 only.

function encodeLength(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function str(s) {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function packet(type, flags, body) {
  return Buffer.concat([Buffer.from([(type << 4) | flags]), encodeLength(body.length), body]);
}

// Connects; `messages` collects {topic, payload (string), retain}.
export async function mqttClient(port, clientId = `test-${process.pid}-${Date.now()}`) {
  const sock = net.connect(port, '127.0.0.1');
  const client = { sock, messages: [] };
  let buf = Buffer.alloc(0);
  let connack;
  const connacked = new Promise((resolve) => { connack = resolve; });
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 2) return;
      let mult = 1; let len = 0; let i = 1; let byte;
      do {
        if (i >= buf.length) return;
        byte = buf[i++];
        len += (byte & 0x7f) * mult;
        mult *= 128;
      } while (byte & 0x80);
      if (buf.length < i + len) return;
      const type = buf[0] >> 4;
      const body = buf.subarray(i, i + len);
      if (type === 2) connack(body[1]);
      if (type === 3) {
        const tlen = body.readUInt16BE(0);
        const qos = (buf[0] >> 1) & 3;
        const start = 2 + tlen + (qos ? 2 : 0);
        client.messages.push({ topic: body.subarray(2, 2 + tlen).toString(),
          payload: body.subarray(start).toString(), retain: !!(buf[0] & 1) });
      }
      buf = buf.subarray(i + len);
    }
  });
  sock.on('error', () => {});
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  const vh = Buffer.concat([str('MQTT'), Buffer.from([4, 0x02, 0, 30])]);
  sock.write(packet(1, 0, Buffer.concat([vh, str(clientId)])));
  const rc = await withTimeout(connacked, 3000, 'CONNACK');
  if (rc !== 0) throw new Error(`broker refused the test client: ${rc}`);
  client.publish = (topic, payload, retain = false) => {
    sock.write(packet(3, retain ? 1 : 0, Buffer.concat([str(topic), Buffer.from(payload)])));
  };
  client.subscribe = (topic) => {
    sock.write(packet(8, 2, Buffer.concat([Buffer.from([0, 1]), str(topic), Buffer.from([0])])));
  };
  client.close = () => {
    if (!sock.destroyed) sock.end(packet(14, 0, Buffer.alloc(0)));
  };
  return client;
}
