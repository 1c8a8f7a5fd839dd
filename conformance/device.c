// SPDX-License-Identifier: GPL-2.0
/*
 * Device fd: info, regions, config space and BAR access, on any selected
 * PCI function (alone in its group, and sharing it). What a test needs of
 * the device beyond that it says: a memory BAR, an MSI capability, or an
 * engine (engine.h) that names a harmless register to read and write.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "engine.h"

FIXTURE(dev) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	const struct vt_engine_ops *ops;	/* NULL: no engine knows it */
	int bar;				/* first memory BAR, or -1 */
};

FIXTURE_VARIANT(dev) {
	enum vt_dev_kind kind;
};

FIXTURE_VARIANT_ADD(dev, alone) {
	.kind = VT_DEV_ALONE,
};

FIXTURE_VARIANT_ADD(dev, shared) {
	.kind = VT_DEV_SHARED,
};

FIXTURE_SETUP(dev)
{
	int ret;

	self->h.container = self->h.group = self->h.device = -1;
	if (vt_select(variant->kind, 0, NULL, &self->dev))
		vt_skip_setup("no selected device%s",
			      vt_dev_kind_name(variant->kind));
	self->ops = vt_engine_for(&self->dev);
	self->bar = vt_first_mem_bar(self->dev.bdf);
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
}

FIXTURE_TEARDOWN(dev)
{
	vt_close_device(&self->h);
}

/* Skip unless an engine names a register of the device to read. */
#define NEED_ENGINE() do { \
	if (!self->ops) \
		SKIP(return, "no engine knows a register of %04x:%04x", \
		     self->dev.vendor, self->dev.device); \
} while (0)

#define NEED_MEM_BAR() do { \
	if (self->bar < 0) \
		SKIP(return, "%s has no memory BAR", self->dev.bdf); \
} while (0)

/* Skip unless the first memory BAR can be mapped; its region info in @info. */
#define NEED_MMAP_BAR(info) do { \
	NEED_MEM_BAR(); \
	ASSERT_EQ(0, vt_region_info(self->h.device, self->bar, (info))); \
	if (!((info)->flags & VFIO_REGION_INFO_FLAG_MMAP)) \
		SKIP(return, "BAR %d of %s is smaller than a page", self->bar, \
		     self->dev.bdf); \
} while (0)

/* The vendor ID through the device fd's config region, as sysfs has it. */
static bool config_answers(int device, const struct vt_pci_dev *dev)
{
	uint16_t vendor;

	return !vt_config_read16(device, 0, &vendor) && vendor == dev->vendor;
}

/* SPEC: DEV-1 */
TEST_F(dev, info_reports_pci_device)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_INFO, &info);
	ASSERT_TRUE(!!(info.flags & VFIO_DEVICE_FLAGS_PCI));
	ASSERT_LE((__u32)VFIO_PCI_NUM_REGIONS, info.num_regions);
	ASSERT_LE((__u32)VFIO_PCI_NUM_IRQS, info.num_irqs);
}

/* SPEC: DEV-5 */
TEST_F(dev, mem_bar_region_info)
{
	__u32 want = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	struct vfio_region_info info;
	uint64_t size;

	NEED_MEM_BAR();
	size = vt_bar_size(self->dev.bdf, self->bar, NULL);
	ASSERT_EQ(0, vt_region_info(self->h.device, self->bar, &info));
	ASSERT_EQ(size, info.size);
	/* A BAR of a page or more can be mapped. */
	if (size >= (uint64_t)sysconf(_SC_PAGESIZE))
		want |= VFIO_REGION_INFO_FLAG_MMAP;
	ASSERT_EQ(want, info.flags & want);
}

/* SPEC: DEV-7 */
TEST_F(dev, mem_bar_mmap_covers_the_region)
{
	struct vfio_region_info info;
	size_t size;
	void *bar;

	NEED_MMAP_BAR(&info);
	bar = vt_mmap_bar(self->h.device, self->bar, &size);
	ASSERT_NE(MAP_FAILED, bar) TH_LOG("mmap BAR %d: %s", self->bar,
					  strerror(errno));
	ASSERT_EQ(info.size, size);
	munmap(bar, size);
}

