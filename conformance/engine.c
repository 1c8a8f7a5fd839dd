// SPDX-License-Identifier: GPL-2.0
/*
 * The engine registry and the device-independent half of every engine:
 * bus mastering, the register BAR, dispatch. See engine.h.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "engine.h"

/* Every engine the suite knows; add yours here. */
static const struct vt_engine_ops *const vt_engines[] = {
	&vt_engine_edu,
	&vt_engine_igb,
	&vt_engine_nvme,
};

#define N_ENGINES (sizeof(vt_engines) / sizeof(vt_engines[0]))

/**
 * vt_engine_by_name() - an engine by its name ("edu", "igb", "nvme")
 * Return: the engine, or NULL.
 */
const struct vt_engine_ops *vt_engine_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < N_ENGINES; i++)
		if (!strcmp(vt_engines[i]->name, name))
			return vt_engines[i];
	return NULL;
}

static bool ops_match(const struct vt_engine_ops *ops,
		      const struct vt_pci_dev *dev)
{
	if (ops->class_mask)
		return (dev->class_code & ops->class_mask) == ops->class_code;
	return ops->vendor == dev->vendor && ops->device == dev->device;
}

/**
 * vt_engine_for() - the engine that drives @dev
 * Return: the engine, or NULL when none matches.
 */
const struct vt_engine_ops *vt_engine_for(const struct vt_pci_dev *dev)
{
	size_t i;

	for (i = 0; i < N_ENGINES; i++)
		if (ops_match(vt_engines[i], dev))
			return vt_engines[i];
	return NULL;
}

/**
 * vt_has_engine() - whether an engine drives @dev (a vt_select() filter)
 */
bool vt_has_engine(const struct vt_pci_dev *dev)
{
	return vt_engine_for(dev) != NULL;
}

/* vt_select() filter: "this engine drives it". */
static const struct vt_engine_ops *select_ops;

static bool has_engine(const struct vt_pci_dev *dev)
{
	const struct vt_engine_ops *ops = vt_engine_for(dev);

	return ops && (!select_ops || ops == select_ops);
}

/**
 * vt_engine_select() - the @nth selected device of @kind that @ops drives
 * @ops: an engine, or NULL for a device any engine drives
 * Return: 0 and fills @out, or -ENODEV.
 */
int vt_engine_select(const struct vt_engine_ops *ops, enum vt_dev_kind kind,
		     int nth, struct vt_pci_dev *out)
{
	int ret;

	select_ops = ops;
	ret = vt_select(kind, nth, has_engine, out);
	select_ops = NULL;
	return ret;
}

/**
 * vt_engine_alive() - the engine's harmless register round trip on @device
 * Maps the register BAR for the time of the check; needs no vt_engine_open().
 * Return: 0 when the device answers, -EIO when it does not, -errno when the
 * BAR cannot be mapped.
 */
int vt_engine_alive(const struct vt_engine_ops *ops, int device)
{
	size_t size;
	void *regs = vt_mmap_bar(device, ops->bar, &size);
	int ret;

	if (regs == MAP_FAILED)
		return -errno;
	ret = ops->alive(regs, size);
	munmap(regs, size);
	return ret;
}

static int bus_master(int device, bool on)
{
	uint16_t cmd;
	int ret = vt_config_read16(device, PCI_COMMAND_OFFSET, &cmd);

	if (ret)
		return ret;
	if (on)
		cmd |= PCI_COMMAND_MASTER_BIT;
	else
		cmd &= ~PCI_COMMAND_MASTER_BIT;
	return vt_config_write16(device, PCI_COMMAND_OFFSET, cmd);
}

/*
 * An engine that copies gets write and read through a scratch page, the
 * last of its window, when it has a container to map it in.
 */
