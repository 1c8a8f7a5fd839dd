// SPDX-License-Identifier: GPL-2.0
/*
 * Hot-unplug and re-plug through QEMU's QMP, driven from the guest: the
 * testbed relays one-line requests on a serial port (HOTPLUG_TTY in
 * /etc/testbed.conf, tools/hotplug-relay.c) to device_add and device_del of
 * a device (the testbed's: an edu) on an empty hot-pluggable root port.
 * Without that relay (real hardware) every test skips. The plugged device
 * and the others are driven through their DMA engines (engine.h).
 *
 * Fixture hotplug: each test plugs a device on the root port (a group of its
 * own), binds it to the implementation's driver (DRIVER in the config) the
 * way the runner does, and uses it in a container that also holds another
 * selected device, whose DMA runs in a thread throughout. Fixture joining: a
 * device is plugged behind the conventional bridge whose group user space
 * holds, with DMA running on the group's first device. Teardown always lets
 * go of the files
 * and unplugs, so that an implementation that waits for the user without
 * bound (the kernel's own VFIO) is reported, not hung.
 */
#include <dirent.h>
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
#include "engine.h"

#define CONF_PATH	"/etc/testbed.conf"
#define PAGE		4096
#define DMA_LEN		(PAGE / 2)	/* within every engine's max_len */
#define IOVA_OTHER	0x100000ULL	/* two pages: the other device's DMA */
#define IOVA_HP		0x300000ULL	/* two pages: the plugged device's DMA */
/* The engines' own windows: the other device's, the plugged one's. */
#define ENGINE_OTHER	VT_ENGINE_IOVA
#define ENGINE_HP	(VT_ENGINE_IOVA + VT_ENGINE_IOVA_SIZE)
#define GRACE_MS	1000	/* set per device where the driver has it */
#define BOUND_MS	3000	/* how much longer than the grace we wait */
#define REQ_MS		20000	/* pciehp waits 5 s after the button press */
#define APPEAR_MS	20000	/* device_add until the device is in sysfs */
#define DELETED_MS	70000	/* relay's own bound is 60 s */



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

static bool device_present(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	return access(path, F_OK) == 0;
}

/*
 * Bind like the runner: driver_override, unbind, drivers_probe. A device
 * just plugged matches no driver until the PCI core has finished adding it,
 * so the probe is retried for a while.
 */
static int bind_to(const char *bdf, const char *driver)
{
	long long deadline = now_ms() + 5000;
	char path[PATH_MAX], drv[64];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	if (vt_sysfs_write(path, driver))
		return -errno;
	if (!vt_driver_of(bdf, drv, sizeof(drv))) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind",
			 drv);
		vt_sysfs_write(path, bdf);
	}
	for (;;) {
		vt_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
		if (!vt_driver_of(bdf, drv, sizeof(drv)) && !strcmp(drv, driver))
			return 0;
		if (now_ms() > deadline)
			return -ENODEV;
		sleep_ms(50);
	}
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

/* --- DMA of another device, in a thread ----------------------------------- */

/* Another device of the container, doing DMA in a thread. */
struct background {
	pthread_t thread;
	bool running;
	volatile bool stop;
	struct vt_engine eng;
	unsigned char *mem;	/* two pages at IOVA_OTHER */
	volatile unsigned int rounds, failures;
};

static void *background_dma(void *arg)
{
	struct background *bg = arg;

	while (!bg->stop) {
		if (vt_engine_round_trip(&bg->eng, bg->mem, IOVA_OTHER,
					 2 * PAGE, DMA_LEN))
			bg->failures++;
		bg->rounds++;
	}
	return NULL;
}

/*
 * Start DMA on @device (in @container), which the engine of @dev drives, in
 * a thread. Return: 0 or -1.
 */
