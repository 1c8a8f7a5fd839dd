// SPDX-License-Identifier: GPL-2.0
/*
 * Topology: the IOMMU groups the testbed's machine must produce. Devices
 * behind a conventional PCI-to-PCI bridge cannot be told apart by the IOMMU
 * and share a group; an edu on its own PCIe root port is alone.
 */
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

TEST_HARNESS_MAIN
