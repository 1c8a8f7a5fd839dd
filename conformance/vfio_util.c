// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the conformance tests. They return a value or -errno and
 * never assert: the tests decide what a failure means.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "vfio_util.h"

static int read_hex(const char *path, unsigned int *val)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%x", val) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int device_group(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = '\0';
	base = strrchr(link, '/');
	return atoi(base ? base + 1 : link);
}

static int cmp_bdf(const void *a, const void *b)
{
	return strcmp(((const struct vt_pci_dev *)a)->bdf,
		      ((const struct vt_pci_dev *)b)->bdf);
}

/**
 * vt_pci_dev_read() - fill @out from sysfs for the PCI function @bdf
 * Return: 0, or -errno (-ENODEV: no such function).
 */
int vt_pci_dev_read(const char *bdf, struct vt_pci_dev *out)
{
	char path[PATH_MAX];
	int ret;

	if (strlen(bdf) >= sizeof(out->bdf) || strchr(bdf, '/'))
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (access(path, F_OK))
		return -ENODEV;
	memset(out, 0, sizeof(*out));
	strcpy(out->bdf, bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	ret = read_hex(path, &out->vendor);
	if (!ret) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", bdf);
		ret = read_hex(path, &out->device);
	}
	if (!ret) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", bdf);
		ret = read_hex(path, &out->class_code);
	}
	out->group = device_group(bdf);
	return ret;
}

/**
 * vt_is_endpoint() - whether @bdf is a function the kernel's VFIO counts
 *
 * The kernel's VFIO judges a group viable with bridges and ports in it
 * whatever they are bound to (vfio_dev_driver_allowed(): a PCI function
 * whose header type is not "normal"; pcieport manages its DMA itself). Such
 * a function neither makes a device "shared" nor is it a device under
 * test. The header type (config offset 0x0e, bits 6:0; readable by anyone
 * in sysfs) decides; the class code (bridge 0x0604 or 0x0609) when the
 * config file cannot be read.
 */
bool vt_is_endpoint(const char *bdf)
{
	char path[PATH_MAX];
	unsigned int class_code;
	unsigned char hdr;
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = pread(fd, &hdr, 1, 0x0e);
		close(fd);
	}
	if (n == 1)
		return (hdr & 0x7f) == 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", bdf);
	if (read_hex(path, &class_code))
		return true;
	return (class_code >> 8) != 0x0604 && (class_code >> 8) != 0x0609;
}

static bool selected_by_driver(const char *bdf)
{
	char drv[64];

	if (vt_driver_of(bdf, drv, sizeof(drv)))
		return false;
	return !strcmp(drv, "vfio-pci") || !strcmp(drv, "vfio-ref");
}

static int add_dev(struct vt_pci_dev *out, int n, int max, const char *bdf)
{
	char full[32];
	int i;

	/* "01:00.0" is domain 0000's. */
	if (strlen(bdf) == 7)
		snprintf(full, sizeof(full), "0000:%s", bdf);
	else
		snprintf(full, sizeof(full), "%s", bdf);
	for (i = 0; i < n; i++)
		if (!strcmp(out[i].bdf, full))
			return n;
	if (n >= max || vt_pci_dev_read(full, &out[n]))
		return n;
	return n + 1;
}

/**
 * vt_selected() - the devices the user handed the suite, and nothing else
 *
 * The one place a test's devices come from. VFIO_GROUPS_DEVICES lists PCI
 * addresses separated by spaces, commas or newlines (conformance/run sets it
 * from --device and the group members it binds; the testbed's guest runner
 * from the lane's topology). Unset: every PCI function bound to vfio-pci or
 * vfio-ref now. Addresses with no function behind them are left out.
 * Return: the number found (at most @max), sorted by address, or -errno.
 */
