// SPDX-License-Identifier: GPL-2.0
/*
 * Limits of the type1v2 model: the mapping-count limit and RLIMIT_MEMLOCK.
 * Each test sets up its own container, since the limits are read when the
 * IOMMU model is set, and RLIMIT_MEMLOCK needs a process without
 * CAP_IPC_LOCK (a child).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <pthread.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define PAGE		4096ULL
#define IOVA		0x1000000ULL
#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* The implementation's mapping-limit parameter, by the driver in use. */
static const char *const limit_params[] = {
	"/sys/module/vfio_ref/parameters/dma_entry_limit",
	"/sys/module/vfio_iommu_type1/parameters/dma_entry_limit",
};

static const char *limit_param(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(limit_params) / sizeof(limit_params[0]); i++)
		if (!access(limit_params[i], W_OK))
			return limit_params[i];
	return NULL;
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fprintf(f, "%ld\n", v) > 0 ? 0 : -EIO;
	return fclose(f) ? -errno : ret;
}

/* Container, group and type1v2 for @dev; 0 or -errno. */
static int open_container(const struct vt_pci_dev *dev, int *container,
			  int *group)
{
	*container = vt_open_container();
	if (*container < 0)
		return *container;
	*group = vt_open_group(dev->group);
	if (*group < 0)
		return *group;
	if (ioctl(*group, VFIO_GROUP_SET_CONTAINER, container) ||
	    ioctl(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	return 0;
}

/* Container and group as open_container(), made under a mapping limit. */
static int open_limited(const struct vt_pci_dev *dev, const char *param,
			long limit, int *container, int *group)
{
	long dflt = read_long(param);
	int ret = write_long(param, limit);

	if (ret)
		return ret;
	ret = open_container(dev, container, group);
	return write_long(param, dflt) ?: ret;
}

/* SPEC: DMA-10 DMA-23 */
TEST(mapping_count_limit_gives_enospc)
{
	const char *param = limit_param();
	struct vt_pci_dev dev;
	int container, group, i, ret;
	long dflt;
	char *buf;

	if (vt_select(VT_DEV_ANY, 0, NULL, &dev))
		SKIP(return, "no selected device");
	if (!param)
		SKIP(return, "no writable dma_entry_limit parameter");
	dflt = read_long(param);
	ASSERT_LE(65535, dflt);
	buf = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);

	ret = open_limited(&dev, param, 4, &container, &group);
	ASSERT_EQ(0, ret) TH_LOG("setup: %s", strerror(-ret));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, vt_map_dma(container, buf + i * PAGE,
					IOVA + 2 * i * PAGE, PAGE, RW));
	ASSERT_EQ(-ENOSPC, vt_map_dma(container, buf + 4 * PAGE,
				      IOVA + 8 * PAGE, PAGE, RW));
	close(group);
	close(container);
	munmap(buf, 5 * PAGE);
}

/* The DMA-available capability of GET_INFO: mappings left, or -1. */
static long dma_avail(int container)
{
	char buf[1024] __attribute__((aligned(8)));
	struct vfio_iommu_type1_info *info = (void *)buf;
	struct vfio_info_cap_header *hdr;
	__u32 off;

	memset(buf, 0, sizeof(buf));
	info->argsz = sizeof(buf);
	if (ioctl(container, VFIO_IOMMU_GET_INFO, info) ||
	    !(info->flags & VFIO_IOMMU_INFO_CAPS))
		return -1;
	for (off = info->cap_offset; off && off + sizeof(*hdr) <= sizeof(buf);
	     off = hdr->next) {
		hdr = (void *)(buf + off);
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL)
			return ((struct vfio_iommu_type1_info_dma_avail *)hdr)->avail;
	}
	return -1;
}

/*
 * At the limit: ENOSPC changes nothing (no pin, no charge), the available
 * count says 0, and an unmap makes room for exactly one more.
 */
