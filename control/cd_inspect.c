/* SPDX-License-Identifier: MIT */
/* Inspection of punted packets: names, profile evaluation, tunnelling. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <egw/dns_msg.h>
#include <egw/dns_stream.h>
#include <egw/domain_set.h>
#include <egw/http_host.h>
#include <egw/tls_sni.h>

#include "cd_inspect.h"
#include "cd_tunnel.h"

#define FLOW_SLOTS 16384
#define FLOW_PROBE 8
#define FLOW_IDLE_US (120ull * 1000000ull)
#define MAX_NAMELESS_DATA 4   /* data packets without a complete name */
#define MAX_HITS 16

static const char doh_canary[] = "use-application-dns.net";

enum flow_state { FS_FREE = 0, FS_PENDING, FS_FINAL };

struct flow {
	uint8_t state;
	uint8_t verdict;
	uint8_t family, proto;
	uint8_t data_pkts;
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
	uint64_t last_us;
	const struct egw_loc *loc;  /* of the decision; in the policy */
	char reason[48];           /* as egw_event.reason */
	int32_t unit;               /* -1: none */
	const struct egw_terminal *term;
	struct egw_dns_stream dns;  /* TCP/53: where the client's messages start */
};

/*
 * What a probe reads of a slot, packed 4 to a cache line: the 8 slots a
 * lookup probes are 2 lines instead of 8 flows (~200 bytes each), which
 * matters when every packet is a new flow (a miss probes them all).
 * tag: the upper hash bits of the key the slot holds | 1, 0 when it never
 * held one; last_us: the flow's (also in the flow, for listings).
 */
struct flow_meta {
	uint32_t tag;
	uint32_t pad;
	uint64_t last_us;
};

struct cd_inspect {
	const struct egw_policy *p;
	struct egw_domain_set *domains;
	struct cd_tunnel *tunnel;
	struct cd_tunnel_limits lim;
	struct flow *flows;
	struct flow_meta *meta;   /* one per slot of flows */
	struct cd_inspect_stats st;
};

struct cd_inspect *cd_inspect_new(const struct egw_policy *p, char *err, size_t errlen)
{
	struct cd_inspect *in = calloc(1, sizeof(*in));
	const char *why = NULL;

	if (!in)
		goto nomem;
	in->p = p;
	in->domains = egw_domain_set_new();
	in->tunnel = cd_tunnel_new();
	in->flows = calloc(FLOW_SLOTS, sizeof(*in->flows));
	in->meta = calloc(FLOW_SLOTS, sizeof(*in->meta));
	if (!in->domains || !in->tunnel || !in->flows || !in->meta)
		goto nomem;
	for (size_t c = 0; c < p->n_categories; c++) {
		for (size_t i = 0; i < p->categories[c].n_domains; i++) {
			int rc = egw_domain_set_add(in->domains, p->categories[c].domains[i],
						    (uint32_t)c, &why);
			if (rc == -ENOMEM)
				goto nomem;
			if (rc < 0) {
				snprintf(err, errlen, "category %s: domain '%s': %s",
					 p->categories[c].name, p->categories[c].domains[i],
					 why ? why : "refused");
				cd_inspect_free(in);
				errno = EINVAL;
				return NULL;
			}
		}
	}
	if (egw_domain_set_freeze(in->domains) < 0)
		goto nomem;
	in->lim.max_qname = p->dns.suspicious.max_qname;
	in->lim.max_label = p->dns.suspicious.max_label;
	in->lim.min_entropy_bits = p->dns.suspicious.min_entropy_bits;
	in->lim.max_queries_per_second = p->dns.suspicious.max_queries_per_second;
	return in;
nomem:
	snprintf(err, errlen, "inspection: out of memory");
	cd_inspect_free(in);
	errno = ENOMEM;
	return NULL;
}

void cd_inspect_free(struct cd_inspect *in)
{
	if (!in)
		return;
	egw_domain_set_free(in->domains);
	cd_tunnel_free(in->tunnel);
	free(in->flows);
	free(in->meta);
	free(in);
}

void cd_inspect_get_stats(const struct cd_inspect *in, struct cd_inspect_stats *out)
{
	*out = in->st;
}

static bool list_contains(const struct egw_prefix_list *l, int family, const uint8_t *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (egw_prefix_contains(&l->v[i], family, a))
			return true;
	return false;
}


