// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mapping proven with real device DMA: a DMA engine (engine.h) writes
 * at one IOVA and reads at another, so what lands in (or stays out of) user
 * memory, and what the device got, is what the IOMMU let through. Every
 * test runs on each engine: QEMU's edu (28-bit, a copy through its buffer),
 * the igb (64-bit, a frame sent and received in MAC loopback) and an NVMe
 * controller (64-bit, Identify data written, a submission queue entry
 * read); a variant whose device is absent skips.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "engine.h"

#define PAGE		4096
#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL	/* two pages */
#define IOVA_RO		0x300000ULL
#define IOVA_GONE	0x400000ULL
#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
/*
 * Bytes asked per transfer: half a page. QEMU 7.2's edu rejects a transfer
 * that ends exactly at the end of its 4 KiB buffer (and aborts the
 * machine); an engine may write more (an NVMe writes 4096 bytes of Identify
 * data), and the untouched rest of the two pages shows that DMA writes no
 * more than the engine said.
 */
#define DMA_LEN		(PAGE / 2)
#define DST_SIZE	(2 * PAGE)
#define SENTINEL	0x5a

FIXTURE(dma) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	struct vt_engine eng;
	unsigned char *src;	/* mapped at IOVA_SRC */
	unsigned char *dst;	/* mapped at IOVA_DST, SENTINEL */
	unsigned char expect[PAGE];	/* what a write lands */
};

/* One variant per DMA engine and device placement. */
FIXTURE_VARIANT(dma) {
	const char *engine;
	enum vt_dev_kind kind;
	int nth;
};

FIXTURE_VARIANT_ADD(dma, edu_alone) {
	.engine = "edu",
	.kind = VT_DEV_ALONE,
};

FIXTURE_VARIANT_ADD(dma, edu_shared_first) {
	.engine = "edu",
	.kind = VT_DEV_SHARED,
	.nth = 0,
};

FIXTURE_VARIANT_ADD(dma, edu_shared_second) {
	.engine = "edu",
	.kind = VT_DEV_SHARED,
	.nth = 1,
};

FIXTURE_VARIANT_ADD(dma, igb) {
	.engine = "igb",
	.kind = VT_DEV_ANY,
};

FIXTURE_VARIANT_ADD(dma, nvme_alone) {
	.engine = "nvme",
	.kind = VT_DEV_ALONE,
};

FIXTURE_VARIANT_ADD(dma, nvme_shared) {
	.engine = "nvme",
	.kind = VT_DEV_SHARED,
};

static void *pages_alloc(size_t size)
{
	return mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void *page_alloc(void)
{
	return pages_alloc(PAGE);
}

FIXTURE_SETUP(dma)
{
	const struct vt_engine_ops *ops = vt_engine_by_name(variant->engine);
	int ret;

	self->h.container = self->h.group = self->h.device = -1;
	self->src = self->dst = MAP_FAILED;
	ASSERT_NE(NULL, ops);
	if (vt_engine_select(ops, variant->kind, variant->nth, &self->dev))
		vt_skip_setup("no %s device%s (#%d) for the %s DMA engine",
			      ops->name, vt_dev_kind_name(variant->kind),
			      variant->nth, ops->name);
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));

	self->src = page_alloc();
	self->dst = pages_alloc(DST_SIZE);
	ASSERT_NE(MAP_FAILED, self->src);
	ASSERT_NE(MAP_FAILED, self->dst);
	memset(self->src, 0, PAGE);
	memset(self->dst, SENTINEL, DST_SIZE);
	ASSERT_EQ(0, vt_map_dma(self->h.container, self->src, IOVA_SRC, PAGE,
				RW));
	ASSERT_EQ(0, vt_map_dma(self->h.container, self->dst, IOVA_DST,
				DST_SIZE, RW));
	ret = vt_engine_open(&self->eng, ops, self->h.device, self->h.container,
			     VT_ENGINE_IOVA);
	ASSERT_EQ(0, ret) TH_LOG("%s engine on %s: %s", ops->name,
				 self->dev.bdf, strerror(-ret));
}

FIXTURE_TEARDOWN(dma)
{
	vt_engine_close(&self->eng);
	vt_close_device(&self->h);
	if (self->src != MAP_FAILED)
		munmap(self->src, PAGE);
	if (self->dst != MAP_FAILED)
		munmap(self->dst, DST_SIZE);
}

static bool all_sentinel(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++ != SENTINEL)
			return false;
	return true;
}

/* The device writes at @iova; the bytes it wrote, or a negative errno. */
static ssize_t dev_write(struct __test_metadata *_metadata,
			 struct _test_data_dma *self, uint64_t iova)
{
	ssize_t n = vt_engine_write(&self->eng, iova, DMA_LEN, self->expect);

