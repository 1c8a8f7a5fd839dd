// SPDX-License-Identifier: GPL-2.0
/*
 * Region capability chains (spec: Device file, Region capabilities): the
 * argsz protocol and the chain of every region of any selected device,
 * and the BAR that holds a device's MSI-X table, mapped exactly as its
 * chain allows.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define PCI_CAP_MSIX		0x11
#define PCI_MSIX_TABLE_OFF	4	/* BIR in bits 0-2, offset above */
#define MAX_CAPS		16	/* a longer chain is a loop */
#define CHAIN_SIZE		4096

static bool has_msix(const struct vt_pci_dev *dev)
{
	return vt_real_cap(dev->bdf, PCI_CAP_MSIX) != 0;
}

FIXTURE(region) {
	struct vt_pci_dev dev;
	struct vt_handles h;
	union {
		struct vfio_region_info info;
		char bytes[CHAIN_SIZE];
	} *buf;
};

FIXTURE_VARIANT(region) {
	bool (*match)(const struct vt_pci_dev *dev);
	const char *what;
};

FIXTURE_VARIANT_ADD(region, any) {
	.match = NULL,
	.what = "",
};

FIXTURE_VARIANT_ADD(region, msix) {
	.match = has_msix,
	.what = " with an MSI-X capability",
};

FIXTURE_SETUP(region)
{
	int ret;

	self->h.container = self->h.group = self->h.device = -1;
	if (vt_select(VT_DEV_ANY, 0, variant->match, &self->dev))
		vt_skip_setup("no selected device%s", variant->what);
	self->buf = calloc(1, sizeof(*self->buf));
	ASSERT_NE(NULL, self->buf);
	ret = vt_open_device(&self->dev, &self->h);
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", self->dev.bdf, strerror(-ret));
}

FIXTURE_TEARDOWN(region)
{
	vt_close_device(&self->h);
	free(self->buf);
}

/* GET_REGION_INFO of @index with @argsz into self->buf; 0 or -errno. */
static int region_info(FIXTURE_DATA(region) *self, unsigned int index,
		       __u32 argsz)
{
	memset(self->buf, 0, sizeof(*self->buf));
	self->buf->info.argsz = argsz;
	self->buf->info.index = index;
	return ioctl(self->h.device, VFIO_DEVICE_GET_REGION_INFO,
		     &self->buf->info) ? -errno : 0;
}

/*
 * Walk the chain in self->buf (argsz bytes written at most): every header
 * inside argsz, offsets past the structure and increasing. Returns the
 * header of capability @want (or NULL) and counts the capabilities.
 */
static const struct vfio_info_cap_header *
walk_chain(struct __test_metadata *_metadata, FIXTURE_DATA(region) *self,
	   __u32 argsz, __u16 want, unsigned int *ncaps)
{
	const struct vfio_info_cap_header *hdr, *found = NULL;
	__u32 off = self->buf->info.cap_offset, prev = 0;

	*ncaps = 0;
	while (off) {
		ASSERT_TRUE(off >= sizeof(struct vfio_region_info) &&
			    off > prev && off % 4 == 0 &&
			    off + sizeof(*hdr) <= argsz)
			TH_LOG("region %u: capability at %u (previous %u, argsz %u)",
			       self->buf->info.index, off, prev, argsz);
		ASSERT_GT((unsigned int)MAX_CAPS, ++*ncaps);
		hdr = (const void *)(self->buf->bytes + off);
		if (hdr->id == want)
			found = hdr;
		prev = off;
		off = hdr->next;
	}
	return found;
}

/*
 * Every region: argsz 32 says whether there is a chain (CAPS) and how
 * large (argsz raised, cap_offset 0); at that size the chain is there.
 */
