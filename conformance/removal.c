// SPDX-License-Identifier: GPL-2.0
/*
 * Removal: the host takes a device back (sysfs unbind) while user space
 * holds its file. A child process does the unbind, since it blocks until the
 * implementation lets go; the test answers the REQ eventfd, or ignores it.
 * Teardown always releases the files, waits for the unbind and binds the
 * device again, so that an implementation that waits forever (the kernel's
 * own VFIO) is reported, not hung.
 *
 * Beyond the single removal: the request repeated while ignored, interrupt
 * triggers released at revocation, an unbind while other threads map DMA and
 * touch the BAR, and a soak of bind, use, revoke and rebind (50 rounds;
 * VFIO_SOAK_ROUNDS sets another number, as the testbed's debug lanes do)
 * that must leave module references, locked memory, pins and fds as it found
 * them.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "engine.h"

#define GRACE_MS	1000	/* set for the test where the driver has it */
#define BOUND_MS	3000	/* how much longer than the grace we wait */
#define REPEAT_MS	10000	/* REMOVE-2: the longest allowed interval */
#define SLACK_MS	1000	/* scheduling slack on observed intervals */

struct load;

FIXTURE(removal) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	const struct vt_engine_ops *ops;	/* NULL: no engine drives dev */
	struct vt_engine eng;	/* open only while a test uses it */
	char driver[64];
	pid_t unbinder;
	int req;		/* REQ eventfd */
	void *bar;		/* the register BAR, or the first memory BAR */
	size_t bar_size;
	struct load *load;	/* threads of unbind_under_load, if running */
};

static void stop_load(struct load *l);

/* Set the device's grace period where the implementation has the knob. */
static int set_grace(const char *bdf, int ms)
{
	char path[PATH_MAX], val[16];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/grace_ms", bdf);
	snprintf(val, sizeof(val), "%d", ms);
	return access(path, F_OK) ? 0 : vt_sysfs_write(path, val);
}

/*
 * Start a process that unbinds @bdf from @driver (it blocks in the kernel).
 * It runs a shell so that it holds none of our files or mappings: a forked
 * copy would keep the device open and wait for itself.
 */
static pid_t start_unbind(const char *bdf, const char *driver)
{
	char path[PATH_MAX];
	pid_t pid;

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", driver);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "echo \"$0\" > \"$1\"", bdf, path,
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Whether the child exited (successfully) within @ms. */
static bool child_done(pid_t pid, int ms)
{
	struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	int status, i;

	for (i = 0; i <= ms / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) && !WEXITSTATUS(status);
		nanosleep(&tick, NULL);
	}
	return false;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/*
 * The device preferably with a DMA engine (the tests that use one skip
 * without), alone in its group.
 */
static int select_removable(struct vt_pci_dev *dev)
{
	if (!vt_engine_select(NULL, VT_DEV_ALONE, 0, dev))
		return 0;
	return vt_select(VT_DEV_ALONE, 0, NULL, dev);
}

/*
 * The engine of the fixture's device, in its container. A test closes it
 * before the device is revoked: the engine's fini touches the BAR.
 */
#define engine_on(self) do { \
	if (!(self)->ops) \
		SKIP(return, "no DMA engine drives %s", (self)->dev.bdf); \
	ASSERT_EQ(0, vt_engine_open(&(self)->eng, (self)->ops, \
				    (self)->h.device, (self)->h.container, \
				    VT_ENGINE_IOVA)); \
} while (0)

static void release_files(FIXTURE_DATA(removal) *self)
{
	vt_engine_close(&self->eng);
	if (self->bar != MAP_FAILED && self->bar)
		munmap(self->bar, self->bar_size);
	self->bar = MAP_FAILED;
	vt_close_device(&self->h);
}

FIXTURE_SETUP(removal)
{
	int ret, bar;

	memset(&self->eng, 0, sizeof(self->eng));
	self->bar = MAP_FAILED;
	self->req = -1;
	self->h.container = self->h.group = self->h.device = -1;
	if (select_removable(&self->dev))
		vt_skip_setup("no selected device alone in its group");
	self->ops = vt_engine_for(&self->dev);
	bar = self->ops ? (int)self->ops->bar : vt_first_mem_bar(self->dev.bdf);
	if (bar < 0)
		vt_skip_setup("%s has no memory BAR", self->dev.bdf);
	ASSERT_EQ(0, vt_driver_of(self->dev.bdf, self->driver,
			       sizeof(self->driver)));
	ASSERT_EQ(0, set_grace(self->dev.bdf, GRACE_MS));

	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
	self->bar = vt_mmap_bar(self->h.device, bar, &self->bar_size);
	ASSERT_NE(MAP_FAILED, self->bar);
	self->req = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->req);
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_REQ_IRQ_INDEX,
				 VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->req));
}

