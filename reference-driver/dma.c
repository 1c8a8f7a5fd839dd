// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_ref: the type1 IOMMU model, version 2 (VFIO_TYPE1v2_IOMMU) and
 * version 1 (VFIO_TYPE1_IOMMU), which differ only in VFIO_IOMMU_UNMAP_DMA:
 * version 2 refuses a range that would split a mapping, version 1 removes
 * whole every mapping that starts in the range and nothing at all when the
 * range starts inside a mapping.
 *
 * A struct vref_iommu is the IOMMU side of one container. It holds:
 *  - the IOMMU domains: one per kind of IOMMU among the attached groups;
 *    every mapping is present in every domain;
 *  - the attached groups, each with the reserved regions of its devices,
 *    which the usable IOVA space excludes;
 *  - the DMA mappings, in an rb-tree keyed by IOVA. The user pages of a
 *    mapping stay pinned while it exists, and each page is charged once to
 *    the locked_vm of the process that mapped it, however many mappings of
 *    the container pin it.
 *
 * Nothing is kept per page: a mapping is a list of runs of physically
 * contiguous pinned pages (one run for a 4 KiB mapping, one per hugepage or
 * fewer for a hugepage-backed one). The runs of a process's mappings sit in
 * an interval tree keyed by pfn, which tells how many pages of a new run are
 * pinned already (not charged again) and how many of a removed run nothing
 * pins any more (uncharged).
 *
 * A range that is an mmap of a BAR of one of our devices is mapped as that
 * BAR's physical range instead (peer-to-peer DMA, DMA-30): nothing is
 * pinned or charged, and the mapping sits on the device's list, which the
 * device's removal empties (DMA-32) before its BARs can go to another
 * owner. That walk reaches the model from the device's side, so the model
 * is reference counted.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vfio_ref.h"

static bool vref_allow_unsafe_interrupts;
module_param_named(allow_unsafe_interrupts, vref_allow_unsafe_interrupts,
		   bool, 0444);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Attach groups whose IOMMU has no interrupt remapping (weakens isolation)");

static unsigned int vref_dma_entry_limit = U16_MAX;
module_param_named(dma_entry_limit, vref_dma_entry_limit, uint, 0644);
MODULE_PARM_DESC(dma_entry_limit, "Maximum number of DMA mappings per container (default 65535)");

#define VREF_PIN_BATCH		512	/* pages per pin_user_pages_fast() */
#define VREF_CAP_ALIGN		8	/* capabilities start 8-byte aligned */

/* An IOMMU domain of the container. */
struct vref_domain {
	struct list_head node;		/* in vref_iommu::domains */
	struct iommu_domain *domain;
	unsigned int groups;		/* number of groups attached to it */
	bool enforce_cc;		/* the domain blocks no-snoop DMA */
};

/* A reserved IOVA range, bounds inclusive. */
struct vref_resv {
	u64 start;
	u64 last;
};

/* A group attached to the container. */
struct vref_iommu_group {
	struct list_head node;		/* in vref_iommu::groups */
	struct iommu_group *group;
	struct vref_domain *vdom;	/* the domain the group is attached to */
	struct vref_resv *resv;		/* IOVA ranges no mapping may touch */
	unsigned int nr_resv;
	bool sw_msi;			/* the domain must map MSIs at msi_base */
	dma_addr_t msi_base;
};

/* The pages one process pinned in the container: each is charged once. */
struct vref_pin_mm {
	struct list_head node;		/* in vref_iommu::mms */
	struct mm_struct *mm;		/* mmgrab()ed; locked_vm is charged */
	struct rb_root_cached pfns;	/* of vref_run::pfns, every mapping's */
	unsigned long uncharge;		/* pages unpinned, still charged */
	unsigned int users;		/* mappings that pin through it */
};

/* Physically contiguous pinned pages of a mapping, in IOVA order. */
struct vref_run {
	struct interval_tree_node pfns;	/* [start, last] pfn; in vref_pin_mm */
};

/* The runs of one batch of pinned pages. */
struct vref_runs {
	struct list_head node;		/* in vref_dma::runs, in IOVA order */
	unsigned int nr;
	struct vref_run run[];
};

/* One DMA mapping: [iova, iova + size) -> [vaddr, vaddr + size). */
struct vref_dma {
	struct rb_node node;		/* in vref_iommu::dmas, by iova */
	u64 iova;
	u64 size;
	unsigned long vaddr;
	int prot;			/* IOMMU_READ and/or IOMMU_WRITE */
	struct list_head runs;		/* of vref_runs::node: what is pinned */
	unsigned long npinned;		/* pages pinned and charged so far */
	struct vref_pin_mm *pmm;	/* the process that mapped it */
	struct vref_runs *spare;	/* room for one run, after this struct */
	/* A BAR of one of our devices instead of pinned pages (DMA-30): */
	struct vref_device *bar_dev;	/* NULL for memory */
	phys_addr_t bar_phys;		/* what iova maps to */
	struct vref_iommu *iommu;	/* the model that holds it */
	struct list_head bar_node;	/* in bar_dev->p2p, under its p2p_lock */
};

/* A mapping is allocated with room for one run: small ones need no more. */
#define VREF_DMA_ALLOC_SIZE \
	(sizeof(struct vref_dma) + sizeof(struct vref_runs) + \
	 sizeof(struct vref_run))

/* The type1 model of one container, version 2 or version 1. */
struct vref_iommu {
	struct kref kref;		/* the container, and device removal */
	/*
	 * protects domains, groups, dmas, mms, dma_avail, batch and every
	 * object reached from them (their counters, runs and pfn trees)
	 */
	struct mutex lock;
	struct list_head domains;	/* of vref_domain::node */
	struct list_head groups;	/* of vref_iommu_group::node */
	struct rb_root dmas;		/* of vref_dma::node */
	struct list_head mms;		/* of vref_pin_mm::node */
	unsigned int dma_avail;		/* mappings that may still be made */
	struct page **batch;		/* VREF_PIN_BATCH pages being pinned */
	bool v2;			/* VFIO_TYPE1v2_IOMMU; set at creation */
};

/* ----- geometry: page sizes and the usable IOVA space ----- */

/* The page sizes every domain supports, never below PAGE_SIZE. */
static unsigned long vref_pgsize_bitmap(struct vref_iommu *iommu)
{
	unsigned long bitmap = ULONG_MAX;
	struct vref_domain *vd;

	if (list_empty(&iommu->domains))
		return PAGE_MASK;
	list_for_each_entry(vd, &iommu->domains, node)
		bitmap &= vd->domain->pgsize_bitmap;
	/* Pinning works in pages: offer PAGE_SIZE instead of smaller sizes. */
	if (bitmap & ~PAGE_MASK) {
		bitmap &= PAGE_MASK;
		bitmap |= PAGE_SIZE;
	}
	return bitmap;
}

