// SPDX-License-Identifier: GPL-2.0
/*
 * intel-bridge-crosslink (6.1 intel-iommu): a group of two devices behind
 * a conventional PCI bridge (one DMA alias, the bridge's) joins a
 * container that already holds another group. VFIO first tries the
 * container's domain; with a failed allocation in that attach, the core
 * does not roll back the devices already attached (the first stays in the
 * container's domain), and VFIO attaches the group back to a new domain
 * of its own. 6.1's intel_iommu_attach_device() detaches a device from its
 * old domain only if domain_context_mapped() finds all of its context
 * entries, the alias's included, and the second device's failed attach
 * cleared the shared alias entry: so the first device's device_domain_info
 * is linked into the new domain's list while still in the old one's. The
 * next walk of either list (domain_lookup_dev_info() under the domain's
 * lock, interrupts off) never ends, or oopses on LIST_POISON1.
 *
 * For n = 1, 2, ...: the n-th allocation (slab or page) of the joining
 * VFIO_GROUP_SET_CONTAINER fails; a join that succeeded anyway is undone;
 * until the call passes all of its points without the fault being
 * injected. On an affected kernel the guest stops here.
 *
 * usage: intel-bridge-crosslink <bdf alone> <bdf behind the bridge>
 *        (any of the devices; the first two in different groups are used,
 *        the second's group must hold two devices behind one bridge)
 */
#include "repro.h"

int main(int argc, char **argv)
{
	const char *bdf[8];
	int count, i, container, first, joining, nth, n, ret, injected;

	count = devices(argc, argv, bdf, 8);
	for (i = 1; i < count && same_group(bdf[0], bdf[i]); i++)
		;
	if (count < 2 || i == count)
		die("usage: intel-bridge-crosslink <pci address> <pci address in another group>");
	first = group_in_container(bdf[0], &container);
	joining = group_open(bdf[i]);
	printf("# %s's group joins the container of %s's\n", bdf[i], bdf[0]);
	fflush(stdout);
	fault_setup();
	nth = nth_open();
	for (n = 1; n < 100000; n++) {
		printf("# fault %d\n", n);
		fflush(stdout);
		nth_arm(nth, n);
		ret = ioctl(joining, VFIO_GROUP_SET_CONTAINER, &container);
		injected = nth_injected(nth);
		if (ret == 0 && ioctl(joining, VFIO_GROUP_UNSET_CONTAINER))
			die("VFIO_GROUP_UNSET_CONTAINER: %s", strerror(errno));
		if (!injected)
			break;
	}
	printf("# joining SET_CONTAINER: %d fault points faulted, one at a time\n",
	       n - 1);
	close(first);
	return 0;
}
