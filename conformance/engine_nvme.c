// SPDX-License-Identifier: GPL-2.0
/*
 * DMA engine for any NVMe controller (PCI class 01:08:02), from the NVM
 * Express Base Specification: the controller registers, the admin queue
 * and one admin command, Identify Controller. No I/O queue, no I/O command,
 * no Set Features, no Format: nothing on the medium or in the controller's
 * saved state changes, so a controller the host is not using (conformance/
 * run refuses one whose namespaces are mounted or held) is safe to hand the
 * suite. The only state touched is the controller's enable bit, CC.EN
 * 0 -> 1, as any driver's probe does.
 *
 * Device to host (write): Identify Controller with its data pointer (PRP1,
 * and PRP2 when the 4096 bytes cross a page) at the IOVA; what lands is the
 * controller's Identify data, which the engine read once into its own page
 * at init. Host to device (read): the controller is re-enabled with its
 * admin submission queue at the IOVA, the engine writes one Identify entry
 * there and rings the doorbell; a completion carrying that entry's command
 * identifier proves the controller fetched the 64 bytes. An entry it
 * cannot fetch leaves it with Controller Fatal Status (CSTS.CFS; QEMU's
 * nvme) or no completion at all; either is "not read", and a reset brings
 * the admin queue back to the engine's own window. Neither direction can
 * carry arbitrary bytes, so there is no copy.
 *
 * Interrupts: the admin completion queue signals vector 0: INTx (masked by
 * INTMS except while a test raises it) and MSI-X vector 0. QEMU's nvme marks
 * an MSI-X vector in use only when a completion queue is created with MSI-X
 * on, so raising an interrupt of another kind than the last re-enables the
 * controller first. MSI is not offered: QEMU's nvme has none.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine.h"

#define NVME_CLASS		0x010802u	/* mass storage, NVM, NVMe */

/* Controller registers, offsets in BAR0. */
#define NVME_CAP_LO		0x00
#define NVME_CAP_HI		0x04
#define NVME_VS			0x08	/* major 31:16, minor 15:8 */
#define NVME_CAP_TO(lo)		(((lo) >> 24) & 0xff)	/* 500 ms units */
#define NVME_CAP_DSTRD(hi)	((hi) & 0xf)		/* CAP bits 35:32 */
#define NVME_CAP_CSS(hi)	(((hi) >> 5) & 0xff)	/* CAP bits 44:37 */
#define NVME_CAP_MPSMIN(hi)	(((hi) >> 16) & 0xf)	/* CAP bits 51:48 */
#define NVME_CSS_NVM		0x01
#define NVME_CSS_NO_IO		0x80
#define NVME_INTMS		0x0c
#define NVME_INTMC		0x10
#define NVME_CC			0x14
#define NVME_CC_EN		(1u << 0)
#define NVME_CC_CSS_SHIFT	4
#define NVME_CC_CSS_ADMIN_ONLY	7u
#define NVME_CC_IOSQES		(6u << 16)	/* 64-byte entries */
#define NVME_CC_IOCQES		(4u << 20)	/* 16-byte entries */
#define NVME_CSTS		0x1c
#define NVME_CSTS_RDY		(1u << 0)
#define NVME_CSTS_CFS		(1u << 1)
#define NVME_AQA		0x24
#define NVME_ASQ		0x28
#define NVME_ACQ		0x30
#define NVME_DOORBELLS		0x1000

#define NVME_ADMIN_IDENTIFY	0x06
#define NVME_CNS_CTRL		1
#define NVME_IDENTIFY_LEN	4096
#define NVME_SQE_SIZE		64

#define NVME_PAGE		4096u
#define NVME_QDEPTH		64	/* admin queue entries */
#define NVME_CMD_MS		2000	/* a command that must complete */

/* The engine's pages, mapped at the start of its IOVA window. */
#define NVME_MEM_SQ		0
#define NVME_MEM_CQ		1
#define NVME_MEM_DATA		2
#define NVME_MEM_PAGES		3

struct nvme_sqe {
	uint32_t cdw0;		/* opcode 7:0, command identifier 31:16 */
	uint32_t nsid;
	uint32_t rsvd[2];
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10_15[6];
};

struct nvme_cqe {
	uint32_t dw0;
	uint32_t rsvd;
	uint32_t dw2;		/* SQ head 15:0, SQ id 31:16 */
	uint32_t dw3;		/* command id 15:0, phase 16, status 31:17 */
};

#define NVME_CQE_PHASE		(1u << 16)
#define NVME_CQE_STATUS(dw3)	((dw3) >> 17)

