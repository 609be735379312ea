/* SPDX-License-Identifier: MIT */
/*
 * Several CSMSs per charger (docs/MULTI_CSMS.md): csms.secondaries and
 * csms.token_routing at the root, the csms { } block of a group or charger,
 * and the view one charger resolves to. The primary of a plain config is
 * csms.url as it always was; nothing here changes its meaning.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "ocppgw/config.h"
#include "internal.h"

#define MAX_ACTION 64
/* Each secondary is one more north leg per charger, its own connection. */
#define MAX_SECONDARIES 16

/* "primary" | "list" | "ask" into the int at @f->off. */
void ogw_conf_parse_token_routing(struct loader *ld, const config_setting_t *s, const char *name,
				  void *base, const struct field *f)
{
	static const char *const words[] = { "primary", "list", "ask" };
	const char *v = get_string(ld, s, name);

	if (!v)
		return;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(v, words[i]) == 0) {
			*(int *)((char *)base + f->off) = (int)i;
			return;
		}
	}
	setting_error(ld, s, "%s: expected primary, list or ask", name);
}

static void parse_refusal(struct loader *ld, const config_setting_t *s, const char *name,
			  void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);

	(void)f;
	if (!v)
		return;
	if (strcmp(v, "callerror") == 0)
		((struct ogw_csms_conf *)base)->refusal = OGW_CSMS_REFUSE_CALLERROR;
	else if (strcmp(v, "reject") == 0)
		((struct ogw_csms_conf *)base)->refusal = OGW_CSMS_REFUSE_REJECT;
	else
		setting_error(ld, s, "%s: expected callerror or reject", name);
}

