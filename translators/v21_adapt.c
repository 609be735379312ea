/* SPDX-License-Identifier: MIT */
/*
 * The OCPP 2.0.1 <-> 2.1 field adapter both 2.x translators share
 * (v21_adapt.h): walks a payload along the generated tables of
 * v21_tables.h, adds what a table cannot say (TransactionEvent cost and
 * trigger reason in customData), and relays or refuses the shared actions.
 * The per-action translators are in v21_v201.c and v201_v21.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ocppgw/translator.h"
#include "common.h"
#include "v21_adapt.h"
#include "v21_tables.h"

/*
 * The tables (v21_tables.h) are generated from schemas/src at build time by
 * tools/gen-adapter21.py, with the choices the schemas cannot make read
 * from translators/v21_adapt.rules; test_v21_v201.c validates every output.
 */

/* ---- the walk ----------------------------------------------------------- */

enum walk_rc {
	W_OK = 0,
	W_REFUSE,  /* a value the target cannot carry */
	W_EMPTY,   /* a required array lost all its items to F_LENIENT drops */
};

struct walk {
	const char *target;            /* "2.0.1" or "2.1", for messages */
	struct ogw_tr21_fault *fault;
	char path[128];
	size_t len;
	bool oom;
};

/* Appends ".name", or "[idx]" when name is NULL; returns the length to pop back to. */
static size_t path_push(struct walk *w, const char *name, size_t idx)
{
	size_t at = w->len;
	int n = name ? snprintf(w->path + at, sizeof(w->path) - at, "%s%s", at ? "." : "", name)
		     : snprintf(w->path + at, sizeof(w->path) - at, "[%zu]", idx);
	if (n > 0)
		w->len = at + (size_t)n < sizeof(w->path) ? at + (size_t)n : sizeof(w->path) - 1;
	return at;
}

static void path_pop(struct walk *w, size_t at)
{
	w->len = at;
	w->path[at] = '\0';
}

static enum walk_rc refuse(struct walk *w, enum ogw_err err, const char *fmt, const char *what)
{
	w->fault->err = err;
	snprintf(w->fault->desc, sizeof(w->fault->desc), "%s: ", w->path);
	size_t n = strlen(w->fault->desc);
	snprintf(w->fault->desc + n, sizeof(w->fault->desc) - n, fmt, what, w->target);
	return W_REFUSE;
}

/* Length in code points, as JSON Schema's maxLength counts. */
static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Byte offset of code point @cp in @s. */
static size_t utf8_offset(const char *s, size_t cp)
{
	size_t i = 0;
	for (size_t n = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80 && n++ == cp)
			break;
	}
	return i;
}

static const char *enum_lookup(const struct tr21_enum *e, const char *v, bool *miss)
{
	*miss = false;
	for (const struct tr21_map *m = e->map; m && m->from; m++) {
		if (!strcmp(m->from, v)) {
			*miss = !m->to;
			return m->to;
		}
	}
	if (e->only) {
		for (const char *const *o = e->only; *o; o++)
			if (!strcmp(*o, v))
				return v;
		*miss = true;
	}
	return v;
}

/* One scalar @v under rule @f: W_OK with *repl a new value to store, or
 * NULL to keep @v. */
static enum walk_rc scalar(struct walk *w, const struct tr21_field *f, json_t *v, json_t **repl)
{
	*repl = NULL;
	if ((f->op == OP_ENUM || f->op == OP_MAXLEN || f->op == OP_TRUNC) && !json_is_string(v))
		return W_OK;
	switch (f->op) {
	case OP_ENUM: {
		bool miss;
		const char *s = json_string_value(v);
		const char *to = enum_lookup(f->en, s, &miss);
		if (miss && !f->en->fallback)
			return refuse(w, OGW_ERR_PROPERTY_CONSTRAINT, "\"%s\" has no OCPP %s counterpart",
				      s);
		if (miss)
			to = f->en->fallback;
		if (to != s)
			*repl = json_string(to);
		break;
	}
	case OP_MAXLEN:
		if (utf8_len(json_string_value(v)) > (size_t)f->hi) {
			char lim[24];
			snprintf(lim, sizeof(lim), "%lld", f->hi);
			return refuse(w, OGW_ERR_PROPERTY_CONSTRAINT,
				      "longer than the %s characters OCPP %s allows", lim);
		}
		break;
	case OP_TRUNC: {
		const char *s = json_string_value(v);
		if (utf8_len(s) > (size_t)f->hi)
			*repl = json_stringn(s, utf8_offset(s, (size_t)f->hi));
		break;
	}
	case OP_RANGE: {
		json_int_t n = json_integer_value(v);
		if (n < f->lo || n > f->hi) {
			char num[24];
			snprintf(num, sizeof(num), "%lld", (long long)n);
			return refuse(w, OGW_ERR_PROPERTY_CONSTRAINT, "%s is out of range for OCPP %s",
				      num);
		}
		break;
	}
	case OP_ROUND:
		if (json_is_real(v))
			*repl = json_integer((json_int_t)llround(json_real_value(v)));
		break;
	default:
		break;
	}
	return W_OK;
}

