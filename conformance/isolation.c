// SPDX-License-Identifier: GPL-2.0
/*
 * Several groups: one container shared by two groups, and two containers
 * that must not see each other's memory. Group A holds the device of the
 * variant's DMA engine alone (the edu on its root port, the igb, or an
 * NVMe on its root port); group B is a device of the variant's second
 * engine behind the bridge (an edu, or an NVMe). Both devices write
 * through their engine (engine.h). Peer-to-peer: A's device writes into
 * B's register BAR, mapped in A's container through its mmap, and B's
 * echo register shows it (needs an engine that writes 4 bytes and one
 * with an echo register).
 */
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "engine.h"

#define PAGE		4096
#define LEN		(PAGE / 2)	/* see dma.c: QEMU 7.2's edu limit */
#define IOVA_DST	0x200000ULL
#define SENTINEL	0x5a
#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define IOVA_BAR	0x400000ULL	/* where B's register BAR is mapped */

struct side {
	const struct vt_engine_ops *ops;
	struct vt_pci_dev dev;
	struct vt_engine eng;
	uint64_t eng_iova;	/* the engine's own window */
	int group;
	int device;
	unsigned char *dst;	/* SENTINEL until the device writes */
	unsigned char expect[PAGE];	/* what its write lands */
	ssize_t n;		/* bytes of its last write */
};

FIXTURE(isolation) {
	struct side a, b;
	int container[2];
	char b_driver[64];	/* B's driver while B is unbound */
};

FIXTURE_VARIANT(isolation) {
	const char *engine_a;	/* alone in its group */
	const char *engine_b;	/* sharing its group */
};

FIXTURE_VARIANT_ADD(isolation, edu) {
	.engine_a = "edu",
	.engine_b = "edu",
};

FIXTURE_VARIANT_ADD(isolation, igb) {
	.engine_a = "igb",
	.engine_b = "edu",
};

FIXTURE_VARIANT_ADD(isolation, nvme) {
	.engine_a = "nvme",
	.engine_b = "nvme",
};

static unsigned char *page(unsigned char fill)
{
	unsigned char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		memset(p, fill, PAGE);
	return p;
}

FIXTURE_SETUP(isolation)
{
	self->a.group = self->b.group = -1;
	self->a.device = self->b.device = -1;
	self->container[0] = self->container[1] = -1;
	self->a.ops = vt_engine_by_name(variant->engine_a);
	self->b.ops = vt_engine_by_name(variant->engine_b);
	ASSERT_NE(NULL, self->a.ops);
	ASSERT_NE(NULL, self->b.ops);
	if (vt_engine_select(self->a.ops, VT_DEV_ALONE, 0, &self->a.dev))
		vt_skip_setup("no %s device alone in its group for the %s engine",
			      self->a.ops->name, self->a.ops->name);
	if (vt_engine_select(self->b.ops, VT_DEV_SHARED, 0, &self->b.dev))
		vt_skip_setup("no %s device sharing its group",
			      self->b.ops->name);
	self->a.eng_iova = VT_ENGINE_IOVA;
	self->b.eng_iova = VT_ENGINE_IOVA + VT_ENGINE_IOVA_SIZE;
	self->a.dst = page(SENTINEL);
	self->b.dst = page(SENTINEL);
	ASSERT_NE(MAP_FAILED, self->a.dst);
	ASSERT_NE(MAP_FAILED, self->b.dst);
	self->container[0] = vt_open_container();
	self->container[1] = vt_open_container();
	ASSERT_LE(0, self->container[0]);
	ASSERT_LE(0, self->container[1]);
	self->a.group = vt_open_group(self->a.dev.group);
	self->b.group = vt_open_group(self->b.dev.group);
	ASSERT_LE(0, self->a.group);
	ASSERT_LE(0, self->b.group);
}

static void side_close(struct side *s)
{
	vt_engine_close(&s->eng);
	if (s->device >= 0)
		close(s->device);
	s->device = -1;
}