/* An OCPP action name as the schemas spell it: a letter, then letters and digits. */
static bool action_ok(const char *v)
{
	size_t n = strlen(v);

	if (n < 1 || n > MAX_ACTION || !((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z')))
		return false;
	for (const char *p = v; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

static void strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* [ "a", "b" ]: each element a string @ok accepts (@what says what it must
 * be), into *@slot / *@n_slot, replacing what was there. false on errors. */
static bool parse_strings(struct loader *ld, const config_setting_t *s, const char *name,
			  bool (*ok)(const char *), const char *what, char ***slot, size_t *n_slot)
{
	size_t errors_before = ld->n_errors;
	int type = config_setting_type(s), n;
	char **v;

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		setting_error(ld, s, "%s: expected a list [ \"...\", ... ]", name);
		return false;
	}
	n = config_setting_length(s);
	v = calloc((size_t)n + 1, sizeof(*v));
	if (!v) {
		ld->oom = true;
		return false;
	}
	for (int i = 0; i < n && !ld->oom; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING || !ok(config_setting_get_string(e))) {
			setting_error(ld, e, "%s[%d]: must be %s", name, i, what);
			continue;
		}
		v[i] = strdup(config_setting_get_string(e));
		if (!v[i])
			ld->oom = true;
	}
	if (ld->oom || ld->n_errors != errors_before) {
		strings_free(v, (size_t)n);
		return false;
	}
	strings_free(*slot, *n_slot);
	*slot = v;
	*n_slot = (size_t)n;
	return true;
}

static void parse_allow(struct loader *ld, const config_setting_t *s, const char *name,
			void *base, const struct field *f)
{
	struct ogw_csms_conf *cs = base;

	(void)f;
	if (parse_strings(ld, s, name, action_ok, "an OCPP action name, e.g. \"GetVariables\"",
			  &cs->allow, &cs->n_allow))
		cs->allow_set = true;
}

static void parse_tokens(struct loader *ld, const config_setting_t *s, const char *name,
			 void *base, const struct field *f)
{
	struct ogw_csms_conf *cs = base;

	(void)f;
	parse_strings(ld, s, name, token_ok, "1 to 36 printable characters",
		      &cs->tokens, &cs->n_tokens);
}

static void parse_token_prefixes(struct loader *ld, const config_setting_t *s, const char *name,
				 void *base, const struct field *f)
{
	struct ogw_csms_conf *cs = base;

	(void)f;
	parse_strings(ld, s, name, token_ok, "1 to 36 printable characters",
		      &cs->token_prefixes, &cs->n_token_prefixes);
}

/* Fields of struct ogw_csms_conf, one csms.secondaries entry. */
static const struct field secondary_fields[] = {
	{ .name = "name", .kind = F_SPECIAL, .off = offsetof(struct ogw_csms_conf, name),
	  .special = parse_group_name },
	{ .name = "url", .kind = F_SPECIAL, .off = offsetof(struct ogw_csms_conf, url),
	  .special = parse_url },
	{ .name = "upstream_ocpp", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_csms_conf, upstream_ocpp), .special = parse_upstream_ocpp },
	{ .name = "user", .kind = F_STRING, .off = offsetof(struct ogw_csms_conf, user) },
	{ .name = "password", .kind = F_STRING, .off = offsetof(struct ogw_csms_conf, password),
	  .secret = true },
	{ .name = "ca", .kind = F_STRING, .off = offsetof(struct ogw_csms_conf, ca) },
	{ .name = "cert", .kind = F_STRING, .off = offsetof(struct ogw_csms_conf, cert) },
	{ .name = "key", .kind = F_STRING, .off = offsetof(struct ogw_csms_conf, key) },
	{ .name = "allow", .kind = F_SPECIAL, .special = parse_allow },
	{ .name = "refusal", .kind = F_SPECIAL, .special = parse_refusal },
	{ .name = "tokens", .kind = F_SPECIAL, .special = parse_tokens },
	{ .name = "token_prefixes", .kind = F_SPECIAL, .special = parse_token_prefixes },
	{ 0 },
};

static void csms_conf_free(void *elem)
{
	struct ogw_csms_conf *cs = elem;

	free(cs->name);
	free(cs->url);
	free(cs->user);
	free_secret(cs->password);
	free(cs->ca);
	free(cs->cert);
	free(cs->key);
	strings_free(cs->allow, cs->n_allow);
	strings_free(cs->tokens, cs->n_tokens);
	strings_free(cs->token_prefixes, cs->n_token_prefixes);
	memset(cs, 0, sizeof(*cs));
}

static const struct list_spec secondary_list = {
	.size = sizeof(struct ogw_csms_conf), .fields = secondary_fields, .key = "name",
	.key_off = offsetof(struct ogw_csms_conf, name), .what = "CSMS",
	.upstream_unset = true, .upstream_off = offsetof(struct ogw_csms_conf, upstream_ocpp),
	.free = csms_conf_free,
};

/* What one entry needs beyond its fields' own checks, at the entry's line. */
static void check_secondary(struct loader *ld, const config_setting_t *e, const char *name,
			    int i, const struct ogw_csms_conf *cs)
{
	if (!cs->url)
		setting_error(ld, e, "%s[%d]: missing url", name, i);
	else if (!strncasecmp(cs->url, "mqtt", 4) && mqtt_site_problem(cs->url))
		setting_error(ld, e, "%s[%d].url: %s", name, i, mqtt_site_problem(cs->url));
	if (cs->name && strcmp(cs->name, "primary") == 0)
		setting_error(ld, e, "%s[%d].name: \"primary\" names csms.url", name, i);
	if (!cs->cert != !cs->key)
		setting_error(ld, e, "%s[%d]: cert and key go together", name, i);
}

/* csms.secondaries = ( { name = ...; url = ...; }, ... ) into the
 * struct ogw_csms_set_conf at @f->off. */
void ogw_conf_parse_secondaries(struct loader *ld, const config_setting_t *s, const char *name,
				void *base, const struct field *f)
{
	struct ogw_csms_set_conf *set = (struct ogw_csms_set_conf *)((char *)base + f->off);
	size_t errors_before = ld->n_errors;
	int n = 0;
	struct ogw_csms_conf *list = load_list(ld, s, name, &secondary_list, &n);

	if (!list)
		return;
	if (n > MAX_SECONDARIES)
		setting_error(ld, s, "%s: at most %d secondaries", name, MAX_SECONDARIES);
	for (int i = 0; i < n; i++)
		check_secondary(ld, config_setting_get_elem(s, (unsigned)i), name, i, &list[i]);
	if (ld->oom || ld->n_errors != errors_before) {
		free_list(&secondary_list, list, (size_t)n);
		return;
	}
	replace_list(&secondary_list, &set->secondaries, &set->n_secondaries, list, n);
	set->secondaries_set = true;
}

/* A group's or charger's csms { }: the primary's connection and the list. */
static const struct field block_fields[] = {
	{ .name = "url", .kind = F_SPECIAL, .off = offsetof(struct ogw_csms_set_conf, url),
	  .special = parse_url },
	{ .name = "ca", .kind = F_STRING, .off = offsetof(struct ogw_csms_set_conf, ca) },
	{ .name = "cert", .kind = F_STRING, .off = offsetof(struct ogw_csms_set_conf, cert) },
	{ .name = "key", .kind = F_STRING, .off = offsetof(struct ogw_csms_set_conf, key) },
	{ .name = "secondaries", .kind = F_SPECIAL, .off = 0,
	  .special = ogw_conf_parse_secondaries },
	{ .name = "token_routing", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_csms_set_conf, token_routing),
	  .special = ogw_conf_parse_token_routing },
	{ 0 },
};

void ogw_csms_set_conf_clear(struct ogw_csms_set_conf *set)
{
	free(set->url);
	free(set->ca);
	free(set->cert);
	free(set->key);
	free_list(&secondary_list, set->secondaries, set->n_secondaries);
	memset(set, 0, sizeof(*set));
	set->token_routing = OGW_TOKEN_ROUTING_UNSET;
}

void ogw_csms_set_conf_free(struct ogw_csms_set_conf *set)
{
	if (!set)
		return;
	ogw_csms_set_conf_clear(set);
	free(set);
}

/* csms = { ... } in a group or charger entry, into the pointer at @f->off. */
void ogw_conf_parse_csms_block(struct loader *ld, const config_setting_t *s, const char *name,
			       void *base, const struct field *f)
{
	struct ogw_csms_set_conf **slot = (struct ogw_csms_set_conf **)((char *)base + f->off);
	size_t errors_before = ld->n_errors;
	struct ogw_csms_set_conf *set;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		setting_error(ld, s, "%s: expected a group { ... }", name);
		return;
	}
	set = calloc(1, sizeof(*set));
	if (!set) {
		ld->oom = true;
		return;
	}
	set->token_routing = OGW_TOKEN_ROUTING_UNSET;
	walk_group(ld, s, block_fields, name, set);
	if (!set->cert != !set->key)
		setting_error(ld, s, "%s: cert and key go together", name);
	if (ld->oom || ld->n_errors != errors_before) {
		ogw_csms_set_conf_free(set);
		return;
	}
	ogw_csms_set_conf_free(*slot);
	*slot = set;
}

