// SPDX-License-Identifier: MIT
//
// History (issue 18, Deliver 1): the gateway samples the site and each
// charger into its store, /api/history gives the buckets back, and the
// status page charts them as SVG. Headless Chromium (Debian's chromium,
// driven by playwright-core) logs in with a running ocppgw-sim fleet
// drawing power, opens the History view, reads each chart line's points
// from its data-points attribute and compares them with /api/history for
// the chart's own query; the drawn path has one vertex per point. Bad
// parameters are 400 naming the field. The history survives a restart,
// including buckets written straight into the store (a day and a week of
// them, as an older gateway would have left), which the day and week views
// chart. Screenshots for a phone and a desktop, light and dark, go to
// tests/artifacts/.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import { SRC_ROOT, adminApi, startGateway, tmpDir, waitFor } from './lib/harness.mjs';
import { startFleet, startResponder, stopFleetRig } from './lib/sim-peers.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const ARTIFACTS = path.join(SRC_ROOT, 'tests/artifacts');
const TOKEN = 'history-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const SITE_A = 63;
// Sampling every second, so a test sees buckets fill; the site limit comes
// from load balancing.
const config = (interval) => `history_interval_s = ${interval};
admin = { token = "${TOKEN}"; };
load_balancing = { site = { limit_a = ${SITE_A}.0; phases = 3; }; };
`;
const api = async (gw, q) => {
  const r = await adminApi(gw, 'GET', `/api/history${q}`, undefined, AUTH);
  assert.equal(r.status, 200, `${q}: ${r.text}`);
  return r.json;
};
const MIN = 60000;

// The line of @col in @data as [t, v] pairs, nulls left out (as the page does).
function line(data, col) {
  const k = data.columns.indexOf(col);
  assert.ok(k > 0, `${col} in ${data.columns}`);
  return data.points.filter((p) => p[k] != null).map((p) => [p[0], p[k]]);
}

// Reads every chart of the History view: its query and each line's points
// and drawn vertices.
async function readCharts(page) {
  return page.evaluate(() => [...document.querySelectorAll('#charts svg.chart')].map((svg) => ({
    title: svg.getAttribute('aria-label'),
    query: svg.dataset.query,
    from: Number(svg.dataset.from),
    to: Number(svg.dataset.to),
    lines: [...svg.querySelectorAll('path[data-series]')].map((p) => ({
      col: p.dataset.series,
      points: JSON.parse(p.dataset.points),
      vertices: (p.getAttribute('d').match(/[ML]/g) || []).length,
      xs: [...p.getAttribute('d').matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1])),
    })),
  })));
}

// The page's /api/history answers, by the query the page asked (the
// chart's data-query).
function watchHistory(page) {
  const seen = new Map();
  seen.log = [];
  page.on('response', async (res) => {
    const u = new URL(res.url());
    seen.log.push(`${u.pathname} ${res.status()}`);
    if (u.pathname === '/api/history' && res.ok()) seen.set(`api/history${u.search}`, await res.json());
  });
  page.on('requestfailed', (req) => seen.log.push(`failed ${req.url()} ${req.failure()?.errorText}`));
  return seen;
}

// Each chart line's points are those of the /api/history answer the page
// got for the chart's query, all of them; and /api/history asked again
// with that query gives the same buckets (the newest one may have taken
// more samples meanwhile: its value is compared in the first check only).
async function chartsMatchApi(page, gw, seen, what) {
  const charts = await readCharts(page);
  assert.ok(charts.length >= 1, `${what}: a chart`);
  for (const c of charts) {
    await waitFor(async () => seen.has(c.query), 5000, `${what}: the page's answer for ${c.query}`);
    const got = seen.get(c.query);
    const again = await api(gw, `?${c.query.split('?')[1]}`);
    assert.equal(got.from, c.from);
    assert.equal(got.to, c.to);
    const newest = Math.max(...got.points.map((p) => p[0]));
    for (const l of c.lines) {
      const where = `${what}: ${c.title}, ${l.col}`;
      assert.deepEqual(l.points, line(got, l.col), `${where}: chart and answer differ`);
      // One vertex per point, left to right.
      assert.equal(l.vertices, l.points.length, where);
      assert.deepEqual(l.xs, [...l.xs].sort((a, b) => a - b), where);
      const settled = (pts) => pts.filter(([t]) => t < newest);
      assert.deepEqual(settled(l.points), settled(line(again, l.col)), `${where}: chart and API asked again differ`);
      assert.ok(line(again, l.col).some(([t]) => t === newest) || !l.points.some(([t]) => t === newest), where);
    }
  }
  return charts;
}

