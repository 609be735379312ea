/* SPDX-License-Identifier: MIT */
/*
 * The WebSocket leg transport (struct ogw_leg_transport): how a leg's
 * frames leave through lws, with a write queue for a peer that is not
 * writeable now, keepalive pings and the close frame. The lws callbacks
 * (south.c, north.c) call ogw_ws_writeable(); what arrives goes to the
 * session (ogw_session_rx()). It neither decodes nor answers frames.
 */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "ocppgw/log.h"
#include "ocppgw/rpc.h"
#include "ocppgw/store.h"
#include "session/session.h"
#include "transport/transport.h"

/* A queued outgoing frame: this header, LWS_PRE bytes, then the text. The
 * rpc encoders leave room for both, so a frame is one allocation. */
struct wq_item {
	lws_dll2_t list;
	size_t len;
};
_Static_assert(sizeof(struct wq_item) <= OGW_LEG_HEADROOM - LWS_PRE,
	       "a queue item fits in the headroom every frame is encoded with");

/* A peer that stops reading gets this much queued before we drop it. */
#define WQ_MAX_BYTES(gw) (4 * (gw)->conf.max_frame_size + 65536)

/* lws_write()'s private opcode for a close frame in lws 4.1. */
#define OGW_LWS_WRITE_CLOSE 4

static struct ogw_log_ctx ws_ctx(const struct ogw_leg *l, const char *msg_id)
{
	return (struct ogw_log_ctx){ l->s->id, l->kind == OGW_SOUTH ? "south" : "north", NULL,
				     msg_id };
}

