// SPDX-License-Identifier: GPL-2.0
/*
 * Group: /dev/vfio/<group>, exclusivity, status, joining a container and
 * handing out device fds. Every test runs on any selected device alone in
 * its group (bridges and ports may be there too) and on one whose group holds
 * another selected device (behind a conventional PCI bridge, say).
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

FIXTURE(group) {
	struct vt_pci_dev dev;
	int container;
	int group;
};

FIXTURE_VARIANT(group) {
	enum vt_dev_kind kind;
};

FIXTURE_VARIANT_ADD(group, alone) {
	.kind = VT_DEV_ALONE,
};

FIXTURE_VARIANT_ADD(group, shared) {
	.kind = VT_DEV_SHARED,
};

FIXTURE_SETUP(group)
{
	if (vt_select(variant->kind, 0, NULL, &self->dev))
		vt_skip_setup("no selected device%s",
			      vt_dev_kind_name(variant->kind));
	self->container = vt_open_container();
	ASSERT_LE(0, self->container);
	self->group = vt_open_group(self->dev.group);
	ASSERT_LE(0, self->group) TH_LOG("open group %d of %s: %s",
		self->dev.group, self->dev.bdf, strerror(-self->group));
}

FIXTURE_TEARDOWN(group)
{
	close(self->group);
	close(self->container);
}

static void group_status(struct __test_metadata *_metadata, int fd,
			 __u32 *flags)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };

	vt_ioctl_ok(fd, VFIO_GROUP_GET_STATUS, &status);
	*flags = status.flags;
}

/* SPEC: GROUP-1 */
TEST_F(group, second_open_is_busy)
{
	ASSERT_EQ(-EBUSY, vt_open_group(self->dev.group));
}

/* SPEC: GROUP-4 GROUP-5 BIND-2 BIND-7 */
TEST_F(group, status_viable_before_set_container)
{
	__u32 flags;

	group_status(_metadata, self->group, &flags);
	ASSERT_EQ((__u32)VFIO_GROUP_FLAGS_VIABLE, flags);
}

/* SPEC: GROUP-5 GROUP-8 */
TEST_F(group, status_container_set_after_set_container)
{
	__u32 flags;

	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	group_status(_metadata, self->group, &flags);
	ASSERT_EQ((__u32)(VFIO_GROUP_FLAGS_VIABLE |
			  VFIO_GROUP_FLAGS_CONTAINER_SET), flags);
}

/* SPEC: CONT-4 GROUP-8 */
TEST_F(group, set_iommu_type1v2_after_set_container)
{
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
}

/* SPEC: GROUP-18 */
TEST_F(group, get_device_fd_by_name)
{
	int device;

	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->dev.bdf);
	ASSERT_LE(0, device) TH_LOG("GET_DEVICE_FD %s: %s", self->dev.bdf,
				    strerror(errno));
	close(device);
}

/* SPEC: GROUP-18 */
TEST_F(group, device_fd_is_read_write_and_close_on_exec)
{
	int device, fl;

	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->dev.bdf);
	ASSERT_LE(0, device) TH_LOG("GET_DEVICE_FD %s: %s", self->dev.bdf,
				    strerror(errno));
	fl = fcntl(device, F_GETFD);
	EXPECT_LE(0, fl);
	EXPECT_TRUE(fl >= 0 && (fl & FD_CLOEXEC)) TH_LOG("F_GETFD 0x%x", fl);
	fl = fcntl(device, F_GETFL);
	EXPECT_LE(0, fl);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE) TH_LOG("F_GETFL 0x%x", fl);
	close(device);
}

/*
 * @size writable bytes that end where readable memory ends (an inaccessible
 * page follows them), or NULL; the two pages stay mapped until the test's
 * process exits.
 */
static void *last_readable_bytes(size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	char *mem;

	mem = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || mprotect(mem + page, page, PROT_NONE))
		return NULL;
	return mem + page - size;
}

/*
 * The structure ends where readable memory ends: an implementation that
 * read past argsz would fault (EFAULT) instead of answering.
 */
/* SPEC: COMPAT-8 */
TEST_F(group, status_reads_nothing_beyond_argsz)
{
	struct vfio_group_status *status = last_readable_bytes(sizeof(*status));

	ASSERT_NE(NULL, status);
	status->argsz = sizeof(*status);
	vt_ioctl_ok(self->group, VFIO_GROUP_GET_STATUS, status);
	EXPECT_TRUE(!!(status->flags & VFIO_GROUP_FLAGS_VIABLE));
}

/*
 * A short argsz is the last readable word: an implementation that read the
 * structure's fixed part before it looked at argsz would fault (EFAULT)
 * where the short argsz must be refused (EINVAL).
 */
/* SPEC: COMPAT-8 COMPAT-9 */
TEST_F(group, status_reads_nothing_beyond_a_short_argsz)
{
	__u32 *argsz = last_readable_bytes(sizeof(*argsz));

	ASSERT_NE(NULL, argsz);
	*argsz = sizeof(*argsz);
	vt_ioctl_err(EINVAL, self->group, VFIO_GROUP_GET_STATUS, argsz);
}

/* SPEC: GROUP-20 */
TEST_F(group, get_device_fd_unknown_name_is_refused)
{
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	vt_ioctl_err(ENODEV, self->group, VFIO_GROUP_GET_DEVICE_FD,
		     "0000:ff:1f.7");
}

/* SPEC: GROUP-19 */
TEST_F(group, get_device_fd_without_container_is_refused)
{
	vt_ioctl_err(EINVAL, self->group, VFIO_GROUP_GET_DEVICE_FD,
		     self->dev.bdf);
}