/* SPEC: DEV-7 */
TEST_F(dev, mmap_and_pread_read_the_same_register)
{
	struct vfio_region_info info;
	uint32_t by_pread = 0, by_mmap;
	unsigned int reg;
	size_t size;
	void *bar;

	NEED_ENGINE();
	reg = self->ops->ident_reg;
	ASSERT_EQ(0, vt_region_info(self->h.device, self->ops->bar, &info));
	ASSERT_EQ((ssize_t)sizeof(by_pread),
		  pread(self->h.device, &by_pread, sizeof(by_pread),
			info.offset + reg));
	bar = vt_mmap_bar(self->h.device, self->ops->bar, &size);
	ASSERT_NE(MAP_FAILED, bar) TH_LOG("mmap BAR %u: %s", self->ops->bar,
					  strerror(errno));
	by_mmap = *(volatile uint32_t *)((char *)bar + reg);
	munmap(bar, size);
	ASSERT_NE(~0u, by_pread);
	ASSERT_EQ(by_pread, by_mmap);
}

/* SPEC: DEV-7 */
TEST_F(dev, mmap_write_reaches_device)
{
	NEED_ENGINE();
	ASSERT_EQ(0, vt_engine_alive(self->ops, self->h.device));
}

/* SPEC: DEV-4 */
TEST_F(dev, region_info_index_out_of_range_is_refused)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = 99 };

	vt_ioctl_err(EINVAL, self->h.device, VFIO_DEVICE_GET_REGION_INFO, &info);
}

/* SPEC: DEV-4 */
TEST_F(dev, irq_info_index_out_of_range_is_refused)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = 99 };

	vt_ioctl_err(EINVAL, self->h.device, VFIO_DEVICE_GET_IRQ_INFO, &info);
}

/* SPEC: DEV-3 COMPAT-9 */
TEST_F(dev, info_short_argsz_is_refused)
{
	struct vfio_device_info info = { .argsz = 8 };

	vt_ioctl_err(EINVAL, self->h.device, VFIO_DEVICE_GET_INFO, &info);
}

/* SPEC: COMPAT-2 */
TEST_F(dev, info_accepts_larger_argsz)
{
	struct {
		struct vfio_device_info info;
		char newer[64];
	} big = { .info.argsz = sizeof(big) };

	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_INFO, &big);
	ASSERT_TRUE(!!(big.info.flags & VFIO_DEVICE_FLAGS_PCI));
}

/* SPEC: DEV-8 */
TEST_F(dev, mmap_of_config_region_is_refused)
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

/* SPEC: DEV-8 */
TEST_F(dev, mmap_past_bar_end_is_refused)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vfio_region_info info;
	void *p;

	NEED_MMAP_BAR(&info);
	/* One page more than the BAR, from its start. */
	p = mmap(NULL, info.size + page, PROT_READ, MAP_SHARED,
		 self->h.device, info.offset);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("mmap of %llu bytes of a %llu byte BAR",
					(unsigned long long)info.size + page,
					(unsigned long long)info.size);
	if (p == MAP_FAILED) {
		EXPECT_EQ(EINVAL, errno);
	} else {
		munmap(p, info.size + page);
	}
	/* The page just past its end. */
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, self->h.device,
		 info.offset + info.size);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("mmap of the page past the BAR's end");
	if (p == MAP_FAILED) {
		EXPECT_EQ(EINVAL, errno);
	} else {
		munmap(p, page);
	}
}

/*
 * A mapping faulted in while the device decodes memory: with memory space
 * turned off in the command register, the same address raises SIGBUS
 * instead of reaching the device; with it on again, it reaches it again.
 */
/* SPEC: CFG-6 DEV-7 */
TEST_F(dev, memory_off_faults_the_bar_mapping)
{
	struct vfio_region_info info;
	bool off_faults, on_faults;
	size_t size;
	uint16_t cmd;
	void *bar;

	NEED_MMAP_BAR(&info);
	bar = vt_mmap_bar(self->h.device, self->bar, &size);
	ASSERT_NE(MAP_FAILED, bar) TH_LOG("mmap BAR %d: %s", self->bar,
					  strerror(errno));
	ASSERT_EQ(0, vt_config_read16(self->h.device, PCI_COMMAND_OFFSET, &cmd));
	ASSERT_TRUE(!!(cmd & PCI_COMMAND_MEMORY_BIT));
	ASSERT_FALSE(vt_read_raises_sigbus(bar));

	ASSERT_EQ(0, vt_config_write16(self->h.device, PCI_COMMAND_OFFSET,
				       cmd & ~PCI_COMMAND_MEMORY_BIT));
	off_faults = vt_read_raises_sigbus(bar);
	ASSERT_EQ(0, vt_config_write16(self->h.device, PCI_COMMAND_OFFSET, cmd));
	on_faults = vt_read_raises_sigbus(bar);
	munmap(bar, size);
	EXPECT_TRUE(off_faults) TH_LOG("a load reached BAR %d with memory space off",
				       self->bar);
	EXPECT_FALSE(on_faults) TH_LOG("BAR %d still faults with memory space on",
				       self->bar);
}

