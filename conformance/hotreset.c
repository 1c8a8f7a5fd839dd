// SPDX-License-Identifier: GPL-2.0
/*
 * PCI hot reset (spec: Device file, PCI hot reset): the list of affected
 * devices and their groups, and the reset that takes a group file of each
 * affected group as proof of ownership and refuses anything less. The
 * shared variant is the natural case: two devices behind a conventional
 * bridge, one group, reset together.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "kselftest_harness.h"
#include "engine.h"

#define MAX_AFFECTED	32

FIXTURE(hot) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	int count;		/* affected devices; -errno of INFO if none */
	struct {
		struct vfio_pci_hot_reset_info hdr;
		struct vfio_pci_dependent_device devices[MAX_AFFECTED];
	} info;
	int fds[MAX_AFFECTED];	/* group fds this test opened, -1 */
	bool root_bus;		/* the device has no bridge above it */
};

FIXTURE_VARIANT(hot) {
	enum vt_dev_kind kind;
};

FIXTURE_VARIANT_ADD(hot, alone) {
	.kind = VT_DEV_ALONE,
};

FIXTURE_VARIANT_ADD(hot, shared) {
	.kind = VT_DEV_SHARED,
};

/* GET_PCI_HOT_RESET_INFO with @argsz into self->info; 0 or -errno. */
static int hot_info(FIXTURE_DATA(hot) *self, __u32 argsz)
{
	memset(&self->info, 0, sizeof(self->info));
	self->info.hdr.argsz = argsz;
	return ioctl(self->h.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
		     &self->info) ? -errno : 0;
}

FIXTURE_SETUP(hot)
{
	unsigned int i;
	int ret;

	self->h.container = self->h.group = self->h.device = -1;
	for (i = 0; i < MAX_AFFECTED; i++)
		self->fds[i] = -1;
	if (vt_select(variant->kind, 0, NULL, &self->dev))
		vt_skip_setup("no selected device%s",
			      vt_dev_kind_name(variant->kind));
	self->root_bus = vt_on_root_bus(self->dev.bdf);
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
	ret = hot_info(self, sizeof(self->info));
	self->count = ret ? ret : (int)self->info.hdr.count;
}

FIXTURE_TEARDOWN(hot)
{
	unsigned int i;

	for (i = 0; i < MAX_AFFECTED; i++)
		if (self->fds[i] >= 0)
			close(self->fds[i]);
	vt_close_device(&self->h);
}

/*
 * Skip when the platform has no slot or bus to reset: the device sits on a
 * root bus (sysfs says so, whatever the implementation answers), where
 * INFO must fail with ENODEV (DEV-22). Anywhere else INFO must succeed.
 */
#define needs_hot_reset() do { \
	if (self->root_bus) { \
		ASSERT_EQ(-ENODEV, self->count); \
		SKIP(return, "%s sits on a root bus: no slot or bus to reset", \
		     self->dev.bdf); \
	} \
	ASSERT_LT(0, self->count) TH_LOG("GET_PCI_HOT_RESET_INFO: %s", \
					 strerror(-self->count)); \
	ASSERT_GE(MAX_AFFECTED, self->count); \
} while (0)

/* The address of an entry, as sysfs spells it. */
static void entry_bdf(const struct vfio_pci_dependent_device *d, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", d->segment, d->bus,
		 d->devfn >> 3, d->devfn & 7);
}

/* The entry of @bdf in the list, or NULL. */
static const struct vfio_pci_dependent_device *
find_entry(FIXTURE_DATA(hot) *self, const char *bdf)
{
	char name[32];
	int i;

	for (i = 0; i < self->count; i++) {
		entry_bdf(&self->info.devices[i], name, sizeof(name));
		if (!strcmp(name, bdf))
			return &self->info.devices[i];
	}
	return NULL;
}

/*
 * A group fd for every affected group: ours, and one the test opens for
 * each other. The fds in @fds (@n of them). Skips when an affected
 * group cannot be opened (its devices are not all the user's to reset).
 */
static int prove_all(struct __test_metadata *_metadata,
		     FIXTURE_DATA(hot) *self, __s32 *fds)
{
	int i, j, n = 0;
	__u32 gid;

	for (i = 0; i < self->count; i++) {
		gid = self->info.devices[i].group_id;
		for (j = 0; j < i; j++)
			if (self->info.devices[j].group_id == gid)
				break;
		if (j < i)
			continue;	/* that group is proven already */
		if ((int)gid == self->dev.group) {
			fds[n++] = self->h.group;
			continue;
		}
		self->fds[n] = vt_open_group(gid);
		if (self->fds[n] < 0)
			return self->fds[n];
		fds[n] = self->fds[n];
		n++;
	}
	return n;
}

/* PCI_HOT_RESET with @n fds (argsz for @n); 0 or -errno. */
static int hot_reset(int device, const __s32 *fds, unsigned int n)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		__s32 fds[MAX_AFFECTED + 1];
	} r;

	memset(&r, 0, sizeof(r));
	r.hdr.argsz = sizeof(r.hdr) + n * sizeof(__s32);
	r.hdr.count = n;
	memcpy(r.fds, fds, n * sizeof(__s32));
	return ioctl(device, VFIO_DEVICE_PCI_HOT_RESET, &r) ? -errno : 0;
}

