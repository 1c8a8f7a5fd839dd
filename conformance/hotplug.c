// SPDX-License-Identifier: GPL-2.0
/*
 * Hot-unplug and re-plug through QEMU's QMP, driven from the guest: the
 * testbed relays one-line requests on a serial port (HOTPLUG_TTY in
 * /etc/testbed.conf, tools/hotplug-relay.c) to device_add and device_del of
 * an edu on an empty hot-pluggable root port. Without that relay (real
 * hardware) every test skips.
 *
 * Each test plugs the edu, binds it to the implementation's driver (DRIVER
 * in the config) the way the runner does, and uses it in a container that
 * also holds another edu, whose DMA runs in a thread throughout. Teardown
 * always lets go of the files and unplugs, so that an implementation that
 * waits for the user without bound (the kernel's own VFIO) is reported,
 * not hung.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define CONF_PATH	"/etc/testbed.conf"
#define PAGE		4096
#define DMA_LEN		(PAGE / 2)	/* QEMU 7.2 edu: end before its buffer end */
#define IOVA_OTHER	0x100000ULL	/* two pages: the other edu's src, dst */
#define IOVA_HP		0x300000ULL	/* two pages: the plugged edu's src, dst */
#define GRACE_MS	1000	/* set per device where the driver has it */
#define BOUND_MS	3000	/* how much longer than the grace we wait */
#define REQ_MS		20000	/* pciehp waits 5 s after the button press */
#define APPEAR_MS	20000	/* device_add until the device is in sysfs */
#define DELETED_MS	70000	/* relay's own bound is 60 s */

/* Another edu of the container, doing DMA in a thread. */
struct background {
	pthread_t thread;
	bool running;
	volatile bool stop;
	volatile void *bar;
	unsigned char *mem;	/* two pages at IOVA_OTHER */
	volatile unsigned int rounds, failures;
};

FIXTURE(hotplug) {
	int tty;			/* the relay's serial port */
	bool del_pending;		/* device_del sent, answer not read */
	char driver[64];
	struct vt_pci_dev other, hp;
	int container, other_group, other_device;
	int group, device, req;		/* the plugged edu's */
	void *bar;
	size_t bar_size;
	unsigned char *mem;		/* two pages at IOVA_HP */
	struct background bg;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* VAR=value from the testbed's config, or the environment's VT_<VAR>. */
static bool conf_get(const char *var, char *buf, size_t len)
{
	char line[256], env[64];
	size_t n = strlen(var);
	const char *e;
	FILE *f;

	snprintf(env, sizeof(env), "VT_%s", var);
	e = getenv(env);
	if (e) {
		snprintf(buf, len, "%s", e);
		return true;
	}
	f = fopen(CONF_PATH, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, var, n) || line[n] != '=')
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, len, "%s", line + n + 1);
		fclose(f);
		return true;
	}
	fclose(f);
	return false;
}

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static bool device_present(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	return access(path, F_OK) == 0;
}

static int driver_of(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(buf, len, "%s", strrchr(link, '/') + 1);
	return 0;
}

/* Bind like the runner: driver_override, unbind, drivers_probe. */
static int bind_to(const char *bdf, const char *driver)
{
	char path[PATH_MAX], drv[64];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	if (sysfs_write(path, driver))
		return -errno;
	if (!driver_of(bdf, drv, sizeof(drv))) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind",
			 drv);
		sysfs_write(path, bdf);
	}
	sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (driver_of(bdf, drv, sizeof(drv)) || strcmp(drv, driver))
		return -ENODEV;
	return 0;
}

/* --- the relay ------------------------------------------------------------ */

static int relay_send(int tty, const char *req)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%s\n", req);

	return write(tty, line, n) == n ? 0 : -EIO;
}

/* The relay's answer line into @buf. Return: 0 for "ok", -1 otherwise. */
static int relay_answer(int tty, int ms, char *buf, size_t len)
{
	long long deadline = now_ms() + ms;
	size_t n = 0;

	snprintf(buf, len, "no answer within %d ms", ms);
	while (now_ms() < deadline) {
		struct pollfd p = { .fd = tty, .events = POLLIN };
		char c;

		if (poll(&p, 1, deadline - now_ms()) != 1)
			continue;
		if (read(tty, &c, 1) != 1)
			continue;
		if (c == '\r')
			continue;
		if (c != '\n') {
			if (n < len - 1)
				buf[n++] = c;
			continue;
		}
		buf[n] = '\0';
		if (n)
			return strcmp(buf, "ok") ? -1 : 0;
	}
	return -1;
}

