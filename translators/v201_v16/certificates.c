/* SPDX-License-Identifier: MIT */
/*
 * Certificates and Plug & Charge between a 2.0.1 station and a 1.6
 * (+security extension) central system: security events, certificate
 * management, and the ISO 15118 messages a 1.6 central system carries in
 * DataTransfer. Part of
 * the translator whose tables are table.c; no I/O, everything goes
 * through the session's ogw_tr_* environment.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ocppgw/json.h"
#include "ocppgw/ocpp.h"
#include "ocppgw/translator.h"
#include "../common.h"
#include "../connector_map.h"
#include "internal.h"
#include "../v21_adapt.h"

/* ---- Plug & Charge ------------------------------------------------------ */

/* ISO 15118 messages travel in 1.6 as DataTransfer with the PnC vendor id and
 * the 2.0.1 action as messageId, data being the 2.0.1 payload as JSON text
 * (REFERENCE §2, LIB charge_point_impl.cpp). */
int tr201_pnc_forward(const char *action, const json_t *payload, struct ogw_tr_out *out)
{
	char *text = ogw_json_text(payload, JSON_COMPACT);
	json_t *p;

	if (!text)
		return -ENOMEM;
	p = json_pack("{s:s, s:s, s:s}", "vendorId", OGW_TR_PNC_VENDOR, "messageId", action, "data", text);
	free(text);
	return ogw_tr_forward(out, "DataTransfer", p, json_string(action));
}

/* The 2.0.1 answer inside a PnC DataTransfer.conf (it must hold @field),
 * or @fallback (taken). */
json_t *tr201_pnc_answer_with(const json_t *result, const char *field, json_t *fallback)
{
	const char *data = tr_str(result, "data");
	json_t *v;

	if (strcmp(tr_str(result, "status"), "Accepted") || !data)
		return fallback;
	v = json_loads(data, 0, NULL);
	if (!json_is_object(v) || !json_object_get(v, field)) {
		json_decref(v);
		return fallback;
	}
	json_decref(fallback);
	return v;
}

static json_t *pnc_answer(const json_t *result, json_t *fallback)
{
	return tr201_pnc_answer_with(result, "status", fallback);
}

/* ---- security ----------------------------------------------------------- */

int tr201_up_security_event(struct ogw_tr_env *env, const json_t *payload,
			   struct ogw_tr_out *out)
{
	json_t *p = json_pack("{s:O, s:O}", "type", json_object_get(payload, "type"),
			      "timestamp", json_object_get(payload, "timestamp"));
	(void)env;
	if (p && copy_opt(p, payload, "techInfo", NULL)) {
		json_decref(p);
		return -ENOMEM;
	}
	return ogw_tr_forward(out, "SecurityEventNotification", p, NULL);
}

int tr201_up_sign_certificate(struct ogw_tr_env *env, const json_t *payload,
			     struct ogw_tr_out *out)
{
	const char *type = tr_str(payload, "certificateType");
	(void)env;

	if (type && !strcmp(type, "V2GCertificate"))
		return tr201_pnc_forward("SignCertificate", payload, out);
	return ogw_tr_forward(out, "SignCertificate",
			   json_pack("{s:O}", "csr", json_object_get(payload, "csr")), NULL);
}

int tr201_res_sign_certificate(struct ogw_tr_env *env, const json_t *memo,
			      const json_t *result, json_t **ret)
{
	(void)env;
	if (memo)
		*ret = pnc_answer(result, json_pack("{s:s}", "status", "Rejected"));
	else
		*ret = json_pack("{s:O}", "status", json_object_get(result, "status"));
	return *ret ? 0 : -ENOMEM;
}

int tr201_up_get_15118_cert(struct ogw_tr_env *env, const json_t *payload,
			   struct ogw_tr_out *out)
{
	(void)env;
	return tr201_pnc_forward("Get15118EVCertificate", payload, out);
}

int tr201_res_get_15118_cert(struct ogw_tr_env *env, const json_t *memo,
			    const json_t *result, json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = pnc_answer(result, json_pack("{s:s, s:s}", "status", "Failed", "exiResponse", ""));
	return *ret ? 0 : -ENOMEM;
}

int tr201_up_get_cert_status(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out)
{
	(void)env;
	return tr201_pnc_forward("GetCertificateStatus", payload, out);
}

int tr201_res_get_cert_status(struct ogw_tr_env *env, const json_t *memo,
			     const json_t *result, json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = pnc_answer(result, json_pack("{s:s}", "status", "Failed"));
	return *ret ? 0 : -ENOMEM;
}

/* ---- DataTransfer (up) -------------------------------------------------- */

int tr201_up_data_transfer(struct ogw_tr_env *env, const json_t *payload,
			  struct ogw_tr_out *out)
{
	json_t *p = json_pack("{s:O}", "vendorId", json_object_get(payload, "vendorId"));
	(void)env;
	if (p && (copy_opt(p, payload, "messageId", NULL) || ogw_tr_data_to16(p, payload))) {
		json_decref(p);
		return -ENOMEM;
	}
	return ogw_tr_forward(out, "DataTransfer", p, NULL);
}

