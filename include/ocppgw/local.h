/* SPDX-License-Identifier: MIT */
/*
 * The gateway acting as the chargers' central system: the answers it gives
 * when there is no CSMS (standalone) or while the CSMS is unreachable, the
 * authorization list and cache it keeps in step with the CSMS while
 * relaying, and the transaction log every charger's frames feed. It decides
 * and records; sending, queueing and replaying are the session's job.
 * Everything runs on the event-loop thread.
 */
#ifndef OCPPGW_LOCAL_H
#define OCPPGW_LOCAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ocppgw/config.h"
#include "ocppgw/ocpp.h"
#include "ocppgw/store.h"

struct ogw_local_ctx {
	struct ogw_store *store;
	const struct ogw_conf *conf;   /* offline_* settings, local_list */
	const char *charger;
	enum ogw_ocpp ver;             /* the version the answer is in */
	bool standalone;               /* no CSMS at all: the gateway is the central system */
};

/* The local CSMS's answer to @action/@req in ctx->ver (a new reference,
 * valid against that version's response schema), or NULL with *ret_err and
 * @desc set where no local answer makes sense (OGW_ERR_NOT_SUPPORTED) or
 * the store failed (OGW_ERR_INTERNAL). Writes what it decides (issued
 * transaction ids) to the store. Authorize: the CSMS's local list, then its
 * cache (entries not expired), then conf->local_list, then
 * conf->offline_accept_unknown; what the gateway decides itself never
 * enters the cache, which holds only what the CSMS said. */
json_t *ogw_local_answer(const struct ogw_local_ctx *ctx, const char *action, const json_t *req,
			 enum ogw_err *ret_err, char *desc, size_t desclen);

/* Records what the CSMS said, seen while relaying in ctx->ver: a CALL and
 * its CALLRESULT. @from_charger: the charger's call to the CSMS (Authorize,
 * StartTransaction, StopTransaction, TransactionEvent -> idTagInfo /
 * idTokenInfo into the cache, unless the token is on the local list); else
 * the CSMS's call to the charger (SendLocalList answered Accepted -> list
 * Full/Differential + version in kv "auth.list_version"; GetLocalListVersion
 * -> that version, 0 empties the list; ClearCache Accepted -> clear the
 * cache). Store failures are logged with the charger id. */
void ogw_local_observe(const struct ogw_local_ctx *ctx, bool from_charger, const char *action,
		       const json_t *req, const json_t *res);

/* The transaction log, fed with every south frame in the charger's version
 * (a session observer): from_charger/response as in a CALL from the charger
 * (true,false), our answer to it (true,true), a CALL to the charger
 * (false,false), its answer (false,true). Upserts transactions rows (1.6
 * Start/Stop/MeterValues, 2.x TransactionEvent Started/Updated/Ended,
 * energy from Energy.Active.Import.Register). @offline marks rows started
 * while the CSMS was unreachable. Keeps per-charger pending state in @rec
 * (the StartTransaction awaiting its transactionId). */
struct ogw_local_rec;   /* opaque */
struct ogw_local_rec *ogw_local_rec_new(struct ogw_store *store, const char *charger,
					enum ogw_ocpp ver);
struct ogw_local_rec *ogw_local_rec_free(struct ogw_local_rec *rec);  /* NULL-safe, returns NULL */
void ogw_local_rec_observe(struct ogw_local_rec *rec, bool from_charger, bool response,
			   const char *action, const json_t *payload, bool offline);

/* ---- the transaction log as the operator reads it (sessions.c) ---- */
/* Store rows (ogw_store_tx_list) as sessions: charger, tx_id, evse,
 * connector, id_tag, started and stopped (RFC 3339 or null), energy_kwh
 * (or null), stop_reason, offline. A new array, NULL when out of memory. */
json_t *ogw_sessions_view(const json_t *rows);
/* Those sessions as CSV (RFC 4180, a header line, energy with 3 decimals):
 * what `ocppgw sessions` prints. malloc'd, *@ret_len bytes; NULL on error. */
char *ogw_sessions_csv(const json_t *sessions, size_t *ret_len);
/* {"energy_kwh": total, "by_charger": {id: kWh}, "by_token": {tag: kWh}}
 * over the sessions whose energy is known ("" for sessions without a
 * token). NULL when out of memory. */
json_t *ogw_sessions_sums(const json_t *sessions);
/* A day ("2026-12-04": its UTC midnight) or an RFC 3339 time to unix
 * seconds: 0, or -EINVAL. */
int ogw_sessions_parse_time(const char *s, int64_t *ret);

/* Gateway-issued 1.6 transaction ids start here (OGW_LOCAL_TX_BASE + a
 * durable per-charger counter), far above the ids a CSMS usually issues, so
 * a replayed StartTransaction.conf's id never collides with one. Still
 * below 2^31: chargers that keep the id in a signed 32-bit int are fine for
 * the first 1.1 billion offline transactions. */
#define OGW_LOCAL_TX_BASE 1000000000

#endif