int vt_selected(struct vt_pci_dev *out, int max)
{
	const char *env = getenv("VFIO_GROUPS_DEVICES");
	int n = 0;

	if (env) {
		char *list = strdup(env), *save = NULL, *tok;

		if (!list)
			return -ENOMEM;
		for (tok = strtok_r(list, " ,\t\n", &save); tok;
		     tok = strtok_r(NULL, " ,\t\n", &save))
			n = add_dev(out, n, max, tok);
		free(list);
	} else {
		DIR *dir = opendir("/sys/bus/pci/devices");
		struct dirent *de;

		if (!dir)
			return -errno;
		while ((de = readdir(dir)))
			if (de->d_name[0] != '.' && selected_by_driver(de->d_name))
				n = add_dev(out, n, max, de->d_name);
		closedir(dir);
	}
	qsort(out, n, sizeof(*out), cmp_bdf);
	return n;
}

/**
 * vt_group_endpoints() - the endpoints of IOMMU group @group
 * Bridges and ports (see vt_is_endpoint()) are left out.
 * Return: the number found (at most @max, sorted), or -errno.
 */
int vt_group_endpoints(int group, struct vt_pci_dev *out, int max)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", group);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.' && vt_is_endpoint(de->d_name))
			n = add_dev(out, n, max, de->d_name);
	closedir(dir);
	qsort(out, n, sizeof(*out), cmp_bdf);
	return n;
}

/* Whether another selected endpoint shares @dev's group. */
static bool has_selected_peer(const struct vt_pci_dev *dev,
			      const struct vt_pci_dev *sel, int nsel)
{
	int i;

	for (i = 0; i < nsel; i++)
		if (sel[i].group == dev->group && strcmp(sel[i].bdf, dev->bdf) &&
		    vt_is_endpoint(sel[i].bdf))
			return true;
	return false;
}

static bool kind_fits(const struct vt_pci_dev *dev, enum vt_dev_kind kind,
		      const struct vt_pci_dev *sel, int nsel)
{
	struct vt_pci_dev ep[VT_MAX_DEVICES];

	if (dev->group < 0 || !vt_is_endpoint(dev->bdf))
		return false;
	switch (kind) {
	case VT_DEV_ALONE:
		return vt_group_endpoints(dev->group, ep, VT_MAX_DEVICES) == 1;
	case VT_DEV_SHARED:
		return has_selected_peer(dev, sel, nsel);
	default:
		return true;
	}
}

/**
 * vt_select() - the @nth selected device of one kind that @match accepts
 * @kind: VT_DEV_ALONE: the only endpoint of its IOMMU group (bridges and
 *	ports may be there too); VT_DEV_SHARED: its group holds another
 *	selected endpoint; VT_DEV_ANY: any selected endpoint with a group.
 * @match: NULL for any function, else a filter (vt_engine_select() passes
 *	"an engine drives it")
 * Return: 0 and fills @out, or -ENODEV when there is no such device.
 */
int vt_select(enum vt_dev_kind kind, int nth,
	      bool (*match)(const struct vt_pci_dev *dev),
	      struct vt_pci_dev *out)
{
	struct vt_pci_dev sel[VT_MAX_DEVICES];
	int i, n = vt_selected(sel, VT_MAX_DEVICES);

	for (i = 0; i < n; i++) {
		if (!kind_fits(&sel[i], kind, sel, n))
			continue;
		if (match && !match(&sel[i]))
			continue;
		if (nth-- == 0) {
			*out = sel[i];
			return 0;
		}
	}
	return -ENODEV;
}

/**
 * vt_select_peer() - the @nth other selected endpoint of @dev's group
 * Return: 0 and fills @out, or -ENODEV.
 */
int vt_select_peer(const struct vt_pci_dev *dev, int nth,
		   struct vt_pci_dev *out)
{
	struct vt_pci_dev sel[VT_MAX_DEVICES];
	int i, n = vt_selected(sel, VT_MAX_DEVICES);

	for (i = 0; i < n; i++) {
		if (sel[i].group != dev->group || !strcmp(sel[i].bdf, dev->bdf) ||
		    !vt_is_endpoint(sel[i].bdf))
			continue;
		if (nth-- == 0) {
			*out = sel[i];
			return 0;
		}
	}
	return -ENODEV;
}

/**
 * vt_select_other_group() - a selected device of @kind outside @group
 * Return: 0 and fills @out, or -ENODEV.
 */
