/* SPDX-License-Identifier: MIT */
/*
 * A test double of the session as translators see it (translator.h): it
 * records emitted calls and late answers, keeps per-charger state in memory
 * and checks every payload that crosses it against the project's schemas,
 * failing the running Criterion test on an invalid one. Test code only; it
 * does not simulate queues or SQLite, and timeouts only on request
 * (fake_env_expire()).
 */
#ifndef OGW_TEST_FAKE_ENV_H
#define OGW_TEST_FAKE_ENV_H

#include <errno.h>   /* fake_env_fail_emit() takes errno values */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ocppgw/ocpp.h"
#include "ocppgw/translator.h"

/* A call the translator made itself with ogw_tr_emit(). */
struct fake_call {
	enum ogw_tr_dir dir;   /* UP: to the CSMS, DOWN: to the charger */
	char action[64];
	json_t *payload;       /* owned by the env */
	ogw_tr_done_fn done;   /* may be NULL */
	void *user;
	bool replied;          /* fake_env_reply() ran for it */
};

/* A deferred CALL answered with ogw_tr_answer(). */
struct fake_answer {
	enum ogw_tr_dir dir;   /* direction of the CALL being answered */
	char action[64];       /* the CALL's action (caller's version) */
	json_t *payload;       /* owned by the env; NULL for a CALLERROR */
	enum ogw_err err;
	char desc[200];
};

/* A message the translator gave up on with ogw_tr_lost(). */
struct fake_lost {
	char action[64];
	json_t *payload;       /* owned by the env (a copy) */
	char reason[200];
};

/* A new environment for @tr (charger id "CP-TEST"). Never NULL. */
struct ogw_tr_env *fake_env_new(const struct ogw_translator *tr);
void fake_env_free(struct ogw_tr_env *env);

/* Makes the next ogw_tr_emit() calls fail with @err (0: succeed again). */
void fake_env_fail_emit(struct ogw_tr_env *env, int err);
/* What ogw_tr_queued() answers from now on (default false). */
void fake_env_set_queued(struct ogw_tr_env *env, bool queued);

size_t fake_env_n_emitted(const struct ogw_tr_env *env);
size_t fake_env_n_lost(const struct ogw_tr_env *env);
/* The @i-th message given up on (asserts @i is in range). */
const struct fake_lost *fake_env_lost(const struct ogw_tr_env *env, size_t i);
/* The @i-th emitted call, in emission order (asserts @i is in range). */
const struct fake_call *fake_env_emitted(const struct ogw_tr_env *env, size_t i);
/* Index of the first emitted call with @action at or after @from, or -1. */
long fake_env_find(const struct ogw_tr_env *env, const char *action, size_t from);
/* Runs the done callback of emitted call @i with @result (borrowed; NULL
 * stands for a CALLERROR, a timeout or a lost leg). A non-NULL @result is
 * first checked against the response schema of the leg it came from. */
void fake_env_reply(struct ogw_tr_env *env, size_t i, const json_t *result);
/* Same, parsing @result_json (NULL: no result). */
void fake_env_reply_text(struct ogw_tr_env *env, size_t i, const char *result_json);

size_t fake_env_n_answers(const struct ogw_tr_env *env);
const struct fake_answer *fake_env_answer(const struct ogw_tr_env *env, size_t i);
/* Deferred CALLs not answered yet. */
size_t fake_env_n_pending(const struct ogw_tr_env *env);
/* Lets the response timeout pass for the CALL deferred under @key: it is
 * answered with an InternalError CALLERROR (recorded as an answer) and the
 * key forgotten, as the session does. false when no such CALL waits. */
bool fake_env_expire(struct ogw_tr_env *env, const char *key);

/* All state, as one object key -> value (borrowed). */
json_t *fake_env_state(struct ogw_tr_env *env);

/*
 * Runs the entry for @action in @dir on @payload, as the session would:
 * checks @payload against the caller's request schema, runs call() and
 * checks what comes out (FORWARD: the target's request schema for
 * out->action; ANSWER: the caller's response schema). Asserts the entry
 * exists and call() returns 0. The caller releases @out with
 * fake_out_clear().
 */
void fake_env_call(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
		   const json_t *payload, struct ogw_tr_out *out);
/* Same with @payload_json parsed (asserting it parses). */
void fake_env_call_text(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
			const char *payload_json, struct ogw_tr_out *out);
/*
 * For a FORWARD @out of @action: checks @result against the target's
 * response schema for out->action, runs the entry's result() (or passes
 * @result through when the slot is NULL) and checks the new reference in
 * the return value against the caller's response schema.
 */
json_t *fake_env_result(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
			const struct ogw_tr_out *out, const json_t *result);
json_t *fake_env_result_text(struct ogw_tr_env *env, enum ogw_tr_dir dir, const char *action,
			     const struct ogw_tr_out *out, const char *result_json);
/* Drops out->payload and out->memo. */
void fake_out_clear(struct ogw_tr_out *out);

/* Asserts @payload is valid for @action's request (@response false) or
 * response in version @v. */
void fake_assert_valid(enum ogw_ocpp v, const char *action, bool response, const json_t *payload);
/* Parses @text, asserting it parses (new reference). */
json_t *fake_json(const char *text);
/* Loads tests/fixtures/translators/@rel from the source tree (new reference). */
json_t *fake_fixture(const char *rel);
/* Asserts the string at @path ("a.b[0].c") in @j equals @want. */
void fake_assert_str(const json_t *j, const char *path, const char *want);
/* Asserts the integer at @path in @j equals @want. */
void fake_assert_int(const json_t *j, const char *path, long long want);
/* The value at @path in @j (borrowed), or NULL when absent. */
json_t *fake_path(const json_t *j, const char *path);

/*
 * Checks the tables of @tr: each sorted by action name with no duplicates,
 * every action of the source version in that direction (per the schema
 * set's actions.json) present, and no entry naming an unknown action.
 */
void fake_assert_tables(const struct ogw_translator *tr);

#endif
