// SPDX-License-Identifier: GPL-2.0
/*
 * Binding and viability: what the group does when the other device of a
 * shared group (the sibling: another selected device of the group, e.g.
 * behind the same conventional bridge) is
 * bound to a host driver, to a driver known not to do DMA, or to none; and
 * that a host driver cannot take the sibling while the group is in use.
 *
 * The host driver is uio_pci_generic (it binds any device with INTx through
 * driver_override and does not declare driver_managed_dma, so the IOMMU
 * layer counts it as a DMA user); the non-DMA driver is pci-stub. Tests
 * that need one skip when it is not loaded. Teardown binds the sibling back
 * to the implementation's driver and restores its driver_override.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define HOST_DRIVER	"uio_pci_generic"
#define STUB_DRIVER	"pci-stub"

/* Two selected devices of one shared group: the one under test and its sibling. */
struct pair {
	struct vt_pci_dev dev, sib;
	char driver[64];	/* the implementation's, as bound at start */
	char override[64];	/* the sibling's driver_override at start */
	int container, group, device;
};

/* Returns 0, or -ENODEV when no selected device shares its group. */
static int pair_find(struct pair *p)
{
	char path[PATH_MAX];
	FILE *f;

	p->container = p->group = p->device = -1;
	if (vt_select(VT_DEV_SHARED, 0, NULL, &p->dev) ||
	    vt_select_peer(&p->dev, 0, &p->sib))
		return -ENODEV;
	if (vt_driver_of(p->dev.bdf, p->driver, sizeof(p->driver)) ||
	    vt_driver_of(p->sib.bdf, p->override, sizeof(p->override)) ||
	    strcmp(p->driver, p->override))
		return -ENODEV;	/* not both bound to the implementation */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 p->sib.bdf);
	f = fopen(path, "r");
	if (!f || !fgets(p->override, sizeof(p->override), f))
		p->override[0] = '\0';
	if (f)
		fclose(f);
	p->override[strcspn(p->override, "\n")] = '\0';
	if (!strcmp(p->override, "(null)"))
		p->override[0] = '\0';
	return 0;
}

/* Setup of both fixtures: the pair, a container and the open group. */
static void pair_setup(struct __test_metadata *_metadata, struct pair *p)
{
	if (pair_find(p))
		vt_skip_setup("no IOMMU group with two selected devices bound to the implementation");
	p->container = vt_open_container();
	ASSERT_LE(0, p->container);
	p->group = vt_open_group(p->dev.group);
	ASSERT_LE(0, p->group);
}

/* Close every fd, then give the sibling back to the implementation. */
static void pair_restore(struct __test_metadata *_metadata, struct pair *p)
{
	char path[PATH_MAX];

	if (p->device >= 0)
		close(p->device);
	if (p->group >= 0)
		close(p->group);
	if (p->container >= 0)
		close(p->container);
	p->container = p->group = p->device = -1;
	EXPECT_EQ(0, vt_rebind(p->sib.bdf, p->driver));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 p->sib.bdf);
	EXPECT_EQ(0, vt_sysfs_write(path, p->override[0] ? p->override : "\n"));
}

static __u32 group_flags(struct __test_metadata *_metadata, int group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };

	vt_ioctl_ok(group, VFIO_GROUP_GET_STATUS, &status);
	return status.flags;
}

/*
 * Move the sibling to @drv (NULL: no driver); skip the test when that
 * driver is not registered. A macro, so that SKIP and ASSERT end the test.
 */
#define place_sibling(p, drv) do { \
	const char *__drv = (drv); \
	int __ret = vt_rebind((p)->sib.bdf, __drv); \
	if (__ret == -ENOENT && __drv) \
		SKIP(return, "driver %s is not loaded", __drv); \
	ASSERT_EQ(0, __ret) TH_LOG("bind %s to %s: %s", (p)->sib.bdf, \
				   __drv ? __drv : "no driver", \
				   strerror(-__ret)); \
} while (0)

/* --- viability with the sibling on each kind of driver ------------------ */

FIXTURE(viability) {
	struct pair p;
};

