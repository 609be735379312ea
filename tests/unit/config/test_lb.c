/* SPDX-License-Identifier: MIT */
/*
 * The load_balancing section: the shipped worked example, defaults, and
 * each rule (phases, rotation, min <= max, limits > 0, unknown keys, a
 * charger in one place only) reported as file:line.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocppgw/config.h"

static void load(const char *path, struct ogw_conf *c, struct ogw_conf_errors *errs, int want)
{
	ogw_conf_defaults(c);
	memset(errs, 0, sizeof(*errs));
	int rc = ogw_conf_load_file(c, path, errs);
	for (size_t i = 0; i < errs->n; i++)
		cr_log_info("%s", errs->msgs[i]);
	cr_assert_eq(rc, want, "%s: rc %d", path, rc);
}

/* @path fails to load with exactly @want ("line: message"), and the
 * section with errors is not kept. */
static void expect_errors(const char *path, const char *const *want, size_t n)
{
	struct ogw_conf c;
	struct ogw_conf_errors errs;

	load(path, &c, &errs, -EINVAL);
	cr_assert_eq(errs.n, n, "expected %zu errors, got %zu", n, errs.n);
	for (size_t i = 0; i < n; i++) {
		char full[512];
		snprintf(full, sizeof(full), "%s:%s", path, want[i]);
		cr_expect_str_eq(errs.msgs[i], full);
	}
	cr_assert_null(c.lb, "a section with errors is not kept");
	ogw_conf_clear(&c);
	ogw_conf_errors_clear(&errs);
}

Test(config_lb, worked_example_loads)
{
	struct ogw_conf c;
	struct ogw_conf_errors errs;
	const struct ogw_lb_group_conf *g = NULL;
	const struct ogw_lb_charger_conf *ch;

	load(LB_EXAMPLE, &c, &errs, 0);
	cr_assert_eq(ogw_conf_check(&c, &errs), 0);
	cr_assert_not_null(c.lb);
	cr_assert(c.lb->enabled);
	cr_assert_float_eq(c.lb->voltage, 230, 1e-9);
	cr_assert_eq(c.lb->stack_level, 8);
	cr_assert_eq(c.lb->update_interval_s, 10);
	cr_assert_float_eq(c.lb->site.limit_a, 250, 1e-9);
	cr_assert_eq(c.lb->site.n_schedule, 1);
	cr_assert_eq(c.lb->site.schedule[0].from_min, 7 * 60);
	cr_assert_eq(c.lb->site.schedule[0].to_min, 19 * 60);
	cr_assert_float_eq(c.lb->site.schedule[0].limit_a, 160, 1e-9);
	cr_assert_eq(c.lb->n_groups, 2);
	ch = ogw_lb_conf_charger(c.lb, "CP2", &g);
	cr_assert_not_null(ch);
	cr_assert_str_eq(g->name, "floor1");
	cr_assert_eq(ch->rotation[0], 1);
	cr_assert_eq(ch->rotation[1], 2);
	cr_assert_eq(ch->rotation[2], 0);
	cr_assert_float_eq(ch->min_a, 6, 1e-9);  /* default */
	ch = ogw_lb_conf_charger(c.lb, "ENTRANCE1", &g);
	cr_assert_not_null(ch);
	cr_assert_null(g);
	cr_assert_eq(ch->priority, 1);
	cr_assert(ch->phase_switching && ch->phase_to_use);
	cr_assert_eq(c.lb->phase_switch_interval_s, 300);
	ch = ogw_lb_conf_charger(c.lb, "CP3", &g);
	cr_assert(!ch->phase_switching && !ch->phase_to_use);  /* default */
	cr_assert_eq(ch->n_evses, 2);
	cr_assert_float_eq(ch->lim.limit_w, 22000, 1e-9);
	cr_assert_eq(ch->evses[1].lim.phases, 3);
	ch = ogw_lb_conf_charger(c.lb, "WB7", NULL);
	cr_assert_eq(ch->lim.phases, 1);
	cr_assert_null(ogw_lb_conf_charger(c.lb, "NOPE", NULL));
	ogw_conf_clear(&c);
	ogw_conf_errors_clear(&errs);
}

