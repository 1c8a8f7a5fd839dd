// SPDX-License-Identifier: GPL-2.0
/*
 * Removal: when the host takes a device back (unbind, remove, hot-unplug)
 * while user space holds its file, ask through the REQ eventfd, repeat the
 * request every second, wait at most the device's grace period, then revoke
 * the device so that removal always completes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/device.h>
#include <linux/jiffies.h>
#include <linux/pci.h>

#include "vfio_ref.h"

#define VREF_REQUEST_INTERVAL	HZ	/* spec: at most every 10 s */

static bool vref_device_in_use(struct vref_device *vdev)
{
	bool in_use;

	down_read(&vdev->lock);
	in_use = vdev->open_count && !vdev->revoked;
	up_read(&vdev->lock);
	return in_use;
}

/**
 * vref_removal_wait() - get the device back from user space
 * @vdev: a device that no new file can open any more
 *
 * Returns at once when no file is open. Otherwise signals the REQ eventfd
 * until the files are closed, at most for vdev->grace_ms, and then revokes
 * the device: its files stay open but reach nothing.
 */
void vref_removal_wait(struct vref_device *vdev)
{
	unsigned long deadline;
	unsigned int requests = 0;

	deadline = jiffies + msecs_to_jiffies(READ_ONCE(vdev->grace_ms));
	while (vref_device_in_use(vdev)) {
		long left = (long)(deadline - jiffies);

		if (left <= 0) {
			dev_warn(&vdev->pdev->dev,
				 "revoking the device from user space after a %u ms grace period (%u requests)\n",
				 vdev->grace_ms, requests);
			vref_device_revoke(vdev);
			return;
		}
		vref_irq_request(vdev);
		if (!requests++)
			dev_info(&vdev->pdev->dev,
				 "asking user space to release the device\n");
		wait_for_completion_timeout(&vdev->released,
					    min_t(long, left,
						  VREF_REQUEST_INTERVAL));
	}
}

static ssize_t grace_ms_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct vref_device *vdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(vdev->grace_ms));
}

static ssize_t grace_ms_store(struct device *dev,
			      struct device_attribute *attr, const char *buf,
			      size_t count)
{
	struct vref_device *vdev = dev_get_drvdata(dev);
	unsigned int ms;
	int ret = kstrtouint(buf, 0, &ms);

	if (ret)
		return ret;
	WRITE_ONCE(vdev->grace_ms, ms);
	return count;
}
static DEVICE_ATTR_RW(grace_ms);

static struct attribute *vref_device_attrs[] = {
	&dev_attr_grace_ms.attr,
	NULL,
};

static const struct attribute_group vref_device_group = {
	.attrs = vref_device_attrs,
};

const struct attribute_group *vref_device_groups[] = {
	&vref_device_group,
	NULL,
};
