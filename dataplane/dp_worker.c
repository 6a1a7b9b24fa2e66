/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <egw/dns_msg.h>
#include <egw/dns_stream.h>
#include <egw/domain_set.h>
#include <egw/http_host.h>
#include <egw/tls_sni.h>
#include <egw/ipc.h>

#include "dp_dnsreply.h"
#include "dp_dnstcp.h"
#include "dp_icmperr.h"
#include "dp_nat.h"
#include "dp_parse.h"
#include "dp_policy.h"
#include "dp_tcpreset.h"
#include "dp_worker.h"

int dp_worker_init(struct dp_worker *w, unsigned id, uint32_t flows, uint32_t events)
{
	return dp_worker_init_socket(w, id, flows, events, DP_FLOW_HEAP);
}

int dp_worker_init_socket(struct dp_worker *w, unsigned id, uint32_t flows, uint32_t events,
			  int socket)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	int r = dp_flow_init_socket(&w->ft, flows, id, socket);
	if (r)
		return r;
	r = dp_event_buf_init(&w->ev, events);
	if (r) {
		dp_flow_fini(&w->ft);
		return r;
	}
	/* Sets on line pairs (prepare prefetches a query's set). */
	size_t qbytes = (size_t)DP_QRATE_SETS * DP_QRATE_WAYS * sizeof(*w->qrate);
	_Static_assert(DP_QRATE_WAYS * sizeof(struct dp_qrate) == 128, "dp_qrate: a set is 2 lines");
	w->qrate = aligned_alloc(128, qbytes);
	if (w->qrate)
		memset(w->qrate, 0, qbytes);
	if (!w->qrate) {
		dp_event_buf_fini(&w->ev);
		dp_flow_fini(&w->ft);
		return -ENOMEM;
	}
	return 0;
}

void dp_worker_fini(struct dp_worker *w)
{
	dp_flow_fini(&w->ft);
	dp_event_buf_fini(&w->ev);
	free(w->qrate);
	w->qrate = NULL;
}

/* The set of the terminal at (family, addr): the top bits of multiplies of
 * the address's two words (every bit of the address reaches them). */
static inline struct dp_qrate *qrate_set(const struct dp_worker *w, uint8_t family,
					 const uint8_t *addr)
{
	_Static_assert(DP_QRATE_SETS == 1u << 12, "qrate_set: 12 bits of set number");
	uint64_t a0, a1;
	memcpy(&a0, addr, 8);
	memcpy(&a1, addr + 8, 8);
	uint64_t x = ((a0 ^ family) * 0x9e3779b97f4a7c15ull) ^ (a1 * 0xc2b2ae3d27d4eb4full);
	return &w->qrate[(size_t)(x >> (64 - 12)) * DP_QRATE_WAYS];
}

/* Count a DNS query of the terminal at (family, addr) at now_us; true when
 * it is over limit queries in its second. */
static bool qrate_over(struct dp_worker *w, uint8_t family, const uint8_t *addr,
		       uint64_t now_us, uint32_t limit)
{
	uint64_t sec = now_us / 1000000;
	struct dp_qrate *set = qrate_set(w, family, addr);
	struct dp_qrate *e = NULL, *victim = NULL;
	for (int i = 0; i < DP_QRATE_WAYS && !e; i++) {
		struct dp_qrate *c = &set[i];
		if (c->family == family && !memcmp(c->addr, addr, 16))
			e = c;
		else if (!victim || (victim->family && (!c->family || c->sec < victim->sec)))
			victim = c;   /* an unused way, else the oldest */
	}
	if (!e) {
		e = victim;
		e->family = family;
		memcpy(e->addr, addr, 16);
		e->sec = sec;
		e->count = 0;
	}
	if (e->sec != sec) {
		e->sec = sec;
		e->count = 0;
	}
	if (e->count < UINT32_MAX)
		e->count++;
	return e->count > limit;
}

/* The tables f's verdict was made under: t, or during a reload's sweep the
 * old ones for a flow not decided again yet (its verdict points there). */
static inline const struct dp_tables *decided_under(const struct dp_worker *w,
						    const struct dp_tables *t,
						    const struct dp_flow *f)
{
	return f->gen != w->ft.gen && w->sweep_old ? w->sweep_old : t;
}

static void emit_into(struct dp_worker *w, const struct dp_tables *t, struct dp_raw_event *e,
		      enum egw_event_type type, const struct dp_flow *f, uint64_t now_us,
		      const char *end_reason)
{
	t = decided_under(w, t, f);
	dp_event_record(e, type, f, &f->verdict, t->pol, now_us, end_reason);
	dp_event_push(&w->ev);
}

/* Inline: with nobody listening (the usual case) an event is two counters,
 * twice per new flow; the record itself is out of line. */
static inline void emit(struct dp_worker *w, const struct dp_tables *t,
			enum egw_event_type type, const struct dp_flow *f, uint64_t now_us,
			const char *end_reason)
{
	if (f->key.kind != DP_FK_FLOW)
		return;
	struct dp_raw_event *e = dp_event_slot(&w->ev);
	if (e)
		emit_into(w, t, e, type, f, now_us, end_reason);
}

struct end_ctx {
	struct dp_worker *w;
	const struct dp_tables *t;
	const char *reason;
};

static void flow_ended(const struct dp_flow *f, void *arg)
{
	struct end_ctx *c = arg;
	emit(c->w, c->t, EGW_EV_FLOW, f, f->last_us, c->reason);
}

static void make_key(const struct dp_pkt *p, bool from_outside, struct dp_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->proto = p->proto;
	memcpy(k->in_ip, from_outside ? p->dst : p->src, 16);
	memcpy(k->out_ip, from_outside ? p->src : p->dst, 16);
	if (!p->l4_known) {
		k->kind = DP_FK_FRAG;
		k->frag_id = p->frag_id;
	} else if (p->proto == 6 || p->proto == 17) {
		k->in_port = from_outside ? p->dport : p->sport;
		k->out_port = from_outside ? p->sport : p->dport;
	} else if (dp_pkt_is_echo(p)) {
		k->in_port = p->sport;   /* echo identifier, both ways */
	}
}

static enum dp_disp disposition(struct dp_worker *w, const struct dp_tables *t,
				const struct dp_verdict *v)
{
	switch (v->action) {
	case DP_ACT_ALLOW:
		return DP_DISP_FORWARD;
	case DP_ACT_PUNT:
		if (__atomic_load_n(&w->ctl_up, __ATOMIC_RELAXED)) {
			w->st.punts++;
			return DP_DISP_PUNT;
		}
		if (t->pol->gateway.fail_mode == EGW_FAIL_OPEN) {
			w->st.fail_open++;
			return DP_DISP_FORWARD;
		}
		w->st.drops[DP_DROP_PUNT_FAIL_CLOSED]++;
		return DP_DISP_DROP;
	case DP_ACT_REDIRECT:
		/* Rewritten by the caller: on its way to the redirect target. */
		return DP_DISP_FORWARD;
	default:
		w->st.drops[v->drop ? v->drop : DP_DROP_PROFILE]++;
		return DP_DISP_DROP;
	}
}

/* TCP state of f after a segment with flags (proto 6, ports known). */
static inline void tcp_track_flags(struct dp_flow *f, uint8_t proto, uint8_t flags,
				   bool from_outside)
{
	if (proto != 6 || !(flags & (DP_TCP_SYN | DP_TCP_FIN | DP_TCP_RST)))
		return;   /* most segments: one test */
	if (flags & DP_TCP_SYN)
		f->tcp_state |= from_outside ? DP_TS_SYN_OUT : DP_TS_SYN_IN;
	if (flags & DP_TCP_FIN)
		f->tcp_state |= from_outside ? DP_TS_FIN_OUT : DP_TS_FIN_IN;
	if (flags & DP_TCP_RST)
		f->tcp_state |= DP_TS_RST;
}

static void tcp_track(struct dp_flow *f, const struct dp_pkt *p, bool from_outside)
{
	if (p->l4_known)
		tcp_track_flags(f, p->proto, p->tcp_flags, from_outside);
}