Test(config_lb, absent_section_means_no_balancing)
{
	struct ogw_conf c;

	ogw_conf_defaults(&c);
	cr_assert_null(c.lb);
	ogw_conf_clear(&c);
}

Test(config_lb, every_error_names_its_line)
{
	const char *path = FIXTURES "/lb-errors.conf";
	const char *const want[] = {
		"2: load_balancing.voltage: must be between 50 and 1000",
		"4: load_balancing.site.phases: must be between 1 and 3",
		"5: load_balancing.site.schedule[0].from: expected HH:MM between 00:00 and 23:59",
		"5: load_balancing.site.schedule[0]: needs from and to (\"HH:MM\")",
		("6: load_balancing.site.chargers[0].rotation: expected a permutation of L1L2L3 "
		 "(e.g. \"L2L3L1\")"),
		"8: load_balancing.site.groups[0].limit_a: must be between 0.1 and 10000",
		"9: load_balancing.site.groups[0].chargers[0]: min_a (20) must not exceed max_a (16)",
		"10: unknown setting 'load_balancing.site.groups[0].chargers[1].colour'",
		"11: load_balancing.site.groups[0].chargers[1].evses[1]: duplicate id 1",
	};

	expect_errors(path, want, sizeof(want) / sizeof(want[0]));
}

Test(config_lb, phase_switching_needs_three_phases)
{
	const char *const want[] = {
		"2: load_balancing.phase_switch_interval: must be between 0 and 86400 seconds",
		"4: load_balancing.site.chargers[0]: phase_switching needs phases = 3",
		"5: load_balancing.site.chargers[1]: phase_to_use needs phase_switching = true",
	};

	expect_errors(FIXTURES "/lb-phases-bad.conf", want, 3);
}

Test(config_lb, limit_mqtt_is_a_broker_and_one_site)
{
	const char *const want[] = {
		"3: load_balancing.limit_mqtt: expected mqtt://host[:port]/<site> or mqtts://...",
		"6: unknown setting 'lb2'",
	};
	struct ogw_conf c;
	struct ogw_conf_errors errs;

	expect_errors(FIXTURES "/lb-limit-mqtt.conf", want, 2);
	load(FIXTURES "/lb-limit-mqtt-ok.conf", &c, &errs, 0);
	cr_assert_str_eq(c.lb->limit_mqtt, "mqtts://broker.example:8883/garage-7");
	ogw_conf_clear(&c);
	ogw_conf_errors_clear(&errs);
}

Test(config_lb, meter_needs_its_broker_and_sane_values)
{
	const char *const no_broker[] = {
		"2: load_balancing.meter: needs modbus, http or limit_mqtt (the meter's broker)",
	};
	const char *const bad[] = {
		"3: load_balancing.meter.timeout: must be between 1 and 3600 seconds",
		"3: load_balancing.meter.safe_a: must be between 0 and 10000",
	};
	struct ogw_conf c;
	struct ogw_conf_errors errs;

	expect_errors(FIXTURES "/lb-meter.conf", no_broker, 1);
	expect_errors(FIXTURES "/lb-meter-bad.conf", bad, 2);
	load(FIXTURES "/lb-meter-ok.conf", &c, &errs, 0);
	cr_assert_float_eq(c.lb->meter_fuse_a, 63, 1e-9);
	cr_assert_eq(c.lb->meter_timeout_s, 10);
	cr_assert_float_eq(c.lb->meter_safe_a, 16, 1e-9);
	ogw_conf_clear(&c);
	ogw_conf_errors_clear(&errs);
	/* without the section: no meter */
	load(FIXTURES "/lb-limit-mqtt-ok.conf", &c, &errs, 0);
	cr_assert_lt(c.lb->meter_fuse_a, 0);
	ogw_conf_clear(&c);
	ogw_conf_errors_clear(&errs);
}

