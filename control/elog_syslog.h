/* SPDX-License-Identifier: MIT */
/*
 * The behaviour log's off-box copy: every line as an RFC 5424 message
 * (facility local0, severity info, APP-NAME "egw", MSGID "eve", the line
 * itself as MSG) over UDP (one datagram each) or TCP (octet-counting
 * framing, RFC 6587). Never blocks the writer: the socket is non-blocking,
 * TCP keeps at most 1 MiB pending and reconnects at most once a second;
 * what cannot be sent is counted as dropped.
 * Thread safety: owned by the writer's thread. Errors: NULL + errno + err.
 */
#ifndef EGW_ELOG_SYSLOG_H
#define EGW_ELOG_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

enum elog_syslog_proto { ELOG_SYSLOG_UDP = 1, ELOG_SYSLOG_TCP = 2 };

struct elog_syslog;

struct elog_syslog *elog_syslog_open(enum elog_syslog_proto proto, const char *host,
				     uint16_t port, char *err, size_t errlen);
/* Send one line (JSON, no newline) stamped with ts_us and now_us for retries. */
void elog_syslog_send(struct elog_syslog *s, const char *line, size_t len,
		      int64_t ts_us, int64_t now_us);
void elog_syslog_counts(const struct elog_syslog *s, uint64_t *sent, uint64_t *dropped);
void elog_syslog_close(struct elog_syslog *s);

#endif
