// SPDX-License-Identifier: MIT
//
// The status page in headless Chromium (Debian's chromium, driven by
// playwright-core): a small fleet of strict chargers (1.6, 2.0.1, 2.1)
// reports boot, status and meter values; the page must show each charger
// with its version, status and draw against its limit, and the site's
// phase load, uplink and queue. The Events view lists what happened,
// newest first, filtered by charger and kind. The Sessions view shows the
// transaction log with energy sums, and its CSV download is what
// `ocppgw sessions` prints. Actions ask for confirmation and show the
// charger's answer. With admin credentials the page logs in first. Last,
// the same over a running ocppgw-sim fleet. Screenshots for a phone and a
// desktop, light and dark, are kept in tests/artifacts/.
// Without chromium the test fails: CI installs it (tools/setup.sh).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import {
  SRC_ROOT, acceptProfiles, adminApi, connectCharger, runOcppgw, startCsms, startGateway, stopAll, waitFor,
} from './lib/harness.mjs';
import { startFleet, startResponder, stopFleetRig } from './lib/sim-peers.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const ARTIFACTS = path.join(SRC_ROOT, 'tests/artifacts');
const now = () => new Date().toISOString();

// A small load_balancing section: the page shows the site's phase load
// against its limit. A headroom of 100 A keeps each limit at max_a (a car
// drawing less is not capped at its draw), so the draw / limit figures are
// fixed: GARAGE-16 (charging) 32 A, GARAGE-21 (idle: its minimum) 16 A.
const SITE_A = 100;
// GARAGE-OFF is configured but never connects: the page lists it offline
// and its actions say why they cannot work.
const LB_CONFIG = `chargers = ( { id = "GARAGE-16"; }, { id = "GARAGE-201"; }, { id = "GARAGE-21"; },
  { id = "GARAGE-OFF"; } );
load_balancing = {
  headroom = 100.0;
  site = { limit_a = ${SITE_A}.0; phases = 3;
    chargers = ( { id = "GARAGE-21"; phases = 1; min_a = 16.0; max_a = 16.0; } ); };
};
`;

