/* api: the C API without the environment.
 *   api PATH [fresh]  attach a descriptor (then close it), log, flush,
 *                     close; log as text; open PATH with LOGPACK_APPEND and
 *                     log more; close; with "fresh", open PATH anew (no
 *                     flag) and log once */
#include "testlog.h"
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (logpack_enabled() || logpack_recording)
		return 3;
	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	errno = 42;
	if (fd < 0 || logpack_attach_fd(fd, 0) != 0 || errno != 42)
		return 4;
	close(fd); /* the runtime keeps its own descriptor */
	for (int i = 0; i < 3; i++)
		LOG_SEQ(0, i, getpid(), gettid());
	if (logpack_flush() != 0 || !logpack_enabled())
		return 5;
	logpack_close();
	LOG_ZERO(); /* printed */
	if (logpack_open(argv[1], LOGPACK_APPEND) != 0)
		return 6;
	for (int i = 3; i < 6; i++)
		LOG_SEQ(0, i, getpid(), gettid());
	logpack_close();
	if (argc > 2) {
		if (logpack_open(argv[1], 0) != 0)
			return 7;
		LOG_STR("fresh");
		logpack_close();
	}
	errno = 0;
	if (logpack_open("/nonexistent/dir/log", 0) != -1 || errno != ENOENT || logpack_enabled())
		return 8;
	printf("ok %llu\n", logpack_dropped());
	return 0;
}
