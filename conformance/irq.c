// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts through eventfds, raised by a DMA engine's device (engine.h):
 * QEMU's edu (INTx, MSI), the igb (INTx, MSI, and MSI-X with one vector
 * per cause bit) and an NVMe controller (INTx and MSI-X vector 0, from its
 * admin completion queue). Every test runs on each engine; a test for an
 * interrupt kind the engine cannot raise skips, and so does a variant whose
 * device is absent.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "engine.h"

#define FIRES_MS		2000	/* an interrupt that must come */
#define QUIET_MS		300	/* how long silence must hold */
#define MSIX_VECTORS		3	/* vectors the MSI-X tests route */

FIXTURE(irq) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	struct vt_engine eng;
	int efd;
};

FIXTURE_VARIANT(irq) {
	const char *engine;
	enum vt_dev_kind kind;
};

FIXTURE_VARIANT_ADD(irq, edu_alone) {
	.engine = "edu",
	.kind = VT_DEV_ALONE,
};

FIXTURE_VARIANT_ADD(irq, edu_shared) {
	.engine = "edu",
	.kind = VT_DEV_SHARED,
};

FIXTURE_VARIANT_ADD(irq, igb) {
	.engine = "igb",
	.kind = VT_DEV_ANY,
};

FIXTURE_VARIANT_ADD(irq, nvme) {
	.engine = "nvme",
	.kind = VT_DEV_ANY,
};

FIXTURE_SETUP(irq)
{
	const struct vt_engine_ops *ops = vt_engine_by_name(variant->engine);
	int ret;

	self->h.container = self->h.group = self->h.device = -1;
	self->efd = -1;
	ASSERT_NE(NULL, ops);
	if (vt_engine_select(ops, variant->kind, 0, &self->dev))
		vt_skip_setup("no %s device%s for the %s DMA engine", ops->name,
			      vt_dev_kind_name(variant->kind), ops->name);
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
	/* An MSI is a DMA write: the engine turns bus mastering on. */
	ret = vt_engine_open(&self->eng, ops, self->h.device, self->h.container,
			     VT_ENGINE_IOVA);
	ASSERT_EQ(0, ret) TH_LOG("%s engine on %s: %s", ops->name,
				 self->dev.bdf, strerror(-ret));
	self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(irq)
{
	vt_engine_close(&self->eng);
	vt_close_device(&self->h);
	if (self->efd >= 0)
		close(self->efd);
}

/* Skip a test whose interrupt kind the engine cannot raise. */
#define needs_irq(index, what) do { \
	if (!vt_engine_has_irq(self->eng.ops, (index))) \
		SKIP(return, "the %s engine cannot raise %s", \
		     self->eng.ops->name, (what)); \
} while (0)

/* Whether the device offers capability @id (PCI 0x05: MSI, 0x11: MSI-X). */
static bool has_pci_cap(const char *bdf, uint8_t id)
{
	return vt_real_cap(bdf, id) != 0;
}

#define PCI_CAP_MSI	0x05
#define PCI_CAP_EXP	0x10
#define PCI_CAP_MSIX	0x11

/* Skip a test that needs the device to offer an interrupt kind at all. */
#define needs_cap(id, what) do { \
	if (!has_pci_cap(self->dev.bdf, (id))) \
		SKIP(return, "%s has no %s capability", self->dev.bdf, \
		     (what)); \
} while (0)

/* MSI where the engine raises it, else MSI-X: an edge-triggered kind. */
static unsigned int edge_index(const struct vt_engine_ops *ops)
{
	return vt_engine_has_irq(ops, VFIO_PCI_MSI_IRQ_INDEX) ?
	       VFIO_PCI_MSI_IRQ_INDEX : VFIO_PCI_MSIX_IRQ_INDEX;
}

#define raise_irq(index, vector) \
	ASSERT_EQ(0, vt_engine_irq_raise(&self->eng, (index), (vector)))

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
	needs_irq(VFIO_PCI_INTX_IRQ_INDEX, "INTx");
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	raise_irq(VFIO_PCI_INTX_IRQ_INDEX, 0);
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
}

