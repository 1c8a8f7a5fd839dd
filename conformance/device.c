// SPDX-License-Identifier: GPL-2.0
/*
 * Device fd: info, regions and BAR access, on QEMU's edu device.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
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

/* SPEC: DEV-3 COMPAT-9 */
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

/* SPEC: DEV-9 */
TEST_F(edu, pread_outside_every_region_is_refused)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info region;
	__u64 end = 0;
	__u32 i;
	char c;

	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_INFO, &info);
	for (i = 0; i < info.num_regions; i++) {
		/* An index may have no region (VGA on a non-VGA device). */
		if (vt_region_info(self->h.device, i, &region))
			continue;
		if (region.offset + region.size > end)
			end = region.offset + region.size;
	}
	end = (end + 0xfffff) & ~0xfffffULL;
	ASSERT_EQ(-1, pread(self->h.device, &c, 1, end));
	ASSERT_EQ(EINVAL, errno);
}

/* SPEC: DEV-2 DEV-13 DEV-14 DEV-12 */
TEST_F(edu, reset_works_exactly_when_flagged)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	size_t size;
	void *bar;

	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_INFO, &info);
	bar = vt_mmap_bar(self->h.device, VFIO_PCI_BAR0_REGION_INDEX, &size);
	ASSERT_NE(MAP_FAILED, bar);
	if (!(info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		vt_ioctl_err(EINVAL, self->h.device, VFIO_DEVICE_RESET, NULL);
	} else {
		vt_ioctl_ok(self->h.device, VFIO_DEVICE_RESET, NULL);
		/* The same mapping reaches the device again. */
		EXPECT_EQ((uint32_t)EDU_IDENT_LOW_BYTE,
			  edu_read32(bar, EDU_REG_IDENT) & 0xff);
	}
	munmap(bar, size);
}

static int config_rw32(int device, unsigned int off, uint32_t *val, bool write)
{
	struct vfio_region_info info;
	ssize_t n;

	if (vt_region_info(device, VFIO_PCI_CONFIG_REGION_INDEX, &info))
		return -EIO;
	n = write ? pwrite(device, val, 4, info.offset + off) :
		    pread(device, val, 4, info.offset + off);
	return n == 4 ? 0 : -EIO;
}

/* SPEC: CFG-1 CFG-2 */
TEST_F(edu, bar_sizing_is_virtual)
{
	uint32_t orig, sized, all = ~0u, real_before, real_after;

	ASSERT_EQ(0, vt_real_config(self->dev.bdf, 0x10, &real_before, 4));
	ASSERT_EQ(0, config_rw32(self->h.device, 0x10, &orig, false));
	ASSERT_EQ(0, config_rw32(self->h.device, 0x10, &all, true));
	ASSERT_EQ(0, config_rw32(self->h.device, 0x10, &sized, false));
	ASSERT_EQ(0, config_rw32(self->h.device, 0x10, &orig, true));
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, 0x10, &real_after, 4));
	/* A 1 MiB memory BAR: size bits, and the type bits unchanged. */
	ASSERT_EQ((uint32_t)~(EDU_BAR0_SIZE - 1) | (orig & 0xf), sized);
	ASSERT_EQ(real_before, real_after);
}

/* Offset of a capability in the device's config space, or 0. */
static unsigned int find_cap(int device, uint8_t id)
{
	uint32_t v;
	unsigned int pos, hops;

	if (config_rw32(device, 0x34, &v, false))
		return 0;
	pos = v & 0xfc;
	for (hops = 0; pos && hops < 48; hops++) {
		if (config_rw32(device, pos, &v, false))
			return 0;
		if ((v & 0xff) == id)
			return pos;
		pos = (v >> 8) & 0xfc;
	}
	return 0;
}

/* SPEC: CFG-4 */
TEST_F(edu, msi_address_is_virtual)
{
	unsigned int msi = find_cap(self->h.device, 0x05);
	uint32_t orig, val = 0xfee0f00c, back, real;

	if (!msi)
		SKIP(return, "no MSI capability");
	ASSERT_EQ(0, config_rw32(self->h.device, msi + 4, &orig, false));
	ASSERT_EQ(0, config_rw32(self->h.device, msi + 4, &val, true));
	ASSERT_EQ(0, config_rw32(self->h.device, msi + 4, &back, false));
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, msi + 4, &real, 4));
	ASSERT_EQ(0, config_rw32(self->h.device, msi + 4, &orig, true));
	EXPECT_EQ(val, back);
	ASSERT_NE(val, real);
}

/* SPEC: SEC-5 MODEL-10 */
TEST_F(edu, next_user_finds_dma_and_msi_off)
{
	unsigned int msi = find_cap(self->h.device, 0x05);
	uint16_t cmd, ctl;
	int efd;

	if (!msi)
		SKIP(return, "no MSI capability");
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vt_enable_bus_master(self->h.device));
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSI_IRQ_INDEX,
				 VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, efd));
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, msi + 2, &ctl, 2));
	ASSERT_TRUE(!!(ctl & 1)) TH_LOG("MSI not enabled on the device");

	/* The user goes away without cleaning up; the next one arrives. */
	close(self->h.device);
	close(efd);
	self->h.device = ioctl(self->h.group, VFIO_GROUP_GET_DEVICE_FD,
			       self->dev.bdf);
	ASSERT_LE(0, self->h.device);
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, PCI_COMMAND_OFFSET, &cmd, 2));
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, msi + 2, &ctl, 2));
	EXPECT_FALSE(!!(cmd & PCI_COMMAND_MASTER_BIT));
	EXPECT_FALSE(!!(ctl & 1));
}

TEST_HARNESS_MAIN
