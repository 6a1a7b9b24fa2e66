/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the nftables back end. The bytes build a policy
 * directly (no parser): units with IPv4 prefixes drawn from a small space so
 * that they nest, profiles with rules (ports, countries with negation, dst,
 * categories), and names of arbitrary bytes. Checks on the ruleset:
 *  - every comment is quote-safe, valid UTF-8 without control bytes, at
 *    most 127 bytes, and ends its line (names never escape into the text);
 *  - the dispatch map agrees with a trivial reference: for addresses at and
 *    around every prefix edge, the map's range gives the profile of the unit
 *    with the longest prefix containing the address (the first unit on a
 *    tie), and no address outside every unit is in the map; ranges are
 *    sorted and disjoint.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <egw/addr.h>
#include <egw/nft.h>
#include <egw/policy.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
	const uint8_t *d;
	size_t n;
};

static uint8_t byte(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->d++;
}

/* a name: up to 40 arbitrary bytes, NUL-terminated (into buf) */
static char *name(struct in *in, char *buf)
{
	size_t len = byte(in) % 41;
	for (size_t i = 0; i < len; i++) {
		buf[i] = (char)byte(in);
		if (!buf[i])
			buf[i] = 'z';
	}
	buf[len] = '\0';
	return buf;
}

/* an IPv4 prefix inside 10.0.0.0/14, lengths 14..32, host bits cleared */
static struct egw_prefix v4pfx(struct in *in)
{
	struct egw_prefix p;
	memset(&p, 0, sizeof(p));
	p.family = AF_INET;
	p.len = (uint8_t)(14 + byte(in) % 19);
	uint32_t a = (10u << 24) | ((uint32_t)(byte(in) & 3) << 16) |
		((uint32_t)byte(in) << 8) | byte(in);
	a &= p.len ? ~0u << (32 - p.len) : 0;
	p.addr[0] = (uint8_t)(a >> 24);
	p.addr[1] = (uint8_t)(a >> 16);
	p.addr[2] = (uint8_t)(a >> 8);
	p.addr[3] = (uint8_t)a;
	return p;
}

static uint32_t v4(const struct egw_prefix *p)
{
	return (uint32_t)p->addr[0] << 24 | (uint32_t)p->addr[1] << 16 |
	       (uint32_t)p->addr[2] << 8 | p->addr[3];
}

static bool in_pfx(uint32_t a, const struct egw_prefix *p)
{
	uint32_t mask = p->len ? ~0u << (32 - p->len) : 0;
	return (a & mask) == v4(p);
}

#define MAXU 5
#define MAXP 3
#define MAXR 4

static struct egw_policy P;
static struct egw_unit U[MAXU];
static struct egw_prefix UP[MAXU][MAXP];
static char UN[MAXU][48];
static struct egw_profile PR[2];
static char PN[2][48];
static struct egw_rule R[2][MAXR];
static struct egw_port_range PORTS[2][MAXR][2];
static struct egw_geo_ref GR[2][MAXR][2];
static struct egw_prefix DST[2][MAXR][2];
static struct egw_geo_class G[2];
static struct egw_prefix GV4[2];
static struct egw_category C[1];
static char CN_[48];
static char *CD[1] = { (char *)"example.com" };
static struct egw_loc CL[1];
static struct egw_prefix CA[1];

/* Owner profile of address a by the reference rule, or -1. */
static int reference(uint32_t a)
{
	int best = -1, best_len = -1;
	for (size_t u = 0; u < P.n_units; u++)
		for (size_t i = 0; i < U[u].prefixes.n; i++)
			if (in_pfx(a, &U[u].prefixes.v[i]) &&
			    (int)U[u].prefixes.v[i].len > best_len) {
				best_len = U[u].prefixes.v[i].len;
				best = (int)U[u].profile;
			}
	return best;
}

struct range {
	uint32_t lo, hi;
	int profile;
};

static uint32_t parse_v4(const char *s)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return ntohl(a.s_addr);
}

