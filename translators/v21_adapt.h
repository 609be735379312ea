/* SPDX-License-Identifier: MIT */
/*
 * The OCPP 2.0.1 <-> 2.1 field adapter (v21_adapt.c) shared by the two 2.x translators
 * (v21_v201.c, v201_v21.c): most actions exist in both versions with the
 * same name and nearly the same fields, so one table-driven pass per
 * message turns a payload of one version into the other. It does not
 * handle the actions only 2.1 has; each translator answers those itself.
 */
#ifndef OCPPGW_TR_V21_ADAPT_H
#define OCPPGW_TR_V21_ADAPT_H

#include <jansson.h>
#include <stdbool.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/translator.h"

/* Why a payload could not be adapted. */
struct ogw_tr21_fault {
	enum ogw_err err;  /* the CALLERROR code the refusal deserves */
	char desc[160];    /* names the field path and the rule */
};

/*
 * Adapts @in (borrowed), the request (@response false) or response of
 * @action, from 2.1 to 2.0.1 (adapt_down) or from 2.0.1 to 2.1
 * (adapt_up): fields the target lacks are dropped, enum values mapped,
 * limits the target adds checked. @in must be valid for the source
 * version; the result is then valid for the target. Returns 0 with a new
 * reference in *ret; -ERANGE when a value cannot be represented; -ENODATA
 * when every item of a report was dropped and nothing is left to send
 * (both with *fault filled); -ENOMEM.
 */
int ogw_tr21_adapt_down(const char *action, bool response, const json_t *in, json_t **ret,
			struct ogw_tr21_fault *fault);
int ogw_tr21_adapt_up(const char *action, bool response, const json_t *in, json_t **ret,
		      struct ogw_tr21_fault *fault);

/* The adapter as a shim (include/ocppgw/translator.h) for the 1.6 tables
 * behind a 2.1 CSMS (on the north leg) or for a 2.1 charger (south leg). */
extern const struct ogw_tr_shim ogw_tr21_shim_north;
extern const struct ogw_tr_shim ogw_tr21_shim_south;

/* Which way a CALL crosses: from 2.1 to 2.0.1 or from 2.0.1 to 2.1. Its
 * CALLRESULT goes the other way. */
enum ogw_tr21_way {
	OGW_TR21_TO201 = 0,
	OGW_TR21_TO21,
};

/*
 * The call() of a MAPPED action of the same name on both legs: adapts the
 * request and forwards it; a request that cannot be represented is
 * answered with @action's refusal (e.g. {"status":"Rejected"}) when its
 * response has one, with {} when it is a notification whose items were
 * all dropped, and with a CALLERROR otherwise. @action must be a static
 * string (it becomes out->action).
 */
int ogw_tr21_forward(const char *action, enum ogw_tr21_way way, const json_t *payload,
		     struct ogw_tr_out *out);
/* The matching result(): adapts the CALLRESULT of a call forwarded @way
 * back the other way. */
int ogw_tr21_result(const char *action, enum ogw_tr21_way way, const json_t *result,
		    json_t **ret);

/* The answer refusing @action in either 2.x version (a new reference), or
 * NULL when its response has no refusing status. */
json_t *ogw_tr21_refusal(const char *action);

/* call() functions for actions the other leg's version lacks: answer
 * {"status":"Rejected"}, or a CALLERROR NotSupported. */
int ogw_tr21_rejected(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out);
int ogw_tr21_not_supported(struct ogw_tr_env *env, const json_t *payload,
			   struct ogw_tr_out *out);

/* Table building: OGW_TR21_RELAY(up, Authorize, OGW_TR21_TO201) defines
 * up_Authorize() and up_Authorize_result() over ogw_tr21_forward() and
 * ogw_tr21_result(); OGW_TR21_MAPPED(up, Authorize) is their table entry. */
#define OGW_TR21_RELAY(dir, name, way)                                              \
	static int dir##_##name(struct ogw_tr_env *env, const json_t *payload,       \
				struct ogw_tr_out *out)                              \
	{                                                                            \
		(void)env;                                                           \
		return ogw_tr21_forward(#name, way, payload, out);                   \
	}                                                                            \
	static int dir##_##name##_result(struct ogw_tr_env *env, const json_t *memo, \
					 const json_t *result, json_t **ret)         \
	{                                                                            \
		(void)env;                                                           \
		(void)memo;                                                          \
		return ogw_tr21_result(#name, way, result, ret);                     \
	}
#define OGW_TR21_MAPPED(dir, name) \
	{ #name, OGW_TR_MAPPED, #name, dir##_##name, dir##_##name##_result }
#define OGW_TR21_LOCAL(name, fn, target) { #name, OGW_TR_LOCAL, target, fn, NULL }
#define OGW_TR21_REJECTED(name, fn, target) { #name, OGW_TR_REJECTED, target, fn, NULL }

#endif
