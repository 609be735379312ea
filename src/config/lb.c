/* SPDX-License-Identifier: MIT */
/*
 * The load_balancing section of the config file: the limit tree (site ->
 * groups -> chargers -> EVSEs, each with A or W limits and time-of-day
 * schedules), each charger's phases, rotation, current range and priority,
 * and the balancer's timing. Read with config.c's field tables; the section
 * is kept only when it has no error at all. docs/LOAD_BALANCING.md shows it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "ocppgw/config.h"
#include "internal.h"

#define MAX_AMPS 10000.0
#define MAX_WATTS 10000000.0
#define MAX_NAME 64
#define MAX_EVSE 32
#define UNSET (-1)

/* A number (int or float) in [f->min, f->max], stored as a double. */
static void parse_number(struct loader *ld, const config_setting_t *s, const char *name,
			 void *base, const struct field *f)
{
	double v;

	if (!get_number(s, &v))
		setting_error(ld, s, "%s: expected a number", name);
	else if (!(v >= f->min && v <= f->max))
		setting_error(ld, s, "%s: must be between %g and %g", name, f->min, f->max);
	else
		*(double *)((char *)base + f->off) = v;
}

static void set_string(struct loader *ld, char **slot, const char *v)
{
	char *copy = strdup(v);

	if (!copy) {
		ld->oom = true;
		return;
	}
	free(*slot);
	*slot = copy;
}

static void parse_id(struct loader *ld, const config_setting_t *s, const char *name,
		     void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);

	if (!v)
		return;
	if (!charger_id_ok(v))
		setting_error(ld, s, "%s: must be 1 to 48 printable ASCII characters, "
			      "no ':', '/' or space", name);
	else
		set_string(ld, (char **)((char *)base + f->off), v);
}

static void parse_name(struct loader *ld, const config_setting_t *s, const char *name,
		       void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);

	if (!v)
		return;
	if (!*v || strlen(v) > MAX_NAME)
		setting_error(ld, s, "%s: must be 1 to %d characters", name, MAX_NAME);
	else
		set_string(ld, (char **)((char *)base + f->off), v);
}

/* "L2L3L1": the charger's L1 is on grid L2, its L2 on L3, its L3 on L1. */
static void parse_rotation(struct loader *ld, const config_setting_t *s, const char *name,
			   void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);
	int *rot = (int *)((char *)base + f->off), got[3];
	unsigned int seen = 0;

	if (!v)
		return;
	for (int k = 0; k < 3 && strlen(v) == 6; k++) {
		if (v[2 * k] != 'L' || v[2 * k + 1] < '1' || v[2 * k + 1] > '3')
			break;
		got[k] = v[2 * k + 1] - '1';
		seen |= 1u << got[k];
	}
	if (seen != 7u) {
		setting_error(ld, s, "%s: expected a permutation of L1L2L3 (e.g. \"L2L3L1\")",
			      name);
		return;
	}
	memcpy(rot, got, sizeof(got));
}

/* "HH:MM" as minutes since midnight. */
static void parse_clock(struct loader *ld, const config_setting_t *s, const char *name,
			void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);
	unsigned int h, m;
	char tail;

	if (!v)
		return;
	if (sscanf(v, "%2u:%2u%c", &h, &m, &tail) != 2 || strlen(v) != 5 || h > 23 || m > 59)
		setting_error(ld, s, "%s: expected HH:MM between 00:00 and 23:59", name);
	else
		*(int *)((char *)base + f->off) = (int)(h * 60 + m);
}

/* mqtt(s)://host[:port]/<site>, one site (no wildcard). */
static void parse_limit_mqtt(struct loader *ld, const config_setting_t *s, const char *name,
			     void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);
	const char *problem;

	if (!v)
		return;
	if (strncasecmp(v, "mqtt://", 7) && strncasecmp(v, "mqtts://", 8))
		problem = "expected mqtt://host[:port]/<site> or mqtts://...";
	else if (strpbrk(v, " \t\r\n") || v[strcspn(v, ":") + 3] == '/' || !v[strcspn(v, ":") + 3])
		problem = "expected a host after the scheme";
	else if ((problem = mqtt_site_problem(v)) == NULL && strchr(v + strcspn(v, ":") + 3, '+'))
		problem = "the site is one topic level, not a wildcard";
	if (problem)
		setting_error(ld, s, "%s: %s", name, problem);
	else
		set_string(ld, (char **)((char *)base + f->off), v);
}

/* ---- lists of groups { ... } --------------------------------------------- */

typedef void elem_fn(struct loader *ld, const config_setting_t *e, const char *ename,
		     void *elem);

