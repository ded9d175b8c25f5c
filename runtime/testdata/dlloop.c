/* dlloop: a plain program, without a runtime of its own, that loads a
 * logpack-built library (libpart.c), logs through it and unloads it, N
 * times, then prints how many more descriptors it has open than before.
 * Usage: dlloop LIB N */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = -1; /* the directory's own */
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int n = atoi(argv[2]), before = open_fds();
	for (int i = 0; i < n; i++) {
		void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fprintf(stderr, "%s\n", dlerror());
			return 1;
		}
		void (*lib_log)(int, int) = (void (*)(int, int))dlsym(h, "lib_log");
		lib_log(i, 1);
		dlclose(h);
	}
	printf("fds %d\n", open_fds() - before);
	return 0;
}
