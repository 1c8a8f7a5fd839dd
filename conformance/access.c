// SPDX-License-Identifier: GPL-2.0
/*
 * Access as VFIO is deployed: the group node given to an unprivileged user
 * (as libvirt or a udev rule does), that user's own RLIMIT_MEMLOCK, no
 * capabilities; another unprivileged user; fds passed over SCM_RIGHTS; and
 * the nodes' owners and modes across rebinds (spec: Security). The test
 * bodies that must run unprivileged run in children (vt_run_as()); the
 * parent, root, measures what only root can (pinned pages) and puts the
 * node back.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "engine.h"

#define PAGE		4096
#define LEN		(PAGE / 2)	/* see dma.c: QEMU 7.2's edu limit */
#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL
#define IOVA_BIG	0x400000ULL
#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define FIRES_MS	2000

/* The VMM's user, who owns the group node, and another local user. */
static const struct vt_user owner = { 1000, 1000, 4 << 20 };
static const struct vt_user other = { 1001, 1001, 4 << 20 };
/* The owner again, with a limit of 16 pages. */
static const struct vt_user owner_64k = { 1000, 1000, 64 << 10 };

/* What a body needs: the device, and a socket to its parent or peer. */
struct ctx {
	const struct vt_engine_ops *ops;
	struct vt_pci_dev dev;
	int sock;		/* to the parent (checkpoints) */
	int peer;		/* to the other child (fds), or -1 */
	bool pass_device;	/* pass the device fd, not group and container */
	int drop[4];		/* the parent's fds a child closes first */
};

/*
 * In a child: close the socket ends that belong to the parent or to the
 * peer, so that a peer that dies is seen as end of file, not waited for.
 */
static void drop_fds(struct ctx *c)
{
	unsigned int i;

	for (i = 0; i < sizeof(c->drop) / sizeof(c->drop[0]); i++)
		if (c->drop[i] >= 0)
			close(c->drop[i]);
}

/* What a child of the parent's socketpairs must close. */
static void set_drop(struct ctx *c, int a, int b, int d, int e)
{
	c->drop[0] = a;
	c->drop[1] = b;
	c->drop[2] = d;
	c->drop[3] = e;
}

static void *pages(int n, unsigned char fill)
{
	void *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		memset(p, fill, n * PAGE);
	return p;
}

/* The first selected device alone in its group that an engine drives. */
static int find_device(struct ctx *c)
{
	if (vt_engine_select(NULL, VT_DEV_ALONE, 0, &c->dev))
		return -ENODEV;
	c->ops = vt_engine_for(&c->dev);
	return c->ops ? 0 : -ENODEV;
}

/* As a user: container, group, SET_CONTAINER, SET_IOMMU, device fd. */
static void user_open(struct __test_metadata *_metadata, struct ctx *c,
		      struct vt_handles *h)
{
	int ret = vt_open_device(&c->dev, h);

	ASSERT_EQ(0, ret) TH_LOG("uid %u: open %s (group %d): %s",
				 getuid(), c->dev.bdf, c->dev.group,
				 strerror(-ret));
}

/* --- the owner, and everyone else ---------------------------------------- */

FIXTURE(owner) {
	struct ctx c;
	struct vt_node saved;
	struct vt_leaks before;	/* the parent's, after the node was given */
};

FIXTURE_VARIANT(owner) {
	const char *engine;
};

FIXTURE_VARIANT_ADD(owner, edu) {
	.engine = "edu",
};

FIXTURE_VARIANT_ADD(owner, igb) {
	.engine = "igb",
};

FIXTURE_VARIANT_ADD(owner, nvme) {
	.engine = "nvme",
};

FIXTURE_SETUP(owner)
{
	int ret;

	self->c.sock = self->c.peer = -1;
	set_drop(&self->c, -1, -1, -1, -1);
	self->c.ops = vt_engine_by_name(variant->engine);
	ASSERT_NE(NULL, self->c.ops);
	if (vt_engine_select(self->c.ops, VT_DEV_ALONE, 0, &self->c.dev))
		vt_skip_setup("no %s device alone in its group for the %s engine",
			      self->c.ops->name, self->c.ops->name);
	ret = vt_node_give(self->c.dev.group, &owner, 0600, &self->saved);
	ASSERT_EQ(0, ret) TH_LOG("chown /dev/vfio/%d: %s", self->c.dev.group,
				 strerror(-ret));
	vt_leaks_take(&self->before);
}

