// SPDX-License-Identifier: MIT
//
// The memory a charger's own client certificate upstream costs (one lws
// client vhost each, docs/SECURITY.md): the gateway's RSS with N chargers
// connected to a wss:// CSMS, first all presenting the one csms.cert, then
// each its own from csms.client_cert_dir. Not a test: it prints figures.
//
// usage: OCPPGW_BIN=build/src/ocppgw node tools/north-cert-memory.mjs [N]

import fs from 'node:fs';
import path from 'node:path';

import { connectCharger, sleep, startGateway, stopAll, tmpDir } from '../tests/interop/lib/harness.mjs';
import { gatewayConfig, makePki, startTlsCsms } from '../tests/interop/lib/tls.mjs';

const N = Number(process.argv[2] || 100);
const pki = makePki();
const dir = tmpDir('ocppgw-cert-memory-');
for (let i = 0; i < N; i++) {
  const id = `MEM-${i}`;
  const leaf = pki.clientCert(id);
  fs.copyFileSync(leaf.cert, path.join(dir, `${id}.pem`));
  fs.copyFileSync(leaf.key, path.join(dir, `${id}.key`));
  fs.chmodSync(path.join(dir, `${id}.key`), 0o600);
}
const shared = pki.clientCert('ocppgw-gateway');
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

const rss = {};
for (const own of [false, true]) {
  const csms = await startTlsCsms(pki);
  const csmsConf = { ca: pki.ca.cert, cert: shared.cert, key: shared.key };
  if (own) csmsConf.clientCertDir = dir;
  const gw = await startGateway({ csmsUrl: csms.wssUrl, config: gatewayConfig({ csms: csmsConf }) });
  const clients = [];
  for (let i = 0; i < N; i++) {
    clients.push(await connectCharger(gw, `MEM-${i}`, '2.0.1'));
    await csms.waitClient(`MEM-${i}`, 10000);
  }
  await sleep(1000);
  rss[own] = rssKb(gw.proc.pid);
  const presented = csms.handshakes.filter((h) => h.peerCert === h.identity).length;
  console.log(`${own ? 'own certificates' : 'one csms.cert  '}: ${N} chargers, VmRSS ${rss[own]} kB, ` +
    `${presented} presented their own`);
  await stopAll({ clients, gw, csms });
}
console.log(`per charger vhost: ${((rss.true - rss.false) / N).toFixed(1)} kB`);
pki.remove();
fs.rmSync(dir, { recursive: true, force: true });
