// SPDX-License-Identifier: GPL-2.0
/*
 * tools/hotplug-relay - let a guest test ask the host for QMP hot-plug steps.
 *
 * The testbed gives the guest a serial port (ttyS3) backed by a unix socket
 * chardev; this program connects to it and to QEMU's QMP socket, and serves
 * one line per request from a fixed whitelist:
 *
 *   ping               -> "ok"
 *   device_add         -> QMP device_add of an edu on rp_hotplug, id hp_edu
 *   device_del         -> QMP device_del of hp_edu, then wait for its
 *                         DEVICE_DELETED event
 *   device_add_bridge  -> device_add of an edu on br0 (a group in use), addr
 *                         3.0, id hp_edu_br
 *   device_del_bridge  -> device_del of hp_edu_br, and wait as device_del
 *
 * and answers each with one line: "ok" or "error <text>". Every wait is
 * bounded; the program ends when the guest's serial socket closes (QEMU
 * exited) or when killed. Progress and timings go to stderr.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#define LINE_MAX_LEN	4096

/* The whitelist: each request and the one QMP command it stands for. */
static const struct request {
	const char *name;
	const char *qmp;
	const char *id;		/* device_del: the id whose DEVICE_DELETED ends it */
} requests[] = {
	{ "device_add", "{\"execute\": \"device_add\", \"arguments\": "
	  "{\"driver\": \"edu\", \"bus\": \"rp_hotplug\", \"id\": \"hp_edu\"}}", NULL },
	{ "device_del", "{\"execute\": \"device_del\", \"arguments\": "
	  "{\"id\": \"hp_edu\"}}", "hp_edu" },
	{ "device_add_bridge", "{\"execute\": \"device_add\", \"arguments\": "
	  "{\"driver\": \"edu\", \"bus\": \"br0\", \"addr\": \"3.0\", "
	  "\"id\": \"hp_edu_br\"}}", NULL },
	{ "device_del_bridge", "{\"execute\": \"device_del\", \"arguments\": "
	  "{\"id\": \"hp_edu_br\"}}", "hp_edu_br" },
};

static int connect_ms = 60000;	/* how long to retry the guest socket */
static int qmp_ms = 10000;	/* bound on one QMP reply */
static int deleted_ms = 60000;	/* bound on DEVICE_DELETED */

static void usage(FILE *f)
{
	fprintf(f,
"usage: hotplug-relay [--help] [--del-timeout S] GUEST_SOCKET QMP_SOCKET\n"
"\n"
"Relays hot-plug requests from a testbed guest to QEMU's QMP.\n"
"GUEST_SOCKET is the unix socket of the guest's serial port (a QEMU chardev\n"
"with server=on: retried for %d s until QEMU has created it); QMP_SOCKET is\n"
"QEMU's -qmp unix socket. Requests, one per line, from a fixed whitelist:\n"
"  ping               answered ok\n"
"  device_add         device_add driver=edu bus=rp_hotplug id=hp_edu\n"
"  device_del         device_del id=hp_edu, then wait for its DEVICE_DELETED\n"
"                     event (at most --del-timeout seconds, default %d)\n"
"  device_add_bridge  device_add driver=edu bus=br0 addr=3.0 id=hp_edu_br\n"
"  device_del_bridge  device_del id=hp_edu_br, and wait as device_del\n"
"Each request gets one line back: \"ok\" or \"error <text>\". Anything else\n"
"is refused. Ends when the guest socket closes (QEMU exited).\n",
		connect_ms / 1000, deleted_ms / 1000);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static long long start_ms;

static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hotplug-relay: [%7.3f] ",
		(now_ms() - start_ms) / 1000.0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* A line reader over a socket with a deadline. */
struct reader {
	int fd;
	char buf[LINE_MAX_LEN];
	size_t len;
};

/*
 * Next line (without its newline) into @line before @deadline (ms, from
 * now_ms()). Return: 1 with a line, 0 at end of file, -1 on timeout or error.
 */
static int read_line(struct reader *r, char *line, size_t size,
		     long long deadline)
{
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		long long left;
		ssize_t n;

		if (nl) {
			size_t l = nl - r->buf;

			snprintf(line, size, "%.*s", (int)l, r->buf);
			line[strcspn(line, "\r")] = '\0';
			memmove(r->buf, nl + 1, r->len - l - 1);
			r->len -= l + 1;
			return 1;
		}
		if (r->len == sizeof(r->buf))
			r->len = 0;	/* an overlong line: drop it */
		left = deadline - now_ms();
		if (deadline >= 0 && left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&p, 1, deadline < 0 ? -1 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!p.revents)
			continue;
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		r->len += n;
	}
}

static int write_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= n;
	}
	return 0;
}

/* The "desc" of a QMP error reply, into @out. */
static void qmp_error_desc(const char *line, char *out, size_t size)
{
	const char *d = strstr(line, "\"desc\"");
	const char *q;

	snprintf(out, size, "QMP error");
	if (!d)
		return;
	d = strchr(d + 6, '"');
	if (!d)
		return;
	q = strchr(d + 1, '"');
	if (q)
		snprintf(out, size, "%.*s", (int)(q - d - 1), d + 1);
}

