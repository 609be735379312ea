/* SPDX-License-Identifier: MIT */
/*
 * The test environment for translators: implements translator.h's
 * environment table (struct ogw_tr_env_ops) over in-memory arrays and a JSON object, and
 * validates every payload crossing it with the built-in schemas so a test
 * cannot pass with an invalid output. Test code only: no queueing, no
 * persistence, and timeouts only when a test calls fake_env_expire().
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_env.h"
#include "ocppgw/schema.h"

struct ogw_tr_pending {
	enum ogw_tr_dir dir;
	char action[64];
	char key[48];       /* ogw_tr_defer_keyed(), or "" (the session's size) */
	bool answered;
};

struct fake_env {
	struct ogw_tr_env base;     /* first: a fake_env is its ogw_tr_env */
	const struct ogw_translator *tr;
	json_t *state;      /* key -> object */
	json_t *counters;   /* name -> integer */
	int fail_emit;
	bool queued;        /* what ogw_tr_queued() says */
	/* the entry running now, for ogw_tr_defer() */
	enum ogw_tr_dir cur_dir;
	const char *cur_action;
	struct fake_call *calls;
	size_t n_calls;
	struct fake_answer *answers;
	size_t n_answers;
	struct ogw_tr_pending **pending;
	size_t n_pending;
	struct fake_lost *lost;
	size_t n_lost;
};

/* The fake behind a translator's environment. */
#define F(env) ((struct fake_env *)(void *)(env))

/* One compiled schema set per version, loaded on first use (test process). */
static struct ogw_schema_set *schema_sets[OGW_OCPP_COUNT];

static const struct ogw_schema_set *schema_set(enum ogw_ocpp v)
{
	char err[256] = "";
	if (!schema_sets[v]) {
		int r = ogw_schema_set_load_builtin(v, &schema_sets[v], err, sizeof(err));
		cr_assert_eq(r, 0, "loading built-in schemas %s: %s", ogw_ocpp_name(v), err);
	}
	return schema_sets[v];
}

void fake_assert_valid(enum ogw_ocpp v, const char *action, bool response, const json_t *payload)
{
	const struct ogw_schema *s = ogw_schema_get(schema_set(v), action, response);
	struct ogw_schema_fault fault;

	cr_assert_not_null(s, "%s has no %s schema for %s", ogw_ocpp_name(v),
			   response ? "response" : "request", action);
	cr_assert_not_null(payload, "%s %s %s: no payload", ogw_ocpp_name(v), action,
			   response ? "response" : "request");
	if (ogw_schema_validate(s, payload, &fault)) {
		char *text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		cr_assert_fail("%s %s%s invalid: %s\n  payload: %s", ogw_ocpp_name(v), action,
			       response ? "Response" : "Request", fault.desc, text ? text : "?");
	}
}

static enum ogw_ocpp caller_version(const struct ogw_tr_env *env, enum ogw_tr_dir dir)
{
	return dir == OGW_TR_UP ? F(env)->tr->south : F(env)->tr->north;
}

static enum ogw_ocpp target_version(const struct ogw_tr_env *env, enum ogw_tr_dir dir)
{
	return dir == OGW_TR_UP ? F(env)->tr->north : F(env)->tr->south;
}

static const struct ogw_tr_env_ops fake_ops;

struct ogw_tr_env *fake_env_new(const struct ogw_translator *tr)
{
	struct fake_env *fe = calloc(1, sizeof(*fe));
	cr_assert_not_null(fe);
	fe->base.ops = &fake_ops;
	struct ogw_tr_env *env = &fe->base;
	F(env)->tr = tr;
	F(env)->state = json_object();
	F(env)->counters = json_object();
	return env;
}

