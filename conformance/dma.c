// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mapping proven with real device DMA: QEMU's edu copies between its
 * internal buffer and an IOVA, so what lands in (or stays out of) user memory
 * is what the IOMMU let through.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define PAGE		4096
#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL
#define IOVA_RO		0x300000ULL
/*
 * Bytes per transfer: half a page. QEMU 7.2's edu rejects a transfer that
 * ends exactly at the end of its 4 KiB buffer (and aborts the machine), and
 * the untouched second half shows that DMA writes no more than asked.
 */
#define DMA_LEN		(PAGE / 2)

FIXTURE(edu_dma) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	void *bar;
	size_t bar_size;
	unsigned char *src;	/* mapped at IOVA_SRC, holds a pattern */
	unsigned char *dst;	/* mapped at IOVA_DST, zero */
};

FIXTURE_VARIANT(edu_dma) {
	enum vt_edu_kind kind;
	int nth;
};

FIXTURE_VARIANT_ADD(edu_dma, alone) {
	.kind = VT_EDU_ALONE,
};

FIXTURE_VARIANT_ADD(edu_dma, shared_first) {
	.kind = VT_EDU_SHARED,
	.nth = 0,
};

FIXTURE_VARIANT_ADD(edu_dma, shared_second) {
	.kind = VT_EDU_SHARED,
	.nth = 1,
};

static void *page_alloc(void)
{
	return mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

FIXTURE_SETUP(edu_dma)
{
	int i, ret;

	if (vt_find_edu(variant->kind, variant->nth, &self->dev))
		vt_skip_setup("no %s #%d", vt_edu_kind_name(variant->kind),
			      variant->nth);
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
	ASSERT_EQ(0, vt_enable_bus_master(self->h.device));
	self->bar = vt_mmap_bar(self->h.device, VFIO_PCI_BAR0_REGION_INDEX,
				&self->bar_size);
	ASSERT_NE(MAP_FAILED, self->bar);

	self->src = page_alloc();
	self->dst = page_alloc();
	ASSERT_NE(MAP_FAILED, self->src);
	ASSERT_NE(MAP_FAILED, self->dst);
	for (i = 0; i < PAGE; i++)
		self->src[i] = (unsigned char)(i * 7 + 3);
	memset(self->dst, 0, PAGE);

	ASSERT_EQ(0, vt_map_dma(self->h.container, self->src, IOVA_SRC, PAGE,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, vt_map_dma(self->h.container, self->dst, IOVA_DST, PAGE,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	/* Load the edu buffer from user memory through the IOMMU. */
	ASSERT_EQ(0, edu_dma(self->bar, IOVA_SRC, EDU_DMA_BUF, DMA_LEN, false));
}

FIXTURE_TEARDOWN(edu_dma)
{
	if (self->bar != MAP_FAILED)
		munmap(self->bar, self->bar_size);
	vt_close_device(&self->h);
	munmap(self->src, PAGE);
	munmap(self->dst, PAGE);
}

static bool all_zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* SPEC: DMA-4 CFG-3 MODEL-6 */
TEST_F(edu_dma, round_trip_lands_in_mapped_iova)
{
	ASSERT_EQ(0, edu_dma(self->bar, EDU_DMA_BUF, IOVA_DST, DMA_LEN, true));
	ASSERT_EQ(0, memcmp(self->src, self->dst, DMA_LEN));
	ASSERT_TRUE(all_zero(self->dst + DMA_LEN, PAGE - DMA_LEN));
}

/* SPEC: DMA-14 DMA-16 DMA-21 */
TEST_F(edu_dma, dma_after_unmap_does_not_land)
{
	/* First prove the path works, then take the IOVA away. */
	ASSERT_EQ(0, edu_dma(self->bar, EDU_DMA_BUF, IOVA_DST, DMA_LEN, true));
	ASSERT_EQ(0, memcmp(self->src, self->dst, DMA_LEN));
	ASSERT_EQ(PAGE, vt_unmap_dma(self->h.container, IOVA_DST, PAGE));
	memset(self->dst, 0, PAGE);

	ASSERT_EQ(0, edu_dma(self->bar, EDU_DMA_BUF, IOVA_DST, DMA_LEN, true));
	ASSERT_TRUE(all_zero(self->dst, PAGE));
}


/* SPEC: DMA-13 */
TEST_F(edu_dma, read_only_mapping_is_not_written)
{
	unsigned char *ro = page_alloc();

	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, 0, PAGE);
	ASSERT_EQ(0, vt_map_dma(self->h.container, ro, IOVA_RO, PAGE,
				VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, edu_dma(self->bar, EDU_DMA_BUF, IOVA_RO, DMA_LEN, true));
	EXPECT_TRUE(all_zero(ro, PAGE));
	/* The same transfer to a writable mapping does land. */
	ASSERT_EQ(0, edu_dma(self->bar, EDU_DMA_BUF, IOVA_DST, DMA_LEN, true));
	EXPECT_EQ(0, memcmp(self->src, self->dst, DMA_LEN));
	ASSERT_EQ(PAGE, vt_unmap_dma(self->h.container, IOVA_RO, PAGE));
	munmap(ro, PAGE);
}

/* SPEC: MODEL-8 */
TEST_F(edu_dma, mappings_outlive_the_container_fd)
{
	close(self->h.container);
	self->h.container = -1;
	ASSERT_EQ(0, edu_dma(self->bar, EDU_DMA_BUF, IOVA_DST, DMA_LEN, true));
	ASSERT_EQ(0, memcmp(self->src, self->dst, DMA_LEN));
}

#define KILL_PAGES	256

/*
 * The victim: map memory for DMA and keep the device busy until killed. It
 * dies with the test (PDEATHSIG) and holds none of the runner's pipes.
 */
static void __attribute__((noreturn))
dma_until_killed(const struct vt_pci_dev *dev, int ready)
{
	struct vt_handles h;
	size_t size;
	void *bar, *buf;
	int null = open("/dev/null", O_WRONLY);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(1);
	buf = mmap(NULL, KILL_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED || vt_open_device(dev, &h) ||
	    vt_enable_bus_master(h.device) ||
	    vt_map_dma(h.container, buf, IOVA_SRC, KILL_PAGES * PAGE,
		       VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		_exit(1);
	bar = vt_mmap_bar(h.device, VFIO_PCI_BAR0_REGION_INDEX, &size);
	if (bar == MAP_FAILED || write(ready, "x", 1) != 1)
		_exit(1);
	for (;;)
		edu_dma(bar, IOVA_SRC, EDU_DMA_BUF, DMA_LEN, false);
}

/* SPEC: CONT-14 */
TEST(killed_user_leaves_no_pinned_page)
{
	struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	struct vt_pci_dev dev;
	long before, during, now = -1;
	int pipefd[2], i, status;
	bool ready;
	char c;
	pid_t pid;

	if (vt_find_edu(VT_EDU_ALONE, 0, &dev))
		SKIP(return, "no edu alone in its group");
	before = vt_pinned_pages();
	if (before < 0)
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
	ASSERT_LE(before + KILL_PAGES, during);
	for (i = 0; i < 200; i++) {
		now = vt_pinned_pages();
		if (now <= before)
			break;
		nanosleep(&tick, NULL);
	}
	ASSERT_EQ(before, now);
}

TEST_HARNESS_MAIN