/* A new entry for key with verdict v; the evicted one, if any, ends. */
static inline __attribute__((always_inline)) struct dp_flow *
new_flow_inline(struct dp_worker *w, const struct dp_tables *t, const struct dp_flow_key *k,
		uint32_t h, const struct dp_pkt *p, const struct dp_verdict *v, uint64_t now_us)
{
	/* The evicted flow ends from its entry in place, before the new
	 * one is written into it (no copy of the entry). */
	bool evicted;
	struct dp_flow *f = dp_flow_claim(&w->ft, h, &evicted);
	if (evicted)
		emit(w, t, EGW_EV_FLOW, f, now_us, "evicted");
	dp_flow_fill(&w->ft, f, k, h, now_us);
	f->verdict = *v;
	memcpy(f->src_mac, p->src_mac, 6);
	memcpy(f->dst_mac, p->dst_mac, 6);
	if (k->kind == DP_FK_FLOW) {
		w->st.verdicts[v->action]++;
		emit(w, t, v->action == DP_ACT_ALLOW || v->action == DP_ACT_PUNT ?
			     EGW_EV_FLOW : EGW_EV_DROP, f, now_us, NULL);
	}
	return f;
}

static __attribute__((noinline)) struct dp_flow *
new_flow(struct dp_worker *w, const struct dp_tables *t, const struct dp_flow_key *k, uint32_t h,
	 const struct dp_pkt *p, const struct dp_verdict *v, uint64_t now_us)
{
	return new_flow_inline(w, t, k, h, p, v, now_us);   /* inlined in new_common only */
}

static void pkt_of_flow(const struct dp_flow *f, struct dp_pkt *p);

/*
 * f, decided under the tables before a reload (f->gen older than the
 * table's), decided again under t: the same action keeps the flow with the
 * new verdict; another ends it ("reload", its end event from the old
 * policy) and removes it: NULL. A control-plane verdict stays while t
 * still punts the flow.
 */
static __attribute__((noinline)) struct dp_flow *
regen(struct dp_worker *w, const struct dp_tables *t, struct dp_flow *f)
{
	struct dp_pkt p;
	struct dp_verdict v;

	pkt_of_flow(f, &p);
	dp_policy_decide(t, &p, &v);
	if (f->verdict.reason == DP_R_CONTROL && v.action == DP_ACT_PUNT) {
		/* Still the control plane's to decide: its verdict stays. */
		v.action = f->verdict.action;
		v.drop = f->verdict.drop;
		v.reason = DP_R_CONTROL;
	}
	if (v.action == f->verdict.action) {
		f->verdict = v;
		f->gen = w->ft.gen;
		return f;
	}
	/* The new policy treats it otherwise: it ends here (its end event
	 * names the old policy's verdict); its next packet is a new flow
	 * under the new policy. */
	emit(w, t, EGW_EV_FLOW, f, f->last_us, "reload");
	dp_flow_remove(&w->ft, f);
	return NULL;
}

/* f (a lookup's answer, or NULL) under the tables in force. */
static inline struct dp_flow *live(struct dp_worker *w, const struct dp_tables *t,
				   struct dp_flow *f)
{
	if (f && __builtin_expect(f->gen != w->ft.gen, 0))
		return regen(w, t, f);
	return f;
}

/* A later fragment: its first fragment's verdict, or the L3-only one. */
static const uint8_t *redirect_target(const struct dp_tables *t, int family)
{
	const struct egw_dns *d = &t->pol->dns;
	return family == AF_INET ? d->redirect_v4.addr : d->redirect_v6.addr;
}

static enum dp_disp fragment(struct dp_worker *w, const struct dp_tables *t, uint8_t *frame,
			     struct dp_pkt *p, const struct dp_flow_key *k,
			     bool from_outside, uint32_t len, uint64_t now_us)
{
	uint32_t h = dp_flow_hash(k);
	struct dp_flow *f = dp_flow_lookup(&w->ft, k, h);

	if (f && dp_flow_expired(f, now_us)) {
		dp_flow_remove(&w->ft, f);
		f = NULL;
	}
	f = live(w, t, f);
	if (!f) {
		if (from_outside) {
			w->st.drops[DP_DROP_NO_FLOW]++;
			return DP_DISP_DROP;
		}
		struct dp_verdict v;
		dp_policy_decide(t, p, &v);
		f = new_flow(w, t, k, h, p, &v, now_us);
	}
	f->pkts[from_outside]++;
	f->bytes[from_outside] += len;
	dp_flow_touch(&w->ft, f, now_us);
	if (f->verdict.action == DP_ACT_REDIRECT)
		dp_nat_set_addr(frame, p, true, redirect_target(t, p->family));
	return disposition(w, t, &f->verdict);
}

/* A first fragment's verdict, for the fragments that follow (keyed by the
 * tuple as sent and the fragment id). */
static void remember_first_fragment(struct dp_worker *w, const struct dp_tables *t,
				    const struct dp_pkt *p, const struct dp_flow_key *k,
				    const struct dp_verdict *v, uint64_t now_us)
{
	struct dp_flow_key fk = *k;
	fk.kind = DP_FK_FRAG;
	fk.frag_id = p->frag_id;
	fk.in_port = fk.out_port = 0;
	uint32_t fh = dp_flow_hash(&fk);
	struct dp_flow *ff = dp_flow_lookup(&w->ft, &fk, fh);
	if (!ff)
		ff = new_flow(w, t, &fk, fh, p, v, now_us);
	ff->verdict = *v;
	ff->gen = w->ft.gen;   /* decided now */
	dp_flow_touch(&w->ft, ff, now_us);
}

/*
 * A query to a resolver that is not approved, under "redirect": on to the
 * redirect target through a flow keyed by the target, which remembers the
 * resolver asked so that answers go back as if from it.
 */
static struct dp_flow *redirect_flow(struct dp_worker *w, const struct dp_tables *t,
				     const struct dp_pkt *p, const struct dp_flow_key *k,
				     const struct dp_verdict *v, uint64_t now_us)
{
	struct dp_flow_key nk = *k;
	memcpy(nk.out_ip, redirect_target(t, p->family), 16);
	uint32_t h = dp_flow_hash(&nk);
	struct dp_flow *f = live(w, t, dp_flow_lookup(&w->ft, &nk, h));
	if (f && (!f->nat || memcmp(f->nat_ip, k->out_ip, 16)))
		f = NULL;   /* the same tuple straight to the target: not ours */
	if (!f && !dp_flow_lookup(&w->ft, &nk, h)) {
		bool evicted;
		f = dp_flow_claim(&w->ft, h, &evicted);
		if (evicted)
			emit(w, t, EGW_EV_FLOW, f, now_us, "evicted");
		dp_flow_fill(&w->ft, f, &nk, h, now_us);
		f->verdict = *v;
		f->nat = 1;
		memcpy(f->nat_ip, k->out_ip, 16);
		memcpy(f->src_mac, p->src_mac, 6);
		w->st.verdicts[v->action]++;
		emit(w, t, EGW_EV_FLOW, f, now_us, NULL);
	}
	return f;
}

/* redirect_flow, and the packet rewritten toward the redirect target. */
static struct dp_flow *redirect(struct dp_worker *w, const struct dp_tables *t, uint8_t *frame,
				struct dp_pkt *p, const struct dp_flow_key *k,
				const struct dp_verdict *v, uint64_t now_us)
{
	struct dp_flow *f = redirect_flow(w, t, p, k, v, now_us);
	if (f)
		dp_nat_set_addr(frame, p, true, redirect_target(t, p->family));
	return f;
}

/* The RST toward the server in w->extra, of a connection redirected to
 * the redirect target: addressed to the target, which holds it. */
static void reset_to_target(struct dp_worker *w, const struct dp_tables *t)
{
	struct dp_pkt xp;
	if (dp_parse(w->extra, w->extra_len, &xp) != DP_DROP_NONE || !xp.family) {
		w->extra_len = 0;
		return;
	}
	dp_nat_set_addr(w->extra, &xp, true, redirect_target(t, xp.family));
}

