/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the translators (translators/): byte 0 picks an
 * ordered version pair (south, north), byte 1 the direction (bit 0: 0 up
 * from the charger, 1 down from the CSMS), then an action name, a newline
 * and the JSON payload. A payload valid for the caller's version goes
 * through the pair's entry as the session runs it (the 2.1 shim's adapter
 * on a shimmed leg included); whatever comes out must be schema-valid in
 * the version of the leg it goes to: a forwarded call, an answer, a call
 * the translator emits, a deferred answer. A return other than 0 or a
 * negative errno, an invalid output or a sanitizer report is a crash. The
 * environment is in memory, like tests/unit/translators/fake_env.c, and
 * starts empty for every input; the calls a translator emits time out
 * (their done callbacks get NULL) at the end of the run. Built and run by tests/fuzz/run.sh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/schema.h"
#include "ocppgw/translator.h"
#include "fuzz.h"

static struct ogw_schema_set *sets[OGW_OCPP_COUNT];

/* The run in progress: one input, one environment. */
static struct {
	struct ogw_tr_env env;
	const struct ogw_translator *tr;
	enum ogw_tr_dir dir;        /* of the CALL being translated */
	const char *action;         /* its action, in the tables' version */
	json_t *state;
	int64_t next_id;
	struct ogw_tr_pending *pending[8]; /* deferred and not answered yet */
	struct {
		ogw_tr_done_fn done;
		void *user;
	} emitted[16];                     /* calls emitted, their answers due */
	size_t n_emitted;
} run;

struct ogw_tr_pending {
	char key[64];
};

/* Whether the leg a payload goes out on is the north one, and checks it
 * there: through the shim when the shim sits on that leg, then against the
 * leg's own version. A value the leg's version cannot hold is refused by
 * the adapter, which is allowed; an invalid payload is not. */
static void check_out(bool north, const char *action, bool response, const json_t *payload)
{
	const struct ogw_translator *tr = run.tr;
	const struct ogw_tr_shim *sh = tr->shim;
	enum ogw_ocpp v = north ? tr->north : tr->south;
	json_t *leg = NULL;

	CHECK(payload, "%s %s: no payload", action, response ? "response" : "request");
	if (sh && (sh->leg == OGW_TR_UP) == north) {
		enum ogw_err err;
		char desc[200];
		if (sh->adapt(action, response, true, payload, &leg, &err, desc, sizeof(desc)) < 0)
			return;
		payload = leg;
	}
	const struct ogw_schema *s = ogw_schema_get(sets[v], action, response);
	struct ogw_schema_fault f;
	CHECK(s, "%s has no %s schema for %s", ogw_ocpp_name(v), response ? "response" : "request",
	      action);
	if (ogw_schema_validate(s, payload, &f) < 0) {
		char *text = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
		CHECK(0, "%s %s%s invalid: %s\n  %s", ogw_ocpp_name(v), action,
		      response ? "Response" : "Request", f.desc, text ? text : "?");
	}
	json_decref(leg);
}

static const char *env_charger(const struct ogw_tr_env *env)
{
	(void)env;
	return "CP-FUZZ";
}

static int env_emit(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
		    json_t *payload, ogw_tr_done_fn done, void *user)
{
	(void)env;
	check_out(dir == OGW_TR_UP, action, false, payload);
	json_decref(payload);
	if (!done)
		return 0;
	/* Full: refused as a session refuses with its queue full. */
	if (run.n_emitted == sizeof(run.emitted) / sizeof(run.emitted[0]))
		return -ENOBUFS;
	run.emitted[run.n_emitted].done = done;
	run.emitted[run.n_emitted++].user = user;
	return 0;
}

static struct ogw_tr_pending *env_defer(struct ogw_tr_env *env, const char *key)
{
	(void)env;
	struct ogw_tr_pending *p = calloc(1, sizeof(*p));
	CHECK(p, "out of memory");
	snprintf(p->key, sizeof(p->key), "%s", key ? key : "");
	for (size_t i = 0; i < sizeof(run.pending) / sizeof(run.pending[0]); i++)
		if (!run.pending[i])
			return run.pending[i] = p;
	CHECK(0, "more than 8 deferred calls in one run");
	return NULL;
}

static struct ogw_tr_pending *env_pending_find(struct ogw_tr_env *env, const char *key)
{
	(void)env;
	for (size_t i = 0; i < sizeof(run.pending) / sizeof(run.pending[0]); i++)
		if (run.pending[i] && key && !strcmp(run.pending[i]->key, key))
			return run.pending[i];
	return NULL;
}

static void pending_drop(struct ogw_tr_pending *p)
{
	for (size_t i = 0; i < sizeof(run.pending) / sizeof(run.pending[0]); i++)
		if (run.pending[i] == p || !p) {
			free(run.pending[i]);
			run.pending[i] = NULL;
		}
}

static void env_answer(struct ogw_tr_env *env, struct ogw_tr_pending *p, json_t *payload,
		       enum ogw_err err, const char *desc)
{
	(void)env;
	if (payload)
		check_out(run.dir == OGW_TR_DOWN, run.action, true, payload);
	else
		CHECK(err > OGW_ERR_NONE && err < OGW_ERR_COUNT && desc, "CALLERROR %d", (int)err);
	json_decref(payload);
	pending_drop(p);
}

static json_t *env_state_get(struct ogw_tr_env *env, const char *key)
{
	(void)env;
	return json_incref(json_object_get(run.state, key));
}

