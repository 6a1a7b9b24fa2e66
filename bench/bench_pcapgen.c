/* SPDX-License-Identifier: MIT */
/*
 * bench_pcapgen: write a capture file of a realistic traffic mix for the
 * benchmarks (issue 5): N flows from registered terminals of the generated
 * policy (bench/gen_policy.py) to the lab's "internet" ranges, fixed 64 B or
 * IMIX sizes, a DNS share, an IPv6 share, and a new-flow ratio (the share of
 * packets that open a flow of their own, for the setup rate).
 *
 * Addresses follow bench/gen_policy.py: terminal k (0-based) of the
 * generated policy is 10.(1 + k / 60000).(k % 60000 / 250).(k % 250 + 1),
 * MAC 02:00:<ip bytes>; IPv6 terminals are 2001:db8:<unit>::<k>.
 *
 * The output is a classic pcap (Ethernet), which net_pcap replays with
 * infinite_rx=1, or with --format trafgen a netsniff-ng trafgen packet
 * config (one { bytes } block per packet) for the kernel-mode load.
 * Deterministic for a given --seed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct opts {
	const char *out;
	unsigned long flows;
	unsigned long packets;
	unsigned long terminals;
	int imix;
	double dns_share;
	double v6_share;
	double new_flow_ratio;
	unsigned long seed;
	int trafgen;      /* write a trafgen packet config instead of a pcap */
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: small, fast, well distributed, reproducible */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rnd01(void)
{
	return (double)(rnd() >> 11) / (double)(1ull << 53);
}

struct flow {
	uint32_t term;
	uint8_t v6, proto, dns;
	uint16_t sport, dport;
	uint8_t dst[16];
};

static void terminal_v4(uint32_t k, uint8_t ip[4])
{
	ip[0] = 10;
	ip[1] = (uint8_t)(1 + k / 60000);
	ip[2] = (uint8_t)(k % 60000 / 250);
	ip[3] = (uint8_t)(k % 250 + 1);
}

static void terminal_v6(uint32_t k, uint8_t ip[16])
{
	memset(ip, 0, 16);
	ip[0] = 0x20; ip[1] = 0x01; ip[2] = 0x0d; ip[3] = 0xb8;
	ip[5] = (uint8_t)(1 + k / 60000);
	ip[12] = (uint8_t)(k >> 24); ip[13] = (uint8_t)(k >> 16);
	ip[14] = (uint8_t)(k >> 8); ip[15] = (uint8_t)k;
}