/* Unit by longest prefix on the source; -1 when none. */
static int find_unit(const struct egw_policy *p, const struct cd_pkt *k)
{
	int best = -1, best_len = -1;

	for (size_t u = 0; u < p->n_units; u++) {
		const struct egw_prefix_list *l = &p->units[u].prefixes;
		for (size_t i = 0; i < l->n; i++)
			if (l->v[i].len > best_len &&
			    egw_prefix_contains(&l->v[i], k->family, k->src)) {
				best = (int)u;
				best_len = l->v[i].len;
			}
	}
	return best;
}

static const struct egw_terminal *find_terminal(const struct egw_unit *u,
						const struct cd_pkt *k)
{
	for (size_t i = 0; i < u->n_terminals; i++)
		if (egw_prefix_contains(&u->terminals[i].ip, k->family, k->src))
			return &u->terminals[i];
	return NULL;
}

/* true when addr is in any of the n geo classes of refs ("!CN": not in). */
static bool geo_any(const struct egw_policy *p, const struct egw_geo_ref *refs, size_t n,
		    int family, const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		const struct egw_geo_class *c = &p->geo_classes[refs[i].cls];
		bool in = list_contains(family == AF_INET ? &c->v4 : &c->v6, family, addr);
		if (in != refs[i].negate)
			return true;
	}
	return false;
}

static bool geo_holds(const struct egw_policy *p, const struct egw_rule *r,
		      const struct cd_pkt *k)
{
	return geo_any(p, r->geo, r->n_geo, k->family, k->dst);
}

bool cd_inspect_is_resolver(const struct cd_inspect *in, int family, const uint8_t *addr)
{
	const struct egw_dns *d = &in->p->dns;

	return list_contains(&d->resolvers, family, addr) ||
	       geo_any(in->p, d->resolver_regions, d->n_resolver_regions, family, addr);
}

static bool proto_holds(const struct egw_rule *r, const struct cd_pkt *k)
{
	bool l4 = k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP;

	switch (r->proto) {
	case EGW_PROTO_ANY:
		return r->n_ports == 0 || l4;
	case EGW_PROTO_ICMP:
		return k->proto == (k->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	case EGW_PROTO_TCP:
		return k->proto == IPPROTO_TCP;
	case EGW_PROTO_UDP:
		return k->proto == IPPROTO_UDP;
	}
	return false;
}

static bool port_holds(const struct egw_rule *r, const struct cd_pkt *k)
{
	if (!r->n_ports)
		return true;
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return false;
	for (size_t i = 0; i < r->n_ports; i++)
		if (k->dport >= r->ports[i].lo && k->dport <= r->ports[i].hi)
			return true;
	return false;
}

static bool hit(const uint32_t *hits, size_t n, int32_t cat)
{
	for (size_t i = 0; i < n && i < MAX_HITS; i++)
		if (hits[i] == (uint32_t)cat)
			return true;
	return false;
}

/*
 * First rule of profile that holds for k with the name's category hits.
 * names_only: consider only rules with a category, matched on the name
 * (DNS queries: the destination is the resolver, not the named host).
 * NULL: no rule holds (the profile's default deny).
 */
static const struct egw_rule *eval(const struct egw_policy *p,
				   const struct egw_profile *pr, const struct cd_pkt *k,
				   const uint32_t *hits, size_t n_hits, bool names_only)
{
	for (size_t i = 0; i < pr->n_rules; i++) {
		const struct egw_rule *r = &pr->rules[i];
		if (names_only) {
			if (r->category >= 0 && hit(hits, n_hits, r->category))
				return r;
			continue;
		}
		if (r->category >= 0 && !hit(hits, n_hits, r->category) &&
		    !list_contains(&p->categories[r->category].addresses, k->family, k->dst))
			continue;
		if (r->n_geo && !geo_holds(p, r, k))
			continue;
		if (r->dst.n && !list_contains(&r->dst, k->family, k->dst))
			continue;
		if (!proto_holds(r, k) || !port_holds(r, k))
			continue;
		return r;
	}
	return NULL;
}

static uint64_t flow_hash(const struct cd_pkt *k)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *parts[2] = { k->src, k->dst };

	for (int j = 0; j < 2; j++)
		for (int i = 0; i < 16; i++)
			h = (h ^ parts[j][i]) * 1099511628211ull;
	h = (h ^ k->sport) * 1099511628211ull;
	h = (h ^ k->dport) * 1099511628211ull;
	h = (h ^ k->proto) * 1099511628211ull;
	return h;
}

