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
	struct ogw_csms_set_conf *csms;  /* csms { ... }; NULL: the group's or global */
	int security_profile;     /* 1-3: the only profile it may connect with; 0: not set */
};

/* Chargers sharing settings; members need not be in the chargers list. */
struct ogw_group_conf {
	char *name;
	int upstream_ocpp;        /* enum ogw_ocpp towards the CSMS; -1: not set here */
	int security_profile;     /* as ogw_charger_conf's, for members that set none */
	char **chargers;          /* member ids; a charger is in at most one group */
	size_t n_chargers;
	struct ogw_csms_set_conf *csms;  /* csms { ... }; NULL: the global one */
};

/* One entry of the configured local authorization list (local_list). */
struct ogw_local_entry {
	char *token;              /* the idTag / idToken, 1-36 characters */
	char *status;             /* "Accepted", "Blocked", "Expired" or "Invalid" */
	char *expiry;             /* RFC 3339; NULL: none */
	char *group;              /* parent idTag / group idToken; NULL: none */
};

/* ---- several CSMSs per charger (docs/MULTI_CSMS.md) ---------------------- */

/* What a secondary's CALL that is not on its allow list gets. */
enum ogw_csms_refusal {
	OGW_CSMS_REFUSE_CALLERROR = 0,  /* "callerror" (default): SecurityError */
	OGW_CSMS_REFUSE_REJECT,         /* "reject": the action's own refusal
	                                   ({"status":"Rejected"} ...), a CALLERROR
	                                   where the action has none */
};

/* Which CSMS a transaction belongs to (split by token). */
enum ogw_token_routing {
	OGW_TOKEN_ROUTING_UNSET = -1,   /* not set at this level: inherited */
	OGW_TOKEN_ROUTING_PRIMARY = 0,  /* "primary" (default): every one to the primary */
	OGW_TOKEN_ROUTING_LIST,         /* "list": a secondary's tokens / token_prefixes,
	                                   else the primary */
	OGW_TOKEN_ROUTING_ASK,          /* "ask": as list, then the first CSMS whose
	                                   Authorize answer is Accepted, primary first */
};

/* One CSMS beside the primary (csms.secondaries entry). */
struct ogw_csms_conf {
	char *name;               /* 1-64 characters, unique in its list */
	char *url;                /* ws://, wss:// base or mqtt(s)://broker/<site> */
	int upstream_ocpp;        /* enum ogw_ocpp it speaks; -1: the charger's own */
	char *user;               /* Basic auth; NULL: the charger id */
	char *password;           /* NULL: no Basic auth */
	char *ca, *cert, *key;    /* wss: its CA, the gateway's client certificate */
	char **allow;             /* actions it may send the charger, in its version;
	                             NULL-terminated, as tokens and token_prefixes */
	size_t n_allow;
	bool allow_set;           /* false: the read-only default of its version */
	int refusal;              /* enum ogw_csms_refusal */
	char **tokens;            /* idTags / idTokens whose transactions it owns */
	size_t n_tokens;
	char **token_prefixes;    /* ... and those starting with one of these */
	size_t n_token_prefixes;
};

/* A csms { ... } block: at the root its primary is csms.url and friends
 * (struct ogw_conf); in a group or charger, url/ca/cert/key override the
 * primary's inherited ones. Each member set here replaces the inherited
 * one; a secondaries list replaces the inherited list whole. */
struct ogw_csms_set_conf {
	char *url, *ca, *cert, *key;   /* group / charger only; NULL: inherited */
	struct ogw_csms_conf *secondaries;
	size_t n_secondaries;
	bool secondaries_set;     /* "secondaries = ()" removes inherited ones */
	int token_routing;        /* enum ogw_token_routing; UNSET: inherited */
};

/* The CSMSs a charger is shown to, resolved: borrowed from the ogw_conf,
 * valid while it is. */
struct ogw_csms_view {
	struct ogw_csms_conf primary;  /* name "primary"; allow: everything */
	const struct ogw_csms_conf *secondaries;
	size_t n_secondaries;
	enum ogw_token_routing token_routing;
};

/* ---- load balancing (docs/LOAD_BALANCING.md) ---------------------------- */

/* A time-of-day window replacing a node's limit, local time, minutes since
 * midnight; to < from wraps past midnight. The first window in force wins. */