/* SPEC: IRQ-3 */
TEST_F(irq, intx_stays_masked_until_unmask)
{
	needs_irq(VFIO_PCI_INTX_IRQ_INDEX, "INTx");
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	raise_irq(VFIO_PCI_INTX_IRQ_INDEX, 0);
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
	/* Acknowledge and raise again: masked, so no second signal ... */
	vt_engine_irq_ack(&self->eng, VFIO_PCI_INTX_IRQ_INDEX);
	raise_irq(VFIO_PCI_INTX_IRQ_INDEX, 0);
	ASSERT_FALSE(vt_eventfd_fired(self->efd, QUIET_MS));
	/* ... until user space unmasks the still-asserted line. */
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, VT_NO_FD));
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
}

/* SPEC: IRQ-9 */
TEST_F(irq, intx_mask_blocks_the_next_interrupt)
{
	needs_irq(VFIO_PCI_INTX_IRQ_INDEX, "INTx");
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_MASK, 0, 1, VT_NO_FD));
	raise_irq(VFIO_PCI_INTX_IRQ_INDEX, 0);
	ASSERT_FALSE(vt_eventfd_fired(self->efd, QUIET_MS));
	/* Unmasking delivers the interrupt the line still asserts. */
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, VT_NO_FD));
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
}

/* INTx on, signalling @trigger, with the unmask eventfd @unmask (or -1). */
static int intx_route(int device, int trigger, int unmask)
{
	int ret = vt_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, trigger);

	return ret ? ret : vt_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
				       unmask);
}

/*
 * INTx routed to self->efd with @unmask as its unmask eventfd, raised once
 * and acknowledged, then raised again: the line is asserted and masked, so
 * only an unmask lets the second interrupt through.
 */
static void intx_masked_pending(struct __test_metadata *_metadata,
				FIXTURE_DATA(irq) *self, int unmask)
{
	ASSERT_EQ(0, intx_route(self->h.device, self->efd, unmask));
	raise_irq(VFIO_PCI_INTX_IRQ_INDEX, 0);
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
	vt_engine_irq_ack(&self->eng, VFIO_PCI_INTX_IRQ_INDEX);
	raise_irq(VFIO_PCI_INTX_IRQ_INDEX, 0);
	ASSERT_FALSE(vt_eventfd_fired(self->efd, QUIET_MS));
}

/* Signal the unmask eventfd @fd as KVM's resampler does. */
static int signal_fd(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

/* SPEC: IRQ-12 IRQ-3 */
TEST_F(irq, intx_unmask_eventfd_unmasks)
{
	int unmask = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	needs_irq(VFIO_PCI_INTX_IRQ_INDEX, "INTx");
	ASSERT_LE(0, unmask);
	intx_masked_pending(_metadata, self, unmask);
	ASSERT_EQ(0, signal_fd(unmask));
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
	close(unmask);
}

/* SPEC: IRQ-13 */
TEST_F(irq, intx_unmask_eventfd_minus_one_removes_it)
{
	int unmask = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	needs_irq(VFIO_PCI_INTX_IRQ_INDEX, "INTx");
	ASSERT_LE(0, unmask);
	ASSERT_EQ(0, intx_route(self->h.device, self->efd, unmask));
	intx_masked_pending(_metadata, self, -1);
	ASSERT_EQ(0, signal_fd(unmask));
	ASSERT_FALSE(vt_eventfd_fired(self->efd, QUIET_MS));
	/* Still pending: ACTION_UNMASK lets it through. */
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
				 VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, VT_NO_FD));
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
	close(unmask);
}

/*
 * INTx off and on again: the old unmask eventfd went with it, so a new one
 * can be set; one still registered would make that fail with EBUSY.
 */
/* SPEC: IRQ-14 */
TEST_F(irq, intx_unmask_eventfd_released_when_intx_off)
{
	int old = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int fresh = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	needs_irq(VFIO_PCI_INTX_IRQ_INDEX, "INTx");
	ASSERT_LE(0, old);
	ASSERT_LE(0, fresh);
	ASSERT_EQ(0, intx_route(self->h.device, self->efd, old));
	ASSERT_EQ(-EBUSY, intx_route(self->h.device, self->efd, fresh));
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
				 VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, VT_NO_FD));
	ASSERT_EQ(0, intx_route(self->h.device, self->efd, fresh));
	close(fresh);
	close(old);
}

/* SPEC: IRQ-2 */
TEST_F(irq, msi_trigger_signals_eventfd)
{
	needs_irq(VFIO_PCI_MSI_IRQ_INDEX, "MSI");
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	raise_irq(VFIO_PCI_MSI_IRQ_INDEX, 0);
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
}

