/* SPDX-License-Identifier: MIT */
/*
 * The gateway's configuration: defaults, a libconfig file, then command-line
 * overrides. Every error names file:line. The loaded struct is plain data;
 * nothing here opens sockets or files other than the config file itself.
 */
#ifndef OCPPGW_CONFIG_H
#define OCPPGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "ocppgw/log.h"
#include "ocppgw/ocpp.h"

struct ogw_charger_conf {
	char *id;
	char *password_hash;      /* "$pbkdf2-sha256$..."; NULL: no Basic auth for it */
	char *upstream_user;      /* Basic auth towards the CSMS; NULL: the charger id */
	char *upstream_password;  /* NULL: none, unless csms.pass_credentials */
	int upstream_ocpp;        /* enum ogw_ocpp towards the CSMS; -1: not set here */
};

/* Chargers sharing settings; members need not be in the chargers list. */
struct ogw_group_conf {
	char *name;
	int upstream_ocpp;        /* enum ogw_ocpp towards the CSMS; -1: not set here */
	char **chargers;          /* member ids; a charger is in at most one group */
	size_t n_chargers;
};

/* One entry of the configured local authorization list (local_list). */
struct ogw_local_entry {
	char *token;              /* the idTag / idToken, 1-36 characters */
	char *status;             /* "Accepted", "Blocked", "Expired" or "Invalid" */
	char *expiry;             /* RFC 3339; NULL: none */
	char *group;              /* parent idTag / group idToken; NULL: none */
};

struct ogw_conf {
	/* south: where chargers connect */
	char *listen_addr;        /* default "0.0.0.0" */
	int listen_port;          /* default 9000 */
	char *path_prefix;        /* required URL prefix, e.g. "/ocpp"; "" accepts any */
	char *tls_cert;           /* wss:// when set (security profiles 2 and 3) */
	char *tls_key;
	char *tls_ca;             /* CA for client certificates (profile 3) */
	bool tls_require_client_cert;
	bool require_auth;        /* refuse chargers that send no valid Basic auth */

	/* north: the CSMS */
	char *csms_url;           /* ws:// or wss:// base; NULL: none configured */
	char *csms_ca;
	char *csms_cert;
	char *csms_key;
	int upstream_ocpp;        /* enum ogw_ocpp spoken to the CSMS; -1 (default):
	                             the charger's own version */
	bool csms_pass_credentials; /* forward the charger's own Authorization header */
	int ping_interval_s;      /* WebSocket ping on idle legs; default 30 */
	int reconnect_min_ms;     /* default 1000 */
	int reconnect_max_ms;     /* default 60000 */

	/* OCPP-J */
	int response_timeout_ms;  /* default 30000 */
	size_t max_frame_size;    /* default 65536 */
	int max_pending_calls;    /* calls queued per leg and direction; default 16 */
	char *schema_dir;         /* NULL: built-in schemas; else a directory with
	                             subdirectories 1.6, 2.0.1 and 2.1 */

	char *data_dir;           /* the durable store; default "/var/lib/ocppgw" */
	size_t store_max_size;    /* bytes the store may grow to; 0 (default): no cap */

	/* offline: the gateway answering for the CSMS (no CSMS, or unreachable) */
	int offline_heartbeat_s;      /* offline.heartbeat_interval, default 300, 1-86400:
	                                 BootNotification interval answered locally */
	bool offline_accept_unknown;  /* offline.unknown_id = "accept" | "reject" (default
	                                 "reject"): Authorize of an id in neither list nor
	                                 cache, as 1.6 AllowOfflineTxForUnknownId / 2.x
	                                 OfflineTxForUnknownIdEnabled */
	bool offline_queue_all;       /* offline.queue = "transactions" (default) | "all":
	                                 what is queued while the CSMS is unreachable */
	int offline_attempts;         /* offline.message_attempts, default 3, 1-100:
	                                 CALLERRORs before a queued message goes to dead
	                                 letters */
	int offline_retry_s;          /* offline.retry_interval, default 60 s, 1-3600: wait
	                                 before retry = interval * attempts so far */
	bool offline_stop_invalid;    /* offline.stop_on_invalid_id, default true: a
	                                 replayed start answered non-Accepted makes the
	                                 gateway stop that transaction on the charger */
	int offline_cache_max;        /* offline.auth_cache_size, default 10000, 1-1000000:
	                                 cached CSMS answers per charger; a full cache
	                                 drops non-Accepted entries first, then the oldest */
	struct ogw_local_entry *local_list; /* local_list: authorization without a CSMS */
	size_t n_local_list;

	/* admin: the operator's HTTP API, metrics and status page */
	char *admin_addr;         /* default "127.0.0.1"; NULL: no admin listener */
	int admin_port;           /* default 8080 */
	char *admin_token;        /* "Authorization: Bearer" token; NULL: none */
	char *admin_user;         /* Basic auth user, with admin_password_hash */
	char *admin_password_hash;

	enum ogw_log_level log_level; /* default info */
	bool log_json;

	struct ogw_charger_conf *chargers; /* empty list: any identity accepted */
	size_t n_chargers;
	struct ogw_group_conf *groups;
	size_t n_groups;

	char *source;             /* file it came from, NULL for defaults only */
};

/* An error list: each entry "file:line: message". */
struct ogw_conf_errors {
	char **msgs;
	size_t n;
};

void ogw_conf_defaults(struct ogw_conf *c);
/* Reads @path over the values already in @c. Returns 0, or -EINVAL with
 * every problem found appended to @errs (it does not stop at the first). */
int ogw_conf_load_file(struct ogw_conf *c, const char *path, struct ogw_conf_errors *errs);
/* Checks cross-field rules (a key without a cert, ...) after overrides. */
int ogw_conf_check(const struct ogw_conf *c, struct ogw_conf_errors *errs);
void ogw_conf_clear(struct ogw_conf *c);
void ogw_conf_errors_clear(struct ogw_conf_errors *errs);
const struct ogw_charger_conf *ogw_conf_charger(const struct ogw_conf *c, const char *id);
/* The OCPP version (enum ogw_ocpp) to speak to the CSMS for charger @id,
 * which speaks @south: its own upstream_ocpp, else its group's, else the
 * gateway's, else @south. */
int ogw_conf_upstream_for(const struct ogw_conf *c, const char *id, enum ogw_ocpp south);
/* True when @addr is a loopback address (127.0.0.0/8, ::1, localhost). */
bool ogw_conf_is_loopback(const char *addr);
/* Parses "ADDR:PORT", "[v6]:PORT" or ":PORT" into *addr (malloc'd) and *port. */
int ogw_conf_parse_listen(const char *s, char **ret_addr, int *ret_port);

#endif
