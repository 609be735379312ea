// SPDX-License-Identifier: MIT
// Many chargers at once: each opens its own upstream WebSocket, and lws
// queues the ones it cannot start yet (header tables, connect limits). A
// queued connection that fails is reported without the session as its
// user; the gateway must still hear of it, or the session keeps a dead
// connection and a later close touches freed memory (a SIGSEGV found by
// the twin harness with 150 chargers booting together). Here: a burst
// against a CSMS that never answers the handshake, chargers leaving while
// their upstream is still connecting, then a burst against a real CSMS
// where every charger's boot must be answered by that CSMS.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';

import { connectCharger, closeClient, freePort, startCsms, startGateway, sleep, waitFor }
  from './lib/harness.mjs';

const BURST = 120;
const started = [];
after(async () => { for (const s of started.reverse()) await s().catch(() => {}); });

// A TCP server that takes connections and never says a word; with
// @dropMs, it hangs up on each one that long after accepting it.
async function silentServer(dropMs = 0) {
  const socks = new Set();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on('error', () => {});
    s.on('close', () => socks.delete(s));
    if (dropMs) setTimeout(() => s.destroy(), dropMs);
  });
  const port = await freePort();
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  return {
    port,
    close: () => new Promise((r) => { for (const s of socks) s.destroy(); srv.close(r); }),
  };
}

for (const dropMs of [0, 300])
test(`chargers leaving while their upstream is still connecting (CSMS ${dropMs ? 'hangs up' : 'silent'}) do not crash the gateway`, async () => {
  const silent = await silentServer(dropMs);
  started.push(() => silent.close());
  const gw = await startGateway({ csmsUrl: `ws://127.0.0.1:${silent.port}/ocpp`,
    args: ['--response-timeout', '2'] });
  started.push(() => gw.stop());
  const opened = await Promise.allSettled(Array.from({ length: BURST }, (_, i) =>
    connectCharger(gw, `BURST-S-${i}`, '1.6', { callTimeoutMs: 3000 })));
  const clients = opened.filter((o) => o.status === 'fulfilled').map((o) => o.value);
  assert.equal(clients.length, BURST, 'every charger got its WebSocket');
  // Every boot waits for the first upstream attempt, which never ends here.
  await sleep(1000);
  await Promise.all(clients.map((c) => closeClient(c)));
  await silent.close();
  await sleep(1500);
  assert.equal(gw.proc.exitCode, null, `gateway still running (signal ${gw.proc.signalCode})`);
  started.pop();
  const res = await gw.stop(10000);
  assert.deepEqual(res, { code: 0, signal: null });
});

test('a burst of chargers all reach a real CSMS', async () => {
  const csms = await startCsms();
  csms.responders.BootNotification = () => ({
    currentTime: new Date().toISOString(), interval: 300, status: 'Accepted' });
  started.push(() => csms.close());
  const gw = await startGateway({ csmsUrl: csms.url });
  started.push(() => gw.stop());
  const clients = await Promise.all(Array.from({ length: BURST }, (_, i) =>
    connectCharger(gw, `BURST-R-${i}`, '1.6', { callTimeoutMs: 30000 })));
  const answers = await Promise.all(clients.map((c) => c.call('BootNotification',
    { chargePointVendor: 'V', chargePointModel: 'M' })));
  assert.equal(answers.filter((a) => a.status === 'Accepted').length, BURST);
  await waitFor(() => new Set(csms.calls.filter((c) => c.method === 'BootNotification')
    .map((c) => c.identity)).size === BURST, 10000, 'every boot at the CSMS');
  await Promise.all(clients.map((c) => closeClient(c)));
  started.pop();
  const res = await gw.stop(10000);
  assert.deepEqual(res, { code: 0, signal: null });
});