const meter16 = (l1, l2, l3, offered) => ({ timestamp: now(), sampledValue: [
  { value: String(l1), measurand: 'Current.Import', phase: 'L1', unit: 'A' },
  { value: String(l2), measurand: 'Current.Import', phase: 'L2', unit: 'A' },
  { value: String(l3), measurand: 'Current.Import', phase: 'L3', unit: 'A' },
  { value: String(offered), measurand: 'Current.Offered', unit: 'A' },
  { value: '7.4', measurand: 'Power.Active.Import', unit: 'kW' },
  { value: '12345', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
] });

describe('status page', { timeout: 60000 }, () => {
  let csms;
  let gw;
  let browser;
  const chargers = [];

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (tools/setup.sh)`);
    csms = await startCsms();
    csms.responders.BootNotification = () => ({ currentTime: now(), interval: 300, status: 'Accepted' });
    csms.responders.StartTransaction = () => ({ transactionId: 4242, idTagInfo: { status: 'Accepted' } });
    gw = await startGateway({ csmsUrl: csms.url, config: LB_CONFIG });

    const a = acceptProfiles(await connectCharger(gw, 'GARAGE-16', '1.6'));
    a.received = [];
    a.handle('Reset', ({ params }) => { a.received.push({ method: 'Reset', params }); return { status: 'Accepted' }; });
    chargers.push(a);
    await a.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'Wallbox16' });
    await a.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    await a.call('StartTransaction', { connectorId: 1, idTag: 'CAR1', meterStart: 0, timestamp: now() });
    await a.call('MeterValues', { connectorId: 1, transactionId: 4242, meterValue: [meter16(16, 16, 16, 32)] });

    const b = acceptProfiles(await connectCharger(gw, 'GARAGE-201', '2.0.1'));
    chargers.push(b);
    await b.call('BootNotification', { reason: 'PowerUp',
      chargingStation: { vendorName: 'Volt', model: 'Wallbox201' } });
    await b.call('StatusNotification', { timestamp: now(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });

    const c = acceptProfiles(await connectCharger(gw, 'GARAGE-21', '2.1'));
    chargers.push(c);
    await c.call('BootNotification', { reason: 'PowerUp',
      chargingStation: { vendorName: 'Next', model: 'Wallbox21' } });
    await c.call('StatusNotification', { timestamp: now(), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
    await c.call('MeterValues', { evseId: 1, meterValue: [{ timestamp: now(), sampledValue: [
      { value: 10, measurand: 'Current.Import' }, { value: 16, measurand: 'Current.Offered' }] }] });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await stopAll({ clients: chargers, gw, csms });
  });

  it('shows every charger, its version, status and draw against its limit', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()}`));
    await page.goto(`${gw.adminUrl}/`);
    await page.waitForSelector('body[data-loaded="yes"]', { timeout: 5000 });
    await page.waitForSelector('tr[data-charger="GARAGE-21"]', { timeout: 5000 });

    const row = (id) => page.locator(`tr[data-charger="${id}"]`).first();
    assert.match(await row('GARAGE-16').locator('.ocpp').innerText(), /^1\.6$/);
    assert.match(await row('GARAGE-201').locator('.ocpp').innerText(), /^2\.0\.1$/);
    assert.match(await row('GARAGE-21').locator('.ocpp').innerText(), /^2\.1$/);
    assert.match(await row('GARAGE-16').locator('.id').innerText(), /ACME Wallbox16/);
    assert.equal(await row('GARAGE-16').locator('.status').innerText(), 'Charging');
    assert.equal(await row('GARAGE-201').locator('.status').innerText(), 'Available');
    assert.equal(await row('GARAGE-21').locator('.status').innerText(), 'Occupied');
    // The balancer's allocation follows the readings: the page shows it at
    // its next poll (on a loaded machine the first one may predate it).
    await page.waitForFunction(() => /32\.0 A/.test(
      document.querySelector('tr[data-charger="GARAGE-16"] .draw')?.textContent || ''), null, { timeout: 5000 });
    assert.match(await row('GARAGE-16').locator('.draw').innerText(), /16\.0 A \/ 32\.0 A/);
    assert.match(await row('GARAGE-21').locator('.draw').innerText(), /10\.0 A \/ 16\.0 A/);
    assert.match(await row('GARAGE-16').locator('.power').innerText(), /7\.40 kW/);
    assert.match(await row('GARAGE-16').locator('.energy').innerText(), /12\.35 kWh/);
    assert.match(await row('GARAGE-16').locator('.tx').innerText(), /4242 \(CAR1\)/);
    assert.match(await row('GARAGE-16').locator('.north').innerText(), /up/);

    // The site: phase load, uplink, queue.
    assert.equal(await page.locator('#n-chargers').innerText(), '3');
    assert.equal(await page.locator('#uplink').innerText(), 'up');
    assert.equal(await page.locator('#queue-depth').innerText(), '0');
    assert.match(await page.locator('tr[data-phase="L1"] .measured').innerText(), /26\.0 A/);
    assert.match(await page.locator('tr[data-phase="L2"] .measured').innerText(), /16\.0 A/);
    // ... against the balancer's site limit, with its allocation.
    for (const ph of ['L1', 'L2', 'L3'])
      assert.equal(await page.locator(`tr[data-phase="${ph}"] .limit`).innerText(), `${SITE_A}.0 A`);
    const site = (await adminApi(gw, 'GET', '/api/site')).json;
    for (const [i, ph] of ['L1', 'L2', 'L3'].entries()) {
      assert.ok(site.phases.allocatedA[i] > 0, JSON.stringify(site.phases));
      assert.equal(await page.locator(`tr[data-phase="${ph}"] .allocated`).innerText(),
        `${site.phases.allocatedA[i].toFixed(1)} A`);
    }
    assert.equal(await page.locator('#site-limit').innerText(), `${SITE_A}.0 A`);

    // A dynamic limit shows up live, marked as such.
    assert.equal((await adminApi(gw, 'PUT', '/api/site/limit', { amps: 60 })).status, 200);
    await page.waitForFunction(() => /60\.0 A/.test(
      document.querySelector('tr[data-phase="L1"] .limit')?.textContent || ''), null, { timeout: 3000 });
    assert.match(await page.locator('#site-limit-kind').innerText(), /dynamic; configured 100\.0 A/);

    // Live: a new reading shows up without reloading.
    await chargers[0].call('MeterValues', { connectorId: 1, transactionId: 4242,
      meterValue: [meter16(20, 20, 20, 32)] });
    await page.waitForFunction(() => /20\.0 A/.test(
      document.querySelector('tr[data-charger="GARAGE-16"] .draw')?.textContent || ''), null,
    { timeout: 3000 });

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('actions ask for confirmation and show the charger\'s answer; offline ones say why', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`${gw.adminUrl}/`);
    await page.waitForSelector('button.act[data-charger="GARAGE-OFF"]', { timeout: 5000 });

    // Offline: every button disabled, with the reason shown and as a tooltip.
    await page.click('button.act[data-charger="GARAGE-OFF"]');
    assert.match(await page.locator('#act-why').innerText(), /offline/);
    for (const b of await page.locator('#act-controls button').all()) {
      assert.equal(await b.isDisabled(), true);
      assert.match(await b.getAttribute('title'), /offline/);
    }
    await page.click('#act-close');

    // A reset: asked first, sent on Confirm only, the charger's answer shown.
    await page.click('button.act[data-charger="GARAGE-16"]');
    assert.equal(await page.locator('#act-why').innerText(), '');
    await page.selectOption('#act-reset', 'Hard');
    await page.click('#act-controls button[data-act="reset"]');
    assert.equal(await page.locator('#act-question').innerText(), 'GARAGE-16: reset (Hard)?');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(chargers[0].received, [], 'nothing sent before Confirm');
    await page.click('#act-yes');
    await page.waitForFunction(() => /answered Reset/.test(document.querySelector('#act-answer')?.textContent || ''),
      null, { timeout: 5000 });
    assert.equal(await page.locator('#act-answer').innerText(), 'GARAGE-16 answered Reset: {"status":"Accepted"}');
    assert.deepEqual(chargers[0].received, [{ method: 'Reset', params: { type: 'Hard' } }]);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-action-answer-desktop.png') });
    // A refusal is shown as such: GARAGE-21 has no UnlockConnector handler.
    await page.click('#act-close');
    await page.click('button.act[data-charger="GARAGE-21"]');
    await page.click('#act-controls button[data-act="unlock"]');
    await page.click('#act-yes');
    await page.waitForFunction(() => /HTTP 502/.test(document.querySelector('#act-answer')?.textContent || ''),
      null, { timeout: 5000 });
    assert.match(await page.locator('#act-answer').innerText(), /GARAGE-21 refused UnlockConnector with a CALLERROR/);
    await page.click('#act-close');

    // The site limit: set, then cleared, each confirmed.
    await page.fill('#limit-amps', '50');
    await page.click('#limit-set');
    assert.equal(await page.locator('#act-question').innerText(), 'Set the site limit to 50.0 A per phase?');
    await page.click('#act-yes');
    await page.waitForFunction(() => /Site limit now/.test(document.querySelector('#act-answer')?.textContent || ''),
      null, { timeout: 5000 });
    assert.equal(await page.locator('#act-answer').innerText(), 'Site limit now 50.0 A per phase (dynamic)');
    assert.equal((await adminApi(gw, 'GET', '/api/site/limit')).json.effectiveA, 50);
    await page.click('#act-close');
    await page.waitForFunction(() => !document.querySelector('#limit-clear').disabled, null, { timeout: 3000 });
    await page.click('#limit-clear');
    await page.click('#act-yes');
    await page.waitForFunction(() => /configured one/.test(document.querySelector('#act-answer')?.textContent || ''),
      null, { timeout: 5000 });
    assert.equal((await adminApi(gw, 'GET', '/api/site/limit')).json.dynamic, false);
    await page.click('#act-close');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('shows the sessions with their energy sums; the CSV download is `ocppgw sessions`', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 }, acceptDownloads: true });
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`${gw.adminUrl}/#sessions`);
    await page.waitForSelector('#sessions-view[data-loaded="yes"]', { timeout: 5000 });
    const row = page.locator('#sessions tr[data-tx="4242"]');
    assert.equal(await row.locator('.charger').innerText(), 'GARAGE-16');
    assert.equal(await row.locator('.token').innerText(), 'CAR1');
    assert.equal(await row.locator('.kwh').innerText(), '12.345');
    assert.equal(await page.locator('#sum-charger tr[data-key="GARAGE-16"] .num').innerText(), '12.345');
    assert.equal(await page.locator('#sum-token tr[data-key="CAR1"] .num').innerText(), '12.345');

    // Filtered by a charger without sessions: none, sums empty.
    await page.selectOption('#tx-charger', 'GARAGE-21');
    await page.waitForFunction(() => /no sessions/.test(
      document.querySelector('#sessions tbody')?.textContent || ''), null, { timeout: 3000 });
    // ... by a start date after today: none either; before it: the session.
    await page.selectOption('#tx-charger', 'GARAGE-16');
    await page.fill('#tx-from', '2999-01-01');
    await page.dispatchEvent('#tx-from', 'change');
    await page.waitForFunction(() => /no sessions/.test(
      document.querySelector('#sessions tbody')?.textContent || ''), null, { timeout: 3000 });
    await page.fill('#tx-from', '2000-01-01');
    await page.dispatchEvent('#tx-from', 'change');
    await page.waitForSelector('#sessions tr[data-tx="4242"]', { timeout: 3000 });

    // The CSV: what the command prints for the same charger and date.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#tx-csv')]);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    const dataDir = gw.args[gw.args.indexOf('--data-dir') + 1];
    const cli = await runOcppgw(['sessions', '--data-dir', dataDir, '--charger', 'GARAGE-16',
      '--from', '2000-01-01']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(csv, cli.stdout);
    assert.match(csv, /^charger,tx_id,.*\nGARAGE-16,4242,/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('lists events, newest first, filtered by charger and kind', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()}`));
    await page.goto(`${gw.adminUrl}/#events`);
    await page.waitForSelector('#events-view[data-loaded="yes"]', { timeout: 5000 });
    assert.equal(await page.locator('section[data-view="overview"]').first().isVisible(), false);
    assert.equal(await page.locator('nav a[aria-current="page"]').innerText(), 'Events');

    // The page shows what the API has, newest first.
    const api = (await adminApi(gw, 'GET', '/api/events?limit=200')).json;
    const rows = page.locator('#events tbody tr');
    await page.waitForFunction((n) => document.querySelectorAll('#events tbody tr').length === n,
      api.length, { timeout: 3000 });
    const shown = await rows.evaluateAll((trs) => trs.map((tr) =>
      [tr.querySelector('.charger').textContent, tr.querySelector('.kind').textContent,
        tr.querySelector('.text').textContent].join(' ')));
    assert.deepEqual(shown, api.reverse().map((e) => `${e.charger ?? 'site'} ${e.kind} ${e.text}`));
    assert.ok(shown.includes('GARAGE-16 boot boot: ACME Wallbox16'), shown.join('\n'));
    assert.ok(shown.includes('site limit site limit set to 60.0 A per phase'), shown.join('\n'));

    // Filter by charger: only its rows.
    await page.selectOption('#ev-charger', 'GARAGE-21');
    await page.waitForFunction(() => [...document.querySelectorAll('#events tbody .charger')]
      .every((td) => td.textContent === 'GARAGE-21'), null, { timeout: 3000 });
    const kinds21 = (await page.locator('#events tbody .kind').allInnerTexts()).filter((k) => k !== 'csms-up');
    assert.deepEqual(kinds21, ['callerror', 'boot', 'connect'], 'the refused unlock, then boot and connect');
    // ... and by kind: a fault reported now shows up live.
    await page.selectOption('#ev-charger', '');
    await page.selectOption('#ev-kind', 'fault');
    await chargers[0].call('StatusNotification', { connectorId: 1, errorCode: 'OverCurrentFailure',
      status: 'Faulted' });
    await page.waitForFunction(() => /OverCurrentFailure/.test(
      document.querySelector('#events tbody .text')?.textContent || ''), null, { timeout: 3000 });
    assert.deepEqual(await page.locator('#events tbody .kind').allInnerTexts(), ['fault']);
    await chargers[0].call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    await page.selectOption('#ev-kind', '');

    // Screenshots: phone and desktop, light and dark, both views.
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    for (const [name, size] of [['phone', { width: 390, height: 844 }], ['desktop', { width: 1440, height: 900 }]]) {
      for (const scheme of ['light', 'dark']) {
        await page.setViewportSize(size);
        await page.emulateMedia({ colorScheme: scheme });
        for (const v of ['overview', 'sessions', 'events']) {
          await page.goto(`${gw.adminUrl}/#${v}`);
          await page.waitForSelector('body[data-loaded="yes"]', { timeout: 5000 });
          await page.screenshot({ path: path.join(ARTIFACTS, `status-${v}-${name}-${scheme}.png`), fullPage: true });
        }
      }
    }
    // The phone's page is no wider than the phone: tables scroll in their card.
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390),
      'the page scrolls sideways on a phone');
    assert.deepEqual(errors, []);
    await page.close();
  });
});

