/* SPDX-License-Identifier: MIT */
/*
 * Each charger's client certificate for the north leg, obtained from the
 * CSMS over OCPP (csms.request_certificates): the gateway makes the key and
 * CSR with mbedTLS, sends SignCertificate as the charger and installs the
 * CSMS's CertificateSigned for its own key in <data_dir>/certs.
 */
#ifndef OGW_CERTS_H
#define OGW_CERTS_H

#include <stddef.h>

#include "session/session.h"

extern const struct ogw_stage ogw_certs_stage;

/* "<data_dir>/certs/<id><suffix>" into @buf; false when it does not fit. */
bool ogw_certs_path(const struct ogw_gateway *gw, const char *id, const char *suffix, char *buf,
		    size_t size);

#endif