struct list_kind {
	size_t size;
	const struct field *fields;
	void (*init)(void *elem);  /* defaults before the walk */
	elem_fn *check;   /* cross-field rules after it (may be NULL) */
	const char *shape;
};

/* An array of elements from list @s; filled even when some have errors
 * (the whole section is then dropped). NULL and *ret_n = 0 otherwise. */
static void *parse_list(struct loader *ld, const config_setting_t *s, const char *name,
			const struct list_kind *k, size_t *ret_n)
{
	char *arr;
	int n;

	*ret_n = 0;
	if (!is_list(s)) {
		setting_error(ld, s, "%s: expected a list ( %s, ... )", name, k->shape);
		return NULL;
	}
	n = config_setting_length(s);
	arr = calloc((size_t)n + 1, k->size);
	if (!arr) {
		ld->oom = true;
		return NULL;
	}
	*ret_n = (size_t)n;
	for (int i = 0; i < n && !ld->oom; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned int)i);
		void *elem = arr + (size_t)i * k->size;
		char *ename = NULL;

		if (asprintf(&ename, "%s[%d]", name, i) < 0) {
			ld->oom = true;
			break;
		}
		k->init(elem);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			setting_error(ld, e, "%s: expected %s", ename, k->shape);
		} else {
			walk_group(ld, e, k->fields, ename, elem);
			if (k->check)
				k->check(ld, e, ename, elem);
		}
		free(ename);
	}
	return arr;
}

static void limit_init(struct ogw_lb_limit *l)
{
	l->limit_a = UNSET;
	l->limit_w = UNSET;
	l->phases = 3;
}

static void window_init(void *elem)
{
	struct ogw_lb_window *w = elem;

	w->from_min = w->to_min = UNSET;
	w->limit_a = w->limit_w = UNSET;
}

static void window_check(struct loader *ld, const config_setting_t *e, const char *ename,
			 void *elem)
{
	struct ogw_lb_window *w = elem;

	if (w->from_min == UNSET || w->to_min == UNSET)
		setting_error(ld, e, "%s: needs from and to (\"HH:MM\")", ename);
	else if (w->from_min == w->to_min)
		setting_error(ld, e, "%s: from and to must differ", ename);
	if (w->limit_a < 0 && w->limit_w < 0)
		setting_error(ld, e, "%s: needs limit_a or limit_w", ename);
}

static const struct field window_fields[] = {
	{ .name = "from", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_window, from_min),
	  .special = parse_clock },
	{ .name = "to", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_window, to_min),
	  .special = parse_clock },
	{ .name = "limit_a", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_window, limit_a),
	  .min = 0.1, .max = MAX_AMPS, .special = parse_number },
	{ .name = "limit_w", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_window, limit_w),
	  .min = 1, .max = MAX_WATTS, .special = parse_number },
	{ 0 },
};

static const struct list_kind window_list = {
	sizeof(struct ogw_lb_window), window_fields, window_init, window_check,
	"{ from = \"07:00\"; to = \"19:00\"; limit_a = ...; }",
};

/* schedule = ( windows ) of the struct ogw_lb_limit at f->off. */
static void parse_schedule(struct loader *ld, const config_setting_t *s, const char *name,
			   void *base, const struct field *f)
{
	struct ogw_lb_limit *l = (struct ogw_lb_limit *)((char *)base + f->off);

	free(l->schedule);
	l->schedule = parse_list(ld, s, name, &window_list, &l->n_schedule);
}

/* The limit settings every node has; @type embeds a struct ogw_lb_limit
 * at @lim. */
#define LIMIT_FIELDS(type, lim)                                                          \
	{ .name = "limit_a", .kind = F_SPECIAL, .off = offsetof(type, lim.limit_a),      \
	  .min = 0.1, .max = MAX_AMPS, .special = parse_number },                        \
	{ .name = "limit_w", .kind = F_SPECIAL, .off = offsetof(type, lim.limit_w),      \
	  .min = 1, .max = MAX_WATTS, .special = parse_number },                         \
	{ .name = "schedule", .kind = F_SPECIAL, .off = offsetof(type, lim),             \
	  .special = parse_schedule }

#define PHASES_FIELD(type, lim)                                                          \
	{ .name = "phases", .kind = F_INT, .off = offsetof(type, lim.phases), .min = 1,  \
	  .max = 3 }

static void evse_init(void *elem)
{
	struct ogw_lb_evse_conf *ev = elem;

	limit_init(&ev->lim);
}

static const struct field evse_fields[] = {
	{ .name = "id", .kind = F_INT, .off = offsetof(struct ogw_lb_evse_conf, id), .min = 1,
	  .max = MAX_EVSE },
	LIMIT_FIELDS(struct ogw_lb_evse_conf, lim),
	{ 0 },
};