Test(config_lb, a_charger_sits_in_one_place)
{
	const char *path = FIXTURES "/lb-dup.conf";
	const char *const want[] = {
		"7: load_balancing: charger 'CP2' is already in a",
		"8: load_balancing: charger 'CP1' is already in the site's chargers",
	};

	expect_errors(path, want, 2);
}

Test(config_lb, schedule_windows_replace_the_limit)
{
	struct ogw_lb_window w[] = {
		{ .from_min = 7 * 60, .to_min = 19 * 60, .limit_a = 160, .limit_w = -1 },
		{ .from_min = 22 * 60, .to_min = 6 * 60, .limit_a = -1, .limit_w = 50000 },
	};
	struct ogw_lb_limit l = { .limit_a = 250, .limit_w = -1, .phases = 3, .schedule = w,
				  .n_schedule = 2 };
	double watts;

	cr_assert_float_eq(ogw_lb_limit_at(&l, 6 * 60 + 59, &watts), 250, 1e-9);
	cr_assert_float_eq(watts, -1, 1e-9);
	cr_assert_float_eq(ogw_lb_limit_at(&l, 7 * 60, &watts), 160, 1e-9);
	cr_assert_float_eq(ogw_lb_limit_at(&l, 19 * 60 - 1, &watts), 160, 1e-9);
	cr_assert_float_eq(ogw_lb_limit_at(&l, 19 * 60, &watts), 250, 1e-9);
	/* the night window wraps past midnight */
	cr_assert_float_eq(ogw_lb_limit_at(&l, 23 * 60, &watts), -1, 1e-9);
	cr_assert_float_eq(watts, 50000, 1e-9);
	cr_assert_float_eq(ogw_lb_limit_at(&l, 5 * 60, &watts), -1, 1e-9);
	cr_assert_float_eq(watts, 50000, 1e-9);
	cr_assert_float_eq(ogw_lb_limit_at(&l, 6 * 60, &watts), 250, 1e-9);
}

/* Found by tests/fuzz/fuzz_config.c: without a site section the duplicate
 * check asked libconfig for a member of NULL and crashed --check-config. */
Test(config_lb, no_site_section_is_an_error_not_a_crash)
{
	const char *path = FIXTURES "/lb-no-site.conf";
	const char *const want[] = {
		"1: load_balancing.site: needs limit_a or limit_w",
	};

	expect_errors(path, want, sizeof(want) / sizeof(want[0]));
}

/* meter.modbus over a serial line (Modbus RTU): device instead of host. */
Test(config_lb, meter_modbus_rtu)
{
	struct ogw_conf c;
	struct ogw_conf_errors errs;
	const struct ogw_meter_poll_conf *m;
	const char *const bad[] = {
		"3: load_balancing.meter.modbus.parity: expected one of \"none\", \"even\", \"odd\"",
		"3: load_balancing.meter.modbus.data_bits: must be between 7 and 8",
		("3: load_balancing.meter.modbus: needs host (Modbus TCP) or device (Modbus RTU), "
		 "not both"),
	};

	load(FIXTURES "/lb-meter-rtu.conf", &c, &errs, 0);
	m = &c.lb->meter_poll;
	cr_assert_str_eq(m->device, "/dev/ttyUSB0");
	cr_assert_null(m->host);
	cr_assert_eq(m->baud, 19200);
	cr_assert_eq(m->parity, 'E');
	cr_assert_eq(m->data_bits, 8);  /* default */
	cr_assert_eq(m->stop_bits, 2);
	cr_assert_eq(m->unit, 3);
	ogw_conf_clear(&c);
	ogw_conf_errors_clear(&errs);
	expect_errors(FIXTURES "/lb-meter-rtu-bad.conf", bad, 3);
}