static int scratch_map(struct vt_engine *e)
{
	void *p;
	int ret;

	if (!e->ops->copy || (e->ops->write && e->ops->read) ||
	    e->container < 0)
		return 0;
	p = mmap(NULL, VT_SCRATCH_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	memset(p, 0, VT_SCRATCH_SIZE);
	e->scratch_iova = e->iova + VT_ENGINE_IOVA_SIZE - VT_SCRATCH_SIZE;
	ret = vt_map_dma(e->container, p, e->scratch_iova, VT_SCRATCH_SIZE,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	if (ret) {
		munmap(p, VT_SCRATCH_SIZE);
		return ret;
	}
	e->scratch = p;
	return 0;
}

/* The mapping goes with the container when a test closed it first. */
static void scratch_unmap(struct vt_engine *e)
{
	if (!e->scratch)
		return;
	if (e->container >= 0)
		vt_unmap_dma(e->container, e->scratch_iova, VT_SCRATCH_SIZE);
	munmap(e->scratch, VT_SCRATCH_SIZE);
	e->scratch = NULL;
}

/* The engine's own memory and init, once its registers are mapped. */
static int engine_start(struct vt_engine *e)
{
	int ret = scratch_map(e);

	if (ret)
		return ret;
	ret = e->ops->init ? e->ops->init(e) : 0;
	if (ret)
		scratch_unmap(e);
	return ret;
}

/**
 * vt_engine_open() - make an open device fd a DMA engine
 * @device: the VFIO device fd
 * @container: the container the engine may map its own memory into (-1:
 *	none; an engine that needs memory then fails)
 * @iova: the start of a VT_ENGINE_IOVA_SIZE window for that memory
 *
 * Turns bus mastering on, maps the register BAR and runs the engine's init.
 * Return: 0, or -errno with nothing left to close.
 */
int vt_engine_open(struct vt_engine *e, const struct vt_engine_ops *ops,
		   int device, int container, uint64_t iova)
{
	void *regs;
	int ret;

	memset(e, 0, sizeof(*e));
	e->ops = ops;
	e->device = device;
	e->container = container;
	e->iova = iova;
	ret = bus_master(device, true);
	if (ret)
		goto err;
	regs = vt_mmap_bar(device, ops->bar, &e->regs_size);
	if (regs == MAP_FAILED) {
		ret = -errno;
		goto err_master;
	}
	e->regs = regs;
	ret = engine_start(e);
	if (ret)
		goto err_unmap;
	return 0;

err_unmap:
	munmap(regs, e->regs_size);
err_master:
	bus_master(device, false);
err:
	e->ops = NULL;
	e->regs = NULL;
	return ret;
}

/**
 * vt_engine_open_regs() - an engine on a register BAR the caller mapped
 *
 * For a function no VFIO driver holds (mapped through its sysfs resource
 * file, bus mastering turned on by the caller): nothing here touches its
 * config space, and vt_engine_close() leaves the mapping and bus mastering
 * to the caller. @container and @iova as for vt_engine_open().
 * Return: 0, or -errno with nothing left to close.
 */
int vt_engine_open_regs(struct vt_engine *e, const struct vt_engine_ops *ops,
			volatile void *regs, size_t size, int container,
			uint64_t iova)
{
	int ret;

	memset(e, 0, sizeof(*e));
	e->ops = ops;
	e->device = -1;
	e->container = container;
	e->iova = iova;
	e->regs = regs;
	e->regs_size = size;
	ret = engine_start(e);
	if (ret) {
		e->ops = NULL;
		e->regs = NULL;
	}
	return ret;
}

/**
 * vt_engine_close() - quiesce the device and undo vt_engine_open()
 * Safe on an engine that never opened (zeroed) or is already closed.
 */
void vt_engine_close(struct vt_engine *e)
{
	if (!e->ops)
		return;
	if (e->ops->fini)
		e->ops->fini(e);
	if (e->device >= 0)
		bus_master(e->device, false);
	scratch_unmap(e);
	if (e->device >= 0)
		munmap((void *)e->regs, e->regs_size);
	e->regs = NULL;
	e->ops = NULL;
}

/**
 * vt_engine_copy() - the device reads @len bytes at @src, writes them at @dst
 * Return: 0 when the device processed the transfer (look at memory for
 * whether the IOMMU let it through), -EINVAL when @len is beyond the engine,
 * -ETIMEDOUT.
 */
int vt_engine_copy(struct vt_engine *e, uint64_t src, uint64_t dst,
		   size_t len)
{
	if (!e->ops->copy)
		return -EOPNOTSUPP;
	if (!len || len > e->ops->max_len)
		return -EINVAL;
	return e->ops->copy(e, src, dst, len);
}

/**
 * vt_engine_can_copy() - whether the engine copies arbitrary bytes
 */
bool vt_engine_can_copy(const struct vt_engine_ops *ops)
{
	return ops->copy != NULL;
}

/* What write on copy sends: bytes 12-13 (an EtherType) never claim IP. */
static void scratch_pattern(unsigned char *p, size_t len, unsigned char add)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 11 + add);
}

