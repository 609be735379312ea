// SPDX-License-Identifier: MIT
//
// The scripted physical sessions of the twin harness, written once as data.
// Steps are version-neutral: what happens at the charger (a cable, a card,
// the meter, a fault) or what the CSMS operator does (a remote start, a
// reset, a setting), each at a time `at` in seconds after T0. The simulated
// chargers (chargers.mjs) and the CSMS (csms.mjs) turn each step into what a
// spec-following peer of their version sends. `findings` names the items of
// issue 20 a scenario checks; `versions` limits it to the versions that can
// express it and `pairs` to the pairs (charger-csms) it is about (default:
// all). `quirks` are charger habits the scenario needs.

export const T0 = Date.UTC(2025, 5, 2, 8, 0, 0);
export const at = (sec) => new Date(T0 + sec * 1000).toISOString();

// Tokens as a driver or a CSMS presents them. `type` is the 2.x idToken
// type a charger reading it would report; a 1.6 peer sends `id` only.
export const TOKENS = {
  rfid: { id: '04A2B3C4D5E6F7', type: 'ISO14443' },
  plain: { id: 'TAG65159', type: 'Local' },
  central: { id: 'APP-USER-7781', type: 'Central' },
  emaid: { id: 'DE8ACCT1234567X', type: 'eMAID' },
};

// One meter state per sample: register (Wh), power (W), current per phase
// (A), state of charge (%). `signed` asks for signed data on the register.
const meter = (wh, w, a, soc) => ({ wh, w, a, soc });

// A standard charging stretch on connector `conn` from register `wh0`.
function charging(conn, t, wh0) {
  return [
    { at: t, do: 'energy', conn },
    { at: t + 60, do: 'sample', conn, ...meter(wh0 + 180, 11040, [16, 16, 16], 41) },
    { at: t + 120, do: 'sample', conn, ...meter(wh0 + 364, 11000, [16, 15.9, 16.1], 43) },
  ];
}

