// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-bench: timings of one VFIO group/container implementation, the one
 * the selected devices are bound to now. tools/guest/bench runs it once per
 * implementation in the same boot; tools/bench-report pairs the results.
 *
 * Each row is measured --runs times; one line per row on stdout:
 *
 *   row <TAB> impl <TAB> id <TAB> unit <TAB> hi|lo <TAB> median <TAB>
 *       sample,sample,... <TAB> label
 *
 * ("hi": higher is better; the median is "na" for a row the implementation
 * cannot run). Progress goes to stderr. Exits 1 if anything failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "engine.h"

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << 26)	/* MAP_HUGE_SHIFT 26, log2(2 MiB) */
#endif

#define MIB		(1024ULL * 1024)
#define IOVA_BASE	0x40000000ULL	/* 1 GiB: 2 MiB aligned, below the MSI window */
#define VERIFY_IOVA	0x1000000ULL	/* 16 MiB: the edu reaches 28-bit IOVAs */
#define VERIFY_MAX	(128 * MIB)
#define ENGINE_IOVA	0x100000ULL	/* the engine's own window, below */
#define VERIFY_LEN	2048		/* within every engine's max_len */
#define MAX_RUNS	64
#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* The workload; --short scales it down so that make check stays quick. */
static struct {
	int runs;
	uint64_t chunk_total;	/* bytes mapped per chunk row */
	uint64_t huge_size;	/* the hugepage-backed mapping */
	int unmap_all_count;	/* small mappings for unmap-all */
	double cycle_seconds;	/* how long one open-cycle run lasts */
	int grace_ms;		/* reference driver's grace, ignoring user */
} cfg = { 5, 64 * MIB, 512 * MIB, 10000, 1.0, 1000 };

static const char *impl = "?";
static const char *driver = "?";
static struct vt_pci_dev dev;		/* the device under the benchmark */
static const struct vt_engine_ops *dev_ops;	/* its DMA engine */
static int dev_fd = -1;			/* its VFIO file, for verify_map */
static int failures;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench: %s: ", impl);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void fail(const char *what, int err)
{
	progress("FAIL %s: %s", what, strerror(err));
	failures++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Print one row; @n samples (0: the row does not apply, "na"). */
static void row(const char *id, const char *unit, bool higher_better,
		const double *samples, int n, const char *label)
{
	double sorted[MAX_RUNS];
	int i;

	printf("row\t%s\t%s\t%s\t%s\t", impl, id, unit,
	       higher_better ? "hi" : "lo");
	if (!n) {
		printf("na\t-\t%s\n", label);
		fflush(stdout);
		return;
	}
	memcpy(sorted, samples, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	printf("%.6g\t", n % 2 ? sorted[n / 2] :
	       (sorted[n / 2 - 1] + sorted[n / 2]) / 2);
	for (i = 0; i < n; i++)
		printf("%s%.6g", i ? "," : "", samples[i]);
	printf("\t%s\n", label);
	fflush(stdout);
}

/* Anonymous (or hugetlb) memory, every page touched. */
static void *alloc_mem(uint64_t size, bool huge)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
	void *mem;

	if (huge)
		flags |= MAP_HUGETLB | MAP_HUGE_2MB;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	memset(mem, 0x5a, size);
	return mem;
}

static int unmap_range(int container, uint64_t iova, uint64_t size);

/*
 * What is timed must be real mappings: map (up to VERIFY_MAX of) @mem in
 * one MAP_DMA and have the device's DMA engine read at a few IOVAs of it,
 * across pinning batches and hugepages. Only the IOVA under test holds the
 * pattern the device must get.
 */
static int verify_map(int container, void *mem, uint64_t size)
{
	struct vt_engine eng;
	uint64_t offs[4], off;
	unsigned char *src;
	int i, ret;

	if (size > VERIFY_MAX)
		size = VERIFY_MAX;
	offs[0] = 0;
	offs[1] = 513 * 4096ULL % size;		/* past one pinning batch */
	offs[2] = (size / 2 & ~4095ULL) + 3 * 4096;
	offs[3] = size - 4096;
	ret = vt_engine_open(&eng, dev_ops, dev_fd, container, ENGINE_IOVA);
	if (ret)
		return ret;
	ret = vt_map_dma(container, mem, VERIFY_IOVA, size, RW);
	if (ret)
		goto out_close;
	for (i = 0; i < 4 && !ret; i++) {
		off = offs[i] % size;
		src = (unsigned char *)mem + off;
		ret = vt_engine_read(&eng, src, VERIFY_IOVA + off, VERIFY_LEN);
		ret = ret < 0 ? ret : ret ? 0 : -EIO;
		memset(src, 0x5a, VERIFY_LEN);
	}
	unmap_range(container, VERIFY_IOVA, size);
out_close:
	vt_engine_close(&eng);
	return ret;
}

/* UNMAP_DMA of exactly [iova, iova + size): 0 or -errno. */
static int unmap_range(int container, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	return unmap.size == size ? 0 : -EIO;
}

static int unmap_all(int container, uint64_t span)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .flags = VFIO_DMA_UNMAP_FLAG_ALL,
	};

	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL) != 1) {
		/* Before 5.12: one range over everything does the same. */
		unmap.flags = 0;
		unmap.iova = IOVA_BASE;
		unmap.size = span;
	}
	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

