/* SPDX-License-Identifier: MIT */
/* nfqueue consumer: bind, receive in bursts, verdict in batches. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "cd_nfq.h"

#define BURST 64
#define RXBUF (0xffff + 4096)
#define CFGBUF 8192
/* Room for one queued packet's message besides its copy_range bytes of
 * payload: netlink and nfgenmsg headers and every attribute the kernel may
 * add (packet header, marks, ifindexes, hardware address, timestamp,
 * cap_len, skb_info, uid/gid, security context). A longer message comes
 * truncated (MSG_TRUNC) and is still given a verdict (on_truncated). */
#define MSG_EXTRA 4096

struct qsock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t num;
};

struct cd_nfq {
	struct cd_nfq_cfg cfg;
	struct qsock q[CD_NFQ_MAX_QUEUES];
	size_t n;
	struct cd_nfq_stats st;
	/* one recvmmsg() reads up to BURST packets, each into its own slot
	 * of msgsz bytes of rx */
	uint8_t *rx;
	size_t msgsz;
	struct mmsghdr mm[BURST];
	struct iovec iov[BURST];
	uint8_t *tx;
	size_t txcap;
};

void cd_nfq_cfg_default(struct cd_nfq_cfg *c)
{
	c->queue_num = 0;
	c->queue_count = 1;
	c->maxlen = 8192;
	c->copy_range = 2048; /* headers plus a ClientHello / HTTP request head */
	c->fail_open = false;
}

struct stray {
	uint32_t id[64];
	size_t n;
};

/* A packet that arrives while we wait for a config ack: remember it, to
 * give it back to the hook (NF_REPEAT) so that it is queued again. */
static int on_stray(const struct nlmsghdr *nlh, void *data)
{
	struct stray *st = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	const struct nfqnl_msg_packet_hdr *ph;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	if (st->n < sizeof(st->id) / sizeof(st->id[0]))
		st->id[st->n++] = ntohl(ph->packet_id);
	return MNL_CB_OK;
}

/* Send one config message and wait for its ack. 0 or -errno. */
static int send_ack(struct qsock *s, struct nlmsghdr *nlh)
{
	static unsigned seqgen;
	unsigned seq = (unsigned)time(NULL) + ++seqgen;
	struct stray st = { .n = 0 };
	char *buf = malloc(RXBUF);
	ssize_t r;
	int rc = -EIO;

	if (!buf)
		return -ENOMEM;
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		r = mnl_socket_recvfrom(s->nl, buf, RXBUF);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		int cr = mnl_cb_run(buf, (size_t)r, seq, s->portid, on_stray, &st);
		if (cr < 0) {
			rc = -errno;
			break;
		}
		if (cr == MNL_CB_STOP) {
			rc = 0;
			break;
		}
	}
	for (size_t i = 0; i < st.n; i++) {
		char v[CFGBUF];
		struct nlmsghdr *vh = nfq_nlmsg_put(v, NFQNL_MSG_VERDICT, s->num);
		nfq_nlmsg_verdict_put(vh, (int)st.id[i], NF_REPEAT);
		(void)mnl_socket_sendto(s->nl, vh, vh->nlmsg_len);
	}
out:
	free(buf);
	return rc;
}

static int cfg_flags(struct qsock *s, bool fail_open)
{
	char buf[CFGBUF];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, s->num);
	uint32_t mask = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
	uint32_t flags = NFQA_CFG_F_GSO | (fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);

	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	return send_ack(s, nlh);
}

static int bind_queue(struct cd_nfq *q, struct qsock *s, char *err, size_t errlen)
{
	char buf[CFGBUF];
	struct nlmsghdr *nlh;
	int rc, sz;

	s->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!s->nl) {
		snprintf(err, errlen, "nfqueue: netlink socket: %s", strerror(errno));
		return -errno;
	}
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		snprintf(err, errlen, "nfqueue: netlink bind: %s", strerror(errno));
		return rc;
	}
	s->portid = mnl_socket_get_portid(s->nl);
	/* Room for bursts; SO_RCVBUFFORCE needs CAP_NET_ADMIN, fall back. */
	sz = 8 << 20;
	if (setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &sz, sizeof(sz)) < 0)
		(void)setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUF,
				 &sz, sizeof(sz));

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, s->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	rc = send_ack(s, nlh);
	if (rc < 0) {
		if (rc == -EBUSY || rc == -EPERM)
			snprintf(err, errlen,
				 "nfqueue %u is bound by another process", s->num);
		else
			snprintf(err, errlen, "nfqueue %u: bind: %s", s->num,
				 strerror(-rc));
		return rc;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, s->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)q->cfg.copy_range);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, q->cfg.maxlen);
	rc = send_ack(s, nlh);
	if (rc == 0)
		rc = cfg_flags(s, q->cfg.fail_open);
	if (rc < 0) {
		snprintf(err, errlen, "nfqueue %u: configure: %s", s->num, strerror(-rc));
		return rc;
	}
	return 0;
}

