// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration space virtualization.
 *
 * Every bit of configuration space is one of three kinds, recorded per byte
 * in two masks set up at probe:
 *   passed through  read from the device; a write reaches the device
 *   read-only       read from the device; a write is dropped
 *   virtual         read from, and written to, a copy kept here; the device
 *                   never sees it
 * The BARs and the ROM BAR are virtual, so user space can size and move them
 * as on bare metal while the device's real BARs never change (CFG-1, CFG-2).
 * The command register passes only its memory, I/O and bus-master bits
 * through (CFG-3). MSI message address and data are virtual, and MSI and
 * MSI-X control are read-only: interrupts are set up only through
 * VFIO_DEVICE_SET_IRQS (CFG-4). Vendor and device ID are the device's
 * (CFG-5).
 *
 * Accesses are split into naturally aligned pieces of 4, 2 or 1 bytes; a
 * piece that mixes kinds reads the device once and merges.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitfield.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "vfio_ref.h"

#define VREF_NUM_VBARS	(PCI_STD_NUM_BARS + 1)	/* BAR0-5 and the ROM BAR */
#define VREF_ROM_VBAR	PCI_STD_NUM_BARS

/* Command register bits that reach the device (CFG-3). */
#define VREF_CMD_PASS	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | \
			 PCI_COMMAND_MASTER)

/**
 * struct vref_config - the virtual view of one device's configuration space
 * @size: bytes of configuration space, pdev->cfg_size
 * @bar_mask: per BAR register (and the ROM BAR last), the address bits
 *	user space may set; 0 for an absent BAR
 * @bar_flags: per BAR register, the type bits that always read back
 * @vconfig: the value of every virtual bit (@size bytes)
 * @virt: per byte, the virtual bits (@size bytes)
 * @wr: per byte, the bits a write may change: in @vconfig for virtual bits,
 *	on the device for the others (@size bytes)
 * @data: storage of @vconfig, @virt and @wr
 *
 * Allocated at probe and freed at removal. @size, the masks and @bar_* never
 * change after probe; @vconfig changes under the write side of
 * vref_device::lock and is read under either side.
 */
struct vref_config {
	unsigned int size;
	u32 bar_mask[VREF_NUM_VBARS];
	u32 bar_flags[VREF_NUM_VBARS];
	u8 *vconfig;
	u8 *virt;
	u8 *wr;
	u8 data[];
};

/* The little-endian value of @len bytes. */
static u32 vref_cfg_get(const u8 *bytes, unsigned int len)
{
	u32 val = 0;

	while (len--)
		val = (val << 8) | bytes[len];
	return val;
}

/* Store @val as @len little-endian bytes. */
static void vref_cfg_put(u8 *bytes, unsigned int len, u32 val)
{
	unsigned int i;

	for (i = 0; i < len; i++, val >>= 8)
		bytes[i] = val & 0xff;
}

/* All bits of a @len byte piece. */
static u32 vref_cfg_full(unsigned int len)
{
	return len == 4 ? ~0U : (1U << (len * 8)) - 1;
}

/* Give @len bytes from @pos (clipped to the space) the masks @virt, @wr. */
static void vref_cfg_set(struct vref_config *cfg, unsigned int pos,
			 unsigned int len, u8 virt, u8 wr)
{
	if (pos >= cfg->size)
		return;
	len = min(len, cfg->size - pos);
	memset(cfg->virt + pos, virt, len);
	memset(cfg->wr + pos, wr, len);
}

/* Offset of virtual BAR register @r. */
static unsigned int vref_vbar_offset(unsigned int r)
{
	return r == VREF_ROM_VBAR ? PCI_ROM_ADDRESS :
				    PCI_BASE_ADDRESS_0 + 4 * r;
}

/* A BAR the host assigned: it has a size and an address. */
static bool vref_cfg_bar_usable(struct pci_dev *pdev, int bar)
{
	unsigned long flags = pci_resource_flags(pdev, bar);

	return pci_resource_len(pdev, bar) && pci_resource_start(pdev, bar) &&
	       (flags & (IORESOURCE_MEM | IORESOURCE_IO)) &&
	       !(flags & IORESOURCE_UNSET);
}