FIXTURE_TEARDOWN(owner)
{
	vt_node_restore(&self->saved);
}

static void owner_maps(struct __test_metadata *_metadata, struct ctx *c)
{
	struct vt_handles h;
	long lck0 = vt_locked_kib();
	void *buf = pages(2, 0x5a);

	ASSERT_NE(MAP_FAILED, buf);
	user_open(_metadata, c, &h);
	ASSERT_EQ(0, vt_map_dma(h.container, buf, IOVA_SRC, 2 * PAGE, RW));
	/* Charged to this process (SEC-9), within its limit. */
	ASSERT_EQ(lck0 + 8, vt_locked_kib());
	ASSERT_EQ((int)(2 * PAGE), vt_unmap_dma(h.container, IOVA_SRC, 2 * PAGE));
	ASSERT_EQ(lck0, vt_locked_kib());
	vt_close_device(&h);
}

/* SPEC: SEC-7 GROUP-8 CONT-4 DMA-22 */
TEST_F(owner, maps_dma_without_capabilities)
{
	vt_run_as(&owner, owner_maps, &self->c);
	vt_assert_no_leaks(&self->before, "after the users' processes ended");
}

/* The interrupt index the engine raises first: INTx, else MSI. */
static unsigned int first_irq(const struct vt_engine_ops *ops)
{
	return vt_engine_has_irq(ops, VFIO_PCI_INTX_IRQ_INDEX) ?
	       VFIO_PCI_INTX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
}

static void owner_drives(struct __test_metadata *_metadata, struct ctx *c)
{
	unsigned char *dst = pages(1, 0);
	unsigned int irq = first_irq(c->ops);
	struct vt_engine eng;
	struct vt_handles h;
	int efd, ret;

	ASSERT_NE(MAP_FAILED, dst);
	user_open(_metadata, c, &h);
	ASSERT_EQ(0, vt_map_dma(h.container, dst, IOVA_DST, PAGE, RW));
	/* Bus mastering through config space, and the register BAR mmap. */
	ret = vt_engine_open(&eng, c->ops, h.device, h.container,
			     VT_ENGINE_IOVA);
	ASSERT_EQ(0, ret) TH_LOG("%s engine: %s", c->ops->name, strerror(-ret));
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vt_set_irqs(h.device, irq, VFIO_IRQ_SET_ACTION_TRIGGER,
				 0, 1, efd));
	ASSERT_EQ(0, vt_engine_irq_raise(&eng, irq, 0));
	ASSERT_TRUE(vt_eventfd_fired(efd, FIRES_MS));
	vt_engine_irq_ack(&eng, irq);
	/* DMA both ways through the user's mapping. */
	ASSERT_EQ(0, vt_engine_round_trip(&eng, dst, IOVA_DST, PAGE, LEN));
	vt_engine_close(&eng);
	close(efd);
	vt_close_device(&h);
}

/* SPEC: SEC-7 GROUP-18 DEV-1 IRQ-2 DMA-1 */
TEST_F(owner, drives_device_without_capabilities)
{
	vt_run_as(&owner, owner_drives, &self->c);
	vt_assert_no_leaks(&self->before, "after the users' processes ended");
}

static void open_refused(struct __test_metadata *_metadata, struct ctx *c)
{
	ASSERT_EQ(-EACCES, vt_open_group(c->dev.group));
}

/* SPEC: SEC-8 */
TEST_F(owner, other_user_cannot_open_group)
{
	int fd;

	vt_run_as(&other, open_refused, &self->c);
	/* Nothing changed: the group is free, for its owner too. */
	vt_run_as(&owner, owner_maps, &self->c);
	fd = vt_open_group(self->c.dev.group);
	ASSERT_LE(0, fd) TH_LOG("root: %s", strerror(-fd));
	close(fd);
}