static void unbind_queue(struct qsock *s)
{
	char buf[CFGBUF];
	struct nlmsghdr *nlh;

	if (!s->nl)
		return;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, s->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
	(void)mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len);
	mnl_socket_close(s->nl);
	s->nl = NULL;
}

struct cd_nfq *cd_nfq_open(const struct cd_nfq_cfg *cfg, char *err, size_t errlen)
{
	struct cd_nfq *q;

	if (cfg->queue_count == 0 || cfg->queue_count > CD_NFQ_MAX_QUEUES ||
	    (uint32_t)cfg->queue_num + cfg->queue_count > 65536u ||
	    cfg->copy_range == 0 || cfg->copy_range > 0xffff || cfg->maxlen == 0) {
		snprintf(err, errlen, "nfqueue: bad configuration (queues %u+%u, copy %u, maxlen %u)",
			 cfg->queue_num, cfg->queue_count, cfg->copy_range, cfg->maxlen);
		errno = EINVAL;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		goto err_nomem;
	q->cfg = *cfg;
	q->msgsz = NLMSG_ALIGN(cfg->copy_range) + MSG_EXTRA;
	q->rx = malloc(q->msgsz * BURST);
	q->txcap = (size_t)BURST * 96;
	q->tx = malloc(q->txcap);
	if (!q->rx || !q->tx)
		goto err_nomem;
	for (size_t i = 0; i < BURST; i++)
		q->iov[i] = (struct iovec){ .iov_base = q->rx + i * q->msgsz,
					    .iov_len = q->msgsz };
	for (size_t i = 0; i < cfg->queue_count; i++) {
		q->q[i].num = (uint16_t)(cfg->queue_num + i);
		q->n = i + 1;
		if (bind_queue(q, &q->q[i], err, errlen) < 0) {
			int e = errno;
			cd_nfq_close(q);
			errno = e ? e : EIO;
			return NULL;
		}
	}
	return q;
err_nomem:
	snprintf(err, errlen, "nfqueue: out of memory");
	cd_nfq_close(q);
	errno = ENOMEM;
	return NULL;
}

void cd_nfq_close(struct cd_nfq *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)
		unbind_queue(&q->q[i]);
	free(q->rx);
	free(q->tx);
	free(q);
}

size_t cd_nfq_fds(const struct cd_nfq *q, int *fds, size_t max)
{
	size_t i;

	for (i = 0; i < q->n && i < max; i++)
		fds[i] = mnl_socket_get_fd(q->q[i].nl);
	return i;
}

int cd_nfq_set_fail_open(struct cd_nfq *q, bool fail_open)
{
	/* Config acks share the socket with packets; a packet that arrives
	 * between is skipped by mnl_cb_run (seq 0) and the kernel's
	 * fail-open/closed handling covers it. Only called between bursts. */
	for (size_t i = 0; i < q->n; i++) {
		int rc = cfg_flags(&q->q[i], fail_open);
		if (rc < 0)
			return rc;
	}
	q->cfg.fail_open = fail_open;
	return 0;
}

struct burst {
	uint32_t id[BURST];
	uint8_t verdict[BURST];
	uint32_t mark[BURST];
	size_t n;
	cd_nfq_cb cb;
	void *arg;
	struct cd_nfq *q;
	uint16_t queue;
};

static int on_packet(const struct nlmsghdr *nlh, void *data)
{
	struct burst *b = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	struct cd_nfq_pkt p = { 0 };
	enum cd_verdict v;
	uint32_t mark = 0;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK; /* not a packet (stray ack): ignore */
	if (mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	p.id = ntohl(ph->packet_id);
	p.hw_protocol = ntohs(ph->hw_protocol);
	p.queue = b->queue;
	if (attr[NFQA_PAYLOAD]) {
		p.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	p.orig_len = p.len;
	if (attr[NFQA_CAP_LEN] && mnl_attr_get_payload_len(attr[NFQA_CAP_LEN]) >= 4)
		p.orig_len = ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]));
	if (attr[NFQA_MARK] && mnl_attr_get_payload_len(attr[NFQA_MARK]) >= 4)
		p.mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_IFINDEX_INDEV] && mnl_attr_get_payload_len(attr[NFQA_IFINDEX_INDEV]) >= 4)
		p.indev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
	if (attr[NFQA_SKB_INFO] && mnl_attr_get_payload_len(attr[NFQA_SKB_INFO]) >= 4)
		p.gso = (ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO])) & NFQA_SKB_GSO) != 0;

	b->q->st.packets++;
	v = b->cb(b->arg, &p, &mark);
	if (v == CD_ACCEPT)
		b->q->st.accepted++;
	else
		b->q->st.dropped++;
	if (b->n < BURST) {
		b->id[b->n] = p.id;
		b->verdict[b->n] = (uint8_t)v;
		b->mark[b->n] = mark;
		b->n++;
	}
	return MNL_CB_OK;
}

