// SPDX-License-Identifier: GPL-2.0
/*
 * The container file, /dev/vfio/vfio: one IOMMU address space that groups
 * join. Each open creates a container; the IOMMU model (type1, dma.c) is
 * chosen once a group is attached and dropped when the last group leaves.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "vfio_ref.h"

static void vref_container_release(struct kref *kref)
{
	struct vref_container *container =
		container_of(kref, struct vref_container, kref);

	WARN_ON(!list_empty(&container->groups) || container->iommu);
	kfree(container);
}

/**
 * vref_container_put() - drop a reference to a container
 * @container: the container; freed with the last reference
 */
void vref_container_put(struct vref_container *container)
{
	kref_put(&container->kref, vref_container_release);
}

static int vref_container_open(struct inode *inode, struct file *file)
{
	struct vref_container *container;

	container = vref_fail_or(NULL, kzalloc(sizeof(*container), GFP_KERNEL));
	if (!container)
		return -ENOMEM;
	kref_init(&container->kref);
	init_rwsem(&container->lock);
	INIT_LIST_HEAD(&container->groups);
	file->private_data = container;
	return 0;
}

static int vref_container_file_release(struct inode *inode, struct file *file)
{
	vref_container_put(file->private_data);
	return 0;
}

/* Attach every group of the container to a new IOMMU model, or none. */
static int vref_container_set_iommu(struct vref_container *container,
				    unsigned long type)
{
	struct vref_iommu *iommu;
	struct vref_group *group, *done;
	int ret = 0;

	down_write(&container->lock);
	if (list_empty(&container->groups) || container->iommu) {
		ret = -EINVAL;
		goto out_unlock;
	}
	iommu = vref_iommu_create(type);
	if (IS_ERR(iommu)) {
		ret = PTR_ERR(iommu);
		goto out_unlock;
	}
	list_for_each_entry(group, &container->groups, container_node) {
		ret = vref_iommu_attach_group(iommu, group->iommu_group);
		if (ret)
			goto err_detach;
	}
	container->iommu = iommu;
	goto out_unlock;

err_detach:
	list_for_each_entry(done, &container->groups, container_node) {
		if (done == group)
			break;
		vref_iommu_detach_group(iommu, done->iommu_group);
	}
	vref_iommu_destroy(iommu);
out_unlock:
	up_write(&container->lock);
	return ret;
}

static long vref_container_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct vref_container *container = file->private_data;
	long ret = -EINVAL;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return vref_iommu_check_extension(arg);
	case VFIO_SET_IOMMU:
		return vref_container_set_iommu(container, arg);
	}
	/* Everything else belongs to the IOMMU model, once there is one. */
	down_read(&container->lock);
	if (container->iommu)
		ret = vref_iommu_ioctl(container->iommu, cmd, arg);
	up_read(&container->lock);
	return ret;
}

static const struct file_operations vref_container_fops = {
	.owner = THIS_MODULE,
	.open = vref_container_open,
	.release = vref_container_file_release,
	.unlocked_ioctl = vref_container_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/**
 * vref_container_from_file() - the container behind an open file
 * @file: any file
 *
 * Return: the container with a new reference, or NULL when @file is not a
 * container file.
 */
struct vref_container *vref_container_from_file(struct file *file)
{
	struct vref_container *container;

	if (file->f_op != &vref_container_fops)
		return NULL;
	container = file->private_data;
	kref_get(&container->kref);
	return container;
}

/**
 * vref_container_add_group() - attach a group to a container
 * @container: the container
 * @group: a group that is in no container, its lock held
 *
 * If the container has an IOMMU model, the group joins it and sees every
 * existing mapping. The caller's reference to @container passes to the group
 * on success.
 *
 * Return: 0 or a negative errno from the IOMMU model.
 */
int vref_container_add_group(struct vref_container *container,
			     struct vref_group *group)
{
	int ret = 0;

	down_write(&container->lock);
	if (container->iommu)
		ret = vref_iommu_attach_group(container->iommu,
					      group->iommu_group);
	if (!ret)
		list_add_tail(&group->container_node, &container->groups);
	up_write(&container->lock);
	return ret;
}

/**
 * vref_container_del_group() - detach a group from its container
 * @container: the container
 * @group: a group in @container, its lock held
 *
 * When the last group leaves, every mapping is removed and the container
 * has no IOMMU model any more. The caller then drops the group's reference
 * to @container.
 */
void vref_container_del_group(struct vref_container *container,
			      struct vref_group *group)
{
	down_write(&container->lock);
	if (container->iommu)
		vref_iommu_detach_group(container->iommu, group->iommu_group);
	list_del(&group->container_node);
	if (list_empty(&container->groups) && container->iommu) {
		vref_iommu_destroy(container->iommu);
		container->iommu = NULL;
	}
	up_write(&container->lock);
}

static struct miscdevice vref_container_misc = {
	.minor = VFIO_MINOR,
	.name = "vfio",
	.nodename = "vfio/vfio",
	.fops = &vref_container_fops,
	.mode = 0666,
};

/**
 * vref_container_init() - register /dev/vfio/vfio
 *
 * Return: 0, or -EBUSY with a message when the kernel's own VFIO holds the
 * node.
 */
int vref_container_init(void)
{
	int ret = misc_register(&vref_container_misc);

	if (ret == -EBUSY)
		pr_err("/dev/vfio/vfio (misc minor %d) is taken: unload the kernel's vfio modules first\n",
		       VFIO_MINOR);
	return ret;
}

/**
 * vref_container_exit() - unregister /dev/vfio/vfio
 */
void vref_container_exit(void)
{
	misc_deregister(&vref_container_misc);
}