/* SPEC: DMA-10 DMA-15 DMA-16 */
TEST(mapping_limit_is_exact_and_freed_by_unmap)
{
	const char *param = limit_param();
	struct vt_pci_dev dev;
	int container, group, i, ret;
	struct vt_leaks before;
	long pinned, avail;
	char *buf;

	if (vt_select(VT_DEV_ANY, 0, NULL, &dev))
		SKIP(return, "no selected device");
	if (!param)
		SKIP(return, "no writable dma_entry_limit parameter");
	buf = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 1, 8 * PAGE);

	vt_leaks_take(&before);
	ret = open_limited(&dev, param, 3, &container, &group);
	ASSERT_EQ(0, ret) TH_LOG("setup: %s", strerror(-ret));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vt_map_dma(container, buf + i * PAGE,
					IOVA + 2 * i * PAGE, PAGE, RW));
	avail = dma_avail(container);
	if (avail >= 0)
		ASSERT_EQ(0, avail);
	pinned = vt_pinned_pages();
	/* A multi-page mapping past the limit pins nothing either. */
	ASSERT_EQ(-ENOSPC, vt_map_dma(container, buf + 3 * PAGE,
				      IOVA + 16 * PAGE, 4 * PAGE, RW));
	ASSERT_EQ(pinned, vt_pinned_pages());
	ASSERT_EQ(0, vt_unmap_dma(container, IOVA + 16 * PAGE, 4 * PAGE));
	/* One unmapped: one more fits, and the next does not. */
	ASSERT_EQ((int)PAGE, vt_unmap_dma(container, IOVA, PAGE));
	ASSERT_EQ(0, vt_map_dma(container, buf + 3 * PAGE, IOVA + 16 * PAGE,
				4 * PAGE, RW));
	ASSERT_EQ(-ENOSPC, vt_map_dma(container, buf, IOVA, PAGE, RW));
	close(group);
	close(container);
	/* Closing the last user of the container unpins everything. */
	vt_assert_no_leaks(&before, "after the container closed");
	munmap(buf, 8 * PAGE);
}

/* Drop CAP_IPC_LOCK from this process (a child of the test). */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[0].effective &= ~(1u << CAP_IPC_LOCK);
	data[0].permitted &= ~(1u << CAP_IPC_LOCK);
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* In a child without CAP_IPC_LOCK: map 1 MiB under a 64 KiB limit. */
static int memlock_child(const struct vt_pci_dev *dev)
{
	struct rlimit lim = { .rlim_cur = 64 << 10, .rlim_max = 64 << 10 };
	int container, group;
	char *buf;

	buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || drop_ipc_lock() ||
	    setrlimit(RLIMIT_MEMLOCK, &lim) ||
	    open_container(dev, &container, &group))
		return 2;
	if (vt_map_dma(container, buf, IOVA, 1 << 20, RW) != -ENOMEM)
		return 1;
	/* Within the limit it works, and nothing was left charged. */
	if (vt_map_dma(container, buf, IOVA, 32 << 10, RW))
		return 3;
	return 0;
}

/* SPEC: DMA-11 SEC-3 */
TEST(memlock_limit_gives_enomem)
{
	struct vt_pci_dev dev;
	int status;
	pid_t pid;

	if (vt_select(VT_DEV_ANY, 0, NULL, &dev))
		SKIP(return, "no selected device");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(memlock_child(&dev));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("1: no ENOMEM past the limit; 2: setup failed; 3: no mapping within it");
}

/*
 * In a child without CAP_IPC_LOCK and a 64 KiB limit: 16 pages map in
 * pieces up to the limit exactly; one page more is ENOMEM with nothing
 * pinned or charged, also when the refused range is partly within what is
 * left after an unmap; everything unmapped, the charge is back to 0.
 */
