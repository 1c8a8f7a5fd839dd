// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_ref: module init and exit. The module parameters live in the files
 * that use them (dma.c, pci.c), the helpers every file needs in util.c, the
 * fault attribute in fault.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pci.h>

#include "vfio_ref.h"

static int __init vref_init(void)
{
	int ret;

	vref_fault_init();
	ret = vref_fs_init();
	if (ret)
		goto err_fault;
	ret = vref_container_init();
	if (ret)
		goto err_unmount;
	ret = vref_group_init();
	if (ret)
		goto err_container;
	/* In the drop-in build, vfio_pci.ko (dropin.c) registers it. */
	if (!VREF_DROPIN) {
		ret = pci_register_driver(&vref_pci_driver);
		if (ret)
			goto err_group;
	}
	return 0;

err_group:
	vref_group_exit();
err_container:
	vref_container_exit();
err_unmount:
	vref_fs_exit();
err_fault:
	vref_fault_exit();
	return ret;
}

static void __exit vref_exit(void)
{
	if (!VREF_DROPIN)
		pci_unregister_driver(&vref_pci_driver);
	vref_group_exit();
	vref_container_exit();
	vref_fs_exit();
	vref_fault_exit();
}

module_init(vref_init);
module_exit(vref_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Reference implementation of the VFIO groups ABI");
MODULE_VERSION("1.1.0");