static const struct list_kind evse_list = {
	sizeof(struct ogw_lb_evse_conf), evse_fields, evse_init, NULL,
	"{ id = 1; limit_a = ...; }",
};

static void parse_evses(struct loader *ld, const config_setting_t *s, const char *name,
			void *base, const struct field *f)
{
	struct ogw_lb_charger_conf *ch = base;

	(void)f;
	free(ch->evses);
	ch->evses = parse_list(ld, s, name, &evse_list, &ch->n_evses);
}

static void charger_init(void *elem)
{
	struct ogw_lb_charger_conf *ch = elem;

	limit_init(&ch->lim);
	for (int k = 0; k < 3; k++)
		ch->rotation[k] = k;
	ch->min_a = 6;
	ch->max_a = 32;
}

static void charger_check(struct loader *ld, const config_setting_t *e, const char *ename,
			  void *elem)
{
	struct ogw_lb_charger_conf *ch = elem;
	const config_setting_t *evses = config_setting_get_member(e, "evses");

	if (!ch->id)
		setting_error(ld, e, "%s: missing id", ename);
	if (ch->min_a > ch->max_a)
		setting_error(ld, e, "%s: min_a (%g) must not exceed max_a (%g)", ename,
			      ch->min_a, ch->max_a);
	/* switching is between one phase and the three it is wired to */
	if (ch->phase_switching && ch->lim.phases != 3)
		setting_error(ld, e, "%s: phase_switching needs phases = 3", ename);
	if (ch->phase_to_use && !ch->phase_switching)
		setting_error(ld, e, "%s: phase_to_use needs phase_switching = true", ename);
	for (size_t i = 0; i < ch->n_evses; i++) {
		const config_setting_t *es = config_setting_get_elem(evses, (unsigned int)i);

		ch->evses[i].lim.phases = ch->lim.phases;
		if (ch->evses[i].id == 0) {
			setting_error(ld, es ? es : e, "%s.evses[%zu]: missing id", ename, i);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (ch->evses[j].id == ch->evses[i].id)
				setting_error(ld, es ? es : e, "%s.evses[%zu]: duplicate id %d",
					      ename, i, ch->evses[i].id);
	}
}

static const struct field charger_fields[] = {
	{ .name = "id", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_charger_conf, id),
	  .special = parse_id },
	PHASES_FIELD(struct ogw_lb_charger_conf, lim),
	{ .name = "rotation", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_lb_charger_conf, rotation), .special = parse_rotation },
	{ .name = "min_a", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_charger_conf, min_a),
	  .min = 0.1, .max = MAX_AMPS, .special = parse_number },
	{ .name = "max_a", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_charger_conf, max_a),
	  .min = 0.1, .max = MAX_AMPS, .special = parse_number },
	{ .name = "priority", .kind = F_INT, .off = offsetof(struct ogw_lb_charger_conf, priority),
	  .min = -9, .max = 9 },
	{ .name = "phase_switching", .kind = F_BOOL,
	  .off = offsetof(struct ogw_lb_charger_conf, phase_switching) },
	{ .name = "phase_to_use", .kind = F_BOOL,
	  .off = offsetof(struct ogw_lb_charger_conf, phase_to_use) },
	LIMIT_FIELDS(struct ogw_lb_charger_conf, lim),
	{ .name = "evses", .kind = F_SPECIAL, .special = parse_evses },
	{ 0 },
};

static const struct list_kind charger_list = {
	sizeof(struct ogw_lb_charger_conf), charger_fields, charger_init, charger_check,
	"{ id = \"CP1\"; ... }",
};

/* chargers = ( ... ) of a group, or of the site (base: struct ogw_lb_conf). */
static void parse_group_chargers(struct loader *ld, const config_setting_t *s, const char *name,
				 void *base, const struct field *f)
{
	struct ogw_lb_group_conf *g = base;

	(void)f;
	g->chargers = parse_list(ld, s, name, &charger_list, &g->n_chargers);
}

static void parse_site_chargers(struct loader *ld, const config_setting_t *s, const char *name,
				void *base, const struct field *f)
{
	struct ogw_lb_conf *lb = base;

	(void)f;
	lb->chargers = parse_list(ld, s, name, &charger_list, &lb->n_chargers);
}

static void group_init(void *elem)
{
	struct ogw_lb_group_conf *g = elem;

	limit_init(&g->lim);
}

static void group_check(struct loader *ld, const config_setting_t *e, const char *ename,
			void *elem)
{
	struct ogw_lb_group_conf *g = elem;

	if (!g->name)
		setting_error(ld, e, "%s: missing name", ename);
}