/* The type bits of a memory BAR, from what the PCI core decoded. */
static u32 vref_cfg_mem_type(unsigned long flags)
{
	u32 type = 0;

	if (flags & IORESOURCE_MEM_64)
		type |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (flags & IORESOURCE_PREFETCH)
		type |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	return type;
}

/*
 * Size masks and type bits of the BARs, as sizing them would find. The type
 * bits come from the resources, not the registers: a virtual function's
 * BAR registers read 0.
 */
static void vref_cfg_init_bars(struct pci_dev *pdev, struct vref_config *cfg)
{
	resource_size_t len;
	unsigned long flags;
	u64 mask;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		if (!vref_cfg_bar_usable(pdev, i))
			continue;
		mask = ~(u64)(pci_resource_len(pdev, i) - 1);
		flags = pci_resource_flags(pdev, i);
		if (flags & IORESOURCE_IO) {
			cfg->bar_mask[i] = lower_32_bits(mask) &
					   PCI_BASE_ADDRESS_IO_MASK;
			cfg->bar_flags[i] = PCI_BASE_ADDRESS_SPACE_IO;
			continue;
		}
		cfg->bar_mask[i] = lower_32_bits(mask) &
				   PCI_BASE_ADDRESS_MEM_MASK;
		cfg->bar_flags[i] = vref_cfg_mem_type(flags);
		if ((flags & IORESOURCE_MEM_64) && i + 1 < PCI_STD_NUM_BARS)
			cfg->bar_mask[++i] = upper_32_bits(mask);
	}
	len = pci_resource_len(pdev, PCI_ROM_RESOURCE);
	if (len)
		cfg->bar_mask[VREF_ROM_VBAR] = (~(u32)(len - 1) &
						PCI_ROM_ADDRESS_MASK) |
					       PCI_ROM_ADDRESS_ENABLE;
}

/*
 * The type 0 header. Vendor and device ID are the device's (CFG-5); those
 * of a virtual function read 0xffff there, so they are virtual then.
 */
static void vref_cfg_init_header(struct pci_dev *pdev, struct vref_config *cfg)
{
	vref_cfg_set(cfg, 0, cfg->size, 0, 0xff);	/* pass through */
	vref_cfg_set(cfg, PCI_VENDOR_ID, 4, pdev->is_virtfn ? 0xff : 0, 0);
	/*
	 * Command: memory, I/O and bus master reach the device. INTx disable
	 * is virtual too: irq.c owns the device's bit, which masks INTx
	 * whenever no INTx trigger is set.
	 */
	vref_cfg_set(cfg, PCI_COMMAND, 2, 0xff, 0xff);
	cfg->virt[PCI_COMMAND] = (u8)~VREF_CMD_PASS;
	vref_cfg_set(cfg, PCI_CLASS_REVISION, 4, 0, 0);
	vref_cfg_set(cfg, PCI_HEADER_TYPE, 1, 0, 0);
	vref_cfg_set(cfg, PCI_BASE_ADDRESS_0, 4 * PCI_STD_NUM_BARS, 0xff, 0xff);
	vref_cfg_set(cfg, PCI_CARDBUS_CIS, 8, 0, 0);	/* and subsystem IDs */
	vref_cfg_set(cfg, PCI_ROM_ADDRESS, 4, 0xff, 0xff);
	vref_cfg_set(cfg, PCI_CAPABILITY_LIST, 8, 0, 0);
	vref_cfg_set(cfg, PCI_INTERRUPT_LINE, 1, 0xff, 0xff);
	vref_cfg_set(cfg, PCI_INTERRUPT_PIN, 3, 0, 0);	/* and min/max */
}