struct ogw_lb_window {
	int from_min, to_min;
	double limit_a;           /* A per phase, < 0: none */
	double limit_w;           /* W over the node's phases, < 0: none */
};

/* The limit of one node of the tree. With both set, the lower applies. */
struct ogw_lb_limit {
	double limit_a;           /* A per phase, < 0: none */
	double limit_w;           /* W over @phases, < 0: none */
	int phases;               /* 1-3, default 3 */
	struct ogw_lb_window *schedule;
	size_t n_schedule;
};

struct ogw_lb_evse_conf {
	int id;                   /* 2.x evseId / 1.6 connectorId, 1-32 */
	struct ogw_lb_limit lim;
};

struct ogw_lb_charger_conf {
	char *id;
	struct ogw_lb_limit lim;  /* lim.phases: the phases the charger is wired to */
	int rotation[3];          /* grid phase (0-2) of the charger's L1, L2, L3 */
	double min_a;             /* default 6 (IEC 61851-1) */
	double max_a;             /* per EVSE, default 32 */
	int priority;             /* higher is served first, default 0 */
	bool phase_switching;     /* may be told to switch 3 <-> 1 phase (numberPhases) */
	bool phase_to_use;        /* 2.x: ... and on which line (phaseToUse) */
	struct ogw_lb_evse_conf *evses;
	size_t n_evses;
};

struct ogw_lb_group_conf {
	char *name;
	struct ogw_lb_limit lim;
	struct ogw_lb_charger_conf *chargers;
	size_t n_chargers;
};

/* Where the grid meter's readings come from (load_balancing.meter). */
enum ogw_meter_source {
	OGW_METER_MQTT,           /* published on limit_mqtt's broker */
	OGW_METER_MODBUS,         /* polled over Modbus TCP (meter.modbus) */
	OGW_METER_HTTP,           /* polled as JSON over HTTP (meter.http) */
};

/* How a Modbus meter holds a phase's value. */
enum ogw_meter_type { OGW_REG_INT16, OGW_REG_UINT16, OGW_REG_INT32, OGW_REG_UINT32,
		      OGW_REG_FLOAT32 };

/* A Modbus register map: three registers (or pairs), one per grid phase. */
struct ogw_meter_regs {
	bool input;               /* input registers (function 4), else holding (3) */
	enum ogw_meter_type type;
	bool low_word_first;      /* 32-bit values: the low word at the lower address */
	double scale;             /* the register's value times this is A (or W) */
	bool power;               /* W per phase (converted at voltage), else A */
	int addr[3];              /* 0-based register address of L1, L2, L3 */
};

/* A polled grid meter (meter.modbus or meter.http). */
struct ogw_meter_poll_conf {
	double interval_s;        /* between two polls, default 1 */
	double timeout_s;         /* one connect or answer, default 1 */
	char *host;               /* Modbus TCP: the meter (or its TCP gateway) */
	char *device;             /* Modbus RTU: the serial line (else TCP) */
	int baud;                 /* RTU: default 9600 */
	char parity;              /* RTU: 'N' (default), 'E' or 'O' */
	int data_bits;            /* RTU: 7 or 8 (default) */
	int stop_bits;            /* RTU: 1 (default) or 2 */
	int port;                 /* Modbus: default 502 */
	int unit;                 /* Modbus: unit (slave) id, default 1 */
	struct ogw_meter_regs regs;
	char *url;                /* HTTP: http(s)://... answering JSON */
	char *pointer[3];         /* HTTP: RFC 6901 pointer to L1, L2, L3 */
	double http_scale;        /* HTTP: the value times this is A (or W) */
	bool http_power;          /* HTTP: W per phase, else A */
};

