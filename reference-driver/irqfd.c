// SPDX-License-Identifier: GPL-2.0
/*
 * An eventfd that runs a function each time user space (or KVM) signals
 * it: the INTx unmask eventfd of VFIO_IRQ_SET_DATA_EVENTFD |
 * VFIO_IRQ_SET_ACTION_UNMASK (IRQ-12).
 *
 * The irqfd waits on the eventfd's wait queue. Its wake-up callback runs
 * with the eventfd's lock held and interrupts off, so it only consumes the
 * count and queues a work item; the function runs from the work item, in
 * process context, where it may take the interrupt state's lock that the
 * interrupt handler holds while it signals other eventfds.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "vfio_ref.h"

/**
 * struct vref_irqfd - a function run on every signal of an eventfd
 * @ctx: the eventfd; a reference held until vref_irqfd_destroy()
 * @wait: our entry on the eventfd's wait queue
 * @pt: to register @wait through the eventfd's poll
 * @work: runs @fn; queued by the wake-up callback
 * @fn: the function, with @data
 * @data: its argument
 *
 * Set up once by vref_irqfd_create(); nothing changes until
 * vref_irqfd_destroy(), so no lock of its own.
 */
struct vref_irqfd {
	struct eventfd_ctx *ctx;
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct work;
	void (*fn)(void *data);
	void *data;
};

static void vref_irqfd_work(struct work_struct *work)
{
	struct vref_irqfd *irqfd = container_of(work, struct vref_irqfd, work);

	irqfd->fn(irqfd->data);
}

/* The eventfd's wait queue lock is held, interrupts off. */
static int vref_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			     int sync, void *key)
{
	struct vref_irqfd *irqfd = container_of(wait, struct vref_irqfd, wait);
	u64 cnt;

	if (key_to_poll(key) & EPOLLIN) {
		eventfd_ctx_do_read(irqfd->ctx, &cnt);
		schedule_work(&irqfd->work);
	}
	return 0;
}

static void vref_irqfd_queue(struct file *file, wait_queue_head_t *wqh,
			     poll_table *pt)
{
	struct vref_irqfd *irqfd = container_of(pt, struct vref_irqfd, pt);

	add_wait_queue(wqh, &irqfd->wait);
}

/**
 * vref_irqfd_create() - run @fn on every signal of the eventfd @fd
 * @fd: a file descriptor of the calling process
 * @fn: the function; runs in process context, never after
 *	vref_irqfd_destroy() returned
 * @data: its argument
 *
 * A count the eventfd already holds runs @fn once.
 *
 * Return: the irqfd, ERR_PTR(-EBADF) when @fd is not open,
 * ERR_PTR(-EINVAL) when it is not an eventfd, or ERR_PTR(-ENOMEM).
 */
struct vref_irqfd *vref_irqfd_create(int fd, void (*fn)(void *data),
				     void *data)
{
	struct vref_irqfd *irqfd;
	struct file *file;
	int ret;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	irqfd = vref_fail_or(NULL, kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT));
	if (!irqfd) {
		ret = -ENOMEM;
		goto err_fput;
	}
	irqfd->ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(irqfd->ctx)) {
		ret = PTR_ERR(irqfd->ctx);
		goto err_free;
	}
	irqfd->fn = fn;
	irqfd->data = data;
	INIT_WORK(&irqfd->work, vref_irqfd_work);
	init_waitqueue_func_entry(&irqfd->wait, vref_irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, vref_irqfd_queue);
	if (vfs_poll(file, &irqfd->pt) & EPOLLIN)
		schedule_work(&irqfd->work);
	fput(file);
	return irqfd;

err_free:
	kfree(irqfd);
err_fput:
	fput(file);
	return ERR_PTR(ret);
}

/**
 * vref_irqfd_destroy() - stop and free an irqfd
 * @irqfd: from vref_irqfd_create(), or NULL
 *
 * Once it returns, the function runs no more and the eventfd is released.
 * Sleeps: the caller must not hold a lock the function takes.
 */
void vref_irqfd_destroy(struct vref_irqfd *irqfd)
{
	u64 cnt;

	if (!irqfd)
		return;
	eventfd_ctx_remove_wait_queue(irqfd->ctx, &irqfd->wait, &cnt);
	cancel_work_sync(&irqfd->work);
	eventfd_ctx_put(irqfd->ctx);
	kfree(irqfd);
}