void fake_env_free(struct ogw_tr_env *env)
{
	if (!env)
		return;
	for (size_t i = 0; i < F(env)->n_calls; i++)
		json_decref(F(env)->calls[i].payload);
	for (size_t i = 0; i < F(env)->n_answers; i++)
		json_decref(F(env)->answers[i].payload);
	for (size_t i = 0; i < F(env)->n_pending; i++)
		free(F(env)->pending[i]);
	for (size_t i = 0; i < F(env)->n_lost; i++)
		json_decref(F(env)->lost[i].payload);
	free(F(env)->lost);
	free(F(env)->calls);
	free(F(env)->answers);
	free(F(env)->pending);
	json_decref(F(env)->state);
	json_decref(F(env)->counters);
	free(env);
}

void fake_env_set_queued(struct ogw_tr_env *env, bool queued)
{
	F(env)->queued = queued;
}

void fake_env_fail_emit(struct ogw_tr_env *env, int err)
{
	F(env)->fail_emit = err;
}

/* ---- translator.h environment ------------------------------------------ */

static const char *env_charger(const struct ogw_tr_env *env)
{
	(void)env;
	return "CP-TEST";
}

static int env_emit(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
		json_t *payload, ogw_tr_done_fn done, void *user)
{
	struct fake_call *c;

	if (F(env)->fail_emit) {
		json_decref(payload);
		return F(env)->fail_emit;
	}
	fake_assert_valid(target_version(env, dir), action, false, payload);
	c = realloc(F(env)->calls, (F(env)->n_calls + 1) * sizeof(*c));
	cr_assert_not_null(c);
	F(env)->calls = c;
	c = &F(env)->calls[F(env)->n_calls++];
	memset(c, 0, sizeof(*c));
	c->dir = dir;
	snprintf(c->action, sizeof(c->action), "%s", action);
	c->payload = payload;
	c->done = done;
	c->user = user;
	return 0;
}

static bool env_queued(struct ogw_tr_env *env, const char *txid)
{
	(void)txid;
	return F(env)->queued;
}

static struct ogw_tr_pending *defer_here(struct ogw_tr_env *env)
{
	struct ogw_tr_pending *p, **v;

	cr_assert_not_null(F(env)->cur_action, "ogw_tr_defer() outside a call()");
	p = calloc(1, sizeof(*p));
	cr_assert_not_null(p);
	p->dir = F(env)->cur_dir;
	snprintf(p->action, sizeof(p->action), "%s", F(env)->cur_action);
	v = realloc(F(env)->pending, (F(env)->n_pending + 1) * sizeof(*v));
	cr_assert_not_null(v);
	F(env)->pending = v;
	F(env)->pending[F(env)->n_pending++] = p;
	return p;
}

static struct ogw_tr_pending *env_defer(struct ogw_tr_env *env, const char *key)
{
	struct ogw_tr_pending *p;

	if (!key)
		return defer_here(env);
	/* The session's limits: a non-empty key that fits, not in use. */
	if (!*key || strlen(key) >= sizeof(p->key) || ogw_tr_pending_find(env, key))
		return NULL;
	p = defer_here(env);
	snprintf(p->key, sizeof(p->key), "%s", key);
	return p;
}

static struct ogw_tr_pending *env_pending_find(struct ogw_tr_env *env, const char *key)
{
	for (size_t i = 0; key && i < F(env)->n_pending; i++)
		if (!F(env)->pending[i]->answered && !strcmp(F(env)->pending[i]->key, key))
			return F(env)->pending[i];
	return NULL;
}

bool fake_env_expire(struct ogw_tr_env *env, const char *key)
{
	struct ogw_tr_pending *p = ogw_tr_pending_find(env, key);

	if (!p)
		return false;
	/* What the session does when the response timeout passes. */
	ogw_tr_answer(env, p, NULL, OGW_ERR_INTERNAL, "the answer could not be completed in time");
	return true;
}

static void env_answer(struct ogw_tr_env *env, struct ogw_tr_pending *p, json_t *payload,
		   enum ogw_err err, const char *desc)
{
	struct fake_answer *a;

