// SPDX-License-Identifier: MIT
//
// The files the gateway reads, made hostile (issue 12, finding 7 and the
// file doors): config files with bad syntax, wrong types, missing or wrong
// files named in them and huge values; store files that are corrupt,
// truncated, a directory, empty, read-only or from a newer ocppgw; schema
// directories with bad JSON, huge files, missing ones, a FIFO and a symlink
// loop. Each asserts the error text (file:line for the config) and the exit
// status, never a signal; a bad config sent with SIGHUP leaves the running
// gateway, and a charger on it, served.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  SRC_ROOT, connectCharger, freePort, runOcppgw, startGateway, stopAll, tmpDir, waitFor, withTimeout,
} from './lib/harness.mjs';
import { SLOW_EXIT_MS, launchGateway } from './lib/launch.mjs';

const dir = tmpDir('ocppgw-hostile-files-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function conf(text) {
  const file = path.join(dir, `c${++n}.conf`);
  fs.writeFileSync(file, text);
  return file;
}

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// --check-config, then a real start with the same file: both must exit 2
// with @pattern on stderr, and neither by a signal.
async function refused(file, pattern, extra = []) {
  const check = await runOcppgw(['-c', file, '--check-config', ...extra]);
  assert.equal(check.signal, null, check.stderr);
  assert.equal(check.code, 2, check.stderr);
  assert.match(check.stderr, pattern);
  const start = await runOcppgw(['-c', file, '--listen', `127.0.0.1:${await freePort()}`,
    '--admin', '', '--data-dir', path.join(dir, 'data'), ...extra]);
  assert.equal(start.signal, null, start.stderr);
  assert.equal(start.code, 2, start.stderr);
  assert.match(start.stderr, pattern);
  assert.doesNotMatch(start.stderr, /listening on/);
}

describe('config file', { timeout: 120000 }, () => {
  it('bad syntax: file:line of the error', async () => {
    const f = conf('listen = "127.0.0.1:9000";\nadmin = {\n  token = "x"\n');
    await refused(f, new RegExp(`${esc(f)}:\\d+: syntax error`));
  });

  it('wrong types: each names file:line and what was expected', async () => {
    const f = conf('listen = 5;\nocpp = {\n  max_frame_size = "big";\n};\nadmin = { idle_timeout = 0.5; };\n');
    await refused(f, new RegExp(`${esc(f)}:1: listen: expected a string`));
    await refused(f, new RegExp(`${esc(f)}:3: ocpp.max_frame_size: expected an integer`));
    await refused(f, new RegExp(`${esc(f)}:5: admin.idle_timeout: expected whole seconds`));
  });

  it('a missing tls.cert is found at --check-config, not by lws at start', async () => {
    const f = conf('# TLS\ntls = {\n  cert = "/nonexistent/server.pem";\n  key = "/nonexistent/server.key";\n};\n');
    await refused(f, new RegExp(`${esc(f)}:3: tls.cert: cannot use '/nonexistent/server.pem': No such file or directory`));
    await refused(f, new RegExp(`${esc(f)}:4: tls.key: cannot use '/nonexistent/server.key'`));
  });

  it('a directory where a file is meant, and a file where a directory is meant', async () => {
    const f = conf(`tls = { cert = "${dir}"; key = "${dir}"; };\nocpp = { schema_dir = "${f0()}"; };\n`);
    await refused(f, new RegExp(`${esc(f)}:1: tls.cert: cannot use '${esc(dir)}': is a directory, not a file`));
    await refused(f, new RegExp(`${esc(f)}:2: ocpp.schema_dir: cannot use '.*': is not a directory`));
    // set by a flag: the flag is named
    await refused(conf(''), /--schema-dir \/ ocpp.schema_dir: cannot use '\/nonexistent': No such file/,
      ['--schema-dir', '/nonexistent']);
  });

  it('huge values: out of range, too long, too deep', async () => {
    const f = conf(`ocpp = { max_frame_size = 99999999999999999; };\nadmin = { token = "${'t'.repeat(5000)}"; };\n`);
    await refused(f, new RegExp(`${esc(f)}:1: ocpp.max_frame_size: must be between 1024 and 16777216`));
    await refused(f, new RegExp(`${esc(f)}:2: admin.token: must be at most 1024`));
    const deep = conf(`${'a = {'.repeat(3000)}${'};'.repeat(3000)}\n`);
    const r = await runOcppgw(['-c', deep, '--check-config']);
    assert.equal(r.signal, null);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`${esc(deep)}:1: `));
    // A megabyte of comments and a long valid value load as they are.
    const big = conf(`${'# padding\n'.repeat(100000)}csms = { url = "ws://csms.example/${'p'.repeat(100000)}"; };\n`);
    const ok = await runOcppgw(['-c', big, '--check-config']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /configuration OK/);
  });

  it('--response-timeout takes fractions, as the file does, and says so when refusing', async () => {
    const ok = await runOcppgw(['--check-config', '--response-timeout', '2.5']);
    assert.equal(ok.code, 0, ok.stderr);
    for (const bad of ['abc', '0', '3601', '-1', '1e999']) {
      const r = await runOcppgw(['--check-config', '--response-timeout', bad]);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /--response-timeout: expected seconds, more than 0 .* at most 3600, fractions allowed/);
    }
  });
});

