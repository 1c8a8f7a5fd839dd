// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection on every ioctl of the container, group and device files.
 *
 * For one valid call, /proc/thread-self/fail-nth makes the n-th fault point
 * the call passes fail (a slab or page allocation, a user copy), for n = 1,
 * 2, ... until the call succeeds without consuming the fault. Each failing
 * call must fail with ENOMEM, EFAULT or an errno of its error table (RES-1),
 * leave nothing behind (pinned pages, locked memory, fds, state) and the same
 * call must then succeed (RES-2). A call that succeeds although a fault was
 * injected must have done all of its work: its result is compared with the
 * result of an undisturbed call.
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION (and debugfs for the knobs);
 * Debian's kernels have none, so the tests skip there. Each test prints
 * "# fault points: <call> <n>": how many fault points the call passed.
 *
 * Aimed mode: a call whose fault points include known bugs of the kernel's
 * own core code (core_bug below) is faulted, on the kernels with those
 * bugs, only at the implementation's own fault points, through a fault
 * attribute of the kernel's fault-injection framework that the
 * implementation offers for them and names in VFIO_FAULT_ATTR (its debugfs
 * directory; the reference driver's is fail_vfio_ref). The n-th of them
 * fails: probability 100, task-filter on with this thread's make-it-fail,
 * times 1, space n. The test then also counts, without faulting, all the
 * points the call passes (fail-nth), and prints how many it left out. The
 * kernel's stack-trace filter (require-start/require-end over the module's
 * text) would also fault the core's points under the implementation's
 * calls, where the bugs are, and 6.1 does not offer it on x86_64.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define PAGE		4096UL
#define NPAGES		64
/* The range crosses a 2 MiB boundary: a second page-table page mid-map. */
#define IOVA		(0x200000UL - NPAGES / 2 * PAGE)
#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define MAX_POINTS	3000	/* no call passes this many fault points */
#define FAULT_TIMEOUT	900
#define DETACH_BUG	"a fault where the IOMMU core switches a group back to its blocking or default domain WARNs and leaves the group on the old domain"
#define JOIN_BUG	"a fault in the attach of a bridged group links an intel-iommu device into two domains' lists: the next walk hangs or oopses"
#define INFO_SIZE	1024
/* Where most core bugs below were measured: Debian's 6.1.176 and 6.12.95. */
#define KNOWN_ON	"6.1. 6.12."

struct fctx;

/*
 * One call under test. pre() brings the objects to the state before the
 * call, call() makes it (-1 and errno on failure), done() checks that a
 * successful call did all of its work and undoes it, same() checks after a
 * failed call that nothing changed. Each returns 0 or a message.
 */
struct fop {
	const char *name;
	int (*init)(struct fctx *c);
	const char *(*pre)(struct fctx *c);
	long (*call)(struct fctx *c);
	const char *(*done)(struct fctx *c, long ret);
	const char *(*same)(struct fctx *c);
	/*
	 * Errnos of the call's table, 0-terminated. SET_IOMMU and a joining
	 * SET_CONTAINER list "other" errnos of an IOMMU driver that refuses
	 * to attach: EIO among them, not those with a meaning of their own.
	 */
	int errs[6];
	/*
	 * The call's work ends in a copy of its result to the user (UNMAP_DMA's
	 * size): a fault there fails the call with EFAULT after the work (RES-2).
	 */
	bool result_last;
	/*
	 * A fault in the kernel's own code under this call (not the VFIO
	 * implementation's) makes the kernel WARN or corrupt memory on the
	 * kernels whose release starts with one of bug_on's space-separated
	 * prefixes (measured there): on those the call is faulted only with
	 * VFIO_FAULT_ALL=1 (see run()). Other kernels are faulted, so that a
	 * fixed kernel shows it.
	 */
	const char *core_bug;
	const char *bug_on;
};

struct fctx {
	struct vt_pci_dev dev, other;	/* other: in a second group */
	bool have_other;
	int container, group, device;
	int group2;
	int efd;
	char *buf;
	off_t config;
	unsigned char ref[INFO_SIZE];	/* undisturbed result */
	long ref_ret;
	unsigned char out[INFO_SIZE];
};

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -EIO;
}

/*
 * The debugfs knobs the kernel's fault-injection documentation names:
 * fail-nth overrides probability, interval and times, but the per-type
 * filters still apply: allocations that may sleep (GFP_KERNEL) are skipped
 * unless ignore-gfp-wait is off, order-0 pages unless min-order is 0.
 * verbose 0: no stack dump in the kernel log for an injected fault. The
 * probability stays 0, so nothing fails but the n-th point of this task.
 */