struct ogw_lb_conf {
	bool enabled;
	double voltage;           /* nominal V per phase for W limits, default 230 */
	int stack_level;          /* of the gateway's profiles, default 8 */
	int update_interval_s;    /* periodic re-allocation, default 10 */
	double min_change_a;      /* a draw change that re-allocates, default 1.0 */
	double headroom_a;        /* margin over a car's draw when it takes less, 2.0 */
	int min_interval_s;       /* between two raises of one EVSE's limit, default 5 */
	int phase_switch_interval_s;  /* between two phase switches of one EVSE, 300 */
	bool failsafe;            /* send each charger its share as a Max profile */
	char *limit_mqtt;         /* mqtt(s)://broker/<site>: the dynamic site limit's
	                             broker for a WebSocket uplink; NULL: none */
	double meter_fuse_a;      /* grid meter on limit_mqtt: the main fuse, A per
	                             phase; < 0: no meter */
	int meter_timeout_s;      /* a meter silent this long: the fail-safe */
	double meter_safe_a;      /* the fail-safe site limit, < 0: the configured one */
	enum ogw_meter_source meter_source;
	struct ogw_meter_poll_conf meter_poll;  /* Modbus or HTTP */
	struct ogw_lb_limit site;
	struct ogw_lb_group_conf *groups;
	size_t n_groups;
	struct ogw_lb_charger_conf *chargers;  /* directly under the site */
	size_t n_chargers;
};

/* The TLS floor of one leg (docs/SECURITY.md "TLS"), config/tls.c. */
enum { OGW_TLS_1_2 = 12, OGW_TLS_1_3 = 13 };
struct ogw_tls_floor {
	int min_version;          /* OGW_TLS_1_2 (default) or OGW_TLS_1_3 */
	char *ciphers;            /* OpenSSL list of TLS 1.2 suites, each one the OCPP
	                             security specification lists; default all of them */
};
/* The default of tls.ciphers and csms.ciphers, OpenSSL spelling. */
const char *ogw_tls_default_ciphers(void);
const char *ogw_tls_version_name(int v);
/* The OpenSSL options (SSL_OP_NO_*) that refuse every protocol version
 * below @min_version: what lws's ssl_options_set / ssl_client_options_set
 * take. Options rather than SSL_CTX_set_min_proto_version(): lws sets them
 * on the SSL_CTX it creates, with no callback in between on the server. */
long ogw_tls_options_below(int min_version);

/* A charger listener besides `listen` (listeners = ( ... )). */
struct ogw_listener_conf {
	char *listen;             /* as written, the entry's key */
	char *addr;
	int port;
	unsigned int profiles;    /* bit p: security profile p may connect here;
	                             0: derived from tls (ogw_conf_profiles()) */
	char *tls_cert;           /* wss:// when set */
	char *tls_key;
	char *tls_ca;
	char *tls_crl;            /* CRLs (PEM) of the CAs in tls_ca: revoked
	                             charger certificates fail the handshake */
	bool tls_require_client_cert;
	struct ogw_tls_floor tls_floor;
};

struct ogw_conf {
	/* south: where chargers connect */
	char *listen_addr;        /* default "0.0.0.0" */
	int listen_port;          /* default 9000 */
	char *path_prefix;        /* required URL prefix, e.g. "/ocpp"; "" accepts any */
	char *tls_cert;           /* wss:// when set (security profiles 2 and 3) */
	char *tls_key;
	char *tls_ca;             /* CA for client certificates (profile 3) */
	char *tls_crl;            /* as ogw_listener_conf's */
	char *tls_identity;       /* the gateway's own identity at the CSMS: it
	                             obtains its server certificate under it */
	bool tls_require_client_cert;
	struct ogw_tls_floor tls_floor;  /* tls.min_version, tls.ciphers */
	unsigned int profiles;    /* of `listen`, as ogw_listener_conf's */
	struct ogw_listener_conf *listeners;  /* more charger listeners */
	size_t n_listeners;
	bool require_auth;        /* refuse chargers that send no valid Basic auth */

	bool bridge;              /* mode = "bridge": the cloud bridge (src/bridge) */

