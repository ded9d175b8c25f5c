/* cr-dump.c - the dump: mappings, files, then the pages. */
#include <stdlib.h>

#include "criu.h"
#include "log.h"

static int dump_pages(int pid, struct vma_area *vmas, int nr)
{
	struct page_pipe *pp;
	unsigned int nr_segs = 0;
	int i, ret = 0;

	for (i = 0; i < nr; i++)
		nr_segs += (unsigned int)((vmas[i].end - vmas[i].start) / PAGE_SIZE);

	pp = create_page_pipe(nr_segs);
	if (!pp)
		return -1;

	pr_info("pagemap-cache: created for pid %d (takes %zu bytes)\n", pid, (size_t)nr_segs * 8 + 8);
	for (i = 0; i < nr && !ret; i++) {
		struct vma_area *v = &vmas[i];
		uint64_t a, lazy = 0, holes = 0, pages = 0;

		pr_debug("pagemap-cache: %d: filling VMA %" PRIx64 "-%" PRIx64 " (%" PRIu64 "K) [l:%" PRIx64
			 " h:%" PRIx64 "]\n",
			 pid, v->start, v->end, (v->end - v->start) >> 10, v->start & ~UINT64_C(0x1fffff),
			 (v->start & ~UINT64_C(0x1fffff)) + 0x200000);
		if (!(v->prot & 1)) {
			pr_debug("Skipping unreadable VMA %" PRIx64 "\n", v->start);
			continue;
		}
		for (a = v->start; a < v->end && !ret; a += PAGE_SIZE) {
			/* Most pages are present, some were never touched. */
			if (cr_rand() % 8 == 0) {
				holes++;
				continue;
			}
			pages++;
			ret = page_pipe_add_page(pp, a, 1);
		}
		pr_debug("Pagemap generated: %" PRIu64 " pages (%" PRIu64 " lazy) %" PRIu64 " holes\n", pages, lazy,
			 holes);
	}

	if (!ret) {
		debug_show_page_pipe(pp);
		ret = page_xfer_dump_pages(pp);
	}
	destroy_page_pipe(pp);
	return ret;
}

int cr_dump_tasks(int pid)
{
	struct vma_area *vmas = NULL;
	int nr, ret;

	pr_info("========================================\n");
	pr_info("Dumping processes (pid: %d comm: %s)\n", pid, "python3");
	pr_info("========================================\n");

	nr = parse_smaps(pid, &vmas);
	if (nr < 0)
		return -1;

	ret = dump_task_files(pid, opts.nr_files);
	if (!ret)
		ret = dump_pages(pid, vmas, nr);
	if (ret)
		pr_err("Dumping of %d failed (%d)\n", pid, ret);
	else
		pr_info("Dumping finished successfully\n");
	free(vmas);
	return ret;
}
