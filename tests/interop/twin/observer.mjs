// SPDX-License-Identifier: MIT
//
// The twin harness's observer: reduces what a CSMS received and answered on
// one charger's connections (raw OCPP-J frames in order, plus each
// connection's handshake) to the business facts that CSMS would bill and
// show, in its own version's semantics. Pure: frames in, a flat map of facts
// out (key -> JSON value); it knows nothing of the gateway.
//
// Log entries: {conn: {password}} when a connection opens, {dir: 'in'|'out',
// frame} for each frame ('in': received by the CSMS).

const REGISTER = 'Energy.Active.Import.Register';

// A meter value as a CSMS reads it: a number in its unit (2.x multiplier
// applied), or the signed data string as is.
function reading16(sv) {
  const unit = sv.unit ?? 'Wh';
  if ((sv.format ?? 'Raw') === 'SignedData') return { signed: sv.value };
  const n = Number(sv.value);
  return { value: Number.isFinite(n) ? `${n} ${unit}` : `${sv.value} ${unit}` };
}

function reading2x(sv) {
  const unit = sv.unitOfMeasure?.unit ?? 'Wh';
  const m = sv.unitOfMeasure?.multiplier ?? 0;
  const out = { value: `${Number((sv.value * 10 ** m).toPrecision(12))} ${unit}` };
  if (sv.signedMeterValue) {
    const s = sv.signedMeterValue;
    out.signed = { data: s.signedMeterData, encoding: s.encodingMethod, method: s.signingMethod ?? '',
      publicKey: s.publicKey ?? '' };
  }
  return out;
}

// Sample keys: periodic readings by time; Begin/End readings by context only
// (their times are the transaction's start and stop facts).
function sampleKey(ts, sv, context) {
  const parts = [sv.measurand ?? REGISTER, sv.phase ?? '', sv.location ?? 'Outlet', context];
  if (context !== 'Transaction.Begin' && context !== 'Transaction.End') parts.unshift(ts);
  return parts.join('|');
}

// Puts a value under key; a second, different value under the same key
// keeps both, so a conflicting reading shows as a difference.
function put(facts, key, value) {
  if (!(key in facts)) { facts[key] = value; return; }
  const old = JSON.stringify(facts[key]);
  if (old === JSON.stringify(value)) return;
  const list = Array.isArray(facts[key]) && facts[key].conflict ? facts[key] : Object.assign([facts[key]], { conflict: true });
  if (!list.some((v) => JSON.stringify(v) === JSON.stringify(value))) list.push(value);
  facts[key] = list;
}

// Pairs each CALL with its answer: yields {dir, method, params, answer,
// error, conn, n} in the order the CALLs were made.
function calls(log) {
  const open = new Map();
  const out = [];
  const counts = {};
  let conn = null;
  for (const entry of log) {
    if (entry.conn) { conn = entry.conn; continue; }
    const f = entry.frame;
    if (!Array.isArray(f)) continue;
    if (f[0] === 2) {
      // at: its place among the CALLs, answeredAt: how many CALLs the
      // log held when its answer came (what the peer knew by then).
      const c = { dir: entry.dir, id: f[1], method: f[2], params: f[3] ?? {}, conn, at: out.length };
      // The CSMS's own calls are told apart by their order per action.
      if (entry.dir === 'out') c.n = counts[c.method] = (counts[c.method] ?? 0) + 1;
      out.push(c);
      open.set(`${entry.dir}:${f[1]}`, c);
    } else if (f[0] === 3 || f[0] === 4) {
      // An answer travels the other way from its CALL.
      const c = open.get(`${entry.dir === 'in' ? 'out' : 'in'}:${f[1]}`);
      if (!c) continue;
      if (f[0] === 3) c.answer = f[2]; else c.error = f[2];
      c.answeredAt = out.length;
    }
  }
  return out;
}

function answerMeaning(c) {
  if (c.error) return `error:${c.error}`;
  if (!c.answer) return 'unanswered';
  return c.answer.status ?? 'answered';
}

// Facts common to both families: CALLERRORs the CSMS sent, the passwords
// the charger's connections presented, where the last Heartbeat came from.
function common(facts, all) {
  facts.errorsSent = all.filter((c) => c.dir === 'in' && c.error).map((c) => `${c.method}:${c.error}`);
  const hb = all.filter((c) => c.dir === 'in' && c.method === 'Heartbeat').pop();
  if (hb) facts['auth.heartbeatPassword'] = hb.conn?.password ?? null;
}

