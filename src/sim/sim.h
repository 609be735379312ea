/* SPDX-License-Identifier: MIT */
/*
 * Internal interface of ocppgw-sim: the options, the fleet of simulated
 * chargers, the responder CSMS and the statistics they share. Nothing here is
 * used outside src/sim; the protocol layers (rpc, schema) come from the
 * project's libraries, not from copies.
 */
#ifndef OCPPGW_SIM_H
#define OCPPGW_SIM_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

#include "ocppgw/loop.h"
#include "ocppgw/ocpp.h"
#include "ocppgw/rpc.h"
#include "ocppgw/schema.h"
#include "ocppgw/tracker.h"

#define SIM_FRAME_MAX      (64 * 1024) /* largest frame accepted from a peer */
#define SIM_ID_MAX         48          /* 2.x identifierString */
#define SIM_QUEUE_MAX      1000        /* calls waiting per charger */
#define SIM_VOLTS          230.0       /* nominal phase voltage, OCPP 1.6 §7.12 */
#define SIM_MIN_AMPS       6.0         /* IEC 61851-1: below this, no charging */

/* ------------------------------------------------------------------ options */

struct sim_opts {
	/* fleet */
	const char *url;
	unsigned int count;
	unsigned int mix[OGW_OCPP_COUNT];   /* weights per version */
	double duration;                    /* s, real time */
	unsigned int evses, connectors;
	const char *id_pattern;
	const char *password;
	const char *ca;
	bool insecure;
	double time_scale;                  /* simulated seconds per real second */
	double meter_interval, session, idle; /* simulated seconds */
	unsigned int seed;
	double car_amps;
	unsigned int phases;
	double timeout;                     /* s, real: CALL answer deadline */
	/* load */
	bool load;
	double rate, ramp;
	bool json;
	/* responder */
	bool csms;
	const char *listen;
	int verbose;
};

/* ----------------------------------------------------------------- stats */

/* Log-linear histogram of microseconds: 16 linear steps per power of two,
 * fixed size, so recording never allocates. */
#define SIM_HIST_SUB    16
#define SIM_HIST_BUCKETS (SIM_HIST_SUB * 40)

struct sim_hist {
	uint64_t n, max, sum;
	uint32_t bucket[SIM_HIST_BUCKETS];
};

void sim_hist_add(struct sim_hist *h, uint64_t us);
/* The value below which @q (0..1) of the samples fall (bucket upper bound). */
uint64_t sim_hist_quantile(const struct sim_hist *h, double q);

/* One second of the measured phase, by when its calls were sent: where in
 * time the slow calls are (a stall shows as one second's max). */
struct sim_second {
	uint32_t n, over_20ms, over_50ms;
	uint32_t max_us;
};
#define SIM_SECONDS_MAX 3600

struct sim_stats {
	struct sim_hist rtt;       /* CALL sent -> answer received */
	struct sim_second sec[SIM_SECONDS_MAX];
	unsigned int n_sec;        /* seconds with a call */
	struct sim_hist connect;   /* connect started -> WebSocket established */
	uint64_t calls_sent, calls_ok, call_errors, timeouts, lost;
	uint64_t schema_faults;    /* invalid frames, sent or received */
	uint64_t calls_answered;   /* CALLs from the peer we answered */
	uint64_t connects, connect_failures, disconnects;
	uint64_t first_send_us, last_answer_us; /* throughput window */
};

/* Prints the report of a run (text, or JSON with @json). */
/* Records one measured call sent @since_us after the measured phase began. */
void sim_stats_add_call(struct sim_stats *s, uint64_t since_us, uint64_t rtt_us);
void sim_stats_report(const struct sim_stats *s, const struct sim_opts *o,
		      unsigned int accepted, double elapsed_s, bool json);
uint64_t sim_stats_errors(const struct sim_stats *s);

/* ---------------------------------------------------------------- wire */

/* Loads the built-in schema sets of every version. 0 or negative errno. */
int sim_wire_init(void);
void sim_wire_fini(void);
/* Validates @payload against @action's request or response schema of @v.
 * 0, -ENOENT when the version does not know @action, -EINVAL with *f. */