static int background_start(struct background *bg, int container,
			     const struct vt_pci_dev *dev, int device)
{
	bg->mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bg->mem == MAP_FAILED ||
	    vt_map_dma(container, bg->mem, IOVA_OTHER, 2 * PAGE,
		       VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) ||
	    vt_engine_open(&bg->eng, vt_engine_for(dev), device, container,
			   ENGINE_OTHER))
		return -1;
	if (pthread_create(&bg->thread, NULL, background_dma, bg))
		return -1;
	bg->running = true;
	return 0;
}

/* Whether the thread completes @n more rounds within @ms. */
static bool background_progress(struct background *bg, unsigned int n,
				int ms)
{
	unsigned int target = bg->rounds + n;
	long long deadline = now_ms() + ms;

	while (bg->rounds < target && now_ms() < deadline)
		sleep_ms(20);
	return bg->rounds >= target;
}

/* Stop the thread. Return: how many of its transfers failed. */
static unsigned int background_stop(struct background *bg)
{
	if (bg->running) {
		bg->stop = true;
		pthread_join(bg->thread, NULL);
		bg->running = false;
	}
	vt_engine_close(&bg->eng);
	if (bg->mem && bg->mem != MAP_FAILED)
		munmap(bg->mem, 2 * PAGE);
	bg->mem = MAP_FAILED;
	return bg->failures;
}

/* --- plugging ------------------------------------------------------------- */

/* The PCI functions in sysfs now (their addresses, at most @max). */
static int pci_functions(char (*bdf)[32], int max)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < max)
		if (de->d_name[0] != '.' && strlen(de->d_name) < sizeof(bdf[0]))
			strcpy(bdf[n++], de->d_name);
	closedir(dir);
	return n;
}

static bool listed(char (*bdf)[32], int n, const char *name)
{
	while (n--)
		if (!strcmp(bdf[n], name))
			return true;
	return false;
}

/*
 * Ask the relay for @request (a device_add), then wait for a new endpoint
 * in sysfs, with its IOMMU group. Return: 0 and fills @out, or -1 with @err.
 */
static int plug(int tty, const char *request, struct vt_pci_dev *out,
		char *err, size_t len)
{
	char before[VT_MAX_DEVICES][32], now[VT_MAX_DEVICES][32];
	int nb = pci_functions(before, VT_MAX_DEVICES);
	long long t0 = now_ms(), deadline = t0 + APPEAR_MS;
	char answer[128];
	int i, n;

	if (relay_send(tty, request) ||
	    relay_answer(tty, 10000, answer, sizeof(answer))) {
		snprintf(err, len, "%s: %s", request, answer);
		return -1;
	}
	while (now_ms() < deadline) {
		n = pci_functions(now, VT_MAX_DEVICES);
		for (i = 0; i < n; i++) {
			if (listed(before, nb, now[i]) ||
			    !vt_is_endpoint(now[i]) ||
			    vt_pci_dev_read(now[i], out) || out->group < 0)
				continue;
			printf("# %s: %s (group %d) in sysfs after %lld ms\n",
			       request, out->bdf, out->group, now_ms() - t0);
			fflush(stdout);
			return 0;
		}
		sleep_ms(20);
	}
	snprintf(err, len, "no new endpoint in sysfs %d ms after %s", APPEAR_MS,
		 request);
	return -1;
}

/*
 * Remove what an earlier failure left plugged: @request (a device_del) is
 * answered ok, or refused because there is no such device.
 */
static int unplug_leftover(int tty, const char *request, char *err,
			   size_t len)
{
	if (relay_send(tty, request))
		return -1;
	if (!relay_answer(tty, DELETED_MS, err, len))
		return 0;
	return strstr(err, "not found") ? 0 : -1;
}

/* Send a device_del @request, without waiting for its answer. */
static int unplug_request(int tty, const char *request, bool *pending)
{
	if (relay_send(tty, request))
		return -1;
	*pending = true;
	return 0;
}

