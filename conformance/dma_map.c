// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mapping rules of the type1 model that need no device DMA: IOMMU
 * information, alignment, overlap, unmap rules and flags. Every test runs on
 * version 2 (VFIO_TYPE1v2_IOMMU) and version 1 (VFIO_TYPE1_IOMMU), which
 * differ only in an unmap that would split a mapping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define PAGE		4096ULL
#define IOVA		0x1000000ULL
/*
 * An MSI doorbell address, reserved in every IOMMU domain: on x86 the
 * interrupt address range 0xfee00000-0xfeefffff; on arm64 the IOMMU
 * driver's software MSI window 0x8000000-0x80fffff (MSI_IOVA_BASE of
 * arm-smmu-v3 and arm-smmu), where the ITS doorbell is mapped.
 */
#ifdef __aarch64__
#define MSI_WINDOW	0x8000000ULL
#else
#define MSI_WINDOW	0xfee00000ULL
#endif

FIXTURE(map) {
	struct vt_pci_dev dev;
	int container;
	int group;
	void *buf;		/* four pages of anonymous memory */
};

FIXTURE_VARIANT(map) {
	unsigned long type;	/* the model VFIO_SET_IOMMU chooses */
	bool splits_refused;	/* version 2 (DMA-17), not 1 (DMA-28, DMA-29) */
};

FIXTURE_VARIANT_ADD(map, type1v2) {
	.type = VFIO_TYPE1v2_IOMMU,
	.splits_refused = true,
};

FIXTURE_VARIANT_ADD(map, type1) {
	.type = VFIO_TYPE1_IOMMU,
	.splits_refused = false,
};

FIXTURE_SETUP(map)
{
	if (vt_select(VT_DEV_ANY, 0, NULL, &self->dev))
		vt_skip_setup("no selected device");
	self->container = vt_open_container();
	ASSERT_LE(0, self->container);
	self->group = vt_open_group(self->dev.group);
	ASSERT_LE(0, self->group);
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, variant->type);
	self->buf = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(map)
{
	close(self->group);
	close(self->container);
	munmap(self->buf, 4 * PAGE);
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* SPEC: DMA-1 */
TEST_F(map, info_reports_4k_page_size)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

	vt_ioctl_ok(self->container, VFIO_IOMMU_GET_INFO, &info);
	ASSERT_TRUE(!!(info.flags & VFIO_IOMMU_INFO_PGSIZES));
	ASSERT_TRUE(!!(info.iova_pgsizes & PAGE));
}

/* SPEC: DMA-2 DMA-3 COMPAT-11 COMPAT-5 */
TEST_F(map, iova_ranges_exclude_msi_window)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	struct vfio_iommu_type1_info *info;
	struct vfio_info_cap_header *cap;
	struct vfio_iommu_type1_info_cap_iova_range *ranges = NULL;
	__u32 off, i;

	vt_ioctl_ok(self->container, VFIO_IOMMU_GET_INFO, &probe);
	ASSERT_TRUE(!!(probe.flags & VFIO_IOMMU_INFO_CAPS));
	ASSERT_LT((__u32)sizeof(probe), probe.argsz);
	info = calloc(1, probe.argsz);
	ASSERT_NE(NULL, info);
	info->argsz = probe.argsz;
	vt_ioctl_ok(self->container, VFIO_IOMMU_GET_INFO, info);
	for (off = info->cap_offset; off; off = cap->next) {
		ASSERT_LT(off, info->argsz);
		cap = (void *)((char *)info + off);
		if (cap->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			ranges = (void *)cap;
	}
	ASSERT_NE(NULL, ranges);
	ASSERT_LT(0u, ranges->nr_iovas);
	for (i = 0; i < ranges->nr_iovas; i++)
		EXPECT_FALSE(ranges->iova_ranges[i].start <= MSI_WINDOW &&
			     MSI_WINDOW <= ranges->iova_ranges[i].end);
	free(info);
}

/*
 * GET_INFO's full answer (with the IOVA-range capability) is larger than
 * the bare structure: given only that, nothing past argsz is written.
 */
