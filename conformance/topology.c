// SPDX-License-Identifier: GPL-2.0
/*
 * Topology: the IOMMU groups the testbed's machine must produce. Devices
 * behind a conventional PCI-to-PCI bridge cannot be told apart by the IOMMU
 * and share a group; an edu on its own PCIe root port is alone.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

/* SPEC: MODEL-3 BIND-4 */
TEST(bridged_edus_share_one_group)
{
	struct vt_pci_dev a, b;

	if (vt_find_edu(VT_EDU_SHARED, 0, &a))
		SKIP(return, "no edu sharing its group");
	ASSERT_EQ(0, vt_find_edu(VT_EDU_SHARED, 1, &b));
	ASSERT_EQ(a.group, b.group);
	ASSERT_LE(2, vt_group_device_count(a.group));
}

/* SPEC: MODEL-3 */
TEST(root_port_edu_is_alone_in_its_group)
{
	struct vt_pci_dev edu;

	if (vt_find_edu(VT_EDU_ALONE, 0, &edu))
		SKIP(return, "no edu alone in its group");
	ASSERT_EQ(1, vt_group_device_count(edu.group));
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

/* Whether any device of IOMMU group @group is bound to driver @drv. */
static bool group_has_driver(int group, const char *drv)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *dir;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", group);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices/%s/driver",
			 group, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		found = !strcmp(strrchr(link, '/') + 1, drv);
	}
	closedir(dir);
	return found;
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

		if (de->d_name[0] == '.' || group_has_driver(group, drv))
			continue;
		EXPECT_FALSE(vt_group_has_node(group))
			TH_LOG("/dev/vfio/%d exists, no device of it is bound to %s",
			       group, drv);
	}
	closedir(dir);
}

TEST_HARNESS_MAIN
