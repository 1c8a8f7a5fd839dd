// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty page tracking of the type1 model (spec: DMA mapping, Dirty page
 * tracking): VFIO_IOMMU_DIRTY_PAGES start, stop and get-bitmap, the
 * bitmap of VFIO_IOMMU_UNMAP_DMA with GET_DIRTY_BITMAP, and the migration
 * capability of VFIO_IOMMU_GET_INFO that offers them. A device writes
 * through its DMA engine between the bitmaps. Offering tracking is
 * optional (DMA-44): without the capability the refusal is tested and the
 * tests of tracking itself skip.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "engine.h"

#define PAGE		4096ULL
#define MEM_PAGES	4
#define MEM_SIZE	(MEM_PAGES * PAGE)
#define IOVA_MEM	0x100000ULL
#define GAP_PAGES	4		/* unmapped pages each side of it */
#define IOVA_LOW	(IOVA_MEM - GAP_PAGES * PAGE)
#define RANGE_PAGES	(GAP_PAGES + MEM_PAGES + GAP_PAGES)
#define IOVA_MEM2	0x200000ULL	/* a mapping made while tracking */
#define DMA_LEN		(PAGE / 2)	/* see dma.c: the edu's buffer end */
#define SENTINEL	0x5a
#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define START		VFIO_IOMMU_DIRTY_PAGES_FLAG_START
#define STOP		VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP
#define GET_BITMAP	VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP

FIXTURE(dirty) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	struct vt_engine eng;
	unsigned char *mem;	/* MEM_PAGES, mapped at IOVA_MEM */
	unsigned char expect[PAGE];
	struct vfio_iommu_type1_info_cap_migration mig;
	bool offered;		/* GET_INFO carries the migration capability */
	uint64_t granule;	/* smallest page size of iova_pgsizes */
	uint64_t bits[4];	/* a bitmap, zeroed before each use */
};

/* The migration capability into self->mig, and the granule. */
static void read_info(struct __test_metadata *_metadata,
		      FIXTURE_DATA(dirty) *self)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	struct vfio_iommu_type1_info *info;
	struct vfio_info_cap_header *cap;
	__u32 off;

	vt_ioctl_ok(self->h.container, VFIO_IOMMU_GET_INFO, &probe);
	ASSERT_NE(0ULL, probe.iova_pgsizes);
	self->granule = probe.iova_pgsizes & -probe.iova_pgsizes;
	info = calloc(1, probe.argsz);
	ASSERT_NE(NULL, info);
	info->argsz = probe.argsz;
	vt_ioctl_ok(self->h.container, VFIO_IOMMU_GET_INFO, info);
	if (!(info->flags & VFIO_IOMMU_INFO_CAPS))
		info->cap_offset = 0;
	for (off = info->cap_offset; off; off = cap->next) {
		ASSERT_LE(off + sizeof(*cap), info->argsz);
		cap = (void *)((char *)info + off);
		if (cap->id != VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION)
			continue;
		ASSERT_LE(off + sizeof(self->mig), info->argsz);
		memcpy(&self->mig, cap, sizeof(self->mig));
		self->offered = true;
	}
	free(info);
}

FIXTURE_SETUP(dirty)
{
	const struct vt_engine_ops *ops;
	int ret;

	self->h.container = self->h.group = self->h.device = -1;
	self->mem = MAP_FAILED;
	if (vt_engine_select(NULL, VT_DEV_ALONE, 0, &self->dev))
		vt_skip_setup("no device with a DMA engine alone in its group");
	ops = vt_engine_for(&self->dev);
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
	self->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memset(self->mem, SENTINEL, MEM_SIZE);
	ASSERT_EQ(0, vt_map_dma(self->h.container, self->mem, IOVA_MEM,
				MEM_SIZE, RW));
	ret = vt_engine_open(&self->eng, ops, self->h.device, self->h.container,
			     VT_ENGINE_IOVA);
	ASSERT_EQ(0, ret) TH_LOG("%s engine on %s: %s", ops->name,
				 self->dev.bdf, strerror(-ret));
	read_info(_metadata, self);
}

FIXTURE_TEARDOWN(dirty)
{
	vt_engine_close(&self->eng);
	vt_close_device(&self->h);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, MEM_SIZE);
}

/* Skip unless the implementation offers tracking (DMA-44: optional). */
#define needs_tracking() do { \
	if (!self->offered) \
		SKIP(return, "no migration capability: dirty tracking not offered (DMA-44: optional)"); \
	ASSERT_EQ(PAGE, self->granule) \
		TH_LOG("the bitmaps here are sized for 4 KiB pages"); \
} while (0)