static const struct field group_fields[] = {
	{ .name = "name", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_group_conf, name),
	  .special = parse_name },
	PHASES_FIELD(struct ogw_lb_group_conf, lim),
	LIMIT_FIELDS(struct ogw_lb_group_conf, lim),
	{ .name = "chargers", .kind = F_SPECIAL, .special = parse_group_chargers },
	{ 0 },
};

static const struct list_kind group_list = {
	sizeof(struct ogw_lb_group_conf), group_fields, group_init, group_check,
	"{ name = \"floor1\"; ... }",
};

static void parse_site_groups(struct loader *ld, const config_setting_t *s, const char *name,
			      void *base, const struct field *f)
{
	struct ogw_lb_conf *lb = base;

	(void)f;
	lb->groups = parse_list(ld, s, name, &group_list, &lb->n_groups);
}

static const struct field site_fields[] = {
	PHASES_FIELD(struct ogw_lb_conf, site),
	LIMIT_FIELDS(struct ogw_lb_conf, site),
	{ .name = "groups", .kind = F_SPECIAL, .special = parse_site_groups },
	{ .name = "chargers", .kind = F_SPECIAL, .special = parse_site_chargers },
	{ 0 },
};

/* ---- the polled grid meter (meter.modbus, meter.http) ---------------------- */

/* Register maps of meters people have, by name (meter.modbus.preset).
 * Eastron SDM630 (and SDM630 v2 / MCT): phase currents as IEEE 754 float32
 * input registers, high word first, at 30007 / 30009 / 30011, i.e.
 * addresses 0x0006 / 0x0008 / 0x000A; phase powers (W) at 0x000C / 0x000E
 * / 0x0010. Source: the register tables in spjakob/ha-modbus_devices
 * (sdm630_modbus_registers_main_branch.md) and merlokk/SmartHome
 * (lib/eastron.h, SDM630_CURRENT1..3, SDM630_POWER1..3). */
static const struct meter_preset {
	const char *name;
	struct ogw_meter_regs regs;
} meter_presets[] = {
	{ "sdm630", { .input = true, .type = OGW_REG_FLOAT32, .scale = 1,
		      .addr = { 0x0006, 0x0008, 0x000A } } },
	{ "sdm630-power", { .input = true, .type = OGW_REG_FLOAT32, .scale = 1, .power = true,
			    .addr = { 0x000C, 0x000E, 0x0010 } } },
};

static const char *const reg_types[] = {
	[OGW_REG_INT16] = "int16", [OGW_REG_UINT16] = "uint16", [OGW_REG_INT32] = "int32",
	[OGW_REG_UINT32] = "uint32", [OGW_REG_FLOAT32] = "float32",
};

/* One of @names (n of them), or an error listing them; -1 then. */
static int parse_choice(struct loader *ld, const config_setting_t *s, const char *name,
			const char *const *names, size_t n)
{
	const char *v = get_string(ld, s, name);
	char list[160] = "";

	if (!v)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v, names[i]))
			return (int)i;
	for (size_t i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
			 i ? ", " : "", names[i]);
	setting_error(ld, s, "%s: expected one of %s", name, list);
	return -1;
}

static void parse_preset(struct loader *ld, const config_setting_t *s, const char *name,
			 void *base, const struct field *f)
{
	const char *names[sizeof(meter_presets) / sizeof(meter_presets[0])];
	int i;

	(void)f;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		names[k] = meter_presets[k].name;
	i = parse_choice(ld, s, name, names, sizeof(names) / sizeof(names[0]));
	if (i >= 0)  /* the settings after it in the file override it */
		((struct ogw_meter_poll_conf *)base)->regs = meter_presets[i].regs;
}

/* meter.modbus.parity: "none", "even" or "odd", as libmodbus's N / E / O. */
static void parse_parity(struct loader *ld, const config_setting_t *s, const char *name,
			 void *base, const struct field *f)
{
	static const char *const names[] = { "none", "even", "odd" };
	int i = parse_choice(ld, s, name, names, 3);

	(void)f;
	if (i >= 0)
		((struct ogw_meter_poll_conf *)base)->parity = "NEO"[i];
}

static void parse_reg_type(struct loader *ld, const config_setting_t *s, const char *name,
			   void *base, const struct field *f)
{
	int i = parse_choice(ld, s, name, reg_types, sizeof(reg_types) / sizeof(reg_types[0]));

	(void)f;
	if (i >= 0)
		((struct ogw_meter_poll_conf *)base)->regs.type = (enum ogw_meter_type)i;
}

/* A setting with two spellings for the bool at f->off: the second sets it. */
static const struct two_words {
	const char *setting, *no, *yes;
} two_words[] = {
	{ "word_order", "high_first", "low_first" },  /* high first: Modbus's own order */
	{ "function", "holding", "input" },           /* function 3 or 4 */
	{ "quantity", "current", "power" },           /* A or W per phase */
};

