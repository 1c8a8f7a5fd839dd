/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tools/lib/qmp - the testbed's one QMP client (tools/guest-where.c,
 * tools/hotplug-relay.c): a line reader over a unix socket with a bound on
 * every wait, and QMP's greeting, capabilities negotiation and commands on
 * top of it. QMP sends one JSON object per line; a reply is the first line
 * with "return" or "error", and events before it go to a callback.
 */
#ifndef TOOLS_QMP_H
#define TOOLS_QMP_H

#include <stddef.h>

/* A line-oriented unix socket connection: QMP, or a guest's serial port. */
struct qmp {
	int fd;
	int timeout_ms;		/* bound on one QMP reply */
	char *buf;		/* what was read and not yet returned */
	size_t len, size;
	char *line;		/* the last line returned, in buf */
	size_t line_len;	/* its length with its newline */
};

/* Called with each event (or other line) read while waiting for a reply. */
typedef void qmp_event_fn(const char *line, void *arg);

long long qmp_now_ms(void);
int qmp_connect(struct qmp *q, const char *path, size_t line_max,
		int timeout_ms);
int qmp_open(struct qmp *q, const char *path, size_t line_max,
	     int timeout_ms);
void qmp_close(struct qmp *q);
int qmp_read_line(struct qmp *q, char **line, long long deadline);
int qmp_write_line(struct qmp *q, const char *s);
int qmp_command(struct qmp *q, const char *json, char **reply,
		qmp_event_fn *event, void *arg);
char *qmp_return_string(char *reply);
void qmp_error_desc(const char *reply, char *out, size_t size);

#endif /* TOOLS_QMP_H */
