// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_ref: helpers that every file of the driver needs, and nothing that
 * calls back into those files: the argsz copy of the ioctl handlers, and the
 * small pseudo filesystem that gives every device an inode whose address
 * space holds all user mappings of its BARs (so that revocation can zap
 * them at once).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/uaccess.h>

#include "vfio_ref.h"

#define VREF_FS_MAGIC	0x76726566	/* "vref" */

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

	if (vref_fail_or(-EFAULT, get_user(argsz, (const u32 __user *)src)))
		return -EFAULT;
	if (argsz < minsz)
		return -EINVAL;
	if (vref_fail_or(1, copy_from_user(dst, src, minsz)))
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

/**
 * vref_fs_init() - mount the pseudo filesystem (module init)
 * Return: 0 or -errno.
 */
int vref_fs_init(void)
{
	vref_mnt = kern_mount(&vref_fs_type);
	return PTR_ERR_OR_ZERO(vref_mnt);
}

/** vref_fs_exit() - unmount it (module exit, after every device is gone) */
void vref_fs_exit(void)
{
	kern_unmount(vref_mnt);
}