export const SCENARIOS = [
  {
    id: 'local-stop',
    title: 'plug, card (hex UID), charge, EV pauses, card stops, unplug',
    findings: [2, 16, 17],
    steps: [
      { at: 10, do: 'plug', conn: 1, wh: 12345 },
      { at: 20, do: 'card', conn: 1, token: 'rfid' },
      ...charging(1, 30, 12345),
      { at: 160, do: 'suspendEV', conn: 1 },
      { at: 200, do: 'resume', conn: 1 },
      { at: 260, do: 'sample', conn: 1, ...meter(12345 + 520, 10980, [16, 16, 15.8], 45) },
      { at: 300, do: 'card', conn: 1, token: 'rfid' },
      { at: 320, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'remote-start',
    title: 'CSMS starts remotely (Central token) before plug-in, the EVSE pauses, CSMS stops remotely',
    findings: [1, 8, 16, 17],
    steps: [
      { at: 10, do: 'remoteStart', conn: 1, token: 'central' },
      { at: 20, do: 'plug', conn: 1, wh: 5000 },
      ...charging(1, 30, 5000),
      { at: 160, do: 'suspendEVSE', conn: 1 },
      { at: 180, do: 'resume', conn: 1 },
      { at: 200, do: 'remoteStop', conn: 1 },
      { at: 240, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'remote-after-plug',
    title: 'plug first, CSMS starts remotely, the EV leaves (stop by unplug)',
    findings: [2, 17, 19],
    steps: [
      { at: 10, do: 'plug', conn: 1, wh: 7000 },
      { at: 20, do: 'remoteStart', conn: 1, token: 'central' },
      ...charging(1, 30, 7000),
      { at: 200, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'stop-tag-always',
    title: 'a 1.6 charger that names the session\'s idTag in every StopTransaction, stopped remotely',
    findings: [16],
    quirks: { stopIdTag: true },
    pairs: ['1.6-2.0.1', '1.6-2.1'],
    steps: [
      { at: 10, do: 'plug', conn: 1, wh: 9000 },
      { at: 20, do: 'card', conn: 1, token: 'rfid' },
      ...charging(1, 30, 9000),
      { at: 200, do: 'remoteStop', conn: 1 },
      { at: 240, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'plain-tag',
    title: 'a card whose id is not hex ("TAG65159"), stop by card',
    findings: [18, 8],
    steps: [
      { at: 10, do: 'plug', conn: 1, wh: 800 },
      { at: 20, do: 'card', conn: 1, token: 'plain' },
      ...charging(1, 30, 800),
      { at: 200, do: 'card', conn: 1, token: 'plain' },
      { at: 230, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'no-start-reading',
    title: 'the station gives no register at transaction start (MicroOcpp-like)',
    findings: [3],
    quirks: { noStartReading: true },
    steps: [
      { at: 5, do: 'clockSample', conn: 1, wh: 30000 },
      { at: 10, do: 'plug', conn: 1, wh: 30000 },
      { at: 20, do: 'card', conn: 1, token: 'rfid' },
      ...charging(1, 30, 30000),
      { at: 200, do: 'card', conn: 1, token: 'rfid' },
      { at: 220, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'signed',
    title: 'a session with signed meter values (OCMF) at begin and end',
    findings: [9],
    quirks: { signed: true },
    // Card first: both versions start at plug-in, so the signed start
    // readings are the same reading.
    steps: [
      { at: 10, do: 'card', conn: 1, token: 'rfid' },
      { at: 20, do: 'plug', conn: 1, wh: 4200 },
      ...charging(1, 30, 4200),
      { at: 200, do: 'card', conn: 1, token: 'rfid' },
      { at: 220, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'faults',
    title: 'a ground fault on an idle connector, then cleared',
    findings: [7],
    steps: [
      { at: 10, do: 'fault', conn: 1, code: 'GroundFailure' },
      { at: 60, do: 'clearFault', conn: 1 },
    ],
  },
  {
    id: 'multi-connector',
    title: 'one EVSE with two connectors: a session on the second, a fault on the first',
    findings: [7],
    layout: 'oneEvseTwoConnectors',
    steps: [
      { at: 10, do: 'plug', conn: 2, wh: 900 },
      { at: 20, do: 'card', conn: 2, token: 'rfid' },
      ...charging(2, 30, 900),
      { at: 170, do: 'fault', conn: 1, code: 'ConnectorLockFailure' },
      { at: 180, do: 'clearFault', conn: 1 },
      { at: 200, do: 'card', conn: 2, token: 'rfid' },
      { at: 220, do: 'unplug', conn: 2 },
    ],
  },
  {
    id: 'reservation',
    title: 'the CSMS reserves the connector, the holder arrives and charges',
    findings: [],
    steps: [
      { at: 10, do: 'reserve', conn: 1, token: 'rfid', reservationId: 31 },
      { at: 20, do: 'card', conn: 1, token: 'rfid' },
      { at: 30, do: 'plug', conn: 1, wh: 2500 },
      ...charging(1, 40, 2500),
      { at: 200, do: 'card', conn: 1, token: 'rfid' },
      { at: 220, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'reset',
    title: 'the CSMS resets the charger mid-session (now, gracefully)',
    findings: [10],
    steps: [
      { at: 10, do: 'plug', conn: 1, wh: 6000 },
      { at: 20, do: 'card', conn: 1, token: 'rfid' },
      ...charging(1, 30, 6000),
      { at: 200, do: 'reset' },
      { at: 260, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'offline',
    title: 'the CSMS is unreachable for a stretch of the session, samples go on',
    findings: [],
    steps: [
      { at: 10, do: 'plug', conn: 1, wh: 1000 },
      { at: 20, do: 'card', conn: 1, token: 'rfid' },
      { at: 30, do: 'energy', conn: 1 },
      { at: 90, do: 'sample', conn: 1, ...meter(1180, 11040, [16, 16, 16], 41) },
      { at: 100, do: 'offline' },
      { at: 150, do: 'sample', conn: 1, ...meter(1364, 11000, [16, 16, 16], 43) },
      { at: 210, do: 'sample', conn: 1, ...meter(1548, 11000, [16, 16, 16], 45) },
      { at: 220, do: 'online' },
      { at: 270, do: 'sample', conn: 1, ...meter(1732, 11000, [16, 16, 16], 47) },
      { at: 300, do: 'card', conn: 1, token: 'rfid' },
      { at: 320, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'duplicate-end',
    title: 'the station repeats its transaction end at shutdown',
    findings: [15],
    quirks: { repeatEnd: true },
    steps: [
      { at: 10, do: 'plug', conn: 1, wh: 3000 },
      { at: 20, do: 'card', conn: 1, token: 'rfid' },
      ...charging(1, 30, 3000),
      { at: 200, do: 'card', conn: 1, token: 'rfid' },
      { at: 220, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'cost-limit',
    title: 'the station stops the session when the driver\'s cost limit is reached',
    findings: [13],
    versions: ['2.0.1', '2.1'],
    steps: [
      { at: 10, do: 'plug', conn: 1, wh: 100 },
      { at: 20, do: 'card', conn: 1, token: 'rfid' },
      ...charging(1, 30, 100),
      { at: 200, do: 'costLimit', conn: 1 },
      { at: 230, do: 'unplug', conn: 1 },
    ],
  },
  {
    id: 'smart-charging',
    title: 'the CSMS limits a running session, reads the profiles after it ended',
    findings: [5, 12, 13],
    steps: [
      { at: 10, do: 'plug', conn: 1, wh: 8000 },
      { at: 20, do: 'card', conn: 1, token: 'rfid' },
      ...charging(1, 30, 8000),
      { at: 160, do: 'setProfile', conn: 1, purpose: 'TxProfile', id: 501, limits: [16, 10, 10] },
      { at: 170, do: 'setProfile', conn: 1, purpose: 'TxDefaultProfile', id: 502, limits: [32, 32, 32] },
      { at: 180, do: 'getProfiles', conn: 1 },
      { at: 200, do: 'card', conn: 1, token: 'rfid' },
      { at: 220, do: 'unplug', conn: 1 },
      { at: 230, do: 'getProfiles', conn: 1 },
      { at: 240, do: 'clearProfile', id: 502 },
      { at: 250, do: 'getProfiles', conn: 1 },
    ],
  },
  {
    id: 'configuration',
    title: 'the CSMS changes the sampling settings and reads the configuration back',
    findings: [4, 11],
    steps: [
      { at: 10, do: 'readConfig' },
      { at: 20, do: 'setConfig', setting: 'sampleInterval', value: '30' },
      { at: 30, do: 'setConfig', setting: 'endedInterval', value: '0' },
      { at: 40, do: 'setConfig', setting: 'sampledMeasurands', value: 'Energy.Active.Import.Register,Power.Active.Import' },
      { at: 50, do: 'setConfig', setting: 'startedMeasurands', value: 'Energy.Active.Import.Register' },
      { at: 60, do: 'readConfig' },
    ],
  },
  {
    id: 'credentials',
    title: 'the CSMS gives the charger a new password; the charger reconnects with it',
    findings: [14],
    // The native charger talks to the CSMS itself: the gateway's own record
    // of a charger's password is what finding 14 is about, relayed or not.
    native: 'direct',
    steps: [
      { at: 10, do: 'setPassword', value: '0123456789ABCDEF0123456789ABCDEF01234567' },
      { at: 20, do: 'reconnect' },
      { at: 30, do: 'heartbeat' },
    ],
  },
  {
    id: 'plug-and-charge',
    title: 'an ISO 15118 contract (eMAID) authorizes with its certificate hashes',
    findings: [6],
    steps: [
      { at: 10, do: 'plug', conn: 1, wh: 400 },
      { at: 20, do: 'contract', conn: 1, token: 'emaid' },
      ...charging(1, 30, 400),
      { at: 200, do: 'unplug', conn: 1 },
    ],
  },
];

// Charger layouts: physical connectors numbered 1..n as a 1.6 charger
// numbers them, and the 2.x (EVSE, connector) each one is.
export const LAYOUTS = {
  oneConnector: [{ conn: 1, evse: 1, evseConn: 1 }],
  oneEvseTwoConnectors: [{ conn: 1, evse: 1, evseConn: 1 }, { conn: 2, evse: 1, evseConn: 2 }],
};
export const layoutOf = (scenario) => LAYOUTS[scenario.layout ?? 'oneConnector'];
