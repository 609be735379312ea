/* SPDX-License-Identifier: MIT */
/*
 * OCPP 2.1 charger behind an OCPP 2.0.1 CSMS, and the 2.0.1 <-> 2.1 field
 * adapter both 2.x translators share (v21_adapt.h). Shared actions become
 * themselves, adapted field by field from tables; the actions only 2.1 has
 * are answered here. It keeps no state: 2.x ids, seqNo and the device
 * model mean the same in both versions.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocppgw/translator.h"
#include "common.h"
#include "v21_adapt.h"

/* ==== the adapter ======================================================== */

/*
 * A message is adapted by walking it along a table per object type that
 * lists only the fields where the two versions differ (the rest pass as
 * they are). The tables were derived from the project's generated schemas
 * (a field-by-field comparison of schemas/2.1 and schemas/2.0.1) and then
 * given the choices below; test_v21_v201.c validates every output.
 */
enum tr21_op {
	OP_END = 0,
	OP_SUB,      /* object, or array of objects, of the type in .sub */
	OP_DROP,     /* the target has no such field */
	OP_ENUM,     /* value (or each array item) through .en */
	OP_MAXLEN,   /* identifiers and URLs: longer ones are refused */
	OP_TRUNC,    /* human-readable text: cut to the target's limit */
	OP_RANGE,    /* integer bounds only the target has */
	OP_ROUND,    /* number where the target wants an integer */
	OP_REQUIRE,  /* optional in the source, required by the target */
	OP_DEFAULT,  /* the same, with a value to supply */
	OP_PHASES,   /* schedule periods: per-phase limits folded into limit */
};

#define F_REQ     1u  /* OP_SUB: the target requires the field */
#define F_LENIENT 2u  /* OP_SUB on an array: items that cannot be represented
                         are dropped instead of refusing the message (reports) */

struct tr21_enum;

struct tr21_field {
	const char *name;
	enum tr21_op op;
	unsigned flags;
	const struct tr21_field *sub;  /* OP_SUB */
	const struct tr21_enum *en;    /* OP_ENUM */
	const char *dflt;              /* OP_DEFAULT */
	long long lo, hi;              /* OP_RANGE; OP_MAXLEN/OP_TRUNC: hi */
};

struct tr21_map {
	const char *from;
	const char *to;  /* NULL: no counterpart (the enum's fallback applies) */
};

struct tr21_enum {
	const char *const *only;      /* when set, the target's values: any other is a miss */
	const struct tr21_map *map;   /* source-only values, NULL-terminated */
	const char *fallback;         /* a miss becomes this; NULL: refused */
};

struct tr21_msg {
	const char *action;
	const struct tr21_field *req, *res;
};

#define NOMIN LLONG_MIN
#define NOMAX LLONG_MAX
#define END { .op = OP_END }
#define SUB(n, t) { .name = n, .op = OP_SUB, .sub = t }
#define SUB_REQ(n, t) { .name = n, .op = OP_SUB, .sub = t, .flags = F_REQ }
#define SUB_LENIENT(n, t) { .name = n, .op = OP_SUB, .sub = t, .flags = F_LENIENT }
#define SUB_REQ_LENIENT(n, t) { .name = n, .op = OP_SUB, .sub = t, .flags = F_REQ | F_LENIENT }
#define DROP(n) { .name = n, .op = OP_DROP }
#define ENUM(n, e) { .name = n, .op = OP_ENUM, .en = &e }
#define MAXLEN(n, l) { .name = n, .op = OP_MAXLEN, .hi = l }
#define TRUNC(n, l) { .name = n, .op = OP_TRUNC, .hi = l }
#define RANGE(n, a, b) { .name = n, .op = OP_RANGE, .lo = a, .hi = b }
#define ROUND(n) { .name = n, .op = OP_ROUND }
#define REQUIRE(n) { .name = n, .op = OP_REQUIRE }
#define DEFAULT(n, v) { .name = n, .op = OP_DEFAULT, .dflt = v }
#define PHASES(n) { .name = n, .op = OP_PHASES }

/* ---- enums: 2.1 -> 2.0.1 ------------------------------------------------ */

/* 2.1 made these free strings; 2.0.1 still has the enum. */
static const char *const idtoken201[] = {
	"Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress",
	"NoAuthorization", NULL,
};
static const char *const limitsource201[] = { "EMS", "Other", "SO", "CSO", NULL };
static const char *const connector201[] = {
	"cCCS1", "cCCS2", "cG105", "cTesla", "cType1", "cType2", "s309-1P-16A", "s309-1P-32A",
	"s309-3P-16A", "s309-3P-32A", "sBS1361", "sCEE-7-7", "sType2", "sType3",
	"Other1PhMax16A", "Other1PhOver16A", "Other3Ph", "Pan", "wInductive", "wResonant",
	"Undetermined", "Unknown", NULL,
};

/* 2.1 token types (DirectPayment, EVCCID, VIN, ...) are checked centrally. */
static const struct tr21_enum e_IdTokenEnumType = { .only = idtoken201, .fallback = "Central" };
static const struct tr21_enum e_ChargingLimitSourceEnumType = {
	.only = limitsource201, .fallback = "Other" };
static const struct tr21_enum e_ConnectorEnumType = { .only = connector201 };

#define REFUSE(v) { v, NULL }
static const struct tr21_map m_certificate_use[] = { REFUSE("V2G20Certificate"), { NULL, NULL } };
static const struct tr21_map m_profile_kind[] = { REFUSE("Dynamic"), { NULL, NULL } };
static const struct tr21_map m_profile_purpose[] = {
	REFUSE("PriorityCharging"), REFUSE("LocalGeneration"), { NULL, NULL } };
static const struct tr21_map m_clear_message[] = { { "Rejected", "Unknown" }, { NULL, NULL } };
static const struct tr21_map m_display_status[] = {
	{ "LanguageNotSupported", "Rejected" }, { NULL, NULL } };
/* Bidirectional DC is still DC; AC modes do not say how many phases. */
static const struct tr21_map m_energy_transfer[] = {
	{ "DC_BPT", "DC" }, { "DC_ACDP", "DC" }, { "DC_ACDP_BPT", "DC" }, REFUSE("AC_BPT"),
	REFUSE("AC_BPT_DER"), REFUSE("AC_DER"), REFUSE("WPT"), { NULL, NULL } };
static const struct tr21_map m_certificate_id_use[] = {
	REFUSE("OEMRootCertificate"), { NULL, NULL } };
static const struct tr21_map m_location[] = { REFUSE("Upstream"), { NULL, NULL } };
static const struct tr21_map m_log[] = { REFUSE("DataCollectorLog"), { NULL, NULL } };
/* The three with a 2.0.1 synonym map; the other new measurands are dropped
 * with their sampled value. */
static const struct tr21_map m_measurand[] = {
	{ "Current.Import.Offered", "Current.Offered" },
	{ "Power.Import.Offered", "Power.Offered" },
	{ "Display.PresentSOC", "SoC" },
	REFUSE("Current.Export.Offered"), REFUSE("Current.Export.Minimum"),
	REFUSE("Current.Import.Minimum"), REFUSE("Display.MinimumSOC"),
	REFUSE("Display.TargetSOC"), REFUSE("Display.MaximumSOC"),
	REFUSE("Display.RemainingTimeToMinimumSOC"), REFUSE("Display.RemainingTimeToTargetSOC"),
	REFUSE("Display.RemainingTimeToMaximumSOC"), REFUSE("Display.ChargingComplete"),
	REFUSE("Display.BatteryEnergyCapacity"), REFUSE("Display.InletHot"),
	REFUSE("Energy.Active.Import.CableLoss"),
	REFUSE("Energy.Active.Import.LocalGeneration.Register"),
	REFUSE("Energy.Active.Setpoint.Interval"), REFUSE("EnergyRequest.Target"),
	REFUSE("EnergyRequest.Minimum"), REFUSE("EnergyRequest.Maximum"),
	REFUSE("EnergyRequest.Minimum.V2X"), REFUSE("EnergyRequest.Maximum.V2X"),
	REFUSE("EnergyRequest.Bulk"), REFUSE("Power.Active.Setpoint"),
	REFUSE("Power.Active.Residual"), REFUSE("Power.Export.Minimum"),
	REFUSE("Power.Export.Offered"), REFUSE("Power.Import.Minimum"),
	REFUSE("Voltage.Minimum"), REFUSE("Voltage.Maximum"), { NULL, NULL } };
static const struct tr21_map m_message_format[] = { REFUSE("QRCODE"), { NULL, NULL } };
/* A QR code's text still reads as text in a personal message. */
static const struct tr21_map m_personal_format[] = { { "QRCODE", "UTF8" }, { NULL, NULL } };
static const struct tr21_map m_message_state[] = {
	REFUSE("Suspended"), REFUSE("Discharging"), { NULL, NULL } };
static const struct tr21_map m_message_trigger[] = {
	REFUSE("SignV2G20Certificate"), REFUSE("CustomTrigger"), { NULL, NULL } };
static const struct tr21_map m_monitor[] = {
	REFUSE("TargetDelta"), REFUSE("TargetDeltaRelative"), { NULL, NULL } };
static const struct tr21_map m_ev_needs_status[] = {
	{ "NoChargingProfile", "Rejected" }, { NULL, NULL } };
static const struct tr21_map m_ocpp_interface[] = { REFUSE("Any"), { NULL, NULL } };
/* 2.0.1 names itself OCPP20 in a network profile (2.0.1 has no OCPP201). */
static const struct tr21_map m_ocpp_version[] = {
	{ "OCPP201", "OCPP20" }, REFUSE("OCPP21"), { NULL, NULL } };
static const struct tr21_map m_reason[] = {
	{ "ReqEnergyTransferRejected", "Other" }, { NULL, NULL } };
static const struct tr21_map m_reservation_update[] = {
	{ "NoTransaction", "Expired" }, { NULL, NULL } };
/* A 2.0.1 station cannot resume transactions over a reset: refused. */
static const struct tr21_map m_reset[] = { REFUSE("ImmediateAndResume"), { NULL, NULL } };
static const struct tr21_map m_trigger_reason[] = {
	/* Not Deauthorized: the CSMS did not withdraw the token. 2.0.1's
	 * EnergyLimitReached is "maximum energy of charging reached, for
	 * example in a pre-paid charging solution": the limit a credit buys,
	 * what a 2.0.1 station with a cost limit says. The 2.1 reason travels
	 * in customData (adapt_hook_down()). */
	{ "CostLimitReached", "EnergyLimitReached" },
	{ "LimitSet", "ChargingRateChanged" },
	{ "OperationModeChanged", "ChargingRateChanged" },
	{ "RunningCost", "MeterValuePeriodic" },
	{ "SoCLimitReached", "EnergyLimitReached" },
	{ "TariffChanged", "Trigger" },
	{ "TariffNotAccepted", "ChargingStateChanged" },
	{ "TxResumed", "ChargingStateChanged" },
	{ NULL, NULL } };

