/* SPDX-License-Identifier: MIT */
/*
 * One walk over a MaxMind DB search tree (see geo_internal.h).
 *
 * The walk is depth-first, left (0) before right (1), so networks come out in
 * ascending address order. It trusts nothing in the file: node numbers come
 * from records libmaxminddb has classified against node_count, the depth is
 * bounded by the address width, each node may be reached once only (a tree,
 * not a graph: no cycles, no exponential revisits), data records must point
 * into the data section. The only node reached twice on purpose is the IPv4
 * start node (the ::/96 subtree), through the aliases MaxMind writes for
 * ::ffff:0:0/96, 2001::/32 (Teredo) and 2002::/16; those are skipped.
 */
#include "geo_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NO_NODE UINT32_MAX

/* A record to visit: a search node, or a data record (leaf). */
struct frame {
	uint64_t record;
	uint8_t type;  /* MMDB_RECORD_TYPE_SEARCH_NODE or _DATA */
	uint8_t depth; /* bits of the network it stands for */
	uint8_t addr[16];
	MMDB_entry_s entry; /* for data records */
};

struct walk {
	const MMDB_s *mmdb;
	unsigned bits;        /* 32 or 128 */
	uint32_t node_count;
	uint32_t ipv4_start;  /* NO_NODE for an IPv4 database or none */
	uint8_t *seen;        /* node_count bits */
	egw_geo_leaf_fn leaf;
	void *arg;
	char *whybuf;
	size_t whycap;
	const char **why;
};