// A throw-away schema directory copied from schemas/, changed by @edit.
function schemaDir(edit) {
  const d = path.join(dir, `schemas${++n}`);
  for (const v of ['1.6', '2.0.1', '2.1'])
    fs.cpSync(path.join(SRC_ROOT, 'schemas', v), path.join(d, v), { recursive: true });
  edit(d);
  return d;
}

function f0() {
  const f = path.join(dir, 'plain-file');
  fs.writeFileSync(f, 'x');
  return f;
}

// The gateway with @args and no admin listener, stopped at once if it starts.
async function start(args) {
  const g = await launchGateway(['--listen', `127.0.0.1:${await freePort()}`, '--admin', '', ...args]);
  if (g.listened) await g.stop();
  return g;
}

describe('schema directory', { timeout: 120000 }, () => {
  const cases = [
    ['bad JSON', (d) => fs.writeFileSync(path.join(d, '1.6/HeartbeatRequest.json'), '{"type": "object", '),
      /Failed to load OCPP 1\.6 schemas: .*\/1\.6\/HeartbeatRequest\.json:\d+: /],
    ['a huge file', (d) => fs.writeFileSync(path.join(d, '2.0.1/HeartbeatRequest.json'),
      `{"type":"object","description":"${'x'.repeat(2 * 1024 * 1024)}"}`),
    /HeartbeatRequest\.json: 2097\d+ bytes, more than the 1048576 a schema may have/],
    ['an empty version directory', (d) => {
      fs.rmSync(path.join(d, '2.1'), { recursive: true });
      fs.mkdirSync(path.join(d, '2.1'));
    }, /Failed to load OCPP 2\.1 schemas: .*2\.1: no \*\.json schema files/],
    ['a missing version', (d) => fs.rmSync(path.join(d, '2.0.1'), { recursive: true }),
      /Failed to load OCPP 2\.0\.1 schemas: .*2\.0\.1: No such file or directory/],
    ['a symlink loop', (d) => {
      fs.rmSync(path.join(d, '1.6/AuthorizeRequest.json'));
      fs.symlinkSync('AuthorizeRequest.json', path.join(d, '1.6/AuthorizeRequest.json'));
    }, /AuthorizeRequest\.json: Too many levels of symbolic links/],
    ['a FIFO', (d) => spawnSyncOk('mkfifo', [path.join(d, '1.6/StuckRequest.json')]),
      /StuckRequest\.json: not a regular file/],
  ];
  for (const [what, edit, pattern] of cases) {
    it(`${what}: refused at start with the file and why`, async () => {
      const r = await start(['--data-dir', path.join(dir, 'data'), '--schema-dir', schemaDir(edit)]);
      assert.equal(r.signal, null, r.log);
      assert.equal(r.listened, false, r.log);
      assert.equal(r.code, 1, r.log);
      assert.match(r.log, pattern);
    });
  }
});

function spawnSyncOk(cmd, args) {
  const { status } = spawnSync(cmd, args);
  assert.equal(status, 0, `${cmd} ${args.join(' ')}`);
}

// A store made by the gateway itself, then stopped cleanly.
async function realStore() {
  const data = path.join(dir, `store${++n}`);
  const gw = await startGateway({ dataDir: data, args: ['--admin', ''] });
  await stopAll({ gw, stopTimeoutMs: SLOW_EXIT_MS });
  return path.join(data, 'ocppgw.db');
}