static void setup_knobs(void)
{
	static const char *const types[] = {
		"failslab", "fail_page_alloc", "fail_usercopy",
	};
	char path[128];
	unsigned int i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/", types[i]);
		strcat(path, "verbose");
		write_str(path, "0");
		snprintf(path, sizeof(path),
			 "/sys/kernel/debug/%s/ignore-gfp-wait", types[i]);
		write_str(path, "N");
	}
	write_str("/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N");
	write_str("/sys/kernel/debug/fail_page_alloc/min-order", "0");
}

/* fail-nth of this thread: write n; read back 0 when it was consumed. */
static int nth_open(void)
{
	return open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
}

static void nth_arm(int fd, int n)
{
	char s[16];

	snprintf(s, sizeof(s), "%d", n);
	if (pwrite(fd, s, strlen(s), 0) < 0)
		abort();
}

/*
 * Whether the armed fault was consumed, and disarm. Reading the file copies
 * to user memory, itself a fault point: when the fault is still pending
 * there, the read fails with EFAULT (the fault was not consumed by the call)
 * and consumes it.
 */
static bool nth_consumed(int fd)
{
	char s[16] = "";
	ssize_t n;

	n = pread(fd, s, sizeof(s) - 1, 0);
	if (n < 0)
		s[0] = '1';
	/* Disarming copies from user memory: a pending fault can hit it. */
	if (pwrite(fd, "0", 1, 0) != 1 && pwrite(fd, "0", 1, 0) != 1)
		abort();
	return s[0] == '0';
}

/* fail-nth armed with a count no call reaches: how many points it passed. */
static int nth_count(int fd, int armed)
{
	char s[16] = "";

	if (pread(fd, s, sizeof(s) - 1, 0) < 0)
		return -1;
	if (pwrite(fd, "0", 1, 0) != 1)
		abort();
	return armed - atoi(s);
}

/*
 * Where the faults come from: fail-nth (every point the call passes, in the
 * implementation and in the kernel's core alike), or the implementation's
 * own fault attribute (aimed mode, see the top of the file).
 */
struct inject {
	int nth;		/* /proc/thread-self/fail-nth */
	const char *attr;	/* the attribute's directory; NULL: fail-nth */
};

static int attr_write(const struct inject *in, const char *knob,
		      const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", in->attr, knob);
	return write_str(path, val);
}

static long attr_read(const struct inject *in, const char *knob)
{
	char path[256], s[32] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", in->attr, knob);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, s, sizeof(s) - 1);
	close(fd);
	return n > 0 ? strtol(s, NULL, 10) : -1;
}

/* 0, or the knob that could not be set. */
static const char *inject_open(struct inject *in, const char *attr)
{
	in->attr = attr;
	in->nth = nth_open();
	if (in->nth < 0)
		return "/proc/thread-self/fail-nth";
	if (!attr)
		return NULL;
	if (attr_write(in, "probability", "0") ||
	    attr_write(in, "verbose", "0") ||
	    attr_write(in, "interval", "1") ||
	    attr_write(in, "task-filter", "Y"))
		return attr;
	if (write_str("/proc/thread-self/make-it-fail", "1"))
		return "/proc/thread-self/make-it-fail";
	return NULL;
}

static void inject_close(struct inject *in)
{
	if (in->attr) {
		attr_write(in, "probability", "0");
		write_str("/proc/thread-self/make-it-fail", "0");
	}
	close(in->nth);
}

/* Fail the n-th point. */
static void inject_arm(struct inject *in, int n)
{
	char s[16];

	if (!in->attr) {
		nth_arm(in->nth, n);
		return;
	}
	snprintf(s, sizeof(s), "%d", n);
	if (attr_write(in, "space", s) || attr_write(in, "times", "1") ||
	    attr_write(in, "probability", "100"))
		abort();
}

/* Whether the armed fault was consumed, and disarm. */
static bool inject_consumed(struct inject *in)
{
	if (!in->attr)
		return nth_consumed(in->nth);
	if (attr_write(in, "probability", "0"))
		abort();
	return attr_read(in, "times") == 0;
}

/* --- states ------------------------------------------------------------- */

static int open_full(struct fctx *c)
{
	struct vt_handles h;
	int ret = vt_open_device(&c->dev, &h);

	if (ret)
		return ret;
	c->container = h.container;
	c->group = h.group;
	c->device = h.device;
	return 0;
}

/* Container and group, attached, no IOMMU model. */
static int open_attached(struct fctx *c)
{
	c->container = vt_open_container();
	if (c->container < 0)
		return c->container;
	c->group = vt_open_group(c->dev.group);
	if (c->group < 0)
		return c->group;
	return ioctl(c->group, VFIO_GROUP_SET_CONTAINER, &c->container) ?
		-errno : 0;
}