static int memlock_exact_child(const struct vt_pci_dev *dev)
{
	struct rlimit lim = { .rlim_cur = 64 << 10, .rlim_max = 64 << 10 };
	int container, group, i;
	long pinned, lck0;
	char *buf;

	buf = mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || drop_ipc_lock() ||
	    setrlimit(RLIMIT_MEMLOCK, &lim) ||
	    open_container(dev, &container, &group))
		return 10;
	memset(buf, 1, 32 * PAGE);
	lck0 = vt_locked_kib();
	for (i = 0; i < 4; i++)
		if (vt_map_dma(container, buf + 4 * i * PAGE,
			       IOVA + 4 * i * PAGE, 4 * PAGE, RW))
			return 11;	/* within the limit */
	if (vt_locked_kib() != lck0 + 64)
		return 12;		/* not charged page by page */
	pinned = vt_pinned_pages();
	if (vt_map_dma(container, buf + 16 * PAGE, IOVA + 16 * PAGE, PAGE,
		       RW) != -ENOMEM)
		return 13;		/* one page past the limit */
	if (vt_pinned_pages() != pinned || vt_locked_kib() != lck0 + 64)
		return 14;		/* the refused map left a pin or charge */
	/* 2 pages free, 8 asked: refused whole, the first 2 not kept. */
	if (vt_unmap_dma(container, IOVA, 4 * PAGE) != (int)(4 * PAGE) ||
	    vt_map_dma(container, buf + 16 * PAGE, IOVA + 16 * PAGE,
		       2 * PAGE, RW) ||
	    vt_map_dma(container, buf + 20 * PAGE, IOVA + 20 * PAGE,
		       8 * PAGE, RW) != -ENOMEM)
		return 15;
	if (vt_unmap_dma(container, IOVA + 20 * PAGE, 8 * PAGE) != 0 ||
	    vt_locked_kib() != lck0 + 56)
		return 16;
	if (vt_unmap_dma(container, 0, IOVA + 64 * PAGE) != (int)(14 * PAGE) ||
	    vt_locked_kib() != lck0)
		return 17;		/* unmapping uncharges everything */
	return 0;
}

/* SPEC: DMA-11 DMA-15 DMA-16 DMA-22 */
TEST(memlock_limit_is_exact_and_refusal_leaves_nothing)
{
	static const char *const why[] = {
		[11] = "a mapping within the limit failed",
		[12] = "locked memory is not charged page by page",
		[13] = "no ENOMEM one page past the limit",
		[14] = "the refused MAP_DMA left a pin or a charge",
		[15] = "a range crossing the limit was not refused",
		[16] = "the refused range left a mapping or a charge",
		[17] = "unmapping everything did not uncharge everything",
	};
	struct vt_pci_dev dev;
	struct vt_leaks before;
	int status;
	pid_t pid;

	if (vt_select(VT_DEV_ANY, 0, NULL, &dev))
		SKIP(return, "no selected device");
	vt_leaks_take(&before);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(memlock_exact_child(&dev));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("%d: %s", WEXITSTATUS(status),
		       WEXITSTATUS(status) >= 11 && WEXITSTATUS(status) <= 17 ?
		       why[WEXITSTATUS(status)] : "setup failed");
	vt_assert_no_leaks(&before, "after the child exited");
}

/* --- map/unmap storm with page allocations failing --------------------- */

#define STORM_THREADS	4
#define STORM_PAGES	32
#define STORM_ROUNDS	150

struct storm {
	int container;
	int id;
	char *buf;
	int maps, enomem, bad_errno, left_mapped, unmap_short;
};

static int knob(const char *name, const char *val)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/fail_page_alloc/%s",
		 name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(val, f);
	return fclose(f) ? -errno : 0;
}

/* make-it-fail of this thread: fail_page_alloc fails only its allocations. */
static void make_it_fail(int fd, bool on)
{
	if (pwrite(fd, on ? "1" : "0", 1, 0) != 1)
		abort();
}