describe('store file', { timeout: 180000 }, () => {
  async function refusedStore(data, pattern) {
    const r = await start(['--data-dir', data]);
    assert.equal(r.signal, null, r.log);
    assert.equal(r.listened, false, r.log);
    assert.equal(r.code, 1, r.log);
    assert.match(r.log, pattern);
  }

  it('random bytes: not an SQLite database, left untouched', async () => {
    const data = path.join(dir, `s${++n}`);
    fs.mkdirSync(data);
    const junk = Buffer.alloc(8192, 0x5a);
    fs.writeFileSync(path.join(data, 'ocppgw.db'), junk);
    await refusedStore(data, /Failed to open the store: .*ocppgw\.db: Failed to read: not an SQLite database \(refusing to touch it\)/);
    assert.deepEqual(fs.readFileSync(path.join(data, 'ocppgw.db')), junk);
  });

  it('truncated to half: corrupt, refused', async () => {
    const db = await realStore();
    const bytes = fs.readFileSync(db);
    fs.writeFileSync(db, bytes.subarray(0, bytes.length / 2));
    await refusedStore(path.dirname(db), /ocppgw\.db: Failed to read: database is corrupt \(refusing to touch it\)/);
  });

  it('a directory where the store file goes: says so', async () => {
    const data = path.join(dir, `s${++n}`);
    fs.mkdirSync(path.join(data, 'ocppgw.db'), { recursive: true });
    await refusedStore(data, /ocppgw\.db: is a directory, not the store file: move it away/);
  });

  it('from a newer ocppgw: refused with both versions', async () => {
    const db = await realStore();
    // python3 is a build requirement (meson) and has SQLite built in.
    spawnSyncOk('python3', ['-c', 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); ' +
      "c.execute(\"UPDATE meta SET value = 99 WHERE key = 'schema_version'\"); c.commit()", db]);
    await refusedStore(path.dirname(db), /created by a newer ocppgw \(schema 99 > \d+\)/);
  });

  it('read-only: refused before the first write', { skip: process.getuid?.() === 0 && 'root writes anyway' }, async () => {
    const db = await realStore();
    fs.chmodSync(db, 0o444);
    await refusedStore(path.dirname(db), /Failed to open for writing: permission denied/);
  });

  it('zero bytes: a new store, said in the log, and chargers are served', async () => {
    const data = path.join(dir, `s${++n}`);
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'ocppgw.db'), '');
    const gw = await startGateway({ dataDir: data });
    const c = await connectCharger(gw, 'Z1', '1.6');
    try {
      assert.match(gw.stderr, /store .*ocppgw\.db \(schema \d+\): new store \(the file was empty\)/);
      const hb = await c.call('Heartbeat', {});
      assert.ok(hb.currentTime);
    } finally {
      await stopAll({ clients: [c], gw, stopTimeoutMs: SLOW_EXIT_MS });
    }
  });
});

describe('a bad config sent with SIGHUP', { timeout: 60000 }, () => {
  let gw;
  let c;

  before(async () => {
    gw = await startGateway({ config: 'chargers = ( { id = "R1"; } );\n' });
    c = await connectCharger(gw, 'R1', '1.6');
  });
  after(async () => {
    await stopAll({ clients: [c], gw, stopTimeoutMs: SLOW_EXIT_MS });
  });

  it('keeps the running configuration and the charger served', async () => {
    const bad = [
      ['chargers = ( { id = "R1"; } \n', /syntax error/],
      ['chargers = ( { id = "R1"; } );\ntls = { cert = "/nonexistent/c.pem"; key = "/nonexistent/k.pem"; };\n',
        /:2: tls.cert: cannot use '\/nonexistent\/c.pem'/],
    ];
    for (const [text, pattern] of bad) {
      const before = gw.stderr.length;
      gw.writeConfig(text);
      gw.signal('SIGHUP');
      await waitFor(() => /reload failed: keeping the running configuration/.test(gw.stderr.slice(before)),
        10000, 'reload failed');
      assert.match(gw.stderr.slice(before), pattern);
      assert.equal(gw.proc.exitCode, null);
      const hb = await withTimeout(c.call('Heartbeat', {}), 10000, 'Heartbeat after a bad reload');
      assert.ok(hb.currentTime);
    }
  });
});
