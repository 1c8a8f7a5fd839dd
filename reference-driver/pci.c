// SPDX-License-Identifier: GPL-2.0
/*
 * The PCI driver "vfio-ref" ("vfio-pci" in the drop-in build): devices come
 * to it through driver_override.
 * driver_managed_dma tells the IOMMU layer that we never use the DMA API,
 * so binding a device keeps its group viable; DMA ownership is claimed
 * only while user space uses the group (group.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "vfio_ref.h"

static unsigned int vref_grace_ms = 10000;
module_param_named(grace_ms, vref_grace_ms, uint, 0644);
MODULE_PARM_DESC(grace_ms,
		 "Grace period in ms between a removal request and revocation (default 10000; per device in sysfs)");

static struct vref_device *vref_device_alloc(struct pci_dev *pdev)
{
	struct vref_device *vdev;

	vdev = vref_fail_or(NULL, kzalloc(sizeof(*vdev), GFP_KERNEL));
	if (!vdev)
		return NULL;
	kref_init(&vdev->kref);
	init_rwsem(&vdev->lock);
	mutex_init(&vdev->irq_lock);
	mutex_init(&vdev->p2p_lock);
	INIT_LIST_HEAD(&vdev->p2p);
	init_completion(&vdev->released);
	complete_all(&vdev->released);	/* no open file yet */
	vdev->grace_ms = READ_ONCE(vref_grace_ms);
	vdev->pdev = pdev;
	return vdev;
}

static int vref_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vref_device *vdev;
	int ret;

	/* Bridges stay with the host: they are part of the topology. */
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;
	vdev = vref_device_alloc(pdev);
	if (!vdev)
		return -ENOMEM;
	vdev->inode = vref_alloc_inode();
	if (IS_ERR(vdev->inode)) {
		ret = PTR_ERR(vdev->inode);
		vdev->inode = NULL;
		goto err_put;
	}
	ret = vref_device_init(vdev);
	if (ret)
		goto err_put;
	ret = vref_group_add_device(vdev);
	if (ret)
		goto err_uninit;
	pci_set_drvdata(pdev, vdev);
	return 0;

err_uninit:
	vref_device_uninit(vdev);
err_put:
	vref_device_put(vdev);
	return ret;
}

static void vref_remove(struct pci_dev *pdev)
{
	struct vref_device *vdev = pci_get_drvdata(pdev);

	vref_group_del_device(vdev);
	vref_removal_wait(vdev);
	/* Its BARs may go to another owner now: no DMA may reach them. */
	vref_iommu_device_gone(vdev);
	vref_device_uninit(vdev);
	vref_group_device_gone(vdev);
	vref_device_put(vdev);
}

static pci_ers_result_t vref_error_detected(struct pci_dev *pdev,
					    pci_channel_state_t state)
{
	vref_irq_error(pci_get_drvdata(pdev));
	return PCI_ERS_RESULT_CAN_RECOVER;
}

static const struct pci_error_handlers vref_err_handlers = {
	.error_detected = vref_error_detected,
};

struct pci_driver vref_pci_driver = {
	.name = VREF_NAME,
	.probe = vref_probe,
	.remove = vref_remove,
	.err_handler = &vref_err_handlers,
	.dev_groups = vref_device_groups,
	.driver_managed_dma = true,
};

#if VREF_DROPIN
/* vfio_pci.ko of the drop-in build registers it (dropin.c). */
EXPORT_SYMBOL_GPL(vref_pci_driver);
#endif