/* The answer to a pending device_del. Return: 0 for "ok". */
static int unplug_answer(int tty, bool *pending, char *answer, size_t len)
{
	*pending = false;
	return relay_answer(tty, DELETED_MS, answer, len);
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
 * Get the device file of bound @dev from the open @group, enable bus
 * mastering, map its first memory BAR, register @req on the REQ index and set a short grace
 * period where the driver has one.
 * Return: the device fd, or -1 with @err filled.
 */
static int open_plugged(const struct vt_pci_dev *dev, int group, int req,
			void **bar, size_t *bar_size, char *err, size_t len)
{
	char path[PATH_MAX], ms[16];
	int device;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/grace_ms",
		 dev->bdf);
	snprintf(ms, sizeof(ms), "%d", GRACE_MS);
	if (!access(path, F_OK) && vt_sysfs_write(path, ms)) {
		snprintf(err, len, "cannot set grace_ms of %s", dev->bdf);
		return -1;
	}
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
	if (device < 0) {
		snprintf(err, len, "GET_DEVICE_FD: %s", strerror(errno));
		return -1;
	}
	if (vt_enable_bus_master(device)) {
		snprintf(err, len, "bus master: %s", strerror(errno));
		goto err_close;
	}
	*bar = vt_mmap_bar(device, vt_first_mem_bar(dev->bdf), bar_size);
	if (*bar == MAP_FAILED) {
		snprintf(err, len, "mmap its first memory BAR: %s",
			 strerror(errno));
		goto err_close;
	}
	if (vt_set_irqs(device, VFIO_PCI_REQ_IRQ_INDEX,
			VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, req)) {
		snprintf(err, len, "REQ trigger: %s", strerror(errno));
		munmap(*bar, *bar_size);
		goto err_close;
	}
	return device;

err_close:
	*bar = MAP_FAILED;
	close(device);
	return -1;
}

/*
 * The engine answers on its registers and does DMA both ways through user
 * memory @mem (two pages at IOVA_HP); closed afterwards.
 */
static bool engine_works(struct vt_engine *e, unsigned char *mem)
{
	bool ok = !e->ops->alive(e->regs, e->regs_size) &&
		  !vt_engine_round_trip(e, mem, IOVA_HP, 2 * PAGE, DMA_LEN);

	vt_engine_close(e);
	return ok;
}

/*
 * Whether the plugged device @dev (its VFIO file @device, in @container)
 * works: its engine's register round trip and DMA, after which bus
 * mastering stays on, as the test had it.
 */
static bool plugged_works(const struct vt_pci_dev *dev, int device,
			  int container, unsigned char *mem)
{
	const struct vt_engine_ops *ops = vt_engine_for(dev);
	struct vt_engine e;
	bool ok;

	if (!ops || vt_engine_open(&e, ops, device, container, ENGINE_HP))
		return false;
	ok = engine_works(&e, mem);
	return !vt_enable_bus_master(device) && ok;
}

