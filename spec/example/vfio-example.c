// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-example: use one PCI device through the VFIO groups ABI.
 *
 * usage: vfio-example <device address, e.g. 0000:01:00.0>
 *
 * Finds the device's IOMMU group, checks that the group is viable, sets up a
 * container with the type1v2 IOMMU model, maps a page of memory for DMA,
 * gets the device fd, reads the first register of BAR0 and, if the device is
 * QEMU's edu, lets it copy that page to another mapped page by DMA.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "vfio_groups.h"

#define PAGE		4096
#define EDU_ID		0x11e81234	/* device << 16 | vendor */
#define IOVA_SRC	0x100000
#define IOVA_DST	0x101000

static int fail(const char *what)
{
	fprintf(stderr, "vfio-example: %s: %s\n", what, strerror(errno));
	return 1;
}

static int group_of(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = '\0';
	return atoi(basename(link));
}

static int map(int container, void *buf, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = iova,
		.size = PAGE,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &m);
}

/* Let edu copy PAGE/2 bytes from IOVA_SRC to IOVA_DST through its buffer. */
static void edu_copy(volatile uint8_t *bar)
{
	const uint64_t cmds[2][3] = {
		{ IOVA_SRC, 0x40000, 1 },	/* RAM -> edu buffer */
		{ 0x40000, IOVA_DST, 3 },	/* edu buffer -> RAM */
	};
	struct timespec ms = { .tv_nsec = 1000000 };
	int i, t;

	for (i = 0; i < 2; i++) {
		*(volatile uint64_t *)(bar + 0x80) = cmds[i][0];
		*(volatile uint64_t *)(bar + 0x88) = cmds[i][1];
		*(volatile uint64_t *)(bar + 0x90) = PAGE / 2;
		*(volatile uint64_t *)(bar + 0x98) = cmds[i][2];
		for (t = 0; t < 5000 && (*(volatile uint32_t *)(bar + 0x98) & 1); t++)
			nanosleep(&ms, NULL);
	}
}

int main(int argc, char **argv)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_region_info bar0 = { .argsz = sizeof(bar0) };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg) };
	int container, group, device, n;
	char path[64];
	uint32_t id;
	uint16_t cmd;
	uint8_t *src, *dst;
	volatile uint8_t *bar;

	if (argc != 2) {
		fprintf(stderr, "usage: vfio-example <pci address>\n");
		return 2;
	}
	n = group_of(argv[1]);
	if (n < 0)
		return fail("no IOMMU group");
	snprintf(path, sizeof(path), "/dev/vfio/%d", n);

	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return fail("open /dev/vfio/vfio");
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
		return fail("no type1v2 IOMMU model");

	group = open(path, O_RDWR);
	if (group < 0)
		return fail(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status))
		return fail("VFIO_GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "vfio-example: group %d is not viable: bind all its devices to vfio\n", n);
		return 1;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return fail("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return fail("VFIO_SET_IOMMU");

	src = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED)
		return fail("mmap");
	dst = src + PAGE;
	memset(src, 0x5a, PAGE);
	memset(dst, 0, PAGE);
	if (map(container, src, IOVA_SRC) || map(container, dst, IOVA_DST))
		return fail("VFIO_IOMMU_MAP_DMA");

	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
	if (device < 0)
		return fail("VFIO_GROUP_GET_DEVICE_FD");

	/* Identify the device through its config space, enable bus mastering. */
	cfg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
	    pread(device, &id, 4, cfg.offset) != 4 ||
	    pread(device, &cmd, 2, cfg.offset + 4) != 2)
		return fail("config space");
	cmd |= 0x4;
	if (pwrite(device, &cmd, 2, cfg.offset + 4) != 2)
		return fail("enable bus master");

	bar0.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &bar0))
		return fail("BAR0 info");
	bar = mmap(NULL, bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   device, bar0.offset);
	if (bar == MAP_FAILED)
		return fail("mmap BAR0");
	printf("%s: group %d, id %08x, BAR0[0] = %08x\n", argv[1], n, id,
	       *(volatile uint32_t *)bar);

	if (id == EDU_ID) {
		edu_copy(bar);
		if (memcmp(src, dst, PAGE / 2)) {
			fprintf(stderr, "vfio-example: DMA did not arrive\n");
			return 1;
		}
		printf("%s: edu copied %d bytes by DMA\n", argv[1], PAGE / 2);
	}
	close(device);
	close(group);
	close(container);
	return 0;
}