static int env_state_put(struct ogw_tr_env *env, const char *key, json_t *value)
{
	(void)env;
	CHECK(json_is_object(value), "state %s is not an object", key);
	return json_object_set_new(run.state, key, value) ? -ENOMEM : 0;
}

static int env_state_del(struct ogw_tr_env *env, const char *key)
{
	(void)env;
	json_object_del(run.state, key);
	return 0;
}

static int64_t env_next_id(struct ogw_tr_env *env, const char *name)
{
	(void)env;
	(void)name;
	return ++run.next_id;
}

static bool env_queued(struct ogw_tr_env *env, const char *txid)
{
	(void)env;
	(void)txid;
	return false;
}

static void env_lost(struct ogw_tr_env *env, const char *action, const json_t *payload,
		     const char *reason)
{
	(void)env;
	CHECK(action && payload && reason && reason[0], "a loss without its reason");
}

static const struct ogw_tr_env_ops env_ops = {
	.charger = env_charger,
	.emit = env_emit,
	.defer = env_defer,
	.pending_find = env_pending_find,
	.answer = env_answer,
	.state_get = env_state_get,
	.state_put = env_state_put,
	.state_del = env_state_del,
	.next_id = env_next_id,
	.queued = env_queued,
	.lost = env_lost,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_load_schemas(sets);
	run.env.ops = &env_ops;
	return 0;
}

/* The ordered pair number @n (0-5): south major, the same version skipped. */
static const struct ogw_translator *pair(unsigned int n)
{
	unsigned int i = 0;
	for (int s = 0; s < OGW_OCPP_COUNT; s++)
		for (int v = 0; v < OGW_OCPP_COUNT; v++)
			if (s != v && i++ == n % 6)
				return ogw_translator_find((enum ogw_ocpp)s, (enum ogw_ocpp)v);
	return NULL;
}

static void translate(const struct ogw_tr_action *e, const json_t *in, bool caller_north)
{
	struct ogw_tr_out out;
	memset(&out, 0, sizeof(out));
	int rc = e->call(&run.env, in, &out);
	CHECK(rc <= 0, "call() returned %d", rc);
	if (rc < 0) {
		CHECK(!out.payload || out.outcome != OGW_TR_FORWARD, "failed call() left a payload");
		json_decref(out.payload);
		json_decref(out.memo);
		return;
	}
	switch (out.outcome) {
	case OGW_TR_FORWARD:
		CHECK(out.action, "FORWARD without an action");
		check_out(!caller_north, out.action, false, out.payload);
		break;
	case OGW_TR_ANSWER:
		check_out(caller_north, e->action, true, out.payload);
		break;
	case OGW_TR_DEFER:
		break;
	case OGW_TR_ERROR:
		CHECK(out.err > OGW_ERR_NONE && out.err < OGW_ERR_COUNT, "ERROR %d", (int)out.err);
		CHECK(memchr(out.desc, '\0', sizeof(out.desc)), "description not terminated");
		break;
	default:
		CHECK(0, "outcome %d", (int)out.outcome);
	}
	json_decref(out.payload);
	json_decref(out.memo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	const char *text = (const char *)data + 2;
	const char *nl = memchr(text, '\n', size - 2);
	if (!nl || nl == text || nl - text >= 64)
		return 0;
	char action[64];
	memcpy(action, text, (size_t)(nl - text));
	action[nl - text] = '\0';

	run.tr = pair(data[0]);
	CHECK(run.tr, "no translator for pair %u", data[0] % 6);
	run.dir = data[1] & 1 ? OGW_TR_DOWN : OGW_TR_UP;
	bool caller_north = run.dir == OGW_TR_DOWN;
	enum ogw_ocpp caller_v = caller_north ? run.tr->north : run.tr->south;
	const struct ogw_tr_action *table = caller_north ? run.tr->down : run.tr->up;
	size_t n = caller_north ? run.tr->n_down : run.tr->n_up;
	const struct ogw_tr_action *e = NULL;
	for (size_t i = 0; i < n && !e; i++)
		if (!strcmp(table[i].action, action))
			e = &table[i];
	if (!e)
		return 0;

	/* The session validates a CALL against the caller's version first. */
	json_error_t jerr;
	json_t *in = json_loadb(nl + 1, size - (size_t)(nl + 1 - (const char *)data),
				JSON_REJECT_DUPLICATES, &jerr);
	const struct ogw_schema *s = ogw_schema_get(sets[caller_v], action, false);
	struct ogw_schema_fault f;
	if (!in || !s || ogw_schema_validate(s, in, &f) < 0) {
		json_decref(in);
		return 0;
	}
	/* From a shimmed leg, the adapter turns it into the tables' version. */
	const struct ogw_tr_shim *sh = run.tr->shim;
	if (sh && (sh->leg == OGW_TR_UP) == caller_north) {
		json_t *adapted = NULL;
		enum ogw_err err;
		char desc[200];
		int rc = sh->adapt(action, false, false, in, &adapted, &err, desc, sizeof(desc));
		json_decref(in);
		if (rc < 0)
			return 0;
		in = adapted;
	}
	run.action = e->action;
	run.state = json_object();
	run.next_id = 0;
	translate(e, in, caller_north);
	/* No answer comes in a fuzz run: every emitted call times out, as the
	 * session reports it (NULL), which may emit more. */
	for (size_t i = 0; i < run.n_emitted; i++)
		run.emitted[i].done(&run.env, run.emitted[i].user, NULL);
	run.n_emitted = 0;
	pending_drop(NULL); /* deferred CALLs nobody answered in this run */
	json_decref(run.state);
	json_decref(in);
	return 0;
}
