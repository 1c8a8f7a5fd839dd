// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts through eventfds: INTx, MSI and MSI-X (one of them at a time),
 * and the ERR and REQ indexes, which have one eventfd each.
 *
 * INTx is masked at the device (command register INTx disable) whenever
 * no INTx trigger is set, so that a device cannot raise a level interrupt
 * nobody handles. With a trigger set, the handler masks it when it fires
 * (automask) until user space unmasks it: with ACTION_UNMASK, or by
 * signalling the unmask eventfd it set (irqfd.c), which is how KVM's
 * resampling irqfd hands a guest's end of interrupt straight back.
 *
 * A SET_IRQS request resolves every new eventfd before it changes anything,
 * so that a bad fd leaves the triggers in place (IRQ-8). Changing the
 * eventfd of a running vector swaps a pointer under the state's spinlock:
 * the Linux interrupt stays requested.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vfio_ref.h"

/* vref_irq_state::mode when none of INTx, MSI and MSI-X is on */
#define VREF_IRQ_NONE		VFIO_PCI_NUM_IRQS

/* No index has more vectors than MSI-X. */
#define VREF_IRQ_MAX_VECTORS	(PCI_MSIX_FLAGS_QSIZE + 1)

/**
 * struct vref_irq_vec - one vector of the INTx, MSI or MSI-X index
 * @state: the state it belongs to
 * @irq: its Linux interrupt, requested while the mode is on
 * @name: the name it was requested with
 * @trigger: the eventfd it signals, or NULL; under vref_irq_state::lock
 */
struct vref_irq_vec {
	struct vref_irq_state *state;
	unsigned int irq;
	char *name;
	struct eventfd_ctx *trigger;
};

/**
 * struct vref_irq_state - the interrupts of one device
 * @pdev: the device
 * @intx_maskable: INTx can be masked at the device (PCI 2.3), so its line
 *	may be shared; otherwise the Linux interrupt is disabled instead
 * @intx_probe_masked: INTx disable was set at probe; removal restores it
 * @mode: VREF_IRQ_NONE or the index (INTx, MSI, MSI-X) that is on
 * @nvec: vectors of @mode in @vecs
 * @vecs: the vectors of @mode
 * @lock: protects the triggers (of @vecs, @err_trigger, @req_trigger) and
 *	@masked; taken by the interrupt handlers
 * @masked: INTx is masked (by its handler or by ACTION_MASK)
 * @err_trigger: eventfd of the ERR index, or NULL
 * @req_trigger: eventfd of the REQ index, or NULL
 * @intx_unmask: the INTx unmask eventfd (IRQ-12), or NULL; only while
 *	@mode is INTx
 *
 * @pdev, @intx_maskable and @intx_probe_masked are set at probe. @mode,
 * @nvec, @vecs and @intx_unmask change under vref_device::irq_lock, which
 * every SET_IRQS holds throughout.
 */
struct vref_irq_state {
	struct pci_dev *pdev;
	bool intx_maskable;
	bool intx_probe_masked;
	unsigned int mode;
	unsigned int nvec;
	struct vref_irq_vec *vecs;
	spinlock_t lock;	/* see above */
	bool masked;
	struct eventfd_ctx *err_trigger;
	struct eventfd_ctx *req_trigger;
	struct vref_irqfd *intx_unmask;
};

/* Set or clear INTx disable at the device; safe in atomic context. */
static void vref_intx_hw_set(struct pci_dev *pdev, bool disable)
{
	u16 cmd, new;

	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	new = cmd & ~PCI_COMMAND_INTX_DISABLE;
	if (disable)
		new |= PCI_COMMAND_INTX_DISABLE;
	if (new != cmd)
		pci_write_config_word(pdev, PCI_COMMAND, new);
}

static void vref_intx_hw_mask(struct pci_dev *pdev)
{
	vref_intx_hw_set(pdev, true);
}

static irqreturn_t vref_intx_handler(int irq, void *data)
{
	struct vref_irq_vec *vec = data;
	struct vref_irq_state *s = vec->state;
	irqreturn_t ret = IRQ_NONE;
	unsigned long flags;
	bool signal = false;

	spin_lock_irqsave(&s->lock, flags);
	if (!s->intx_maskable) {
		disable_irq_nosync(irq);
		signal = true;
		s->masked = true;
		ret = IRQ_HANDLED;
	} else if (pci_check_and_mask_intx(s->pdev)) {
		/* Ours. Already masked: it was reported, keep quiet. */
		signal = !s->masked;
		s->masked = true;
		ret = IRQ_HANDLED;
	}
	if (signal && vec->trigger)
		vref_eventfd_signal(vec->trigger);
	spin_unlock_irqrestore(&s->lock, flags);
	return ret;
}

