/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the MQTT layer's broker URLs: schemes, default ports, the
 * one-level site (or "+"), and what is refused. The client itself runs
 * against a real broker in tests/interop/mqtt.test.mjs.
 */
#include <errno.h>

#include <criterion/criterion.h>

#include "ocppgw/mqtt.h"

Test(mqtt_url, forms)
{
	struct ogw_mqtt_url u;

	cr_assert_eq(ogw_mqtt_parse_url("mqtt://broker/site-1", &u), 0);
	cr_expect_str_eq(u.host, "broker");
	cr_expect_eq(u.port, 1883);
	cr_expect_not(u.tls);
	cr_expect_str_eq(u.site, "site-1");
	cr_assert_eq(ogw_mqtt_parse_url("MQTTS://10.0.0.1:8884/+/", &u), 0);
	cr_expect_str_eq(u.host, "10.0.0.1");
	cr_expect_eq(u.port, 8884);
	cr_expect(u.tls);
	cr_expect_str_eq(u.site, "+");
	cr_assert_eq(ogw_mqtt_parse_url("mqtts://b/s", &u), 0);
	cr_expect_eq(u.port, 8883);
}

Test(mqtt_url, rejects)
{
	static const char *const bad[] = {
		"ws://broker/site", "mqtt://", "mqtt:///site", "mqtt://broker",
		"mqtt://broker/", "mqtt://broker/a/b", "mqtt://broker/a+", "mqtt://broker/#",
		"mqtt://broker:0/s", "mqtt://broker:70000/s", "mqtt://broker:x/s",
	};
	struct ogw_mqtt_url u;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(ogw_mqtt_parse_url(bad[i], &u), -EINVAL, "%s", bad[i]);
}
