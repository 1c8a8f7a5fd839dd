// SPDX-License-Identifier: GPL-2.0
/*
 * detach-domain-warn: when a group leaves its last container, the IOMMU
 * core moves it back to its blocking or default domain, an attach the core
 * treats as one that cannot fail; the IOMMU driver allocates in it (6.12
 * intel-iommu: the default domain's attach), and a failed allocation
 * there WARNs in the core (6.12: __iommu_group_set_domain_nofail(); 6.1:
 * "iommu driver failed to attach the default/blocking domain") and leaves
 * the group on the old domain. The release returns void: no caller can
 * see or undo it.
 *
 * Where a group leaves its domain depends on the container: type1
 * attaches at VFIO_SET_IOMMU and detaches when the group leaves the
 * container; iommufd's container attaches each device when its fd opens
 * and detaches it when the fd is released. So, for n = 1, 2, ... until a
 * call passes all of its points without the fault being injected:
 * (1) the group joins a new type1 container (no fault) and the n-th
 * allocation (slab or page) of VFIO_GROUP_UNSET_CONTAINER fails; then
 * (2) with the group in a container, a device fd is opened (no fault) and
 * the n-th allocation of its close() fails (the release runs before
 * close() returns, in this task). A group left on the old domain shows
 * as the next SET_CONTAINER failing; the program stops there.
 *
 * usage: detach-domain-warn <bdf>   (bound to vfio-pci)
 */
#include "repro.h"

static int unset_rounds(int group, int nth)
{
	int container, n, ret, injected;

	for (n = 1; n < 100000; n++) {
		container = container_open();
		if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container)) {
			printf("# after fault %d in UNSET_CONTAINER: SET_CONTAINER fails: %s (the group is stuck)\n",
			       n - 1, strerror(errno));
			return -1;
		}
		set_iommu(container);
		nth_arm(nth, n);
		ret = ioctl(group, VFIO_GROUP_UNSET_CONTAINER);
		injected = nth_injected(nth);
		if (ret)
			printf("# fault %d: UNSET_CONTAINER: %s\n", n, strerror(errno));
		close(container);
		if (!injected)
			break;
	}
	return n - 1;
}

static int close_rounds(int group, const char *bdf, int nth)
{
	int container, device, n, injected;

	container = container_open();
	set_container(group, container);
	set_iommu(container);
	for (n = 1; n < 100000; n++) {
		device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
		if (device < 0)
			die("fault %d: VFIO_GROUP_GET_DEVICE_FD: %s", n, strerror(errno));
		nth_arm(nth, n);
		close(device);
		injected = nth_injected(nth);
		if (!injected)
			break;
	}
	if (ioctl(group, VFIO_GROUP_UNSET_CONTAINER))
		die("VFIO_GROUP_UNSET_CONTAINER: %s", strerror(errno));
	close(container);
	return n - 1;
}

int main(int argc, char **argv)
{
	const char *bdf[1];
	int group, nth, n;

	if (devices(argc, argv, bdf, 1) < 1)
		die("usage: detach-domain-warn <pci address>");
	group = group_open(bdf[0]);
	fault_setup();
	nth = nth_open();
	n = unset_rounds(group, nth);
	if (n < 0)
		return 0;
	printf("# UNSET_CONTAINER of %s's group: %d fault points faulted, one at a time\n",
	       bdf[0], n);
	printf("# close of %s's device fd: %d fault points faulted, one at a time\n",
	       bdf[0], close_rounds(group, bdf[0], nth));
	return 0;
}
