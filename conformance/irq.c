// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts through eventfds, raised by QEMU's edu device: writing its
 * "interrupt raise" register asserts INTx, or sends an MSI when MSI is on.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define FIRES_MS		2000	/* an interrupt that must come */
#define QUIET_MS		300	/* how long silence must hold */

FIXTURE(irq) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	void *bar;
	size_t bar_size;
	int efd;
};

FIXTURE_VARIANT(irq) {
	enum vt_edu_kind kind;
};

FIXTURE_VARIANT_ADD(irq, alone) {
	.kind = VT_EDU_ALONE,
};

FIXTURE_VARIANT_ADD(irq, shared) {
	.kind = VT_EDU_SHARED,
};

FIXTURE_SETUP(irq)
{
	int ret;

	if (vt_find_edu(variant->kind, 0, &self->dev))
		vt_skip_setup("no %s", vt_edu_kind_name(variant->kind));
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
	/* An MSI is a DMA write: no MSI without bus mastering. */
	ASSERT_EQ(0, vt_enable_bus_master(self->h.device));
	self->bar = vt_mmap_bar(self->h.device, VFIO_PCI_BAR0_REGION_INDEX,
				&self->bar_size);
	ASSERT_NE(MAP_FAILED, self->bar);
	self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(irq)
{
	if (self->bar != MAP_FAILED) {
		edu_write32(self->bar, EDU_REG_IRQ_ACK, ~0u);
		munmap(self->bar, self->bar_size);
	}
	vt_close_device(&self->h);
	close(self->efd);
}

/* Whether the eventfd fired within @ms; consumes its count. */
static bool fired(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t count;

	if (poll(&p, 1, ms) != 1)
		return false;
	return read(efd, &count, sizeof(count)) == sizeof(count) && count > 0;
}

/* SPEC: IRQ-1 */
TEST_F(irq, intx_info_is_automasked_eventfd)
{
	struct vfio_irq_info info = {
		.argsz = sizeof(info),
		.index = VFIO_PCI_INTX_IRQ_INDEX,
	};
	__u32 want = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		     VFIO_IRQ_INFO_AUTOMASKED;

	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_IRQ_INFO, &info);
	ASSERT_EQ(want, info.flags & want);
	ASSERT_EQ(1u, info.count);
}

/* SPEC: IRQ-2 */
TEST_F(irq, intx_trigger_signals_eventfd)
{
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	edu_write32(self->bar, EDU_REG_IRQ_RAISE, 1);
	ASSERT_TRUE(fired(self->efd, FIRES_MS));
}

/* SPEC: IRQ-3 */
TEST_F(irq, intx_stays_masked_until_unmask)
{
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	edu_write32(self->bar, EDU_REG_IRQ_RAISE, 1);
	ASSERT_TRUE(fired(self->efd, FIRES_MS));
	/* Acknowledge and raise again: masked, so no second signal ... */
	edu_write32(self->bar, EDU_REG_IRQ_ACK, 1);
	edu_write32(self->bar, EDU_REG_IRQ_RAISE, 2);
	ASSERT_FALSE(fired(self->efd, QUIET_MS));
	/* ... until user space unmasks the still-asserted line. */
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, VT_NO_FD));
	ASSERT_TRUE(fired(self->efd, FIRES_MS));
}

/* SPEC: IRQ-2 */
TEST_F(irq, msi_trigger_signals_eventfd)
{
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	edu_write32(self->bar, EDU_REG_IRQ_RAISE, 1);
	ASSERT_TRUE(fired(self->efd, FIRES_MS));
}

/* SPEC: IRQ-4 */
TEST_F(irq, trigger_count_zero_disables)
{
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, VT_NO_FD));
	edu_write32(self->bar, EDU_REG_IRQ_RAISE, 1);
	ASSERT_FALSE(fired(self->efd, QUIET_MS));
}

/* SPEC: IRQ-5 COMPAT-3 */
TEST_F(irq, set_irqs_two_data_types_is_refused)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL |
			 VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_INTX_IRQ_INDEX,
		.count = 1,
	};

	vt_ioctl_err(EINVAL, self->h.device, VFIO_DEVICE_SET_IRQS, &set);
}

/* SPEC: IRQ-5 */
TEST_F(irq, set_irqs_bad_index_is_refused)
{
	ASSERT_EQ(-EINVAL, vt_set_irqs(self->h.device, 99,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
}

/* SPEC: IRQ-5 */
TEST_F(irq, set_irqs_beyond_count_is_refused)
{
	ASSERT_EQ(-EINVAL, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 1, 1, self->efd));
}

/* SPEC: IRQ-6 */
TEST_F(irq, msi_while_intx_enabled_is_refused)
{
	int other = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, other);
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	ASSERT_EQ(-EINVAL, vt_set_irqs(self->h.device, VFIO_PCI_MSI_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, other));
	close(other);
}

/* SPEC: IRQ-7 */
TEST_F(irq, req_index_has_one_eventfd_vector)
{
	struct vfio_irq_info info = {
		.argsz = sizeof(info),
		.index = VFIO_PCI_REQ_IRQ_INDEX,
	};

	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_IRQ_INFO, &info);
	ASSERT_TRUE(!!(info.flags & VFIO_IRQ_INFO_EVENTFD));
	ASSERT_EQ(1u, info.count);
}

/* SPEC: IRQ-8 */
TEST_F(irq, bad_eventfd_keeps_previous_trigger)
{
	int ret;

	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	ret = vt_set_irqs(self->h.device, VFIO_PCI_MSI_IRQ_INDEX,
		       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, 9999);
	ASSERT_TRUE(ret == -EBADF || ret == -EINVAL) TH_LOG("got %d", ret);
	edu_write32(self->bar, EDU_REG_IRQ_RAISE, 1);
	ASSERT_TRUE(fired(self->efd, FIRES_MS));
}

TEST_HARNESS_MAIN