/* SPEC: SEC-8 GROUP-3 */
TEST_F(owner, root_owned_node_refuses_owner)
{
	ASSERT_EQ(0, vt_node_restore(&self->saved));
	vt_run_as(&owner, open_refused, &self->c);
}

/*
 * A container of its own, no group: every call that could pin memory or
 * reach a device fails; nothing is charged or pinned (the parent looks at
 * the checkpoint).
 */
static void container_only(struct __test_metadata *_metadata, struct ctx *c)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	long lck0 = vt_locked_kib();
	void *buf = pages(4, 1);
	int fd = vt_open_container();

	drop_fds(c);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", VT_CONTAINER_PATH, strerror(-fd));
	ASSERT_EQ(VFIO_API_VERSION, ioctl(fd, VFIO_GET_API_VERSION));
	vt_ioctl_err(EINVAL, fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	vt_ioctl_err(EINVAL, fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
	ASSERT_EQ(-EINVAL, vt_map_dma(fd, buf, IOVA_SRC, 4 * PAGE, RW));
	ASSERT_EQ(-EINVAL, vt_unmap_dma(fd, IOVA_SRC, 4 * PAGE));
	vt_ioctl_err(EINVAL, fd, VFIO_IOMMU_GET_INFO, &info);
	ASSERT_EQ(lck0, vt_locked_kib());
	ASSERT_EQ(0, vt_sync_child(c->sock));
	close(fd);
}

/*
 * Checkpoints and fd passing go over AF_UNIX socketpairs: a kernel built
 * without CONFIG_NET (ENOSYS; the -debug lanes' kernel) or CONFIG_UNIX
 * (EAFNOSUPPORT) lacks what these tests need. Any other failure is the
 * test's own.
 */
#define needs_socketpair(sv) do { \
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, (sv))) { \
		ASSERT_TRUE(errno == ENOSYS || errno == EAFNOSUPPORT) \
			TH_LOG("socketpair: %s", strerror(errno)); \
		SKIP(return, "no AF_UNIX sockets in this kernel (CONFIG_UNIX)"); \
	} \
} while (0)

/* SPEC: SEC-4 CONT-5 CONT-9 */
TEST_F(owner, container_without_group_grants_nothing)
{
	int sv[2];
	pid_t pid;

	needs_socketpair(sv);
	self->c.sock = sv[1];
	set_drop(&self->c, sv[0], -1, -1, -1);
	pid = vt_spawn_as(&other, container_only, &self->c);
	ASSERT_LT(0, pid);
	close(sv[1]);
	/* At the checkpoint: it still holds the container, after its calls. */
	if (!vt_sync_parent(sv[0])) {
		EXPECT_EQ(self->before.pinned, vt_pinned_pages());
		vt_sync_release(sv[0]);
	}
	close(sv[0]);
	ASSERT_EQ(0, vt_reap(pid));
}

/* --- locked memory ------------------------------------------------------- */

/* 32 pages under a 16-page limit: ENOMEM, and nothing left of the range. */
static void map_over_limit(struct __test_metadata *_metadata, struct ctx *c)
{
	void *buf = pages(32, 2);
	struct vt_handles h;
	long lck0;

	drop_fds(c);
	ASSERT_NE(MAP_FAILED, buf);
	user_open(_metadata, c, &h);
	lck0 = vt_locked_kib();
	ASSERT_EQ(0, vt_sync_child(c->sock));	/* the parent: pinned now */
	ASSERT_EQ(-ENOMEM, vt_map_dma(h.container, buf, IOVA_BIG, 32 * PAGE, RW));
	ASSERT_EQ(lck0, vt_locked_kib());
	ASSERT_EQ(0, vt_sync_child(c->sock));	/* the parent: still that */
	/* No piece of the range stayed mapped: it unmaps nothing ... */
	ASSERT_EQ(0, vt_unmap_dma(h.container, IOVA_BIG, 32 * PAGE));
	/* ... and maps anew within the limit. */
	ASSERT_EQ(0, vt_map_dma(h.container, buf, IOVA_BIG, 16 * PAGE, RW));
	ASSERT_EQ(lck0 + 64, vt_locked_kib());
	vt_close_device(&h);
}

