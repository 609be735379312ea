// SPDX-License-Identifier: MIT
//
// The twin harness's CSMS: one strict ocpp-rpc server that speaks 1.6, 2.0.1
// and 2.1 and answers like a real central system of the version each
// connection negotiated (boot accepted, tokens from a list, 1.6 transaction
// ids issued, tokens typed ISO14443 refused unless hex as CitrineOS does).
// It keeps, per charger identity, every frame in and out and each
// connection's handshake: the observer's only input. It also turns the
// operator's steps of a scenario into that version's calls.

import { RPCServer, createRPCError } from 'ocpp-rpc';

import { VERSIONS, freePort, sleep, strictModeValidators, subprotocol, waitFor } from '../lib/harness.mjs';
import { TOKENS, at } from './scenarios.mjs';

const KNOWN = new Set(Object.values(TOKENS).map((t) => t.id));
const versionOf = (protocol) => protocol.replace(/^ocpp/, '');

// Central system answers per version, by action.
function answers16(peer) {
  const info = (idTag) => ({ status: KNOWN.has(idTag) ? 'Accepted' : 'Invalid' });
  return {
    BootNotification: () => ({ status: 'Accepted', currentTime: at(0), interval: 300 }),
    Heartbeat: () => ({ currentTime: at(0) }),
    StatusNotification: () => ({}),
    MeterValues: () => ({}),
    Authorize: (p) => ({ idTagInfo: info(p.idTag) }),
    StartTransaction: (p) => ({ transactionId: ++peer.issued, idTagInfo: info(p.idTag) }),
    StopTransaction: (p) => (p.idTag ? { idTagInfo: info(p.idTag) } : {}),
    DataTransfer: (p) => {
      if (p.vendorId !== 'org.openchargealliance.iso15118pnc' || p.messageId !== 'Authorize') {
        return { status: 'UnknownVendorId' };
      }
      const d = JSON.parse(p.data);
      return { status: 'Accepted', data: JSON.stringify({
        idTokenInfo: { status: KNOWN.has(d.idToken?.idToken) ? 'Accepted' : 'Invalid' },
        certificateStatus: 'Accepted' }) };
    },
    FirmwareStatusNotification: () => ({}),
    DiagnosticsStatusNotification: () => ({}),
    SecurityEventNotification: () => ({}),
  };
}

// CitrineOS 1.8 refuses an ISO14443/ISO15693 token that is not a hex UID.
function checkToken(t) {
  if (t && /^ISO1(4443|5693)$/.test(t.type) && !/^([0-9A-Fa-f]{2}){4,10}$/.test(t.idToken)) {
    throw createRPCError('PropertyConstraintViolation', `idToken ${t.idToken} is not a hex UID for ${t.type}`);
  }
}

function answers2x() {
  const info = (t) => ({ status: KNOWN.has(t?.idToken) ? 'Accepted' : 'Invalid' });
  return {
    BootNotification: () => ({ currentTime: at(0), interval: 300, status: 'Accepted' }),
    Heartbeat: () => ({ currentTime: at(0) }),
    StatusNotification: () => ({}),
    MeterValues: () => ({}),
    NotifyEvent: () => ({}),
    NotifyReport: () => ({}),
    ReportChargingProfiles: () => ({}),
    SecurityEventNotification: () => ({}),
    FirmwareStatusNotification: () => ({}),
    LogStatusNotification: () => ({}),
    NotifyChargingLimit: () => ({}),
    ClearedChargingLimit: () => ({}),
    ReservationStatusUpdate: () => ({}),
    Authorize: (p) => { checkToken(p.idToken); return { idTokenInfo: info(p.idToken) }; },
    TransactionEvent: (p) => {
      checkToken(p.idToken);
      return p.idToken ? { idTokenInfo: info(p.idToken) } : {};
    },
    DataTransfer: () => ({ status: 'UnknownVendorId' }),
  };
}

