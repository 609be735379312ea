/* SPDX-License-Identifier: MIT */
/*
 * What an OCPP charging profile, as a CSMS sent it, limits at an instant.
 * Pure (JSON and clock values in, amps out): the balancer reads the CSMS's
 * profiles with it, and several CSMSs' profiles are combined with it
 * (src/features/multi). It sends nothing and keeps nothing.
 */
#ifndef OGW_BALANCE_PROFILE_H
#define OGW_BALANCE_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

/* When @body's schedule starts (startPeriod 0): its startSchedule, or
 * @tx_started (> 0) for a Relative profile, else @received. */
time_t ogw_balance_profile_start(const json_t *body, bool v16, time_t received,
				 int64_t tx_started);
/* The limit a charging profile (@body: 1.6 csChargingProfiles or 2.x
 * chargingProfile) sets at @now in A per phase, or < 0 when none of its
 * periods is in force (OCPP 1.6 §3.13.1 / 2.0.1 K01: the last period whose
 * startPeriod has passed; W over numberPhases at @voltage). @received
 * stands in for a missing startSchedule, @tx_started (> 0) starts a
 * Relative profile. */
double ogw_balance_profile_limit(const json_t *body, bool v16, time_t now, time_t received,
				 int64_t tx_started, double voltage);
/* @body's chargingSchedule (2.x: the first of its list). */
const json_t *ogw_balance_profile_schedule(const json_t *body, bool v16);

#endif
