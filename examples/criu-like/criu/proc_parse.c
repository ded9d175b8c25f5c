/* proc_parse.c - "parsing" the dumped task's mappings and fd info. */
#include <stdlib.h>
#include <sys/mman.h>

#include "criu.h"
#include "log.h"

/* No LOG_PREFIX here: like CRIU's proc_parse.c, these lines are bare. */

#define VMA_AREA_REGULAR 0x1
#define VMA_FILE_PRIVATE 0x40
#define VMA_ANON_PRIVATE 0x200

/* A log call inside a macro body, as 56 of CRIU's are. */
#define pr_vma_borrow(cur, prev) \
	pr_debug("vma %" PRIx64 " borrows vfi from previous %" PRIx64 "\n", (cur)->start, (prev)->start)

static void pr_vma(const struct vma_area *v)
{
	pr_info("%#" PRIx64 "-%#" PRIx64 " (%" PRIu64 "K) prot %#x flags %#x fdflags %#o st %#x off %#" PRIx64
		" %s %s %s shmid: %#x\n",
		v->start, v->end, (v->end - v->start) >> 10, v->prot, v->flags, v->fdflags, v->status,
		v->pgoff, "reg", v->file >= 0 ? "fp" : "ap", "", v->shmid);
}

int parse_smaps(int pid, struct vma_area **vmas)
{
	struct vma_area *v;
	uint64_t addr = 0x5598640f4000ULL;
	int i, nr = opts.nr_vmas;

	v = calloc(nr ? nr : 1, sizeof(*v));
	if (!v) {
		pr_err("Can't allocate %d VMAs\n", nr);
		return -1;
	}

	pr_info("Collecting VMAs of %d\n", pid);
	for (i = 0; i < nr; i++) {
		uint64_t r = cr_rand();
		uint64_t pages = 1 + (r % 7 == 0 ? (r >> 8) % 512 : (r >> 8) % 4);

		if (i == nr / 2)
			addr = 0x7f38e11cc000ULL; /* the libraries and the heap of a big process */
		if (r % 5 == 0)
			addr += PAGE_SIZE * (1 + (r >> 20) % 16); /* a hole */

		v[i].start = addr;
		v[i].end = addr + pages * PAGE_SIZE;
		v[i].prot = (r >> 3) % 2 ? PROT_READ | PROT_WRITE : PROT_READ | ((r >> 4) % 2 ? PROT_EXEC : 0);
		v[i].flags = (r >> 5) % 3 ? MAP_PRIVATE : MAP_PRIVATE | MAP_ANONYMOUS;
		v[i].file = v[i].flags & MAP_ANONYMOUS ? -1 : (int)((r >> 9) % (opts.nr_files ? opts.nr_files : 1));
		v[i].status = VMA_AREA_REGULAR | (v[i].file >= 0 ? VMA_FILE_PRIVATE : VMA_ANON_PRIVATE);
		v[i].pgoff = v[i].file >= 0 ? ((r >> 12) % 64) * PAGE_SIZE : 0;
		v[i].fdflags = v[i].file >= 0 ? 0 : 02;
		v[i].shmid = v[i].file >= 0 ? v[i].file + 1 : i;
		addr = v[i].end;

		pr_vma(&v[i]);
		if (i && v[i].file >= 0 && v[i].file == v[i - 1].file)
			pr_vma_borrow(&v[i], &v[i - 1]);
	}

	*vmas = v;
	return nr;
}

int parse_fdinfo(int pid, int fd, uint64_t pos, unsigned int flags)
{
	pr_info("%d fdinfo %d: pos: %#16" PRIx64 " flags: %16o/%#x\n", pid, fd, pos, flags, 0);
	return 0;
}