// Login: with admin credentials configured the page is the only thing
// served without them; it asks for the token or user/password, keeps them
// in this tab's sessionStorage only, and shows nothing before.
describe('status page login', { timeout: 60000 }, () => {
  const TOKEN = 'page-token-0123456789';
  let csms;
  let gw;
  let browser;
  let charger;

  before(async () => {
    const pw = await runOcppgw(['passwd'], { input: 'garage-pass\n' });
    csms = await startCsms();
    csms.responders.BootNotification = () => ({ currentTime: now(), interval: 300, status: 'Accepted' });
    gw = await startGateway({ csmsUrl: csms.url,
      config: `admin = { token = "${TOKEN}"; user = "ops"; password_hash = "${pw.stdout.trim()}"; };\n` });
    charger = await connectCharger(gw, 'LOCKED-1', '1.6');
    await charger.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'W' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await stopAll({ clients: [charger], gw, csms });
  });

  it('logs in with the token or user/password, keeps them in sessionStorage only', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    const dataSeen = [];
    page.on('response', (res) => {
      if (res.url().includes('/api/') && res.status() === 200) dataSeen.push(res.url());
    });
    await page.goto(`${gw.adminUrl}/`);
    await page.waitForSelector('#login:not([hidden])', { timeout: 5000 });
    assert.deepEqual(dataSeen, [], 'no data before logging in');
    for (const sec of await page.locator('section[data-view]').all()) assert.equal(await sec.isVisible(), false);
    assert.equal(await page.locator('tr[data-charger]').count(), 0);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-login-phone-light.png'), fullPage: true });

    // A wrong token: refused, still nothing shown.
    await page.fill('#login-token', 'wrong');
    await page.click('#login-form button[type="submit"]');
    await page.waitForFunction(() => /Wrong credentials/.test(document.querySelector('#login-why').textContent),
      null, { timeout: 5000 });
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);

    // The token: the chargers show; it sits in sessionStorage, nowhere else.
    await page.fill('#login-token', TOKEN);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('tr[data-charger="LOCKED-1"]', { timeout: 5000 });
    assert.equal(await page.locator('#login').isVisible(), false);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('ocppgw-auth')), `Bearer ${TOKEN}`);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.equal(await page.evaluate(() => document.cookie), '');
    assert.ok(!page.url().includes(TOKEN), page.url());
    // Each view works with them; a reload keeps the tab logged in.
    await page.goto(`${gw.adminUrl}/#events`);
    await page.waitForSelector('#events-view[data-loaded="yes"]', { timeout: 5000 });
    assert.match(await page.locator('#events tbody').innerText(), /LOCKED-1/);
    await page.reload();
    await page.waitForSelector('#events-view[data-loaded="yes"]', { timeout: 5000 });

    // Log out: back to the form, the credentials gone.
    await page.click('#logout');
    await page.waitForSelector('#login:not([hidden])', { timeout: 5000 });
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);

    // User and password (Basic) work as well.
    await page.fill('#login-user', 'ops');
    await page.fill('#login-pass', 'garage-pass');
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#events-view[data-loaded="yes"]', { timeout: 5000 });
    assert.match(await page.evaluate(() => sessionStorage.getItem('ocppgw-auth')), /^Basic /);
    assert.deepEqual(errors, []);
    await page.close();

    // Another tab (a new context) starts logged out.
    const other = await browser.newPage();
    await other.goto(`${gw.adminUrl}/`);
    await other.waitForSelector('#login:not([hidden])', { timeout: 5000 });
    await other.close();
  });
});