// 1.6 meter values under `base` (a transaction or a connector's meter).
function samples16(facts, base, meterValues) {
  for (const mv of meterValues) {
    for (const sv of mv.sampledValue) {
      const ctx = sv.context ?? 'Sample.Periodic';
      const r = reading16(sv);
      if (r.signed) put(facts, `${base}.signed.${ctx}`, r.signed);
      else put(facts, `${base}.sample.${sampleKey(mv.timestamp, sv, ctx)}`, r.value);
    }
  }
}

// ---------------------------------------------------------------------------
export function observe16(log) {
  const facts = {};
  const all = calls(log);
  const txs = new Map(); // CSMS-issued id -> tx record
  const timeline = {};
  const faulted = {};
  const remoteStarts = [];
  const auths = [];
  let boots = 0;
  let orphans = 0;
  const line = (conn, item) => (timeline[conn] ??= []).push(item);

  for (const c of all) {
    const p = c.params;
    if (c.dir === 'out') {
      const { n } = c;
      const key = `${c.method}#${n}`;
      if (c.method === 'RemoteStartTransaction') {
        if (c.answer?.status === 'Accepted') remoteStarts.push({ conn: p.connectorId, idTag: p.idTag });
        facts[`answer.${key}`] = answerMeaning(c);
      } else if (c.method === 'GetConfiguration') {
        if (c.error || !c.answer) { facts[`config.${n}`] = answerMeaning(c); continue; }
        for (const k of c.answer.configurationKey ?? []) {
          facts[`config.${n}.${k.key}`] = `${k.value ?? ''}${k.readonly ? ' (readonly)' : ''}`;
        }
      } else if (c.method === 'ChangeConfiguration') {
        facts[`set.${p.key}`] = answerMeaning(c);
      } else {
        facts[`answer.${key}`] = answerMeaning(c);
      }
      continue;
    }
    switch (c.method) {
      case 'BootNotification': boots++; break;
      case 'StatusNotification': {
        if (p.connectorId === 0) { line(0, p.status); break; }
        if (p.errorCode && p.errorCode !== 'NoError') {
          (facts[`faults.c${p.connectorId}`] ??= []).push(`raised:${p.errorCode}`);
          faulted[p.connectorId] = true;
        } else if (faulted[p.connectorId]) {
          facts[`faults.c${p.connectorId}`].push('cleared');
          faulted[p.connectorId] = false;
        }
        line(p.connectorId, p.status);
        break;
      }
      case 'Authorize': auths.push(`${p.idTag} (-) hashes:0`); break;
      case 'DataTransfer': {
        if (p.vendorId === 'org.openchargealliance.iso15118pnc' && p.messageId === 'Authorize') {
          let d = {};
          try { d = JSON.parse(p.data); } catch { /* kept as is below */ }
          auths.push(`${d.idToken?.idToken} (${d.idToken?.type}) hashes:${d.iso15118CertificateHashData?.length ?? 0}`);
        } else {
          (facts.dataTransfers ??= []).push(`${p.vendorId}/${p.messageId ?? ''}`);
        }
        break;
      }
      case 'StartTransaction': {
        const id = c.answer?.transactionId;
        const n = txs.size + 1;
        const rs = remoteStarts.findIndex((r) => r.idTag === p.idTag && (r.conn == null || r.conn === p.connectorId));
        const tx = { n, stops: 0 };
        if (id != null) txs.set(id, tx);
        const k = `tx${n}`;
        facts[`${k}.id`] = id ?? null;
        facts[`${k}.connector`] = p.connectorId;
        facts[`${k}.token`] = p.idTag;
        facts[`${k}.start.time`] = p.timestamp;
        facts[`${k}.start.energy`] = p.meterStart;
        facts[`${k}.reservation`] = p.reservationId ?? null;
        facts[`${k}.remoteStart`] = rs >= 0;
        if (rs >= 0) remoteStarts.splice(rs, 1);
        line(p.connectorId, 'tx-start');
        tx.conn = p.connectorId;
        break;
      }
      case 'MeterValues': {
        const tx = p.transactionId != null ? txs.get(p.transactionId) : null;
        if (p.transactionId != null && !tx) { orphans++; break; }
        samples16(facts, tx ? `tx${tx.n}` : `meter.c${p.connectorId}`, p.meterValue);
        break;
      }
      case 'StopTransaction': {
        const tx = txs.get(p.transactionId);
        if (!tx) { orphans++; break; }
        const k = `tx${tx.n}`;
        tx.stops++;
        facts[`${k}.stops`] = tx.stops;
        if (tx.stops > 1) break;
        facts[`${k}.stop.time`] = p.timestamp;
        facts[`${k}.stop.energy`] = p.meterStop;
        facts[`${k}.stop.reason`] = p.reason ?? 'Local';
        facts[`${k}.stop.token`] = p.idTag ?? null;
        samples16(facts, k, p.transactionData ?? []);
        line(tx.conn, 'tx-stop');
        break;
      }
      default:
        break;
    }
  }
  for (const [conn, items] of Object.entries(timeline)) facts[`status.c${conn}`] = squash(items);
  facts.boots = boots;
  facts.transactions = txs.size;
  facts.orphanMessages = orphans;
  if (auths.length) facts.authorizations = auths;
  common(facts, all);
  return facts;
}