static void parse_two_words(struct loader *ld, const config_setting_t *s, const char *name,
			    void *base, const struct field *f)
{
	for (size_t k = 0; k < sizeof(two_words) / sizeof(two_words[0]); k++) {
		const char *const names[] = { two_words[k].no, two_words[k].yes };
		int i;

		if (strcmp(two_words[k].setting, f->name))
			continue;
		i = parse_choice(ld, s, name, names, 2);
		if (i >= 0)
			*(bool *)((char *)base + f->off) = i == 1;
	}
}

/* [L1, L2, L3] register addresses, 0-65535 (0-based, as on the wire). */
static void parse_registers(struct loader *ld, const config_setting_t *s, const char *name,
			    void *base, const struct field *f)
{
	struct ogw_meter_poll_conf *m = base;

	(void)f;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY && !is_list(s))
		goto bad;
	if (config_setting_length(s) != 3)
		goto bad;
	for (unsigned int k = 0; k < 3; k++) {
		const config_setting_t *e = config_setting_get_elem(s, k);
		if (config_setting_type(e) != CONFIG_TYPE_INT || config_setting_get_int(e) < 0 ||
		    config_setting_get_int(e) > 65535)
			goto bad;
		m->regs.addr[k] = config_setting_get_int(e);
	}
	return;
bad:
	setting_error(ld, s, "%s: expected [L1, L2, L3] register addresses (0-65535)", name);
}

/* ["/L1", "/L2", "/L3"]: RFC 6901 JSON pointers into the answer. */
static void parse_pointers(struct loader *ld, const config_setting_t *s, const char *name,
			   void *base, const struct field *f)
{
	struct ogw_meter_poll_conf *m = base;

	(void)f;
	if ((config_setting_type(s) != CONFIG_TYPE_ARRAY && !is_list(s)) ||
	    config_setting_length(s) != 3)
		goto bad;
	for (unsigned int k = 0; k < 3; k++) {
		const char *v = config_setting_get_string_elem(s, k);
		if (!v || (*v && *v != '/'))
			goto bad;
		set_string(ld, &m->pointer[k], v);
	}
	return;
bad:
	setting_error(ld, s, "%s: expected three JSON pointers [\"/L1\", \"/L2\", \"/L3\"] "
		      "(RFC 6901: \"\" or starting with '/')", name);
}

static void parse_meter_url(struct loader *ld, const config_setting_t *s, const char *name,
			    void *base, const struct field *f)
{
	const char *v = get_string(ld, s, name);

	(void)f;
	if (!v)
		return;
	if ((strncasecmp(v, "http://", 7) && strncasecmp(v, "https://", 8)) ||
	    strpbrk(v, " \t\r\n"))
		setting_error(ld, s, "%s: expected http://host[:port]/path or https://...", name);
	else
		set_string(ld, &((struct ogw_meter_poll_conf *)base)->url, v);
}

#define POLL_FIELDS                                                                         \
	{ .name = "interval", .kind = F_SPECIAL,                                            \
	  .off = offsetof(struct ogw_meter_poll_conf, interval_s), .min = 0.1, .max = 3600, \
	  .special = parse_number },                                                        \
	{ .name = "timeout", .kind = F_SPECIAL,                                             \
	  .off = offsetof(struct ogw_meter_poll_conf, timeout_s), .min = 0.1, .max = 60,    \
	  .special = parse_number }

static const struct field modbus_fields[] = {
	{ .name = "host", .kind = F_STRING, .off = offsetof(struct ogw_meter_poll_conf, host) },
	{ .name = "device", .kind = F_STRING,
	  .off = offsetof(struct ogw_meter_poll_conf, device) },
	{ .name = "baud", .kind = F_INT, .off = offsetof(struct ogw_meter_poll_conf, baud),
	  .min = 300, .max = 1000000 },
	{ .name = "parity", .kind = F_SPECIAL, .special = parse_parity },
	{ .name = "data_bits", .kind = F_INT,
	  .off = offsetof(struct ogw_meter_poll_conf, data_bits), .min = 7, .max = 8 },
	{ .name = "stop_bits", .kind = F_INT,
	  .off = offsetof(struct ogw_meter_poll_conf, stop_bits), .min = 1, .max = 2 },
	{ .name = "port", .kind = F_INT, .off = offsetof(struct ogw_meter_poll_conf, port),
	  .min = 1, .max = 65535 },
	{ .name = "unit", .kind = F_INT, .off = offsetof(struct ogw_meter_poll_conf, unit),
	  .min = 0, .max = 255 },
	POLL_FIELDS,
	{ .name = "preset", .kind = F_SPECIAL, .special = parse_preset },
	{ .name = "registers", .kind = F_SPECIAL, .special = parse_registers },
	{ .name = "function", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_meter_poll_conf, regs.input), .special = parse_two_words },
	{ .name = "type", .kind = F_SPECIAL, .special = parse_reg_type },
	{ .name = "word_order", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_meter_poll_conf, regs.low_word_first),
	  .special = parse_two_words },
	{ .name = "scale", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_meter_poll_conf, regs.scale), .min = -1e6, .max = 1e6,
	  .special = parse_number },
	{ .name = "quantity", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_meter_poll_conf, regs.power), .special = parse_two_words },
	{ 0 },
};

