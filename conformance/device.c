// SPDX-License-Identifier: GPL-2.0
/*
 * Device fd: info, regions and BAR access, on QEMU's edu device.
 */
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define EDU_BAR0_SIZE	(1024ULL * 1024)

FIXTURE(edu) {
	struct vt_pci_dev dev;
	struct vt_handles h;
};

FIXTURE_VARIANT(edu) {
	enum vt_edu_kind kind;
};

FIXTURE_VARIANT_ADD(edu, alone) {
	.kind = VT_EDU_ALONE,
};

FIXTURE_VARIANT_ADD(edu, shared) {
	.kind = VT_EDU_SHARED,
};

FIXTURE_SETUP(edu)
{
	int ret;

	if (vt_find_edu(variant->kind, 0, &self->dev))
		vt_skip_setup("no %s", vt_edu_kind_name(variant->kind));
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
}

FIXTURE_TEARDOWN(edu)
{
	vt_close_device(&self->h);
}

TEST_F(edu, info_reports_pci_device)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_INFO, &info);
	ASSERT_TRUE(!!(info.flags & VFIO_DEVICE_FLAGS_PCI));
	ASSERT_LE((__u32)VFIO_PCI_NUM_REGIONS, info.num_regions);
	ASSERT_LE((__u32)VFIO_PCI_NUM_IRQS, info.num_irqs);
}

TEST_F(edu, bar0_region_info)
{
	struct vfio_region_info info;

	ASSERT_EQ(0, vt_region_info(self->h.device, VFIO_PCI_BAR0_REGION_INDEX,
				    &info));
	ASSERT_EQ(EDU_BAR0_SIZE, info.size);
	ASSERT_EQ((__u32)(VFIO_REGION_INFO_FLAG_READ |
			  VFIO_REGION_INFO_FLAG_WRITE |
			  VFIO_REGION_INFO_FLAG_MMAP),
		  info.flags & (VFIO_REGION_INFO_FLAG_READ |
				VFIO_REGION_INFO_FLAG_WRITE |
				VFIO_REGION_INFO_FLAG_MMAP));
}

TEST_F(edu, bar0_mmap_reads_ident)
{
	size_t size;
	void *bar = vt_mmap_bar(self->h.device, VFIO_PCI_BAR0_REGION_INDEX,
				&size);

	ASSERT_NE(MAP_FAILED, bar) TH_LOG("mmap BAR0: %s", strerror(errno));
	EXPECT_EQ((uint32_t)EDU_IDENT_LOW_BYTE, edu_read32(bar, EDU_REG_IDENT) & 0xff);
	munmap(bar, size);
}

TEST_F(edu, bar0_pread_reads_ident)
{
	struct vfio_region_info info;
	uint32_t ident = 0;

	ASSERT_EQ(0, vt_region_info(self->h.device, VFIO_PCI_BAR0_REGION_INDEX,
				    &info));
	ASSERT_EQ((ssize_t)sizeof(ident), pread(self->h.device, &ident, sizeof(ident),
				       info.offset + EDU_REG_IDENT));
	ASSERT_EQ((uint32_t)EDU_IDENT_LOW_BYTE, ident & 0xff);
}

TEST_F(edu, bar0_mmap_write_reaches_device)
{
	size_t size;
	void *bar = vt_mmap_bar(self->h.device, VFIO_PCI_BAR0_REGION_INDEX,
				&size);

	ASSERT_NE(MAP_FAILED, bar);
	edu_write32(bar, EDU_REG_LIVENESS, 0x12345678);
	EXPECT_EQ(~0x12345678u, edu_read32(bar, EDU_REG_LIVENESS));
	munmap(bar, size);
}

TEST_HARNESS_MAIN