static void make_flow(struct flow *f, const struct opts *o)
{
	static const uint8_t nets[3][3] = { { 198, 51, 100 }, { 192, 0, 2 }, { 203, 0, 113 } };
	static const uint16_t ports[] = { 80, 443, 443, 443, 8080, 22, 25, 993 };
	memset(f, 0, sizeof(*f));
	f->term = (uint32_t)(rnd() % o->terminals);
	f->v6 = rnd01() < o->v6_share;
	f->dns = rnd01() < o->dns_share;
	f->sport = (uint16_t)(1024 + rnd() % 64000);
	if (f->dns) {
		f->proto = 17;
		f->dport = 53;
	} else {
		f->proto = rnd01() < 0.85 ? 6 : 17;
		f->dport = ports[rnd() % (sizeof(ports) / sizeof(ports[0]))];
	}
	if (f->v6) {
		/* 2001:db8:ff::/48 is the lab's US range; resolver-less v6 DNS
		 * goes there too (a violation the policy handles). */
		uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff };
		a[14] = (uint8_t)(rnd() % 256);
		a[15] = (uint8_t)(1 + rnd() % 254);
		memcpy(f->dst, a, 16);
	} else if (f->dns) {
		uint8_t a[4] = { 198, 51, 100, 53 };
		memcpy(f->dst, a, 4);
	} else {
		const uint8_t *n = nets[rnd() % 3];
		f->dst[0] = n[0]; f->dst[1] = n[1]; f->dst[2] = n[2];
		f->dst[3] = (uint8_t)(1 + rnd() % 254);
	}
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* Build one frame of total length len (>= minimum for its headers). */
static size_t build(uint8_t *buf, size_t len, const struct flow *f, unsigned long seq)
{
	uint8_t src[16];
	size_t l3 = 14;
	/* Ethernet: dst = the next hop (02:00:00:00:00:01), src = the terminal's MAC */
	uint8_t rtr[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }; /* not a terminal MAC */
	memcpy(buf, rtr, 6);
	buf[6] = 0x02; buf[7] = 0x00;
	uint8_t v4[4];
	terminal_v4(f->term, v4);
	memcpy(buf + 8, v4, 4);
	size_t l4hdr = f->proto == 6 ? 20 : 8;
	size_t ipl = f->v6 ? 40 : 20;
	size_t min = l3 + ipl + l4hdr + (f->dns ? 32 : 0);   /* DNS: header + question */
	if (len < min)
		len = min;
	/* Zero the whole frame (the Ethernet header is rewritten below): bytes
	 * past the asked length are left over from the previous frame, and an
	 * old checksum there would spoil the new one. */
	memset(buf + 14, 0, len - 14);
	size_t l4 = l3 + ipl;
	size_t l4len = len - l4;
	if (f->v6) {
		put16(buf + 12, 0x86dd);
		terminal_v6(f->term, src);
		uint8_t *ip = buf + l3;
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = f->proto;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, f->dst, 16);
	} else {
		put16(buf + 12, 0x0800);
		memcpy(src, v4, 4);
		uint8_t *ip = buf + l3;
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(len - l3));
		put16(ip + 4, (uint16_t)seq);
		ip[8] = 64;
		ip[9] = f->proto;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, f->dst, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	}
	uint8_t *t = buf + l4;
	put16(t, f->sport);
	put16(t + 2, f->dport);
	if (f->proto == 6) {
		uint32_t sq = (uint32_t)seq * 1000u;
		t[4] = (uint8_t)(sq >> 24); t[5] = (uint8_t)(sq >> 16);
		t[6] = (uint8_t)(sq >> 8); t[7] = (uint8_t)sq;
		t[12] = 0x50;
		t[13] = 0x18; /* PSH|ACK: an established flow's data */
		put16(t + 14, 65535);
	} else {
		put16(t + 4, (uint16_t)l4len);
		if (f->dns) {
			/* query id, RD, one question: www.example.cn A IN */
			uint8_t *d = t + 8;
			put16(d, (uint16_t)seq);
			put16(d + 2, 0x0100);
			put16(d + 4, 1);
			static const uint8_t q[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a',
				'm', 'p', 'l', 'e', 2, 'c', 'n', 0, 0, 1, 0, 1 };
			if (12 + sizeof(q) <= l4len - 8)
				memcpy(d + 12, q, sizeof(q));
		}
	}
	/* L4 checksum over the pseudo-header */
	uint32_t s = 0;
	if (f->v6) {
		s = csum_add(s, src, 16);
		s = csum_add(s, f->dst, 16);
		s += (uint32_t)l4len;
		s += f->proto;
	} else {
		s = csum_add(s, src, 4);
		s = csum_add(s, f->dst, 4);
		s += (uint32_t)l4len;
		s += f->proto;
	}
	s = csum_add(s, t, l4len);
	uint16_t c = csum_fold(s);
	if (f->proto == 17 && c == 0)
		c = 0xffff;
	put16(t + (f->proto == 6 ? 16 : 6), c);
	return len;
}

static size_t imix_size(void)
{
	/* simple IMIX 7:4:1 of 64, 570, 1514 (frame sizes without FCS: 60, 566, 1510) */
	unsigned r = (unsigned)(rnd() % 12);
	return r < 7 ? 60 : r < 11 ? 566 : 1510;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_pcapgen --out FILE [--flows N] [--packets N] [--terminals N]\n"
		"       [--size 64|imix] [--dns-share F] [--v6-share F] [--new-flow-ratio F] [--seed N]\n"
		"       [--format pcap|trafgen]\n");
}

static int parse_ulong(const char *s, unsigned long *v)
{
	char *end;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || *end || end == s ? -1 : 0;
}