static const struct field http_fields[] = {
	{ .name = "url", .kind = F_SPECIAL, .special = parse_meter_url },
	POLL_FIELDS,
	{ .name = "pointers", .kind = F_SPECIAL, .special = parse_pointers },
	{ .name = "scale", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_meter_poll_conf, http_scale), .min = -1e6, .max = 1e6,
	  .special = parse_number },
	{ .name = "quantity", .kind = F_SPECIAL,
	  .off = offsetof(struct ogw_meter_poll_conf, http_power), .special = parse_two_words },
	{ 0 },
};

/* meter.modbus / meter.http (base: struct ogw_lb_conf): a group, checked
 * whole; only one source per meter. */
static void parse_meter_poll(struct loader *ld, const config_setting_t *s, const char *name,
			     enum ogw_meter_source source, const struct field *fields, void *base)
{
	struct ogw_lb_conf *lb = base;
	struct ogw_meter_poll_conf *m = &lb->meter_poll;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		setting_error(ld, s, "%s: expected a group { ... }", name);
		return;
	}
	if (lb->meter_source != OGW_METER_MQTT) {
		setting_error(ld, s, "%s: the meter has one source: modbus or http, not both", name);
		return;
	}
	lb->meter_source = source;
	walk_group(ld, s, fields, name, m);
	if (source == OGW_METER_MODBUS && !m->host == !m->device)
		setting_error(ld, s, "%s: needs host (Modbus TCP) or device (Modbus RTU), "
			      "not both", name);
	else if (source == OGW_METER_MODBUS && m->regs.addr[0] < 0)
		setting_error(ld, s, "%s: needs registers = [L1, L2, L3] or a preset", name);
	else if (source == OGW_METER_MODBUS && m->regs.scale == 0)
		setting_error(ld, s, "%s: scale must not be 0", name);
	else if (source == OGW_METER_HTTP && !m->url)
		setting_error(ld, s, "%s: needs url", name);
	else if (source == OGW_METER_HTTP && !m->pointer[0])
		setting_error(ld, s, "%s: needs pointers = [\"/L1\", \"/L2\", \"/L3\"]", name);
	else if (source == OGW_METER_HTTP && m->http_scale == 0)
		setting_error(ld, s, "%s: scale must not be 0", name);
}

static void parse_modbus(struct loader *ld, const config_setting_t *s, const char *name,
			 void *base, const struct field *f)
{
	(void)f;
	parse_meter_poll(ld, s, name, OGW_METER_MODBUS, modbus_fields, base);
}

static void parse_http(struct loader *ld, const config_setting_t *s, const char *name,
		       void *base, const struct field *f)
{
	(void)f;
	parse_meter_poll(ld, s, name, OGW_METER_HTTP, http_fields, base);
}

/* load_balancing.meter: the grid meter, on limit_mqtt's broker unless
 * polled (modbus, http). */
static const struct field meter_fields[] = {
	{ .name = "fuse_a", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_conf, meter_fuse_a),
	  .min = 0.1, .max = 10000, .special = parse_number },
	{ .name = "timeout", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_lb_conf, meter_timeout_s), .min = 1, .max = 3600 },
	{ .name = "safe_a", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_conf, meter_safe_a),
	  .min = 0, .max = 10000, .special = parse_number },
	{ .name = "modbus", .kind = F_SPECIAL, .special = parse_modbus },
	{ .name = "http", .kind = F_SPECIAL, .special = parse_http },
	{ 0 },
};