/* The mapping granule: the smallest supported page size. */
static u64 vref_granule(struct vref_iommu *iommu)
{
	unsigned long bitmap = vref_pgsize_bitmap(iommu);

	return bitmap ? 1ULL << __ffs(bitmap) : PAGE_SIZE;
}

/* The intersection of the domains' apertures; false if it is empty. */
static bool vref_aperture(struct vref_iommu *iommu, u64 *start, u64 *last)
{
	struct vref_domain *vd;

	if (list_empty(&iommu->domains))
		return false;
	*start = 0;
	*last = U64_MAX;
	list_for_each_entry(vd, &iommu->domains, node) {
		*start = max_t(u64, *start, vd->domain->geometry.aperture_start);
		*last = min_t(u64, *last, vd->domain->geometry.aperture_end);
	}
	return *start <= *last;
}

/* Whether [start, last] lies inside one usable IOVA range. */
static bool vref_iova_valid(struct vref_iommu *iommu, u64 start, u64 last)
{
	struct vref_iommu_group *g;
	u64 ap_start, ap_last;
	unsigned int i;

	if (!vref_aperture(iommu, &ap_start, &ap_last) ||
	    start < ap_start || last > ap_last)
		return false;
	list_for_each_entry(g, &iommu->groups, node)
		for (i = 0; i < g->nr_resv; i++)
			if (g->resv[i].start <= last && start <= g->resv[i].last)
				return false;
	return true;
}

static int vref_resv_cmp(const void *a, const void *b)
{
	const struct vref_resv *ra = a, *rb = b;

	if (ra->start == rb->start)
		return 0;
	return ra->start < rb->start ? -1 : 1;
}

/* Store range @nr of [start, last] in @out if there is room. */
static void vref_range_put(struct vfio_iova_range *out, u32 max, u32 nr,
			   u64 start, u64 last)
{
	if (nr < max) {
		out[nr].start = start;
		out[nr].end = last;
	}
}

/* [start, last] minus the sorted regions @r: the number of ranges left. */
static u32 vref_ranges_sweep(const struct vref_resv *r, unsigned int n,
			     u64 start, u64 last,
			     struct vfio_iova_range *out, u32 max)
{
	u32 nr = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (r[i].last < start)
			continue;
		if (r[i].start > last)
			break;
		if (r[i].start > start)
			vref_range_put(out, max, nr++, start, r[i].start - 1);
		if (r[i].last >= last)
			return nr;
		start = r[i].last + 1;
	}
	vref_range_put(out, max, nr++, start, last);
	return nr;
}

/*
 * The usable IOVA ranges, sorted: the apertures' intersection minus every
 * reserved region of every group. Returns a kmalloc()ed array of *nr
 * ranges (possibly none), or an ERR_PTR.
 */
static struct vfio_iova_range *vref_iova_ranges(struct vref_iommu *iommu,
						u32 *nr)
{
	struct vfio_iova_range *ranges = NULL;
	struct vref_iommu_group *g;
	struct vref_resv *all;
	unsigned int n = 0;
	u64 start, last;

	*nr = 0;
	list_for_each_entry(g, &iommu->groups, node)
		n += g->nr_resv;
	all = vref_fail_or(NULL, kmalloc_array(n + 1, sizeof(*all), GFP_KERNEL));
	if (!all)
		return ERR_PTR(-ENOMEM);
	n = 0;
	list_for_each_entry(g, &iommu->groups, node) {
		memcpy(all + n, g->resv, g->nr_resv * sizeof(*all));
		n += g->nr_resv;
	}
	sort(all, n, sizeof(*all), vref_resv_cmp, NULL);
	ranges = vref_fail_or(NULL,
			      kmalloc_array(n + 1, sizeof(*ranges), GFP_KERNEL));
	if (!ranges)
		ranges = ERR_PTR(-ENOMEM);
	else if (vref_aperture(iommu, &start, &last))
		*nr = vref_ranges_sweep(all, n, start, last, ranges, n + 1);
	kfree(all);
	return ranges;
}

/* -EINVAL if no IOVA is usable any more, as after a bad attach. */
static int vref_iova_check_usable(struct vref_iommu *iommu)
{
	struct vfio_iova_range *ranges;
	u32 nr;

	ranges = vref_iova_ranges(iommu, &nr);
	if (IS_ERR(ranges))
		return PTR_ERR(ranges);
	kfree(ranges);
	return nr ? 0 : -EINVAL;
}

/* ----- the mapping tree ----- */

static u64 vref_dma_last(const struct vref_dma *dma)
{
	return dma->iova + dma->size - 1;
}

static struct vref_dma *vref_dma_of(struct rb_node *node)
{
	return node ? rb_entry(node, struct vref_dma, node) : NULL;
}

/* The lowest mapping that overlaps [start, last], or NULL. */
static struct vref_dma *vref_dma_first(struct vref_iommu *iommu,
				       u64 start, u64 last)
{
	struct rb_node *node = iommu->dmas.rb_node;
	struct vref_dma *found = NULL;

	while (node) {
		struct vref_dma *dma = vref_dma_of(node);

		if (vref_dma_last(dma) < start) {
			node = node->rb_right;
		} else {
			found = dma;
			node = node->rb_left;
		}
	}
	return found && found->iova <= last ? found : NULL;
}

static void vref_dma_insert(struct vref_iommu *iommu, struct vref_dma *dma)
{
	struct rb_node **link = &iommu->dmas.rb_node, *parent = NULL;

	while (*link) {
		parent = *link;
		if (dma->iova < vref_dma_of(parent)->iova)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&dma->node, parent, link);
	rb_insert_color(&dma->node, &iommu->dmas);
}

/* ----- pinning and locked-memory accounting ----- */

/* Charge (@inc) or uncharge @npages to the locked_vm of @mm. */
static int vref_account(struct mm_struct *mm, unsigned long npages,
			bool inc, bool lock_cap)
{
	int ret;

	if (!npages)
		return 0;
	mmap_write_lock(mm);
	ret = __account_locked_vm(mm, npages, inc, current, lock_cap);
	mmap_write_unlock(mm);
	if (ret)
		pr_warn_ratelimited("RLIMIT_MEMLOCK (%lu) exceeded\n",
				    rlimit(RLIMIT_MEMLOCK));
	return ret;
}

/* Uncharge what unpinning left pending in @pmm: one mmap lock for many. */
static void vref_uncharge(struct vref_pin_mm *pmm)
{
	vref_account(pmm->mm, pmm->uncharge, false, true);
	pmm->uncharge = 0;
}

static void vref_uncharge_all(struct vref_iommu *iommu)
{
	struct vref_pin_mm *pmm;

	list_for_each_entry(pmm, &iommu->mms, node)
		vref_uncharge(pmm);
}

