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

/* PCI ID and BAR0 register map. */
#define EDU_VENDOR		0x1234u
#define EDU_DEVICE		0x11e8u
#define EDU_REG_IDENT		0x00	/* 0xRRrr00ed: major RR, minor rr */
#define EDU_REG_LIVENESS	0x04	/* reads back the bitwise inverse */
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_CMD_START	0x1
#define EDU_DMA_CMD_TO_RAM	0x2	/* direction: edu buffer -> RAM */
#define EDU_DMA_BUF		0x40000	/* edu-side DMA buffer address */
#define EDU_DMA_BUF_SIZE	4096
#define EDU_IDENT_LOW_BYTE	0xed

static uint32_t edu_read32(volatile void *bar, unsigned int reg)
{
	return *(volatile uint32_t *)((volatile char *)bar + reg);
}

static void edu_write32(volatile void *bar, unsigned int reg, uint32_t val)
{
	*(volatile uint32_t *)((volatile char *)bar + reg) = val;
}

static void edu_write64(volatile void *bar, unsigned int reg, uint64_t val)
{
	*(volatile uint64_t *)((volatile char *)bar + reg) = val;
}

/*
 * One DMA transfer, waited for. @to_ram: edu buffer -> RAM (a device write),
 * else RAM -> edu buffer. The edu-side range must lie inside the buffer and,
 * with QEMU 7.2, end before its end: QEMU aborts the whole machine
 * otherwise. The transfer runs from a 100 ms timer.
 * Return: 0 when the command register reports completion, -ETIMEDOUT.
 */
static int edu_dma(volatile void *bar, uint64_t src, uint64_t dst,
		   uint32_t count, bool to_ram)
{
	int i;

	edu_write64(bar, EDU_REG_DMA_SRC, src);
	edu_write64(bar, EDU_REG_DMA_DST, dst);
	edu_write64(bar, EDU_REG_DMA_COUNT, count);
	edu_write64(bar, EDU_REG_DMA_CMD,
		    EDU_DMA_CMD_START | (to_ram ? EDU_DMA_CMD_TO_RAM : 0));
	for (i = 0; i < 10000; i++) {
		if (!(edu_read32(bar, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START))
			return 0;
		vt_sleep_ms(1);
	}
	return -ETIMEDOUT;
}

/* What the liveness register reads after @val was written to it. */
static uint32_t edu_echo(uint32_t val)
{
	return ~val;
}

static bool edu_echoes(volatile void *bar, uint32_t val)
{
	edu_write32(bar, EDU_REG_LIVENESS, val);
	return edu_read32(bar, EDU_REG_LIVENESS) == edu_echo(val);
}

static bool edu_identifies(volatile void *bar)
{
	return (edu_read32(bar, EDU_REG_IDENT) & 0xff) == EDU_IDENT_LOW_BYTE;
}

/* The identification register's low byte, and the liveness register's
 * inverse of a value that changes from call to call. */
static int edu_alive(volatile void *regs, size_t size)
{
	static uint32_t seed = 0x5a5a0000;

	if (size < 0x100 || !edu_identifies(regs) || !edu_echoes(regs, ++seed))
		return -EIO;
	return 0;
}

static int edu_copy(struct vt_engine *e, uint64_t src, uint64_t dst,
		    size_t len)
{
	int ret;

	/* RAM -> buffer -> RAM, at most half the buffer (max_len). */
	ret = edu_dma(e->regs, src, EDU_DMA_BUF, len, false);
	if (ret)
		return ret;
	return edu_dma(e->regs, EDU_DMA_BUF, dst, len, true);
}

static int edu_irq_raise(struct vt_engine *e, unsigned int index,
			 unsigned int vector)
{
	if (vector)
		return -EINVAL;
	edu_write32(e->regs, EDU_REG_IRQ_RAISE, 1);
	return 0;
}

static void edu_irq_ack(struct vt_engine *e, unsigned int index)
{
	edu_write32(e->regs, EDU_REG_IRQ_ACK, ~0u);
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
	.echo_reg = EDU_REG_LIVENESS,
	.echo = edu_echo,
	.alive = edu_alive,
	.copy = edu_copy,
	.irq_raise = edu_irq_raise,
	.irq_ack = edu_irq_ack,
	.fini = edu_fini,
};
