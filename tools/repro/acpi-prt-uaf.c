// SPDX-License-Identifier: GPL-2.0
/*
 * acpi-prt-uaf: a failed allocation while the first open of a device fd
 * evaluates the device's ACPI _PRT (pci_enable_device() -> the INTx
 * routing lookup) frees an ACPI package still attached to its name; the
 * next _PRT evaluation (the device's pci_disable_device() at close, or any
 * later enable) reads freed memory: KASAN use-after-free in
 * acpi_ns_get_attached_object(), after ACPICA's "Could not update object
 * reference count" (AE_NO_MEMORY).
 *
 * For n = 1, 2, ...: the n-th allocation (slab or page) of VFIO_GROUP_GET_DEVICE_FD
 * fails; a device fd that opened anyway is closed; until the call passes
 * all of its points without the fault being injected.
 *
 * usage: acpi-prt-uaf <bdf>   (bound to vfio-pci, its INTx routed by _PRT)
 */
#include "repro.h"

int main(int argc, char **argv)
{
	const char *bdf[1];
	int container, group, nth, n, fd, injected;

	if (devices(argc, argv, bdf, 1) < 1)
		die("usage: acpi-prt-uaf <pci address>");
	group = group_in_container(bdf[0], &container);
	fault_setup();
	nth = nth_open();
	for (n = 1; n < 100000; n++) {
		nth_arm(nth, n);
		fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf[0]);
		injected = nth_injected(nth);
		if (fd >= 0)
			close(fd);
		if (n % 100 == 0)
			printf("# %d fault points faulted\n", n);
		if (!injected)
			break;
	}
	printf("# GET_DEVICE_FD of %s: %d fault points faulted, one at a time\n",
	       bdf[0], n - 1);
	return 0;
}
