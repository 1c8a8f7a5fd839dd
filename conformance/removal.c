// SPDX-License-Identifier: GPL-2.0
/*
 * Removal: the host takes a device back (sysfs unbind) while user space
 * holds its file. A child process does the unbind, since it blocks until the
 * implementation lets go; the test answers the REQ eventfd, or ignores it.
 * Teardown always releases the files, waits for the unbind and binds the
 * device again, so that an implementation that waits forever (the kernel's
 * own VFIO) is reported, not hung.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define GRACE_MS	1000	/* set for the test where the driver has it */
#define BOUND_MS	3000	/* how much longer than the grace we wait */

FIXTURE(removal) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	char driver[64];
	pid_t unbinder;
	int req;		/* REQ eventfd */
	void *bar;
	size_t bar_size;
};

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

static bool eventfd_fired(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t count;

	return poll(&p, 1, ms) == 1 &&
	       read(fd, &count, sizeof(count)) == sizeof(count);
}

static void release_files(FIXTURE_DATA(removal) *self)
{
	if (self->bar != MAP_FAILED && self->bar)
		munmap(self->bar, self->bar_size);
	self->bar = MAP_FAILED;
	vt_close_device(&self->h);
}

FIXTURE_SETUP(removal)
{
	char path[PATH_MAX], ms[16];
	int ret;

	self->bar = MAP_FAILED;
	self->h.container = self->h.group = self->h.device = -1;
	if (vt_find_edu(VT_EDU_ALONE, 0, &self->dev))
		vt_skip_setup("no edu alone in its group");
	ASSERT_EQ(0, vt_driver_of(self->dev.bdf, self->driver,
			       sizeof(self->driver)));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/grace_ms",
		 self->dev.bdf);
	snprintf(ms, sizeof(ms), "%d", GRACE_MS);
	if (!access(path, F_OK))
		ASSERT_EQ(0, vt_sysfs_write(path, ms));

	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
	self->bar = vt_mmap_bar(self->h.device, VFIO_PCI_BAR0_REGION_INDEX,
				&self->bar_size);
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
	release_files(self);
	if (self->unbinder > 0)
		EXPECT_TRUE(child_done(self->unbinder, 10000));
	close(self->req);
	if (vt_driver_of(self->dev.bdf, drv, sizeof(drv)))
		EXPECT_EQ(0, vt_sysfs_write("/sys/bus/pci/drivers_probe",
					 self->dev.bdf));
	ASSERT_EQ(0, vt_driver_of(self->dev.bdf, drv, sizeof(drv)));
	ASSERT_STREQ(self->driver, drv);
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(sigbus_jmp, 1);
}

/* Whether reading the mapping raises SIGBUS. */
static bool read_raises_sigbus(volatile void *addr)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	bool raised = false;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(sigbus_jmp, 1))
		raised = true;
	else
		(void)*(volatile uint32_t *)addr;
	sigaction(SIGBUS, &old, NULL);
	return raised;
}

/* SPEC: REMOVE-1 REMOVE-3 REMOVE-11 */
TEST_F(removal, cooperative_user_lets_unbind_complete)
{
	int group = self->dev.group;

	self->unbinder = start_unbind(self->dev.bdf, self->driver);
	ASSERT_LT(0, self->unbinder);
	ASSERT_TRUE(eventfd_fired(self->req, 5000));
	release_files(self);
	ASSERT_TRUE(child_done(self->unbinder, 2000));
	self->unbinder = 0;
	ASSERT_FALSE(vt_group_has_node(group));
}

/* SPEC: REMOVE-4 REMOVE-5 REMOVE-6 REMOVE-8 REMOVE-10 */
TEST_F(removal, ignoring_user_is_revoked_after_grace)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	long pinned = vt_pinned_pages();
	uint16_t cmd;
	uint32_t word;
	void *mem;

	/* A user with DMA on and memory mapped, who then ignores the request. */
	mem = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, vt_map_dma(self->h.container, mem, 0x100000, 16 * 4096,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, vt_enable_bus_master(self->h.device));

	self->unbinder = start_unbind(self->dev.bdf, self->driver);
	ASSERT_LT(0, self->unbinder);
	ASSERT_TRUE(eventfd_fired(self->req, 5000));
	/* Ignore the request: removal must still complete, and soon. */
	ASSERT_TRUE(child_done(self->unbinder, GRACE_MS + BOUND_MS))
		TH_LOG("unbind still waiting %d ms after the request",
		       GRACE_MS + BOUND_MS);
	self->unbinder = 0;

	vt_ioctl_err(ENODEV, self->h.device, VFIO_DEVICE_GET_INFO, &info);
	ASSERT_EQ(-1, pread(self->h.device, &word, sizeof(word), 0));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_TRUE(read_raises_sigbus(self->bar));
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED,
				   self->h.device, 0));
	ASSERT_EQ(ENODEV, errno);
	/* The device's DMA was stopped before it left. */
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, 4, &cmd, sizeof(cmd)));
	ASSERT_FALSE(!!(cmd & PCI_COMMAND_MASTER_BIT));
	/* The revoked file closes cleanly and nothing stays pinned. */
	release_files(self);
	ASSERT_EQ(pinned, vt_pinned_pages());
	munmap(mem, 16 * 4096);
}

/* SPEC: REMOVE-9 */
TEST_F(removal, other_group_keeps_working_during_removal)
{
	struct vt_pci_dev other;
	struct vt_handles h;
	size_t size;
	void *bar;

	if (vt_find_edu(VT_EDU_SHARED, 0, &other))
		SKIP(return, "no second group");
	ASSERT_EQ(0, vt_open_device(&other, &h));
	bar = vt_mmap_bar(h.device, VFIO_PCI_BAR0_REGION_INDEX, &size);
	ASSERT_NE(MAP_FAILED, bar);

	self->unbinder = start_unbind(self->dev.bdf, self->driver);
	ASSERT_LT(0, self->unbinder);
	ASSERT_TRUE(eventfd_fired(self->req, 5000));
	edu_write32(bar, EDU_REG_LIVENESS, 0x5a5a0000);
	EXPECT_EQ(~0x5a5a0000u, edu_read32(bar, EDU_REG_LIVENESS));
	release_files(self);
	ASSERT_TRUE(child_done(self->unbinder, 2000));
	self->unbinder = 0;
	edu_write32(bar, EDU_REG_LIVENESS, 0x00a5a5a5);
	EXPECT_EQ(~0x00a5a5a5u, edu_read32(bar, EDU_REG_LIVENESS));
	munmap(bar, size);
	vt_close_device(&h);
}

TEST_HARNESS_MAIN
