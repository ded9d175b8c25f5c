/* hostile: logging into a log that cannot take the records must not hurt
 * the program. Usage: hostile MODE N [PATH]
 *   plain   log N records (LOGPACK_FILE decides where)
 *   fsize   RLIMIT_FSIZE of 1 MiB, then logpack_open(PATH) and N records
 *   clobber N records, then close every descriptor, open PATH (which takes
 *           the log's old descriptor number) and dup2 it over 3..63, then
 *           N more records; PATH must be left as it was
 *   unlink  N records, unlink PATH (the log), N more records
 *   pause   N records, a pause of 1.5 s, N more records
 *   fds     N records, then print the lowest free descriptor and how many
 *           bytes of the address space map the log PATH ("fds FD MAPPED")
 * Every mode checks that no log call changes errno and prints
 * "ok DROPPED". */
#include "testlog.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static int logn(int w, int n)
{
	for (int i = 0; i < n; i++) {
		errno = 3000 + i % 100;
		LOG_SEQ(w, i, getpid(), gettid());
		if (errno != 3000 + i % 100)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1], *path = argc > 3 ? argv[3] : NULL;
	int n = atoi(argv[2]);
	if (strcmp(mode, "fsize") == 0) {
		struct rlimit rl = {1 << 20, 1 << 20};
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0 || logpack_open(path, 0) != 0)
			return 3;
	}
	if (logn(0, n) != 0)
		return 4;
	if (strcmp(mode, "clobber") == 0) {
		for (int fd = 3; fd < 64; fd++)
			close(fd);
		int fd = open(path, O_RDWR);
		if (fd < 0)
			return 5;
		for (int d = 3; d < 64; d++)
			if (d != fd && dup2(fd, d) != d)
				return 6;
	} else if (strcmp(mode, "unlink") == 0) {
		if (unlink(path) != 0)
			return 7;
	} else if (strcmp(mode, "pause") == 0) {
		usleep(1500000);
	} else if (strcmp(mode, "fds") == 0) {
		int fd = open("/dev/null", O_RDONLY);
		unsigned long long mapped = 0;
		FILE *maps = fopen("/proc/self/maps", "r");
		char line[4096];
		while (maps && fgets(line, sizeof line, maps)) {
			unsigned long long lo, hi;
			char *name = strchr(line, '/');
			if (name && strncmp(name, path, strlen(path)) == 0 && name[strlen(path)] == '\n' &&
			    sscanf(line, "%llx-%llx", &lo, &hi) == 2)
				mapped += hi - lo;
		}
		if (maps)
			fclose(maps);
		printf("fds %d %llu\n", fd, mapped);
	}
	if (strcmp(mode, "clobber") == 0 || strcmp(mode, "unlink") == 0 || strcmp(mode, "pause") == 0)
		if (logn(1, n) != 0)
			return 8;
	errno = 0;
	printf("ok %llu\n", logpack_dropped());
	return errno;
}