/* What the names in the policy say about a query name, for unit (-1: no
 * unit): v->action stays DP_ACT_ALLOW when nothing applies. */
static void name_decide(const struct dp_tables *t, int32_t unit, const char *qname, size_t len,
			struct dp_verdict *v)
{
	const struct egw_policy *pol = t->pol;
	uint32_t vals[8];
	size_t n = egw_domain_set_match(t->names, qname, len, vals, 8);
	if (n > 8)
		n = 8;
	v->action = DP_ACT_ALLOW;
	if (!n)
		return;
	for (size_t i = 0; i < n && pol->dns.block_doh; i++) {
		if (vals[i] == DP_NAME_CANARY || (int32_t)vals[i] == pol->doh_category) {
			v->action = DP_ACT_DROP;
			v->reason = DP_R_DOH;
			v->drop = DP_DROP_DNS_NAME;
			v->category = (int16_t)pol->doh_category;
			v->loc = &pol->dns.block_doh_loc;
			return;
		}
	}
	if (unit < 0)
		return;
	const struct egw_profile *prof = &pol->profiles[pol->units[unit].profile];
	for (size_t r = 0; r < prof->n_rules; r++) {
		const struct egw_rule *er = &prof->rules[r];
		/* Only a rule about the category alone speaks about its names. */
		if (er->category < 0 || er->n_geo || er->dst.n || er->n_ports ||
		    er->proto != EGW_PROTO_ANY)
			continue;
		size_t i = 0;
		while (i < n && vals[i] != (uint32_t)er->category)
			i++;
		if (i == n)
			continue;
		if (er->action == EGW_ACT_ALLOW)
			return;
		v->action = er->action == EGW_ACT_PUNT ? DP_ACT_PUNT : DP_ACT_DROP;
		v->reason = DP_R_CATEGORY;
		v->drop = DP_DROP_DNS_NAME;
		v->category = (int16_t)er->category;
		v->loc = &er->loc;
		return;
	}
}

/*
 * The gateway's NXDOMAIN for the query in frame, in place: over UDP the
 * answer; over TCP the answer closing the connection to the client, and in
 * w->extra the RST that closes it toward the server (built first, from the
 * query segment). Returns the answer's length, or 0 (frame unchanged, no
 * extra frame) when the query cannot be answered.
 */
static uint32_t answer_nxdomain(struct dp_worker *w, uint8_t *frame, const struct dp_pkt *p)
{
	if (p->proto != 6)
		return dp_dns_nxdomain(frame, p);
	w->extra_len = dp_tcp_reset(frame, p, false, w->extra, sizeof(w->extra));
	uint32_t n = w->extra_len ? dp_dns_tcp_nxdomain(frame, p) : 0;
	if (!n)
		w->extra_len = 0;
	else
		w->st.resets++;
	return n;
}

/* What dns_query judges of a packet from the inside to port 53 (is_dns_query): a packet with bytes (not a later
 * fragment; a TCP segment that is a first fragment too: dns_tcp refuses
 * it), or a TCP SYN (where the client's stream starts). */
static bool dns_judged(const struct dp_pkt *p)
{
	return (!p->is_frag || p->proto == 6) &&
	       (p->payload_len || (p->proto == 6 && (p->tcp_flags & DP_TCP_SYN)));
}

/* The verdict on the query q from flow f's terminal (names, then the
 * tunnelling signs) into nv; every decoded query counts towards the
 * terminal's rate. */
static void query_verdict(struct dp_worker *w, const struct dp_tables *t, const struct dp_flow *f,
			  const struct egw_dns_query *q, uint64_t now_us, struct dp_verdict *nv)
{
	*nv = f->verdict;
	name_decide(t, f->verdict.unit, q->qname, q->qname_len, nv);
	const struct egw_dns_suspicious *sus = &t->pol->dns.suspicious;
	bool too_many = qrate_over(w, f->key.family, f->key.in_ip, now_us,
				   sus->max_queries_per_second);
	if (nv->action == DP_ACT_ALLOW &&
	    (q->qname_len > sus->max_qname || q->max_label > sus->max_label ||
	     q->entropy_bits > sus->min_entropy_bits || too_many)) {
		/* Tunnelling signs: the control plane looks closer. */
		nv->action = DP_ACT_PUNT;
		nv->reason = DP_R_TUNNEL;
		nv->loc = &sus->loc;
	}
}

/* One dns event for the query q on flow f under its verdict nv (rcode -1:
 * not answered by the gateway). */
static void dns_event(struct dp_worker *w, const struct dp_tables *t, const struct dp_flow *f,
		      const struct dp_verdict *nv, const struct egw_dns_query *q, int rcode,
		      uint64_t now_us)
{
	struct dp_raw_event *e = dp_event_slot(&w->ev);
	if (!e)
		return;
	dp_event_record(e, EGW_EV_DNS, f, nv->action != DP_ACT_ALLOW ? nv : &f->verdict,
			t->pol, now_us, NULL);
	e->dns_id = q->id;
	e->dns_rrtype = q->qtype;
	e->dns_rcode = (int16_t)rcode;
	dp_event_set_name(e, q->qname, q->qname_len);
	dp_event_push(&w->ev);
}

/*
 * The gateway ends f's connection under nv (a drop): the rest of it is
 * dropped, the frame becomes the RST to the client and w->extra the RST to
 * the server (at the sequence number it expects: this segment never
 * reaches it). Returns DP_DISP_REPLY, or DP_DISP_DROP when the RST to the
 * client cannot be built.
 */
static int tcp_end(struct dp_worker *w, struct dp_flow *f, uint8_t *frame, const struct dp_pkt *p,
		   uint32_t *len, const struct dp_verdict *nv)
{
	f->verdict = *nv;
	f->tcp_state |= DP_TS_RST;   /* closed: the entry goes at the closed timeout */
	w->st.drops[nv->drop]++;
	w->extra_len = dp_tcp_reset(frame, p, false, w->extra, sizeof(w->extra));
	uint8_t rst[128];
	uint32_t n = dp_tcp_reset(frame, p, true, rst, sizeof(rst));
	if (!n || n > *len)
		return DP_DISP_DROP;
	memcpy(frame, rst, n);
	*len = n;
	w->st.resets++;
	return DP_DISP_REPLY;
}

/* A TCP/53 segment the gateway cannot judge (why: DP_R_DNS_SPLIT or
 * DP_R_DNS_MALFORMED): one drop event (the policy's dns section is the
 * rule), and the connection ends at both sides. */
