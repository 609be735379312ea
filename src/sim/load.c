/* SPDX-License-Identifier: MIT */
/*
 * Statistics of a run: a fixed log-linear latency histogram (recording never
 * allocates, so 10,000 chargers cost nothing extra per message) and the
 * report, as text or JSON. It measures nothing itself; the charger code
 * feeds it.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"

/* Values below SIM_HIST_SUB get their own bucket; above, each power of two
 * is split into SIM_HIST_SUB equal steps (relative error <= 1/16). */
static unsigned int bucket_of(uint64_t v)
{
	unsigned int e, idx;

	if (v < SIM_HIST_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v);          /* >= 4 */
	idx = (e - 3) * SIM_HIST_SUB + (unsigned int)((v >> (e - 4)) & (SIM_HIST_SUB - 1));
	return idx < SIM_HIST_BUCKETS ? idx : SIM_HIST_BUCKETS - 1;
}

static uint64_t bucket_upper(unsigned int idx)
{
	unsigned int e, sub;

	if (idx < SIM_HIST_SUB)
		return idx;
	e = idx / SIM_HIST_SUB + 3;
	sub = idx % SIM_HIST_SUB;
	return ((uint64_t)(SIM_HIST_SUB + sub + 1) << (e - 4)) - 1;
}

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

void sim_hist_add(struct sim_hist *h, uint64_t us)
{
	h->bucket[bucket_of(us)]++;
	h->n++;
	h->sum += us;
	if (us > h->max)
		h->max = us;
}

uint64_t sim_hist_quantile(const struct sim_hist *h, double q)
{
	uint64_t want, seen = 0;

	if (!h->n)
		return 0;
	want = (uint64_t)(q * (double)h->n + 0.5);
	if (want < 1)
		want = 1;
	for (unsigned int i = 0; i < SIM_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			uint64_t u = bucket_upper(i);

			return u < h->max ? u : h->max;
		}
	}
	return h->max;
}

void sim_stats_add_call(struct sim_stats *s, uint64_t since_us, uint64_t rtt_us)
{
	sim_hist_add(&s->rtt, rtt_us);
	uint64_t i = since_us / 1000000;
	if (i >= SIM_SECONDS_MAX)
		return;
	struct sim_second *sec = &s->sec[i];
	sec->n++;
	sec->over_20ms += rtt_us >= 20000;
	sec->over_50ms += rtt_us >= 50000;
	if (rtt_us > sec->max_us)
		sec->max_us = rtt_us > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt_us;
	if (i + 1 > s->n_sec)
		s->n_sec = (unsigned int)i + 1;
}

/* "[[n, over 20 ms, over 50 ms, max ms], ...]" per second, on stdout. */
static void report_seconds(const struct sim_stats *s)
{
	printf("\"by_second\":[");
	for (unsigned int i = 0; i < s->n_sec; i++)
		printf("%s[%u,%u,%u,%.1f]", i ? "," : "", s->sec[i].n, s->sec[i].over_20ms,
		       s->sec[i].over_50ms, ms(s->sec[i].max_us));
	printf("],");
}

uint64_t sim_stats_errors(const struct sim_stats *s)
{
	return s->call_errors + s->timeouts + s->schema_faults;
}


void sim_stats_report(const struct sim_stats *s, const struct sim_opts *o,
		      unsigned int accepted, double elapsed_s, bool json)
{
	double window = s->last_answer_us > s->first_send_us ?
		(double)(s->last_answer_us - s->first_send_us) / 1e6 : 0;
	double tput = window > 0 ? (double)s->calls_ok / window : 0;
	const struct sim_hist *r = &s->rtt, *c = &s->connect;

	if (json) {
		printf("{");
		report_seconds(s);
		printf("\"chargers\":%u,\"accepted\":%u,\"elapsed_s\":%.3f,"
		       "\"connect_ms\":{\"n\":%llu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
		       "\"latency_ms\":{\"n\":%llu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"mean\":%.3f},"
		       "\"calls_sent\":%llu,\"calls_ok\":%llu,\"call_errors\":%llu,\"timeouts\":%llu,"
		       "\"lost\":%llu,\"schema_faults\":%llu,\"calls_answered\":%llu,"
		       "\"connects\":%llu,\"connect_failures\":%llu,\"disconnects\":%llu,"
		       "\"throughput_per_s\":%.1f,\"errors\":%llu}\n",
		       o->count, accepted, elapsed_s,
		       (unsigned long long)c->n, ms(sim_hist_quantile(c, .5)),
		       ms(sim_hist_quantile(c, .99)), ms(c->max),
		       (unsigned long long)r->n, ms(sim_hist_quantile(r, .5)),
		       ms(sim_hist_quantile(r, .9)), ms(sim_hist_quantile(r, .99)), ms(r->max),
		       r->n ? ms(r->sum / r->n) : 0.0,
		       (unsigned long long)s->calls_sent, (unsigned long long)s->calls_ok,
		       (unsigned long long)s->call_errors, (unsigned long long)s->timeouts,
		       (unsigned long long)s->lost, (unsigned long long)s->schema_faults,
		       (unsigned long long)s->calls_answered, (unsigned long long)s->connects,
		       (unsigned long long)s->connect_failures, (unsigned long long)s->disconnects,
		       tput, (unsigned long long)(sim_stats_errors(s) + (o->count - accepted)));
		fflush(stdout);
		return;
	}
	printf("chargers       %u (%u accepted) in %.1f s\n", o->count, accepted, elapsed_s);
	printf("connect        p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%llu connects, %llu failed, %llu drops)\n",
	       ms(sim_hist_quantile(c, .5)), ms(sim_hist_quantile(c, .99)), ms(c->max),
	       (unsigned long long)s->connects, (unsigned long long)s->connect_failures,
	       (unsigned long long)s->disconnects);
	printf("latency        p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (%llu calls)\n",
	       ms(sim_hist_quantile(r, .5)), ms(sim_hist_quantile(r, .9)),
	       ms(sim_hist_quantile(r, .99)), ms(r->max), (unsigned long long)r->n);
	printf("calls          %llu sent, %llu ok, %llu CALLERROR, %llu timed out, %llu lost to drops\n",
	       (unsigned long long)s->calls_sent, (unsigned long long)s->calls_ok,
	       (unsigned long long)s->call_errors, (unsigned long long)s->timeouts,
	       (unsigned long long)s->lost);
	printf("answered       %llu CALLs from the CSMS\n", (unsigned long long)s->calls_answered);
	printf("schema faults  %llu\n", (unsigned long long)s->schema_faults);
	printf("throughput     %.1f calls/s\n", tput);
	fflush(stdout);
}
