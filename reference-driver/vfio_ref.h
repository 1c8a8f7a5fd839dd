/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio_ref: the reference implementation of the VFIO groups ABI.
 *
 * Objects (one file each):
 *   main.c       module init and exit
 *   dropin.c     vfio_pci.ko of the drop-in build: registers the PCI driver
 *   util.c       what every file needs (argsz copy, the pseudo filesystem
 *                that gives each device an address space for its mmaps);
 *                it calls into no other file
 *   container.c  /dev/vfio/vfio: struct vref_container
 *   group.c      /dev/vfio/N: struct vref_group, viability, device fds
 *   pci.c        the PCI driver: probe and remove (with removal.c)
 *   removal.c    request, bounded grace period, revocation
 *   dma.c        the type1 IOMMU model (v2, v1): struct vref_iommu
 *   device.c     the device file: info, regions, reset
 *   bar.c        BAR mmaps, and the BAR behind one for peer-to-peer DMA
 *   pci_config.c configuration space virtualization
 *   irq.c        INTx, MSI, MSI-X, ERR and REQ through eventfds
 *   irqfd.c      an eventfd whose signals run a function (INTx unmask)
 *   fault.c      the fault attribute of the implementation's own fault points
 *
 * Lock order (outer first), each lock documented at its field:
 *   vref_groups_lock -> vref_group::lock -> vref_container::lock
 *     -> vref_iommu::lock
 *   vref_device::lock -> vref_device::irq_lock
 *   vref_iommu::lock -> mmap_lock -> vref_device::lock (read)
 *   vref_iommu::lock -> vref_device::p2p_lock
 *   mmap_lock (faults) -> vref_device::lock (read)
 * No lock is held across a copy to or from user memory that could fault
 * into a mapping of our own device.
 */
#ifndef VFIO_REF_H
#define VFIO_REF_H

#include <linux/cdev.h>
#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>

#include "compat.h"

/*
 * The PCI driver's name. The drop-in build (make DROPIN=1, README) takes
 * the kernel's, which clients check a device's driver link against.
 */
#ifndef VREF_DROPIN
#define VREF_DROPIN		0	/* Kbuild sets 1 for the drop-in build */
#endif
#if VREF_DROPIN
#define VREF_NAME		"vfio-pci"
#else
#define VREF_NAME		"vfio-ref"
#endif

/* Region offsets in the device file: index << 40, as vfio-pci does. */
#define VREF_OFFSET_SHIFT	40
#define VREF_INDEX_TO_OFFSET(i)	((u64)(i) << VREF_OFFSET_SHIFT)
#define VREF_OFFSET_TO_INDEX(o)	((o) >> VREF_OFFSET_SHIFT)
#define VREF_OFFSET_MASK	(((u64)1 << VREF_OFFSET_SHIFT) - 1)

struct vref_iommu;
struct vref_irq_state;
struct vref_config;

/* A container: one IOMMU address space shared by its groups. */
struct vref_container {
	struct kref kref;
	/* protects groups and iommu */
	struct rw_semaphore lock;
	struct list_head groups;	/* of vref_group::container_node */
	struct vref_iommu *iommu;	/* NULL until VFIO_SET_IOMMU */
};

/* An IOMMU group with at least one device bound to us. */
struct vref_group {
	struct kref kref;
	struct iommu_group *iommu_group;
	int id;				/* iommu_group_id() */
	dev_t devt;			/* of the /dev/vfio/N node */
	struct device *dev;		/* the node; NULL once removed */
	struct cdev *cdev;		/* refcounted by its kobject */
	struct list_head node;		/* in vref_groups, under vref_groups_lock */
	/*
	 * protects devices, opened, container, container_node, dma_owned
	 * and device_fds
	 */
	struct mutex lock;
	struct list_head devices;	/* of vref_device::group_node */
	bool opened;			/* the group file is open */
	struct vref_container *container;
	struct list_head container_node;
	bool dma_owned;			/* iommu_group_claim_dma_owner() held */
	unsigned int device_fds;	/* open device files of the group */
};

/* One PCI device bound to the driver. */
struct vref_device {
	struct kref kref;
	struct pci_dev *pdev;
	struct vref_group *group;
	struct list_head group_node;	/* under vref_group::lock */
	struct inode *inode;		/* its address space holds every mmap */
	/*
	 * protects open_count, revoked and the device state of device.c
	 * (bars, config); read side for accesses, write side to change state
	 */
	struct rw_semaphore lock;
	unsigned int open_count;	/* open device files */
	bool revoked;			/* removal took the device back */
	struct completion released;	/* open_count went to 0 */
	unsigned int grace_ms;		/* per-device grace period (sysfs) */

	/* device.c: BAR mappings, set up at first open */
	void __iomem *bar[PCI_STD_NUM_BARS];
	bool enabled;			/* pci_enable_device() done */
	bool reset_works;		/* a reset succeeded at first open */
	struct pci_saved_state *saved;	/* config state at probe */

