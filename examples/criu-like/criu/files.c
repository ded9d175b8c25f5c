/* files.c - "dumping" the open files of the task. */
#include <stdio.h>

#include "criu.h"
#include "log.h"

#undef LOG_PREFIX
#define LOG_PREFIX "files: "

static const char *const dirs[] = {
	"/home/user/app/pyfiles",
	"/usr/lib/x86_64-linux-gnu",
	"/root/.pyenv/versions/3.11.7/lib/python3.11/lib-dynload",
};

const char *file_path(int idx)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/f%d", dirs[idx % 3], idx);
	return path;
}

int dump_task_files(int pid, int nr)
{
	int i;

	pr_info("Dumping %d opened files of %d\n", nr, pid);
	for (i = 0; i < nr; i++) {
		int fd = i < 3 ? i : i + 3;
		const char *path = file_path(i);

		parse_fdinfo(pid, fd, i < 3 ? 0 : (uint64_t)i * 0x1000, i < 3 ? 0100000 | (i > 0) : 0100000);
		if (i >= 3) {
			pr_debug("Dumping path for %d fd via self %d [%s]\n", fd, 13, path);
			if (i % 2)
				pr_debug("Only file size could be stored for validation for file %s\n", path);
			else
				pr_debug("%.*s...: %d bytes of path\n", 16, path, (int)strlen(path));
		}
		if (cr_plugin_dump_file(fd, path))
			return -1;
	}
	pr_debug("Found regular file mapping, %s\n", "OK");
	return 0;
}