int vt_select_other_group(int group, enum vt_dev_kind kind,
			  bool (*match)(const struct vt_pci_dev *dev),
			  struct vt_pci_dev *out)
{
	struct vt_pci_dev dev;
	int nth;

	for (nth = 0; !vt_select(kind, nth, match, &dev); nth++)
		if (dev.group != group) {
			*out = dev;
			return 0;
		}
	return -ENODEV;
}

/**
 * vt_dev_kind_name() - "alone in its group" and the like, for skip reasons
 */
const char *vt_dev_kind_name(enum vt_dev_kind kind)
{
	return kind == VT_DEV_ALONE ? " alone in its group" :
	       kind == VT_DEV_SHARED ? " sharing its group" : "";
}

/**
 * vt_bar_size() - size and kind of BAR @index as the kernel sized it
 * From sysfs "resource" (the kernel's own sizing at enumeration).
 * Return: the size (0: no such BAR); @is_mem (may be NULL): memory or I/O.
 */
uint64_t vt_bar_size(const char *bdf, unsigned int index, bool *is_mem)
{
	unsigned long long start = 0, end = 0, flags = 0;
	char path[PATH_MAX];
	uint64_t size = 0;
	unsigned int i;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return 0;
	for (i = 0; i <= index; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			goto out;
	if (end > start)
		size = end - start + 1;
	if (is_mem)
		*is_mem = !!(flags & 0x200);	/* IORESOURCE_MEM */
out:
	fclose(f);
	return size;
}

/**
 * vt_first_mem_bar() - the lowest-numbered memory BAR of @bdf
 * Return: its index (0-5), or -ENODEV when the function has none.
 */
int vt_first_mem_bar(const char *bdf)
{
	unsigned int i;
	bool mem = false;

	for (i = 0; i < 6; i++)
		if (vt_bar_size(bdf, i, &mem) && mem)
			return (int)i;
	return -ENODEV;
}

/**
 * vt_group_has_node() - whether /dev/vfio/<group> exists
 */
bool vt_group_has_node(int group)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	return access(path, F_OK) == 0;
}

/**
 * vt_msi_isolated_by() - what isolates the MSIs the kernel has set up
 *
 * Reads the interrupt chips of /proc/interrupts: an MSI domain stacked on
 * interrupt remapping ("IR-PCI-MSI...", Intel VT-d and AMD-Vi) or on Arm's
 * GICv3 ITS ("ITS-MSI", "ITS-PCI-MSI..."), which tags each MSI with its
 * device ID, isolates MSIs. The ports' own MSIs (PME, AER) make the chip
 * visible before any device under test raises one.
 * Return: "interrupt remapping", "the GICv3 ITS", or NULL when neither is
 * seen.
 */
const char *vt_msi_isolated_by(void)
{
	const char *by = NULL;
	char line[512];
	FILE *f = fopen("/proc/interrupts", "re");

	if (!f)
		return NULL;
	while (!by && fgets(line, sizeof(line), f)) {
		if (strstr(line, " IR-PCI-MSI"))
			by = "interrupt remapping";
		else if (strstr(line, " ITS-MSI") || strstr(line, " ITS-PCI-MSI"))
			by = "the GICv3 ITS";
	}
	fclose(f);
	return by;
}

/**
 * vt_open_container() - open /dev/vfio/vfio
 * Return: the fd or -errno.
 */
