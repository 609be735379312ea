// SPDX-License-Identifier: MIT
//
// TLS plumbing for tls.test.mjs: a throw-away PKI made with the openssl CLI
// in a temp dir (two CAs, a server certificate for 127.0.0.1 and localhost,
// client certificates by CN), chargers that speak wss://, a strict CSMS
// behind a Node https server, and the gateway's config text. It reuses
// harness.mjs for everything that is not TLS and holds no test cases.

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

import { RPCClient } from 'ocpp-rpc';

import {
  freePort, runOcppgw, startCsms, strictModeValidators, subprotocol, tmpDir,
} from './harness.mjs';

function openssl(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const read = (file) => fs.readFileSync(file);

// A CA: self-signed, P-256, valid two days.
function makeCa(dir, name) {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2',
    '-subj', `/CN=ocppgw test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { name, cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

// A leaf signed by @ca. usage: 'serverAuth' or 'clientAuth'; san: the
// subjectAltName value for a server certificate.
function makeLeaf(dir, ca, name, cn, usage, san = 'IP:127.0.0.1,DNS:localhost') {
  const ext = path.join(dir, `${name}.ext`);
  const lines = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature',
    `extendedKeyUsage=${usage}`];
  if (usage === 'serverAuth') lines.push(`subjectAltName=${san}`);
  fs.writeFileSync(ext, lines.join('\n') + '\n');
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', ca.cert, '-CAkey', ca.key,
    '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', ext]);
  const leaf = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  leaf.pem = { cert: read(leaf.cert), key: read(leaf.key) };
  return leaf;
}

// The test PKI. `ca` signs everything the tests trust; `otherCa` signs
// only foreignClientCert() and stands for "the wrong CA". clientCert(cn)
// makes (and caches) a client certificate signed by `ca`,
// foreignClientCert(cn) one signed by `otherCa`. remove() deletes every file.
export function makePki() {
  const dir = tmpDir('ocppgw-tls-');
  const ca = makeCa(dir, 'ca');
  const otherCa = makeCa(dir, 'other-ca');
  ca.pem = read(ca.cert);
  otherCa.pem = read(otherCa.cert);
  const server = makeLeaf(dir, ca, 'server', 'localhost', 'serverAuth');
  const clients = new Map();
  let n = 0;
  return {
    dir,
    ca,
    otherCa,
    server,
    clientCert(cn) {
      if (!clients.has(cn)) clients.set(cn, makeLeaf(dir, ca, `client-${n++}`, cn, 'clientAuth'));
      return clients.get(cn);
    },
    foreignClientCert: (cn) => makeLeaf(dir, otherCa, `foreign-${n++}`, cn, 'clientAuth'),
    // A server certificate for 127.0.0.1 from `otherCa`: what a charger
    // that trusts only `ca` refuses.
    foreignServerCert: () => makeLeaf(dir, otherCa, `foreign-server-${n++}`, 'localhost', 'serverAuth'),
    // A server certificate from `ca` for another host than 127.0.0.1.
    serverCertFor: (host) => makeLeaf(dir, ca, `server-${n++}`, host, 'serverAuth', `DNS:${host}`),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

// `ocppgw passwd` for @password (a string; the subcommand reads one line).
export async function passwordHash(password) {
  const res = await runOcppgw(['passwd'], { input: `${password}\n` });
  if (res.code !== 0) throw new Error(`ocppgw passwd failed (${res.code}): ${res.stderr}`);
  return res.stdout.trim();
}

// libconfig text. opts: tls {cert, key, ca, requireClientCert}, csms {ca,
// cert, key, clientCertDir}, requireAuth, chargers [{id, passwordHash, upstreamUser,
// upstreamPassword}].
export function gatewayConfig(opts = {}) {
  const q = (s) => JSON.stringify(String(s));
  const out = [];
  if (opts.requireAuth != null) out.push(`require_auth = ${opts.requireAuth};`);
  if (opts.tls) {
    const t = opts.tls;
    out.push('tls = {', `  cert = ${q(t.cert)};`, `  key = ${q(t.key)};`);
    if (t.ca) out.push(`  ca = ${q(t.ca)};`);
    if (t.requireClientCert) out.push('  require_client_cert = true;');
    out.push('};');
  }
  if (opts.csms) {
    out.push('csms = {');
    for (const k of ['ca', 'cert', 'key']) if (opts.csms[k]) out.push(`  ${k} = ${q(opts.csms[k])};`);
    if (opts.csms.clientCertDir) out.push(`  client_cert_dir = ${q(opts.csms.clientCertDir)};`);
    out.push('  reconnect_min = 0.2;', '  reconnect_max = 1.0;', '};');
  }
  if (opts.chargers) {
    const entries = opts.chargers.map((c) => {
      const f = [`id = ${q(c.id)};`];
      if (c.passwordHash) f.push(`password_hash = ${q(c.passwordHash)};`);
      if (c.upstreamUser) f.push(`upstream_user = ${q(c.upstreamUser)};`);
      if (c.upstreamPassword) f.push(`upstream_password = ${q(c.upstreamPassword)};`);
      return `  { ${f.join(' ')} }`;
    });
    out.push('chargers = (', entries.join(',\n'), ');');
  }
  return out.join('\n') + '\n';
}

export const wssEndpoint = (gw) => `wss://127.0.0.1:${gw.port}/ocpp`;

// A strict ocpp-rpc charger over wss://. opts: password (string or Buffer),
// ca (PEM; default none, so Node's own store), cert/key (PEM, profile 3),
// maxVersion/ciphers (what Node's TLS may offer).
// Resolves once connected; rejects as RPCClient.connect() does (err.code is
// the HTTP status when the gateway refused the upgrade).
export async function connectTlsCharger(gw, identity, version, opts = {}) {
  const wsOpts = {};
  for (const k of ['ca', 'cert', 'key', 'maxVersion', 'ciphers']) if (opts[k]) wsOpts[k] = opts[k];
  const client = new RPCClient({
    endpoint: opts.endpoint ?? wssEndpoint(gw),
    identity,
    protocols: [subprotocol(version)],
    strictMode: true,
    strictModeValidators,
    reconnect: false,
    callTimeoutMs: opts.callTimeoutMs ?? 10000,
    pingIntervalMs: 0,
    password: opts.password,
    wsOpts,
  });
  await client.connect();
  return client;
}

// harness.mjs's strict CSMS, also reachable over wss:// through a Node
// https server with @pki's server certificate. The https server asks for a
// client certificate but does not insist, so a test can see what the
// gateway presents: each handshake in csms.handshakes gains `peerCert`
// (the subject CN, or null), `authorized` (signed by pki.ca) and `basic`
// ({user, password} from the Authorization header, whatever the user is;
// ocpp-rpc's own `password` is only set when the user is the identity).
// @server: the certificate to serve, pki.server unless given. @tlsOpts:
// more options for the TLS server (minVersion, maxVersion, ciphers); a
// handshake it refuses is recorded in csms.tlsErrors (OpenSSL's code).
// @checks.cnIsIdentity: refuse (403) an upgrade whose client certificate's
// CN is not the identity in the URL, as a profile-3 CSMS does (the
// handshake is still recorded).
export async function startTlsCsms(pki, server0 = pki.server, tlsOpts = {}, checks = {}) {
  const csms = await startCsms();
  const server = https.createServer({
    cert: server0.pem.cert,
    key: server0.pem.key,
    ca: pki.ca.pem,
    requestCert: true,
    rejectUnauthorized: false,
    ...tlsOpts,
  });
  server.on('upgrade', csms.server.handleUpgrade);
  csms.tlsErrors = [];
  server.on('tlsClientError', (err) => csms.tlsErrors.push(err.code || err.message));
  csms.server.auth((accept, reject, handshake) => {
    const sock = handshake.request.socket;
    const peer = sock.getPeerCertificate?.();
    csms.handshakes.push({
      identity: handshake.identity,
      endpoint: handshake.endpoint,
      protocols: [...handshake.protocols],
      password: handshake.password?.toString(),
      basic: basicAuth(handshake.headers.authorization),
      peerCert: peer && peer.subject ? peer.subject.CN : null,
      authorized: sock.authorized === true,
    });
    const cn = peer && peer.subject ? peer.subject.CN : null;
    if (checks.cnIsIdentity && (cn !== handshake.identity || !sock.authorized)) {
      reject(403, 'client certificate CN is not the identity');
      return;
    }
    accept();
  });
  const port = await freePort();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  csms.tlsPort = port;
  csms.wssUrl = `wss://127.0.0.1:${port}/ocpp`;
  const closePlain = csms.close;
  csms.close = async () => {
    await closePlain();
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
  };
  return csms;
}

// {user, password} of a Basic Authorization header, or null.
function basicAuth(header) {
  const m = /^\s*basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const plain = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = plain.indexOf(':');
  return colon < 0 ? null : { user: plain.slice(0, colon), password: plain.slice(colon + 1) };
}
