/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfio_groups.h - userspace ABI of VFIO groups and containers
 *
 * This header is the C form of the vfio-groups specification, version 1.1.0.
 * It covers three kinds of file:
 *
 *   the container   /dev/vfio/vfio, one IOMMU address space (type1/type1v2);
 *   the group       /dev/vfio/<N>, the devices an IOMMU cannot isolate from
 *                   one another;
 *   the device      the file a group hands out for one of its devices; only
 *                   PCI devices are described here.
 *
 * Every name, number and structure layout is the one Linux uses in
 * <linux/vfio.h>, so a program written against this header builds against the
 * kernel's as well.  The two headers are alternatives: include one of them in
 * a translation unit, not both.  tools/abi-check proves them equal.
 *
 * Not covered: the vfio device cdev and iommufd, the SPAPR backend, the
 * no-IOMMU mode beyond its extension number, the migration protocol of a
 * device (only its feature numbers are here) and non-PCI buses.
 *
 * Conventions (spec: Compatibility and versioning, Extensible structures).
 * All ioctls return -1 and set errno on failure.  A structure that begins
 * with argsz is extensible: the caller stores the size of the buffer it
 * passes in argsz; the implementation reads and writes no more than that,
 * and where its answer does not fit it says so by raising argsz.  Where a
 * structure carries cap_offset, the buffer continues with a chain of
 * capabilities (struct vfio_info_cap_header), cap_offset being the offset of
 * the first one from the start of the structure and 0 meaning none.
 */
#ifndef _LINUX_VFIO_GROUPS_H
#define _LINUX_VFIO_GROUPS_H

#if defined(VFIO_H) || defined(_UAPI_VFIO_H)
#error "<linux/vfio.h> is already included: it and vfio_groups.h are alternatives"
#endif

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * Version of the specification this header implements: 1.1.0.
 * spec: Compatibility and versioning, Versions of this specification.
 */
#define VFIO_GROUPS_ABI_VERSION_MAJOR	1
#define VFIO_GROUPS_ABI_VERSION_MINOR	1
#define VFIO_GROUPS_ABI_VERSION_PATCH	0
/* The three in one number, ordered like LINUX_VERSION_CODE: 0x010100. */
#define VFIO_GROUPS_ABI_VERSION						\
	((VFIO_GROUPS_ABI_VERSION_MAJOR << 16) |			\
	 (VFIO_GROUPS_ABI_VERSION_MINOR << 8) |				\
	 VFIO_GROUPS_ABI_VERSION_PATCH)

/* What VFIO_GET_API_VERSION returns. */
#define VFIO_API_VERSION	0

/* Every VFIO ioctl is _IO(VFIO_TYPE, VFIO_BASE + n); n is its number. */
#define VFIO_TYPE		(';')
#define VFIO_BASE		100

/*
 * Extensions, the argument of VFIO_CHECK_EXTENSION.  The IOMMU models among
 * them are also the argument of VFIO_SET_IOMMU.
 */
#define VFIO_TYPE1_IOMMU	1	/* type1: the original model */
#define VFIO_TYPE1v2_IOMMU	3	/* type1 with v2 unmap semantics */
#define VFIO_DMA_CC_IOMMU	4	/* DMA is cache coherent */
#define VFIO_NOIOMMU_IOMMU	8	/* no isolation at all (unsafe mode) */
#define VFIO_UNMAP_ALL		9	/* VFIO_DMA_UNMAP_FLAG_ALL is known */
#define VFIO_UPDATE_VADDR	10	/* the VADDR flags of map/unmap are known */

/*
 * Header of each capability in a chain.  next is the offset of the next
 * capability from the start of the enclosing structure (not from this
 * header); 0 ends the chain.  id is looked up in the namespace of the chain
 * (region capabilities, IOMMU info capabilities); version is per id.
 */
struct vfio_info_cap_header {
	__u16	id;
	__u16	version;
	__u32	next;
};