static irqreturn_t vref_msi_handler(int irq, void *data)
{
	struct vref_irq_vec *vec = data;
	unsigned long flags;

	spin_lock_irqsave(&vec->state->lock, flags);
	if (vec->trigger)
		vref_eventfd_signal(vec->trigger);
	spin_unlock_irqrestore(&vec->state->lock, flags);
	return IRQ_HANDLED;
}

/* Unmask INTx; still pending, it stays masked and is reported again. */
static void vref_intx_unmask_locked(struct vref_irq_state *s)
{
	lockdep_assert_held(&s->lock);
	if (!s->masked)
		return;
	if (!s->intx_maskable) {
		s->masked = false;
		enable_irq(s->vecs[0].irq);
	} else if (pci_check_and_unmask_intx(s->pdev)) {
		s->masked = false;
	} else if (s->vecs[0].trigger) {
		vref_eventfd_signal(s->vecs[0].trigger);
	}
}

static void vref_intx_mask_locked(struct vref_irq_state *s)
{
	lockdep_assert_held(&s->lock);
	if (s->masked)
		return;
	if (s->intx_maskable)
		vref_intx_hw_mask(s->pdev);
	else
		disable_irq_nosync(s->vecs[0].irq);
	s->masked = true;
}

static void vref_vecs_free(struct vref_irq_state *s)
{
	unsigned int i;

	for (i = 0; i < s->nvec; i++)
		kfree(s->vecs[i].name);
	kfree(s->vecs);
	s->vecs = NULL;
	s->nvec = 0;
}