FIXTURE_TEARDOWN(removal)
{
	char drv[64];

	/* Let go, so that any unbind still waiting completes. */
	if (self->load)
		stop_load(self->load);
	self->load = NULL;
	release_files(self);
	if (self->unbinder > 0)
		EXPECT_TRUE(child_done(self->unbinder, 10000));
	if (self->req >= 0)
		close(self->req);
	if (vt_driver_of(self->dev.bdf, drv, sizeof(drv)))
		EXPECT_EQ(0, vt_sysfs_write("/sys/bus/pci/drivers_probe",
					 self->dev.bdf));
	ASSERT_EQ(0, vt_driver_of(self->dev.bdf, drv, sizeof(drv)));
	ASSERT_STREQ(self->driver, drv);
}

/*
 * Unbind the fixture's device and ignore the request: the unbind must be
 * done within the grace period plus BOUND_MS of the first request.
 */
static void unbind_ignoring_request(struct __test_metadata *_metadata,
				    FIXTURE_DATA(removal) *self)
{
	long t;

	self->unbinder = start_unbind(self->dev.bdf, self->driver);
	ASSERT_LT(0, self->unbinder);
	ASSERT_TRUE(vt_eventfd_fired(self->req, 5000));
	t = now_ms();
	ASSERT_TRUE(child_done(self->unbinder, GRACE_MS + BOUND_MS))
		TH_LOG("unbind still waiting %d ms after the request",
		       GRACE_MS + BOUND_MS);
	TH_LOG("unbind done %ld ms after the request (grace %d ms)",
	       now_ms() - t, GRACE_MS);
	self->unbinder = 0;
}

/* SPEC: REMOVE-1 REMOVE-3 BIND-12 */
TEST_F(removal, cooperative_user_lets_unbind_complete)
{
	int group = self->dev.group;
	long t;

	self->unbinder = start_unbind(self->dev.bdf, self->driver);
	ASSERT_LT(0, self->unbinder);
	ASSERT_TRUE(vt_eventfd_fired(self->req, 5000));
	t = now_ms();
	release_files(self);
	ASSERT_TRUE(child_done(self->unbinder, 2000));
	TH_LOG("unbind done %ld ms after the user let go", now_ms() - t);
	self->unbinder = 0;
	ASSERT_FALSE(vt_group_has_node(group));
}

/*
 * The group fd stays open (in its container) while the group's only device
 * is unbound: the node goes at once all the same, so that a group that
 * comes back under the same number can have it.
 */
/* SPEC: BIND-13 */
TEST_F(removal, emptied_group_node_goes_while_group_fd_open)
{
	int group = self->dev.group;

	if (self->bar != MAP_FAILED)
		munmap(self->bar, self->bar_size);
	self->bar = MAP_FAILED;
	close(self->h.device);
	self->h.device = -1;
	self->unbinder = start_unbind(self->dev.bdf, self->driver);
	ASSERT_LT(0, self->unbinder);
	ASSERT_TRUE(child_done(self->unbinder, 5000));
	self->unbinder = 0;
	ASSERT_LE(0, fcntl(self->h.group, F_GETFD));
	ASSERT_FALSE(vt_group_has_node(group));
}

/*
 * Calls that a device in use would answer without reaching it, or refuse
 * for their arguments: once revoked, ENODEV before anything else.
 */
/* SPEC: REMOVE-5 */
TEST_F(removal, revoked_file_refuses_calls_before_their_arguments)
{
	struct vfio_region_info region = { .argsz = 8 };
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = 99 };
	char c = 0;

	unbind_ignoring_request(_metadata, self);

	errno = 0;
	ASSERT_EQ(-1, pread(self->h.device, &c, 0, 0));
	ASSERT_EQ(ENODEV, errno) TH_LOG("zero-length pread: %s", strerror(errno));
	errno = 0;
	ASSERT_EQ(-1, pwrite(self->h.device, &c, 0, 0));
	ASSERT_EQ(ENODEV, errno) TH_LOG("zero-length pwrite: %s", strerror(errno));
	/* A short argsz (else EINVAL), an index out of range (else EINVAL). */
	vt_ioctl_err(ENODEV, self->h.device, VFIO_DEVICE_GET_REGION_INFO, &region);
	vt_ioctl_err(ENODEV, self->h.device, VFIO_DEVICE_GET_IRQ_INFO, &irq);
}