	/* north: the CSMS */
	char *csms_url;           /* ws:// or wss:// base, or mqtt(s)://broker/<site>
	                             for the MQTT uplink; NULL: none configured */
	char *csms_ca;
	char *csms_cert;
	char *csms_key;
	bool request_certificates;  /* csms.request_certificates: each charger's
	                               key and CSR, signed by the CSMS over OCPP */
	int certificate_renew_days; /* csms.certificate_renew_days: ask anew this
	                               long before expiry; default 30, 1-3650 */
	char *certificate_organization; /* csms.certificate_organization: O= of
	                                   the CSRs; NULL: none */
	char *csms_client_cert_dir; /* <id>.pem + <id>.key: a charger's own client
	                               certificate upstream (profile 3); NULL: none */
	struct ogw_tls_floor csms_tls_floor; /* csms.tls_min_version, csms.ciphers */
	int upstream_ocpp;        /* enum ogw_ocpp spoken to the CSMS; -1 (default):
	                             the charger's own version */
	int security_event_interval_s; /* csms.security_event_interval: the least time
	                                  between two failed-login reports of a
	                                  charger; default 60 s, 0-3600 */
	bool csms_pass_credentials; /* forward the charger's own Authorization header */
	struct ogw_csms_set_conf csms_multi; /* csms.secondaries, csms.token_routing */
	int ping_interval_s;      /* WebSocket ping on idle legs; default 30 */
	int reconnect_min_ms;     /* default 1000 */
	int reconnect_max_ms;     /* default 60000 */

	/* MQTT (docs/MQTT.md): the gateway's broker is csms.url, the bridge's mqtt.url */
	char *mqtt_url;           /* bridge: mqtt(s)://broker[:port]/<site or +> */
	char *mqtt_prefix;        /* topic root; default "ocpp" */
	char *mqtt_client_id;     /* NULL: derived from the role, site (and host) */
	char *mqtt_username;
	char *mqtt_password;
	char *mqtt_ca;            /* mqtts: CA file; NULL: /etc/ssl/certs */
	char *mqtt_cert;          /* mqtts: client certificate and key */
	char *mqtt_key;
	int mqtt_keepalive_s;     /* default 30 */
	char *mqtt_share;         /* bridge: shared subscription group; NULL: none */
	int mqtt_max_buffered;    /* bridge: frames held per charger while its
	                             WebSocket connects; default 100 */

	/* OCPP-J */
	int response_timeout_ms;  /* default 30000 */
	size_t max_frame_size;    /* default 65536 */
	int max_pending_calls;    /* calls queued per leg and direction; default 16 */
	char *schema_dir;         /* NULL: built-in schemas; else a directory with
	                             subdirectories 1.6, 2.0.1 and 2.1 */

	char *data_dir;           /* the durable store; default "/var/lib/ocppgw" */
	size_t store_max_size;    /* bytes the store may grow to; 0 (default): no cap */
	int store_max_events;     /* event rows kept (docs/OPERATOR.md); the oldest go */
	int history_interval_s;   /* seconds between history samples (docs/OPERATOR.md); default 10 */

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
#define OGW_ADMIN_MAX_TOKEN 1024
	char *admin_user;         /* Basic auth user, with admin_password_hash */
	char *admin_password_hash;
	size_t admin_max_header_size;  /* request line and headers; default 8192 */
	size_t admin_max_body_size;    /* default 65536 */
	int admin_idle_timeout_s;      /* for a whole request, and between requests; 30 */

	/* files: firmware and logs through the gateway (docs/FILES.md) */
	char *files_addr;         /* the LAN file server's address; NULL (default): off,
	                             locations pass through unchanged */
	int files_port;
	char *files_public_url;   /* base URL chargers are given; NULL: http(s)://addr:port */
	char *files_cert;         /* HTTPS: the file server's certificate (chain) and key, */
	char *files_key;          /* PEM; NULL (default): plain HTTP */
	size_t files_max_size;    /* bytes kept in data_dir/files, least recently used
	                             dropped; default 256 MiB */
	size_t files_max_file_size; /* one download's cap; default 64 MiB */
	int files_max_retries;    /* cap on the CSMS's retries; default 5 */
	int files_max_retry_interval_s; /* cap on its retryInterval; default 600 */
	int files_upload_attempts;  /* tries to hand a charger's log to the CSMS; default 60 */
	int files_upload_retry_s;   /* between them; default 60 */
	int files_idle_timeout_s;   /* a file server connection without progress; default 60 */
	/* files.ftp: an FTP server (pyftpdlib, started by the gateway) for chargers
	 * that upload logs only by FTP */
	char *files_ftp_addr;       /* NULL (default): none */
	int files_ftp_port;
	char *files_ftp_public_url; /* NULL: ftp://<the file server's host>:<port> */
	int files_ftp_pasv_first, files_ftp_pasv_last; /* 0: any port */
	char *files_ftp_masquerade; /* the address in PASV replies; NULL: the local one */
	bool files_ftp_always;      /* every log upload by FTP; false: only when the
	                               CSMS's location is ftp:// or ftps:// */
	char *files_ftp_server;     /* the program; default OGW_FTPD_PATH */
	/* the operator's firmware files in data_dir/firmware (never evicted) */
	int files_firmware_max_files;   /* how many; default 16 */
	size_t files_firmware_max_size; /* their bytes together; default 1 GiB */