static void *storm_thread(void *arg)
{
	struct storm *st = arg;
	unsigned int seed = 7 + st->id;
	int fd, i, n, ret, tries;
	uint64_t base;

	fd = open("/proc/thread-self/make-it-fail", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (i = 0; i < STORM_ROUNDS; i++) {
		n = 1 + rand_r(&seed) % STORM_PAGES;
		/*
		 * A fresh 2 MiB of IOVA each round: the IOMMU allocates a
		 * page-table page for it, which can fail.
		 */
		base = IOVA + ((uint64_t)st->id * STORM_ROUNDS + i) * (2 << 20);
		make_it_fail(fd, true);
		ret = vt_map_dma(st->container, st->buf, base, n * PAGE, RW);
		make_it_fail(fd, false);
		if (ret == -ENOMEM) {
			st->enomem++;
			/* DMA-15: nothing of the refused range stays. */
			if (vt_unmap_dma(st->container, base, n * PAGE) != 0)
				st->left_mapped++;
			continue;
		}
		if (ret) {
			st->bad_errno = -ret;
			break;
		}
		st->maps++;
		/* Unmapping may meet failures too; it must end whole. */
		make_it_fail(fd, true);
		ret = vt_unmap_dma(st->container, base, n * PAGE);
		make_it_fail(fd, false);
		for (tries = 0; ret < 0 && ret == -ENOMEM && tries < 10; tries++)
			ret = vt_unmap_dma(st->container, base, n * PAGE);
		if (ret != n * (int)PAGE && ret >= 0)
			st->unmap_short++;
		else if (ret < 0) {
			st->bad_errno = -ret;
			break;
		}
	}
	close(fd);
	return NULL;
}

/* SPEC: RES-1 RES-2 DMA-15 DMA-16 */
TEST(map_unmap_storm_with_page_allocations_failing)
{
	struct storm st[STORM_THREADS];
	pthread_t th[STORM_THREADS];
	struct vt_pci_dev dev;
	struct vt_handles h;
	struct vt_leaks before;
	char *buf;
	int i, ret, enomem = 0, maps = 0;

	if (vt_select(VT_DEV_ANY, 0, NULL, &dev))
		SKIP(return, "no selected device");
	if (access("/sys/kernel/debug/fail_page_alloc/probability", W_OK) ||
	    access("/proc/thread-self/make-it-fail", W_OK))
		SKIP(return, "no fail_page_alloc (kernel without CONFIG_FAIL_PAGE_ALLOC)");
	ret = vt_open_device(&dev, &h);
	ASSERT_EQ(0, ret) TH_LOG("open: %s", strerror(-ret));
	buf = mmap(NULL, STORM_THREADS * STORM_PAGES * PAGE,
		   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 1, STORM_THREADS * STORM_PAGES * PAGE);
	vt_leaks_take(&before);

	/* Every page allocation of a marked thread fails with 10 %. */
	ASSERT_EQ(0, knob("task-filter", "Y"));
	ASSERT_EQ(0, knob("ignore-gfp-wait", "N"));
	ASSERT_EQ(0, knob("ignore-gfp-highmem", "N"));
	ASSERT_EQ(0, knob("min-order", "0"));
	ASSERT_EQ(0, knob("verbose", "0"));
	ASSERT_EQ(0, knob("interval", "1"));
	ASSERT_EQ(0, knob("times", "-1"));
	ASSERT_EQ(0, knob("probability", "10"));
	for (i = 0; i < STORM_THREADS; i++) {
		st[i] = (struct storm){ .container = h.container, .id = i,
					.buf = buf + i * STORM_PAGES * PAGE };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, storm_thread, &st[i]));
	}
	for (i = 0; i < STORM_THREADS; i++)
		pthread_join(th[i], NULL);
	ASSERT_EQ(0, knob("probability", "0"));

	for (i = 0; i < STORM_THREADS; i++) {
		EXPECT_EQ(0, st[i].bad_errno)
			TH_LOG("thread %d: errno %d (%s), not ENOMEM", i,
			       st[i].bad_errno, strerror(st[i].bad_errno));
		EXPECT_EQ(0, st[i].left_mapped)
			TH_LOG("thread %d: a refused MAP_DMA left a mapping", i);
		EXPECT_EQ(0, st[i].unmap_short)
			TH_LOG("thread %d: UNMAP_DMA removed part of a mapping", i);
		maps += st[i].maps;
		enomem += st[i].enomem;
	}
	ksft_print_msg("storm: %d mapped, %d refused with ENOMEM\n", maps,
		       enomem);
	fflush(stdout);
	ASSERT_EQ(0, vt_unmap_dma(h.container, 0, 1ULL << 32));
	vt_assert_no_leaks(&before, "after unmapping everything");
	vt_close_device(&h);
	munmap(buf, STORM_THREADS * STORM_PAGES * PAGE);
}

TEST_HARNESS_MAIN