/* The pin bookkeeping of the current process, created on first use. */
static struct vref_pin_mm *vref_pin_mm_get(struct vref_iommu *iommu)
{
	struct vref_pin_mm *pmm;

	list_for_each_entry(pmm, &iommu->mms, node) {
		if (pmm->mm == current->mm) {
			pmm->users++;
			return pmm;
		}
	}
	pmm = vref_fail_or(NULL, kzalloc(sizeof(*pmm), GFP_KERNEL_ACCOUNT));
	if (!pmm)
		return NULL;
	pmm->mm = current->mm;
	mmgrab(pmm->mm);
	pmm->pfns = RB_ROOT_CACHED;
	pmm->users = 1;
	list_add(&pmm->node, &iommu->mms);
	return pmm;
}

static void vref_pin_mm_put(struct vref_pin_mm *pmm)
{
	if (--pmm->users)
		return;
	vref_uncharge(pmm);
	WARN_ON(!RB_EMPTY_ROOT(&pmm->pfns.rb_root));
	list_del(&pmm->node);
	mmdrop(pmm->mm);
	kfree(pmm);
}

/* How many pfns of [start, last] no run of @pmm holds. */
static unsigned long vref_pfns_uncovered(struct vref_pin_mm *pmm,
					 unsigned long start,
					 unsigned long last)
{
	struct interval_tree_node *it;
	unsigned long covered = 0, next = start, a, b;

	/* The overlapping runs come in ascending order of their start. */
	for (it = interval_tree_iter_first(&pmm->pfns, start, last); it;
	     it = interval_tree_iter_next(it, start, last)) {
		a = max(it->start, next);
		b = min(it->last, last);
		if (a > b)
			continue;
		covered += b - a + 1;
		if (b == last)
			break;
		next = b + 1;
	}
	return last - start + 1 - covered;
}

/* Enter @run in @pmm; returns how many of its pages were not pinned yet. */
static unsigned long vref_run_add(struct vref_pin_mm *pmm,
				  struct vref_run *run)
{
	unsigned long fresh = vref_pfns_uncovered(pmm, run->pfns.start,
						  run->pfns.last);

	interval_tree_insert(&run->pfns, &pmm->pfns);
	return fresh;
}

/* Take @run out of @pmm; returns how many of its pages nothing pins now. */
static unsigned long vref_run_del(struct vref_pin_mm *pmm,
				  struct vref_run *run)
{
	interval_tree_remove(&run->pfns, &pmm->pfns);
	return vref_pfns_uncovered(pmm, run->pfns.start, run->pfns.last);
}

static unsigned long vref_run_pages(const struct vref_run *run)
{
	return run->pfns.last - run->pfns.start + 1;
}

/* Unpin, forget and free the runs of @blk; returns the pages uncharged. */
static unsigned long vref_runs_release(struct vref_dma *dma,
				       struct vref_runs *blk, bool dirty)
{
	struct vref_pin_mm *pmm = dma->pmm;
	unsigned long freed = 0;
	unsigned int i;

	for (i = 0; i < blk->nr; i++) {
		freed += vref_run_del(pmm, &blk->run[i]);
		unpin_user_page_range_dirty_lock(pfn_to_page(blk->run[i].pfns.start),
						 vref_run_pages(&blk->run[i]),
						 dirty);
	}
	if (blk != dma->spare)
		kfree(blk);
	return freed;
}

/* The number of physically contiguous runs among @pages. */
static unsigned int vref_count_runs(struct page **pages, unsigned int n)
{
	unsigned int i, nr = 1;

	for (i = 1; i < n; i++)
		nr += page_to_pfn(pages[i]) != page_to_pfn(pages[i - 1]) + 1;
	return nr;
}

/* The runs of the @n pinned @pages of @dma, in order, entered in its pmm. */
static struct vref_runs *vref_runs_new(struct vref_dma *dma,
				       struct page **pages, unsigned int n,
				       unsigned long *fresh)
{
	unsigned int nr = vref_count_runs(pages, n), i, r = 0;
	struct vref_runs *blk;
	unsigned long pfn;

	/* The first batch of a mapping may use the room after the mapping. */
	if (nr == 1 && list_empty(&dma->runs))
		blk = dma->spare;
	else
		blk = vref_fail_or(NULL, kmalloc(struct_size(blk, run, nr),
						 GFP_KERNEL_ACCOUNT));
	if (!blk)
		return NULL;
	blk->nr = nr;
	blk->run[0].pfns.start = page_to_pfn(pages[0]);
	blk->run[0].pfns.last = blk->run[0].pfns.start;
	for (i = 1; i < n; i++) {
		pfn = page_to_pfn(pages[i]);
		if (pfn != blk->run[r].pfns.last + 1) {
			r++;
			blk->run[r].pfns.start = pfn;
		}
		blk->run[r].pfns.last = pfn;
	}
	*fresh = 0;
	for (r = 0; r < nr; r++)
		*fresh += vref_run_add(dma->pmm, &blk->run[r]);
	return blk;
}

/* Pin, count and charge up to @n more pages of @dma, through @batch. */
static int vref_pin_batch(struct vref_dma *dma, struct page **batch,
			  unsigned int n, unsigned int gup_flags,
			  bool lock_cap)
{
	unsigned long vaddr = dma->vaddr + (dma->npinned << PAGE_SHIFT);
	struct vref_runs *blk;
	unsigned long fresh;
	int got, ret;

	got = vref_fail_or(-ENOMEM,
			   pin_user_pages_fast(vaddr, n, gup_flags, batch));
	if (got <= 0)
		return got ? got : -EFAULT;
	blk = vref_runs_new(dma, batch, got, &fresh);
	if (!blk) {
		unpin_user_pages(batch, got);
		return -ENOMEM;
	}
	ret = vref_account(dma->pmm->mm, fresh, true, lock_cap);
	if (ret) {
		vref_runs_release(dma, blk, false);
		return ret;
	}
	list_add_tail(&blk->node, &dma->runs);
	dma->npinned += got;
	return 0;
}

/*
 * Pin every page of @dma, VREF_PIN_BATCH pages at a time through the
 * container's batch buffer; on failure the caller calls vref_dma_unpin().
 */
