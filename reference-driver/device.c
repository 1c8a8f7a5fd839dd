// SPDX-License-Identifier: GPL-2.0
/*
 * The device file: information, region access through pread/pwrite and
 * mmap, reset, and the life cycle of the device behind it (first open
 * enables it, last close or revocation gives it back).
 *
 * Region access bounces through a kernel buffer, so that no lock is held
 * while user memory is copied: the user buffer may be a mapping of one of
 * our own BARs, whose fault handler takes vref_device::lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/kref.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vfio_ref.h"

#define VREF_RW_CHUNK		SZ_4K	/* bounce buffer of read/write */

static void vref_device_free(struct kref *kref)
{
	struct vref_device *vdev = container_of(kref, struct vref_device, kref);

	if (vdev->inode)
		iput(vdev->inode);
	kfree(vdev);
}

/**
 * vref_device_get() - take a reference on a device
 * @vdev: the device
 */
void vref_device_get(struct vref_device *vdev)
{
	kref_get(&vdev->kref);
}

/**
 * vref_device_put() - drop a reference on a device
 * @vdev: the device
 *
 * pci.c allocates @vdev (kzalloc, one reference) and sets up pdev, lock,
 * irq_lock, released and inode before vref_device_init(); at removal it
 * calls vref_device_uninit() and then drops its reference. Each device
 * file holds one more. The last put does iput(vdev->inode), if any, and
 * kfree(vdev): everything else must be gone by then (vref_device_uninit()).
 */
void vref_device_put(struct vref_device *vdev)
{
	kref_put(&vdev->kref, vref_device_free);
}

/* 0, or -ENODEV once the device was revoked (REMOVE-5). */
static int vref_device_check(struct vref_device *vdev)
{
	int ret;

	down_read(&vdev->lock);
	ret = vdev->revoked ? -ENODEV : 0;
	up_read(&vdev->lock);
	return ret;
}

/* Remove every user mapping of the regions; faults map them again. */
static void vref_zap_mappings(struct vref_device *vdev)
{
	unmap_mapping_range(vdev->inode->i_mapping, 0, 0, true);
}

/* A BAR the host assigned: it has a size and an address. */
static bool vref_bar_usable(struct pci_dev *pdev, int bar)
{
	unsigned long flags = pci_resource_flags(pdev, bar);

	return pci_resource_len(pdev, bar) && pci_resource_start(pdev, bar) &&
	       (flags & (IORESOURCE_MEM | IORESOURCE_IO)) &&
	       !(flags & IORESOURCE_UNSET);
}

static int vref_usable_bars(struct pci_dev *pdev)
{
	int bar, bars = 0;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++)
		if (vref_bar_usable(pdev, bar))
			bars |= BIT(bar);
	return bars;
}

/*
 * A reset method may exist and still not work (a bus reset with other
 * devices on the bus): reset is offered only once one succeeded (DEV-2).
 */
static bool vref_reset_supported(struct vref_device *vdev)
{
	return vdev->pdev->reset_methods[0] != 0 && vdev->reset_works;
}

static void vref_unmap_bars(struct vref_device *vdev)
{
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (vdev->bar[bar])
			pci_iounmap(vdev->pdev, vdev->bar[bar]);
		vdev->bar[bar] = NULL;
	}
}

static int vref_map_bars(struct vref_device *vdev, int bars)
{
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!(bars & BIT(bar)))
			continue;
		vdev->bar[bar] = vref_fail_or(NULL, pci_iomap(vdev->pdev, bar, 0));
		if (!vdev->bar[bar]) {
			vref_unmap_bars(vdev);
			return -ENOMEM;
		}
	}
	return 0;
}

