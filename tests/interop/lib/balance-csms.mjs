// SPDX-License-Identifier: MIT
//
// The CSMS behind the load-balancing tests: a strict ocpp-rpc CSMS that
// accepts every charger and every transaction (1.6 ids counted from 1),
// so the tests see only what the balancer does.

import { isoNow, startCsms } from './harness.mjs';

export async function startBalanceCsms() {
  const csms = await startCsms();
  let txn = 1;
  Object.assign(csms.responders, {
    BootNotification: () => ({ currentTime: isoNow(), interval: 300, status: 'Accepted' }),
    StatusNotification: {},
    MeterValues: {},
    StartTransaction: () => ({ transactionId: txn++, idTagInfo: { status: 'Accepted' } }),
    StopTransaction: {},
    TransactionEvent: {},
  });
  return csms;
}
