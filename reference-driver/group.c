// SPDX-License-Identifier: GPL-2.0
/*
 * The group file, /dev/vfio/N: an IOMMU group as the unit of ownership.
 * A group exists while at least one of its devices is bound to us; it is
 * viable when no device of it is driven by a host driver that does DMA,
 * which is exactly when the IOMMU layer lets us claim DMA ownership.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/cdev.h>
#include <linux/file.h>
#include <linux/idr.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "vfio_ref.h"

#define VREF_MAX_GROUPS	(MINORMASK + 1)

/* protects vref_groups and the lookup of a group by its node */
static DEFINE_MUTEX(vref_groups_lock);
static LIST_HEAD(vref_groups);
static DEFINE_IDA(vref_minors);
static struct class *vref_class;
static dev_t vref_devt;

static void vref_group_release(struct kref *kref)
{
	struct vref_group *group = container_of(kref, struct vref_group, kref);

	iommu_group_put(group->iommu_group);
	ida_free(&vref_minors, MINOR(group->devt));
	kfree(group);
}

static void vref_group_put(struct vref_group *group)
{
	kref_put(&group->kref, vref_group_release);
}

/* Leave the container; the group's lock is held. */
static void vref_group_leave(struct vref_group *group)
{
	struct vref_container *container = group->container;

	if (!container)
		return;
	vref_container_del_group(container, group);
	group->container = NULL;
	vref_container_put(container);
	if (group->dma_owned) {
		iommu_group_release_dma_owner(group->iommu_group);
		group->dma_owned = false;
	}
}

static int vref_group_open(struct inode *inode, struct file *file)
{
	struct vref_group *group = NULL, *g;
	int ret = 0;

	mutex_lock(&vref_groups_lock);
	list_for_each_entry(g, &vref_groups, node) {
		if (g->devt == inode->i_rdev && g->dev) {
			group = g;
			kref_get(&group->kref);
			break;
		}
	}
	mutex_unlock(&vref_groups_lock);
	if (!group)
		return -ENODEV;

	mutex_lock(&group->lock);
	if (group->opened || group->device_fds)
		ret = -EBUSY;
	else if (list_empty(&group->devices))
		ret = -ENODEV;
	else
		group->opened = true;
	mutex_unlock(&group->lock);
	if (ret) {
		vref_group_put(group);
		return ret;
	}
	file->private_data = group;
	return 0;
}

static int vref_group_file_release(struct inode *inode, struct file *file)
{
	struct vref_group *group = file->private_data;

	mutex_lock(&group->lock);
	group->opened = false;
	if (!group->device_fds)
		vref_group_leave(group);
	mutex_unlock(&group->lock);
	vref_group_put(group);
	return 0;
}

static bool vref_group_viable(struct vref_group *group)
{
	if (list_empty(&group->devices))
		return false;
	return group->dma_owned ||
	       !iommu_group_dma_owner_claimed(group->iommu_group);
}

static long vref_group_get_status(struct vref_group *group,
				  struct vfio_group_status __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_group_status, flags);
	struct vfio_group_status status;
	int ret;

	ret = vref_copy_argsz(&status, arg, minsz);
	if (ret)
		return ret;
	status.flags = 0;
	mutex_lock(&group->lock);
	if (vref_group_viable(group))
		status.flags |= VFIO_GROUP_FLAGS_VIABLE;
	if (group->container)
		status.flags |= VFIO_GROUP_FLAGS_CONTAINER_SET;
	mutex_unlock(&group->lock);
	return vref_fail_or(1, copy_to_user(arg, &status, minsz)) ? -EFAULT : 0;
}

/* Claim DMA ownership and join @container; the group's lock is held. */
static int vref_group_join(struct vref_group *group,
			   struct vref_container *container)
{
	int ret;