/* First open: take the device for user space. */
static int vref_device_enable(struct vref_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int bars = vref_usable_bars(pdev);
	int ret;

	ret = vref_fail_or(-ENOMEM, pci_enable_device(pdev));
	if (ret)
		return ret;
	ret = vref_fail_or(-ENOMEM,
			   pci_request_selected_regions(pdev, bars, VREF_NAME));
	if (ret)
		goto err_disable;
	ret = vref_map_bars(vdev, bars);
	if (ret)
		goto err_release;
	vdev->reset_works = !pci_try_reset_function(pdev);
	pci_clear_master(pdev);
	vref_irq_disable_all(vdev);	/* masks INTx */
	vref_config_reset(vdev);
	vdev->enabled = true;
	return 0;

err_release:
	pci_release_selected_regions(pdev, bars);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

/*
 * Last close or revocation: stop the device and give it back as probe
 * found it, but with INTx masked while it stays bound to us. Runs once
 * per vref_device_enable(); vdev->enabled says whether it is still due.
 */
static void vref_device_disable(struct vref_device *vdev, bool reset)
{
	struct pci_dev *pdev = vdev->pdev;

	if (!vdev->enabled)
		return;
	vref_irq_disable_all(vdev);
	pci_clear_master(pdev);
	if (reset)
		pci_try_reset_function(pdev);	/* best effort */
	if (!pci_dev_is_disconnected(pdev)) {
		pci_load_saved_state(pdev, vdev->saved);
		pci_restore_state(pdev);
		if (pdev->pin)
			pci_intx(pdev, 0);
	}
	vref_unmap_bars(vdev);
	pci_release_selected_regions(pdev, vref_usable_bars(pdev));
	pci_disable_device(pdev);
	vdev->enabled = false;
}

/**
 * vref_device_open() - a new device file is about to be installed
 * @vdev: the device
 *
 * The first open enables the device, claims and maps its BARs, turns bus
 * mastering off, masks INTx and starts the virtual configuration space
 * afresh. Takes the write side of vdev->lock (group.c may hold the group's
 * lock). Every successful call must be paired with vref_device_close().
 *
 * Return: 0, -ENODEV when the device was revoked, or the errno of
 * enabling the device.
 */
int vref_device_open(struct vref_device *vdev)
{
	int ret = 0;

	down_write(&vdev->lock);
	if (vdev->revoked) {
		ret = -ENODEV;
		goto out;
	}
	if (!vdev->open_count) {
		ret = vref_device_enable(vdev);
		if (ret)
			goto out;
		reinit_completion(&vdev->released);
	}
	vdev->open_count++;
out:
	up_write(&vdev->lock);
	return ret;
}

/**
 * vref_device_close() - a device file is gone
 * @vdev: the device
 *
 * The last close turns every interrupt off, stops DMA, tries a reset,
 * restores the configuration saved at probe, releases the BARs and
 * disables the device; after a revocation all that was already done, and
 * the device is not touched. Then completes vdev->released. Takes the
 * write side of vdev->lock.
 */
void vref_device_close(struct vref_device *vdev)
{
	down_write(&vdev->lock);
	if (!WARN_ON(!vdev->open_count) && !--vdev->open_count) {
		vref_device_disable(vdev, true);
		complete_all(&vdev->released);
	}
	up_write(&vdev->lock);
}

/**
 * vref_device_revoke() - take the device back from its open files
 * @vdev: the device, being removed; called with none of its locks held
 *
 * From now on every file operation fails with -ENODEV (REMOVE-5), every
 * mapping is gone and faults raise SIGBUS (REMOVE-6), the interrupts are
 * off and their eventfds released (REMOVE-7), bus mastering is off
 * (REMOVE-8) and the device is given back as at last close, without the
 * reset: the removal path holds the device lock. The files stay open and
 * close cleanly later (REMOVE-10).
 */
void vref_device_revoke(struct vref_device *vdev)
{
	down_write(&vdev->lock);
	vdev->revoked = true;
	vref_zap_mappings(vdev);
	vref_device_disable(vdev, false);
	up_write(&vdev->lock);
}

/**
 * vref_device_init() - set up the device state at probe
 * @vdev: the device, allocated and initialised by pci.c
 *
 * Sets up the virtual configuration space and the interrupt state, and
 * saves the configuration that every last close restores. On
 * failure nothing is left to undo.
 *
 * Return: 0 or a negative errno.
 */
int vref_device_init(struct vref_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	ret = vref_config_init(vdev);
	if (ret)
		return ret;
	ret = vref_irq_init(vdev);
	if (ret)
		goto err_config;
	ret = vref_fail_or(-ENOMEM, pci_save_state(pdev));
	if (ret)
		goto err_irq;
	vdev->saved = vref_fail_or(NULL, pci_store_saved_state(pdev));
	if (!vdev->saved) {
		ret = -ENOMEM;
		goto err_irq;
	}
	return 0;

err_irq:
	vref_irq_uninit(vdev);
err_config:
	vref_config_uninit(vdev);
	return ret;
}

/**
 * vref_device_uninit() - undo vref_device_init() at removal
 * @vdev: the device, after vref_device_revoke() or the last close
 *
 * Marks the device revoked (files still open then only get -ENODEV) and
 * frees the interrupt and configuration state; INTx masking goes back to
 * what probe found. Should the device still be enabled, it is revoked
 * first. The memory of @vdev goes with the last vref_device_put().
 */
void vref_device_uninit(struct vref_device *vdev)
{
	down_write(&vdev->lock);
	vdev->revoked = true;
	if (WARN_ON(vdev->enabled)) {
		vref_zap_mappings(vdev);
		vref_device_disable(vdev, false);
	}
	vref_irq_uninit(vdev);
	vref_config_uninit(vdev);
	kfree(vdev->saved);
	vdev->saved = NULL;
	up_write(&vdev->lock);
}

static long vref_ioctl_get_info(struct vref_device *vdev, void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info = {};
	int ret;

	ret = vref_copy_argsz(&info, uarg, minsz);
	if (ret)
		return ret;
	info.flags = VFIO_DEVICE_FLAGS_PCI;
	down_read(&vdev->lock);
	if (vdev->revoked)
		ret = -ENODEV;
	else if (vref_reset_supported(vdev))
		info.flags |= VFIO_DEVICE_FLAGS_RESET;	/* DEV-2 */
	up_read(&vdev->lock);
	if (ret)
		return ret;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	/* No capabilities: argsz stays; write no more than it (COMPAT-10). */
	if (vref_fail_or(1, copy_to_user(uarg, &info,
					 min_t(size_t, info.argsz, sizeof(info)))))
		return -EFAULT;
	return 0;
}

/* Size and flags of region @index; the caller holds vdev->lock. */
static void vref_region_describe(struct vref_device *vdev, unsigned int index,
				 struct vfio_region_info *info)
{
	struct pci_dev *pdev = vdev->pdev;

	info->size = 0;
	info->flags = 0;
	switch (index) {
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		if (!vdev->bar[index])
			return;
		info->size = pci_resource_len(pdev, index);
		info->flags = VFIO_REGION_INFO_FLAG_READ |
			      VFIO_REGION_INFO_FLAG_WRITE;
		if (vref_bar_mmappable(vdev, index))
			info->flags |= VFIO_REGION_INFO_FLAG_MMAP;
		return;
	case VFIO_PCI_ROM_REGION_INDEX:
		info->size = pci_resource_len(pdev, PCI_ROM_RESOURCE);
		if (info->size)
			info->flags = VFIO_REGION_INFO_FLAG_READ;
		return;
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info->size = pdev->cfg_size;
		info->flags = VFIO_REGION_INFO_FLAG_READ |
			      VFIO_REGION_INFO_FLAG_WRITE;
		return;
	default:
		return;		/* VGA: not offered */
	}
}

/* Whether BAR @index holds the device's MSI-X table. */
static bool vref_bar_has_msix_table(struct pci_dev *pdev, unsigned int index)
{
	u32 table;

	if (!pdev->msix_cap ||
	    pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table))
		return false;
	return (table & PCI_MSIX_TABLE_BIR) == index;
}