/*
 * The cache line size register reaches the device on every implementation
 * (it is not virtualized); a value the user left there is gone once the
 * last device file is closed.
 */
/* SPEC: MODEL-12 */
TEST_F(dev, last_close_restores_the_configuration)
{
	struct vfio_region_info cfg;
	uint8_t before, set, after;

	ASSERT_EQ(0, vt_region_info(self->h.device,
				    VFIO_PCI_CONFIG_REGION_INDEX, &cfg));
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, PCI_CACHE_LINE_SIZE_OFFSET,
				    &before, 1));
	set = before ^ 0x10;
	ASSERT_EQ(1, pwrite(self->h.device, &set, 1,
			    cfg.offset + PCI_CACHE_LINE_SIZE_OFFSET));
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, PCI_CACHE_LINE_SIZE_OFFSET,
				    &after, 1));
	if (after != set)
		SKIP(return, "the cache line size of %s does not take %#x",
		     self->dev.bdf, set);
	close(self->h.device);
	self->h.device = -1;
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, PCI_CACHE_LINE_SIZE_OFFSET,
				    &after, 1));
	EXPECT_EQ(before, after) TH_LOG("the user's cache line size %#x stayed",
					set);
}

/* SPEC: CFG-5 DEV-10 */
TEST_F(dev, config_reads_vendor_and_device_id)
{
	uint16_t vendor, device;

	ASSERT_EQ(0, vt_config_read16(self->h.device, 0, &vendor));
	ASSERT_EQ(0, vt_config_read16(self->h.device, 2, &device));
	ASSERT_EQ(self->dev.vendor, vendor);
	ASSERT_EQ(self->dev.device, device);
}

/* SPEC: MODEL-7 */
TEST_F(dev, device_works_after_group_fd_closed)
{
	close(self->h.group);
	self->h.group = -1;
	EXPECT_TRUE(config_answers(self->h.device, &self->dev));
	if (self->ops)
		EXPECT_EQ(0, vt_engine_alive(self->ops, self->h.device));
}

/* The file offset where the highest region of @device ends (0: none). */
static __u64 regions_end(int device)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info region;
	__u64 end = 0;
	__u32 i;

	if (ioctl(device, VFIO_DEVICE_GET_INFO, &info))
		return 0;
	for (i = 0; i < info.num_regions; i++) {
		/* An index may have no region (VGA on a non-VGA device). */
		if (vt_region_info(device, i, &region))
			continue;
		if (region.offset + region.size > end)
			end = region.offset + region.size;
	}
	return end;
}

/* SPEC: DEV-9 */
TEST_F(dev, pread_outside_every_region_is_refused)
{
	__u64 end = regions_end(self->h.device);
	char c;

	ASSERT_NE(0ULL, end);
	end = (end + 0xfffff) & ~0xfffffULL;
	ASSERT_EQ(-1, pread(self->h.device, &c, 1, end));
	ASSERT_EQ(EINVAL, errno);
}

/*
 * Far outside every region: at 64 steps of 2^40 (the region stride of the
 * kernel's vfio-pci and the reference driver) past the last region's end,
 * so that an implementation that finds the region from the offset meets
 * indexes past its last one.
 */
/* SPEC: DEV-9 */
TEST_F(dev, pread_far_outside_every_region_is_refused)
{
	__u64 end = regions_end(self->h.device), off;
	unsigned int k;
	char c;

	ASSERT_NE(0ULL, end);
	end = (end + (1ULL << 40) - 1) & ~((1ULL << 40) - 1);
	for (k = 0; k < 64; k++) {
		off = end + ((__u64)k << 40);
		errno = 0;
		ASSERT_EQ(-1, pread(self->h.device, &c, 1, off))
			TH_LOG("pread at %#llx read a byte", (unsigned long long)off);
		ASSERT_EQ(EINVAL, errno) TH_LOG("pread at %#llx: %s",
						(unsigned long long)off,
						strerror(errno));
	}
}

