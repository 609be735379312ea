/* SPDX-License-Identifier: MIT */
/*
 * What the simulator and the responder share on the wire: the schema sets of
 * every version, the per-connection queue of encoded frames waiting for
 * WRITEABLE, and reassembly of fragmented frames. It does not decode or
 * encode OCPP-J itself; that is the rpc library's job.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static struct ogw_schema_set *sets[OGW_OCPP_COUNT];

int sim_wire_init(void)
{
	char err[256];
	int r = 0;

	for (int v = 0; v < OGW_OCPP_COUNT; v++) {
		r = ogw_schema_set_load_builtin((enum ogw_ocpp)v, &sets[v], err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "Failed to load the %s schemas: %s\n",
				ogw_ocpp_name((enum ogw_ocpp)v), err);
			goto out;
		}
	}
out:
	return r;
}

void sim_wire_fini(void)
{
	for (int v = 0; v < OGW_OCPP_COUNT; v++)
		sets[v] = ogw_schema_set_free(sets[v]);
}

int sim_wire_check(enum ogw_ocpp v, const char *action, bool response,
		   const json_t *payload, struct ogw_schema_fault *f)
{
	const struct ogw_schema *s = ogw_schema_get(sets[v], action, response);

	if (!s)
		return -ENOENT;
	return ogw_schema_validate(s, payload, f);
}

int sim_out_push(lws_dll2_owner_t *q, struct lws *wsi, char *buf, size_t len)
{
	struct sim_out *o;

	if (!buf)
		return -ENOMEM;
	o = calloc(1, sizeof(*o));
	if (!o) {
		free(buf);
		return -ENOMEM;
	}
	o->buf = buf;
	o->len = len;
	lws_dll2_add_tail(&o->list, q);
	if (wsi)
		lws_callback_on_writable(wsi);
	return 0;
}

int sim_out_write(lws_dll2_owner_t *q, struct lws *wsi)
{
	struct sim_out *o;
	int n;

	if (!q->head)
		return 0;
	o = lws_container_of(q->head, struct sim_out, list);
	n = lws_write(wsi, (unsigned char *)o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
	lws_dll2_remove(&o->list);
	free(o->buf);
	free(o);
	if (n < 0)
		return -1;
	if (q->head)
		lws_callback_on_writable(wsi);
	return 0;
}

void sim_out_clear(lws_dll2_owner_t *q)
{
	while (q->head) {
		struct sim_out *o = lws_container_of(q->head, struct sim_out, list);

		lws_dll2_remove(&o->list);
		free(o->buf);
		free(o);
	}
}

int sim_rx_feed(struct sim_rx *rx, struct lws *wsi, void *in, size_t len,
		const char **ret_buf, size_t *ret_len)
{
	bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
	char *nb;

	if (first && final && !lws_remaining_packet_payload(wsi)) {
		sim_rx_clear(rx);
		*ret_buf = in;
		*ret_len = len;
		return 1;
	}
	if (first)
		rx->len = 0;
	if (rx->len + len > SIM_FRAME_MAX) {
		sim_rx_clear(rx);
		return -EMSGSIZE;
	}
	nb = realloc(rx->buf, rx->len + len + 1);
	if (!nb) {
		sim_rx_clear(rx);
		return -ENOMEM;
	}
	rx->buf = nb;
	memcpy(rx->buf + rx->len, in, len);
	rx->len += len;
	if (!final || lws_remaining_packet_payload(wsi))
		return 0;
	rx->buf[rx->len] = '\0';
	*ret_buf = rx->buf;
	*ret_len = rx->len;
	return 1;
}

void sim_rx_clear(struct sim_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->len = 0;
}