static int dns_refuse(struct dp_worker *w, const struct dp_tables *t, struct dp_flow *f,
		      uint8_t *frame, const struct dp_pkt *p, uint32_t *len, uint64_t now_us,
		      enum dp_reason why)
{
	struct dp_verdict nv = f->verdict;
	nv.action = DP_ACT_DROP;
	nv.reason = (uint8_t)why;
	nv.drop = (uint8_t)(why == DP_R_DNS_SPLIT ? DP_DROP_DNS_SPLIT : DP_DROP_DNS_MALFORMED);
	nv.loc = &t->pol->dns.loc;
	struct dp_raw_event *e = dp_event_slot(&w->ev);
	if (e) {
		dp_event_record(e, EGW_EV_DROP, f, &nv, t->pol, now_us, NULL);
		dp_event_push(&w->ev);
	}
	return tcp_end(w, f, frame, p, len, &nv);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * A TCP segment from the inside to port 53 on flow f (allowed or
 * redirected): the SYN sets where the client's stream starts; a segment
 * with bytes must be a run of whole messages at a message boundary
 * (egw/dns_stream.h), else it is refused; then every message is judged.
 * One message: as over UDP (a blocked name answered NXDOMAIN in the
 * stream, the resolver reset). Several: a blocked one drops the segment
 * and resets both sides; a tunnelling-suspect one punts it. Returns -1 to
 * go on as the flow says, or the disposition.
 */
static __attribute__((noinline)) int
dns_tcp(struct dp_worker *w, const struct dp_tables *t, struct dp_flow *f, uint8_t *frame,
	const struct dp_pkt *p, uint32_t *len, uint64_t now_us)
{
	const uint8_t *data = frame + p->payload_off;
	uint32_t seq = get32(frame + p->l4_off + 4);

	if (!f->inspected) {
		/* The entry's first look at the stream (see struct dp_flow). */
		memset(&f->dns, 0, sizeof(f->dns));
		f->inspected = 1;
	}
	if (p->tcp_flags & DP_TCP_SYN) {
		if (egw_dns_stream_start(&f->dns, seq) < 0)
			return dns_refuse(w, t, f, frame, p, len, now_us, DP_R_DNS_SPLIT);
		seq++;
		if (!p->payload_len)
			return -1;
	}
	if (p->is_frag)   /* a first fragment: its bytes end where the frame does */
		return dns_refuse(w, t, f, frame, p, len, now_us, DP_R_DNS_SPLIT);
	int nmsg = egw_dns_stream_check(&f->dns, seq, data, p->payload_len);
	if (nmsg <= 0)
		return dns_refuse(w, t, f, frame, p, len, now_us, DP_R_DNS_SPLIT);

	struct egw_dns_query q;
	struct dp_verdict nv;
	if (nmsg == 1) {
		if (egw_dns_decode_query(data + 2, p->payload_len - 2, &q) != EGW_DNS_OK)
			return dns_refuse(w, t, f, frame, p, len, now_us, DP_R_DNS_MALFORMED);
		query_verdict(w, t, f, &q, now_us, &nv);
		uint32_t n = 0;
		if (nv.action == DP_ACT_DROP)
			n = answer_nxdomain(w, frame, p);
		dns_event(w, t, f, &nv, &q, n ? 3 : -1, now_us);
		if (nv.action == DP_ACT_DROP) {
			if (!n)   /* no answer could be built: reset both sides */
				return tcp_end(w, f, frame, p, len, &nv);
			f->verdict = nv;   /* the gateway ended the connection: drop the rest */
			*len = n;
			w->st.dns_answers++;
			return DP_DISP_REPLY;
		}
		egw_dns_stream_accept(&f->dns, seq, p->payload_len);
		return nv.action == DP_ACT_PUNT ? (int)disposition(w, t, &nv) : -1;
	}

	/* Pipelined: every message is judged (and logged); the segment goes
	 * on only when all are allowed. */
	struct dp_verdict blocked, punted;
	bool any_blocked = false, any_punted = false;
	size_t off = 0, mlen;
	const uint8_t *msg;
	while (egw_dns_stream_next(data, p->payload_len, &off, &msg, &mlen) == 1) {
		if (egw_dns_decode_query(msg, mlen, &q) != EGW_DNS_OK)
			return dns_refuse(w, t, f, frame, p, len, now_us, DP_R_DNS_MALFORMED);
		query_verdict(w, t, f, &q, now_us, &nv);
		dns_event(w, t, f, &nv, &q, -1, now_us);
		if (nv.action == DP_ACT_DROP && !any_blocked) {
			blocked = nv;
			any_blocked = true;
		} else if (nv.action == DP_ACT_PUNT && !any_punted) {
			punted = nv;
			any_punted = true;
		}
	}
	if (any_blocked)
		return tcp_end(w, f, frame, p, len, &blocked);
	egw_dns_stream_accept(&f->dns, seq, p->payload_len);
	return any_punted ? (int)disposition(w, t, &punted) : -1;
}

/*
 * A DNS query from the inside on flow f (its verdict allows or redirects
 * it): over UDP one dns event and the name's verdict; TCP: dns_tcp.
 * Returns -1 to go on as the flow says, or the disposition the name
 * decided (*len updated for an answer).
 */
static __attribute__((noinline)) int
dns_query(struct dp_worker *w, const struct dp_tables *t, struct dp_flow *f, uint8_t *frame,
	  const struct dp_pkt *p, uint32_t *len, uint64_t now_us)
{
	struct egw_dns_query q;
	struct dp_verdict nv;

	if (!dns_judged(p))
		return -1;
	if (p->proto == 6)
		return dns_tcp(w, t, f, frame, p, len, now_us);
	if (egw_dns_decode_query(frame + p->payload_off, p->payload_len, &q) != EGW_DNS_OK)
		return -1;
	query_verdict(w, t, f, &q, now_us, &nv);
	uint32_t n = 0;
	if (nv.action == DP_ACT_DROP)
		n = answer_nxdomain(w, frame, p);
	dns_event(w, t, f, &nv, &q, n ? 3 : -1, now_us);
	if (nv.action == DP_ACT_ALLOW)
		return -1;
	if (nv.action == DP_ACT_PUNT)
		return (int)disposition(w, t, &nv);
	if (n) {
		*len = n;
		w->st.dns_answers++;
		return DP_DISP_REPLY;
	}
	w->st.drops[DP_DROP_DNS_NAME]++;
	return DP_DISP_DROP;
}

/*
 * The first client payload of an allowed TCP flow: a TLS ClientHello SNI or
 * an HTTP Host (one tls/http event), and the names' verdict. Returns -1 to
 * go on, or DP_DISP_REPLY with the frame turned into the RST to the client
 * and w->extra holding the RST to the server.
 */
static __attribute__((noinline)) int
tcp_name_parse(struct dp_worker *w, const struct dp_tables *t, struct dp_flow *f,
	       uint8_t *frame, const struct dp_pkt *p, uint32_t *len, uint64_t now_us)
{
	char name[256];
	const uint8_t *data = frame + p->payload_off;
	enum egw_event_type type = EGW_EV_TLS;

	if (egw_tls_sni(data, p->payload_len, name, sizeof(name)) != EGW_SNI_FOUND) {
		if (egw_http_host(data, p->payload_len, name, sizeof(name)) != EGW_HOST_FOUND)
			return -1;
		type = EGW_EV_HTTP;
	}
	struct dp_verdict nv = f->verdict;
	size_t name_len = strlen(name);
	name_decide(t, f->verdict.unit, name, name_len, &nv);
	if (nv.action == DP_ACT_PUNT)
		nv.action = DP_ACT_ALLOW;   /* the flow was allowed: punt is for names in DNS */
	struct dp_raw_event *e = dp_event_slot(&w->ev);
	if (e) {
		dp_event_record(e, type, f, nv.action != DP_ACT_ALLOW ? &nv : &f->verdict,
				t->pol, now_us, NULL);
		dp_event_set_name(e, name, name_len);
		dp_event_push(&w->ev);
	}
	if (nv.action == DP_ACT_ALLOW)
		return -1;
	nv.drop = DP_DROP_SNI_HOST;
	return tcp_end(w, f, frame, p, len, &nv);   /* the rest of the connection is dropped */
}

/* tcp_name: the flow is inspected once; a payload whose first byte can start
 * neither a TLS record nor an HTTP method (both parsers would say so at
 * once) is let go without setting up the parse. */
static inline int tcp_name(struct dp_worker *w, const struct dp_tables *t, struct dp_flow *f,
			   uint8_t *frame, const struct dp_pkt *p, uint32_t *len, uint64_t now_us)
{
	f->inspected = 1;
	if (p->payload_len) {
		uint8_t b = frame[p->payload_off];
		if (!egw_tls_sni_may_start(b) && !egw_http_tchar(b))
			return -1;
	}
	return tcp_name_parse(w, t, f, frame, p, len, now_us);
}

/*
 * An ICMP error: the verdict of the flow whose packet it quotes (so PMTU
 * discovery works wherever the flow passes); quoting no live flow, it is
 * dropped. It does not keep the flow alive.
 */
static enum dp_disp icmp_error(struct dp_worker *w, const struct dp_tables *t,
			       const uint8_t *frame, const struct dp_pkt *p, bool from_outside,
			       uint32_t len, uint64_t now_us)
{
	struct dp_flow_key k;
	struct dp_flow *f = NULL;

	if (!dp_icmperr_key(frame, p, from_outside, &k)) {
		f = dp_flow_lookup(&w->ft, &k, dp_flow_hash(&k));
		if (f && dp_flow_expired(f, now_us))
			f = NULL;   /* the tick or the next packet of the flow ends it */
		f = live(w, t, f);
	}
	if (!f) {
		w->st.drops[DP_DROP_ICMP_NO_FLOW]++;
		return DP_DISP_DROP;
	}
	f->pkts[from_outside]++;
	f->bytes[from_outside] += len;
	w->st.icmp_errors++;
	return disposition(w, t, &f->verdict);
}

/* From the inside to port 53 with ports: for dns_query, which takes what
 * it judges (dns_judged) itself, so that the per-packet path tests no more
 * than this for any packet. */
static bool is_dns_query(const struct dp_pkt *p, bool from_outside)
{
	return !from_outside && p->dport == 53 && p->l4_known;
}


/*
 * make_key and the key's hash at once: the words are built in registers and
 * stored as words (the hash does not read back what was just stored).
 */
static inline __attribute__((always_inline)) uint32_t
make_key_hash(const struct dp_pkt *p, bool from_outside, struct dp_flow_key *k)
{
	uint64_t w[6];
	const uint8_t *in = from_outside ? p->dst : p->src;
	const uint8_t *out = from_outside ? p->src : p->dst;
	uint16_t in_port = 0, out_port = 0;
	uint8_t kind = DP_FK_FLOW;
	uint32_t frag_id = 0;

	memcpy(&w[0], in, 8);
	memcpy(&w[1], in + 8, 8);
	memcpy(&w[2], out, 8);
	memcpy(&w[3], out + 8, 8);
	if (p->l4_known && (p->proto == 6 || p->proto == 17)) {
		in_port = from_outside ? p->dport : p->sport;
		out_port = from_outside ? p->sport : p->dport;
	} else if (!p->l4_known) {
		kind = DP_FK_FRAG;
		frag_id = p->frag_id;
	} else if (dp_pkt_is_echo(p)) {
		in_port = p->sport;   /* echo identifier, both ways */
	}
	/* Bytes 32..43 of struct dp_flow_key, little-endian. */
	w[4] = (uint64_t)in_port | (uint64_t)out_port << 16 | (uint64_t)p->family << 32 |
	       (uint64_t)p->proto << 40 | (uint64_t)kind << 48;
	w[5] = frag_id;
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "make_key_hash: little-endian");
	_Static_assert(offsetof(struct dp_flow_key, in_port) == 32 &&
		       offsetof(struct dp_flow_key, out_port) == 34 &&
		       offsetof(struct dp_flow_key, family) == 36 &&
		       offsetof(struct dp_flow_key, proto) == 37 &&
		       offsetof(struct dp_flow_key, kind) == 38 &&
		       offsetof(struct dp_flow_key, frag_id) == 40 && sizeof(*k) == 44,
		       "make_key_hash: struct dp_flow_key layout");
	/* Stored as the words were built (a 44-byte copy through the stack
	 * would read back across two stores). */
	memcpy(k, w, 40);
	memcpy((uint8_t *)k + 40, &frag_id, 4);
	return dp_flow_hash_words(w[0], w[1], w[2], w[3], w[4], w[5]);
}

