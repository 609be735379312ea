/* SPDX-License-Identifier: MIT */
/*
 * Split by token: the owner of a transaction from the secondaries' token
 * lists and prefixes (exact before prefix, longest prefix, case-insensitive),
 * from the Authorize answers in "ask" mode (primary first), and the tokens
 * and answers read from payloads of each version.
 */
#include <criterion/criterion.h>
#include <jansson.h>

#include "ocppgw/config.h"
#include "ocppgw/ocpp.h"
#include "features/multi/multi.h"

static char *emp_tokens[] = { "04A2B3C4", NULL };
static char *emp_prefixes[] = { "EMP-", NULL };
static char *fleet_tokens[] = { "EMP-BOSS", NULL };
static char *fleet_prefixes[] = { "EMP-F", "E", NULL };
static struct ogw_csms_conf secondaries[] = {
	{ .name = "employer", .tokens = emp_tokens, .n_tokens = 1,
	  .token_prefixes = emp_prefixes, .n_token_prefixes = 1 },
	{ .name = "fleet", .tokens = fleet_tokens, .n_tokens = 1,
	  .token_prefixes = fleet_prefixes, .n_token_prefixes = 2 },
};

static struct ogw_csms_view view(enum ogw_token_routing r)
{
	struct ogw_csms_view v = { .primary = { .name = "primary" }, .secondaries = secondaries,
				   .n_secondaries = 2, .token_routing = r };
	return v;
}

Test(multi_route, primary_routing_ignores_the_lists)
{
	struct ogw_csms_view v = view(OGW_TOKEN_ROUTING_PRIMARY);

	cr_expect_eq(ogw_multi_token_owner(&v, "04A2B3C4"), OGW_MULTI_PRIMARY);
	cr_expect_eq(ogw_multi_token_owner(&v, "EMP-1"), OGW_MULTI_PRIMARY);
}

Test(multi_route, list_routing_by_token_then_longest_prefix)
{
	struct ogw_csms_view v = view(OGW_TOKEN_ROUTING_LIST);

	cr_expect_eq(ogw_multi_token_owner(&v, "04A2B3C4"), 1);
	/* OCPP id tokens are case-insensitive */
	cr_expect_eq(ogw_multi_token_owner(&v, "04a2b3c4"), 1);
	cr_expect_eq(ogw_multi_token_owner(&v, "emp-7"), 1);
	/* "EMP-F" is longer than "EMP-" */
	cr_expect_eq(ogw_multi_token_owner(&v, "EMP-F12"), 2);
	/* listed outright beats the employer's prefix */
	cr_expect_eq(ogw_multi_token_owner(&v, "EMP-BOSS"), 2);
	cr_expect_eq(ogw_multi_token_owner(&v, "E99"), 2);
	cr_expect_eq(ogw_multi_token_owner(&v, "VISITOR"), OGW_MULTI_PRIMARY);
	cr_expect_eq(ogw_multi_token_owner(&v, NULL), OGW_MULTI_PRIMARY);
}

Test(multi_route, ask_routing_leaves_the_unlisted_to_the_answers)
{
	struct ogw_csms_view v = view(OGW_TOKEN_ROUTING_ASK);

	cr_expect_eq(ogw_multi_token_owner(&v, "EMP-7"), 1);
	cr_expect_eq(ogw_multi_token_owner(&v, "VISITOR"), OGW_MULTI_UNDECIDED);
}

Test(multi_route, ask_takes_the_first_accepted_primary_first)
{
	enum ogw_multi_answer a[3];

	/* the primary's word first: a secondary's Accepted waits for it */
	a[0] = OGW_MULTI_PENDING; a[1] = OGW_MULTI_ACCEPTED; a[2] = OGW_MULTI_PENDING;
	cr_expect_eq(ogw_multi_ask_owner(a, 3), OGW_MULTI_UNDECIDED);
	a[0] = OGW_MULTI_ACCEPTED;
	cr_expect_eq(ogw_multi_ask_owner(a, 3), 0);
	a[0] = OGW_MULTI_REFUSED;
	cr_expect_eq(ogw_multi_ask_owner(a, 3), 1);
	a[1] = OGW_MULTI_REFUSED;
	cr_expect_eq(ogw_multi_ask_owner(a, 3), OGW_MULTI_UNDECIDED);
	a[2] = OGW_MULTI_ACCEPTED;
	cr_expect_eq(ogw_multi_ask_owner(a, 3), 2);
	/* nobody accepts: the primary's refusal is the charger's answer */
	a[2] = OGW_MULTI_REFUSED;
	cr_expect_eq(ogw_multi_ask_owner(a, 3), OGW_MULTI_PRIMARY);
}

Test(multi_route, tokens_and_answers_from_payloads)
{
	json_t *auth16 = json_pack("{s:s}", "idTag", "EMP-7");
	json_t *start16 = json_pack("{s:i, s:s, s:i, s:s}", "connectorId", 1, "idTag", "04A2B3C4",
				    "meterStart", 0, "timestamp", "2027-01-01T00:00:00Z");
	json_t *stop16 = json_pack("{s:i, s:s}", "transactionId", 5, "idTag", "EMP-7");
	json_t *ev2 = json_pack("{s:s, s:{s:s, s:s}}", "eventType", "Started", "idToken",
				"idToken", "EMP-9", "type", "ISO14443");

	cr_expect_str_eq(ogw_multi_call_token(OGW_OCPP16, "Authorize", auth16), "EMP-7");
	cr_expect_str_eq(ogw_multi_call_token(OGW_OCPP16, "StartTransaction", start16), "04A2B3C4");
	/* a stop follows the transaction it ends, not its token */
	cr_expect_null(ogw_multi_call_token(OGW_OCPP16, "StopTransaction", stop16));
	cr_expect_str_eq(ogw_multi_call_token(OGW_OCPP201, "TransactionEvent", ev2), "EMP-9");
	cr_expect_null(ogw_multi_call_token(OGW_OCPP201, "Authorize", auth16));

	json_t *ok16 = json_pack("{s:{s:s}}", "idTagInfo", "status", "Accepted");
	json_t *no2 = json_pack("{s:{s:s}}", "idTokenInfo", "status", "Unknown");
	json_t *ok2 = json_pack("{s:{s:s}}", "idTokenInfo", "status", "Accepted");
	cr_expect_eq(ogw_multi_authorize_answer(OGW_OCPP16, ok16), OGW_MULTI_ACCEPTED);
	cr_expect_eq(ogw_multi_authorize_answer(OGW_OCPP201, ok2), OGW_MULTI_ACCEPTED);
	cr_expect_eq(ogw_multi_authorize_answer(OGW_OCPP201, no2), OGW_MULTI_REFUSED);
	/* the version decides where the status is */
	cr_expect_eq(ogw_multi_authorize_answer(OGW_OCPP201, ok16), OGW_MULTI_REFUSED);
	cr_expect_eq(ogw_multi_authorize_answer(OGW_OCPP16, NULL), OGW_MULTI_REFUSED);
	json_t *all[] = { auth16, start16, stop16, ev2, ok16, no2, ok2 };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		json_decref(all[i]);
}