int vt_open_container(void)
{
	int fd = open(VT_CONTAINER_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/**
 * vt_open_group() - open /dev/vfio/<group>
 * Return: the fd or -errno.
 */
int vt_open_group(int group)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/**
 * vt_open_device() - container, group and device fd of one device, in use
 *
 * Opens the container and the device's group, attaches the group
 * (SET_CONTAINER), selects type1v2 (SET_IOMMU) and gets the device fd.
 * Return: 0 with every fd in @h, or -errno with none open.
 */
int vt_open_device(const struct vt_pci_dev *dev, struct vt_handles *h)
{
	int ret;

	h->container = vt_open_container();
	if (h->container < 0)
		return h->container;
	h->group = vt_open_group(dev->group);
	if (h->group < 0) {
		ret = h->group;
		goto err_close_container;
	}
	if (ioctl(h->group, VFIO_GROUP_SET_CONTAINER, &h->container) ||
	    ioctl(h->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		ret = -errno;
		goto err_close_group;
	}
	h->device = ioctl(h->group, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
	if (h->device < 0) {
		ret = -errno;
		goto err_close_group;
	}
	return 0;

err_close_group:
	close(h->group);
err_close_container:
	close(h->container);
	h->container = h->group = h->device = -1;
	return ret;
}

/**
 * vt_close_device() - close what vt_open_device() opened, device fd first
 */
void vt_close_device(struct vt_handles *h)
{
	if (h->device >= 0)
		close(h->device);
	if (h->group >= 0)
		close(h->group);
	if (h->container >= 0)
		close(h->container);
	h->container = h->group = h->device = -1;
}

/**
 * vt_region_info() - VFIO_DEVICE_GET_REGION_INFO for one region index
 * Return: 0 or -errno.
 */
int vt_region_info(int device, unsigned int index,
		   struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(device, VFIO_DEVICE_GET_REGION_INFO, info) ? -errno : 0;
}

static int config_offset(int device, off_t *off)
{
	struct vfio_region_info info;
	int ret = vt_region_info(device, VFIO_PCI_CONFIG_REGION_INDEX, &info);

	if (!ret)
		*off = info.offset;
	return ret;
}

/**
 * vt_config_read16() - read a 16-bit field of PCI config space
 * Return: 0 or -errno.
 */
int vt_config_read16(int device, unsigned int off, uint16_t *val)
{
	off_t base;
	int ret = config_offset(device, &base);

	if (ret)
		return ret;
	if (pread(device, val, sizeof(*val), base + off) != sizeof(*val))
		return -EIO;
	return 0;
}

/**
 * vt_config_write16() - write a 16-bit field of PCI config space
 * Return: 0 or -errno.
 */
int vt_config_write16(int device, unsigned int off, uint16_t val)
{
	off_t base;
	int ret = config_offset(device, &base);

	if (ret)
		return ret;
	if (pwrite(device, &val, sizeof(val), base + off) != sizeof(val))
		return -EIO;
	return 0;
}

/**
 * vt_enable_bus_master() - set the bus-master bit of the PCI command register
 * A device does no DMA without it.
 * Return: 0 or -errno.
 */
int vt_enable_bus_master(int device)
{
	uint16_t cmd;
	int ret = vt_config_read16(device, PCI_COMMAND_OFFSET, &cmd);

	if (ret)
		return ret;
	return vt_config_write16(device, PCI_COMMAND_OFFSET,
				 cmd | PCI_COMMAND_MASTER_BIT);
}

/**
 * vt_mmap_bar() - mmap a whole BAR region of a device fd
 * Return: the mapping (size in @size) or MAP_FAILED with errno set.
 */
void *vt_mmap_bar(int device, unsigned int index, size_t *size)
{
	struct vfio_region_info info;
	int ret = vt_region_info(device, index, &info);

	if (ret) {
		errno = -ret;
		return MAP_FAILED;
	}
	*size = info.size;
	return mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    device, info.offset);
}

/**
 * vt_set_irqs() - VFIO_DEVICE_SET_IRQS with one eventfd, or with none
 * @fd: the eventfd (-1 removes the trigger), or VT_NO_FD for DATA_NONE
 * Return: 0 or -errno.
 */
int vt_set_irqs(int device, __u32 index, __u32 action, __u32 start,
		__u32 count, int fd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(__s32)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(*set);
	set->flags = action | VFIO_IRQ_SET_DATA_NONE;
	set->index = index;
	set->start = start;
	set->count = count;
	if (fd != VT_NO_FD) {
		set->argsz = sizeof(buf);
		set->flags = action | VFIO_IRQ_SET_DATA_EVENTFD;
		memcpy(set->data, &fd, sizeof(fd));
	}
	return ioctl(device, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

static int real_config_io(const char *bdf, unsigned int off, void *buf,
			  size_t len, bool write)
{
	char path[PATH_MAX];
	int fd, ok;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ok = (write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off)) ==
	     (ssize_t)len;
	close(fd);
	return ok ? 0 : -EIO;
}

/**
 * vt_real_config() - read the device's real config space through sysfs
 *
 * What the device holds, as opposed to what the implementation shows the
 * user (virtualized fields).
 * Return: 0 or -errno.
 */
int vt_real_config(const char *bdf, unsigned int off, void *buf, size_t len)
{
	return real_config_io(bdf, off, buf, len, false);
}

/**
 * vt_real_config_write() - write the device's real config space through sysfs
 *
 * As the host's root would, past the implementation (e.g. on a device that
 * no VFIO driver holds). Return: 0 or -errno.
 */
int vt_real_config_write(const char *bdf, unsigned int off, const void *buf,
			 size_t len)
{
	return real_config_io(bdf, off, (void *)buf, len, true);
}

/**
 * vt_real_cap() - where the device's real config space lists capability @id
 * (0x05 MSI, 0x10 PCI Express, 0x11 MSI-X): what the device offers,
 * whatever the implementation reports.
 * Return: its config offset, or 0 when it has none.
 */
unsigned int vt_real_cap(const char *bdf, uint8_t id)
{
	uint8_t status, pos, hdr[2];
	int n;

	if (vt_real_config(bdf, 0x06, &status, 1) || !(status & 0x10) ||
	    vt_real_config(bdf, 0x34, &pos, 1))
		return 0;
	for (n = 0; pos >= 0x40 && n < 48; n++) {
		if (vt_real_config(bdf, pos & ~3u, hdr, 2))
			return 0;
		if (hdr[0] == id)
			return pos & ~3u;
		pos = hdr[1];
	}
	return 0;
}

/**
 * vt_sysfs_write() - write a string to a sysfs attribute
 * Return: 0 or -errno (of the open or of the write).
 */
int vt_sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/**
 * vt_pinned_pages() - pages pinned and not yet released, system-wide
 *
 * From the FOLL_PIN counters of /proc/vmstat, after stat_refresh folds the
 * per-CPU deltas (without which the count is off by a few).
 * Return: the count, or -1 without the counters.
 */
long vt_pinned_pages(void)
{
	long acquired = -1, released = -1, v;
	char name[64];
	FILE *f = fopen("/proc/sys/vm/stat_refresh", "w");

	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acquired = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			released = v;
	}
	fclose(f);
	return acquired < 0 || released < 0 ? -1 : acquired - released;
}

/**
 * vt_locked_kib() - locked memory of this process (VmLck), in KiB
 * Return: the amount, or -1 without /proc/self/status.
 */
long vt_locked_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Open file descriptors of this process, not counting the one that reads. */
static int open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		n += de->d_name[0] != '.';
	closedir(dir);
	return n - 1;
}

/**
 * vt_leaks_take() - snapshot pinned pages, locked memory and open fds
 */
void vt_leaks_take(struct vt_leaks *s)
{
	s->pinned = vt_pinned_pages();
	s->locked_kib = vt_locked_kib();
	s->fds = open_fds();
}

/* Add "what a -> b" to @msg when @a and @b differ; return @bit then. */
static unsigned int leak_note(char *msg, size_t len, unsigned int bit,
			      const char *what, long a, long b)
{
	size_t at = msg ? strlen(msg) : 0;

	if (a == b)
		return 0;
	if (msg && at + 1 < len)
		snprintf(msg + at, len - at, "%s%s %ld -> %ld",
			 at ? ", " : "", what, a, b);
	return bit;
}

/**
 * vt_leaks_compare() - which counts of two snapshots differ
 * @msg: where to name them, "pinned pages 12 -> 14" (may be NULL)
 * Return: the VT_LEAK_* bits of the counts that differ, 0 when none.
 */
unsigned int vt_leaks_compare(const struct vt_leaks *before,
			      const struct vt_leaks *after,
			      char *msg, size_t len)
{
	unsigned int diff;

	if (msg && len)
		msg[0] = '\0';
	diff = leak_note(msg, len, VT_LEAK_PINNED, "pinned pages",
			 before->pinned, after->pinned);
	diff |= leak_note(msg, len, VT_LEAK_LOCKED, "locked KiB",
			  before->locked_kib, after->locked_kib);
	diff |= leak_note(msg, len, VT_LEAK_FDS, "open fds",
			  before->fds, after->fds);
	return diff;
}

/**
 * vt_map_dma() - VFIO_IOMMU_MAP_DMA of one user range
 * Return: 0 or -errno.
 */
int vt_map_dma(int container, void *vaddr, uint64_t iova, uint64_t size,
	       uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

/**
 * vt_unmap_dma() - VFIO_IOMMU_UNMAP_DMA of one IOVA range
 * Return: the number of bytes unmapped, or -errno.
 */
int vt_unmap_dma(int container, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	return (int)unmap.size;
}

/**
 * vt_sysfs_link() - last component of a PCI device's sysfs link
 * @what: the link below the device's directory ("driver", "driver/module")
 * Return: 0 with the name in @buf, or -errno (-ENOENT: no such link).
 */
int vt_sysfs_link(const char *bdf, const char *what, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, what);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(buf, len, "%s", strrchr(link, '/') + 1);
	return 0;
}

/**
 * vt_driver_of() - name of the driver a PCI device is bound to
 * Return: 0 with the name in @buf, or -ENOENT when no driver is bound.
 */
int vt_driver_of(const char *bdf, char *buf, size_t len)
{
	return vt_sysfs_link(bdf, "driver", buf, len);
}

/**
 * vt_on_root_bus() - whether a PCI device sits on a root bus
 *
 * No bridge above it, so no secondary bus to reset (its sysfs directory's
 * parent is the host bridge's "pciDDDD:BB", not a bridge function).
 */
bool vt_on_root_bus(const char *bdf)
{
	char path[PATH_MAX], real[PATH_MAX], *slash;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (!realpath(path, real))
		return false;
	slash = strrchr(real, '/');
	if (!slash)
		return false;
	*slash = '\0';
	slash = strrchr(real, '/');
	return slash && !strncmp(slash + 1, "pci", 3);
}

/**
 * vt_platform_bus_reset() - whether the platform can reset a device's bus
 * @bdf: the device
 *
 * Asks the PCI core, not the implementation under test: with the device's
 * sysfs reset_method set to "bus" alone, a write of its reset file makes
 * the core reset the device's hot-plug slot or the bus below its bridge,
 * the reset a VFIO hot reset makes. The core offers that method only for
 * a device alone on its bus. The device's reset methods are put back.
 * Return: 1 when the core's reset succeeded; -errno when it failed (the
 * platform cannot reset that bus: a port's link did not come back); 0
 * when the question cannot be asked (no reset_method file, or no bus
 * method for this device, e.g. it shares its bus).
 */
int vt_platform_bus_reset(const char *bdf)
{
	char method[PATH_MAX], reset[PATH_MAX], saved[128];
	ssize_t n;
	int fd, ret;

	snprintf(method, sizeof(method), "/sys/bus/pci/devices/%s/reset_method",
		 bdf);
	snprintf(reset, sizeof(reset), "/sys/bus/pci/devices/%s/reset", bdf);
	fd = open(method, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, saved, sizeof(saved) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	saved[n] = '\0';
	saved[strcspn(saved, "\n")] = '\0';
	if (vt_sysfs_write(method, "bus"))
		return 0;
	ret = vt_sysfs_write(reset, "1");
	vt_sysfs_write(method, saved);
	return ret ? ret : 1;
}

static sigjmp_buf vt_sigbus_jmp;

static void vt_on_sigbus(int sig __attribute__((unused)))
{
	siglongjmp(vt_sigbus_jmp, 1);
}

/**
 * vt_read_raises_sigbus() - whether reading a mapping raises SIGBUS
 * @addr: a 32-bit location in a mapping (e.g. a BAR after revocation)
 *
 * Not for threads that read at the same time (one jump buffer).
 */
bool vt_read_raises_sigbus(volatile void *addr)
{
	struct sigaction sa = { .sa_handler = vt_on_sigbus }, old;
	bool raised = false;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(vt_sigbus_jmp, 1))
		raised = true;
	else
		(void)*(volatile uint32_t *)addr;
	sigaction(SIGBUS, &old, NULL);
	return raised;
}

/**
 * vt_rebind() - move a PCI device to another driver, or to none
 * @driver: the driver to bind (through driver_override and drivers_probe),
 *	or NULL to leave the device unbound
 *
 * The device's driver_override is left at @driver (unchanged for NULL).
 * Return: 0 when the device ends up bound as asked, -EBUSY when the probe
 * did not bind it, -ENOENT when no such driver is registered, or -errno.
 */
int vt_rebind(const char *bdf, const char *driver)
{
	char path[PATH_MAX], cur[64];
	int ret;

	if (driver) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", driver);
		if (access(path, F_OK))
			return -ENOENT;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver_override", bdf);
		ret = vt_sysfs_write(path, driver);
		if (ret)
			return ret;
	}
	if (!vt_driver_of(bdf, cur, sizeof(cur))) {
		if (driver && !strcmp(cur, driver))
			return 0;
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", cur);
		ret = vt_sysfs_write(path, bdf);
		if (ret)
			return ret;
	}
	if (!driver)
		return vt_driver_of(bdf, cur, sizeof(cur)) ? 0 : -EBUSY;
	/* A failed probe may or may not fail the write: look at the link. */
	vt_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (vt_driver_of(bdf, cur, sizeof(cur)) || strcmp(cur, driver))
		return -EBUSY;
	return 0;
}

/* Whether the calling thread holds any capability (effective or permitted). */
static int has_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	return data[0].effective || data[1].effective ||
	       data[0].permitted || data[1].permitted;
}