static const struct field lb_fields[] = {
	{ .name = "enabled", .kind = F_BOOL, .off = offsetof(struct ogw_lb_conf, enabled) },
	{ .name = "voltage", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_conf, voltage),
	  .min = 50, .max = 1000, .special = parse_number },
	{ .name = "stack_level", .kind = F_INT, .off = offsetof(struct ogw_lb_conf, stack_level),
	  .min = 0, .max = 1000 },
	{ .name = "update_interval", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_lb_conf, update_interval_s), .min = 1, .max = 3600 },
	{ .name = "min_change", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_conf, min_change_a),
	  .min = 0.1, .max = 100, .special = parse_number },
	{ .name = "headroom", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_conf, headroom_a),
	  .min = 0, .max = 100, .special = parse_number },
	{ .name = "min_interval", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_lb_conf, min_interval_s), .min = 0, .max = 3600 },
	{ .name = "phase_switch_interval", .kind = F_SECONDS,
	  .off = offsetof(struct ogw_lb_conf, phase_switch_interval_s), .min = 0, .max = 86400 },
	{ .name = "failsafe", .kind = F_BOOL, .off = offsetof(struct ogw_lb_conf, failsafe) },
	{ .name = "limit_mqtt", .kind = F_SPECIAL, .off = offsetof(struct ogw_lb_conf, limit_mqtt),
	  .special = parse_limit_mqtt },
	{ .name = "site", .kind = F_GROUP, .sub = site_fields },
	{ .name = "meter", .kind = F_GROUP, .sub = meter_fields },
	{ 0 },
};

/* ---- the section ---------------------------------------------------------- */

static const config_setting_t *charger_id_setting(const config_setting_t *list, size_t i)
{
	const config_setting_t *e = config_setting_get_elem(list, (unsigned int)i);
	const config_setting_t *id = e ? config_setting_get_member(e, "id") : NULL;

	return id ? id : e;
}

/* Each charger id once in the whole tree: every one is listed after those
 * before it (the site's own chargers first, then each group's). */
static void check_unique_chargers(struct loader *ld, const config_setting_t *s,
				  const struct ogw_lb_conf *lb)
{
	const config_setting_t *site = config_setting_get_member(s, "site");
	const config_setting_t *groups = site ? config_setting_get_member(site, "groups") : NULL;
	size_t n_lists = lb->n_groups + 1;

	for (size_t a = 0; a < n_lists; a++) {
		const struct ogw_lb_charger_conf *la = a ? lb->groups[a - 1].chargers : lb->chargers;
		size_t na = a ? lb->groups[a - 1].n_chargers : lb->n_chargers;
		/* libconfig dereferences a NULL setting: without a site section
		 * (found by tests/fuzz/fuzz_config.c) there is nothing to look in. */
		const config_setting_t *ga = a && groups ?
			config_setting_get_elem(groups, (unsigned int)(a - 1)) : NULL;
		const config_setting_t *sa = !site ? NULL :
			a ? (ga ? config_setting_get_member(ga, "chargers") : NULL) :
			config_setting_get_member(site, "chargers");

		for (size_t i = 0; i < na; i++) {
			const char *in = NULL;

			for (size_t b = 0; b <= a && !in; b++) {
				const struct ogw_lb_charger_conf *lbb =
					b ? lb->groups[b - 1].chargers : lb->chargers;
				size_t end = b == a ? i : (b ? lb->groups[b - 1].n_chargers
							     : lb->n_chargers);
				for (size_t j = 0; j < end && !in; j++)
					if (!strcmp(la[i].id, lbb[j].id))
						in = b ? lb->groups[b - 1].name : "the site's chargers";
			}
			if (in)
				setting_error(ld, charger_id_setting(sa, i),
					      "load_balancing: charger '%s' is already in %s",
					      la[i].id, in);
		}
	}
	for (size_t i = 0; i < lb->n_groups; i++)
		for (size_t j = 0; j < i; j++)
			if (lb->groups[i].name && lb->groups[j].name &&
			    !strcmp(lb->groups[i].name, lb->groups[j].name))
				setting_error(ld, config_setting_get_elem(groups, (unsigned int)i),
					      "load_balancing.site.groups[%zu]: duplicate group '%s'",
					      i, lb->groups[i].name);
}

static void charger_free(struct ogw_lb_charger_conf *ch)
{
	free(ch->id);
	free(ch->lim.schedule);
	for (size_t i = 0; i < ch->n_evses; i++)
		free(ch->evses[i].lim.schedule);
	free(ch->evses);
}

void ogw_lb_conf_free(struct ogw_lb_conf *lb)
{
	if (!lb)
		return;
	for (size_t g = 0; g < lb->n_groups; g++) {
		for (size_t i = 0; i < lb->groups[g].n_chargers; i++)
			charger_free(&lb->groups[g].chargers[i]);
		free(lb->groups[g].chargers);
		free(lb->groups[g].lim.schedule);
		free(lb->groups[g].name);
	}
	free(lb->groups);
	for (size_t i = 0; i < lb->n_chargers; i++)
		charger_free(&lb->chargers[i]);
	free(lb->chargers);
	free(lb->site.schedule);
	free(lb->limit_mqtt);
	free(lb->meter_poll.host);
	free(lb->meter_poll.device);
	free(lb->meter_poll.url);
	for (int k = 0; k < 3; k++)
		free(lb->meter_poll.pointer[k]);
	free(lb);
}

