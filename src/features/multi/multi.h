/* SPDX-License-Identifier: MIT */
/*
 * Several CSMSs per charger (docs/MULTI_CSMS.md): the decisions, as pure
 * functions over the configuration (struct ogw_csms_view) and JSON
 * payloads. Which CALL of a secondary reaches the charger and what a
 * refused one gets (allow.c); which CSMS owns a transaction, by token
 * (route.c); the one schedule a charger gets from every CSMS's charging
 * profiles, the lowest limit winning (combine.c). No session, no I/O: the
 * session's legs call these and act on the answer.
 */
#ifndef OGW_MULTI_H
#define OGW_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "ocppgw/config.h"
#include "ocppgw/ocpp.h"

/* ---- a secondary's CALL to the charger (allow.c) ------------------------ */

/* The read-only actions a secondary may send when it has no allow list,
 * in version @v; NULL-terminated. */
const char *const *ogw_multi_default_allow(enum ogw_ocpp v);

/* The answer the gateway gives a refused CALL: a CALLERROR with @error, or
 * (error OGW_ERR_NONE) a CALLRESULT with @payload (a new reference the
 * caller releases). */
struct ogw_multi_refusal {
	enum ogw_err error;
	json_t *payload;
};

/* Whether secondary @cs (speaking @v) may send @action to the charger:
 * true, or false with *ret_refusal its answer (refusal "reject": the
 * action's own refusal where it has one; else SecurityError, which is
 * also the answer when there is no memory for the payload). */
bool ogw_multi_call_allowed(const struct ogw_csms_conf *cs, enum ogw_ocpp v, const char *action,
			    struct ogw_multi_refusal *ret_refusal);
/* The payload by which the charger itself would refuse @action in @v
 * ({"status":"Rejected"} for Reset), a new reference; NULL when the
 * action's response has no refusal (GetConfiguration, 1.6 GetDiagnostics). */
json_t *ogw_multi_refusal_payload(enum ogw_ocpp v, const char *action);

/* ---- which CSMS owns a transaction (route.c) ----------------------------- */

/* A CSMS of a view by index: 0 the primary, 1 + i secondaries[i]. */
#define OGW_MULTI_PRIMARY 0
/* Not decided yet: "ask" waits for the Authorize answers. */
#define OGW_MULTI_UNDECIDED (-1)

/* The owner of @token's transactions under @view's token_routing: primary
 * always; list (and ask) a secondary whose tokens hold it, else whose
 * longest token prefix starts it (OCPP 1.6 §4.2 / 2.0.1 IdTokenType: id
 * tokens compare case-insensitively), else primary (list) or
 * OGW_MULTI_UNDECIDED (ask). */
int ogw_multi_token_owner(const struct ogw_csms_view *view, const char *token);

enum ogw_multi_answer {
	OGW_MULTI_PENDING = 0,    /* no answer yet */
	OGW_MULTI_ACCEPTED,       /* idTagInfo / idTokenInfo status Accepted */
	OGW_MULTI_REFUSED,        /* any other status, a CALLERROR, or the CSMS is down */
};
/* "ask": the owner from each CSMS's Authorize answer so far (@answers[0]
 * the primary's, @n of them): the first that accepted, once every one
 * before it refused; OGW_MULTI_UNDECIDED while that is not known; the
 * primary when all refused (the charger gets the primary's refusal). */
int ogw_multi_ask_owner(const enum ogw_multi_answer *answers, size_t n);
/* The token a CALL of the charger names in @v, or NULL: 1.6 idTag of
 * Authorize and StartTransaction; 2.x idToken.idToken of Authorize and
 * TransactionEvent. Borrowed from @payload. */
const char *ogw_multi_call_token(enum ogw_ocpp v, const char *action, const json_t *payload);
/* An Authorize CALLRESULT @result in @v as an answer (NULL: a CALLERROR). */
enum ogw_multi_answer ogw_multi_authorize_answer(enum ogw_ocpp v, const json_t *result);