/* MSI: address and data virtual, control and masks the host's (CFG-4). */
static void vref_cfg_init_msi(struct pci_dev *pdev, struct vref_config *cfg)
{
	int pos = pci_find_capability(pdev, PCI_CAP_ID_MSI);
	unsigned int data;
	u16 flags;

	if (!pos)
		return;
	pci_read_config_word(pdev, pos + PCI_MSI_FLAGS, &flags);
	vref_cfg_set(cfg, pos, 4, 0, 0);		/* ID, next, control */
	vref_cfg_set(cfg, pos + PCI_MSI_ADDRESS_LO, 4, 0xff, 0xff);
	data = PCI_MSI_DATA_32;
	if (flags & PCI_MSI_FLAGS_64BIT) {
		vref_cfg_set(cfg, pos + PCI_MSI_ADDRESS_HI, 4, 0xff, 0xff);
		data = PCI_MSI_DATA_64;
	}
	vref_cfg_set(cfg, pos + data, 4, 0xff, 0xff);
	if (flags & PCI_MSI_FLAGS_MASKBIT)
		vref_cfg_set(cfg, pos + data + 4, 8, 0, 0);
}

/* MSI-X: enable, function mask, table and PBA are the host's (CFG-4). */
static void vref_cfg_init_msix(struct pci_dev *pdev, struct vref_config *cfg)
{
	int pos = pci_find_capability(pdev, PCI_CAP_ID_MSIX);

	if (pos)
		vref_cfg_set(cfg, pos, PCI_CAP_MSIX_SIZEOF, 0, 0);
}

/*
 * Registers through which user space could change the device's real BARs
 * or add devices behind the host's back: power state (D3hot can lose the
 * BARs), function level reset (use VFIO_DEVICE_RESET, which restores
 * them), SR-IOV and resizable BARs. They are read-only.
 */
static void vref_cfg_init_guards(struct pci_dev *pdev, struct vref_config *cfg)
{
	int pos;
	u32 ctrl;

	if (pdev->pm_cap && pdev->pm_cap + PCI_PM_CTRL < cfg->size)
		cfg->wr[pdev->pm_cap + PCI_PM_CTRL] &= ~PCI_PM_CTRL_STATE_MASK;
	pos = pci_pcie_cap(pdev);
	if (pos)
		cfg->wr[pos + PCI_EXP_DEVCTL + 1] &=
			~(PCI_EXP_DEVCTL_BCR_FLR >> 8);
	pos = pci_find_capability(pdev, PCI_CAP_ID_AF);
	if (pos)
		cfg->wr[pos + PCI_AF_CTRL] &= ~PCI_AF_CTRL_FLR;
	pos = pci_find_ext_capability(pdev, PCI_EXT_CAP_ID_SRIOV);
	if (pos)
		vref_cfg_set(cfg, pos, PCI_EXT_CAP_SRIOV_SIZEOF, 0, 0);
	pos = pci_find_ext_capability(pdev, PCI_EXT_CAP_ID_REBAR);
	if (pos) {
		pci_read_config_dword(pdev, pos + PCI_REBAR_CTRL, &ctrl);
		vref_cfg_set(cfg, pos,
			     4 + 8 * FIELD_GET(PCI_REBAR_CTRL_NBAR_MASK, ctrl),
			     0, 0);
	}
}

/**
 * vref_config_init() - set up the virtual configuration space of a device
 * @vdev: the device, at probe
 *
 * Only devices with a type 0 (normal) header are supported.
 *
 * Return: 0, -EINVAL for another header type, or -ENOMEM.
 */
int vref_config_init(struct vref_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int size = pdev->cfg_size;
	struct vref_config *cfg;

	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;
	cfg = vref_fail_or(NULL, kzalloc(struct_size(cfg, data, 3 * size),
					 GFP_KERNEL));
	if (!cfg)
		return -ENOMEM;
	cfg->size = size;
	cfg->vconfig = cfg->data;
	cfg->virt = cfg->data + size;
	cfg->wr = cfg->data + 2 * size;
	vref_cfg_init_header(pdev, cfg);
	vref_cfg_init_bars(pdev, cfg);
	vref_cfg_init_msi(pdev, cfg);
	vref_cfg_init_msix(pdev, cfg);
	vref_cfg_init_guards(pdev, cfg);
	vdev->config = cfg;
	return 0;
}

