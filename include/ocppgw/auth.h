/* SPDX-License-Identifier: MIT */
/*
 * Charger passwords (security profiles 1 and 2): salted PBKDF2-HMAC-SHA256
 * hashes made with mbedTLS, in the form
 *   $pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>
 * A password is normalized before hashing and checking, so that the 1.6
 * AuthorizationKey works whichever form the charger sends (the raw 20
 * bytes or their 40 hex digits, any case) and a 2.x text password is used
 * as it is.
 */
#ifndef OCPPGW_AUTH_H
#define OCPPGW_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* A new hash of @password (@len bytes). malloc'd string, or NULL. */
char *ogw_auth_hash(const void *password, size_t len);
/* True when @password matches @hash; constant time in the comparison. */
bool ogw_auth_verify(const char *hash, const void *password, size_t len);
/* 0 when @hash is a well-formed hash string; else -EINVAL. */
int ogw_auth_hash_check_format(const char *hash);
/* Decodes an HTTP "Basic ..." header value into user and password (both
 * malloc'd; the password may hold any bytes and is NUL-terminated, its
 * length in *ret_pass_len). 0 or -EINVAL. */
int ogw_auth_parse_basic(const char *header, char **ret_user, char **ret_pass,
			 size_t *ret_pass_len);
/* "Basic " + base64(user ":" password), malloc'd. */
char *ogw_auth_make_basic(const char *user, const void *pass, size_t pass_len);

#endif