/* SPEC: SEC-10 SEC-3 DMA-11 */
TEST_F(owner, memlock_exceeded_fails_with_nothing_pinned)
{
	long at_setup = -1, after = -1;
	int sv[2];
	pid_t pid;

	needs_socketpair(sv);
	self->c.sock = sv[1];
	set_drop(&self->c, sv[0], -1, -1, -1);
	pid = vt_spawn_as(&owner_64k, map_over_limit, &self->c);
	ASSERT_LT(0, pid);
	close(sv[1]);
	if (!vt_sync_parent(sv[0])) {
		at_setup = vt_pinned_pages();
		vt_sync_release(sv[0]);
	}
	if (!vt_sync_parent(sv[0])) {
		after = vt_pinned_pages();
		vt_sync_release(sv[0]);
	}
	close(sv[0]);
	ASSERT_EQ(0, vt_reap(pid));
	ASSERT_LE(0, at_setup);
	ASSERT_EQ(at_setup, after) TH_LOG("the refused MAP_DMA left pages pinned");
	vt_assert_no_leaks(&self->before, "after the users' processes ended");
}

/*
 * The owner sets up and passes the container to the other user (its own
 * 64 KiB limit), then maps only after the other has mapped and been
 * refused: each mapping is charged to, and bounded by, the mapper.
 */
static void lender(struct __test_metadata *_metadata, struct ctx *c)
{
	void *buf = pages(32, 3);
	struct vt_handles h;
	long lck0;
	char done;

	drop_fds(c);
	ASSERT_NE(MAP_FAILED, buf);
	user_open(_metadata, c, &h);
	lck0 = vt_locked_kib();
	ASSERT_EQ(0, vt_send_fds(c->peer, &h.container, 1));
	ASSERT_EQ(1, read(c->peer, &done, 1));
	ASSERT_EQ(lck0, vt_locked_kib());	/* nothing charged here */
	/* 128 KiB: past the borrower's limit, within this process's. */
	ASSERT_EQ(0, vt_map_dma(h.container, buf, IOVA_BIG, 32 * PAGE, RW));
	ASSERT_EQ(lck0 + 128, vt_locked_kib());
	vt_close_device(&h);
}

static void borrower(struct __test_metadata *_metadata, struct ctx *c)
{
	void *buf = pages(32, 4);
	long lck0 = vt_locked_kib();
	int container;

	drop_fds(c);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, vt_recv_fds(c->peer, &container, 1));
	ASSERT_EQ(0, vt_map_dma(container, buf, IOVA_SRC, 8 * PAGE, RW));
	ASSERT_EQ(lck0 + 32, vt_locked_kib());
	ASSERT_EQ(-ENOMEM, vt_map_dma(container, buf + 8 * PAGE, IOVA_DST,
				      16 * PAGE, RW));
	ASSERT_EQ(lck0 + 32, vt_locked_kib());
	ASSERT_EQ(1, send(c->peer, "d", 1, MSG_NOSIGNAL));
	close(container);
}

/* SPEC: SEC-9 SEC-11 DMA-11 */
TEST_F(owner, memlock_is_charged_to_the_mapping_process)
{
	static const struct vt_user borrower_64k = { 1001, 1001, 64 << 10 };
	pid_t a, b;
	int sv[2];

	needs_socketpair(sv);
	self->c.peer = sv[0];
	set_drop(&self->c, sv[1], -1, -1, -1);
	a = vt_spawn_as(&owner, lender, &self->c);
	self->c.peer = sv[1];
	set_drop(&self->c, sv[0], -1, -1, -1);
	b = vt_spawn_as(&borrower_64k, borrower, &self->c);
	close(sv[0]);
	close(sv[1]);
	ASSERT_LT(0, a);
	ASSERT_LT(0, b);
	EXPECT_EQ(0, vt_reap(b));
	ASSERT_EQ(0, vt_reap(a));
	vt_assert_no_leaks(&self->before, "after the users' processes ended");
}