static bool flow_eq(const struct flow *f, const struct cd_pkt *k)
{
	return f->family == k->family && f->proto == k->proto && f->sport == k->sport &&
	       f->dport == k->dport && !memcmp(f->src, k->src, 16) &&
	       !memcmp(f->dst, k->dst, 16);
}

static uint32_t flow_tag(uint64_t h)
{
	return (uint32_t)(h >> 32) | 1;
}

/* Whether slot x holds a live flow whose key may be k (tag t): the flow
 * itself is read only then. */
static bool slot_live(const struct cd_inspect *in, size_t x, uint32_t t, uint64_t now)
{
	return in->meta[x].tag == t && now - in->meta[x].last_us <= FLOW_IDLE_US &&
	       in->flows[x].state != FS_FREE;
}

/* The flow whose reply k is (k's addresses and ports swapped), or NULL. */
static struct flow *flow_find_reverse(struct cd_inspect *in, const struct cd_pkt *k, uint64_t now)
{
	struct cd_pkt r = *k;
	uint64_t h;

	memcpy(r.src, k->dst, 16);
	memcpy(r.dst, k->src, 16);
	r.sport = k->dport;
	r.dport = k->sport;
	h = flow_hash(&r);
	for (unsigned i = 0; i < FLOW_PROBE; i++) {
		size_t x = (h + i) % FLOW_SLOTS;
		if (slot_live(in, x, flow_tag(h), now) && flow_eq(&in->flows[x], &r)) {
			in->flows[x].last_us = in->meta[x].last_us = now;
			return &in->flows[x];
		}
	}
	return NULL;
}

/* The flow of k: found, or a fresh (FS_FREE-initialised) slot. */
static struct flow *flow_get(struct cd_inspect *in, const struct cd_pkt *k, uint64_t now)
{
	uint64_t h = flow_hash(k);
	uint32_t t = flow_tag(h);
	size_t victim = SIZE_MAX;
	bool victim_free = false;

	for (unsigned i = 0; i < FLOW_PROBE; i++) {
		size_t x = (h + i) % FLOW_SLOTS;
		const struct flow_meta *m = &in->meta[x];
		if (slot_live(in, x, t, now) && flow_eq(&in->flows[x], k)) {
			in->flows[x].last_us = in->meta[x].last_us = now;
			return &in->flows[x];
		}
		/* the victim: a slot never used or idle past the timeout, else
		 * the least recently used (from the meta line alone) */
		bool free_slot = !m->tag || now - m->last_us > FLOW_IDLE_US;
		if (victim == SIZE_MAX || (!victim_free &&
					   (free_slot || m->last_us < in->meta[victim].last_us))) {
			victim = x;
			victim_free = free_slot;
		}
	}
	struct flow *vf = &in->flows[victim];
	if (!victim_free && vf->state != FS_FREE)
		in->st.flow_evictions++;
	in->meta[victim].tag = t;
	in->meta[victim].last_us = now;
	memset(vf, 0, sizeof(*vf));
	vf->family = k->family;
	vf->proto = k->proto;
	vf->sport = k->sport;
	vf->dport = k->dport;
	memcpy(vf->src, k->src, 16);
	memcpy(vf->dst, k->dst, 16);
	vf->last_us = now;
	in->st.flows_cached++;
	return vf;
}

static void loc_str(const struct egw_loc *loc, char *buf, size_t cap)
{
	egw_loc_format(loc, false, buf, cap);
}