/*
 * The capability chain of a region: only VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
 * on a mappable BAR that holds the MSI-X table (DEV-17). The whole BAR may
 * be mapped, as on Linux: a message the device sends from an entry user
 * space wrote reaches only the interrupts that interrupt remapping gives
 * the device (CONT-8), and a VMM emulates the table for its guest.
 * Return: 0, or -EFAULT.
 */
static int vref_region_caps(struct vref_device *vdev,
			    struct vfio_region_info *info, void __user *uarg)
{
	const size_t need = sizeof(*info) + sizeof(struct vfio_info_cap_header);
	struct vfio_info_cap_header cap = {
		.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
		.version = 1,
	};

	if (info->index > VFIO_PCI_BAR5_REGION_INDEX ||
	    !(info->flags & VFIO_REGION_INFO_FLAG_MMAP) ||
	    !vref_bar_has_msix_table(vdev->pdev, info->index))
		return 0;
	info->flags |= VFIO_REGION_INFO_FLAG_CAPS;		/* DEV-15 */
	if (info->argsz < need) {
		info->argsz = need;				/* COMPAT-11 */
		return 0;
	}
	info->cap_offset = sizeof(*info);			/* DEV-16 */
	return vref_fail_or(1, copy_to_user(uarg + sizeof(*info), &cap,
					    sizeof(cap))) ? -EFAULT : 0;
}