static void set_bit(uint8_t *a, unsigned i)
{
	a[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

static bool is_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

static int fail(struct walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct walk *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->whybuf, w->whycap, fmt, ap);
	va_end(ap);
	*w->why = w->whybuf;
	return -1;
}

/*
 * The node at ::/96 (the IPv4 subtree of an IPv6 database), or NO_NODE
 * when the tree does not reach that deep along zero bits.
 */
static uint32_t find_ipv4_start(const struct walk *w)
{
	uint32_t node = 0;
	for (unsigned i = 0; i < 96; i++) {
		MMDB_search_node_s sn;
		if (MMDB_read_node(w->mmdb, node, &sn) != MMDB_SUCCESS ||
		    sn.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE)
			return NO_NODE;
		node = (uint32_t)sn.left_record;
	}
	return node;
}

/* Emit the network of a data record as IPv4 or IPv6. */
static int emit(struct walk *w, const struct frame *f)
{
	struct egw_prefix p = { 0 };
	if (w->bits == 32) {
		p.family = AF_INET;
		p.len = f->depth;
		memcpy(p.addr, f->addr, 4);
		return w->leaf(w->arg, &p, &f->entry);
	}
	if (!is_zero(f->addr, 12)) {
		p.family = AF_INET6;
		p.len = f->depth;
		memcpy(p.addr, f->addr, 16);
		return w->leaf(w->arg, &p, &f->entry);
	}
	if (f->depth >= 96) { /* inside ::/96: an IPv4 network */
		p.family = AF_INET;
		p.len = (uint8_t)(f->depth - 96);
		memcpy(p.addr, f->addr + 12, 4);
		return w->leaf(w->arg, &p, &f->entry);
	}
	/*
	 * ::/depth with depth < 96 holds all of IPv4: report 0.0.0.0/0, and
	 * as IPv6 the rest of ::/depth, i.e. the pieces ::/depth minus
	 * ::/96, in ascending order.
	 */
	p.family = AF_INET;
	if (w->leaf(w->arg, &p, &f->entry) < 0)
		return -1;
	for (unsigned k = 96; k > f->depth; k--) {
		memset(&p, 0, sizeof(p));
		p.family = AF_INET6;
		p.len = (uint8_t)k;
		set_bit(p.addr, k - 1);
		if (w->leaf(w->arg, &p, &f->entry) < 0)
			return -1;
	}
	return 0;
}

/* Classify one record of node at (depth, addr) and push it. */
static int push_record(struct walk *w, struct frame *stack, size_t *sp,
		       uint32_t node, unsigned side, uint64_t record, uint8_t type,
		       const MMDB_entry_s *entry, const struct frame *parent)
{
	const char *sides = side ? "right" : "left";
	struct frame f = { 0 };
	f.record = record;
	f.type = type;
	f.depth = (uint8_t)(parent->depth + 1);
	memcpy(f.addr, parent->addr, 16);
	if (side)
		set_bit(f.addr, parent->depth);

	switch (type) {
	case MMDB_RECORD_TYPE_EMPTY:
		return 0;
	case MMDB_RECORD_TYPE_SEARCH_NODE:
		if (record >= w->node_count)
			return fail(w, "corrupt search tree: node %u %s record %llu "
				    "is not a node (node count %u)", node, sides,
				    (unsigned long long)record, w->node_count);
		if (f.depth >= w->bits)
			return fail(w, "corrupt search tree: node %u %s record "
				    "goes deeper than %u bits", node, sides, w->bits);
		if (record == w->ipv4_start &&
		    !(f.depth == 96 && is_zero(f.addr, 16)))
			return 0; /* alias of the IPv4 subtree */
		if (w->seen[record / 8] & (0x80u >> (record % 8)))
			return fail(w, "corrupt search tree: node %llu is reached "
				    "twice (from node %u %s)",
				    (unsigned long long)record, node, sides);
		w->seen[record / 8] |= (uint8_t)(0x80u >> (record % 8));
		break;
	case MMDB_RECORD_TYPE_DATA:
		/* Records node_count+1 .. node_count+15 are neither. */
		if (record < (uint64_t)w->node_count + 16 ||
		    entry->offset >= w->mmdb->data_section_size)
			return fail(w, "corrupt search tree: node %u %s record "
				    "%llu points outside the data section", node,
				    sides, (unsigned long long)record);
		f.entry = *entry;
		break;
	default:
		return fail(w, "corrupt search tree: node %u %s record %llu is "
			    "invalid", node, sides, (unsigned long long)record);
	}
	stack[(*sp)++] = f;
	return 0;
}

int egw_geo_walk(const MMDB_s *mmdb, egw_geo_leaf_fn leaf, void *arg,
	     char *whybuf, size_t whycap, const char **why)
{
	struct walk w = {
		.mmdb = mmdb,
		.bits = mmdb->metadata.ip_version == 4 ? 32 : 128,
		.node_count = mmdb->metadata.node_count,
		.ipv4_start = NO_NODE,
		.leaf = leaf,
		.arg = arg,
		.whybuf = whybuf,
		.whycap = whycap,
		.why = why,
	};
	if (w.node_count == 0)
		return fail(&w, "empty search tree (node count 0)");
	/* At most two frames per level are pending: 2 * 128 + the root. */
	struct frame stack[2 * 128 + 2];
	size_t sp = 0;
	w.seen = calloc((size_t)w.node_count / 8 + 1, 1);
	if (!w.seen)
		return fail(&w, "out of memory (%u search nodes)", w.node_count);
	if (w.bits == 128)
		w.ipv4_start = find_ipv4_start(&w);

	int rc = 0;
	w.seen[0] |= 0x80u;
	stack[sp++] = (struct frame){ .record = 0,
				      .type = MMDB_RECORD_TYPE_SEARCH_NODE };
	while (sp) {
		struct frame f = stack[--sp];
		if (f.type == MMDB_RECORD_TYPE_DATA) {
			if (emit(&w, &f) < 0) {
				rc = -2;
				break;
			}
			continue;
		}
		uint32_t node = (uint32_t)f.record;
		MMDB_search_node_s sn;
		int err = MMDB_read_node(mmdb, node, &sn);
		if (err != MMDB_SUCCESS) {
			rc = fail(&w, "corrupt search tree: node %u: %s", node,
				  MMDB_strerror(err));
			break;
		}
		if (sp + 2 > sizeof(stack) / sizeof(stack[0])) {
			rc = fail(&w, "corrupt search tree: too deep");
			break;
		}
		/* Right first: the stack pops left (lower addresses) first. */
		if (push_record(&w, stack, &sp, node, 1, sn.right_record,
				sn.right_record_type, &sn.right_record_entry, &f) < 0 ||
		    push_record(&w, stack, &sp, node, 0, sn.left_record,
				sn.left_record_type, &sn.left_record_entry, &f) < 0) {
			rc = -1;
			break;
		}
	}
	free(w.seen);
	return rc;
}
