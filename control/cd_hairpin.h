/* SPDX-License-Identifier: MIT */
/*
 * Dataplane mode (off with --no-punt-hairpin): make the kernel send packets that arrive on
 * the punt tap back out of it, so that a packet the control plane accepts
 * returns to the fast path (which sends it on, dataplane/dp_port.c
 * punt_return). For the tap IF:
 *   sysctl net.ipv4.ip_forward=1, net.ipv6.conf.all.forwarding=1,
 *          net.ipv4.conf.IF.rp_filter=0, .send_redirects=0, .accept_local=1
 *   ip link set IF up
 *   ip [-6] rule add pref 1000 iif IF lookup 2001
 *   ip [-6] route replace default via <fake next hop> dev IF onlink table 2001
 *   ip [-6] neigh replace <fake next hop> lladdr 02:00:00:00:e9:01 dev IF nud permanent
 * (a permanent neighbour: nothing on the tap answers ARP/ND), and
 *   table netdev egw_punt_in: at the tap's ingress "meta pkttype set host"
 *   for frames addressed to another MAC (the fast path keeps the units'
 *   gateway MAC; IP would drop them as PACKET_OTHERHOST). The tap
 * appears when egw-dataplane has created it and may come back after a
 * restart: cd_hairpin_tick() (re)configures when its ifindex changes.
 * cd_hairpin_remove() deletes the rules and the table (sysctls stay).
 * `ip` runs via posix_spawn with a fixed argv. Thread safety: main thread.
 */
#ifndef CD_HAIRPIN_H
#define CD_HAIRPIN_H

#include <stdbool.h>

#include <egw/policy.h>

struct cd_hairpin;

struct cd_hairpin *cd_hairpin_new(const char *ifname);  /* NULL on ENOMEM/EINVAL */

/*
 * L2 for a bump-in-the-wire fast path: a frame routed back out of the tap
 * gets the kernel's Ethernet header, not the one it came with. Outbound
 * (from a unit) frames go to next_hop_mac (the units' gateway, the upstream
 * router: --punt-hairpin-mac); replies to a unit's terminals get their
 * registered MAC (a permanent neighbour per terminal, and a route per unit
 * prefix through the tap in the hairpin table). Call before the first tick
 * and on reload (the next tick applies it: in place when the tap is
 * configured, the rules and the ingress table untouched, so packets punted
 * meanwhile still come back; what the old policy had alone is deleted
 * after). 0 or -EINVAL (bad MAC).
 */
int cd_hairpin_set_l2(struct cd_hairpin *h, const char *next_hop_mac,
		      const struct egw_policy *p);
/* Configure when the interface (re)appeared. 1 configured now, 0 nothing to
 * do, -1 failed (a line on stderr; retried at the next tick). */
int cd_hairpin_tick(struct cd_hairpin *h);
void cd_hairpin_remove(struct cd_hairpin *h);
void cd_hairpin_free(struct cd_hairpin *h);

#endif