/*
 * make_key_hash of a common frame (dp_parse_core's c) without struct
 * dp_pkt: the same key and hash, built from the words the parse read.
 */
static inline __attribute__((always_inline)) uint32_t
core_key_hash(const struct dp_parse_core *c, bool from_outside, struct dp_flow_key *k)
{
	uint64_t w[5];
	/* in_port | out_port << 16: from the inside sport, dport; from the
	 * outside the other way round (c->sd is sport << 16 | dport). */
	uint32_t ports = from_outside ? c->sd : (c->sd << 16 | c->sd >> 16);
	uint32_t frag_id = 0;

	w[0] = from_outside ? c->d0 : c->s0;
	w[1] = from_outside ? c->d1 : c->s1;
	w[2] = from_outside ? c->s0 : c->d0;
	w[3] = from_outside ? c->s1 : c->d1;
	w[4] = ports | (uint64_t)c->family << 32 | (uint64_t)c->proto << 40 |
	       (uint64_t)DP_FK_FLOW << 48;
	memcpy(k, w, 40);
	memcpy((uint8_t *)k + 40, &frag_id, 4);
	return dp_flow_hash_words(w[0], w[1], w[2], w[3], w[4], 0);
}

static inline __attribute__((always_inline)) void
prepare(struct dp_worker *w, const uint8_t *frame, uint32_t len, bool from_outside,
	struct dp_pre *pre)
{
	struct dp_parse_core c;

	pre->ent = 0;
	if (__builtin_expect(dp_parse_core(frame, len, &c), 1)) {
		/* p is filled only if the packet leaves the lean path. */
		uint16_t dport = (uint16_t)c.sd;
		pre->parse = DP_DROP_NONE;
		pre->common = true;
		pre->lean = true;
		pre->lw = c.proto | (uint64_t)c.flags << 8 | (uint64_t)dport << 16 |
			  (uint64_t)c.plen << 32;
		pre->h = core_key_hash(&c, from_outside, &pre->k);
		if (!from_outside && dport == 53 && c.plen) {
			/* Likely a DNS query (dns_query counts it): its
			 * terminal's rate set, a miss otherwise. */
			const char *qs = (const char *)qrate_set(w, c.family, pre->k.in_ip);
			dp_prefetch(qs);
			dp_prefetch(qs + 64);
		}
	} else {
		pre->common = false;
		pre->lean = false;
		pre->parse = (uint8_t)dp_parse(frame, len, &pre->p);
		if (pre->parse != DP_DROP_NONE || pre->p.family == 0)
			return;
		pre->h = make_key_hash(&pre->p, from_outside, &pre->k);
	}
	dp_flow_prefetch_slot(&w->ft, pre->h);
}

void dp_worker_prepare(struct dp_worker *w, const uint8_t *frame, uint32_t len,
		       bool from_outside, struct dp_pre *pre)
{
	prepare(w, frame, len, from_outside, pre);
}

void dp_worker_prepare_burst(struct dp_worker *w, uint8_t *const *frames,
			     const uint32_t *lens, unsigned n, bool from_outside,
			     struct dp_pre *pre)
{
	/* One loop per direction: from_outside is a constant in each. */
	if (from_outside) {
		for (unsigned i = 0; i < n; i++)
			if (frames[i])
				prepare(w, frames[i], lens[i], true, &pre[i]);
	} else {
		for (unsigned i = 0; i < n; i++)
			if (frames[i])
				prepare(w, frames[i], lens[i], false, &pre[i]);
	}
}

enum dp_disp dp_worker_packet(struct dp_worker *w, const struct dp_tables *t,
			      uint8_t *frame, uint32_t *lenp, bool from_outside,
			      uint64_t now_us)
{
	struct dp_pre pre;
	unsigned port = from_outside ? DP_PORT_OUTSIDE : DP_PORT_INSIDE;

	w->st.rx_pkts[port]++;
	w->st.rx_bytes[port] += *lenp;
	dp_worker_prepare(w, frame, *lenp, from_outside, &pre);
	return dp_worker_packet_prepared(w, t, frame, lenp, from_outside, now_us, &pre);
}

/*
 * A packet of flow f (found, live, its own terminal's): counters, TCP state,
 * the first client payload's name, DNS queries, then f's disposition.
 */