export async function startTwinCsms() {
  const server = new RPCServer({
    protocols: VERSIONS.map(subprotocol), strictMode: true, strictModeValidators,
    callTimeoutMs: 20000, pingIntervalMs: 0,
  });
  const peers = new Map();
  const peer = (identity) => {
    if (!peers.has(identity)) {
      peers.set(identity, { identity, log: [], offline: false, client: null, issued: 1000, problems: [],
        last: Date.now() });
    }
    return peers.get(identity);
  };
  server.auth((accept, reject, hs) => {
    const p = peer(hs.identity);
    if (p.offline) return reject(503, 'CSMS unreachable');
    return accept({ password: hs.password?.toString() ?? null });
  });
  server.on('client', (client) => {
    const p = peer(client.identity);
    p.client = client;
    p.version = versionOf(client.protocol);
    p.log.push({ conn: { password: client.session.password } });
    p.last = Date.now();
    client.on('message', ({ message, outbound }) => {
      p.last = Date.now();
      let frame;
      try { frame = JSON.parse(message.toString()); } catch { frame = message.toString(); }
      p.log.push({ dir: outbound ? 'out' : 'in', frame });
    });
    client.on('strictValidationFailure', (e) => p.problems.push(
      `csms strict ${e.method} ${e.outbound ? 'out' : 'in'}: ${e.error?.message ?? e.error}`));
    client.on('badMessage', (e) => p.problems.push(`csms bad message: ${e.error?.message ?? e.error}`));
    const table = p.version === '1.6' ? answers16(p) : answers2x();
    client.handle(({ method, params }) => {
      const fn = table[method];
      if (!fn) throw createRPCError('NotImplemented', `twin CSMS has no ${method}`);
      return fn(params);
    });
  });
  const port = await freePort();
  const http = await server.listen(port, '127.0.0.1');
  return {
    url: `ws://127.0.0.1:${port}/ocpp`,
    peer,
    peers,
    // A CALL of the CSMS's; CALLERRORs and timeouts are in the log.
    async call(identity, method, params) {
      const p = peer(identity);
      if (!p.client) return null;
      return p.client.call(method, params).catch(() => null);
    },
    async setOffline(identity, offline) {
      const p = peer(identity);
      p.offline = offline;
      if (offline) {
        p.offlineMark = p.log.findLastIndex((e) => e.conn);
        await p.client?.close({ code: 1001, force: true }).catch(() => {});
        return;
      }
      await waitFor(() => p.client && p.client.state === 1 && p.log.length &&
        p.log.findLastIndex((e) => e.conn) > p.offlineMark, 15000, `reconnect of ${identity}`)
        .catch((err) => p.problems.push(err.message));
    },
    // Resolves once nothing has crossed the identity's leg for quietMs.
    async quiet(identity, quietMs = 400, maxMs = 5000) {
      const p = peer(identity);
      const end = Date.now() + maxMs;
      while (Date.now() - p.last < quietMs && Date.now() < end) await sleep(50);
    },
    async close() {
      await server.close({ force: true });
      http.close();
    },
  };
}

// The transaction the CSMS knows as running (the last one not ended), in
// its own version's terms: the 1.6 integer it issued, or the 2.x string.
function runningTx(version, log) {
  const open = new Map();
  const pending = new Map();
  for (const e of log) {
    const f = e.frame;
    if (!Array.isArray(f)) continue;
    if (version === '1.6') {
      if (e.dir === 'in' && f[0] === 2 && f[2] === 'StartTransaction') pending.set(f[1], f[3]);
      if (e.dir === 'out' && f[0] === 3 && pending.has(f[1])) open.set(f[2].transactionId, pending.get(f[1]));
      if (e.dir === 'in' && f[0] === 2 && f[2] === 'StopTransaction') open.delete(f[3].transactionId);
    } else if (e.dir === 'in' && f[0] === 2 && f[2] === 'TransactionEvent') {
      const id = f[3].transactionInfo.transactionId;
      if (f[3].eventType === 'Ended') open.delete(id); else open.set(id, f[3]);
    }
  }
  return [...open.keys()].pop();
}