int sim_wire_check(enum ogw_ocpp v, const char *action, bool response,
		   const json_t *payload, struct ogw_schema_fault *f);

/* Outgoing frames of one connection, oldest first. */
struct sim_out {
	lws_dll2_t list;
	size_t len;
	char *buf;   /* LWS_PRE headroom, then the text */
};
/* Takes ownership of @buf (from the ogw_rpc_encode_* functions). -ENOMEM. */
int sim_out_push(lws_dll2_owner_t *q, struct lws *wsi, char *buf, size_t len);
/* Writes the oldest frame; asks for another WRITEABLE when more wait.
 * 0, or -1 when the connection must close. */
int sim_out_write(lws_dll2_owner_t *q, struct lws *wsi);
void sim_out_clear(lws_dll2_owner_t *q);

/* Reassembly of fragmented frames; the buffer exists only while one is. */
struct sim_rx {
	char *buf;
	size_t len;
};
/* Feeds one RECEIVE chunk. Returns 1 with *ret_buf and *ret_len set when a frame
 * is complete (valid until the next call), 0 when more is needed,
 * -EMSGSIZE or -ENOMEM. */
int sim_rx_feed(struct sim_rx *rx, struct lws *wsi, void *in, size_t len,
		const char **ret_buf, size_t *ret_len);
void sim_rx_clear(struct sim_rx *rx);

/* ------------------------------------------------------------- profiles */

enum sim_purpose {
	SIM_PURPOSE_MAX = 0,     /* ChargePointMaxProfile / ChargingStationMaxProfile */
	SIM_PURPOSE_TX_DEFAULT,
	SIM_PURPOSE_TX,
	SIM_PURPOSE_EXTERNAL,    /* 2.x ChargingStationExternalConstraints: like Max */
	SIM_PURPOSE_OTHER,       /* 2.1 purposes the sim stores but does not apply */
};

struct sim_period {
	int32_t start;           /* s from the schedule start */
	float amps;              /* per phase, converted from W when needed */
};

struct sim_profile {
	int id;
	int evse;                /* 0: the whole station */
	int stack_level;
	enum sim_purpose purpose;
	bool relative, recurring_weekly, recurring;
	int64_t start;           /* unix s; 0 when absent */
	int64_t valid_from, valid_to;
	int32_t duration;        /* s; 0 when absent */
	char tx_id[37];
	unsigned int nperiods;
	struct sim_period *periods;
	json_t *raw;             /* as received, for GetChargingProfiles */
};

struct sim_profiles {
	struct sim_profile *p;
	unsigned int n;
};

/* Parses a profile of version @v into *ret (owning copies). 0 or -EINVAL. */
int sim_profile_parse(enum ogw_ocpp v, const json_t *j, int evse, unsigned int phases,
		      struct sim_profile *ret);
void sim_profile_release(struct sim_profile *p);
/* The purpose named @name (1.6 or 2.x spelling); SIM_PURPOSE_OTHER if none. */
enum sim_purpose sim_profile_purpose(const char *name);
/* Installs @p (taking ownership), replacing a profile with the same id, or the
 * same stack level and purpose on the same EVSE (OCPP 1.6 §3.13.2). */
int sim_profiles_add(struct sim_profiles *ps, struct sim_profile *p);
/* Removes profiles matching the criteria (negative = any). Returns the count. */
unsigned int sim_profiles_clear(struct sim_profiles *ps, int id, int evse, int purpose,
				int stack_level);
/* Ends TxProfiles of the transaction @tx_id. */
void sim_profiles_end_tx(struct sim_profiles *ps, const char *tx_id);
void sim_profiles_free(struct sim_profiles *ps);
/* The active limit in A per phase at unix time @now for EVSE @evse (whose
 * transaction @tx_id started at @tx_start), or a negative value when no
 * profile applies. */
double sim_profiles_limit(const struct sim_profiles *ps, int evse, const char *tx_id,
			  int64_t tx_start, int64_t now);
/* The composite schedule for @duration s from @now as a JSON period array in
 * @unit_w (W) or A; NULL on ENOMEM. @max_amps applies where no profile does. */
json_t *sim_profiles_composite(const struct sim_profiles *ps, int evse, const char *tx_id,
			       int64_t tx_start, int64_t now, int duration, bool unit_w,
			       unsigned int phases, double max_amps);

