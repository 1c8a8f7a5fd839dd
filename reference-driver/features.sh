#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the -D flags of the kernel API features compat.h needs, read from
# the kernel headers in $1 (the kernel source or headers tree).
h=$1/include/linux

has() { # file extended-regex macro
	grep -qE "$2" "$h/$1" 2>/dev/null && printf ' -D%s' "$3"
}

has eventfd.h 'void eventfd_signal\(struct eventfd_ctx \*ctx\)' VREF_EVENTFD_SIGNAL_NO_COUNT
grep -A1 'int iommu_map(struct iommu_domain' "$h/iommu.h" 2>/dev/null |
	grep -q 'gfp_t' && printf ' -D%s' VREF_IOMMU_MAP_GFP
has iommu.h 'iommu_paging_domain_alloc\(struct device' VREF_HAVE_PAGING_DOMAIN_ALLOC
has iommu.h 'bool iommu_group_has_isolated_msi' VREF_HAVE_ISOLATED_MSI
has irqdomain.h 'bool irq_domain_check_msi_remap\(void\)' VREF_HAVE_MSI_REMAP_CHECK
has mm.h 'void vm_flags_set\(' VREF_HAVE_VM_FLAGS_SET
has device/class.h 'class_create\(const char \*name\)' VREF_CLASS_CREATE_NO_OWNER
has device/class.h 'devnode\)\(const struct device' VREF_DEVNODE_CONST_DEV
echo
