/* page-xfer.c - sending the collected pages to the image, talking to the
 * (simulated) parasite daemon in the dumped task. */
#include <signal.h>
#include <unistd.h>

#include "criu.h"
#include "log.h"

#undef LOG_PREFIX
#define LOG_PREFIX "page-xfer: "

extern unsigned int page_pipe_nr_iovs(struct page_pipe *pp);
extern uint64_t page_pipe_iov(struct page_pipe *pp, unsigned int i, unsigned int *nr_pages);

#define PARASITE_CMD_DUMPPAGES 66

/* These lines come from the generic parasite code, which has no prefix. */
static void parasite_send_cmd(int cmd)
{
	print_on_level(LOG_DEBUG, "Sent msg to daemon %d %d %d\n", cmd, 0, 0);
	print_on_level(LOG_DEBUG, "Wait for ack %d on daemon socket\n", cmd);
	print_on_level(LOG_DEBUG, "Fetched ack: %d %d %d\n", cmd, cmd, 0);
}

int page_xfer_dump_pages(struct page_pipe *pp)
{
	unsigned int i, n = page_pipe_nr_iovs(pp), total = 0;

	pr_debug("Transferring pages:\n");
	for (i = 0; i < n; i++) {
		unsigned int nr_pages;
		uint64_t base = page_pipe_iov(pp, i, &nr_pages);

		if (i % 16 == 0) {
			if (opts.kill_at && i / 16 + 1 == (unsigned)opts.kill_at) {
				pr_info("Simulating a crash: SIGKILL before batch %d\n", opts.kill_at);
				kill(getpid(), SIGKILL);
			}
			print_on_level(LOG_DEBUG, "PPB: %u pages %u segs %u pipe %u off\n",
				       nr_pages, n - i < 16 ? n - i : 16, 256u, i / 16);
			parasite_send_cmd(PARASITE_CMD_DUMPPAGES);
			pr_debug("\tbuf %u/%u\n", nr_pages, n - i < 16 ? n - i : 16);
		}
		pr_debug("\tp %#" PRIx64 " [%u]\n", base, nr_pages);
		total += nr_pages;
	}
	pr_info("Dumped %u pages in %u iovs\n", total, n);
	return 0;
}
