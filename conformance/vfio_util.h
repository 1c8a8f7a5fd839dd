/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the VFIO group/container conformance tests: finding the
 * test devices (vt_select(): from the user's list only), opening the three
 * kinds of fd, config space, BARs and DMA mappings. Nothing here knows a
 * device model: that is the engines' business (engine.h).
 */
#ifndef VFIO_UTIL_H
#define VFIO_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include "vfio_groups.h"

#define VT_CONTAINER_PATH	"/dev/vfio/vfio"
#define VT_MAX_DEVICES		64

#define PCI_COMMAND_OFFSET	0x04
#define PCI_COMMAND_MEMORY_BIT	0x2
#define PCI_COMMAND_MASTER_BIT	0x4
#define PCI_CACHE_LINE_SIZE_OFFSET	0x0c

/* One PCI function: where it is, what it is and which group holds it. */
struct vt_pci_dev {
	char bdf[32];		/* e.g. "0000:01:00.0" */
	unsigned int vendor;
	unsigned int device;
	unsigned int class_code;	/* 24 bits: class, subclass, prog-if */
	int group;		/* IOMMU group number, -1 if none */
};

/*
 * What a test needs of where its device sits. "Endpoint" is a function the
 * kernel's VFIO counts in a group's viability: bridges and ports are not.
 */
enum vt_dev_kind {
	VT_DEV_ANY,		/* any selected endpoint with an IOMMU group */
	VT_DEV_ALONE,		/* the only endpoint of its IOMMU group */
	VT_DEV_SHARED,		/* its group holds another selected endpoint */
};

/*
 * The devices under test come from one place: vt_selected() (the user's
 * list in VFIO_GROUPS_DEVICES). Nothing else picks a device.
 */
int vt_selected(struct vt_pci_dev *out, int max);
int vt_select(enum vt_dev_kind kind, int nth,
	      bool (*match)(const struct vt_pci_dev *dev),
	      struct vt_pci_dev *out);
int vt_select_peer(const struct vt_pci_dev *dev, int nth,
		   struct vt_pci_dev *out);
int vt_select_other_group(int group, enum vt_dev_kind kind,
			  bool (*match)(const struct vt_pci_dev *dev),
			  struct vt_pci_dev *out);
const char *vt_dev_kind_name(enum vt_dev_kind kind);
int vt_pci_dev_read(const char *bdf, struct vt_pci_dev *out);
bool vt_is_endpoint(const char *bdf);
int vt_group_endpoints(int group, struct vt_pci_dev *out, int max);
bool vt_group_has_node(int group);
uint64_t vt_bar_size(const char *bdf, unsigned int index, bool *is_mem);
int vt_first_mem_bar(const char *bdf);

/* The fds of one device in use: container, group and device. */
struct vt_handles {
	int container;
	int group;
	int device;
};

int vt_open_container(void);
const char *vt_msi_isolated_by(void);
int vt_open_device(const struct vt_pci_dev *dev, struct vt_handles *h);
void vt_close_device(struct vt_handles *h);
int vt_open_group(int group);
int vt_region_info(int device, unsigned int index,
		   struct vfio_region_info *info);
int vt_config_read16(int device, unsigned int off, uint16_t *val);
int vt_config_write16(int device, unsigned int off, uint16_t val);
int vt_enable_bus_master(int device);
void *vt_mmap_bar(int device, unsigned int index, size_t *size);

/* vt_set_irqs() without an eventfd: DATA_NONE. */
#define VT_NO_FD	(-2)
int vt_set_irqs(int device, __u32 index, __u32 action, __u32 start,
		__u32 count, int fd);
int vt_real_config(const char *bdf, unsigned int off, void *buf, size_t len);
int vt_real_config_write(const char *bdf, unsigned int off, const void *buf,
			 size_t len);
unsigned int vt_real_cap(const char *bdf, uint8_t id);
long vt_pinned_pages(void);
int vt_sysfs_write(const char *path, const char *val);
int vt_sysfs_link(const char *bdf, const char *what, char *buf, size_t len);
int vt_driver_of(const char *bdf, char *buf, size_t len);
bool vt_on_root_bus(const char *bdf);
int vt_platform_bus_reset(const char *bdf);
bool vt_read_raises_sigbus(volatile void *addr);
int vt_rebind(const char *bdf, const char *driver);
long vt_locked_kib(void);

/*
 * A leak snapshot: what a test must leave as it found it. Take one before,
 * one after, and compare: vt_leaks_compare() returns the VT_LEAK_* bits of
 * the counts that differ (0: none) and names them in @msg.
 */
struct vt_leaks {
	long pinned;		/* system-wide FOLL_PIN pages, -1 unknown */
	long locked_kib;	/* VmLck of this process, -1 unknown */
	int fds;		/* open file descriptors of this process */
};

#define VT_LEAK_PINNED	0x1u
#define VT_LEAK_LOCKED	0x2u
#define VT_LEAK_FDS	0x4u

void vt_leaks_take(struct vt_leaks *s);
unsigned int vt_leaks_compare(const struct vt_leaks *before,
			      const struct vt_leaks *after,
			      char *msg, size_t len);

int vt_map_dma(int container, void *vaddr, uint64_t iova, uint64_t size,
	       uint32_t flags);
int vt_unmap_dma(int container, uint64_t iova, uint64_t size);

/*
 * An unprivileged user, as a VMM runs as one (spec: Security): a uid and
 * gid of its own, no supplementary groups, no capabilities, and its own
 * RLIMIT_MEMLOCK. Numeric: no /etc/passwd is needed (busybox guest).
 */
struct vt_user {
	uid_t uid;
	gid_t gid;
	unsigned long memlock;	/* RLIMIT_MEMLOCK, soft and hard, bytes */
};

/* What an administrator changed on a group node, to put it back. */
struct vt_node {
	char path[64];
	uid_t uid;
	gid_t gid;
	mode_t mode;		/* permission bits */
};

int vt_thread_become(const struct vt_user *u);
int vt_become(const struct vt_user *u);
pid_t vt_fork_as(const struct vt_user *u);
int vt_reap(pid_t pid);
int vt_node_stat(int group, struct vt_node *node);
int vt_node_give(int group, const struct vt_user *u, mode_t mode,
		 struct vt_node *saved);
int vt_node_restore(const struct vt_node *saved);
int vt_send_fds(int sock, const int *fds, int n);
int vt_recv_fds(int sock, int *fds, int n);
int vt_sync_child(int sock);
int vt_sync_parent(int sock);
int vt_sync_release(int sock);
bool vt_eventfd_fired(int efd, int ms);

/*
 * Skip from a FIXTURE_SETUP so that the test body does not run: the
 * harness's own ASSERT bail-out path (older harnesses run the body after a
 * plain SKIP(return) in the setup). The setup must not hold resources then.
 */
#define vt_skip_setup(fmt, ...) \
	SKIP(longjmp(_metadata->env, 1), fmt, ##__VA_ARGS__)

/*
 * The errno-checking pattern of the iommufd selftests: a call that must
 * succeed, and a call that must fail with exactly one errno.
 */
#define vt_ioctl_ok(fd, req, arg) \
	ASSERT_EQ(0, ioctl((fd), (req), (arg))) \
		TH_LOG("%s failed: %s", #req, strerror(errno))

#define vt_ioctl_err(err, fd, req, arg) do { \
	errno = 0; \
	ASSERT_EQ(-1, ioctl((fd), (req), (arg))); \
	ASSERT_EQ((err), errno) TH_LOG("%s: want errno %d (%s), got %d (%s)", \
		#req, (err), strerror(err), errno, strerror(errno)); \
} while (0)

/*
 * Assert that nothing leaked since the snapshot @before; on failure the log
 * says @fmt and which counts moved.
 */
#define vt_assert_no_leaks(before, fmt, ...) do { \
	struct vt_leaks __now; \
	char __msg[160]; \
	vt_leaks_take(&__now); \
	ASSERT_EQ(0u, vt_leaks_compare((before), &__now, __msg, \
				       sizeof(__msg))) \
		TH_LOG(fmt ": %s", ##__VA_ARGS__, __msg); \
} while (0)

/*
 * Run body(_metadata, arg) in a child process as the unprivileged user @u
 * (vt_fork_as()); evaluates to the child's pid, or -errno when it could not
 * be forked. The body uses ASSERT_*() only (no EXPECT_*, no SKIP): a failed
 * assertion ends the child with status 1, a body that returns ends it with
 * 0; vt_reap() tells which. The caller's fixture teardown does not run in
 * the child.
 */
#define vt_spawn_as(u, body, arg) ({ \
	pid_t __vt_pid = vt_fork_as(u); \
	if (__vt_pid == 0) { \
		int __vt_failed = setjmp(_metadata->env); \
		if (!__vt_failed) \
			body(_metadata, arg); \
		fflush(NULL); \
		_exit(__vt_failed ? 1 : 0); \
	} \
	__vt_pid; \
})

/* vt_spawn_as() and wait: the test fails unless the body passed. */
#define vt_run_as(u, body, arg) do { \
	pid_t __vt_child = vt_spawn_as(u, body, arg); \
	ASSERT_LT(0, __vt_child) TH_LOG("fork: %s", strerror(-__vt_child)); \
	ASSERT_EQ(0, vt_reap(__vt_child)) \
		TH_LOG("%s as uid %u failed", #body, (unsigned int)(u)->uid); \
} while (0)

#endif /* VFIO_UTIL_H */