static void *two_pages(void)
{
	return mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* --- a device plugged on the root port, alone in its group ---------------- */

FIXTURE(hotplug) {
	int tty;			/* the relay's serial port */
	bool del_pending;		/* device_del sent, answer not read */
	char driver[64];
	struct vt_pci_dev other, hp;
	int container, other_group, other_device;
	int group, device, req;		/* the plugged device's */
	void *bar;
	size_t bar_size;
	unsigned char *mem;		/* two pages at IOVA_HP */
	struct background bg;		/* the other device */
};

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

/* Plug the device, bind it and open it into the container. */
static int plug_and_open(FIXTURE_DATA(hotplug) *self, char *err, size_t len)
{
	struct vt_pci_dev now;

	if (plug(self->tty, "device_add", &self->hp, err, len))
		return -1;
	if (bind_to(self->hp.bdf, self->driver)) {
		snprintf(err, len, "%s does not bind to %s", self->hp.bdf,
			 self->driver);
		return -1;
	}
	if (!vt_pci_dev_read(self->hp.bdf, &now) && now.group != self->hp.group) {
		/* Enumerated again between plug() and the bind. */
		printf("# %s: IOMMU group %d when it appeared, %d once bound\n",
		       self->hp.bdf, self->hp.group, now.group);
		fflush(stdout);
		self->hp = now;
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
	self->device = open_plugged(&self->hp, self->group, self->req,
				    &self->bar, &self->bar_size, err, len);
	return self->device < 0 ? -1 : 0;
}

FIXTURE_SETUP(hotplug)
{
	char why[256], err[256];

	self->tty = self->container = self->other_group = -1;
	self->other_device = self->group = self->device = self->req = -1;
	self->bar = self->mem = self->bg.mem = MAP_FAILED;
	self->tty = relay_open(why, sizeof(why));
	if (self->tty < 0)
		vt_skip_setup("%s", why);
	if (!conf_get("DRIVER", self->driver, sizeof(self->driver)))
		vt_skip_setup("no DRIVER in %s", CONF_PATH);
	if (vt_engine_select(NULL, VT_DEV_ALONE, 0, &self->other))
		vt_skip_setup("no selected device with a DMA engine alone in its group for the container");
	ASSERT_EQ(0, unplug_leftover(self->tty, "device_del", err,
				     sizeof(err))) TH_LOG("%s", err);

	/* The container, with the other device doing DMA in it. */
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
	ASSERT_EQ(0, background_start(&self->bg, self->container,
				      &self->other, self->other_device));
	self->mem = two_pages();
	ASSERT_NE(MAP_FAILED, self->mem);
	ASSERT_EQ(0, vt_map_dma(self->container, self->mem, IOVA_HP, 2 * PAGE,
				VFIO_DMA_MAP_FLAG_READ |
				VFIO_DMA_MAP_FLAG_WRITE));
	self->req = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->req);
	ASSERT_EQ(0, plug_and_open(self, err, sizeof(err))) TH_LOG("%s", err);
}

/*
 * In a teardown: finish a device_del still pending, or unplug a device the
 * test left plugged, so that the next test finds the port empty.
 */
static void teardown_unplug(struct __test_metadata *_metadata, int tty,
			    bool *pending, const char *bdf, const char *request)
{
	char answer[256];

	if (!*pending && !(bdf[0] && device_present(bdf)))
		return;
	if (!*pending)
		EXPECT_EQ(0, unplug_request(tty, request, pending));
	EXPECT_EQ(0, unplug_answer(tty, pending, answer, sizeof(answer)))
		TH_LOG("%s: %s", request, answer);
}

FIXTURE_TEARDOWN(hotplug)
{
	/* Let go, so that a removal still waiting for us completes. */
	release_group(self);
	teardown_unplug(_metadata, self->tty, &self->del_pending,
			self->hp.bdf, "device_del");
	EXPECT_EQ(0u, background_stop(&self->bg))
		TH_LOG("the other device's DMA failed %u of %u times",
		       self->bg.failures, self->bg.rounds);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, 2 * PAGE);
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

/* SPEC: REMOVE-1 REMOVE-3 REMOVE-9 */
TEST_F_TIMEOUT(hotplug, cooperative_user_lets_unplug_complete, 120)
{
	char answer[256];
	long long t0, t_req, t_close;

	ASSERT_TRUE(plugged_works(&self->hp, self->device, self->container,
				   self->mem));
	t0 = now_ms();
	ASSERT_EQ(0, unplug_request(self->tty, "device_del",
				    &self->del_pending));
	ASSERT_TRUE(vt_eventfd_fired(self->req, REQ_MS));
	t_req = now_ms();
	/* Removal waits for us: the container's other device keeps its DMA. */
	ASSERT_TRUE(background_progress(&self->bg, 2, 5000));
	/* The user answers the request: it closes its files of the device. */
	release_group(self);
	t_close = now_ms();
	ASSERT_EQ(0, unplug_answer(self->tty, &self->del_pending, answer,
				   sizeof(answer)))
		TH_LOG("device_del: %s", answer);
	ASSERT_TRUE(wait_gone(self->hp.bdf, 2000));
	printf("# device_del: REQ after %lld ms; removed %lld ms after the close\n",
	       t_req - t0, now_ms() - t_close);
	fflush(stdout);
	ASSERT_FALSE(vt_group_has_node(self->hp.group));

	ASSERT_TRUE(background_progress(&self->bg, 2, 5000));
	ASSERT_EQ(0u, self->bg.failures);
}

/* SPEC: REMOVE-16 BIND-12 */
TEST_F_TIMEOUT(hotplug, emptied_group_reports_not_viable, 120)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char answer[256];

	ASSERT_EQ(0, unplug_request(self->tty, "device_del",
				    &self->del_pending));
	ASSERT_TRUE(vt_eventfd_fired(self->req, REQ_MS));
	release_device(self);
	ASSERT_EQ(0, unplug_answer(self->tty, &self->del_pending, answer,
				   sizeof(answer)))
		TH_LOG("device_del: %s", answer);
	ASSERT_TRUE(wait_gone(self->hp.bdf, 2000));

	/* The group fd still open: the group is not viable, then goes. */
	vt_ioctl_ok(self->group, VFIO_GROUP_GET_STATUS, &status);
	ASSERT_EQ(0u, status.flags & VFIO_GROUP_FLAGS_VIABLE);
	release_group(self);
	ASSERT_FALSE(vt_group_has_node(self->hp.group));
}