/**
 * vref_config_uninit() - free what vref_config_init() set up
 * @vdev: the device, at removal, with no access to its configuration space
 *	possible any more (closed or revoked)
 */
void vref_config_uninit(struct vref_device *vdev)
{
	kfree(vdev->config);
	vdev->config = NULL;
}

/* Keep only what a BAR can hold: its size mask and its type bits. */
static void vref_cfg_fix_bars(struct vref_config *cfg)
{
	unsigned int r, off;
	u32 val;

	for (r = 0; r < VREF_NUM_VBARS; r++) {
		off = vref_vbar_offset(r);
		val = vref_cfg_get(cfg->vconfig + off, 4);
		val = (val & cfg->bar_mask[r]) | cfg->bar_flags[r];
		vref_cfg_put(cfg->vconfig + off, 4, val);
	}
}

/**
 * vref_config_reset() - start the virtual configuration space afresh
 * @vdev: the device, at its first open, under the write side of
 *	vdev->lock
 *
 * The virtual BARs take the device's values (the addresses the host
 * assigned), the virtual command bits the device's but with INTx enabled,
 * the interrupt line the device's; MSI message address and data read 0.
 * The virtual IDs (used for a virtual function only) are the PCI core's.
 */
void vref_config_reset(struct vref_device *vdev)
{
	struct vref_config *cfg = vdev->config;
	struct pci_dev *pdev = vdev->pdev;
	unsigned int r;
	u32 val;
	u16 cmd;
	u8 line;

	memset(cfg->vconfig, 0, cfg->size);
	vref_cfg_put(cfg->vconfig + PCI_VENDOR_ID, 2, pdev->vendor);
	vref_cfg_put(cfg->vconfig + PCI_DEVICE_ID, 2, pdev->device);
	for (r = 0; r < VREF_NUM_VBARS; r++) {
		pci_read_config_dword(pdev, vref_vbar_offset(r), &val);
		vref_cfg_put(cfg->vconfig + vref_vbar_offset(r), 4, val);
	}
	vref_cfg_fix_bars(cfg);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	vref_cfg_put(cfg->vconfig + PCI_COMMAND, 2,
		     cmd & ~PCI_COMMAND_INTX_DISABLE);
	pci_read_config_byte(pdev, PCI_INTERRUPT_LINE, &line);
	cfg->vconfig[PCI_INTERRUPT_LINE] = line;
}

/* One access of @len bytes to the device, as the user's own. */
static int vref_cfg_dev_read(struct pci_dev *pdev, unsigned int pos,
			     unsigned int len, u32 *val)
{
	u16 word;
	u8 byte;
	int ret;

	switch (len) {
	case 1:
		ret = pci_user_read_config_byte(pdev, pos, &byte);
		*val = byte;
		return ret;
	case 2:
		ret = pci_user_read_config_word(pdev, pos, &word);
		*val = word;
		return ret;
	default:
		return pci_user_read_config_dword(pdev, pos, val);
	}
}

static int vref_cfg_dev_write(struct pci_dev *pdev, unsigned int pos,
			      unsigned int len, u32 val)
{
	switch (len) {
	case 1:
		return pci_user_write_config_byte(pdev, pos, val);
	case 2:
		return pci_user_write_config_word(pdev, pos, val);
	default:
		return pci_user_write_config_dword(pdev, pos, val);
	}
}

static int vref_cfg_read_piece(struct vref_device *vdev, unsigned int pos,
			       unsigned int len, char *buf)
{
	struct vref_config *cfg = vdev->config;
	u32 virt = vref_cfg_get(cfg->virt + pos, len);
	u32 val = 0;
	int ret;

	if (virt != vref_cfg_full(len)) {
		ret = vref_cfg_dev_read(vdev->pdev, pos, len, &val);
		if (ret)
			return ret;
	}
	val = (val & ~virt) | (vref_cfg_get(cfg->vconfig + pos, len) & virt);
	vref_cfg_put((u8 *)buf, len, val);
	return 0;
}