/* VFIO_IOMMU_DIRTY_PAGES with @flags alone, @argsz; 0 or -errno. */
static int dirty_ctl(int container, __u32 flags, __u32 argsz)
{
	struct vfio_iommu_type1_dirty_bitmap d = {
		.argsz = argsz,
		.flags = flags,
	};

	return ioctl(container, VFIO_IOMMU_DIRTY_PAGES, &d) ? -errno : 0;
}

/* GET_BITMAP of [iova, +size) into @bits (@bytes); 0 or -errno. */
static int get_bitmap(int container, uint64_t iova, uint64_t size,
		      uint64_t pgsize, uint64_t *bits, uint64_t bytes)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap hdr;
		struct vfio_iommu_type1_dirty_bitmap_get get;
	} r = {
		.hdr.argsz = sizeof(r),
		.hdr.flags = GET_BITMAP,
		.get.iova = iova,
		.get.size = size,
		.get.bitmap.pgsize = pgsize,
		.get.bitmap.size = bytes,
		.get.bitmap.data = (__u64 *)bits,
	};

	return ioctl(container, VFIO_IOMMU_DIRTY_PAGES, &r) ? -errno : 0;
}

/* UNMAP_DMA with GET_DIRTY_BITMAP | @flags; 0 or -errno, bytes in *@done. */
static int unmap_bitmap(int container, uint64_t iova, uint64_t size,
			__u32 flags, uint64_t pgsize, uint64_t *bits,
			uint64_t bytes, uint64_t *done)
{
	struct {
		struct vfio_iommu_type1_dma_unmap hdr;
		struct vfio_bitmap bitmap;
	} r = {
		.hdr.argsz = sizeof(r),
		.hdr.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | flags,
		.hdr.iova = iova,
		.hdr.size = size,
		.bitmap.pgsize = pgsize,
		.bitmap.size = bytes,
		.bitmap.data = (__u64 *)bits,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &r))
		return -errno;
	*done = r.hdr.size;
	return 0;
}

static bool bit(const uint64_t *bits, unsigned int n)
{
	return (bits[n / 64] >> (n % 64)) & 1;
}

/* GET_BITMAP of the mapping and the gaps around it, into self->bits. */
static int get_range(FIXTURE_DATA(dirty) *self)
{
	memset(self->bits, 0, sizeof(self->bits));
	return get_bitmap(self->h.container, IOVA_LOW, RANGE_PAGES * PAGE,
			  PAGE, self->bits, sizeof(self->bits));
}

/* The device writes in page @page of the mapping; bytes or -errno. */
static ssize_t dev_write(FIXTURE_DATA(dirty) *self, unsigned int page)
{
	return vt_engine_write(&self->eng, IOVA_MEM + page * PAGE, DMA_LEN,
			       self->expect);
}

/* SPEC: DMA-44 DMA-45 DMA-46 */
TEST_F(dirty, tracking_is_offered_or_refused)
{
	uint64_t done = 0;
	int c = self->h.container;

	if (self->offered) {
		TH_LOG("dirty tracking offered");
		ASSERT_EQ(0, dirty_ctl(c, START, 8));
		ASSERT_EQ(0, dirty_ctl(c, STOP, 8));
		return;
	}
	ASSERT_EQ(-ENOTTY, dirty_ctl(c, START, 8));
	ASSERT_EQ(-ENOTTY, dirty_ctl(c, STOP, 8));
	ASSERT_EQ(-ENOTTY, get_bitmap(c, IOVA_MEM, MEM_SIZE, PAGE, self->bits,
				      sizeof(self->bits)));
	ASSERT_EQ(-EINVAL, unmap_bitmap(c, IOVA_MEM, MEM_SIZE, 0, PAGE,
					self->bits, sizeof(self->bits), &done));
	/* The refused unmap unmapped nothing. */
	ASSERT_EQ((int)MEM_SIZE, vt_unmap_dma(c, IOVA_MEM, MEM_SIZE));
}

/* SPEC: DMA-47 */
TEST_F(dirty, migration_capability_names_the_granule)
{
	needs_tracking();
	ASSERT_EQ(self->granule, self->mig.pgsize_bitmap);
	ASSERT_LT(0ULL, self->mig.max_dirty_bitmap_size);
	TH_LOG("bitmap page size %#llx, at most %llu bytes",
	       (unsigned long long)self->mig.pgsize_bitmap,
	       (unsigned long long)self->mig.max_dirty_bitmap_size);
}