/* ---------------------------------------------------------------- */
/* The container                                                    */
/* ---------------------------------------------------------------- */

/*
 * spec: Container file, GET_API_VERSION.  fd: container.  arg: none.
 * Returns VFIO_API_VERSION.
 */
#define VFIO_GET_API_VERSION		_IO(VFIO_TYPE, VFIO_BASE + 0)

/*
 * spec: Container file, CHECK_EXTENSION.  fd: container.  arg: an extension
 * number, by value.  Returns 0 when unsupported, > 0 when supported.
 */
#define VFIO_CHECK_EXTENSION		_IO(VFIO_TYPE, VFIO_BASE + 1)

/*
 * spec: Container file, SET_IOMMU.  fd: container.  arg: an IOMMU model, by
 * value, e.g. VFIO_TYPE1v2_IOMMU.  Needs a group in the container first.
 */
#define VFIO_SET_IOMMU			_IO(VFIO_TYPE, VFIO_BASE + 2)

/* ---------------------------------------------------------------- */
/* The group                                                        */
/* ---------------------------------------------------------------- */

/* Filled in by VFIO_GROUP_GET_STATUS. */
struct vfio_group_status {
	__u32	argsz;
	__u32	flags;		/* out: VFIO_GROUP_FLAGS_* */
};
/* Every device of the group is bound to a VFIO driver (or to none). */
#define VFIO_GROUP_FLAGS_VIABLE		(1 << 0)
/* The group is in a container. */
#define VFIO_GROUP_FLAGS_CONTAINER_SET	(1 << 1)

/*
 * spec: Group file, GET_STATUS.  fd: group.
 * arg: struct vfio_group_status *.
 */
#define VFIO_GROUP_GET_STATUS		_IO(VFIO_TYPE, VFIO_BASE + 3)

/*
 * spec: Group file, SET_CONTAINER.  fd: group.  arg: int * pointing to a
 * container fd.
 */
#define VFIO_GROUP_SET_CONTAINER	_IO(VFIO_TYPE, VFIO_BASE + 4)

/*
 * spec: Group file, UNSET_CONTAINER.  fd: group.  arg: none.
 */
#define VFIO_GROUP_UNSET_CONTAINER	_IO(VFIO_TYPE, VFIO_BASE + 5)

/*
 * spec: Group file, GET_DEVICE_FD.  fd: group.  arg: char * pointing to the
 * device name (for PCI "dddd:bb:dd.f").  Returns a new device fd.
 */
#define VFIO_GROUP_GET_DEVICE_FD	_IO(VFIO_TYPE, VFIO_BASE + 6)

/* ---------------------------------------------------------------- */
/* The device                                                       */
/* ---------------------------------------------------------------- */

/* Filled in by VFIO_DEVICE_GET_INFO. */
struct vfio_device_info {
	__u32	argsz;
	__u32	flags;		/* out: VFIO_DEVICE_FLAGS_* */
	__u32	num_regions;	/* out: highest region index + 1 */
	__u32	num_irqs;	/* out: highest IRQ index + 1 */
	__u32	cap_offset;	/* out: first device capability, or 0 */
	__u32	pad;		/* reserved */
};
#define VFIO_DEVICE_FLAGS_RESET		(1 << 0)  /* VFIO_DEVICE_RESET works */
#define VFIO_DEVICE_FLAGS_PCI		(1 << 1)  /* a vfio-pci device */
#define VFIO_DEVICE_FLAGS_CAPS		(1 << 7)  /* cap_offset is valid */

/*
 * spec: Device file, Information.  fd: device.
 * arg: struct vfio_device_info *.
 */
#define VFIO_DEVICE_GET_INFO		_IO(VFIO_TYPE, VFIO_BASE + 7)

/*
 * Filled in by VFIO_DEVICE_GET_REGION_INFO for the region the caller names
 * in index.  The region is accessed with pread/pwrite/mmap on the device fd
 * at [offset, offset + size).
 */