	if (group->container)
		return -EINVAL;
	if (list_empty(&group->devices))
		return -EPERM;
	ret = vref_fail_or(-ENOMEM,
			   iommu_group_claim_dma_owner(group->iommu_group, group));
	if (ret)
		return ret == -EBUSY ? -EPERM : ret;
	group->dma_owned = true;
	ret = vref_container_add_group(container, group);
	if (ret) {
		iommu_group_release_dma_owner(group->iommu_group);
		group->dma_owned = false;
		return ret;
	}
	group->container = container;
	return 0;
}

static long vref_group_set_container(struct vref_group *group,
				     int __user *arg)
{
	struct vref_container *container;
	struct fd f;
	int fd, ret;

	if (vref_fail_or(-EFAULT, get_user(fd, arg)))
		return -EFAULT;
	f = fdget(fd);
	if (!fd_file(f))
		return -EBADF;
	container = vref_container_from_file(fd_file(f));
	fdput(f);
	if (!container)
		return -EINVAL;

	mutex_lock(&group->lock);
	ret = vref_group_join(group, container);
	mutex_unlock(&group->lock);
	if (ret)
		vref_container_put(container);
	return ret;
}

static long vref_group_unset_container(struct vref_group *group)
{
	long ret = 0;

	mutex_lock(&group->lock);
	if (!group->container)
		ret = -EINVAL;
	else if (group->device_fds)
		ret = -EBUSY;
	else
		vref_group_leave(group);
	mutex_unlock(&group->lock);
	return ret;
}

static bool vref_container_has_iommu(struct vref_container *container)
{
	bool ret;

	down_read(&container->lock);
	ret = container->iommu;
	up_read(&container->lock);
	return ret;
}

static struct vref_device *vref_group_find(struct vref_group *group,
					   const char *name)
{
	struct vref_device *vdev;

	list_for_each_entry(vdev, &group->devices, group_node)
		if (!strcmp(pci_name(vdev->pdev), name))
			return vdev;
	return NULL;
}

/* A new device file for @vdev; the group's lock is held. */
static int vref_group_new_device_fd(struct vref_group *group,
				    struct vref_device *vdev)
{
	struct file *file;
	int fd, ret;

	fd = vref_fail_or(-ENOMEM, get_unused_fd_flags(O_CLOEXEC));
	if (fd < 0)
		return fd;
	ret = vref_device_open(vdev);
	if (ret)
		goto err_put_fd;
	vref_device_get(vdev);
	file = vref_fail_or(ERR_PTR(-ENOMEM),
			    anon_inode_getfile("[vfio-device]", &vref_device_fops,
					       vdev, O_RDWR));
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_put_device;
	}
	file->f_mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
	file->f_mapping = vdev->inode->i_mapping;
	kref_get(&group->kref);		/* dropped by vref_group_device_closed() */
	group->device_fds++;
	fd_install(fd, file);
	return fd;

err_put_device:
	vref_device_put(vdev);
	vref_device_close(vdev);
err_put_fd:
	put_unused_fd(fd);
	return ret;
}

static long vref_group_get_device_fd(struct vref_group *group,
				     const char __user *arg)
{
	struct vref_device *vdev;
	char *name;
	long ret;

	name = vref_fail_or(ERR_PTR(-ENOMEM), strndup_user(arg, PAGE_SIZE));
	if (IS_ERR(name))
		return PTR_ERR(name);

	mutex_lock(&group->lock);
	if (!group->container || !vref_container_has_iommu(group->container)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	vdev = vref_group_find(group, name);
	if (!vdev) {
		ret = -ENODEV;
		goto out_unlock;
	}
	ret = vref_group_new_device_fd(group, vdev);
out_unlock:
	mutex_unlock(&group->lock);
	kfree(name);
	return ret;
}

static long vref_group_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct vref_group *group = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GROUP_GET_STATUS:
		return vref_group_get_status(group, uarg);
	case VFIO_GROUP_SET_CONTAINER:
		return vref_group_set_container(group, uarg);
	case VFIO_GROUP_UNSET_CONTAINER:
		return vref_group_unset_container(group);
	case VFIO_GROUP_GET_DEVICE_FD:
		return vref_group_get_device_fd(group, uarg);
	}
	return -ENOTTY;
}

