/*
 * cr-restore.c - the restore: every task of the tree is a forked child that
 * re-initialises logging with its pid, so its lines read "%6d: ...". Like
 * CRIU, the children are created with a raw clone() system call, which
 * skips glibc's fork handlers.
 */
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu.h"
#include "log.h"

static int restore_one_task(int vpid, int idx)
{
	uint64_t base = 0x7f7c5a420000ULL + ((uint64_t)idx << 32);
	uint64_t end = base;
	int i, nr = opts.nr_vmas / 4;

	log_init_by_pid((pid_t)sys_getpid());
	pr_info("Restoring task %d (%d of %d)\n", vpid, idx + 1, opts.nr_tasks);

	for (i = 0; i < nr; i++) {
		end += PAGE_SIZE * (1 + cr_rand() % 8);
		pr_debug("Parsed %" PRIx64 "-%" PRIx64 " vma\n", base, end);
	}
	pr_info("%d threads require %luK of memory\n", 1, 128UL);
	pr_info("Found bootstrap VMA hint at: %#lx (needs ~%luK)\n", 0x10000UL, 160UL);
	/* A call spread over several lines, with arguments computed inline. */
	pr_info("\tcall mremap(%#" PRIx64 ", %lu, %lu, MAYMOVE | FIXED, %#lx)\n",
		base + 0x18c000,
		2 * PAGE_SIZE,
		2 * PAGE_SIZE,
		0x2b000UL + (unsigned long)idx * 0x2000);
	pr_debug("x86: xsave runtime structure\n");
	pr_debug("x86: cwd:%#x swd:%x twd:%x fop:%x mxcsr:%#x mxcsr_mask:%#x\n", 0x37f, 0, 0, 0, 0x1fa0, 0x2ffff);
	pr_debug("x86: magic1:%#x extended_size:%u xstate_bv:%#" PRIx64 " xstate_size:%u\n", 0x46505853, 2436,
		 (uint64_t)0xa3, 2432);
	pr_info("Thread %4d stack %#8lx rt_sigframe %#8lx\n", 0, 0x1d080UL, 0x25080UL);
	pr_info("Restoring umask to %o\n", 022);
	if (idx == 1)
		pr_warn("Task %d has no controlling terminal\n", vpid);
	else
		pr_debug("Task %d keeps its terminal\n", vpid);
	return 0;
}

static pid_t clone_task(void)
{
	if (opts.use_fork)
		return fork();
	/* CRIU's restore does this: no atfork handlers run in the child. */
	return (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0UL);
}

int cr_restore_tasks(int pid)
{
	int i, ret = 0;

	pr_info("Reading image tree\n");
	pr_info("Add %s ns %d pid %d\n", "mnt", 6, pid);
	pr_info("Will restore in %d namespaces\n", 0);

	for (i = 0; i < opts.nr_tasks && !ret; i++) {
		int vpid = pid + 100 * (i + 1), status;
		pid_t child;

		pr_info("Forking task with %d pid (flags %#x)\n", vpid, (unsigned)SIGCHLD);
		child = clone_task();
		if (child < 0) {
			pr_perror("Can't fork for %d", vpid);
			return -1;
		}
		if (child == 0) {
			_exit(restore_one_task(vpid, i) ? 1 : 0);
		}
		/* One task at a time, so the log's order is the same in every run. */
		if (waitpid(child, &status, 0) != child) {
			pr_perror("Unable to wait for %d", vpid);
			return -1;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			pr_err("Task %d exited badly: status %#x\n", vpid, (unsigned)status);
			ret = -1;
			break;
		}
		pr_debug("%d was trapped\n", vpid);
		pr_debug("%d (native) is going to execute the syscall %d, required is %d\n", vpid, 15, 15);
		pr_debug("%d was stopped\n", vpid);
	}
	if (!ret)
		pr_info("Restore finished successfully. Tasks resumed.\n");
	return ret;
}
