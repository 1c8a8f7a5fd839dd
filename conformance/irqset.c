// SPDX-License-Identifier: GPL-2.0
/*
 * Every combination of VFIO_DEVICE_SET_IRQS (spec: Device file, Every
 * combination of VFIO_DEVICE_SET_IRQS): data type x action x index, with
 * the index on and off. Loopback (DATA_NONE or DATA_BOOL with
 * ACTION_TRIGGER) needs no interrupt from the device; INTx masking by
 * DATA_BOOL does, so the fixture runs on an engine's device (engine.h).
 * Each test walks the indexes the device offers (GET_IRQ_INFO count 1 or
 * more) and says in its log which it exercised; it skips only when the
 * device offers none of the indexes it is about.
 */
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "kselftest_harness.h"
#include "engine.h"

#define FIRES_MS	2000	/* a signal that must come */
#define QUIET_MS	300	/* how long silence must hold */
#define NFD		2	/* eventfds: vectors 0 and 1 */

static const char *const index_name[VFIO_PCI_NUM_IRQS] = {
	"INTx", "MSI", "MSI-X", "ERR", "REQ",
};

FIXTURE(irqset) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	struct vt_engine eng;
	__u32 count[VFIO_PCI_NUM_IRQS];	/* 0: the device has no such index */
	int efd[NFD];
};

FIXTURE_VARIANT(irqset) {
	const char *engine;
};

FIXTURE_VARIANT_ADD(irqset, edu) {
	.engine = "edu",
};

FIXTURE_VARIANT_ADD(irqset, igb) {
	.engine = "igb",
};

FIXTURE_VARIANT_ADD(irqset, nvme) {
	.engine = "nvme",
};

FIXTURE_SETUP(irqset)
{
	const struct vt_engine_ops *ops = vt_engine_by_name(variant->engine);
	struct vfio_irq_info info;
	unsigned int i;
	int ret;

	self->h.container = self->h.group = self->h.device = -1;
	self->efd[0] = self->efd[1] = -1;
	ASSERT_NE(NULL, ops);
	if (vt_engine_select(ops, VT_DEV_ALONE, 0, &self->dev))
		vt_skip_setup("no %s device alone in its group", ops->name);
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
	ret = vt_engine_open(&self->eng, ops, self->h.device, self->h.container,
			     VT_ENGINE_IOVA);
	ASSERT_EQ(0, ret) TH_LOG("%s engine on %s: %s", ops->name,
				 self->dev.bdf, strerror(-ret));
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		memset(&info, 0, sizeof(info));
		info.argsz = sizeof(info);
		info.index = i;
		/* ERR may be absent (IRQ-11): no such index then. */
		if (!ioctl(self->h.device, VFIO_DEVICE_GET_IRQ_INFO, &info))
			self->count[i] = info.count;
	}
	for (i = 0; i < NFD; i++) {
		self->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_LE(0, self->efd[i]);
	}
}

FIXTURE_TEARDOWN(irqset)
{
	unsigned int i;

	vt_engine_close(&self->eng);
	vt_close_device(&self->h);
	for (i = 0; i < NFD; i++)
		if (self->efd[i] >= 0)
			close(self->efd[i]);
}

/*
 * VFIO_DEVICE_SET_IRQS with any flags; @data holds @len bytes (count
 * bytes for DATA_BOOL, count __s32 for DATA_EVENTFD). 0 or -errno.
 */