static int vref_dma_pin(struct vref_iommu *iommu, struct vref_dma *dma)
{
	unsigned long npages = dma->size >> PAGE_SHIFT;
	unsigned int gup_flags = FOLL_LONGTERM;
	bool lock_cap = capable(CAP_IPC_LOCK);
	int ret;

	if (dma->prot & IOMMU_WRITE)
		gup_flags |= FOLL_WRITE;
	while (dma->npinned < npages) {
		/* A short count pins the rest in the next round. */
		ret = vref_pin_batch(dma, iommu->batch,
				     min_t(unsigned long, VREF_PIN_BATCH,
					   npages - dma->npinned),
				     gup_flags, lock_cap);
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

/*
 * Unpin what vref_dma_pin() pinned; the pages nothing pins any more are
 * uncharged by vref_uncharge(), later in the same call, under the lock.
 */
static void vref_dma_unpin(struct vref_dma *dma)
{
	struct vref_runs *blk, *next;
	unsigned long freed = 0;

	list_for_each_entry_safe(blk, next, &dma->runs, node) {
		list_del(&blk->node);
		freed += vref_runs_release(dma, blk, dma->prot & IOMMU_WRITE);
	}
	dma->pmm->uncharge += freed;
	dma->npinned = 0;
}

/* ----- IOMMU page tables ----- */

/* Unmap [iova, iova + size) from @domain and flush its IOTLB. */
static void vref_domain_unmap(struct iommu_domain *domain, u64 iova, u64 size)
{
	struct iommu_iotlb_gather gather;
	size_t unmapped;

	iommu_iotlb_gather_init(&gather);
	unmapped = iommu_unmap_fast(domain, iova, size, &gather);
	iommu_iotlb_sync(domain, &gather);
	WARN_ON_ONCE(unmapped != size);
}

/* Map @npages pages from @pfn at @done pages into @dma, in @domain. */
static int vref_map_run(struct iommu_domain *domain, struct vref_dma *dma,
			unsigned long done, unsigned long pfn,
			unsigned long npages)
{
	return vref_fail_or(-ENOMEM,
			    vref_iommu_map(domain, dma->iova + (done << PAGE_SHIFT),
					   PFN_PHYS(pfn), npages << PAGE_SHIFT,
					   dma->prot | IOMMU_CACHE));
}

/*
 * Map @dma into @domain: one iommu_map() per physically contiguous range,
 * runs of consecutive batches merged, so that the IOMMU can use its large
 * pages.
 */
static int vref_domain_map(struct iommu_domain *domain, struct vref_dma *dma)
{
	unsigned long start = 0, last = 0, npages = 0, done = 0;
	struct vref_runs *blk;
	unsigned int i;
	int ret;

	if (dma->bar_dev)
		return vref_fail_or(-ENOMEM,
				    vref_iommu_map(domain, dma->iova,
						   dma->bar_phys, dma->size,
						   dma->prot | IOMMU_MMIO));
	list_for_each_entry(blk, &dma->runs, node) {
		for (i = 0; i < blk->nr; i++) {
			const struct interval_tree_node *p = &blk->run[i].pfns;

			if (npages && p->start == last + 1) {
				last = p->last;
				npages += p->last - p->start + 1;
				continue;
			}
			if (npages) {
				ret = vref_map_run(domain, dma, done, start,
						   npages);
				if (ret)
					goto out_unmap;
				done += npages;
			}
			start = p->start;
			last = p->last;
			npages = last - start + 1;
		}
	}
	ret = vref_map_run(domain, dma, done, start, npages);
	if (!ret)
		return 0;

out_unmap:
	if (done)
		vref_domain_unmap(domain, dma->iova, (u64)done << PAGE_SHIFT);
	return ret;
}

/* Map @dma into every domain, or into none. */
static int vref_dma_map(struct vref_iommu *iommu, struct vref_dma *dma)
{
	struct vref_domain *vd;
	int ret;

	list_for_each_entry(vd, &iommu->domains, node) {
		ret = vref_domain_map(vd->domain, dma);
		if (ret)
			goto out_unmap;
	}
	return 0;

out_unmap:
	list_for_each_entry_continue_reverse(vd, &iommu->domains, node)
		vref_domain_unmap(vd->domain, dma->iova, dma->size);
	return ret;
}

/* ----- mappings of a device's BAR (peer-to-peer) ----- */

/* Enter @dma on its device's list; -EFAULT once the device is removed. */
static int vref_dma_bar_link(struct vref_iommu *iommu, struct vref_dma *dma)
{
	struct vref_device *vdev = dma->bar_dev;
	int ret = -EFAULT;

	mutex_lock(&vdev->p2p_lock);
	if (!vdev->p2p_gone) {
		dma->iommu = iommu;
		list_add_tail(&dma->bar_node, &vdev->p2p);
		ret = 0;
	}
	mutex_unlock(&vdev->p2p_lock);
	return ret;
}

/*
 * Whether the user range of @dma is a BAR mmap of one of our devices: then
 * @dma maps that BAR and is on the device's list. The device outlives the
 * entry: its removal empties the list (vref_iommu_device_gone()) before it
 * lets go of the device. Return: 1 when it is, 0 when the range does not
 * start in one (it is memory to pin), -EFAULT when it starts in one but
 * does not lie inside it, @dma writes where the mmap does not, or the
 * device is revoked or removed.
 */
static int vref_dma_bar_lookup(struct vref_iommu *iommu, struct vref_dma *dma)
{
	struct mm_struct *mm = current->mm;
	struct vref_device *vdev = NULL;
	struct vm_area_struct *vma;
	int ret;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, dma->vaddr);
	if (vma)
		vdev = vref_bar_lookup(vma, dma->vaddr, dma->size,
				       dma->prot & IOMMU_WRITE, &dma->bar_phys);
	ret = PTR_ERR_OR_ZERO(vdev);
	if (vdev && !ret) {
		dma->bar_dev = vdev;
		ret = vref_dma_bar_link(iommu, dma) ?: 1;
	}
	mmap_read_unlock(mm);
	return ret;
}

/* Take @dma off its device's list. */
static void vref_dma_bar_unlink(struct vref_dma *dma)
{
	struct vref_device *vdev = dma->bar_dev;

	mutex_lock(&vdev->p2p_lock);
	list_del(&dma->bar_node);
	mutex_unlock(&vdev->p2p_lock);
}

/* ----- creating and removing mappings ----- */

static void vref_dma_add(struct vref_iommu *iommu, struct vref_dma *dma)
{
	vref_dma_insert(iommu, dma);
	iommu->dma_avail--;
}

/* Map @dma, a BAR's (vref_dma_bar_lookup()); frees it on error. */
static int vref_dma_create_bar(struct vref_iommu *iommu, struct vref_dma *dma)
{
	int ret;

	ret = vref_dma_map(iommu, dma);
	if (ret) {
		vref_dma_bar_unlink(dma);
		kfree(dma);
		return ret;
	}
	vref_dma_add(iommu, dma);
	return 0;
}

static int vref_dma_create(struct vref_iommu *iommu,
			   const struct vfio_iommu_type1_dma_map *map,
			   int prot)
{
	struct vref_dma *dma;
	int ret = -ENOMEM;

	/* No page beyond the user address space can be pinned. */
	if (!access_ok(u64_to_user_ptr(map->vaddr), map->size))
		return -EFAULT;
	dma = vref_fail_or(NULL, kzalloc(VREF_DMA_ALLOC_SIZE, GFP_KERNEL_ACCOUNT));
	if (!dma)
		return -ENOMEM;
	dma->spare = (struct vref_runs *)(dma + 1);
	dma->iova = map->iova;
	dma->size = map->size;
	dma->vaddr = map->vaddr;
	dma->prot = prot;
	INIT_LIST_HEAD(&dma->runs);
	ret = vref_dma_bar_lookup(iommu, dma);
	if (ret > 0)
		return vref_dma_create_bar(iommu, dma);
	if (ret)
		goto out_free;
	ret = -ENOMEM;
	dma->pmm = vref_pin_mm_get(iommu);
	if (!dma->pmm)
		goto out_free;
	ret = vref_dma_pin(iommu, dma);
	if (!ret)
		ret = vref_dma_map(iommu, dma);
	if (ret)
		goto out_unpin;
	vref_dma_add(iommu, dma);
	return 0;

out_unpin:
	vref_dma_unpin(dma);
	vref_uncharge(dma->pmm);
	vref_pin_mm_put(dma->pmm);
out_free:
	kfree(dma);
	return ret;
}

/* Unpin (or unlist, for a BAR) and free @dma, unmapped already. */
static void vref_dma_free(struct vref_iommu *iommu, struct vref_dma *dma)
{
	if (dma->bar_dev) {
		vref_dma_bar_unlink(dma);
	} else {
		vref_dma_unpin(dma);
		vref_pin_mm_put(dma->pmm);
	}
	rb_erase(&dma->node, &iommu->dmas);
	iommu->dma_avail++;
	kfree(dma);
}

/*
 * Remove every mapping that overlaps [start, last]; returns their bytes.
 * Each domain unmaps them all under one IOTLB gather (the IOMMU core
 * flushes early itself when a range is disjoint from the gathered one),
 * and the pages are unpinned only after the flush.
 */
static u64 vref_dma_remove_range(struct vref_iommu *iommu, u64 start,
				 u64 last)
{
	struct vref_dma *first = vref_dma_first(iommu, start, last), *dma, *next;
	struct iommu_iotlb_gather gather;
	struct vref_domain *vd;
	u64 removed = 0;
	size_t unmapped;

	list_for_each_entry(vd, &iommu->domains, node) {
		iommu_iotlb_gather_init(&gather);
		for (dma = first; dma && dma->iova <= last;
		     dma = vref_dma_of(rb_next(&dma->node))) {
			unmapped = iommu_unmap_fast(vd->domain, dma->iova,
						    dma->size, &gather);
			WARN_ON_ONCE(unmapped != dma->size);
			cond_resched();
		}
		iommu_iotlb_sync(vd->domain, &gather);
	}
	for (dma = first; dma && dma->iova <= last; dma = next) {
		next = vref_dma_of(rb_next(&dma->node));
		removed += dma->size;
		vref_dma_free(iommu, dma);
		cond_resched();
	}
	vref_uncharge_all(iommu);
	return removed;
}

/* ----- VFIO_IOMMU_MAP_DMA ----- */

/* The checks of MAP_DMA that need the lock, in the kernel's order. */
static int vref_map_check(struct vref_iommu *iommu,
			  const struct vfio_iommu_type1_dma_map *map)
{
	u64 mask = vref_granule(iommu) - 1;
	u64 last = map->iova + map->size - 1;

	if (!map->size || ((map->size | map->iova | map->vaddr) & mask))
		return -EINVAL;
	if (last < map->iova || map->vaddr + map->size - 1 < map->vaddr)
		return -EINVAL;
	if (vref_dma_first(iommu, map->iova, last))
		return -EEXIST;
	if (!iommu->dma_avail)
		return -ENOSPC;
	if (!vref_iova_valid(iommu, map->iova, last))
		return -EINVAL;
	return 0;
}

static long vref_map_dma(struct vref_iommu *iommu, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;
	int prot = 0, ret;

	ret = vref_copy_argsz(&map, arg, minsz);
	if (ret)
		return ret;
	/* VFIO_DMA_MAP_FLAG_VADDR is not offered (VFIO_UPDATE_VADDR is 0). */
	if (map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	if (!prot)
		return -EINVAL;

	mutex_lock(&iommu->lock);
	ret = vref_map_check(iommu, &map);
	if (!ret)
		ret = vref_dma_create(iommu, &map, prot);
	mutex_unlock(&iommu->lock);
	return ret;
}

/* ----- VFIO_IOMMU_UNMAP_DMA ----- */

/*
 * Validate @unmap and find the last IOVA of its range. Version 2 refuses a
 * range that would split a mapping; version 1 accepts it (vref_unmap_v1()).
 */
static int vref_unmap_check(struct vref_iommu *iommu,
			    const struct vfio_iommu_type1_dma_unmap *unmap,
			    u64 *last)
{
	u64 mask = vref_granule(iommu) - 1;
	struct vref_dma *dma;

	if (unmap->iova & mask)
		return -EINVAL;
	if (unmap->flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap->iova || unmap->size)
			return -EINVAL;
		*last = U64_MAX;
		return 0;
	}
	if (!unmap->size || (unmap->size & mask))
		return -EINVAL;
	*last = unmap->iova + unmap->size - 1;
	if (*last < unmap->iova)
		return -EINVAL;
	if (!iommu->v2)
		return 0;
	/* Refuse to split a mapping at either end of the range. */
	dma = vref_dma_first(iommu, unmap->iova, *last);
	if (dma && dma->iova < unmap->iova)
		return -EINVAL;
	dma = vref_dma_first(iommu, *last, *last);
	if (dma && vref_dma_last(dma) > *last)
		return -EINVAL;
	return 0;
}

/*
 * Version 1: a range that starts inside a mapping removes nothing; else
 * every mapping that starts in the range goes whole, also one that ends
 * past it. Returns the bytes removed.
 */
static u64 vref_unmap_v1(struct vref_iommu *iommu, u64 start, u64 last)
{
	struct vref_dma *first = vref_dma_first(iommu, start, last);

	if (first && first->iova < start)
		return 0;
	return vref_dma_remove_range(iommu, start, last);
}

static long vref_unmap_dma(struct vref_iommu *iommu, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_unmap,
					  size);
	struct vfio_iommu_type1_dma_unmap unmap;
	u64 last;
	int ret;

	ret = vref_copy_argsz(&unmap, arg, minsz);
	if (ret)
		return ret;
	if (unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL)
		return -EINVAL;

	mutex_lock(&iommu->lock);
	ret = vref_unmap_check(iommu, &unmap, &last);
	if (!ret && iommu->v2)
		unmap.size = vref_dma_remove_range(iommu, unmap.iova, last);
	else if (!ret)
		unmap.size = vref_unmap_v1(iommu, unmap.iova, last);
	mutex_unlock(&iommu->lock);
	if (ret)
		return ret;
	return vref_fail_or(1, copy_to_user(arg, &unmap, minsz)) ? -EFAULT : 0;
}