// @choose sets the view's filters again after each load (they live in the page).
async function screenshots(page, url, name, choose) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const [size, viewport] of [['phone', { width: 390, height: 844 }], ['desktop', { width: 1440, height: 900 }]]) {
    for (const scheme of ['light', 'dark']) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(url);
      await page.waitForSelector('#history-view[data-loaded="yes"]', { timeout: 20000 }).catch(async (err) => {
        const state = await page.evaluate(() => ({ url: location.href, login: !document.getElementById('login').hidden,
          loaded: document.getElementById('history-view').dataset.loaded,
          hidden: document.getElementById('history-view').hidden, error: document.getElementById('error').textContent }));
        throw new Error(`${name} ${size} ${scheme}: ${err.message} ${JSON.stringify(state)}`);
      });
      await choose();
      await page.screenshot({ path: path.join(ARTIFACTS, `history-${name}-${size}-${scheme}.png`), fullPage: true });
      if (size === 'phone')
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390),
          `${name}: the page scrolls sideways on a phone`);
    }
  }
}

describe('history of a running fleet, charted', { timeout: 170000 }, () => {
  let responder;
  let gw;
  let fleets = [];
  let browser;
  const dataDir = path.join(tmpDir('ocppgw-history-'), 'data');

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (tools/setup.sh)`);
    responder = await startResponder();
    gw = await startGateway({ csmsUrl: responder.endpoint, config: config(1), dataDir });
    fleets = [startFleet({ url: gw.endpoint, version: '1.6', count: 2, duration: 90, idPattern: 'HIST16-%d' }),
      startFleet({ url: gw.endpoint, version: '2.0.1', count: 1, duration: 90, idPattern: 'HIST201-%d' })];
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    await stopFleetRig({ browser, fleets, gw, responder });
    fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('samples the site and each charger drawing power', async () => {
    // A simulated charger charges within seconds (time scale 60).
    await waitFor(async () => line(await api(gw, '?charger=HIST16-1'), 'powerW').some(([, v]) => v > 0),
      40000, 'HIST16-1 drawing power in its history');
    const site = await api(gw, '');
    assert.deepEqual(site.columns, ['t', 'l1A', 'l2A', 'l3A', 'limitA', 'building1A', 'building2A', 'building3A']);
    assert.equal(site.charger, null);
    assert.equal(site.step, 60, 'the last hour: one-minute buckets');
    assert.ok(site.to - site.from === 3600000, 'the last hour by default');
    assert.ok(site.points.length >= 1);
    for (const p of site.points) {
      assert.equal(p[0] % MIN, 0, 'buckets start on the minute');
      assert.equal(p[4], SITE_A, 'the site limit');
      assert.equal(p[5], null, 'no grid meter: no building load');
    }
    const ch = await api(gw, '?charger=HIST16-1');
    assert.deepEqual(ch.columns, ['t', 'powerW', 'l1A', 'l2A', 'l3A']);
    assert.equal(ch.charger, 'HIST16-1');
  });

  it('refuses bad parameters with 400 naming the field', async () => {
    const cases = [
      ['from=yesterday', 'from'], ['from=-5', 'from'], ['from=2026-13-45', 'from'],
      [`from=${'9'.repeat(16)}`, 'from'], [`from=${'9'.repeat(60)}`, 'from'], ['to=%00', 'to'],
      ['to=abc', 'to'], ['from=2000&to=1000', 'from'], ['from=1000&to=1000', 'from'],
      ['step=0', 'step'], ['step=61', 'step'], ['step=-60', 'step'], ['step=abc', 'step'], ['step=', 'step'],
      ['step=86401', 'step'], ['step=60&from=0&to=999999999999999', 'step'],
      ['charger=%00', 'charger'], ['charger=%FF', 'charger'], [`charger=${'x'.repeat(100)}`, 'charger'],
      ['charger=a%2Fb', 'charger'],
    ];
    for (const [q, field] of cases) {
      const r = await adminApi(gw, 'GET', `/api/history?${q}`, undefined, AUTH);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(r.json.field, field, `${q}: ${r.text}`);
      assert.match(r.json.error, new RegExp(`^${field}`), q);
    }
    assert.equal((await adminApi(gw, 'POST', '/api/history', {}, AUTH)).status, 405);
    assert.equal((await adminApi(gw, 'GET', '/api/history')).status, 401, 'credentials are needed');
    // A charger the gateway never saw has an empty history, not an error.
    assert.deepEqual((await api(gw, '?charger=NEVER-SEEN')).points, []);
    // The widest span the coarsest tier allows answers.
    const wide = await api(gw, `?from=0&to=${Date.now()}`);
    assert.equal(wide.step, 3600);
    assert.equal((await api(gw, '?step=3600&from=2026-01-01&to=2026-02-01')).step, 3600);
  });

  it('logs in, charts the site and a charger, the same points as /api/history', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const seen = watchHistory(page);
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()}`));
    const offsite = [];
    page.on('request', (req) => { if (!req.url().startsWith(gw.adminUrl)) offsite.push(req.url()); });
    await page.goto(`${gw.adminUrl}/#history`);
    await page.waitForSelector('#login:not([hidden])', { timeout: 5000 });
    await page.fill('#login-token', TOKEN);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#history-view[data-loaded="yes"]', { timeout: 10000 });

    // The site: load per phase and the limit; no grid meter, no building chart.
    let charts = await chartsMatchApi(page, gw, seen, 'site');
    assert.deepEqual(charts.map((c) => c.title), ['Load per phase against the site limit']);
    const limit = charts[0].lines.find((l) => l.col === 'limitA');
    assert.ok(limit.points.length >= 1 && limit.points.every(([, v]) => v === SITE_A));

    // A charger drawing power.
    await page.selectOption('#hi-charger', 'HIST16-1');
    await page.waitForFunction(() => /charger=HIST16-1/.test(
      document.querySelector('#charts svg')?.dataset.query || ''), null, { timeout: 10000 });
    charts = await chartsMatchApi(page, gw, seen, 'HIST16-1');
    assert.deepEqual(charts.map((c) => c.title), ['Power', 'Current per phase']);
    assert.ok(charts[0].lines[0].points.some(([, v]) => v > 0), 'the chart shows power drawn');
    await screenshots(page, `${gw.adminUrl}/#history`, 'charger', async () => {
      await page.selectOption('#hi-charger', 'HIST16-1');
      await page.waitForFunction(() => /charger=HIST16-1/.test(
        document.querySelector('#charts svg')?.dataset.query || ''), null, { timeout: 10000 });
    });
    assert.deepEqual(offsite, [], 'no request leaves the gateway');
    assert.deepEqual(errors, []);
    await page.close();
  });

  // A series' samples of a minute wait in memory until its last sample;
  // a charger that leaves before that has them written as it goes.
  it('keeps the samples of a charger that leaves mid-minute', async () => {
    const late = startFleet({ url: gw.endpoint, version: '1.6', count: 1, duration: 60, idPattern: 'HISTLATE-%d' });
    fleets.push(late);
    await waitFor(async () => (await adminApi(gw, 'GET', '/api/chargers/HISTLATE-1', undefined, AUTH)).status === 200,
      20000, 'HISTLATE-1 connected');
    // sampled every second; no history read meanwhile (a read writes what is pending)
    await new Promise((r) => setTimeout(r, 3500));
    const stopped = Date.now();
    await late.stop();
    await waitFor(async () => (await adminApi(gw, 'GET', '/api/chargers/HISTLATE-1', undefined, AUTH)).status !== 200,
      20000, 'HISTLATE-1 gone');
    const got = await api(gw, '?charger=HISTLATE-1');
    assert.ok(got.points.length >= 1, 'its samples are in the store');
    const newest = Math.max(...got.points.map((p) => p[0]));
    assert.ok(newest >= (stopped - 1500) - ((stopped - 1500) % MIN),
      `its last minute is there: ${newest} for a stop at ${stopped}`);
  });

  it('keeps the history over a restart, and charts a day and a week of it', async () => {
    // Freeze the chargers' series: no more samples once they are gone.
    for (const f of fleets) await f.stop();
    fleets = [];
    await waitFor(async () => (await adminApi(gw, 'GET', '/api/site', undefined, AUTH)).json.chargers.connected === 0,
      15000, 'the fleet gone');
    await new Promise((r) => setTimeout(r, 1500));
    const beforeStop = await api(gw, '?charger=HIST16-1&from=0');
    assert.ok(beforeStop.points.length >= 1);
    await gw.stop();

    // What an older gateway would have left: a day of one-minute buckets
    // and a week of 15-minute ones for the site, before the fleet's.
    const now = Date.now(), minute = now - (now % MIN), quarter = now - (now % (15 * MIN));
    const rows = [];
    for (let i = 30; i < 1400; i += 1) rows.push([0, minute - i * MIN, 10 + (i % 7), 20 + (i % 5), 5 + (i % 3), 40]);
    for (let i = 4; i < 640; i += 1) rows.push([1, quarter - i * 15 * MIN, 12 + (i % 9), 18, 6 + (i % 4), 40]);
    execFileSync('python3', ['-c', `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executemany("INSERT OR REPLACE INTO history(series, tier, at_ms, n, v1, v2, v3, v4) VALUES('', ?, ?, 1, ?, ?, ?, ?)",
              json.loads(sys.stdin.read()))
c.commit()`, path.join(dataDir, 'ocppgw.db')], { input: JSON.stringify(rows) });

    // Sampling once an hour: nothing new lands while the test reads.
    gw = await startGateway({ csmsUrl: responder.endpoint, config: config(3600), dataDir });
    const afterStart = await api(gw, '?charger=HIST16-1&from=0');
    assert.deepEqual(afterStart.points, beforeStop.points, 'the charger\'s buckets survive the restart');

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const seen = watchHistory(page);
    await page.goto(`${gw.adminUrl}/#history`);
    await page.fill('#login-token', TOKEN);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#history-view[data-loaded="yes"]', { timeout: 10000 });
    for (const [span, ms, step, seeded] of [['day', 86400000, 60, 1370], ['week', 7 * 86400000, 900, 636]]) {
      await page.selectOption('#hi-span', span);
      await page.waitForFunction((ms) => {
        const d = document.querySelector('#charts svg')?.dataset;
        return d && d.to - d.from === ms;
      }, ms, { timeout: 20000 }).catch(async (err) => {
        throw new Error(`the ${span} chart: ${err.message}; the page says: ${await page.locator('#error').innerText()}; ` +
          `it asked: ${[...seen.keys()].join(' ')}; ${seen.log.slice(-12).join(', ')}; it shows: ${await page.locator('#charts svg').first().getAttribute('data-query')}`);
      });
      assert.equal(await page.locator('#charts svg').first().getAttribute('data-step'), String(step));
      const charts = await chartsMatchApi(page, gw, seen, `site, last ${span}`);
      const l1 = charts[0].lines.find((l) => l.col === 'l1A');
      assert.ok(l1.points.length >= seeded - 2, `${span}: ${l1.points.length} points charted`);
      const seededRow = rows.find((r) => r[0] === (step === 60 ? 0 : 1) && r[1] >= charts[0].from);
      assert.deepEqual(l1.points.find(([t]) => t === seededRow[1]), [seededRow[1], seededRow[2]]);
    }
    await screenshots(page, `${gw.adminUrl}/#history`, 'site-week', async () => {
      await page.selectOption('#hi-span', 'week');
      await page.waitForFunction(() => document.querySelector('#charts svg')?.dataset.step === '900',
        null, { timeout: 10000 });
    });
    await page.close();
  });
});
