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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/qmp.h"

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

static long long start_ms;

static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hotplug-relay: [%7.3f] ",
		(qmp_now_ms() - start_ms) / 1000.0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Whether @line is the DEVICE_DELETED event of device @id. */
static int is_deleted(const char *line, const char *id)
{
	char want[128];

	snprintf(want, sizeof(want), "\"device\": \"%s\"", id);
	return strstr(line, "\"DEVICE_DELETED\"") && strstr(line, want);
}

/* qmp_command()'s event callback: notes the DEVICE_DELETED it waits for. */
struct deleted {
	const char *id;
	int seen;
};

static void note_deleted(const char *line, void *arg)
{
	struct deleted *d = arg;

	if (d->id && is_deleted(line, d->id))
		d->seen = 1;
}

/* Wait for the DEVICE_DELETED event of @d->id, at most deleted_ms. */
static void wait_deleted(struct qmp *q, struct deleted *d)
{
	long long deadline = qmp_now_ms() + deleted_ms;
	char *line;
	int ret;

	while (!d->seen) {
		ret = qmp_read_line(q, &line, deadline);
		if (ret == -EMSGSIZE)
			continue;
		if (ret <= 0)
			break;
		note_deleted(line, d);
	}
}

/* The request named @req of the whitelist, or NULL. */
static const struct request *find_request(const char *req)
{
	size_t i;

	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (!strcmp(req, requests[i].name))
			return &requests[i];
	return NULL;
}

/* One request: fills @answer with "ok" or "error <text>". */
static void handle(const char *qmp_path, const char *req, char *answer,
		   size_t size)
{
	const struct request *r = find_request(req);
	long long t0 = qmp_now_ms();
	struct deleted d = { 0 };
	char err[512], *reply;
	struct qmp q;
	int ret;

	if (!strcmp(req, "ping")) {
		snprintf(answer, size, "ok");
		return;
	}
	if (!r) {
		snprintf(answer, size, "error request not in the whitelist");
		return;
	}
	ret = qmp_open(&q, qmp_path, LINE_MAX_LEN, qmp_ms);
	if (ret) {
		snprintf(answer, size, "error QMP %s: %s", qmp_path,
			 ret == -EPROTO ? "no greeting" : strerror(-ret));
		return;
	}
	d.id = r->id;
	ret = qmp_command(&q, r->qmp, &reply, note_deleted, &d);
	if (ret) {
		if (ret == -EIO)
			qmp_error_desc(reply, err, sizeof(err));
		else if (ret == -ETIMEDOUT)
			snprintf(err, sizeof(err), "no QMP reply within %d ms",
				 qmp_ms);
		else
			snprintf(err, sizeof(err), "QMP: %s", strerror(-ret));
		say("%s: %s", req, err);
		snprintf(answer, size, "error %s", err);
		goto out;
	}
	say("%s: QMP reply after %lld ms", req, qmp_now_ms() - t0);
	snprintf(answer, size, "ok");
	if (!r->id)
		goto out;
	wait_deleted(&q, &d);
	if (d.seen) {
		say("%s: DEVICE_DELETED after %lld ms", req, qmp_now_ms() - t0);
	} else {
		say("%s: no DEVICE_DELETED within %d ms", req, deleted_ms);
		snprintf(answer, size, "error no DEVICE_DELETED within %d ms",
			 deleted_ms);
	}
out:
	qmp_close(&q);
}

int main(int argc, char **argv)
{
	char answer[600], *line;
	struct qmp g;
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
	start_ms = qmp_now_ms();
	deadline = start_ms + connect_ms;
	while ((ret = qmp_connect(&g, argv[i], LINE_MAX_LEN, qmp_ms))) {
		if (qmp_now_ms() > deadline) {
			say("no guest socket %s: %s", argv[i], strerror(-ret));
			return 1;
		}
		usleep(100 * 1000);
	}
	say("connected to %s", argv[i]);
	for (;;) {
		ret = qmp_read_line(&g, &line, -1);
		if (ret == -EMSGSIZE)
			continue;	/* an overlong line: dropped */
		if (ret <= 0)
			break;
		line[strcspn(line, " \t\r")] = '\0';
		if (!line[0])
			continue;
		handle(argv[i + 1], line, answer, sizeof(answer));
		say("%s -> %s", line, answer);
		if (qmp_write_line(&g, answer))
			break;
	}
	qmp_close(&g);
	say("guest socket closed: done");
	return 0;
}