FIXTURE_VARIANT(viability) {
	const char *sibling_driver;	/* NULL: unbound */
	bool viable;
};

FIXTURE_VARIANT_ADD(viability, sibling_unbound) {
	.sibling_driver = NULL,
	.viable = true,
};

FIXTURE_VARIANT_ADD(viability, sibling_on_pci_stub) {
	.sibling_driver = STUB_DRIVER,
	.viable = true,
};

FIXTURE_VARIANT_ADD(viability, sibling_on_host_driver) {
	.sibling_driver = HOST_DRIVER,
	.viable = false,
};

FIXTURE_SETUP(viability)
{
	pair_setup(_metadata, &self->p);
}

FIXTURE_TEARDOWN(viability)
{
	pair_restore(_metadata, &self->p);
}

/* SPEC: GROUP-4 BIND-2 BIND-3 BIND-7 */
TEST_F(viability, status_follows_the_sibling_driver)
{
	ASSERT_EQ((__u32)VFIO_GROUP_FLAGS_VIABLE,
		  group_flags(_metadata, self->p.group));
	place_sibling(&self->p, variant->sibling_driver);
	/* The same open group file: viability is recomputed per call. */
	ASSERT_EQ(variant->viable ? (__u32)VFIO_GROUP_FLAGS_VIABLE : 0u,
		  group_flags(_metadata, self->p.group));
}

/* SPEC: GROUP-8 GROUP-9 */
TEST_F(viability, set_container_only_when_viable)
{
	place_sibling(&self->p, variant->sibling_driver);
	if (variant->viable) {
		vt_ioctl_ok(self->p.group, VFIO_GROUP_SET_CONTAINER,
			    &self->p.container);
		ASSERT_NE(0u, group_flags(_metadata, self->p.group) &
			  VFIO_GROUP_FLAGS_CONTAINER_SET);
	} else {
		vt_ioctl_err(EPERM, self->p.group, VFIO_GROUP_SET_CONTAINER,
			     &self->p.container);
		ASSERT_EQ(0u, group_flags(_metadata, self->p.group));
	}
}

/* SPEC: GROUP-18 GROUP-22 */
TEST_F(viability, device_fd_only_when_viable)
{
	place_sibling(&self->p, variant->sibling_driver);
	if (!ioctl(self->p.group, VFIO_GROUP_SET_CONTAINER, &self->p.container))
		vt_ioctl_ok(self->p.container, VFIO_SET_IOMMU,
			    VFIO_TYPE1v2_IOMMU);
	errno = 0;
	self->p.device = ioctl(self->p.group, VFIO_GROUP_GET_DEVICE_FD,
			       self->p.dev.bdf);
	if (variant->viable) {
		ASSERT_LE(0, self->p.device) TH_LOG("GET_DEVICE_FD: %s",
						    strerror(errno));
	} else {
		ASSERT_EQ(-1, self->p.device);
		/* EPERM (not viable) or EINVAL (so no container, GROUP-19). */
		ASSERT_TRUE(errno == EPERM || errno == EINVAL)
			TH_LOG("GET_DEVICE_FD: %s", strerror(errno));
	}
}

/* --- the sibling unbound, and host drivers while the group is in use ---- */

FIXTURE(sibling) {
	struct pair p;
};

FIXTURE_SETUP(sibling)
{
	pair_setup(_metadata, &self->p);
}

FIXTURE_TEARDOWN(sibling)
{
	pair_restore(_metadata, &self->p);
}