/* Parses map dispatch_v4's elements. Returns the count. */
static size_t parse_map(const char *t, struct range *r, size_t max)
{
	/* tabs and newlines never occur inside a comment */
	const char *m = strstr(t, "\n\tmap dispatch_v4 {\n");
	if (!m)
		abort();
	const char *end = strstr(m, "\n\t}\n");
	const char *e = strstr(m, "\n\t\telements = { ");
	if (!e || e > end)
		return 0;
	e += strlen("\n\t\telements = { ");
	size_t n = 0;
	while (e < end && n < max) {
		while (*e == ' ' || *e == ',' || *e == '\n' || *e == '\t')
			e++;
		if (*e == '}')
			break;
		char item[96];
		size_t k = 0;
		while (*e && *e != ' ' && k < sizeof(item) - 1)
			item[k++] = *e++;
		item[k] = '\0';
		int prof;
		if (sscanf(e, " : goto profile_%d", &prof) != 1)
			abort();
		e = strstr(e, "profile_") + strlen("profile_");
		while (*e >= '0' && *e <= '9')
			e++;
		char *dash = strchr(item, '-'), *slash = strchr(item, '/');
		if (dash) {
			*dash = '\0';
			r[n].lo = parse_v4(item);
			r[n].hi = parse_v4(dash + 1);
		} else {
			unsigned len = 32;
			if (slash) {
				*slash = '\0';
				len = (unsigned)atoi(slash + 1);
			}
			r[n].lo = parse_v4(item);
			r[n].hi = r[n].lo | (len ? (uint32_t)(((uint64_t)1 << (32 - len)) - 1) : ~0u);
		}
		r[n].profile = prof;
		n++;
	}
	return n;
}

static int lookup(const struct range *r, size_t n, uint32_t a)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].lo <= a && a <= r[i].hi)
			return r[i].profile;
	return -1;
}