/* Open the relay's serial port and ping it. Return: fd or -1. */
static int relay_open(char *why, size_t len)
{
	char tty_path[64], answer[64];
	struct termios t;
	int fd;

	if (!conf_get("HOTPLUG_TTY", tty_path, sizeof(tty_path))) {
		snprintf(why, len, "no hot-plug relay (HOTPLUG_TTY in %s)",
			 CONF_PATH);
		return -1;
	}
	fd = open(tty_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "no hot-plug relay: %s: %s", tty_path,
			 strerror(errno));
		return -1;
	}
	if (!tcgetattr(fd, &t)) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	tcflush(fd, TCIOFLUSH);
	if (relay_send(fd, "ping") || relay_answer(fd, 3000, answer,
						   sizeof(answer))) {
		snprintf(why, len, "no hot-plug relay answers on %s (%s)",
			 tty_path, answer);
		close(fd);
		return -1;
	}
	return fd;
}

/* --- the other edu's DMA -------------------------------------------------- */

static void *background_dma(void *arg)
{
	struct background *bg = arg;
	unsigned char *src = bg->mem, *dst = bg->mem + PAGE;

	while (!bg->stop) {
		memset(src, 0x40 + (bg->rounds & 0x3f), DMA_LEN);
		memset(dst, 0, DMA_LEN);
		if (edu_dma(bg->bar, IOVA_OTHER, EDU_DMA_BUF, DMA_LEN, false) ||
		    edu_dma(bg->bar, EDU_DMA_BUF, IOVA_OTHER + PAGE, DMA_LEN,
			    true) ||
		    memcmp(src, dst, DMA_LEN))
			bg->failures++;
		bg->rounds++;
	}
	return NULL;
}

/* --- the plugged edu ------------------------------------------------------ */

static void release_device(FIXTURE_DATA(hotplug) *self)
{
	if (self->bar && self->bar != MAP_FAILED)
		munmap(self->bar, self->bar_size);
	self->bar = MAP_FAILED;
	if (self->device >= 0)
		close(self->device);
	self->device = -1;
}

static void release_group(FIXTURE_DATA(hotplug) *self)
{
	release_device(self);
	if (self->group >= 0)
		close(self->group);
	self->group = -1;
}

/* Wait until @bdf is gone from sysfs. */
static bool wait_gone(const char *bdf, int ms)
{
	long long deadline = now_ms() + ms;

	while (device_present(bdf)) {
		if (now_ms() > deadline)
			return false;
		sleep_ms(20);
	}
	return true;
}

/*
 * device_add, then wait for a new edu in sysfs, with its IOMMU group.
 * Return: 0 and fills self->hp, or -1 with @err filled.
 */
static int plug(FIXTURE_DATA(hotplug) *self, char *err, size_t len)
{
	struct vt_pci_dev before[VT_MAX_DEVICES], now[VT_MAX_DEVICES];
	int nb = vt_find_pci(EDU_VENDOR, EDU_DEVICE, before, VT_MAX_DEVICES);
	long long t0 = now_ms(), deadline = t0 + APPEAR_MS;
	char answer[128];
	int i, j, n;

	if (relay_send(self->tty, "device_add") ||
	    relay_answer(self->tty, 10000, answer, sizeof(answer))) {
		snprintf(err, len, "device_add: %s", answer);
		return -1;
	}
	while (now_ms() < deadline) {
		n = vt_find_pci(EDU_VENDOR, EDU_DEVICE, now, VT_MAX_DEVICES);
		for (i = 0; i < n; i++) {
			for (j = 0; j < nb; j++)
				if (!strcmp(now[i].bdf, before[j].bdf))
					break;
			if (j < nb || now[i].group < 0)
				continue;
			self->hp = now[i];
			printf("# plugged %s (group %d) %lld ms after device_add\n",
			       self->hp.bdf, self->hp.group, now_ms() - t0);
			return 0;
		}
		sleep_ms(20);
	}
	snprintf(err, len, "no new edu in sysfs %d ms after device_add",
		 APPEAR_MS);
	return -1;
}

/*
 * Bind the plugged edu, open its group into the container, get its device
 * file, map BAR0 and register the REQ eventfd.
 * Return: 0, or -1 with @err filled.
 */