struct vfio_region_info {
	__u32	argsz;
	__u32	flags;		/* out: VFIO_REGION_INFO_FLAG_* */
	__u32	index;		/* in: region index */
	__u32	cap_offset;	/* out: first region capability, or 0 */
	__aligned_u64	size;	/* out: bytes */
	__aligned_u64	offset;	/* out: where the region starts in the fd */
};
#define VFIO_REGION_INFO_FLAG_READ	(1 << 0)
#define VFIO_REGION_INFO_FLAG_WRITE	(1 << 1)
#define VFIO_REGION_INFO_FLAG_MMAP	(1 << 2)
#define VFIO_REGION_INFO_FLAG_CAPS	(1 << 3)  /* cap_offset is valid */

/*
 * spec: Device file, Regions.  fd: device.
 * arg: struct vfio_region_info *.
 */
#define VFIO_DEVICE_GET_REGION_INFO	_IO(VFIO_TYPE, VFIO_BASE + 8)

/*
 * Region capabilities (ids of the chain behind struct vfio_region_info).
 * spec: Device file, Regions.
 */

/* Only the listed areas of the region may be mmapped. */
#define VFIO_REGION_INFO_CAP_SPARSE_MMAP	1

struct vfio_region_sparse_mmap_area {
	__aligned_u64	offset;	/* from the start of the region */
	__aligned_u64	size;
};

struct vfio_region_info_cap_sparse_mmap {
	struct vfio_info_cap_header header;
	__u32	nr_areas;
	__u32	reserved;
	struct vfio_region_sparse_mmap_area areas[];	/* nr_areas of them */
};

/* The region has a type beyond its index: (type, subtype). */
#define VFIO_REGION_INFO_CAP_TYPE		2

struct vfio_region_info_cap_type {
	struct vfio_info_cap_header header;
	__u32	type;
	__u32	subtype;
};

/* The MSI-X table of this BAR may be mmapped (no body, header only). */
#define VFIO_REGION_INFO_CAP_MSIX_MAPPABLE	3

/* Filled in by VFIO_DEVICE_GET_IRQ_INFO for the IRQ index in index. */
struct vfio_irq_info {
	__u32	argsz;
	__u32	flags;		/* out: VFIO_IRQ_INFO_* */
	__u32	index;		/* in: IRQ index */
	__u32	count;		/* out: vectors in this index, 0 if none */
};
#define VFIO_IRQ_INFO_EVENTFD		(1 << 0)  /* signals through an eventfd */
#define VFIO_IRQ_INFO_MASKABLE		(1 << 1)  /* ACTION_MASK/UNMASK work */
#define VFIO_IRQ_INFO_AUTOMASKED	(1 << 2)  /* masked when it fires (INTx) */
#define VFIO_IRQ_INFO_NORESIZE		(1 << 3)  /* vectors set all at once */

/*
 * spec: Device file, Interrupts.  fd: device.  arg: struct vfio_irq_info *.
 */
#define VFIO_DEVICE_GET_IRQ_INFO	_IO(VFIO_TYPE, VFIO_BASE + 9)

/*
 * Argument of VFIO_DEVICE_SET_IRQS: apply one action to vectors
 * [start, start + count) of IRQ index.  flags holds exactly one DATA_* and
 * one ACTION_* bit; data holds count elements of the DATA_* type: nothing,
 * __u8 booleans or __s32 eventfds (-1 detaches).
 */
struct vfio_irq_set {
	__u32	argsz;
	__u32	flags;
	__u32	index;
	__u32	start;
	__u32	count;
	__u8	data[];
};
#define VFIO_IRQ_SET_DATA_NONE		(1 << 0)
#define VFIO_IRQ_SET_DATA_BOOL		(1 << 1)
#define VFIO_IRQ_SET_DATA_EVENTFD	(1 << 2)
#define VFIO_IRQ_SET_ACTION_MASK	(1 << 3)
#define VFIO_IRQ_SET_ACTION_UNMASK	(1 << 4)
#define VFIO_IRQ_SET_ACTION_TRIGGER	(1 << 5)
#define VFIO_IRQ_SET_DATA_TYPE_MASK	(VFIO_IRQ_SET_DATA_NONE |	\
					 VFIO_IRQ_SET_DATA_BOOL |	\
					 VFIO_IRQ_SET_DATA_EVENTFD)
