/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "dp_policy.h"
#include "dp_stats.h"

static const char *const port_names[DP_PORT__COUNT] = { "inside", "outside", "punt" };

static json_t *one(const struct dp_stats *s, const struct dp_flow_stats *fs,
		   uint64_t flows_now, uint64_t ev_made, uint64_t ev_lost)
{
	json_t *o = json_object(), *ports = json_object(), *drops = json_object(),
	       *verdicts = json_object(), *flows = json_object();
	if (!o || !ports || !drops || !verdicts || !flows)
		goto fail;
	for (unsigned p = 0; p < DP_PORT__COUNT; p++)
		json_object_set_new(ports, port_names[p],
				    json_pack("{sI sI sI sI}", "rx_packets", (json_int_t)s->rx_pkts[p],
					      "rx_bytes", (json_int_t)s->rx_bytes[p],
					      "tx_packets", (json_int_t)s->tx_pkts[p],
					      "tx_bytes", (json_int_t)s->tx_bytes[p]));
	for (unsigned r = 1; r < DP_DROP__COUNT; r++)
		json_object_set_new(drops, dp_drop_name(r), json_integer((json_int_t)s->drops[r]));
	for (unsigned a = 0; a < 4; a++)
		json_object_set_new(verdicts, dp_action_name(a),
				    json_integer((json_int_t)s->verdicts[a]));
	json_object_set_new(flows, "active", json_integer((json_int_t)flows_now));
	json_object_set_new(flows, "created", json_integer((json_int_t)fs->created));
	json_object_set_new(flows, "expired", json_integer((json_int_t)fs->expired));
	json_object_set_new(flows, "evicted", json_integer((json_int_t)fs->evicted));
	json_object_set_new(o, "ports", ports);
	json_object_set_new(o, "drops", drops);
	json_object_set_new(o, "verdicts", verdicts);
	json_object_set_new(o, "flows", flows);
	json_object_set_new(o, "non_ip", json_integer((json_int_t)s->non_ip));
	json_object_set_new(o, "ipv6_nd", json_integer((json_int_t)s->nd));
	json_object_set_new(o, "ipv6_mld", json_integer((json_int_t)s->mld));
	json_object_set_new(o, "icmp_errors", json_integer((json_int_t)s->icmp_errors));
	json_object_set_new(o, "control_verdicts_no_flow",
			    json_integer((json_int_t)s->verdicts_no_flow));
	json_object_set_new(o, "fragments", json_integer((json_int_t)s->fragments));
	json_object_set_new(o, "punts", json_integer((json_int_t)s->punts));
	json_object_set_new(o, "fail_open", json_integer((json_int_t)s->fail_open));
	json_object_set_new(o, "dns_answers", json_integer((json_int_t)s->dns_answers));
	json_object_set_new(o, "resets", json_integer((json_int_t)s->resets));
	json_object_set_new(o, "events", json_integer((json_int_t)ev_made));
	json_object_set_new(o, "events_lost", json_integer((json_int_t)ev_lost));
	return o;
fail:
	json_decref(o);
	json_decref(ports);
	json_decref(drops);
	json_decref(verdicts);
	json_decref(flows);
	return NULL;
}

json_t *dp_stats_json(struct dp_worker *const *workers, unsigned n)
{
	struct dp_stats sum;
	struct dp_flow_stats fsum;
	uint64_t active = 0, made = 0, lost = 0;
	json_t *per = json_array();

	memset(&sum, 0, sizeof(sum));
	memset(&fsum, 0, sizeof(fsum));
	if (!per)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		const struct dp_worker *w = workers[i];
		const uint64_t *a = (const uint64_t *)&w->st;
		uint64_t *b = (uint64_t *)&sum;
		for (size_t k = 0; k < sizeof(sum) / 8; k++)
			b[k] += a[k];
		fsum.created += w->ft.st.created;
		fsum.expired += w->ft.st.expired;
		fsum.evicted += w->ft.st.evicted;
		active += w->ft.n;
		made += w->ev.made;
		lost += w->ev.lost;
		json_array_append_new(per, one(&w->st, &w->ft.st, w->ft.n, w->ev.made, w->ev.lost));
	}
	json_t *o = one(&sum, &fsum, active, made, lost);
	if (!o) {
		json_decref(per);
		return NULL;
	}
	json_object_set_new(o, "workers", per);
	return o;
}