/* SPEC: COMPAT-10 */
TEST_F(map, info_writes_nothing_beyond_argsz)
{
	unsigned char buf[sizeof(struct vfio_iommu_type1_info) + 64];
	struct vfio_iommu_type1_info *info = (void *)buf;
	size_t i;

	memset(buf, 0xa5, sizeof(buf));
	info->argsz = sizeof(*info);
	vt_ioctl_ok(self->container, VFIO_IOMMU_GET_INFO, info);
	ASSERT_LT((__u32)sizeof(*info), info->argsz)
		TH_LOG("the answer fits: nothing to write beyond argsz");
	for (i = sizeof(*info); i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]) TH_LOG("byte %zu past argsz written", i - sizeof(*info));
}

/* SPEC: DMA-9 */
TEST_F(map, map_in_msi_window_is_refused)
{
	ASSERT_EQ(-EINVAL, vt_map_dma(self->container, self->buf, MSI_WINDOW,
				      PAGE, RW));
}

/* SPEC: DMA-5 */
TEST_F(map, map_zero_size_is_refused)
{
	ASSERT_EQ(-EINVAL, vt_map_dma(self->container, self->buf, IOVA, 0, RW));
}

/* SPEC: DMA-5 */
TEST_F(map, map_unaligned_iova_is_refused)
{
	ASSERT_EQ(-EINVAL, vt_map_dma(self->container, self->buf,
				      IOVA + PAGE / 2, PAGE, RW));
}

/* SPEC: DMA-5 */
TEST_F(map, map_unaligned_size_is_refused)
{
	ASSERT_EQ(-EINVAL, vt_map_dma(self->container, self->buf, IOVA,
				      PAGE / 2, RW));
}

/* SPEC: DMA-6 COMPAT-3 */
TEST_F(map, map_without_read_or_write_is_refused)
{
	ASSERT_EQ(-EINVAL, vt_map_dma(self->container, self->buf, IOVA, PAGE, 0));
}

/* SPEC: DMA-6 COMPAT-3 */
TEST_F(map, map_unknown_flag_is_refused)
{
	ASSERT_EQ(-EINVAL, vt_map_dma(self->container, self->buf, IOVA, PAGE,
				      RW | (1u << 7)));
}

/* SPEC: DMA-25 */
TEST_F(map, map_iova_overflow_is_refused)
{
	int ret = vt_map_dma(self->container, self->buf, ~0ULL - PAGE + 1,
			     2 * PAGE, RW);

	/* The errno set of DMA-25: EINVAL (preferred) or EOVERFLOW. */
	ASSERT_TRUE(ret == -EINVAL || ret == -EOVERFLOW)
		TH_LOG("MAP_DMA with iova + size past 2^64: %d (%s)", ret,
		       strerror(-ret));
}

/* SPEC: DMA-25 */
TEST_F(map, map_vaddr_overflow_is_refused)
{
	int ret = vt_map_dma(self->container, (void *)(uintptr_t)(~0ULL - PAGE + 1),
			     IOVA, 2 * PAGE, RW);

	/* The errno set of DMA-25: EINVAL (preferred) or EOVERFLOW. */
	ASSERT_TRUE(ret == -EINVAL || ret == -EOVERFLOW)
		TH_LOG("MAP_DMA with vaddr + size past 2^64: %d (%s)", ret,
		       strerror(-ret));
}

/* SPEC: DMA-8 DMA-15 */
TEST_F(map, map_overlap_is_refused_and_keeps_first)
{
	ASSERT_EQ(0, vt_map_dma(self->container, self->buf, IOVA, 2 * PAGE, RW));
	ASSERT_EQ(-EEXIST, vt_map_dma(self->container, self->buf, IOVA + PAGE,
				      2 * PAGE, RW));
	ASSERT_EQ((int)(2 * PAGE), vt_unmap_dma(self->container, IOVA, 2 * PAGE));
}