/* SPEC: REMOVE-12 REMOVE-5 REMOVE-6 REMOVE-8 REMOVE-10 */
TEST_F(removal, ignoring_user_is_revoked_after_grace)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vt_leaks before;
	uint16_t cmd;
	uint32_t word;
	void *mem;

	vt_leaks_take(&before);
	before.fds -= 3;	/* the fixture's three, released below */
	/* A user with DMA on and memory mapped, who then ignores the request. */
	mem = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, vt_map_dma(self->h.container, mem, 0x100000, 16 * 4096,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, vt_enable_bus_master(self->h.device));

	/* Ignore the request: removal must still complete, and soon. */
	unbind_ignoring_request(_metadata, self);

	vt_ioctl_err(ENODEV, self->h.device, VFIO_DEVICE_GET_INFO, &info);
	ASSERT_EQ(-1, pread(self->h.device, &word, sizeof(word), 0));
	ASSERT_EQ(ENODEV, errno);
	word = 0;
	ASSERT_EQ(-1, pwrite(self->h.device, &word, sizeof(word), 0));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_TRUE(vt_read_raises_sigbus(self->bar));
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED,
				   self->h.device, 0));
	ASSERT_EQ(ENODEV, errno);
	/* The device's DMA was stopped before it left. */
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, 4, &cmd, sizeof(cmd)));
	ASSERT_FALSE(!!(cmd & PCI_COMMAND_MASTER_BIT));
	/* The revoked file closes cleanly and nothing stays pinned. */
	release_files(self);
	vt_assert_no_leaks(&before, "after the revoked files closed");
	munmap(mem, 16 * 4096);
}

/*
 * The grace period is the device's own (set in the setup to GRACE_MS, far
 * from the module's default): an ignored request is revoked no earlier than
 * that, counted from the start of the unbind, and not much later.
 */
/* SPEC: REMOVE-12 REMOVE-13 REMOVE-15 */
TEST_F(removal, revocation_waits_out_the_device_grace)
{
	long t0 = now_ms(), took;

	self->unbinder = start_unbind(self->dev.bdf, self->driver);
	ASSERT_LT(0, self->unbinder);
	ASSERT_TRUE(vt_eventfd_fired(self->req, 5000));
	ASSERT_TRUE(child_done(self->unbinder, GRACE_MS + BOUND_MS))
		TH_LOG("unbind still waiting %d ms after the request",
		       GRACE_MS + BOUND_MS);
	self->unbinder = 0;
	took = now_ms() - t0;
	TH_LOG("unbind done %ld ms after it started (grace %d ms)", took,
	       GRACE_MS);
	ASSERT_LE(GRACE_MS, took);
}

/* The driver of the device has the module parameter of REMOVE-14. */
/* SPEC: REMOVE-14 */
TEST_F(removal, grace_default_is_a_module_parameter)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/module/parameters/grace_ms",
		 self->driver);
	ASSERT_EQ(0, access(path, R_OK)) TH_LOG("no %s", path);
}

/* The per-device knob of REMOVE-15 is there and holds what is written. */
/* SPEC: REMOVE-15 */
TEST_F(removal, grace_is_set_per_device_at_run_time)
{
	char path[PATH_MAX], buf[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/grace_ms",
		 self->dev.bdf);
	ASSERT_EQ(0, access(path, F_OK)) TH_LOG("no %s", path);
	ASSERT_EQ(0, vt_sysfs_write(path, "1234"));
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	EXPECT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_STREQ("1234\n", buf);
	ASSERT_EQ(0, set_grace(self->dev.bdf, GRACE_MS));
}

/* SPEC: REMOVE-9 */
TEST_F(removal, other_group_keeps_working_during_removal)
{
	const struct vt_engine_ops *ops;
	struct vt_pci_dev other;
	struct vt_handles h;

	if (vt_select_other_group(self->dev.group, VT_DEV_ANY, vt_has_engine,
				  &other))
		SKIP(return, "no selected device with an engine in a second group");
	ops = vt_engine_for(&other);
	ASSERT_EQ(0, vt_open_device(&other, &h));

	self->unbinder = start_unbind(self->dev.bdf, self->driver);
	ASSERT_LT(0, self->unbinder);
	ASSERT_TRUE(vt_eventfd_fired(self->req, 5000));
	EXPECT_EQ(0, vt_engine_alive(ops, h.device));
	release_files(self);
	ASSERT_TRUE(child_done(self->unbinder, 2000));
	self->unbinder = 0;
	EXPECT_EQ(0, vt_engine_alive(ops, h.device));
	vt_close_device(&h);
}

/* How many signals the eventfd collected within @ms (0: none). */
static uint64_t eventfd_signals(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t count;

	if (ms < 0 || poll(&p, 1, ms) != 1 ||
	    read(fd, &count, sizeof(count)) != sizeof(count))
		return 0;
	return count;
}