// The page over a running simulated fleet (ocppgw-sim: 1.6 and 2.0.1
// chargers through the gateway to the simulator's responder CSMS): each
// view shows it, an action reaches a simulated charger and its answer is
// shown, and the CSV download is what `ocppgw sessions` prints.
describe('status page with a simulated fleet', { timeout: 90000 }, () => {
  let responder;
  let gw;
  let fleets = [];
  let browser;

  before(async () => {
    responder = await startResponder();
    gw = await startGateway({ csmsUrl: responder.endpoint });
    const url = gw.endpoint;
    fleets = [startFleet({ url, version: '1.6', count: 2, duration: 60, idPattern: 'FLEET16-%d' }),
      startFleet({ url, version: '2.0.1', count: 2, duration: 60, idPattern: 'FLEET201-%d' })];
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    await stopFleetRig({ browser, fleets, gw, responder });
  });

  it('shows the fleet in every view, runs an action, exports the sessions', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`${gw.adminUrl}/`);
    const ids = ['FLEET16-1', 'FLEET16-2', 'FLEET201-1', 'FLEET201-2'];
    for (const id of ids) await page.waitForSelector(`tr[data-charger="${id}"]`, { timeout: 15000 });

    // Sessions: wait until the fleet has recorded some, then compare the CSV.
    await waitFor(async () => (await adminApi(gw, 'GET', '/api/sessions')).json.sessions.length >= 2,
      30000, 'two sessions from the fleet');
    await page.goto(`${gw.adminUrl}/#sessions`);
    await page.waitForSelector('#sessions-view[data-loaded="yes"]', { timeout: 5000 });
    assert.ok(await page.locator('#sessions tbody tr[data-tx]').count() >= 2);

    // Events: every simulated charger connected and booted.
    await page.goto(`${gw.adminUrl}/#events`);
    await page.waitForSelector('#events-view[data-loaded="yes"]', { timeout: 5000 });
    await page.selectOption('#ev-kind', 'boot');
    await page.waitForFunction((n) => document.querySelectorAll('#events tbody tr[data-kind="boot"]').length >= n,
      ids.length, { timeout: 5000 });
    const booted = await page.locator('#events tbody .charger').allInnerTexts();
    assert.deepEqual([...new Set(booted)].sort(), ids);

    // An action on a simulated charger: its answer is shown.
    await page.goto(`${gw.adminUrl}/#overview`);
    await page.click('button.act[data-charger="FLEET201-1"]');
    await page.click('#act-controls button[data-act="inoperative"]');
    await page.click('#act-yes');
    await page.waitForFunction(() => /answered ChangeAvailability|HTTP/.test(
      document.querySelector('#act-answer')?.textContent || ''), null, { timeout: 10000 });
    assert.match(await page.locator('#act-answer').innerText(),
      /^FLEET201-1 answered ChangeAvailability: \{"status":"(Accepted|Scheduled)"\}$/);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-fleet-action-desktop.png') });

    // The CSV download against `ocppgw sessions`, which reads the store from
    // another process and so sees only committed writes (log writes are
    // committed within OGW_STORE_LAZY_MS, 1 s, include/ocppgw/store.h).
    // A running fleet writes all the time: stop it first, then compare once
    // the last writes are committed.
    for (const f of fleets) await f.stop();
    fleets = [];
    const dataDir = gw.args[gw.args.indexOf('--data-dir') + 1];
    let same = false;
    let csv = '';
    let cli = null;
    for (let i = 0; i < 10 && !same; i++) {
      await new Promise((r) => setTimeout(r, 1500));
      const p2 = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
      p2.on('pageerror', (err) => errors.push(String(err)));
      await p2.goto(`${gw.adminUrl}/#sessions`);
      await p2.waitForSelector('#sessions-view[data-loaded="yes"]', { timeout: 5000 });
      const [download] = await Promise.all([p2.waitForEvent('download'), p2.click('#tx-csv')]);
      csv = fs.readFileSync(await download.path(), 'utf8');
      await p2.close();
      cli = await runOcppgw(['sessions', '--data-dir', dataDir]);
      assert.equal(cli.code, 0, cli.stderr);
      same = csv === cli.stdout;
    }
    assert.ok(same, `the CSV download equals ocppgw sessions:\n${csv}\n---\n${cli?.stdout}`);
    assert.ok(csv.split('\n').length >= 4, csv);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

// The grid meter on the page: the building's load on its worst phase and
// the per-phase limits it leaves, then the fail-safe when it stops
// answering. The meter is a Node HTTP server polled by the gateway.
describe('status page with a grid meter', { timeout: 60000 }, () => {
  let server;
  let gw;
  let browser;
  let answering = true;

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (tools/setup.sh)`);
    server = http.createServer((req, res) => {
      if (!answering) { res.statusCode = 503; return res.end('down'); }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ L1: 12, L2: 5, L3: 3 }));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    gw = await startGateway({ config: `load_balancing = {
  site = { limit_a = 40.0; phases = 3; };
  meter = { fuse_a = 40.0; timeout = 2; safe_a = 8.0;
    http = { url = "http://127.0.0.1:${server.address().port}/m"; pointers = [ "/L1", "/L2", "/L3" ];
             interval = 0.3; timeout = 0.5; }; };
};
` });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await stopAll({ gw });
    await new Promise((r) => server.close(r));
  });

  it('shows the meter, the per-phase limits it leaves, and its fail-safe', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`${gw.adminUrl}/`);
    await page.waitForSelector('body[data-loaded="yes"]', { timeout: 5000 });
    await page.waitForFunction(() => document.querySelector('#meter-state')?.textContent === '12.0 A',
      null, { timeout: 5000 });
    assert.ok(await page.locator('#meter-fig').isVisible());
    assert.match(await page.locator('#meter-kind').innerText(), /building load on the worst phase, grid meter \(http\)/);
    // the fuse less the building on each phase: 28 / 35 / 37 A
    await page.waitForFunction(() => /28\.0 A/.test(
      document.querySelector('tr[data-phase="L1"] .limit')?.textContent || ''), null, { timeout: 3000 });
    assert.equal(await page.locator('tr[data-phase="L2"] .limit').innerText(), '35.0 A');
    assert.equal(await page.locator('tr[data-phase="L3"] .limit').innerText(), '37.0 A');
    // the meter answers 503 from now on: the fail-safe, on the page
    answering = false;
    await page.waitForFunction(() => document.querySelector('#meter-state')?.textContent === 'fail-safe',
      null, { timeout: 6000 });
    assert.match(await page.locator('#meter-kind').innerText(), /grid meter \(http\) silent: fail-safe 8\.0 A per phase/);
    for (const ph of ['L1', 'L2', 'L3'])
      assert.equal(await page.locator(`tr[data-phase="${ph}"] .limit`).innerText(), '8.0 A');
    assert.match(gw.stderr, /grid meter http:\/\/127\.0\.0\.1:\d+\/m: HTTP status 503/);
    assert.deepEqual(errors, []);
  });
});
