/* SPDX-License-Identifier: MIT */
/*
 * The multi-CSMS stage, first in the pipeline: a CALL from a secondary CSMS
 * reaches the charger only when its action is on that CSMS's allow list
 * (docs/MULTI_CSMS.md, rule 2); otherwise the gateway answers it with the
 * configured refusal and the charger never sees it. The fan-out of the
 * charger's CALLs to every CSMS is the session's (src/session/session.c).
 */
#include <jansson.h>

#include "ocppgw/log.h"
#include "features/multi/multi.h"
#include "session/session.h"

static enum ogw_stage_verdict multi_on_call(struct ogw_leg *from, struct ogw_frame *f)
{
	const struct ogw_secondary *sec = ogw_leg_secondary(from);
	struct ogw_multi_refusal no;

	if (!sec || ogw_multi_call_allowed(sec->conf, from->ver, f->action, &no))
		return OGW_STAGE_CONTINUE;
	struct ogw_log_ctx lc = { from->s->id, sec->leg_name, f->action, f->id };
	ogw_info(&lc, "refused: not on this CSMS's allow list");
	/* a SEND is never answered */
	if (f->type == OGW_MSG_CALL && no.payload)
		ogw_leg_send_result(from, f->action, f->id, no.payload);
	else if (f->type == OGW_MSG_CALL)
		ogw_leg_send_error(from, f->id, no.error, "%s is not allowed from this CSMS",
				   f->action);
	json_decref(no.payload);
	return OGW_STAGE_DONE;
}

const struct ogw_stage ogw_multi_stage = {
	.name = "multi",
	.on_call = multi_on_call,
};