/* ---- smart charging from several CSMSs (combine.c) ----------------------- */

/* One charging profile a CSMS set on the charger. */
struct ogw_multi_profile {
	const json_t *body;       /* 1.6 csChargingProfiles / 2.x chargingProfile */
	bool v16;                 /* @body's version is 1.6 */
	int evse;                 /* connectorId / evseId it was set on; 0: the charger */
	time_t received;          /* stands in for a missing startSchedule */
	size_t csms;              /* which CSMS set it (a view index) */
};

/* One period of a combined schedule, @start_s seconds after its start. */
struct ogw_multi_period {
	int start_s;
	double limit_a;           /* A per phase; < 0: no CSMS limits it */
};

struct ogw_multi_schedule {
	time_t from;
	int duration_s;
	bool open_end;            /* the last period holds on after duration_s */
	struct ogw_multi_period *periods;  /* ascending start_s, the first at 0 */
	size_t n;
};

/* The limit on EVSE @evse at @t: each CSMS's own composite (OCPP 1.6
 * §3.13.2 / 2.0.1 K08: per purpose the highest stack level in force, the
 * EVSE's own over EVSE 0's at the same level; TxProfile, while a
 * transaction runs (@tx_started > 0), over TxDefaultProfile; the Max and
 * external-constraint profiles cap it), then the lowest over CSMSs.
 * A per phase (W at @voltage), < 0: none. */
double ogw_multi_limit_at(const struct ogw_multi_profile *p, size_t n, int evse, time_t t,
			  int64_t tx_started, double voltage);
/* The same for the profiles of CSMS @csms only. */
double ogw_multi_csms_limit_at(const struct ogw_multi_profile *p, size_t n, size_t csms,
			       int evse, time_t t, int64_t tx_started, double voltage);
/* The combined schedule on EVSE @evse from @from for @duration_s seconds:
 * a period wherever the lowest limit changes. 0, or -ENOMEM / -EINVAL
 * (@duration_s < 1); free with ogw_multi_schedule_clear(). */
int ogw_multi_combine(const struct ogw_multi_profile *p, size_t n, int evse, time_t from,
		      int duration_s, int64_t tx_started, double voltage,
		      struct ogw_multi_schedule *ret);
void ogw_multi_schedule_clear(struct ogw_multi_schedule *s);
/* The limit @s sets at @t (< 0: none, or outside it). */
double ogw_multi_schedule_at(const struct ogw_multi_schedule *s, time_t t);
/* Whether the limits of the profiles on EVSE @evse stop changing: true
 * with *ret_at the last instant one may change (a period's start, a
 * duration's or validity's end), false when one recurs for ever. */
bool ogw_multi_settles(const struct ogw_multi_profile *p, size_t n, int evse,
		       int64_t tx_started, time_t *ret_at);
/* Drops what no CSMS limits at either end of @s: it then starts at its
 * first limit and ends where the limits end. false: nothing limits. */
bool ogw_multi_schedule_trim(struct ogw_multi_schedule *s);
/* @s as the profile the charger gets in @v: 1.6 csChargingProfiles / 2.x
 * chargingProfile, TxDefaultProfile (@cap: ChargePointMaxProfile /
 * ChargingStationMaxProfile), Absolute from s->from, in A rounded down to
 * 0.1 A, @max_a where no CSMS limits, without duration when s->open_end;
 * id @id, stackLevel @stack_level. A new reference, NULL without memory. */
json_t *ogw_multi_schedule_profile(const struct ogw_multi_schedule *s, enum ogw_ocpp v,
				   bool cap, int id, int stack_level, double max_a);

/* stage.c: a secondary's CALLs on its allow list only (rule 2). */
struct ogw_stage;
extern const struct ogw_stage ogw_multi_stage;
/* smart.c: every CSMS's charging profiles recorded, the charger given
 * their combination (rule 3). */
extern const struct ogw_stage ogw_multi_smart_stage;

#endif