/* SPEC: DMA-48 */
TEST_F(dirty, malformed_calls_are_refused)
{
	int c = self->h.container;

	needs_tracking();
	ASSERT_EQ(-EINVAL, dirty_ctl(c, 0, 8));
	ASSERT_EQ(-EINVAL, dirty_ctl(c, START | STOP, 8));
	ASSERT_EQ(-EINVAL, dirty_ctl(c, START | GET_BITMAP, 8));
	ASSERT_EQ(-EINVAL, dirty_ctl(c, 1u << 3, 8));
	ASSERT_EQ(-EINVAL, dirty_ctl(c, START, 7));
	/* GET_BITMAP without room for its request. */
	ASSERT_EQ(0, dirty_ctl(c, START, 8));
	ASSERT_EQ(-EINVAL, dirty_ctl(c, GET_BITMAP, 8));
}

/* SPEC: DMA-49 DMA-50 */
TEST_F(dirty, start_and_stop_are_idempotent_and_gate_the_bitmap)
{
	int c = self->h.container;

	needs_tracking();
	ASSERT_EQ(-EINVAL, get_range(self));
	ASSERT_EQ(0, dirty_ctl(c, STOP, 8));
	ASSERT_EQ(0, dirty_ctl(c, START, 8));
	ASSERT_EQ(0, dirty_ctl(c, START, 8));
	ASSERT_EQ(0, get_range(self));
	ASSERT_EQ(0, dirty_ctl(c, STOP, 8));
	ASSERT_EQ(0, dirty_ctl(c, STOP, 8));
	ASSERT_EQ(-EINVAL, get_range(self));
}

/* SPEC: DMA-51 DMA-52 DMA-53 */
TEST_F(dirty, bitmap_request_is_checked)
{
	const uint64_t big = self->mig.max_dirty_bitmap_size + 8;
	uint64_t *b = self->bits;
	int c = self->h.container;

	needs_tracking();
	ASSERT_EQ(0, dirty_ctl(c, START, 8));
	/* Page size: the granule, nothing else. */
	ASSERT_EQ(-EINVAL, get_bitmap(c, IOVA_MEM, MEM_SIZE, 2 * PAGE, b, 32));
	ASSERT_EQ(-EINVAL, get_bitmap(c, IOVA_MEM, MEM_SIZE, PAGE / 2, b, 32));
	/* Range: aligned, not empty. */
	ASSERT_EQ(-EINVAL, get_bitmap(c, IOVA_MEM + 512, MEM_SIZE, PAGE, b,
				      32));
	ASSERT_EQ(-EINVAL, get_bitmap(c, IOVA_MEM, MEM_SIZE - 512, PAGE, b,
				      32));
	ASSERT_EQ(-EINVAL, get_bitmap(c, IOVA_MEM, 0, PAGE, b, 32));
	/* Bitmap size: 64-bit words for every page, at most the maximum. */
	ASSERT_EQ(-EINVAL, get_bitmap(c, IOVA_MEM, MEM_SIZE, PAGE, b, 0));
	ASSERT_EQ(-EINVAL, get_bitmap(c, IOVA_MEM, MEM_SIZE, PAGE, b, 4));
	ASSERT_EQ(-EINVAL, get_bitmap(c, IOVA_LOW, 65 * PAGE, PAGE, b, 8));
	ASSERT_EQ(0, get_bitmap(c, IOVA_LOW, 65 * PAGE, PAGE, b, 16));
	ASSERT_EQ(-EINVAL, get_bitmap(c, IOVA_MEM, MEM_SIZE, PAGE, b, big));
	/* A range that splits the mapping. */
	ASSERT_EQ(-EINVAL, get_bitmap(c, IOVA_MEM, PAGE, PAGE, b, 8));
	ASSERT_EQ(-EINVAL, get_bitmap(c, IOVA_MEM + PAGE, MEM_SIZE - PAGE,
				      PAGE, b, 8));
	ASSERT_EQ(0, get_bitmap(c, IOVA_MEM, MEM_SIZE, PAGE, b, 8));
}

/*
 * In a bitmap of get_range(), bits 0..3 and 8..11 stand for the unmapped
 * pages around the mapping, 4..7 for its pages.
 */
#define MAPPED(i)	((i) >= GAP_PAGES && (i) < GAP_PAGES + MEM_PAGES)

