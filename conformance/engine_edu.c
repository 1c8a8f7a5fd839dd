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

static int edu_copy(struct vt_engine *e, uint64_t src, uint64_t dst,
		    size_t len)
{
	int ret = edu_dma(e->regs, src, EDU_DMA_BUF, len, false);

	if (ret)
		return ret;
	return edu_dma(e->regs, EDU_DMA_BUF, dst, len, true);
}

static int edu_irq_raise(struct vt_engine *e, unsigned int index,
			 unsigned int vector)
{
	if (vector)
		return -EINVAL;
	vt_reg_write(e, EDU_REG_IRQ_RAISE, 1);
	return 0;
}

static void edu_irq_ack(struct vt_engine *e, unsigned int index)
{
	vt_reg_write(e, EDU_REG_IRQ_ACK, ~0u);
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
	.copy = edu_copy,
	.irq_raise = edu_irq_raise,
	.irq_ack = edu_irq_ack,
	.fini = edu_fini,
};
