/*
 * plugin.c - a shared library that logs through the program's sink, like
 * CRIU's plugins. Built and linked in one compiler call from its own
 * directory.
 */
#include "log.h"

#undef LOG_PREFIX
#define LOG_PREFIX "plugin: "

int cr_plugin_init(int stage);
int cr_plugin_dump_file(int fd, const char *path);
void cr_plugin_fini(int stage, int ret);

static unsigned int nr_files;

int cr_plugin_init(int stage)
{
	pr_info("Initialized at stage %d\n", stage);
	return 0;
}

int cr_plugin_dump_file(int fd, const char *path)
{
	nr_files++;
	pr_debug("Checking fd %d (%s): %s\n", fd, path, "not ours");
	return 0;
}

void cr_plugin_fini(int stage, int ret)
{
	pr_info("Finalizing at stage %d (ret %d), saw %u files\n", stage, ret, nr_files);
}