/*
 * Whether the kernel offers a reset method for the function (sysfs "reset")
 * and it is the only endpoint of its group: a reset that takes others along
 * (a bus reset) may be refused while they are in use.
 */
static bool kernel_can_reset(const struct vt_pci_dev *dev)
{
	struct vt_pci_dev ep[VT_MAX_DEVICES];
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", dev->bdf);
	return !access(path, F_OK) &&
	       vt_group_endpoints(dev->group, ep, VT_MAX_DEVICES) == 1;
}

/* SPEC: DEV-2 DEV-13 DEV-14 DEV-12 */
TEST_F(dev, reset_works_exactly_when_flagged)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	unsigned int reg = self->ops ? self->ops->ident_reg : 0;
	bool can = kernel_can_reset(&self->dev);
	void *bar = MAP_FAILED;
	uint32_t before = 0;
	size_t size;

	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_INFO, &info);
	if (self->ops) {
		bar = vt_mmap_bar(self->h.device, self->ops->bar, &size);
		ASSERT_NE(MAP_FAILED, bar);
		before = *(volatile uint32_t *)((char *)bar + reg);
	}
	if (!(info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		EXPECT_FALSE(can) TH_LOG("the kernel can reset %s, RESET not advertised",
					 self->dev.bdf);
		vt_ioctl_err(EINVAL, self->h.device, VFIO_DEVICE_RESET, NULL);
	} else {
		vt_ioctl_ok(self->h.device, VFIO_DEVICE_RESET, NULL);
		EXPECT_TRUE(config_answers(self->h.device, &self->dev));
		/* The same mapping reaches the device again. */
		if (bar != MAP_FAILED)
			EXPECT_EQ(before, *(volatile uint32_t *)((char *)bar + reg));
	}
	if (bar != MAP_FAILED)
		munmap(bar, size);
}

/* A thread reading one register through a BAR mapping until told to stop. */
struct bar_reader {
	volatile uint32_t *reg;
	uint32_t want;			/* what the register reads */
	volatile bool stop;
	unsigned long reads, other;	/* reads, and reads of another value */
	uint32_t seen;			/* the last other value */
};

static void *bar_reader_run(void *arg)
{
	struct bar_reader *r = arg;
	uint32_t v;

	while (!r->stop) {
		v = *r->reg;
		r->reads++;
		if (v != r->want) {
			r->other++;
			r->seen = v;
		}
	}
	return NULL;
}

/*
 * While VFIO_DEVICE_RESET runs, the device does not answer (a bus reset
 * leaves its memory space off until its configuration is restored): a load
 * through the mapping must wait for the reset to finish, and so only ever
 * read what the device answers.
 */
/* SPEC: DEV-29 */
TEST_F(dev, bar_access_waits_out_a_reset)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct bar_reader r = { 0 };
	pthread_t reader;
	unsigned int i;
	size_t size;
	void *bar;

	NEED_ENGINE();
	if (!kernel_can_reset(&self->dev))
		SKIP(return, "the kernel has no reset of %s alone", self->dev.bdf);
	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_INFO, &info);
	ASSERT_TRUE(!!(info.flags & VFIO_DEVICE_FLAGS_RESET));
	bar = vt_mmap_bar(self->h.device, self->ops->bar, &size);
	ASSERT_NE(MAP_FAILED, bar);
	r.reg = (volatile uint32_t *)((char *)bar + self->ops->ident_reg);
	r.want = *r.reg;
	ASSERT_NE(~0u, r.want);
	ASSERT_EQ(0, pthread_create(&reader, NULL, bar_reader_run, &r));
	while (!r.reads)
		usleep(1000);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, ioctl(self->h.device, VFIO_DEVICE_RESET))
			TH_LOG("VFIO_DEVICE_RESET: %s", strerror(errno));
	r.stop = true;
	pthread_join(reader, NULL);
	munmap(bar, size);
	TH_LOG("%lu reads during 3 resets", r.reads);
	EXPECT_EQ(0ul, r.other) TH_LOG("%lu reads got %#x, not %#x", r.other,
					r.seen, r.want);
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
TEST_F(dev, bar_sizing_is_virtual)
{
	uint32_t orig, sized, all = ~0u, real_before, real_sized, real_after;
	unsigned int off;
	uint64_t size;

	NEED_MEM_BAR();
	off = 0x10 + 4 * self->bar;
	size = vt_bar_size(self->dev.bdf, self->bar, NULL);
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, off, &real_before, 4));
	ASSERT_EQ(0, config_rw32(self->h.device, off, &orig, false));
	ASSERT_EQ(0, config_rw32(self->h.device, off, &all, true));
	ASSERT_EQ(0, config_rw32(self->h.device, off, &sized, false));
	/* While sized, the device's own BAR still holds its address. */
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, off, &real_sized, 4));
	ASSERT_EQ(0, config_rw32(self->h.device, off, &orig, true));
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, off, &real_after, 4));
	/* The BAR's size bits (its low dword), the type bits unchanged. */
	ASSERT_EQ((uint32_t)~(size - 1) | (orig & 0xf), sized);
	ASSERT_EQ(real_before, real_sized);
	ASSERT_EQ(real_before, real_after);
}

