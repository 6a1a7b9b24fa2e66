/* SPDX-License-Identifier: MIT */
/*
 * Unit-test view of a worker's events: what it made since the last
 * clear_events, formatted as the consumer (the main lcore, replay) would
 * format them, left in the ring. events() fills evs[0..n) and returns n
 * (at most EV_VIEW_MAX).
 */
#ifndef TEST_EVENT_VIEW_H
#define TEST_EVENT_VIEW_H

#include "dp_event.h"
#include "dp_worker.h"

#define EV_VIEW_MAX 256

static struct egw_event evs[EV_VIEW_MAX];

static unsigned events(const struct dp_worker *w)
{
	uint32_t n = w->ev.pub - w->ev.tail;
	if (n > EV_VIEW_MAX)
		n = EV_VIEW_MAX;
	for (uint32_t i = 0; i < n; i++)
		dp_event_format(&w->ev.v[(w->ev.tail + i) & w->ev.mask], &evs[i]);
	return n;
}

static void clear_events(struct dp_worker *w)
{
	while (dp_event_peek(&w->ev))
		dp_event_pop(&w->ev);
}

#endif