struct nvme {
	unsigned char *mem;	/* NVME_MEM_PAGES, mapped at e->iova */
	bool mapped;
	unsigned int stride;	/* doorbell stride, bytes */
	long ready_ms;		/* CAP.TO: bound on CSTS.RDY changes */
	uint32_t css;		/* CC.CSS */
	uint16_t sq_tail, cq_head, cid;
	uint32_t phase;		/* of the next completion entry */
	int irq_mode;		/* interrupt kind at the last enable, or -1 */
	unsigned char ident[NVME_IDENTIFY_LEN];
};

static uint64_t mem_iova(struct vt_engine *e, unsigned int page)
{
	return e->iova + (uint64_t)page * NVME_PAGE;
}

static void *mem_page(struct nvme *nv, unsigned int page)
{
	return nv->mem + (size_t)page * NVME_PAGE;
}

static void reg_write64(struct vt_engine *e, unsigned int off, uint64_t v)
{
	vt_reg_write(e, off, (uint32_t)v);
	vt_reg_write(e, off + 4, (uint32_t)(v >> 32));
}

/* Poll CSTS until (CSTS & mask) == want; 0, -EIO on fatal, -ETIMEDOUT. */
static int wait_csts(struct vt_engine *e, uint32_t mask, uint32_t want,
		     long ms, bool fatal)
{
	long i;

	for (i = 0; i <= ms; i++) {
		uint32_t csts = vt_reg_read(e, NVME_CSTS);

		if (csts == ~0u)
			return -EIO;	/* the device is gone */
		if (fatal && (csts & NVME_CSTS_CFS))
			return -EIO;
		if ((csts & mask) == want)
			return 0;
		vt_sleep_ms(1);
	}
	return -ETIMEDOUT;
}

static int nvme_disable(struct vt_engine *e)
{
	struct nvme *nv = e->priv;

	vt_reg_write(e, NVME_CC, vt_reg_read(e, NVME_CC) & ~NVME_CC_EN);
	return wait_csts(e, NVME_CSTS_RDY, 0, nv->ready_ms, false);
}

/*
 * Reset the controller and enable it with its admin submission queue at
 * @asq and the completion queue in the engine's page; INTx masked unless
 * @irq_mode is INTx.
 */
static int nvme_enable(struct vt_engine *e, uint64_t asq, int irq_mode)
{
	struct nvme *nv = e->priv;
	int ret = nvme_disable(e);

	if (ret)
		return ret;
	memset(mem_page(nv, NVME_MEM_CQ), 0, NVME_PAGE);
	nv->sq_tail = nv->cq_head = 0;
	nv->phase = NVME_CQE_PHASE;
	vt_reg_write(e, NVME_AQA, (NVME_QDEPTH - 1) << 16 | (NVME_QDEPTH - 1));
	reg_write64(e, NVME_ASQ, asq);
	reg_write64(e, NVME_ACQ, mem_iova(e, NVME_MEM_CQ));
	vt_reg_write(e, NVME_CC, NVME_CC_EN | nv->css << NVME_CC_CSS_SHIFT |
		     NVME_CC_IOSQES | NVME_CC_IOCQES);
	ret = wait_csts(e, NVME_CSTS_RDY, NVME_CSTS_RDY, nv->ready_ms, true);
	if (ret)
		return ret;
	vt_reg_write(e, irq_mode == VFIO_PCI_INTX_IRQ_INDEX ? NVME_INTMC :
		     NVME_INTMS, 1);
	nv->irq_mode = irq_mode;
	return 0;
}

/* An Identify Controller entry writing at @iova (dword aligned). */
static void identify_sqe(struct nvme_sqe *sqe, uint16_t cid, uint64_t iova)
{
	uint64_t next = (iova & ~(uint64_t)(NVME_PAGE - 1)) + NVME_PAGE;

	memset(sqe, 0, sizeof(*sqe));
	sqe->cdw0 = htole32(NVME_ADMIN_IDENTIFY | (uint32_t)cid << 16);
	sqe->prp1 = htole64(iova);
	/* The 4096 bytes cross into a second page unless iova is aligned. */
	if (iova & (NVME_PAGE - 1))
		sqe->prp2 = htole64(next);
	sqe->cdw10_15[0] = htole32(NVME_CNS_CTRL);
}

/* Ring submission queue 0's tail doorbell after one more entry. */
static void sq_ring(struct vt_engine *e)
{
	struct nvme *nv = e->priv;

	nv->sq_tail = (nv->sq_tail + 1) % NVME_QDEPTH;
	__sync_synchronize();
	vt_reg_write(e, NVME_DOORBELLS, nv->sq_tail);
}

/* Tell the controller how far completion queue 0 was consumed. */
static void cq_ring(struct vt_engine *e)
{
	struct nvme *nv = e->priv;

	vt_reg_write(e, NVME_DOORBELLS + nv->stride, nv->cq_head);
}