FIXTURE_TEARDOWN(isolation)
{
	side_close(&self->a);
	side_close(&self->b);
	if (self->b_driver[0])
		EXPECT_EQ(0, vt_rebind(self->b.dev.bdf, self->b_driver));
	close(self->a.group);
	close(self->b.group);
	close(self->container[0]);
	close(self->container[1]);
}

/* Device fd and engine of a side whose group has @container. */
static int side_open(struct side *s, int container)
{
	s->device = ioctl(s->group, VFIO_GROUP_GET_DEVICE_FD, s->dev.bdf);
	if (s->device < 0)
		return -errno;
	return vt_engine_open(&s->eng, s->ops, s->device, container,
			      s->eng_iova);
}

/* The side's device writes at IOVA_DST; 0 once it processed the write. */
static int side_write(struct side *s)
{
	s->n = vt_engine_write(&s->eng, IOVA_DST, LEN, s->expect);
	return s->n < 0 ? (int)s->n : 0;
}

/* Whether @p holds what side @s last wrote. */
static bool landed(const struct side *s, const unsigned char *p)
{
	return s->n > 0 && !memcmp(p, s->expect, s->n);
}

static bool untouched(const unsigned char *p)
{
	int i;

	for (i = 0; i < PAGE; i++)
		if (p[i] != SENTINEL)
			return false;
	return true;
}

/* SPEC: CONT-12 GROUP-13 MODEL-6 CONT-13 GROUP-14 */
TEST_F(isolation, joining_group_sees_mappings_and_leaving_one_disturbs_none)
{
	int c = self->container[0];

	vt_ioctl_ok(self->a.group, VFIO_GROUP_SET_CONTAINER, &c);
	vt_ioctl_ok(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	ASSERT_EQ(0, vt_map_dma(c, self->a.dst, IOVA_DST, PAGE, RW));
	/* B joins a container that already has its model and mappings. */
	vt_ioctl_ok(self->b.group, VFIO_GROUP_SET_CONTAINER, &c);
	ASSERT_EQ(0, side_open(&self->a, c));
	ASSERT_EQ(0, side_open(&self->b, c));

	/* B's device writes into the mapping A's group made. */
	ASSERT_EQ(0, side_write(&self->b));
	ASSERT_TRUE(landed(&self->b, self->a.dst));

	/* B leaves; A and the mappings keep working. */
	side_close(&self->b);
	vt_ioctl_ok(self->b.group, VFIO_GROUP_UNSET_CONTAINER, NULL);
	memset(self->a.dst, SENTINEL, PAGE);
	ASSERT_EQ(0, side_write(&self->a));
	ASSERT_TRUE(landed(&self->a, self->a.dst));
}

/* SPEC: SEC-1 */
TEST_F(isolation, device_reaches_only_its_own_container)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct side *s = i ? &self->b : &self->a;
		int c = self->container[i];

		vt_ioctl_ok(s->group, VFIO_GROUP_SET_CONTAINER, &c);
		vt_ioctl_ok(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
		/* The same IOVA in both containers, different memory. */
		ASSERT_EQ(0, vt_map_dma(c, s->dst, IOVA_DST, PAGE, RW));
		ASSERT_EQ(0, side_open(s, c));
	}
	ASSERT_EQ(0, side_write(&self->b));
	ASSERT_TRUE(landed(&self->b, self->b.dst));
	ASSERT_TRUE(untouched(self->a.dst));

	memset(self->b.dst, SENTINEL, PAGE);
	ASSERT_EQ(0, side_write(&self->a));
	ASSERT_TRUE(landed(&self->a, self->a.dst));
	ASSERT_TRUE(untouched(self->b.dst));
}

/*
 * SEC-1 as written: memory mapped only in container B, at IOVAs container A
 * does not map, is out of reach of A's device, to read and to write.
 */
