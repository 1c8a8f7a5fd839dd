// SPDX-License-Identifier: GPL-2.0
/*
 * tools/guest-where - where a hung testbed guest is: each vCPU's RIP and the
 * kernel text addresses on its stack, named from System.map.
 *
 * Talks to a QMP socket of the running QEMU (tools/lib/qmp.c): "info
 * registers -a" (human monitor) for the registers, memsave of the stack
 * through each vCPU's page tables. A KASLR kernel is resolved with the runtime address of _text that
 * the guest printed at boot ("testbed: _text <addr>" on its console), and
 * modules with the lines "testbed: module <name> <size> <base> <.text>" and,
 * with --modmaps DIR, DIR/<name>.map ("<offset> <size> <symbol>" lines,
 * as the testbed writes them from objdump -t of the .ko). Stack words
 * are not an unwound stack: like the kernel's "? " lines, a return address
 * on the stack is named whether or not its frame is live.
 *
 * usage: guest-where --qmp SOCK [--map System.map] [--console FILE]
 *                    [--modmaps DIR] [--samples N] [--stack BYTES] [--tmp DIR]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/qmp.h"

#define MAX_CPUS	16
#define REPLY_MAX	(256 * 1024)
#define TIMEOUT_MS	5000

struct sym {
	uint64_t addr;
	uint64_t size;		/* 0: unknown (System.map) */
	char *name;
};

struct module {
	char name[64];
	uint64_t addr, size;	/* the module's core memory */
	uint64_t text;		/* its .text section, 0 if not printed */
	struct sym *syms;	/* .text symbols by offset, from its map */
	size_t nsyms;
};

static struct sym *syms;
static size_t nsyms;
static uint64_t slide, text_lo, text_hi, rt_text;
static struct module mods[64];
static int nmods;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: guest-where --qmp SOCK [--map System.map] [--console FILE]\n"
		"                   [--modmaps DIR] [--samples N] [--stack BYTES] [--tmp DIR]\n"
		"Prints, for N samples (default 3, 0.5 s apart), each vCPU's RIP,\n"
		"privilege level and halt state, and the kernel text addresses among\n"
		"the first BYTES (default 2048) of its stack, named from System.map\n"
		"(and modules from the lines the testbed guest prints on FILE, with\n"
		"DIR/<module>.map: \"<offset in .text> <size> <symbol>\" lines).\n"
		"Ends with one line: \"where: cpu0 <symbol> ...\" (the last sample).\n");
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* "<hex offset> <hex size> <name>" lines into a sorted table. */
static size_t load_syms(const char *path, struct sym **out)
{
	FILE *f = fopen(path, "r");
	unsigned long long a, sz;
	char name[256];
	size_t n = 0, cap = 0;
	struct sym *t = NULL, *nt;

	if (!f)
		return 0;
	while (fscanf(f, "%llx %llx %255s", &a, &sz, name) == 3) {
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			nt = realloc(t, cap * sizeof(*t));
			if (!nt)
				break;
			t = nt;
		}
		t[n].addr = a;
		t[n].size = sz;
		t[n].name = strdup(name);
		n++;
	}
	fclose(f);
	if (n)
		qsort(t, n, sizeof(*t), cmp_sym);
	*out = t;
	return n;
}

static int load_map(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512], type, name[256];
	unsigned long long a;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3)
			continue;
		if (!strchr("tTwW", type))
			continue;
		if (nsyms == cap) {
			cap = cap ? 2 * cap : 65536;
			syms = realloc(syms, cap * sizeof(*syms));
			if (!syms)
				return -ENOMEM;
		}
		syms[nsyms].addr = a;
		syms[nsyms].size = 0;
		syms[nsyms].name = strdup(name);
		if (!strcmp(name, "_text"))
			text_lo = a;
		if (!strcmp(name, "_etext"))
			text_hi = a;
		nsyms++;
	}
	fclose(f);
	qsort(syms, nsyms, sizeof(*syms), cmp_sym);
	return nsyms ? 0 : -ENOENT;
}

