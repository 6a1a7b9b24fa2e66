/* SPDX-License-Identifier: MIT */
/* Hairpin routing through the punt tap. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <egw/addr.h>

#include "cd_hairpin.h"
#include "cd_nft.h"
#include "cd_spawn.h"

#define TABLE "2001"
#define PREF "1000"
#define NH4 "169.254.233.1"
#define NH6 "fe80::e9:1"

static const char *const ip_paths[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip", NULL };

struct cd_hairpin {
	char ifname[IF_NAMESIZE];
	unsigned ifindex;
	bool rules;
	char nh_mac[18];
	/* unit prefixes and terminals (ip, mac), as text for `ip` */
	char (*routes)[EGW_PREFIX_STRLEN];
	size_t n_routes;
	char (*neigh)[2][EGW_PREFIX_STRLEN];
	size_t n_neigh;
	/* a reload's new L2 while configured: applied in place at the next
	 * tick (no tear-down: punted packets keep flowing); the lists it
	 * replaces, for deleting what is gone */
	bool l2_pending;
	char (*old_routes)[EGW_PREFIX_STRLEN];
	size_t n_old_routes;
	char (*old_neigh)[2][EGW_PREFIX_STRLEN];
	size_t n_old_neigh;
};

static void drop_old(struct cd_hairpin *h)
{
	free(h->old_routes);
	free(h->old_neigh);
	h->old_routes = NULL;
	h->old_neigh = NULL;
	h->n_old_routes = h->n_old_neigh = 0;
	h->l2_pending = false;
}

int cd_hairpin_set_l2(struct cd_hairpin *h, const char *next_hop_mac,
		      const struct egw_policy *p)
{
	uint8_t mac[6];
	size_t nr = 0, nn = 0;

	if (next_hop_mac && egw_mac_parse(next_hop_mac, mac) < 0)
		return -EINVAL;
	egw_mac_format(next_hop_mac ? mac : (const uint8_t[6]){ 2, 0, 0, 0, 0xe9, 1 },
		       h->nh_mac, sizeof(h->nh_mac));
	if (h->ifindex && !h->l2_pending) {
		/* configured: keep what is installed, to delete what goes */
		h->old_routes = h->routes;
		h->old_neigh = h->neigh;
		h->n_old_routes = h->n_routes;
		h->n_old_neigh = h->n_neigh;
		h->l2_pending = true;
	} else {
		free(h->routes);
		free(h->neigh);
	}
	h->routes = NULL;
	h->neigh = NULL;
	h->n_routes = h->n_neigh = 0;
	for (size_t u = 0; p && u < p->n_units; u++) {
		nr += p->units[u].prefixes.n;
		nn += p->units[u].n_terminals;
	}
	h->routes = calloc(nr ? nr : 1, sizeof(*h->routes));
	h->neigh = calloc(nn ? nn : 1, sizeof(*h->neigh));
	if (!h->routes || !h->neigh)
		return -ENOMEM;
	for (size_t u = 0; p && u < p->n_units; u++) {
		const struct egw_unit *un = &p->units[u];
		for (size_t i = 0; i < un->prefixes.n; i++)
			egw_prefix_format(&un->prefixes.v[i], h->routes[h->n_routes++],
					  EGW_PREFIX_STRLEN);
		for (size_t i = 0; i < un->n_terminals; i++) {
			egw_addr_format(&un->terminals[i].ip, h->neigh[h->n_neigh][0],
					EGW_PREFIX_STRLEN);
			egw_mac_format(un->terminals[i].mac, h->neigh[h->n_neigh][1],
				       EGW_PREFIX_STRLEN);
			h->n_neigh++;
		}
	}
	if (!h->l2_pending)
		h->ifindex = 0; /* configure at the next tick */
	return 0;
}

struct cd_hairpin *cd_hairpin_new(const char *ifname)
{
	struct cd_hairpin *h;

	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h) {
		memcpy(h->ifname, ifname, strlen(ifname) + 1);
		snprintf(h->nh_mac, sizeof(h->nh_mac), "02:00:00:00:e9:01");
	}
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

/* Frames from the fast path carry the units' gateway MAC, not the tap's:
 * mark them for this host at ingress or IP drops them (PACKET_OTHERHOST). */
static int ingress_table(const struct cd_hairpin *h, bool add)
{
	char buf[512];

	if (add)
		snprintf(buf, sizeof(buf),
			 "table netdev egw_punt_in\ndelete table netdev egw_punt_in\n"
			 "table netdev egw_punt_in {\n"
			 "\tchain ingress {\n"
			 "\t\ttype filter hook ingress device \"%s\" priority 0; policy accept;\n"
			 "\t\tmeta pkttype other meta pkttype set host comment \"punted frames are for the kernel\"\n"
			 "\t}\n}\n", h->ifname);
	else
		snprintf(buf, sizeof(buf),
			 "table netdev egw_punt_in\ndelete table netdev egw_punt_in\n");
	return cd_nft_run(buf, false, NULL);
}