/* ----- VFIO_IOMMU_GET_INFO ----- */

/* Fill the IOVA-range capability at @buf; its next field is @next. */
static void vref_cap_iova(void *buf, const struct vfio_iova_range *ranges,
			  u32 nr, u32 next)
{
	struct vfio_iommu_type1_info_cap_iova_range *cap = buf;

	cap->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	cap->header.version = 1;
	cap->header.next = next;
	cap->nr_iovas = nr;
	memcpy(cap->iova_ranges, ranges, nr * sizeof(*ranges));
}

/*
 * The capability chain as it will sit after struct vfio_iommu_type1_info:
 * the IOVA ranges (if any), then the DMA mappings still available.
 */
static void *vref_info_caps(struct vref_iommu *iommu, size_t *size)
{
	const size_t base = sizeof(struct vfio_iommu_type1_info);
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iova_range *ranges;
	size_t iova_size = 0;
	void *buf;
	u32 nr;

	ranges = vref_iova_ranges(iommu, &nr);
	if (IS_ERR(ranges))
		return ranges;
	if (nr)
		iova_size = ALIGN(sizeof(struct vfio_iommu_type1_info_cap_iova_range) +
				  nr * sizeof(*ranges), VREF_CAP_ALIGN);
	*size = iova_size + ALIGN(sizeof(*avail), VREF_CAP_ALIGN);
	buf = vref_fail_or(NULL, kzalloc(*size, GFP_KERNEL));
	if (!buf) {
		kfree(ranges);
		return ERR_PTR(-ENOMEM);
	}
	if (nr)
		vref_cap_iova(buf, ranges, nr, base + iova_size);
	kfree(ranges);
	avail = buf + iova_size;
	avail->header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	avail->header.version = 1;
	avail->avail = iommu->dma_avail;
	return buf;
}