static int vref_vecs_alloc(struct vref_irq_state *s, unsigned int nvec,
			   const char *kind)
{
	unsigned int i;

	s->vecs = vref_fail_or(NULL, kcalloc(nvec, sizeof(*s->vecs),
					     GFP_KERNEL_ACCOUNT));
	if (!s->vecs)
		return -ENOMEM;
	s->nvec = nvec;
	for (i = 0; i < nvec; i++) {
		s->vecs[i].state = s;
		s->vecs[i].name = kasprintf(GFP_KERNEL_ACCOUNT,
					    "vfio-ref-%s[%u](%s)", kind, i,
					    pci_name(s->pdev));
		if (!s->vecs[i].name) {
			vref_vecs_free(s);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Turn the mode off: free its interrupts and release its eventfds. */
static void vref_irq_mode_off(struct vref_irq_state *s)
{
	unsigned int i;

	if (s->mode == VREF_IRQ_NONE)
		return;
	/* Before the vectors go: its function unmasks vecs[0] (IRQ-14). */
	vref_irqfd_destroy(s->intx_unmask);
	s->intx_unmask = NULL;
	for (i = 0; i < s->nvec; i++)
		free_irq(s->vecs[i].irq, &s->vecs[i]);
	if (s->mode != VFIO_PCI_INTX_IRQ_INDEX)
		pci_free_irq_vectors(s->pdev);	/* this unmasks INTx */
	if (s->intx_maskable)
		vref_intx_hw_mask(s->pdev);
	/* No handler runs any more: the triggers are ours alone. */
	for (i = 0; i < s->nvec; i++)
		if (s->vecs[i].trigger)
			eventfd_ctx_put(s->vecs[i].trigger);
	vref_vecs_free(s);
	s->mode = VREF_IRQ_NONE;
	s->masked = false;
}

/* INTx on, signalling @trigger; it stays the caller's on failure. */
static int vref_intx_on(struct vref_irq_state *s, struct eventfd_ctx *trigger)
{
	struct pci_dev *pdev = s->pdev;
	unsigned long flags;
	int ret;

	if (!pdev->irq || pdev->irq == IRQ_NOTCONNECTED)
		return -EINVAL;		/* no interrupt line routed */
	ret = vref_vecs_alloc(s, 1, "intx");
	if (ret)
		return ret;
	s->vecs[0].irq = pdev->irq;
	s->vecs[0].trigger = trigger;
	/* A maskable INTx has been masked at the device while off. */
	s->masked = s->intx_maskable;
	ret = vref_fail_or(-ENOMEM,
			   request_irq(pdev->irq, vref_intx_handler,
				       s->intx_maskable ? IRQF_SHARED : 0,
				       s->vecs[0].name, &s->vecs[0]));
	if (ret) {
		s->vecs[0].trigger = NULL;
		vref_vecs_free(s);
		s->masked = false;
		return ret;
	}
	s->mode = VFIO_PCI_INTX_IRQ_INDEX;
	spin_lock_irqsave(&s->lock, flags);
	vref_intx_unmask_locked(s);
	spin_unlock_irqrestore(&s->lock, flags);
	return 0;
}

/* MSI or MSI-X on, with @nvec vectors and no trigger yet. */
static int vref_msi_on(struct vref_irq_state *s, unsigned int index,
		       unsigned int nvec)
{
	bool msix = index == VFIO_PCI_MSIX_IRQ_INDEX;
	unsigned int i;
	int ret;

	ret = vref_vecs_alloc(s, nvec, msix ? "msix" : "msi");
	if (ret)
		return ret;
	ret = vref_fail_or(-ENOMEM,
			   pci_alloc_irq_vectors(s->pdev, nvec, nvec,
						 msix ? PCI_IRQ_MSIX : PCI_IRQ_MSI));
	if (ret < 0)
		goto err_free_vecs;
	for (i = 0; i < nvec; i++) {
		s->vecs[i].irq = pci_irq_vector(s->pdev, i);
		ret = vref_fail_or(-ENOMEM,
				   request_irq(s->vecs[i].irq, vref_msi_handler, 0,
					       s->vecs[i].name, &s->vecs[i]));
		if (ret)
			goto err_free_irqs;
	}
	s->mode = index;
	return 0;

err_free_irqs:
	while (i--)
		free_irq(s->vecs[i].irq, &s->vecs[i]);
	pci_free_irq_vectors(s->pdev);
	if (s->intx_maskable)
		vref_intx_hw_mask(s->pdev);
err_free_vecs:
	vref_vecs_free(s);
	return ret;
}

static void vref_eventfds_put(struct eventfd_ctx **ctxs, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		if (ctxs[i])
			eventfd_ctx_put(ctxs[i]);
}

/*
 * The eventfds of @count fds in @data, NULL for -1: all of them or, on a
 * bad fd, none (IRQ-8).
 */
static int vref_eventfds_get(const void *data, unsigned int count,
			     struct eventfd_ctx **ctxs)
{
	const s32 *fds = data;
	unsigned int i;
	int ret;

	for (i = 0; i < count; i++) {
		ctxs[i] = NULL;
		if (fds[i] == -1)
			continue;
		ctxs[i] = vref_fail_or(ERR_PTR(-ENOMEM), eventfd_ctx_fdget(fds[i]));
		if (IS_ERR(ctxs[i])) {
			ret = PTR_ERR(ctxs[i]);
			ctxs[i] = NULL;
			vref_eventfds_put(ctxs, i);
			return ret;
		}
	}
	return 0;
}

/* Exchange the triggers of @count vectors from @start with @ctxs. */
static void vref_irq_swap(struct vref_irq_state *s, unsigned int start,
			  unsigned int count, struct eventfd_ctx **ctxs)
{
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&s->lock, flags);
	for (i = 0; i < count; i++)
		swap(s->vecs[start + i].trigger, ctxs[i]);
	spin_unlock_irqrestore(&s->lock, flags);
}

/* Whether vector @i is selected: every one for DATA_NONE. */
static bool vref_irq_selected(const struct vfio_irq_set *hdr,
			      const void *data, unsigned int i)
{
	if (hdr->flags & VFIO_IRQ_SET_DATA_BOOL)
		return ((const u8 *)data)[i];
	return true;
}

/* DATA_NONE or DATA_BOOL with ACTION_TRIGGER: signal the eventfds. */
static int vref_irq_loopback(struct vref_irq_state *s,
			     const struct vfio_irq_set *hdr, const void *data)
{
	struct eventfd_ctx *trigger;
	unsigned long flags;
	unsigned int i;

	if (s->mode != hdr->index || hdr->start + hdr->count > s->nvec)
		return -EINVAL;
	spin_lock_irqsave(&s->lock, flags);
	for (i = 0; i < hdr->count; i++) {
		trigger = s->vecs[hdr->start + i].trigger;
		if (trigger && vref_irq_selected(hdr, data, i))
			vref_eventfd_signal(trigger);
	}
	spin_unlock_irqrestore(&s->lock, flags);
	return 0;
}

/* The unmask eventfd's function: as ACTION_UNMASK (IRQ-12). */
static void vref_intx_unmask_fn(void *data)
{
	struct vref_irq_state *s = data;
	unsigned long flags;

	spin_lock_irqsave(&s->lock, flags);
	vref_intx_unmask_locked(s);
	spin_unlock_irqrestore(&s->lock, flags);
}

/* DATA_EVENTFD | ACTION_UNMASK: set (@fd >= 0) or remove the eventfd. */
static int vref_intx_unmask_fd(struct vref_irq_state *s, s32 fd)
{
	struct vref_irqfd *irqfd;

	if (fd < 0) {
		vref_irqfd_destroy(s->intx_unmask);	/* IRQ-13 */
		s->intx_unmask = NULL;
		return 0;
	}
	if (s->intx_unmask)
		return -EBUSY;		/* as Linux: remove the old one first */
	irqfd = vref_irqfd_create(fd, vref_intx_unmask_fn, s);
	if (IS_ERR(irqfd))
		return PTR_ERR(irqfd);
	s->intx_unmask = irqfd;
	return 0;
}

static int vref_intx_mask(struct vref_irq_state *s,
			  const struct vfio_irq_set *hdr, const void *data,
			  bool mask)
{
	unsigned long flags;

	if (s->mode != VFIO_PCI_INTX_IRQ_INDEX)
		return -EINVAL;
	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (mask)
			return -EINVAL;	/* no mask eventfd */
		return vref_intx_unmask_fd(s, *(const s32 *)data);
	}
	if (!vref_irq_selected(hdr, data, 0))
		return 0;
	spin_lock_irqsave(&s->lock, flags);
	if (mask)
		vref_intx_mask_locked(s);
	else
		vref_intx_unmask_locked(s);
	spin_unlock_irqrestore(&s->lock, flags);
	return 0;
}

static int vref_intx_trigger(struct vref_irq_state *s,
			     const struct vfio_irq_set *hdr, const void *data)
{
	struct eventfd_ctx *ctx;
	int ret;

	if (s->mode != VREF_IRQ_NONE && s->mode != VFIO_PCI_INTX_IRQ_INDEX)
		return -EINVAL;			/* IRQ-6 */
	if (!(hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD))
		return vref_irq_loopback(s, hdr, data);
	ret = vref_eventfds_get(data, 1, &ctx);
	if (ret)
		return ret;
	if (!ctx) {
		vref_irq_mode_off(s);		/* -1: INTx has no vector left */
		return 0;
	}
	if (s->mode == VFIO_PCI_INTX_IRQ_INDEX) {
		vref_irq_swap(s, 0, 1, &ctx);
		vref_eventfds_put(&ctx, 1);
		return 0;
	}
	ret = vref_intx_on(s, ctx);
	if (ret)
		eventfd_ctx_put(ctx);
	return ret;
}

static int vref_msi_trigger(struct vref_irq_state *s,
			    const struct vfio_irq_set *hdr, const void *data)
{
	struct eventfd_ctx **ctxs;
	int ret;

	if (s->mode != VREF_IRQ_NONE && s->mode != hdr->index)
		return -EINVAL;			/* IRQ-6 */
	if (!(hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD))
		return vref_irq_loopback(s, hdr, data);
	/* The vectors are allocated when the mode goes on (NORESIZE). */
	if (s->mode == hdr->index && hdr->start + hdr->count > s->nvec)
		return -EINVAL;
	ctxs = vref_fail_or(NULL, kcalloc(hdr->count, sizeof(*ctxs), GFP_KERNEL));
	if (!ctxs)
		return -ENOMEM;
	ret = vref_eventfds_get(data, hdr->count, ctxs);
	if (ret)
		goto out;
	if (s->mode == VREF_IRQ_NONE) {
		/*
		 * On even with no eventfd (IRQ-31): QEMU turns MSI-X on this
		 * way when its guest does, before any vector is unmasked.
		 */
		ret = vref_msi_on(s, hdr->index, hdr->start + hdr->count);
		if (ret) {
			vref_eventfds_put(ctxs, hdr->count);
			goto out;
		}
	}
	vref_irq_swap(s, hdr->start, hdr->count, ctxs);
	vref_eventfds_put(ctxs, hdr->count);	/* the old triggers */
out:
	kfree(ctxs);
	return ret;
}

/* ERR and REQ: one eventfd in @slot. */
static int vref_slot_trigger(struct vref_irq_state *s,
			     struct eventfd_ctx **slot,
			     const struct vfio_irq_set *hdr, const void *data)
{
	struct eventfd_ctx *ctx;
	unsigned long flags;
	int ret = 0;

	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		ret = vref_eventfds_get(data, 1, &ctx);
		if (ret)
			return ret;
		spin_lock_irqsave(&s->lock, flags);
		swap(*slot, ctx);
		spin_unlock_irqrestore(&s->lock, flags);
		vref_eventfds_put(&ctx, 1);
		return 0;
	}
	spin_lock_irqsave(&s->lock, flags);
	if (!*slot)
		ret = -EINVAL;		/* nothing to signal */
	else if (vref_irq_selected(hdr, data, 0))
		vref_eventfd_signal(*slot);
	spin_unlock_irqrestore(&s->lock, flags);
	return ret;
}