#define MAPPED_ENUM(e, m) static const struct tr21_enum e = { .map = m }
MAPPED_ENUM(e_CertificateSigningUseEnumType, m_certificate_use);
MAPPED_ENUM(e_ChargingProfileKindEnumType, m_profile_kind);
MAPPED_ENUM(e_ChargingProfilePurposeEnumType, m_profile_purpose);
MAPPED_ENUM(e_ClearMessageStatusEnumType, m_clear_message);
MAPPED_ENUM(e_DisplayMessageStatusEnumType, m_display_status);
MAPPED_ENUM(e_EnergyTransferModeEnumType, m_energy_transfer);
MAPPED_ENUM(e_GetCertificateIdUseEnumType, m_certificate_id_use);
MAPPED_ENUM(e_InstallCertificateUseEnumType, m_certificate_id_use);
MAPPED_ENUM(e_LocationEnumType, m_location);
MAPPED_ENUM(e_LogEnumType, m_log);
MAPPED_ENUM(e_MeasurandEnumType, m_measurand);
MAPPED_ENUM(e_MessageFormatEnumType, m_message_format);
MAPPED_ENUM(e_PersonalMessageFormat, m_personal_format);
MAPPED_ENUM(e_MessageStateEnumType, m_message_state);
MAPPED_ENUM(e_MessageTriggerEnumType, m_message_trigger);
MAPPED_ENUM(e_MonitorEnumType, m_monitor);
MAPPED_ENUM(e_NotifyEVChargingNeedsStatusEnumType, m_ev_needs_status);
MAPPED_ENUM(e_OCPPInterfaceEnumType, m_ocpp_interface);
MAPPED_ENUM(e_OCPPVersionEnumType, m_ocpp_version);
MAPPED_ENUM(e_ReasonEnumType, m_reason);
MAPPED_ENUM(e_ReservationUpdateStatusEnumType, m_reservation_update);
MAPPED_ENUM(e_ResetEnumType, m_reset);
MAPPED_ENUM(e_TriggerReasonEnumType, m_trigger_reason);

/* ---- types: 2.1 -> 2.0.1 ------------------------------------------------ */

