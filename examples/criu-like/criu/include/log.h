/*
 * log.h - the logging interface of the CRIU-like example, shaped like CRIU's:
 * one sink, print_on_level(), and the pr_* macros that expand to it.
 */
#ifndef __CR_LOG_H__
#define __CR_LOG_H__

#include <errno.h>
#include <string.h>
#include <stdbool.h>
#include <inttypes.h>
#include <sys/types.h>

#define LOG_UNSET (-1)
#define LOG_MSG	  0 /* always printed, to stdout, for the user */
#define LOG_ERROR 1
#define LOG_WARN  2
#define LOG_INFO  3
#define LOG_DEBUG 4

#define DEFAULT_LOGLEVEL LOG_WARN
/* From this verbosity on, every line starts with "(SS.uuuuuu) ". */
#define LOG_TIMESTAMP (DEFAULT_LOGLEVEL + 1)

extern int log_init(const char *output);
extern void log_fini(void);
extern void log_init_by_pid(pid_t pid);
extern void log_set_loglevel(unsigned int loglevel);
extern unsigned int log_get_loglevel(void);
extern int log_get_fd(void);

extern void print_on_level(unsigned int loglevel, const char *format, ...)
	__attribute__((__format__(__printf__, 2, 3)));

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

#endif /* __CR_LOG_H__ */