static int irqset(int device, __u32 flags, __u32 index, __u32 start,
		  __u32 count, const void *data, size_t len)
{
	char buf[sizeof(struct vfio_irq_set) + 16 * sizeof(__s32)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(*set) + len;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (len)
		memcpy(set->data, data, len);
	return ioctl(device, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

static int bool_set(int device, __u32 action, __u32 index, __u32 start,
		    __u32 count, const __u8 *bools)
{
	return irqset(device, VFIO_IRQ_SET_DATA_BOOL | action, index, start,
		      count, bools, count);
}

static int none_set(int device, __u32 action, __u32 index, __u32 start,
		    __u32 count)
{
	return irqset(device, VFIO_IRQ_SET_DATA_NONE | action, index, start,
		      count, NULL, 0);
}

/* Vectors 0 .. n-1 of @index on, each signalling efd[i]. */
static int index_on(FIXTURE_DATA(irqset) *self, unsigned int index,
		    unsigned int n)
{
	return irqset(self->h.device, VFIO_IRQ_SET_DATA_EVENTFD |
		      VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, n, self->efd,
		      n * sizeof(__s32));
}

/* Off, the way that works everywhere (spec: the note for VMMs). */
static int index_off(FIXTURE_DATA(irqset) *self, unsigned int index)
{
	__s32 none = -1;

	if (index == VFIO_PCI_ERR_IRQ_INDEX || index == VFIO_PCI_REQ_IRQ_INDEX)
		return irqset(self->h.device, VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, 1, &none,
			      sizeof(none));
	return none_set(self->h.device, VFIO_IRQ_SET_ACTION_TRIGGER, index, 0,
			0);
}

/* Vectors index_on() sets: two where the index has them, else one. */
static unsigned int vectors(FIXTURE_DATA(irqset) *self, unsigned int index)
{
	return self->count[index] >= NFD ? NFD : 1;
}

static void drain(FIXTURE_DATA(irqset) *self)
{
	unsigned int i;

	for (i = 0; i < NFD; i++)
		vt_eventfd_fired(self->efd[i], 0);
}

/* Whether @err is 0 or one of the errnos of a set (negative, 0-ended). */
static bool err_in(int err, const int *set)
{
	for (; *set; set++)
		if (err == -*set)
			return true;
	return false;
}

static const int einval_enotty[] = { EINVAL, ENOTTY, 0 };

#define for_each_index(i, self, mask) \
	for ((i) = 0; (i) < VFIO_PCI_NUM_IRQS; (i)++) \
		if (((mask) & VT_IRQ_BIT(i)) && (self)->count[i])

#define ALL_INDEXES	0x1fu
#define LEVEL_AND_EDGE	(VT_IRQ_BIT(VFIO_PCI_INTX_IRQ_INDEX) | \
			 VT_IRQ_BIT(VFIO_PCI_MSI_IRQ_INDEX) | \
			 VT_IRQ_BIT(VFIO_PCI_MSIX_IRQ_INDEX))
#define NOT_MASKABLE	(VT_IRQ_BIT(VFIO_PCI_MSI_IRQ_INDEX) | \
			 VT_IRQ_BIT(VFIO_PCI_MSIX_IRQ_INDEX) | \
			 VT_IRQ_BIT(VFIO_PCI_ERR_IRQ_INDEX) | \
			 VT_IRQ_BIT(VFIO_PCI_REQ_IRQ_INDEX))
#define SLOTS		(VT_IRQ_BIT(VFIO_PCI_ERR_IRQ_INDEX) | \
			 VT_IRQ_BIT(VFIO_PCI_REQ_IRQ_INDEX))

/* Skip unless the device offers one of the indexes in @mask. */
#define needs_index(mask) do { \
	unsigned int __i, __n = 0; \
	for_each_index(__i, self, (mask)) \
		__n++; \
	if (!__n) \
		SKIP(return, "%s offers none of the indexes", self->dev.bdf); \
} while (0)

/* SPEC: IRQ-15 */
TEST_F(irqset, no_data_type_is_refused)
{
	unsigned int i;
	int ret;

	for_each_index(i, self, ALL_INDEXES) {
		ret = irqset(self->h.device, VFIO_IRQ_SET_ACTION_TRIGGER, i, 0,
			     1, NULL, 0);
		ASSERT_EQ(-EINVAL, ret) TH_LOG("%s: %s", index_name[i],
					       strerror(-ret));
	}
}