void ogw_ws_send_take(struct ogw_leg *l, char *buf, const char *text, size_t len)
{
	(void)text; /* written from the queue item, which is @buf */
	if (!l->wsi) {
		free(buf);
		return;
	}
	if (l->wq_bytes + len > WQ_MAX_BYTES(l->s->gw)) {
		struct ogw_log_ctx lc = ws_ctx(l, NULL);
		ogw_warn(&lc, "peer is not reading (%zu bytes queued): closing", l->wq_bytes);
		free(buf);
		ogw_leg_close(l, LWS_CLOSE_STATUS_POLICY_VIOLATION);
		return;
	}
	/* The common case: nothing queued and nothing lws still holds back.
	 * Writing at once saves a loop wake-up and two epoll_ctl calls per
	 * frame; lws buffers whatever part the kernel does not take, and then
	 * lws_partial_buffered() sends the next frames through the queue.
	 * (lws_send_pipe_choked() would ask the same with a poll() per frame.)
	 * While the store holds uncommitted writes, frames wait for the
	 * commit at the end of this loop iteration (see ogw_store_commit()). */
	if (!l->wq.count && !l->ping_due && !lws_partial_buffered(l->wsi) &&
	    !ogw_store_uncommitted(l->s->gw->store)) {
		int n = lws_write(l->wsi, (unsigned char *)buf + OGW_LEG_HEADROOM, len, LWS_WRITE_TEXT);
		free(buf);
		if (n < 0)
			lws_set_timeout(l->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		return;
	}
	struct wq_item *it = (struct wq_item *)buf;
	memset(it, 0, sizeof(*it));
	it->len = len;
	lws_dll2_add_tail(&it->list, &l->wq);
	l->wq_bytes += len;
	lws_callback_on_writable(l->wsi);
}

/* The close frame goes out from ogw_ws_writeable() after the queue. */
bool ogw_ws_close(struct ogw_leg *l)
{
	lws_callback_on_writable(l->wsi);
	return true;
}

void ogw_ws_ping(struct ogw_leg *l)
{
	if (!l->wsi)
		return;
	l->ping_due = true;
	lws_callback_on_writable(l->wsi);
}

void ogw_ws_abort(struct ogw_leg *l)
{
	if (l->wsi)
		lws_set_timeout(l->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}


int ogw_ws_writeable(struct ogw_leg *l)
{
	if (l->ping_due && l->state == OGW_LEG_UP) {
		unsigned char ping[LWS_PRE + 1];
		l->ping_due = false;
		if (lws_write(l->wsi, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0)
			return -1;
		if (lws_dll2_get_head(&l->wq))
			lws_callback_on_writable(l->wsi);
		return 0;
	}
	struct lws_dll2 *d = lws_dll2_get_head(&l->wq);
	if (d) {
		struct wq_item *it = lws_container_of(d, struct wq_item, list);
		unsigned char *data = (unsigned char *)it + OGW_LEG_HEADROOM;
		int n = lws_write(l->wsi, data, it->len, LWS_WRITE_TEXT);
		lws_dll2_remove(&it->list);
		l->wq_bytes -= it->len;
		free(it);
		if (n < 0)
			return -1;
		if (lws_dll2_get_head(&l->wq)) {
			lws_callback_on_writable(l->wsi);
			return 0;
		}
	}
	if (l->state == OGW_LEG_CLOSING) {
		/* On the libuv loop, lws 4.1's own close handshake (lws_close_reason()
		 * and return -1) drops the socket without the frame, so the close
		 * frame is written here, ahead of the FIN. lws 4.1 keeps its
		 * LWS_WRITE_CLOSE (4) private; lws_write() frames it like any other. */
		unsigned char cf[LWS_PRE + 2];
		cf[LWS_PRE] = (unsigned char)(l->close_status >> 8);
		cf[LWS_PRE + 1] = (unsigned char)(l->close_status & 0xff);
		lws_write(l->wsi, cf + LWS_PRE, 2, (enum lws_write_protocol)OGW_LWS_WRITE_CLOSE);
		return -1;
	}
	return 0;
}

void ogw_ws_drop_queue(struct ogw_leg *l)
{
	struct lws_dll2 *d;
	while ((d = lws_dll2_get_head(&l->wq))) {
		lws_dll2_remove(d);
		free(lws_container_of(d, struct wq_item, list));
	}
	l->wq_bytes = 0;
}

/* The frame of @it is a CALLRESULT: its id into @id. */
static bool wq_item_is_result(const struct wq_item *it, char id[OGW_MSGID_MAX + 1])
{
	const char *text = (const char *)it + OGW_LEG_HEADROOM;
	size_t i = 0;
	while (i < it->len && (text[i] == '[' || text[i] == ' '))
		i++;
	if (i >= it->len || text[i] != '3')
		return false;
	ogw_rpc_sniff_id(text, it->len < OGW_SNIFF_BYTES ? it->len : OGW_SNIFF_BYTES, id);
	return true;
}

void ogw_ws_withdraw(struct ogw_leg *l)
{
	struct lws_dll2 *d, *next;

	/* Every answer held for the failed commit becomes a refusal, so the
	 * charger keeps its message and sends it again; other frames stay. */
	for (d = lws_dll2_get_head(&l->wq); d; d = next) {
		next = d->next;
		struct wq_item *it = lws_container_of(d, struct wq_item, list);
		char id[OGW_MSGID_MAX + 1];
		if (!wq_item_is_result(it, id))
			continue;
		size_t len;
		char *buf = ogw_rpc_encode_error(OGW_LEG_HEADROOM, OGW_MSG_CALLERROR, id,
						 ogw_err_code(OGW_ERR_INTERNAL, l->ver),
						 "the gateway could not store what this answer "
						 "acknowledged (store full?): not acknowledged, send it again",
						 NULL, &len);
		if (!buf)
			continue;
		struct wq_item *err = (struct wq_item *)buf;
		memset(err, 0, sizeof(*err));
		err->len = len;
		lws_dll2_add_before(&err->list, &it->list);
		lws_dll2_remove(&it->list);
		l->wq_bytes += len - it->len;
		free(it);
		struct ogw_log_ctx lc = ws_ctx(l, id);
		ogw_warn(&lc, "answer withdrawn: the store did not keep what it acknowledged");
	}
}

/* A charger's leg; a north leg's is ogw_ws_north_transport (north.c), the
 * same functions and the client connect, so that this file needs nothing
 * of north.c. */
const struct ogw_leg_transport ogw_ws_transport = {
	.name = "websocket",
	.send_take = ogw_ws_send_take,
	.close = ogw_ws_close,
	.ping = ogw_ws_ping,
	.abort = ogw_ws_abort,
	.drop_queue = ogw_ws_drop_queue,
	.withdraw = ogw_ws_withdraw,
	.session_reconnects = true,
	.websocket = true,
};
