/* SPDX-License-Identifier: MIT */
/*
 * The simulated charger's configuration: one table of keys, each with its
 * 1.6 name and its 2.x component/variable (the mapping of REFERENCE §4), and
 * per charger only the values changed from the defaults, so 10,000 chargers
 * cost nothing until a CSMS writes to them. It does not persist anything.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

struct sim_kv {
	struct sim_kv *next;
	unsigned int key;
	char value[];
};

#define NO_FIELD ((size_t)-1)

static const struct key_def {
	const char *key16;            /* NULL: no 1.6 key */
	const char *component, *variable; /* NULL: no 2.x variable */
	const char *def16, *def2x;
	bool readonly;
	size_t field;                 /* unsigned int in struct sim_charger, or NO_FIELD */
} keys[] = {
	{ "HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval", NULL, NULL, false,
	  offsetof(struct sim_charger, hb_interval) },
	{ "MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval", NULL, NULL, false,
	  offsetof(struct sim_charger, meter_interval) },
	{ "WebSocketPingInterval", "OCPPCommCtrlr", "WebSocketPingInterval", "0", "0", false,
	  NO_FIELD },
	{ "ConnectionTimeOut", "TxCtrlr", "EVConnectionTimeOut", "60", "60", false, NO_FIELD },
	{ "StopTransactionOnEVSideDisconnect", "TxCtrlr", "StopTxOnEVSideDisconnect",
	  "true", "true", false, NO_FIELD },
	{ "AuthorizeRemoteTxRequests", "AuthCtrlr", "AuthorizeRemoteStart", "false", "false",
	  false, NO_FIELD },
	{ "LocalAuthorizeOffline", "AuthCtrlr", "LocalAuthorizeOffline", "true", "true", false,
	  NO_FIELD },
	{ "LocalAuthListEnabled", "LocalAuthListCtrlr", "Enabled", "true", "true", false,
	  NO_FIELD },
	{ "TransactionMessageAttempts", "OCPPCommCtrlr", "MessageAttempts", "3", "3", false,
	  NO_FIELD },
	{ "TransactionMessageRetryInterval", "OCPPCommCtrlr", "MessageAttemptInterval",
	  "60", "60", false, NO_FIELD },
	{ "ChargeProfileMaxStackLevel", "SmartChargingCtrlr", "ProfileStackLevel", "10", "10",
	  true, NO_FIELD },
	{ "ChargingScheduleAllowedChargingRateUnit", "SmartChargingCtrlr", "RateUnit",
	  "Current,Power", "A,W", true, NO_FIELD },
	{ "SupportedFeatureProfiles", NULL, NULL,
	  "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
	  NULL, true, NO_FIELD },
	{ NULL, "OCPPCommCtrlr", "MessageTimeout", NULL, "30", false, NO_FIELD },
	{ NULL, "SmartChargingCtrlr", "Enabled", NULL, "true", true, NO_FIELD },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* The current value of key @k as text in @buf. */
static const char *value_of(const struct sim_charger *ch, unsigned int k, char *buf,
			    size_t size)
{
	const struct key_def *d = &keys[k];

	if (d->field != NO_FIELD) {
		snprintf(buf, size, "%u", *(const unsigned int *)((const char *)ch + d->field));
		return buf;
	}
	for (const struct sim_kv *kv = ch->kv; kv; kv = kv->next)
		if (kv->key == k)
			return kv->value;
	return ch->v == OGW_OCPP16 ? d->def16 : d->def2x;
}

/* 0, -EINVAL for a value the key cannot take, -ENOMEM. */
static int set_value(struct sim_charger *ch, unsigned int k, const char *value)
{
	const struct key_def *d = &keys[k];
	struct sim_kv *kv, **pp;
	size_t len;

	if (!value)
		return -EINVAL;
	len = strlen(value);
	if (d->field != NO_FIELD) {
		char *end;
		unsigned long n = strtoul(value, &end, 10);

		if (!len || *end || n > 86400 * 7)
			return -EINVAL;
		*(unsigned int *)((char *)ch + d->field) = (unsigned int)n;
		return 0;
	}
	for (pp = &ch->kv; *pp; pp = &(*pp)->next)
		if ((*pp)->key == k) {
			kv = *pp;
			*pp = kv->next;
			free(kv);
			break;
		}
	kv = malloc(sizeof(*kv) + len + 1);
	if (!kv)
		return -ENOMEM;
	kv->key = k;
	memcpy(kv->value, value, len + 1);
	kv->next = ch->kv;
	ch->kv = kv;
	return 0;
}

void sim_keys_free(struct sim_charger *ch)
{
	while (ch->kv) {
		struct sim_kv *kv = ch->kv;

		ch->kv = kv->next;
		free(kv);
	}
}

static int find16(const char *name)
{
	for (unsigned int k = 0; name && k < NKEYS; k++)
		if (keys[k].key16 && !strcmp(keys[k].key16, name))
			return (int)k;
	return -1;
}

static json_t *config_entry(struct sim_charger *ch, unsigned int k)
{
	char buf[24];

	return json_pack("{s:s, s:b, s:s}", "key", keys[k].key16, "readonly", keys[k].readonly,
			 "value", value_of(ch, k, buf, sizeof(buf)));
}

json_t *sim_keys_get16(struct sim_charger *ch, const json_t *req)
{
	const json_t *want = json_object_get(req, "key");
	json_t *known = json_array(), *unknown = json_array(), *res = json_object();
	size_t i;
	const json_t *name;

	if (!json_array_size(want)) {
		for (unsigned int k = 0; k < NKEYS; k++)
			if (keys[k].key16)
				json_array_append_new(known, config_entry(ch, k));
	} else {
		json_array_foreach(want, i, name) {
			int k = find16(json_string_value(name));

			if (k >= 0)
				json_array_append_new(known, config_entry(ch, (unsigned int)k));
			else
				json_array_append(unknown, (json_t *)name);
		}
	}
	if (json_array_size(known))
		json_object_set(res, "configurationKey", known);
	if (json_array_size(unknown))
		json_object_set(res, "unknownKey", unknown);
	json_decref(known);
	json_decref(unknown);
	return res;
}

json_t *sim_keys_change16(struct sim_charger *ch, const json_t *req)
{
	int k = find16(json_string_value(json_object_get(req, "key")));
	const char *status = "Accepted";

	if (k < 0)
		status = "NotSupported";
	else if (keys[k].readonly ||
		 set_value(ch, (unsigned int)k,
			   json_string_value(json_object_get(req, "value"))) < 0)
		status = "Rejected";
	return json_pack("{s:s}", "status", status);
}

/* 2.x lookup: the key index, or -1 with *ret_status naming what is unknown. */
static int find2x(const json_t *item, const char **ret_status)
{
	const char *c = json_string_value(json_object_get(json_object_get(item, "component"), "name"));
	const char *v = json_string_value(json_object_get(json_object_get(item, "variable"), "name"));
	bool comp = false;

	for (unsigned int k = 0; c && v && k < NKEYS; k++) {
		if (!keys[k].component || strcmp(keys[k].component, c))
			continue;
		comp = true;
		if (!strcmp(keys[k].variable, v))
			return (int)k;
	}
	*ret_status = comp ? "UnknownVariable" : "UnknownComponent";
	return -1;
}

static bool actual(const json_t *item)
{
	const char *t = json_string_value(json_object_get(item, "attributeType"));

	return !t || !strcmp(t, "Actual");
}

static json_t *result_item(const json_t *item, const char *status)
{
	json_t *r = json_pack("{s:s, s:O, s:O}", "attributeStatus", status,
			      "component", json_object_get(item, "component"),
			      "variable", json_object_get(item, "variable"));

	if (r && json_object_get(item, "attributeType"))
		json_object_set(r, "attributeType", json_object_get(item, "attributeType"));
	return r;
}

json_t *sim_keys_get2x(struct sim_charger *ch, const json_t *req)
{
	json_t *out = json_array();
	const json_t *item;
	size_t i;

	json_array_foreach(json_object_get(req, "getVariableData"), i, item) {
		const char *status = "Accepted";
		int k = find2x(item, &status);
		char buf[24];
		json_t *r;

		if (k >= 0 && !actual(item))
			status = "NotSupportedAttributeType";
		r = result_item(item, status);
		if (r && k >= 0 && !strcmp(status, "Accepted"))
			json_object_set_new(r, "attributeValue",
					    json_string(value_of(ch, (unsigned int)k, buf, sizeof(buf))));
		json_array_append_new(out, r);
	}
	return json_pack("{s:o}", "getVariableResult", out);
}

json_t *sim_keys_set2x(struct sim_charger *ch, const json_t *req)
{
	json_t *out = json_array();
	const json_t *item;
	size_t i;

	json_array_foreach(json_object_get(req, "setVariableData"), i, item) {
		const char *status = "Accepted";
		int k = find2x(item, &status);

		if (k >= 0 && !actual(item))
			status = "NotSupportedAttributeType";
		else if (k >= 0 && (keys[k].readonly ||
				    set_value(ch, (unsigned int)k,
					      json_string_value(json_object_get(item, "attributeValue"))) < 0))
			status = "Rejected";
		json_array_append_new(out, result_item(item, status));
	}
	return json_pack("{s:o}", "setVariableResult", out);
}