static enum walk_rc walk_object(struct walk *w, const struct tr21_field *t, json_t *obj);

/* Field @f of @obj holding an object or an array of objects. */
static enum walk_rc walk_sub(struct walk *w, const struct tr21_field *f, json_t *obj, json_t *v)
{
	enum walk_rc r = W_OK;
	if (json_is_object(v))
		return walk_object(w, f->sub, v);
	if (!json_is_array(v))
		return W_OK;
	for (size_t i = 0; i < json_array_size(v);) {
		size_t at = path_push(w, NULL, i);
		r = walk_object(w, f->sub, json_array_get(v, i));
		path_pop(w, at);
		if (r == W_OK) {
			i++;
			continue;
		}
		if (!(f->flags & F_LENIENT) || w->oom)
			return r;
		json_array_remove(v, i);
	}
	if (json_array_size(v))
		return W_OK;
	/* F_LENIENT dropped every item: a required array empties its parent */
	if (f->flags & F_REQ)
		return W_EMPTY;
	json_object_del(obj, f->name);
	return W_OK;
}

/*
 * 2.0.1 has one limit for every phase; 2.1 periods may give L2 and L3
 * their own (limit then being L1's). The 2.0.1 limit is the tightest, so
 * no phase can be loaded beyond what the CSMS allowed it: in A that is
 * the per-phase minimum; in W (where 2.0.1's limit is the sum over the
 * phases) the minimum times the phases used (numberPhases, 3 when
 * absent). A period without limit is left to REQUIRE("limit").
 */
static enum walk_rc fold_phases(struct walk *w, const json_t *schedule, json_t *periods)
{
	bool watts = !strcmp(json_string_value(json_object_get(schedule, "chargingRateUnit"))
				     ? json_string_value(json_object_get(schedule, "chargingRateUnit"))
				     : "", "W");
	json_t *p;
	size_t i;

	json_array_foreach(periods, i, p) {
		json_t *l1 = json_object_get(p, "limit");
		json_t *l2 = json_object_get(p, "limit_L2"), *l3 = json_object_get(p, "limit_L3");
		json_t *np = json_object_get(p, "numberPhases");
		double m;

		if (!json_is_number(l1) || (!json_is_number(l2) && !json_is_number(l3)))
			continue;
		m = json_number_value(l1);
		if (json_is_number(l2) && json_number_value(l2) < m)
			m = json_number_value(l2);
		if (json_is_number(l3) && json_number_value(l3) < m)
			m = json_number_value(l3);
		if (watts)
			m *= np ? (double)json_integer_value(np) : 3.0;
		if (json_object_set_new(p, "limit", m == (double)(json_int_t)m
							    ? json_integer((json_int_t)m)
							    : json_real(m))) {
			w->oom = true;
			return W_REFUSE;
		}
	}
	return W_OK;
}

static enum walk_rc walk_field(struct walk *w, const struct tr21_field *f, json_t *obj)
{
	json_t *v = json_object_get(obj, f->name);
	json_t *repl;
	enum walk_rc r;

	switch (f->op) {
	case OP_DROP:
		json_object_del(obj, f->name);
		return W_OK;
	case OP_REQUIRE:
		return v ? W_OK : refuse(w, OGW_ERR_OCCURRENCE_CONSTRAINT,
					 "%s is required by OCPP %s", f->name);
	case OP_DEFAULT:
		if (!v && json_object_set_new(obj, f->name, json_string(f->dflt)))
			w->oom = true;
		return w->oom ? W_REFUSE : W_OK;
	case OP_SUB:
		return v ? walk_sub(w, f, obj, v) : W_OK;
	case OP_PHASES:
		return json_is_array(v) ? fold_phases(w, obj, v) : W_OK;
	default:
		break;
	}
	if (!v)
		return W_OK;
	if (!json_is_array(v)) {
		r = scalar(w, f, v, &repl);
		if (r == W_OK && repl && json_object_set_new(obj, f->name, repl))
			w->oom = true;
		return w->oom ? W_REFUSE : r;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		size_t at = path_push(w, NULL, i);
		r = scalar(w, f, json_array_get(v, i), &repl);
		path_pop(w, at);
		if (r != W_OK)
			return r;
		if (repl && json_array_set_new(v, i, repl))
			w->oom = true;
	}
	return w->oom ? W_REFUSE : W_OK;
}

