// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz - a bounded, replayable fuzzer of the VFIO container, group and device
 * files.
 *
 * Several threads run random sequences of calls on a shared table of fds
 * (containers, groups, device files): the ioctls of each file, pread,
 * pwrite, mmap and close, valid calls mixed with random argsz, flags,
 * indexes, offsets, sizes, fds and pointers (NULL, inaccessible, read-only,
 * kernel addresses). Ideas from syzkaller; no code from it.
 *
 * - The seed is printed first. Thread t draws every choice from its own
 *   generator seeded with (seed, t), and no choice depends on a result, so
 *   "--seed S --ops N --threads T" repeats each thread's sequence exactly
 *   (with --threads 1 the whole run).
 * - A monitor thread bounds each call (--op-timeout): a call that takes
 *   longer is a hang, printed with its thread, number, arguments and the
 *   seed; the program exits 3.
 * - Every errno is checked against the errors that the specification allows
 *   for that call (the spec's error tables, COMPAT-9, COMPAT-3, COMPAT-6); an
 *   unexpected one is printed with the call, its arguments and the seed, and
 *   fails the run.
 * - The fuzzing runs in a child process. After its threads end it closes
 *   everything, and its own locked memory (VmLck) must be back where it
 *   started; after it exits, the system's pinned pages must be back too.
 * - Last, a histogram: calls per kind, and per kind each errno seen.
 *
 * Without arguments, the arguments come from $VFIO_FUZZ_ARGS, or are a short
 * run (as the testbed runs it). Exit status: 0 clean, 1 an unexpected errno
 * or a leak, 2 usage or setup, 3 a hang, 4 nothing to fuzz (no edu device).
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "engine.h"

#define PAGE		4096UL
#define MAX_THREADS	16
#define NCONT		3	/* slots 0..2: containers */
#define NGRP		4	/* slots 3..6: groups */
#define NDEV		6	/* slots 7..12: device files */
#define NSLOTS		(NCONT + NGRP + NDEV)
#define BUF_PAGES	64
#define IOVA_BASE	0x100000UL
#define KERNEL_PTR	0xffffffff81000000UL
#define MAX_ERRNO	134

/* --- calls and the errnos the specification allows for each ------------ */

enum call {
	C_SETUP, C_OPEN_CONTAINER, C_OPEN_GROUP, C_CLOSE, C_API_VERSION,
	C_CHECK_EXTENSION, C_SET_IOMMU, C_IOMMU_INFO, C_MAP, C_UNMAP,
	C_GROUP_STATUS, C_SET_CONTAINER, C_UNSET_CONTAINER, C_GET_DEVICE_FD,
	C_DEVICE_INFO, C_REGION_INFO, C_IRQ_INFO, C_SET_IRQS, C_RESET,
	C_PREAD, C_PWRITE, C_MMAP, C_UNKNOWN_IOCTL, NCALLS
};

struct call_desc {
	const char *name;
	unsigned int weight;	/* relative frequency */
	int allowed[12];	/* 0-terminated */
};

/*
 * EBADF: the slot's fd was closed (every fd call). EFAULT: a bad pointer
 * (COMPAT-6). EINVAL: argsz or flags (COMPAT-9, COMPAT-3). The rest from
 * each call's error table.
 */
static const struct call_desc calls[NCALLS] = {
	/* A valid chain of the calls below; counted under their names. */
	[C_SETUP] = { "(setup chain)", 8, { 0 } },
	[C_OPEN_CONTAINER] = { "open(container)", 2, { 0 } },
	[C_OPEN_GROUP] = { "open(group)", 3, { EBUSY, ENODEV } },
	[C_CLOSE] = { "close", 4, { EBADF } },
	[C_API_VERSION] = { "GET_API_VERSION", 2, { EBADF } },
	[C_CHECK_EXTENSION] = { "CHECK_EXTENSION", 2, { EBADF } },
	[C_SET_IOMMU] = { "SET_IOMMU", 5,
		{ EBADF, EINVAL, ENODEV, EPERM, EBUSY, ENOMEM } },
	[C_IOMMU_INFO] = { "IOMMU_GET_INFO", 3, { EBADF, EINVAL, EFAULT } },
	[C_MAP] = { "MAP_DMA", 12,
		{ EBADF, EINVAL, EEXIST, ENOSPC, ENOMEM, EFAULT, EOVERFLOW } },
	[C_UNMAP] = { "UNMAP_DMA", 10, { EBADF, EINVAL, EFAULT, EOVERFLOW } },
	[C_GROUP_STATUS] = { "GROUP_GET_STATUS", 3, { EBADF, EINVAL, EFAULT } },
	[C_SET_CONTAINER] = { "SET_CONTAINER", 6,
		{ EBADF, EPERM, EINVAL, EBADFD, EFAULT, EBUSY } },
	[C_UNSET_CONTAINER] = { "UNSET_CONTAINER", 4, { EBADF, EINVAL, EBUSY } },
	[C_GET_DEVICE_FD] = { "GET_DEVICE_FD", 6,
		{ EBADF, EINVAL, ENODEV, EFAULT, EPERM, EBUSY } },
	[C_DEVICE_INFO] = { "DEVICE_GET_INFO", 3, { EBADF, EINVAL, EFAULT } },
	[C_REGION_INFO] = { "GET_REGION_INFO", 4, { EBADF, EINVAL, EFAULT } },
	[C_IRQ_INFO] = { "GET_IRQ_INFO", 3, { EBADF, EINVAL, EFAULT } },
	[C_SET_IRQS] = { "SET_IRQS", 6,
		{ EBADF, EINVAL, EFAULT, ENOTTY, ERANGE } },
	[C_RESET] = { "RESET", 1, { EBADF, EINVAL } },
	[C_PREAD] = { "pread", 6, { EBADF, EINVAL, EFAULT, EIO } },
	[C_PWRITE] = { "pwrite", 4, { EBADF, EINVAL, EFAULT, EIO } },
	[C_MMAP] = { "mmap", 3, { EBADF, EINVAL } },
	[C_UNKNOWN_IOCTL] = { "unknown ioctl", 2, { EBADF, ENOTTY, EINVAL } },
};

/* --- options and shared state ----------------------------------------- */

static uint64_t opt_seed;
static long opt_ops = 10000;
static int opt_threads = 4;
static int opt_duration = 15;	/* seconds: a bound, ops come first */
static int opt_op_timeout = 60;
static int opt_verbose;
/*
 * The odd-numbered threads run as this uid (and gid) when it is not 0,
 * without capabilities, as a VMM's user does (spec: Security); the node of
 * the first group is given to it for the run, the others stay root's.
 */
static unsigned int opt_uid = 1000;
static int owned_group = -1;	/* the group whose node opt_uid owns */
static struct vt_node owned_saved;
/* The process's RLIMIT_MEMLOCK with unprivileged threads: 32 pages. */
#define UNPRIV_MEMLOCK	(32 * PAGE)

struct slot {
	pthread_rwlock_t lock;	/* read: a call uses fd; write: open/close */
	int fd;
};

static struct slot slots[NSLOTS];
static struct vt_pci_dev edus[VT_MAX_DEVICES];
static int nedus;
static int groups[VT_MAX_DEVICES];
static int ngroups;
static char *buf;		/* BUF_PAGES of anonymous memory */
static char *ro_page;		/* a read-only page */
static char *hole;		/* a page mapped without access */
static volatile int stop;
static volatile int failed;
static time_t deadline;

struct tstate {
	int id;
	uint64_t rng;
	long done;
	int efd[2];
	bool chaos;		/* this call's arguments may be invalid */
	bool unpriv;		/* runs as opt_uid, without capabilities */
	bool eacces_ok;		/* the open in progress may fail with EACCES */
	sigjmp_buf bus_env;
	volatile int in_touch;
	/* For the monitor: the call in progress, and since when. */
	volatile int64_t start_ns;
	char what[256];
};

static struct tstate ts[MAX_THREADS];
static unsigned long hist[NCALLS][MAX_ERRNO + 1];	/* [0]: successes */
static unsigned long ncalls[NCALLS];
static unsigned long unexpected[NCALLS][MAX_ERRNO + 1];
static bool upstream;		/* the kernel's own vfio-pci is under test */
static bool type1;		/* ... with VFIO's own container, type1 */
static bool iommufd;		/* ... with iommufd's compatibility container */
/*
 * Linux 6.1 passes a container's model ioctls (MAP_DMA...) to type1
 * without the container's lock, so a group leaving at the same time frees
 * the type1 state under the ioctl (KASAN use-after-free). On the kernel's
 * VFIO the fuzzer keeps calls that can detach a group (UNSET_CONTAINER, a
 * close) apart from the others, unless --races.
 */
static pthread_rwlock_t detach_lock = PTHREAD_RWLOCK_INITIALIZER;
static bool opt_races;
static bool opt_hole_repro;
static bool avoid_detach_race;

/*
 * Deviations of the kernel's own VFIO from the error tables, found by this
 * fuzzer: accepted (and counted) only when that implementation is under
 * test. Each names the requirement it deviates from; one without (req
 * NULL) is an errno the tables allow only with a feature that the kernel's
 * VFIO has and another implementation need not.
 */
static const struct deviation {
	enum call call;
	int err;
	const char *req;
	const char *why;
	bool iommufd;		/* iommufd's compatibility container only */
} deviations[] = {
	/* vfio_pci_setup_barmap() requests the BAR without a lock. */
	{ C_PREAD, EBUSY, "DEV-6",
	  "two first accesses of a BAR at once: the second finds the BAR region already requested and fails with EBUSY", false },
	{ C_PWRITE, EBUSY, "DEV-6",
	  "two first accesses of a BAR at once: the second finds the BAR region already requested and fails with EBUSY", false },
	{ C_MMAP, EBUSY, "DEV-7",
	  "two first accesses of a BAR at once: the second finds the BAR region already requested and fails with EBUSY", false },
	/* Not a deviation (req NULL): the table's errno of a feature it has. */
	{ C_SET_IRQS, EBUSY, NULL,
	  "DATA_EVENTFD | ACTION_UNMASK on INTx while an unmask eventfd is registered (the device errors table; the reference driver offers no unmask eventfds)", false },
	/* iommufd's compatibility container (drivers/iommu/iommufd/vfio_compat.c). */
	{ C_MAP, ENODEV, "CONT-9",
	  "iommufd: the model ioctls look up the compat IOAS, which only a group's SET_CONTAINER creates", true },
	{ C_UNMAP, ENODEV, "CONT-9",
	  "iommufd: the model ioctls look up the compat IOAS, which only a group's SET_CONTAINER creates", true },
	{ C_IOMMU_INFO, ENODEV, "CONT-9",
	  "iommufd: the model ioctls look up the compat IOAS, which only a group's SET_CONTAINER creates", true },
	{ C_UNMAP, ENOENT, "DMA-17",
	  "iommufd: an unmap that would split a mapping fails with ENOENT (iopt_unmap_iova_range)", true },
	{ C_UNMAP, EBUSY, "DMA-16",
	  "iommufd: an unmap that meets a mapping another thread's MAP_DMA is still filling (area->pages NULL) fails with EBUSY (iopt_unmap_iova_range)", true },
	{ C_SET_IOMMU, EADDRINUSE, "DMA-5",
	  "iommufd: TYPE1 disables large pages, raising the IOAS's alignment to PAGE_SIZE; a mapping made unaligned before (alignment 1 without a domain) fails it with EADDRINUSE (iopt_check_iova_alignment)", true },
	{ C_GET_DEVICE_FD, EADDRINUSE, "DMA-9",
	  "iommufd: the device's first open attaches its domain to the IOAS, which fails with EADDRINUSE when an earlier mapping covers one of its reserved regions or is unaligned for it (iopt_reserve_iova, iopt_check_iova_alignment)", true },
	{ C_CHECK_EXTENSION, ENODEV, "CONT-2",
	  "iommufd: CHECK_EXTENSION(VFIO_DMA_CC_IOMMU) looks up the compat IOAS (iommufd_vfio_cc_iommu, get_compat_ioas), which only a group's SET_CONTAINER creates: on a container without one it fails with ENODEV (6.12.95)", true },
	{ C_UNKNOWN_IOCTL, EFAULT, "CONT-10",
	  "iommufd: ioctl numbers of iommufd's own ABI (';' 0x80 on) reach iommufd_fops_ioctl, which reads a size from the argument first", true },
};

static unsigned long deviation_seen[sizeof(deviations) / sizeof(deviations[0])];

static bool known_deviation(enum call c, int err)
{
	unsigned int i;

	if (!upstream)
		return false;
	for (i = 0; i < sizeof(deviations) / sizeof(deviations[0]); i++)
		if (deviations[i].call == c && deviations[i].err == err &&
		    (!deviations[i].iommufd || iommufd)) {
			__atomic_fetch_add(&deviation_seen[i], 1,
					   __ATOMIC_RELAXED);
			return true;
		}
	return false;
}

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* splitmix64: one stream per thread. */
static uint64_t rnd(struct tstate *t)
{
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rn(struct tstate *t, unsigned int n)
{
	return n ? rnd(t) % n : 0;
}

static bool one_in(struct tstate *t, unsigned int n)
{
	return rn(t, n) == 0;
}

/* --- argument generators ------------------------------------------------ */

enum ptr_kind { P_VALID, P_NULL, P_HOLE, P_RDONLY, P_KERNEL, P_STRADDLE };

static const char *const ptr_names[] = {
	"valid", "NULL", "no-access", "read-only", "kernel", "straddling",
};

/* Mostly the valid pointer, now and then a bad one. */
static void *pick_ptr(struct tstate *t, void *valid, size_t len,
		      enum ptr_kind *kind)
{
	*kind = one_in(t, 4) ? 1 + rn(t, 5) : P_VALID;
	if (!t->chaos)
		*kind = P_VALID;
	switch (*kind) {
	case P_NULL:
		return NULL;
	case P_HOLE:
		return hole + rn(t, PAGE);
	case P_RDONLY:
		return ro_page;
	case P_KERNEL:
		return (void *)KERNEL_PTR;
	case P_STRADDLE:
		/* Its end runs into the inaccessible page after buf. */
		return buf + BUF_PAGES * PAGE - (len > 1 ? len / 2 : 1);
	default:
		return valid;
	}
}

static uint32_t pick_argsz(struct tstate *t, uint32_t size)
{
	switch (t->chaos ? rn(t, 8) : 7) {
	case 0:
		return 0;
	case 1:
		return size - 1;
	case 2:
		return size + rn(t, 64);
	case 3:
		return rnd(t);
	default:
		return size;
	}
}

static uint32_t pick_flags(struct tstate *t, uint32_t valid)
{
	if (!t->chaos)
		return valid;
	if (one_in(t, 6))
		return rnd(t);
	if (one_in(t, 8))
		return valid | (1u << rn(t, 32));
	return valid;
}

/* --- slots -------------------------------------------------------------- */

static int slot_get(int s)
{
	pthread_rwlock_rdlock(&slots[s].lock);
	return slots[s].fd;
}

static void slot_put(int s)
{
	pthread_rwlock_unlock(&slots[s].lock);
}

/* Put a new fd in slot @s, closing what it held. */
static void slot_set(int s, int fd)
{
	pthread_rwlock_wrlock(&slots[s].lock);
	if (slots[s].fd >= 0)
		close(slots[s].fd);
	slots[s].fd = fd;
	pthread_rwlock_unlock(&slots[s].lock);
}

static int cont_slot(struct tstate *t) { return rn(t, NCONT); }
/* Mostly one slot per group; the others try a second open (EBUSY). */
static int group_slot(struct tstate *t)
{
	return NCONT + (one_in(t, 8) ? rn(t, NGRP) : rn(t, ngroups));
}

static int dev_slot(struct tstate *t) { return NCONT + NGRP + rn(t, NDEV); }

static int slot_group(int s)
{
	return groups[(s - NCONT) % ngroups];
}

/* --- one call ----------------------------------------------------------- */

static bool allowed(struct tstate *t, enum call c, int err)
{
	int i;

	/* SEC-8: a group node whose permissions do not grant the thread. */
	if (err == EACCES)
		return c == C_OPEN_GROUP && t->eacces_ok;
	if (err == EBADF && c != C_OPEN_CONTAINER && c != C_OPEN_GROUP)
		return true;
	for (i = 0; calls[c].allowed[i]; i++)
		if (calls[c].allowed[i] == err)
			return true;
	return false;
}

static void begin(struct tstate *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void begin(struct tstate *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->what, sizeof(t->what), fmt, ap);
	va_end(ap);
	__atomic_store_n(&t->start_ns, now_ns(), __ATOMIC_RELEASE);
}

/* Record the result of the call begun; ret < 0 means failure with @err. */
static void end(struct tstate *t, enum call c, long ret, int err)
{
	__atomic_store_n(&t->start_ns, 0, __ATOMIC_RELEASE);
	__atomic_fetch_add(&ncalls[c], 1, __ATOMIC_RELAXED);
	if (ret >= 0) {
		__atomic_fetch_add(&hist[c][0], 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&hist[c][err > 0 && err <= MAX_ERRNO ? err : 0],
			   1, __ATOMIC_RELAXED);
	if (allowed(t, c, err))
		return;
	if (known_deviation(c, err))
		return;
	/* Each unexpected (call, errno) once, with its arguments. */
	if (__atomic_fetch_add(&unexpected[c][err > 0 && err <= MAX_ERRNO ?
					       err : 0], 1, __ATOMIC_RELAXED))
		return;
	printf("# FAIL: unexpected errno %d (%s): thread %d op %ld: %s\n",
	       err, strerror(err), t->id, t->done, t->what);
	printf("# replay: --seed %#" PRIx64 " --ops %ld --threads %d\n",
	       opt_seed, opt_ops, opt_threads);
	fflush(stdout);
	failed = 1;
}

#define DO_IOCTL(t, c, fd, req, arg, ...) do { \
	long _r; \
	begin(t, __VA_ARGS__); \
	_r = ioctl(fd, req, arg); \
	end(t, c, _r, errno); \
} while (0)

static void op_open_container(struct tstate *t)
{
	int s = cont_slot(t), fd;

	begin(t, "open(/dev/vfio/vfio) -> slot %d", s);
	fd = open(VT_CONTAINER_PATH, O_RDWR | O_CLOEXEC);
	end(t, C_OPEN_CONTAINER, fd, errno);
	if (fd >= 0)
		slot_set(s, fd);
}

static void op_open_group(struct tstate *t)
{
	int s = group_slot(t), g = slot_group(s), fd;
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	/* Closing the slot first lets the same group be opened again. */
	if (one_in(t, 2))
		slot_set(s, -1);
	begin(t, "open(%s) -> slot %d%s", path, s, t->unpriv ? " as uid" : "");
	t->eacces_ok = t->unpriv && g != owned_group;
	fd = open(path, O_RDWR | O_CLOEXEC);
	end(t, C_OPEN_GROUP, fd, errno);
	t->eacces_ok = false;
	if (fd >= 0)
		slot_set(s, fd);
}

/*
 * The valid chain a VMM makes: container, group, SET_CONTAINER, SET_IOMMU,
 * GET_DEVICE_FD, into the slots that belong together (group slot g uses
 * container slot g % NCONT). Each step is made whatever the state: an
 * already open slot makes SET_CONTAINER or SET_IOMMU fail, which is fine.
 */
static void op_setup(struct tstate *t)
{
	int g = group_slot(t), c = (g - NCONT) % NCONT, d = dev_slot(t);
	int grp = slot_group(g), i, fd, gfd, cfd, e = rn(t, nedus);
	bool reopen = one_in(t, 8);
	char path[64];
	long r;

	if (reopen || slots[c].fd < 0) {
		begin(t, "setup: open(/dev/vfio/vfio) -> slot %d", c);
		fd = open(VT_CONTAINER_PATH, O_RDWR | O_CLOEXEC);
		end(t, C_OPEN_CONTAINER, fd, errno);
		if (fd >= 0)
			slot_set(c, fd);
	}
	if (reopen || slots[g].fd < 0) {
		slot_set(g, -1);
		snprintf(path, sizeof(path), "/dev/vfio/%d", grp);
		begin(t, "setup: open(%s) -> slot %d%s", path, g,
		      t->unpriv ? " as uid" : "");
		t->eacces_ok = t->unpriv && grp != owned_group;
		fd = open(path, O_RDWR | O_CLOEXEC);
		end(t, C_OPEN_GROUP, fd, errno);
		t->eacces_ok = false;
		if (fd >= 0)
			slot_set(g, fd);
	}
	gfd = slot_get(g);
	cfd = slot_get(c);
	DO_IOCTL(t, C_SET_CONTAINER, gfd, VFIO_GROUP_SET_CONTAINER, &cfd,
		 "setup: SET_CONTAINER(slot %d, slot %d)", g, c);
	DO_IOCTL(t, C_SET_IOMMU, cfd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU,
		 "setup: SET_IOMMU(slot %d, TYPE1v2)", c);
	/* An edu of this group. */
	for (i = 0; i < nedus && edus[(e + i) % nedus].group != grp; i++)
		;
	begin(t, "setup: GET_DEVICE_FD(slot %d, %s) -> slot %d", g,
	      edus[(e + i) % nedus].bdf, d);
	r = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, edus[(e + i) % nedus].bdf);
	end(t, C_GET_DEVICE_FD, r, errno);
	slot_put(c);
	slot_put(g);
	if (r >= 0)
		slot_set(d, r);
}

static void op_close(struct tstate *t)
{
	int s = rn(t, NSLOTS);

	begin(t, "close(slot %d)", s);
	slot_set(s, -1);
	end(t, C_CLOSE, 0, 0);
}

static void op_container_simple(struct tstate *t, enum call c)
{
	int s = cont_slot(t), fd = slot_get(s);
	unsigned long arg = rn(t, 4) ? VFIO_TYPE1v2_IOMMU : rn(t, 16);

	if (one_in(t, 10))
		arg = rnd(t);
	if (c == C_API_VERSION)
		DO_IOCTL(t, c, fd, VFIO_GET_API_VERSION, 0,
			 "GET_API_VERSION(slot %d)", s);
	else if (c == C_CHECK_EXTENSION)
		DO_IOCTL(t, c, fd, VFIO_CHECK_EXTENSION, arg,
			 "CHECK_EXTENSION(slot %d, %#lx)", s, arg);
	else
		DO_IOCTL(t, c, fd, VFIO_SET_IOMMU, arg,
			 "SET_IOMMU(slot %d, %#lx)", s, arg);
	slot_put(s);
}

static void op_iommu_info(struct tstate *t)
{
	int s = cont_slot(t), fd = slot_get(s);
	char out[256] __attribute__((aligned(8)));
	struct vfio_iommu_type1_info *info = (void *)out;
	enum ptr_kind pk;
	void *p;

	memset(out, 0, sizeof(out));
	info->argsz = pick_argsz(t, rn(t, 2) ? sizeof(out) : 16);
	if (info->argsz > sizeof(out))
		info->argsz = sizeof(out);
	p = pick_ptr(t, info, sizeof(out), &pk);
	DO_IOCTL(t, C_IOMMU_INFO, fd, VFIO_IOMMU_GET_INFO, p,
		 "IOMMU_GET_INFO(slot %d, argsz %u, ptr %s)", s, info->argsz,
		 ptr_names[pk]);
	slot_put(s);
}

static uint64_t pick_len(struct tstate *t)
{
	switch (t->chaos ? rn(t, 10) : 9) {
	case 0:
		return 0;
	case 1:
		return 1 + rn(t, PAGE - 1);
	case 2:
		return rnd(t);
	case 3:
		return -PAGE;
	default:
		return (1 + rn(t, 8)) * PAGE;
	}
}

static uint64_t pick_iova(struct tstate *t)
{
	switch (t->chaos ? rn(t, 10) : 9) {
	case 0:
		return rnd(t);
	case 1:
		return 0xfee00000UL;	/* the MSI window: reserved */
	case 2:
		return IOVA_BASE + rn(t, PAGE);
	case 3:
		return -PAGE;
	default:
		return IOVA_BASE + rn(t, BUF_PAGES) * PAGE;
	}
}

static void op_map(struct tstate *t)
{
	int s = cont_slot(t), fd = slot_get(s);
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	const char *vk = "buf";
	enum ptr_kind pk;
	void *p;

	map.argsz = pick_argsz(t, sizeof(map));
	map.flags = pick_flags(t, 1 + rn(t, 3));
	map.iova = pick_iova(t);
	map.size = pick_len(t);
	map.vaddr = (uintptr_t)(buf + rn(t, BUF_PAGES - 8) * PAGE);
	switch (t->chaos ? rn(t, 6) : 5) {
	case 0:
		map.vaddr = (uintptr_t)hole, vk = "no-access";
		break;
	case 1:
		map.vaddr = (uintptr_t)ro_page, vk = "read-only";
		break;
	case 2:
		map.vaddr = KERNEL_PTR, vk = "kernel";
		break;
	case 3:
		map.vaddr += 1 + rn(t, PAGE - 1), vk = "unaligned";
		break;
	}
	p = pick_ptr(t, &map, sizeof(map), &pk);
	DO_IOCTL(t, C_MAP, fd, VFIO_IOMMU_MAP_DMA, p,
		 "MAP_DMA(slot %d, argsz %u, flags %#x, vaddr %s+%#lx, iova %#llx, size %#llx, ptr %s)",
		 s, map.argsz, map.flags, vk,
		 (unsigned long)(map.vaddr & (PAGE * BUF_PAGES - 1)),
		 (unsigned long long)map.iova, (unsigned long long)map.size,
		 ptr_names[pk]);
	slot_put(s);
}

static void op_unmap(struct tstate *t)
{
	int s = cont_slot(t), fd = slot_get(s);
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	enum ptr_kind pk;
	void *p;

	unmap.argsz = pick_argsz(t, sizeof(unmap));
	unmap.flags = one_in(t, 6) ? VFIO_DMA_UNMAP_FLAG_ALL : 0;
	unmap.flags = pick_flags(t, unmap.flags);
	unmap.iova = unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL && rn(t, 2) ?
		0 : pick_iova(t);
	unmap.size = unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL && rn(t, 2) ?
		0 : rn(t, 3) ? pick_len(t) : BUF_PAGES * PAGE;
	p = pick_ptr(t, &unmap, sizeof(unmap), &pk);
	DO_IOCTL(t, C_UNMAP, fd, VFIO_IOMMU_UNMAP_DMA, p,
		 "UNMAP_DMA(slot %d, argsz %u, flags %#x, iova %#llx, size %#llx, ptr %s)",
		 s, unmap.argsz, unmap.flags, (unsigned long long)unmap.iova,
		 (unsigned long long)unmap.size, ptr_names[pk]);
	slot_put(s);
}

static void op_group_status(struct tstate *t)
{
	int s = group_slot(t), fd = slot_get(s);
	struct vfio_group_status st;
	enum ptr_kind pk;
	void *p;

	st.argsz = pick_argsz(t, sizeof(st));
	st.flags = rnd(t);
	p = pick_ptr(t, &st, sizeof(st), &pk);
	DO_IOCTL(t, C_GROUP_STATUS, fd, VFIO_GROUP_GET_STATUS, p,
		 "GROUP_GET_STATUS(slot %d, argsz %u, ptr %s)", s, st.argsz,
		 ptr_names[pk]);
	slot_put(s);
}

static void op_set_container(struct tstate *t)
{
	int s = group_slot(t), c = cont_slot(t), kind = rn(t, 8);
	int fd = slot_get(s), cfd = slot_get(c), arg = cfd;
	enum ptr_kind pk;
	void *p;

	/* Now and then not a container: an eventfd, a bad or closed fd. */
	if (kind == 0)
		arg = t->efd[0];
	else if (kind == 1)
		arg = -1;
	else if (kind == 2)
		arg = 1000 + rn(t, 24);
	p = pick_ptr(t, &arg, sizeof(arg), &pk);
	DO_IOCTL(t, C_SET_CONTAINER, fd, VFIO_GROUP_SET_CONTAINER, p,
		 "SET_CONTAINER(slot %d, fd %d (slot %d kind %d), ptr %s)", s,
		 arg, c, kind, ptr_names[pk]);
	slot_put(c);
	slot_put(s);
}

static void op_unset_container(struct tstate *t)
{
	int s = group_slot(t), fd = slot_get(s);

	DO_IOCTL(t, C_UNSET_CONTAINER, fd, VFIO_GROUP_UNSET_CONTAINER, 0,
		 "UNSET_CONTAINER(slot %d)", s);
	slot_put(s);
}

static void op_get_device_fd(struct tstate *t)
{
	int s = group_slot(t), d = dev_slot(t), fd = slot_get(s), dfd;
	char name[40];
	const char *nk = "edu";
	enum ptr_kind pk;
	void *p;
	long r;

	memcpy(name, edus[rn(t, nedus)].bdf, sizeof(edus[0].bdf));
	p = pick_ptr(t, name, sizeof(name), &pk);
	switch (rn(t, 12)) {
	case 0:
	case 1:
		snprintf(name, sizeof(name), "%08" PRIx64, rnd(t));
		nk = "junk";
		break;
	case 2:
		/* No NUL before the inaccessible page. */
		p = buf + BUF_PAGES * PAGE - 16;
		memset(p, 'a', 16);
		nk = "unterminated";
		break;
	}
	begin(t, "GET_DEVICE_FD(slot %d, name %s \"%.16s\", ptr %s) -> slot %d",
	      s, nk, name, ptr_names[pk], d);
	r = ioctl(fd, VFIO_GROUP_GET_DEVICE_FD, p);
	end(t, C_GET_DEVICE_FD, r, errno);
	dfd = r;
	slot_put(s);
	if (dfd >= 0)
		slot_set(d, dfd);
}

static void op_device_info(struct tstate *t, enum call c)
{
	int s = dev_slot(t), fd = slot_get(s);
	char out[512] __attribute__((aligned(8)));
	struct vfio_region_info *ri = (void *)out;
	struct vfio_irq_info *ii = (void *)out;
	struct vfio_device_info *di = (void *)out;
	enum ptr_kind pk;
	uint32_t argsz;
	unsigned int index = rn(t, 3) ? rn(t, 10) : rnd(t);
	void *p;

	memset(out, 0, sizeof(out));
	if (c == C_DEVICE_INFO) {
		argsz = pick_argsz(t, rn(t, 2) ? sizeof(*di) : sizeof(out));
		di->argsz = argsz > sizeof(out) ? sizeof(out) : argsz;
		p = pick_ptr(t, out, sizeof(out), &pk);
		DO_IOCTL(t, c, fd, VFIO_DEVICE_GET_INFO, p,
			 "DEVICE_GET_INFO(slot %d, argsz %u, ptr %s)", s,
			 di->argsz, ptr_names[pk]);
	} else if (c == C_REGION_INFO) {
		argsz = pick_argsz(t, rn(t, 2) ? sizeof(*ri) : sizeof(out));
		ri->argsz = argsz > sizeof(out) ? sizeof(out) : argsz;
		ri->index = index;
		p = pick_ptr(t, out, sizeof(out), &pk);
		DO_IOCTL(t, c, fd, VFIO_DEVICE_GET_REGION_INFO, p,
			 "GET_REGION_INFO(slot %d, argsz %u, index %u, ptr %s)",
			 s, ri->argsz, index, ptr_names[pk]);
	} else {
		argsz = pick_argsz(t, sizeof(*ii));
		ii->argsz = argsz > sizeof(out) ? sizeof(out) : argsz;
		ii->index = index;
		p = pick_ptr(t, out, sizeof(out), &pk);
		DO_IOCTL(t, c, fd, VFIO_DEVICE_GET_IRQ_INFO, p,
			 "GET_IRQ_INFO(slot %d, argsz %u, index %u, ptr %s)",
			 s, ii->argsz, index, ptr_names[pk]);
	}
	slot_put(s);
}

static void op_set_irqs(struct tstate *t)
{
	int s = dev_slot(t), fd = slot_get(s), i;
	char b[sizeof(struct vfio_irq_set) + 4 * sizeof(int32_t)]
		__attribute__((aligned(8)));
	struct vfio_irq_set *set = (void *)b;
	static const uint32_t data[] = {
		VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL,
		VFIO_IRQ_SET_DATA_EVENTFD,
	};
	static const uint32_t action[] = {
		VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK,
		VFIO_IRQ_SET_ACTION_TRIGGER,
	};
	int32_t fds[4];
	enum ptr_kind pk;
	void *p;

	memset(b, 0, sizeof(b));
	set->index = rn(t, 4) ? rn(t, 2) : rn(t, 8);
	set->start = one_in(t, 4) ? rn(t, 3) : 0;
	set->count = one_in(t, 4) ? rn(t, 4) : rn(t, 2);
	set->flags = pick_flags(t, data[rn(t, 3)] | action[rn(t, 3)]);
	for (i = 0; i < 4; i++) {
		switch (rn(t, 6)) {
		case 0:
			fds[i] = -1;
			break;
		case 1:
			fds[i] = 1000 + rn(t, 24);	/* closed */
			break;
		case 2:
			fds[i] = slots[rn(t, NSLOTS)].fd; /* not an eventfd */
			break;
		default:
			fds[i] = t->efd[rn(t, 2)];
		}
		if (set->flags & VFIO_IRQ_SET_DATA_BOOL)
			fds[i] = rn(t, 2);
	}
	memcpy(set->data, fds, sizeof(fds));
	set->argsz = pick_argsz(t, sizeof(*set) + set->count *
			       (set->flags & VFIO_IRQ_SET_DATA_BOOL ? 1 : 4));
	if (set->argsz > sizeof(b) && !one_in(t, 8))
		set->argsz = sizeof(b);
	p = pick_ptr(t, set, sizeof(b), &pk);
	DO_IOCTL(t, C_SET_IRQS, fd, VFIO_DEVICE_SET_IRQS, p,
		 "SET_IRQS(slot %d, argsz %u, flags %#x, index %u, start %u, count %u, fds %d %d, ptr %s)",
		 s, set->argsz, set->flags, set->index, set->start, set->count,
		 fds[0], fds[1], ptr_names[pk]);
	slot_put(s);
}

static void op_reset(struct tstate *t)
{
	int s = dev_slot(t), fd = slot_get(s);

	DO_IOCTL(t, C_RESET, fd, VFIO_DEVICE_RESET, 0, "RESET(slot %d)", s);
	slot_put(s);
}

/*
 * Region offsets: index << 40 (both implementations' layout, found through
 * GET_REGION_INFO by a real user; the fuzzer also tries wrong ones).
 */
static off_t region_off(struct tstate *t, unsigned int *index)
{
	*index = rn(t, 4) ? (rn(t, 2) ? VFIO_PCI_CONFIG_REGION_INDEX :
			     VFIO_PCI_BAR0_REGION_INDEX) : rn(t, 12);
	return (off_t)*index << 40;
}

static void op_rw(struct tstate *t, bool write)
{
	static const size_t sizes[] = { 1, 2, 4, 8, 3, 16, 256 };
	int s = dev_slot(t), fd = slot_get(s);
	char data[256] __attribute__((aligned(8)));
	unsigned int index;
	off_t off = region_off(t, &index);
	size_t len = sizes[rn(t, 7)];
	uint64_t rel = rn(t, 3) ? rn(t, 256) : rn(t, 1 << 20);
	enum ptr_kind pk;
	void *p;
	long r;
	int i;

	for (i = 0; i < (int)sizeof(data); i++)
		data[i] = rnd(t);
	if (write && index == VFIO_PCI_BAR0_REGION_INDEX) {
		/*
		 * Only edu's liveness and factorial registers: its DMA and
		 * interrupt registers would have the emulated device DMA to
		 * random addresses, and QEMU aborts on an edu DMA out of its
		 * buffer. The interface under test is the kernel's.
		 */
		rel = rn(t, 2) ? 4 : 8;
		len = 4;
	}
	p = pick_ptr(t, data, len, &pk);
	begin(t, "%s(slot %d, region %u + %#llx, %zu bytes, ptr %s)",
	      write ? "pwrite" : "pread", s, index, (unsigned long long)rel,
	      len, ptr_names[pk]);
	if (write)
		r = pwrite(fd, p, len, off + rel);
	else
		r = pread(fd, p, len, off + rel);
	end(t, write ? C_PWRITE : C_PREAD, r, errno);
	slot_put(s);
}

static void op_mmap(struct tstate *t)
{
	int s = dev_slot(t), fd = slot_get(s);
	unsigned int index;
	off_t off = region_off(t, &index);
	size_t len = rn(t, 4) ? PAGE : (1 + rn(t, 4)) * PAGE;
	void *m;

	if (one_in(t, 4))
		off += rn(t, 4) * PAGE + (one_in(t, 2) ? 1 : 0);
	if (one_in(t, 8))
		len = rn(t, PAGE);
	begin(t, "mmap(slot %d, region %u, offset %#llx, %zu bytes)", s, index,
	      (unsigned long long)(off & ((1ULL << 40) - 1)), len);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	end(t, C_MMAP, m == MAP_FAILED ? -1 : 0, errno);
	slot_put(s);
	if (m == MAP_FAILED)
		return;
	/*
	 * Read the first word: a BAR whose memory decoding a random config
	 * write turned off answers with SIGBUS, which is allowed.
	 */
	t->in_touch = 1;
	if (!sigsetjmp(t->bus_env, 1))
		(void)*(volatile uint32_t *)m;
	t->in_touch = 0;
	munmap(m, len);
}

static void op_unknown_ioctl(struct tstate *t)
{
	int s = rn(t, NSLOTS), fd = slot_get(s);
	unsigned long req = one_in(t, 2) ? _IO(VFIO_TYPE, 130 + rn(t, 40)) :
		(unsigned long)(uint32_t)rnd(t);

	/* Not a known VFIO or generic fd ioctl (FIONREAD, FIOCLEX...). */
	if ((req >> 8 & 0xff) != VFIO_TYPE)
		req = (req & ~0xff00UL) | ('v' << 8);
	DO_IOCTL(t, C_UNKNOWN_IOCTL, fd, req, NULL,
		 "ioctl(slot %d, %#lx)", s, req);
	slot_put(s);
}

static enum call pick_call(struct tstate *t)
{
	static unsigned int total;
	unsigned int r, c;

	if (!total)
		for (c = 0; c < NCALLS; c++)
			total += calls[c].weight;
	r = rn(t, total);
	for (c = 0; c < NCALLS; c++) {
		if (r < calls[c].weight)
			return c;
		r -= calls[c].weight;
	}
	return C_CLOSE;
}

static void one_op(struct tstate *t)
{
	enum call c = pick_call(t);

	bool excl = c == C_CLOSE || c == C_UNSET_CONTAINER ||
		    c == C_OPEN_GROUP || c == C_SETUP;

	t->chaos = one_in(t, 3);
	if (avoid_detach_race) {
		if (excl)
			pthread_rwlock_wrlock(&detach_lock);
		else
			pthread_rwlock_rdlock(&detach_lock);
	}
	switch (c) {
	case C_SETUP: op_setup(t); break;
	case C_OPEN_CONTAINER: op_open_container(t); break;
	case C_OPEN_GROUP: op_open_group(t); break;
	case C_CLOSE: op_close(t); break;
	case C_API_VERSION:
	case C_CHECK_EXTENSION:
	case C_SET_IOMMU: op_container_simple(t, c); break;
	case C_IOMMU_INFO: op_iommu_info(t); break;
	case C_MAP: op_map(t); break;
	case C_UNMAP: op_unmap(t); break;
	case C_GROUP_STATUS: op_group_status(t); break;
	case C_SET_CONTAINER: op_set_container(t); break;
	case C_UNSET_CONTAINER: op_unset_container(t); break;
	case C_GET_DEVICE_FD: op_get_device_fd(t); break;
	case C_DEVICE_INFO:
	case C_REGION_INFO:
	case C_IRQ_INFO: op_device_info(t, c); break;
	case C_SET_IRQS: op_set_irqs(t); break;
	case C_RESET: op_reset(t); break;
	case C_PREAD: op_rw(t, false); break;
	case C_PWRITE: op_rw(t, true); break;
	case C_MMAP: op_mmap(t); break;
	default: op_unknown_ioctl(t); break;
	}
	if (avoid_detach_race)
		pthread_rwlock_unlock(&detach_lock);
}

/* --- threads ------------------------------------------------------------ */

static __thread struct tstate *self_state;

static void on_sigbus(int sig)
{
	struct tstate *t = self_state;

	if (t && t->in_touch)
		siglongjmp(t->bus_env, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void *fuzz_thread(void *arg)
{
	struct tstate *t = arg;
	long per = opt_ops / opt_threads + (t->id < opt_ops % opt_threads);

	self_state = t;
	if (t->unpriv) {
		struct vt_user u = { opt_uid, opt_uid, UNPRIV_MEMLOCK };
		int ret = vt_thread_become(&u);

		if (ret) {
			printf("# FAIL: thread %d cannot become uid %u: %s\n",
			       t->id, opt_uid, strerror(-ret));
			failed = 1;
			return NULL;
		}
	}
	for (t->done = 0; t->done < per && !stop; t->done++) {
		if (time(NULL) >= deadline) {
			stop = 1;
			break;
		}
		one_op(t);
	}
	return NULL;
}

static void *monitor_thread(void *arg)
{
	int i;

	(void)arg;
	for (;;) {
		int64_t now = now_ns();

		for (i = 0; i < opt_threads; i++) {
			int64_t st = __atomic_load_n(&ts[i].start_ns,
						     __ATOMIC_ACQUIRE);

			if (!st || now - st < opt_op_timeout * 1000000000LL)
				continue;
			printf("# HANG: thread %d op %ld has run for %ds: %s\n",
			       i, ts[i].done, opt_op_timeout, ts[i].what);
			printf("# replay: --seed %#" PRIx64 " --ops %ld --threads %d\n",
			       opt_seed, opt_ops, opt_threads);
			fflush(stdout);
			_exit(3);
		}
		usleep(200 * 1000);
	}
	return NULL;
}

static void print_histogram(double secs)
{
	unsigned long total = 0;
	int c, e;

	for (c = 0; c < NCALLS; c++)
		total += ncalls[c];
	printf("# fuzz: %lu operations in %.1fs, %d threads, seed %#" PRIx64 "\n",
	       total, secs, opt_threads, opt_seed);
	for (c = 0; c < NCALLS; c++) {
		char line[512];
		int n = 0, distinct = 0;

		if (c == C_SETUP)
			continue;

		for (e = 1; e <= MAX_ERRNO; e++)
			if (hist[c][e]) {
				distinct++;
				n += snprintf(line + n, sizeof(line) - n, " %s %lu",
					      strerrorname_np(e) ?: "?", hist[c][e]);
			}
		line[n] = '\0';
		printf("#   %-17s %7lu calls, ok %lu, %d errno%s:%s\n",
		       calls[c].name, ncalls[c], hist[c][0], distinct,
		       distinct == 1 ? "" : "s", n ? line : " none");
	}
	for (c = 0; c < (int)(sizeof(deviations) / sizeof(deviations[0])); c++)
		if (deviation_seen[c] && !deviations[c].req)
			printf("# allowed for the kernel's VFIO, %lu times: %s %s: %s\n",
			       deviation_seen[c], calls[deviations[c].call].name,
			       strerrorname_np(deviations[c].err),
			       deviations[c].why);
		else if (deviation_seen[c])
			printf("# deviation of the kernel's VFIO (%s), %lu times: %s %s: %s\n",
			       deviations[c].req, deviation_seen[c],
			       calls[deviations[c].call].name,
			       strerrorname_np(deviations[c].err),
			       deviations[c].why);
}

/* The fuzzing process: threads, then everything closed, VmLck at baseline. */
static int fuzz_child(void)
{
	pthread_t th[MAX_THREADS], mon;
	struct sigaction sa = { .sa_handler = on_sigbus };
	long lck0 = vt_locked_kib(), lck1;
	int64_t t0 = now_ns();
	int i;

	sigaction(SIGBUS, &sa, NULL);
	deadline = time(NULL) + opt_duration;
	for (i = 0; i < NSLOTS; i++) {
		pthread_rwlock_init(&slots[i].lock, NULL);
		slots[i].fd = -1;
	}
	for (i = 0; i < opt_threads; i++) {
		ts[i].id = i;
		ts[i].rng = opt_seed ^ (0x632be59bd9b4e019ULL * (i + 1));
		ts[i].unpriv = opt_uid && (i & 1);
		ts[i].efd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ts[i].efd[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	pthread_create(&mon, NULL, monitor_thread, NULL);
	for (i = 0; i < opt_threads; i++)
		pthread_create(&th[i], NULL, fuzz_thread, &ts[i]);
	for (i = 0; i < opt_threads; i++)
		pthread_join(th[i], NULL);
	/* Device files first, then groups, then containers. */
	for (i = NSLOTS - 1; i >= 0; i--)
		slot_set(i, -1);
	print_histogram((now_ns() - t0) / 1e9);
	lck1 = vt_locked_kib();
	if (lck1 != lck0) {
		printf("# FAIL: locked memory %ld kB after closing every fd, %ld kB before\n",
		       lck1, lck0);
		failed = 1;
	}
	fflush(stdout);
	return failed ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fuzz [--seed S] [--ops N] [--threads T] [--duration SEC]\n"
		"            [--op-timeout SEC] [--uid U] [--races] [--hole-repro]\n"
		"            [--help]\n"
		"Fuzzes the VFIO container, group and device files of the edu devices\n"
		"bound to a VFIO implementation. Defaults: a random seed, 10000 operations,\n"
		"4 threads, at most 15 s, 60 s per call. Without arguments they come from\n"
		"$VFIO_FUZZ_ARGS. The seed is printed first; --seed S --ops N --threads T\n"
		"repeats every thread's sequence. --races lets a group detach race the\n"
		"container's ioctls on the kernel's VFIO too (a known 6.1 use-after-free).\n"
		"--uid U (default 1000; 0: none) runs the odd-numbered threads as uid and\n"
		"gid U without capabilities, the first group's node given to U for the\n"
		"run, and RLIMIT_MEMLOCK at 32 pages (their MAP_DMA hits it).\n"
		"--hole-repro only replays, single-threaded, how a faulting pointer could\n"
		"once reach a BAR mapping (an edu DMA of all ones that aborted QEMU).\n"
		"Exit: 0 clean, 1 unexpected errno or\n"
		"leak, 2 usage, 3 hang, 4 no device.\n");
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "op-timeout", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "races", no_argument, NULL, 'r' },
		{ "uid", required_argument, NULL, 'u' },
		{ "hole-repro", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool seeded = false;
	int o;

	while ((o = getopt_long(argc, argv, "s:n:t:d:w:vru:Hh", longopts, NULL)) != -1) {
		switch (o) {
		case 's':
			opt_seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'n':
			opt_ops = strtol(optarg, NULL, 0);
			break;
		case 't':
			opt_threads = atoi(optarg);
			break;
		case 'd':
			opt_duration = atoi(optarg);
			break;
		case 'w':
			opt_op_timeout = atoi(optarg);
			break;
		case 'v':
			opt_verbose = 1;
			break;
		case 'r':
			opt_races = true;
			break;
		case 'u':
			opt_uid = strtoul(optarg, NULL, 0);
			break;
		case 'H':
			opt_hole_repro = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || opt_threads < 1 || opt_threads > MAX_THREADS ||
	    opt_ops < 1 || opt_duration < 1 || opt_op_timeout < 1) {
		usage(stderr);
		return -1;
	}
	if (!seeded) {
		struct timespec ts0;

		clock_gettime(CLOCK_REALTIME, &ts0);
		opt_seed = (uint64_t)ts0.tv_nsec * 0x9e3779b97f4a7c15ULL ^
			   (uint64_t)ts0.tv_sec ^ (uint64_t)getpid() << 32;
	}
	return 0;
}

/* argv from $VFIO_FUZZ_ARGS when there is none. */
static char **env_args(int *argc, char **argv)
{
	static char *v[32];
	char *s = getenv("VFIO_FUZZ_ARGS"), *tok;
	int n = 1;

	if (*argc > 1 || !s)
		return argv;
	s = strdup(s);
	v[0] = argv[0];
	for (tok = strtok(s, " \t"); tok && n < 31; tok = strtok(NULL, " \t"))
		v[n++] = tok;
	*argc = n;
	return v;
}

static int setup_memory(void)
{
	/*
	 * buf, then a page without access (hole), then a read-only page.
	 * The hole stays mapped: an unmapped page is where the next mmap()
	 * of one page goes, and a BAR mapped there by one thread turned
	 * another's pointer meant to fault into stores to the device's
	 * registers (--hole-repro).
	 */
	char *m = mmap(NULL, (BUF_PAGES + 2) * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *probe;

	if (m == MAP_FAILED)
		return -1;
	buf = m;
	hole = m + BUF_PAGES * PAGE;
	ro_page = hole + PAGE;
	memset(buf, 0x5a, BUF_PAGES * PAGE);
	/* A plausible structure image, argsz 32. */
	memset(ro_page, 0, PAGE);
	ro_page[0] = 32;
	ro_page[4] = 3;
	if (mprotect(hole, PAGE, PROT_NONE) || mprotect(ro_page, PAGE, PROT_READ))
		return -1;
	/* No new mapping may take the hole's place. */
	probe = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (probe == MAP_FAILED)
		return -1;
	munmap(probe, PAGE);
	if (probe >= buf && probe <= ro_page) {
		printf("# FAIL: a new mapping of one page went to %p, inside the fuzzer's buffer, hole and read-only page (%p to %p)\n",
		       (void *)probe, (void *)buf, (void *)(ro_page + PAGE));
		return -1;
	}
	return 0;
}

/*
 * --hole-repro: the sequence that aborted QEMU in the reference driver's
 * 25-minute run on 6.12-debug (seed 0xb82a5920828b2e3d), made deterministic
 * and single-threaded. One thread's op_mmap() maps page 0 of BAR0, where
 * edu's registers are; meanwhile another thread's pread() of BAR0 goes to a
 * pointer into the page `hole` (pick_ptr()'s P_HOLE), here 32 bytes from
 * BAR0 + 0x100, where edu has no register and so reads all ones, to
 * hole + 0x80. When the hole was an unmapped page, the new mapping took
 * its place, the read's copy to user space stored all ones into edu's DMA
 * source, destination, count and command registers (0x80 to 0x98, 8-byte
 * stores), and edu started a DMA that QEMU 7.2 rejects with hw_error(),
 * killing the guest. Now the hole stays mapped without access: the pread
 * must fail with EFAULT and nothing else may happen.
 */
static int hole_repro(void)
{
	struct vfio_region_info info;
	struct vt_handles h;
	char *m;
	long r;
	int ret = 1;

	if (vt_open_device(&edus[0], &h)) {
		printf("# hole-repro: cannot open %s\n", edus[0].bdf);
		return 2;
	}
	if (vt_region_info(h.device, VFIO_PCI_BAR0_REGION_INDEX, &info)) {
		vt_close_device(&h);
		return 2;
	}
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, h.device,
		 info.offset);
	if (m == MAP_FAILED) {
		printf("# hole-repro: mmap of BAR0: %s\n", strerror(errno));
		vt_close_device(&h);
		return 2;
	}
	printf("# hole-repro: hole %p, BAR0 page 0 mapped at %p%s\n",
	       (void *)hole, (void *)m,
	       m == hole ? ": in the hole" : "");
	fflush(stdout);
	r = pread(h.device, hole + 0x80, 32, info.offset + 0x100);
	printf("# hole-repro: pread(BAR0 + 0x100, 32 bytes) to hole + 0x80: %ld (%s)\n",
	       r, r < 0 ? strerror(errno) : "stored into the mapping");
	fflush(stdout);
	usleep(500 * 1000);	/* edu starts a DMA 100 ms after its command */
	if (r < 0 && errno == EFAULT)
		ret = 0;
	else
		printf("# FAIL: a pointer meant to fault reached another mapping\n");
	munmap(m, PAGE);
	vt_close_device(&h);
	printf("# hole-repro: %s\n", ret ? "FAILED" : "clean");
	return ret;
}

/*
 * With --uid: the first group's node to the user (as an administrator
 * gives it to a VMM's user), and the process's RLIMIT_MEMLOCK, which binds
 * only the threads without CAP_IPC_LOCK, low enough for them to hit it.
 */
static int unpriv_setup(void)
{
	struct vt_user u = { opt_uid, opt_uid, UNPRIV_MEMLOCK };
	struct rlimit lim = { UNPRIV_MEMLOCK, UNPRIV_MEMLOCK };
	int ret;

	if (!opt_uid)
		return 0;
	ret = vt_node_give(groups[0], &u, 0600, &owned_saved);
	if (ret) {
		printf("# fuzz: cannot give /dev/vfio/%d to uid %u: %s\n",
		       groups[0], opt_uid, strerror(-ret));
		return -1;
	}
	owned_group = groups[0];
	if (setrlimit(RLIMIT_MEMLOCK, &lim)) {
		vt_node_restore(&owned_saved);
		return -1;
	}
	printf("# fuzz: threads 1, 3, ... run as uid %u without capabilities, RLIMIT_MEMLOCK %lu KiB; /dev/vfio/%d is theirs, the rest root's\n",
	       opt_uid, UNPRIV_MEMLOCK >> 10, owned_group);
	return 0;
}

int main(int argc, char **argv)
{
	long pinned0, pinned1;
	int i, j, status;
	time_t limit;
	pid_t pid, w;

	argv = env_args(&argc, argv);
	if (parse_args(argc, argv))
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# fuzz: seed %#" PRIx64 " ops %ld threads %d duration %ds op-timeout %ds uid %u\n",
	       opt_seed, opt_ops, opt_threads, opt_duration, opt_op_timeout,
	       opt_uid);
	/* The selected devices the edu engine drives (see op_rw). */
	while (nedus < VT_MAX_DEVICES &&
	       !vt_engine_select(&vt_engine_edu, VT_DEV_ANY, nedus,
				 &edus[nedus]))
		nedus++;
	for (i = 0; i < nedus; i++) {
		if (edus[i].group < 0 || !vt_group_has_node(edus[i].group))
			continue;
		for (j = 0; j < ngroups && groups[j] != edus[i].group; j++)
			;
		if (j == ngroups)
			groups[ngroups++] = edus[i].group;
	}
	if (nedus <= 0 || !ngroups) {
		printf("# fuzz: SKIP no edu device bound to a VFIO implementation\n");
		return 4;
	}
	/*
	 * The kernel's vfio-pci, with VFIO's own container (type1) or with
	 * iommufd's compatibility container: the deviations above are
	 * vfio-pci's, the detach race is type1's.
	 */
	upstream = !access("/sys/module/vfio_pci_core", F_OK);
	type1 = !access("/sys/module/vfio_iommu_type1", F_OK);
	iommufd = !type1 && !access("/sys/module/iommufd", F_OK);
	printf("# fuzz: %d edu devices in %d groups, implementation %s\n",
	       nedus, ngroups, !upstream ? "another (no vfio_pci_core)" :
	       type1 ? "the kernel's VFIO (type1)" : iommufd ?
	       "the kernel's VFIO (iommufd's compatibility container)" :
	       "the kernel's VFIO (another container: no vfio_iommu_type1)");
	avoid_detach_race = type1 && !opt_races;
	if (avoid_detach_race)
		printf("# fuzz: a group's detach is kept apart from container ioctls (Linux 6.1 frees type1's state under them; --races allows it)\n");
	if (setup_memory())
		return 2;
	if (opt_hole_repro)
		return hole_repro();
	if (unpriv_setup())
		return 2;
	pinned0 = vt_pinned_pages();
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0)
		_exit(fuzz_child());
	/*
	 * A call stuck in the kernel keeps the fuzzing process from exiting
	 * even after its monitor gave up: bound the wait here too.
	 */
	limit = time(NULL) + opt_duration + 3 * opt_op_timeout + 30;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && time(NULL) < limit)
		usleep(100 * 1000);
	vt_node_restore(&owned_saved);
	if (w == 0) {
		printf("# HANG: the fuzzing process has not exited %lds after its start (seed %#" PRIx64 ")\n",
		       (long)(opt_duration + 3 * opt_op_timeout + 30), opt_seed);
		return 3;
	}
	if (w != pid)
		return 2;
	pinned1 = vt_pinned_pages();
	if (pinned1 != pinned0) {
		printf("# FAIL: %ld pages pinned after the fuzzing process exited, %ld before\n",
		       pinned1, pinned0);
		return 1;
	}
	printf("# fuzz: pinned pages back at %ld\n", pinned0);
	if (WIFSIGNALED(status)) {
		printf("# FAIL: the fuzzing process died of signal %d (seed %#" PRIx64 ")\n",
		       WTERMSIG(status), opt_seed);
		return 1;
	}
	if (WEXITSTATUS(status))
		printf("# fuzz: FAILED (exit %d), seed %#" PRIx64 "\n",
		       WEXITSTATUS(status), opt_seed);
	else
		printf("# fuzz: clean, seed %#" PRIx64 "\n", opt_seed);
	return WEXITSTATUS(status);
}