/**
 * vt_thread_become() - make the calling thread alone the unprivileged user @u
 *
 * Raw system calls: glibc's wrappers would change every thread of the
 * process (the fuzzer runs some threads as a user, the rest as root). No
 * supplementary groups, then the gid and the uid (real, effective and
 * saved); the uid change from root drops the thread's capabilities, which
 * is checked. RLIMIT_MEMLOCK is the process's: not touched.
 * Return: 0, or -errno of the step that failed (-EPERM when capabilities
 * remain).
 */
int vt_thread_become(const struct vt_user *u)
{
	int caps;

	if (syscall(SYS_setgroups, 0, NULL) ||
	    syscall(SYS_setresgid, u->gid, u->gid, u->gid) ||
	    syscall(SYS_setresuid, u->uid, u->uid, u->uid))
		return -errno;
	caps = has_capabilities();
	if (caps < 0)
		return caps;
	return caps ? -EPERM : 0;
}

/**
 * vt_become() - turn the calling (single-threaded) process into the
 *	unprivileged user @u
 *
 * RLIMIT_MEMLOCK first (raising a hard limit needs privilege), then
 * vt_thread_become(); no_new_privs keeps the capabilities dropped, and the
 * process is dumpable again, so that /proc/self is the user's.
 * Return: 0, or -errno of the step that failed.
 */