/* ---------------------------------------------------------------- fleet */

enum sim_charger_state {
	SIM_CH_IDLE = 0,       /* not started yet */
	SIM_CH_CONNECTING,
	SIM_CH_BOOTING,        /* connected, BootNotification not yet Accepted */
	SIM_CH_ACCEPTED,
	SIM_CH_BACKOFF,        /* disconnected, waiting to reconnect */
	SIM_CH_DONE,
};

enum sim_evse_state {
	SIM_EVSE_FREE = 0,
	SIM_EVSE_PLUGGED,      /* cable in, waiting for Authorize */
	SIM_EVSE_AUTHORIZING,
	SIM_EVSE_CHARGING,     /* transaction running */
	SIM_EVSE_FINISHING,    /* transaction ended, cable still in */
};

struct sim_charger;

struct sim_evse {
	lws_sorted_usec_list_t sul;   /* next session step or meter sample */
	struct sim_charger *ch;
	uint8_t id;                   /* 1-based */
	uint8_t state;                /* enum sim_evse_state */
	bool unavailable, pending_unavailable, remote, suspended;
	int reservation_id;           /* -1: none */
	int remote_start_id;          /* -1: none */
	uint32_t seq_no;
	int tx_id16;                  /* 1.6 transactionId; < 0 until StartTransaction.conf */
	char tx_id[37];               /* "" when no transaction */
	char id_tag[21];
	int64_t tx_start;             /* unix s */
	double energy_wh, amps;
	uint64_t step_at_us, meter_at_us, sampled_us;
};

struct sim_kv;
struct sim_transfer;

struct sim_charger {
	struct sim_fleet *fleet;
	struct lws *wsi;
	lws_sorted_usec_list_t sul_conn;  /* reconnect, boot retry, reboot */
	lws_sorted_usec_list_t sul_hb;
	struct ogw_tracker tracker;
	struct ogw_call *boot;            /* BootNotification, sent ahead of the queue */
	lws_dll2_owner_t out;
	struct sim_rx rx;
	struct sim_profiles profiles;
	struct sim_kv *kv;                /* configuration changed from the defaults */
	struct sim_transfer *fw, *log;    /* firmware update, log upload in progress */
	struct sim_evse *evse;
	uint64_t sent_us, connect_us;
	uint32_t rng;
	uint16_t retries;
	uint8_t state;                    /* enum sim_charger_state */
	enum ogw_ocpp v;
	bool ever_accepted, rebooting;
	int local_list_version;
	unsigned int hb_interval;         /* simulated s */
	unsigned int meter_interval;      /* simulated s */
	unsigned int index;
	char id[SIM_ID_MAX + 1];
};

struct sim_fleet {
	const struct sim_opts *o;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct sim_charger *ch;
	struct sim_stats stats;
	char host[256], path[256];
	int port;
	bool tls, stopping;
	unsigned int started, accepted_now;
	uint64_t t0_us, stop_us;
	uint64_t measure_from_us;         /* load mode: start of the measured phase */
	lws_sorted_usec_list_t sul_tick;  /* deadlines, ramp, end of run */
	lws_sorted_usec_list_t sul_load;  /* load mode message pacing */
	double load_credit;
	uint64_t load_last_us;
	unsigned int load_next;
};

int sim_fleet_run(const struct sim_opts *o);

/* charger.c: the life of one charger */
void sim_charger_init(struct sim_charger *ch, struct sim_fleet *f, unsigned int index);
void sim_charger_start(struct sim_charger *ch);
void sim_charger_tick(struct sim_charger *ch, uint64_t now_us);
void sim_charger_stop(struct sim_charger *ch);
void sim_charger_fini(struct sim_charger *ch);
/* Queues a CALL (taking @payload). Transaction messages survive disconnects;
 * others are dropped while offline. 0 or negative errno. */