int tr201_down_certificate_signed(struct ogw_tr_env *env, const json_t *payload,
				 struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "CertificateSigned", json_deep_copy(payload), NULL);
}

int tr201_down_delete_certificate(struct ogw_tr_env *env, const json_t *payload,
				 struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "DeleteCertificate", json_deep_copy(payload), NULL);
}

static const struct ogw_tr_map cert_use201[] = {
	{ "CentralSystemRootCertificate", "CSMSRootCertificate" },
	{ "ManufacturerRootCertificate", "ManufacturerRootCertificate" },
};

int tr201_down_install_certificate(struct ogw_tr_env *env, const json_t *payload,
				  struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "InstallCertificate",
			   json_pack("{s:s, s:O}", "certificateType",
				     ogw_tr_map_str(cert_use201, N(cert_use201),
					     tr_str(payload, "certificateType"), NULL),
				     "certificate", json_object_get(payload, "certificate")), NULL);
}

int tr201_down_get_installed_certs(struct ogw_tr_env *env, const json_t *payload,
				  struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "GetInstalledCertificateIds",
			   json_pack("{s:[s]}", "certificateType",
				     ogw_tr_map_str(cert_use201, N(cert_use201),
					     tr_str(payload, "certificateType"), NULL)), NULL);
}

int tr201_res_get_installed_certs(struct ogw_tr_env *env, const json_t *memo,
				 const json_t *result, json_t **ret)
{
	json_t *hashes = json_array(), *chain, *res = NULL;
	size_t i;
	int r = -ENOMEM;
	(void)env;
	(void)memo;

	if (!hashes)
		goto out;
	json_array_foreach(json_object_get(result, "certificateHashDataChain"), i, chain) {
		json_t *h = json_object_get(chain, "certificateHashData");
		if (json_array_append_new(hashes,
					  json_pack("{s:O, s:O, s:O, s:O}", "hashAlgorithm",
						    json_object_get(h, "hashAlgorithm"),
						    "issuerNameHash", json_object_get(h, "issuerNameHash"),
						    "issuerKeyHash", json_object_get(h, "issuerKeyHash"),
						    "serialNumber", json_object_get(h, "serialNumber"))))
			goto out;
	}
	res = json_pack("{s:O}", "status", json_object_get(result, "status"));
	if (!res || (json_array_size(hashes) && json_object_set(res, "certificateHashData", hashes)))
		goto out;
	*ret = json_incref(res);
	r = 0;
out:
	json_decref(res);
	json_decref(hashes);
	return r;
}

/* The 2.0.1 messages a 1.6 central system sends a Plug & Charge station
 * inside DataTransfer (OCA "Using ISO 15118 Plug & Charge with OCPP 1.6"). */
static const char *const pnc_down[] = {
	"CertificateSigned", "DeleteCertificate", "GetInstalledCertificateIds",
	"InstallCertificate", "TriggerMessage",
};

/* A PnC DataTransfer is unwrapped into the 2.0.1 message it carries (its
 * answer wrapped back in tr201_res_data_transfer); other DataTransfers pass, a
 * 1.6 string being valid 2.0.1 "any" as it is. A PnC message whose data is
 * no JSON object is refused with DataTransfer's Rejected. */
int tr201_down_data_transfer(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out)
{
	const char *msg = tr_str(payload, "messageId");
	const char *data = tr_str(payload, "data");
	json_t *inner;
	(void)env;

	if (!tr_same(tr_str(payload, "vendorId"), OGW_TR_PNC_VENDOR) ||
	    !in_list(pnc_down, N(pnc_down), msg))
		return ogw_tr_forward(out, "DataTransfer", json_deep_copy(payload), NULL);
	inner = data ? json_loads(data, 0, NULL) : NULL;
	if (!json_is_object(inner)) {
		json_decref(inner);
		return ogw_tr_out_status(out, "Rejected");
	}
	for (size_t i = 0; i < N(pnc_down); i++)
		if (!strcmp(pnc_down[i], msg))
			return ogw_tr_forward(out, pnc_down[i], inner, json_string(pnc_down[i]));
	json_decref(inner);
	return -EINVAL;
}

int tr201_res_data_transfer(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			   json_t **ret)
{
	json_t *p;
	(void)env;

	if (json_is_string(memo)) {
		char *text = ogw_json_text(result, JSON_COMPACT);
		*ret = text ? json_pack("{s:s, s:s}", "status", "Accepted", "data", text) : NULL;
		free(text);
		return *ret ? 0 : -ENOMEM;
	}
	p = json_pack("{s:O}", "status", json_object_get(result, "status"));
	if (p && ogw_tr_data_to16(p, result)) {
		json_decref(p);
		p = NULL;
	}
	*ret = p;
	return p ? 0 : -ENOMEM;
}