int vt_become(const struct vt_user *u)
{
	struct rlimit lim = { .rlim_cur = u->memlock, .rlim_max = u->memlock };
	int ret;

	if (setrlimit(RLIMIT_MEMLOCK, &lim))
		return -errno;
	ret = vt_thread_become(u);
	if (ret)
		return ret;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -errno;
	return 0;
}

/**
 * vt_fork_as() - fork a child that runs as the unprivileged user @u
 *
 * The child that cannot become @u (vt_become()) says why and exits with
 * status 2. Return: 0 in the child, the child's pid in the parent, or
 * -errno when fork() failed.
 */
pid_t vt_fork_as(const struct vt_user *u)
{
	pid_t pid;
	int ret;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		return pid;
	ret = vt_become(u);
	if (ret) {
		fprintf(stderr, "# cannot become uid %u gid %u: %s\n",
			(unsigned int)u->uid, (unsigned int)u->gid,
			strerror(-ret));
		_exit(2);
	}
	return 0;
}

/**
 * vt_reap() - wait for a child of vt_fork_as()
 * Return: 0 when it exited with status 0, its exit status, 128 + the
 * signal that ended it, or -errno when waiting failed.
 */
int vt_reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/**
 * vt_node_stat() - owner, group and mode of /dev/vfio/<group>
 * Return: 0 with @node filled, or -errno (-ENOENT: no node).
 */