/* SPEC: IRQ-16 */
TEST_F(irqset, no_or_several_actions_are_refused)
{
	static const __u32 actions[] = {
		0,
		VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_TRIGGER,
		VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER,
		VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK,
		VFIO_IRQ_SET_ACTION_TYPE_MASK,
	};
	unsigned int i, j;
	int ret;

	for_each_index(i, self, ALL_INDEXES) {
		for (j = 0; j < ARRAY_SIZE(actions); j++) {
			ret = none_set(self->h.device, actions[j], i, 0, 1);
			ASSERT_TRUE(ret && err_in(ret, einval_enotty))
				TH_LOG("%s, actions %#x: %s", index_name[i],
				       actions[j], strerror(-ret));
		}
	}
}

/*
 * Loopback with the index on: every vector in the range with a trigger is
 * signalled, none outside it. Two vectors where the index has them, the
 * range then only the second.
 */
/* SPEC: IRQ-19 */
TEST_F(irqset, loopback_none_signals_the_range)
{
	unsigned int i, n;

	for_each_index(i, self, ALL_INDEXES) {
		n = vectors(self, i);
		ASSERT_EQ(0, index_on(self, i, n)) TH_LOG("%s on", index_name[i]);
		drain(self);
		ASSERT_EQ(0, none_set(self->h.device,
				      VFIO_IRQ_SET_ACTION_TRIGGER, i, n - 1, 1))
			TH_LOG("%s: loopback", index_name[i]);
		ASSERT_TRUE(vt_eventfd_fired(self->efd[n - 1], FIRES_MS))
			TH_LOG("%s: vector %u not signalled", index_name[i],
			       n - 1);
		if (n > 1)
			ASSERT_FALSE(vt_eventfd_fired(self->efd[0], QUIET_MS))
				TH_LOG("%s: vector 0 outside the range",
				       index_name[i]);
		ASSERT_EQ(0, index_off(self, i));
		TH_LOG("%s: %u vector(s)", index_name[i], n);
	}
}

/* SPEC: IRQ-20 */
TEST_F(irqset, loopback_bool_signals_exactly_the_selected)
{
	static const __u8 zero[NFD], first[NFD] = { 1 };
	unsigned int i, n;

	for_each_index(i, self, ALL_INDEXES) {
		n = vectors(self, i);
		ASSERT_EQ(0, index_on(self, i, n)) TH_LOG("%s on", index_name[i]);
		drain(self);
		ASSERT_EQ(0, bool_set(self->h.device,
				      VFIO_IRQ_SET_ACTION_TRIGGER, i, 0, n, zero));
		ASSERT_FALSE(vt_eventfd_fired(self->efd[0], QUIET_MS))
			TH_LOG("%s: signalled for a 0 byte", index_name[i]);
		ASSERT_EQ(0, bool_set(self->h.device,
				      VFIO_IRQ_SET_ACTION_TRIGGER, i, 0, n, first));
		ASSERT_TRUE(vt_eventfd_fired(self->efd[0], FIRES_MS))
			TH_LOG("%s: not signalled for a 1 byte", index_name[i]);
		if (n > 1)
			ASSERT_FALSE(vt_eventfd_fired(self->efd[1], QUIET_MS))
				TH_LOG("%s: vector 1 signalled for a 0 byte",
				       index_name[i]);
		ASSERT_EQ(0, index_off(self, i));
	}
}

/* SPEC: IRQ-21 */
TEST_F(irqset, loopback_while_off_is_refused)
{
	static const __u8 one = 1;
	unsigned int i;

	needs_index(LEVEL_AND_EDGE);
	for_each_index(i, self, LEVEL_AND_EDGE) {
		ASSERT_EQ(-EINVAL, none_set(self->h.device,
					    VFIO_IRQ_SET_ACTION_TRIGGER, i, 0, 1))
			TH_LOG("%s: DATA_NONE", index_name[i]);
		ASSERT_EQ(-EINVAL, bool_set(self->h.device,
					    VFIO_IRQ_SET_ACTION_TRIGGER, i, 0, 1,
					    &one))
			TH_LOG("%s: DATA_BOOL", index_name[i]);
	}
}

