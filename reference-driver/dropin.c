// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_pci.ko of the drop-in build (make DROPIN=1): it registers the
 * reference's PCI driver, named "vfio-pci" in that build, from a module of
 * the kernel's name, as the kernel's vfio_pci.ko registers its own. The
 * driver's code, and all the rest of the reference, is in vfio.ko, on which
 * this module depends; unloading it unbinds every device.
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "vfio_ref.h"

static int __init vref_dropin_init(void)
{
	return pci_register_driver(&vref_pci_driver);
}

static void __exit vref_dropin_exit(void)
{
	pci_unregister_driver(&vref_pci_driver);
}

module_init(vref_dropin_init);
module_exit(vref_dropin_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Reference implementation of the VFIO groups ABI: its PCI driver as vfio-pci");
MODULE_VERSION("1.1.0");