static enum walk_rc walk_object(struct walk *w, const struct tr21_field *t, json_t *obj)
{
	for (; t->op != OP_END; t++) {
		size_t at = path_push(w, t->name, 0);
		enum walk_rc r = walk_field(w, t, obj);
		path_pop(w, at);
		if (r != W_OK)
			return r;
	}
	return W_OK;
}

/* The OP_ENUM rule of top-level field @field of @action's request in
 * @tab (@n messages), or NULL. */
static const struct tr21_enum *enum_rule(const struct tr21_msg *tab, size_t n, const char *action,
					 const char *field)
{
	const struct tr21_msg *m = ogw_tr_table_find(tab, n, sizeof(*tab), action);

	for (const struct tr21_field *f = m ? m->req : NULL; f && f->op != OP_END; f++)
		if (f->op == OP_ENUM && !strcmp(f->name, field))
			return f->en;
	return NULL;
}

/* Who speaks in the customData the gateway adds (2.0.1 CustomDataType
 * takes any members beside vendorId). */
static const char CUSTOM_VENDOR[] = "org.openchargealliance.ocpp21";

/* Sets member @key of obj.customData to @v (taken), adding customData
 * when there is none. */
static int custom_set(json_t *obj, const char *key, json_t *v)
{
	json_t *cd = json_object_get(obj, "customData");

	if (!cd && json_object_set_new(obj, "customData",
				       (cd = json_pack("{s:s}", "vendorId", CUSTOM_VENDOR))))
		cd = NULL;
	if (!v || !cd || json_object_set_new(cd, key, v)) {
		json_decref(v);
		return -ENOMEM;
	}
	return 0;
}

/*
 * What a field table cannot say, for a TransactionEvent going to 2.0.1:
 * costDetails (the price of the session; 2.0.1 has no field for it) and a
 * 2.1-only triggerReason are kept in customData, where a 2.0.1 CSMS that
 * knows them finds them and one that does not is not misled; a transaction
 * Ended because its cost limit was reached is LocalOutOfCredit, the 2.0.1
 * stoppedReason for a credit limit the station enforces.
 */
static int adapt_hook_down(const char *action, bool response, json_t *msg)
{
	const char *trig = json_string_value(json_object_get(msg, "triggerReason"));
	json_t *info = json_object_get(msg, "transactionInfo");
	const char *stopped = json_string_value(json_object_get(info, "stoppedReason"));
	const struct tr21_enum *reasons;
	bool miss;

	if (response || strcmp(action, "TransactionEvent"))
		return 0;
	reasons = enum_rule(ogw_tr21_dn_msgs, ogw_tr21_n_dn_msgs, action, "triggerReason");
	if (trig && !strcmp(trig, "CostLimitReached") &&
	    !strcmp(json_string_value(json_object_get(msg, "eventType")), "Ended") &&
	    (!stopped || !strcmp(stopped, "Other")) &&
	    json_object_set_new(info, "stoppedReason", json_string("LocalOutOfCredit")))
		return -ENOMEM;
	if (json_object_get(msg, "costDetails") &&
	    (custom_set(msg, "costDetails", json_incref(json_object_get(msg, "costDetails"))) ||
	     json_object_del(msg, "costDetails")))
		return -ENOMEM;
	if (trig && reasons && enum_lookup(reasons, trig, &miss) != trig)
		return custom_set(msg, "triggerReason", json_string(trig));
	return 0;
}

