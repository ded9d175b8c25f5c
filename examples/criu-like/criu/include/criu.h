/* criu.h - what the units of the CRIU-like example share. */
#ifndef __CR_CRIU_H__
#define __CR_CRIU_H__

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "asm/task-size.h"

#define PAGE_SIZE 4096UL

struct vma_area {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;
	unsigned int prot;
	unsigned int flags;
	unsigned int status;
	unsigned int fdflags;
	int shmid;
	int file; /* index into the file table, or -1 */
};

struct options {
	int nr_vmas;  /* VMAs of the dumped task */
	int nr_files; /* open files of the dumped task */
	int nr_tasks; /* tasks forked at restore */
	int use_fork; /* fork() instead of a raw clone() at restore */
	int kill_at;  /* if > 0: SIGKILL itself before sending page batch kill_at */
};

extern struct options opts;

/* A fixed pseudo-random sequence, so that two runs log the same text. */
extern uint64_t cr_rand(void);

/* arch/x86/syscalls.S */
extern uint64_t arch_task_size(void);
extern long sys_getpid(void);

/* kerndat.c */
extern int kerndat_init(void);

/* proc_parse.c */
extern int parse_smaps(int pid, struct vma_area **vmas);
extern int parse_fdinfo(int pid, int fd, uint64_t pos, unsigned int flags);

/* files.c */
extern const char *file_path(int idx);
extern int dump_task_files(int pid, int nr);

/* page-pipe.c, page-xfer.c */
struct page_pipe;
extern struct page_pipe *create_page_pipe(unsigned int nr_segs);
extern int page_pipe_add_page(struct page_pipe *pp, uint64_t addr, unsigned int nr_pages);
extern void debug_show_page_pipe(struct page_pipe *pp);
extern void destroy_page_pipe(struct page_pipe *pp);
extern int page_xfer_dump_pages(struct page_pipe *pp);
extern int generate_iovs(int pid, struct vma_area *vmas, int nr, struct page_pipe *pp);

/* cr-dump.c, cr-restore.c */
extern int cr_dump_tasks(int pid);
extern int cr_restore_tasks(int pid);

/* plugin/plugin.c (libcriu-plugin.so) */
extern int cr_plugin_init(int stage);
extern int cr_plugin_dump_file(int fd, const char *path);
extern void cr_plugin_fini(int stage, int ret);

#endif