/* Whether @line is the DEVICE_DELETED event of device @id. */
static int is_deleted(const char *line, const char *id)
{
	char want[128];

	snprintf(want, sizeof(want), "\"device\": \"%s\"", id);
	return strstr(line, "\"DEVICE_DELETED\"") && strstr(line, want);
}

/*
 * Send one QMP command and wait for its reply, skipping events (but noting
 * a DEVICE_DELETED of device @id in *@deleted). Return: 0 on "return",
 * -1 with @err filled otherwise.
 */
static int qmp_command(struct reader *q, const char *cmd, char *err,
		       size_t size, const char *id, int *deleted)
{
	char line[LINE_MAX_LEN];
	int ret;

	if (write_all(q->fd, cmd) || write_all(q->fd, "\n")) {
		snprintf(err, size, "QMP write: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		ret = read_line(q, line, sizeof(line), now_ms() + qmp_ms);
		if (ret <= 0) {
			snprintf(err, size, "no QMP reply within %d ms",
				 qmp_ms);
			return -1;
		}
		if (strstr(line, "\"return\""))
			return 0;
		if (strstr(line, "\"error\"")) {
			qmp_error_desc(line, err, size);
			return -1;
		}
		if (id && is_deleted(line, id))
			*deleted = 1;
	}
}

/* One request: fills @answer with "ok" or "error <text>". */
static void handle(const char *qmp_path, const char *req, char *answer,
		   size_t size)
{
	char err[512], line[LINE_MAX_LEN];
	struct reader q = { .fd = -1 };
	const struct request *r = NULL;
	long long t0 = now_ms(), deadline;
	int deleted = 0, ret;
	size_t i;

	if (!strcmp(req, "ping")) {
		snprintf(answer, size, "ok");
		return;
	}
	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (!strcmp(req, requests[i].name))
			r = &requests[i];
	if (!r) {
		snprintf(answer, size, "error request not in the whitelist");
		return;
	}
	q.fd = unix_connect(qmp_path);
	if (q.fd < 0) {
		snprintf(answer, size, "error QMP connect: %s",
			 strerror(errno));
		return;
	}
	/* The greeting, then capabilities negotiation. */
	if (read_line(&q, line, sizeof(line), now_ms() + qmp_ms) <= 0 ||
	    !strstr(line, "\"QMP\"")) {
		snprintf(answer, size, "error no QMP greeting");
		goto out;
	}
	if (qmp_command(&q, "{\"execute\": \"qmp_capabilities\"}", err,
			sizeof(err), NULL, NULL)) {
		snprintf(answer, size, "error %s", err);
		goto out;
	}
	ret = qmp_command(&q, r->qmp, err, sizeof(err), r->id, &deleted);
	if (ret) {
		say("%s: %s", req, err);
		snprintf(answer, size, "error %s", err);
		goto out;
	}
	say("%s: QMP reply after %lld ms", req, now_ms() - t0);
	if (!r->id) {
		snprintf(answer, size, "ok");
		goto out;
	}
	deadline = now_ms() + deleted_ms;
	while (!deleted) {
		ret = read_line(&q, line, sizeof(line), deadline);
		if (ret <= 0)
			break;
		if (is_deleted(line, r->id))
			deleted = 1;
	}
	if (deleted) {
		say("%s: DEVICE_DELETED after %lld ms", req, now_ms() - t0);
		snprintf(answer, size, "ok");
	} else {
		say("%s: no DEVICE_DELETED within %d ms", req, deleted_ms);
		snprintf(answer, size, "error no DEVICE_DELETED within %d ms",
			 deleted_ms);
	}
out:
	close(q.fd);
}

int main(int argc, char **argv)
{
	struct reader g = { .fd = -1 };
	char line[LINE_MAX_LEN], answer[600];
	long long deadline;
	int i = 1, ret;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--del-timeout")) {
		deleted_ms = atoi(argv[2]) * 1000;
		i = 3;
	}
	if (argc - i != 2 || deleted_ms <= 0) {
		usage(stderr);
		return 2;
	}
	start_ms = now_ms();
	deadline = start_ms + connect_ms;
	while ((g.fd = unix_connect(argv[i])) < 0) {
		if (now_ms() > deadline) {
			say("no guest socket %s: %s", argv[i],
			     strerror(errno));
			return 1;
		}
		usleep(100 * 1000);
	}
	say("connected to %s", argv[i]);
	for (;;) {
		ret = read_line(&g, line, sizeof(line), -1);
		if (ret <= 0)
			break;
		line[strcspn(line, " \t\r")] = '\0';
		if (!line[0])
			continue;
		handle(argv[i + 1], line, answer, sizeof(answer));
		say("%s -> %s", line, answer);
		strcat(answer, "\n");
		if (write_all(g.fd, answer))
			break;
	}
	say("guest socket closed: done");
	return 0;
}
