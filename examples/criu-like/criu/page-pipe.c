/* page-pipe.c - collecting the pages to dump into "pipes": the lines that
 * dominate the log of a big dump. */
#include <stdlib.h>

#include "criu.h"
#include "log.h"

#undef LOG_PREFIX
#define LOG_PREFIX "page-pipe: "

#define PPB_MAX_IOVS 16
#define PIPE_MAX_SIZE 256

struct iov {
	uint64_t base;
	unsigned int nr_pages;
};

struct page_pipe {
	unsigned int nr_segs; /* room promised at creation */
	unsigned int nr_iovs;
	unsigned int nr_pipes;
	unsigned int pipe_size; /* in pages, of the current pipe */
	unsigned int pipe_used;
	unsigned int nr_holes;
	struct iov *iovs;
};

struct page_pipe *create_page_pipe(unsigned int nr_segs)
{
	struct page_pipe *pp = calloc(1, sizeof(*pp));

	pr_debug("Create page pipe for %u segs\n", nr_segs);
	if (!pp)
		return NULL;
	pp->iovs = calloc(nr_segs ? nr_segs : 1, sizeof(*pp->iovs));
	if (!pp->iovs) {
		free(pp);
		return NULL;
	}
	pp->nr_segs = nr_segs;
	return pp;
}

static void ppb_grow(struct page_pipe *pp)
{
	unsigned int size;

	pr_debug("Will grow page pipe (iov off is %u)\n", pp->nr_iovs);
	/* F_SETPIPE_SZ, doubling from 16 pages: CRIU logs the sizes in hex. */
	for (size = 16; size < PIPE_MAX_SIZE; size *= 2)
		pr_debug("Grow pipe %x -> %x\n", size, size * 2);
	pp->nr_pipes++;
	pp->pipe_size = PIPE_MAX_SIZE;
	pp->pipe_used = 0;
}

int page_pipe_add_page(struct page_pipe *pp, uint64_t addr, unsigned int nr_pages)
{
	struct iov *last = pp->nr_iovs ? &pp->iovs[pp->nr_iovs - 1] : NULL;

	if (last && last->base + last->nr_pages * PAGE_SIZE == addr &&
	    pp->pipe_used + nr_pages <= pp->pipe_size) {
		last->nr_pages += nr_pages;
		pp->pipe_used += nr_pages;
		return 0;
	}
	if (pp->nr_iovs == pp->nr_segs) {
		pr_err("Page pipe overflow: %u iovs of %u\n", pp->nr_iovs, pp->nr_segs);
		return -1;
	}
	if (!pp->pipe_size || pp->pipe_used + nr_pages > pp->pipe_size || pp->nr_iovs % PPB_MAX_IOVS == 0)
		ppb_grow(pp);

	pr_debug("Add iov to page pipe (%u iovs, %u/%u total)\n",
		 pp->nr_iovs % PPB_MAX_IOVS, pp->nr_iovs, pp->nr_segs);
	pp->iovs[pp->nr_iovs].base = addr;
	pp->iovs[pp->nr_iovs].nr_pages = nr_pages;
	pp->nr_iovs++;
	pp->pipe_used += nr_pages;
	return 0;
}

void debug_show_page_pipe(struct page_pipe *pp)
{
	unsigned int i;

	pr_debug("Page pipe:\n");
	pr_debug("* %u pipes %u/%u iovs:\n", pp->nr_pipes, pp->nr_iovs, pp->nr_segs);
	for (i = 0; i < pp->nr_iovs; i++) {
		const struct iov *iov = &pp->iovs[i];

		if (i % PPB_MAX_IOVS == 0)
			pr_debug("\tbuf %u pages, %u iovs, flags: %x pipe_off: %x :\n",
				 iov->nr_pages, pp->nr_iovs - i < PPB_MAX_IOVS ? pp->nr_iovs - i : PPB_MAX_IOVS,
				 i ? 1 : 0, 0);
		pr_debug("\t\t%#" PRIx64 " - %#" PRIx64 "\n", iov->base, iov->base + iov->nr_pages * PAGE_SIZE);
	}
	pr_debug("* %u holes:\n", pp->nr_holes);
}

void destroy_page_pipe(struct page_pipe *pp)
{
	pr_debug("Clean up page pipe\n");
	free(pp->iovs);
	free(pp);
}

unsigned int page_pipe_nr_iovs(struct page_pipe *pp);
unsigned int page_pipe_nr_iovs(struct page_pipe *pp)
{
	return pp->nr_iovs;
}

uint64_t page_pipe_iov(struct page_pipe *pp, unsigned int i, unsigned int *nr_pages);
uint64_t page_pipe_iov(struct page_pipe *pp, unsigned int i, unsigned int *nr_pages)
{
	*nr_pages = pp->iovs[i].nr_pages;
	return pp->iovs[i].base;
}
