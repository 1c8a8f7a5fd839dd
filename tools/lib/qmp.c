// SPDX-License-Identifier: GPL-2.0
/*
 * tools/lib/qmp - the testbed's QMP client; see qmp.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "qmp.h"

/** qmp_now_ms() - CLOCK_MONOTONIC in ms, the clock of every deadline here */
long long qmp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/**
 * qmp_connect() - connect to the unix socket @path, nothing read yet
 * @line_max: the longest line to hold (a longer one is dropped)
 * @timeout_ms: bound on one QMP reply (qmp_command)
 * Return: 0, or -errno with nothing to close.
 */
int qmp_connect(struct qmp *q, const char *path, size_t line_max,
		int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int err;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	q->buf = malloc(line_max + 1);
	if (!q->buf)
		return -ENOMEM;
	q->size = line_max;
	q->timeout_ms = timeout_ms;
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		qmp_close(q);
		return err;
	}
	return 0;
}

/**
 * qmp_open() - connect to QEMU's QMP socket @path, read its greeting and
 * negotiate capabilities, each within @timeout_ms
 * Return: 0, or -errno (-EPROTO: no greeting) with nothing to close.
 */
int qmp_open(struct qmp *q, const char *path, size_t line_max,
	     int timeout_ms)
{
	char *line;
	int ret = qmp_connect(q, path, line_max, timeout_ms);

	if (ret)
		return ret;
	ret = qmp_read_line(q, &line, qmp_now_ms() + timeout_ms);
	if (ret == 1 && !strstr(line, "\"QMP\""))
		ret = -EPROTO;
	else if (ret == 1)
		ret = qmp_command(q, "{\"execute\": \"qmp_capabilities\"}",
				  NULL, NULL, NULL);
	else if (ret == 0)
		ret = -EPIPE;
	if (ret)
		qmp_close(q);
	return ret;
}

/** qmp_close() - close the connection; safe to call twice */
void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	q->fd = -1;
	q->buf = NULL;
	q->len = q->line_len = 0;
}

/* Drop the line returned last from the buffer. */
static void consume_line(struct qmp *q)
{
	memmove(q->buf, q->buf + q->line_len, q->len - q->line_len);
	q->len -= q->line_len;
	q->line_len = 0;
}

/*
 * Wait until @q->fd is readable or @deadline (qmp_now_ms(); -1: none).
 * Return: 0 readable, -ETIMEDOUT, -errno.
 */
static int wait_readable(struct qmp *q, long long deadline)
{
	struct pollfd p = { .fd = q->fd, .events = POLLIN };
	long long left;
	int n;

	for (;;) {
		left = deadline < 0 ? -1 : deadline - qmp_now_ms();
		if (deadline >= 0 && left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/**
 * qmp_read_line() - the next line, without its newline (or "\r\n")
 * @line: set to the line, valid until the next call
 * @deadline: qmp_now_ms() by which it must have come, -1 for no bound
 *
 * Whatever follows the line in the same read stays buffered for the next
 * call: a partial line is never lost nor returned.
 * Return: 1 with a line, 0 at end of file, -ETIMEDOUT, -EMSGSIZE for a
 * line longer than the buffer (dropped), or -errno.
 */
int qmp_read_line(struct qmp *q, char **line, long long deadline)
{
	char *nl;
	ssize_t n;
	int ret;

	consume_line(q);
	for (;;) {
		nl = memchr(q->buf, '\n', q->len);
		if (nl) {
			q->line_len = nl - q->buf + 1;
			*nl = '\0';
			if (nl > q->buf && nl[-1] == '\r')
				nl[-1] = '\0';
			*line = q->buf;
			return 1;
		}
		if (q->len == q->size) {
			q->len = 0;
			return -EMSGSIZE;
		}
		ret = wait_readable(q, deadline);
		if (ret)
			return ret;
		n = read(q->fd, q->buf + q->len, q->size - q->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		q->len += n;
	}
}

static int write_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		s += n;
		len -= n;
	}
	return 0;
}

/** qmp_write_line() - write @s and a newline; Return: 0 or -errno */
int qmp_write_line(struct qmp *q, const char *s)
{
	int ret = write_all(q->fd, s, strlen(s));

	return ret ? ret : write_all(q->fd, "\n", 1);
}

/**
 * qmp_command() - send one QMP command and wait for its reply
 * @reply: set to the reply line (valid until the next read), or NULL
 * @event: called with each line before the reply (events), or NULL
 *
 * Waits at most @q->timeout_ms for the reply.
 * Return: 0 on "return", -EIO on "error" (@reply is the error line; see
 * qmp_error_desc()), -ETIMEDOUT, -EPIPE when QEMU closed the socket, -errno.
 */
int qmp_command(struct qmp *q, const char *json, char **reply,
		qmp_event_fn *event, void *arg)
{
	long long deadline = qmp_now_ms() + q->timeout_ms;
	char *line;
	int ret = qmp_write_line(q, json);

	while (!ret) {
		ret = qmp_read_line(q, &line, deadline);
		if (ret == 0)
			return -EPIPE;
		if (ret == -EMSGSIZE) {
			ret = 0;	/* not the reply we can read: skip */
			continue;
		}
		if (ret < 0)
			return ret;
		ret = 0;
		if (strstr(line, "\"return\"") || strstr(line, "\"error\"")) {
			if (reply)
				*reply = line;
			return strstr(line, "\"return\"") ? 0 : -EIO;
		}
		if (event)
			event(line, arg);
	}
	return ret;
}

/**
 * qmp_return_string() - the string value of "return" in @reply, unescaped
 * in place (\n, \r, \t, \" and \\)
 * Return: the string, or NULL if "return" is not a string.
 */
char *qmp_return_string(char *reply)
{
	char *s = strstr(reply, "\"return\": \""), *w, *r;

	if (!s)
		return NULL;
	s += strlen("\"return\": \"");
	for (r = w = s; *r && *r != '"'; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		if (!*++r)
			break;
		*w++ = *r == 'n' ? '\n' : *r == 'r' ? '\r' : *r == 't' ? '\t' : *r;
	}
	*w = '\0';
	return s;
}

/** qmp_error_desc() - the "desc" of an error reply into @out ("QMP error") */
void qmp_error_desc(const char *reply, char *out, size_t size)
{
	const char *d = strstr(reply, "\"desc\"");
	const char *e;

	snprintf(out, size, "QMP error");
	if (!d)
		return;
	d = strchr(d + strlen("\"desc\""), '"');
	if (!d)
		return;
	e = strchr(d + 1, '"');
	if (e)
		snprintf(out, size, "%.*s", (int)(e - d - 1), d + 1);
}