int sim_charger_call(struct sim_charger *ch, const char *action, json_t *payload);
/* Reset: ends transactions, drops the connection and boots again. */
void sim_charger_reboot(struct sim_charger *ch, const char *reason);
/* Sends a BootNotification ahead of the queue (boot, TriggerMessage). */
void sim_charger_send_boot(struct sim_charger *ch);
/* Sends what may be sent now. */
void sim_charger_pump(struct sim_charger *ch);
int sim_charger_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len);
/* Scaled simulated seconds -> real microseconds. */
uint64_t sim_charger_us(const struct sim_charger *ch, double sim_s);
uint32_t sim_charger_rand(struct sim_charger *ch);
/* Load mode: sends one message of the mix. */
void sim_charger_load_one(struct sim_charger *ch);

/* session.c: plug, authorize, transaction, meter values, stop */
void sim_session_begin(struct sim_evse *e);
int sim_session_remote_start(struct sim_evse *e, const char *id_tag, int remote_start_id);
void sim_session_stop(struct sim_evse *e, const char *reason);
void sim_session_answer(struct sim_charger *ch, const char *action, const json_t *req,
			const json_t *res);
void sim_session_send_status(struct sim_evse *e);
void sim_session_send_meter(struct sim_evse *e, const char *context);
void sim_session_limit_changed(struct sim_evse *e);
void sim_session_resume(struct sim_charger *ch);
struct sim_evse *sim_session_find_tx(struct sim_charger *ch, const json_t *tx_id);

/* messages.c: payload builders, one per message, version differences in tables */
json_t *sim_msg_boot(const struct sim_charger *ch);
json_t *sim_msg_heartbeat(void);
json_t *sim_msg_status(const struct sim_charger *ch, const struct sim_evse *e,
			unsigned int connector);
/* MeterValues outside a transaction (TriggerMessage). */
json_t *sim_msg_meter_plain(const struct sim_charger *ch, const struct sim_evse *e);
json_t *sim_msg_authorize(const struct sim_charger *ch, const char *id_tag);
json_t *sim_msg_tx_start(const struct sim_charger *ch, const struct sim_evse *e,
			 const char **ret_action);
json_t *sim_msg_tx_meter(const struct sim_charger *ch, const struct sim_evse *e,
			 const char *context, const char **ret_action);
json_t *sim_msg_tx_stop(const struct sim_charger *ch, const struct sim_evse *e,
			const char *reason, const char **ret_action);
json_t *sim_msg_tx_state(const struct sim_charger *ch, const struct sim_evse *e);
json_t *sim_msg_report_profiles(const struct sim_charger *ch, int request_id, int evse,
				json_t *profiles_take);
/* The status names of @v: [0] free, [1] plugged/occupied, [2] charging,
 * [3] suspended, [4] finishing, [5] unavailable, [6] reserved. */
const char *sim_msg_status_name(enum ogw_ocpp v, const struct sim_evse *e);

/* answer.c: CALLs a CSMS sends to a charger */
/* Answers @action; *ret_res is the response, or NULL with *ret_err set. */
void sim_answer(struct sim_charger *ch, const char *action, const json_t *req,
		json_t **ret_res, enum ogw_err *ret_err);

/* files.c: firmware downloads and log uploads (UpdateFirmware,
 * SignedUpdateFirmware, GetDiagnostics, GetLog) */
json_t *sim_files_request(struct sim_charger *ch, const char *action, const json_t *req);
/* Stops @ch's transfers, before the loop ends. */
void sim_files_stop(struct sim_charger *ch);
/* After every charger's sim_files_stop(): libcurl's handles, the temp dir. */
void sim_files_shutdown(void);

/* keys.c: the in-memory configuration store */
/* 1.6 GetConfiguration / ChangeConfiguration, 2.x GetVariables / SetVariables */
json_t *sim_keys_get16(struct sim_charger *ch, const json_t *req);
json_t *sim_keys_change16(struct sim_charger *ch, const json_t *req);
json_t *sim_keys_get2x(struct sim_charger *ch, const json_t *req);
json_t *sim_keys_set2x(struct sim_charger *ch, const json_t *req);
void sim_keys_free(struct sim_charger *ch);

/* csms.c: the responder */
int sim_csms_run(const struct sim_opts *o);

/* main.c */
extern volatile int sim_interrupted;
void sim_on_loop_signal(int sig);
/* The open-file limit, after raising it to the hard limit. */
unsigned int sim_fd_limit(void);

#endif