/*
 * MSI (MSI-X where the engine has no MSI) turned on with no eventfd, as
 * QEMU does when its guest enables MSI-X: the index is on (INTx refused),
 * and an eventfd set later on its vector is signalled.
 */
/* SPEC: IRQ-31 IRQ-6 */
TEST_F(irq, edge_kind_on_without_eventfd_is_on)
{
	unsigned int index = edge_index(self->eng.ops);

	needs_irq(index, "MSI or MSI-X");
	ASSERT_EQ(0, vt_set_irqs(self->h.device, index,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, -1));
	EXPECT_EQ(-EINVAL, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
				    self->efd))
		TH_LOG("INTx accepted: index %u is not on", index);
	ASSERT_EQ(0, vt_set_irqs(self->h.device, index,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	raise_irq(index, 0);
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
}

/* SPEC: IRQ-4 */
TEST_F(irq, trigger_count_zero_disables)
{
	needs_irq(VFIO_PCI_MSI_IRQ_INDEX, "MSI");
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, VT_NO_FD));
	raise_irq(VFIO_PCI_MSI_IRQ_INDEX, 0);
	ASSERT_FALSE(vt_eventfd_fired(self->efd, QUIET_MS));
}

/* SPEC: IRQ-15 COMPAT-3 */
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

/* SPEC: IRQ-17 */
TEST_F(irq, set_irqs_bad_index_is_refused)
{
	ASSERT_EQ(-EINVAL, vt_set_irqs(self->h.device, 99,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
}

/* SPEC: IRQ-18 */
TEST_F(irq, set_irqs_beyond_count_is_refused)
{
	ASSERT_EQ(-EINVAL, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 1, 1, self->efd));
}

/* SPEC: IRQ-6 */
TEST_F(irq, msi_while_intx_enabled_is_refused)
{
	int other;

	needs_cap(PCI_CAP_MSI, "MSI");
	other = eventfd(0, EFD_CLOEXEC);
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

/* GET_IRQ_INFO of the ERR index: 0 and its info, or -errno. */
static int err_info(int device, struct vfio_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = VFIO_PCI_ERR_IRQ_INDEX;
	return ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, info) ? -errno : 0;
}

/* An ERR eventfd that is set is signalled by a DATA_NONE trigger. */
static bool err_eventfd_set(int device, int efd)
{
	return !vt_set_irqs(device, VFIO_PCI_ERR_IRQ_INDEX,
			    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, efd) &&
	       !vt_set_irqs(device, VFIO_PCI_ERR_IRQ_INDEX,
			    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, VT_NO_FD) &&
	       vt_eventfd_fired(efd, 0);
}

/* SPEC: IRQ-10 */
TEST_F(irq, err_index_of_pci_express_has_one_eventfd_vector)
{
	struct vfio_irq_info info;

	needs_cap(PCI_CAP_EXP, "PCI Express");
	ASSERT_EQ(0, err_info(self->h.device, &info));
	ASSERT_TRUE(!!(info.flags & VFIO_IRQ_INFO_EVENTFD));
	ASSERT_EQ(1u, info.count);
	ASSERT_TRUE(err_eventfd_set(self->h.device, self->efd));
}

/*
 * Conventional PCI: the index is absent (EINVAL, and SET_IRQS refuses it)
 * or offered with one vector, never reported with none.
 */
/* SPEC: IRQ-11 */
TEST_F(irq, err_index_of_conventional_pci_is_absent_or_one_vector)
{
	struct vfio_irq_info info;
	int ret;

	if (has_pci_cap(self->dev.bdf, PCI_CAP_EXP))
		SKIP(return, "%s is PCI Express", self->dev.bdf);
	ret = err_info(self->h.device, &info);
	printf("# ERR index of %s: %s\n", self->dev.bdf,
	       ret ? strerror(-ret) : "offered");
	if (ret) {
		ASSERT_EQ(-EINVAL, ret);
		ASSERT_EQ(-EINVAL, vt_set_irqs(self->h.device,
					       VFIO_PCI_ERR_IRQ_INDEX,
					       VFIO_IRQ_SET_ACTION_TRIGGER, 0,
					       1, self->efd));
		return;
	}
	ASSERT_EQ(1u, info.count) TH_LOG("ERR reported with count %u",
					 info.count);
	ASSERT_TRUE(err_eventfd_set(self->h.device, self->efd));
}

/* SPEC: IRQ-8 */
TEST_F(irq, bad_eventfd_keeps_previous_trigger)
{
	unsigned int index = edge_index(self->eng.ops);
	int ret;

	needs_irq(index, "MSI or MSI-X");
	ASSERT_EQ(0, vt_set_irqs(self->h.device, index,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	ret = vt_set_irqs(self->h.device, index,
		       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, 9999);
	ASSERT_TRUE(ret == -EBADF || ret == -EINVAL) TH_LOG("got %d", ret);
	raise_irq(index, 0);
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
}

/* Arm MSI-X vectors 0..n-1, one eventfd each. */
static int msix_arm(int device, const int *efd, int n)
{
	char buf[sizeof(struct vfio_irq_set) + MSIX_VECTORS * sizeof(__s32)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(*set) + n * sizeof(__s32);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSIX_IRQ_INDEX;
	set->count = n;
	memcpy(set->data, efd, n * sizeof(__s32));
	return ioctl(device, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

/* SPEC: IRQ-2 */
TEST_F(irq, msix_trigger_signals_eventfd)
{
	needs_irq(VFIO_PCI_MSIX_IRQ_INDEX, "MSI-X");
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSIX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	raise_irq(VFIO_PCI_MSIX_IRQ_INDEX, 0);
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
	/* Edge-triggered: the next message is the next signal. */
	raise_irq(VFIO_PCI_MSIX_IRQ_INDEX, 0);
	ASSERT_TRUE(vt_eventfd_fired(self->efd, FIRES_MS));
}

/*
 * Every vector routed; each one the engine can raise signals its eventfd
 * and no other (an engine with one vector shows the others stay quiet).
 */
/* SPEC: IRQ-2 */
TEST_F(irq, msix_each_vector_signals_its_own_eventfd)
{
	int efd[MSIX_VECTORS], i, j, raised;

	needs_irq(VFIO_PCI_MSIX_IRQ_INDEX, "MSI-X");
	raised = self->eng.ops->msix_vectors < MSIX_VECTORS ?
		 (int)self->eng.ops->msix_vectors : MSIX_VECTORS;
	ASSERT_LT(0, raised);
	for (i = 0; i < MSIX_VECTORS; i++) {
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_LE(0, efd[i]);
	}
	ASSERT_EQ(0, msix_arm(self->h.device, efd, MSIX_VECTORS));
	for (i = raised - 1; i >= 0; i--) {
		raise_irq(VFIO_PCI_MSIX_IRQ_INDEX, i);
		EXPECT_TRUE(vt_eventfd_fired(efd[i], FIRES_MS)) TH_LOG("vector %d", i);
		for (j = 0; j < MSIX_VECTORS; j++)
			if (j != i)
				EXPECT_FALSE(vt_eventfd_fired(efd[j], 0))
					TH_LOG("vector %d signalled %d", i, j);
	}
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSIX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, VT_NO_FD));
	for (i = 0; i < MSIX_VECTORS; i++)
		close(efd[i]);
}

/* SPEC: IRQ-4 */
TEST_F(irq, msix_trigger_count_zero_disables)
{
	needs_irq(VFIO_PCI_MSIX_IRQ_INDEX, "MSI-X");
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSIX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSIX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, VT_NO_FD));
	raise_irq(VFIO_PCI_MSIX_IRQ_INDEX, 0);
	ASSERT_FALSE(vt_eventfd_fired(self->efd, QUIET_MS));
}

/* SPEC: IRQ-6 */
TEST_F(irq, msix_while_intx_enabled_is_refused)
{
	int other;

	needs_cap(PCI_CAP_MSIX, "MSI-X");
	other = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	ASSERT_EQ(-EINVAL, vt_set_irqs(self->h.device, VFIO_PCI_MSIX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, other));
	close(other);
}

/* SPEC: IRQ-6 */
TEST_F(irq, msix_while_msi_enabled_is_refused)
{
	int other;

	needs_cap(PCI_CAP_MSI, "MSI");
	needs_cap(PCI_CAP_MSIX, "MSI-X");
	other = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, vt_set_irqs(self->h.device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, self->efd));
	ASSERT_EQ(-EINVAL, vt_set_irqs(self->h.device, VFIO_PCI_MSIX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, other));
	close(other);
}

TEST_HARNESS_MAIN
