/* SPDX-License-Identifier: MIT */
/* Hairpin routing through the punt tap. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cd_hairpin.h"
#include "cd_spawn.h"

#define TABLE "2001"
#define PREF "1000"
#define NH4 "169.254.233.1"
#define NH6 "fe80::e9:1"
#define NH_MAC "02:00:00:00:e9:01"

static const char *const ip_paths[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip", NULL };

struct cd_hairpin {
	char ifname[IF_NAMESIZE];
	unsigned ifindex;
	bool rules;
};

struct cd_hairpin *cd_hairpin_new(const char *ifname)
{
	struct cd_hairpin *h;

	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h)
		memcpy(h->ifname, ifname, strlen(ifname) + 1);
	return h;
}

static int sysctl_write(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, v, strlen(v));
	close(fd);
	return n < 0 ? -errno : 0;
}

static int ip(const char *const *args, bool quiet)
{
	const char *bin = cd_spawn_find(ip_paths);
	const char *argv[16];
	size_t n = 0;

	if (!bin)
		return -ENOENT;
	argv[n++] = bin;
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return cd_spawn(argv, quiet);
}

static void del_rules(struct cd_hairpin *h)
{
	for (int fam = 0; fam < 2; fam++) {
		const char *f = fam ? "-6" : "-4";
		for (int i = 0; i < 8; i++)
			if (ip((const char *[]){ f, "rule", "del", "pref", PREF, NULL }, true) != 0)
				break;
		ip((const char *[]){ f, "route", "flush", "table", TABLE, NULL }, true);
	}
	h->rules = false;
}

int cd_hairpin_tick(struct cd_hairpin *h)
{
	unsigned idx = if_nametoindex(h->ifname);
	char p[128];
	int rc = 0;

	if (!idx) {
		h->ifindex = 0;
		return 0;
	}
	if (idx == h->ifindex)
		return 0;
	del_rules(h);
	sysctl_write("/proc/sys/net/ipv4/ip_forward", "1");
	sysctl_write("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	snprintf(p, sizeof(p), "/proc/sys/net/ipv4/conf/%s/rp_filter", h->ifname);
	sysctl_write(p, "0");
	snprintf(p, sizeof(p), "/proc/sys/net/ipv4/conf/%s/send_redirects", h->ifname);
	sysctl_write(p, "0");
	snprintf(p, sizeof(p), "/proc/sys/net/ipv4/conf/%s/accept_local", h->ifname);
	sysctl_write(p, "1");
	rc |= ip((const char *[]){ "link", "set", "dev", h->ifname, "up", NULL }, false);
	h->rules = true;
	rc |= ip((const char *[]){ "-4", "rule", "add", "pref", PREF, "iif", h->ifname,
				   "lookup", TABLE, NULL }, false);
	rc |= ip((const char *[]){ "-6", "rule", "add", "pref", PREF, "iif", h->ifname,
				   "lookup", TABLE, NULL }, false);
	rc |= ip((const char *[]){ "-4", "neigh", "replace", NH4, "lladdr", NH_MAC, "dev",
				   h->ifname, "nud", "permanent", NULL }, false);
	rc |= ip((const char *[]){ "-6", "neigh", "replace", NH6, "lladdr", NH_MAC, "dev",
				   h->ifname, "nud", "permanent", NULL }, false);
	rc |= ip((const char *[]){ "-4", "route", "replace", "default", "via", NH4, "dev",
				   h->ifname, "onlink", "table", TABLE, NULL }, false);
	rc |= ip((const char *[]){ "-6", "route", "replace", "default", "via", NH6, "dev",
				   h->ifname, "table", TABLE, NULL }, false);
	if (rc) {
		fprintf(stderr, "egw-controld: hairpin routing through %s failed; retrying\n",
			h->ifname);
		return -1;
	}
	h->ifindex = idx;
	fprintf(stderr, "egw-controld: %s: accepted punted packets are routed back through it\n",
		h->ifname);
	return 1;
}

void cd_hairpin_remove(struct cd_hairpin *h)
{
	if (h && h->rules)
		del_rules(h);
}

void cd_hairpin_free(struct cd_hairpin *h)
{
	free(h);
}
