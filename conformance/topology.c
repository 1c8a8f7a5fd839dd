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

	if (vt_find_edu(VT_EDU_SHARED, 0, &a))
		SKIP(return, "no edu sharing its group");
	ASSERT_EQ(0, vt_find_edu(VT_EDU_SHARED, 1, &b));
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

/* Whether @bdf's PCI class is 0x0604xx (PCI-to-PCI bridge). */
static bool is_bridge(const char *bdf, const void *unused)
{
	char path[PATH_MAX], class[16];
	bool yes;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", bdf);
	f = fopen(path, "r");
	if (!f)
		return false;
	yes = fgets(class, sizeof(class), f) && !strncmp(class, "0x0604", 6);
	fclose(f);
	return yes;
}

/* SPEC: BIND-4 */
TEST(bridge_in_group_keeps_it_viable)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vt_pci_dev a;
	int group;

	if (vt_find_edu(VT_EDU_SHARED, 0, &a))
		SKIP(return, "no edu sharing its group");
	if (!group_has(a.group, is_bridge, NULL))
		SKIP(return, "no PCI bridge in group %d", a.group);
	group = vt_open_group(a.group);
	ASSERT_LE(0, group);
	vt_ioctl_ok(group, VFIO_GROUP_GET_STATUS, &status);
	EXPECT_TRUE(!!(status.flags & VFIO_GROUP_FLAGS_VIABLE));
	close(group);
}

/* SPEC: MODEL-1 */
TEST(every_edu_has_an_iommu_group)
{
	struct vt_pci_dev edu[VT_MAX_DEVICES];
	int i, n = vt_find_pci(EDU_VENDOR, EDU_DEVICE, edu, VT_MAX_DEVICES);

	if (n <= 0)
		SKIP(return, "no edu device");
	for (i = 0; i < n; i++)
		EXPECT_LE(0, edu[i].group) TH_LOG("%s has no iommu_group link",
						  edu[i].bdf);
}

/* SPEC: MODEL-1 */
TEST(group_node_exists_for_bound_group)
{
	struct vt_pci_dev edu[VT_MAX_DEVICES];
	int i, n = vt_find_pci(EDU_VENDOR, EDU_DEVICE, edu, VT_MAX_DEVICES);

	if (n <= 0)
		SKIP(return, "no edu device");
	for (i = 0; i < n; i++)
		if (edu[i].group >= 0)
			EXPECT_TRUE(vt_group_has_node(edu[i].group))
				TH_LOG("no /dev/vfio/%d for %s", edu[i].group,
				       edu[i].bdf);
}

/* SPEC: MODEL-2 */
TEST(no_group_node_without_a_bound_device)
{
	char path[PATH_MAX], link[PATH_MAX], *drv;
	struct vt_pci_dev edu;
	struct dirent *de;
	ssize_t n;
	DIR *dir;

	if (vt_find_edu(VT_EDU_ALONE, 0, &edu))
		SKIP(return, "no edu to learn the implementation's driver from");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", edu.bdf);
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
