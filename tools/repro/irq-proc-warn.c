// SPDX-License-Identifier: GPL-2.0
/*
 * irq-proc-warn: a failed allocation in register_irq_proc() while MSI is
 * enabled (request_irq() of the vector) is ignored, so the vector works
 * without some of its /proc/irq/<n>/ entries; when the vector is freed,
 * unregister_irq_proc() removes each entry by name and remove_proc_entry()
 * WARNs for each one missing ("name 'node'", "'spurious'", ...).
 *
 * For n = 1, 2, ...: the n-th allocation (slab or page) of a VFIO_DEVICE_SET_IRQS
 * that enables one MSI vector with an eventfd fails; an enable that
 * succeeded anyway is undone (DATA_NONE, count 0); until the call passes
 * all of its points without the fault being injected.
 *
 * usage: irq-proc-warn <bdf>   (bound to vfio-pci, a device with MSI)
 */
#include <sys/eventfd.h>
#include "repro.h"

static int msi(int device, int efd, int enable)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *set = (void *)buf;

	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(buf);
	set->index = VFIO_PCI_MSI_IRQ_INDEX;
	set->start = 0;
	if (enable) {
		set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->count = 1;
		memcpy(set->data, &efd, sizeof(efd));
	} else {
		set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->count = 0;
		set->argsz = sizeof(*set);
	}
	return ioctl(device, VFIO_DEVICE_SET_IRQS, set);
}

int main(int argc, char **argv)
{
	const char *bdf[1];
	int container, group, device, efd, nth, n, ret, injected;

	if (devices(argc, argv, bdf, 1) < 1)
		die("usage: irq-proc-warn <pci address>");
	group = group_in_container(bdf[0], &container);
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf[0]);
	if (device < 0)
		die("VFIO_GROUP_GET_DEVICE_FD %s: %s", bdf[0], strerror(errno));
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		die("eventfd: %s", strerror(errno));
	fault_setup();
	nth = nth_open();
	for (n = 1; n < 100000; n++) {
		nth_arm(nth, n);
		ret = msi(device, efd, 1);
		injected = nth_injected(nth);
		if (ret == 0 && msi(device, efd, 0))
			die("disabling MSI: %s", strerror(errno));
		if (!injected)
			break;
	}
	printf("# SET_IRQS(MSI) of %s: %d fault points faulted, one at a time\n",
	       bdf[0], n - 1);
	return 0;
}