/* The number after @key on the first line of @path that starts with it. */
static long file_number(const char *path, const char *key)
{
	size_t len = strlen(key);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len)) {
			val = strtol(line + len, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

static long module_refcnt(const char *module)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", module);
	return file_number(path, "");
}

/* The eventfd's number, "eventfd-id" in its fdinfo (since Linux 5.2). */
static int eventfd_id(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return (int)file_number(path, "eventfd-id:");
}

/*
 * Whether eventfd number @id is free again, that is, whether the last
 * reference to the eventfd that had it (ours or a trigger's in the kernel)
 * is gone. The kernel numbers eventfds from an IDA, lowest free number first,
 * and frees the number with the eventfd context (fs/eventfd.c): create
 * eventfds until one gets @id (free) or a higher number (still held).
 * Return: 1 free, 0 held, -1 cannot tell.
 */
static int eventfd_id_is_free(int id)
{
	int fds[256], n = 0, got = -1, i;

	while (n < 256) {
		fds[n] = eventfd(0, EFD_CLOEXEC);
		if (fds[n] < 0)
			break;
		got = eventfd_id(fds[n++]);
		if (got < 0 || got >= id)
			break;
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	return got == id ? 1 : got > id ? 0 : -1;
}

/* The first Linux IRQ of the device's MSI vectors (sysfs msi_irqs), or -1. */
static int msi_irq(const char *bdf)
{
	char path[PATH_MAX];
	struct dirent *de;
	int irq = -1;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/msi_irqs", bdf);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9') {
			irq = atoi(de->d_name);
			break;
		}
	closedir(dir);
	return irq;
}

/* Whether /proc/interrupts has a line for Linux IRQ @irq. */
static bool irq_listed(int irq)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[1024];
	bool found = false;
	int n;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, " %d:", &n) == 1 && n == irq;
	fclose(f);
	return found;
}

/*
 * REMOVE-2: ignore the request and count the signals over one interval. The
 * grace period (where the implementation lets us set it) is longer than that
 * window, so an implementation must repeat the request to pass. The window
 * ends early after the third signal; the device must still do DMA through
 * the container then (REMOVE-8: it leaves the group's IOMMU context only
 * after its DMA was stopped); then the user lets go.
 */
/* SPEC: REMOVE-2 REMOVE-8 */
TEST_F(removal, ignored_request_is_repeated)
{
	long first, left, second = 0;
	uint64_t signals;
	uint8_t *mem;

	engine_on(self);
	ASSERT_EQ(0, set_grace(self->dev.bdf, REPEAT_MS + 5000));
	mem = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)mem);
	ASSERT_EQ(0, vt_map_dma(self->h.container, mem, 0x100000, 2 * 4096,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	self->unbinder = start_unbind(self->dev.bdf, self->driver);
	ASSERT_LT(0, self->unbinder);
	signals = eventfd_signals(self->req, 5000);
	ASSERT_LT(0u, signals);
	first = now_ms();
	while (signals < 3) {
		left = first + REPEAT_MS + SLACK_MS - now_ms();
		if (left <= 0)
			break;
		signals += eventfd_signals(self->req, left);
		if (signals >= 2 && !second)
			second = now_ms() - first;
	}
	TH_LOG("%llu requests in %ld ms, the second after %ld ms",
	       (unsigned long long)signals, now_ms() - first, second);
	ASSERT_LE(2u, signals) TH_LOG("no second request within %d ms",
				     REPEAT_MS + SLACK_MS);
	/*
	 * Not revoked yet: the device is still the user's and still in the
	 * container's IOMMU context (it may leave it only once its DMA is
	 * stopped), so DMA through the container's mapping still lands.
	 */
	ASSERT_EQ(0, vt_engine_round_trip(&self->eng, mem, 0x100000, 2 * 4096,
					  2048))
		TH_LOG("DMA during the grace period did not land");
	/* Still waiting for us: now let go. */
	ASSERT_FALSE(child_done(self->unbinder, 0));
	release_files(self);
	munmap(mem, 2 * 4096);
	ASSERT_TRUE(child_done(self->unbinder, 2000));
	self->unbinder = 0;
}

/*
 * REMOVE-7: a live MSI trigger and the REQ trigger hold their eventfds (we
 * close ours, so only the implementation's references are left); after
 * revocation, with the device file still open, the eventfds are released
 * and the device's interrupt vector is gone from /proc/interrupts.
 */
/* SPEC: REMOVE-7 */
TEST_F(removal, revocation_releases_irq_triggers)
{
	unsigned int index = VFIO_PCI_MSI_IRQ_INDEX;
	int msi, msi_id, req_id, irq;

	if (self->ops && !vt_engine_has_irq(self->ops, index))
		index = VFIO_PCI_MSIX_IRQ_INDEX;
	if (self->ops && !vt_engine_has_irq(self->ops, index))
		SKIP(return, "the %s engine raises neither MSI nor MSI-X",
		     self->ops->name);
	engine_on(self);
	msi = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, msi);
	ASSERT_EQ(0, vt_set_irqs(self->h.device, index,
				 VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, msi));
	ASSERT_EQ(0, vt_engine_irq_raise(&self->eng, index, 0));
	ASSERT_TRUE(vt_eventfd_fired(msi, 2000));
	vt_engine_irq_ack(&self->eng, index);
	/* The trigger stays; the engine goes before the device is revoked. */
	vt_engine_close(&self->eng);
	irq = msi_irq(self->dev.bdf);
	ASSERT_LT(0, irq);
	ASSERT_TRUE(irq_listed(irq));
	msi_id = eventfd_id(msi);
	req_id = eventfd_id(self->req);
	close(msi);
	if (msi_id < 0 || req_id < 0)
		SKIP(return, "no eventfd-id in fdinfo");
	/* The probe sees a number the trigger still holds. */
	ASSERT_EQ(0, eventfd_id_is_free(msi_id));

	self->unbinder = start_unbind(self->dev.bdf, self->driver);
	ASSERT_LT(0, self->unbinder);
	ASSERT_TRUE(vt_eventfd_fired(self->req, 5000));
	close(self->req);
	self->req = -1;
	ASSERT_EQ(0, eventfd_id_is_free(req_id));
	ASSERT_TRUE(child_done(self->unbinder, GRACE_MS + BOUND_MS))
		TH_LOG("unbind still waiting %d ms after the request",
		       GRACE_MS + BOUND_MS);
	self->unbinder = 0;

	/* Revoked, file still open: triggers gone, eventfds released. */
	ASSERT_EQ(1, eventfd_id_is_free(msi_id));
	ASSERT_EQ(1, eventfd_id_is_free(req_id));
	ASSERT_FALSE(irq_listed(irq));
	ASSERT_EQ(-ENODEV, vt_set_irqs(self->h.device, index,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0,
				       VT_NO_FD));
}