/* Container with an IOMMU model, no device fd. */
static int open_model(struct fctx *c)
{
	int ret = open_attached(c);

	if (ret)
		return ret;
	return ioctl(c->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ?
		-errno : 0;
}

static int open_detached(struct fctx *c)
{
	c->container = vt_open_container();
	if (c->container < 0)
		return c->container;
	c->group = vt_open_group(c->dev.group);
	return c->group < 0 ? c->group : 0;
}

static const char *no_pre(struct fctx *c)
{
	return NULL;
}

static __u32 group_flags(int group)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	if (ioctl(group, VFIO_GROUP_GET_STATUS, &st))
		return ~0u;
	return st.flags;
}

/* --- container ---------------------------------------------------------- */

static long call_api_version(struct fctx *c)
{
	return ioctl(c->container, VFIO_GET_API_VERSION);
}

static const char *done_api_version(struct fctx *c, long ret)
{
	return ret == VFIO_API_VERSION ? NULL : "wrong API version";
}

static long call_check_extension(struct fctx *c)
{
	return ioctl(c->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
}

static const char *done_check_extension(struct fctx *c, long ret)
{
	return ret > 0 ? NULL : "type1v2 not reported";
}

static long call_set_iommu(struct fctx *c)
{
	return ioctl(c->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
}

static long iommu_info(struct fctx *c, void *out)
{
	struct vfio_iommu_type1_info *info = out;

	memset(out, 0, INFO_SIZE);
	info->argsz = INFO_SIZE;
	return ioctl(c->container, VFIO_IOMMU_GET_INFO, info);
}

static const char *done_set_iommu(struct fctx *c, long ret)
{
	if (iommu_info(c, c->out))
		return "no IOMMU model after SET_IOMMU succeeded";
	/* The last group leaving drops the model (CONT-11). */
	if (ioctl(c->group, VFIO_GROUP_UNSET_CONTAINER) ||
	    ioctl(c->group, VFIO_GROUP_SET_CONTAINER, &c->container))
		return "cannot reset the container";
	return NULL;
}

static const char *same_set_iommu(struct fctx *c)
{
	errno = 0;
	if (!iommu_info(c, c->out) || errno != EINVAL)
		return "a failed SET_IOMMU left an IOMMU model behind";
	return NULL;
}

static int init_iommu_info(struct fctx *c)
{
	int ret = open_full(c);

	if (!ret && iommu_info(c, c->ref))
		ret = -errno;
	return ret;
}

static long call_iommu_info(struct fctx *c)
{
	return iommu_info(c, c->out);
}

static const char *done_same_output(struct fctx *c, long ret)
{
	return memcmp(c->out, c->ref, INFO_SIZE) ?
		"the result differs from an undisturbed call's" : NULL;
}

static long call_map(struct fctx *c)
{
	return vt_map_dma(c->container, c->buf, IOVA, NPAGES * PAGE, RW) ?
		-1 : 0;
}

static const char *done_map(struct fctx *c, long ret)
{
	int n = vt_unmap_dma(c->container, IOVA, NPAGES * PAGE);

	return n == (int)(NPAGES * PAGE) ? NULL :
		"the mapping is not whole after MAP_DMA succeeded";
}

static const char *same_map(struct fctx *c)
{
	int n = vt_unmap_dma(c->container, IOVA, NPAGES * PAGE);

	return n == 0 ? NULL : "a failed MAP_DMA left a mapping behind";
}

/* The buffer's pages dropped: pinning must fault each one in again. */
static const char *pre_unfaulted(struct fctx *c)
{
	return madvise(c->buf, NPAGES * PAGE, MADV_DONTNEED) ?
		"cannot drop the buffer's pages" : NULL;
}

static const char *pre_unmap(struct fctx *c)
{
	return vt_map_dma(c->container, c->buf, IOVA, NPAGES * PAGE, RW) ?
		"cannot map" : NULL;
}

static long call_unmap(struct fctx *c)
{
	int n = vt_unmap_dma(c->container, IOVA, NPAGES * PAGE);

	if (n < 0) {
		errno = -n;
		return -1;
	}
	return n;
}

static const char *done_unmap(struct fctx *c, long ret)
{
	if (ret != (long)(NPAGES * PAGE))
		return "UNMAP_DMA did not unmap the whole mapping";
	/* Nothing is left: the range maps again. */
	if (vt_map_dma(c->container, c->buf, IOVA, NPAGES * PAGE, RW))
		return "the range does not map again after UNMAP_DMA";
	return vt_unmap_dma(c->container, IOVA, NPAGES * PAGE) ==
		(int)(NPAGES * PAGE) ? NULL : "cannot unmap";
}

/* --- group -------------------------------------------------------------- */

static int init_group_status(struct fctx *c)
{
	int ret = open_full(c);

	c->ref_ret = group_flags(c->group);
	return ret;
}

static long call_group_status(struct fctx *c)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	long ret = ioctl(c->group, VFIO_GROUP_GET_STATUS, &st);

	return ret ? ret : st.flags;
}

static const char *done_group_status(struct fctx *c, long ret)
{
	return ret == c->ref_ret ? NULL : "flags differ from an undisturbed call's";
}

static long call_set_container(struct fctx *c)
{
	return ioctl(c->group, VFIO_GROUP_SET_CONTAINER, &c->container);
}

static const char *done_set_container(struct fctx *c, long ret)
{
	if (!(group_flags(c->group) & VFIO_GROUP_FLAGS_CONTAINER_SET))
		return "CONTAINER_SET not reported after SET_CONTAINER";
	return ioctl(c->group, VFIO_GROUP_UNSET_CONTAINER) ?
		"cannot unset the container" : NULL;
}

static const char *same_set_container(struct fctx *c)
{
	return group_flags(c->group) & VFIO_GROUP_FLAGS_CONTAINER_SET ?
		"a failed SET_CONTAINER left the group in the container" : NULL;
}

/* A second group joins a container with a model and a mapping (CONT-12). */
static int init_join(struct fctx *c)
{
	int ret = open_full(c);

	if (ret)
		return ret;
	if (vt_map_dma(c->container, c->buf, IOVA, NPAGES * PAGE, RW))
		return -errno;
	c->group2 = vt_open_group(c->other.group);
	return c->group2 < 0 ? c->group2 : 0;
}

static long call_join(struct fctx *c)
{
	return ioctl(c->group2, VFIO_GROUP_SET_CONTAINER, &c->container);
}

static const char *done_join(struct fctx *c, long ret)
{
	if (!(group_flags(c->group2) & VFIO_GROUP_FLAGS_CONTAINER_SET))
		return "CONTAINER_SET not reported after SET_CONTAINER";
	return ioctl(c->group2, VFIO_GROUP_UNSET_CONTAINER) ?
		"cannot unset the container" : NULL;
}

static const char *same_join(struct fctx *c)
{
	if (group_flags(c->group2) & VFIO_GROUP_FLAGS_CONTAINER_SET)
		return "a failed SET_CONTAINER left the group in the container";
	/* The first group keeps its mapping. */
	if (vt_map_dma(c->container, c->buf, IOVA, PAGE, RW) != -EEXIST)
		return "the container lost its mapping";
	return NULL;
}

/* UNSET_CONTAINER of the last group, with a model and a mapping. */
static const char *pre_unset(struct fctx *c)
{
	if (ioctl(c->group, VFIO_GROUP_SET_CONTAINER, &c->container) ||
	    ioctl(c->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ||
	    vt_map_dma(c->container, c->buf, IOVA, NPAGES * PAGE, RW))
		return "cannot attach, set the model and map";
	return NULL;
}

static long call_unset(struct fctx *c)
{
	return ioctl(c->group, VFIO_GROUP_UNSET_CONTAINER);
}

static const char *done_unset(struct fctx *c, long ret)
{
	if (group_flags(c->group) & VFIO_GROUP_FLAGS_CONTAINER_SET)
		return "CONTAINER_SET still reported after UNSET_CONTAINER";
	return NULL;
}

static const char *same_unset(struct fctx *c)
{
	if (!(group_flags(c->group) & VFIO_GROUP_FLAGS_CONTAINER_SET))
		return "a failed UNSET_CONTAINER took the group out";
	if (vt_map_dma(c->container, c->buf, IOVA, PAGE, RW) != -EEXIST)
		return "a failed UNSET_CONTAINER lost the mapping";
	return NULL;
}

static long call_get_device_fd(struct fctx *c)
{
	return ioctl(c->group, VFIO_GROUP_GET_DEVICE_FD, c->dev.bdf);
}

static const char *done_get_device_fd(struct fctx *c, long ret)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int bad = ioctl((int)ret, VFIO_DEVICE_GET_INFO, &info);

	close((int)ret);
	return bad ? "the device fd does not work" : NULL;
}

/* --- device ------------------------------------------------------------- */

static long device_info(struct fctx *c, void *out)
{
	struct vfio_device_info *info = out;

	memset(out, 0, INFO_SIZE);
	info->argsz = INFO_SIZE;
	return ioctl(c->device, VFIO_DEVICE_GET_INFO, info);
}

static int init_device_info(struct fctx *c)
{
	int ret = open_full(c);

	return ret ? ret : device_info(c, c->ref) ? -errno : 0;
}

static long call_device_info(struct fctx *c)
{
	return device_info(c, c->out);
}

static long region_info(struct fctx *c, void *out, unsigned int index)
{
	struct vfio_region_info *info = out;

	memset(out, 0, INFO_SIZE);
	info->argsz = INFO_SIZE;
	info->index = index;
	return ioctl(c->device, VFIO_DEVICE_GET_REGION_INFO, info);
}

static int init_region_info(struct fctx *c)
{
	int ret = open_full(c);

	if (ret)
		return ret;
	return region_info(c, c->ref, VFIO_PCI_BAR0_REGION_INDEX) ? -errno : 0;
}

static long call_region_info(struct fctx *c)
{
	return region_info(c, c->out, VFIO_PCI_BAR0_REGION_INDEX);
}

static long irq_info(struct fctx *c, void *out)
{
	struct vfio_irq_info *info = out;

	memset(out, 0, INFO_SIZE);
	info->argsz = sizeof(*info);
	info->index = VFIO_PCI_INTX_IRQ_INDEX;
	return ioctl(c->device, VFIO_DEVICE_GET_IRQ_INFO, info);
}

static int init_irq_info(struct fctx *c)
{
	int ret = open_full(c);

	return ret ? ret : irq_info(c, c->ref) ? -errno : 0;
}

static long call_irq_info(struct fctx *c)
{
	return irq_info(c, c->out);
}

static int init_set_irqs(struct fctx *c)
{
	int ret = open_full(c);

	if (ret)
		return ret;
	c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return c->efd < 0 ? -errno : 0;
}

static long call_set_irqs(struct fctx *c)
{
	int ret = vt_set_irqs(c->device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, c->efd);

	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

static const char *done_set_irqs(struct fctx *c, long ret)
{
	/* MSI is on: INTx cannot be enabled beside it (IRQ-6). */
	if (vt_set_irqs(c->device, VFIO_PCI_INTX_IRQ_INDEX,
			VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, c->efd) != -EINVAL)
		return "MSI is not enabled after SET_IRQS succeeded";
	return vt_set_irqs(c->device, VFIO_PCI_MSI_IRQ_INDEX,
			   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, VT_NO_FD) ?
		"cannot disable MSI" : NULL;
}

static const char *same_set_irqs(struct fctx *c)
{
	/* MSI stayed off: INTx can be enabled, and off again. */
	if (vt_set_irqs(c->device, VFIO_PCI_INTX_IRQ_INDEX,
			VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, c->efd))
		return "a failed SET_IRQS left MSI enabled";
	return vt_set_irqs(c->device, VFIO_PCI_INTX_IRQ_INDEX,
			   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, VT_NO_FD) ?
		"cannot disable INTx" : NULL;
}

/* A device without reset fails RESET with EINVAL (DEV-14): -ENOTSUP. */
static int init_reset(struct fctx *c)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int ret = open_full(c);

	if (ret)
		return ret;
	if (ioctl(c->device, VFIO_DEVICE_GET_INFO, &info))
		return -errno;
	return info.flags & VFIO_DEVICE_FLAGS_RESET ? 0 : -ENOTSUP;
}

static long call_reset(struct fctx *c)
{
	return ioctl(c->device, VFIO_DEVICE_RESET);
}

static const char *done_reset(struct fctx *c, long ret)
{
	uint16_t vendor;

	if (vt_config_read16(c->device, 0, &vendor) || vendor != c->dev.vendor)
		return "config space unreadable after RESET";
	return NULL;
}

static int init_config(struct fctx *c)
{
	struct vfio_region_info info;
	int ret = open_full(c);

	if (ret)
		return ret;
	ret = vt_region_info(c->device, VFIO_PCI_CONFIG_REGION_INDEX, &info);
	if (ret)
		return ret;
	c->config = info.offset;
	return pread(c->device, c->ref, 64, c->config) == 64 ? 0 : -EIO;
}

static long call_config_read(struct fctx *c)
{
	memset(c->out, 0, INFO_SIZE);
	return pread(c->device, c->out, 64, c->config) == 64 ? 0 : -1;
}

static const char *done_config_read(struct fctx *c, long ret)
{
	return memcmp(c->out, c->ref, 64) ?
		"config space differs from an undisturbed read" : NULL;
}

static long call_config_write(struct fctx *c)
{
	/* The command register, written with the value it has. */
	return pwrite(c->device, c->ref + PCI_COMMAND_OFFSET, 2,
		      c->config + PCI_COMMAND_OFFSET) == 2 ? 0 : -1;
}

static const char *done_config_write(struct fctx *c, long ret)
{
	uint16_t cmd;

	if (vt_config_read16(c->device, PCI_COMMAND_OFFSET, &cmd) ||
	    memcmp(&cmd, c->ref + PCI_COMMAND_OFFSET, 2))
		return "the command register changed";
	return NULL;
}

/* --- the loop ------------------------------------------------------------ */

static bool errno_allowed(const struct fop *op, int err)
{
	int i;

	if (err == ENOMEM || err == EFAULT)
		return true;
	for (i = 0; op->errs[i]; i++)
		if (op->errs[i] == err)
			return true;
	return false;
}

/*
 * Aimed mode: all the points the call passes, faulting none (fail-nth
 * armed past any call's count), for the count of those left out.
 */
static int count_all_points(struct fctx *c, const struct fop *op,
			    struct inject *in)
{
	const char *why;
	int points;
	long ret;

	why = op->pre(c);
	if (why)
		return -1;
	nth_arm(in->nth, 1000000);
	ret = op->call(c);
	points = nth_count(in->nth, 1000000);
	if (ret < 0 || op->done(c, ret))
		return -1;
	return points;
}

static void fault_every_point(struct __test_metadata *_metadata,
			      struct fctx *c, const struct fop *op,
			      const char *attr)
{
	struct vt_leaks s0, s1, now;
	struct inject in;
	const char *why;
	int n, err, all = 0, failed = 0, points = -1;
	long ret;

	why = inject_open(&in, attr);
	ASSERT_EQ(NULL, why) TH_LOG("%s: cannot set up %s: %s", op->name, why,
				    strerror(errno));
	for (n = 1; n <= MAX_POINTS; n++) {
		vt_leaks_take(&s0);
		errno = 0;
		why = op->pre(c);
		ASSERT_EQ(NULL, why) TH_LOG("%s: fault %d: %s: %s", op->name, n,
					    why, strerror(errno));
		vt_leaks_take(&s1);

		inject_arm(&in, n);
		ret = op->call(c);
		err = errno;
		if (!inject_consumed(&in)) {
			/* Past the last fault point: an undisturbed call. */
			ASSERT_LE(0, ret) TH_LOG("%s fails without a fault: %s",
						 op->name, strerror(err));
			why = op->done(c, ret);
			ASSERT_EQ(NULL, why) TH_LOG("%s: %s", op->name, why);
			vt_assert_no_leaks(&s0, "%s: fault %d: not back after the call and its undo",
					   op->name, n);
			points = n - 1;
			break;
		}
		vt_leaks_take(&now);
		if (ret < 0 && err == EFAULT && op->result_last &&
		    !(vt_leaks_compare(&s0, &now, NULL, 0) &
		      (VT_LEAK_PINNED | VT_LEAK_LOCKED))) {
			/* Done, only its result lost: nothing left mapped. */
			failed++;
			ASSERT_EQ(0, vt_unmap_dma(c->container, IOVA, NPAGES * PAGE))
				TH_LOG("%s: fault %d: EFAULT, and the range is still mapped",
				       op->name, n);
			continue;
		}
		if (ret < 0) {
			failed++;
			ASSERT_TRUE(errno_allowed(op, err))
				TH_LOG("%s: fault %d: errno %d (%s) is not in its table",
				       op->name, n, err, strerror(err));
			why = op->same ? op->same(c) : NULL;
			ASSERT_EQ(NULL, why) TH_LOG("%s: fault %d: %s",
						    op->name, n, why);
			vt_assert_no_leaks(&s1, "%s: fault %d: left behind by the failed call",
					   op->name, n);
			/* The object is still usable: the same call works. */
			ret = op->call(c);
			ASSERT_LE(0, ret) TH_LOG("%s: fault %d: the call fails again afterwards: %s",
						 op->name, n, strerror(errno));
		}
		why = op->done(c, ret);
		ASSERT_EQ(NULL, why) TH_LOG("%s: fault %d: %s", op->name, n, why);
		vt_assert_no_leaks(&s0, "%s: fault %d: not back after the call and its undo",
				   op->name, n);
	}
	if (attr && points >= 0)
		all = count_all_points(c, op, &in);
	inject_close(&in);
	ASSERT_LE(0, points) TH_LOG("%s: more than %d fault points", op->name,
				    MAX_POINTS);
	if (attr) {
		ASSERT_LE(points, all) TH_LOG("%s: cannot count the call's points",
					      op->name);
		ksft_print_msg("fault points: %s %d (%d failed the call; aimed at the implementation's own points: %d of the call's %d points filtered out)\n",
			       op->name, points, failed, all - points, all);
	} else {
		ksft_print_msg("fault points: %s %d (%d failed the call)\n",
			       op->name, points, failed);
	}
	fflush(stdout);
}

FIXTURE(fault) {
	struct fctx c;
};

FIXTURE_SETUP(fault)
{
	struct fctx *c = &self->c;
	int fd;

	memset(c, 0, sizeof(*c));
	c->container = c->group = c->device = c->group2 = c->efd = -1;
	c->buf = MAP_FAILED;
	if (vt_select(VT_DEV_ALONE, 0, NULL, &c->dev))
		vt_skip_setup("no selected device alone in its group");
	fd = nth_open();
	if (fd < 0)
		vt_skip_setup("no /proc/thread-self/fail-nth (kernel without CONFIG_FAULT_INJECTION)");
	close(fd);
	setup_knobs();
	c->have_other = !vt_select_other_group(c->dev.group, VT_DEV_ANY, NULL,
						&c->other);
	c->buf = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c->buf);
	/* Faulted in: the call's fault points, not the page faults'. */
	memset(c->buf, 0x5a, NPAGES * PAGE);
}