/* meter.modbus: a preset, then settings after it that override it. */
Test(config_lb, meter_modbus_preset_and_overrides)
{
	struct ogw_conf c;
	struct ogw_conf_errors errs;
	const struct ogw_meter_poll_conf *m;

	load(FIXTURES "/lb-meter-modbus-ok.conf", &c, &errs, 0);
	m = &c.lb->meter_poll;
	cr_assert_eq(c.lb->meter_source, OGW_METER_MODBUS);
	cr_assert_str_eq(m->host, "meter.local");
	cr_assert_eq(m->port, 1502);
	cr_assert_eq(m->unit, 7);
	cr_assert_float_eq(m->interval_s, 0.5, 1e-9);
	cr_assert_float_eq(m->timeout_s, 0.25, 1e-9);
	cr_assert(m->regs.input, "the SDM630 reads input registers");
	cr_assert_eq(m->regs.type, OGW_REG_FLOAT32);
	cr_assert_eq(m->regs.addr[0], 6);
	cr_assert_eq(m->regs.addr[1], 8);
	cr_assert_eq(m->regs.addr[2], 10);
	cr_assert(m->regs.low_word_first, "overridden after the preset");
	cr_assert_float_eq(m->regs.scale, 2, 1e-9);
	cr_assert_not(m->regs.power);
	ogw_conf_clear(&c);
	ogw_conf_errors_clear(&errs);
}

Test(config_lb, meter_http_pointers)
{
	struct ogw_conf c;
	struct ogw_conf_errors errs;
	const struct ogw_meter_poll_conf *m;

	load(FIXTURES "/lb-meter-http-ok.conf", &c, &errs, 0);
	m = &c.lb->meter_poll;
	cr_assert_eq(c.lb->meter_source, OGW_METER_HTTP);
	cr_assert_str_eq(m->url, "https://meter.example/api");
	cr_assert_str_eq(m->pointer[0], "/a~1b/0");
	cr_assert_str_eq(m->pointer[2], "", "the whole answer is a pointer too");
	cr_assert(m->http_power);
	cr_assert_float_eq(m->http_scale, 1000, 1e-9);
	cr_assert_float_eq(m->interval_s, 1, 1e-9, "default");
	ogw_conf_clear(&c);
	ogw_conf_errors_clear(&errs);
}

/* Every bad register map setting is named with its line. */
Test(config_lb, meter_poll_errors_name_the_line)
{
	const char *const modbus[] = {
		"3: load_balancing.meter.modbus.preset: expected one of \"sdm630\", \"sdm630-power\"",
		"3: load_balancing.meter.modbus.type: expected one of \"int16\", \"uint16\", "
		"\"int32\", \"uint32\", \"float32\"",
		"4: load_balancing.meter.modbus.registers: expected [L1, L2, L3] register addresses "
		"(0-65535)",
		"4: load_balancing.meter.modbus.function: expected one of \"holding\", \"input\"",
		"4: load_balancing.meter.modbus.word_order: expected one of \"high_first\", "
		"\"low_first\"",
		"3: load_balancing.meter.modbus: needs registers = [L1, L2, L3] or a preset",
	};
	const char *const http[] = {
		"3: load_balancing.meter.http.url: expected http://host[:port]/path or https://...",
		("3: load_balancing.meter.http.pointers: expected three JSON pointers [\"/L1\", "
		 "\"/L2\", \"/L3\"] (RFC 6901: \"\" or starting with '/')"),
		"4: load_balancing.meter.http.interval: must be between 0.1 and 3600",
		"3: load_balancing.meter.http: needs url",
	};

	const char *const slow[] = {
		"2: load_balancing.meter: http's interval (1.5 s) and timeout (0.5 s) must add up "
		"to less than the meter's timeout (2 s)",
	};

	expect_errors(FIXTURES "/lb-meter-poll-bad.conf", modbus, 6);
	expect_errors(FIXTURES "/lb-meter-http-bad.conf", http, 4);
	expect_errors(FIXTURES "/lb-meter-slow.conf", slow, 1);
}