/* Copy @info and, if they fit in @argsz, @caps to the user at @arg. */
static int vref_info_copy(void __user *arg, struct vfio_iommu_type1_info *info,
			  u32 argsz, const void *caps, size_t caps_size)
{
	info->argsz = argsz;
	if (argsz < sizeof(*info) + caps_size) {
		/* Tell the user the size needed; no capability is written. */
		info->argsz = sizeof(*info) + caps_size;
		info->cap_offset = 0;
	} else {
		if (vref_fail_or(1, copy_to_user(arg + sizeof(*info), caps,
						 caps_size)))
			return -EFAULT;
		info->cap_offset = sizeof(*info);
	}
	if (vref_fail_or(1, copy_to_user(arg, info,
					 min_t(size_t, argsz, sizeof(*info)))))
		return -EFAULT;
	return 0;
}

static long vref_get_info(struct vref_iommu *iommu, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_info,
					  iova_pgsizes);
	struct vfio_iommu_type1_info info;
	size_t caps_size = 0;
	void *caps;
	u32 argsz;
	int ret;

	ret = vref_copy_argsz(&info, arg, minsz);
	if (ret)
		return ret;
	argsz = info.argsz;
	memset(&info, 0, sizeof(info));
	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;

	mutex_lock(&iommu->lock);
	info.iova_pgsizes = vref_pgsize_bitmap(iommu);
	caps = vref_info_caps(iommu, &caps_size);
	mutex_unlock(&iommu->lock);
	if (IS_ERR(caps))
		return PTR_ERR(caps);

	ret = vref_info_copy(arg, &info, argsz, caps, caps_size);
	kfree(caps);
	return ret;
}

/* ----- groups and domains ----- */

/* Keep the reserved regions of @regions that mappings must avoid. */
static int vref_resv_keep(struct vref_iommu_group *g,
			  struct list_head *regions)
{
	struct iommu_resv_region *r;
	unsigned int n = 0;
	bool hw_msi = false;

	list_for_each_entry(r, regions, list)
		n++;
	g->resv = vref_fail_or(NULL, kcalloc(n, sizeof(*g->resv), GFP_KERNEL));
	if (!g->resv)
		return -ENOMEM;
	list_for_each_entry(r, regions, list) {
		hw_msi |= r->type == IOMMU_RESV_MSI;
		if (r->type == IOMMU_RESV_SW_MSI) {
			g->sw_msi = true;
			g->msi_base = r->start;
		}
		/* As the kernel's type1: relaxable direct maps stay usable. */
		if (r->type == IOMMU_RESV_DIRECT_RELAXABLE || !r->length)
			continue;
		g->resv[g->nr_resv].start = r->start;
		g->resv[g->nr_resv++].last = r->start + r->length - 1;
	}
	/* A hardware MSI window takes precedence over a software one. */
	g->sw_msi &= !hw_msi;
	return 0;
}

/* Read the group's reserved regions (DMA-3). */
static int vref_group_read_resv(struct vref_iommu_group *g)
{
	struct iommu_resv_region *r, *next;
	LIST_HEAD(regions);
	int ret;

	ret = vref_fail_or(-ENOMEM,
			   iommu_get_group_resv_regions(g->group, &regions));
	if (!ret)
		ret = vref_resv_keep(g, &regions);
	/* The list holds copies, each kmalloc()ed by the IOMMU core. */
	list_for_each_entry_safe(r, next, &regions, list) {
		list_del(&r->list);
		kfree(r);
	}
	return ret;
}

static void vref_group_free(struct vref_iommu_group *g)
{
	kfree(g->resv);
	kfree(g);
}

static struct vref_iommu_group *vref_find_group(struct vref_iommu *iommu,
						struct iommu_group *group)
{
	struct vref_iommu_group *g;

	list_for_each_entry(g, &iommu->groups, node)
		if (g->group == group)
			return g;
	return NULL;
}

/* Whether a reserved region of @g covers part of an existing mapping. */
static bool vref_resv_conflict(struct vref_iommu *iommu,
			       struct vref_iommu_group *g)
{
	unsigned int i;

	for (i = 0; i < g->nr_resv; i++)
		if (vref_dma_first(iommu, g->resv[i].start, g->resv[i].last))
			return true;
	return false;
}

static int vref_alloc_for_dev(struct device *dev, void *data)
{
	struct iommu_domain **domain = data;

	*domain = vref_fail_or(ERR_PTR(-ENOMEM), vref_domain_alloc(dev));
	return 1;	/* one device is enough */
}

static void vref_domain_free(struct vref_domain *vd)
{
	iommu_domain_free(vd->domain);
	kfree(vd);
}

