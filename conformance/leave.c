// SPDX-License-Identifier: GPL-2.0
/*
 * A group leaves a container that keeps another group and its mappings:
 * the leaving group's device must lose access to them. A group can leave
 * only once its device files are closed, so after the leave the test drives
 * the device from outside VFIO, as root through sysfs (the config file for
 * bus mastering, resource<N> for the registers) through its DMA engine
 * (engine.h; one that needs no memory of its own, as edu's), and has it
 * copy to an IOVA that is still mapped in the container.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "engine.h"

#define PAGE		4096
#define LEN		(PAGE / 2)	/* see dma.c: QEMU 7.2's edu limit */
#define SENTINEL	0xc3		/* dst before the device may write */
#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL
#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define PCI_COMMAND_MEMORY_BIT	0x2

/* An engine that can run without memory of its own (no init), e.g. from
 * a sysfs mapping outside VFIO. */
static bool memoryless_engine(const struct vt_pci_dev *dev)
{
	const struct vt_engine_ops *ops = vt_engine_for(dev);

	return ops && !ops->init;
}

FIXTURE(leave) {
	struct vt_pci_dev stay, go;	/* the group that stays, the one that leaves */
	int container, stay_group, go_group, device;
	unsigned char *src, *dst;
	const struct vt_engine_ops *ops;	/* the leaving device's */
	void *bar;
	size_t bar_size;
	int config;			/* sysfs config of the leaving device */
	uint16_t command;		/* its command register before the test */
};

FIXTURE_VARIANT(leave) {
	enum vt_dev_kind go, stay;
};

FIXTURE_VARIANT_ADD(leave, alone_leaves) {
	.go = VT_DEV_ALONE,
	.stay = VT_DEV_SHARED,
};

FIXTURE_VARIANT_ADD(leave, shared_leaves) {
	.go = VT_DEV_SHARED,
	.stay = VT_DEV_ALONE,
};

FIXTURE_SETUP(leave)
{
	self->container = self->stay_group = self->go_group = -1;
	self->device = self->config = -1;
	self->bar = MAP_FAILED;
	if (vt_select(variant->go, 0, memoryless_engine, &self->go))
		vt_skip_setup("no selected device%s with a DMA engine that needs no memory of its own",
			      vt_dev_kind_name(variant->go));
	if (vt_select_other_group(self->go.group, variant->stay, NULL,
				  &self->stay))
		vt_skip_setup("no selected device%s in a second group",
			      vt_dev_kind_name(variant->stay));
	self->ops = vt_engine_for(&self->go);
	self->src = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	memset(self->src, 0x5a, PAGE);	/* the pattern; dst, after it, zero */
	self->dst = self->src + PAGE;
	self->container = vt_open_container();
	ASSERT_LE(0, self->container);
	self->stay_group = vt_open_group(self->stay.group);
	self->go_group = vt_open_group(self->go.group);
	ASSERT_LE(0, self->stay_group);
	ASSERT_LE(0, self->go_group);
}

FIXTURE_TEARDOWN(leave)
{
	if (self->bar != MAP_FAILED)
		munmap(self->bar, self->bar_size);
	if (self->device >= 0)
		close(self->device);
	if (self->config >= 0) {
		/* Bus mastering off again, as VFIO left it. */
		EXPECT_EQ(2, pwrite(self->config, &self->command, 2,
				    PCI_COMMAND_OFFSET));
		close(self->config);
	}
	close(self->go_group);
	close(self->stay_group);
	close(self->container);
}

/* Index of the first byte that is not SENTINEL, or -1. */
static int first_changed(const unsigned char *p, int len)
{
	int i;

	for (i = 0; i < len; i++)
		if (p[i] != SENTINEL)
			return i;
	return -1;
}

/* Map the register BAR of the device from sysfs and let it master the bus. */
static void *sysfs_take(struct __test_metadata *_metadata,
			FIXTURE_DATA(leave) *self)
{
	char path[PATH_MAX];
	uint16_t cmd;
	void *bar;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config",
		 self->go.bdf);
	self->config = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->config) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(2, pread(self->config, &self->command, 2, PCI_COMMAND_OFFSET));
	cmd = self->command | PCI_COMMAND_MASTER_BIT | PCI_COMMAND_MEMORY_BIT;
	ASSERT_EQ(2, pwrite(self->config, &cmd, 2, PCI_COMMAND_OFFSET));

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%u",
		 self->go.bdf, self->ops->bar);
	self->bar_size = vt_bar_size(self->go.bdf, self->ops->bar, NULL);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	bar = mmap(NULL, self->bar_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, bar) TH_LOG("mmap %s: %s", path, strerror(errno));
	self->bar = bar;
	/* The registers answer: what follows reaches the device. */
	ASSERT_EQ(0, self->ops->alive(bar, self->bar_size));
	return bar;
}

/* SPEC: DMA-24 */
TEST_F(leave, leaving_device_loses_the_mappings)
{
	struct vt_engine eng;

	vt_ioctl_ok(self->stay_group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	vt_ioctl_ok(self->go_group, VFIO_GROUP_SET_CONTAINER, &self->container);
	ASSERT_EQ(0, vt_map_dma(self->container, self->src, IOVA_SRC, PAGE, RW));
	ASSERT_EQ(0, vt_map_dma(self->container, self->dst, IOVA_DST, PAGE, RW));

	/* While in the container, the device reaches the mappings. */
	self->device = ioctl(self->go_group, VFIO_GROUP_GET_DEVICE_FD,
			     self->go.bdf);
	ASSERT_LE(0, self->device);
	ASSERT_EQ(0, vt_engine_open(&eng, self->ops, self->device, -1, 0));
	ASSERT_EQ(0, vt_engine_copy(&eng, IOVA_SRC, IOVA_DST, LEN));
	vt_engine_close(&eng);
	ASSERT_EQ(0, memcmp(self->src, self->dst, LEN));
	close(self->device);
	self->device = -1;

	/* The group leaves; the container and its mappings stay. */
	memset(self->dst, SENTINEL, PAGE);
	vt_ioctl_ok(self->go_group, VFIO_GROUP_UNSET_CONTAINER, NULL);

	/* The same copy, the device driven from outside VFIO. */
	ASSERT_EQ(0, vt_engine_open_regs(&eng, self->ops,
					 sysfs_take(_metadata, self),
					 self->bar_size, -1, 0));
	ASSERT_EQ(0, vt_engine_copy(&eng, IOVA_SRC, IOVA_DST, LEN));
	vt_engine_close(&eng);
	usleep(100 * 1000);	/* the copy reported completion; margin */
	ASSERT_EQ(-1, first_changed(self->dst, PAGE))
		TH_LOG("the device wrote the mapping after its group left");
}

TEST_HARNESS_MAIN