static void del_rules(struct cd_hairpin *h)
{
	ingress_table(h, false);
	for (size_t i = 0; i < h->n_routes; i++)
		ip((const char *[]){ "route", "del", h->routes[i], "dev", h->ifname, "metric",
				     "4242", NULL }, true);
	if (if_nametoindex(h->ifname)) {
		ip((const char *[]){ "-4", "neigh", "flush", "dev", h->ifname, "nud", "permanent", NULL }, true);
		ip((const char *[]){ "-6", "neigh", "flush", "dev", h->ifname, "nud", "permanent", NULL }, true);
	}
	for (int fam = 0; fam < 2; fam++) {
		const char *f = fam ? "-6" : "-4";
		for (int i = 0; i < 8; i++)
			if (ip((const char *[]){ f, "rule", "del", "pref", PREF, NULL }, true) != 0)
				break;
		ip((const char *[]){ f, "route", "flush", "table", TABLE, NULL }, true);
	}
	h->rules = false;
}

/* The L2 part: next hop, routes to the units and the terminals' MACs
 * (replace: in place, no gap). 0 or non-zero when an `ip` failed. */
static int add_l2(struct cd_hairpin *h)
{
	int rc = 0;

	rc |= ip((const char *[]){ "-4", "neigh", "replace", NH4, "lladdr", h->nh_mac, "dev",
				   h->ifname, "nud", "permanent", NULL }, false);
	rc |= ip((const char *[]){ "-6", "neigh", "replace", NH6, "lladdr", h->nh_mac, "dev",
				   h->ifname, "nud", "permanent", NULL }, false);
	/* replies to the units: straight to the terminals, registered MACs;
	 * in the main table too, for the NXDOMAIN answers and resets egw-controld
	 * sends itself (an existing route of the administrator's stays) */
	for (size_t i = 0; i < h->n_routes; i++) {
		rc |= ip((const char *[]){ "route", "replace", h->routes[i], "dev", h->ifname,
					   "table", TABLE, NULL }, false);
		ip((const char *[]){ "route", "add", h->routes[i], "dev", h->ifname, "proto",
				     "static", "metric", "4242", NULL }, true);
	}
	for (size_t i = 0; i < h->n_neigh; i++)
		rc |= ip((const char *[]){ "neigh", "replace", h->neigh[i][0], "lladdr",
					   h->neigh[i][1], "dev", h->ifname, "nud", "permanent",
					   NULL }, false);
	return rc;
}

/* After a reload: what the old policy had and the new one has not goes. */
static void del_old_l2(struct cd_hairpin *h, bool main_table_only)
{
	for (size_t i = 0; i < h->n_old_routes; i++) {
		size_t j = 0;
		while (j < h->n_routes && strcmp(h->routes[j], h->old_routes[i]))
			j++;
		if (j < h->n_routes)
			continue;
		if (!main_table_only)
			ip((const char *[]){ "route", "del", h->old_routes[i], "dev", h->ifname,
					     "table", TABLE, NULL }, true);
		ip((const char *[]){ "route", "del", h->old_routes[i], "dev", h->ifname,
				     "metric", "4242", NULL }, true);
	}
	for (size_t i = 0; i < h->n_old_neigh && !main_table_only; i++) {
		size_t j = 0;
		while (j < h->n_neigh && strcmp(h->neigh[j][0], h->old_neigh[i][0]))
			j++;
		if (j == h->n_neigh)
			ip((const char *[]){ "neigh", "del", h->old_neigh[i][0], "dev", h->ifname,
					     NULL }, true);
	}
	drop_old(h);
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
	if (idx == h->ifindex) {
		if (!h->l2_pending)
			return 0;
		if (add_l2(h)) {
			fprintf(stderr, "egw-controld: hairpin routes through %s: update failed; "
				"retrying\n", h->ifname);
			return -1;
		}
		del_old_l2(h, false);
		fprintf(stderr, "egw-controld: %s: hairpin routes and neighbours updated\n",
			h->ifname);
		return 1;
	}
	if (h->l2_pending)
		del_old_l2(h, true);   /* the tap is new: only the main table keeps any */
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
	if (ingress_table(h, true) < 0)
		rc |= 1;
	rc |= ip((const char *[]){ "-4", "rule", "add", "pref", PREF, "iif", h->ifname,
				   "lookup", TABLE, NULL }, false);
	rc |= ip((const char *[]){ "-6", "rule", "add", "pref", PREF, "iif", h->ifname,
				   "lookup", TABLE, NULL }, false);
	rc |= add_l2(h);
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
	if (!h)
		return;
	drop_old(h);
	free(h->routes);
	free(h->neigh);
	free(h);
}