	cr_assert_not_null(p);
	cr_assert(!p->answered, "deferred %s answered twice", p->action);
	p->answered = true;
	if (payload)
		fake_assert_valid(caller_version(env, p->dir), p->action, true, payload);
	a = realloc(F(env)->answers, (F(env)->n_answers + 1) * sizeof(*a));
	cr_assert_not_null(a);
	F(env)->answers = a;
	a = &F(env)->answers[F(env)->n_answers++];
	memset(a, 0, sizeof(*a));
	a->dir = p->dir;
	snprintf(a->action, sizeof(a->action), "%s", p->action);
	a->payload = payload;
	a->err = payload ? OGW_ERR_NONE : err;
	snprintf(a->desc, sizeof(a->desc), "%s", desc ? desc : "");
}

static json_t *env_state_get(struct ogw_tr_env *env, const char *key)
{
	json_t *v = json_object_get(F(env)->state, key);
	/* a copy, as a store would give: the caller cannot edit the stored value */
	return v ? json_deep_copy(v) : NULL;
}

static int env_state_put(struct ogw_tr_env *env, const char *key, json_t *value)
{
	if (!json_is_object(value)) {
		json_decref(value);
		return -EINVAL;
	}
	return json_object_set_new(F(env)->state, key, value) ? -ENOMEM : 0;
}

static int env_state_del(struct ogw_tr_env *env, const char *key)
{
	json_object_del(F(env)->state, key);
	return 0;
}

static int64_t env_next_id(struct ogw_tr_env *env, const char *name)
{
	json_int_t n = json_integer_value(json_object_get(F(env)->counters, name)) + 1;
	json_object_set_new(F(env)->counters, name, json_integer(n));
	return n;
}

static void env_lost(struct ogw_tr_env *env, const char *action, const json_t *payload,
		     const char *reason)
{
	struct fake_lost *l;

	cr_assert_not_null(reason, "a lost %s without a reason", action);
	l = realloc(F(env)->lost, (F(env)->n_lost + 1) * sizeof(*l));
	cr_assert_not_null(l);
	F(env)->lost = l;
	l = &F(env)->lost[F(env)->n_lost++];
	memset(l, 0, sizeof(*l));
	snprintf(l->action, sizeof(l->action), "%s", action);
	l->payload = json_deep_copy(payload);
	snprintf(l->reason, sizeof(l->reason), "%s", reason);
}