/* SPEC: REMOVE-3 */
TEST_F_TIMEOUT(hotplug, replugged_device_works_again, 120)
{
	char answer[256], err[256];

	ASSERT_TRUE(plugged_works(&self->hp, self->device, self->container,
				   self->mem));
	ASSERT_EQ(0, unplug_request(self->tty, "device_del",
				    &self->del_pending));
	ASSERT_TRUE(vt_eventfd_fired(self->req, REQ_MS));
	release_group(self);
	ASSERT_EQ(0, unplug_answer(self->tty, &self->del_pending, answer,
				   sizeof(answer)))
		TH_LOG("device_del: %s", answer);
	ASSERT_TRUE(wait_gone(self->hp.bdf, 2000));

	ASSERT_EQ(0, plug_and_open(self, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_TRUE(plugged_works(&self->hp, self->device, self->container,
				   self->mem));
}

/* SPEC: REMOVE-12 REMOVE-5 REMOVE-6 */
TEST_F_TIMEOUT(hotplug, ignoring_user_is_revoked_after_grace, 120)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char answer[256];
	long long t_req;

	ASSERT_TRUE(plugged_works(&self->hp, self->device, self->container,
				   self->mem));
	ASSERT_EQ(0, unplug_request(self->tty, "device_del",
				    &self->del_pending));
	ASSERT_TRUE(vt_eventfd_fired(self->req, REQ_MS));
	t_req = now_ms();
	/* Ignore the request: removal must still complete, and soon. */
	ASSERT_TRUE(wait_gone(self->hp.bdf, GRACE_MS + BOUND_MS))
		TH_LOG("%s still present %d ms after the request",
		       self->hp.bdf, GRACE_MS + BOUND_MS);
	printf("# revoked and removed %lld ms after the request\n",
	       now_ms() - t_req);
	fflush(stdout);
	ASSERT_EQ(0, unplug_answer(self->tty, &self->del_pending, answer,
				   sizeof(answer)))
		TH_LOG("device_del: %s", answer);

	vt_ioctl_err(ENODEV, self->device, VFIO_DEVICE_GET_INFO, &info);
	ASSERT_TRUE(vt_read_raises_sigbus(self->bar));
}

/* --- a device plugged behind the bridge of a group in use ----------------- */

FIXTURE(joining) {
	int tty;
	bool del_pending;
	char driver[64];
	struct vt_pci_dev first, second, hp;
	int container, group, first_device, second_device;
	int device, req;		/* the plugged device's */
	void *bar;
	size_t bar_size;
	unsigned char *mem;		/* two pages at IOVA_HP */
	struct background bg;		/* the group's first device */
};

FIXTURE_SETUP(joining)
{
	char why[256], err[256];

	self->tty = self->container = self->group = self->req = -1;
	self->first_device = self->second_device = self->device = -1;
	self->bar = self->mem = self->bg.mem = MAP_FAILED;
	self->tty = relay_open(why, sizeof(why));
	if (self->tty < 0)
		vt_skip_setup("%s", why);
	if (!conf_get("DRIVER", self->driver, sizeof(self->driver)))
		vt_skip_setup("no DRIVER in %s", CONF_PATH);
	if (!conf_get("HOTPLUG_JOIN", why, sizeof(why)) || strcmp(why, "1"))
		vt_skip_setup("opt-in (HOTPLUG_JOIN=1): a device joining a group in use clears the group's context entry under intel-iommu, and 6.1 then BUGs in the group's release");
	if (vt_select(VT_DEV_SHARED, 0, vt_has_engine, &self->first) ||
	    vt_select_peer(&self->first, 0, &self->second))
		vt_skip_setup("no selected device with a DMA engine sharing its group with another");
	ASSERT_EQ(0, unplug_leftover(self->tty, "device_del_bridge", err,
				     sizeof(err))) TH_LOG("%s", err);

	/* The group in use: both devices open, DMA running on the first. */
	self->container = vt_open_container();
	ASSERT_LE(0, self->container);
	self->group = vt_open_group(self->first.group);
	ASSERT_LE(0, self->group);
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));
	self->first_device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
				   self->first.bdf);
	ASSERT_LE(0, self->first_device);
	self->second_device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
				    self->second.bdf);
	ASSERT_LE(0, self->second_device);
	ASSERT_EQ(0, background_start(&self->bg, self->container,
				      &self->first, self->first_device));
	self->mem = two_pages();
	ASSERT_NE(MAP_FAILED, self->mem);
	ASSERT_EQ(0, vt_map_dma(self->container, self->mem, IOVA_HP, 2 * PAGE,
				VFIO_DMA_MAP_FLAG_READ |
				VFIO_DMA_MAP_FLAG_WRITE));
	self->req = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->req);

	ASSERT_EQ(0, plug(self->tty, "device_add_bridge", &self->hp, err,
			  sizeof(err))) TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(joining)
{
	if (self->bar != MAP_FAILED)
		munmap(self->bar, self->bar_size);
	if (self->device >= 0)
		close(self->device);
	teardown_unplug(_metadata, self->tty, &self->del_pending,
			self->hp.bdf, "device_del_bridge");
	EXPECT_EQ(0u, background_stop(&self->bg))
		TH_LOG("the group's DMA failed %u of %u times",
		       self->bg.failures, self->bg.rounds);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, 2 * PAGE);
	if (self->first_device >= 0)
		close(self->first_device);
	if (self->second_device >= 0)
		close(self->second_device);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (self->req >= 0)
		close(self->req);
	if (self->tty >= 0)
		close(self->tty);
}

