// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_ref: the implementation's own fault points.
 *
 * Every call this module makes that can fail (an allocation, a copy to or
 * from user memory, a pin, an IOMMU map or attach, an IRQ request, an fd)
 * is written vref_fail_or(<failure>, <call>): the fault attribute below
 * can make the call site see the failure without making the call. It is a
 * fault attribute of the kernel's fault-injection framework
 * (Documentation/fault-injection/fault-injection.rst), in debugfs as
 * fail_vfio_ref/ with the usual knobs (probability, interval, times, space,
 * task-filter, verbose), so a test can fail exactly the n-th point of its
 * own task (probability 100, task-filter, times 1, space n) and no point
 * of the kernel's core code under the same call: the aimed mode of
 * conformance/fault.c, for calls whose core code has bugs of its own under
 * faults. The kernel's stack-trace filter (require-start/require-end)
 * would fault the core's points under our calls too, where those bugs
 * are, and 6.1 does not offer it on x86_64.
 *
 * /proc/self/fail-nth counts these points as well, each before the call
 * it guards. Without CONFIG_FAULT_INJECTION_DEBUG_FS nothing is built
 * and vref_fail_or() is just the call.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fault-inject.h>

#include "vfio_ref.h"

#if IS_ENABLED(CONFIG_FAULT_INJECTION_DEBUG_FS)

static DECLARE_FAULT_ATTR(vref_fail);
static struct dentry *vref_fail_dir;

bool vref_should_fail(void)
{
	return should_fail(&vref_fail, 1);
}

void vref_fault_init(void)
{
	struct dentry *dir;

	/* An injected fault logs nothing unless the test asks (verbose). */
	vref_fail.verbose = 0;
	/* Optional: without the directory no point ever fails. */
	dir = fault_create_debugfs_attr("fail_vfio_ref", NULL, &vref_fail);
	if (IS_ERR(dir)) {
		pr_info("no fail_vfio_ref in debugfs (%ld)\n", PTR_ERR(dir));
		return;
	}
	vref_fail_dir = dir;
}

void vref_fault_exit(void)
{
	if (!vref_fail_dir)
		return;
	debugfs_remove_recursive(vref_fail_dir);
	/* fault_create_debugfs_attr() keeps a reference in the attribute. */
	dput(vref_fail.dname);
}

#endif
