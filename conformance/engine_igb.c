// SPDX-License-Identifier: GPL-2.0
/*
 * DMA engine for an Intel 82576 Gigabit Ethernet controller (QEMU's "igb"),
 * from the Intel 82576EB GbE Controller datasheet.
 *
 * A copy is one Ethernet frame: transmit queue 0 reads the bytes at the
 * source IOVA, the MAC loops the frame back internally (RCTL.LBM = MAC),
 * and receive queue 0 writes it at the destination IOVA. Both descriptor
 * rings live in one page the engine maps at its own IOVA window. Addresses
 * are 64-bit. So:
 *   - a frame sent from an unmapped IOVA is never transmitted, so nothing
 *     arrives;
 *   - a frame received into an unmapped or read-only IOVA never lands, while
 *     its descriptor (in the engine's own mapped page) still completes.
 * The receive filter is promiscuous and CRC stripping is on, so the frame
 * lands byte for byte; frames shorter than 60 bytes would be padded, so the
 * shortest copy is 60 bytes. The bytes are a frame to the device: bytes
 * 12-13 are its EtherType, and one that claims IPv4, IPv6 or a VLAN tag may
 * be parsed and dropped; callers use patterns that do not.
 *
 * Interrupts: INTx and MSI through the legacy cause registers (ICS/IMS/ICR),
 * MSI-X through the extended ones in multiple-vector mode (GPIE, EICS/EIMS/
 * EIAC/EICR), one vector per EICR bit.
 *
 * Written against what QEMU's igb emulation implements: advanced descriptors
 * only (it ignores legacy ones), link up after PHY auto-negotiation.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "engine.h"

#define IGB_VENDOR		0x8086u
#define IGB_DEVICE		0x10c9u		/* 82576, copper */
#define IGB_MSIX_VECTORS	10		/* vectors the PF owns */

/* Registers (datasheet section 8), offsets in BAR0. */
#define IGB_CTRL		0x0000
#define IGB_CTRL_RST		(1u << 26)
#define IGB_STATUS		0x0008
#define IGB_STATUS_LU		(1u << 1)	/* link up */
#define IGB_MDIC		0x0020
#define IGB_MDIC_REG_SHIFT	16
#define IGB_MDIC_PHY_SHIFT	21
#define IGB_MDIC_OP_WRITE	(1u << 26)
#define IGB_MDIC_READY		(1u << 28)
#define IGB_MDIC_ERROR		(1u << 30)
#define IGB_ICR			0x00c0		/* interrupt cause, w1c */
#define IGB_ICS			0x00c8		/* interrupt cause set */
#define IGB_IMS			0x00d0		/* interrupt mask set */
#define IGB_IMC			0x00d8		/* interrupt mask clear */
#define IGB_RCTL		0x0100
#define IGB_RCTL_EN		(1u << 1)
#define IGB_RCTL_UPE		(1u << 3)	/* unicast promiscuous */
#define IGB_RCTL_MPE		(1u << 4)	/* multicast promiscuous */
#define IGB_RCTL_LPE		(1u << 5)	/* long packets */
#define IGB_RCTL_LBM_MAC	(1u << 6)	/* loopback: MAC */
#define IGB_RCTL_BAM		(1u << 15)	/* accept broadcast */
#define IGB_RCTL_SECRC		(1u << 26)	/* strip the CRC */
#define IGB_TCTL		0x0400
#define IGB_TCTL_EN		(1u << 1)
#define IGB_TCTL_PSP		(1u << 3)	/* pad short packets */
#define IGB_GPIE		0x1514
#define IGB_GPIE_MULTIPLE_MSIX	(1u << 4)
#define IGB_EICS		0x1520
#define IGB_EIMS		0x1524
#define IGB_EIMC		0x1528
#define IGB_EIAC		0x152c
#define IGB_EICR		0x1580
#define IGB_RDBAL0		0xc000
#define IGB_RDBAH0		0xc004
#define IGB_RDLEN0		0xc008
#define IGB_SRRCTL0		0xc00c
#define IGB_SRRCTL_BSIZE_4K	4		/* packet buffer, KiB */
#define IGB_SRRCTL_ADV_ONEBUF	(1u << 25)
#define IGB_RDH0		0xc010
#define IGB_RDT0		0xc018
#define IGB_RXDCTL0		0xc028
#define IGB_TDBAL0		0xe000
#define IGB_TDBAH0		0xe004
#define IGB_TDLEN0		0xe008
#define IGB_TDH0		0xe010
#define IGB_TDT0		0xe018
#define IGB_TXDCTL0		0xe028
#define IGB_QUEUE_ENABLE	(1u << 25)	/* RXDCTL, TXDCTL */