FIXTURE_TEARDOWN(fault)
{
	struct fctx *c = &self->c;

	if (c->device >= 0)
		close(c->device);
	if (c->group2 >= 0)
		close(c->group2);
	if (c->group >= 0)
		close(c->group);
	if (c->container >= 0)
		close(c->container);
	if (c->efd >= 0)
		close(c->efd);
	if (c->buf != MAP_FAILED)
		munmap(c->buf, NPAGES * PAGE);
}

/* The kernel has the call's core bug and VFIO_FAULT_ALL does not ask for it. */
static bool core_bug_here(const struct fop *op, struct utsname *u)
{
	const char *p;
	size_t len;

	if (!op->core_bug || !op->bug_on || getenv("VFIO_FAULT_ALL") ||
	    uname(u))
		return false;
	for (p = op->bug_on; *p; p += len + strspn(p + len, " ")) {
		len = strcspn(p, " ");
		if (!strncmp(u->release, p, len))
			return true;
	}
	return false;
}

/* The implementation's own fault attribute, if it names one. */
static const char *own_attr(void)
{
	const char *attr = getenv("VFIO_FAULT_ATTR");

	return attr && *attr && !access(attr, F_OK) ? attr : NULL;
}

static void run(struct __test_metadata *_metadata, struct fctx *c,
		const struct fop *op)
{
	const char *attr = NULL;
	struct utsname u;
	int ret;

	if (core_bug_here(op, &u)) {
		attr = own_attr();
		if (!attr)
			SKIP(return, "%s: %s on %s, and the implementation names no fault attribute of its own (VFIO_FAULT_ATTR; VFIO_FAULT_ALL=1 faults it all)",
			     op->name, op->core_bug, u.release);
	}
	ret = op->init(c);
	if (ret == -ENOTSUP)
		SKIP(return, "%s: the device does not offer it", op->name);
	ASSERT_EQ(0, ret) TH_LOG("%s: setup: %s", op->name, strerror(-ret));
	fault_every_point(_metadata, c, op, attr);
}

