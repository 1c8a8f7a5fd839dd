// SPDX-License-Identifier: GPL-2.0
/*
 * Container: /dev/vfio/vfio, the IOMMU address space that groups join.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

FIXTURE(container) {
	int fd;
};

FIXTURE_SETUP(container)
{
	self->fd = vt_open_container();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", VT_CONTAINER_PATH,
				      strerror(-self->fd));
}

FIXTURE_TEARDOWN(container)
{
	close(self->fd);
}

/* SPEC: CONT-1 */
TEST_F(container, reports_api_version)
{
	ASSERT_EQ(VFIO_API_VERSION, ioctl(self->fd, VFIO_GET_API_VERSION));
}

/* SPEC: CONT-2 CONT-3 CONT-4 */
TEST_F(container, supports_type1v2_extension)
{
	ASSERT_EQ(1, ioctl(self->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
}

/* SPEC: CONT-2 CONT-15 */
TEST_F(container, supports_type1_extension)
{
	ASSERT_EQ(1, ioctl(self->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
}

/* SPEC: CONT-2 */
TEST_F(container, unknown_extension_is_unsupported)
{
	ASSERT_EQ(0, ioctl(self->fd, VFIO_CHECK_EXTENSION, 0x7fff));
}

/* SPEC: CONT-5 */
TEST_F(container, set_iommu_without_group_is_refused)
{
	vt_ioctl_err(EINVAL, self->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
}

/* SPEC: CONT-9 */
TEST_F(container, map_dma_before_set_iommu_is_refused)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ,
		.iova = 0x100000,
		.size = 4096,
	};

	vt_ioctl_err(EINVAL, self->fd, VFIO_IOMMU_MAP_DMA, &map);
}

/* SPEC: MODEL-4 */
TEST_F(container, node_is_misc_10_196)
{
	struct stat st;

	ASSERT_EQ(0, fstat(self->fd, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(10u, major(st.st_rdev));
	ASSERT_EQ(196u, minor(st.st_rdev));
}

/* SPEC: SEC-6 */
TEST(node_is_root_read_write_for_all)
{
	struct stat st;

	ASSERT_EQ(0, stat(VT_CONTAINER_PATH, &st))
		TH_LOG("%s: %s", VT_CONTAINER_PATH, strerror(errno));
	/* With udev, the administrator's rules decide (as for GROUP-3). */
	if ((st.st_uid != 0 || (st.st_mode & 07777) != 0666) &&
	    !access("/run/udev/control", F_OK))
		SKIP(return, "udev manages %s (mode %o, uid %u)",
		     VT_CONTAINER_PATH, st.st_mode & 07777, st.st_uid);
	ASSERT_EQ(0u, st.st_uid);
	ASSERT_EQ(0666u, st.st_mode & 07777);
}

/* SPEC: CONT-10 */
TEST_F(container, unknown_ioctl_is_refused)
{
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->fd, _IO(VFIO_TYPE, VFIO_BASE + 60)));
	ASSERT_TRUE(errno == ENOTTY || errno == EINVAL)
		TH_LOG("errno %d (%s)", errno, strerror(errno));
}

TEST_HARNESS_MAIN