/* --- fds passed to another process --------------------------------------- */

/*
 * The owner opens everything and passes either the group and the
 * container, or the device fd, to another user's process. Both use what
 * they hold, stop at a checkpoint, and when the parent lets each go in the
 * variant's order, check that what they hold still works and close it.
 */
FIXTURE(pass) {
	struct ctx c;
	struct vt_node saved;
	struct vt_leaks before;	/* the parent's, after the node was given */
};

FIXTURE_VARIANT(pass) {
	bool device;		/* pass the device fd (else group + container) */
	bool receiver_last;	/* the receiver closes last */
};

FIXTURE_VARIANT_ADD(pass, group_sender_last) {
	.device = false,
	.receiver_last = false,
};

FIXTURE_VARIANT_ADD(pass, group_receiver_last) {
	.device = false,
	.receiver_last = true,
};

FIXTURE_VARIANT_ADD(pass, device_sender_last) {
	.device = true,
	.receiver_last = false,
};

FIXTURE_VARIANT_ADD(pass, device_receiver_last) {
	.device = true,
	.receiver_last = true,
};

FIXTURE_SETUP(pass)
{
	int ret;

	self->c.sock = self->c.peer = -1;
	set_drop(&self->c, -1, -1, -1, -1);
	self->c.pass_device = variant->device;
	if (find_device(&self->c))
		vt_skip_setup("no device alone in its group that an engine drives");
	ret = vt_node_give(self->c.dev.group, &owner, 0600, &self->saved);
	ASSERT_EQ(0, ret) TH_LOG("chown /dev/vfio/%d: %s", self->c.dev.group,
				 strerror(-ret));
	vt_leaks_take(&self->before);
}

FIXTURE_TEARDOWN(pass)
{
	vt_node_restore(&self->saved);
}

/* A device fd works: info, and a read of its register BAR through mmap. */
static void device_works(struct __test_metadata *_metadata, struct ctx *c,
			 int device)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	size_t size;
	void *bar;

	vt_ioctl_ok(device, VFIO_DEVICE_GET_INFO, &info);
	ASSERT_NE(0u, info.flags & VFIO_DEVICE_FLAGS_PCI);
	bar = vt_mmap_bar(device, c->ops->bar, &size);
	ASSERT_NE(MAP_FAILED, bar) TH_LOG("mmap BAR %u: %s", c->ops->bar,
					  strerror(errno));
	(void)*(volatile uint32_t *)bar;
	munmap(bar, size);
}

static void group_in_container(struct __test_metadata *_metadata, int group)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	vt_ioctl_ok(group, VFIO_GROUP_GET_STATUS, &st);
	ASSERT_EQ((__u32)(VFIO_GROUP_FLAGS_VIABLE |
			  VFIO_GROUP_FLAGS_CONTAINER_SET), st.flags);
}