	EXPECT_LE(DMA_LEN, n) TH_LOG("%s write: %zd", self->eng.ops->name, n);
	EXPECT_GE(PAGE, n);
	return n;
}

/* Whether @p holds what the last write wrote, and sentinel up to @size. */
static bool landed(const unsigned char *expect, const unsigned char *p,
		   ssize_t n, size_t size)
{
	return n > 0 && !memcmp(p, expect, n) &&
	       all_sentinel(p + n, size - n);
}

/* SPEC: DMA-4 CFG-3 MODEL-6 */
TEST_F(dma, round_trip_lands_in_mapped_iova)
{
	ssize_t n;

	/* Host to device: the device gets what user memory holds ... */
	ASSERT_EQ(1, vt_engine_read(&self->eng, self->src, IOVA_SRC, DMA_LEN));
	/* ... device to host: exactly what it wrote lands, nothing more. */
	n = dev_write(_metadata, self, IOVA_DST);
	ASSERT_TRUE(landed(self->expect, self->dst, n, DST_SIZE));
}

/* SPEC: DMA-14 DMA-16 DMA-21 */
TEST_F(dma, dma_after_unmap_does_not_land)
{
	ssize_t n;

	/* First prove the path works, then take the IOVA away. */
	n = dev_write(_metadata, self, IOVA_DST);
	ASSERT_TRUE(landed(self->expect, self->dst, n, DST_SIZE));
	ASSERT_EQ(DST_SIZE, vt_unmap_dma(self->h.container, IOVA_DST,
					 DST_SIZE));
	memset(self->dst, SENTINEL, DST_SIZE);

	ASSERT_LT(0, dev_write(_metadata, self, IOVA_DST));
	ASSERT_TRUE(all_sentinel(self->dst, DST_SIZE));
}

/* SPEC: DMA-14 DMA-16 */
TEST_F(dma, unmapped_source_is_not_read)
{
	unsigned char *gone = page_alloc();

	/*
	 * Memory the device has never seen, mapped and unmapped again: a read
	 * of its IOVA that still reached it would show.
	 */
	ASSERT_NE(MAP_FAILED, gone);
	ASSERT_EQ(0, vt_map_dma(self->h.container, gone, IOVA_GONE, PAGE, RW));
	ASSERT_EQ(PAGE, vt_unmap_dma(self->h.container, IOVA_GONE, PAGE));
	EXPECT_EQ(0, vt_engine_read(&self->eng, gone, IOVA_GONE, DMA_LEN));
	/* The same read of a mapped source does arrive. */
	EXPECT_EQ(1, vt_engine_read(&self->eng, self->src, IOVA_SRC, DMA_LEN));
	munmap(gone, PAGE);
}

/* SPEC: DMA-13 */
TEST_F(dma, read_only_mapping_is_not_written)
{
	unsigned char *ro = page_alloc();
	ssize_t n;

	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, SENTINEL, PAGE);
	ASSERT_EQ(0, vt_map_dma(self->h.container, ro, IOVA_RO, PAGE,
				VFIO_DMA_MAP_FLAG_READ));
	ASSERT_LT(0, dev_write(_metadata, self, IOVA_RO));
	EXPECT_TRUE(all_sentinel(ro, PAGE));
	/* The device may read it, and the same write to a writable one lands. */
	EXPECT_EQ(1, vt_engine_read(&self->eng, ro, IOVA_RO, DMA_LEN));
	n = dev_write(_metadata, self, IOVA_DST);
	EXPECT_TRUE(landed(self->expect, self->dst, n, DST_SIZE));
	ASSERT_EQ(PAGE, vt_unmap_dma(self->h.container, IOVA_RO, PAGE));
	munmap(ro, PAGE);
}

/* SPEC: MODEL-8 */
TEST_F(dma, mappings_outlive_the_container_fd)
{
	ssize_t n;

	close(self->h.container);
	self->h.container = -1;
	self->eng.container = -1;
	n = dev_write(_metadata, self, IOVA_DST);
	ASSERT_TRUE(landed(self->expect, self->dst, n, DST_SIZE));
	ASSERT_EQ(1, vt_engine_read(&self->eng, self->src, IOVA_SRC, DMA_LEN));
}

/*
 * The highest page the device can address that the container's IOVA ranges
 * allow, or 0. Above 4 GiB for a 64-bit engine under a 39-bit or wider
 * IOMMU.
 */
