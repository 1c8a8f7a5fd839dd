// SPDX-License-Identifier: GPL-2.0
/*
 * BAR mmaps: user mappings of a device's memory BARs, whose pages are
 * inserted at fault time under vref_device::lock (so that revocation and
 * reset take them away, REMOVE-6, DEV-12), and what a DMA mapping of such
 * a range needs to know (peer-to-peer DMA, dma.c). Calls into no other
 * file: the device file (device.c) and the type1 model (dma.c) both use it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/pci.h>

#include "vfio_ref.h"

/* The region index of a file page offset. */
#define VREF_PGOFF_SHIFT	(VREF_OFFSET_SHIFT - PAGE_SHIFT)
#define VREF_PGOFF_MASK		((1UL << VREF_PGOFF_SHIFT) - 1)

/*
 * Whether the device decodes memory (@mem) or I/O accesses. A virtual
 * function's memory decoding is enabled in its physical function.
 */
bool vref_decodes(struct pci_dev *pdev, bool mem)
{
	u16 cmd;

	if (mem && pdev->is_virtfn)
		return true;
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	return cmd & (mem ? PCI_COMMAND_MEMORY : PCI_COMMAND_IO);
}

/* User space may mmap a memory BAR of whole pages (DEV-5). */
bool vref_bar_mmappable(struct vref_device *vdev, int bar)
{
	struct pci_dev *pdev = vdev->pdev;

	return vdev->bar[bar] &&
	       (pci_resource_flags(pdev, bar) & IORESOURCE_MEM) &&
	       IS_ALIGNED(pci_resource_len(pdev, bar), PAGE_SIZE);
}

static vm_fault_t vref_mmap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vref_device *vdev = vma->vm_private_data;
	unsigned long index = vmf->pgoff >> VREF_PGOFF_SHIFT;
	unsigned long pgoff = vmf->pgoff & VREF_PGOFF_MASK;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	unsigned long pfn;

	down_read(&vdev->lock);
	/* REMOVE-6; and no access to a BAR the device does not decode. */
	if (vdev->revoked || index >= PCI_STD_NUM_BARS ||
	    !vref_bar_mmappable(vdev, index) ||
	    pgoff >= pci_resource_len(vdev->pdev, index) >> PAGE_SHIFT ||
	    !vref_decodes(vdev->pdev, true))
		goto out;
	pfn = (pci_resource_start(vdev->pdev, index) >> PAGE_SHIFT) + pgoff;
	ret = vmf_insert_pfn(vma, vmf->address, pfn);
out:
	up_read(&vdev->lock);
	return ret;
}

static const struct vm_operations_struct vref_mmap_ops = {
	.fault = vref_mmap_fault,
};

/**
 * vref_bar_lookup() - the BAR behind a range of one of our BAR mmaps
 * @vma: the user mapping that holds @vaddr; the caller holds the mmap lock
 * @vaddr: start of the range
 * @size: its length in bytes
 * @write: devices are to write through the range
 * @phys: gets the physical address behind @vaddr
 *
 * For a DMA mapping of another device's BAR (dma.c, DMA-30): the range is
 * mapped as the BAR's physical range, which the vma gives without a fault.
 *
 * Return: NULL when @vma is not a BAR mmap of ours; ERR_PTR(-EFAULT) when
 * the range leaves @vma, @write asks for a write @vma does not allow or the
 * device was revoked; else the device. It stays valid while the caller
 * holds the mmap lock: @vma holds its file, which holds the device.
 */
struct vref_device *vref_bar_lookup(struct vm_area_struct *vma,
				    unsigned long vaddr, u64 size, bool write,
				    phys_addr_t *phys)
{
	struct vref_device *vdev = vma->vm_private_data;
	unsigned long pgoff;
	unsigned int index;
	int ret = -EFAULT;

	if (vma->vm_ops != &vref_mmap_ops)
		return NULL;
	if (size > vma->vm_end - vaddr || (write && !(vma->vm_flags & VM_WRITE)))
		return ERR_PTR(-EFAULT);
	pgoff = vma->vm_pgoff + ((vaddr - vma->vm_start) >> PAGE_SHIFT);
	index = pgoff >> VREF_PGOFF_SHIFT;
	down_read(&vdev->lock);
	/* vref_device_mmap() checked index and range against the BAR. */
	if (!vdev->revoked && index < PCI_STD_NUM_BARS &&
	    vref_bar_mmappable(vdev, index)) {
		*phys = pci_resource_start(vdev->pdev, index) +
			((u64)(pgoff & VREF_PGOFF_MASK) << PAGE_SHIFT);
		ret = 0;
	}
	up_read(&vdev->lock);
	return ret ? ERR_PTR(ret) : vdev;
}

/* Whether [off, off + len) of region @index may be mapped (DEV-8). */
static int vref_mmap_check(struct vref_device *vdev, unsigned long index,
			   u64 off, u64 len)
{
	u64 size;

	if (index >= PCI_STD_NUM_BARS || !vref_bar_mmappable(vdev, index))
		return -EINVAL;
	size = pci_resource_len(vdev->pdev, index);
	if (off >= size || len > size - off)
		return -EINVAL;
	return 0;
}

/**
 * vref_device_mmap() - mmap of the device file: a range of a memory BAR
 * @file: the device file
 * @vma: the new mapping; it must be shared and lie inside one BAR (DEV-8)
 *
 * Return: 0, -ENODEV when the device was revoked, -EINVAL otherwise.
 */
int vref_device_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vref_device *vdev = file->private_data;
	unsigned long index = vma->vm_pgoff >> VREF_PGOFF_SHIFT;
	u64 off = (u64)(vma->vm_pgoff & VREF_PGOFF_MASK) << PAGE_SHIFT;
	int ret;

	down_read(&vdev->lock);
	if (vdev->revoked)
		ret = -ENODEV;
	else if (!(vma->vm_flags & VM_SHARED))
		ret = -EINVAL;
	else
		ret = vref_mmap_check(vdev, index, off,
				      vma->vm_end - vma->vm_start);
	up_read(&vdev->lock);
	if (ret)
		return ret;
	/* Pages are inserted at fault time, under vdev->lock (REMOVE-6). */
	vma->vm_private_data = vdev;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vref_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND |
			       VM_DONTDUMP);
	vma->vm_ops = &vref_mmap_ops;
	return 0;
}