/* Copy, truncating to the field (event fields are fixed size). */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static struct egw_event *new_event(struct cd_decision *d, const struct cd_pkt *k,
				   const struct egw_policy *p, int unit,
				   const struct egw_terminal *t, uint64_t now,
				   enum egw_event_type type, enum egw_event_action act,
				   const char *reason, const struct egw_loc *loc)
{
	struct egw_event *ev;

	if (d->n_events >= CD_DECISION_EVENTS)
		return NULL;
	ev = &d->ev[d->n_events++];
	memset(ev, 0, sizeof(*ev));
	ev->type = (uint8_t)type;
	ev->action = (uint8_t)act;
	ev->family = k->family;
	ev->proto = k->proto;
	ev->src_port = k->sport;
	ev->dest_port = k->dport;
	memcpy(ev->src_ip, k->src, 16);
	memcpy(ev->dest_ip, k->dst, 16);
	ev->ts_us = now;
	ev->flow_id = flow_hash(k) & 0x7fffffffffffffffull;
	if (unit >= 0)
		copy_str(ev->unit, sizeof(ev->unit), p->units[unit].name);
	if (t) {
		copy_str(ev->user, sizeof(ev->user), t->user);
		copy_str(ev->switch_port, sizeof(ev->switch_port), t->switch_port);
		copy_str(ev->location, sizeof(ev->location), t->location);
		memcpy(ev->src_mac, t->mac, 6);
		ev->has_mac = 1;
	}
	copy_str(ev->reason, sizeof(ev->reason), reason);
	if (loc)
		loc_str(loc, ev->rule, sizeof(ev->rule));
	if (type == EGW_EV_FLOW) {
		ev->u.flow.start_us = now;
		ev->u.flow.end_us = now;
		copy_str(ev->u.flow.state, sizeof(ev->u.flow.state), "new");
	}
	return ev;
}

/* d is final on flow f: the fast path's copy of the verdict cites f. */
static void settle(struct cd_decision *d, const struct flow *f)
{
	d->why = f->reason;
	d->why_loc = f->loc;
}

struct ctx {
	struct cd_inspect *in;
	const struct egw_policy *p;
	const struct cd_pkt *k;
	int unit;
	const struct egw_terminal *t;
	const struct egw_profile *pr;   /* NULL: unregistered, let through */
	uint64_t now;
	struct cd_decision *d;
};

/* The reason and location of a verdict from eval(). */
static void rule_reason(const struct ctx *c, const struct egw_rule *r, bool allowed,
			char *reason, size_t cap, const struct egw_loc **loc)
{
	if (!r) {
		snprintf(reason, cap, "profile-default");
		*loc = &c->pr->loc;
		return;
	}
	*loc = &r->loc;
	if (allowed)
		snprintf(reason, cap, "%s", r->action == EGW_ACT_PUNT ? "inspected" : "allowed");
	else if (r->category >= 0)
		snprintf(reason, cap, "category:%s", c->p->categories[r->category].name);
	else if (r->n_geo)
		snprintf(reason, cap, "country");
	else
		snprintf(reason, cap, "rule");
}

/* What the names and the tunnelling signs say about one DNS query. */
struct dns_res {
	enum cd_verdict verdict;
	bool refused_name;           /* the policy refuses the name (NXDOMAIN) */
	bool tunnel;                 /* tunnelling signs */
	bool tunnel_final;           /* in the name itself: the flow is the tunnel */
	bool flag_dst;
	int malformed;               /* 0, or the decoder's error: no event made */
	char reason[48];
	const struct egw_loc *loc;
};

/*
 * Judge the query msg[0..len): r says what about it, and its events (an
 * alert for tunnelling signs, the dns event; rcode NXDOMAIN when answer and
 * the name is refused) are added to c->d. A message that is not a query
 * the decoder reads makes no event (r->malformed).
 */
static void judge_dns(struct ctx *c, const uint8_t *msg, size_t len, bool answer,
		      struct dns_res *r)
{
	struct cd_inspect *in = c->in;
	const struct egw_policy *p = c->p;
	struct egw_dns_query q;
	struct egw_event *ev;
	uint32_t hits[MAX_HITS];
	size_t n_hits;
	unsigned signs;

	memset(r, 0, sizeof(*r));
	in->st.dns++;
	r->malformed = egw_dns_decode_query(msg, len, &q);
	if (r->malformed != EGW_DNS_OK) {
		r->verdict = CD_DROP;
		return;
	}
	signs = cd_tunnel_check(in->tunnel, &in->lim, c->k->family, c->k->src, c->now,
				q.qname_len, q.max_label, q.entropy_bits);
	n_hits = egw_domain_set_match(in->domains, q.qname, q.qname_len, hits, MAX_HITS);