void ogw_conf_parse_lb(struct loader *ld, const config_setting_t *s, const char *name,
		       void *base, const struct field *f)
{
	struct ogw_conf *c = base;
	struct ogw_lb_conf *lb;
	size_t errors_before = ld->n_errors;

	(void)f;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		setting_error(ld, s, "%s: expected a group { ... }", name);
		return;
	}
	lb = calloc(1, sizeof(*lb));
	if (!lb) {
		ld->oom = true;
		return;
	}
	lb->enabled = true;
	lb->voltage = 230;
	lb->stack_level = 8;
	lb->update_interval_s = 10;
	lb->min_change_a = 1.0;
	lb->headroom_a = 2.0;
	lb->min_interval_s = 5;
	lb->phase_switch_interval_s = 300;
	lb->failsafe = true;
	lb->meter_fuse_a = -1;
	lb->meter_timeout_s = 30;
	lb->meter_safe_a = -1;
	lb->meter_poll = (struct ogw_meter_poll_conf){
		.interval_s = 1, .timeout_s = 1, .port = 502, .unit = 1, .http_scale = 1,
		.baud = 9600, .parity = 'N', .data_bits = 8, .stop_bits = 1,
		.regs = { .input = true, .type = OGW_REG_FLOAT32, .scale = 1,
			  .addr = { -1, -1, -1 } },
	};
	limit_init(&lb->site);
	walk_group(ld, s, lb_fields, name, lb);
	if (ld->n_errors == errors_before && !ld->oom) {
		check_unique_chargers(ld, s, lb);
		if (lb->site.limit_a < 0 && lb->site.limit_w < 0)
			setting_error(ld, s, "%s.site: needs limit_a or limit_w", name);
		const config_setting_t *m = config_setting_get_member(s, "meter");
		if (m && lb->meter_fuse_a < 0)
			setting_error(ld, m, "%s.meter: needs fuse_a", name);
		else if (m && lb->meter_source == OGW_METER_MQTT && !lb->limit_mqtt)
			setting_error(ld, m, "%s.meter: needs modbus, http or limit_mqtt (the meter's broker)", name);
		/* a healthy meter must answer within the fail-safe's timeout, or
		 * the fail-safe would come and go between two polls */
		else if (m && lb->meter_source != OGW_METER_MQTT &&
			 lb->meter_poll.interval_s + lb->meter_poll.timeout_s >= lb->meter_timeout_s)
			setting_error(ld, m, "%s.meter: %s's interval (%g s) and timeout (%g s) must "
				      "add up to less than the meter's timeout (%d s)", name,
				      lb->meter_source == OGW_METER_MODBUS ? "modbus" : "http",
				      lb->meter_poll.interval_s, lb->meter_poll.timeout_s,
				      lb->meter_timeout_s);
	}
	if (ld->oom || ld->n_errors != errors_before) {
		ogw_lb_conf_free(lb);
		return;
	}
	ogw_lb_conf_free(c->lb);
	c->lb = lb;
}

const struct ogw_lb_charger_conf *ogw_lb_conf_charger(const struct ogw_lb_conf *lb,
						      const char *id,
						      const struct ogw_lb_group_conf **ret_group)
{
	if (!lb || !id)
		return NULL;
	for (size_t i = 0; i < lb->n_chargers; i++)
		if (!strcmp(lb->chargers[i].id, id)) {
			if (ret_group)
				*ret_group = NULL;
			return &lb->chargers[i];
		}
	for (size_t g = 0; g < lb->n_groups; g++)
		for (size_t i = 0; i < lb->groups[g].n_chargers; i++)
			if (!strcmp(lb->groups[g].chargers[i].id, id)) {
				if (ret_group)
					*ret_group = &lb->groups[g];
				return &lb->groups[g].chargers[i];
			}
	return NULL;
}

double ogw_lb_limit_at(const struct ogw_lb_limit *l, int minute, double *ret_w)
{
	for (size_t i = 0; i < l->n_schedule; i++) {
		const struct ogw_lb_window *w = &l->schedule[i];
		bool in = w->from_min < w->to_min ? minute >= w->from_min && minute < w->to_min
						  : minute >= w->from_min || minute < w->to_min;
		if (in) {
			*ret_w = w->limit_w;
			return w->limit_a;
		}
	}
	*ret_w = l->limit_w;
	return l->limit_a;
}