static void sender(struct __test_metadata *_metadata, struct ctx *c)
{
	void *buf = pages(1, 5);
	struct vt_handles h = { -1, -1, -1 };
	int fds[2];

	drop_fds(c);
	ASSERT_NE(MAP_FAILED, buf);
	h.container = vt_open_container();
	h.group = vt_open_group(c->dev.group);
	ASSERT_LE(0, h.container);
	ASSERT_LE(0, h.group);
	vt_ioctl_ok(h.group, VFIO_GROUP_SET_CONTAINER, &h.container);
	if (c->pass_device) {
		vt_ioctl_ok(h.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
		h.device = ioctl(h.group, VFIO_GROUP_GET_DEVICE_FD, c->dev.bdf);
		ASSERT_LE(0, h.device);
		ASSERT_EQ(0, vt_send_fds(c->peer, &h.device, 1));
	} else {
		fds[0] = h.group;
		fds[1] = h.container;
		ASSERT_EQ(0, vt_send_fds(c->peer, fds, 2));
	}
	/* The receiver's SET_IOMMU (or ours) is seen through our fds. */
	ASSERT_EQ(1, read(c->peer, buf, 1));
	/* One open file description, wherever it is held (GROUP-1). */
	ASSERT_EQ(-EBUSY, vt_open_group(c->dev.group));
	ASSERT_EQ(0, vt_sync_child(c->sock));
	group_in_container(_metadata, h.group);
	ASSERT_EQ(0, vt_map_dma(h.container, buf, IOVA_DST, PAGE, RW));
	if (h.device >= 0)
		device_works(_metadata, c, h.device);
	vt_close_device(&h);
}

static void receiver(struct __test_metadata *_metadata, struct ctx *c)
{
	void *buf = pages(1, 6);
	int fds[2], group = -1, container = -1, device = -1;

	drop_fds(c);
	ASSERT_NE(MAP_FAILED, buf);
	/* It may not open the node itself. */
	ASSERT_EQ(-EACCES, vt_open_group(c->dev.group));
	if (c->pass_device) {
		ASSERT_EQ(0, vt_recv_fds(c->peer, &device, 1));
	} else {
		ASSERT_EQ(0, vt_recv_fds(c->peer, fds, 2));
		group = fds[0];
		container = fds[1];
		vt_ioctl_ok(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
		device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, c->dev.bdf);
		ASSERT_LE(0, device) TH_LOG("GET_DEVICE_FD: %s", strerror(errno));
		ASSERT_EQ(0, vt_map_dma(container, buf, IOVA_SRC, PAGE, RW));
	}
	device_works(_metadata, c, device);
	ASSERT_EQ(1, send(c->peer, "u", 1, MSG_NOSIGNAL));
	ASSERT_EQ(0, vt_sync_child(c->sock));
	/* Whatever the sender closed meanwhile, this still works. */
	device_works(_metadata, c, device);
	if (group >= 0)
		group_in_container(_metadata, group);
	close(device);
	if (group >= 0)
		close(group);
	if (container >= 0)
		close(container);
}

/* Let a child past its checkpoint and wait for it to end. */
static int finish(int sock, pid_t pid)
{
	vt_sync_release(sock);
	close(sock);
	return vt_reap(pid);
}

/* SPEC: SEC-11 SEC-12 GROUP-1 GROUP-17 CONT-14 */
TEST_F(pass, fd_works_in_receiver_and_last_close_releases)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int peer[2], ps[2], pr[2], first, second, group;
	pid_t snd, rcv, p1, p2;

	needs_socketpair(peer);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ps));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pr));
	self->c.peer = peer[0];
	self->c.sock = ps[1];
	set_drop(&self->c, peer[1], ps[0], pr[0], pr[1]);
	snd = vt_spawn_as(&owner, sender, &self->c);
	self->c.peer = peer[1];
	self->c.sock = pr[1];
	set_drop(&self->c, peer[0], pr[0], ps[0], ps[1]);
	rcv = vt_spawn_as(&other, receiver, &self->c);
	close(peer[0]);
	close(peer[1]);
	close(ps[1]);
	close(pr[1]);
	ASSERT_LT(0, snd);
	ASSERT_LT(0, rcv);
	/* Both at their checkpoint: both hold the passed files. */
	vt_sync_parent(ps[0]);
	vt_sync_parent(pr[0]);
	first = variant->receiver_last ? ps[0] : pr[0];
	second = variant->receiver_last ? pr[0] : ps[0];
	p1 = variant->receiver_last ? snd : rcv;
	p2 = variant->receiver_last ? rcv : snd;
	EXPECT_EQ(0, finish(first, p1)) TH_LOG("the first to close failed");
	ASSERT_EQ(0, finish(second, p2)) TH_LOG("the last to close failed");
	/* The last close anywhere released the group, the container, the pins. */
	vt_assert_no_leaks(&self->before, "after the users' processes ended");
	group = vt_open_group(self->c.dev.group);
	ASSERT_LE(0, group) TH_LOG("reopen: %s", strerror(-group));
	vt_ioctl_ok(group, VFIO_GROUP_GET_STATUS, &st);
	close(group);
	ASSERT_EQ((__u32)VFIO_GROUP_FLAGS_VIABLE, st.flags);
}

/* --- nodes ----------------------------------------------------------------- */

