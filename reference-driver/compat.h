/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels the reference driver builds
 * against (Debian's 6.1 and 6.12), decided by the feature tests in Kbuild
 * (VREF_* macros), never by version numbers.
 */
#ifndef VREF_COMPAT_H
#define VREF_COMPAT_H

#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/irqdomain.h>
#include <linux/mm.h>

/* eventfd_signal() lost its count argument (6.8). */
static inline void vref_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef VREF_EVENTFD_SIGNAL_NO_COUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* iommu_map() takes a gfp_t since 6.3. */
static inline int vref_iommu_map(struct iommu_domain *domain,
				 unsigned long iova, phys_addr_t paddr,
				 size_t size, int prot)
{
#ifdef VREF_IOMMU_MAP_GFP
	return iommu_map(domain, iova, paddr, size, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map(domain, iova, paddr, size, prot);
#endif
}

/* An unmanaged paging domain for @dev; ERR_PTR on failure. */
static inline struct iommu_domain *vref_domain_alloc(struct device *dev)
{
#ifdef VREF_HAVE_PAGING_DOMAIN_ALLOC
	return iommu_paging_domain_alloc(dev);
#else
	struct iommu_domain *domain = iommu_domain_alloc(dev->bus);

	/*
	 * NULL without a reason: the device has an IOMMU (it is in a group),
	 * so an allocation failed. Not ENODEV, which says the model is not
	 * offered (CONT-7, RES-1).
	 */
	return domain ? domain : ERR_PTR(-ENOMEM);
#endif
}

#ifndef VREF_HAVE_ISOLATED_MSI
static int vref_dev_intr_remap(struct device *dev, void *unused)
{
	return device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP) ? 0 : -EPERM;
}
#endif

/*
 * Whether every device of @group has isolated MSIs (CONT-16), as the
 * kernel's type1 decides it: the IOMMU remaps interrupts, or the interrupt
 * controller isolates MSIs itself (Arm's GICv3 ITS: SMMUv3 has no interrupt
 * remapping). Since 6.3 iommu_group_has_isolated_msi() asks each device's
 * MSI domain chain, where either sets IRQ_DOMAIN_FLAG_ISOLATED_MSI. Before,
 * irq_domain_check_msi_remap() (every MSI domain of the system remaps) or
 * IOMMU_CAP_INTR_REMAP on every device of the group.
 */
static inline bool vref_group_has_isolated_msi(struct iommu_group *group)
{
#ifdef VREF_HAVE_ISOLATED_MSI
	return iommu_group_has_isolated_msi(group);
#else
#ifdef VREF_HAVE_MSI_REMAP_CHECK
	if (irq_domain_check_msi_remap())
		return true;
#endif
	return !iommu_group_for_each_dev(group, NULL, vref_dev_intr_remap);
#endif
}

/* vm_flags became read-only (set through helpers) in 6.3. */
static inline void vref_vm_flags_set(struct vm_area_struct *vma,
				     unsigned long flags)
{
#ifdef VREF_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/* class_create() lost its owner argument in 6.4. */
static inline struct class *vref_class_create(const char *name)
{
#ifdef VREF_CLASS_CREATE_NO_OWNER
	return class_create(name);
#else
	return class_create(THIS_MODULE, name);
#endif
}

/* struct fd is opaque since 6.12: fd_file() reads its file. */
#ifndef fd_file
#define fd_file(f) ((f).file)
#endif

/* The class devnode callback takes a const device since 6.2. */
#ifdef VREF_DEVNODE_CONST_DEV
#define VREF_DEVNODE_CONST const
#else
#define VREF_DEVNODE_CONST
#endif

#endif /* VREF_COMPAT_H */
