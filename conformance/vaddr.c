// SPDX-License-Identifier: GPL-2.0
/*
 * Live update of a mapping's user address (spec: DMA mapping, Live update):
 * UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR keeps a mapping in the IOMMU but
 * forgets its vaddr, MAP_DMA with VFIO_DMA_MAP_FLAG_VADDR gives it a new
 * one, as QEMU's CPR does across exec. The memory is a memfd, so that a
 * second mmap of it stands in for the new process's view; the device's DMA
 * is checked before, during and after the window. Offering the update is
 * optional (DMA-33): where CHECK_EXTENSION(VFIO_UPDATE_VADDR) says 0 the
 * refusal is tested and the tests of the update itself skip.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "engine.h"

#define PAGE		4096
#define MEM_SIZE	(2ULL * PAGE)
#define IOVA_MEM	0x100000ULL
#define IOVA_MEM2	0x200000ULL	/* a second mapping, one page */
#define IOVA_NONE	0x300000ULL	/* never mapped */
#define DMA_LEN		(PAGE / 2)	/* see dma.c: the edu's buffer end */
#define SENTINEL	0x5a
#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

FIXTURE(vaddr) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	struct vt_engine eng;
	int memfd;
	unsigned char *mem;	/* the memfd, mapped at IOVA_MEM */
	unsigned char expect[PAGE];
	bool offered;		/* CHECK_EXTENSION(VFIO_UPDATE_VADDR) */
};

FIXTURE_SETUP(vaddr)
{
	const struct vt_engine_ops *ops;
	int ret;

	self->h.container = self->h.group = self->h.device = -1;
	self->memfd = -1;
	self->mem = MAP_FAILED;
	if (vt_engine_select(NULL, VT_DEV_ALONE, 0, &self->dev))
		vt_skip_setup("no device with a DMA engine alone in its group");
	ops = vt_engine_for(&self->dev);
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
	self->memfd = memfd_create("vaddr", MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, ftruncate(self->memfd, MEM_SIZE));
	self->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memset(self->mem, SENTINEL, MEM_SIZE);
	ASSERT_EQ(0, vt_map_dma(self->h.container, self->mem, IOVA_MEM,
				MEM_SIZE, RW));
	ret = vt_engine_open(&self->eng, ops, self->h.device, self->h.container,
			     VT_ENGINE_IOVA);
	ASSERT_EQ(0, ret) TH_LOG("%s engine on %s: %s", ops->name,
				 self->dev.bdf, strerror(-ret));
	ret = ioctl(self->h.container, VFIO_CHECK_EXTENSION,
		    VFIO_UPDATE_VADDR);
	ASSERT_LE(0, ret);
	self->offered = ret > 0;
}

FIXTURE_TEARDOWN(vaddr)
{
	vt_engine_close(&self->eng);
	vt_close_device(&self->h);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, MEM_SIZE);
	if (self->memfd >= 0)
		close(self->memfd);
}

/* Skip unless the implementation offers the update (DMA-33: optional). */
#define needs_update_vaddr() do { \
	if (!self->offered) \
		SKIP(return, "VFIO_UPDATE_VADDR not offered (DMA-33: optional)"); \
} while (0)

/* UNMAP_DMA of [iova, +size) with @flags; 0 or -errno, bytes in *@done. */
static int unmap_flags(int container, uint64_t iova, uint64_t size,
		       uint32_t flags, uint64_t *done)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	*done = unmap.size;
	return 0;
}

/* UNMAP_DMA ... VADDR of the fixture's mapping: must succeed, whole. */
static void invalidate_mem(struct __test_metadata *_metadata,
			   FIXTURE_DATA(vaddr) *self)
{
	uint64_t done = 0;

	ASSERT_EQ(0, unmap_flags(self->h.container, IOVA_MEM, MEM_SIZE,
				 VFIO_DMA_UNMAP_FLAG_VADDR, &done));
	ASSERT_EQ(MEM_SIZE, done);
}

/* MAP_DMA with VFIO_DMA_MAP_FLAG_VADDR | @flags; 0 or -errno. */
static int map_vaddr(int container, void *vaddr, uint64_t iova,
		     uint64_t size, uint32_t flags)
{
	return vt_map_dma(container, vaddr, iova, size,
			  VFIO_DMA_MAP_FLAG_VADDR | flags);
}