static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (!n || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static void check_comments(const char *t)
{
	for (const char *c = strstr(t, "comment \""); c; c = strstr(c, "comment \"")) {
		c += strlen("comment \"");
		const char *q = strchr(c, '"');
		if (!q || q - c > 127 || (q[1] != '\n'))
			abort();
		for (const unsigned char *u = (const unsigned char *)c; u < (const unsigned char *)q;) {
			if (*u < 0x20 || *u == 0x7f)
				abort();
			size_t n = utf8_len(u);
			if (!n || u + n > (const unsigned char *)q)
				abort();
			u += n;
		}
		c = q;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	memset(&P, 0, sizeof(P));
	P.path = (char *)"/fuzz/p.cfg";
	P.doh_category = byte(&in) & 1 ? 0 : -1;
	P.dns.block_doh = byte(&in) & 1;
	P.dns.block_dot = byte(&in) & 1;
	P.dns.violation = (enum egw_dns_violation)(byte(&in) % 3);
	P.terminals.binding = (enum egw_binding)(byte(&in) % 3);
	P.terminals.unregistered = (enum egw_unregistered)(byte(&in) % 3);
	P.gateway.fail_mode = (enum egw_fail_mode)(byte(&in) & 1);

	for (int g = 0; g < 2; g++) {
		memset(&G[g], 0, sizeof(G[g]));
		snprintf(G[g].code, sizeof(G[g].code), g ? "CN-GD" : "US");
		GV4[g] = v4pfx(&in);
		G[g].v4.v = &GV4[g];
		G[g].v4.n = byte(&in) & 1;
	}
	P.geo_classes = G;
	P.n_geo_classes = 2;

	memset(C, 0, sizeof(C));
	C[0].name = name(&in, CN_);
	C[0].domains = CD;
	C[0].n_domains = byte(&in) & 1;
	C[0].domain_locs = CL;
	CA[0] = v4pfx(&in);
	C[0].addresses.v = CA;
	C[0].addresses.n = byte(&in) & 1;
	P.categories = C;
	P.n_categories = 1;

	P.n_profiles = 1 + byte(&in) % 2;
	P.profiles = PR;
	for (size_t j = 0; j < P.n_profiles; j++) {
		memset(&PR[j], 0, sizeof(PR[j]));
		PR[j].name = name(&in, PN[j]);
		PR[j].n_rules = byte(&in) % (MAXR + 1);
		PR[j].rules = R[j];
		for (size_t i = 0; i < PR[j].n_rules; i++) {
			struct egw_rule *r = &R[j][i];
			memset(r, 0, sizeof(*r));
			r->action = (enum egw_action)(byte(&in) % 3);
			r->category = byte(&in) & 1 ? 0 : -1;
			uint8_t pr = byte(&in) % 4;
			r->proto = pr == 0 ? EGW_PROTO_ANY : pr == 1 ? EGW_PROTO_ICMP :
				pr == 2 ? EGW_PROTO_TCP : EGW_PROTO_UDP;
			r->n_ports = r->proto == EGW_PROTO_ICMP ? 0 : byte(&in) % 3;
			r->ports = PORTS[j][i];
			for (size_t k = 0; k < r->n_ports; k++) {
				uint16_t a = (uint16_t)(byte(&in) << 2 | 0x1), b = (uint16_t)(a + byte(&in) % 500);
				if (byte(&in) & 1)
					a = b = 443;
				PORTS[j][i][k] = (struct egw_port_range){ a, b };
			}
			r->n_geo = byte(&in) % 3;
			r->geo = GR[j][i];
			for (size_t k = 0; k < r->n_geo; k++)
				GR[j][i][k] = (struct egw_geo_ref){ (uint16_t)(byte(&in) & 1),
								   (bool)(byte(&in) & 1) };
			r->dst.n = byte(&in) % 3;
			r->dst.v = DST[j][i];
			for (size_t k = 0; k < r->dst.n; k++)
				DST[j][i][k] = v4pfx(&in);
		}
	}

	P.n_units = 1 + byte(&in) % MAXU;
	for (size_t u = 0; u < P.n_units; u++) {
		memset(&U[u], 0, sizeof(U[u]));
		U[u].name = name(&in, UN[u]);
		U[u].profile = byte(&in) % (uint32_t)P.n_profiles;
		U[u].prefixes.n = 1 + byte(&in) % MAXP;
		U[u].prefixes.v = UP[u];
		for (size_t i = 0; i < U[u].prefixes.n; i++)
			UP[u][i] = v4pfx(&in);
	}
	P.units = U;
	/* prefixes overlap only by nesting; drop partial overlaps (none exist
	 * between CIDR prefixes) and equal prefixes within one unit */

	struct egw_nft_opts o;
	egw_nft_opts_default(&o);
	o.queue_mode = byte(&in) & 1 ? EGW_NFT_QUEUE_MARK : EGW_NFT_QUEUE_NATIVE;
	o.queue_count = (uint16_t)(1 + byte(&in) % 4);
	char *t = egw_nft_compile(&P, &o);
	if (!t)
		abort();
	check_comments(t);

	static struct range r[MAXU * MAXP * 4 + 8];
	size_t n = parse_map(t, r, sizeof(r) / sizeof(r[0]));
	for (size_t i = 0; i < n; i++) {
		if (r[i].lo > r[i].hi || (i && r[i].lo <= r[i - 1].hi))
			abort();
	}
	for (size_t u = 0; u < P.n_units; u++) {
		for (size_t i = 0; i < U[u].prefixes.n; i++) {
			const struct egw_prefix *p = &U[u].prefixes.v[i];
			uint32_t lo = v4(p);
			uint32_t hi = lo | (uint32_t)(((uint64_t)1 << (32 - p->len)) - 1);
			uint32_t probes[6] = { lo, hi, lo - 1, hi + 1, lo + (hi - lo) / 2, lo + 1 };
			for (int k = 0; k < 6; k++)
				if (lookup(r, n, probes[k]) != reference(probes[k]))
					abort();
		}
	}
	free(t);
	return 0;
}