static inline __attribute__((always_inline)) enum dp_disp
flow_hit(struct dp_worker *w, const struct dp_tables *t, uint8_t *frame, uint32_t *lenp,
	 uint32_t len, bool from_outside, uint64_t now_us, struct dp_pkt *p,
	 const struct dp_flow_key *k, uint32_t h, struct dp_flow *f)
{
	if (f->nat && from_outside)
		dp_nat_set_addr(frame, p, false, f->nat_ip);   /* as if from the resolver asked */
	f->pkts[from_outside]++;
	f->bytes[from_outside] += len;
	tcp_track(f, p, from_outside);
	if (!from_outside && p->proto == 6 && p->payload_len && !p->is_frag && !f->inspected &&
	    f->verdict.action == DP_ACT_ALLOW && p->dport != 53) {
		dp_flow_touch(&w->ft, f, now_us);
		int d = tcp_name(w, t, f, frame, p, lenp, now_us);
		if (d >= 0)
			return (enum dp_disp)d;
	}
	if (is_dns_query(p, from_outside) && f->verdict.action == DP_ACT_ALLOW) {
		dp_flow_touch(&w->ft, f, now_us);
		int d = dns_query(w, t, f, frame, p, lenp, now_us);
		if (d >= 0)
			return (enum dp_disp)d;
	}
	dp_flow_touch(&w->ft, f, now_us);

	if (p->is_frag && p->frag_first) {
		struct dp_verdict v = f->verdict;
		remember_first_fragment(w, t, p, k, &v, now_us);
		/* The insert may have evicted f: look it up again. */
		f = dp_flow_lookup(&w->ft, k, h);
		if (!f)
			return disposition(w, t, &v);
	}
	return disposition(w, t, &f->verdict);
}

/*
 * A TCP/53 segment (SYN or bytes) from the inside of a connection the policy
 * redirects (v): judged on the redirected flow's stream as on an allowed
 * one (dns_tcp), before it is rewritten, so that what the gateway answers
 * comes from the resolver the client asked and the RST toward the server
 * goes to the redirect target.
 */
static __attribute__((noinline)) enum dp_disp
redirected_tcp(struct dp_worker *w, const struct dp_tables *t, uint8_t *frame, uint32_t *lenp,
	       uint64_t now_us, struct dp_pkt *p, const struct dp_flow_key *k,
	       const struct dp_verdict *v)
{
	uint32_t len = *lenp;
	struct dp_flow *f = redirect_flow(w, t, p, k, v, now_us);

	if (!f) {
		w->st.drops[DP_DROP_DNS_RESOLVER]++;
		return DP_DISP_DROP;
	}
	f->pkts[0]++;
	f->bytes[0] += len;
	tcp_track(f, p, false);
	dp_flow_touch(&w->ft, f, now_us);
	int d = -1;
	if (f->verdict.action == DP_ACT_REDIRECT) {
		d = dns_query(w, t, f, frame, p, lenp, now_us);
		if (w->extra_len)
			reset_to_target(w, t);
		if (d >= 0 && d != DP_DISP_PUNT)
			return (enum dp_disp)d;   /* the gateway's answer or resets */
	}
	dp_nat_set_addr(frame, p, true, redirect_target(t, p->family));
	if (d >= 0)
		return (enum dp_disp)d;   /* punted on its way to the target */
	return disposition(w, t, &f->verdict);
}

/*
 * The first packet from the inside of a connection the policy redirects
 * (DNS to a resolver outside the province, v): a blocked name is answered
 * here; otherwise the packet goes on to the redirect target as a new flow.
 */
static __attribute__((noinline)) enum dp_disp
new_redirected(struct dp_worker *w, const struct dp_tables *t, uint8_t *frame, uint32_t *lenp,
	       uint64_t now_us, struct dp_pkt *p, const struct dp_flow_key *k,
	       const struct dp_verdict *vp)
{
	uint32_t len = *lenp;
	struct dp_verdict v = *vp;
	struct dp_flow *f;

	bool dns = is_dns_query(p, false) && dns_judged(p);
	if (dns && p->proto == 6)
		return redirected_tcp(w, t, frame, lenp, now_us, p, k, &v);
	if (dns) {
		/* Names first: a blocked name is answered as if by
		 * the resolver asked, and goes nowhere. */
		struct dp_flow tmp;
		memset(&tmp, 0, sizeof(tmp));
		tmp.key = *k;
		tmp.verdict = v;
		memcpy(tmp.src_mac, p->src_mac, 6);
		struct dp_verdict nv = v;
		struct egw_dns_query q;
		const uint8_t *msg = frame + p->payload_off;
		size_t ml = p->payload_len;   /* UDP: TCP went to redirected_tcp */
		if (egw_dns_decode_query(msg, ml, &q) == EGW_DNS_OK)
			name_decide(t, v.unit, q.qname, q.qname_len, &nv);
		if (nv.action != DP_ACT_ALLOW) {
			int d = dns_query(w, t, &tmp, frame, p, lenp, now_us);
			if (w->extra_len)
				reset_to_target(w, t);
			if (d >= 0)
				return (enum dp_disp)d;
		}
	}
	f = redirect(w, t, frame, p, k, &v, now_us);
	if (!f) {
		w->st.drops[DP_DROP_DNS_RESOLVER]++;
		return DP_DISP_DROP;
	}
	if (is_dns_query(p, false))
		(void)dns_query(w, t, f, frame, p, lenp, now_us);
	struct dp_flow_key nk = f->key;
	uint32_t nh = f->hash;
	if (p->is_frag)
		remember_first_fragment(w, t, p, k, &v, now_us);
	f = dp_flow_lookup(&w->ft, &nk, nh);
	if (!f)
		return disposition(w, t, &v);
	f->pkts[0]++;
	f->bytes[0] += len;
	tcp_track(f, p, false);
	dp_flow_touch(&w->ft, f, now_us);
	return disposition(w, t, &f->verdict);
}

/*
 * Every packet but the established TCP / UDP one dp_worker_packet_prepared
 * handles itself. looked_up: f is the lookup of pre's key already.
 */
static __attribute__((noinline)) enum dp_disp
packet_general(struct dp_worker *w, const struct dp_tables *t, uint8_t *frame, uint32_t *lenp,
	       bool from_outside, uint64_t now_us, struct dp_pre *pre, bool looked_up,
	       struct dp_flow *f)
{
	uint32_t len = *lenp;

	enum dp_drop r = (enum dp_drop)pre->parse;
	if (r != DP_DROP_NONE) {
		w->st.drops[r]++;
		return DP_DISP_DROP;
	}
	if (pre->p.family == 0) {
		w->st.non_ip++;
		return DP_DISP_FORWARD;
	}
	/* Link-local control that IPv6 needs as IPv4 needs ARP: both ways,
	 * no flow, no event (a solicitation to a multicast address must not
	 * open a flow that the unicast answer then cannot match). */
	if (pre->p.proto == 58) {   /* ND and MLD are ICMPv6 */
		if (dp_pkt_is_nd(&pre->p)) {
			w->st.nd++;
			return DP_DISP_FORWARD;
		}
		if (dp_pkt_is_mld(&pre->p)) {
			w->st.mld++;
			return DP_DISP_FORWARD;
		}
	}
	/* ICMP errors are ICMP (1) or ICMPv6 (58): TCP and UDP skip the test. */
	if ((pre->p.proto == 1 || pre->p.proto == 58) && dp_icmperr_is(&pre->p))
		return icmp_error(w, t, frame, &pre->p, from_outside, len, now_us);
	struct dp_pkt *p = &pre->p;
	struct dp_flow_key *k = &pre->k;
	if (p->is_frag)
		w->st.fragments++;
	if (k->kind == DP_FK_FRAG)
		return fragment(w, t, frame, p, k, from_outside, len, now_us);

	uint32_t h = pre->h;
	if (!looked_up)
		f = dp_flow_lookup(&w->ft, k, h);
	if (f && dp_flow_expired(f, now_us)) {
		emit(w, t, EGW_EV_FLOW, f, f->last_us, "timeout");
		w->ft.st.expired++;
		dp_flow_remove(&w->ft, f);
		f = NULL;
	}
	f = live(w, t, f);   /* decided before a reload: again, under t */
	if (f && !from_outside && memcmp(f->src_mac, p->src_mac, 6)) {
		/* Same connection, another MAC: decide again. A spoofer does
		 * not take over (or end) the flow of the real terminal. */
		struct dp_verdict v;
		dp_policy_decide(t, p, &v);
		if (v.reason == DP_R_SPOOF) {
			w->st.drops[DP_DROP_SPOOF]++;
			return DP_DISP_DROP;
		}
		emit(w, t, EGW_EV_FLOW, f, now_us, "evicted");
		dp_flow_remove(&w->ft, f);
		f = new_flow(w, t, k, h, p, &v, now_us);
	}
	if (!f) {
		if (from_outside) {
			w->st.drops[DP_DROP_NO_FLOW]++;
			return DP_DISP_DROP;
		}
		struct dp_verdict v;
		dp_policy_decide(t, p, &v);
		if (v.action == DP_ACT_REDIRECT)
			return new_redirected(w, t, frame, lenp, now_us, p, k, &v);
		f = new_flow(w, t, k, h, p, &v, now_us);
	}
	return flow_hit(w, t, frame, lenp, len, from_outside, now_us, p, k, h, f);
}

