/* SPDX-License-Identifier: MIT */
/*
 * Replay: a capture (pcap, Ethernet) through one worker, offline, on the
 * capture's own clock, writing every event as one EVE JSON line. Frames
 * are copied into mbufs of a small mempool and classified by dp_burst, the
 * port loop's own code. A frame is taken as arriving on the outside port
 * when it belongs to a known flow as its reply or is addressed into a
 * unit; else on the inside port. At the end every flow still open ends
 * ("shutdown").
 *
 * Needs an initialised EAL (--no-huge is enough).
 */
#ifndef DP_REPLAY_H
#define DP_REPLAY_H

#include <stdio.h>

#include "dp_tables.h"

struct dp_replay_opts {
	const char *pcap;     /* capture to read */
	FILE *out;            /* EVE JSON lines */
	const char *stats;    /* NULL, or a file for the counters (JSON) */
};

/* 0, or -1 after one line on stderr naming the file and what is wrong. */
int dp_replay_run(const struct dp_tables *t, const struct dp_replay_opts *o);

#endif
