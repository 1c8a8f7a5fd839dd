// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_ref: module parameters, init and exit, and the small pseudo
 * filesystem that gives every device an inode whose address space holds all
 * user mappings of its BARs (so that revocation can zap them at once).
 */
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/uaccess.h>

#include "vfio_ref.h"

#define VREF_FS_MAGIC	0x76726566	/* "vref" */

bool vref_allow_unsafe_interrupts;
module_param_named(allow_unsafe_interrupts, vref_allow_unsafe_interrupts,
		   bool, 0444);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Attach groups whose IOMMU has no interrupt remapping (weakens isolation)");

unsigned int vref_dma_entry_limit = U16_MAX;
module_param_named(dma_entry_limit, vref_dma_entry_limit, uint, 0644);
MODULE_PARM_DESC(dma_entry_limit, "Maximum number of DMA mappings per container (default 65535)");

unsigned int vref_grace_ms = 10000;
module_param_named(grace_ms, vref_grace_ms, uint, 0644);
MODULE_PARM_DESC(grace_ms,
		 "Grace period in ms between a removal request and revocation (default 10000; per device in sysfs)");

static struct vfsmount *vref_mnt;

/**
 * vref_copy_argsz() - copy in the fixed part of an argsz structure
 * @dst: kernel copy, at least @minsz bytes
 * @src: the user's structure, which starts with its u32 argsz
 * @minsz: size of the part this ioctl needs
 *
 * Reads argsz first so that nothing beyond it is read (COMPAT-8).
 * Return: 0, -EINVAL when argsz < @minsz, or -EFAULT.
 */
int vref_copy_argsz(void *dst, const void __user *src, size_t minsz)
{
	u32 argsz;

	if (get_user(argsz, (const u32 __user *)src))
		return -EFAULT;
	if (argsz < minsz)
		return -EINVAL;
	if (copy_from_user(dst, src, minsz))
		return -EFAULT;
	/* argsz comes first in every structure; it may have changed since. */
	return *(u32 *)dst < minsz ? -EINVAL : 0;
}

static int vref_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, VREF_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * No .owner: our own kern_mount() would otherwise hold a reference to the
 * module for as long as it is loaded, and rmmod could never succeed. The
 * mount lives from init to exit, and every inode of it belongs to a device
 * (whose open files hold the module through their fops).
 */
static struct file_system_type vref_fs_type = {
	.name = "vfio-ref",
	.init_fs_context = vref_init_fs_context,
	.kill_sb = kill_anon_super,
};

/**
 * vref_alloc_inode() - an inode of our pseudo filesystem for one device
 *
 * Return: the inode, or an ERR_PTR.
 */
struct inode *vref_alloc_inode(void)
{
	return alloc_anon_inode(vref_mnt->mnt_sb);
}

static int __init vref_init(void)
{
	int ret;

	vref_mnt = kern_mount(&vref_fs_type);
	if (IS_ERR(vref_mnt))
		return PTR_ERR(vref_mnt);
	ret = vref_container_init();
	if (ret)
		goto err_unmount;
	ret = vref_group_init();
	if (ret)
		goto err_container;
	ret = pci_register_driver(&vref_pci_driver);
	if (ret)
		goto err_group;
	return 0;

err_group:
	vref_group_exit();
err_container:
	vref_container_exit();
err_unmount:
	kern_unmount(vref_mnt);
	return ret;
}

static void __exit vref_exit(void)
{
	pci_unregister_driver(&vref_pci_driver);
	vref_group_exit();
	vref_container_exit();
	kern_unmount(vref_mnt);
}

module_init(vref_init);
module_exit(vref_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Reference implementation of the VFIO groups ABI");
MODULE_VERSION("1.0.0");