	struct vref_config *config;	/* pci_config.c */

	/* protects irqs; taken inside lock */
	struct mutex irq_lock;
	struct vref_irq_state *irqs;	/* irq.c */

	/* dma.c: DMA mappings that reach its BARs (peer-to-peer) */
	/* protects p2p and p2p_gone; taken inside vref_iommu::lock */
	struct mutex p2p_lock;
	struct list_head p2p;		/* of dma.c's struct vref_dma */
	bool p2p_gone;			/* removed: no new such mapping */
};

/*
 * fault.c: the implementation's own fault points. vref_fail_or(failure,
 * call) is call, unless the fault attribute fail_vfio_ref (or
 * /proc/self/fail-nth) fails this point: then failure, and no call.
 */
#if IS_ENABLED(CONFIG_FAULT_INJECTION_DEBUG_FS)
bool vref_should_fail(void);
void vref_fault_init(void);
void vref_fault_exit(void);
#else
static inline bool vref_should_fail(void) { return false; }
static inline void vref_fault_init(void) { }
static inline void vref_fault_exit(void) { }
#endif
#define vref_fail_or(failure, call)	(vref_should_fail() ? (failure) : (call))

/* util.c: helpers every file needs; it calls into no other file */
int vref_fs_init(void);
void vref_fs_exit(void);
struct inode *vref_alloc_inode(void);
int vref_copy_argsz(void *dst, const void __user *src, size_t minsz);

/* container.c */
int vref_container_init(void);
void vref_container_exit(void);
struct vref_container *vref_container_from_file(struct file *file);
void vref_container_put(struct vref_container *container);
int vref_container_add_group(struct vref_container *container,
			     struct vref_group *group);
void vref_container_del_group(struct vref_container *container,
			      struct vref_group *group);

/* group.c */
int vref_group_init(void);
void vref_group_exit(void);
int vref_group_add_device(struct vref_device *vdev);
void vref_group_del_device(struct vref_device *vdev);
void vref_group_device_gone(struct vref_device *vdev);
void vref_group_device_closed(struct vref_group *group);
int vref_group_file_visit(struct file *file,
			  int (*fn)(struct vref_device *vdev, void *data),
			  void *data);

/* dma.c: the type1 IOMMU model, version 2 or 1 */
int vref_iommu_check_extension(unsigned long ext);
struct vref_iommu *vref_iommu_create(unsigned long type);
void vref_iommu_destroy(struct vref_iommu *iommu);
int vref_iommu_attach_group(struct vref_iommu *iommu,
			    struct iommu_group *group);
void vref_iommu_detach_group(struct vref_iommu *iommu,
			     struct iommu_group *group);
long vref_iommu_ioctl(struct vref_iommu *iommu, unsigned int cmd,
		      unsigned long arg);
void vref_iommu_device_gone(struct vref_device *vdev);

/* device.c: the device file */
extern const struct file_operations vref_device_fops;
int vref_device_init(struct vref_device *vdev);
void vref_device_uninit(struct vref_device *vdev);
void vref_device_get(struct vref_device *vdev);
void vref_device_put(struct vref_device *vdev);
int vref_device_open(struct vref_device *vdev);
void vref_device_close(struct vref_device *vdev);
void vref_device_revoke(struct vref_device *vdev);

/* bar.c: BAR mmaps; it calls into no other file */
bool vref_decodes(struct pci_dev *pdev, bool mem);
bool vref_bar_mmappable(struct vref_device *vdev, int bar);
int vref_device_mmap(struct file *file, struct vm_area_struct *vma);
struct vref_device *vref_bar_lookup(struct vm_area_struct *vma,
				    unsigned long vaddr, u64 size, bool write,
				    phys_addr_t *phys);

/* pci_config.c */
int vref_config_init(struct vref_device *vdev);
void vref_config_uninit(struct vref_device *vdev);
void vref_config_reset(struct vref_device *vdev);
ssize_t vref_config_rw(struct vref_device *vdev, char *buf, size_t count,
		       loff_t pos, bool write);

/* irq.c */
int vref_irq_init(struct vref_device *vdev);
void vref_irq_uninit(struct vref_device *vdev);
int vref_irq_count(struct vref_device *vdev, unsigned int index);
long vref_irq_get_info(struct vref_device *vdev, unsigned long arg);
long vref_irq_set(struct vref_device *vdev, unsigned long arg);
void vref_irq_disable_all(struct vref_device *vdev);
void vref_irq_request(struct vref_device *vdev);
void vref_irq_error(struct vref_device *vdev);

/* irqfd.c */
struct vref_irqfd;
struct vref_irqfd *vref_irqfd_create(int fd, void (*fn)(void *data),
				     void *data);
void vref_irqfd_destroy(struct vref_irqfd *irqfd);

/* pci.c */
extern struct pci_driver vref_pci_driver;

/* removal.c */
void vref_removal_wait(struct vref_device *vdev);
extern const struct attribute_group *vref_device_groups[];

#endif /* VFIO_REF_H */
