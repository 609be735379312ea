/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for versions and the CALLERROR code table: every outcome in
 * every version, both 1.6 misspellings, and parsing of every spelling.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ocppgw/ocpp.h"

static const struct {
	enum ogw_err e;
	const char *v16, *v2x;
} expected[] = {
	{ OGW_ERR_FORMAT_VIOLATION, "FormationViolation", "FormatViolation" },
	{ OGW_ERR_GENERIC, "GenericError", "GenericError" },
	{ OGW_ERR_INTERNAL, "InternalError", "InternalError" },
	{ OGW_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "GenericError", "MessageTypeNotSupported" },
	{ OGW_ERR_NOT_IMPLEMENTED, "NotImplemented", "NotImplemented" },
	{ OGW_ERR_NOT_SUPPORTED, "NotSupported", "NotSupported" },
	{ OGW_ERR_OCCURRENCE_CONSTRAINT, "OccurenceConstraintViolation", "OccurrenceConstraintViolation" },
	{ OGW_ERR_PROPERTY_CONSTRAINT, "PropertyConstraintViolation", "PropertyConstraintViolation" },
	{ OGW_ERR_PROTOCOL, "ProtocolError", "ProtocolError" },
	{ OGW_ERR_RPC_FRAMEWORK, "FormationViolation", "RpcFrameworkError" },
	{ OGW_ERR_SECURITY, "SecurityError", "SecurityError" },
	{ OGW_ERR_TYPE_CONSTRAINT, "TypeConstraintViolation", "TypeConstraintViolation" },
};

Test(ocpp, versions)
{
	enum ogw_ocpp v = OGW_OCPP_COUNT;

	cr_assert_str_eq(ogw_ocpp_subprotocol(OGW_OCPP16), "ocpp1.6");
	cr_assert_str_eq(ogw_ocpp_subprotocol(OGW_OCPP201), "ocpp2.0.1");
	cr_assert_str_eq(ogw_ocpp_subprotocol(OGW_OCPP21), "ocpp2.1");
	cr_assert_str_eq(ogw_ocpp_name(OGW_OCPP16), "1.6");
	cr_assert_str_eq(ogw_ocpp_name(OGW_OCPP201), "2.0.1");
	cr_assert_str_eq(ogw_ocpp_name(OGW_OCPP21), "2.1");
	cr_assert_null(ogw_ocpp_name(OGW_OCPP_COUNT));
	cr_assert_null(ogw_ocpp_subprotocol((enum ogw_ocpp)-1));
	for (unsigned int i = 0; i < OGW_OCPP_COUNT; i++) {
		cr_assert_eq(ogw_ocpp_parse(ogw_ocpp_name(i), &v), 0);
		cr_assert_eq(v, i);
		v = OGW_OCPP_COUNT;
		cr_assert_eq(ogw_ocpp_parse(ogw_ocpp_subprotocol(i), &v), 0);
		cr_assert_eq(v, i);
	}
	v = OGW_OCPP16;
	cr_assert_eq(ogw_ocpp_parse("2.0", &v), -EINVAL);
	cr_assert_eq(ogw_ocpp_parse("ocpp2.0", &v), -EINVAL);
	cr_assert_eq(ogw_ocpp_parse("OCPP1.6", &v), -EINVAL);
	cr_assert_eq(ogw_ocpp_parse("", &v), -EINVAL);
	cr_assert_eq(ogw_ocpp_parse(NULL, &v), -EINVAL);
	cr_assert_eq(v, OGW_OCPP16);
}

Test(ocpp, every_code_every_version)
{
	cr_assert_eq(sizeof(expected) / sizeof(expected[0]), OGW_ERR_COUNT - 1);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		cr_assert_str_eq(ogw_err_code(expected[i].e, OGW_OCPP16), expected[i].v16);
		cr_assert_str_eq(ogw_err_code(expected[i].e, OGW_OCPP201), expected[i].v2x);
		cr_assert_str_eq(ogw_err_code(expected[i].e, OGW_OCPP21), expected[i].v2x);
	}
}

Test(ocpp, outside_the_table)
{
	cr_assert_null(ogw_err_code(OGW_ERR_NONE, OGW_OCPP201));
	cr_assert_null(ogw_err_code(OGW_ERR_COUNT, OGW_OCPP201));
	cr_assert_null(ogw_err_code(OGW_ERR_GENERIC, OGW_OCPP_COUNT));
}

Test(ocpp, parse_every_spelling)
{
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		enum ogw_err e = OGW_ERR_NONE;

		cr_assert_eq(ogw_err_parse(expected[i].v2x, &e), 0, "%s", expected[i].v2x);
		cr_assert_eq(e, expected[i].e);
		e = OGW_ERR_NONE;
		cr_assert_eq(ogw_err_parse(expected[i].v16, &e), 0, "%s", expected[i].v16);
		cr_assert_neq(e, OGW_ERR_NONE);
	}
}

Test(ocpp, parse_misspellings)
{
	enum ogw_err e = OGW_ERR_NONE;

	cr_assert_eq(ogw_err_parse("FormationViolation", &e), 0);
	cr_assert_eq(e, OGW_ERR_FORMAT_VIOLATION);
	cr_assert_eq(ogw_err_parse("OccurenceConstraintViolation", &e), 0);
	cr_assert_eq(e, OGW_ERR_OCCURRENCE_CONSTRAINT);
	cr_assert_eq(ogw_err_parse("OccurrenceConstraintViolation", &e), 0);
	cr_assert_eq(e, OGW_ERR_OCCURRENCE_CONSTRAINT);
}

Test(ocpp, parse_unknown_leaves_ret)
{
	enum ogw_err e = OGW_ERR_SECURITY;

	cr_assert_eq(ogw_err_parse("NoSuchError", &e), -EINVAL);
	cr_assert_eq(ogw_err_parse("genericerror", &e), -EINVAL);
	cr_assert_eq(ogw_err_parse("", &e), -EINVAL);
	cr_assert_eq(ogw_err_parse(NULL, &e), -EINVAL);
	cr_assert_eq(e, OGW_ERR_SECURITY);
}