/* SPEC: DMA-12 */
TEST_F(map, map_of_unmapped_user_memory_faults)
{
	void *hole = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, PAGE));
	ASSERT_EQ(-EFAULT, vt_map_dma(self->container, hole, IOVA, PAGE, RW));
	ASSERT_EQ(0, vt_unmap_dma(self->container, IOVA, PAGE));
}

/*
 * Three pages that can be pinned and then a hole: an implementation that
 * pins page by page or batch by batch has pinned and charged the three when
 * it meets the hole, and must give them back.
 */
/* SPEC: DMA-12 DMA-15 */
TEST_F(map, map_running_into_a_hole_leaves_nothing_pinned)
{
	struct vt_leaks before;
	char *p = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	memset(p, 1, 3 * PAGE);
	ASSERT_EQ(0, munmap(p + 3 * PAGE, PAGE));
	vt_leaks_take(&before);
	ASSERT_EQ(-EFAULT, vt_map_dma(self->container, p, IOVA, 4 * PAGE, RW));
	vt_assert_no_leaks(&before, "MAP_DMA of three pages and a hole");
	ASSERT_EQ(0, vt_unmap_dma(self->container, IOVA, 4 * PAGE));
	munmap(p, 3 * PAGE);
	munmap(p + 4 * PAGE, PAGE);
}

/* SPEC: DMA-16 */
TEST_F(map, unmap_reports_bytes_unmapped)
{
	ASSERT_EQ(0, vt_map_dma(self->container, self->buf, IOVA, PAGE, RW));
	ASSERT_EQ(0, vt_map_dma(self->container, (char *)self->buf + PAGE,
				IOVA + PAGE, PAGE, RW));
	ASSERT_EQ((int)(2 * PAGE), vt_unmap_dma(self->container, IOVA,
						4 * PAGE));
}

/* SPEC: DMA-17 DMA-28 */
TEST_F(map, unmap_starting_inside_a_mapping_unmaps_nothing)
{
	ASSERT_EQ(0, vt_map_dma(self->container, self->buf, IOVA, 2 * PAGE, RW));
	ASSERT_EQ(0, vt_map_dma(self->container, (char *)self->buf + 2 * PAGE,
				IOVA + 2 * PAGE, PAGE, RW));
	ASSERT_EQ(variant->splits_refused ? -EINVAL : 0,
		  vt_unmap_dma(self->container, IOVA + PAGE, 2 * PAGE));
	/* Both mappings are still there, whole. */
	ASSERT_EQ(-EEXIST, vt_map_dma(self->container, self->buf,
				      IOVA + PAGE, PAGE, RW));
	ASSERT_EQ(-EEXIST, vt_map_dma(self->container, self->buf,
				      IOVA + 2 * PAGE, PAGE, RW));
	ASSERT_EQ((int)(3 * PAGE), vt_unmap_dma(self->container, IOVA,
						3 * PAGE));
}

/* SPEC: DMA-16 DMA-17 DMA-29 */
TEST_F(map, unmap_ending_inside_a_mapping_takes_all_or_nothing)
{
	ASSERT_EQ(0, vt_map_dma(self->container, self->buf, IOVA, 2 * PAGE, RW));
	if (variant->splits_refused) {
		ASSERT_EQ(-EINVAL, vt_unmap_dma(self->container, IOVA, PAGE));
		ASSERT_EQ((int)(2 * PAGE), vt_unmap_dma(self->container, IOVA,
							2 * PAGE));
		return;
	}
	/* Version 1: the whole mapping goes, and its whole size is reported. */
	ASSERT_EQ((int)(2 * PAGE), vt_unmap_dma(self->container, IOVA, PAGE));
	ASSERT_EQ(0, vt_map_dma(self->container, self->buf, IOVA + PAGE, PAGE,
				RW));
	ASSERT_EQ((int)PAGE, vt_unmap_dma(self->container, IOVA, 2 * PAGE));
}

/* SPEC: DMA-18 */
TEST_F(map, unmap_of_nothing_succeeds_with_size_zero)
{
	ASSERT_EQ(0, vt_unmap_dma(self->container, IOVA, PAGE));
}