	r->verdict = CD_ACCEPT;
	snprintf(r->reason, sizeof(r->reason), "inspected");
	if (signs) {
		char what[64];
		r->verdict = CD_DROP;
		r->tunnel = true;
		/* the name itself looks like a tunnel: so does the flow that
		 * carries it (the rate alone blocks just the query) */
		r->tunnel_final = (signs & ~(unsigned)CD_TUN_RATE) != 0;
		r->flag_dst = !cd_inspect_is_resolver(in, c->k->family, c->k->dst);
		snprintf(r->reason, sizeof(r->reason), "tunnel-suspect");
		r->loc = &p->dns.suspicious.loc;
		in->st.tunnel_flagged++;
		ev = new_event(c->d, c->k, p, c->unit, c->t, c->now, EGW_EV_ALERT,
			       EGW_EA_BLOCKED, r->reason, r->loc);
		if (ev) {
			cd_tunnel_describe(signs, what, sizeof(what));
			snprintf(ev->u.alert.signature, sizeof(ev->u.alert.signature),
				 "DNS tunnelling signs: %s", what);
			snprintf(ev->u.alert.detail, sizeof(ev->u.alert.detail),
				 "qname %zu bytes, longest label %u, entropy %.2f bits/char",
				 q.qname_len, q.max_label, q.entropy_bits);
		}
	} else if (p->dns.block_doh &&
		   ((p->doh_category >= 0 && hit(hits, n_hits, p->doh_category)) ||
		    !strcmp(q.qname, doh_canary))) {
		r->verdict = CD_DROP;
		r->refused_name = true;
		snprintf(r->reason, sizeof(r->reason), "doh");
		r->loc = &p->dns.block_doh_loc;
		in->st.doh_blocked++;
	} else if (c->pr && n_hits) {
		const struct egw_rule *rule = eval(p, c->pr, c->k, hits, n_hits, true);
		if (rule && rule->action == EGW_ACT_DENY) {
			r->verdict = CD_DROP;
			r->refused_name = true;
			rule_reason(c, rule, false, r->reason, sizeof(r->reason), &r->loc);
			in->st.category_blocked++;
		} else if (rule) {
			r->loc = &rule->loc;
		}
	}
	if (!r->loc)
		r->loc = &p->dns.loc;
	ev = new_event(c->d, c->k, p, c->unit, c->t, c->now, EGW_EV_DNS,
		       r->verdict == CD_ACCEPT ? EGW_EA_ALLOWED : EGW_EA_BLOCKED,
		       r->reason, r->loc);
	if (ev) {
		ev->u.dns.id = q.id;
		ev->u.dns.rrtype = q.qtype;
		ev->u.dns.rcode = answer && r->refused_name ? 3 : -1;
		copy_str(ev->u.dns.rrname, sizeof(ev->u.dns.rrname), q.qname);
	}
}

/* A DNS query over UDP. */
static void decide_dns(struct ctx *c, const uint8_t *msg, size_t len)
{
	struct dns_res r;
	struct egw_event *ev;

	judge_dns(c, msg, len, true, &r);
	c->d->verdict = r.verdict;
	if (r.malformed) {
		/* Port 53 carrying something that is not a plain query: the
		 * punt asked us to look, and we cannot: refuse it. */
		ev = new_event(c->d, c->k, c->p, c->unit, c->t, c->now, EGW_EV_DROP,
			       EGW_EA_BLOCKED, "dns-malformed", &c->p->dns.loc);
		if (ev)
			snprintf(ev->u.alert.detail, sizeof(ev->u.alert.detail), "%s",
				 egw_dns_strerror(r.malformed));
		return;
	}
	c->d->nxdomain = r.refused_name;
	c->d->final = r.tunnel_final;
	c->d->flag_dst = r.flag_dst;
}

/* f's connection ends here under reason (at loc): the segment is dropped,
 * both sides reset, every later packet of the flow dropped. */
static void end_dns_tcp(struct ctx *c, struct flow *f, const char *reason,
			const struct egw_loc *loc)
{
	struct cd_decision *d = c->d;

	d->verdict = CD_DROP;
	d->final = true;
	d->reset = true;
	d->reset_server = true;
	d->nxdomain = false;
	f->state = FS_FINAL;
	f->verdict = CD_DROP;
	f->loc = loc;
	copy_str(f->reason, sizeof(f->reason), reason);
	settle(d, f);
}

/* A TCP/53 segment that cannot be judged (why: "dns-split" or
 * "dns-malformed"): one drop event at the dns section, and the end. */
