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

/* At start, with tls.identity: serves the certificate obtained before (if
 * still valid) and opens the gateway's own session at the CSMS, which asks
 * for one when there is none or it is due. */
void ogw_certs_own_start(struct ogw_gateway *gw);

/* The gateway's own certificate and key files to serve (tls.identity),
 * and a generation that changes with each new one; 0 while tls.cert
 * serves. */
unsigned int ogw_certs_own_served(const char **ret_cert, const char **ret_key);

/* "<data_dir>/certs/<id><suffix>" into @buf; false when it does not fit. */
bool ogw_certs_path(const struct ogw_gateway *gw, const char *id, const char *suffix, char *buf,
		    size_t size);

#endif