static int adapt(const struct tr21_msg *tab, size_t n, const char *target, const char *action,
		 bool response, const json_t *in, json_t **ret, struct ogw_tr21_fault *fault)
{
	const struct tr21_msg *m = ogw_tr_table_find(tab, n, sizeof(*tab), action);
	const struct tr21_field *t = m ? (response ? m->res : m->req) : NULL;
	struct walk w = { .target = target, .fault = fault };
	json_t *out;
	enum walk_rc r;

	/* no difference between the versions: the payload goes as it is */
	if (!t) {
		*ret = json_incref((json_t *)in);
		return 0;
	}
	out = json_deep_copy(in);
	if (!out || (tab == ogw_tr21_dn_msgs && adapt_hook_down(action, response, out))) {
		json_decref(out);
		return -ENOMEM;
	}
	r = walk_object(&w, t, out);
	if (w.oom) {
		json_decref(out);
		return -ENOMEM;
	}
	if (r != W_OK) {
		json_decref(out);
		if (r == W_EMPTY)
			snprintf(fault->desc, sizeof(fault->desc),
				 "%s: nothing in it can be represented in OCPP %s", action, target);
		return r == W_EMPTY ? -ENODATA : -ERANGE;
	}
	*ret = out;
	return 0;
}

int ogw_tr21_adapt_down(const char *action, bool response, const json_t *in, json_t **ret,
			struct ogw_tr21_fault *fault)
{
	return adapt(ogw_tr21_dn_msgs, ogw_tr21_n_dn_msgs, "2.0.1", action, response, in, ret,
		     fault);
}

int ogw_tr21_adapt_up(const char *action, bool response, const json_t *in, json_t **ret,
		      struct ogw_tr21_fault *fault)
{
	return adapt(ogw_tr21_up_msgs, ogw_tr21_n_up_msgs, "2.1", action, response, in, ret,
		     fault);
}

/* ---- refusals and the generic relay --------------------------------------- */

/* How each shared action is refused when its request cannot be represented
 * on the other leg: the response's own "no" (sorted by action). Actions not
 * listed get a CALLERROR, or {} for a notification left empty. */
static const struct refusal {
	const char *action;
	const char *reply;
} refusals[] = {
	{ "Authorize", "{\"idTokenInfo\":{\"status\":\"Unknown\"}}" },
	{ "CancelReservation", "{\"status\":\"Rejected\"}" },
	{ "CertificateSigned", "{\"status\":\"Rejected\"}" },
	{ "ChangeAvailability", "{\"status\":\"Rejected\"}" },
	{ "ClearCache", "{\"status\":\"Rejected\"}" },
	{ "ClearChargingProfile", "{\"status\":\"Unknown\"}" },
	{ "ClearDisplayMessage", "{\"status\":\"Unknown\"}" },
	{ "CustomerInformation", "{\"status\":\"Rejected\"}" },
	{ "DataTransfer", "{\"status\":\"Rejected\"}" },
	{ "DeleteCertificate", "{\"status\":\"Failed\"}" },
	{ "Get15118EVCertificate", "{\"status\":\"Failed\",\"exiResponse\":\"\"}" },
	{ "GetBaseReport", "{\"status\":\"NotSupported\"}" },
	{ "GetCertificateStatus", "{\"status\":\"Failed\"}" },
	{ "GetChargingProfiles", "{\"status\":\"NoProfiles\"}" },
	{ "GetCompositeSchedule", "{\"status\":\"Rejected\"}" },
	{ "GetDisplayMessages", "{\"status\":\"Unknown\"}" },
	{ "GetInstalledCertificateIds", "{\"status\":\"NotFound\"}" },
	{ "GetLog", "{\"status\":\"Rejected\"}" },
	{ "GetMonitoringReport", "{\"status\":\"NotSupported\"}" },
	{ "GetReport", "{\"status\":\"NotSupported\"}" },
	{ "InstallCertificate", "{\"status\":\"Rejected\"}" },
	{ "NotifyEVChargingNeeds", "{\"status\":\"Rejected\"}" },
	{ "NotifyEVChargingSchedule", "{\"status\":\"Rejected\"}" },
	{ "PublishFirmware", "{\"status\":\"Rejected\"}" },
	{ "RequestStartTransaction", "{\"status\":\"Rejected\"}" },
	{ "RequestStopTransaction", "{\"status\":\"Rejected\"}" },
	{ "ReserveNow", "{\"status\":\"Rejected\"}" },
	{ "Reset", "{\"status\":\"Rejected\"}" },
	{ "SendLocalList", "{\"status\":\"Failed\"}" },
	{ "SetChargingProfile", "{\"status\":\"Rejected\"}" },
	{ "SetDisplayMessage", "{\"status\":\"Rejected\"}" },
	{ "SetMonitoringBase", "{\"status\":\"Rejected\"}" },
	{ "SetMonitoringLevel", "{\"status\":\"Rejected\"}" },
	{ "SetNetworkProfile", "{\"status\":\"Rejected\"}" },
	{ "SignCertificate", "{\"status\":\"Rejected\"}" },
	{ "TriggerMessage", "{\"status\":\"NotImplemented\"}" },
	{ "UnlockConnector", "{\"status\":\"UnlockFailed\"}" },
	{ "UpdateFirmware", "{\"status\":\"Rejected\"}" },
};