static int parse_frac(const char *s, double *v)
{
	char *end;
	*v = strtod(s, &end);
	return *end || end == s || *v < 0 || *v > 1 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .flows = 1000, .packets = 100000, .terminals = 1000,
			  .dns_share = 0.05, .v6_share = 0.1, .seed = 1 };
	static const struct option lo[] = {
		{ "out", required_argument, 0, 'o' },
		{ "flows", required_argument, 0, 'f' },
		{ "packets", required_argument, 0, 'p' },
		{ "terminals", required_argument, 0, 't' },
		{ "size", required_argument, 0, 's' },
		{ "dns-share", required_argument, 0, 'd' },
		{ "v6-share", required_argument, 0, '6' },
		{ "new-flow-ratio", required_argument, 0, 'n' },
		{ "seed", required_argument, 0, 'S' },
		{ "format", required_argument, 0, 'F' },
		{ 0, 0, 0, 0 } };
	int c, bad = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'o': o.out = optarg; break;
		case 'f': bad |= parse_ulong(optarg, &o.flows); break;
		case 'p': bad |= parse_ulong(optarg, &o.packets); break;
		case 't': bad |= parse_ulong(optarg, &o.terminals); break;
		case 's':
			if (!strcmp(optarg, "imix"))
				o.imix = 1;
			else if (strcmp(optarg, "64"))
				bad = 1;
			break;
		case 'd': bad |= parse_frac(optarg, &o.dns_share); break;
		case '6': bad |= parse_frac(optarg, &o.v6_share); break;
		case 'n': bad |= parse_frac(optarg, &o.new_flow_ratio); break;
		case 'S': bad |= parse_ulong(optarg, &o.seed); break;
		case 'F':
			if (!strcmp(optarg, "trafgen"))
				o.trafgen = 1;
			else if (strcmp(optarg, "pcap"))
				bad = 1;
			break;
		default: bad = 1;
		}
	}
	if (bad || !o.out || !o.flows || !o.packets || !o.terminals ||
	    o.terminals > 60000ul * 200) {
		usage();
		return 2;
	}
	rng_state = o.seed;
	struct flow *flows = calloc(o.flows, sizeof(*flows));
	if (!flows) {
		fprintf(stderr, "bench_pcapgen: out of memory for %lu flows\n", o.flows);
		return 1;
	}
	for (unsigned long i = 0; i < o.flows; i++)
		make_flow(&flows[i], &o);
	FILE *out = fopen(o.out, "wb");
	if (!out) {
		fprintf(stderr, "bench_pcapgen: %s: %s\n", o.out, strerror(errno));
		free(flows);
		return 1;
	}
	/* pcap global header: magic, v2.4, snaplen 65535, LINKTYPE_ETHERNET */
	uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	if (!o.trafgen)
		fwrite(gh, sizeof(gh), 1, out);
	uint8_t buf[1600];
	unsigned long newflows = 0;
	for (unsigned long i = 0; i < o.packets; i++) {
		struct flow tmp, *f = &flows[i % o.flows];
		if (o.new_flow_ratio > 0 && rnd01() < o.new_flow_ratio) {
			make_flow(&tmp, &o);
			f = &tmp;
			newflows++;
		}
		size_t len = build(buf, o.imix ? imix_size() : 60, f, i);
		if (o.trafgen) {
			fputs("{", out);
			for (size_t b = 0; b < len; b++)
				fprintf(out, "%s0x%02x", b ? "," : " ", buf[b]);
			fputs(" }\n", out);
			continue;
		}
		uint32_t ph[4] = { (uint32_t)(i / 1000000), (uint32_t)(i % 1000000),
				   (uint32_t)len, (uint32_t)len };
		fwrite(ph, sizeof(ph), 1, out);
		fwrite(buf, len, 1, out);
	}
	int err = ferror(out);
	if (fclose(out) || err) {
		fprintf(stderr, "bench_pcapgen: %s: write failed\n", o.out);
		free(flows);
		return 1;
	}
	fprintf(stderr, "bench_pcapgen: %lu packets, %lu flows (+%lu one-packet flows) -> %s\n",
		o.packets, o.flows, newflows, o.out);
	free(flows);
	return 0;
}