/* A new domain for @group, with the group attached to it. */
static struct vref_domain *vref_domain_new(struct iommu_group *group)
{
	struct iommu_domain *domain = ERR_PTR(-ENODEV);
	const struct iommu_domain_ops *ops;
	struct vref_domain *vd;
	int ret;

	vd = vref_fail_or(NULL, kzalloc(sizeof(*vd), GFP_KERNEL));
	if (!vd)
		return ERR_PTR(-ENOMEM);
	iommu_group_for_each_dev(group, &domain, vref_alloc_for_dev);
	if (IS_ERR(domain)) {
		kfree(vd);
		return ERR_CAST(domain);
	}
	vd->domain = domain;
	ret = vref_fail_or(-ENOMEM, iommu_attach_group(domain, group));
	if (ret) {
		vref_domain_free(vd);
		return ERR_PTR(ret);
	}
	/* As type1: block no-snoop DMA whenever the IOMMU can. */
	ops = domain->ops;
	vd->enforce_cc = ops->enforce_cache_coherency &&
			 ops->enforce_cache_coherency(domain);
	return vd;
}

/* Map every existing mapping into the new domain @vd (CONT-12). */
static int vref_replay(struct vref_iommu *iommu, struct vref_domain *vd)
{
	struct rb_node *node, *done;
	struct vref_dma *dma;
	int ret;

	for (node = rb_first(&iommu->dmas); node; node = rb_next(node)) {
		ret = vref_domain_map(vd->domain, vref_dma_of(node));
		if (ret)
			goto out_unmap;
	}
	return 0;

out_unmap:
	for (done = rb_first(&iommu->dmas); done != node; done = rb_next(done)) {
		dma = vref_dma_of(done);
		vref_domain_unmap(vd->domain, dma->iova, dma->size);
	}
	return ret;
}

/* Make the new domain @vd of group @g ready to join the container. */
static int vref_domain_setup(struct vref_iommu *iommu, struct vref_domain *vd,
			     struct vref_iommu_group *g)
{
	struct iommu_domain_geometry *geo = &vd->domain->geometry;
	struct vref_dma *first = vref_dma_of(rb_first(&iommu->dmas));
	struct vref_dma *last = vref_dma_of(rb_last(&iommu->dmas));
	int ret;

	/* Existing mappings must fit in the new aperture. */
	if (first && (first->iova < geo->aperture_start ||
		      vref_dma_last(last) > geo->aperture_end))
		return -EINVAL;
	if (g->sw_msi) {
		ret = vref_fail_or(-ENOMEM,
				   iommu_get_msi_cookie(vd->domain, g->msi_base));
		if (ret && ret != -ENODEV)
			return ret;
	}
	return vref_replay(iommu, vd);
}

/*
 * Attach @g to a domain of the container: an existing one of the same
 * IOMMU and coherency if it takes the group, else a new one.
 */
static int vref_attach_domain(struct vref_iommu *iommu,
			      struct vref_iommu_group *g)
{
	struct vref_domain *vd, *d;
	int ret;

	vd = vref_domain_new(g->group);
	if (IS_ERR(vd))
		return PTR_ERR(vd);
	list_for_each_entry(d, &iommu->domains, node) {
		if (d->domain->ops != vd->domain->ops ||
		    d->enforce_cc != vd->enforce_cc)
			continue;
		iommu_detach_group(vd->domain, g->group);
		if (!vref_fail_or(-ENOMEM,
				  iommu_attach_group(d->domain, g->group))) {
			vref_domain_free(vd);
			g->vdom = d;
			d->groups++;
			return 0;
		}
		ret = vref_fail_or(-ENOMEM,
				   iommu_attach_group(vd->domain, g->group));
		if (ret)
			goto out_free;
	}
	ret = vref_domain_setup(iommu, vd, g);
	if (ret)
		goto out_detach;
	vd->groups = 1;
	g->vdom = vd;
	list_add_tail(&vd->node, &iommu->domains);
	return 0;

out_detach:
	iommu_detach_group(vd->domain, g->group);
out_free:
	vref_domain_free(vd);
	return ret;
}

/* Detach @g from its domain; the last group of a domain frees it. */
static void vref_detach_domain(struct vref_iommu *iommu,
			       struct vref_iommu_group *g)
{
	struct vref_domain *vd = g->vdom;

	iommu_detach_group(vd->domain, g->group);
	if (--vd->groups)
		return;
	/* No device can reach the mappings any more: drop them (CONT-11). */
	if (list_is_singular(&iommu->domains))
		vref_dma_remove_range(iommu, 0, U64_MAX);
	list_del(&vd->node);
	vref_domain_free(vd);
}

static int vref_attach_locked(struct vref_iommu *iommu,
			      struct vref_iommu_group *g)
{
	int ret;

	if (vref_find_group(iommu, g->group))
		return -EINVAL;
	if (vref_resv_conflict(iommu, g))
		return -EINVAL;
	ret = vref_attach_domain(iommu, g);
	if (ret)
		return ret;
	list_add_tail(&g->node, &iommu->groups);
	ret = vref_iova_check_usable(iommu);
	if (ret) {
		list_del(&g->node);
		vref_detach_domain(iommu, g);
	}
	return ret;
}

/* Whether @group may join: its MSIs are isolated, or the admin allows. */
static int vref_check_msi(struct iommu_group *group)
{
	if (vref_group_has_isolated_msi(group))
		return 0;
	if (!vref_allow_unsafe_interrupts) {
		pr_warn_ratelimited("group %d: no interrupt remapping; the module parameter %s.allow_unsafe_interrupts=1 allows it\n",
				    iommu_group_id(group), KBUILD_MODNAME);
		return -EPERM;
	}
	pr_warn("group %d: no interrupt remapping, allowed by %s.allow_unsafe_interrupts: device isolation is weakened\n",
		iommu_group_id(group), KBUILD_MODNAME);
	return 0;
}

/* ----- the interface of vfio_ref.h ----- */

/**
 * vref_iommu_check_extension() - whether the type1 model offers @ext
 * @ext: a VFIO_CHECK_EXTENSION argument
 *
 * Both versions are offered whatever the container's model, as the kernel's
 * type1 does.
 *
 * Return: 1 for VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU and VFIO_UNMAP_ALL, 0
 * for anything else.
 */
int vref_iommu_check_extension(unsigned long ext)
{
	switch (ext) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	default:
		return 0;
	}
}

/**
 * vref_iommu_create() - create an empty type1 model for a container
 * @type: VFIO_TYPE1v2_IOMMU or VFIO_TYPE1_IOMMU (version 1, whose unmap
 *	may remove a mapping the range only partly covers)
 *
 * The mapping limit is the dma_entry_limit module parameter at this time.
 *
 * Return: the new model, ERR_PTR(-ENODEV) for any other @type, or
 * ERR_PTR(-ENOMEM).
 */