#define VFIO_IRQ_SET_ACTION_TYPE_MASK	(VFIO_IRQ_SET_ACTION_MASK |	\
					 VFIO_IRQ_SET_ACTION_UNMASK |	\
					 VFIO_IRQ_SET_ACTION_TRIGGER)

/*
 * spec: Device file, Interrupts.  fd: device.  arg: struct vfio_irq_set *.
 */
#define VFIO_DEVICE_SET_IRQS		_IO(VFIO_TYPE, VFIO_BASE + 10)

/*
 * spec: Device file, Reset.  fd: device.  arg: none.  Only when GET_INFO
 * reported VFIO_DEVICE_FLAGS_RESET.
 */
#define VFIO_DEVICE_RESET		_IO(VFIO_TYPE, VFIO_BASE + 11)

/* One device a PCI hot reset of the caller's device would also reset. */
struct vfio_pci_dependent_device {
	__u32	group_id;	/* its IOMMU group */
	__u16	segment;
	__u8	bus;
	__u8	devfn;
};

/* Filled in by VFIO_DEVICE_GET_PCI_HOT_RESET_INFO. */
struct vfio_pci_hot_reset_info {
	__u32	argsz;
	__u32	flags;
	__u32	count;		/* out: entries in devices (needed or written) */
	struct vfio_pci_dependent_device devices[];
};

/*
 * spec: Device file, Reset (hot reset).  fd: device (PCI).
 * arg: struct vfio_pci_hot_reset_info *.
 */
#define VFIO_DEVICE_GET_PCI_HOT_RESET_INFO	_IO(VFIO_TYPE, VFIO_BASE + 12)

/*
 * Argument of VFIO_DEVICE_PCI_HOT_RESET: the group fds that prove the caller
 * owns every group named by GET_PCI_HOT_RESET_INFO.
 */
struct vfio_pci_hot_reset {
	__u32	argsz;
	__u32	flags;
	__u32	count;		/* in: entries in group_fds */
	__s32	group_fds[];
};

/*
 * spec: Device file, Reset (hot reset).  fd: device (PCI).
 * arg: struct vfio_pci_hot_reset *.
 */
#define VFIO_DEVICE_PCI_HOT_RESET	_IO(VFIO_TYPE, VFIO_BASE + 13)

/*
 * Argument of VFIO_DEVICE_FEATURE: flags holds a feature index (bits 0-15)
 * and GET, SET or PROBE; data holds the feature's own structure.  A feature
 * the implementation does not offer fails with ENOTTY, PROBE included.
 */
struct vfio_device_feature {
	__u32	argsz;
	__u32	flags;
	__u8	data[];
};
#define VFIO_DEVICE_FEATURE_MASK	(0xffff)  /* the feature index */
#define VFIO_DEVICE_FEATURE_GET		(1 << 16) /* read data */
#define VFIO_DEVICE_FEATURE_SET		(1 << 17) /* write data */
#define VFIO_DEVICE_FEATURE_PROBE	(1 << 18) /* is it offered? no effect */

/*
 * spec: Device file, Device features.  fd: device.
 * arg: struct vfio_device_feature *.
 */
#define VFIO_DEVICE_FEATURE		_IO(VFIO_TYPE, VFIO_BASE + 17)

/* Feature indexes (the spec's table names the operations each takes). */
#define VFIO_DEVICE_FEATURE_PCI_VF_TOKEN		(0)
#define VFIO_DEVICE_FEATURE_MIGRATION			1
#define VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE		2
#define VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY		3
#define VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP	4
#define VFIO_DEVICE_FEATURE_LOW_POWER_EXIT		5
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_START		6
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP		7
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT		8