/**
 * vt_engine_write() - the device writes at IOVA @iova (engine.h: write)
 * @expect: room for max_len bytes; gets what the device writes
 * Return: the number of bytes written (at least @len), -EINVAL when @len is
 * beyond the engine, -EOPNOTSUPP, -ETIMEDOUT.
 */
ssize_t vt_engine_write(struct vt_engine *e, uint64_t iova, size_t len,
			void *expect)
{
	int ret;

	if (!len || len > e->ops->max_len)
		return -EINVAL;
	if (e->ops->write)
		return e->ops->write(e, iova, len, expect);
	if (!e->scratch)
		return -EOPNOTSUPP;
	scratch_pattern(e->scratch, len, 0x35);
	memcpy(expect, e->scratch, len);
	ret = e->ops->copy(e, e->scratch_iova, iova, len);
	return ret ? ret : (ssize_t)len;
}

/**
 * vt_engine_read() - the device reads at IOVA @iova (engine.h: read)
 * @host: the user memory behind @iova (or that was), at least @len bytes
 * Return: 1 when the device got the bytes, 0 when it did not, -errno.
 */
int vt_engine_read(struct vt_engine *e, void *host, uint64_t iova,
		   size_t len)
{
	int ret;

	if (!len || len > e->ops->max_len)
		return -EINVAL;
	if (e->ops->read)
		return e->ops->read(e, host, iova, len);
	if (!e->scratch)
		return -EOPNOTSUPP;
	scratch_pattern(host, len, 0x6b);
	memset(e->scratch, 0, len);
	ret = e->ops->copy(e, iova, e->scratch_iova, len);
	if (ret)
		return ret;
	return memcmp(e->scratch, host, len) == 0;
}

/**
 * vt_engine_round_trip() - DMA both ways through user memory at @iova
 * @mem: the user memory mapped at @iova, @size bytes: room for what the
 *	engine writes (up to max_len)
 * @len: bytes asked per direction
 *
 * The device writes at @iova (what it wrote must land in @mem, which is
 * cleared first), then reads there (it must get what @mem holds).
 * Return: 0 when both landed, -EIO when one did not, -errno.
 */
int vt_engine_round_trip(struct vt_engine *e, void *mem, uint64_t iova,
			 size_t size, size_t len)
{
	unsigned char *expect;
	ssize_t n;
	int ret;

	if (size < e->ops->max_len)
		return -EINVAL;
	expect = malloc(e->ops->max_len);
	if (!expect)
		return -ENOMEM;
	memset(mem, 0, size);
	n = vt_engine_write(e, iova, len, expect);
	if (n < 0) {
		ret = (int)n;
		goto out;
	}
	if (memcmp(mem, expect, n)) {
		ret = -EIO;
		goto out;
	}
	ret = vt_engine_read(e, mem, iova, len);
	ret = ret < 0 ? ret : ret ? 0 : -EIO;
out:
	free(expect);
	return ret;
}

/**
 * vt_engine_has_irq() - whether the engine can raise VFIO IRQ @index
 */
bool vt_engine_has_irq(const struct vt_engine_ops *ops, unsigned int index)
{
	return index < 32 && (ops->irq_indexes & VT_IRQ_BIT(index));
}

/**
 * vt_engine_irq_raise() - the device raises @vector of VFIO IRQ @index
 * Return: 0, or -EOPNOTSUPP when the engine cannot raise that index.
 */
int vt_engine_irq_raise(struct vt_engine *e, unsigned int index,
			unsigned int vector)
{
	if (!vt_engine_has_irq(e->ops, index))
		return -EOPNOTSUPP;
	return e->ops->irq_raise(e, index, vector);
}

/**
 * vt_engine_irq_ack() - clear the device's interrupt cause for @index
 */
void vt_engine_irq_ack(struct vt_engine *e, unsigned int index)
{
	if (vt_engine_has_irq(e->ops, index) && e->ops->irq_ack)
		e->ops->irq_ack(e, index);
}