/* Release the eventfd in @slot. */
static void vref_slot_clear(struct vref_irq_state *s,
			    struct eventfd_ctx **slot)
{
	struct eventfd_ctx *ctx = NULL;
	unsigned long flags;

	spin_lock_irqsave(&s->lock, flags);
	swap(*slot, ctx);
	spin_unlock_irqrestore(&s->lock, flags);
	vref_eventfds_put(&ctx, 1);
}

/* count 0: DATA_NONE | ACTION_TRIGGER turns the index off (IRQ-4). */
static int vref_irq_set_empty(struct vref_irq_state *s,
			      const struct vfio_irq_set *hdr)
{
	if (hdr->flags != (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER))
		return 0;			/* nothing selected */
	switch (hdr->index) {
	case VFIO_PCI_ERR_IRQ_INDEX:
		vref_slot_clear(s, &s->err_trigger);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		vref_slot_clear(s, &s->req_trigger);
		break;
	default:
		if (s->mode == hdr->index)
			vref_irq_mode_off(s);
		break;
	}
	return 0;
}

static int vref_irq_dispatch(struct vref_irq_state *s,
			     const struct vfio_irq_set *hdr, const void *data)
{
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	if (!hdr->count)
		return vref_irq_set_empty(s, hdr);
	if (hdr->index == VFIO_PCI_INTX_IRQ_INDEX) {
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vref_intx_trigger(s, hdr, data);
		return vref_intx_mask(s, hdr, data,
				      action == VFIO_IRQ_SET_ACTION_MASK);
	}
	/* MSI and MSI-X cannot be masked here; ERR and REQ only trigger. */
	if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;
	switch (hdr->index) {
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return vref_msi_trigger(s, hdr, data);
	case VFIO_PCI_ERR_IRQ_INDEX:
		return vref_slot_trigger(s, &s->err_trigger, hdr, data);
	default:
		return vref_slot_trigger(s, &s->req_trigger, hdr, data);
	}
}