/* SPEC: SEC-1 */
TEST_F(isolation, memory_mapped_only_in_other_container_is_unreachable)
{
	const uint64_t only_b_src = 0x300000ULL, only_b_dst = 0x400000ULL;
	int ca = self->container[0], cb = self->container[1];
	unsigned char *b_src = page(0);

	ASSERT_NE(MAP_FAILED, b_src);
	vt_ioctl_ok(self->a.group, VFIO_GROUP_SET_CONTAINER, &ca);
	vt_ioctl_ok(ca, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	ASSERT_EQ(0, vt_map_dma(ca, self->a.dst, IOVA_DST, PAGE, RW));
	vt_ioctl_ok(self->b.group, VFIO_GROUP_SET_CONTAINER, &cb);
	vt_ioctl_ok(cb, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	ASSERT_EQ(0, vt_map_dma(cb, b_src, only_b_src, PAGE, RW));
	ASSERT_EQ(0, vt_map_dma(cb, self->b.dst, only_b_dst, PAGE, RW));
	ASSERT_EQ(0, side_open(&self->a, ca));
	ASSERT_EQ(0, side_open(&self->b, cb));

	/* A's path works: what follows can only miss through isolation. */
	ASSERT_EQ(0, side_write(&self->a));
	ASSERT_TRUE(landed(&self->a, self->a.dst));

	/* A reads B's page: its device does not get the bytes. */
	EXPECT_EQ(0, vt_engine_read(&self->a.eng, b_src, only_b_src, LEN));
	/* A writes to B's page: it stays untouched. */
	EXPECT_LT(0, vt_engine_write(&self->a.eng, only_b_dst, LEN,
				     self->a.expect));
	EXPECT_TRUE(untouched(self->b.dst));
	munmap(b_src, PAGE);
}

/* ----- peer-to-peer: A's device writes into B's register BAR ----- */

/* B's echo register, read through the BAR mmap @bar. */
static uint32_t echo_read(const struct side *b, volatile void *bar)
{
	return *(volatile uint32_t *)((volatile char *)bar + b->ops->echo_reg);
}

static void echo_write(const struct side *b, volatile void *bar, uint32_t v)
{
	*(volatile uint32_t *)((volatile char *)bar + b->ops->echo_reg) = v;
}

/*
 * Both groups in container c, A's device and engine open, B's device open
 * and its register BAR mmapped at *bar (*size bytes), B's echo register
 * holding echo(0) as the CPU wrote it. Skips unless A writes 4 bytes and
 * B has an echo register.
 */
#define p2p_setup(c, bar, size) do { \
	if (!self->b.ops->echo) \
		SKIP(return, "the %s engine has no echo register", \
		     self->b.ops->name); \
	if (self->a.ops->min_write > sizeof(uint32_t)) \
		SKIP(return, "the %s engine writes at least %zu bytes", \
		     self->a.ops->name, self->a.ops->min_write); \
	vt_ioctl_ok(self->a.group, VFIO_GROUP_SET_CONTAINER, &(c)); \
	vt_ioctl_ok(self->b.group, VFIO_GROUP_SET_CONTAINER, &(c)); \
	vt_ioctl_ok((c), VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU); \
	ASSERT_EQ(0, side_open(&self->a, (c))); \
	p2p_open_b(_metadata, self, &(bar), &(size)); \
} while (0)

/* Open B's device and mmap its register BAR; the CPU writes echo 0. */
static void p2p_open_b(struct __test_metadata *_metadata,
		       FIXTURE_DATA(isolation) *self, volatile void **bar,
		       size_t *size)
{
	void *p;

	self->b.device = ioctl(self->b.group, VFIO_GROUP_GET_DEVICE_FD,
			       self->b.dev.bdf);
	ASSERT_LE(0, self->b.device) TH_LOG("GET_DEVICE_FD: %s",
					    strerror(errno));
	p = vt_mmap_bar(self->b.device, self->b.ops->bar, size);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap of BAR %u: %s",
					self->b.ops->bar, strerror(errno));
	*bar = p;
	echo_write(&self->b, *bar, 0);
	ASSERT_EQ(self->b.ops->echo(0), echo_read(&self->b, *bar))
		TH_LOG("B's echo register does not answer through its BAR");
}