static void refuse_dns_tcp(struct ctx *c, struct flow *f, const char *why)
{
	const struct egw_loc *loc = &c->p->dns.loc;

	c->in->st.dns_refused++;
	new_event(c->d, c->k, c->p, c->unit, c->t, c->now, EGW_EV_DROP, EGW_EA_BLOCKED, why,
		  loc);
	end_dns_tcp(c, f, why, loc);
}

/*
 * A TCP segment from the inside to port 53 on flow f (its SYN, or one with
 * bytes, real_len of them by the IP header): the stream's rules
 * (cd_inspect.h), then every message judged.
 */
static void decide_dns_tcp(struct ctx *c, struct flow *f, size_t real_len)
{
	const struct cd_pkt *k = c->k;
	struct cd_decision *d = c->d;
	uint32_t seq = k->tcp_seq;

	if (k->tcp_flags & 0x02) {   /* SYN */
		if (egw_dns_stream_start(&f->dns, seq) < 0) {
			refuse_dns_tcp(c, f, "dns-split");
			return;
		}
		seq++;
		if (!real_len) {
			d->verdict = CD_ACCEPT;
			if (f->state != FS_FINAL)
				f->state = FS_PENDING;
			return;
		}
	}
	int n = k->payload_len < real_len ? EGW_DNSS_PARTIAL :   /* cut by the copy range */
		egw_dns_stream_check(&f->dns, seq, k->payload, k->payload_len);
	if (n <= 0) {
		refuse_dns_tcp(c, f, "dns-split");
		return;
	}
	struct dns_res r, blocked = { 0 }, tunnel = { 0 };
	bool any_blocked = false, any_tunnel = false, tunnel_final = false;
	size_t off = 0, mlen;
	const uint8_t *msg;
	while (egw_dns_stream_next(k->payload, k->payload_len, &off, &msg, &mlen) == 1) {
		judge_dns(c, msg, mlen, n == 1, &r);
		if (r.malformed) {
			refuse_dns_tcp(c, f, "dns-malformed");
			return;
		}
		if (r.refused_name && !any_blocked) {
			blocked = r;
			any_blocked = true;
		}
		if (r.tunnel) {
			if (!any_tunnel)
				tunnel = r;
			any_tunnel = true;
			tunnel_final |= r.tunnel_final;
			d->flag_dst |= r.flag_dst;
		}
	}
	if (n == 1 && any_blocked) {
		/* one query: answered NXDOMAIN in the stream (what cannot be
		 * answered is reset) */
		d->verdict = CD_DROP;
		d->nxdomain = true;
		d->reset = true;
	} else if (any_blocked) {
		end_dns_tcp(c, f, blocked.reason, blocked.loc);
		return;
	} else if (any_tunnel) {
		d->verdict = CD_DROP;
		d->reset = true;
		if (tunnel_final) {
			d->final = true;
			f->state = FS_FINAL;
			f->verdict = CD_DROP;
			f->loc = tunnel.loc;
			copy_str(f->reason, sizeof(f->reason), "tunnel-suspect");
			settle(d, f);
			return;
		}
	} else {
		d->verdict = CD_ACCEPT;
		egw_dns_stream_accept(&f->dns, seq, k->payload_len);
	}
	if (f->state != FS_FINAL)
		f->state = FS_PENDING;
}

/* Decide a flow on its destination (and name when given); final. */
static void decide_flow(struct ctx *c, struct flow *f, const char *name,
			enum egw_event_type type)
{
	struct cd_inspect *in = c->in;
	uint32_t hits[MAX_HITS];
	size_t n_hits = 0;
	const struct egw_rule *r = NULL;
	const struct egw_loc *loc = NULL;
	char reason[48];
	struct egw_event *ev;
	bool allow;