/* PHY (MII) registers through MDIC: the internal PHY is at address 1. */
#define IGB_PHY_ADDR		1
#define MII_BMCR		0
#define MII_BMCR_SPEED1000	0x0040
#define MII_BMCR_FD		0x0100
#define MII_BMCR_ANRESTART	0x0200
#define MII_BMCR_AUTOEN		0x1000

/* Advanced transmit data descriptor, read format (7.2.2.3). */
struct igb_tx_desc {
	uint64_t addr;
	uint32_t cmd_type_len;
	uint32_t olinfo_status;	/* write-back: status, DD in bit 0 */
};

#define IGB_TXD_DTYP_DATA	(3u << 20)
#define IGB_TXD_EOP		(1u << 24)
#define IGB_TXD_IFCS		(1u << 25)
#define IGB_TXD_RS		(1u << 27)	/* report status (DD) */
#define IGB_TXD_DEXT		(1u << 29)	/* advanced descriptor */
#define IGB_TXD_PAYLEN_SHIFT	14
#define IGB_TXD_STAT_DD		1u

/* Advanced receive descriptor, read format (7.1.5.1). */
struct igb_rx_desc {
	uint64_t pkt_addr;
	uint64_t hdr_addr;	/* write-back: status_error in the low half */
};

#define IGB_RXD_STAT_DD		1u

/* The ring page: a ring of 8 descriptors each (the minimum of 128 bytes). */
#define IGB_RING_PAGE		4096
#define IGB_RING_BYTES		128
#define IGB_TX_RING		0
#define IGB_RX_RING		2048

#define IGB_MIN_FRAME		60
#define IGB_LINK_MS		5000	/* auto-negotiation takes 500 ms */
#define IGB_TX_MS		2000
#define IGB_RX_MS		100	/* after the transmit completed */

/* The cause INTx and MSI are raised with: TXDW, unused with no IVAR set. */
#define IGB_LEGACY_CAUSE	(1u << 0)

struct igb {
	void *ring;		/* the ring page, mapped at e->iova */
	bool mapped;
};

/* Poll a register until (value & mask) == want; 0 or -ETIMEDOUT. */
static int wait_reg(struct vt_engine *e, unsigned int off, uint32_t mask,
		    uint32_t want, long ms)
{
	long i;

	for (i = 0; i <= ms; i++) {
		if ((vt_reg_read(e, off) & mask) == want)
			return 0;
		vt_sleep_ms(1);
	}
	return -ETIMEDOUT;
}

static int wait_mem(volatile uint32_t *p, uint32_t mask, long ms)
{
	long i;

	for (i = 0; i <= ms; i++) {
		if (le32toh(*p) & mask)
			return 0;
		vt_sleep_ms(1);
	}
	return -ETIMEDOUT;
}

static int phy_write(struct vt_engine *e, unsigned int reg, uint16_t val)
{
	vt_reg_write(e, IGB_MDIC, val | reg << IGB_MDIC_REG_SHIFT |
		     IGB_PHY_ADDR << IGB_MDIC_PHY_SHIFT | IGB_MDIC_OP_WRITE);
	if (wait_reg(e, IGB_MDIC, IGB_MDIC_READY, IGB_MDIC_READY, 100))
		return -ETIMEDOUT;
	return vt_reg_read(e, IGB_MDIC) & IGB_MDIC_ERROR ? -EIO : 0;
}

/* Software reset; every interrupt masked and its cause cleared. */
static int igb_reset(struct vt_engine *e)
{
	vt_reg_write(e, IGB_CTRL, vt_reg_read(e, IGB_CTRL) | IGB_CTRL_RST);
	vt_sleep_ms(2);
	if (wait_reg(e, IGB_CTRL, IGB_CTRL_RST, 0, 100))
		return -ETIMEDOUT;
	vt_reg_write(e, IGB_IMC, ~0u);
	vt_reg_write(e, IGB_EIMC, ~0u);
	vt_reg_write(e, IGB_GPIE, 0);
	vt_reg_write(e, IGB_ICR, ~0u);
	vt_reg_write(e, IGB_EICR, ~0u);
	return 0;
}