/* SPEC: CFG-1 */
TEST_F(dev, bar_write_is_virtual)
{
	uint32_t orig, moved, back, real_before, real_moved;
	unsigned int off;
	uint64_t size;

	NEED_MEM_BAR();
	off = 0x10 + 4 * self->bar;
	size = vt_bar_size(self->dev.bdf, self->bar, NULL);
	if (size >= 1ull << 31)
		SKIP(return, "BAR %u's size leaves no address bit in its low dword",
		     self->bar);
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, off, &real_before, 4));
	ASSERT_EQ(0, config_rw32(self->h.device, off, &orig, false));
	/* Another address: flip the lowest address bit the size leaves. */
	moved = orig ^ (uint32_t)size;
	ASSERT_EQ(0, config_rw32(self->h.device, off, &moved, true));
	ASSERT_EQ(0, config_rw32(self->h.device, off, &back, false));
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, off, &real_moved, 4));
	ASSERT_EQ(0, config_rw32(self->h.device, off, &orig, true));
	/* User space reads its own address back; the device keeps its own. */
	EXPECT_EQ((moved & (uint32_t)~(size - 1)) | (orig & 0xf), back);
	ASSERT_EQ(real_before, real_moved);
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
TEST_F(dev, msi_address_is_virtual)
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

/*
 * MSI where the device offers it, else MSI-X: enabled by one user, both bus
 * mastering and the enable bit (MSI control bit 0, MSI-X control bit 15)
 * are off on the device when the next user gets it.
 */
/* SPEC: SEC-5 MODEL-10 */
TEST_F(dev, next_user_finds_dma_and_msi_off)
{
	unsigned int msi = find_cap(self->h.device, 0x05);
	unsigned int index = VFIO_PCI_MSI_IRQ_INDEX;
	uint16_t cmd, ctl, enable = 0x1;
	int efd;

	if (!msi) {
		msi = find_cap(self->h.device, 0x11);
		index = VFIO_PCI_MSIX_IRQ_INDEX;
		enable = 0x8000;
	}
	if (!msi)
		SKIP(return, "no MSI or MSI-X capability");
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vt_enable_bus_master(self->h.device));
	ASSERT_EQ(0, vt_set_irqs(self->h.device, index,
				 VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, efd));
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, msi + 2, &ctl, 2));
	ASSERT_TRUE(!!(ctl & enable)) TH_LOG("%s not enabled on the device",
					     index == VFIO_PCI_MSI_IRQ_INDEX ?
					     "MSI" : "MSI-X");

	/* The user goes away without cleaning up; the next one arrives. */
	close(self->h.device);
	close(efd);
	self->h.device = ioctl(self->h.group, VFIO_GROUP_GET_DEVICE_FD,
			       self->dev.bdf);
	ASSERT_LE(0, self->h.device);
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, PCI_COMMAND_OFFSET, &cmd, 2));
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, msi + 2, &ctl, 2));
	EXPECT_FALSE(!!(cmd & PCI_COMMAND_MASTER_BIT));
	EXPECT_FALSE(!!(ctl & enable));
}

TEST_HARNESS_MAIN