	if (name)
		n_hits = egw_domain_set_match(in->domains, name, strlen(name), hits, MAX_HITS);
	if (c->pr) {
		r = eval(c->p, c->pr, c->k, hits, n_hits, false);
		allow = r && r->action != EGW_ACT_DENY;
		rule_reason(c, r, allow, reason, sizeof(reason), &loc);
		if (!allow) {
			if (!r)
				in->st.default_denied++;
			else if (r->category >= 0)
				in->st.category_blocked++;
		}
	} else {
		allow = true;
		snprintf(reason, sizeof(reason), "unregistered");
		loc = &c->p->terminals.unregistered_loc;
	}
	if (allow && name && c->p->dns.block_doh && c->p->doh_category >= 0 &&
	    hit(hits, n_hits, c->p->doh_category)) {
		allow = false;
		snprintf(reason, sizeof(reason), "doh");
		loc = &c->p->dns.block_doh_loc;
		in->st.doh_blocked++;
	}
	c->d->verdict = allow ? CD_ACCEPT : CD_DROP;
	c->d->reset = !allow && c->k->proto == IPPROTO_TCP;
	f->state = FS_FINAL;
	c->d->final = true;
	f->verdict = (uint8_t)c->d->verdict;
	f->loc = loc;
	copy_str(f->reason, sizeof(f->reason), reason);
	settle(c->d, f);
	if (!name && !allow)
		type = EGW_EV_DROP;
	ev = new_event(c->d, c->k, c->p, c->unit, c->t, c->now, type,
		       allow ? EGW_EA_ALLOWED : EGW_EA_BLOCKED, reason, loc);
	if (!ev)
		return;
	if (type == EGW_EV_TLS)
		copy_str(ev->u.tls.sni, sizeof(ev->u.tls.sni), name);
	else if (type == EGW_EV_HTTP)
		copy_str(ev->u.http.hostname, sizeof(ev->u.http.hostname), name);
}

static void decide_tcp_data(struct ctx *c, struct flow *f)
{
	char name[256];
	int rc;

	rc = egw_tls_sni(c->k->payload, c->k->payload_len, name, sizeof(name));
	if (rc == EGW_SNI_FOUND) {
		c->in->st.tls++;
		decide_flow(c, f, name, EGW_EV_TLS);
		return;
	}
	if (rc == EGW_SNI_NOT_TLS) {
		rc = egw_http_host(c->k->payload, c->k->payload_len, name, sizeof(name));
		if (rc == EGW_HOST_FOUND) {
			c->in->st.http++;
			decide_flow(c, f, name, EGW_EV_HTTP);
			return;
		}
		if (rc == EGW_HOST_INCOMPLETE && ++f->data_pkts < MAX_NAMELESS_DATA) {
			c->d->verdict = CD_ACCEPT;
			return;
		}
	} else if (rc == EGW_SNI_INCOMPLETE && ++f->data_pkts < MAX_NAMELESS_DATA) {
		/* the ClientHello continues in the next segment (the copy
		 * range covers one segment); wait for it */
		c->d->verdict = CD_ACCEPT;
		return;
	}
	decide_flow(c, f, NULL, EGW_EV_FLOW);
}

