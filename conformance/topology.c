// SPDX-License-Identifier: GPL-2.0
/*
 * Topology: how the implementation turns IOMMU groups into group files.
 * Devices behind a conventional PCI-to-PCI bridge cannot be told apart by the
 * IOMMU and share a group, whose one file hands out each of them; the bridge
 * in such a group does not make it non-viable.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

/*
 * Both devices of the shared group come from the one group file: opening it
 * once hands out a device fd for each.
 */
/* SPEC: MODEL-3 */
TEST(shared_group_hands_out_both_devices)
{
	struct vt_pci_dev a, b;
	int container, group, da, db;

	if (vt_select(VT_DEV_SHARED, 0, NULL, &a))
		SKIP(return, "no selected device sharing its group");
	ASSERT_EQ(0, vt_select_peer(&a, 0, &b));
	ASSERT_EQ(a.group, b.group);
	container = vt_open_container();
	ASSERT_LE(0, container);
	group = vt_open_group(a.group);
	ASSERT_LE(0, group);
	vt_ioctl_ok(group, VFIO_GROUP_SET_CONTAINER, &container);
	vt_ioctl_ok(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	da = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, a.bdf);
	EXPECT_LE(0, da) TH_LOG("GET_DEVICE_FD %s: %s", a.bdf, strerror(errno));
	db = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, b.bdf);
	EXPECT_LE(0, db) TH_LOG("GET_DEVICE_FD %s: %s", b.bdf, strerror(errno));
	close(db);
	close(da);
	close(group);
	close(container);
}

/* Whether @bdf is bound to driver @drv. */
static bool bound_to(const char *bdf, const void *drv)
{
	char buf[64];

	return !vt_driver_of(bdf, buf, sizeof(buf)) && !strcmp(buf, drv);
}

/* Whether any device of IOMMU group @group satisfies @pred. */
static bool group_has(int group, bool (*pred)(const char *bdf, const void *arg),
		      const void *arg)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", group);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir)))
		found = de->d_name[0] != '.' && pred(de->d_name, arg);
	closedir(dir);
	return found;
}

/* Whether @bdf is a bridge or port (not an endpoint: vt_is_endpoint()). */
static bool is_bridge(const char *bdf, const void *unused)
{
	return !vt_is_endpoint(bdf);
}

/* SPEC: BIND-4 */
TEST(bridge_in_group_keeps_it_viable)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vt_pci_dev a;
	int group, nth;

	for (nth = 0; !vt_select(VT_DEV_ANY, nth, NULL, &a); nth++)
		if (group_has(a.group, is_bridge, NULL))
			break;
	if (vt_select(VT_DEV_ANY, nth, NULL, &a))
		SKIP(return, "no selected device with a bridge or port in its group");
	group = vt_open_group(a.group);
	ASSERT_LE(0, group);
	vt_ioctl_ok(group, VFIO_GROUP_GET_STATUS, &status);
	EXPECT_TRUE(!!(status.flags & VFIO_GROUP_FLAGS_VIABLE));
	close(group);
}

/* SPEC: MODEL-1 */
TEST(every_selected_device_has_an_iommu_group)
{
	struct vt_pci_dev dev[VT_MAX_DEVICES];
	int i, n = vt_selected(dev, VT_MAX_DEVICES);

	if (n <= 0)
		SKIP(return, "no selected device");
	for (i = 0; i < n; i++)
		EXPECT_LE(0, dev[i].group) TH_LOG("%s has no iommu_group link",
						  dev[i].bdf);
}

/* SPEC: MODEL-1 */
TEST(group_node_exists_for_bound_group)
{
	struct vt_pci_dev dev[VT_MAX_DEVICES];
	int i, n = vt_selected(dev, VT_MAX_DEVICES);

	if (n <= 0)
		SKIP(return, "no selected device");
	for (i = 0; i < n; i++)
		if (dev[i].group >= 0)
			EXPECT_TRUE(vt_group_has_node(dev[i].group))
				TH_LOG("no /dev/vfio/%d for %s", dev[i].group,
				       dev[i].bdf);
}

/* SPEC: MODEL-2 */
TEST(no_group_node_without_a_bound_device)
{
	char path[PATH_MAX], link[PATH_MAX], *drv;
	struct vt_pci_dev dev;
	struct dirent *de;
	ssize_t n;
	DIR *dir;

	if (vt_select(VT_DEV_ANY, 0, NULL, &dev))
		SKIP(return, "no selected device to learn the implementation's driver from");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", dev.bdf);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	drv = strrchr(link, '/') + 1;
	dir = opendir("/sys/kernel/iommu_groups");
	ASSERT_NE(NULL, dir);
	while ((de = readdir(dir))) {
		int group = atoi(de->d_name);

		if (de->d_name[0] == '.' || group_has(group, bound_to, drv))
			continue;
		EXPECT_FALSE(vt_group_has_node(group))
			TH_LOG("/dev/vfio/%d exists, no device of it is bound to %s",
			       group, drv);
	}
	closedir(dir);
}

TEST_HARNESS_MAIN
