/* SPDX-License-Identifier: MIT */
/*
 * bench_punt_send: a paced UDP sender for the punt-path benchmark
 * (bench/punt_rate.sh). One thread, one socket: sendmmsg() in bursts of up
 * to 32, paced against CLOCK_MONOTONIC to --rate packets per second (0 =
 * as fast as the socket takes them), for --secs seconds. Flow i of --flows
 * goes to DST:(dport_base + i), so the flows differ by destination port and
 * rotate in order: with more flows than egw-controld's flow cache holds,
 * every packet is a flow controld has not decided yet.
 *
 *   bench_punt_send --dst IPV4 --rate PPS --secs S [--count N] [--flows N]
 *                   [--size B] [--dport-base P]
 *
 * --count N stops after N packets (or at --secs, whichever comes first).
 * --sockets K sends from K sockets (K source ports): K * flows distinct
 * flows, the destination port turning fastest.
 *
 * Prints one JSON line: {"sent":N,"errors":E,"secs":S,"rate_asked":R,
 * "pps":P}. errors counts packets the socket refused (ENOBUFS, EAGAIN):
 * they never left, so they are not offered load. Exit 2 on bad arguments.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURST 32
#define MAXSOCK 256

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int num(const char *s, const char *what, unsigned long lo, unsigned long hi,
	       unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || !*s || *end || *out < lo || *out > hi) {
		fprintf(stderr, "bench_punt_send: bad --%s '%s' (%lu..%lu)\n", what, s, lo, hi);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "secs", required_argument, NULL, 's' },
		{ "flows", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 'z' },
		{ "dport-base", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "sockets", required_argument, NULL, 'k' },
		{ 0 }
	};
	unsigned long rate = 0, secs = 1, flows = 1024, size = 64, base = 1024, count = 0, nsock = 1, v;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct sockaddr_in to[BURST];
	struct mmsghdr msg[BURST];
	struct iovec iov[BURST];
	static char payload[1500];
	uint64_t sent = 0, errors = 0, next_flow = 0;
	double t0, t, end;
	int c, fd[MAXSOCK], have_dst = 0;
	unsigned long cur = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (inet_pton(AF_INET, optarg, &dst.sin_addr) != 1) {
				fprintf(stderr, "bench_punt_send: bad --dst '%s'\n", optarg);
				return 2;
			}
			have_dst = 1;
			break;
		case 'r': if (num(optarg, "rate", 0, 100000000, &rate)) return 2; break;
		case 's': if (num(optarg, "secs", 1, 3600, &secs)) return 2; break;
		case 'f': if (num(optarg, "flows", 1, 64000, &flows)) return 2; break;
		case 'z': if (num(optarg, "size", 1, 1472, &size)) return 2; break;
		case 'p': if (num(optarg, "dport-base", 1, 65535, &base)) return 2; break;
		case 'n': if (num(optarg, "count", 1, 4000000000UL, &count)) return 2; break;
		case 'k': if (num(optarg, "sockets", 1, MAXSOCK, &nsock)) return 2; break;
		default:
			fprintf(stderr, "usage: bench_punt_send --dst IPV4 --rate PPS --secs S "
				"[--count N] [--flows N] [--sockets K] [--size B] [--dport-base P]\n");
			return 2;
		}
	}
	if (!have_dst || optind != argc || base + flows - 1 > 65535) {
		fprintf(stderr, "bench_punt_send: need --dst, and dport-base + flows - 1 <= 65535\n");
		return 2;
	}
	v = 4 << 20;
	for (unsigned long k = 0; k < nsock; k++) {
		fd[k] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd[k] < 0) {
			perror("bench_punt_send: socket");
			return 1;
		}
		(void)setsockopt(fd[k], SOL_SOCKET, SO_SNDBUF, &(int){ (int)v }, sizeof(int));
	}
	memset(payload, 'p', sizeof(payload));
	for (int i = 0; i < BURST; i++) {
		iov[i] = (struct iovec){ .iov_base = payload, .iov_len = size };
		msg[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &to[i], .msg_namelen = sizeof(to[i]),
			.msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	t0 = now_s();
	end = t0 + (double)secs;
	for (;;) {
		uint64_t due = BURST, n;
		int r;

		t = now_s();
		if (t >= end || (count && sent >= count))
			break;
		if (rate) {
			double want = (t - t0) * (double)rate;
			if ((double)(sent + errors) >= want) {
				/* ahead of the schedule: yield briefly */
				struct timespec ts = { 0, 20000 };
				nanosleep(&ts, NULL);
				continue;
			}
			due = (uint64_t)(want - (double)(sent + errors)) + 1;
			if (due > BURST)
				due = BURST;
		}
		if (count && due > count - sent)
			due = count - sent;
		/* a burst stays on one socket: it ends where the ports wrap */
		if (due > flows - next_flow)
			due = flows - next_flow;
		for (n = 0; n < due; n++) {
			to[n] = dst;
			to[n].sin_port = htons((uint16_t)(base + next_flow + n));
		}
		r = sendmmsg(fd[cur], msg, (unsigned)due, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED &&
			    errno != EPERM) {
				perror("bench_punt_send: sendmmsg");
				return 1;
			}
			errors++;   /* the first of the burst was refused */
			continue;
		}
		sent += (uint64_t)r;
		next_flow += (uint64_t)r;
		if (next_flow == flows) {
			next_flow = 0;
			cur = cur + 1 == nsock ? 0 : cur + 1;
		}
	}
	t = now_s() - t0;
	for (unsigned long k = 0; k < nsock; k++)
		close(fd[k]);
	printf("{\"sent\": %llu, \"errors\": %llu, \"secs\": %.3f, \"rate_asked\": %lu, "
	       "\"pps\": %.0f}\n", (unsigned long long)sent, (unsigned long long)errors, t,
	       rate, (double)sent / t);
	return 0;
}