/*
 * BIND-6 (not yet counted as tested: the fixture is opt-in, see setup).
 * Behind a conventional bridge the joining device shares the group's requester
 * ID, so the group's IOMMU context is the only one it may use: while it has
 * no driver, its DMA lands in the user's mapping, and the group's own DMA
 * goes on undisturbed. Bound to the implementation, it is one more device
 * of the open group.
 */
/* SPEC: opt-in BIND-6 */
TEST_F_TIMEOUT(joining, joining_device_stays_in_group_context, 120)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], err[256], drv[64];
	const struct vt_engine_ops *ops = vt_engine_for(&self->hp);
	struct vt_engine e;
	uint16_t cmd, on;
	size_t size;
	void *bar;
	int fd;

	ASSERT_NE(NULL, ops) TH_LOG("no DMA engine drives the plugged %s",
				    self->hp.bdf);

	ASSERT_EQ(self->first.group, self->hp.group);
	ASSERT_NE(0, vt_driver_of(self->hp.bdf, drv, sizeof(drv)))
		TH_LOG("%s came up with driver %s", self->hp.bdf, drv);
	vt_ioctl_ok(self->group, VFIO_GROUP_GET_STATUS, &status);
	ASSERT_NE(0u, status.flags & VFIO_GROUP_FLAGS_VIABLE);

	/* DMA by the driverless device, through its sysfs register BAR. */
	ASSERT_EQ(0, vt_real_config(self->hp.bdf, PCI_COMMAND_OFFSET, &cmd,
				    sizeof(cmd)));
	on = cmd | 0x2 | PCI_COMMAND_MASTER_BIT;	/* memory space, bus master */
	ASSERT_EQ(0, vt_real_config_write(self->hp.bdf, PCI_COMMAND_OFFSET,
					  &on, sizeof(on)));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%u",
		 self->hp.bdf, ops->bar);
	size = vt_bar_size(self->hp.bdf, ops->bar, NULL);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	bar = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, bar);
	EXPECT_EQ(0, vt_engine_open_regs(&e, ops, bar, size, self->container,
					 ENGINE_HP));
	if (e.ops)
		EXPECT_TRUE(engine_works(&e, self->mem));
	munmap(bar, size);
	ASSERT_EQ(0, vt_real_config_write(self->hp.bdf, PCI_COMMAND_OFFSET,
					  &cmd, sizeof(cmd)));
	ASSERT_TRUE(background_progress(&self->bg, 2, 5000));
	ASSERT_EQ(0u, self->bg.failures);

	/* Bound, it is one more device of the group in use. */
	ASSERT_EQ(0, bind_to(self->hp.bdf, self->driver));
	self->device = open_plugged(&self->hp, self->group, self->req,
				    &self->bar, &self->bar_size, err,
				    sizeof(err));
	ASSERT_LE(0, self->device) TH_LOG("%s", err);
	ASSERT_TRUE(plugged_works(&self->hp, self->device, self->container,
				   self->mem));
}

