// SPDX-License-Identifier: MIT
//
// Starts ocppgw with exactly the given options, for tests about how it
// starts or refuses to: unlike harness.mjs's startGateway it adds no
// --listen or --admin and expects either outcome.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';

import { OCPPGW_BIN, tmpDir, waitFor } from './harness.mjs';

// How long a gateway may take to exit after SIGTERM: an ASan build on a
// loaded machine takes several seconds (lws's context teardown on libuv).
export const SLOW_EXIT_MS = 30000;

// Runs ocppgw with @args (and a throw-away --data-dir unless @args has one)
// until it logs "listening on" or exits. Returns {proc, listened, code,
// signal, log, stop}: code and signal are null while it runs; stop() ends
// it (SIGTERM) and removes the throw-away directory.
export async function launchGateway(args) {
  const dir = tmpDir();
  const all = args.includes('--data-dir') ? args : ['--data-dir', path.join(dir, 'data'), ...args];
  const proc = spawn(OCPPGW_BIN, all, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => { log += d; });
  const exited = once(proc, 'exit');
  const ready = waitFor(() => /listening on /.test(log), 15000, 'listening on').then(() => null, () => null);
  const first = await Promise.race([exited.then(([code, signal]) => ({ code, signal })), ready]);
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  if (first) await stop();
  return {
    proc, listened: !first, code: first?.code ?? null, signal: first?.signal ?? null,
    get log() { return log; }, stop,
  };
}