/*
 * The device writes at IOVA_MEM; whether what it wrote is what @view (the
 * memfd, through some mapping) now holds.
 */
static bool dma_lands(struct __test_metadata *_metadata,
		      FIXTURE_DATA(vaddr) *self, unsigned char *view)
{
	ssize_t n;

	memset(view, SENTINEL, MEM_SIZE);
	n = vt_engine_write(&self->eng, IOVA_MEM, DMA_LEN, self->expect);
	EXPECT_LE(DMA_LEN, n) TH_LOG("%s write: %zd", self->eng.ops->name, n);
	return n > 0 && n <= PAGE && !memcmp(view, self->expect, n);
}

/*
 * Neither answer of CHECK_EXTENSION is wrong, but each binds: not offered,
 * both flags are refused and the mapping stays as it was.
 */
/* SPEC: DMA-33 DMA-34 DMA-35 */
TEST_F(vaddr, update_is_offered_or_refused)
{
	uint64_t done = 0;

	/* A mapping whose vaddr is valid: EINVAL either way (DMA-41). */
	ASSERT_EQ(-EINVAL, map_vaddr(self->h.container, self->mem, IOVA_MEM,
				     MEM_SIZE, 0));
	if (self->offered) {
		TH_LOG("VFIO_UPDATE_VADDR offered");
		invalidate_mem(_metadata, self);
		ASSERT_EQ(0, map_vaddr(self->h.container, self->mem, IOVA_MEM,
				       MEM_SIZE, 0));
		return;
	}
	ASSERT_EQ(-EINVAL, unmap_flags(self->h.container, IOVA_MEM, MEM_SIZE,
				       VFIO_DMA_UNMAP_FLAG_VADDR, &done));
	ASSERT_EQ(-EINVAL, unmap_flags(self->h.container, 0, 0,
				       VFIO_DMA_UNMAP_FLAG_VADDR |
				       VFIO_DMA_UNMAP_FLAG_ALL, &done));
	/* Nothing changed: the device still reaches the memory ... */
	ASSERT_TRUE(dma_lands(_metadata, self, self->mem));
	/* ... and the mapping is there to unmap. */
	ASSERT_EQ((int)MEM_SIZE, vt_unmap_dma(self->h.container, IOVA_MEM,
					 MEM_SIZE));
}

/*
 * The handover: the old process's view goes away, the new one maps the
 * same memory elsewhere; device DMA reaches it throughout.
 */
/* SPEC: DMA-36 DMA-38 */
TEST_F(vaddr, device_dma_reaches_the_memory_across_the_update)
{
	unsigned char *view;

	needs_update_vaddr();
	ASSERT_TRUE(dma_lands(_metadata, self, self->mem));
	invalidate_mem(_metadata, self);

	view = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->memfd, 0);
	ASSERT_NE(MAP_FAILED, view);
	ASSERT_EQ(0, munmap(self->mem, MEM_SIZE));
	self->mem = view;

	/* The window: no vaddr, the pages still mapped and pinned. */
	ASSERT_TRUE(dma_lands(_metadata, self, view))
		TH_LOG("device write while the vaddr is invalid");
	ASSERT_EQ(1, vt_engine_read(&self->eng, view, IOVA_MEM, DMA_LEN))
		TH_LOG("device read while the vaddr is invalid");

	ASSERT_EQ(0, map_vaddr(self->h.container, view, IOVA_MEM, MEM_SIZE,
			       0));
	ASSERT_TRUE(dma_lands(_metadata, self, view))
		TH_LOG("device write after the update");
	ASSERT_EQ(1, vt_engine_read(&self->eng, view, IOVA_MEM, DMA_LEN));
	ASSERT_EQ((int)MEM_SIZE, vt_unmap_dma(self->h.container, IOVA_MEM,
					 MEM_SIZE));
}

/*
 * One mapping of a range already without vaddr: the whole call fails, and
 * the mappings it had marked before meeting it have their vaddr again.
 */
