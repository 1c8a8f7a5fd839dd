// SPDX-License-Identifier: GPL-2.0
/*
 * DMA engine for QEMU's "edu" device (QEMU's docs/specs/edu.rst): a 4 KiB
 * internal buffer, one DMA channel between it and a 28-bit bus address, and
 * an interrupt raised by a register write (INTx, or MSI when enabled).
 *
 * A copy is two transfers, RAM -> buffer -> RAM. QEMU 7.2 aborts the
 * machine on a transfer ending exactly at the end of the buffer, so the
 * largest copy is half of it.
 */
#include "engine.h"

#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64

/**
 * vt_edu_echoes() - whether an edu answers through @bar: it reads back the
 * bitwise inverse of @val from its liveness register
 */
bool vt_edu_echoes(volatile void *bar, uint32_t val)
{
	edu_write32(bar, EDU_REG_LIVENESS, val);
	return edu_read32(bar, EDU_REG_LIVENESS) == ~val;
}

/**
 * vt_edu_identifies() - whether the identification register reads as an edu's
 */
bool vt_edu_identifies(volatile void *bar)
{
	return (edu_read32(bar, EDU_REG_IDENT) & 0xff) == EDU_IDENT_LOW_BYTE;
}

/**
 * vt_edu_copy() - copy @len bytes from IOVA @src to IOVA @dst through the
 * edu's buffer (RAM -> buffer -> RAM), at most half the buffer
 * Return: 0 once both transfers finished, -EINVAL, -ETIMEDOUT.
 */
int vt_edu_copy(volatile void *bar, uint64_t src, uint64_t dst, size_t len)
{
	int ret;

	if (!len || len > EDU_DMA_BUF_SIZE / 2)
		return -EINVAL;
	ret = edu_dma(bar, src, EDU_DMA_BUF, len, false);
	if (ret)
		return ret;
	return edu_dma(bar, EDU_DMA_BUF, dst, len, true);
}

/** vt_edu_irq_raise() - the edu raises its interrupt (INTx, or MSI if on) */
void vt_edu_irq_raise(volatile void *bar)
{
	edu_write32(bar, EDU_REG_IRQ_RAISE, 1);
}

/** vt_edu_irq_ack() - clear every interrupt cause of the edu */
void vt_edu_irq_ack(volatile void *bar)
{
	edu_write32(bar, EDU_REG_IRQ_ACK, ~0u);
}

/* The identification register's low byte, and the liveness register's
 * inverse of a value that changes from call to call. */
static int edu_alive(volatile void *regs, size_t size)
{
	static uint32_t seed = 0x5a5a0000;

	if (size < 0x100 || !vt_edu_identifies(regs) ||
	    !vt_edu_echoes(regs, ++seed))
		return -EIO;
	return 0;
}

static int edu_copy(struct vt_engine *e, uint64_t src, uint64_t dst,
		    size_t len)
{
	return vt_edu_copy(e->regs, src, dst, len);
}

static int edu_irq_raise(struct vt_engine *e, unsigned int index,
			 unsigned int vector)
{
	if (vector)
		return -EINVAL;
	vt_edu_irq_raise(e->regs);
	return 0;
}

static void edu_irq_ack(struct vt_engine *e, unsigned int index)
{
	vt_edu_irq_ack(e->regs);
}

static void edu_fini(struct vt_engine *e)
{
	edu_irq_ack(e, VFIO_PCI_INTX_IRQ_INDEX);
}

const struct vt_engine_ops vt_engine_edu = {
	.name = "edu",
	.vendor = EDU_VENDOR,
	.device = EDU_DEVICE,
	.bar = VFIO_PCI_BAR0_REGION_INDEX,
	.dma_bits = 28,
	.max_len = EDU_DMA_BUF_SIZE / 2,
	.irq_indexes = VT_IRQ_BIT(VFIO_PCI_INTX_IRQ_INDEX) |
		       VT_IRQ_BIT(VFIO_PCI_MSI_IRQ_INDEX),
	.ident_reg = EDU_REG_IDENT,
	.alive = edu_alive,
	.copy = edu_copy,
	.irq_raise = edu_irq_raise,
	.irq_ack = edu_irq_ack,
	.fini = edu_fini,
};