/*
 * Wait for the next completion; consume it (without ringing its doorbell).
 * Return: its command id and status in *dw3, or -EIO (fatal status),
 * -ETIMEDOUT.
 */
static int cq_wait(struct vt_engine *e, uint32_t *dw3, long ms)
{
	struct nvme *nv = e->priv;
	volatile struct nvme_cqe *cq = mem_page(nv, NVME_MEM_CQ);
	long i;

	for (i = 0; i <= ms; i++) {
		uint32_t v = le32toh(cq[nv->cq_head].dw3);

		if ((v & NVME_CQE_PHASE) == nv->phase) {
			*dw3 = v;
			if (++nv->cq_head == NVME_QDEPTH) {
				nv->cq_head = 0;
				nv->phase ^= NVME_CQE_PHASE;
			}
			return 0;
		}
		if (vt_reg_read(e, NVME_CSTS) & NVME_CSTS_CFS)
			return -EIO;
		vt_sleep_ms(1);
	}
	return -ETIMEDOUT;
}

/*
 * Submit an Identify writing at @iova on the engine's own queue and wait for
 * its completion. Return: the completion's status field (0: success), or
 * -EIO, -ETIMEDOUT. The completion doorbell is left to the caller.
 */
static int identify(struct vt_engine *e, uint64_t iova)
{
	struct nvme *nv = e->priv;
	struct nvme_sqe *sq = mem_page(nv, NVME_MEM_SQ);
	uint16_t cid = ++nv->cid;
	uint32_t dw3;
	int ret;

	identify_sqe(&sq[nv->sq_tail], cid, iova);
	sq_ring(e);
	ret = cq_wait(e, &dw3, NVME_CMD_MS);
	if (ret)
		return ret;
	if ((dw3 & 0xffff) != cid)
		return -EPROTO;
	return (int)NVME_CQE_STATUS(dw3);
}

/*
 * Live NVMe: the version register names a major version (1 or 2 so far) and
 * the capabilities are not all-ones (a removed device reads all-ones). Read
 * only: every writable register of a controller is state it keeps.
 */
static int nvme_alive(volatile void *regs, size_t size)
{
	volatile uint32_t *r = regs;
	uint32_t vs, cap_lo, cap_hi;

	if (size < NVME_DOORBELLS + 8)
		return -EIO;
	vs = r[NVME_VS / 4];
	cap_lo = r[NVME_CAP_LO / 4];
	cap_hi = r[NVME_CAP_HI / 4];
	if (vs == ~0u || !(vs >> 16) || (vs >> 16) > 0xff ||
	    (cap_lo == ~0u && cap_hi == ~0u))
		return -EIO;
	return 0;
}