static const struct file_operations vref_group_fops = {
	.owner = THIS_MODULE,
	.open = vref_group_open,
	.release = vref_group_file_release,
	.unlocked_ioctl = vref_group_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/**
 * vref_group_file_visit() - the devices of a group file's group
 * @file: a file user space passed as proof that it owns a group (hot reset)
 * @fn: called for each device of the group, with the group's lock held
 * @data: @fn's argument
 *
 * Return: 0, -EINVAL when @file is not a group file, or the first non-zero
 * value @fn returned (which ends the walk).
 */
int vref_group_file_visit(struct file *file,
			  int (*fn)(struct vref_device *vdev, void *data),
			  void *data)
{
	struct vref_group *group;
	struct vref_device *vdev;
	int ret = 0;

	if (file->f_op != &vref_group_fops)
		return -EINVAL;
	group = file->private_data;
	mutex_lock(&group->lock);
	list_for_each_entry(vdev, &group->devices, group_node) {
		ret = fn(vdev, data);
		if (ret)
			break;
	}
	mutex_unlock(&group->lock);
	return ret;
}

/**
 * vref_group_device_closed() - a device file of the group was closed
 * @group: the group
 *
 * When the group file is closed too, the group leaves its container. Drops
 * the reference the device file held on the group.
 */
void vref_group_device_closed(struct vref_group *group)
{
	mutex_lock(&group->lock);
	group->device_fds--;
	if (!group->device_fds && !group->opened)
		vref_group_leave(group);
	mutex_unlock(&group->lock);
	vref_group_put(group);
}

/* Create the group of @iommu_group and its node; vref_groups_lock held. */
static struct vref_group *vref_group_create(struct iommu_group *iommu_group)
{
	struct vref_group *group;
	int minor, ret;

	group = vref_fail_or(NULL, kzalloc(sizeof(*group), GFP_KERNEL));
	if (!group)
		return ERR_PTR(-ENOMEM);
	kref_init(&group->kref);
	mutex_init(&group->lock);
	INIT_LIST_HEAD(&group->devices);
	group->iommu_group = iommu_group;
	group->id = iommu_group_id(iommu_group);

	minor = vref_fail_or(-ENOMEM, ida_alloc_max(&vref_minors,
						    VREF_MAX_GROUPS - 1,
						    GFP_KERNEL));
	if (minor < 0) {
		ret = minor;
		goto err_free;
	}
	group->devt = MKDEV(MAJOR(vref_devt), minor);
	group->cdev = vref_fail_or(NULL, cdev_alloc());
	if (!group->cdev) {
		ret = -ENOMEM;
		goto err_minor;
	}
	group->cdev->owner = THIS_MODULE;
	group->cdev->ops = &vref_group_fops;
	ret = vref_fail_or(-ENOMEM, cdev_add(group->cdev, group->devt, 1));
	if (ret)
		goto err_cdev;
	group->dev = device_create(vref_class, NULL, group->devt, group,
				   "%d", group->id);
	if (IS_ERR(group->dev)) {
		ret = PTR_ERR(group->dev);
		goto err_cdev;
	}
	list_add(&group->node, &vref_groups);
	return group;

err_cdev:
	cdev_del(group->cdev);
err_minor:
	ida_free(&vref_minors, minor);
err_free:
	kfree(group);
	return ERR_PTR(ret);
}

/**
 * vref_group_add_device() - a device was bound: add it to its group
 * @vdev: the device; vdev->pdev set
 *
 * Creates the group and /dev/vfio/N with the group's first device.
 * Return: 0, -ENODEV for a device without an IOMMU group, or another errno.
 */
int vref_group_add_device(struct vref_device *vdev)
{
	struct iommu_group *iommu_group = iommu_group_get(&vdev->pdev->dev);
	struct vref_group *group = NULL, *g;

	if (!iommu_group)
		return -ENODEV;
	mutex_lock(&vref_groups_lock);
	list_for_each_entry(g, &vref_groups, node) {
		if (g->iommu_group == iommu_group) {
			group = g;
			kref_get(&group->kref);
			iommu_group_put(iommu_group);
			break;
		}
	}
	if (!group)
		group = vref_group_create(iommu_group);
	mutex_unlock(&vref_groups_lock);
	if (IS_ERR(group)) {
		iommu_group_put(iommu_group);
		return PTR_ERR(group);
	}
	mutex_lock(&group->lock);
	list_add_tail(&vdev->group_node, &group->devices);
	vdev->group = group;
	mutex_unlock(&group->lock);
	return 0;
}

/* Remove the node of a group without devices; vref_groups_lock held. */
static void vref_group_remove_node(struct vref_group *group)
{
	list_del(&group->node);
	device_destroy(vref_class, group->devt);
	cdev_del(group->cdev);
	group->dev = NULL;
}

/**
 * vref_group_del_device() - a device is being unbound: take it out
 * @vdev: the device
 *
 * No new device file of @vdev can be opened afterwards. With the group's
 * last device, /dev/vfio/N goes away. The group stays in its container
 * until vref_group_device_gone(): until then the device may still do DMA.
 */
void vref_group_del_device(struct vref_device *vdev)
{
	struct vref_group *group = vdev->group;
	bool empty;

	mutex_lock(&vref_groups_lock);
	mutex_lock(&group->lock);
	list_del(&vdev->group_node);
	empty = list_empty(&group->devices);
	mutex_unlock(&group->lock);
	if (empty)
		vref_group_remove_node(group);
	mutex_unlock(&vref_groups_lock);
}

/**
 * vref_group_device_gone() - a removed device can do no more DMA
 * @vdev: the device, after vref_group_del_device() and after its files were
 *	closed or revoked (bus mastering off)
 *
 * With the group's last device gone, the group leaves its container and
 * gives its DMA ownership back: the device leaves its IOMMU group right
 * after removal, and the IOMMU core wants an emptied group unowned. Not
 * earlier, so that the device leaves the container's IOMMU context only
 * once its DMA is stopped (REMOVE-8). Open files keep the group itself.
 * Drops the device's reference to the group.
 */
void vref_group_device_gone(struct vref_device *vdev)
{
	struct vref_group *group = vdev->group;

	mutex_lock(&group->lock);
	if (list_empty(&group->devices))
		vref_group_leave(group);
	mutex_unlock(&group->lock);
	vref_group_put(group);
}

static char *vref_devnode(VREF_DEVNODE_CONST struct device *dev, umode_t *mode)
{
	return kasprintf(GFP_KERNEL, "vfio/%s", dev_name(dev));
}

/**
 * vref_group_init() - set up the class and device numbers of group nodes
 *
 * Return: 0 or a negative errno.
 */
int vref_group_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&vref_devt, 0, VREF_MAX_GROUPS, "vfio-ref");
	if (ret)
		return ret;
	vref_class = vref_class_create("vfio");
	if (IS_ERR(vref_class)) {
		unregister_chrdev_region(vref_devt, VREF_MAX_GROUPS);
		return PTR_ERR(vref_class);
	}
	vref_class->devnode = vref_devnode;
	return 0;
}

/**
 * vref_group_exit() - undo vref_group_init(); every device is unbound
 */
void vref_group_exit(void)
{
	WARN_ON(!list_empty(&vref_groups));
	class_destroy(vref_class);
	unregister_chrdev_region(vref_devt, VREF_MAX_GROUPS);
	ida_destroy(&vref_minors);
}