// The operator's step as this CSMS version's call, or null when the
// version cannot say it. `loc` is the connector's place in the layout.
export function operatorCall(version, step, loc, log) {
  const v16 = version === '1.6';
  const token = step.token ? TOKENS[step.token] : null;
  const tx = runningTx(version, log);
  switch (step.do) {
    case 'remoteStart':
      return v16 ? ['RemoteStartTransaction', { connectorId: loc.conn, idTag: token.id }]
        : ['RequestStartTransaction', { evseId: loc.evse, remoteStartId: 100 + step.at,
          idToken: { idToken: token.id, type: token.type } }];
    case 'remoteStop':
      if (tx == null) return null;
      return v16 ? ['RemoteStopTransaction', { transactionId: tx }] : ['RequestStopTransaction', { transactionId: tx }];
    case 'reset':
      // "Now, gracefully": 1.6 Soft stops transactions then reboots; 2.x
      // Immediate does the same (OnIdle would wait for the session's end).
      return ['Reset', { type: v16 ? 'Soft' : 'Immediate' }];
    case 'reserve':
      return v16 ? ['ReserveNow', { connectorId: loc.conn, expiryDate: at(step.at + 3600), idTag: token.id,
        reservationId: step.reservationId }]
        : ['ReserveNow', { id: step.reservationId, expiryDateTime: at(step.at + 3600), evseId: loc.evse,
          idToken: { idToken: token.id, type: token.type } }];
    case 'setProfile': return profileCall(version, step, loc, tx);
    case 'getProfiles':
      return v16 ? null : ['GetChargingProfiles', { requestId: step.at, evseId: loc.evse, chargingProfile: {} }];
    case 'clearProfile':
      return v16 ? ['ClearChargingProfile', { id: step.id }] : ['ClearChargingProfile', { chargingProfileId: step.id }];
    case 'readConfig':
      return v16 ? ['GetConfiguration', {}] : ['GetVariables', { getVariableData: READ_2X.map(([c, v, e]) => ({
        component: e ? { name: c, evse: { id: e } } : { name: c }, variable: { name: v } })) }];
    case 'setConfig': {
      const s = SETTINGS[step.setting][v16 ? 0 : 1];
      if (!s) return null;
      return v16 ? ['ChangeConfiguration', { key: s, value: step.value }]
        : ['SetVariables', { setVariableData: [{ component: { name: s[0] }, variable: { name: s[1] },
          attributeValue: step.value }] }];
    }
    case 'setPassword':
      return v16 ? ['ChangeConfiguration', { key: 'AuthorizationKey', value: step.value }]
        : ['SetVariables', { setVariableData: [{ component: { name: 'SecurityCtrlr' },
          variable: { name: 'BasicAuthPassword' }, attributeValue: step.value }] }];
    default:
      return null;
  }
}

// The operator's settings in each version's words: [1.6 key, 2.x variable].
const SETTINGS = {
  sampleInterval: ['MeterValueSampleInterval', ['SampledDataCtrlr', 'TxUpdatedInterval']],
  endedInterval: [null, ['SampledDataCtrlr', 'TxEndedInterval']],
  sampledMeasurands: ['MeterValuesSampledData', ['SampledDataCtrlr', 'TxUpdatedMeasurands']],
  startedMeasurands: [null, ['SampledDataCtrlr', 'TxStartedMeasurands']],
};

const READ_2X = [
  ['OCPPCommCtrlr', 'HeartbeatInterval'],
  ['SampledDataCtrlr', 'TxUpdatedInterval'],
  ['SampledDataCtrlr', 'TxEndedInterval'],
  ['SampledDataCtrlr', 'TxUpdatedMeasurands'],
  ['SampledDataCtrlr', 'TxStartedMeasurands'],
  ['SampledDataCtrlr', 'TxEndedMeasurands'],
  ['AlignedDataCtrlr', 'Interval'],
  ['AuthCtrlr', 'AuthorizeRemoteStart'],
  ['TxCtrlr', 'StopTxOnEVSideDisconnect'],
  ['ChargingStation', 'PhaseRotation'],
  ['EVSE', 'PhaseRotation', 1],
];

// A current limit per phase: 2.1 says each phase; 2.0.1 and 1.6 have one
// limit, the tightest. A 1.6 TxProfile names no transaction (1.6 allows it);
// a 2.x one must (K01.FR.03).
function profileCall(version, step, loc, tx) {
  const [l1, l2, l3] = step.limits;
  const tight = Math.min(l1, l2, l3);
  if (version === '1.6') {
    return ['SetChargingProfile', { connectorId: loc.conn, csChargingProfiles: {
      chargingProfileId: step.id, stackLevel: step.purpose === 'TxProfile' ? 1 : 0,
      chargingProfilePurpose: step.purpose, chargingProfileKind: 'Relative',
      chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: tight,
        numberPhases: 3 }] } } }];
  }
  const period = version === '2.1' ? { startPeriod: 0, limit: l1, limit_L2: l2, limit_L3: l3, numberPhases: 3 }
    : { startPeriod: 0, limit: tight, numberPhases: 3 };
  const profile = { id: step.id, stackLevel: step.purpose === 'TxProfile' ? 1 : 0,
    chargingProfilePurpose: step.purpose, chargingProfileKind: 'Relative',
    chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [period] }] };
  if (step.purpose === 'TxProfile') {
    if (tx == null) return null;
    profile.transactionId = tx;
  }
  return ['SetChargingProfile', { evseId: loc.evse, chargingProfile: profile }];
}