/* data of VFIO_DEVICE_FEATURE_MIGRATION (GET): the states offered. */
struct vfio_device_feature_migration {
	__aligned_u64	flags;
};
#define VFIO_MIGRATION_STOP_COPY	(1 << 0)  /* always, when offered */
#define VFIO_MIGRATION_P2P		(1 << 1)

/* Fixed region indexes of a vfio-pci device; higher ones carry a type cap. */
enum {
	VFIO_PCI_BAR0_REGION_INDEX = 0,
	VFIO_PCI_BAR1_REGION_INDEX = 1,
	VFIO_PCI_BAR2_REGION_INDEX = 2,
	VFIO_PCI_BAR3_REGION_INDEX = 3,
	VFIO_PCI_BAR4_REGION_INDEX = 4,
	VFIO_PCI_BAR5_REGION_INDEX = 5,
	VFIO_PCI_ROM_REGION_INDEX = 6,
	VFIO_PCI_CONFIG_REGION_INDEX = 7,
	VFIO_PCI_VGA_REGION_INDEX = 8,	/* legacy VGA I/O and memory ranges */
	VFIO_PCI_NUM_REGIONS = 9,
};

/* IRQ indexes of a vfio-pci device. */
enum {
	VFIO_PCI_INTX_IRQ_INDEX = 0,
	VFIO_PCI_MSI_IRQ_INDEX = 1,
	VFIO_PCI_MSIX_IRQ_INDEX = 2,
	VFIO_PCI_ERR_IRQ_INDEX = 3,	/* AER error reported to the host */
	VFIO_PCI_REQ_IRQ_INDEX = 4,	/* the host asks for the device back */
	VFIO_PCI_NUM_IRQS = 5,
};

/* ---------------------------------------------------------------- */
/* DMA mapping: the type1 model (fd: container, after SET_IOMMU)    */
/* ---------------------------------------------------------------- */

/* Filled in by VFIO_IOMMU_GET_INFO. */
struct vfio_iommu_type1_info {
	__u32	argsz;
	__u32	flags;			/* out: VFIO_IOMMU_INFO_* */
	__aligned_u64	iova_pgsizes;	/* out: bit n set: 2^n bytes mappable */
	__u32	cap_offset;		/* out: first IOMMU capability, or 0 */
	__u32	pad;			/* reserved */
};
#define VFIO_IOMMU_INFO_PGSIZES		(1 << 0)  /* iova_pgsizes is valid */
#define VFIO_IOMMU_INFO_CAPS		(1 << 1)  /* cap_offset is valid */

/*
 * IOMMU info capabilities (ids of the chain behind vfio_iommu_type1_info).
 * spec: DMA mapping, Information.
 */

/* The IOVA ranges that may be mapped, in ascending order. */
#define VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE	1

struct vfio_iova_range {
	__u64	start;		/* first byte */
	__u64	end;		/* last byte, inclusive */
};

struct vfio_iommu_type1_info_cap_iova_range {
	struct vfio_info_cap_header header;
	__u32	nr_iovas;
	__u32	reserved;
	struct vfio_iova_range iova_ranges[];	/* nr_iovas of them */
};

/*
 * Dirty page tracking is offered (spec: DMA mapping, Dirty page tracking):
 * the page size its bitmaps use and their largest size.
 */
#define VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION	2

struct vfio_iommu_type1_info_cap_migration {
	struct vfio_info_cap_header header;
	__u32	flags;			/* none defined: 0 */
	__u32	reserved;		/* implicit padding in <linux/vfio.h> */
	__u64	pgsize_bitmap;		/* the one page size of the bitmaps */
	__u64	max_dirty_bitmap_size;	/* bytes */
};

/* How many more mappings the container accepts. */
#define VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL		3

struct vfio_iommu_type1_info_dma_avail {
	struct vfio_info_cap_header header;
	__u32	avail;
};

