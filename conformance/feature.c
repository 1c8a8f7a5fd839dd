// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO_DEVICE_FEATURE: how a feature is discovered and how a call is
 * refused (spec: Device file, Device features), on any selected PCI
 * function. Nothing here sets a feature: PROBE asks, GET and SET are sent
 * only where they must be refused.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

/* The features of the spec's table and the operations each one takes. */
static const struct {
	const char *name;
	__u32 index;
	__u32 ops;		/* GET and SET bits */
} known[] = {
	{ "PCI_VF_TOKEN", VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
	  VFIO_DEVICE_FEATURE_SET },
	{ "MIGRATION", VFIO_DEVICE_FEATURE_MIGRATION,
	  VFIO_DEVICE_FEATURE_GET },
	{ "MIG_DEVICE_STATE", VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
	  VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET },
	{ "LOW_POWER_ENTRY", VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
	  VFIO_DEVICE_FEATURE_SET },
	{ "LOW_POWER_ENTRY_WITH_WAKEUP",
	  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
	  VFIO_DEVICE_FEATURE_SET },
	{ "LOW_POWER_EXIT", VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
	  VFIO_DEVICE_FEATURE_SET },
	{ "DMA_LOGGING_START", VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
	  VFIO_DEVICE_FEATURE_SET },
	{ "DMA_LOGGING_STOP", VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
	  VFIO_DEVICE_FEATURE_SET },
	{ "DMA_LOGGING_REPORT", VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
	  VFIO_DEVICE_FEATURE_GET },
};

/* No feature of any kernel's table: offered by nobody. */
#define NO_SUCH_FEATURE	0xfffe

FIXTURE(feat) {
	struct vt_pci_dev dev;
	struct vt_handles h;
};

FIXTURE_SETUP(feat)
{
	int ret;

	self->h.container = self->h.group = self->h.device = -1;
	if (vt_select(VT_DEV_ANY, 0, NULL, &self->dev))
		vt_skip_setup("no selected device");
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
}

FIXTURE_TEARDOWN(feat)
{
	vt_close_device(&self->h);
}

/*
 * VFIO_DEVICE_FEATURE with @flags and @len bytes of zeroed data (argsz
 * covers them); -errno or 0. The data is large enough for every feature's
 * structure, so that no answer depends on its size.
 */
static int feature(int device, __u32 flags, __u32 argsz)
{
	struct {
		struct vfio_device_feature hdr;
		__u8 data[64];
	} f;

	memset(&f, 0, sizeof(f));
	f.hdr.argsz = argsz ? argsz : sizeof(f);
	f.hdr.flags = flags;
	return ioctl(device, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
}

/* The errno, or 0, as a name for the log. */
static const char *err_name(int ret)
{
	return ret ? strerror(-ret) : "success";
}

/* SPEC: DEV-3 */
TEST_F(feat, short_argsz_is_refused)
{
	int ret = feature(self->h.device, VFIO_DEVICE_FEATURE_PROBE |
			  VFIO_DEVICE_FEATURE_MIGRATION, 4);

	ASSERT_EQ(-EINVAL, ret) TH_LOG("argsz 4: %s", err_name(ret));
}

/* SPEC: FEAT-1 */
TEST_F(feat, unknown_flag_is_refused)
{
	__u32 bit;
	int ret;

	for (bit = 19; bit < 32; bit++) {
		ret = feature(self->h.device, VFIO_DEVICE_FEATURE_PROBE |
			      (1u << bit) | VFIO_DEVICE_FEATURE_MIGRATION, 0);
		ASSERT_EQ(-EINVAL, ret) TH_LOG("flag bit %u: %s", bit,
					       err_name(ret));
		ret = feature(self->h.device, VFIO_DEVICE_FEATURE_GET |
			      (1u << bit) | NO_SUCH_FEATURE, 0);
		ASSERT_EQ(-EINVAL, ret) TH_LOG("flag bit %u, no such feature: %s",
					       bit, err_name(ret));
	}
}

/* SPEC: FEAT-2 */
TEST_F(feat, get_with_set_is_refused)
{
	__u32 both = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET;
	unsigned int i;
	int ret;

	ret = feature(self->h.device, both | NO_SUCH_FEATURE, 0);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("no such feature: %s", err_name(ret));
	for (i = 0; i < ARRAY_SIZE(known); i++) {
		ret = feature(self->h.device, both | known[i].index, 0);
		ASSERT_EQ(-EINVAL, ret) TH_LOG("%s: %s", known[i].name,
					       err_name(ret));
	}
}

/* SPEC: FEAT-3 */
TEST_F(feat, feature_offered_by_nobody_is_enotty)
{
	static const __u32 ops[] = {
		VFIO_DEVICE_FEATURE_PROBE,
		VFIO_DEVICE_FEATURE_GET,
		VFIO_DEVICE_FEATURE_SET,
		VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET,
		VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET,
		VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			VFIO_DEVICE_FEATURE_SET,
	};
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		ret = feature(self->h.device, ops[i] | NO_SUCH_FEATURE, 0);
		ASSERT_EQ(-ENOTTY, ret) TH_LOG("flags %#x: %s", ops[i],
					       err_name(ret));
	}
}

