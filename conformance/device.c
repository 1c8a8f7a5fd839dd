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

/* SPEC: DEV-1 */
TEST_F(edu, info_reports_pci_device)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_INFO, &info);
	ASSERT_TRUE(!!(info.flags & VFIO_DEVICE_FLAGS_PCI));
	ASSERT_LE((__u32)VFIO_PCI_NUM_REGIONS, info.num_regions);
	ASSERT_LE((__u32)VFIO_PCI_NUM_IRQS, info.num_irqs);
}

/* SPEC: DEV-5 */
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

/* SPEC: DEV-7 */
TEST_F(edu, bar0_mmap_reads_ident)
{
	size_t size;
	void *bar = vt_mmap_bar(self->h.device, VFIO_PCI_BAR0_REGION_INDEX,
				&size);

	ASSERT_NE(MAP_FAILED, bar) TH_LOG("mmap BAR0: %s", strerror(errno));
	EXPECT_EQ((uint32_t)EDU_IDENT_LOW_BYTE, edu_read32(bar, EDU_REG_IDENT) & 0xff);
	munmap(bar, size);
}

/* SPEC: DEV-6 */
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

/* SPEC: DEV-7 */
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

/* SPEC: DEV-4 */
TEST_F(edu, region_info_index_out_of_range_is_refused)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = 99 };

	vt_ioctl_err(EINVAL, self->h.device, VFIO_DEVICE_GET_REGION_INFO, &info);
}

/* SPEC: DEV-4 */
TEST_F(edu, irq_info_index_out_of_range_is_refused)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = 99 };

	vt_ioctl_err(EINVAL, self->h.device, VFIO_DEVICE_GET_IRQ_INFO, &info);
}

/* SPEC: DEV-3 COMPAT-1 */
TEST_F(edu, info_short_argsz_is_refused)
{
	struct vfio_device_info info = { .argsz = 8 };

	vt_ioctl_err(EINVAL, self->h.device, VFIO_DEVICE_GET_INFO, &info);
}

/* SPEC: COMPAT-2 */
TEST_F(edu, info_accepts_larger_argsz)
{
	struct {
		struct vfio_device_info info;
		char newer[64];
	} big = { .info.argsz = sizeof(big) };

	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_INFO, &big);
	ASSERT_TRUE(!!(big.info.flags & VFIO_DEVICE_FLAGS_PCI));
}

/* SPEC: DEV-8 */
TEST_F(edu, mmap_of_config_region_is_refused)
{
	struct vfio_region_info info;
	void *p;

	ASSERT_EQ(0, vt_region_info(self->h.device,
				    VFIO_PCI_CONFIG_REGION_INDEX, &info));
	ASSERT_FALSE(!!(info.flags & VFIO_REGION_INFO_FLAG_MMAP));
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->h.device, info.offset);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
}

/* SPEC: CFG-5 DEV-10 */
TEST_F(edu, config_reads_vendor_and_device_id)
{
	uint16_t vendor, device;

	ASSERT_EQ(0, vt_config_read16(self->h.device, 0, &vendor));
	ASSERT_EQ(0, vt_config_read16(self->h.device, 2, &device));
	ASSERT_EQ(EDU_VENDOR, vendor);
	ASSERT_EQ(EDU_DEVICE, device);
}

/* SPEC: MODEL-7 */
TEST_F(edu, device_works_after_group_fd_closed)
{
	size_t size;
	void *bar;

	close(self->h.group);
	self->h.group = -1;
	bar = vt_mmap_bar(self->h.device, VFIO_PCI_BAR0_REGION_INDEX, &size);
	ASSERT_NE(MAP_FAILED, bar);
	EXPECT_EQ((uint32_t)EDU_IDENT_LOW_BYTE, edu_read32(bar, EDU_REG_IDENT) & 0xff);
	munmap(bar, size);
}

TEST_HARNESS_MAIN