/* One VERDICT_BATCH per run of equal verdicts, all in one send. */
static int send_verdicts(struct cd_nfq *q, struct qsock *s, const struct burst *b)
{
	size_t off = 0;

	for (size_t i = 0; i < b->n; i++) {
		if (i + 1 < b->n && b->verdict[i + 1] == b->verdict[i] &&
		    b->mark[i + 1] == b->mark[i])
			continue;
		struct nlmsghdr *nlh = nfq_nlmsg_put((char *)q->tx + off,
						     NFQNL_MSG_VERDICT_BATCH, s->num);
		nfq_nlmsg_verdict_put(nlh, (int)b->id[i],
				      b->verdict[i] == CD_ACCEPT ? NF_ACCEPT : NF_DROP);
		if (b->mark[i])
			nfq_nlmsg_verdict_put_mark(nlh, b->mark[i]);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	if (off == 0)
		return 0;
	if (mnl_socket_sendto(s->nl, q->tx, off) < 0)
		return -errno;
	return 0;
}

/* A message cut short (MSG_TRUNC: longer than a slot): its packet still
 * gets a verdict, the one fail_mode gives a packet nobody inspected, so
 * that it never waits in the kernel's queue for good. The packet header is
 * the first attribute; len bytes of the message were received. */
static void on_truncated(struct burst *b, const uint8_t *msg, size_t len)
{
	const struct nlmsghdr *nlh = (const void *)msg;
	const struct nlattr *a;
	const struct nfqnl_msg_packet_hdr *ph;
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

	b->q->st.truncated++;
	if (len < off + NLA_HDRLEN + sizeof(*ph) || len < NLMSG_HDRLEN ||
	    (nlh->nlmsg_type & 0xff) != NFQNL_MSG_PACKET || b->n >= BURST)
		return;
	a = (const void *)(msg + off);
	if ((a->nla_type & NLA_TYPE_MASK) != NFQA_PACKET_HDR ||
	    a->nla_len < NLA_HDRLEN + sizeof(*ph))
		return;
	ph = (const void *)(msg + off + NLA_HDRLEN);
	b->id[b->n] = ntohl(ph->packet_id);
	b->verdict[b->n] = b->q->cfg.fail_open ? CD_ACCEPT : CD_DROP;
	b->mark[b->n] = 0;
	b->n++;
}

int cd_nfq_process(struct cd_nfq *q, size_t i, cd_nfq_cb cb, void *arg)
{
	struct qsock *s;
	struct burst b = { .cb = cb, .arg = arg, .q = q };
	int fd;

	if (i >= q->n)
		return -EINVAL;
	s = &q->q[i];
	b.queue = s->num;
	fd = mnl_socket_get_fd(s->nl);
	/* A queued packet is one netlink message in one datagram: each slot
	 * of the recvmmsg() holds one packet, and a burst of BURST slots
	 * never holds more packets than struct burst has room for. */
	while (b.n < BURST) {
		unsigned want = (unsigned)(BURST - b.n);
		int r;

		for (unsigned k = 0; k < want; k++) {
			q->mm[k].msg_hdr = (struct msghdr){ .msg_iov = &q->iov[k], .msg_iovlen = 1 };
			q->mm[k].msg_len = 0;
		}
		r = recvmmsg(fd, q->mm, want, MSG_DONTWAIT, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* The kernel could not deliver: those packets
				 * are lost to us (and dropped unless fail-open). */
				q->st.enobufs++;
				continue;
			}
			break; /* EAGAIN: burst done */
		}
		if (r == 0)
			break;
		for (int k = 0; k < r; k++) {
			const uint8_t *m = q->iov[k].iov_base;
			size_t len = q->mm[k].msg_len;

			if (q->mm[k].msg_hdr.msg_flags & MSG_TRUNC) {
				on_truncated(&b, m, len);
				continue;
			}
			/* an error message from the kernel (e.g. a verdict
			 * for an id it no longer has) fails here: go on */
			(void)mnl_cb_run(m, len, 0, s->portid, on_packet, &b);
		}
		if ((unsigned)r < want)
			break; /* the socket is empty */
	}
	if (b.n && send_verdicts(q, s, &b) < 0)
		return -errno;
	return (int)b.n;
}

int cd_nfq_parse_proc(const char *text, uint16_t first, uint16_t count,
		      struct cd_nfq_stats *out)
{
	const char *line = text;
	int found = 0;

	while (line && *line) {
		unsigned qn, portid, total, mode, range, qdrop, udrop, seq;
		int one;
		if (sscanf(line, "%u %u %u %u %u %u %u %u %d", &qn, &portid,
			   &total, &mode, &range, &qdrop, &udrop, &seq, &one) == 9 &&
		    qn >= first && qn < (unsigned)first + count) {
			out->queue_total += total;
			out->kernel_queue_dropped += qdrop;
			out->kernel_user_dropped += udrop;
			found++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return found;
}

void cd_nfq_get_stats(const struct cd_nfq *q, struct cd_nfq_stats *out)
{
	char text[8192];
	FILE *f;
	size_t n = 0;

	*out = q->st;
	out->kernel_queue_dropped = out->kernel_user_dropped = 0;
	out->queue_total = 0;
	f = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	if (!f)
		return;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	cd_nfq_parse_proc(text, q->cfg.queue_num, q->cfg.queue_count, out);
}