// A status repeated without change says nothing new to a CSMS, even with
// a transaction boundary between the two.
function squash(items) {
  let last = null;
  return items.filter((s) => {
    if (s.startsWith('tx-')) return true;
    if (s === last) return false;
    last = s;
    return true;
  });
}

// ---------------------------------------------------------------------------
export function observe2x(log) {
  const facts = {};
  const all = calls(log);
  const txs = new Map(); // station's transaction id -> record
  const timeline = {};
  const remoteStarts = new Map(); // remoteStartId -> token
  const startAnswers = []; // RequestStartTransaction calls, judged at the end
  const auths = [];
  const boots = [];
  const reports = {};
  const line = (key, item) => (timeline[key] ??= []).push(item);
  const evseKey = (evseId, connectorId) => `${evseId}/${connectorId ?? 1}`;
  const tokenOf = (t) => (t ? `${t.idToken} (${t.type})` : null);

  for (const c of all) {
    const p = c.params;
    if (c.dir === 'out') {
      const { n } = c;
      const key = `${c.method}#${n}`;
      if (c.method === 'RequestStartTransaction') {
        if (c.answer?.status === 'Accepted') remoteStarts.set(p.remoteStartId, tokenOf(p.idToken));
        facts[`answer.${key}`] = answerMeaning(c);
        startAnswers.push({ key, c });
      } else if (c.method === 'GetVariables') {
        for (const r of c.answer?.getVariableResult ?? []) {
          const k = `${r.component.name}${r.component.evse ? `@${r.component.evse.id}` : ''}.${r.variable.name}`;
          facts[`config.${n}.${k}`] = r.attributeStatus === 'Accepted' ? r.attributeValue ?? '' : r.attributeStatus;
        }
        if (!c.answer) facts[`config.${n}`] = answerMeaning(c);
      } else if (c.method === 'SetVariables') {
        for (const r of c.answer?.setVariableResult ?? []) {
          facts[`set.${r.component.name}.${r.variable.name}`] = r.attributeStatus;
        }
        if (!c.answer) {
          for (const d of p.setVariableData) facts[`set.${d.component.name}.${d.variable.name}`] = answerMeaning(c);
        }
      } else if (c.method === 'GetChargingProfiles') {
        facts[`answer.${key}`] = answerMeaning(c);
        if (c.answer?.status === 'Accepted') reports[p.requestId] ??= [];
        else facts[`profiles@${p.requestId}`] = [];
      } else {
        facts[`answer.${key}`] = answerMeaning(c);
      }
      continue;
    }
    switch (c.method) {
      case 'BootNotification': boots.push(p.reason); break;
      case 'StatusNotification': line(evseKey(p.evseId, p.connectorId), p.connectorStatus); break;
      case 'NotifyEvent':
        for (const e of p.eventData) {
          if (e.variable?.name !== 'Problem') continue;
          const where = e.component?.evse ? evseKey(e.component.evse.id, e.component.evse.connectorId) : '0/0';
          const list = (facts[`faults.${where}`] ??= []);
          list.push(e.actualValue === 'true' && !e.cleared ? `raised:${e.techCode ?? ''}` : 'cleared');
        }
        break;
      case 'Authorize':
        auths.push(`${tokenOf(p.idToken)} hashes:${p.iso15118CertificateHashData?.length ?? 0}`);
        break;
      case 'DataTransfer':
        (facts.dataTransfers ??= []).push(`${p.vendorId}/${p.messageId ?? ''}`);
        break;
      case 'MeterValues':
        for (const mv of p.meterValue) {
          for (const sv of mv.sampledValue) {
            put(facts, `meter.${p.evseId}.sample.${sampleKey(mv.timestamp, sv, sv.context ?? 'Sample.Periodic')}`,
              reading2x(sv).value);
          }
        }
        break;
      case 'ReportChargingProfiles':
        for (const prof of p.chargingProfile) {
          const periods = prof.chargingSchedule.flatMap((s) => s.chargingSchedulePeriod);
          const lim = periods.map((q) => [q.limit, q.limit_L2 ?? q.limit, q.limit_L3 ?? q.limit].join('/'));
          (reports[p.requestId] ??= []).push(`${prof.id} ${prof.chargingProfilePurpose} ${p.chargingLimitSource} ` +
            `evse ${p.evseId} limits ${lim.join(',')}`);
        }
        break;
      case 'TransactionEvent': {
        const id = p.transactionInfo.transactionId;
        let tx = txs.get(id);
        if (tx?.ended) {
          // A repeated end: the transaction is closed, a CSMS ignores it.
          tx.repeats++;
          break;
        }
        if (!tx) {
          tx = { n: txs.size + 1, seq: [], states: [], repeats: 0, evse: evseKey(p.evse?.id, p.evse?.connectorId),
            at: c.at };
          txs.set(id, tx);
          const k = `tx${tx.n}`;
          facts[`${k}.firstEvent`] = p.eventType;
          facts[`${k}.evse`] = tx.evse;
          facts[`${k}.start.time`] = p.timestamp;
          facts[`${k}.start.trigger`] = p.triggerReason;
          facts[`${k}.token`] = null;
          facts[`${k}.remoteStart`] = false;
          facts[`${k}.reservation`] = null;
          line(tx.evse, 'tx-start');
        }
        const k = `tx${tx.n}`;
        tx.seq.push(p.seqNo);
        if (p.idToken && facts[`${k}.token`] == null) facts[`${k}.token`] = tokenOf(p.idToken);
        const rsid = p.transactionInfo.remoteStartId;
        if (rsid != null && remoteStarts.has(rsid)) {
          facts[`${k}.remoteStart`] = true;
          if (facts[`${k}.token`] == null) facts[`${k}.token`] = remoteStarts.get(rsid);
        }
        if (p.reservationId != null) facts[`${k}.reservation`] = p.reservationId;
        const cs = p.transactionInfo.chargingState;
        if (cs && tx.states[tx.states.length - 1] !== cs) tx.states.push(cs);
        for (const mv of p.meterValue ?? []) {
          for (const sv of mv.sampledValue) {
            const ctx = sv.context ?? 'Sample.Periodic';
            const r = reading2x(sv);
            put(facts, `${k}.sample.${sampleKey(mv.timestamp, sv, ctx)}`, r.value);
            if (r.signed) put(facts, `${k}.signed.${ctx}`, r.signed);
            if ((sv.measurand ?? REGISTER) === REGISTER && !sv.phase) {
              if (ctx === 'Transaction.Begin') put(facts, `${k}.start.energy`, r.value);
              if (ctx === 'Transaction.End') put(facts, `${k}.stop.energy`, r.value);
            }
          }
        }
        if (p.eventType === 'Ended') {
          tx.ended = true;
          tx.endedAt = c.at;
          facts[`${k}.stop.time`] = p.timestamp;
          facts[`${k}.stop.trigger`] = p.triggerReason;
          facts[`${k}.stop.reason`] = p.transactionInfo.stoppedReason ?? 'Local';
          facts[`${k}.stop.token`] = tokenOf(p.idToken);
          facts[`${k}.stop.chargingState`] = cs ?? null;
          line(tx.evse, 'tx-end');
        }
        break;
      }
      default:
        break;
    }
  }
  // F02: whether the answer named the running transaction, as the CSMS
  // judges it when the answer comes (a station may hold its answer until
  // the CSMS has the transaction's Started event).
  for (const { key, c } of startAnswers) {
    const by = c.answeredAt ?? Infinity;
    const running = (t) => t.at < by && !(t.endedAt < by);
    const named = txs.get(c.answer?.transactionId);
    facts[`answer.${key}.transaction`] = c.answer?.transactionId != null
      ? (named && running(named) ? 'names the running transaction' : 'names an unknown id')
      : ([...txs.values()].some((t) => t.evse === evseKey(c.params.evseId, null) && running(t))
        ? 'omitted while a transaction runs' : 'none');
  }
  for (const tx of txs.values()) {
    const k = `tx${tx.n}`;
    facts[`${k}.chargingStates`] = tx.states;
    if (!(`${k}.start.energy` in facts)) facts[`${k}.start.energy`] = null;
    if (!(`${k}.stop.time` in facts)) facts[`${k}.stop.time`] = null;
    // E01.FR.07 / E02.FR.09: seqNo counts 0, 1, 2, ... per transaction.
    facts[`${k}.seqNo`] = tx.seq.every((s, i) => s === i) ? 'in order' : tx.seq.join(',');
  }
  for (const [key, items] of Object.entries(timeline)) facts[`status.${key}`] = squash(items);
  for (const [rid, list] of Object.entries(reports)) facts[`profiles@${rid}`] = [...list].sort();
  facts.boots = boots;
  facts.transactions = txs.size;
  if (auths.length) facts.authorizations = auths;
  common(facts, all);
  return facts;
}

export function observe(version, log) {
  return version === '1.6' ? observe16(log) : observe2x(log);
}