/*
 * DATA_BOOL masking of INTx, seen through the device's interrupt: a 0 byte
 * changes nothing, a 1 byte masks or unmasks as DATA_NONE does.
 */
/* SPEC: IRQ-22 IRQ-3 IRQ-9 */
TEST_F(irqset, intx_bool_mask_and_unmask)
{
	const unsigned int intx = VFIO_PCI_INTX_IRQ_INDEX;
	static const __u8 no, yes = 1;
	int dev = self->h.device, efd = self->efd[0];

	if (!self->count[intx] || !vt_engine_has_irq(self->eng.ops, intx))
		SKIP(return, "the %s engine cannot raise INTx",
		     self->eng.ops->name);
	ASSERT_EQ(0, index_on(self, intx, 1));
	/* MASK with 0: the interrupt still comes (and automasks). */
	ASSERT_EQ(0, bool_set(dev, VFIO_IRQ_SET_ACTION_MASK, intx, 0, 1, &no));
	ASSERT_EQ(0, vt_engine_irq_raise(&self->eng, intx, 0));
	ASSERT_TRUE(vt_eventfd_fired(efd, FIRES_MS));
	/* Line still asserted, masked: UNMASK with 0 lets nothing through. */
	ASSERT_EQ(0, bool_set(dev, VFIO_IRQ_SET_ACTION_UNMASK, intx, 0, 1, &no));
	ASSERT_FALSE(vt_eventfd_fired(efd, QUIET_MS));
	ASSERT_EQ(0, bool_set(dev, VFIO_IRQ_SET_ACTION_UNMASK, intx, 0, 1,
			      &yes));
	ASSERT_TRUE(vt_eventfd_fired(efd, FIRES_MS));
	/* Quiet line, unmasked; MASK with 1 holds the next one back. */
	vt_engine_irq_ack(&self->eng, intx);
	ASSERT_EQ(0, none_set(dev, VFIO_IRQ_SET_ACTION_UNMASK, intx, 0, 1));
	vt_eventfd_fired(efd, QUIET_MS);
	ASSERT_EQ(0, bool_set(dev, VFIO_IRQ_SET_ACTION_MASK, intx, 0, 1, &yes));
	ASSERT_EQ(0, vt_engine_irq_raise(&self->eng, intx, 0));
	ASSERT_FALSE(vt_eventfd_fired(efd, QUIET_MS));
	ASSERT_EQ(0, none_set(dev, VFIO_IRQ_SET_ACTION_UNMASK, intx, 0, 1));
	ASSERT_TRUE(vt_eventfd_fired(efd, FIRES_MS));
	vt_engine_irq_ack(&self->eng, intx);
}

/* SPEC: IRQ-23 */
TEST_F(irqset, intx_mask_and_unmask_while_off_are_refused)
{
	const unsigned int intx = VFIO_PCI_INTX_IRQ_INDEX;
	static const __u32 actions[] = {
		VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK,
	};
	static const __u8 one = 1;
	unsigned int j;
	int dev = self->h.device;

	needs_index(VT_IRQ_BIT(intx));
	for (j = 0; j < ARRAY_SIZE(actions); j++) {
		ASSERT_EQ(-EINVAL, none_set(dev, actions[j], intx, 0, 1));
		ASSERT_EQ(-EINVAL, bool_set(dev, actions[j], intx, 0, 1, &one));
		ASSERT_EQ(-EINVAL, irqset(dev, VFIO_IRQ_SET_DATA_EVENTFD |
					  actions[j], intx, 0, 1, self->efd,
					  sizeof(__s32)))
			TH_LOG("DATA_EVENTFD, action %#x", actions[j]);
	}
}

