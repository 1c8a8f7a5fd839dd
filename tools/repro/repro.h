/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the core-bug reproducers (the .c files beside this one) share: the kernel's
 * <linux/vfio.h> only (they exercise the kernel, with any VFIO
 * implementation of the group/container ABI), fault injection through
 * /proc/thread-self/fail-nth, and a group opened and put in a type1
 * container. Each reproducer takes its devices' PCI addresses from its
 * arguments (or VFIO_GROUPS_DEVICES, as the testbed's runner sets it) and
 * prints "# ..." progress lines; whether the bug showed is read from the
 * kernel log by tools/repro, not judged here.
 */
#ifndef REPRO_H
#define REPRO_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>

static inline void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("repro: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static inline void knob(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		die("%s: %s (a kernel with CONFIG_FAULT_INJECTION_DEBUG_FS, debugfs mounted)",
		    path, strerror(errno));
	close(fd);
}

/*
 * Slab and page allocations (order 0 included), those that may sleep
 * included (fail-nth counts user copies too); no stack dump per injected
 * fault (the log keeps the bug's own report readable).
 */
static inline void fault_setup(void)
{
	knob("/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
	knob("/sys/kernel/debug/failslab/verbose", "0");
	knob("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N");
	knob("/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N");
	knob("/sys/kernel/debug/fail_page_alloc/min-order", "0");
	knob("/sys/kernel/debug/fail_page_alloc/verbose", "0");
	knob("/sys/kernel/debug/fail_usercopy/verbose", "0");
}

static inline int nth_open(void)
{
	int fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("/proc/thread-self/fail-nth: %s (CONFIG_FAULT_INJECTION)",
		    strerror(errno));
	return fd;
}

/* The n-th fault point this thread passes from now on fails. */
static inline void nth_arm(int fd, int n)
{
	char s[16];

	snprintf(s, sizeof(s), "%d", n);
	if (pwrite(fd, s, strlen(s), 0) < 0)
		die("arming fail-nth: %s", strerror(errno));
}

/*
 * Whether the armed fault was injected (the file reads 0), and disarm.
 * A read that fails consumed a still pending fault itself: not injected.
 */
static inline int nth_injected(int fd)
{
	char s[16] = "";

	if (pread(fd, s, sizeof(s) - 1, 0) < 0)
		s[0] = '1';
	if (pwrite(fd, "0", 1, 0) != 1 && pwrite(fd, "0", 1, 0) != 1)
		die("disarming fail-nth: %s", strerror(errno));
	return s[0] == '0';
}

/* The devices: the arguments, else VFIO_GROUPS_DEVICES (the testbed's). */
static inline int devices(int argc, char **argv, const char **bdf, int max)
{
	static char list[4096];
	char *env, *tok;
	int n = 0, i;

	for (i = 1; i < argc && n < max; i++)
		bdf[n++] = argv[i];
	env = getenv("VFIO_GROUPS_DEVICES");
	if (n == 0 && env) {
		snprintf(list, sizeof(list), "%s", env);
		for (tok = strtok(list, " "); tok && n < max; tok = strtok(NULL, " "))
			bdf[n++] = tok;
	}
	return n;
}

static inline int group_id(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	const char *slash;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die("%s: %s (no IOMMU group)", path, strerror(errno));
	link[n] = '\0';
	slash = strrchr(link, '/');
	return atoi(slash ? slash + 1 : link);
}

/* Whether two devices are in one IOMMU group. */
static inline int same_group(const char *a, const char *b)
{
	return group_id(a) == group_id(b);
}

static inline int group_open(const char *bdf)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group_id(bdf));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s (is %s bound to vfio-pci?)", path, strerror(errno), bdf);
	return fd;
}

static inline int container_open(void)
{
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("/dev/vfio/vfio: %s", strerror(errno));
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		die("VFIO_GET_API_VERSION: not %d", VFIO_API_VERSION);
	return fd;
}

static inline void set_container(int group, int container)
{
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		die("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
}

static inline void set_iommu(int container)
{
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("VFIO_SET_IOMMU(TYPE1v2): %s", strerror(errno));
}

/* A group of bdf, alone in a new type1 container. */
static inline int group_in_container(const char *bdf, int *container)
{
	int group = group_open(bdf);

	*container = container_open();
	set_container(group, *container);
	set_iommu(*container);
	return group;
}

#endif /* REPRO_H */