/* SPEC: RES-1 RES-2 CONT-1 */
TEST_F_TIMEOUT(fault, GET_API_VERSION, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "GET_API_VERSION",
		.init = open_full, .pre = no_pre, .call = call_api_version,
		.done = done_api_version,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 CONT-2 */
TEST_F_TIMEOUT(fault, CHECK_EXTENSION, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "CHECK_EXTENSION",
		.init = open_full, .pre = no_pre, .call = call_check_extension,
		.done = done_check_extension,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 CONT-4 CONT-11 */
TEST_F_TIMEOUT(fault, SET_IOMMU, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "SET_IOMMU",
		.init = open_attached, .pre = no_pre, .call = call_set_iommu,
		.done = done_set_iommu, .same = same_set_iommu, .errs = { EBUSY, EIO },
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 DMA-1 DMA-2 */
TEST_F_TIMEOUT(fault, IOMMU_GET_INFO, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "IOMMU_GET_INFO",
		.init = init_iommu_info, .pre = no_pre, .call = call_iommu_info,
		.done = done_same_output,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 DMA-4 DMA-15 */
TEST_F_TIMEOUT(fault, MAP_DMA, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "MAP_DMA",
		.init = open_full, .pre = no_pre, .call = call_map, .done = done_map,
		.same = same_map,
	};

	run(_metadata, &self->c, &op);
}

/*
 * The buffer not faulted in: pinning allocates each of the 64 pages, so
 * faults fall in the middle of pinning, and every page pinned before the
 * fault must be released (DMA-15).
 */
/* SPEC: RES-1 RES-2 DMA-4 DMA-15 */
TEST_F_TIMEOUT(fault, MAP_DMA_unfaulted, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "MAP_DMA_unfaulted",
		.init = open_full, .pre = pre_unfaulted, .call = call_map,
		.done = done_map, .same = same_map,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 DMA-16 */
TEST_F_TIMEOUT(fault, UNMAP_DMA, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "UNMAP_DMA",
		.init = open_full, .pre = pre_unmap, .call = call_unmap,
		.done = done_unmap, .result_last = true,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 GROUP-5 */
TEST_F_TIMEOUT(fault, GROUP_GET_STATUS, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "GROUP_GET_STATUS",
		.init = init_group_status, .pre = no_pre, .call = call_group_status,
		.done = done_group_status,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 GROUP-8 */
TEST_F_TIMEOUT(fault, SET_CONTAINER, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "SET_CONTAINER",
		.init = open_detached, .pre = no_pre, .call = call_set_container,
		.done = done_set_container, .same = same_set_container,
		/*
		 * EINVAL (its table's): 6.1's IOMMU core when it cannot
		 * allocate the group's blocking domain, at its first claim.
		 */
		.errs = { EBUSY, EINVAL },
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 CONT-12 */
TEST_F_TIMEOUT(fault, SET_CONTAINER_join, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "SET_CONTAINER_join", .init = init_join, .pre = no_pre,
		.call = call_join, .done = done_join, .same = same_join,
		/* EINVAL as for SET_CONTAINER: the second group's first claim. */
		.errs = { EBUSY, EPERM, EIO, EINVAL }, .core_bug = JOIN_BUG,
		/* 6.12: 52 and 53 points in two runs, no report. */
		.bug_on = "6.1.",
	};

	if (!self->c.have_other)
		SKIP(return, "no selected device in a second group");
	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 GROUP-14 CONT-11 */
TEST_F_TIMEOUT(fault, UNSET_CONTAINER, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "UNSET_CONTAINER",
		.init = open_detached, .pre = pre_unset, .call = call_unset,
		.done = done_unset, .same = same_unset, .core_bug = DETACH_BUG,
		.bug_on = KNOWN_ON,
	};

	run(_metadata, &self->c, &op);
}

/* A second device fd: the device is enabled already. */
/* SPEC: RES-1 RES-2 GROUP-18 */
TEST_F_TIMEOUT(fault, GET_DEVICE_FD, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "GET_DEVICE_FD",
		.init = open_full, .pre = no_pre, .call = call_get_device_fd,
		.done = done_get_device_fd, .errs = { EBUSY },
	};

	run(_metadata, &self->c, &op);
}

/* The first device fd: the implementation enables the PCI device. */
/* SPEC: RES-1 RES-2 GROUP-18 */
TEST_F_TIMEOUT(fault, GET_DEVICE_FD_first, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "GET_DEVICE_FD_first",
		.init = open_model, .pre = no_pre, .call = call_get_device_fd,
		.done = done_get_device_fd, .errs = { EBUSY },
		.core_bug = "a fault in the ACPI _PRT lookup of pci_enable_device() frees an ACPI object still in use (KASAN use-after-free)",
		.bug_on = KNOWN_ON,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 DEV-1 */
TEST_F_TIMEOUT(fault, DEVICE_GET_INFO, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "DEVICE_GET_INFO",
		.init = init_device_info, .pre = no_pre, .call = call_device_info,
		.done = done_same_output,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 DEV-5 */
TEST_F_TIMEOUT(fault, GET_REGION_INFO, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "GET_REGION_INFO",
		.init = init_region_info, .pre = no_pre, .call = call_region_info,
		.done = done_same_output,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 IRQ-1 */
TEST_F_TIMEOUT(fault, GET_IRQ_INFO, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "GET_IRQ_INFO",
		.init = init_irq_info, .pre = no_pre, .call = call_irq_info,
		.done = done_same_output,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 IRQ-2 IRQ-4 IRQ-6 */
TEST_F_TIMEOUT(fault, SET_IRQS, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "SET_IRQS",
		.init = init_set_irqs, .pre = no_pre, .call = call_set_irqs,
		.errs = { ENOSPC },
		.done = done_set_irqs, .same = same_set_irqs,
		.core_bug = "a fault in register_irq_proc() of an MSI vector makes its later unregister_irq_proc() WARN in remove_proc_entry()",
		.bug_on = KNOWN_ON,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 DEV-13 DEV-12 */
TEST_F_TIMEOUT(fault, RESET, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "RESET",
		.init = init_reset, .pre = no_pre, .call = call_reset,
		.done = done_reset,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 DEV-6 DEV-10 */
TEST_F_TIMEOUT(fault, config_pread, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "config_pread",
		.init = init_config, .pre = no_pre, .call = call_config_read,
		.done = done_config_read,
	};

	run(_metadata, &self->c, &op);
}

/* SPEC: RES-1 RES-2 DEV-6 DEV-10 */
TEST_F_TIMEOUT(fault, config_pwrite, FAULT_TIMEOUT)
{
	static const struct fop op = {
		.name = "config_pwrite",
		.init = init_config, .pre = no_pre, .call = call_config_write,
		.done = done_config_write,
	};

	run(_metadata, &self->c, &op);
}

TEST_HARNESS_MAIN