/* --- unbind under load -------------------------------------------------- */

#define STORM_THREADS	2
#define BAR_THREADS	2
#define STORM_IOVA	0x10000000ULL
#define STORM_SIZE	(16 * 4096)
#define OTHER_IOVA	0x200000ULL

/* Threads using one device (and its container) while it is unbound. */
struct load {
	atomic_bool stop;
	bool joined;
	int container;			/* of the device being removed */
	const struct vt_engine_ops *ops;	/* its engine */
	volatile void *bar;		/* its register BAR mapping */
	size_t bar_size;
	uint32_t ident;			/* its ident_reg before the load */
	pthread_t storm[STORM_THREADS], bars[BAR_THREADS], other;
	int nstorm, nbars;
	bool other_running;
	atomic_long maps, map_errors;	/* MAP_DMA + UNMAP_DMA pairs */
	atomic_long bar_reads, bar_bad;
	atomic_int sigbus;		/* BAR threads stopped by SIGBUS */
	atomic_long dma_ok, dma_bad;	/* the other group's DMA */
	struct vt_handles oh;		/* the other group's device */
	struct vt_engine oeng;		/* its engine */
	uint8_t *omem;
};

struct storm_arg {
	struct load *l;
	int n;
};

static struct storm_arg storm_args[STORM_THREADS];

static void *storm_thread(void *arg)
{
	struct storm_arg *a = arg;
	struct load *l = a->l;
	uint64_t iova = STORM_IOVA + (uint64_t)a->n * 0x1000000;
	void *mem = mmap(NULL, STORM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED) {
		atomic_fetch_add(&l->map_errors, 1);
		return NULL;
	}
	memset(mem, a->n, STORM_SIZE);
	while (!atomic_load(&l->stop)) {
		if (vt_map_dma(l->container, mem, iova, STORM_SIZE,
			       VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) ||
		    vt_unmap_dma(l->container, iova, STORM_SIZE) != STORM_SIZE)
			atomic_fetch_add(&l->map_errors, 1);
		else
			atomic_fetch_add(&l->maps, 1);
	}
	munmap(mem, STORM_SIZE);
	return NULL;
}

static uint32_t bar_ident(const struct load *l)
{
	return *(volatile uint32_t *)((volatile char *)l->bar +
				      l->ops->ident_reg);
}

static __thread sigjmp_buf bar_jmp;
static __thread volatile sig_atomic_t bar_armed;

