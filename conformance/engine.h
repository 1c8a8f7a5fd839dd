/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DMA engines: the device knowledge of the conformance suite.
 *
 * An isolation test says "the device writes at IOVA A", "the device reads
 * at IOVA B" or "the device raises interrupt vector V" and then looks at
 * user memory and eventfds; the engine of the device under test turns that
 * into register writes. An engine is a table of operations matched by PCI
 * vendor:device ID, or by PCI class for a standard interface (NVMe). To
 * test other hardware, write engine_<name>.c with one struct
 * vt_engine_ops, add it to vt_engines[] in engine.c and its source file to
 * the Makefile. Engines are the only place that knows a device model:
 * tests take their device from the user's list (vt_select(),
 * vt_engine_select()) and drive it through these operations; a test that
 * needs an engine skips with a reason when no selected device has one.
 *
 * Two ways to move data: a device that copies bytes it read to where it
 * writes them (edu, a NIC in loopback) implements copy, and the registry
 * builds write and read on it (engine.c: through a scratch page in the
 * engine's window). A device that cannot carry arbitrary bytes from host to
 * host implements write and read itself: an NVMe controller writes its
 * Identify data (device to host) and fetches a submission queue entry
 * (host to device), which is what write and read promise and no more.
 *
 * Engines here: QEMU's edu (engine_edu.c), QEMU's igb, an Intel 82576
 * (engine_igb.c), and any NVMe controller (engine_nvme.c, admin queue only).
 */
#ifndef VT_ENGINE_H
#define VT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "vfio_util.h"

/*
 * Where an engine maps its own memory (descriptor rings) by default: below
 * 128 MiB, where arm-smmu-v3 (and arm-smmu) reserve IOVA 0x8000000-0x80fffff
 * for MSI doorbells (IOMMU_RESV_SW_MSI; MAP_DMA there fails with EINVAL),
 * and within the edu's 28 bits.
 */
#define VT_ENGINE_IOVA		0x4000000ULL
#define VT_ENGINE_IOVA_SIZE	0x100000ULL	/* one engine's window */
#define VT_SCRATCH_SIZE		4096		/* write and read on copy */

#define VT_IRQ_BIT(index)	(1u << (index))

struct vt_engine;

struct vt_engine_ops {
	const char *name;
	/*
	 * Which functions it drives: this vendor:device, or (class_mask
	 * non-zero) every function whose class code & class_mask ==
	 * class_code, e.g. NVMe 0x010802 / 0xffffff.
	 */
	unsigned int vendor, device;
	unsigned int class_code, class_mask;
	unsigned int bar;		/* the register BAR */
	unsigned int dma_bits;		/* widest IOVA the device can emit */
	size_t max_len;			/* largest copy, or write */
	/* VT_IRQ_BIT(VFIO_PCI_*_IRQ_INDEX) of the indexes irq_raise serves */
	unsigned int irq_indexes;
	unsigned int msix_vectors;	/* MSI-X vectors irq_raise serves */
	/*
	 * A register of the register BAR that reads the same stable value
	 * every time, not all-ones (an ID or version register): tests compare
	 * its read through mmap, through pread and after a reset.
	 */
	unsigned int ident_reg;
	/*
	 * A register of the register BAR that shows the last 32-bit value
	 * written to it as echo(value) (edu: its liveness register, the
	 * bitwise inverse), whoever wrote it: the CPU through the BAR, or
	 * another device's DMA (peer-to-peer). echo NULL: the device has none.
	 */
	unsigned int echo_reg;
	uint32_t (*echo)(uint32_t written);
	/* The fewest bytes a write moves (0: one): a frame, a data block. */
	size_t min_write;
	/*
	 * A harmless register round trip through the mapped register BAR @regs
	 * (@size bytes): no DMA, no interrupt, nothing the device keeps. Needs
	 * no init; may run on a device another engine instance uses.
	 * Return: 0 when the device answers as a live device of its kind,
	 * -EIO when it does not (all-ones after removal, a wrong value).
	 */
	int (*alive)(volatile void *regs, size_t size);
	/*
	 * Device-specific setup after bus mastering is on and the register
	 * BAR is mapped. May map memory of its own at e->iova.
	 */
	int (*init)(struct vt_engine *e);
	/*
	 * Read @len bytes at IOVA @src, write them at IOVA @dst. Returns 0 once
	 * the device reports the transfer processed, whether or not the IOMMU
	 * let it through (the caller looks at memory), -ETIMEDOUT otherwise.
	 */
	int (*copy)(struct vt_engine *e, uint64_t src, uint64_t dst,
		    size_t len);
	/*
	 * Device to host: the device writes at least @len bytes at IOVA @iova
	 * and @expect (room for max_len bytes) gets what it writes. Returns
	 * how many bytes that is, once the device processed the request or
	 * reported it failed; -ETIMEDOUT, -EIO when the device is lost. NULL:
	 * the registry's, on copy.
	 */
	ssize_t (*write)(struct vt_engine *e, uint64_t iova, size_t len,
			 void *expect);
	/*
	 * Host to device: puts what the device is to read in @host (the user
	 * memory behind @iova, or that was), then has the device read @len
	 * bytes at @iova. Returns 1 when the device shows it got those bytes,
	 * 0 when it did not (the IOMMU stopped the read), -errno. NULL: the
	 * registry's, on copy.
	 */
	int (*read)(struct vt_engine *e, void *host, uint64_t iova, size_t len);
	/* Raise @vector of VFIO IRQ @index; the user has set it up. */
	int (*irq_raise)(struct vt_engine *e, unsigned int index,
			 unsigned int vector);
	/* Clear what irq_raise set: a level-triggered INTx drops. */
	void (*irq_ack)(struct vt_engine *e, unsigned int index);
	/* Quiesce: no DMA, no interrupt. Bus mastering goes off after it. */
	void (*fini)(struct vt_engine *e);
};

/* One engine bound to one open device. */
struct vt_engine {
	const struct vt_engine_ops *ops;
	int device;		/* VFIO device fd, -1: vt_engine_open_regs() */
	int container;		/* for the engine's own mappings, or -1 */
	uint64_t iova;		/* the engine's own IOVA window */
	volatile void *regs;	/* the register BAR, mapped */
	size_t regs_size;
	void *priv;		/* engine state */
	void *scratch;		/* write and read on copy: a page at ... */
	uint64_t scratch_iova;	/* ... this IOVA, the window's last page */
};

extern const struct vt_engine_ops vt_engine_edu, vt_engine_igb,
	vt_engine_nvme;

const struct vt_engine_ops *vt_engine_by_name(const char *name);
const struct vt_engine_ops *vt_engine_for(const struct vt_pci_dev *dev);
bool vt_has_engine(const struct vt_pci_dev *dev);
int vt_engine_select(const struct vt_engine_ops *ops, enum vt_dev_kind kind,
		     int nth, struct vt_pci_dev *out);
int vt_engine_alive(const struct vt_engine_ops *ops, int device);
int vt_engine_open(struct vt_engine *e, const struct vt_engine_ops *ops,
		   int device, int container, uint64_t iova);
int vt_engine_open_regs(struct vt_engine *e, const struct vt_engine_ops *ops,
			volatile void *regs, size_t size, int container,
			uint64_t iova);
void vt_engine_close(struct vt_engine *e);
int vt_engine_copy(struct vt_engine *e, uint64_t src, uint64_t dst,
		   size_t len);
bool vt_engine_can_copy(const struct vt_engine_ops *ops);
ssize_t vt_engine_write(struct vt_engine *e, uint64_t iova, size_t len,
			void *expect);
int vt_engine_read(struct vt_engine *e, void *host, uint64_t iova,
		   size_t len);
int vt_engine_irq_raise(struct vt_engine *e, unsigned int index,
			unsigned int vector);
void vt_engine_irq_ack(struct vt_engine *e, unsigned int index);
int vt_engine_round_trip(struct vt_engine *e, void *mem, uint64_t iova,
			 size_t size, size_t len);
bool vt_engine_has_irq(const struct vt_engine_ops *ops, unsigned int index);

/* Register access for engines: 32-bit MMIO through the mapped BAR. */
static inline uint32_t vt_reg_read(struct vt_engine *e, unsigned int off)
{
	return *(volatile uint32_t *)((volatile char *)e->regs + off);
}

static inline void vt_reg_write(struct vt_engine *e, unsigned int off,
				uint32_t val)
{
	*(volatile uint32_t *)((volatile char *)e->regs + off) = val;
}

/* For engines that poll their device. */
static inline void vt_sleep_ms(long ms)
{
	struct timespec t = { .tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

#endif /* VT_ENGINE_H */