/* A's device writes 4 bytes at IOVA_BAR + B's echo register: their value. */
static uint32_t p2p_write(struct __test_metadata *_metadata,
			  FIXTURE_DATA(isolation) *self)
{
	uint32_t v;

	ASSERT_EQ((ssize_t)sizeof(v),
		  vt_engine_write(&self->a.eng,
				  IOVA_BAR + self->b.ops->echo_reg, sizeof(v),
				  self->a.expect));
	memcpy(&v, self->a.expect, sizeof(v));
	/* Else the test could not tell a write that landed from none. */
	ASSERT_NE(self->b.ops->echo(0), self->b.ops->echo(v));
	return v;
}

static uint64_t unmap_size(int container, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return (uint64_t)-1;
	return unmap.size;
}

/*
 * MAP_DMA of B's BAR mmap in the container: A's device writes at that IOVA
 * and the write lands in B's register; nothing is pinned or charged for it.
 */
/* SPEC: DMA-30 DMA-31 */
TEST_F(isolation, device_writes_into_bar_of_other_group_through_its_mmap)
{
	int c = self->container[0];
	struct vt_leaks before;
	volatile void *bar = NULL;
	size_t size = 0;
	uint32_t v;

	p2p_setup(c, bar, size);
	vt_leaks_take(&before);
	ASSERT_EQ(0, vt_map_dma(c, (void *)bar, IOVA_BAR, size, RW));
	vt_assert_no_leaks(&before, "MAP_DMA of a BAR mmap");

	v = p2p_write(_metadata, self);
	EXPECT_EQ(self->b.ops->echo(v), echo_read(&self->b, bar))
		TH_LOG("A's DMA of %#x did not land in B's register", v);
	EXPECT_EQ(size, unmap_size(c, IOVA_BAR, size));
	munmap((void *)bar, size);
}

/*
 * B's BAR mapped in the container, B removed (unbound) and bound again:
 * the mapping went with the removal, so A's write at its IOVA does not
 * reach B's BAR any more, and UNMAP_DMA finds nothing there.
 */
/* SPEC: DMA-32 */
TEST_F(isolation, bar_mapping_goes_with_removal_of_its_device)
{
	int c = self->container[0];
	volatile void *bar = NULL;
	size_t size = 0;
	uint32_t v;

	p2p_setup(c, bar, size);
	ASSERT_EQ(0, vt_map_dma(c, (void *)bar, IOVA_BAR, size, RW));
	/* The mapping works: what follows can only miss through removal. */
	v = p2p_write(_metadata, self);
	ASSERT_EQ(self->b.ops->echo(v), echo_read(&self->b, bar));

	munmap((void *)bar, size);
	side_close(&self->b);
	ASSERT_EQ(0, vt_driver_of(self->b.dev.bdf, self->b_driver,
				  sizeof(self->b_driver)));
	ASSERT_EQ(0, vt_rebind(self->b.dev.bdf, NULL));
	ASSERT_EQ(0, vt_rebind(self->b.dev.bdf, self->b_driver));
	self->b_driver[0] = '\0';

	p2p_open_b(_metadata, self, &bar, &size);
	v = p2p_write(_metadata, self);
	EXPECT_EQ(self->b.ops->echo(0), echo_read(&self->b, bar))
		TH_LOG("A's DMA of %#x landed in the BAR of a device removed since: its mapping outlived the removal",
		       v);
	EXPECT_EQ(0ULL, unmap_size(c, IOVA_BAR, size));
	munmap((void *)bar, size);
}

TEST_HARNESS_MAIN