/* SPEC: GROUP-19 */
TEST_F(group, get_device_fd_without_iommu_model_is_refused)
{
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_err(EINVAL, self->group, VFIO_GROUP_GET_DEVICE_FD,
		     self->dev.bdf);
}

/* SPEC: GROUP-2 */
TEST_F(group, reopen_after_close_succeeds)
{
	int fd;

	close(self->group);
	fd = vt_open_group(self->dev.group);
	ASSERT_LE(0, fd) TH_LOG("reopen: %s", strerror(-fd));
	self->group = fd;
}

/* SPEC: GROUP-6 COMPAT-9 */
TEST_F(group, status_short_argsz_is_refused)
{
	struct vfio_group_status status = { .argsz = 4 };

	vt_ioctl_err(EINVAL, self->group, VFIO_GROUP_GET_STATUS, &status);
}

/* SPEC: GROUP-10 */
TEST_F(group, set_container_twice_is_refused)
{
	int other = vt_open_container();

	ASSERT_LE(0, other);
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_err(EINVAL, self->group, VFIO_GROUP_SET_CONTAINER, &other);
	close(other);
}

/* SPEC: GROUP-23 */
TEST_F(group, set_container_closed_fd_is_refused)
{
	int bad = -1;

	vt_ioctl_err(EBADF, self->group, VFIO_GROUP_SET_CONTAINER, &bad);
}

/* SPEC: GROUP-24 */
TEST_F(group, set_container_non_container_fd_is_refused)
{
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->group, VFIO_GROUP_SET_CONTAINER, &self->group));
	/* The errno set of GROUP-24: EINVAL (preferred) or EBADFD. */
	ASSERT_TRUE(errno == EINVAL || errno == EBADFD)
		TH_LOG("SET_CONTAINER with a group fd: %s", strerror(errno));
}

/* SPEC: GROUP-12 COMPAT-6 */
TEST_F(group, set_container_bad_pointer_faults)
{
	vt_ioctl_err(EFAULT, self->group, VFIO_GROUP_SET_CONTAINER, (void *)8);
}

/* SPEC: GROUP-14 GROUP-15 */
TEST_F(group, unset_container_detaches_once)
{
	__u32 flags;

	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->group, VFIO_GROUP_UNSET_CONTAINER, NULL);
	group_status(_metadata, self->group, &flags);
	ASSERT_EQ((__u32)VFIO_GROUP_FLAGS_VIABLE, flags);
	vt_ioctl_err(EINVAL, self->group, VFIO_GROUP_UNSET_CONTAINER, NULL);
}

/* SPEC: GROUP-16 */
TEST_F(group, unset_container_with_open_device_is_busy)
{
	int device;

	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->dev.bdf);
	ASSERT_LE(0, device);
	vt_ioctl_err(EBUSY, self->group, VFIO_GROUP_UNSET_CONTAINER, NULL);
	close(device);
}

/* SPEC: GROUP-21 COMPAT-6 */
TEST_F(group, get_device_fd_bad_pointer_faults)
{
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	vt_ioctl_err(EFAULT, self->group, VFIO_GROUP_GET_DEVICE_FD, (void *)8);
}

/* SPEC: CONT-7 */
TEST_F(group, set_iommu_unknown_model_is_refused)
{
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_err(ENODEV, self->container, VFIO_SET_IOMMU, 0x7fff);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
}

/*
 * MSIs isolated by the interrupt controller (Arm's GICv3 ITS, beside an
 * SMMUv3 without interrupt remapping) or by interrupt remapping count as
 * isolated: SET_IOMMU accepts the group. Skipped where the kernel shows
 * neither (there CONT-8 may refuse it).
 */
/* SPEC: CONT-16 */
TEST_F(group, set_iommu_accepts_msis_isolated_by_irq_domain)
{
	const char *by = vt_msi_isolated_by();

	if (!by)
		SKIP(return, "no MSI domain that isolates in /proc/interrupts");
	TH_LOG("MSIs isolated by %s", by);
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
}

/* SPEC: CONT-6 */
TEST_F(group, set_iommu_twice_is_refused)
{
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	vt_ioctl_err(EINVAL, self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
}

/* SPEC: CONT-11 */
TEST_F(group, last_group_leaving_drops_iommu_model)
{
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	vt_ioctl_ok(self->group, VFIO_GROUP_UNSET_CONTAINER, NULL);
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	/* The container has no model again: it can (and must) be set anew. */
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
}

/* SPEC: GROUP-7 */
TEST_F(group, status_sets_no_unknown_flag)
{
	__u32 flags;

	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	group_status(_metadata, self->group, &flags);
	ASSERT_EQ(0u, flags & ~(__u32)(VFIO_GROUP_FLAGS_VIABLE |
				       VFIO_GROUP_FLAGS_CONTAINER_SET));
}

/* SPEC: MODEL-5 */
TEST_F(group, each_container_open_is_a_new_container)
{
	int other = vt_open_container();

	ASSERT_LE(0, other);
	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	/* The group joined the first container, not this one: it is empty. */
	vt_ioctl_err(EINVAL, other, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	close(other);
}

/* SPEC: GROUP-17 */
TEST_F(group, closing_group_file_leaves_container)
{
	__u32 flags;

	vt_ioctl_ok(self->group, VFIO_GROUP_SET_CONTAINER, &self->container);
	vt_ioctl_ok(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	close(self->group);
	self->group = vt_open_group(self->dev.group);
	ASSERT_LE(0, self->group);
	group_status(_metadata, self->group, &flags);
	ASSERT_EQ((__u32)VFIO_GROUP_FLAGS_VIABLE, flags);
}

TEST_HARNESS_MAIN