/*
 * The first packet from the inside of a flow, of a frame dp_parse_common
 * took (TCP or UDP, not a fragment: none of packet_general's other cases):
 * the policy decides, and the flow starts.
 */
static __attribute__((noinline)) enum dp_disp
new_common(struct dp_worker *w, const struct dp_tables *t, uint8_t *frame, uint32_t *lenp,
	   uint64_t now_us, struct dp_pre *pre)
{
	struct dp_verdict v;

	dp_policy_decide(t, &pre->p, &v);
	if (v.action == DP_ACT_REDIRECT)
		return new_redirected(w, t, frame, lenp, now_us, &pre->p, &pre->k, &v);
	struct dp_flow *f = new_flow_inline(w, t, &pre->k, pre->h, &pre->p, &v, now_us);
	return flow_hit(w, t, frame, lenp, *lenp, false, now_us, &pre->p, &pre->k, pre->h, f);
}

/*
 * The lean path: a common frame (pre->lean) hitting flow f does what
 * flow_hit does, without struct dp_pkt, when flow_hit would only count it,
 * track its TCP flags, touch f and return f's disposition. lean_hit says
 * whether that is all (everything packet_prepared and flow_hit test first,
 * from the frame and lw); lean_count does it.
 */
static inline __attribute__((always_inline)) bool
lean_hit(const struct dp_worker *w, const struct dp_flow *f, const uint8_t *frame,
	 bool from_outside, uint64_t now_us, uint64_t lw)
{
	if (dp_flow_expired(f, now_us) || f->gen != w->ft.gen)
		return false;
	if (from_outside)
		return !f->nat;   /* a redirected reply is rewritten: flow_hit */
	if (memcmp(f->src_mac, frame + 6, 6))
		return false;     /* not its terminal's MAC: packet_general */
	/* flow_hit's first-payload inspection (TCP payload, not to port 53,
	 * not yet inspected) and its DNS query (to port 53) both need an
	 * allowed flow. */
	uint8_t proto = (uint8_t)lw;
	uint16_t dport = (uint16_t)(lw >> 16);
	uint32_t plen = (uint32_t)(lw >> 32);
	return f->verdict.action != DP_ACT_ALLOW ||
	       (dport != 53 && (proto != 6 || !plen || f->inspected));
}

static inline __attribute__((always_inline)) enum dp_disp
lean_count(struct dp_worker *w, const struct dp_tables *t, struct dp_flow *f, uint32_t len,
	   bool from_outside, uint64_t now_us, uint64_t lw)
{
	f->pkts[from_outside]++;
	f->bytes[from_outside] += len;
	tcp_track_flags(f, (uint8_t)lw, (uint8_t)(lw >> 8), from_outside);
	dp_flow_touch(&w->ft, f, now_us);
	return disposition(w, t, &f->verdict);
}

static inline __attribute__((always_inline)) void
pre_fill(const uint8_t *frame, uint32_t len, struct dp_pre *pre)
{
	if (pre->lean) {
		/* The same frame dp_parse_core took: cannot fail. */
		(void)dp_parse_common(frame, len, &pre->p);
		pre->lean = false;
	}
}

void dp_worker_pre_fill(const uint8_t *frame, uint32_t len, struct dp_pre *pre)
{
	pre_fill(frame, len, pre);
}

static inline __attribute__((always_inline)) enum dp_disp
packet_prepared(struct dp_worker *w, const struct dp_tables *t, uint8_t *frame, uint32_t *lenp,
		bool from_outside, uint64_t now_us, struct dp_pre *pre)
{
	struct dp_pkt *p = &pre->p;

	w->extra_len = 0;
	/* The common case first: TCP or UDP, not a fragment (so not ND, MLD,
	 * an ICMP error, nor a fragment entry; pre->common), of a live flow,
	 * from its own terminal's MAC. Anything else takes the general path. */
	if (!pre->common)
		return packet_general(w, t, frame, lenp, from_outside, now_us, pre, false, NULL);
	struct dp_flow *f = dp_flow_lookup_hint(&w->ft, &pre->k, pre->h, pre->ent);
	if (pre->lean) {
		if (f && lean_hit(w, f, frame, from_outside, now_us, pre->lw))
			return lean_count(w, t, f, *lenp, from_outside, now_us, pre->lw);
		pre_fill(frame, *lenp, pre);
	}
	if (!f && !from_outside)
		return new_common(w, t, frame, lenp, now_us, pre);
	if (!f || dp_flow_expired(f, now_us) || f->gen != w->ft.gen ||
	    (!from_outside && memcmp(f->src_mac, p->src_mac, 6)))
		return packet_general(w, t, frame, lenp, from_outside, now_us, pre, true, f);
	return flow_hit(w, t, frame, lenp, *lenp, from_outside, now_us, p, &pre->k, pre->h, f);
}

enum dp_disp dp_worker_packet_prepared(struct dp_worker *w, const struct dp_tables *t,
				       uint8_t *frame, uint32_t *lenp, bool from_outside,
				       uint64_t now_us, struct dp_pre *pre)
{
	return packet_prepared(w, t, frame, lenp, from_outside, now_us, pre);
}

static inline __attribute__((always_inline)) unsigned
packets_prepared(struct dp_worker *w, const struct dp_tables *t, uint8_t *const *frames,
		 uint32_t *lens, unsigned n, bool from_outside, uint64_t now_us,
		 struct dp_pre *pre, uint8_t *disp)
{
	for (unsigned i = 0; i < n; i++) {
		if (!frames[i])
			continue;
		disp[i] = (uint8_t)packet_prepared(w, t, frames[i], &lens[i], from_outside, now_us,
						   &pre[i]);
		if (w->extra_len)
			return i + 1;
	}
	return n;
}

unsigned dp_worker_packets_prepared(struct dp_worker *w, const struct dp_tables *t,
				    uint8_t *const *frames, uint32_t *lens, unsigned n,
				    bool from_outside, uint64_t now_us, struct dp_pre *pre,
				    uint8_t *disp)
{
	/* One loop per direction: from_outside is a constant in each. */
	if (from_outside)
		return packets_prepared(w, t, frames, lens, n, true, now_us, pre, disp);
	return packets_prepared(w, t, frames, lens, n, false, now_us, pre, disp);
}

void dp_worker_tick(struct dp_worker *w, const struct dp_tables *t, uint64_t now_us)
{
	struct end_ctx c = { w, t, "timeout" };
	w->last_tick_us = now_us;
	dp_flow_expire(&w->ft, now_us, DP_FLOW_EXPIRE_BATCH, flow_ended, &c);
}

void dp_worker_flush(struct dp_worker *w, const struct dp_tables *t, const char *reason)
{
	struct end_ctx c = { w, t, reason };
	for (struct dp_flow *f = dp_flow_next(&w->ft, NULL); f; f = dp_flow_next(&w->ft, f)) {
		flow_ended(f, &c);
		dp_flow_remove(&w->ft, f);
	}
}

bool dp_worker_from_outside(struct dp_worker *w, const struct dp_tables *t,
			    const uint8_t *frame, uint32_t len)
{
	struct dp_pkt p;
	struct dp_flow_key k;

	if (dp_parse(frame, len, &p) != DP_DROP_NONE || p.family == 0)
		return false;
	if (dp_pkt_is_nd(&p)) {
		/* On the link both ends are in the unit's prefix: routers
		 * advertise and redirect, terminals speak for themselves. */
		if (p.icmp_type == 134 || p.icmp_type == 137)
			return true;
		if (dp_tables_terminal(t, p.family, p.src))
			return false;
	}
	make_key(&p, true, &k);
	if (dp_flow_lookup(&w->ft, &k, dp_flow_hash(&k)))
		return true;
	make_key(&p, false, &k);
	if (dp_flow_lookup(&w->ft, &k, dp_flow_hash(&k)))
		return false;
	uint32_t cls = dp_tables_class(t, p.family, p.dst);
	return t->class_unit[cls] >= 0 || dp_tables_terminal(t, p.family, p.dst) != NULL;
}