	enum ogw_log_level log_level; /* default info */
	bool log_json;

	struct ogw_charger_conf *chargers; /* empty list: any identity accepted */
	size_t n_chargers;
	struct ogw_group_conf *groups;
	size_t n_groups;

	struct ogw_lb_conf *lb;   /* load_balancing section; NULL: none */

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
/* Checks that each file the configuration names (TLS certificates, keys
 * and CAs, the schema directory, the data directory) is there and can be
 * read, each error naming the setting's file:line, or the flag that set it.
 * 0 or -EINVAL. Apart from ogw_conf_check() because it looks at the disk. */
int ogw_conf_check_files(const struct ogw_conf *c, struct ogw_conf_errors *errs);
void ogw_conf_clear(struct ogw_conf *c);
void ogw_conf_errors_clear(struct ogw_conf_errors *errs);
const struct ogw_charger_conf *ogw_conf_charger(const struct ogw_conf *c, const char *id);
/* The security profile @id is bound to (its own, else its group's), or 0. */
int ogw_conf_security_profile(const struct ogw_conf *c, const char *id);
/* The profiles a listener takes: @profiles when set, else ws: 1; wss: 2
 * and 3, or 3 alone with require_client_cert. */
unsigned int ogw_conf_profiles(unsigned int profiles, bool tls, bool require_client_cert);
/* The OCPP version (enum ogw_ocpp) to speak to the CSMS for charger @id,
 * which speaks @south: its own upstream_ocpp, else its group's, else the
 * gateway's, else @south. */
int ogw_conf_upstream_for(const struct ogw_conf *c, const char *id, enum ogw_ocpp south);
/* The primary and secondaries charger @id (speaking @south) is shown to:
 * each level's csms block (charger, then group, then global) over the next;
 * the primary's version is ogw_conf_upstream_for(), its Basic auth the
 * charger's upstream_user / upstream_password. */
void ogw_conf_csms_for(const struct ogw_conf *c, const char *id, enum ogw_ocpp south,
		       struct ogw_csms_view *ret);
void ogw_csms_set_conf_free(struct ogw_csms_set_conf *set);
/* Whether the session opens a leg to secondary @c: a ws://, wss://
 * (with its own ca / cert / key, or the gateway's csms.ca), mqtt:// or
 * mqtts:// URL. */
bool ogw_conf_csms_secondary_wired(const struct ogw_csms_conf *c);
/* True when @addr is a loopback address (127.0.0.0/8, ::1, localhost). */
bool ogw_conf_is_loopback(const char *addr);
void ogw_lb_conf_free(struct ogw_lb_conf *lb);
/* The configured charger @id and its group (*ret_group NULL: under the
 * site), or NULL when @id is not listed. */
const struct ogw_lb_charger_conf *ogw_lb_conf_charger(const struct ogw_lb_conf *lb,
						      const char *id,
						      const struct ogw_lb_group_conf **ret_group);
/* The limit of @l in force at local minute @minute of the day (its first
 * schedule window that holds, else its own): A per phase, W in *ret_w
 * (each < 0: none). */
double ogw_lb_limit_at(const struct ogw_lb_limit *l, int minute, double *ret_w);
/* Parses "ADDR:PORT", "[v6]:PORT" or ":PORT" into *addr (malloc'd) and *port. */
int ogw_conf_parse_listen(const char *s, char **ret_addr, int *ret_port);
struct ogw_mqtt_opts;
/* The broker settings every MQTT client of ours shares (mqtt.username,
 * password, ca, cert, key, keepalive; csms.reconnect_min/max) into @o;
 * the URL, client id and will are the caller's. */
void ogw_conf_mqtt_opts(const struct ogw_conf *c, struct ogw_mqtt_opts *o);

#endif