static void on_bar_sigbus(int sig)
{
	if (bar_armed)
		siglongjmp(bar_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Thread 0 runs the engine's register round trip (alive), the others read
 * its identification register, until SIGBUS or until told to stop.
 */
static void *bar_thread(void *arg)
{
	struct storm_arg *a = arg;
	struct load *l = a->l;
	if (sigsetjmp(bar_jmp, 1)) {
		bar_armed = 0;
		atomic_fetch_add(&l->sigbus, 1);
		return NULL;
	}
	bar_armed = 1;
	while (!atomic_load(&l->stop)) {
		bool ok = a->n == 0 ? !l->ops->alive(l->bar, l->bar_size) :
				      bar_ident(l) == l->ident;

		atomic_fetch_add(ok ? &l->bar_reads : &l->bar_bad, 1);
	}
	bar_armed = 0;
	return NULL;
}

static struct storm_arg bar_args[BAR_THREADS];

/* The other group's device: DMA round trips through its engine, checked. */
static void *other_thread(void *arg)
{
	struct load *l = arg;

	while (!atomic_load(&l->stop)) {
		if (vt_engine_round_trip(&l->oeng, l->omem, OTHER_IOVA,
					 2 * 4096, 2048))
			atomic_fetch_add(&l->dma_bad, 1);
		else
			atomic_fetch_add(&l->dma_ok, 1);
	}
	return NULL;
}

/* Stop and join every thread, close the other group's device. Idempotent. */
static void stop_load(struct load *l)
{
	int i;

	atomic_store(&l->stop, true);
	if (!l->joined) {
		for (i = 0; i < l->nstorm; i++)
			pthread_join(l->storm[i], NULL);
		for (i = 0; i < l->nbars; i++)
			pthread_join(l->bars[i], NULL);
		if (l->other_running)
			pthread_join(l->other, NULL);
		l->joined = true;
	}
	vt_engine_close(&l->oeng);
	vt_close_device(&l->oh);
	if (l->omem && (void *)l->omem != MAP_FAILED)
		munmap(l->omem, 2 * 4096);
	l->omem = NULL;
}

static void wait_until(atomic_long *counter, long above, int ms)
{
	struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	long end = now_ms() + ms;

	while (atomic_load(counter) <= above && now_ms() < end)
		nanosleep(&tick, NULL);
}

/*
 * Unbind while two threads storm MAP_DMA/UNMAP_DMA on the device's container
 * and two access its BAR through mmap, and while a device of another group
 * in the same container does DMA. The user ignores the request: after
 * revocation the BAR threads get SIGBUS, the container keeps mapping for its
 * other group, whose device keeps doing DMA; the kernel log stays clean (the
 * runner checks it) and nothing leaks.
 */
/* SPEC: REMOVE-6 REMOVE-9 REMOVE-10 */
TEST_F_TIMEOUT(removal, unbind_under_load_leaks_nothing, 120)
{
	struct sigaction sa = { .sa_handler = on_bar_sigbus };
	struct vt_pci_dev other;
	struct vt_leaks before;
	int i;
	struct load *l;
	long dma_at_revoke;

	if (!self->ops)
		SKIP(return, "no DMA engine drives %s", self->dev.bdf);
	if (vt_select_other_group(self->dev.group, VT_DEV_ANY, vt_has_engine,
				  &other))
		SKIP(return, "no selected device with an engine in a second group");
	vt_leaks_take(&before);
	before.fds -= 3;	/* the fixture's three, released at the end */
	l = calloc(1, sizeof(*l));
	ASSERT_NE(NULL, l);
	self->load = l;
	l->oh.container = l->oh.group = l->oh.device = -1;
	l->container = self->h.container;
	l->ops = self->ops;
	l->bar = self->bar;
	l->bar_size = self->bar_size;
	l->ident = bar_ident(l);
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));

	/*
	 * The other group joins the same container, so that the container
	 * keeps a group after the device's own group has emptied.
	 */
	l->oh.group = vt_open_group(other.group);
	ASSERT_LE(0, l->oh.group);
	ASSERT_EQ(0, ioctl(l->oh.group, VFIO_GROUP_SET_CONTAINER,
			   &self->h.container));
	l->oh.device = ioctl(l->oh.group, VFIO_GROUP_GET_DEVICE_FD, other.bdf);
	ASSERT_LE(0, l->oh.device);
	l->omem = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)l->omem);
	ASSERT_EQ(0, vt_map_dma(self->h.container, l->omem, OTHER_IOVA,
				2 * 4096, VFIO_DMA_MAP_FLAG_READ |
				VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, vt_engine_open(&l->oeng, vt_engine_for(&other),
				    l->oh.device, self->h.container,
				    VT_ENGINE_IOVA));

	for (i = 0; i < STORM_THREADS; i++) {
		storm_args[i] = (struct storm_arg){ .l = l, .n = i };
		ASSERT_EQ(0, pthread_create(&l->storm[i], NULL, storm_thread,
					    &storm_args[i]));
		l->nstorm++;
	}
	for (i = 0; i < BAR_THREADS; i++) {
		bar_args[i] = (struct storm_arg){ .l = l, .n = i };
		ASSERT_EQ(0, pthread_create(&l->bars[i], NULL, bar_thread,
					    &bar_args[i]));
		l->nbars++;
	}
	ASSERT_EQ(0, pthread_create(&l->other, NULL, other_thread, l));
	l->other_running = true;
	/* Each kind of load under way (one vCPU may run them late). */
	wait_until(&l->dma_ok, 0, 5000);
	wait_until(&l->maps, 0, 5000);
	wait_until(&l->bar_reads, 0, 5000);
	ASSERT_LT(0, atomic_load(&l->dma_ok));
	ASSERT_LT(0, atomic_load(&l->maps));
	ASSERT_LT(0, atomic_load(&l->bar_reads));

	unbind_ignoring_request(_metadata, self);

	/* Revoked: the BAR threads fault, the rest goes on. */
	dma_at_revoke = atomic_load(&l->dma_ok);
	for (i = 0; i < 200 && atomic_load(&l->sigbus) < BAR_THREADS; i++)
		usleep(10000);
	wait_until(&l->dma_ok, dma_at_revoke, 5000);
	stop_load(l);
	TH_LOG("%ld map/unmap pairs, %ld BAR accesses, %ld DMA round trips",
	       atomic_load(&l->maps), atomic_load(&l->bar_reads),
	       atomic_load(&l->dma_ok));
	EXPECT_EQ(BAR_THREADS, atomic_load(&l->sigbus));
	EXPECT_EQ(0, atomic_load(&l->map_errors));
	EXPECT_EQ(0, atomic_load(&l->bar_bad));
	EXPECT_EQ(0, atomic_load(&l->dma_bad));
	EXPECT_LT(dma_at_revoke, atomic_load(&l->dma_ok));

	/* The revoked file closes; pins, locked memory and fds are back. */
	release_files(self);
	vt_assert_no_leaks(&before, "after the revoked files closed");
}