/* The packet fields dp_policy_decide reads, rebuilt from a flow (a
 * redirected query: to the resolver the client asked). */
static void pkt_of_flow(const struct dp_flow *f, struct dp_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->family = f->key.family;
	p->proto = f->key.proto;
	memcpy(p->src, f->key.in_ip, 16);
	memcpy(p->dst, f->nat ? f->nat_ip : f->key.out_ip, 16);
	memcpy(p->src_mac, f->src_mac, 6);
	p->sport = f->key.in_port;
	p->dport = f->key.out_port;
	p->l4_known = f->key.kind == DP_FK_FLOW;
	p->is_frag = f->key.kind == DP_FK_FRAG;
}

void dp_worker_rebind_begin(struct dp_worker *w, const struct dp_tables *old,
			    const struct dp_tables *t)
{
	if (w->sweep_old)
		(void)dp_worker_rebind_step(w, old, UINT32_MAX);
	w->ft.gen++;
	w->sweep_old = old;
	w->sweep_hand = 0;
	(void)t;   /* packets and steps carry the tables in force */
}

bool dp_worker_rebind_step(struct dp_worker *w, const struct dp_tables *t, uint32_t max)
{
	if (!w->sweep_old)
		return true;
	uint32_t i = w->sweep_hand;
	/* Entries are all below ft.hi; those filled since the begin are of
	 * this generation already. */
	for (uint32_t n = 0; n < max && i < w->ft.hi; n++, i++) {
		struct dp_flow *f = &w->ft.flows[i];
		if (f->in_use && f->gen != w->ft.gen)
			(void)regen(w, t, f);
	}
	w->sweep_hand = i;
	if (i < w->ft.hi)
		return false;
	w->sweep_old = NULL;
	return true;
}

void dp_worker_rebind(struct dp_worker *w, const struct dp_tables *old,
		      const struct dp_tables *t)
{
	dp_worker_rebind_begin(w, old, t);
	(void)dp_worker_rebind_step(w, t, UINT32_MAX);
}

int dp_worker_install(struct dp_worker *w, const struct egw_ipc_flow_verdict *v)
{
	struct dp_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = v->family;
	k.proto = v->proto;
	memcpy(k.in_ip, v->src_ip, 16);
	memcpy(k.out_ip, v->dst_ip, 16);
	k.in_port = v->src_port;
	k.out_port = v->dst_port;
	struct dp_flow *f = dp_flow_lookup(&w->ft, &k, dp_flow_hash(&k));
	if (!f)
		return -ENOENT;
	f->verdict.reason = DP_R_CONTROL;
	if (v->verdict == EGW_IPC_V_ALLOW) {
		f->verdict.action = DP_ACT_ALLOW;
		f->verdict.drop = DP_DROP_NONE;
	} else {
		f->verdict.action = DP_ACT_DROP;
		f->verdict.drop = DP_DROP_CONTROL;
	}
	return 0;
}

static json_t *addr_json(int family, const uint8_t *a)
{
	struct egw_prefix p = { .family = (uint8_t)family,
				.len = (uint8_t)(family == AF_INET ? 32 : 128) };
	char buf[EGW_PREFIX_STRLEN];
	memcpy(p.addr, a, family == AF_INET ? 4 : 16);
	return json_string(egw_addr_format(&p, buf, sizeof(buf)));
}

void dp_worker_flows_json(const struct dp_worker *w, const struct dp_tables *t,
			  const char *unit, const struct egw_prefix *ip, size_t limit,
			  json_t *arr)
{
	for (const struct dp_flow *f = dp_flow_next(&w->ft, NULL);
	     f && json_array_size(arr) < limit; f = dp_flow_next(&w->ft, f)) {
		const struct dp_verdict *v = &f->verdict;
		const struct egw_policy *pol = decided_under(w, t, f)->pol;
		if (f->key.kind != DP_FK_FLOW)
			continue;
		const char *un = v->unit >= 0 && (size_t)v->unit < pol->n_units ?
				 pol->units[v->unit].name : "";
		if (unit && *unit && strcmp(unit, un))
			continue;
		if (ip && !egw_prefix_contains(ip, f->key.family, f->key.in_ip) &&
		    !egw_prefix_contains(ip, f->key.family, f->nat ? f->nat_ip : f->key.out_ip))
			continue;
		char reason[64], rule[128] = "";
		dp_reason_format(v, pol, reason, sizeof(reason));
		if (v->loc)
			egw_loc_format(v->loc, false, rule, sizeof(rule));
		json_t *o = json_object();
		if (!o)
			return;
		json_object_set_new(o, "flow_id", json_integer((json_int_t)f->id));
		json_object_set_new(o, "proto", json_integer(f->key.proto));
		json_object_set_new(o, "src_ip", addr_json(f->key.family, f->key.in_ip));
		json_object_set_new(o, "src_port", json_integer(f->key.in_port));
		json_object_set_new(o, "dest_ip", addr_json(f->key.family,
							    f->nat ? f->nat_ip : f->key.out_ip));
		json_object_set_new(o, "dest_port", json_integer(f->key.out_port));
		json_object_set_new(o, "verdict", json_string(dp_action_name(v->action)));
		json_object_set_new(o, "reason", json_string(reason));
		json_object_set_new(o, "rule", json_string(rule));
		json_object_set_new(o, "unit", json_string(un));
		json_object_set_new(o, "user", json_string(v->term && v->term->user ? v->term->user : ""));
		json_object_set_new(o, "pkts_toserver", json_integer((json_int_t)f->pkts[0]));
		json_object_set_new(o, "pkts_toclient", json_integer((json_int_t)f->pkts[1]));
		json_object_set_new(o, "bytes_toserver", json_integer((json_int_t)f->bytes[0]));
		json_object_set_new(o, "bytes_toclient", json_integer((json_int_t)f->bytes[1]));
		json_object_set_new(o, "start_us", json_integer((json_int_t)f->start_us));
		json_object_set_new(o, "last_us", json_integer((json_int_t)f->last_us));
		json_array_append_new(arr, o);
	}
}

int dp_worker_unpunt(struct dp_worker *w, const struct dp_tables *t, uint8_t *frame,
		     uint32_t len)
{
	struct dp_pkt p;
	struct dp_flow_key k;

	if (dp_parse(frame, len, &p) != DP_DROP_NONE || p.family == 0)
		return -1;
	uint32_t cls = dp_tables_class(t, p.family, p.src);
	bool from_inside = t->class_unit[cls] >= 0 ||
			   dp_tables_terminal(t, p.family, p.src) != NULL;
	make_key(&p, !from_inside, &k);
	const struct dp_flow *f = dp_flow_lookup(&w->ft, &k, dp_flow_hash(&k));
	if (f) {
		memcpy(frame, from_inside ? f->dst_mac : f->src_mac, 6);
		memcpy(frame + 6, from_inside ? f->src_mac : f->dst_mac, 6);
		uint8_t *ip = frame + p.l3_off;
		if (p.family == AF_INET && ip[8] < 255) {
			/* TTL + 1, checksum adjusted (RFC 1624). */
			uint32_t sum = (uint16_t)~(ip[10] << 8 | ip[11]);
			sum += (uint16_t)~(ip[8] << 8 | ip[9]);
			ip[8]++;
			sum += (uint32_t)(ip[8] << 8 | ip[9]);
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			ip[10] = (uint8_t)(~sum >> 8);
			ip[11] = (uint8_t)~sum;
		} else if (p.family == AF_INET6 && ip[7] < 255) {
			ip[7]++;
		}
	}
	return from_inside ? DP_PORT_OUTSIDE : DP_PORT_INSIDE;
}