struct vref_iommu *vref_iommu_create(unsigned long type)
{
	struct vref_iommu *iommu;

	if (type != VFIO_TYPE1v2_IOMMU && type != VFIO_TYPE1_IOMMU)
		return ERR_PTR(-ENODEV);
	iommu = vref_fail_or(NULL, kzalloc(sizeof(*iommu), GFP_KERNEL));
	if (!iommu)
		return ERR_PTR(-ENOMEM);
	kref_init(&iommu->kref);
	iommu->v2 = type == VFIO_TYPE1v2_IOMMU;
	iommu->batch = vref_fail_or(NULL,
				    kmalloc_array(VREF_PIN_BATCH,
						  sizeof(*iommu->batch),
						  GFP_KERNEL));
	if (!iommu->batch) {
		kfree(iommu);
		return ERR_PTR(-ENOMEM);
	}
	mutex_init(&iommu->lock);
	INIT_LIST_HEAD(&iommu->domains);
	INIT_LIST_HEAD(&iommu->groups);
	INIT_LIST_HEAD(&iommu->mms);
	iommu->dmas = RB_ROOT;
	iommu->dma_avail = READ_ONCE(vref_dma_entry_limit);
	return iommu;
}

static void vref_iommu_release(struct kref *kref)
{
	struct vref_iommu *iommu = container_of(kref, struct vref_iommu, kref);

	mutex_destroy(&iommu->lock);
	kfree(iommu->batch);
	kfree(iommu);
}

static void vref_iommu_put(struct vref_iommu *iommu)
{
	kref_put(&iommu->kref, vref_iommu_release);
}

/**
 * vref_iommu_destroy() - free a model, its mappings and its domains
 * @iommu: the model; its groups should have been detached already
 *
 * Every mapping is unmapped, its pages unpinned and uncharged from the
 * locked_vm of the process that mapped them. The memory goes once no
 * device removal (vref_iommu_device_gone()) holds the model any more.
 */
void vref_iommu_destroy(struct vref_iommu *iommu)
{
	struct vref_iommu_group *g, *next;

	mutex_lock(&iommu->lock);
	list_for_each_entry_safe(g, next, &iommu->groups, node) {
		WARN_ONCE(1, "group %d still attached\n",
			  iommu_group_id(g->group));
		list_del(&g->node);
		vref_detach_domain(iommu, g);
		vref_group_free(g);
	}
	vref_dma_remove_range(iommu, 0, U64_MAX);
	WARN_ON(!list_empty(&iommu->domains) || !list_empty(&iommu->mms));
	mutex_unlock(&iommu->lock);
	vref_iommu_put(iommu);
}

/**
 * vref_iommu_attach_group() - make the container's mappings the DMA
 * address space of @group
 * @iommu: the model
 * @group: an IOMMU group whose DMA ownership the caller holds
 *
 * The group joins an existing domain of the container if its IOMMU accepts
 * it, else a new domain into which every existing mapping is replayed. Its
 * reserved regions leave the usable IOVA space.
 *
 * Return: 0; -EPERM if the group lacks MSI isolation and unsafe interrupts
 * are not allowed; -EINVAL if its reserved regions or aperture conflict with
 * existing mappings or leave no usable IOVA, or if it is already attached;
 * another errno if the IOMMU refuses. On error nothing is attached.
 */
int vref_iommu_attach_group(struct vref_iommu *iommu,
			    struct iommu_group *group)
{
	struct vref_iommu_group *g;
	int ret;

	ret = vref_check_msi(group);
	if (ret)
		return ret;
	g = vref_fail_or(NULL, kzalloc(sizeof(*g), GFP_KERNEL));
	if (!g)
		return -ENOMEM;
	g->group = group;
	ret = vref_group_read_resv(g);
	if (ret)
		goto out_free;

	mutex_lock(&iommu->lock);
	ret = vref_attach_locked(iommu, g);
	mutex_unlock(&iommu->lock);
	if (ret)
		goto out_free;
	return 0;

out_free:
	vref_group_free(g);
	return ret;
}

/**
 * vref_iommu_detach_group() - take the container's mappings away from @group
 * @iommu: the model
 * @group: an attached IOMMU group; anything else is ignored
 *
 * When this returns, no device of @group reaches the mappings. A domain
 * without groups is freed; when the last one goes, every mapping is removed.
 */
void vref_iommu_detach_group(struct vref_iommu *iommu,
			     struct iommu_group *group)
{
	struct vref_iommu_group *g;

	mutex_lock(&iommu->lock);
	g = vref_find_group(iommu, group);
	if (g) {
		list_del(&g->node);
		vref_detach_domain(iommu, g);
	}
	mutex_unlock(&iommu->lock);
	if (g)
		vref_group_free(g);
}

/**
 * vref_iommu_ioctl() - an ioctl of the type1v2 model on the container file
 * @iommu: the model
 * @cmd: VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA or VFIO_IOMMU_UNMAP_DMA
 * @arg: the user pointer to the ioctl's structure
 *
 * Return: 0 or a negative errno; -ENOTTY for any other @cmd.
 */
long vref_iommu_ioctl(struct vref_iommu *iommu, unsigned int cmd,
		      unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_IOMMU_GET_INFO:
		return vref_get_info(iommu, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return vref_map_dma(iommu, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return vref_unmap_dma(iommu, uarg);
	default:
		return -ENOTTY;
	}
}

/**
 * vref_iommu_device_gone() - remove every DMA mapping of a device's BARs
 * @vdev: a device being removed, whose files are closed or revoked
 *
 * When this returns, no container maps a BAR of @vdev, and none will
 * (DMA-32): its BARs may be given to another owner. Takes each mapping's
 * model lock with none of @vdev's locks held (the lock order).
 */
void vref_iommu_device_gone(struct vref_device *vdev)
{
	struct vref_iommu *iommu;
	struct vref_dma *dma;
	u64 iova;

	mutex_lock(&vdev->p2p_lock);
	vdev->p2p_gone = true;
	while (!list_empty(&vdev->p2p)) {
		dma = list_first_entry(&vdev->p2p, struct vref_dma, bar_node);
		/* The model frees its mappings before its last reference. */
		iommu = dma->iommu;
		kref_get(&iommu->kref);
		iova = dma->iova;
		mutex_unlock(&vdev->p2p_lock);

		/* Listed mappings are in the tree whenever the lock is free. */
		mutex_lock(&iommu->lock);
		dma = vref_dma_first(iommu, iova, iova);
		if (dma && dma->bar_dev == vdev)
			vref_dma_remove_range(iommu, dma->iova,
					      vref_dma_last(dma));
		mutex_unlock(&iommu->lock);
		vref_iommu_put(iommu);
		mutex_lock(&vdev->p2p_lock);
	}
	mutex_unlock(&vdev->p2p_lock);
}
