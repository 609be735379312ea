/* SPDX-License-Identifier: MIT */
/*
 * 1.6 charger, 2.0.1 CSMS: DataTransfer, and the certificates (SEC16)
 * with Plug & Charge: the ISO 15118 messages a 1.6 charger carries in
 * DataTransfer ("Using ISO 15118 Plug & Charge with OCPP 1.6", OCA) are
 * unwrapped for the CSMS, and the CSMS's wrapped for the charger.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocppgw/json.h"
#include "ocppgw/translator.h"
#include "internal.h"

/* ---- DataTransfer (both directions) --------------------------------------- */

static json_t *data_transfer(const json_t *p)
{
	json_t *r = json_pack("{s:O}", "vendorId", json_object_get(p, "vendorId"));
	if (r && (ogw_tr_copy(r, NULL, p, "messageId") || ogw_tr_data_to16(r, p)))
		r = (json_decref(r), NULL);
	return r;
}

/*
 * Plug & Charge on a 1.6 charger ("Using ISO 15118 Plug & Charge with OCPP
 * 1.6", OCA): the 2.0.1 message travels as DataTransfer with vendorId
 * OGW_TR_PNC_VENDOR, its name as messageId and its JSON as the data text,
 * the answer likewise. A 2.0.1 CSMS has those messages itself: the
 * charger's are unwrapped and the answers wrapped back.
 */
static const char *const pnc_up[] = { "Authorize", "Get15118EVCertificate",
				      "GetCertificateStatus", "SignCertificate" };

/* The 2.0.1 action a Plug & Charge DataTransfer @p carries, or NULL. */
static const char *pnc_action(const json_t *p)
{
	if (!tr_same(tr_str(p, "vendorId"), OGW_TR_PNC_VENDOR))
		return NULL;
	for (size_t i = 0; i < N_OF(pnc_up); i++)
		if (tr_same(tr_str(p, "messageId"), pnc_up[i]))
			return pnc_up[i];
	return NULL;
}

int tr16_up_data(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *action = pnc_action(p);
	json_t *inner;

	if (!action)
		return ogw_tr_forward(out, "DataTransfer", data_transfer(p), NULL);
	inner = tr_str(p, "data") ? json_loads(tr_str(p, "data"), 0, NULL) : NULL;
	if (!json_is_object(inner)) {
		/* nothing a CSMS could read: the charger hears it at once */
		json_decref(inner);
		ogw_tr_lost(env, "DataTransfer", p, "Plug & Charge data is not a JSON object");
		return ogw_tr_out_status(out, "Rejected");
	}
	return ogw_tr_forward(out, action, inner, json_pack("{s:s}", "pnc", action));
}

int tr16_up_data_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			json_t **ret)
{
	char *text;

	(void)env;
	if (tr_str(memo, "pnc")) {
		/* the 2.0.1 answer, as the data text of an Accepted DataTransfer */
		text = ogw_json_text(result, JSON_COMPACT);
		*ret = text ? json_pack("{s:s, s:s}", "status", "Accepted", "data", text) : NULL;
		free(text);
		return *ret ? 0 : -ENOMEM;
	}
	*ret = json_pack("{s:O}", "status", json_object_get(result, "status"));
	if (*ret && ogw_tr_data_to16(*ret, result))
		*ret = (json_decref(*ret), NULL);
	return *ret ? 0 : -ENOMEM;
}

/* A 2.0.1 certificate call for the charger's ISO 15118 side, wrapped as
 * the Plug & Charge DataTransfer a 1.6 charger takes (see OGW_TR_PNC_VENDOR). */
int tr16_pnc_forward(struct ogw_tr_out *out, const char *action, const json_t *p)
{
	char *text = ogw_json_text(p, JSON_COMPACT);
	json_t *dt = text ? json_pack("{s:s, s:s, s:s}", "vendorId", OGW_TR_PNC_VENDOR, "messageId",
				      action, "data", text)
			  : NULL;

	free(text);
	return ogw_tr_forward(out, "DataTransfer", dt, json_pack("{s:s}", "pnc", action));
}

/*
 * The answer to a wrapped call (@memo from tr16_pnc_forward) from the charger's
 * DataTransfer.conf @result: its data is the 2.0.1 answer. A charger that
 * does not take Plug & Charge (UnknownVendorId, ...) or answers something
 * unreadable is answered {"status": @refusal}. 1 when @memo was no
 * wrapped call (nothing done), else 0 or -ENOMEM.
 */
static int pnc_result(const json_t *memo, const json_t *result, const char *refusal, json_t **ret)
{
	json_t *inner = NULL;

	if (!tr_str(memo, "pnc"))
		return 1;
	if (tr_same(tr_str(result, "status"), "Accepted") && tr_str(result, "data"))
		inner = json_loads(tr_str(result, "data"), 0, NULL);
	if (!json_is_object(inner)) {
		json_decref(inner);
		inner = json_pack("{s:s}", "status", refusal);
	}
	*ret = inner;
	return inner ? 0 : -ENOMEM;
}

/* result() of the calls that may travel wrapped and whose status enum is a
 * subset of the caller's. */
int tr16_result_status_or_pnc(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			      json_t **ret)
{
	int r = pnc_result(memo, result, "Rejected", ret);
	return r == 1 ? ogw_tr_result_status(env, memo, result, ret) : r;
}