/* MAP_DMA then UNMAP_DMA of cfg.chunk_total bytes in @chunk pieces: MiB/s. */
static void bench_chunks(int container, void *mem, uint64_t chunk,
			 const char *id)
{
	double s[MAX_RUNS], t0, t1, t2;
	char label[96];
	uint64_t off;
	int r, ret = 0;

	/* Run -1 warms up (page tables, slab caches) and is not counted. */
	for (r = -1; r < cfg.runs && !ret; r++) {
		t0 = now_s();
		for (off = 0; off < cfg.chunk_total && !ret; off += chunk)
			ret = vt_map_dma(container, (char *)mem + off,
					 IOVA_BASE + off, chunk, RW);
		t1 = now_s();
		if (ret) {
			fail("MAP_DMA", -ret);
			unmap_all(container, cfg.chunk_total);
			break;
		}
		for (off = 0; off < cfg.chunk_total && !ret; off += chunk)
			ret = unmap_range(container, IOVA_BASE + off, chunk);
		t2 = now_s();
		if (ret) {
			fail("UNMAP_DMA", -ret);
			unmap_all(container, cfg.chunk_total);
			break;
		}
		if (r >= 0)
			s[r] = cfg.chunk_total / MIB / (t2 - t0);
		progress("%s run %d: map %.1f ms, unmap %.1f ms", id, r + 1,
			 (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	}
	snprintf(label, sizeof(label), "MAP+UNMAP %llu MiB in %llu KiB chunks",
		 (unsigned long long)(cfg.chunk_total / MIB),
		 (unsigned long long)(chunk / 1024));
	row(id, "MiB/s", true, s, ret ? 0 : cfg.runs, label);
}

/* One MAP_DMA of hugepage-backed memory, and its UNMAP_DMA: GiB/s each. */
static void bench_huge(int container)
{
	double m[MAX_RUNS], u[MAX_RUNS], t0, t1, t2;
	char lm[96], lu[96];
	void *mem = alloc_mem(cfg.huge_size, true);
	int r, n = 0, ret;

	snprintf(lm, sizeof(lm), "MAP_DMA %llu MiB on 2 MiB hugepages",
		 (unsigned long long)(cfg.huge_size / MIB));
	snprintf(lu, sizeof(lu), "UNMAP_DMA %llu MiB on 2 MiB hugepages",
		 (unsigned long long)(cfg.huge_size / MIB));
	if (!mem) {
		fail("hugepage mmap (reserve hugepages)", errno);
		goto out;
	}
	for (r = -1; r < cfg.runs; r++) {	/* run -1: warm-up */
		t0 = now_s();
		ret = vt_map_dma(container, mem, IOVA_BASE, cfg.huge_size, RW);
		t1 = now_s();
		if (!ret)
			ret = unmap_range(container, IOVA_BASE, cfg.huge_size);
		t2 = now_s();
		if (ret) {
			fail("hugepage MAP/UNMAP_DMA", -ret);
			unmap_all(container, cfg.huge_size);
			break;
		}
		if (r >= 0) {
			m[n] = cfg.huge_size / (double)(1024 * MIB) / (t1 - t0);
			u[n++] = cfg.huge_size / (double)(1024 * MIB) / (t2 - t1);
		}
		progress("huge run %d: map %.1f ms, unmap %.1f ms", r + 1,
			 (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	}
	ret = verify_map(container, mem, cfg.huge_size);
	if (ret)
		fail("a device DMA through the hugepage mapping", -ret);
	munmap(mem, cfg.huge_size);
out:
	row("huge-map", "GiB/s", true, m, n, lm);
	row("huge-unmap", "GiB/s", true, u, n, lu);
}

/* UNMAP_DMA of everything in a container of many 4 KiB mappings. */
static void bench_unmap_all(int container)
{
	uint64_t span = (uint64_t)cfg.unmap_all_count * 4096;
	void *mem = alloc_mem(span, false);
	double s[MAX_RUNS], t0;
	char label[96];
	int r, i, n = 0, ret = 0;

	if (!mem) {
		fail("mmap", errno);
		return;
	}
	for (r = 0; r < cfg.runs && !ret; r++) {
		for (i = 0; i < cfg.unmap_all_count && !ret; i++)
			ret = vt_map_dma(container, (char *)mem + i * 4096ULL,
					 IOVA_BASE + i * 4096ULL, 4096, RW);
		if (ret) {
			fail("MAP_DMA", -ret);
			unmap_all(container, span);
			break;
		}
		t0 = now_s();
		ret = unmap_all(container, span);
		if (ret) {
			fail("unmap-all", -ret);
			break;
		}
		s[n++] = cfg.unmap_all_count / (now_s() - t0);
		progress("unmap-all run %d: %.1f ms", r + 1,
			 cfg.unmap_all_count / s[n - 1] * 1e3);
	}
	munmap(mem, span);
	snprintf(label, sizeof(label), "unmap-all of %d mappings of 4 KiB",
		 cfg.unmap_all_count);
	row("unmap-all", "maps/s", true, s, n, label);
}

/* open -> SET_CONTAINER -> SET_IOMMU -> GET_DEVICE_FD -> close, per second. */
static void bench_open_cycle(void)
{
	double s[MAX_RUNS], t0, t;
	struct vt_handles h;
	int r, n, ret;

	for (r = 0; r < cfg.runs; r++) {
		t0 = now_s();
		n = 0;
		do {
			ret = vt_open_device(&dev, &h);
			if (ret) {
				fail("open cycle", -ret);
				row("open-cycle", "cycles/s", true, s, 0, "");
				return;
			}
			vt_close_device(&h);
			n++;
			t = now_s() - t0;
		} while (t < cfg.cycle_seconds || n < 5);
		s[r] = n / t;
		progress("open-cycle run %d: %d cycles in %.2f s", r + 1, n, t);
	}
	row("open-cycle", "cycles/s", true, s, cfg.runs,
	    "open, SET_CONTAINER, SET_IOMMU, GET_DEVICE_FD, close");
}

struct closer {
	struct vt_handles *h;
	int req;
	int ret;
};

/* The cooperative user: close everything when the REQ eventfd fires. */
static void *close_on_request(void *arg)
{
	struct closer *c = arg;
	struct pollfd p = { .fd = c->req, .events = POLLIN };

	c->ret = poll(&p, 1, 30000) == 1 ? 0 : -ETIMEDOUT;
	vt_close_device(c->h);
	return NULL;
}

/* Unbind the device while a user holds it; the latency in ms, or < 0. */
static double removal_once(bool cooperative)
{
	char path[PATH_MAX], val[16];
	struct closer c = { 0 };
	struct vt_handles h;
	pthread_t thread;
	double t0, ms;
	int ret;

	if (!cooperative) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/grace_ms", dev.bdf);
		snprintf(val, sizeof(val), "%d", cfg.grace_ms);
		ret = vt_sysfs_write(path, val);
		if (ret)
			return fail("write grace_ms", -ret), -1;
	}
	ret = vt_open_device(&dev, &h);
	if (ret)
		return fail("open device", -ret), -1;
	c.h = &h;
	c.req = eventfd(0, EFD_CLOEXEC);
	ret = vt_set_irqs(h.device, VFIO_PCI_REQ_IRQ_INDEX,
			  VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, c.req);
	if (ret) {
		vt_close_device(&h);
		close(c.req);
		return fail("SET_IRQS REQ", -ret), -1;
	}
	if (cooperative && pthread_create(&thread, NULL, close_on_request, &c)) {
		vt_close_device(&h);
		close(c.req);
		return fail("pthread_create", EAGAIN), -1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", driver);
	t0 = now_s();
	ret = vt_sysfs_write(path, dev.bdf);
	ms = (now_s() - t0) * 1e3;
	if (cooperative)
		pthread_join(thread, NULL);
	else
		vt_close_device(&h);
	close(c.req);
	if (ret || c.ret)
		return fail("unbind", ret ? -ret : -c.ret), -1;
	/* driver_override still names the implementation's driver. */
	ret = vt_sysfs_write("/sys/bus/pci/drivers_probe", dev.bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/%s", driver,
		 dev.bdf);
	if (ret || access(path, F_OK))
		return fail("rebind", ret ? -ret : ENODEV), -1;
	return ms;
}

static void bench_removal(bool cooperative, bool available)
{
	double s[MAX_RUNS], ms;
	char label[96];
	int r, n = 0;

	if (cooperative)
		snprintf(label, sizeof(label), "removal, user closes on REQ");
	else
		snprintf(label, sizeof(label),
			 "removal, user ignores REQ (grace %d ms)",
			 cfg.grace_ms);
	for (r = 0; available && r < cfg.runs; r++) {
		ms = removal_once(cooperative);
		if (ms < 0)
			break;
		s[n++] = ms;
		progress("%s run %d: %.1f ms", cooperative ? "remove-coop" :
			 "remove-ignore", r + 1, ms);
	}
	row(cooperative ? "remove-coop" : "remove-ignore", "ms", false, s, n,
	    label);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vfio-bench [--help] [--short] [--runs N] --impl NAME --driver DRIVER\n"
		"\n"
		"Times the VFIO implementation the selected devices are bound to (DRIVER,\n"
		"e.g. vfio-pci or vfio-ref): MAP+UNMAP of anonymous memory in 4 KiB,\n"
		"64 KiB and 2 MiB chunks, one MAP_DMA and UNMAP_DMA on 2 MiB hugepages,\n"
		"unmap-all of many small mappings, the group/container/device open\n"
		"cycle, and removal latency with a user who closes on the REQ signal\n"
		"and (if the driver has a per-device grace_ms) one who ignores it.\n"
		"Medians over N runs (default 5) after a warm-up run. --short: a small\n"
		"workload, 2 runs.\n"
		"Prints one tab-separated 'row' line per row; exits 1 on any failure.\n");
}

int main(int argc, char **argv)
{
	char grace[PATH_MAX];
	struct vt_handles h;
	void *mem;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--short")) {
			cfg.runs = 2;
			cfg.chunk_total = 8 * MIB;
			cfg.huge_size = 64 * MIB;
			cfg.unmap_all_count = 1000;
			cfg.cycle_seconds = 0.2;
			cfg.grace_ms = 200;
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			cfg.runs = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--impl") && i + 1 < argc) {
			impl = argv[++i];
		} else if (!strcmp(argv[i], "--driver") && i + 1 < argc) {
			driver = argv[++i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (cfg.runs < 1 || cfg.runs > MAX_RUNS || !strcmp(driver, "?")) {
		usage(stderr);
		return 2;
	}
	if (vt_engine_select(NULL, VT_DEV_ALONE, 0, &dev)) {
		progress("FAIL: no selected device with a DMA engine alone in its IOMMU group");
		return 1;
	}
	dev_ops = vt_engine_for(&dev);
	progress("%s %s, group %d, driver %s, %d runs", dev_ops->name, dev.bdf,
		 dev.group,
		 driver, cfg.runs);

	ret = vt_open_device(&dev, &h);
	if (ret) {
		fail("open device", -ret);
		return 1;
	}
	dev_fd = h.device;
	mem = alloc_mem(cfg.chunk_total, false);
	if (!mem) {
		fail("mmap", errno);
		return 1;
	}
	ret = verify_map(h.container, mem, cfg.chunk_total);
	if (ret)
		fail("a device DMA through the anonymous mapping", -ret);
	bench_chunks(h.container, mem, 4096, "map-4k");
	bench_chunks(h.container, mem, 64 * 1024, "map-64k");
	bench_chunks(h.container, mem, 2 * MIB, "map-2m");
	munmap(mem, cfg.chunk_total);
	bench_huge(h.container);
	bench_unmap_all(h.container);
	vt_close_device(&h);

	bench_open_cycle();
	bench_removal(true, true);
	/* Only a driver with a grace period lets an ignoring user's unbind end. */
	snprintf(grace, sizeof(grace), "/sys/bus/pci/devices/%s/grace_ms",
		 dev.bdf);
	bench_removal(false, !access(grace, F_OK));
	progress("%s", failures ? "failed" : "done");
	return failures ? 1 : 0;
}