static uint64_t highest_page(int container, unsigned int dma_bits)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	struct vfio_iommu_type1_info_cap_iova_range *ranges = NULL;
	struct vfio_iommu_type1_info *info;
	struct vfio_info_cap_header *cap;
	uint64_t top = dma_bits >= 64 ? ~0ULL : (1ULL << dma_bits) - 1;
	uint64_t best = 0;
	__u32 off, i;

	if (ioctl(container, VFIO_IOMMU_GET_INFO, &probe) ||
	    !(probe.flags & VFIO_IOMMU_INFO_CAPS) ||
	    probe.argsz <= sizeof(probe))
		return 0;
	info = calloc(1, probe.argsz);
	if (!info)
		return 0;
	info->argsz = probe.argsz;
	if (ioctl(container, VFIO_IOMMU_GET_INFO, info))
		goto out;
	for (off = info->cap_offset; off && off < info->argsz; off = cap->next) {
		cap = (void *)((char *)info + off);
		if (cap->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			ranges = (void *)cap;
	}
	for (i = 0; ranges && i < ranges->nr_iovas; i++) {
		uint64_t start = ranges->iova_ranges[i].start;
		uint64_t end = ranges->iova_ranges[i].end;
		uint64_t last;

		if (start > top)
			continue;
		last = ((end < top ? end : top) + 1 - PAGE) & ~(uint64_t)(PAGE - 1);
		if (last >= start && last > best)
			best = last;
	}
out:
	free(info);
	return best;
}

/* SPEC: DMA-4 */
TEST_F(dma, round_trip_at_highest_reachable_iova)
{
	uint64_t high = highest_page(self->h.container,
				     self->eng.ops->dma_bits);
	ssize_t n;

	ASSERT_LT(IOVA_RO, high) TH_LOG("no IOVA range above the test's own");
	TH_LOG("%s: %u-bit DMA to IOVA 0x%llx", self->eng.ops->name,
	       self->eng.ops->dma_bits, (unsigned long long)high);
	ASSERT_EQ(PAGE, vt_unmap_dma(self->h.container, IOVA_SRC, PAGE));
	ASSERT_EQ(0, vt_map_dma(self->h.container, self->src, high, PAGE, RW));
	ASSERT_EQ(1, vt_engine_read(&self->eng, self->src, high, DMA_LEN));
	ASSERT_EQ(PAGE, vt_unmap_dma(self->h.container, high, PAGE));
	/* The destination's first page, alone at the top. */
	ASSERT_EQ(DST_SIZE, vt_unmap_dma(self->h.container, IOVA_DST,
					 DST_SIZE));
	ASSERT_EQ(0, vt_map_dma(self->h.container, self->dst, high, PAGE, RW));
	n = dev_write(_metadata, self, high);
	ASSERT_TRUE(landed(self->expect, self->dst, n, DST_SIZE));
	ASSERT_EQ(PAGE, vt_unmap_dma(self->h.container, high, PAGE));
}

#define KILL_PAGES	256

/*
 * The victim: map memory for DMA and keep the device reading it until
 * killed. It dies with the test (PDEATHSIG) and holds none of the runner's
 * pipes.
 */
static void __attribute__((noreturn))
dma_until_killed(const struct vt_pci_dev *dev, int ready)
{
	struct vt_handles h;
	struct vt_engine eng;
	void *buf;
	int null = open("/dev/null", O_WRONLY);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(1);
	buf = mmap(NULL, KILL_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED || vt_open_device(dev, &h) ||
	    vt_map_dma(h.container, buf, IOVA_SRC, KILL_PAGES * PAGE, RW) ||
	    vt_engine_open(&eng, vt_engine_for(dev), h.device, h.container,
			   VT_ENGINE_IOVA) ||
	    write(ready, "x", 1) != 1)
		_exit(1);
	for (;;)
		vt_engine_read(&eng, buf, IOVA_SRC, DMA_LEN);
}

/* SPEC: CONT-14 */
TEST(killed_user_leaves_no_pinned_page)
{
	struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	struct vt_pci_dev dev;
	struct vt_leaks before;
	long during;
	int pipefd[2], i, status;
	bool ready;
	char c;
	pid_t pid;

	if (vt_engine_select(NULL, VT_DEV_ALONE, 0, &dev))
		SKIP(return, "no selected device alone in its group with a DMA engine");
	vt_leaks_take(&before);
	if (before.pinned < 0)
		SKIP(return, "no nr_foll_pin counters in /proc/vmstat");
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		dma_until_killed(&dev, pipefd[1]);
	close(pipefd[1]);
	ready = read(pipefd[0], &c, 1) == 1;
	during = vt_pinned_pages();
	/* Kill first: nothing below may leave the victim running. */
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(pipefd[0]);
	ASSERT_TRUE(ready) TH_LOG("the victim could not set up DMA");
	ASSERT_LE(before.pinned + KILL_PAGES, during);
	for (i = 0; i < 200 && vt_pinned_pages() > before.pinned; i++)
		nanosleep(&tick, NULL);
	vt_assert_no_leaks(&before, "after the killed user was reaped");
}

TEST_HARNESS_MAIN