static int vref_cfg_write_piece(struct vref_device *vdev, unsigned int pos,
				unsigned int len, const char *buf)
{
	struct vref_config *cfg = vdev->config;
	u32 val = vref_cfg_get((const u8 *)buf, len);
	u32 virt = vref_cfg_get(cfg->virt + pos, len);
	u32 wr = vref_cfg_get(cfg->wr + pos, len);
	u32 full = vref_cfg_full(len);
	u32 to_dev = ~virt & wr & full;
	u32 real, vbits;
	int ret;

	vbits = virt & wr;
	if (vbits) {
		real = vref_cfg_get(cfg->vconfig + pos, len);
		vref_cfg_put(cfg->vconfig + pos, len,
			     (real & ~vbits) | (val & vbits));
	}
	if (!to_dev)
		return 0;
	if (to_dev != full) {
		/* Keep the device's own value of the bits not passed on. */
		ret = vref_cfg_dev_read(vdev->pdev, pos, len, &real);
		if (ret)
			return ret;
		val = (real & ~to_dev) | (val & to_dev);
	}
	return vref_cfg_dev_write(vdev->pdev, pos, len, val);
}

static bool vref_cfg_overlaps(unsigned int pos, unsigned int len,
			      unsigned int start, unsigned int size)
{
	return pos < start + size && start < pos + len;
}

/* What a write of [pos, pos + len) changes besides the bytes. */
static void vref_cfg_after_write(struct vref_device *vdev, unsigned int pos,
				 unsigned int len)
{
	u16 cmd;

	if (vref_cfg_overlaps(pos, len, PCI_BASE_ADDRESS_0,
			      4 * PCI_STD_NUM_BARS) ||
	    vref_cfg_overlaps(pos, len, PCI_ROM_ADDRESS, 4))
		vref_cfg_fix_bars(vdev->config);
	if (!vref_cfg_overlaps(pos, len, PCI_COMMAND, 1))
		return;
	/*
	 * With memory decoding off, the BARs must not be reached through
	 * old mappings: zap them; faults give SIGBUS until it is back on.
	 * (A virtual function's memory decoding is its physical function's.)
	 */
	pci_read_config_word(vdev->pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY) && !vdev->pdev->is_virtfn)
		unmap_mapping_range(vdev->inode->i_mapping, 0, 0, true);
}

/* The largest naturally aligned piece at @pos of at most @left bytes. */
static unsigned int vref_cfg_piece(unsigned int pos, size_t left)
{
	if (!(pos & 3) && left >= 4)
		return 4;
	if (!(pos & 1) && left >= 2)
		return 2;
	return 1;
}

/**
 * vref_config_rw() - read or write the configuration region
 * @vdev: the device, open and not revoked; the caller holds vdev->lock,
 *	the read side to read and the write side to write
 * @buf: kernel buffer of @count bytes, in configuration space byte order
 * @count: bytes to access
 * @pos: offset in configuration space
 * @write: write @buf instead of reading into it
 *
 * An access that runs past the end of configuration space is cut short.
 *
 * Return: bytes done (less than @count only at the end of the space or
 * after a failing piece), -EINVAL when @pos is outside the space, or the
 * errno of the first piece when it fails.
 */
ssize_t vref_config_rw(struct vref_device *vdev, char *buf, size_t count,
		       loff_t pos, bool write)
{
	struct vref_config *cfg = vdev->config;
	unsigned int where, len;
	size_t done = 0;
	int ret;

	if (pos < 0 || pos >= cfg->size)
		return -EINVAL;
	count = min_t(size_t, count, cfg->size - pos);
	while (done < count) {
		where = pos + done;
		len = vref_cfg_piece(where, count - done);
		if (write)
			ret = vref_cfg_write_piece(vdev, where, len, buf + done);
		else
			ret = vref_cfg_read_piece(vdev, where, len, buf + done);
		if (ret)
			return done ? done : ret;
		if (write)
			vref_cfg_after_write(vdev, where, len);
		done += len;
	}
	return done;
}