/* Checks of SET_IRQS that need no device: flags, index, data size. */
static int vref_irq_check_hdr(const struct vfio_irq_set *hdr, size_t minsz,
			      size_t *data_size)
{
	u32 data = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	u64 size;

	if (hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
			   VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;			/* COMPAT-3 */
	if (hweight32(data) != 1 || hweight32(action) != 1)
		return -EINVAL;			/* IRQ-5 */
	if (hdr->index >= VFIO_PCI_NUM_IRQS ||
	    hdr->start > VREF_IRQ_MAX_VECTORS ||
	    hdr->count > VREF_IRQ_MAX_VECTORS - hdr->start)
		return -EINVAL;			/* the exact count comes later */
	size = 0;
	if (data == VFIO_IRQ_SET_DATA_BOOL)
		size = hdr->count;
	else if (data == VFIO_IRQ_SET_DATA_EVENTFD)
		size = (u64)hdr->count * sizeof(s32);
	if (size > hdr->argsz - minsz)
		return -EINVAL;
	*data_size = size;
	return 0;
}

/* start + count against the index's count (IRQ-5). */
static int vref_irq_check_range(struct vref_device *vdev,
				const struct vfio_irq_set *hdr)
{
	int ret = 0;

	down_read(&vdev->lock);
	if (vdev->revoked)
		ret = -ENODEV;
	else if (hdr->start + hdr->count >
		 vref_irq_count(vdev, hdr->index))
		ret = -EINVAL;
	up_read(&vdev->lock);
	return ret;
}

/**
 * vref_irq_set() - VFIO_DEVICE_SET_IRQS
 * @vdev: the device of the file
 * @arg: user pointer to a struct vfio_irq_set and its data
 *
 * Takes vdev->lock (read side) and vdev->irq_lock itself, only after the
 * data has been copied from user space.
 *
 * Return: 0, -EFAULT, -EINVAL for a bad request (IRQ-5, IRQ-6), -EBADF or
 * -EINVAL for a bad eventfd (IRQ-8, nothing changed then), -ENODEV when the
 * device was revoked, or the errno of turning interrupts on.
 */
long vref_irq_set(struct vref_device *vdev, unsigned long arg)
{
	size_t minsz = offsetofend(struct vfio_irq_set, count);
	void __user *uarg = (void __user *)arg;
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	void *data = NULL;
	long ret;

	ret = vref_copy_argsz(&hdr, uarg, minsz);
	if (!ret)
		ret = vref_irq_check_hdr(&hdr, minsz, &data_size);
	if (!ret)
		ret = vref_irq_check_range(vdev, &hdr);
	if (ret)
		return ret;
	if (data_size) {
		data = vref_fail_or(ERR_PTR(-ENOMEM),
				    memdup_user(uarg + minsz, data_size));
		if (IS_ERR(data))
			return PTR_ERR(data);
	}
	down_read(&vdev->lock);
	if (vdev->revoked) {
		ret = -ENODEV;
	} else {
		mutex_lock(&vdev->irq_lock);
		ret = vref_irq_dispatch(vdev->irqs, &hdr, data);
		mutex_unlock(&vdev->irq_lock);
	}
	up_read(&vdev->lock);
	kfree(data);
	return ret;
}

/**
 * vref_irq_count() - number of vectors of an IRQ index
 * @vdev: the device, not revoked; the caller holds vdev->lock (either side)
 * @index: a VFIO_PCI_*_IRQ_INDEX
 *
 * Return: INTx 1 with an interrupt pin, MSI and MSI-X the capability's
 * vectors, ERR 1 on PCI Express, REQ 1; 0 otherwise.
 */
int vref_irq_count(struct vref_device *vdev, unsigned int index)
{
	struct pci_dev *pdev = vdev->pdev;
	int n;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return pdev->pin ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		n = pci_msi_vec_count(pdev);
		return n > 0 ? n : 0;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		n = pci_msix_vec_count(pdev);
		return n > 0 ? n : 0;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return pci_is_pcie(pdev) ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

/*
 * Whether GET_IRQ_INFO answers for @index: ERR only on PCI Express, where
 * AER can report an error (IRQ-10, IRQ-11); a count of 0 would make a VMM
 * believe error reporting is broken rather than absent.
 */
static bool vref_irq_index_exists(struct vref_device *vdev,
				  unsigned int index)
{
	return index != VFIO_PCI_ERR_IRQ_INDEX || pci_is_pcie(vdev->pdev);
}

/**
 * vref_irq_get_info() - VFIO_DEVICE_GET_IRQ_INFO
 * @vdev: the device of the file
 * @arg: user pointer to a struct vfio_irq_info
 *
 * Return: 0, -EFAULT, -EINVAL for a short argsz, an index out of range or
 * the ERR index of a device without PCI Express, or -ENODEV when the device
 * was revoked.
 */
long vref_irq_get_info(struct vref_device *vdev, unsigned long arg)
{
	size_t minsz = offsetofend(struct vfio_irq_info, count);
	void __user *uarg = (void __user *)arg;
	struct vfio_irq_info info;
	int ret;

	ret = vref_copy_argsz(&info, uarg, minsz);
	if (ret)
		return ret;
	if (info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	down_read(&vdev->lock);
	if (vdev->revoked)
		ret = -ENODEV;
	else if (!vref_irq_index_exists(vdev, info.index))
		ret = -EINVAL;			/* IRQ-11 */
	else
		info.count = vref_irq_count(vdev, info.index);
	up_read(&vdev->lock);
	if (ret)
		return ret;
	info.flags = VFIO_IRQ_INFO_EVENTFD;
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	return vref_fail_or(1, copy_to_user(uarg, &info, minsz)) ? -EFAULT : 0;
}

/**
 * vref_irq_disable_all() - turn every interrupt off
 * @vdev: the device
 *
 * Frees the interrupts of INTx, MSI or MSI-X, releases every eventfd (ERR
 * and REQ too) and leaves INTx masked at the device, so that it raises
 * nothing nobody handles. Takes vdev->irq_lock; the caller may hold
 * vdev->lock. Does nothing before vref_irq_init() or after
 * vref_irq_uninit().
 */
void vref_irq_disable_all(struct vref_device *vdev)
{
	struct vref_irq_state *s;

	mutex_lock(&vdev->irq_lock);
	s = vdev->irqs;
	if (s) {
		vref_irq_mode_off(s);
		vref_slot_clear(s, &s->err_trigger);
		vref_slot_clear(s, &s->req_trigger);
		if (s->intx_maskable)
			vref_intx_hw_mask(s->pdev);
	}
	mutex_unlock(&vdev->irq_lock);
}

static void vref_irq_signal_slot(struct vref_device *vdev, bool err)
{
	struct vref_irq_state *s = vdev ? vdev->irqs : NULL;
	struct eventfd_ctx *trigger;
	unsigned long flags;

	if (!s)
		return;
	spin_lock_irqsave(&s->lock, flags);
	trigger = err ? s->err_trigger : s->req_trigger;
	if (trigger)
		vref_eventfd_signal(trigger);
	spin_unlock_irqrestore(&s->lock, flags);
}

/**
 * vref_irq_request() - ask user space for the device back (REQ, IRQ-7)
 * @vdev: the device, between vref_irq_init() and vref_irq_uninit()
 *
 * Signals the REQ eventfd if one is set. Any context.
 */
void vref_irq_request(struct vref_device *vdev)
{
	vref_irq_signal_slot(vdev, false);
}

/**
 * vref_irq_error() - report an error of the device (ERR)
 * @vdev: the device, between vref_irq_init() and vref_irq_uninit()
 *
 * Signals the ERR eventfd if one is set. Any context.
 */
void vref_irq_error(struct vref_device *vdev)
{
	vref_irq_signal_slot(vdev, true);
}

/**
 * vref_irq_init() - set up the interrupt state of a device
 * @vdev: the device, at probe
 *
 * Return: 0 or -ENOMEM.
 */
int vref_irq_init(struct vref_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vref_irq_state *s;
	u16 cmd;

	s = vref_fail_or(NULL, kzalloc(sizeof(*s), GFP_KERNEL));
	if (!s)
		return -ENOMEM;
	s->pdev = pdev;
	s->intx_maskable = pdev->pin && pci_intx_mask_supported(pdev);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	s->intx_probe_masked = cmd & PCI_COMMAND_INTX_DISABLE;
	s->mode = VREF_IRQ_NONE;
	spin_lock_init(&s->lock);
	mutex_lock(&vdev->irq_lock);
	vdev->irqs = s;
	mutex_unlock(&vdev->irq_lock);
	return 0;
}

/**
 * vref_irq_uninit() - free the interrupt state of a device
 * @vdev: the device, at removal
 *
 * Frees any interrupt still on, releases its eventfds and gives INTx
 * masking back as probe found it.
 */
void vref_irq_uninit(struct vref_device *vdev)
{
	struct vref_irq_state *s;

	mutex_lock(&vdev->irq_lock);
	s = vdev->irqs;
	vdev->irqs = NULL;
	mutex_unlock(&vdev->irq_lock);
	if (!s)
		return;
	vref_irq_mode_off(s);
	vref_slot_clear(s, &s->err_trigger);
	vref_slot_clear(s, &s->req_trigger);
	if (s->intx_maskable && !pci_dev_is_disconnected(s->pdev))
		vref_intx_hw_set(s->pdev, s->intx_probe_masked);
	kfree(s);
}
