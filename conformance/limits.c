// SPDX-License-Identifier: GPL-2.0
/*
 * Limits of the type1v2 model: the mapping-count limit and RLIMIT_MEMLOCK.
 * Each test sets up its own container, since the limits are read when the
 * IOMMU model is set, and RLIMIT_MEMLOCK needs a process without
 * CAP_IPC_LOCK (a child).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define PAGE		4096ULL
#define IOVA		0x1000000ULL
#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* The implementation's mapping-limit parameter, by the driver in use. */
static const char *const limit_params[] = {
	"/sys/module/vfio_ref/parameters/dma_entry_limit",
	"/sys/module/vfio_iommu_type1/parameters/dma_entry_limit",
};

static const char *limit_param(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(limit_params) / sizeof(limit_params[0]); i++)
		if (!access(limit_params[i], W_OK))
			return limit_params[i];
	return NULL;
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fprintf(f, "%ld\n", v) > 0 ? 0 : -EIO;
	return fclose(f) ? -errno : ret;
}

/* Container, group and type1v2 for @dev; 0 or -errno. */
static int open_container(const struct vt_pci_dev *dev, int *container,
			  int *group)
{
	*container = vt_open_container();
	if (*container < 0)
		return *container;
	*group = vt_open_group(dev->group);
	if (*group < 0)
		return *group;
	if (ioctl(*group, VFIO_GROUP_SET_CONTAINER, container) ||
	    ioctl(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	return 0;
}

/* SPEC: DMA-10 DMA-23 */
TEST(mapping_count_limit_gives_enospc)
{
	const char *param = limit_param();
	struct vt_pci_dev dev;
	int container, group, i, ret;
	long dflt;
	char *buf;

	if (vt_find_edu(VT_EDU_ALONE, 0, &dev))
		SKIP(return, "no edu alone in its group");
	if (!param)
		SKIP(return, "no writable dma_entry_limit parameter");
	dflt = read_long(param);
	ASSERT_LE(65535, dflt);
	buf = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);

	ASSERT_EQ(0, write_long(param, 4));
	ret = open_container(&dev, &container, &group);
	ASSERT_EQ(0, write_long(param, dflt));
	ASSERT_EQ(0, ret) TH_LOG("setup: %s", strerror(-ret));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, vt_map_dma(container, buf + i * PAGE,
					IOVA + 2 * i * PAGE, PAGE, RW));
	ASSERT_EQ(-ENOSPC, vt_map_dma(container, buf + 4 * PAGE,
				      IOVA + 8 * PAGE, PAGE, RW));
	close(group);
	close(container);
	munmap(buf, 5 * PAGE);
}

/* Drop CAP_IPC_LOCK from this process (a child of the test). */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[0].effective &= ~(1u << CAP_IPC_LOCK);
	data[0].permitted &= ~(1u << CAP_IPC_LOCK);
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* In a child without CAP_IPC_LOCK: map 1 MiB under a 64 KiB limit. */
static int memlock_child(const struct vt_pci_dev *dev)
{
	struct rlimit lim = { .rlim_cur = 64 << 10, .rlim_max = 64 << 10 };
	int container, group;
	char *buf;

	buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || drop_ipc_lock() ||
	    setrlimit(RLIMIT_MEMLOCK, &lim) ||
	    open_container(dev, &container, &group))
		return 2;
	if (vt_map_dma(container, buf, IOVA, 1 << 20, RW) != -ENOMEM)
		return 1;
	/* Within the limit it works, and nothing was left charged. */
	if (vt_map_dma(container, buf, IOVA, 32 << 10, RW))
		return 3;
	return 0;
}

/* SPEC: DMA-11 SEC-3 */
TEST(memlock_limit_gives_enomem)
{
	struct vt_pci_dev dev;
	int status;
	pid_t pid;

	if (vt_find_edu(VT_EDU_ALONE, 0, &dev))
		SKIP(return, "no edu alone in its group");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(memlock_child(&dev));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("1: no ENOMEM past the limit; 2: setup failed; 3: no mapping within it");
}

TEST_HARNESS_MAIN