static int igb_init(struct vt_engine *e)
{
	struct igb *g;
	int ret;

	if (e->container < 0)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	e->priv = g;
	g->ring = mmap(NULL, IGB_RING_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->ring == MAP_FAILED) {
		ret = -errno;
		goto err_free;
	}
	memset(g->ring, 0, IGB_RING_PAGE);
	ret = vt_map_dma(e->container, g->ring, e->iova, IGB_RING_PAGE,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	if (ret)
		goto err_unmap;
	g->mapped = true;

	ret = igb_reset(e);
	if (ret)
		goto err_dma;
	/* Link up: the loopback path needs it. Restart auto-negotiation. */
	ret = phy_write(e, MII_BMCR, MII_BMCR_AUTOEN | MII_BMCR_ANRESTART |
			MII_BMCR_FD | MII_BMCR_SPEED1000);
	if (ret)
		goto err_dma;
	ret = wait_reg(e, IGB_STATUS, IGB_STATUS_LU, IGB_STATUS_LU,
		       IGB_LINK_MS);
	if (ret)
		goto err_dma;

	vt_reg_write(e, IGB_TDBAL0, (uint32_t)(e->iova + IGB_TX_RING));
	vt_reg_write(e, IGB_TDBAH0, (uint32_t)((e->iova + IGB_TX_RING) >> 32));
	vt_reg_write(e, IGB_TDLEN0, IGB_RING_BYTES);
	vt_reg_write(e, IGB_RDBAL0, (uint32_t)(e->iova + IGB_RX_RING));
	vt_reg_write(e, IGB_RDBAH0, (uint32_t)((e->iova + IGB_RX_RING) >> 32));
	vt_reg_write(e, IGB_RDLEN0, IGB_RING_BYTES);
	vt_reg_write(e, IGB_SRRCTL0, IGB_SRRCTL_BSIZE_4K |
		     IGB_SRRCTL_ADV_ONEBUF);
	vt_reg_write(e, IGB_RCTL, IGB_RCTL_EN | IGB_RCTL_UPE | IGB_RCTL_MPE |
		     IGB_RCTL_LPE | IGB_RCTL_LBM_MAC | IGB_RCTL_BAM |
		     IGB_RCTL_SECRC);
	vt_reg_write(e, IGB_TCTL, IGB_TCTL_EN | IGB_TCTL_PSP);
	return 0;

err_dma:
	vt_unmap_dma(e->container, e->iova, IGB_RING_PAGE);
err_unmap:
	munmap(g->ring, IGB_RING_PAGE);
err_free:
	free(g);
	e->priv = NULL;
	return ret;
}

static void queue_enable(struct vt_engine *e, unsigned int reg, bool on)
{
	uint32_t v = vt_reg_read(e, reg);

	vt_reg_write(e, reg, on ? v | IGB_QUEUE_ENABLE : v & ~IGB_QUEUE_ENABLE);
}

static int igb_copy(struct vt_engine *e, uint64_t src, uint64_t dst,
		    size_t len)
{
	struct igb *g = e->priv;
	volatile struct igb_tx_desc *txd =
		(void *)((char *)g->ring + IGB_TX_RING);
	volatile struct igb_rx_desc *rxd =
		(void *)((char *)g->ring + IGB_RX_RING);

	if (len < IGB_MIN_FRAME || len > 0xffff)
		return -EINVAL;
	/* Every copy restarts both rings at descriptor 0, queues off. */
	queue_enable(e, IGB_RXDCTL0, false);
	queue_enable(e, IGB_TXDCTL0, false);
	memset((void *)txd, 0, IGB_RING_BYTES);
	memset((void *)rxd, 0, IGB_RING_BYTES);
	rxd[0].pkt_addr = htole64(dst);
	txd[0].addr = htole64(src);
	txd[0].cmd_type_len = htole32((uint32_t)len | IGB_TXD_DTYP_DATA |
				      IGB_TXD_DEXT | IGB_TXD_EOP |
				      IGB_TXD_IFCS | IGB_TXD_RS);
	txd[0].olinfo_status = htole32((uint32_t)len << IGB_TXD_PAYLEN_SHIFT);
	__sync_synchronize();
	vt_reg_write(e, IGB_RDH0, 0);
	vt_reg_write(e, IGB_RDT0, 0);
	vt_reg_write(e, IGB_TDH0, 0);
	vt_reg_write(e, IGB_TDT0, 0);
	queue_enable(e, IGB_RXDCTL0, true);
	queue_enable(e, IGB_TXDCTL0, true);
	vt_reg_write(e, IGB_RDT0, 1);	/* one receive buffer ... */
	vt_reg_write(e, IGB_TDT0, 1);	/* ... and one frame to send */

	if (wait_mem(&txd[0].olinfo_status, IGB_TXD_STAT_DD, IGB_TX_MS))
		return -ETIMEDOUT;
	/* A frame that was sent arrives at once; one that was not, never. */
	wait_mem((volatile uint32_t *)&rxd[0].hdr_addr, IGB_RXD_STAT_DD,
		 IGB_RX_MS);
	return 0;
}

static int igb_irq_raise(struct vt_engine *e, unsigned int index,
			 unsigned int vector)
{
	if (index == VFIO_PCI_MSIX_IRQ_INDEX) {
		if (vector >= IGB_MSIX_VECTORS)
			return -EINVAL;
		vt_reg_write(e, IGB_GPIE, IGB_GPIE_MULTIPLE_MSIX);
		vt_reg_write(e, IGB_EIAC, 1u << vector);
		vt_reg_write(e, IGB_EIMS, 1u << vector);
		vt_reg_write(e, IGB_EICS, 1u << vector);
		return 0;
	}
	if (vector)
		return -EINVAL;
	vt_reg_write(e, IGB_GPIE, 0);
	vt_reg_write(e, IGB_IMS, IGB_LEGACY_CAUSE);
	vt_reg_write(e, IGB_ICS, IGB_LEGACY_CAUSE);
	return 0;
}

static void igb_irq_ack(struct vt_engine *e, unsigned int index)
{
	if (index == VFIO_PCI_MSIX_IRQ_INDEX)
		vt_reg_write(e, IGB_EICR, ~0u);
	else
		vt_reg_write(e, IGB_ICR, ~0u);
}

/* Read-only: STATUS and CTRL of a present 82576 are not all-ones, and its
 * BAR0 is the 128 KiB register space. */
static int igb_alive(volatile void *regs, size_t size)
{
	volatile char *r = regs;

	if (size < 0x20000 ||
	    *(volatile uint32_t *)(r + IGB_STATUS) == ~0u ||
	    *(volatile uint32_t *)(r + IGB_CTRL) == ~0u)
		return -EIO;
	return 0;
}

static void igb_fini(struct vt_engine *e)
{
	struct igb *g = e->priv;

	vt_reg_write(e, IGB_RCTL, 0);
	vt_reg_write(e, IGB_TCTL, 0);
	igb_reset(e);
	if (!g)
		return;
	if (g->mapped && e->container >= 0)
		vt_unmap_dma(e->container, e->iova, IGB_RING_PAGE);
	munmap(g->ring, IGB_RING_PAGE);
	free(g);
	e->priv = NULL;
}

const struct vt_engine_ops vt_engine_igb = {
	.name = "igb",
	.vendor = IGB_VENDOR,
	.device = IGB_DEVICE,
	.bar = VFIO_PCI_BAR0_REGION_INDEX,
	.dma_bits = 64,
	.max_len = 4096,
	.irq_indexes = VT_IRQ_BIT(VFIO_PCI_INTX_IRQ_INDEX) |
		       VT_IRQ_BIT(VFIO_PCI_MSI_IRQ_INDEX) |
		       VT_IRQ_BIT(VFIO_PCI_MSIX_IRQ_INDEX),
	.ident_reg = IGB_STATUS,
	.min_write = IGB_MIN_FRAME,
	.alive = igb_alive,
	.msix_vectors = IGB_MSIX_VECTORS,
	.init = igb_init,
	.copy = igb_copy,
	.irq_raise = igb_irq_raise,
	.irq_ack = igb_irq_ack,
	.fini = igb_fini,
};
