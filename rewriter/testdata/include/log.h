/* log.h - CRIU's logging interface as the golden tests use it: one sink,
 * print_on_level(), and the pr_* macros expanding to it (CRIU-LOGGING.md). */
#ifndef TEST_LOG_H
#define TEST_LOG_H

#include <errno.h>
#include <string.h>
#include <stdbool.h>
#include <inttypes.h>

#define LOG_UNSET (-1)
#define LOG_MSG	  0
#define LOG_ERROR 1
#define LOG_WARN  2
#define LOG_INFO  3
#define LOG_DEBUG 4

extern void print_on_level(unsigned int loglevel, const char *format, ...)
	__attribute__((__format__(__printf__, 2, 3)));

/* a custom logger for --log-func cases */
struct logger;
extern void mylog(struct logger *l, int level, const char *fmt, ...)
	__attribute__((__format__(__printf__, 3, 4)));
extern int plog(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));

#ifndef LOG_PREFIX
#define LOG_PREFIX
#endif

#define print_once(loglevel, fmt, ...)                           \
	do {                                                     \
		static bool __print_once;                        \
		if (!__print_once) {                             \
			print_on_level(loglevel, fmt, ##__VA_ARGS__); \
			__print_once = true;                     \
		}                                                \
	} while (0)

#define pr_msg(fmt, ...) print_on_level(LOG_MSG, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) print_on_level(LOG_INFO, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) \
	print_on_level(LOG_ERROR, "Error (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_err_once(fmt, ...) \
	print_once(LOG_ERROR, "Error (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_warn(fmt, ...) \
	print_on_level(LOG_WARN, "Warn  (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_warn_once(fmt, ...) \
	print_once(LOG_WARN, "Warn  (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_debug(fmt, ...) print_on_level(LOG_DEBUG, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_perror(fmt, ...) pr_err(fmt ": %s\n", ##__VA_ARGS__, strerror(errno))
#define pr_pwarn(fmt, ...) pr_warn(fmt ": %s\n", ##__VA_ARGS__, strerror(errno))

#endif
