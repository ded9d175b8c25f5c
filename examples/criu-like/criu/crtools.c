/*
 * crtools.c - entry point of the CRIU-like example: parses CRIU-style
 * options, opens the log, then "dumps" a synthetic task and "restores" it
 * in forked children. Everything it logs is derived from a fixed seed, so
 * two runs print the same lines (only timestamps and pids differ).
 *
 *   criu-like [-v[N]] [-o LOGFILE] [--vmas N] [--files N] [--tasks N] [--fork]
 *             [--kill-at N]
 *
 * --kill-at N simulates a crash: the process sends itself SIGKILL in the
 * middle of the dump, before page batch N.
 *
 * Binary logging is switched on from outside, by LOGPACK_FILE=PATH, when
 * the program is built with logpack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "criu.h"
#include "log.h"
#include "version.h"

struct options opts = {
	.nr_vmas = 250,
	.nr_files = 50,
	.nr_tasks = 3,
};

static uint64_t rand_state = 0x9e3779b97f4a7c15ULL;

uint64_t cr_rand(void)
{
	/* xorshift64*: cheap and the same everywhere. */
	rand_state ^= rand_state >> 12;
	rand_state ^= rand_state << 25;
	rand_state ^= rand_state >> 27;
	return rand_state * 0x2545f4914f6cdd1dULL;
}

static void usage(void)
{
	pr_msg("usage: criu-like [-v[N]] [-o LOGFILE] [--vmas N] [--files N] [--tasks N] [--fork] [--kill-at N]\n");
}

static int parse_int(const char *s, int *v)
{
	char *end;
	long l = strtol(s, &end, 10);

	if (!*s || *end || l < 0 || l > 1000000)
		return -1;
	*v = (int)l;
	return 0;
}

int main(int argc, char **argv)
{
	const char *log_file = NULL;
	int verbosity = DEFAULT_LOGLEVEL;
	uint64_t id[3];
	int i, ret;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "-v", 2) && a[2] >= '0' && a[2] <= '9' && !a[3]) {
			verbosity = a[2] - '0';
		} else if (!strncmp(a, "-v", 2) && strspn(a + 1, "v") == strlen(a + 1)) {
			verbosity += (int)strlen(a + 1);
		} else if (!strcmp(a, "-o") && i + 1 < argc) {
			log_file = argv[++i];
		} else if (!strcmp(a, "--vmas") && i + 1 < argc) {
			if (parse_int(argv[++i], &opts.nr_vmas))
				goto bad;
		} else if (!strcmp(a, "--files") && i + 1 < argc) {
			if (parse_int(argv[++i], &opts.nr_files))
				goto bad;
		} else if (!strcmp(a, "--tasks") && i + 1 < argc) {
			if (parse_int(argv[++i], &opts.nr_tasks))
				goto bad;
		} else if (!strcmp(a, "--kill-at") && i + 1 < argc) {
			if (parse_int(argv[++i], &opts.kill_at))
				goto bad;
		} else if (!strcmp(a, "--fork")) {
			opts.use_fork = 1;
		} else {
			goto bad;
		}
	}

	log_set_loglevel(verbosity);
	if (log_init(log_file))
		return 1;

	/* Each random part in its own statement: the order in which a call's
	 * arguments are evaluated is unspecified. */
	id[0] = cr_rand();
	id[1] = cr_rand();
	id[2] = cr_rand();
	pr_info("CRIU run id = %08" PRIx32 "-%04x-%04x-%04x-%012" PRIx64 "\n", (uint32_t)id[0],
		(unsigned)(id[1] & 0xffff), (unsigned)((id[1] >> 16) & 0x0fff) | 0x4000,
		(unsigned)((id[1] >> 32) & 0x3fff) | 0x8000, id[2] & UINT64_C(0xffffffffffff));
	pr_info("Version: %s (gitid %s)\n", CRIU_VERSION, CRIU_GITID);
	pr_info("Running on %s Linux %s %s\n", "vm", "6.18.0", "x86_64");

	if (kerndat_init())
		pr_warn("Kernel feature probing failed, continuing\n");

	if (cr_plugin_init(1))
		return 1;

	ret = cr_dump_tasks(12899);
	if (!ret)
		ret = cr_restore_tasks(12899);

	cr_plugin_fini(1, ret);

	if (ret)
		pr_msg("criu-like: failed (%d)\n", ret);
	else
		pr_msg("criu-like: dumped %d VMAs and %d files, restored %d tasks\n",
		       opts.nr_vmas, opts.nr_files, opts.nr_tasks);
	log_fini();
	return ret ? 1 : 0;

bad:
	usage();
	return 2;
}