static void group_in_use(struct __test_metadata *_metadata, struct pair *p)
{
	vt_ioctl_ok(p->group, VFIO_GROUP_SET_CONTAINER, &p->container);
	vt_ioctl_ok(p->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
}

/* SPEC: BIND-10 GROUP-20 */
TEST_F(sibling, unbound_device_is_not_handed_out)
{
	int device;

	place_sibling(&self->p, NULL);
	group_in_use(_metadata, &self->p);
	vt_ioctl_err(ENODEV, self->p.group, VFIO_GROUP_GET_DEVICE_FD,
		     self->p.sib.bdf);
	device = ioctl(self->p.group, VFIO_GROUP_GET_DEVICE_FD, self->p.dev.bdf);
	ASSERT_LE(0, device) TH_LOG("GET_DEVICE_FD %s: %s", self->p.dev.bdf,
				    strerror(errno));
	close(device);
}

/* SPEC: BIND-9 */
TEST_F(sibling, driver_override_binds_the_implementation)
{
	place_sibling(&self->p, NULL);
	place_sibling(&self->p, self->p.driver);
	group_in_use(_metadata, &self->p);
	self->p.device = ioctl(self->p.group, VFIO_GROUP_GET_DEVICE_FD,
			       self->p.sib.bdf);
	ASSERT_LE(0, self->p.device) TH_LOG("GET_DEVICE_FD %s: %s",
					    self->p.sib.bdf, strerror(errno));
}

/*
 * The host driver's probe must fail; the sibling stays unbound and the
 * group viable and in its container.
 */
static void host_bind_fails(struct __test_metadata *_metadata, struct pair *p)
{
	char drv[64];
	int ret;

	ret = vt_rebind(p->sib.bdf, HOST_DRIVER);
	ASSERT_NE(-ENOENT, ret) TH_LOG(HOST_DRIVER " is not loaded");
	ASSERT_EQ(-EBUSY, ret) TH_LOG("bind " HOST_DRIVER ": %s", strerror(-ret));
	ASSERT_NE(0, vt_driver_of(p->sib.bdf, drv, sizeof(drv)))
		TH_LOG("%s is bound to %s", p->sib.bdf, drv);
}

/* SPEC: BIND-5 */
TEST_F(sibling, host_driver_cannot_bind_while_group_in_container)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", HOST_DRIVER);
	if (access(path, F_OK))
		SKIP(return, HOST_DRIVER " is not loaded");
	place_sibling(&self->p, NULL);
	vt_ioctl_ok(self->p.group, VFIO_GROUP_SET_CONTAINER, &self->p.container);
	host_bind_fails(_metadata, &self->p);
	ASSERT_EQ((__u32)(VFIO_GROUP_FLAGS_VIABLE |
			  VFIO_GROUP_FLAGS_CONTAINER_SET),
		  group_flags(_metadata, self->p.group));
}

/* SPEC: BIND-5 */
TEST_F(sibling, host_driver_cannot_bind_while_device_file_open)
{
	char path[PATH_MAX];
	int group;

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", HOST_DRIVER);
	if (access(path, F_OK))
		SKIP(return, HOST_DRIVER " is not loaded");
	place_sibling(&self->p, NULL);
	group_in_use(_metadata, &self->p);
	self->p.device = ioctl(self->p.group, VFIO_GROUP_GET_DEVICE_FD,
			       self->p.dev.bdf);
	ASSERT_LE(0, self->p.device);
	/* Only the device file keeps the group in use now. */
	close(self->p.group);
	close(self->p.container);
	self->p.group = self->p.container = -1;
	host_bind_fails(_metadata, &self->p);
	close(self->p.device);
	self->p.device = -1;
	group = vt_open_group(self->p.dev.group);
	ASSERT_LE(0, group);
	self->p.group = group;
	ASSERT_EQ((__u32)VFIO_GROUP_FLAGS_VIABLE,
		  group_flags(_metadata, self->p.group));
}

/* --- the group file ------------------------------------------------------ */

/* SPEC: GROUP-3 */
TEST(group_file_is_root_only)
{
	struct vt_pci_dev dev;
	char path[64];
	struct stat st;

	if (vt_select(VT_DEV_ANY, 0, NULL, &dev))
		SKIP(return, "no selected device");
	snprintf(path, sizeof(path), "/dev/vfio/%d", dev.group);
	ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	/* With udev, the administrator's rules decide (GROUP-3's exception). */
	if ((st.st_uid != 0 || (st.st_mode & 07777) != 0600) &&
	    !access("/run/udev/control", F_OK))
		SKIP(return, "udev manages %s (mode %o, uid %u)", path,
		     st.st_mode & 07777, st.st_uid);
	ASSERT_EQ(0u, st.st_uid);
	ASSERT_EQ(0600u, st.st_mode & 07777);
}

TEST_HARNESS_MAIN