static const struct ogw_tr_env_ops fake_ops = {
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

/* ---- inspection ---------------------------------------------------------- */

size_t fake_env_n_lost(const struct ogw_tr_env *env)
{
	return F(env)->n_lost;
}

const struct fake_lost *fake_env_lost(const struct ogw_tr_env *env, size_t i)
{
	cr_assert_lt(i, F(env)->n_lost, "lost message %zu of %zu", i, F(env)->n_lost);
	return &F(env)->lost[i];
}

size_t fake_env_n_emitted(const struct ogw_tr_env *env)
{
	return F(env)->n_calls;
}

const struct fake_call *fake_env_emitted(const struct ogw_tr_env *env, size_t i)
{
	cr_assert_lt(i, F(env)->n_calls, "emitted call %zu of %zu", i, F(env)->n_calls);
	return &F(env)->calls[i];
}

long fake_env_find(const struct ogw_tr_env *env, const char *action, size_t from)
{
	for (size_t i = from; i < F(env)->n_calls; i++)
		if (!strcmp(F(env)->calls[i].action, action))
			return (long)i;
	return -1;
}

void fake_env_reply(struct ogw_tr_env *env, size_t i, const json_t *result)
{
	struct fake_call *c;

	cr_assert_lt(i, F(env)->n_calls, "reply to emitted call %zu of %zu", i, F(env)->n_calls);
	c = &F(env)->calls[i];
	cr_assert(!c->replied, "emitted call %zu (%s) replied twice", i, c->action);
	c->replied = true;
	if (result)
		fake_assert_valid(target_version(env, c->dir), c->action, true, result);
	if (c->done)
		c->done(env, c->user, result);
}

void fake_env_reply_text(struct ogw_tr_env *env, size_t i, const char *result_json)
{
	json_t *r = result_json ? fake_json(result_json) : NULL;
	fake_env_reply(env, i, r);
	json_decref(r);
}

size_t fake_env_n_answers(const struct ogw_tr_env *env)
{
	return F(env)->n_answers;
}

const struct fake_answer *fake_env_answer(const struct ogw_tr_env *env, size_t i)
{
	cr_assert_lt(i, F(env)->n_answers, "answer %zu of %zu", i, F(env)->n_answers);
	return &F(env)->answers[i];
}

size_t fake_env_n_pending(const struct ogw_tr_env *env)
{
	size_t n = 0;
	for (size_t i = 0; i < F(env)->n_pending; i++)
		n += !F(env)->pending[i]->answered;
	return n;
}

json_t *fake_env_state(struct ogw_tr_env *env)
{
	return F(env)->state;
}

/* ---- driving entries ----------------------------------------------------- */

static const struct ogw_tr_action *entry(const struct ogw_tr_env *env, enum ogw_tr_dir dir,
					 const char *action)
{
	const struct ogw_tr_action *a = ogw_translator_action(F(env)->tr, dir, action);
	cr_assert_not_null(a, "no %s entry for %s", dir == OGW_TR_UP ? "up" : "down", action);
	return a;
}

void fake_env_call(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
		   const json_t *payload, struct ogw_tr_out *out)
{
	const struct ogw_tr_action *a = entry(env, dir, action);
	int r;

	fake_assert_valid(caller_version(env, dir), action, false, payload);
	memset(out, 0, sizeof(*out));
	F(env)->cur_dir = dir;
	F(env)->cur_action = a->action;
	r = a->call(env, payload, out);
	F(env)->cur_action = NULL;
	cr_assert_eq(r, 0, "%s call() returned %d", action, r);
	switch (out->outcome) {
	case OGW_TR_FORWARD:
		cr_assert_not_null(out->action, "%s: FORWARD without an action", action);
		fake_assert_valid(target_version(env, dir), out->action, false, out->payload);
		break;
	case OGW_TR_ANSWER:
		fake_assert_valid(caller_version(env, dir), action, true, out->payload);
		break;
	case OGW_TR_DEFER:
	case OGW_TR_ERROR:
		cr_assert_null(out->payload, "%s: payload with outcome %d", action, out->outcome);
		break;
	}
}

void fake_env_call_text(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
			const char *payload_json, struct ogw_tr_out *out)
{
	json_t *p = fake_json(payload_json);
	fake_env_call(env, dir, action, p, out);
	json_decref(p);
}

json_t *fake_env_result(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
			const struct ogw_tr_out *out, const json_t *result)
{
	const struct ogw_tr_action *a = entry(env, dir, action);
	json_t *ret = NULL;

	cr_assert_eq(out->outcome, OGW_TR_FORWARD, "%s: result() for a non-FORWARD", action);
	fake_assert_valid(target_version(env, dir), out->action, true, result);
	if (!a->result) {
		ret = json_incref((json_t *)result);
	} else {
		int r = a->result(env, out->memo, result, &ret);
		cr_assert_eq(r, 0, "%s result() returned %d", action, r);
	}
	fake_assert_valid(caller_version(env, dir), action, true, ret);
	return ret;
}

json_t *fake_env_result_text(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
			     const struct ogw_tr_out *out, const char *result_json)
{
	json_t *r = fake_json(result_json);
	json_t *ret = fake_env_result(env, dir, action, out, r);
	json_decref(r);
	return ret;
}

void fake_out_clear(struct ogw_tr_out *out)
{
	json_decref(out->payload);
	json_decref(out->memo);
	out->payload = NULL;
	out->memo = NULL;
}

/* ---- JSON helpers -------------------------------------------------------- */

json_t *fake_json(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
	cr_assert_not_null(j, "bad test JSON at %d: %s\n  %s", je.position, je.text, text);
	return j;
}

json_t *fake_fixture(const char *rel)
{
	char path[1024];
	json_error_t je;
	json_t *j;

	snprintf(path, sizeof(path), "%s/tests/fixtures/translators/%s", OGW_SRC_DIR, rel);
	j = json_load_file(path, JSON_DECODE_ANY, &je);
	cr_assert_not_null(j, "%s:%d: %s", path, je.line, je.text);
	return j;
}

json_t *fake_path(const json_t *j, const char *path)
{
	const json_t *cur = j;
	const char *p = path;

	while (cur && *p) {
		if (*p == '[') {
			char *end;
			long i = strtol(p + 1, &end, 10);
			if (*end != ']')
				return NULL;
			cur = json_array_get(cur, (size_t)i);
			p = end + 1;
		} else {
			char key[128];
			size_t n = strcspn(p, ".[");
			if (n >= sizeof(key))
				return NULL;
			memcpy(key, p, n);
			key[n] = '\0';
			cur = json_object_get(cur, key);
			p += n;
		}
		if (*p == '.')
			p++;
	}
	return (json_t *)cur;
}

void fake_assert_str(const json_t *j, const char *path, const char *want)
{
	json_t *v = fake_path(j, path);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	cr_assert(json_is_string(v), "%s: not a string in %s", path, text ? text : "?");
	cr_assert_str_eq(json_string_value(v), want, "%s in %s", path, text ? text : "?");
	free(text);
}

void fake_assert_int(const json_t *j, const char *path, long long want)
{
	json_t *v = fake_path(j, path);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	cr_assert(json_is_integer(v), "%s: not an integer in %s", path, text ? text : "?");
	cr_assert_eq(json_integer_value(v), want, "%s in %s", path, text ? text : "?");
	free(text);
}

/* ---- table checks -------------------------------------------------------- */

static void check_table(const struct ogw_translator *tr, enum ogw_tr_dir dir)
{
	enum ogw_ocpp src = dir == OGW_TR_UP ? tr->south : tr->north;
	const struct ogw_tr_action *tab = dir == OGW_TR_UP ? tr->up : tr->down;
	size_t n = dir == OGW_TR_UP ? tr->n_up : tr->n_down;
	const char *want = dir == OGW_TR_UP ? "up" : "down";
	char path[1024];
	json_error_t je;
	json_t *doc, *actions, *v;
	const char *name;

	snprintf(path, sizeof(path), "%s/schemas/%s/actions.json", OGW_SRC_DIR, ogw_ocpp_name(src));
	doc = json_load_file(path, 0, &je);
	cr_assert_not_null(doc, "%s:%d: %s", path, je.line, je.text);
	actions = json_object_get(doc, "actions");
	for (size_t i = 0; i < n; i++) {
		const char *dirtext = json_string_value(json_object_get(actions, tab[i].action));
		cr_assert_not_null(tab[i].call, "%s: no call()", tab[i].action);
		cr_assert_not_null(tab[i].target, "%s: no target", tab[i].action);
		if (i)
			cr_assert_lt(strcmp(tab[i - 1].action, tab[i].action), 0,
				     "%s table not sorted at %s", want, tab[i].action);
		cr_assert_not_null(dirtext, "%s entry %s is not a %s action", want, tab[i].action,
				   ogw_ocpp_name(src));
		cr_assert(!strcmp(dirtext, want) || !strcmp(dirtext, "both"),
			  "%s entry %s goes %s in %s", want, tab[i].action, dirtext, ogw_ocpp_name(src));
	}
	json_object_foreach(actions, name, v) {
		const char *d = json_string_value(v);
		if (strcmp(d, want) && strcmp(d, "both"))
			continue;
		cr_expect_not_null(ogw_translator_action(tr, dir, name), "%s action %s has no %s entry",
				   ogw_ocpp_name(src), name, want);
	}
	json_decref(doc);
}

void fake_assert_tables(const struct ogw_translator *tr)
{
	check_table(tr, OGW_TR_UP);
	check_table(tr, OGW_TR_DOWN);
}