/* SPEC: DEV-15 DEV-16 COMPAT-11 */
TEST_F(region, capability_chains_are_well_formed)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	const __u32 small = sizeof(struct vfio_region_info);
	unsigned int i, ncaps, chains = 0;
	__u32 need, flags;

	vt_ioctl_ok(self->h.device, VFIO_DEVICE_GET_INFO, &dinfo);
	for (i = 0; i < dinfo.num_regions; i++) {
		if (region_info(self, i, small))
			continue;	/* no such region (DEV-4) */
		flags = self->buf->info.flags;
		need = self->buf->info.argsz;
		if (!(flags & VFIO_REGION_INFO_FLAG_CAPS)) {
			ASSERT_EQ(small, need) TH_LOG("region %u", i);
			/* No chain at any size either. */
			ASSERT_EQ(0, region_info(self, i, CHAIN_SIZE));
			ASSERT_FALSE(!!(self->buf->info.flags &
					VFIO_REGION_INFO_FLAG_CAPS))
				TH_LOG("region %u: CAPS only with a large argsz", i);
			continue;
		}
		ASSERT_LT(small, need) TH_LOG("region %u: CAPS, argsz not raised", i);
		ASSERT_GE((__u32)CHAIN_SIZE, need);
		ASSERT_EQ(0u, self->buf->info.cap_offset)
			TH_LOG("region %u: cap_offset with no room for the chain", i);
		ASSERT_EQ(0, region_info(self, i, need));
		ASSERT_TRUE(!!(self->buf->info.flags & VFIO_REGION_INFO_FLAG_CAPS));
		ASSERT_NE(0u, self->buf->info.cap_offset) TH_LOG("region %u", i);
		walk_chain(_metadata, self, need, 0, &ncaps);
		ASSERT_LT(0u, ncaps);
		TH_LOG("region %u: %u capabilities in %u bytes", i, ncaps, need);
		chains++;
	}
	TH_LOG("%u regions with a chain", chains);
}

/*
 * The BAR of the MSI-X table says how it maps: MSIX_MAPPABLE, and then
 * the whole BAR maps and nothing past it; or sparse areas, and then each
 * area maps and the table's page does not.
 */
/* SPEC: DEV-17 DEV-7 DEV-8 */
TEST_F(region, msix_table_bar_maps_as_its_chain_says)
{
	const struct vfio_region_sparse_mmap_area *area;
	const struct vfio_region_info_cap_sparse_mmap *sparse;
	long page = sysconf(_SC_PAGESIZE);
	unsigned int cap, bir, ncaps, k;
	struct vfio_region_info info;
	uint32_t table;
	void *p;

	if (!has_msix(&self->dev))
		SKIP(return, "%s has no MSI-X capability", self->dev.bdf);
	cap = vt_real_cap(self->dev.bdf, PCI_CAP_MSIX);
	ASSERT_EQ(0, vt_real_config(self->dev.bdf, cap + PCI_MSIX_TABLE_OFF,
				    &table, sizeof(table)));
	bir = table & 7;
	ASSERT_EQ(0, region_info(self, bir, CHAIN_SIZE));
	info = self->buf->info;
	if (!(info.flags & VFIO_REGION_INFO_FLAG_MMAP))
		SKIP(return, "BAR %u of %s is smaller than a page", bir,
		     self->dev.bdf);
	ASSERT_TRUE(!!(info.flags & VFIO_REGION_INFO_FLAG_CAPS))
		TH_LOG("BAR %u holds the MSI-X table and has no chain", bir);
	if (walk_chain(_metadata, self, CHAIN_SIZE,
		       VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, &ncaps)) {
		p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->h.device, info.offset);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap of BAR %u: %s", bir,
						strerror(errno));
		munmap(p, info.size);
		p = mmap(NULL, info.size + page, PROT_READ, MAP_SHARED,
			 self->h.device, info.offset);
		ASSERT_EQ(MAP_FAILED, p) TH_LOG("a page past BAR %u mapped", bir);
		ASSERT_EQ(EINVAL, errno);
		TH_LOG("BAR %u: MSIX_MAPPABLE, %llu bytes mapped", bir,
		       (unsigned long long)info.size);
		return;
	}
	sparse = (const void *)walk_chain(_metadata, self, CHAIN_SIZE,
					  VFIO_REGION_INFO_CAP_SPARSE_MMAP,
					  &ncaps);
	ASSERT_NE(NULL, sparse) TH_LOG("BAR %u: neither MSIX_MAPPABLE nor SPARSE_MMAP",
				       bir);
	for (k = 0; k < sparse->nr_areas; k++) {
		area = &sparse->areas[k];
		if (!area->size)
			continue;
		p = mmap(NULL, area->size, PROT_READ, MAP_SHARED,
			 self->h.device, info.offset + area->offset);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("area %u: %s", k,
						strerror(errno));
		munmap(p, area->size);
	}
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, self->h.device,
		 info.offset + ((table & ~7u) & ~(page - 1)));
	ASSERT_EQ(MAP_FAILED, p) TH_LOG("BAR %u: the MSI-X table page mapped", bir);
	TH_LOG("BAR %u: %u sparse areas", bir, sparse->nr_areas);
}

TEST_HARNESS_MAIN