/* Every data type of MASK and UNMASK on @index: each refused. */
static void mask_refused(struct __test_metadata *_metadata,
			 FIXTURE_DATA(irqset) *self, unsigned int index,
			 const char *state)
{
	static const __u32 actions[] = {
		VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK,
	};
	static const __u8 one = 1;
	unsigned int j;
	int ret[3];

	for (j = 0; j < ARRAY_SIZE(actions); j++) {
		ret[0] = none_set(self->h.device, actions[j], index, 0, 1);
		ret[1] = bool_set(self->h.device, actions[j], index, 0, 1, &one);
		ret[2] = irqset(self->h.device, VFIO_IRQ_SET_DATA_EVENTFD |
				actions[j], index, 0, 1, &self->efd[1],
				sizeof(__s32));
		ASSERT_TRUE(ret[0] && err_in(ret[0], einval_enotty) &&
			    ret[1] && err_in(ret[1], einval_enotty) &&
			    ret[2] && err_in(ret[2], einval_enotty))
			TH_LOG("%s %s, action %#x: %d %d %d", index_name[index],
			       state, actions[j], ret[0], ret[1], ret[2]);
	}
}

/* SPEC: IRQ-24 */
TEST_F(irqset, mask_and_unmask_of_other_indexes_are_refused)
{
	unsigned int i;

	needs_index(NOT_MASKABLE);
	for_each_index(i, self, NOT_MASKABLE) {
		mask_refused(_metadata, self, i, "off");
		ASSERT_EQ(0, index_on(self, i, 1)) TH_LOG("%s on", index_name[i]);
		mask_refused(_metadata, self, i, "on");
		/* The refused calls left the trigger as it was. */
		drain(self);
		ASSERT_EQ(0, none_set(self->h.device,
				      VFIO_IRQ_SET_ACTION_TRIGGER, i, 0, 1));
		ASSERT_TRUE(vt_eventfd_fired(self->efd[0], FIRES_MS))
			TH_LOG("%s: trigger lost", index_name[i]);
		ASSERT_EQ(0, index_off(self, i));
	}
}

/* SPEC: IRQ-25 */
TEST_F(irqset, intx_mask_eventfd_is_refused)
{
	const unsigned int intx = VFIO_PCI_INTX_IRQ_INDEX;
	int ret;

	needs_index(VT_IRQ_BIT(intx));
	ASSERT_EQ(0, index_on(self, intx, 1));
	ret = irqset(self->h.device, VFIO_IRQ_SET_DATA_EVENTFD |
		     VFIO_IRQ_SET_ACTION_MASK, intx, 0, 1, &self->efd[1],
		     sizeof(__s32));
	ASSERT_TRUE(ret && err_in(ret, einval_enotty)) TH_LOG("%d", ret);
}

/* SPEC: IRQ-26 IRQ-7 */
TEST_F(irqset, err_and_req_eventfd_is_replaced)
{
	unsigned int i;

	needs_index(SLOTS);
	for_each_index(i, self, SLOTS) {
		ASSERT_EQ(0, index_on(self, i, 1));
		ASSERT_EQ(0, irqset(self->h.device, VFIO_IRQ_SET_DATA_EVENTFD |
				    VFIO_IRQ_SET_ACTION_TRIGGER, i, 0, 1,
				    &self->efd[1], sizeof(__s32)));
		drain(self);
		ASSERT_EQ(0, none_set(self->h.device,
				      VFIO_IRQ_SET_ACTION_TRIGGER, i, 0, 1));
		ASSERT_TRUE(vt_eventfd_fired(self->efd[1], FIRES_MS))
			TH_LOG("%s: the new eventfd not signalled",
			       index_name[i]);
		ASSERT_FALSE(vt_eventfd_fired(self->efd[0], QUIET_MS))
			TH_LOG("%s: the old eventfd signalled", index_name[i]);
		ASSERT_EQ(0, index_off(self, i));
	}
}