/* SPEC: DMA-26 COMPAT-7 */
TEST_F(map, unmap_all_removes_every_mapping)
{
	struct vfio_iommu_type1_dma_unmap all = {
		.argsz = sizeof(all),
		.flags = VFIO_DMA_UNMAP_FLAG_ALL,
	};

	/* Discover the extension before using it. */
	ASSERT_LT(0, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_UNMAP_ALL));

	ASSERT_EQ(0, vt_map_dma(self->container, self->buf, IOVA, PAGE, RW));
	ASSERT_EQ(0, vt_map_dma(self->container, (char *)self->buf + PAGE,
				IOVA + 16 * PAGE, PAGE, RW));
	vt_ioctl_ok(self->container, VFIO_IOMMU_UNMAP_DMA, &all);
	ASSERT_EQ(2 * PAGE, all.size);
	ASSERT_EQ(0, vt_unmap_dma(self->container, 0, 1ULL << 40));
}

/* SPEC: DMA-27 */
TEST_F(map, unmap_all_with_a_range_is_refused)
{
	struct vfio_iommu_type1_dma_unmap all = {
		.argsz = sizeof(all),
		.flags = VFIO_DMA_UNMAP_FLAG_ALL,
		.iova = IOVA,
		.size = PAGE,
	};

	vt_ioctl_err(EINVAL, self->container, VFIO_IOMMU_UNMAP_DMA, &all);
}

/* SPEC: DMA-20 */
TEST_F(map, unmap_unaligned_iova_is_refused)
{
	ASSERT_EQ(0, vt_map_dma(self->container, self->buf, IOVA, 2 * PAGE, RW));
	ASSERT_EQ(-EINVAL, vt_unmap_dma(self->container, IOVA + PAGE / 2, PAGE));
	ASSERT_EQ((int)(2 * PAGE), vt_unmap_dma(self->container, IOVA, 2 * PAGE));
}

/* SPEC: DMA-20 */
TEST_F(map, unmap_unaligned_size_is_refused)
{
	ASSERT_EQ(0, vt_map_dma(self->container, self->buf, IOVA, 2 * PAGE, RW));
	ASSERT_EQ(-EINVAL, vt_unmap_dma(self->container, IOVA, PAGE + PAGE / 2));
	ASSERT_EQ((int)(2 * PAGE), vt_unmap_dma(self->container, IOVA, 2 * PAGE));
}

/* SPEC: DMA-20 */
TEST_F(map, unmap_unknown_flag_is_refused)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = 1u << 7,
		.iova = IOVA,
		.size = PAGE,
	};

	ASSERT_EQ(0, vt_map_dma(self->container, self->buf, IOVA, PAGE, RW));
	vt_ioctl_err(EINVAL, self->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	ASSERT_EQ((int)PAGE, vt_unmap_dma(self->container, IOVA, PAGE));
}

/* SPEC: COMPAT-9 */
TEST_F(map, unmap_short_argsz_is_refused)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = 8,
		.iova = IOVA,
		.size = PAGE,
	};

	vt_ioctl_err(EINVAL, self->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
}

/* SPEC: COMPAT-6 */
TEST_F(map, map_bad_argument_pointer_faults)
{
	vt_ioctl_err(EFAULT, self->container, VFIO_IOMMU_MAP_DMA, (void *)8);
}

/* SPEC: DMA-22 */
TEST_F(map, page_mapped_twice_is_charged_once)
{
	long before = vt_locked_kib();

	ASSERT_LE(0, before);
	ASSERT_EQ(0, vt_map_dma(self->container, self->buf, IOVA, PAGE, RW));
	ASSERT_EQ(before + 4, vt_locked_kib());
	ASSERT_EQ(0, vt_map_dma(self->container, self->buf, IOVA + 16 * PAGE,
				PAGE, RW));
	EXPECT_EQ(before + 4, vt_locked_kib());
	ASSERT_EQ((int)(2 * PAGE), vt_unmap_dma(self->container, IOVA,
						17 * PAGE));
	EXPECT_EQ(before, vt_locked_kib());
}

TEST_HARNESS_MAIN