/* The first of @a, @b, @c that is set. */
static char *first_set(char *a, char *b, char *c)
{
	return a ? a : b ? b : c;
}

void ogw_conf_csms_for(const struct ogw_conf *c, const char *id, enum ogw_ocpp south,
		       struct ogw_csms_view *ret)
{
	const struct ogw_charger_conf *ch = ogw_conf_charger(c, id);
	const struct ogw_group_conf *g = id ? conf_group_of(c, id) : NULL;
	/* most specific first; the root's set has no primary of its own */
	const struct ogw_csms_set_conf *levels[] = {
		ch ? ch->csms : NULL, g ? g->csms : NULL, &c->csms_multi,
	};
	const struct ogw_csms_set_conf *ch_set = levels[0], *g_set = levels[1];

	memset(ret, 0, sizeof(*ret));
	ret->primary.name = "primary";
	ret->primary.url = first_set(ch_set ? ch_set->url : NULL, g_set ? g_set->url : NULL,
				     c->csms_url);
	ret->primary.ca = first_set(ch_set ? ch_set->ca : NULL, g_set ? g_set->ca : NULL,
				    c->csms_ca);
	ret->primary.cert = first_set(ch_set ? ch_set->cert : NULL, g_set ? g_set->cert : NULL,
				      c->csms_cert);
	ret->primary.key = first_set(ch_set ? ch_set->key : NULL, g_set ? g_set->key : NULL,
				     c->csms_key);
	ret->primary.upstream_ocpp = ogw_conf_upstream_for(c, id, south);
	ret->primary.user = ch ? ch->upstream_user : NULL;
	ret->primary.password = ch ? ch->upstream_password : NULL;
	ret->token_routing = OGW_TOKEN_ROUTING_PRIMARY;
	for (size_t i = sizeof(levels) / sizeof(levels[0]); i-- > 0;) {
		if (!levels[i])
			continue;
		if (levels[i]->secondaries_set) {
			ret->secondaries = levels[i]->secondaries;
			ret->n_secondaries = levels[i]->n_secondaries;
		}
		if (levels[i]->token_routing != OGW_TOKEN_ROUTING_UNSET)
			ret->token_routing = (enum ogw_token_routing)levels[i]->token_routing;
	}
}

bool ogw_conf_csms_secondary_wired(const struct ogw_csms_conf *c)
{
	return !strncasecmp(c->url, "ws://", 5) || !strncasecmp(c->url, "wss://", 6) ||
	       !strncasecmp(c->url, "mqtt://", 7) || !strncasecmp(c->url, "mqtts://", 8);
}