/* Unbind a device and bind it back to the driver it had. */
static int rebind(const char *bdf)
{
	char drv[64];
	int ret = vt_driver_of(bdf, drv, sizeof(drv));

	if (ret)
		return ret;
	ret = vt_rebind(bdf, NULL);
	if (ret)
		return ret;
	return vt_rebind(bdf, drv);
}

static void open_granted(struct __test_metadata *_metadata, struct ctx *c)
{
	int fd = vt_open_group(c->dev.group);

	ASSERT_LE(0, fd) TH_LOG("uid %u: %s", getuid(), strerror(-fd));
	close(fd);
}

/* SPEC: SEC-13 BIND-11 */
TEST(admin_node_owner_survives_rebind_of_another_device)
{
	struct vt_node saved, now;
	struct vt_pci_dev a, b;
	struct ctx c = { .sock = -1, .peer = -1, .drop = { -1, -1, -1, -1 } };
	int ret;

	/* Two devices of one group (behind a conventional bridge). */
	if (vt_select(VT_DEV_SHARED, 0, NULL, &a) || vt_select_peer(&a, 0, &b))
		SKIP(return, "no two selected devices of one group");
	c.dev = a;
	ret = vt_node_give(a.group, &owner, 0640, &saved);
	ASSERT_EQ(0, ret) TH_LOG("chown: %s", strerror(-ret));
	ret = rebind(b.bdf);
	EXPECT_EQ(0, ret) TH_LOG("rebind %s: %s", b.bdf, strerror(-ret));
	EXPECT_EQ(0, vt_node_stat(a.group, &now));
	EXPECT_EQ(owner.uid, now.uid);
	EXPECT_EQ(owner.gid, now.gid);
	EXPECT_EQ(0640u, now.mode);
	if (!ret)
		vt_run_as(&owner, open_granted, &c);
	vt_node_restore(&saved);
}

/* The next uevent that names DEVNAME=@devname, within 2 s. */
static bool uevent_add_seen(int nl, const char *devname)
{
	struct pollfd p = { .fd = nl, .events = POLLIN };
	char msg[4096], want[80];
	ssize_t n;
	int i;

	snprintf(want, sizeof(want), "DEVNAME=%s", devname);
	for (i = 0; i < 40 && poll(&p, 1, 2000) == 1; i++) {
		char *s;
		bool add = false, named = false;

		n = recv(nl, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			return false;
		msg[n] = '\0';
		for (s = msg; s < msg + n; s += strlen(s) + 1) {
			add |= !strcmp(s, "ACTION=add");
			named |= !strcmp(s, want);
		}
		if (add && named)
			return true;
	}
	return false;
}

/* SPEC: SEC-14 GROUP-3 */
TEST(recreated_node_is_root_0600_and_announced)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	struct vt_node saved, now;
	char devname[32];
	struct ctx c;
	int nl, ret;

	if (find_device(&c))
		SKIP(return, "no device alone in its group that an engine drives");
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
		    NETLINK_KOBJECT_UEVENT);
	if (nl < 0)
		SKIP(return, "no uevent netlink socket: %s", strerror(errno));
	ASSERT_EQ(0, bind(nl, (struct sockaddr *)&sa, sizeof(sa)));
	ret = vt_node_give(c.dev.group, &owner, 0660, &saved);
	ASSERT_EQ(0, ret) TH_LOG("chown: %s", strerror(-ret));
	ret = rebind(c.dev.bdf);
	ASSERT_EQ(0, ret) TH_LOG("rebind %s: %s", c.dev.bdf, strerror(-ret));
	snprintf(devname, sizeof(devname), "vfio/%d", c.dev.group);
	EXPECT_TRUE(uevent_add_seen(nl, devname));
	close(nl);
	/* A new node: root's, 0600; the administrator's rule re-applies. */
	ASSERT_EQ(0, vt_node_stat(c.dev.group, &now));
	EXPECT_EQ(0u, now.uid);
	EXPECT_EQ(0u, now.gid);
	EXPECT_EQ(0600u, now.mode);
	vt_node_restore(&saved);
}

TEST_HARNESS_MAIN