/* The shim's adapter: the leg speaks 2.1, the tables 2.0.1. */
static int shim_adapt(const char *action, bool response, bool to_leg, const json_t *in,
		      json_t **ret, enum ogw_err *err, char *desc, size_t desclen)
{
	struct ogw_tr21_fault fault;
	memset(&fault, 0, sizeof(fault));
	int r = to_leg ? ogw_tr21_adapt_up(action, response, in, ret, &fault) :
			 ogw_tr21_adapt_down(action, response, in, ret, &fault);
	if (r < 0) {
		*err = fault.err ? fault.err : OGW_ERR_INTERNAL;
		snprintf(desc, desclen, "%s", fault.desc[0] ? fault.desc : strerror(-r));
	}
	return r;
}

extern const struct ogw_translator ogw_tr_v201_v21;
extern const struct ogw_translator ogw_tr_v21_v201;

/* A 2.1 CSMS's 2.1-only calls are answered as for a 2.0.1 charger, a 2.1
 * charger's as for a 2.0.1 CSMS. */
const struct ogw_tr_shim ogw_tr21_shim_north = {
	OGW_TR_UP, OGW_OCPP201, shim_adapt, ogw_tr21_refusal, &ogw_tr_v201_v21,
};
const struct ogw_tr_shim ogw_tr21_shim_south = {
	OGW_TR_DOWN, OGW_OCPP201, shim_adapt, ogw_tr21_refusal, &ogw_tr_v21_v201,
};

json_t *ogw_tr21_refusal(const char *action)
{
	const struct refusal *r = ogw_tr_table_find(refusals, sizeof(refusals) / sizeof(refusals[0]),
						    sizeof(refusals[0]), action);
	return r ? json_loads(r->reply, 0, NULL) : NULL;
}

static int adapt_way(enum ogw_tr21_way way, const char *action, bool response, const json_t *in,
		     json_t **ret, struct ogw_tr21_fault *fault)
{
	return way == OGW_TR21_TO201 ? ogw_tr21_adapt_down(action, response, in, ret, fault)
				     : ogw_tr21_adapt_up(action, response, in, ret, fault);
}

int ogw_tr21_forward(const char *action, enum ogw_tr21_way way, const json_t *payload,
		     struct ogw_tr_out *out)
{
	struct ogw_tr21_fault fault = { .err = OGW_ERR_PROPERTY_CONSTRAINT };
	json_t *res = NULL;
	int r = adapt_way(way, action, false, payload, &res, &fault);

	if (r == -ENOMEM)
		return r;
	if (r == 0) {
		out->outcome = OGW_TR_FORWARD;
		out->action = action;
		out->payload = res;
		return 0;
	}
	out->payload = ogw_tr21_refusal(action);
	/* a report whose every item was dropped: acknowledged, nothing to send */
	if (!out->payload && r == -ENODATA)
		out->payload = json_object();
	if (out->payload) {
		out->outcome = OGW_TR_ANSWER;
		return 0;
	}
	out->outcome = OGW_TR_ERROR;
	out->err = fault.err;
	snprintf(out->desc, sizeof(out->desc), "%s", fault.desc);
	return 0;
}

int ogw_tr21_result(const char *action, enum ogw_tr21_way way, const json_t *result,
		    json_t **ret)
{
	struct ogw_tr21_fault fault;
	enum ogw_tr21_way back = way == OGW_TR21_TO201 ? OGW_TR21_TO21 : OGW_TR21_TO201;
	int r = adapt_way(back, action, true, result, ret, &fault);
	/* the caller answers InternalError; the response had no counterpart */
	return r == -ENODATA ? -ERANGE : r;
}

/* ---- answers of the gateway's own ---------------------------------------- */

int ogw_tr21_rejected(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_status(out, "Rejected");
}

int ogw_tr21_not_supported(struct ogw_tr_env *env, const json_t *payload,
			   struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	out->outcome = OGW_TR_ERROR;
	out->err = OGW_ERR_NOT_SUPPORTED;
	snprintf(out->desc, sizeof(out->desc),
		 "not supported: the other side of this gateway speaks an OCPP version without it");
	return 0;
}
