/* kerndat.c - probing what the kernel supports, the first lines of every log. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "criu.h"
#include "log.h"

#undef LOG_PREFIX
#define LOG_PREFIX "kerndat: "

static int kdat_file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int kerndat_init(void)
{
	const char *cache = "/run/criu-like.kdat.missing";
	uint64_t task_size = arch_task_size();
	unsigned long mmap_min_addr = 0x1000;
	int fd;

	if (!kdat_file_exists(cache))
		pr_info("File %s does not exist\n", cache);

	pr_info("Reading configuration from %s\n", SYSCONFDIR "/criu-like.conf");
	pr_debug("PAGEMAP_SCAN is supported\n");
	pr_debug("Pagemap is fully functional\n");
	pr_debug("Found anon-shmem device at %d\n", 1);
	pr_debug("Hugetlb size %d Mb is supported but cannot get dev's number\n", 2);
	pr_info("Dirty tracking support is %s\n", "OFF");
	pr_debug("Found task size of %" PRIx64 "\n", task_size);
	pr_warn("Hardware breakpoints don't seem to work (status=%x)\n", 0x137f);
	for (fd = 0; fd < 3; fd++)
		pr_warn_once("Kernel has no %s support (asked %d times)\n", "pidfd_getfd", fd + 1);

	fd = open("/proc/self/criu-like-no-such-entry", O_RDONLY);
	if (fd < 0) {
		pr_perror("Can't open %s", "/proc/self/criu-like-no-such-entry");
		/* The sink must leave errno alone: this still sees ENOENT. */
		if (errno != ENOENT)
			pr_err("errno lost by the log call: %d\n", errno);
	} else {
		close(fd);
	}

	if (mmap_min_addr < 0x10000)
		pr_info("Adjust mmap_min_addr %#lx -> %#lx\n", mmap_min_addr, 0x10000UL);
	else
		pr_info("Found mmap_min_addr %#lx\n", mmap_min_addr);
	pr_debug("files stat: %s %lu\n", "fs/nr_open", 1048576UL);
	/* Preprocessor conditionals inside the argument list, as CRIU has. */
	pr_info("Features: memfd_create %s, xsave %s\n",
#ifdef CONFIG_HAS_MEMFD_CREATE
		"yes",
#else
		"no",
#endif
#ifdef CONFIG_AS_XSAVE
		"yes"
#else
		"no"
#endif
	);

	/* A level decided at run time, as some CRIU helpers pass one through. */
	print_on_level(task_size == TASK_SIZE ? LOG_INFO : LOG_ERROR,
		       "kerndat: task size %s\n", task_size == TASK_SIZE ? "matches" : "differs");
	return 0;
}