/* --- soak --------------------------------------------------------------- */

#define SOAK_ROUNDS	50	/* unless VFIO_SOAK_ROUNDS says otherwise */
#define SOAK_GRACE_MS	150
#define SOAK_IOVA	0x100000ULL

FIXTURE(soak) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	const struct vt_engine_ops *ops;
	struct vt_engine eng;	/* closed before each revocation */
	char driver[64];
	char module[64];
	pid_t unbinder;
	int req;
	void *bar;
	size_t bar_size;
	uint8_t *mem;
};

/* VFIO_SOAK_ROUNDS=n (1 to 1000), or SOAK_ROUNDS; -1 if it is not a number. */
static int soak_rounds(void)
{
	const char *s = getenv("VFIO_SOAK_ROUNDS");
	char *end;
	long n;

	if (!s || !*s)
		return SOAK_ROUNDS;
	n = strtol(s, &end, 10);
	return *end || n < 1 || n > 1000 ? -1 : (int)n;
}

static void soak_release(FIXTURE_DATA(soak) *self)
{
	vt_engine_close(&self->eng);
	if (self->bar && self->bar != MAP_FAILED)
		munmap(self->bar, self->bar_size);
	self->bar = NULL;
	vt_close_device(&self->h);
}

FIXTURE_SETUP(soak)
{
	memset(&self->eng, 0, sizeof(self->eng));
	self->h.container = self->h.group = self->h.device = -1;
	self->req = -1;
	if (vt_engine_select(NULL, VT_DEV_ALONE, 0, &self->dev))
		vt_skip_setup("no selected device alone in its group with a DMA engine");
	self->ops = vt_engine_for(&self->dev);
	ASSERT_EQ(0, vt_driver_of(self->dev.bdf, self->driver,
			       sizeof(self->driver)));
	ASSERT_EQ(0, vt_sysfs_link(self->dev.bdf, "driver/module", self->module,
			       sizeof(self->module)));
	self->mem = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)self->mem);
	self->req = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->req);
}

FIXTURE_TEARDOWN(soak)
{
	char drv[64];

	soak_release(self);
	if (self->unbinder > 0)
		EXPECT_TRUE(child_done(self->unbinder, 10000));
	if (vt_driver_of(self->dev.bdf, drv, sizeof(drv)))
		EXPECT_EQ(0, vt_sysfs_write("/sys/bus/pci/drivers_probe",
					 self->dev.bdf));
	ASSERT_EQ(0, vt_driver_of(self->dev.bdf, drv, sizeof(drv)));
	ASSERT_STREQ(self->driver, drv);
	if (self->req >= 0)
		close(self->req);
	if (self->mem && (void *)self->mem != MAP_FAILED)
		munmap(self->mem, 2 * 4096);
}