int vt_node_stat(int group, struct vt_node *node)
{
	struct stat st;

	snprintf(node->path, sizeof(node->path), "/dev/vfio/%d", group);
	if (stat(node->path, &st))
		return -errno;
	node->uid = st.st_uid;
	node->gid = st.st_gid;
	node->mode = st.st_mode & 07777;
	return 0;
}

/**
 * vt_node_give() - chown and chmod a group node to a user, as an
 *	administrator (libvirt, a udev rule) does for a VMM's user
 * @saved: filled with what the node had, for vt_node_restore()
 * Return: 0 or -errno.
 */
int vt_node_give(int group, const struct vt_user *u, mode_t mode,
		 struct vt_node *saved)
{
	int ret = vt_node_stat(group, saved);

	if (ret)
		return ret;
	if (chown(saved->path, u->uid, u->gid) || chmod(saved->path, mode))
		return -errno;
	return 0;
}

/**
 * vt_node_restore() - put back the owner and mode vt_node_give() found
 * Return: 0, or -errno (-ENOENT when the node went away meanwhile).
 */
int vt_node_restore(const struct vt_node *saved)
{
	if (!saved->path[0])
		return 0;
	if (chown(saved->path, saved->uid, saved->gid) ||
	    chmod(saved->path, saved->mode))
		return -errno;
	return 0;
}