/* SPEC: DMA-54 DMA-55 */
TEST_F(dirty, written_and_pinned_pages_are_dirty)
{
	unsigned int i;
	ssize_t n;

	needs_tracking();
	ASSERT_EQ(0, dirty_ctl(self->h.container, START, 8));
	ASSERT_EQ(0, get_range(self));	/* what was dirty before: read */

	n = dev_write(self, 1);
	ASSERT_LE((ssize_t)DMA_LEN, n) TH_LOG("write: %zd", n);
	ASSERT_EQ(0, memcmp(self->mem + PAGE, self->expect, n));
	ASSERT_EQ(0, get_range(self));
	EXPECT_TRUE(bit(self->bits, GAP_PAGES + 1))
		TH_LOG("the page the device wrote is not dirty");
	for (i = GAP_PAGES; i < GAP_PAGES + MEM_PAGES; i++) {
		EXPECT_TRUE(bit(self->bits, i)) TH_LOG("pinned page %u", i);
	}

	/* No DMA since: pinned pages are dirty at every call. */
	ASSERT_EQ(0, get_range(self));
	for (i = GAP_PAGES; i < GAP_PAGES + MEM_PAGES; i++) {
		EXPECT_TRUE(bit(self->bits, i))
			TH_LOG("pinned page %u not dirty on the second call", i);
	}
}

/*
 * The unmapped pages share a 64-bit word with the mapping's, which starts
 * 4 bits into it: three calls, every unmapped bit 0 each time.
 */
/* SPEC: DMA-56 */
TEST_F(dirty, unmapped_pages_are_never_dirty)
{
	unsigned int call, i;

	needs_tracking();
	ASSERT_EQ(0, dirty_ctl(self->h.container, START, 8));
	for (call = 1; call <= 3; call++) {
		ASSERT_EQ(0, get_range(self));
		for (i = 0; i < RANGE_PAGES; i++) {
			/* A statement pair: the harness's EXPECT and its log. */
			EXPECT_EQ(MAPPED(i), bit(self->bits, i))
				TH_LOG("call %u: page %u (%s): dirty %d", call,
				       i, MAPPED(i) ? "mapped" : "unmapped",
				       bit(self->bits, i));
		}
		ASSERT_EQ(0ULL, self->bits[1] | self->bits[2] | self->bits[3]);
	}
}

/* SPEC: DMA-57 DMA-58 */
TEST_F(dirty, unmap_hands_over_the_dirty_pages)
{
	uint64_t done = 0, *b = self->bits;
	int c = self->h.container;
	unsigned int i;

	needs_tracking();
	/* Tracking off, a wrong page size, ALL or VADDR: nothing unmapped. */
	ASSERT_EQ(-EINVAL, unmap_bitmap(c, IOVA_MEM, MEM_SIZE, 0, PAGE, b, 8,
					&done));
	ASSERT_EQ(0, dirty_ctl(c, START, 8));
	ASSERT_EQ(-EINVAL, unmap_bitmap(c, IOVA_MEM, MEM_SIZE, 0, 2 * PAGE, b,
					8, &done));
	ASSERT_EQ(-EINVAL, unmap_bitmap(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
					PAGE, b, 8, &done));
	ASSERT_EQ(-EINVAL, unmap_bitmap(c, IOVA_MEM, MEM_SIZE,
					VFIO_DMA_UNMAP_FLAG_VADDR, PAGE, b, 8,
					&done));
	ASSERT_LE((ssize_t)DMA_LEN, dev_write(self, 2));
	ASSERT_EQ(0, memcmp(self->mem + 2 * PAGE, self->expect, DMA_LEN));

	memset(self->bits, 0, sizeof(self->bits));
	ASSERT_EQ(0, unmap_bitmap(c, IOVA_MEM, MEM_SIZE, 0, PAGE, b, 8,
				  &done));
	ASSERT_EQ(MEM_SIZE, done);
	for (i = 0; i < MEM_PAGES; i++) {
		EXPECT_TRUE(bit(b, i)) TH_LOG("page %u not dirty", i);
	}
	ASSERT_EQ(0ULL, b[0] >> MEM_PAGES);
	ASSERT_EQ(0, vt_unmap_dma(c, IOVA_MEM, MEM_SIZE));
}

/* SPEC: DMA-59 */
TEST_F(dirty, mapping_made_while_tracking_is_tracked)
{
	unsigned char *page;

	needs_tracking();
	ASSERT_EQ(0, dirty_ctl(self->h.container, START, 8));
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, vt_map_dma(self->h.container, page, IOVA_MEM2, PAGE, RW));
	memset(self->bits, 0, sizeof(self->bits));
	ASSERT_EQ(0, get_bitmap(self->h.container, IOVA_MEM2, PAGE, PAGE,
				self->bits, 8));
	EXPECT_TRUE(bit(self->bits, 0));
	ASSERT_EQ((int)PAGE, vt_unmap_dma(self->h.container, IOVA_MEM2, PAGE));
	munmap(page, PAGE);
}

TEST_HARNESS_MAIN
