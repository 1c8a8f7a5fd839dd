// SPDX-License-Identifier: GPL-2.0
/*
 * Container: /dev/vfio/vfio, the IOMMU address space that groups join.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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

TEST_F(container, reports_api_version)
{
	ASSERT_EQ(VFIO_API_VERSION, ioctl(self->fd, VFIO_GET_API_VERSION));
}

TEST_F(container, supports_type1v2_extension)
{
	ASSERT_EQ(1, ioctl(self->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
}

TEST_F(container, unknown_extension_is_unsupported)
{
	ASSERT_EQ(0, ioctl(self->fd, VFIO_CHECK_EXTENSION, 0x7fff));
}

TEST_F(container, set_iommu_without_group_is_refused)
{
	vt_ioctl_err(EINVAL, self->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
}

TEST_HARNESS_MAIN