static int open_plugged(FIXTURE_DATA(hotplug) *self, char *err, size_t len)
{
	char path[PATH_MAX], ms[16];
	int ret;

	ret = bind_to(self->hp.bdf, self->driver);
	if (ret) {
		snprintf(err, len, "%s does not bind to %s", self->hp.bdf,
			 self->driver);
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/grace_ms",
		 self->hp.bdf);
	snprintf(ms, sizeof(ms), "%d", GRACE_MS);
	if (!access(path, F_OK) && sysfs_write(path, ms)) {
		snprintf(err, len, "cannot set grace_ms of %s", self->hp.bdf);
		return -1;
	}
	self->group = vt_open_group(self->hp.group);
	if (self->group < 0) {
		snprintf(err, len, "open group %d: %s", self->hp.group,
			 strerror(-self->group));
		return -1;
	}
	if (ioctl(self->group, VFIO_GROUP_SET_CONTAINER, &self->container)) {
		snprintf(err, len, "SET_CONTAINER: %s", strerror(errno));
		return -1;
	}
	self->device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
			     self->hp.bdf);
	if (self->device < 0) {
		snprintf(err, len, "GET_DEVICE_FD: %s", strerror(errno));
		return -1;
	}
	if (vt_enable_bus_master(self->device)) {
		snprintf(err, len, "bus master: %s", strerror(errno));
		return -1;
	}
	self->bar = vt_mmap_bar(self->device, VFIO_PCI_BAR0_REGION_INDEX,
				&self->bar_size);
	if (self->bar == MAP_FAILED) {
		snprintf(err, len, "mmap BAR0: %s", strerror(errno));
		return -1;
	}
	if (vt_set_irqs(self->device, VFIO_PCI_REQ_IRQ_INDEX,
			VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->req)) {
		snprintf(err, len, "REQ trigger: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Send device_del, without waiting (the answer comes after removal). */
static int unplug_request(FIXTURE_DATA(hotplug) *self)
{
	if (relay_send(self->tty, "device_del"))
		return -1;
	self->del_pending = true;
	return 0;
}

/* The answer to a pending device_del. Return: 0 for "ok". */
static int unplug_answer(FIXTURE_DATA(hotplug) *self, char *answer,
			 size_t len)
{
	self->del_pending = false;
	return relay_answer(self->tty, DELETED_MS, answer, len);
}

/* One edu DMA round trip through the plugged edu, and BAR0 access. */
static bool plugged_works(FIXTURE_DATA(hotplug) *self, unsigned char seed)
{
	unsigned char *src = self->mem, *dst = self->mem + PAGE;

	edu_write32(self->bar, EDU_REG_LIVENESS, 0x1234u * seed);
	if (edu_read32(self->bar, EDU_REG_LIVENESS) != ~(0x1234u * seed))
		return false;
	memset(src, seed, DMA_LEN);
	memset(dst, 0, DMA_LEN);
	return !edu_dma(self->bar, IOVA_HP, EDU_DMA_BUF, DMA_LEN, false) &&
	       !edu_dma(self->bar, EDU_DMA_BUF, IOVA_HP + PAGE, DMA_LEN,
			true) &&
	       !memcmp(src, dst, DMA_LEN);
}

static bool eventfd_fired(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t count;

	return poll(&p, 1, ms) == 1 &&
	       read(fd, &count, sizeof(count)) == sizeof(count);
}

FIXTURE_SETUP(hotplug)
{
	char why[256], err[256];
	size_t size;

	self->tty = self->container = self->other_group = -1;
	self->other_device = self->group = self->device = self->req = -1;
	self->bar = self->mem = self->bg.mem = MAP_FAILED;
	self->tty = relay_open(why, sizeof(why));
	if (self->tty < 0)
		vt_skip_setup("%s", why);
	if (!conf_get("DRIVER", self->driver, sizeof(self->driver)))
		vt_skip_setup("no DRIVER in %s", CONF_PATH);
	if (vt_find_edu(VT_EDU_ALONE, 0, &self->other))
		vt_skip_setup("no edu alone in its group for the container");

	/* A device left plugged by an earlier failure goes first. */
	ASSERT_EQ(0, relay_send(self->tty, "device_del"));
	if (relay_answer(self->tty, DELETED_MS, err, sizeof(err)))
		ASSERT_NE(NULL, strstr(err, "not found")) TH_LOG("%s", err);

	/* The container, with the other edu doing DMA in it. */
	self->container = vt_open_container();
	ASSERT_LE(0, self->container);
	self->other_group = vt_open_group(self->other.group);
	ASSERT_LE(0, self->other_group);
	vt_ioctl_ok(self->other_group, VFIO_GROUP_SET_CONTAINER,
		    &self->container);
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));
	self->other_device = ioctl(self->other_group, VFIO_GROUP_GET_DEVICE_FD,
				   self->other.bdf);
	ASSERT_LE(0, self->other_device);
	ASSERT_EQ(0, vt_enable_bus_master(self->other_device));
	self->bg.bar = vt_mmap_bar(self->other_device,
				   VFIO_PCI_BAR0_REGION_INDEX, &size);
	ASSERT_NE(MAP_FAILED, self->bg.bar);
	self->bg.mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->bg.mem);
	ASSERT_NE(MAP_FAILED, self->mem);
	ASSERT_EQ(0, vt_map_dma(self->container, self->bg.mem, IOVA_OTHER,
				2 * PAGE, VFIO_DMA_MAP_FLAG_READ |
				VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, vt_map_dma(self->container, self->mem, IOVA_HP, 2 * PAGE,
				VFIO_DMA_MAP_FLAG_READ |
				VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, pthread_create(&self->bg.thread, NULL, background_dma,
				    &self->bg));
	self->bg.running = true;

	self->req = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->req);
	ASSERT_EQ(0, plug(self, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, open_plugged(self, err, sizeof(err))) TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(hotplug)
{
	char answer[256];

	/* Let go, so that a removal still waiting for us completes. */
	release_group(self);
	if (self->del_pending) {
		EXPECT_EQ(0, unplug_answer(self, answer, sizeof(answer)))
			TH_LOG("device_del: %s", answer);
	} else if (self->hp.bdf[0] && device_present(self->hp.bdf)) {
		EXPECT_EQ(0, unplug_request(self));
		EXPECT_EQ(0, unplug_answer(self, answer, sizeof(answer)))
			TH_LOG("device_del: %s", answer);
	}
	if (self->bg.running) {
		self->bg.stop = true;
		pthread_join(self->bg.thread, NULL);
		EXPECT_EQ(0u, self->bg.failures)
			TH_LOG("the other edu's DMA failed %u of %u times",
			       self->bg.failures, self->bg.rounds);
	}
	if (self->other_device >= 0)
		close(self->other_device);
	if (self->other_group >= 0)
		close(self->other_group);
	if (self->container >= 0)
		close(self->container);
	if (self->req >= 0)
		close(self->req);
	if (self->tty >= 0)
		close(self->tty);
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

/* SPEC: REMOVE-1 REMOVE-3 REMOVE-9 REMOVE-11 BIND-8 */
TEST_F_TIMEOUT(hotplug, cooperative_user_lets_unplug_complete, 120)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	unsigned int rounds = self->bg.rounds;
	char answer[256];
	long long t0, t_req, t_close;

	ASSERT_TRUE(plugged_works(self, 0x11));
	t0 = now_ms();
	ASSERT_EQ(0, unplug_request(self));
	ASSERT_TRUE(eventfd_fired(self->req, REQ_MS));
	t_req = now_ms();
	/* The user answers the request: it closes the device file. */
	release_device(self);
	t_close = now_ms();
	ASSERT_EQ(0, unplug_answer(self, answer, sizeof(answer)))
		TH_LOG("device_del: %s", answer);
	ASSERT_TRUE(wait_gone(self->hp.bdf, 2000));
	printf("# device_del: REQ after %lld ms, removed %lld ms after the close\n",
	       t_req - t0, now_ms() - t_close);

	/* The group fd still open: the group is no longer viable. */
	vt_ioctl_ok(self->group, VFIO_GROUP_GET_STATUS, &status);
	ASSERT_EQ(0u, status.flags & VFIO_GROUP_FLAGS_VIABLE);
	release_group(self);
	ASSERT_FALSE(vt_group_has_node(self->hp.group));

	/* The other edu of the container did DMA all along. */
	ASSERT_LT(rounds + 2, self->bg.rounds);
	ASSERT_EQ(0u, self->bg.failures);
}

/* SPEC: REMOVE-3 */
TEST_F_TIMEOUT(hotplug, replugged_device_works_again, 120)
{
	char answer[256], err[256];

	ASSERT_TRUE(plugged_works(self, 0x22));
	ASSERT_EQ(0, unplug_request(self));
	ASSERT_TRUE(eventfd_fired(self->req, REQ_MS));
	release_group(self);
	ASSERT_EQ(0, unplug_answer(self, answer, sizeof(answer)))
		TH_LOG("device_del: %s", answer);
	ASSERT_TRUE(wait_gone(self->hp.bdf, 2000));

	ASSERT_EQ(0, plug(self, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, open_plugged(self, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_TRUE(plugged_works(self, 0x33));
}

/* SPEC: REMOVE-4 REMOVE-5 REMOVE-6 */
TEST_F_TIMEOUT(hotplug, ignoring_user_is_revoked_after_grace, 120)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char answer[256];
	long long t_req;

	ASSERT_TRUE(plugged_works(self, 0x44));
	ASSERT_EQ(0, unplug_request(self));
	ASSERT_TRUE(eventfd_fired(self->req, REQ_MS));
	t_req = now_ms();
	/* Ignore the request: removal must still complete, and soon. */
	ASSERT_TRUE(wait_gone(self->hp.bdf, GRACE_MS + BOUND_MS))
		TH_LOG("%s still present %d ms after the request",
		       self->hp.bdf, GRACE_MS + BOUND_MS);
	printf("# revoked and removed %lld ms after the request\n",
	       now_ms() - t_req);
	ASSERT_EQ(0, unplug_answer(self, answer, sizeof(answer)))
		TH_LOG("device_del: %s", answer);

	vt_ioctl_err(ENODEV, self->device, VFIO_DEVICE_GET_INFO, &info);
	ASSERT_TRUE(read_raises_sigbus(self->bar));
}

TEST_HARNESS_MAIN