/*
 * spec: DMA mapping, Information.  fd: container.
 * arg: struct vfio_iommu_type1_info *.
 */
#define VFIO_IOMMU_GET_INFO		_IO(VFIO_TYPE, VFIO_BASE + 12)

/* Argument of VFIO_IOMMU_MAP_DMA: map [vaddr, +size) at [iova, +size). */
struct vfio_iommu_type1_dma_map {
	__u32	argsz;
	__u32	flags;
	__u64	vaddr;		/* process virtual address */
	__u64	iova;		/* device (I/O) virtual address */
	__u64	size;		/* bytes */
};
#define VFIO_DMA_MAP_FLAG_READ		(1 << 0)  /* the device may read */
#define VFIO_DMA_MAP_FLAG_WRITE		(1 << 1)  /* the device may write */
/* Give an existing mapping (made invalid by UNMAP ... VADDR) a new vaddr. */
#define VFIO_DMA_MAP_FLAG_VADDR		(1 << 2)

/*
 * spec: DMA mapping, Mapping.  fd: container.
 * arg: struct vfio_iommu_type1_dma_map *.
 */
#define VFIO_IOMMU_MAP_DMA		_IO(VFIO_TYPE, VFIO_BASE + 13)

/*
 * Argument of VFIO_IOMMU_UNMAP_DMA: unmap [iova, +size).  On return size
 * holds the number of bytes unmapped.
 */
struct vfio_iommu_type1_dma_unmap {
	__u32	argsz;
	__u32	flags;
	__u64	iova;
	__u64	size;
	__u8	data[];		/* GET_DIRTY_BITMAP: a struct vfio_bitmap */
};
/*
 * Report the dirty pages of what is unmapped in the bitmap that data
 * describes; dirty page tracking must be on.
 */
#define VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP	(1 << 0)
/* Unmap everything; iova and size must be 0. */
#define VFIO_DMA_UNMAP_FLAG_ALL		(1 << 1)
/* Keep the mappings but forget their vaddr until MAP_DMA ... VADDR. */
#define VFIO_DMA_UNMAP_FLAG_VADDR	(1 << 2)

/*
 * spec: DMA mapping, Unmapping.  fd: container.
 * arg: struct vfio_iommu_type1_dma_unmap *.
 */
#define VFIO_IOMMU_UNMAP_DMA		_IO(VFIO_TYPE, VFIO_BASE + 14)

/*
 * A dirty bitmap: bit n (bit n % 64 of 64-bit word n / 64) stands for the
 * page at offset n * pgsize of the range; the user zeroes it before the
 * call, the implementation sets the bits of dirty pages.
 */
struct vfio_bitmap {
	__u64	pgsize;		/* bytes per bit */
	__u64	size;		/* bytes at data */
	__u64	*data;		/* the bitmap, in user memory */
};

/* Argument of VFIO_IOMMU_DIRTY_PAGES: exactly one flag. */
struct vfio_iommu_type1_dirty_bitmap {
	__u32	argsz;
	__u32	flags;
	__u8	data[];		/* GET_BITMAP: a vfio_iommu_type1_dirty_bitmap_get */
};
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_START	(1 << 0)  /* start tracking */
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP	(1 << 1)  /* stop tracking */
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP	(1 << 2)  /* read and clear */

/* GET_BITMAP's request: the dirty pages of [iova, +size) into bitmap. */
struct vfio_iommu_type1_dirty_bitmap_get {
	__u64	iova;
	__u64	size;
	struct vfio_bitmap bitmap;
};

/*
 * spec: DMA mapping, Dirty page tracking.  fd: container (type1v2).
 * arg: struct vfio_iommu_type1_dirty_bitmap *.
 */
#define VFIO_IOMMU_DIRTY_PAGES		_IO(VFIO_TYPE, VFIO_BASE + 17)

#endif /* _LINUX_VFIO_GROUPS_H */