static const struct tr21_field dn_ACChargingParametersType[] = {
	ROUND("energyAmount"),
	ROUND("evMinCurrent"),
	ROUND("evMaxCurrent"),
	ROUND("evMaxVoltage"),
	END,
};
static const struct tr21_field dn_APNType[] = {
	MAXLEN("apn", 512),
	MAXLEN("apnUserName", 20),
	MAXLEN("apnPassword", 20),
	END,
};
static const struct tr21_field dn_AdditionalInfoType[] = {
	MAXLEN("additionalIdToken", 36),
	END,
};
static const struct tr21_field dn_IdTokenType[] = {
	SUB("additionalInfo", dn_AdditionalInfoType),
	MAXLEN("idToken", 36),
	ENUM("type", e_IdTokenEnumType),
	END,
};
static const struct tr21_field dn_MessageContentType[] = {
	ENUM("format", e_MessageFormatEnumType),
	TRUNC("content", 512),
	END,
};
static const struct tr21_field dn_PersonalMessageType[] = {
	ENUM("format", e_PersonalMessageFormat),
	TRUNC("content", 512),
	END,
};
static const struct tr21_field dn_IdTokenInfoType[] = {
	SUB("groupIdToken", dn_IdTokenType),
	SUB("personalMessage", dn_PersonalMessageType),
	END,
};
static const struct tr21_field dn_AuthorizationData[] = {
	SUB_REQ("idToken", dn_IdTokenType),
	SUB("idTokenInfo", dn_IdTokenInfoType),
	END,
};
static const struct tr21_field dn_OCSPRequestDataType[] = {
	MAXLEN("responderURL", 512),
	END,
};
static const struct tr21_field dn_AuthorizeRequest[] = {
	SUB_REQ("idToken", dn_IdTokenType),
	MAXLEN("certificate", 5500),
	SUB("iso15118CertificateHashData", dn_OCSPRequestDataType),
	END,
};
static const struct tr21_field dn_AuthorizeResponse[] = {
	SUB_REQ("idTokenInfo", dn_IdTokenInfoType),
	DROP("allowedEnergyTransfer"),
	DROP("tariff"),
	END,
};
static const struct tr21_field dn_StatusInfoType[] = {
	TRUNC("additionalInfo", 512),
	END,
};
static const struct tr21_field dn_BootNotificationResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_CancelReservationResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_CertificateHashDataChainType[] = {
	ENUM("certificateType", e_GetCertificateIdUseEnumType),
	END,
};
static const struct tr21_field dn_CertificateSignedRequest[] = {
	ENUM("certificateType", e_CertificateSigningUseEnumType),
	DROP("requestId"),
	END,
};
static const struct tr21_field dn_CertificateSignedResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_ChangeAvailabilityResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_ChargingLimitType[] = {
	ENUM("chargingLimitSource", e_ChargingLimitSourceEnumType),
	DROP("isLocalGeneration"),
	END,
};
static const struct tr21_field dn_DCChargingParametersType[] = {
	ROUND("evMaxCurrent"),
	ROUND("evMaxVoltage"),
	ROUND("evMaxPower"),
	ROUND("evEnergyCapacity"),
	ROUND("energyAmount"),
	END,
};
static const struct tr21_field dn_ChargingNeedsType[] = {
	SUB("acChargingParameters", dn_ACChargingParametersType),
	DROP("derChargingParameters"),
	DROP("evEnergyOffer"),
	ENUM("requestedEnergyTransfer", e_EnergyTransferModeEnumType),
	SUB("dcChargingParameters", dn_DCChargingParametersType),
	DROP("v2xChargingParameters"),
	DROP("availableEnergyTransfer"),
	DROP("controlMode"),
	DROP("mobilityNeedsMode"),
	END,
};
static const struct tr21_field dn_ChargingProfileCriterionType[] = {
	ENUM("chargingProfilePurpose", e_ChargingProfilePurposeEnumType),
	ENUM("chargingLimitSource", e_ChargingLimitSourceEnumType),
	END,
};
static const struct tr21_field dn_ChargingSchedulePeriodType[] = {
	DROP("limit_L2"),
	DROP("limit_L3"),
	DROP("dischargeLimit"),
	DROP("dischargeLimit_L2"),
	DROP("dischargeLimit_L3"),
	DROP("setpoint"),
	DROP("setpoint_L2"),
	DROP("setpoint_L3"),
	DROP("setpointReactive"),
	DROP("setpointReactive_L2"),
	DROP("setpointReactive_L3"),
	DROP("preconditioningRequest"),
	DROP("evseSleep"),
	DROP("v2xBaseline"),
	DROP("operationMode"),
	DROP("v2xFreqWattCurve"),
	DROP("v2xSignalWattCurve"),
	REQUIRE("limit"),
	END,
};
static const struct tr21_field dn_ChargingScheduleType[] = {
	DROP("limitAtSoC"),
	DROP("powerTolerance"),
	DROP("signatureId"),
	DROP("digestValue"),
	DROP("useLocalTime"),
	PHASES("chargingSchedulePeriod"),
	SUB_REQ("chargingSchedulePeriod", dn_ChargingSchedulePeriodType),
	DROP("randomizedDelay"),
	DROP("absolutePriceSchedule"),
	DROP("priceLevelSchedule"),
	END,
};
static const struct tr21_field dn_ChargingProfileType[] = {
	ENUM("chargingProfilePurpose", e_ChargingProfilePurposeEnumType),
	ENUM("chargingProfileKind", e_ChargingProfileKindEnumType),
	DROP("maxOfflineDuration"),
	SUB_REQ("chargingSchedule", dn_ChargingScheduleType),
	DROP("invalidAfterOfflineDuration"),
	DROP("dynUpdateInterval"),
	DROP("dynUpdateTime"),
	DROP("priceScheduleSignature"),
	END,
};
static const struct tr21_field dn_ClearCacheResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_ClearChargingProfileType[] = {
	ENUM("chargingProfilePurpose", e_ChargingProfilePurposeEnumType),
	END,
};
static const struct tr21_field dn_ClearChargingProfileRequest[] = {
	SUB("chargingProfileCriteria", dn_ClearChargingProfileType),
	END,
};
static const struct tr21_field dn_ClearChargingProfileResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_ClearDisplayMessageResponse[] = {
	ENUM("status", e_ClearMessageStatusEnumType),
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_ClearMonitoringResultType[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_ClearVariableMonitoringResponse[] = {
	SUB_REQ("clearMonitoringResult", dn_ClearMonitoringResultType),
	END,
};
static const struct tr21_field dn_ClearedChargingLimitRequest[] = {
	ENUM("chargingLimitSource", e_ChargingLimitSourceEnumType),
	END,
};
static const struct tr21_field dn_CompositeScheduleType[] = {
	PHASES("chargingSchedulePeriod"),
	SUB_REQ("chargingSchedulePeriod", dn_ChargingSchedulePeriodType),
	END,
};
static const struct tr21_field dn_CustomerInformationRequest[] = {
	SUB("idToken", dn_IdTokenType),
	END,
};
static const struct tr21_field dn_CustomerInformationResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_DataTransferResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_DeleteCertificateResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_EventDataType[] = {
	DROP("severity"),
	END,
};
static const struct tr21_field dn_FirmwareStatusNotificationRequest[] = {
	DROP("statusInfo"),
	END,
};
static const struct tr21_field dn_FirmwareType[] = {
	MAXLEN("location", 512),
	END,
};
static const struct tr21_field dn_Get15118EVCertificateRequest[] = {
	MAXLEN("exiRequest", 5600),
	DROP("maximumContractCertificateChains"),
	DROP("prioritizedEMAIDs"),
	END,
};
static const struct tr21_field dn_Get15118EVCertificateResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	MAXLEN("exiResponse", 5600),
	DROP("remainingContracts"),
	END,
};
static const struct tr21_field dn_GetBaseReportResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_GetCertificateStatusRequest[] = {
	SUB_REQ("ocspRequestData", dn_OCSPRequestDataType),
	END,
};
static const struct tr21_field dn_GetCertificateStatusResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	MAXLEN("ocspResult", 5500),
	END,
};
static const struct tr21_field dn_GetChargingProfilesRequest[] = {
	SUB_REQ("chargingProfile", dn_ChargingProfileCriterionType),
	END,
};
static const struct tr21_field dn_GetChargingProfilesResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_GetCompositeScheduleResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	SUB("schedule", dn_CompositeScheduleType),
	END,
};
static const struct tr21_field dn_GetDisplayMessagesRequest[] = {
	ENUM("state", e_MessageStateEnumType),
	END,
};
static const struct tr21_field dn_GetDisplayMessagesResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_GetInstalledCertificateIdsRequest[] = {
	ENUM("certificateType", e_GetCertificateIdUseEnumType),
	END,
};
static const struct tr21_field dn_GetInstalledCertificateIdsResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	SUB_LENIENT("certificateHashDataChain", dn_CertificateHashDataChainType),
	END,
};
static const struct tr21_field dn_LogParametersType[] = {
	MAXLEN("remoteLocation", 512),
	END,
};
static const struct tr21_field dn_GetLogRequest[] = {
	SUB_REQ("log", dn_LogParametersType),
	ENUM("logType", e_LogEnumType),
	END,
};
static const struct tr21_field dn_GetLogResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_GetMonitoringReportResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_GetReportResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_GetVariableResultType[] = {
	SUB("attributeStatusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_GetVariablesResponse[] = {
	SUB_REQ("getVariableResult", dn_GetVariableResultType),
	END,
};
static const struct tr21_field dn_InstallCertificateRequest[] = {
	ENUM("certificateType", e_InstallCertificateUseEnumType),
	MAXLEN("certificate", 5500),
	END,
};
static const struct tr21_field dn_InstallCertificateResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_LogStatusNotificationRequest[] = {
	DROP("statusInfo"),
	END,
};
static const struct tr21_field dn_MessageInfoType[] = {
	ENUM("state", e_MessageStateEnumType),
	SUB_REQ("message", dn_MessageContentType),
	DROP("messageExtra"),
	END,
};
static const struct tr21_field dn_SignedMeterValueType[] = {
	MAXLEN("signedMeterData", 2500),
	DEFAULT("publicKey", ""),
	DEFAULT("signingMethod", ""),
	END,
};
static const struct tr21_field dn_SampledValueType[] = {
	ENUM("measurand", e_MeasurandEnumType),
	ENUM("location", e_LocationEnumType),
	SUB("signedMeterValue", dn_SignedMeterValueType),
	END,
};
static const struct tr21_field dn_MeterValueType[] = {
	SUB_REQ_LENIENT("sampledValue", dn_SampledValueType),
	END,
};
static const struct tr21_field dn_MeterValuesRequest[] = {
	SUB_REQ_LENIENT("meterValue", dn_MeterValueType),
	END,
};
static const struct tr21_field dn_VariableMonitoringType[] = {
	ENUM("type", e_MonitorEnumType),
	DROP("eventNotificationType"),
	END,
};
static const struct tr21_field dn_MonitoringDataType[] = {
	SUB_REQ_LENIENT("variableMonitoring", dn_VariableMonitoringType),
	END,
};
static const struct tr21_field dn_VPNType[] = {
	MAXLEN("server", 512),
	MAXLEN("user", 20),
	MAXLEN("group", 20),
	MAXLEN("password", 20),
	END,
};
static const struct tr21_field dn_NetworkConnectionProfileType[] = {
	SUB("apn", dn_APNType),
	ENUM("ocppVersion", e_OCPPVersionEnumType),
	ENUM("ocppInterface", e_OCPPInterfaceEnumType),
	MAXLEN("ocppCsmsUrl", 512),
	DROP("identity"),
	DROP("basicAuthPassword"),
	SUB("vpn", dn_VPNType),
	DEFAULT("ocppVersion", "OCPP20"),
	END,
};
static const struct tr21_field dn_NotifyChargingLimitRequest[] = {
	SUB_LENIENT("chargingSchedule", dn_ChargingScheduleType),
	SUB_REQ("chargingLimit", dn_ChargingLimitType),
	END,
};
static const struct tr21_field dn_NotifyDisplayMessagesRequest[] = {
	SUB_LENIENT("messageInfo", dn_MessageInfoType),
	END,
};
static const struct tr21_field dn_NotifyEVChargingNeedsRequest[] = {
	SUB_REQ("chargingNeeds", dn_ChargingNeedsType),
	DROP("timestamp"),
	END,
};
static const struct tr21_field dn_NotifyEVChargingNeedsResponse[] = {
	ENUM("status", e_NotifyEVChargingNeedsStatusEnumType),
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_NotifyEVChargingScheduleRequest[] = {
	SUB_REQ("chargingSchedule", dn_ChargingScheduleType),
	DROP("selectedChargingScheduleId"),
	DROP("powerToleranceAcceptance"),
	END,
};
static const struct tr21_field dn_NotifyEVChargingScheduleResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_NotifyEventRequest[] = {
	SUB_REQ("eventData", dn_EventDataType),
	END,
};
static const struct tr21_field dn_NotifyMonitoringReportRequest[] = {
	SUB_LENIENT("monitor", dn_MonitoringDataType),
	END,
};
static const struct tr21_field dn_VariableCharacteristicsType[] = {
	DROP("maxElements"),
	END,
};
static const struct tr21_field dn_ReportDataType[] = {
	SUB("variableCharacteristics", dn_VariableCharacteristicsType),
	END,
};
static const struct tr21_field dn_NotifyReportRequest[] = {
	SUB("reportData", dn_ReportDataType),
	END,
};
static const struct tr21_field dn_PublishFirmwareRequest[] = {
	MAXLEN("location", 512),
	END,
};
static const struct tr21_field dn_PublishFirmwareResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_PublishFirmwareStatusNotificationRequest[] = {
	MAXLEN("location", 512),
	DROP("statusInfo"),
	END,
};
static const struct tr21_field dn_ReportChargingProfilesRequest[] = {
	ENUM("chargingLimitSource", e_ChargingLimitSourceEnumType),
	SUB_REQ_LENIENT("chargingProfile", dn_ChargingProfileType),
	END,
};
static const struct tr21_field dn_RequestStartTransactionRequest[] = {
	SUB("groupIdToken", dn_IdTokenType),
	SUB_REQ("idToken", dn_IdTokenType),
	SUB("chargingProfile", dn_ChargingProfileType),
	END,
};
static const struct tr21_field dn_RequestStartTransactionResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_RequestStopTransactionResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_ReservationStatusUpdateRequest[] = {
	ENUM("reservationUpdateStatus", e_ReservationUpdateStatusEnumType),
	END,
};
static const struct tr21_field dn_ReserveNowRequest[] = {
	ENUM("connectorType", e_ConnectorEnumType),
	SUB_REQ("idToken", dn_IdTokenType),
	SUB("groupIdToken", dn_IdTokenType),
	END,
};
static const struct tr21_field dn_ReserveNowResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_ResetRequest[] = {
	ENUM("type", e_ResetEnumType),
	END,
};
static const struct tr21_field dn_ResetResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_SendLocalListRequest[] = {
	SUB("localAuthorizationList", dn_AuthorizationData),
	END,
};
static const struct tr21_field dn_SendLocalListResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_SetChargingProfileRequest[] = {
	SUB_REQ("chargingProfile", dn_ChargingProfileType),
	END,
};
static const struct tr21_field dn_SetChargingProfileResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_SetDisplayMessageRequest[] = {
	SUB_REQ("message", dn_MessageInfoType),
	END,
};
static const struct tr21_field dn_SetDisplayMessageResponse[] = {
	ENUM("status", e_DisplayMessageStatusEnumType),
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_SetMonitoringBaseResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_SetMonitoringDataType[] = {
	DROP("periodicEventStream"),
	ENUM("type", e_MonitorEnumType),
	END,
};
static const struct tr21_field dn_SetMonitoringLevelResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_SetMonitoringResultType[] = {
	SUB("statusInfo", dn_StatusInfoType),
	ENUM("type", e_MonitorEnumType),
	END,
};
static const struct tr21_field dn_SetNetworkProfileRequest[] = {
	SUB_REQ("connectionData", dn_NetworkConnectionProfileType),
	END,
};
static const struct tr21_field dn_SetNetworkProfileResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_SetVariableDataType[] = {
	MAXLEN("attributeValue", 1000),
	END,
};
static const struct tr21_field dn_SetVariableMonitoringRequest[] = {
	SUB_REQ("setMonitoringData", dn_SetMonitoringDataType),
	END,
};
static const struct tr21_field dn_SetVariableMonitoringResponse[] = {
	SUB_REQ("setMonitoringResult", dn_SetMonitoringResultType),
	END,
};
static const struct tr21_field dn_SetVariableResultType[] = {
	SUB("attributeStatusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_SetVariablesRequest[] = {
	SUB_REQ("setVariableData", dn_SetVariableDataType),
	END,
};
static const struct tr21_field dn_SetVariablesResponse[] = {
	SUB_REQ("setVariableResult", dn_SetVariableResultType),
	END,
};
static const struct tr21_field dn_SignCertificateRequest[] = {
	ENUM("certificateType", e_CertificateSigningUseEnumType),
	DROP("hashRootCertificate"),
	DROP("requestId"),
	END,
};
static const struct tr21_field dn_SignCertificateResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_TransactionType[] = {
	ENUM("stoppedReason", e_ReasonEnumType),
	DROP("operationMode"),
	DROP("tariffId"),
	DROP("transactionLimit"),
	END,
};
static const struct tr21_field dn_TransactionEventRequest[] = {
	DROP("costDetails"),
	SUB_LENIENT("meterValue", dn_MeterValueType),
	ENUM("triggerReason", e_TriggerReasonEnumType),
	DROP("preconditioningStatus"),
	DROP("evseSleep"),
	SUB_REQ("transactionInfo", dn_TransactionType),
	SUB("idToken", dn_IdTokenType),
	END,
};
static const struct tr21_field dn_TransactionEventResponse[] = {
	SUB("idTokenInfo", dn_IdTokenInfoType),
	DROP("transactionLimit"),
	SUB("updatedPersonalMessage", dn_PersonalMessageType),
	DROP("updatedPersonalMessageExtra"),
	END,
};
static const struct tr21_field dn_TriggerMessageRequest[] = {
	ENUM("requestedMessage", e_MessageTriggerEnumType),
	DROP("customTrigger"),
	END,
};
static const struct tr21_field dn_TriggerMessageResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_UnlockConnectorResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_field dn_UpdateFirmwareRequest[] = {
	SUB_REQ("firmware", dn_FirmwareType),
	END,
};
static const struct tr21_field dn_UpdateFirmwareResponse[] = {
	SUB("statusInfo", dn_StatusInfoType),
	END,
};
static const struct tr21_msg dn_msgs[] = {  /* sorted by action */
	{ "Authorize", dn_AuthorizeRequest, dn_AuthorizeResponse },
	{ "BootNotification", NULL, dn_BootNotificationResponse },
	{ "CancelReservation", NULL, dn_CancelReservationResponse },
	{ "CertificateSigned", dn_CertificateSignedRequest, dn_CertificateSignedResponse },
	{ "ChangeAvailability", NULL, dn_ChangeAvailabilityResponse },
	{ "ClearCache", NULL, dn_ClearCacheResponse },
	{ "ClearChargingProfile", dn_ClearChargingProfileRequest, dn_ClearChargingProfileResponse },
	{ "ClearDisplayMessage", NULL, dn_ClearDisplayMessageResponse },
	{ "ClearVariableMonitoring", NULL, dn_ClearVariableMonitoringResponse },
	{ "ClearedChargingLimit", dn_ClearedChargingLimitRequest, NULL },
	{ "CustomerInformation", dn_CustomerInformationRequest, dn_CustomerInformationResponse },
	{ "DataTransfer", NULL, dn_DataTransferResponse },
	{ "DeleteCertificate", NULL, dn_DeleteCertificateResponse },
	{ "FirmwareStatusNotification", dn_FirmwareStatusNotificationRequest, NULL },
	{ "Get15118EVCertificate", dn_Get15118EVCertificateRequest, dn_Get15118EVCertificateResponse },
	{ "GetBaseReport", NULL, dn_GetBaseReportResponse },
	{ "GetCertificateStatus", dn_GetCertificateStatusRequest, dn_GetCertificateStatusResponse },
	{ "GetChargingProfiles", dn_GetChargingProfilesRequest, dn_GetChargingProfilesResponse },
	{ "GetCompositeSchedule", NULL, dn_GetCompositeScheduleResponse },
	{ "GetDisplayMessages", dn_GetDisplayMessagesRequest, dn_GetDisplayMessagesResponse },
	{ "GetInstalledCertificateIds", dn_GetInstalledCertificateIdsRequest, dn_GetInstalledCertificateIdsResponse },
	{ "GetLog", dn_GetLogRequest, dn_GetLogResponse },
	{ "GetMonitoringReport", NULL, dn_GetMonitoringReportResponse },
	{ "GetReport", NULL, dn_GetReportResponse },
	{ "GetVariables", NULL, dn_GetVariablesResponse },
	{ "InstallCertificate", dn_InstallCertificateRequest, dn_InstallCertificateResponse },
	{ "LogStatusNotification", dn_LogStatusNotificationRequest, NULL },
	{ "MeterValues", dn_MeterValuesRequest, NULL },
	{ "NotifyChargingLimit", dn_NotifyChargingLimitRequest, NULL },
	{ "NotifyDisplayMessages", dn_NotifyDisplayMessagesRequest, NULL },
	{ "NotifyEVChargingNeeds", dn_NotifyEVChargingNeedsRequest, dn_NotifyEVChargingNeedsResponse },
	{ "NotifyEVChargingSchedule", dn_NotifyEVChargingScheduleRequest, dn_NotifyEVChargingScheduleResponse },
	{ "NotifyEvent", dn_NotifyEventRequest, NULL },
	{ "NotifyMonitoringReport", dn_NotifyMonitoringReportRequest, NULL },
	{ "NotifyReport", dn_NotifyReportRequest, NULL },
	{ "PublishFirmware", dn_PublishFirmwareRequest, dn_PublishFirmwareResponse },
	{ "PublishFirmwareStatusNotification", dn_PublishFirmwareStatusNotificationRequest, NULL },
	{ "ReportChargingProfiles", dn_ReportChargingProfilesRequest, NULL },
	{ "RequestStartTransaction", dn_RequestStartTransactionRequest, dn_RequestStartTransactionResponse },
	{ "RequestStopTransaction", NULL, dn_RequestStopTransactionResponse },
	{ "ReservationStatusUpdate", dn_ReservationStatusUpdateRequest, NULL },
	{ "ReserveNow", dn_ReserveNowRequest, dn_ReserveNowResponse },
	{ "Reset", dn_ResetRequest, dn_ResetResponse },
	{ "SendLocalList", dn_SendLocalListRequest, dn_SendLocalListResponse },
	{ "SetChargingProfile", dn_SetChargingProfileRequest, dn_SetChargingProfileResponse },
	{ "SetDisplayMessage", dn_SetDisplayMessageRequest, dn_SetDisplayMessageResponse },
	{ "SetMonitoringBase", NULL, dn_SetMonitoringBaseResponse },
	{ "SetMonitoringLevel", NULL, dn_SetMonitoringLevelResponse },
	{ "SetNetworkProfile", dn_SetNetworkProfileRequest, dn_SetNetworkProfileResponse },
	{ "SetVariableMonitoring", dn_SetVariableMonitoringRequest, dn_SetVariableMonitoringResponse },
	{ "SetVariables", dn_SetVariablesRequest, dn_SetVariablesResponse },
	{ "SignCertificate", dn_SignCertificateRequest, dn_SignCertificateResponse },
	{ "TransactionEvent", dn_TransactionEventRequest, dn_TransactionEventResponse },
	{ "TriggerMessage", dn_TriggerMessageRequest, dn_TriggerMessageResponse },
	{ "UnlockConnector", NULL, dn_UnlockConnectorResponse },
	{ "UpdateFirmware", dn_UpdateFirmwareRequest, dn_UpdateFirmwareResponse },
};

/* ---- types: 2.0.1 -> 2.1: limits 2.1 adds, and one new required field -- */

static const struct tr21_field up_IdTokenInfoType[] = {
	RANGE("evseId", 0, NOMAX),
	END,
};
static const struct tr21_field up_AuthorizationData[] = {
	SUB("idTokenInfo", up_IdTokenInfoType),
	END,
};
static const struct tr21_field up_AuthorizeResponse[] = {
	SUB_REQ("idTokenInfo", up_IdTokenInfoType),
	END,
};
static const struct tr21_field up_CancelReservationRequest[] = {
	RANGE("reservationId", 0, NOMAX),
	END,
};
static const struct tr21_field up_EVSEType[] = {
	RANGE("id", 0, NOMAX),
	RANGE("connectorId", 0, NOMAX),
	END,
};
static const struct tr21_field up_ChangeAvailabilityRequest[] = {
	SUB("evse", up_EVSEType),
	END,
};
static const struct tr21_field up_ChargingProfileCriterionType[] = {
	RANGE("stackLevel", 0, NOMAX),
	END,
};
static const struct tr21_field up_ChargingSchedulePeriodType[] = {
	RANGE("numberPhases", 0, 3),
	RANGE("phaseToUse", 0, 3),
	END,
};
static const struct tr21_field up_SalesTariffType[] = {
	RANGE("id", 0, NOMAX),
	RANGE("numEPriceLevels", 0, NOMAX),
	END,
};
static const struct tr21_field up_ChargingScheduleType[] = {
	SUB_REQ("chargingSchedulePeriod", up_ChargingSchedulePeriodType),
	SUB("salesTariff", up_SalesTariffType),
	END,
};
static const struct tr21_field up_ChargingProfileType[] = {
	RANGE("stackLevel", 0, NOMAX),
	SUB_REQ("chargingSchedule", up_ChargingScheduleType),
	END,
};
static const struct tr21_field up_ClearChargingProfileType[] = {
	RANGE("evseId", 0, NOMAX),
	RANGE("stackLevel", 0, NOMAX),
	END,
};
static const struct tr21_field up_ClearChargingProfileRequest[] = {
	SUB("chargingProfileCriteria", up_ClearChargingProfileType),
	END,
};
static const struct tr21_field up_ClearDisplayMessageRequest[] = {
	RANGE("id", 0, NOMAX),
	END,
};
static const struct tr21_field up_ClearMonitoringResultType[] = {
	RANGE("id", 0, NOMAX),
	END,
};
static const struct tr21_field up_ClearVariableMonitoringRequest[] = {
	RANGE("id", 0, NOMAX),
	END,
};
static const struct tr21_field up_ClearVariableMonitoringResponse[] = {
	SUB_REQ("clearMonitoringResult", up_ClearMonitoringResultType),
	END,
};
static const struct tr21_field up_ClearedChargingLimitRequest[] = {
	RANGE("evseId", 0, NOMAX),
	END,
};
static const struct tr21_field up_ComponentType[] = {
	SUB("evse", up_EVSEType),
	END,
};
static const struct tr21_field up_ComponentVariableType[] = {
	SUB_REQ("component", up_ComponentType),
	END,
};
static const struct tr21_field up_CompositeScheduleType[] = {
	SUB_REQ("chargingSchedulePeriod", up_ChargingSchedulePeriodType),
	RANGE("evseId", 0, NOMAX),
	END,
};
static const struct tr21_field up_CustomerInformationRequest[] = {
	RANGE("requestId", 0, NOMAX),
	END,
};
static const struct tr21_field up_EventDataType[] = {
	RANGE("eventId", 0, NOMAX),
	RANGE("cause", 0, NOMAX),
	SUB_REQ("component", up_ComponentType),
	RANGE("variableMonitoringId", 0, NOMAX),
	END,
};
static const struct tr21_field up_GetChargingProfilesRequest[] = {
	RANGE("evseId", 0, NOMAX),
	SUB_REQ("chargingProfile", up_ChargingProfileCriterionType),
	END,
};
static const struct tr21_field up_GetCompositeScheduleRequest[] = {
	RANGE("evseId", 0, NOMAX),
	END,
};
static const struct tr21_field up_GetCompositeScheduleResponse[] = {
	SUB("schedule", up_CompositeScheduleType),
	END,
};
static const struct tr21_field up_GetDisplayMessagesRequest[] = {
	RANGE("id", 0, NOMAX),
	END,
};
static const struct tr21_field up_GetLogRequest[] = {
	RANGE("retries", 0, NOMAX),
	END,
};
static const struct tr21_field up_GetMonitoringReportRequest[] = {
	SUB("componentVariable", up_ComponentVariableType),
	END,
};
static const struct tr21_field up_GetReportRequest[] = {
	SUB("componentVariable", up_ComponentVariableType),
	END,
};
static const struct tr21_field up_GetVariableDataType[] = {
	SUB_REQ("component", up_ComponentType),
	END,
};
static const struct tr21_field up_GetVariableResultType[] = {
	SUB_REQ("component", up_ComponentType),
	END,
};
static const struct tr21_field up_GetVariablesRequest[] = {
	SUB_REQ("getVariableData", up_GetVariableDataType),
	END,
};
static const struct tr21_field up_GetVariablesResponse[] = {
	SUB_REQ("getVariableResult", up_GetVariableResultType),
	END,
};
static const struct tr21_field up_MessageInfoType[] = {
	SUB("display", up_ComponentType),
	RANGE("id", 0, NOMAX),
	END,
};
static const struct tr21_field up_MeterValuesRequest[] = {
	RANGE("evseId", 0, NOMAX),
	END,
};
static const struct tr21_field up_VariableMonitoringType[] = {
	RANGE("id", 0, NOMAX),
	RANGE("severity", 0, NOMAX),
	DEFAULT("eventNotificationType", "CustomMonitor"),
	END,
};
static const struct tr21_field up_MonitoringDataType[] = {
	SUB_REQ("component", up_ComponentType),
	SUB_REQ_LENIENT("variableMonitoring", up_VariableMonitoringType),
	END,
};
static const struct tr21_field up_NetworkConnectionProfileType[] = {
	RANGE("securityProfile", 0, NOMAX),
	END,
};
static const struct tr21_field up_NotifyChargingLimitRequest[] = {
	SUB_LENIENT("chargingSchedule", up_ChargingScheduleType),
	RANGE("evseId", 0, NOMAX),
	END,
};
static const struct tr21_field up_NotifyCustomerInformationRequest[] = {
	RANGE("seqNo", 0, NOMAX),
	RANGE("requestId", 0, NOMAX),
	END,
};
static const struct tr21_field up_NotifyDisplayMessagesRequest[] = {
	SUB_LENIENT("messageInfo", up_MessageInfoType),
	END,
};
static const struct tr21_field up_NotifyEVChargingNeedsRequest[] = {
	RANGE("maxScheduleTuples", 0, NOMAX),
	RANGE("evseId", 1, NOMAX),
	END,
};
static const struct tr21_field up_NotifyEVChargingScheduleRequest[] = {
	SUB_REQ("chargingSchedule", up_ChargingScheduleType),
	RANGE("evseId", 1, NOMAX),
	END,
};
static const struct tr21_field up_NotifyEventRequest[] = {
	RANGE("seqNo", 0, NOMAX),
	SUB_REQ("eventData", up_EventDataType),
	END,
};
static const struct tr21_field up_NotifyMonitoringReportRequest[] = {
	SUB_LENIENT("monitor", up_MonitoringDataType),
	RANGE("seqNo", 0, NOMAX),
	END,
};
static const struct tr21_field up_ReportDataType[] = {
	SUB_REQ("component", up_ComponentType),
	END,
};
static const struct tr21_field up_NotifyReportRequest[] = {
	SUB("reportData", up_ReportDataType),
	RANGE("seqNo", 0, NOMAX),
	END,
};
static const struct tr21_field up_PublishFirmwareRequest[] = {
	RANGE("retries", 0, NOMAX),
	RANGE("requestId", 0, NOMAX),
	RANGE("retryInterval", 0, NOMAX),
	END,
};
static const struct tr21_field up_PublishFirmwareStatusNotificationRequest[] = {
	RANGE("requestId", 0, NOMAX),
	END,
};
static const struct tr21_field up_ReportChargingProfilesRequest[] = {
	SUB_REQ_LENIENT("chargingProfile", up_ChargingProfileType),
	RANGE("evseId", 0, NOMAX),
	END,
};
static const struct tr21_field up_RequestStartTransactionRequest[] = {
	RANGE("evseId", 1, NOMAX),
	SUB("chargingProfile", up_ChargingProfileType),
	END,
};
static const struct tr21_field up_ReservationStatusUpdateRequest[] = {
	RANGE("reservationId", 0, NOMAX),
	END,
};
static const struct tr21_field up_ReserveNowRequest[] = {
	RANGE("id", 0, NOMAX),
	RANGE("evseId", 0, NOMAX),
	END,
};
static const struct tr21_field up_ResetRequest[] = {
	RANGE("evseId", 0, NOMAX),
	END,
};
static const struct tr21_field up_SendLocalListRequest[] = {
	SUB("localAuthorizationList", up_AuthorizationData),
	END,
};
static const struct tr21_field up_SetChargingProfileRequest[] = {
	RANGE("evseId", 0, NOMAX),
	SUB_REQ("chargingProfile", up_ChargingProfileType),
	END,
};
static const struct tr21_field up_SetDisplayMessageRequest[] = {
	SUB_REQ("message", up_MessageInfoType),
	END,
};
static const struct tr21_field up_SetMonitoringDataType[] = {
	RANGE("id", 0, NOMAX),
	RANGE("severity", 0, NOMAX),
	SUB_REQ("component", up_ComponentType),
	END,
};
static const struct tr21_field up_SetMonitoringLevelRequest[] = {
	RANGE("severity", 0, NOMAX),
	END,
};
static const struct tr21_field up_SetMonitoringResultType[] = {
	RANGE("id", 0, NOMAX),
	SUB_REQ("component", up_ComponentType),
	RANGE("severity", 0, NOMAX),
	END,
};
static const struct tr21_field up_SetNetworkProfileRequest[] = {
	SUB_REQ("connectionData", up_NetworkConnectionProfileType),
	END,
};
static const struct tr21_field up_SetVariableDataType[] = {
	SUB_REQ("component", up_ComponentType),
	END,
};
static const struct tr21_field up_SetVariableMonitoringRequest[] = {
	SUB_REQ("setMonitoringData", up_SetMonitoringDataType),
	END,
};
static const struct tr21_field up_SetVariableMonitoringResponse[] = {
	SUB_REQ("setMonitoringResult", up_SetMonitoringResultType),
	END,
};
static const struct tr21_field up_SetVariableResultType[] = {
	SUB_REQ("component", up_ComponentType),
	END,
};
static const struct tr21_field up_SetVariablesRequest[] = {
	SUB_REQ("setVariableData", up_SetVariableDataType),
	END,
};
static const struct tr21_field up_SetVariablesResponse[] = {
	SUB_REQ("setVariableResult", up_SetVariableResultType),
	END,
};
static const struct tr21_field up_StatusNotificationRequest[] = {
	RANGE("evseId", 0, NOMAX),
	RANGE("connectorId", 0, NOMAX),
	END,
};
static const struct tr21_field up_TransactionEventRequest[] = {
	RANGE("seqNo", 0, NOMAX),
	RANGE("numberOfPhasesUsed", 0, 3),
	RANGE("reservationId", 0, NOMAX),
	SUB("evse", up_EVSEType),
	END,
};
static const struct tr21_field up_TransactionEventResponse[] = {
	SUB("idTokenInfo", up_IdTokenInfoType),
	END,
};
static const struct tr21_field up_TriggerMessageRequest[] = {
	SUB("evse", up_EVSEType),
	END,
};
static const struct tr21_field up_UnlockConnectorRequest[] = {
	RANGE("evseId", 0, NOMAX),
	RANGE("connectorId", 0, NOMAX),
	END,
};
static const struct tr21_field up_UpdateFirmwareRequest[] = {
	RANGE("retries", 0, NOMAX),
	END,
};
static const struct tr21_msg up_msgs[] = {  /* sorted by action */
	{ "Authorize", NULL, up_AuthorizeResponse },
	{ "CancelReservation", up_CancelReservationRequest, NULL },
	{ "ChangeAvailability", up_ChangeAvailabilityRequest, NULL },
	{ "ClearChargingProfile", up_ClearChargingProfileRequest, NULL },
	{ "ClearDisplayMessage", up_ClearDisplayMessageRequest, NULL },
	{ "ClearVariableMonitoring", up_ClearVariableMonitoringRequest, up_ClearVariableMonitoringResponse },
	{ "ClearedChargingLimit", up_ClearedChargingLimitRequest, NULL },
	{ "CustomerInformation", up_CustomerInformationRequest, NULL },
	{ "GetChargingProfiles", up_GetChargingProfilesRequest, NULL },
	{ "GetCompositeSchedule", up_GetCompositeScheduleRequest, up_GetCompositeScheduleResponse },
	{ "GetDisplayMessages", up_GetDisplayMessagesRequest, NULL },
	{ "GetLog", up_GetLogRequest, NULL },
	{ "GetMonitoringReport", up_GetMonitoringReportRequest, NULL },
	{ "GetReport", up_GetReportRequest, NULL },
	{ "GetVariables", up_GetVariablesRequest, up_GetVariablesResponse },
	{ "MeterValues", up_MeterValuesRequest, NULL },
	{ "NotifyChargingLimit", up_NotifyChargingLimitRequest, NULL },
	{ "NotifyCustomerInformation", up_NotifyCustomerInformationRequest, NULL },
	{ "NotifyDisplayMessages", up_NotifyDisplayMessagesRequest, NULL },
	{ "NotifyEVChargingNeeds", up_NotifyEVChargingNeedsRequest, NULL },
	{ "NotifyEVChargingSchedule", up_NotifyEVChargingScheduleRequest, NULL },
	{ "NotifyEvent", up_NotifyEventRequest, NULL },
	{ "NotifyMonitoringReport", up_NotifyMonitoringReportRequest, NULL },
	{ "NotifyReport", up_NotifyReportRequest, NULL },
	{ "PublishFirmware", up_PublishFirmwareRequest, NULL },
	{ "PublishFirmwareStatusNotification", up_PublishFirmwareStatusNotificationRequest, NULL },
	{ "ReportChargingProfiles", up_ReportChargingProfilesRequest, NULL },
	{ "RequestStartTransaction", up_RequestStartTransactionRequest, NULL },
	{ "ReservationStatusUpdate", up_ReservationStatusUpdateRequest, NULL },
	{ "ReserveNow", up_ReserveNowRequest, NULL },
	{ "Reset", up_ResetRequest, NULL },
	{ "SendLocalList", up_SendLocalListRequest, NULL },
	{ "SetChargingProfile", up_SetChargingProfileRequest, NULL },
	{ "SetDisplayMessage", up_SetDisplayMessageRequest, NULL },
	{ "SetMonitoringLevel", up_SetMonitoringLevelRequest, NULL },
	{ "SetNetworkProfile", up_SetNetworkProfileRequest, NULL },
	{ "SetVariableMonitoring", up_SetVariableMonitoringRequest, up_SetVariableMonitoringResponse },
	{ "SetVariables", up_SetVariablesRequest, up_SetVariablesResponse },
	{ "StatusNotification", up_StatusNotificationRequest, NULL },
	{ "TransactionEvent", up_TransactionEventRequest, up_TransactionEventResponse },
	{ "TriggerMessage", up_TriggerMessageRequest, NULL },
	{ "UnlockConnector", up_UnlockConnectorRequest, NULL },
	{ "UpdateFirmware", up_UpdateFirmwareRequest, NULL },
};

/* ---- the walk ----------------------------------------------------------- */

enum walk_rc {
	W_OK = 0,
	W_REFUSE,  /* a value the target cannot carry */
	W_EMPTY,   /* a required array lost all its items to F_LENIENT drops */
};

struct walk {
	const char *target;            /* "2.0.1" or "2.1", for messages */
	struct ogw_tr21_fault *fault;
	char path[128];
	size_t len;
	bool oom;
};

/* Appends ".name", or "[idx]" when name is NULL; returns the length to pop back to. */
static size_t path_push(struct walk *w, const char *name, size_t idx)
{
	size_t at = w->len;
	int n = name ? snprintf(w->path + at, sizeof(w->path) - at, "%s%s", at ? "." : "", name)
		     : snprintf(w->path + at, sizeof(w->path) - at, "[%zu]", idx);
	if (n > 0)
		w->len = at + (size_t)n < sizeof(w->path) ? at + (size_t)n : sizeof(w->path) - 1;
	return at;
}

static void path_pop(struct walk *w, size_t at)
{
	w->len = at;
	w->path[at] = '\0';
}

static enum walk_rc refuse(struct walk *w, enum ogw_err err, const char *fmt, const char *what)
{
	w->fault->err = err;
	snprintf(w->fault->desc, sizeof(w->fault->desc), "%s: ", w->path);
	size_t n = strlen(w->fault->desc);
	snprintf(w->fault->desc + n, sizeof(w->fault->desc) - n, fmt, what, w->target);
	return W_REFUSE;
}

/* Length in code points, as JSON Schema's maxLength counts. */
static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Byte offset of code point @cp in @s. */
static size_t utf8_offset(const char *s, size_t cp)
{
	size_t i = 0;
	for (size_t n = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80 && n++ == cp)
			break;
	}
	return i;
}

static const char *enum_lookup(const struct tr21_enum *e, const char *v, bool *miss)
{
	*miss = false;
	for (const struct tr21_map *m = e->map; m && m->from; m++) {
		if (!strcmp(m->from, v)) {
			*miss = !m->to;
			return m->to;
		}
	}
	if (e->only) {
		for (const char *const *o = e->only; *o; o++)
			if (!strcmp(*o, v))
				return v;
		*miss = true;
	}
	return v;
}

/* One scalar @v under rule @f: W_OK with *repl a new value to store, or
 * NULL to keep @v. */
static enum walk_rc scalar(struct walk *w, const struct tr21_field *f, json_t *v, json_t **repl)
{
	*repl = NULL;
	if ((f->op == OP_ENUM || f->op == OP_MAXLEN || f->op == OP_TRUNC) && !json_is_string(v))
		return W_OK;
	switch (f->op) {
	case OP_ENUM: {
		bool miss;
		const char *s = json_string_value(v);
		const char *to = enum_lookup(f->en, s, &miss);
		if (miss && !f->en->fallback)
			return refuse(w, OGW_ERR_PROPERTY_CONSTRAINT, "\"%s\" has no OCPP %s counterpart",
				      s);
		if (miss)
			to = f->en->fallback;
		if (to != s)
			*repl = json_string(to);
		break;
	}
	case OP_MAXLEN:
		if (utf8_len(json_string_value(v)) > (size_t)f->hi) {
			char lim[24];
			snprintf(lim, sizeof(lim), "%lld", f->hi);
			return refuse(w, OGW_ERR_PROPERTY_CONSTRAINT,
				      "longer than the %s characters OCPP %s allows", lim);
		}
		break;
	case OP_TRUNC: {
		const char *s = json_string_value(v);
		if (utf8_len(s) > (size_t)f->hi)
			*repl = json_stringn(s, utf8_offset(s, (size_t)f->hi));
		break;
	}
	case OP_RANGE: {
		json_int_t n = json_integer_value(v);
		if (n < f->lo || n > f->hi) {
			char num[24];
			snprintf(num, sizeof(num), "%lld", (long long)n);
			return refuse(w, OGW_ERR_PROPERTY_CONSTRAINT, "%s is out of range for OCPP %s",
				      num);
		}
		break;
	}
	case OP_ROUND:
		if (json_is_real(v))
			*repl = json_integer((json_int_t)llround(json_real_value(v)));
		break;
	default:
		break;
	}
	return W_OK;
}

static enum walk_rc walk_object(struct walk *w, const struct tr21_field *t, json_t *obj);

/* Field @f of @obj holding an object or an array of objects. */
static enum walk_rc walk_sub(struct walk *w, const struct tr21_field *f, json_t *obj, json_t *v)
{
	enum walk_rc r = W_OK;
	if (json_is_object(v))
		return walk_object(w, f->sub, v);
	if (!json_is_array(v))
		return W_OK;
	for (size_t i = 0; i < json_array_size(v);) {
		size_t at = path_push(w, NULL, i);
		r = walk_object(w, f->sub, json_array_get(v, i));
		path_pop(w, at);
		if (r == W_OK) {
			i++;
			continue;
		}
		if (!(f->flags & F_LENIENT) || w->oom)
			return r;
		json_array_remove(v, i);
	}
	if (json_array_size(v))
		return W_OK;
	/* F_LENIENT dropped every item: a required array empties its parent */
	if (f->flags & F_REQ)
		return W_EMPTY;
	json_object_del(obj, f->name);
	return W_OK;
}

/*
 * 2.0.1 has one limit for every phase; 2.1 periods may give L2 and L3
 * their own (limit then being L1's). The 2.0.1 limit is the tightest, so
 * no phase can be loaded beyond what the CSMS allowed it: in A that is
 * the per-phase minimum; in W (where 2.0.1's limit is the sum over the
 * phases) the minimum times the phases used (numberPhases, 3 when
 * absent). A period without limit is left to REQUIRE("limit").
 */
static enum walk_rc fold_phases(struct walk *w, const json_t *schedule, json_t *periods)
{
	bool watts = !strcmp(json_string_value(json_object_get(schedule, "chargingRateUnit"))
				     ? json_string_value(json_object_get(schedule, "chargingRateUnit"))
				     : "", "W");
	json_t *p;
	size_t i;

	json_array_foreach(periods, i, p) {
		json_t *l1 = json_object_get(p, "limit");
		json_t *l2 = json_object_get(p, "limit_L2"), *l3 = json_object_get(p, "limit_L3");
		json_t *np = json_object_get(p, "numberPhases");
		double m;

		if (!json_is_number(l1) || (!json_is_number(l2) && !json_is_number(l3)))
			continue;
		m = json_number_value(l1);
		if (json_is_number(l2) && json_number_value(l2) < m)
			m = json_number_value(l2);
		if (json_is_number(l3) && json_number_value(l3) < m)
			m = json_number_value(l3);
		if (watts)
			m *= np ? (double)json_integer_value(np) : 3.0;
		if (json_object_set_new(p, "limit", m == (double)(json_int_t)m
							    ? json_integer((json_int_t)m)
							    : json_real(m))) {
			w->oom = true;
			return W_REFUSE;
		}
	}
	return W_OK;
}

static enum walk_rc walk_field(struct walk *w, const struct tr21_field *f, json_t *obj)
{
	json_t *v = json_object_get(obj, f->name);
	json_t *repl;
	enum walk_rc r;

	switch (f->op) {
	case OP_DROP:
		json_object_del(obj, f->name);
		return W_OK;
	case OP_REQUIRE:
		return v ? W_OK : refuse(w, OGW_ERR_OCCURRENCE_CONSTRAINT,
					 "%s is required by OCPP %s", f->name);
	case OP_DEFAULT:
		if (!v && json_object_set_new(obj, f->name, json_string(f->dflt)))
			w->oom = true;
		return w->oom ? W_REFUSE : W_OK;
	case OP_SUB:
		return v ? walk_sub(w, f, obj, v) : W_OK;
	case OP_PHASES:
		return json_is_array(v) ? fold_phases(w, obj, v) : W_OK;
	default:
		break;
	}
	if (!v)
		return W_OK;
	if (!json_is_array(v)) {
		r = scalar(w, f, v, &repl);
		if (r == W_OK && repl && json_object_set_new(obj, f->name, repl))
			w->oom = true;
		return w->oom ? W_REFUSE : r;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		size_t at = path_push(w, NULL, i);
		r = scalar(w, f, json_array_get(v, i), &repl);
		path_pop(w, at);
		if (r != W_OK)
			return r;
		if (repl && json_array_set_new(v, i, repl))
			w->oom = true;
	}
	return w->oom ? W_REFUSE : W_OK;
}

static enum walk_rc walk_object(struct walk *w, const struct tr21_field *t, json_t *obj)
{
	for (; t->op != OP_END; t++) {
		size_t at = path_push(w, t->name, 0);
		enum walk_rc r = walk_field(w, t, obj);
		path_pop(w, at);
		if (r != W_OK)
			return r;
	}
	return W_OK;
}

/* Who speaks in the customData the gateway adds (2.0.1 CustomDataType
 * takes any members beside vendorId). */
static const char CUSTOM_VENDOR[] = "org.openchargealliance.ocpp21";

/* Sets member @key of obj.customData to @v (taken), adding customData
 * when there is none. */
static int custom_set(json_t *obj, const char *key, json_t *v)
{
	json_t *cd = json_object_get(obj, "customData");

	if (!cd && json_object_set_new(obj, "customData",
				       (cd = json_pack("{s:s}", "vendorId", CUSTOM_VENDOR))))
		cd = NULL;
	if (!v || !cd || json_object_set_new(cd, key, v)) {
		json_decref(v);
		return -ENOMEM;
	}
	return 0;
}

/*
 * What a field table cannot say, for a TransactionEvent going to 2.0.1:
 * costDetails (the price of the session; 2.0.1 has no field for it) and a
 * 2.1-only triggerReason are kept in customData, where a 2.0.1 CSMS that
 * knows them finds them and one that does not is not misled; a transaction
 * Ended because its cost limit was reached is LocalOutOfCredit, the 2.0.1
 * stoppedReason for a credit limit the station enforces.
 */
static int adapt_hook_down(const char *action, bool response, json_t *msg)
{
	const char *trig = json_string_value(json_object_get(msg, "triggerReason"));
	json_t *info = json_object_get(msg, "transactionInfo");
	const char *stopped = json_string_value(json_object_get(info, "stoppedReason"));
	bool miss;

	if (response || strcmp(action, "TransactionEvent"))
		return 0;
	if (trig && !strcmp(trig, "CostLimitReached") &&
	    !strcmp(json_string_value(json_object_get(msg, "eventType")), "Ended") &&
	    (!stopped || !strcmp(stopped, "Other")) &&
	    json_object_set_new(info, "stoppedReason", json_string("LocalOutOfCredit")))
		return -ENOMEM;
	if (json_object_get(msg, "costDetails") &&
	    (custom_set(msg, "costDetails", json_incref(json_object_get(msg, "costDetails"))) ||
	     json_object_del(msg, "costDetails")))
		return -ENOMEM;
	if (trig && enum_lookup(&e_TriggerReasonEnumType, trig, &miss) != trig)
		return custom_set(msg, "triggerReason", json_string(trig));
	return 0;
}

static int adapt(const struct tr21_msg *tab, size_t n, const char *target, const char *action,
		 bool response, const json_t *in, json_t **ret, struct ogw_tr21_fault *fault)
{
	const struct tr21_msg *m = ogw_tr_table_find(tab, n, sizeof(*tab), action);
	const struct tr21_field *t = m ? (response ? m->res : m->req) : NULL;
	struct walk w = { .target = target, .fault = fault };
	json_t *out;
	enum walk_rc r;

	/* no difference between the versions: the payload goes as it is */
	if (!t) {
		*ret = json_incref((json_t *)in);
		return 0;
	}
	out = json_deep_copy(in);
	if (!out || (tab == dn_msgs && adapt_hook_down(action, response, out))) {
		json_decref(out);
		return -ENOMEM;
	}
	r = walk_object(&w, t, out);
	if (w.oom) {
		json_decref(out);
		return -ENOMEM;
	}
	if (r != W_OK) {
		json_decref(out);
		if (r == W_EMPTY)
			snprintf(fault->desc, sizeof(fault->desc),
				 "%s: nothing in it can be represented in OCPP %s", action, target);
		return r == W_EMPTY ? -ENODATA : -ERANGE;
	}
	*ret = out;
	return 0;
}

int ogw_tr21_adapt_down(const char *action, bool response, const json_t *in, json_t **ret,
			struct ogw_tr21_fault *fault)
{
	return adapt(dn_msgs, sizeof(dn_msgs) / sizeof(dn_msgs[0]), "2.0.1", action, response,
		     in, ret, fault);
}

int ogw_tr21_adapt_up(const char *action, bool response, const json_t *in, json_t **ret,
		      struct ogw_tr21_fault *fault)
{
	return adapt(up_msgs, sizeof(up_msgs) / sizeof(up_msgs[0]), "2.1", action, response, in,
		     ret, fault);
}

/* ---- refusals and the generic relay --------------------------------------- */

/* How each shared action is refused when its request cannot be represented
 * on the other leg: the response's own "no" (sorted by action). Actions not
 * listed get a CALLERROR, or {} for a notification left empty. */
static const struct refusal {
	const char *action;
	const char *reply;
} refusals[] = {
	{ "Authorize", "{\"idTokenInfo\":{\"status\":\"Unknown\"}}" },
	{ "CancelReservation", "{\"status\":\"Rejected\"}" },
	{ "CertificateSigned", "{\"status\":\"Rejected\"}" },
	{ "ChangeAvailability", "{\"status\":\"Rejected\"}" },
	{ "ClearCache", "{\"status\":\"Rejected\"}" },
	{ "ClearChargingProfile", "{\"status\":\"Unknown\"}" },
	{ "ClearDisplayMessage", "{\"status\":\"Unknown\"}" },
	{ "CustomerInformation", "{\"status\":\"Rejected\"}" },
	{ "DataTransfer", "{\"status\":\"Rejected\"}" },
	{ "DeleteCertificate", "{\"status\":\"Failed\"}" },
	{ "Get15118EVCertificate", "{\"status\":\"Failed\",\"exiResponse\":\"\"}" },
	{ "GetBaseReport", "{\"status\":\"NotSupported\"}" },
	{ "GetCertificateStatus", "{\"status\":\"Failed\"}" },
	{ "GetChargingProfiles", "{\"status\":\"NoProfiles\"}" },
	{ "GetCompositeSchedule", "{\"status\":\"Rejected\"}" },
	{ "GetDisplayMessages", "{\"status\":\"Unknown\"}" },
	{ "GetInstalledCertificateIds", "{\"status\":\"NotFound\"}" },
	{ "GetLog", "{\"status\":\"Rejected\"}" },
	{ "GetMonitoringReport", "{\"status\":\"NotSupported\"}" },
	{ "GetReport", "{\"status\":\"NotSupported\"}" },
	{ "InstallCertificate", "{\"status\":\"Rejected\"}" },
	{ "NotifyEVChargingNeeds", "{\"status\":\"Rejected\"}" },
	{ "NotifyEVChargingSchedule", "{\"status\":\"Rejected\"}" },
	{ "PublishFirmware", "{\"status\":\"Rejected\"}" },
	{ "RequestStartTransaction", "{\"status\":\"Rejected\"}" },
	{ "RequestStopTransaction", "{\"status\":\"Rejected\"}" },
	{ "ReserveNow", "{\"status\":\"Rejected\"}" },
	{ "Reset", "{\"status\":\"Rejected\"}" },
	{ "SendLocalList", "{\"status\":\"Failed\"}" },
	{ "SetChargingProfile", "{\"status\":\"Rejected\"}" },
	{ "SetDisplayMessage", "{\"status\":\"Rejected\"}" },
	{ "SetMonitoringBase", "{\"status\":\"Rejected\"}" },
	{ "SetMonitoringLevel", "{\"status\":\"Rejected\"}" },
	{ "SetNetworkProfile", "{\"status\":\"Rejected\"}" },
	{ "SignCertificate", "{\"status\":\"Rejected\"}" },
	{ "TriggerMessage", "{\"status\":\"NotImplemented\"}" },
	{ "UnlockConnector", "{\"status\":\"UnlockFailed\"}" },
	{ "UpdateFirmware", "{\"status\":\"Rejected\"}" },
};

/* The shim's adapter: the leg speaks 2.1, the tables 2.0.1. */
static int shim_adapt(const char *action, bool response, bool to_leg, const json_t *in,
		      json_t **ret, enum ogw_err *err, char *desc, size_t desclen)
{
	struct ogw_tr21_fault fault;
	memset(&fault, 0, sizeof(fault));
	int r = to_leg ? ogw_tr21_adapt_up(action, response, in, ret, &fault) :
			 ogw_tr21_adapt_down(action, response, in, ret, &fault);
	if (r < 0) {
		*err = fault.err ? fault.err : OGW_ERR_INTERNAL;
		snprintf(desc, desclen, "%s", fault.desc[0] ? fault.desc : strerror(-r));
	}
	return r;
}

extern const struct ogw_translator ogw_tr_v201_v21;
extern const struct ogw_translator ogw_tr_v21_v201;

/* A 2.1 CSMS's 2.1-only calls are answered as for a 2.0.1 charger, a 2.1
 * charger's as for a 2.0.1 CSMS. */
const struct ogw_tr_shim ogw_tr21_shim_north = {
	OGW_TR_UP, OGW_OCPP201, shim_adapt, ogw_tr21_refusal, &ogw_tr_v201_v21,
};
const struct ogw_tr_shim ogw_tr21_shim_south = {
	OGW_TR_DOWN, OGW_OCPP201, shim_adapt, ogw_tr21_refusal, &ogw_tr_v21_v201,
};

json_t *ogw_tr21_refusal(const char *action)
{
	const struct refusal *r = ogw_tr_table_find(refusals, sizeof(refusals) / sizeof(refusals[0]),
						    sizeof(refusals[0]), action);
	return r ? json_loads(r->reply, 0, NULL) : NULL;
}

static int adapt_way(enum ogw_tr21_way way, const char *action, bool response, const json_t *in,
		     json_t **ret, struct ogw_tr21_fault *fault)
{
	return way == OGW_TR21_TO201 ? ogw_tr21_adapt_down(action, response, in, ret, fault)
				     : ogw_tr21_adapt_up(action, response, in, ret, fault);
}

int ogw_tr21_forward(const char *action, enum ogw_tr21_way way, const json_t *payload,
		     struct ogw_tr_out *out)
{
	struct ogw_tr21_fault fault = { .err = OGW_ERR_PROPERTY_CONSTRAINT };
	json_t *res = NULL;
	int r = adapt_way(way, action, false, payload, &res, &fault);

	if (r == -ENOMEM)
		return r;
	if (r == 0) {
		out->outcome = OGW_TR_FORWARD;
		out->action = action;
		out->payload = res;
		return 0;
	}
	out->payload = ogw_tr21_refusal(action);
	/* a report whose every item was dropped: acknowledged, nothing to send */
	if (!out->payload && r == -ENODATA)
		out->payload = json_object();
	if (out->payload) {
		out->outcome = OGW_TR_ANSWER;
		return 0;
	}
	out->outcome = OGW_TR_ERROR;
	out->err = fault.err;
	snprintf(out->desc, sizeof(out->desc), "%s", fault.desc);
	return 0;
}

int ogw_tr21_result(const char *action, enum ogw_tr21_way way, const json_t *result,
		    json_t **ret)
{
	struct ogw_tr21_fault fault;
	enum ogw_tr21_way back = way == OGW_TR21_TO201 ? OGW_TR21_TO21 : OGW_TR21_TO201;
	int r = adapt_way(back, action, true, result, ret, &fault);
	/* the caller answers InternalError; the response had no counterpart */
	return r == -ENODATA ? -ERANGE : r;
}

/* ---- answers of the gateway's own ---------------------------------------- */

int ogw_tr21_rejected(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_status(out, "Rejected");
}

int ogw_tr21_not_supported(struct ogw_tr_env *env, const json_t *payload,
			   struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	out->outcome = OGW_TR_ERROR;
	out->err = OGW_ERR_NOT_SUPPORTED;
	snprintf(out->desc, sizeof(out->desc),
		 "not supported: the other side of this gateway speaks an OCPP version without it");
	return 0;
}

/* ==== 2.1 charger, 2.0.1 CSMS ============================================ */

/* 2.1 notifications the 2.0.1 CSMS has no message for (DER, priority
 * charging, settlement, battery swap): acknowledged here, not forwarded. */
static int local_ack(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	return ogw_tr_out_answer(out, json_object());
}

/* A SEND is never answered (J21: "the receiver SHALL NOT reply"); the session sends nothing
 * back for it whatever the outcome; ERROR says it went nowhere. Streams
 * cannot be open anyway: OpenPeriodicEventStream is refused. */
static int drop_stream_data(struct ogw_tr_env *env, const json_t *payload,
			    struct ogw_tr_out *out)
{
	(void)env;
	(void)payload;
	out->outcome = OGW_TR_ERROR;
	out->err = OGW_ERR_NOT_SUPPORTED;
	snprintf(out->desc, sizeof(out->desc),
		 "periodic event streams do not exist in the CSMS's OCPP 2.0.1: dropped");
	return 0;
}

/* The response repeats the number it could not check. */
static int vat_rejected(struct ogw_tr_env *env, const json_t *payload, struct ogw_tr_out *out)
{
	json_t *evse = json_object_get(payload, "evseId");
	(void)env;
	out->outcome = OGW_TR_ANSWER;
	out->payload = json_pack("{s:O,s:s}", "vatNumber", json_object_get(payload, "vatNumber"),
				 "status", "Rejected");
	if (out->payload && evse && json_object_set(out->payload, "evseId", evse)) {
		json_decref(out->payload);
		out->payload = NULL;
	}
	return out->payload ? 0 : -ENOMEM;
}

/* Shared actions: the same action on the other leg, adapted. */
OGW_TR21_RELAY(up, Authorize, OGW_TR21_TO201)
OGW_TR21_RELAY(up, BootNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, ClearedChargingLimit, OGW_TR21_TO201)
OGW_TR21_RELAY(up, DataTransfer, OGW_TR21_TO201)
OGW_TR21_RELAY(up, FirmwareStatusNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, Get15118EVCertificate, OGW_TR21_TO201)
OGW_TR21_RELAY(up, GetCertificateStatus, OGW_TR21_TO201)
OGW_TR21_RELAY(up, Heartbeat, OGW_TR21_TO201)
OGW_TR21_RELAY(up, LogStatusNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, MeterValues, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyChargingLimit, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyCustomerInformation, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyDisplayMessages, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyEVChargingNeeds, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyEVChargingSchedule, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyEvent, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyMonitoringReport, OGW_TR21_TO201)
OGW_TR21_RELAY(up, NotifyReport, OGW_TR21_TO201)
OGW_TR21_RELAY(up, PublishFirmwareStatusNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, ReportChargingProfiles, OGW_TR21_TO201)
OGW_TR21_RELAY(up, ReservationStatusUpdate, OGW_TR21_TO201)
OGW_TR21_RELAY(up, SecurityEventNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, SignCertificate, OGW_TR21_TO201)
OGW_TR21_RELAY(up, StatusNotification, OGW_TR21_TO201)
OGW_TR21_RELAY(up, TransactionEvent, OGW_TR21_TO201)
OGW_TR21_RELAY(dn, CancelReservation, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, CertificateSigned, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ChangeAvailability, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ClearCache, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ClearChargingProfile, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ClearDisplayMessage, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ClearVariableMonitoring, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, CostUpdated, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, CustomerInformation, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, DataTransfer, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, DeleteCertificate, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetBaseReport, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetChargingProfiles, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetCompositeSchedule, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetDisplayMessages, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetInstalledCertificateIds, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetLocalListVersion, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetLog, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetMonitoringReport, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetReport, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetTransactionStatus, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, GetVariables, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, InstallCertificate, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, PublishFirmware, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, RequestStartTransaction, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, RequestStopTransaction, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, ReserveNow, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, Reset, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SendLocalList, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetChargingProfile, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetDisplayMessage, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetMonitoringBase, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetMonitoringLevel, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetNetworkProfile, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetVariableMonitoring, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, SetVariables, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, TriggerMessage, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, UnlockConnector, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, UnpublishFirmware, OGW_TR21_TO21)
OGW_TR21_RELAY(dn, UpdateFirmware, OGW_TR21_TO21)

static const struct ogw_tr_action up_actions[] = {
	OGW_TR21_MAPPED(up, Authorize),
	OGW_TR21_LOCAL(BatterySwap, local_ack, "{} (not forwarded)"),
	OGW_TR21_MAPPED(up, BootNotification),
	OGW_TR21_MAPPED(up, ClearedChargingLimit),
	OGW_TR21_LOCAL(ClosePeriodicEventStream, local_ack, "{} (no stream was opened)"),
	OGW_TR21_MAPPED(up, DataTransfer),
	OGW_TR21_MAPPED(up, FirmwareStatusNotification),
	OGW_TR21_MAPPED(up, Get15118EVCertificate),
	OGW_TR21_REJECTED(GetCertificateChainStatus, ogw_tr21_not_supported, "CALLERROR NotSupported"),
	OGW_TR21_MAPPED(up, GetCertificateStatus),
	OGW_TR21_MAPPED(up, Heartbeat),
	OGW_TR21_MAPPED(up, LogStatusNotification),
	OGW_TR21_MAPPED(up, MeterValues),
	OGW_TR21_MAPPED(up, NotifyChargingLimit),
	OGW_TR21_MAPPED(up, NotifyCustomerInformation),
	OGW_TR21_LOCAL(NotifyDERAlarm, local_ack, "{} (not forwarded)"),
	OGW_TR21_LOCAL(NotifyDERStartStop, local_ack, "{} (not forwarded)"),
	OGW_TR21_MAPPED(up, NotifyDisplayMessages),
	OGW_TR21_MAPPED(up, NotifyEVChargingNeeds),
	OGW_TR21_MAPPED(up, NotifyEVChargingSchedule),
	OGW_TR21_MAPPED(up, NotifyEvent),
	OGW_TR21_MAPPED(up, NotifyMonitoringReport),
	OGW_TR21_REJECTED(NotifyPeriodicEventStream, drop_stream_data, "dropped (SEND, never answered)"),
	OGW_TR21_LOCAL(NotifyPriorityCharging, local_ack, "{} (not forwarded)"),
	OGW_TR21_MAPPED(up, NotifyReport),
	OGW_TR21_LOCAL(NotifySettlement, local_ack, "{} (not forwarded)"),
	OGW_TR21_REJECTED(OpenPeriodicEventStream, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_MAPPED(up, PublishFirmwareStatusNotification),
	OGW_TR21_REJECTED(PullDynamicScheduleUpdate, ogw_tr21_rejected, "status Rejected"),
	OGW_TR21_MAPPED(up, ReportChargingProfiles),
	OGW_TR21_LOCAL(ReportDERControl, local_ack, "{} (not forwarded)"),
	OGW_TR21_MAPPED(up, ReservationStatusUpdate),
	OGW_TR21_MAPPED(up, SecurityEventNotification),
	OGW_TR21_MAPPED(up, SignCertificate),
	OGW_TR21_MAPPED(up, StatusNotification),
	OGW_TR21_MAPPED(up, TransactionEvent),
	OGW_TR21_REJECTED(VatNumberValidation, vat_rejected, "status Rejected"),
};

/* A 2.0.1 CSMS sends only 2.0.1 actions: all exist in 2.1. */
static const struct ogw_tr_action dn_actions[] = {
	OGW_TR21_MAPPED(dn, CancelReservation),
	OGW_TR21_MAPPED(dn, CertificateSigned),
	OGW_TR21_MAPPED(dn, ChangeAvailability),
	OGW_TR21_MAPPED(dn, ClearCache),
	OGW_TR21_MAPPED(dn, ClearChargingProfile),
	OGW_TR21_MAPPED(dn, ClearDisplayMessage),
	OGW_TR21_MAPPED(dn, ClearVariableMonitoring),
	OGW_TR21_MAPPED(dn, CostUpdated),
	OGW_TR21_MAPPED(dn, CustomerInformation),
	OGW_TR21_MAPPED(dn, DataTransfer),
	OGW_TR21_MAPPED(dn, DeleteCertificate),
	OGW_TR21_MAPPED(dn, GetBaseReport),
	OGW_TR21_MAPPED(dn, GetChargingProfiles),
	OGW_TR21_MAPPED(dn, GetCompositeSchedule),
	OGW_TR21_MAPPED(dn, GetDisplayMessages),
	OGW_TR21_MAPPED(dn, GetInstalledCertificateIds),
	OGW_TR21_MAPPED(dn, GetLocalListVersion),
	OGW_TR21_MAPPED(dn, GetLog),
	OGW_TR21_MAPPED(dn, GetMonitoringReport),
	OGW_TR21_MAPPED(dn, GetReport),
	OGW_TR21_MAPPED(dn, GetTransactionStatus),
	OGW_TR21_MAPPED(dn, GetVariables),
	OGW_TR21_MAPPED(dn, InstallCertificate),
	OGW_TR21_MAPPED(dn, PublishFirmware),
	OGW_TR21_MAPPED(dn, RequestStartTransaction),
	OGW_TR21_MAPPED(dn, RequestStopTransaction),
	OGW_TR21_MAPPED(dn, ReserveNow),
	OGW_TR21_MAPPED(dn, Reset),
	OGW_TR21_MAPPED(dn, SendLocalList),
	OGW_TR21_MAPPED(dn, SetChargingProfile),
	OGW_TR21_MAPPED(dn, SetDisplayMessage),
	OGW_TR21_MAPPED(dn, SetMonitoringBase),
	OGW_TR21_MAPPED(dn, SetMonitoringLevel),
	OGW_TR21_MAPPED(dn, SetNetworkProfile),
	OGW_TR21_MAPPED(dn, SetVariableMonitoring),
	OGW_TR21_MAPPED(dn, SetVariables),
	OGW_TR21_MAPPED(dn, TriggerMessage),
	OGW_TR21_MAPPED(dn, UnlockConnector),
	OGW_TR21_MAPPED(dn, UnpublishFirmware),
	OGW_TR21_MAPPED(dn, UpdateFirmware),
};

const struct ogw_translator ogw_tr_v21_v201 = {
	.south = OGW_OCPP21,
	.north = OGW_OCPP201,
	.up = up_actions,
	.n_up = sizeof(up_actions) / sizeof(up_actions[0]),
	.down = dn_actions,
	.n_down = sizeof(dn_actions) / sizeof(dn_actions[0]),
};
