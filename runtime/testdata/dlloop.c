/* dlloop: a plain program, without a runtime of its own, that loads a
 * logpack-built library (libpart.c), logs through it and unloads it, N
 * times, then prints how many more descriptors it has open than before.
 * With "reuse", before each unload it closes the descriptors the load
 * left (the log's) and puts /dev/null under their numbers, and counts
 * those the unload closed.
 * Usage: dlloop LIB N [reuse] */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The open descriptors, the directory's own left out; their count. */
static int open_fds(int *fds, int max)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd != dirfd(d) && n < max)
			fds[n++] = fd;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int reuse = argc > 3 && strcmp(argv[3], "reuse") == 0;
	int n = atoi(argv[2]), fds[256], had[256], lost = 0;
	int before = open_fds(had, 256);
	for (int i = 0; i < n; i++) {
		void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fprintf(stderr, "%s\n", dlerror());
			return 1;
		}
		void (*lib_log)(int, int) = (void (*)(int, int))dlsym(h, "lib_log");
		lib_log(i, 1);
		int k = 0;
		if (reuse) {
			/* the descriptors the load left */
			int m = open_fds(fds, 256);
			for (int j = 0; j < m; j++) {
				int old = 0;
				for (int l = 0; l < before; l++)
					old |= had[l] == fds[j];
				if (!old)
					fds[k++] = fds[j];
			}
		}
		for (int j = 0; j < k; j++) {
			close(fds[j]);
			int z = open("/dev/null", O_RDONLY);
			if (z != fds[j]) {
				dup2(z, fds[j]);
				close(z);
			}
		}
		dlclose(h);
		for (int j = 0; j < k; j++) {
			if (fcntl(fds[j], F_GETFD) < 0)
				lost++;
			close(fds[j]);
		}
	}
	printf("fds %d lost %d\n", open_fds(fds, 256) - before, lost);
	return 0;
}