/* For a group that keeps other devices (opt-in). */
/* SPEC: opt-in BIND-11 REMOVE-9 */
TEST_F_TIMEOUT(joining, leaving_device_keeps_group_file, 120)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char answer[256], err[256];

	ASSERT_EQ(0, bind_to(self->hp.bdf, self->driver));
	self->device = open_plugged(&self->hp, self->group, self->req,
				    &self->bar, &self->bar_size, err,
				    sizeof(err));
	ASSERT_LE(0, self->device) TH_LOG("%s", err);
	ASSERT_EQ(0, unplug_request(self->tty, "device_del_bridge",
				    &self->del_pending));
	ASSERT_TRUE(vt_eventfd_fired(self->req, REQ_MS));
	munmap(self->bar, self->bar_size);
	self->bar = MAP_FAILED;
	close(self->device);
	self->device = -1;
	ASSERT_EQ(0, unplug_answer(self->tty, &self->del_pending, answer,
				   sizeof(answer)))
		TH_LOG("device_del_bridge: %s", answer);
	ASSERT_TRUE(wait_gone(self->hp.bdf, 2000));

	/* The group's other devices are still bound: the group stays. */
	ASSERT_TRUE(vt_group_has_node(self->first.group));
	vt_ioctl_ok(self->group, VFIO_GROUP_GET_STATUS, &status);
	ASSERT_NE(0u, status.flags & VFIO_GROUP_FLAGS_VIABLE);
	ASSERT_TRUE(background_progress(&self->bg, 2, 5000));
	ASSERT_EQ(0u, self->bg.failures);
}

TEST_HARNESS_MAIN