/*
 * Rounds on one device (50 by default): bind, use (BAR through mmap, DMA
 * both ways), unbind while the user ignores the request, rebind. The grace
 * period is short where the implementation lets us set it; an
 * implementation that never revokes fails in round 1 at grace + bound, not
 * in every round.
 */
/* SPEC: REMOVE-12 REMOVE-5 REMOVE-6 REMOVE-10 */
TEST_F_TIMEOUT(soak, bind_use_revoke_rebind_rounds, 240)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	long refcnt = module_refcnt(self->module);
	struct vt_leaks before;
	int round;
	long start = now_ms(), revoke_ms = 0, worst_ms = 0;
	int rounds = soak_rounds();
	char drv[64];

	ASSERT_LT(0, rounds) TH_LOG("VFIO_SOAK_ROUNDS must be 1 to 1000");
	ASSERT_LE(0, refcnt);
	vt_leaks_take(&before);
	for (round = 1; round <= rounds; round++) {
		long t;

		if (vt_driver_of(self->dev.bdf, drv, sizeof(drv)))
			ASSERT_EQ(0, vt_sysfs_write("/sys/bus/pci/drivers_probe",
						 self->dev.bdf));
		ASSERT_EQ(0, vt_driver_of(self->dev.bdf, drv, sizeof(drv)))
			TH_LOG("round %d: not bound", round);
		ASSERT_STREQ(self->driver, drv);
		ASSERT_EQ(0, set_grace(self->dev.bdf, SOAK_GRACE_MS));

		ASSERT_EQ(0, vt_open_device(&self->dev, &self->h))
			TH_LOG("round %d: open", round);
		self->bar = vt_mmap_bar(self->h.device, self->ops->bar,
					&self->bar_size);
		ASSERT_NE(MAP_FAILED, self->bar);
		ASSERT_EQ(0, vt_set_irqs(self->h.device,
					 VFIO_PCI_REQ_IRQ_INDEX,
					 VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
					 self->req));
		ASSERT_EQ(0, vt_map_dma(self->h.container, self->mem,
					SOAK_IOVA, 2 * 4096,
					VFIO_DMA_MAP_FLAG_READ |
					VFIO_DMA_MAP_FLAG_WRITE));
		ASSERT_EQ(0, self->ops->alive(self->bar, self->bar_size))
			TH_LOG("round %d: the BAR does not reach the device",
			       round);
		ASSERT_EQ(0, vt_engine_open(&self->eng, self->ops,
					    self->h.device, self->h.container,
					    VT_ENGINE_IOVA));
		ASSERT_EQ(0, vt_engine_round_trip(&self->eng, self->mem,
						  SOAK_IOVA, 2 * 4096, 2048))
			TH_LOG("round %d: DMA round trip differs", round);
		/* The engine goes before revocation; DMA stays on. */
		vt_engine_close(&self->eng);
		ASSERT_EQ(0, vt_enable_bus_master(self->h.device));

		self->unbinder = start_unbind(self->dev.bdf, self->driver);
		ASSERT_LT(0, self->unbinder);
		ASSERT_TRUE(vt_eventfd_fired(self->req, 5000));
		t = now_ms();
		ASSERT_TRUE(child_done(self->unbinder,
				       SOAK_GRACE_MS + BOUND_MS))
			TH_LOG("round %d: unbind still waiting %d ms after the request",
			       round, SOAK_GRACE_MS + BOUND_MS);
		t = now_ms() - t;
		revoke_ms += t;
		if (t > worst_ms)
			worst_ms = t;
		self->unbinder = 0;
		vt_ioctl_err(ENODEV, self->h.device, VFIO_DEVICE_GET_INFO,
			     &info);
		ASSERT_TRUE(vt_read_raises_sigbus(self->bar));
		soak_release(self);
	}
	ASSERT_EQ(0, vt_sysfs_write("/sys/bus/pci/drivers_probe", self->dev.bdf));
	TH_LOG("%d rounds in %ld ms; request to unbind done: %ld ms on average, %ld at most (grace %d ms)",
	       rounds, now_ms() - start, revoke_ms / rounds,
	       worst_ms, SOAK_GRACE_MS);
	ASSERT_EQ(refcnt, module_refcnt(self->module));
	vt_assert_no_leaks(&before, "after %d rounds", rounds);
}

TEST_HARNESS_MAIN