/* SPEC: IRQ-27 IRQ-28 */
TEST_F(irqset, err_and_req_minus_one_releases)
{
	static const __u8 one = 1;
	unsigned int i;
	int ret;

	needs_index(SLOTS);
	for_each_index(i, self, SLOTS) {
		ASSERT_EQ(0, index_on(self, i, 1));
		ASSERT_EQ(0, index_off(self, i));
		drain(self);
		ret = none_set(self->h.device, VFIO_IRQ_SET_ACTION_TRIGGER, i,
			       0, 1);
		ASSERT_TRUE(!ret || ret == -EINVAL)
			TH_LOG("%s: DATA_NONE: %s", index_name[i],
			       strerror(-ret));
		ret = bool_set(self->h.device, VFIO_IRQ_SET_ACTION_TRIGGER, i,
			       0, 1, &one);
		ASSERT_TRUE(!ret || ret == -EINVAL)
			TH_LOG("%s: DATA_BOOL: %s", index_name[i],
			       strerror(-ret));
		ASSERT_FALSE(vt_eventfd_fired(self->efd[0], QUIET_MS))
			TH_LOG("%s: released eventfd signalled", index_name[i]);
	}
}

/*
 * count 0 with DATA_NONE | ACTION_TRIGGER on an index that is off: no
 * change, so the index (and, for the modes, any other) still turns on.
 */
/* SPEC: IRQ-29 */
TEST_F(irqset, count_zero_of_an_index_that_is_off_changes_nothing)
{
	unsigned int i;
	int ret;

	for_each_index(i, self, ALL_INDEXES) {
		ret = none_set(self->h.device, VFIO_IRQ_SET_ACTION_TRIGGER, i,
			       0, 0);
		ASSERT_TRUE(!ret || ret == -EINVAL)
			TH_LOG("%s: %s", index_name[i], strerror(-ret));
		ASSERT_EQ(0, index_on(self, i, 1)) TH_LOG("%s on", index_name[i]);
		ASSERT_EQ(0, index_off(self, i));
	}
}

/*
 * count 0 with anything but DATA_NONE | ACTION_TRIGGER: no vector
 * selected, nothing changes, whether the index is on or off.
 */
/* SPEC: IRQ-30 */
TEST_F(irqset, count_zero_selects_nothing)
{
	static const int allowed[] = { EINVAL, ENOTTY, ERANGE, 0 };
	static const __u32 calls[] = {
		VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
		VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
		VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK,
		VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK,
		VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
	};
	unsigned int i, j, on;
	int ret;

	for_each_index(i, self, ALL_INDEXES) {
		for (on = 0; on < 2; on++) {
			if (on)
				ASSERT_EQ(0, index_on(self, i, 1));
			for (j = 0; j < ARRAY_SIZE(calls); j++) {
				ret = irqset(self->h.device, calls[j], i, 0, 0,
					     NULL, 0);
				ASSERT_TRUE(!ret || err_in(ret, allowed))
					TH_LOG("%s %s, flags %#x: %s",
					       index_name[i], on ? "on" : "off",
					       calls[j], strerror(-ret));
			}
			if (!on) {
				/* Nothing turned on: another mode can. */
				ASSERT_EQ(0, index_on(self, i, 1))
					TH_LOG("%s: no longer turns on",
					       index_name[i]);
				ASSERT_EQ(0, index_off(self, i));
				continue;
			}
			drain(self);
			ASSERT_EQ(0, none_set(self->h.device,
					      VFIO_IRQ_SET_ACTION_TRIGGER, i, 0,
					      1));
			ASSERT_TRUE(vt_eventfd_fired(self->efd[0], FIRES_MS))
				TH_LOG("%s: trigger lost", index_name[i]);
			ASSERT_EQ(0, index_off(self, i));
		}
	}
}

TEST_HARNESS_MAIN