/*
 * Every feature of the table is either not offered (ENOTTY for every
 * operation) or offered, when PROBE with its own operations succeeds and
 * PROBE, GET or SET with another fails with EINVAL.
 */
/* SPEC: FEAT-3 FEAT-4 FEAT-5 */
TEST_F(feat, probe_answers_match_the_feature_table)
{
	static const __u32 rw[] = {
		VFIO_DEVICE_FEATURE_GET, VFIO_DEVICE_FEATURE_SET,
	};
	const __u32 probe = VFIO_DEVICE_FEATURE_PROBE;
	unsigned int i, j, offered = 0;
	int ret;

	for (i = 0; i < ARRAY_SIZE(known); i++) {
		__u32 idx = known[i].index;

		ret = feature(self->h.device, probe | idx, 0);
		TH_LOG("%s: PROBE: %s", known[i].name, err_name(ret));
		if (ret == -ENOTTY) {
			for (j = 0; j < ARRAY_SIZE(rw); j++) {
				ret = feature(self->h.device,
					      probe | rw[j] | idx, 0);
				ASSERT_EQ(-ENOTTY, ret)
					TH_LOG("%s not offered, PROBE|%#x: %s",
					       known[i].name, rw[j],
					       err_name(ret));
			}
			continue;
		}
		ASSERT_EQ(0, ret) TH_LOG("%s: PROBE: %s", known[i].name,
					 err_name(ret));
		offered++;
		ret = feature(self->h.device, probe | known[i].ops | idx, 0);
		ASSERT_EQ(0, ret) TH_LOG("%s: PROBE with its operations: %s",
					 known[i].name, err_name(ret));
		for (j = 0; j < ARRAY_SIZE(rw); j++) {
			if (known[i].ops & rw[j])
				continue;
			ret = feature(self->h.device, probe | rw[j] | idx, 0);
			ASSERT_EQ(-EINVAL, ret)
				TH_LOG("%s: PROBE|%#x: %s", known[i].name,
				       rw[j], err_name(ret));
			ret = feature(self->h.device, rw[j] | idx, 0);
			ASSERT_EQ(-EINVAL, ret)
				TH_LOG("%s: %#x: %s", known[i].name, rw[j],
				       err_name(ret));
		}
	}
	TH_LOG("%u of %zu features offered", offered, ARRAY_SIZE(known));
}

/* SPEC: FEAT-3 FEAT-6 */
TEST_F(feat, migration_is_offered_whole_or_not_at_all)
{
	const __u32 probe = VFIO_DEVICE_FEATURE_PROBE;
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_migration mig;
	} f = {
		.hdr.argsz = sizeof(f),
		.hdr.flags = VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_MIGRATION,
	};
	int ret;

	ret = feature(self->h.device, probe | VFIO_DEVICE_FEATURE_GET |
		      VFIO_DEVICE_FEATURE_MIGRATION, 0);
	if (ret == -ENOTTY) {
		/* Not migratable: no state to get or set, GET refused too. */
		ret = feature(self->h.device, probe |
			      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, 0);
		ASSERT_EQ(-ENOTTY, ret) TH_LOG("MIG_DEVICE_STATE: %s",
					       err_name(ret));
		vt_ioctl_err(ENOTTY, self->h.device, VFIO_DEVICE_FEATURE, &f);
		return;
	}
	ASSERT_EQ(0, ret) TH_LOG("MIGRATION: PROBE|GET: %s", err_name(ret));
	vt_ioctl_ok(self->h.device, VFIO_DEVICE_FEATURE, &f);
	ret = feature(self->h.device, probe | VFIO_DEVICE_FEATURE_GET |
		      VFIO_DEVICE_FEATURE_SET |
		      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, 0);
	ASSERT_EQ(0, ret) TH_LOG("MIG_DEVICE_STATE: %s", err_name(ret));
}

TEST_HARNESS_MAIN