void cd_inspect_packet(struct cd_inspect *in, const uint8_t *data, size_t len,
		       uint64_t now_us, struct cd_decision *d)
{
	const struct egw_policy *p = in->p;
	struct ctx c = { .in = in, .p = p, .now = now_us, .d = d, .unit = -1 };
	struct flow *f;
	int rc;

	memset(d, 0, offsetof(struct cd_decision, ev));   /* events: as they are made */
	d->verdict = CD_ACCEPT;
	in->st.packets++;
	rc = cd_pkt_parse(data, len, &d->pkt);
	c.k = &d->pkt;
	if (rc != CD_PKT_OK) {
		/* not inspectable: the policy's fail mode decides */
		in->st.unparsable++;
		d->verdict = p->gateway.fail_mode == EGW_FAIL_OPEN ? CD_ACCEPT : CD_DROP;
		goto out;
	}
	/* A reply of a flow we have seen (the fast path punts both directions
	 * of a punted flow): it follows its flow, without an event. */
	f = flow_find_reverse(in, c.k, now_us);
	if (f) {
		d->verdict = f->state == FS_FINAL ? (enum cd_verdict)f->verdict : CD_ACCEPT;
		d->final = f->state == FS_FINAL;
		d->reply = true;
		goto out;
	}
	c.unit = find_unit(p, c.k);
	if (c.unit >= 0)
		c.t = find_terminal(&p->units[c.unit], c.k);
	if (c.unit < 0 || (p->terminals.binding == EGW_BINDING_STRICT && !c.t)) {
		if (p->terminals.unregistered == EGW_UNREG_DROP) {
			d->verdict = CD_DROP;
			d->final = true;
			f = flow_get(in, c.k, now_us);
			f->unit = c.unit;
			f->term = c.t;
			if (f->state == FS_FINAL) {
				settle(d, f);
				goto out;
			}
			f->state = FS_FINAL;
			f->verdict = CD_DROP;
			f->loc = &p->terminals.unregistered_loc;
			copy_str(f->reason, sizeof(f->reason), "unregistered");
			settle(d, f);
			new_event(d, c.k, p, c.unit, c.t, now_us, EGW_EV_DROP,
				  EGW_EA_BLOCKED, "unregistered",
				  &p->terminals.unregistered_loc);
			goto out;
		}
		c.pr = NULL;
	} else {
		c.pr = &p->profiles[p->units[c.unit].profile];
	}

	if ((c.k->proto == IPPROTO_UDP || c.k->proto == IPPROTO_TCP) && c.k->dport == 53 &&
	    (c.k->payload_len || (c.k->proto == IPPROTO_TCP && (c.k->tcp_flags & 0x02)))) {
		/* remembered so that the answer, when punted too, finds its
		 * query; each query is inspected unless the flow is blocked
		 * (an allowed one, say after an empty datagram, still is) */
		f = flow_get(in, c.k, now_us);
		f->unit = c.unit;
		f->term = c.t;
		if (f->state == FS_FINAL && f->verdict == CD_DROP) {
			d->verdict = f->verdict;
			d->final = true;
			d->reset = d->verdict == CD_DROP && c.k->proto == IPPROTO_TCP;
			settle(d, f);
			goto out;
		}
		if (c.k->proto == IPPROTO_TCP) {
			/* the segment's bytes by its IP header, against what
			 * the queue copied */
			size_t hdrs = (size_t)(c.k->payload - data);
			decide_dns_tcp(&c, f, c.k->ip_len > hdrs ? c.k->ip_len - hdrs : 0);
			goto out;
		}
		decide_dns(&c, c.k->payload, c.k->payload_len);
		if (f->state != FS_FINAL)
			f->state = FS_PENDING;
		if (d->final) {
			f->state = FS_FINAL;
			f->verdict = (uint8_t)d->verdict;
			f->loc = &p->dns.suspicious.loc;
			copy_str(f->reason, sizeof(f->reason), "tunnel-suspect");
			settle(d, f);
		}
		goto out;
	}

	f = flow_get(in, c.k, now_us);
	f->unit = c.unit;
	f->term = c.t;
	if (f->state == FS_FINAL) {
		d->verdict = f->verdict;
		d->final = true;
		d->reset = d->verdict == CD_DROP && c.k->proto == IPPROTO_TCP;
		settle(d, f);
		goto out;
	}
	if (c.k->proto == IPPROTO_TCP && c.k->payload_len) {
		decide_tcp_data(&c, f);
	} else if (c.k->proto == IPPROTO_TCP) {
		/* handshake: decide on the destination alone, but stay open for
		 * the name unless that already denies */
		const struct egw_rule *r = c.pr ? eval(p, c.pr, c.k, NULL, 0, false) : NULL;
		if (c.pr && (!r || r->action == EGW_ACT_DENY))
			decide_flow(&c, f, NULL, EGW_EV_FLOW);
		else
			f->state = FS_PENDING;
	} else {
		decide_flow(&c, f, NULL, EGW_EV_FLOW);
	}
out:
	if (d->verdict == CD_ACCEPT)
		in->st.accepted++;
	else
		in->st.dropped++;
}

void cd_inspect_foreach_flow(const struct cd_inspect *in, uint64_t now_us,
			     cd_flow_fn fn, void *arg)
{
	for (size_t i = 0; i < FLOW_SLOTS; i++) {
		const struct flow *f = &in->flows[i];
		struct cd_flow_info fi;

		if (f->state == FS_FREE || now_us - f->last_us > FLOW_IDLE_US)
			continue;
		fi.family = f->family;
		fi.proto = f->proto;
		memcpy(fi.src, f->src, 16);
		memcpy(fi.dst, f->dst, 16);
		fi.sport = f->sport;
		fi.dport = f->dport;
		fi.decided = f->state == FS_FINAL;
		fi.verdict = f->state == FS_FINAL ? (enum cd_verdict)f->verdict : CD_ACCEPT;
		fi.last_us = f->last_us;
		fi.loc = f->loc;
		fi.reason = f->reason;
		fi.unit = f->unit >= 0 && (size_t)f->unit < in->p->n_units ?
			  in->p->units[f->unit].name : "";
		fi.user = f->term && f->term->user ? f->term->user : "";
		fn(arg, &fi);
	}
}