static int nvme_init(struct vt_engine *e)
{
	uint32_t lo = vt_reg_read(e, NVME_CAP_LO);
	uint32_t hi = vt_reg_read(e, NVME_CAP_HI);
	size_t size = NVME_MEM_PAGES * NVME_PAGE;
	struct nvme *nv;
	int ret;

	if (e->container < 0)
		return -EINVAL;
	/* 4 KiB pages and a command set to enable with, or not an NVMe. */
	if (NVME_CAP_MPSMIN(hi) != 0 ||
	    !(NVME_CAP_CSS(hi) & (NVME_CSS_NVM | NVME_CSS_NO_IO)))
		return -EOPNOTSUPP;
	nv = calloc(1, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	e->priv = nv;
	nv->stride = 4u << NVME_CAP_DSTRD(hi);
	nv->ready_ms = 500L * (NVME_CAP_TO(lo) ? NVME_CAP_TO(lo) : 1);
	nv->css = NVME_CAP_CSS(hi) & NVME_CSS_NVM ? 0 : NVME_CC_CSS_ADMIN_ONLY;
	nv->irq_mode = -1;
	nv->mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (nv->mem == MAP_FAILED) {
		ret = -errno;
		goto err_free;
	}
	memset(nv->mem, 0, size);
	ret = vt_map_dma(e->container, nv->mem, e->iova, size,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	if (ret)
		goto err_unmap;
	nv->mapped = true;
	ret = nvme_enable(e, mem_iova(e, NVME_MEM_SQ), -1);
	if (ret)
		goto err_dma;
	/* What every write will land: the controller's Identify data. */
	ret = identify(e, mem_iova(e, NVME_MEM_DATA));
	cq_ring(e);
	if (ret) {
		ret = ret > 0 ? -EIO : ret;
		goto err_disable;
	}
	memcpy(nv->ident, mem_page(nv, NVME_MEM_DATA), sizeof(nv->ident));
	return 0;

err_disable:
	nvme_disable(e);
err_dma:
	vt_unmap_dma(e->container, e->iova, size);
err_unmap:
	munmap(nv->mem, size);
err_free:
	free(nv);
	e->priv = NULL;
	return ret;
}

/*
 * After a command the IOMMU stopped: a controller with fatal status, or
 * one that never completed, is reset onto the engine's queue.
 */
static int recover(struct vt_engine *e, int ret)
{
	struct nvme *nv = e->priv;

	if (ret != -EIO && ret != -ETIMEDOUT && ret != -EPROTO)
		return 0;
	return nvme_enable(e, mem_iova(e, NVME_MEM_SQ), nv->irq_mode);
}

static ssize_t nvme_write(struct vt_engine *e, uint64_t iova, size_t len,
			  void *expect)
{
	struct nvme *nv = e->priv;
	int ret;

	if (iova & 3)
		return -EINVAL;
	ret = identify(e, iova);
	/* A status (a data transfer error) is the device's report. */
	if (ret >= 0)
		cq_ring(e);
	else if (recover(e, ret))
		return -EIO;
	memcpy(expect, nv->ident, NVME_IDENTIFY_LEN);
	return NVME_IDENTIFY_LEN;
}

static int nvme_read(struct vt_engine *e, void *host, uint64_t iova,
		     size_t len)
{
	struct nvme *nv = e->priv;
	uint16_t cid = ++nv->cid;
	uint32_t dw3 = 0;
	int ret, got;

	if ((iova & (NVME_PAGE - 1)) || len < NVME_SQE_SIZE)
		return -EINVAL;
	/* Entry 0 of a queue at @iova; its data goes to the engine's page. */
	memset(mem_page(nv, NVME_MEM_DATA), 0, NVME_PAGE);
	identify_sqe(host, cid, mem_iova(e, NVME_MEM_DATA));
	__sync_synchronize();
	ret = nvme_enable(e, iova, nv->irq_mode);
	if (ret)
		return ret;
	sq_ring(e);
	ret = cq_wait(e, &dw3, NVME_CMD_MS);
	got = !ret && (dw3 & 0xffff) == cid && !NVME_CQE_STATUS(dw3) &&
	      !memcmp(mem_page(nv, NVME_MEM_DATA), nv->ident, sizeof(nv->ident));
	/* Back to the engine's own queue, whatever happened. */
	ret = nvme_enable(e, mem_iova(e, NVME_MEM_SQ), nv->irq_mode);
	return ret ? ret : got;
}

/*
 * One completion on the admin queue: vector 0. Pin-based interrupts stay
 * asserted until irq_ack rings the completion doorbell.
 */
static int nvme_irq_raise(struct vt_engine *e, unsigned int index,
			  unsigned int vector)
{
	struct nvme *nv = e->priv;
	int ret;

	if (vector)
		return -EINVAL;
	if (nv->irq_mode != (int)index) {
		ret = nvme_enable(e, mem_iova(e, NVME_MEM_SQ), index);
		if (ret)
			return ret;
	}
	ret = identify(e, mem_iova(e, NVME_MEM_DATA));
	if (ret < 0)
		return ret;
	if (index != VFIO_PCI_INTX_IRQ_INDEX)
		cq_ring(e);
	return ret ? -EIO : 0;
}

static void nvme_irq_ack(struct vt_engine *e, unsigned int index)
{
	cq_ring(e);
}

static void nvme_fini(struct vt_engine *e)
{
	struct nvme *nv = e->priv;
	size_t size = NVME_MEM_PAGES * NVME_PAGE;

	if (!nv)
		return;
	vt_reg_write(e, NVME_INTMS, 1);
	nvme_disable(e);
	if (nv->mapped && e->container >= 0)
		vt_unmap_dma(e->container, e->iova, size);
	munmap(nv->mem, size);
	free(nv);
	e->priv = NULL;
}

const struct vt_engine_ops vt_engine_nvme = {
	.name = "nvme",
	.class_code = NVME_CLASS,
	.class_mask = 0xffffff,
	.bar = VFIO_PCI_BAR0_REGION_INDEX,
	.ident_reg = NVME_VS,
	.min_write = NVME_IDENTIFY_LEN,
	.alive = nvme_alive,
	.dma_bits = 64,
	.max_len = NVME_IDENTIFY_LEN,
	.irq_indexes = VT_IRQ_BIT(VFIO_PCI_INTX_IRQ_INDEX) |
		       VT_IRQ_BIT(VFIO_PCI_MSIX_IRQ_INDEX),
	.msix_vectors = 1,
	.init = nvme_init,
	.write = nvme_write,
	.read = nvme_read,
	.irq_raise = nvme_irq_raise,
	.irq_ack = nvme_irq_ack,
	.fini = nvme_fini,
};