/* SPEC: DMA-37 */
TEST_F(vaddr, invalidating_twice_is_refused_and_undone)
{
	unsigned char *page;
	uint64_t done = 0;

	needs_update_vaddr();
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, vt_map_dma(self->h.container, page, IOVA_MEM2, PAGE, RW));
	ASSERT_EQ(0, unmap_flags(self->h.container, IOVA_MEM2, PAGE,
				 VFIO_DMA_UNMAP_FLAG_VADDR, &done));
	ASSERT_EQ(-EINVAL, unmap_flags(self->h.container, IOVA_MEM,
				       IOVA_MEM2 + PAGE - IOVA_MEM,
				       VFIO_DMA_UNMAP_FLAG_VADDR, &done));
	/* IOVA_MEM kept its vaddr: an update of it is refused (DMA-41). */
	ASSERT_EQ(-EINVAL, map_vaddr(self->h.container, self->mem, IOVA_MEM,
				     MEM_SIZE, 0));
	ASSERT_EQ(0, map_vaddr(self->h.container, page, IOVA_MEM2, PAGE, 0));
	ASSERT_EQ(PAGE, vt_unmap_dma(self->h.container, IOVA_MEM2, PAGE));
	munmap(page, PAGE);
}

/* SPEC: DMA-39 DMA-40 DMA-41 */
TEST_F(vaddr, update_must_name_one_invalid_mapping_exactly)
{
	int c = self->h.container;

	needs_update_vaddr();
	invalidate_mem(_metadata, self);
	ASSERT_EQ(-EINVAL, map_vaddr(c, self->mem, IOVA_MEM, MEM_SIZE,
				     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(-EINVAL, map_vaddr(c, self->mem, IOVA_MEM, MEM_SIZE,
				     VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(-ENOENT, map_vaddr(c, self->mem, IOVA_NONE, MEM_SIZE, 0));
	ASSERT_EQ(-EINVAL, map_vaddr(c, self->mem, IOVA_MEM, PAGE, 0));
	ASSERT_EQ(-EINVAL, map_vaddr(c, self->mem + PAGE, IOVA_MEM + PAGE,
				     PAGE, 0));
	/* The failures changed nothing: the exact update still works ... */
	ASSERT_EQ(0, map_vaddr(c, self->mem, IOVA_MEM, MEM_SIZE, 0));
	/* ... once. */
	ASSERT_EQ(-EINVAL, map_vaddr(c, self->mem, IOVA_MEM, MEM_SIZE, 0));
	ASSERT_TRUE(dma_lands(_metadata, self, self->mem));
}

/* A group joining would need its pages pinned through a vaddr. */
/* SPEC: DMA-42 */
TEST_F(vaddr, no_group_joins_while_a_vaddr_is_invalid)
{
	struct vt_pci_dev other;
	int group;

	needs_update_vaddr();
	if (vt_select_other_group(self->dev.group, VT_DEV_ANY, NULL, &other))
		SKIP(return, "no selected device outside group %d",
		     self->dev.group);
	group = vt_open_group(other.group);
	ASSERT_LE(0, group) TH_LOG("open group %d: %s", other.group,
				   strerror(-group));
	invalidate_mem(_metadata, self);
	errno = 0;
	EXPECT_EQ(-1, ioctl(group, VFIO_GROUP_SET_CONTAINER,
			    &self->h.container));
	EXPECT_EQ(EBUSY, errno) TH_LOG("SET_CONTAINER: %s", strerror(errno));
	ASSERT_EQ(0, map_vaddr(self->h.container, self->mem, IOVA_MEM,
			       MEM_SIZE, 0));
	/* With every vaddr valid again, it joins. */
	vt_ioctl_ok(group, VFIO_GROUP_SET_CONTAINER, &self->h.container);
	vt_ioctl_ok(group, VFIO_GROUP_UNSET_CONTAINER, NULL);
	close(group);
}

/* The way back when the new process never comes: a plain unmap. */
/* SPEC: DMA-43 */
TEST_F(vaddr, mapping_without_vaddr_unmaps_as_any_other)
{

	needs_update_vaddr();
	invalidate_mem(_metadata, self);
	ASSERT_EQ((int)MEM_SIZE, vt_unmap_dma(self->h.container, IOVA_MEM,
					 MEM_SIZE));
	ASSERT_FALSE(dma_lands(_metadata, self, self->mem))
		TH_LOG("device write after the unmap landed");
	ASSERT_EQ(-ENOENT, map_vaddr(self->h.container, self->mem, IOVA_MEM,
				     MEM_SIZE, 0));
}

TEST_HARNESS_MAIN