/* The guest's "testbed: _text" and "testbed: module" lines. */
static void load_console(const char *path, const char *modmaps)
{
	FILE *f = fopen(path, "r");
	char line[512], *p;
	unsigned long long a, s, t;
	int got;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "testbed: _text ");
		if (p && sscanf(p + 15, "%llx", &a) == 1 && a) {
			rt_text = a;
			if (text_lo)
				slide = a - text_lo;
		}
		p = strstr(line, "testbed: module ");
		got = p && nmods < 64 ?
			sscanf(p + 16, "%63s %llu %llx %llx", mods[nmods].name,
			       &s, &a, &t) : 0;
		if (got >= 3) {
			struct module *m = &mods[nmods++];
			char map[512];

			m->size = s;
			m->addr = a;
			m->text = got == 4 ? t : 0;
			if (modmaps && m->text) {
				snprintf(map, sizeof(map), "%s/%s.map", modmaps,
					 m->name);
				m->nsyms = load_syms(map, &m->syms);
			}
		}
	}
	fclose(f);
}

/* The last symbol at or below a, or NULL (t sorted, n > 0). */
static const struct sym *lookup(const struct sym *t, size_t n, uint64_t a)
{
	size_t lo = 0, hi = n;

	if (a < t[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (t[mid].addr <= a)
			lo = mid;
		else
			hi = mid;
	}
	return &t[lo];
}

/*
 * "name+0xoff" for a runtime address, or NULL if it is not kernel text.
 * Without a System.map, @bare names an address "_text+0xoff" if it lies in
 * the kernel image's first BARE_TEXT_MAX bytes (for a RIP; a stack word
 * there may be data).
 */
#define BARE_TEXT_MAX	(64ULL << 20)

static const char *name_of(uint64_t rt, bool bare, char *buf, size_t len)
{
	uint64_t a = rt - slide;
	const struct sym *sy;
	int i;

	for (i = 0; i < nmods; i++) {
		const struct module *m = &mods[i];

		if (rt < m->addr || rt >= m->addr + m->size)
			continue;
		sy = m->nsyms && rt >= m->text ?
			lookup(m->syms, m->nsyms, rt - m->text) : NULL;
		/* Past the function's end: the module's data, not its code. */
		if (sy && rt - m->text - sy->addr >= sy->size)
			sy = NULL;
		if (sy)
			snprintf(buf, len, "%s+0x%" PRIx64 " [%s]", sy->name,
				 rt - m->text - sy->addr, m->name);
		else
			snprintf(buf, len, "[%s]+0x%" PRIx64, m->name,
				 rt - m->addr);
		return buf;
	}
	if (!nsyms) {
		/* No map (Debian's is in the -dbg package): relative to _text. */
		if (!rt_text || !bare || rt < rt_text ||
		    rt - rt_text >= BARE_TEXT_MAX)
			return NULL;
		snprintf(buf, len, "_text+0x%" PRIx64, rt - rt_text);
		return buf;
	}
	if (a < text_lo || (text_hi && a >= text_hi))
		return NULL;
	sy = lookup(syms, nsyms, a);
	if (!sy)
		return NULL;
	snprintf(buf, len, "%s+0x%" PRIx64, sy->name, a - sy->addr);
	return buf;
}

struct cpu {
	uint64_t rip, rsp;
	int cpl, hlt;
};

static int read_cpus(struct qmp *q, struct cpu *cpus)
{
	char *reply, *s, *p;
	int n = -1;

	if (qmp_command(q, "{\"execute\": \"human-monitor-command\", \"arguments\": "
			"{\"command-line\": \"info registers -a\"}}",
			&reply, NULL, NULL))
		return -EIO;
	s = qmp_return_string(reply);
	if (!s)
		return -EIO;
	for (p = s; (p = strstr(p, "RSP=")) && n < MAX_CPUS; p++) {
		char *rip = strstr(p, "RIP="), *cpl = strstr(p, "CPL="),
			*hlt = strstr(p, "HLT=");

		if (!rip || !cpl || !hlt || ++n >= MAX_CPUS)
			break;
		cpus[n].rsp = strtoull(p + 4, NULL, 16);
		cpus[n].rip = strtoull(rip + 4, NULL, 16);
		cpus[n].cpl = atoi(cpl + 4);
		cpus[n].hlt = atoi(hlt + 4);
	}
	return n + 1;
}

static void print_stack(struct qmp *q, int cpu, uint64_t rsp, size_t bytes,
			const char *tmp)
{
	char cmd[512], path[256], buf[160];
	uint64_t words[1024];
	size_t n, i, shown = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/guest-where.%d.stack", tmp, (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "{\"execute\": \"memsave\", \"arguments\": {\"val\": %" PRId64
		 ", \"size\": %zu, \"filename\": \"%s\", \"cpu-index\": %d}}",
		 (int64_t)rsp, bytes, path, cpu);
	if (qmp_command(q, cmd, NULL, NULL, NULL)) {
		printf("  stack: not readable\n");
		return;
	}
	f = fopen(path, "rb");
	n = f ? fread(words, sizeof(words[0]), bytes / 8, f) : 0;
	if (f)
		fclose(f);
	unlink(path);
	for (i = 0; i < n; i++)
		if (name_of(words[i], false, buf, sizeof(buf))) {
			printf("  stack +0x%03zx: %s\n", i * 8, buf);
			shown++;
		}
	if (!shown)
		printf("  stack: no kernel text address in %zu bytes\n", n * 8);
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *map = NULL, *console = NULL, *tmp = "/tmp";
	const char *modmaps = NULL;
	int samples = 3, i, c, ncpu = 0, err;
	size_t stack = 2048;
	struct cpu cpus[MAX_CPUS];
	struct qmp q;
	char buf[160];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			usage(stderr);
			return 2;
		}
		if (!strcmp(argv[i], "--qmp"))
			sock = argv[++i];
		else if (!strcmp(argv[i], "--map"))
			map = argv[++i];
		else if (!strcmp(argv[i], "--console"))
			console = argv[++i];
		else if (!strcmp(argv[i], "--samples"))
			samples = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--stack"))
			stack = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--tmp"))
			tmp = argv[++i];
		else if (!strcmp(argv[i], "--modmaps"))
			modmaps = argv[++i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!sock || samples < 1 || samples > 100 || stack < 8 || stack > 8192) {
		usage(stderr);
		return 2;
	}
	err = map ? load_map(map) : -ENOENT;
	if (err == -ENOENT)
		printf("no text symbols%s%s (Debian's System.map is a stub, %s): addresses relative to _text\n",
		       map ? " in " : "", map ? map : "",
		       "the real one is in linux-image-*-dbg");
	else if (err)
		printf("%s: %s: addresses relative to _text\n", map,
		       strerror(-err));
	if (console)
		load_console(console, modmaps);
	err = qmp_open(&q, sock, REPLY_MAX, TIMEOUT_MS);
	if (err) {
		fprintf(stderr, "guest-where: QMP %s: %s\n", sock, strerror(-err));
		return 1;
	}
	for (i = 0; i < samples; i++) {
		if (i)
			usleep(500000);
		ncpu = read_cpus(&q, cpus);
		if (ncpu <= 0) {
			fprintf(stderr, "guest-where: info registers failed\n");
			qmp_close(&q);
			return 1;
		}
		printf("sample %d:\n", i + 1);
		for (c = 0; c < ncpu; c++) {
			const char *n = name_of(cpus[c].rip, true, buf,
						sizeof(buf));

			printf("cpu%d rip %016" PRIx64 " %s%s%s\n", c, cpus[c].rip,
			       cpus[c].cpl == 3 ? "(user space)" : n ? n : "(not kernel text)",
			       cpus[c].cpl == 3 ? "" : " cpl 0",
			       cpus[c].hlt ? " halted" : "");
			if (cpus[c].cpl != 3)
				print_stack(&q, c, cpus[c].rsp, stack, tmp);
		}
	}
	printf("where:");
	for (c = 0; c < ncpu; c++) {
		const char *n = name_of(cpus[c].rip, true, buf, sizeof(buf));

		printf(" cpu%d %s%s", c,
		       cpus[c].cpl == 3 ? "user-space" : n ? n : "unknown",
		       cpus[c].hlt ? " (halted)" : "");
	}
	printf("\n");
	qmp_close(&q);
	return 0;
}