static long vref_ioctl_region_info(struct vref_device *vdev,
				   void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info info;
	int ret;

	ret = vref_copy_argsz(&info, uarg, minsz);
	if (ret)
		return ret;
	if (info.index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;				/* DEV-4 */
	down_read(&vdev->lock);
	if (vdev->revoked)
		ret = -ENODEV;
	else
		vref_region_describe(vdev, info.index, &info);
	up_read(&vdev->lock);
	if (ret)
		return ret;
	info.cap_offset = 0;
	info.offset = VREF_INDEX_TO_OFFSET(info.index);
	ret = vref_region_caps(vdev, &info, uarg);
	if (ret)
		return ret;
	return vref_fail_or(1, copy_to_user(uarg, &info, minsz)) ? -EFAULT : 0;
}

static long vref_ioctl_reset(struct vref_device *vdev)
{
	int ret;

	down_write(&vdev->lock);
	if (vdev->revoked) {
		ret = -ENODEV;
	} else if (!vref_reset_supported(vdev)) {
		ret = -EINVAL;				/* DEV-14 */
	} else {
		/* Mappings fault back in once the reset is over (DEV-12). */
		vref_zap_mappings(vdev);
		ret = pci_try_reset_function(vdev->pdev);
	}
	up_write(&vdev->lock);
	return ret;
}

/*
 * VFIO_DEVICE_FEATURE: the reference driver offers no feature (spec:
 * Implementations), so after the checks every feature index fails with
 * -ENOTTY (FEAT-3), PROBE included, as Linux answers for a feature it lacks.
 */
static long vref_ioctl_feature(void __user *uarg)
{
	const u32 ops = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET;
	struct vfio_device_feature feature;
	int ret;

	ret = vref_copy_argsz(&feature, uarg,
			      offsetofend(struct vfio_device_feature, flags));
	if (ret)
		return ret;				/* DEV-3 */
	if (feature.flags & ~(VFIO_DEVICE_FEATURE_MASK | ops |
			      VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;				/* FEAT-1 */
	if (!(feature.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (feature.flags & ops) == ops)
		return -EINVAL;				/* FEAT-2 */
	return -ENOTTY;					/* FEAT-3 */
}

/* Whether @pdev is in @slot, or below a bridge that is. */
static bool vref_below_slot(struct pci_dev *pdev, struct pci_slot *slot)
{
	for (; pdev; pdev = pdev->bus->self)
		if (pdev->slot == slot)
			return true;
	return false;
}

/* The walk of vref_affected_get(): counts, then takes references. */
struct vref_affected {
	struct pci_slot *slot;		/* a slot reset; NULL: a bus reset */
	struct pci_dev **devs;		/* NULL while counting */
	unsigned int max;		/* room in @devs */
	unsigned int count;
	int ret;
};

static int vref_affected_one(struct pci_dev *pdev, void *data)
{
	struct vref_affected *a = data;

	if (a->slot && !vref_below_slot(pdev, a->slot))
		return 0;
	if (a->devs) {
		if (a->count == a->max) {
			a->ret = -EAGAIN;	/* a device appeared meanwhile */
			return 1;
		}
		a->devs[a->count] = pci_dev_get(pdev);
	}
	a->count++;
	return 0;
}

static void vref_affected_put(struct pci_dev **devs, unsigned int count)
{
	while (count--)
		pci_dev_put(devs[count]);
	kfree(devs);
}

/*
 * The devices a hot reset of @pdev's slot, where the slot can be reset,
 * or else of its bus would reset (DEV-20), as pci_reset_bus() chooses:
 * *@devs holds a reference to each of the *@count.
 * Return: 0, -ENODEV when neither can be reset (DEV-22), -ENOMEM or
 * -EAGAIN.
 */
static int vref_affected_get(struct pci_dev *pdev, struct pci_dev ***devs,
			     unsigned int *count)
{
	struct vref_affected a = { };

	if (!pci_probe_reset_slot(pdev->slot))
		a.slot = pdev->slot;
	else if (pci_probe_reset_bus(pdev->bus))
		return -ENODEV;
	pci_walk_bus(pdev->bus, vref_affected_one, &a);
	a.max = a.count;
	a.count = 0;
	a.devs = vref_fail_or(NULL, kcalloc(a.max, sizeof(*a.devs), GFP_KERNEL));
	if (!a.devs)
		return -ENOMEM;
	pci_walk_bus(pdev->bus, vref_affected_one, &a);
	if (a.ret) {
		vref_affected_put(a.devs, a.count);
		return a.ret;
	}
	*devs = a.devs;
	*count = a.count;
	return 0;
}

/* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO (DEV-20 to DEV-22). */
static long vref_ioctl_hot_reset_info(struct vref_device *vdev,
				      void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_dependent_device *info = NULL;
	struct vfio_pci_hot_reset_info hdr;
	struct iommu_group *group;
	struct pci_dev **devs;
	unsigned int i, count;
	int ret;

	ret = vref_copy_argsz(&hdr, uarg, minsz);
	if (ret)
		return ret;
	ret = vref_affected_get(vdev->pdev, &devs, &count);
	if (ret)
		return ret;
	hdr.flags = 0;
	hdr.count = count;
	if (hdr.argsz < sizeof(hdr) + count * sizeof(*info)) {
		ret = -ENOSPC;				/* DEV-21 */
		goto out_copy_hdr;
	}
	info = vref_fail_or(NULL, kcalloc(count, sizeof(*info), GFP_KERNEL));
	if (!info) {
		ret = -ENOMEM;
		goto out_put;
	}
	for (i = 0; i < count; i++) {
		group = iommu_group_get(&devs[i]->dev);
		if (!group) {
			ret = -EPERM;		/* not isolated: no reset */
			goto out_free;
		}
		info[i].group_id = iommu_group_id(group);
		iommu_group_put(group);
		info[i].segment = pci_domain_nr(devs[i]->bus);
		info[i].bus = devs[i]->bus->number;
		info[i].devfn = devs[i]->devfn;
	}
	if (vref_fail_or(1, copy_to_user(uarg + sizeof(hdr), info,
					 count * sizeof(*info))))
		ret = -EFAULT;
out_copy_hdr:
	if (vref_fail_or(1, copy_to_user(uarg, &hdr, minsz)))
		ret = -EFAULT;
out_free:
	kfree(info);
out_put:
	vref_affected_put(devs, count);
	return ret;
}

/* The devices of a hot reset and what proves the user owns each. */
struct vref_reset {
	struct pci_dev **devs;		/* every device the reset resets */
	struct vref_device **vdevs;	/* ours, from a proven group, or NULL */
	unsigned int count;
};

/* For each device of a group the user passed: is it one of ours? */
static int vref_reset_match(struct vref_device *vdev, void *data)
{
	struct vref_reset *r = data;
	unsigned int i;

	for (i = 0; i < r->count; i++) {
		if (r->devs[i] == vdev->pdev && !r->vdevs[i]) {
			vref_device_get(vdev);
			r->vdevs[i] = vdev;
		}
	}
	return 0;
}

/* Take the group file @fd as proof for the devices of its group. */
static int vref_reset_prove(s32 fd, struct vref_reset *r)
{
	struct file *file = fd < 0 ? NULL : fget(fd);
	int ret;

	if (!file)
		return -EBADF;				/* DEV-25 */
	/* -EINVAL when it is no group file (DEV-26) */
	ret = vref_group_file_visit(file, vref_reset_match, r);
	fput(file);
	return ret;
}

/*
 * Reset with every device of @r locked for writing and its mappings
 * zapped (they fault back in afterwards, DEV-28). Trylock: the devices'
 * locks have no order among themselves, so contention fails with -EBUSY
 * rather than risk a deadlock.
 */
static int vref_reset_locked(struct pci_dev *pdev, struct vref_reset *r)
{
	unsigned int locked;
	int ret = 0;

	for (locked = 0; locked < r->count; locked++) {
		if (!down_write_trylock(&r->vdevs[locked]->lock)) {
			ret = -EBUSY;
			break;
		}
		if (r->vdevs[locked]->revoked) {
			up_write(&r->vdevs[locked]->lock);
			ret = -ENODEV;
			break;
		}
		vref_zap_mappings(r->vdevs[locked]);
	}
	if (!ret)
		ret = pci_reset_bus(pdev);		/* DEV-23 */
	while (locked--)
		up_write(&r->vdevs[locked]->lock);
	return ret;
}

/* VFIO_DEVICE_PCI_HOT_RESET (DEV-23 to DEV-27). */
static long vref_ioctl_hot_reset(struct vref_device *vdev, void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vfio_pci_hot_reset hdr;
	struct vref_reset r = { };
	unsigned int i;
	s32 *fds;
	int ret;

	ret = vref_copy_argsz(&hdr, uarg, minsz);
	if (ret)
		return ret;
	if (hdr.flags)
		return -EINVAL;				/* COMPAT-3 */
	ret = vref_affected_get(vdev->pdev, &r.devs, &r.count);
	if (ret)
		return ret;
	if (!hdr.count || hdr.count > r.count ||
	    hdr.argsz - minsz < hdr.count * sizeof(*fds)) {
		ret = -EINVAL;				/* DEV-27 */
		goto out_put;
	}
	fds = vref_fail_or(ERR_PTR(-ENOMEM),
			   memdup_user(uarg + minsz, hdr.count * sizeof(*fds)));
	if (IS_ERR(fds)) {
		ret = PTR_ERR(fds);
		goto out_put;
	}
	r.vdevs = vref_fail_or(NULL,
			       kcalloc(r.count, sizeof(*r.vdevs), GFP_KERNEL));
	if (!r.vdevs) {
		ret = -ENOMEM;
		goto out_free_fds;
	}
	for (i = 0; i < hdr.count && !ret; i++)
		ret = vref_reset_prove(fds[i], &r);
	for (i = 0; i < r.count && !ret; i++)
		if (!r.vdevs[i])
			ret = -EINVAL;	/* not ours, or its group unproven: DEV-24 */
	if (!ret)
		ret = vref_reset_locked(vdev->pdev, &r);
	for (i = 0; i < r.count; i++)
		if (r.vdevs[i])
			vref_device_put(r.vdevs[i]);
	kfree(r.vdevs);
out_free_fds:
	kfree(fds);
out_put:
	vref_affected_put(r.devs, r.count);
	return ret;
}

static long vref_device_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct vref_device *vdev = file->private_data;
	void __user *uarg = (void __user *)arg;
	int ret;

	ret = vref_device_check(vdev);
	if (ret)
		return ret;
	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vref_ioctl_get_info(vdev, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vref_ioctl_region_info(vdev, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vref_irq_get_info(vdev, arg);
	case VFIO_DEVICE_SET_IRQS:
		return vref_irq_set(vdev, arg);
	case VFIO_DEVICE_RESET:
		return vref_ioctl_reset(vdev);
	case VFIO_DEVICE_FEATURE:
		return vref_ioctl_feature(uarg);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vref_ioctl_hot_reset_info(vdev, uarg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vref_ioctl_hot_reset(vdev, uarg);
	default:
		return -ENOTTY;
	}
}

/* The largest naturally aligned access at @off of at most @left bytes. */
static unsigned int vref_access_size(u64 off, size_t left, unsigned int max)
{
	unsigned int size = max;

	while (size > 1 && ((off & (size - 1)) || left < size))
		size >>= 1;
	return size;
}

/* @size bytes of @buf as a little-endian value, and back. */
static u64 vref_buf_get(const char *buf, unsigned int size)
{
	u64 val = 0;

	while (size--)
		val = (val << 8) | (u8)buf[size];
	return val;
}

static void vref_buf_put(char *buf, unsigned int size, u64 val)
{
	unsigned int i;

	for (i = 0; i < size; i++, val >>= 8)
		buf[i] = val & 0xff;
}

static void vref_io_read(void __iomem *io, char *buf, unsigned int size)
{
	u64 val;

	switch (size) {
	case 8:
		val = ioread64(io);
		break;
	case 4:
		val = ioread32(io);
		break;
	case 2:
		val = ioread16(io);
		break;
	default:
		val = ioread8(io);
		break;
	}
	vref_buf_put(buf, size, val);
}

static void vref_io_write(void __iomem *io, const char *buf,
			  unsigned int size)
{
	u64 val = vref_buf_get(buf, size);

	switch (size) {
	case 8:
		iowrite64(val, io);
		break;
	case 4:
		iowrite32(val, io);
		break;
	case 2:
		iowrite16(val, io);
		break;
	default:
		iowrite8(val, io);
		break;
	}
}

/*
 * @count bytes at @io, which is at offset @off of its BAR, each piece one
 * naturally aligned access of at most @max bytes (DEV-6).
 */
static void vref_io_rw(void __iomem *io, u64 off, char *buf, size_t count,
		       unsigned int max, bool write)
{
	unsigned int size;
	size_t done;

	for (done = 0; done < count; done += size) {
		size = vref_access_size(off + done, count - done, max);
		if (write)
			vref_io_write(io + done, buf + done, size);
		else
			vref_io_read(io + done, buf + done, size);
	}
}

static ssize_t vref_bar_rw(struct vref_device *vdev, unsigned int bar,
			   char *buf, size_t count, u64 off, bool write)
{
	struct pci_dev *pdev = vdev->pdev;
	u64 len = pci_resource_len(pdev, bar);
	bool mem = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;

	if (!vdev->bar[bar] || off >= len)
		return -EINVAL;				/* DEV-9 */
	if (!vref_decodes(pdev, mem))
		return -EIO;
	count = min_t(u64, count, len - off);
	vref_io_rw(vdev->bar[bar] + off, off, buf, count, mem ? 8 : 4, write);
	return count;
}

/* The ROM: read only; past the image, within the BAR, it reads 0xff. */
static ssize_t vref_rom_read(struct vref_device *vdev, char *buf,
			     size_t count, u64 off)
{
	struct pci_dev *pdev = vdev->pdev;
	u64 len = pci_resource_len(pdev, PCI_ROM_RESOURCE);
	void __iomem *rom;
	size_t size, done = 0;

	if (off >= len)
		return -EINVAL;				/* DEV-9 */
	if (!vref_decodes(pdev, true))
		return -EIO;
	count = min_t(u64, count, len - off);
	rom = vref_fail_or(NULL, pci_map_rom(pdev, &size));
	if (!rom)
		return -EIO;
	if (off < size) {
		done = min_t(u64, count, size - off);
		vref_io_rw(rom + off, off, buf, done, 4, false);
	}
	memset(buf + done, 0xff, count - done);
	pci_unmap_rom(pdev, rom);
	return count;
}

/* One chunk of region @index; the caller holds vdev->lock, not revoked. */
static ssize_t vref_region_rw(struct vref_device *vdev, unsigned int index,
			      char *buf, size_t count, u64 off, bool write)
{
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return vref_config_rw(vdev, buf, count, off, write);
	case VFIO_PCI_ROM_REGION_INDEX:
		return write ? -EINVAL : vref_rom_read(vdev, buf, count, off);
	case VFIO_PCI_VGA_REGION_INDEX:
		return -EINVAL;
	default:
		return vref_bar_rw(vdev, index, buf, count, off, write);
	}
}

/*
 * Configuration writes change the virtual configuration space and ROM
 * reads toggle the ROM BAR: both exclude other accesses. The rest only
 * reads device state.
 */
static ssize_t vref_region_rw_locked(struct vref_device *vdev,
				     unsigned int index, char *buf,
				     size_t count, u64 off, bool write)
{
	bool excl = write ? index == VFIO_PCI_CONFIG_REGION_INDEX :
			    index == VFIO_PCI_ROM_REGION_INDEX;
	ssize_t ret;

	if (excl)
		down_write(&vdev->lock);
	else
		down_read(&vdev->lock);
	if (vdev->revoked)
		ret = -ENODEV;
	else
		ret = vref_region_rw(vdev, index, buf, count, off, write);
	if (excl)
		up_write(&vdev->lock);
	else
		up_read(&vdev->lock);
	return ret;
}

static ssize_t vref_device_rw(struct vref_device *vdev, char __user *ubuf,
			      size_t count, loff_t *ppos, bool write)
{
	u64 pos = *ppos, off = pos & VREF_OFFSET_MASK;
	unsigned int index = VREF_OFFSET_TO_INDEX(pos);
	size_t chunk, done = 0;
	ssize_t ret = 0;
	char *buf;

	if (*ppos < 0 || index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;				/* DEV-9 */
	if (!count)
		return vref_device_check(vdev);
	buf = vref_fail_or(NULL,
			   kmalloc(min_t(size_t, count, VREF_RW_CHUNK), GFP_KERNEL));
	if (!buf)
		return -ENOMEM;
	while (done < count) {
		chunk = min_t(size_t, count - done, VREF_RW_CHUNK);
		if (write &&
		    vref_fail_or(1, copy_from_user(buf, ubuf + done, chunk))) {
			ret = -EFAULT;
			break;
		}
		ret = vref_region_rw_locked(vdev, index, buf, chunk, off + done,
					    write);
		if (ret <= 0)
			break;
		if (!write &&
		    vref_fail_or(1, copy_to_user(ubuf + done, buf, ret))) {
			ret = -EFAULT;
			break;
		}
		done += ret;
		if (ret < chunk)
			break;				/* end of the region */
	}
	kfree(buf);
	if (!done)
		return ret;
	*ppos += done;
	return done;
}

static ssize_t vref_device_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	return vref_device_rw(file->private_data, ubuf, count, ppos, false);
}

static ssize_t vref_device_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	return vref_device_rw(file->private_data, (char __user *)ubuf, count,
			      ppos, true);
}

static int vref_device_release(struct inode *inode, struct file *file)
{
	struct vref_device *vdev = file->private_data;

	vref_device_close(vdev);
	vref_group_device_closed(vdev->group);
	vref_device_put(vdev);
	return 0;
}

const struct file_operations vref_device_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vref_device_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.read = vref_device_read,
	.write = vref_device_write,
	.mmap = vref_device_mmap,
	.release = vref_device_release,
};