/**
 * vt_send_fds() - pass @n fds over a unix socket (SCM_RIGHTS)
 * Return: 0 or -errno.
 */
int vt_send_fds(int sock, const int *fds, int n)
{
	char data = 'F', cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cm;

	if (n < 1 || n > 8)
		return -EINVAL;
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/**
 * vt_recv_fds() - receive exactly @n fds sent by vt_send_fds()
 * Return: 0 with the new fds (close-on-exec) in @fds, or -errno (-EPIPE:
 * the peer closed; -EBADMSG: not @n fds).
 */
int vt_recv_fds(int sock, int *fds, int n)
{
	char data, cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	ssize_t r;

	if (n < 1 || n > 8)
		return -EINVAL;
	r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -EPIPE;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(n * sizeof(int)))
		return -EBADMSG;
	memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
	return 0;
}

/*
 * Checkpoints between a test and its child over a socketpair: the child
 * stops at a point (vt_sync_child), the parent measures what only it can
 * (pinned pages) and lets it go on (vt_sync_release).
 */

/** vt_sync_child() - in the child: reach a checkpoint, wait to go on */
int vt_sync_child(int sock)
{
	char c = 'S';

	if (send(sock, &c, 1, MSG_NOSIGNAL) != 1)
		return -errno;
	return read(sock, &c, 1) == 1 ? 0 : -EPIPE;
}

/** vt_sync_parent() - in the parent: wait for the child's checkpoint */
int vt_sync_parent(int sock)
{
	char c;

	return read(sock, &c, 1) == 1 ? 0 : -EPIPE;
}

/** vt_sync_release() - in the parent: let the child go on */
int vt_sync_release(int sock)
{
	char c = 'G';

	/* A child that died is a failed test, not a SIGPIPE of the parent. */
	return send(sock, &c, 1, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/**
 * vt_eventfd_fired() - whether an eventfd was signalled within @ms
 * Consumes its count. Return: true when it was.
 */
bool vt_eventfd_fired(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t count;

	if (poll(&p, 1, ms) != 1)
		return false;
	return read(efd, &count, sizeof(count)) == sizeof(count) && count > 0;
}