/* SPEC: DEV-21 */
TEST_F(hot, info_without_room_says_how_many)
{
	needs_hot_reset();
	ASSERT_EQ(-ENOSPC, hot_info(self, sizeof(self->info.hdr)));
	ASSERT_EQ((__u32)self->count, self->info.hdr.count);
}

/* SPEC: DEV-20 */
TEST_F(hot, info_lists_the_affected_devices_with_their_groups)
{
	const struct vfio_pci_dependent_device *d;
	struct vt_pci_dev peer, listed;
	char bdf[32];
	int i;

	needs_hot_reset();
	d = find_entry(self, self->dev.bdf);
	ASSERT_NE(NULL, d) TH_LOG("%s is not in its own list", self->dev.bdf);
	ASSERT_EQ(self->dev.group, (int)d->group_id);
	/* Every entry is a PCI device of that group. */
	for (i = 0; i < self->count; i++) {
		entry_bdf(&self->info.devices[i], bdf, sizeof(bdf));
		ASSERT_EQ(0, vt_pci_dev_read(bdf, &listed))
			TH_LOG("entry %d: no PCI device %s", i, bdf);
		ASSERT_EQ(listed.group, (int)self->info.devices[i].group_id)
			TH_LOG("entry %d: %s", i, bdf);
		TH_LOG("affected: %s, group %d", bdf, listed.group);
	}
	/* Behind one bridge, the devices of a group are reset together. */
	for (i = 0; !vt_select_peer(&self->dev, i, &peer); i++)
		ASSERT_NE(NULL, find_entry(self, peer.bdf))
			TH_LOG("%s shares the bus and group of %s, not listed",
			       peer.bdf, self->dev.bdf);
}

/* SPEC: DEV-23 DEV-28 */
TEST_F(hot, reset_with_every_group_proven_resets)
{
	const struct vt_engine_ops *ops = vt_engine_for(&self->dev);
	__s32 fds[MAX_AFFECTED];
	uint16_t vendor;
	int n, ret;

	needs_hot_reset();
	n = prove_all(_metadata, self, fds);
	if (n < 0)
		SKIP(return, "an affected group cannot be opened: %s",
		     strerror(-n));
	/*
	 * Whether the platform can reset this bus at all, asked of the PCI
	 * core before the implementation is: QEMU 7.2's root port does not
	 * bring its link back after a secondary bus reset of an NVMe below
	 * it (the kernel logs "Data Link Layer Link Active not set").
	 */
	ret = vt_platform_bus_reset(self->dev.bdf);
	if (ret < 0)
		SKIP(return, "the PCI core's own bus reset of %s fails (%s): the platform cannot reset its bus",
		     self->dev.bdf, strerror(-ret));
	ret = hot_reset(self->h.device, fds, n);
	ASSERT_EQ(0, ret) TH_LOG("%d groups proven", n);
	ASSERT_EQ(0, vt_config_read16(self->h.device, 0, &vendor));
	ASSERT_EQ(self->dev.vendor, vendor);
	if (ops)
		ASSERT_EQ(0, vt_engine_alive(ops, self->h.device));
}

/* SPEC: DEV-24 */
TEST_F(hot, reset_without_every_group_proven_is_refused)
{
	struct vt_pci_dev other;
	__s32 fd;

	needs_hot_reset();
	if (vt_select_other_group(self->dev.group, VT_DEV_ANY, NULL, &other))
		SKIP(return, "no selected device outside group %d",
		     self->dev.group);
	if (find_entry(self, other.bdf))
		SKIP(return, "%s is affected too", other.bdf);
	self->fds[0] = vt_open_group(other.group);
	ASSERT_LE(0, self->fds[0]) TH_LOG("open group %d: %s", other.group,
					  strerror(-self->fds[0]));
	fd = self->fds[0];
	ASSERT_EQ(-EINVAL, hot_reset(self->h.device, &fd, 1))
		TH_LOG("a group of no affected device as proof");
}

/* SPEC: DEV-25 DEV-26 DEV-27 */
TEST_F(hot, group_fds_that_prove_nothing_are_refused)
{
	__s32 fds[MAX_AFFECTED + 1];
	int i, efd;

	needs_hot_reset();
	fds[0] = -1;
	ASSERT_EQ(-EBADF, hot_reset(self->h.device, fds, 1));
	fds[0] = self->h.container;
	ASSERT_EQ(-EINVAL, hot_reset(self->h.device, fds, 1));
	fds[0] = self->h.device;
	ASSERT_EQ(-EINVAL, hot_reset(self->h.device, fds, 1));
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	fds[0] = efd;
	ASSERT_EQ(-EINVAL, hot_reset(self->h.device, fds, 1));
	close(efd);
	ASSERT_EQ(-EINVAL, hot_reset(self->h.device, fds, 0));
	for (i = 0; i <= self->count; i++)
		fds[i] = self->h.group;
	ASSERT_EQ(-EINVAL, hot_reset(self->h.device, fds, self->count + 1))
		TH_LOG("count %d for %d affected devices", self->count + 1,
		       self->count);
}

TEST_HARNESS_MAIN