int tr16_down_data(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "DataTransfer", data_transfer(p), NULL);
}

/* 1.6 data stays a string: 2.0.1 data is any JSON, a string included. */
int tr16_down_data_result(struct ogw_tr_env *env, const json_t *memo, const json_t *result,
			  json_t **ret)
{
	(void)env;
	(void)memo;
	*ret = json_pack("{s:O}", "status", json_object_get(result, "status"));
	if (*ret && ogw_tr_copy(*ret, NULL, result, "data"))
		*ret = (json_decref(*ret), NULL);
	return *ret ? 0 : -ENOMEM;
}

/* ---- certificates (SEC16; the ISO 15118 ones over Plug & Charge DataTransfer) -- */

/* 2.0.1 certificate uses SEC16 knows; V2G and MO certificates go through
 * the PnC DataTransfer, which a CSMS uses directly. */
static const struct ogw_tr_map cert_use_to16[] = {
	{ "CSMSRootCertificate", "CentralSystemRootCertificate" },
	{ "ManufacturerRootCertificate", "ManufacturerRootCertificate" },
};

/* The certificate uses only the Plug & Charge side knows. */
static const struct ogw_tr_map pnc_cert_use[] = {
	{ "MORootCertificate", "MORootCertificate" },
	{ "V2GCertificateChain", "V2GCertificateChain" },
	{ "V2GRootCertificate", "V2GRootCertificate" },
};

static const struct ogw_tr_map cert_use_to201[] = {
	{ "CentralSystemRootCertificate", "CSMSRootCertificate" },
	{ "ManufacturerRootCertificate", "ManufacturerRootCertificate" },
};

int tr16_up_sign_certificate(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "SignCertificate",
			      json_pack("{s:O, s:s}", "csr", json_object_get(p, "csr"),
					"certificateType", "ChargingStationCertificate"),
			      NULL);
}

int tr16_down_cert_signed(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *type = tr_str(p, "certificateType");
	(void)env;
	if (tr_same(type, "V2GCertificate"))
		return tr16_pnc_forward(out, "CertificateSigned", p);
	if (type && strcmp(type, "ChargingStationCertificate"))
		return ogw_tr_out_status(out, "Rejected");
	return ogw_tr_forward(out, "CertificateSigned",
			      json_pack("{s:O}", "certificateChain",
					json_object_get(p, "certificateChain")),
			      NULL);
}

int tr16_down_install_cert(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const char *type = MAP(cert_use_to16, tr_str(p, "certificateType"), NULL);
	(void)env;
	/* V2G and MO roots live on the charger's ISO 15118 side */
	if (!type && MAP(pnc_cert_use, tr_str(p, "certificateType"), NULL))
		return tr16_pnc_forward(out, "InstallCertificate", p);
	if (!type)
		return ogw_tr_out_status(out, "Rejected");
	return ogw_tr_forward(out, "InstallCertificate",
			      json_pack("{s:s, s:O}", "certificateType", type, "certificate",
					json_object_get(p, "certificate")),
			      NULL);
}

int tr16_down_delete_cert(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	(void)env;
	return ogw_tr_forward(out, "DeleteCertificate", json_deep_copy(p), NULL);
}

/* SEC16 asks for one type per request: the first requested type it knows
 * (absent list: the CSMS root certificates). */
int tr16_down_installed_certs(struct ogw_tr_env *env, const json_t *p, struct ogw_tr_out *out)
{
	const json_t *types = json_object_get(p, "certificateType");
	const char *type = types ? NULL : "CentralSystemRootCertificate";
	json_t *t;
	size_t i;

	(void)env;
	json_array_foreach(types, i, t)
		if (!type)
			type = MAP(cert_use_to16, json_string_value(t), NULL);
	/* only ISO 15118 certificates asked for: the Plug & Charge side */
	if (!type && json_array_size(types))
		return tr16_pnc_forward(out, "GetInstalledCertificateIds", p);
	if (!type)
		return ogw_tr_out_status(out, "NotFound");
	return ogw_tr_forward(out, "GetInstalledCertificateIds",
			      json_pack("{s:s}", "certificateType", type),
			      json_pack("{s:s}", "certificateType", type));
}

int tr16_down_installed_certs_result(struct ogw_tr_env *env, const json_t *memo,
				     const json_t *result, json_t **ret)
{
	json_t *chain = json_array(), *h;
	size_t i;
	int r = -ENOMEM;

	(void)env;
	*ret = NULL;
	if ((r = pnc_result(memo, result, "NotFound", ret)) != 1) {
		json_decref(chain);
		return r;
	}
	r = -ENOMEM;
	if (!chain || ogw_tr_status_result(result, NULL, 0, ret))
		goto out;
	json_array_foreach(json_object_get(result, "certificateHashData"), i, h)
		if (json_array_append_new(chain,
					  json_pack("{s:O, s:s}", "certificateHashData", h,
						    "certificateType",
						    MAP(cert_use_to201,
							tr_str(memo, "certificateType"),
							"CSMSRootCertificate"))))
			goto out;
	if (json_array_size(chain) && json_object_set(*ret, "certificateHashDataChain", chain))
		goto out;
	r = 0;
out:
	if (r < 0)
		*ret = (json_decref(*ret), NULL);
	json_decref(chain);
	return r;
}
