/*
 * logpack.c - the recording runtime: rewritten log calls store their site
 * index, a timestamp and their raw arguments into a shared file mapping
 * laid out as docs/FORMAT.md describes.
 *
 * Shape of the design:
 * - The log file is mapped MAP_SHARED once, over a large virtual range, so
 *   pointers never move; records are safe in the page cache as soon as they
 *   are stored. The file grows in steps ahead of the writers by writing
 *   zeros past its end (after checking RLIMIT_FSIZE: no SIGXFSZ), so a full
 *   disk shows as a failed write, never as a SIGBUS on a store.
 * - Each thread owns a chunk and appends to it without atomics; a new chunk
 *   is claimed with one fetch_add on the shared tail.
 * - A new thread, a fork or raw clone child, or a reopened log is noticed
 *   without a system call: a MADV_WIPEONFORK page holds the process epoch
 *   and every thread compares it with its own copy.
 * - Several runs share one file: each opens the existing log and appends a
 *   session of its own; a new file is created empty and made a log under
 *   a record lock (joiners wait for it), a valid log at every step after
 *   its first write, and nothing that is not a logpack log is ever
 *   written to.
 * - Per-signature encoders (logpack_enc_<classes>), generated at link time
 *   for the signatures a program uses and compiled into the same unit as
 *   this file, take the arguments in registers; logpack_emit takes them as
 *   an array and serves every other call.
 *
 * Threads, processes and signals. All state lives in the default-
 * visibility objects logpack_state_ (per process) and logpack_thread_ (per
 * thread), so that an executable and shared libraries that carry this file
 * share one copy through the dynamic linker. The rules for shared data:
 *
 *   field                       written by                      read by (ordering)
 *   logpack_recording           open/close/early (release)      call sites (relaxed)
 *   lp.hdr, lp.gen, lp.wipe     open/close/early (release)      log calls (acquire/relaxed)
 *   *lp.wipe (process epoch)    a new process's first call      log calls (relaxed)
 *   lp.maps, its segments       open (release, before hdr);     claims (acquire; a published
 *                               growers under the growth lock     entry never changes)
 *   lp.max_len, fd, dev, ino,   open and close, under the       claims and growers (relaxed;
 *     path                      growth lock                       growers under the lock)
 *   lp.ts_tsc, pair_ticks,      open, early; gap_ticks also     log calls (relaxed)
 *     gap_ticks                 by claims (the measured rate)
 *   lp.session, proc_flags,     open; proc_flags also by the    the claim that writes the
 *     build_id, pid             claim writing a process record  process record (acquire via
 *                                                               proc_pending)
 *   lp.text_*, hz_*, marks_off, log calls (racing writes only   log calls (relaxed; mark_next
 *     mark_next, mark_wait      make a mark twice or a check      also by the fast path)
 *                               early or late)
 *   lp.fs_memory                open                            growers
 *   site->state                 the describing thread (release) log calls (relaxed)
 *   hdr->tail                   chunk claims, fetch_add         claims, readers
 *   hdr->capacity               growers, CAS upwards (release)  claims (acquire)
 *   hdr->dropped, next_site_index  fetch_add                    readers
 *   lp.growing                  the growth lock: one grower per process; open and
 *                               close take it to change the descriptor
 *   lp.early_*                  under lp.early_lock
 *   logpack_thread_             its own thread only; a signal handler of that
 *                               thread sees t->busy and drops its record
 *
 * Every access to a field in the table goes through LP_LOAD/LP_STORE (or
 * an explicit __atomic read-modify-write): relaxed atomics are plain moves
 * on x86-64, and ThreadSanitizer can check the rules (make test builds the
 * threaded tests with -fsanitize=thread). Open and close while other
 * threads log is allowed: the mapping is never unmapped, so a thread still
 * inside a call of an old generation writes into valid memory.
 */
#define _GNU_SOURCE
#include "logpack.h"
#include "logpack_site.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define LP_HAVE_TSC 1
#else
#define LP_HAVE_TSC 0
#endif

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

#define LP_LIKELY(x) __builtin_expect(!!(x), 1)
#define LP_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Shared fields (see the table above). */
#define LP_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define LP_LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define LP_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define LP_STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
/* The process epoch (the kernel zeroes it in a child). */
#define LP_EPOCH() LP_LOAD(LP_LOAD(&lp.wipe))

enum {
	LP_PAGE = 4096,
	LP_HEADER_SIZE = 4096,
	LP_CHUNK_MIN = 4096,       /* a thread's first chunk: short-lived threads waste little */
	LP_CHUNK_MAX = 64 << 10,   /* doubled per claim up to this (and a 32nd of the log) */
	LP_SLACK = 3,              /* room to widen a len byte to 255 + u16 */
	LP_MARK_RESERVE = 12,      /* kept at a chunk's end for a dropped record */
	LP_ARG_ROOM = 64,          /* room any scalar or short string argument fits in */
	LP_MAX_BODY = 65535,
	LP_STR_BUDGET = 62000,     /* strings stop here so that the scalars after them still fit */
	LP_EARLY_SIZE = 64 << 10,
	LP_FIRST_INDEX = 16,
	LP_VERSION = 2,
	LP_DESC_VERSION = 2,
	LP_EXE_MAX = 255,
	LP_CMDLINE_MAX = 1024,
	LP_SITE_ARGS = 28,         /* offsetof(struct logpack_site, args) */
	LP_FD_PREFERRED = 512,     /* the log's descriptor sits here, above what programs use */
	LP_TAG_SITE = 0, LP_TAG_DROPPED = 1, LP_TAG_CLOCK = 2, LP_TAG_PROCESS = 3,
	LP_TAG_TEXT = 4, LP_TAG_CUT = 5,
	LP_PROC_SESSION_START = 1, LP_PROC_EXEC_JOIN = 2,
};

/* The most a record of n arguments takes on the fast paths: its head and
 * LP_ARG_ROOM per argument (scalars and short strings need no check of
 * their own). */
#define LP_WORST(n) (16 + LP_SLACK + (size_t)(n) * LP_ARG_ROOM)

/* Growth: the file is extended in steps of a twenty-fourth of its size (a
 * big log stays within a few percent of its records), at least
 * LP_GROW_MIN (a short run's file stays small) and at most LP_GROW_MAX. */
#define LP_GROW_MIN ((uint64_t)32 << 10)
#define LP_GROW_MAX ((uint64_t)64 << 20)
#define LP_RETRY_DROPS 1024 /* records dropped between two attempts to get space */
/* A pause this long (TSC ticks at 2.5 GHz, until measured; ns for the
 * monotonic clock) before a record adds a text mark: the program waited,
 * and others may have written its text log meanwhile. Short enough to
 * catch one command to CRIU's parasite and its answer (about 20 us); a
 * check costs one fstat, a few hundred per CRIU dump. */
#define LP_GAP_NS 20000u

/* docs/FORMAT.md, "File header". */
struct lp_header {
	char magic[8];
	uint16_t version;
	uint16_t header_size;
	uint32_t ts_kind;
	uint64_t file_id;
	uint64_t start_realtime_ns;
	uint64_t start_mono_ns;
	uint64_t start_ts;
	uint64_t tsc_hz;
	uint32_t first_pid;
	uint32_t header_check;
	uint64_t build_id;
	uint64_t tail;
	uint64_t capacity;
	uint64_t dropped;
	uint32_t next_site_index;
	uint32_t flags;
	char exe[256];
	uint64_t to_text;
};
_Static_assert(offsetof(struct lp_header, header_check) == 60, "header layout");
_Static_assert(offsetof(struct lp_header, build_id) == 64, "header layout");
_Static_assert(offsetof(struct lp_header, tail) == 72, "header layout");
_Static_assert(offsetof(struct lp_header, next_site_index) == 96, "header layout");
_Static_assert(offsetof(struct lp_header, exe) == 104, "header layout");
_Static_assert(offsetof(struct lp_header, to_text) == 360, "header layout");
_Static_assert(sizeof(struct lp_header) <= LP_HEADER_SIZE, "header layout");

/* docs/FORMAT.md, "Chunks". */
struct lp_chunk {
	char magic[4];
	uint32_t size;
	uint32_t pid;
	uint32_t tid;
	uint64_t base_ts;
	uint64_t mono_ns;
	uint32_t check; /* FNV-1a32 of the bytes before it */
	uint32_t reserved;
};
_Static_assert(sizeof(struct lp_chunk) == 40, "chunk header layout");
_Static_assert(offsetof(struct lp_chunk, check) == 32, "chunk header layout");
_Static_assert(offsetof(struct logpack_site, args) == LP_SITE_ARGS, "site layout");
_Static_assert(offsetof(struct logpack_site, level) == 24, "site layout");

/* Per-thread writer state. Zero (a new thread) never matches an epoch. */
struct lp_thread {
	unsigned char *pos;     /* where the next record's len byte goes */
	unsigned char *end;     /* end of the current chunk, less a reserve for a dropped record */
	unsigned char *limit;   /* end of the current chunk */
	unsigned char *chunk;   /* its header */
	uint64_t last_ts;       /* previous timestamp in this chunk */
	uint64_t pair_ts;       /* timestamp of the last calibration pair */
	uint64_t epoch;         /* compared with *wipe on every call; 0 forces the slow path */
	uint64_t chunk_epoch;   /* epoch the chunk above belongs to */
	uint64_t dropped;       /* records dropped and not yet reported in the log */
	uint32_t tid;
	uint32_t chunk_size;
	uint32_t retry;         /* drops left before the next attempt to get space */
	int busy;               /* inside a log call: a signal handler's call is dropped */
};

/* A range of the file mapped into the process: the log is mapped only as
 * far as it is long (a little ahead), extended in place when the address
 * space allows and by another mapping when not. Published entries never
 * change, so a thread can use one while another adds the next. */
struct lp_seg {
	unsigned char *base;
	uint64_t off, len;
};

enum { LP_MAX_SEGS = 48 };

/* The mappings of one opened log; a log opened again gets a new table, so
 * that a thread still claiming in the old log keeps a consistent view of
 * the old one. */
struct lp_maps {
	int nseg;                /* published entries of seg */
	struct lp_seg seg[LP_MAX_SEGS];
};

struct logpack_state_s {
	struct lp_maps maps_first; /* the first log's; later ones are mapped */
	struct lp_maps *maps;    /* the last log opened's (NULL before the first) */
	uint64_t max_len;        /* the log never grows past this */
	uint64_t recycle_written, recycle_dropped; /* lp_recycle's progress, under the growth lock */
	struct lp_header *hdr;
	const volatile uint64_t *wipe; /* process epoch; zeroed by the kernel in a child */
	uint64_t *wipe_page;
	uint64_t epoch_counter;
	uint32_t gen;            /* log generation of this process: site->state >> 32 */
	int initialized;         /* the constructor ran (in any copy of this file) */
	int fd;                  /* the log, or -1 when the program closed it */
	dev_t dev;
	ino_t ino;
	int ts_tsc;
	uint64_t pair_ticks;     /* add a clock record after this many ticks */
	uint64_t gap_ticks;      /* a pause this long adds a text mark */
	uint64_t hz_ts, hz_mono; /* first calibration pair of the process, for gap_ticks */
	uint32_t pid;
	uint64_t build_id;
	uint64_t dropped_local;
	uint64_t to_text_local; /* records of text-fallback sites the log could not take */
	uint64_t session;        /* this process's session */
	unsigned proc_flags;     /* LP_PROC_* for this process's next process record */
	int proc_pending;        /* this process has not written its process record */
	int growing;
	int fs_memory;           /* the log is on tmpfs */
	int created;             /* this process created the log */
	int (*text_fd_fn)(void); /* the program's text log, for text marks */
	dev_t text_dev;
	ino_t text_ino;
	uint64_t text_size;      /* size at this process's last text mark */
	uint64_t mark_next;      /* no text log check before this time (lp_text_mark) */
	uint64_t mark_wait;      /* and its current back-off, in ticks */
	int marks_off;           /* no text log to mark: pauses need no check */
	char path[PATH_MAX];
	char exe[LP_EXE_MAX + 1];
	char cmdline[LP_CMDLINE_MAX];
	uint32_t cmdline_len;
	/* early buffer */
	int early_on;
	int early_lock;
	unsigned char *early_buf;
	struct lp_thread early_t;
	uint64_t early_mono;
	uint32_t early_next_index;
};

/* Never equal to a thread's epoch, so calls go to the slow path while no
 * log is open. */
static const uint64_t lp_closed_epoch = UINT64_MAX;

int logpack_recording;
struct logpack_state_s logpack_state_ = {.fd = -1, .wipe = &lp_closed_epoch};
/* This copy's own state, whatever the dynamic linker binds logpack_state_
 * to (lp_destructor). */
extern struct logpack_state_s lp_own_state __attribute__((alias("logpack_state_"), visibility("hidden")));
__thread struct lp_thread logpack_thread_ __attribute__((tls_model("initial-exec")));

#define lp logpack_state_

/* ---- small helpers ---- */

static uint32_t fnv32(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;
	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t lp_now(void)
{
#if LP_HAVE_TSC
	if (LP_LIKELY(LP_LOAD(&lp.ts_tsc)))
		return __rdtsc();
#endif
	return clock_ns(CLOCK_MONOTONIC);
}

static inline unsigned char *put_uv(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

/* put_uv for the record path, unrolled for the values below 2^21 where
 * nearly every argument and timestamp delta lies. */
static inline __attribute__((always_inline)) unsigned char *put_uv_fast(unsigned char *p, uint64_t v)
{
	if (LP_LIKELY(v < 0x80)) {
		p[0] = (unsigned char)v;
		return p + 1;
	}
	p[0] = (unsigned char)(v | 0x80);
	if (LP_LIKELY(v < (1u << 14))) {
		p[1] = (unsigned char)(v >> 7);
		return p + 2;
	}
	p[1] = (unsigned char)(v >> 7 | 0x80);
	if (v < (1u << 21)) {
		p[2] = (unsigned char)(v >> 14);
		return p + 3;
	}
	p[2] = (unsigned char)(v >> 14 | 0x80);
	return put_uv(p + 3, v >> 21);
}

static inline uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline unsigned char *put_u64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8); /* little-endian host */
	return p + 8;
}

static inline unsigned char *put_bytes(unsigned char *p, const void *s, size_t n)
{
	p = put_uv(p, n);
	memcpy(p, s, n);
	return p + n;
}

static const unsigned char *get_uv(const unsigned char *p, uint64_t *v)
{
	uint64_t r = 0;
	int s = 0;
	while (*p & 0x80 && s < 63) {
		r |= (uint64_t)(*p++ & 0x7f) << s;
		s += 7;
	}
	r |= (uint64_t)*p++ << s;
	*v = r;
	return p;
}

/* The body of the published record at rec, and its length. */
static inline const unsigned char *lp_record_body(const unsigned char *rec, size_t *n)
{
	if (*rec == 255) {
		*n = (size_t)rec[1] | (size_t)rec[2] << 8;
		return rec + 3;
	}
	*n = *rec;
	return rec + 1;
}

/* A record body of n > 254 bytes gets a two-byte length after the len
 * byte 255. Out of line: the fast paths that inline lp_commit keep no
 * registers for the memmove. */
static __attribute__((noinline)) unsigned char *lp_commit_long(unsigned char *rec, unsigned char *p, size_t n)
{
	memmove(rec + 3, rec + 1, n);
	rec[1] = (unsigned char)n;
	rec[2] = (unsigned char)(n >> 8);
	__atomic_store_n(rec, (unsigned char)255, __ATOMIC_RELEASE);
	return p + 2;
}

/* Publishes a record whose body is at rec+1 .. p: the len byte goes last so
 * that a record cut short by a kill reads as the end of the chunk. */
static inline unsigned char *lp_commit(unsigned char *rec, unsigned char *p)
{
	size_t n = (size_t)(p - rec - 1);
	if (LP_LIKELY(n <= 254)) {
		__atomic_store_n(rec, (unsigned char)n, __ATOMIC_RELEASE);
		return p;
	}
	return lp_commit_long(rec, p, n);
}

/* Writes v in base 10 or 16, at least width (at most 20) digits, and a
 * NUL; returns the digits' count. Not snprintf: it runs in log calls,
 * which signal handlers make, and at start-up, where printf's code would
 * be paged in just for it. */
static size_t lp_utoa(char *out, uint64_t v, unsigned base, int width)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v || n < width);
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = 0;
	return (size_t)n;
}

/* "/proc/self/fd/N", for readlink. */
static void lp_fd_link(char out[32], int fd)
{
	memcpy(out, "/proc/self/fd/", 14);
	lp_utoa(out + 14, (uint64_t)(unsigned)fd, 10, 1);
}

/* The environment, except in a privileged program (setuid, setgid, file
 * capabilities): there whoever starts it would choose where it writes. */
static const char *lp_getenv(const char *name)
{
	return secure_getenv(name);
}

/* ---- the site table ---- */

static inline const unsigned char *lp_site_args(const struct logpack_site *s)
{
	return (const unsigned char *)s + LP_SITE_ARGS;
}

static inline const char *lp_site_str(const struct logpack_site *s, int off)
{
	return (const char *)s + off;
}

/* Skips the extra bytes after class k in a site's argument list. */
static const unsigned char *lp_skip_extra(unsigned k, const unsigned char *c)
{
	uint64_t v;
	switch (k) {
	case LOGPACK_STRMAX:
	case LOGPACK_CONST_INT:
	case LOGPACK_CONST_UINT:
		return get_uv(c, &v);
	case LOGPACK_CONST_STR:
		return c + 4;
	}
	return c;
}

/* Whether class k takes a slot of the call's argument array. */
static inline int lp_takes_slot(unsigned k)
{
	return k != LOGPACK_ERRNO && k < LOGPACK_CONST_STR;
}

/* ---- file space ---- */

/* The process's descriptor of the log, with its stat in *st, if the
 * program left it alone; else -1, and forgotten. A program may close every
 * descriptor it does not know (CRIU's restored tasks do) and have another
 * file under its number now. */
static int lp_own_fd(struct stat *st)
{
	int fd = LP_LOAD(&lp.fd);
	if (fd >= 0 && fstat(fd, st) == 0 && st->st_dev == LP_LOAD(&lp.dev) && st->st_ino == LP_LOAD(&lp.ino))
		return fd;
	LP_STORE(&lp.fd, -1);
	return -1;
}

/* The descriptor to grow the file through: ours (lp_own_fd), else the
 * file opened again by its path for the length of one call (*transient
 * says to close it), only if it is still the same file: a descriptor
 * reopened for good would take a number the program is about to use. */
static int lp_grow_fd(int *transient, uint64_t *size)
{
	struct stat st;
	*transient = 0;
	int own = lp_own_fd(&st);
	if (own >= 0) {
		*size = (uint64_t)st.st_size;
		return own;
	}
	if (!lp.path[0])
		return -1;
	int fd = open(lp.path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_dev != LP_LOAD(&lp.dev) || st.st_ino != LP_LOAD(&lp.ino)) {
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	*transient = 1;
	return fd;
}

/* The file grows by writing zeros past its end: that allocates its blocks
 * (a full disk fails here, not as a SIGBUS on a store into the mapping)
 * and puts the pages in the page cache, so that the stores that follow
 * take only minor faults (the kernel maps neighbouring pages together).
 * On ext4 this costs a fifth of making the pages present with
 * MADV_POPULATE_WRITE. Nobody stores past the capacity, which is
 * published after the zeros; growers of all processes take turns under a
 * lock (lp_file_lock), so that zeros never land in space another process
 * published. */
static int lp_write_zeros(int fd, uint64_t from, uint64_t to)
{
	/* One page of zeros, named by every iovec: a bigger source would
	 * cost a page fault per page just to read its zeros. Never written;
	 * in .bss, not in the program file. */
	static unsigned char zeros[LP_PAGE];
	enum { NIOV = 256 }; /* 1 MiB a call; IOV_MAX is 1024 */
	struct iovec iov[NIOV];
	while (from < to) {
		int n = 0;
		for (uint64_t left = to - from; left && n < NIOV; n++) {
			iov[n].iov_base = zeros;
			iov[n].iov_len = left < sizeof zeros ? (size_t)left : sizeof zeros;
			left -= iov[n].iov_len;
		}
		ssize_t w = pwritev(fd, iov, n, (off_t)from);
		if (w <= 0)
			return -1;
		from += (uint64_t)w;
	}
	return 0;
}

/* The address of [off, off + size) of the file, or NULL if no mapping of
 * the process holds it. */
static unsigned char *lp_addr(struct lp_maps *M, uint64_t off, uint64_t size)
{
	for (int i = LP_LOAD_ACQ(&M->nseg) - 1; i >= 0; i--) {
		const struct lp_seg *sg = &M->seg[i];
		if (off >= sg->off && off + size <= sg->off + sg->len)
			return sg->base + (off - sg->off);
	}
	return NULL;
}

/* How far to map for a log of cap bytes: twice as far, at least 1 MiB. */
static uint64_t lp_map_goal(uint64_t cap)
{
	uint64_t goal = cap * 2;
	if (goal < ((uint64_t)1 << 20))
		goal = (uint64_t)1 << 20;
	return (goal + LP_PAGE - 1) & ~(uint64_t)(LP_PAGE - 1);
}

/* Makes [0, upto) of the file mapped, under the growth lock: the last
 * mapping extended in place, or a new one from a little below where the
 * last ends (a chunk claimed before the file grew may straddle the end of
 * the old mapping). Returns 0 when it cannot be done. */
static int lp_map_upto(struct lp_maps *M, int fd, uint64_t upto)
{
	int n = LP_LOAD(&M->nseg);
	const struct lp_seg *last = &M->seg[n - 1];
	if (upto <= last->off + last->len)
		return 1;
	if (n == LP_MAX_SEGS)
		return 0;
	uint64_t goal = lp_map_goal(upto);
	struct lp_seg next = *last;
	void *m = mremap(last->base, last->len, goal - last->off, 0);
	if (m != MAP_FAILED) {
		next.len = goal - last->off;
	} else {
		const uint64_t margin = (uint64_t)1 << 20; /* more than any chunk */
		uint64_t from = last->off + last->len > margin ? last->off + last->len - margin : 0;
		from &= ~(uint64_t)(LP_PAGE - 1);
		if (fd < 0)
			return 0;
		m = mmap(NULL, goal - from, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, (off_t)from);
		if (m == MAP_FAILED)
			return 0;
		next = (struct lp_seg){m, from, goal - from};
	}
	M->seg[n] = next;
	__atomic_store_n(&M->nseg, n + 1, __ATOMIC_RELEASE);
	return 1;
}

/* The lock growers of all processes take turns under: a POSIX record
 * lock on the header's first byte, which belongs to a process (flock and
 * open file description locks belong to the description, which a forked
 * child shares) and goes away with it. Never waits: the caller retries. */
static int lp_file_lock(int fd, short type)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	return fcntl(fd, F_SETLK, &fl);
}

/* The growth lock's holder cannot be cancelled (pthread_cancel): growing
 * makes calls that are cancellation points (open, pwritev, nanosleep),
 * and a thread cancelled there would hold the lock forever. Its
 * cancelability before, restored at unlock; a log call that grew the log
 * is a cancellation point afterwards (lp_grow), as the text call it
 * replaces was. */
static int lp_growth_cancel;

static void lp_held_growth(void)
{
	int old = PTHREAD_CANCEL_ENABLE;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	lp_growth_cancel = old;
}

/* Waits for the lock: yielding a while, then sleeping, so that a
 * real-time thread waiting does not starve a lower-priority holder on the
 * same CPU (sched_yield lets no lower priority run). */
static void lp_lock_growth(void)
{
	for (unsigned n = 0; __atomic_exchange_n(&lp.growing, 1, __ATOMIC_ACQUIRE); n++) {
		if (n < 64) {
			sched_yield();
		} else {
			struct timespec pause = {0, 20000};
			nanosleep(&pause, NULL);
		}
	}
	lp_held_growth();
}

/* Takes the lock if free, without waiting: non-zero if taken. */
static int lp_trylock_growth(void)
{
	if (__atomic_exchange_n(&lp.growing, 1, __ATOMIC_ACQUIRE))
		return 0;
	lp_held_growth();
	return 1;
}

/* Returns the cancelability it restored. */
static int lp_unlock_growth(void)
{
	int cancel = lp_growth_cancel;
	__atomic_store_n(&lp.growing, 0, __ATOMIC_RELEASE);
	pthread_setcancelstate(cancel, NULL);
	return cancel;
}

/* A big log keeps only its last part in memory: far behind the tail, the
 * pages are written to disk (asynchronously) and, one step later, when
 * that is done, dropped from the page cache. Records are not lost (they
 * are on disk), the log's memory stays bounded, and new pages come from
 * recycled ones instead of memory never touched before, which costs a
 * virtual machine several microseconds a page. A thread whose chunk lies
 * back there just faults its page in again. */
#define LP_RECYCLE_BEHIND ((uint64_t)64 << 20)

static void lp_recycle(struct lp_maps *M, int fd, uint64_t tail)
{
	if (tail < 2 * LP_RECYCLE_BEHIND)
		return;
	uint64_t upto = (tail - LP_RECYCLE_BEHIND) & ~(uint64_t)(LP_PAGE - 1);
	uint64_t written = LP_LOAD(&lp.recycle_written), dropped = LP_LOAD(&lp.recycle_dropped);
	if (written > dropped) {
		/* Mapped pages stay in the page cache: unmap them first (the
		 * kernel keeps what was stored; a later store maps them back). */
		for (int i = 0; i < LP_LOAD(&M->nseg); i++) {
			const struct lp_seg *sg = &M->seg[i];
			uint64_t a = dropped > sg->off ? dropped : sg->off;
			uint64_t b = written < sg->off + sg->len ? written : sg->off + sg->len;
			if (a < b)
				madvise(sg->base + (a - sg->off), b - a, MADV_DONTNEED);
		}
		posix_fadvise(fd, (off_t)dropped, (off_t)(written - dropped), POSIX_FADV_DONTNEED);
	}
	if (upto > written)
		sync_file_range(fd, (off_t)written, (off_t)(upto - written), SYNC_FILE_RANGE_WRITE);
	LP_STORE(&lp.recycle_dropped, written);
	LP_STORE(&lp.recycle_written, upto > written ? upto : written);
}

/* On tmpfs every page of a shared mapping costs a page fault of its own
 * when first stored to (ext4 maps a large folio per fault); asking for
 * the new pages to be mapped for reading maps them several at a time
 * (fault-around), writable, as tmpfs needs no notice of a first store:
 * half the system time of a 1 M-record run (perf stat). On other file
 * systems the pages would be mapped read-only and each store would fault
 * again: not there. */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#define LP_TMPFS_MAGIC 0x01021994

static void lp_map_ahead(struct lp_maps *M, uint64_t from, uint64_t to)
{
	unsigned char *a;
	if (LP_LOAD(&lp.fs_memory) && (a = lp_addr(M, from, to - from)))
		madvise(a, to - from, MADV_POPULATE_READ); /* before Linux 5.14: EINVAL, and faults as before */
}

/* Maps the file as far as its capacity, which another process grew. */
static void lp_map_more(struct lp_maps *M, struct lp_header *h)
{
	lp_lock_growth();
	int transient = 0;
	uint64_t size;
	int fd = h == LP_LOAD(&lp.hdr) && M == LP_LOAD(&lp.maps) ? lp_grow_fd(&transient, &size) : -1;
	if (fd >= 0) {
		lp_map_upto(M, fd, LP_LOAD_ACQ(&h->capacity));
		if (transient)
			close(fd);
	}
	lp_unlock_growth();
}

/* How much a log of cap bytes grows by at a time. */
static uint64_t lp_grow_step(uint64_t cap)
{
	uint64_t step = cap / 24;
	if (step < LP_GROW_MIN)
		step = LP_GROW_MIN;
	if (step > LP_GROW_MAX)
		step = LP_GROW_MAX;
	return step;
}

/* Makes the file of the log mapped by M (header h) at least want bytes
 * long and mapped (a step more when it grows); returns non-zero when
 * h->capacity >= want and the process maps it afterwards. ahead: growing
 * before the space is needed; then nobody waits, not for another thread
 * of the process and not for another process's grower: if either is at
 * it, nothing is done. */
static int lp_grow(struct lp_maps *M, struct lp_header *h, uint64_t want, int ahead)
{
	uint64_t cap = LP_LOAD_ACQ(&h->capacity);
	if (want <= cap)
		return 1;
	if (want > LP_LOAD(&lp.max_len))
		return 0;
	/* One grower per process; the others wait for it and then find the
	 * capacity they need. The lock also keeps open and close from
	 * changing the descriptor under a grower (a closed descriptor's
	 * number may be the program's next file). */
	if (!ahead)
		lp_lock_growth();
	else if (!lp_trylock_growth())
		return 0;
	int ok = 0, transient = 0, locked = 0, fd = -1;
	if (h != LP_LOAD(&lp.hdr) || M != LP_LOAD(&lp.maps))
		goto out; /* the log was closed or replaced meanwhile */
	uint64_t size = 0;
	fd = lp_grow_fd(&transient, &size);
	if (fd < 0)
		goto out;
	/* Another process growing the file holds the lock for a moment; one
	 * that is stopped (a debugger, a freezer) must not stop us: past a
	 * bound, the records are dropped instead. */
	for (int i = 0; i < 200; i++) {
		if (LP_LOAD_ACQ(&h->capacity) >= want) {
			ok = lp_map_upto(M, fd, LP_LOAD_ACQ(&h->capacity));
			goto out;
		}
		if (lp_file_lock(fd, F_WRLCK) == 0) {
			locked = 1;
			break;
		}
		if (ahead || (errno != EAGAIN && errno != EACCES && errno != EINTR))
			break;
		struct timespec pause = {0, 100000};
		nanosleep(&pause, NULL);
	}
	if (!locked)
		goto out;
	cap = LP_LOAD_ACQ(&h->capacity);
	if (want <= cap) {
		ok = lp_map_upto(M, fd, cap);
		goto out;
	}
	uint64_t step = lp_grow_step(cap);
	uint64_t newcap = want > cap + step ? want : cap + step;
	newcap = (newcap + LP_PAGE - 1) & ~(uint64_t)(LP_PAGE - 1);
	if (newcap > LP_LOAD(&lp.max_len))
		newcap = LP_LOAD(&lp.max_len);
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    newcap > (uint64_t)rl.rlim_cur)
		newcap = (uint64_t)rl.rlim_cur & ~(uint64_t)(LP_PAGE - 1);
	if (newcap < want)
		goto out;
	/* Bytes past the capacity were only ever written by growers: zeros
	 * (a grower killed before publishing leaves them behind). The size
	 * is from before the lock: if it grew since, zeros are written over
	 * zeros. */
	uint64_t from = size > cap ? size : cap;
	if (from < newcap && lp_write_zeros(fd, from, newcap) != 0) {
		/* Take what could be written, if it is enough. */
		struct stat st;
		if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < want)
			goto out;
		newcap = (uint64_t)st.st_size & ~(uint64_t)(LP_PAGE - 1);
		if (newcap < want)
			goto out;
	}
	cap = LP_LOAD(&h->capacity);
	while (cap < newcap &&
	       !__atomic_compare_exchange_n(&h->capacity, &cap, newcap, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
	ok = lp_map_upto(M, fd, newcap > cap ? newcap : cap);
	if (ok && cap < newcap)
		lp_map_ahead(M, cap, newcap);
	lp_recycle(M, fd, LP_LOAD(&h->tail));
out:
	if (locked)
		lp_file_lock(fd, F_UNLCK);
	if (transient)
		close(fd);
	if (lp_unlock_growth() == PTHREAD_CANCEL_ENABLE)
		pthread_testcancel(); /* a cancel asked for meanwhile acts now */
	return ok;
}

/* ---- chunks ---- */

/* A record the log could not take at level (-1: the site's). When its
 * call prints it as text anyway (a text-fallback site, a level its site
 * also prints as text, a prefix the program prints itself) it is not lost:
 * that is counted apart, for the decoder to point to the text log. */
static void lp_count_drop(struct lp_thread *t, const struct logpack_site *site, int level)
{
	struct lp_header *h = LP_LOAD_ACQ(&lp.hdr);
	if (level < 0)
		level = site->level;
	if ((site->flags & (LOGPACK_SITE_TEXT_FALLBACK | LOGPACK_SITE_PREFIX)) ||
	    (site->text_level != 255 && logpack_text_level(level, site->text_level))) {
		__atomic_fetch_add(&lp.to_text_local, 1, __ATOMIC_RELAXED);
		if (h && t != &lp.early_t)
			__atomic_fetch_add(&h->to_text, 1, __ATOMIC_RELAXED);
		return;
	}
	t->dropped++;
	t->epoch = 0; /* the next call takes the slow path, which reports the drops */
	__atomic_fetch_add(&lp.dropped_local, 1, __ATOMIC_RELAXED);
	if (h && t != &lp.early_t)
		__atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
}

static unsigned char *lp_process_record(unsigned char *p)
{
	unsigned char *rec = p++;
	unsigned flags = LP_LOAD(&lp.proc_flags);
	p = put_uv(p, LP_TAG_PROCESS);
	p = put_uv(p, 0); /* ts delta: the chunk's base */
	p = put_uv(p, (uint64_t)getppid());
	p = put_u64(p, LP_LOAD(&lp.session));
	p = put_uv(p, flags);
	p = put_u64(p, LP_LOAD(&lp.build_id));
	p = put_bytes(p, lp.exe, strlen(lp.exe));
	p = put_bytes(p, lp.cmdline, flags ? lp.cmdline_len : 0);
	LP_STORE(&lp.proc_flags, 0);
	return lp_commit(rec, p);
}

/* Reports t's dropped records, in the chunk's reserve if need be (a full
 * log still says how much it lost). */
static void lp_put_dropped(struct lp_thread *t)
{
	if (!t->dropped || !t->pos || t->limit - t->pos < LP_MARK_RESERVE)
		return;
	unsigned char *rec = t->pos, *p = rec + 1;
	p = put_uv(p, LP_TAG_DROPPED);
	p = put_uv(p, t->dropped);
	t->pos = lp_commit(rec, p);
	t->dropped = 0;
	if (t->pos > t->end)
		t->end = t->pos; /* the reserve is used up: the chunk is full */
}

/* Learns the TSC rate from the process's calibration pairs, for the text
 * marks' pause threshold (the decoder does its own fit). */
static void lp_learn_rate(uint64_t ts, uint64_t mono)
{
	if (!LP_LOAD(&lp.ts_tsc))
		return;
	if (!LP_LOAD(&lp.hz_mono)) {
		LP_STORE(&lp.hz_ts, ts);
		LP_STORE(&lp.hz_mono, mono);
		return;
	}
	uint64_t dn = mono - LP_LOAD(&lp.hz_mono);
	if (dn <= 1000000 || ts <= LP_LOAD(&lp.hz_ts))
		return; /* a millisecond apart at least */
	double hz = (double)(ts - LP_LOAD(&lp.hz_ts)) / (double)dn; /* ticks per ns */
	if (hz < 0.05 || hz > 20) {
		/* CLOCK_MONOTONIC jumped (a process that entered another time
		 * namespace): a rate from across the jump would make every
		 * record a pause. Measure again from here. */
		LP_STORE(&lp.hz_ts, ts);
		LP_STORE(&lp.hz_mono, mono);
		return;
	}
	LP_STORE(&lp.gap_ticks, LP_LOAD(&lp.marks_off) ? UINT64_MAX : (uint64_t)(hz * LP_GAP_NS));
}

/* Gives t a chunk with room for need bytes of records. Returns 0 (and
 * leaves t without a chunk) when the log has no space. */
static int lp_claim_(struct lp_thread *t, size_t need)
{
	struct lp_header *h = LP_LOAD_ACQ(&lp.hdr);
	if (t == &lp.early_t || !h)
		return 0;
	struct lp_maps *M = LP_LOAD_ACQ(&lp.maps);
	if (!M || (void *)M->seg[0].base != (void *)h)
		return 0; /* the log is being opened again */
	if (t->retry) {
		t->retry--;
		return 0;
	}
	uint64_t size = t->chunk_size ? t->chunk_size : LP_CHUNK_MIN;
	/* A chunk is at most a thirty-second of the log: a short run's
	 * processes leave little unused at the ends of their chunks. */
	uint64_t cap32 = (LP_LOAD(&h->tail) / 32) & ~(uint64_t)(LP_PAGE - 1);
	if (size > cap32)
		size = cap32 > LP_CHUNK_MIN ? cap32 : LP_CHUNK_MIN;
	uint64_t fit = (sizeof(struct lp_chunk) + need + 64 + LP_EXE_MAX + LP_CMDLINE_MAX + 32 + LP_PAGE - 1) &
		       ~(uint64_t)(LP_PAGE - 1);
	if (size < fit)
		size = fit;
	uint64_t tail = LP_LOAD(&h->tail);
	/* Check before claiming, so a full log does not run the tail away. */
	if (tail + size > LP_LOAD_ACQ(&h->capacity) && !lp_grow(M, h, tail + size, 0))
		goto full;
	uint64_t off = __atomic_fetch_add(&h->tail, size, __ATOMIC_RELAXED);
	if (off + size > LP_LOAD(&lp.max_len) || (off + size > LP_LOAD_ACQ(&h->capacity) && !lp_grow(M, h, off + size, 0)))
		goto full; /* the claimed range stays zero: readers skip it */
	struct lp_chunk *c = (struct lp_chunk *)lp_addr(M, off, size);
	if (!c) {
		/* Another process grew the file past this one's mapping. */
		lp_map_more(M, h);
		if (!(c = (struct lp_chunk *)lp_addr(M, off, size)))
			goto full;
	}
	uint64_t ts = lp_now();
	uint64_t mono = LP_LOAD(&lp.ts_tsc) ? clock_ns(CLOCK_MONOTONIC) : ts;
	lp_learn_rate(ts, mono);
	c->size = (uint32_t)size;
	c->pid = LP_LOAD(&lp.pid);
	c->tid = t->tid;
	c->base_ts = ts;
	c->mono_ns = mono;
	memcpy(c->magic, "LPCK", 4);
	c->check = fnv32(c, offsetof(struct lp_chunk, check));

	unsigned char *base = (unsigned char *)c;
	t->pos = base + sizeof *c;
	t->end = base + size - LP_MARK_RESERVE;
	t->limit = base + size;
	t->chunk = base;
	t->last_ts = ts;
	t->pair_ts = ts;
	if (size <= LP_CHUNK_MAX / 2 && t->chunk_size < LP_CHUNK_MAX)
		t->chunk_size = t->chunk_size ? t->chunk_size * 2 : LP_CHUNK_MIN * 2;
	if (LP_LOAD(&lp.proc_pending) && __atomic_exchange_n(&lp.proc_pending, 0, __ATOMIC_ACQ_REL))
		t->pos = lp_process_record(t->pos);
	lp_put_dropped(t);
	/* Growing ahead of the writers, by whoever claims within a quarter step
	 * of the end: writers seldom wait for a grower, and a process that
	 * cannot grow the file any more (CRIU's restored tasks close every
	 * descriptor they inherit) still finds room for a while. */
	uint64_t cap = LP_LOAD_ACQ(&h->capacity);
	if (off + size + lp_grow_step(cap) / 4 > cap)
		lp_grow(M, h, cap + 1, 1);
	return 1;
full:
	t->retry = LP_RETRY_DROPS;
	return 0;
}

/* Called from inside log calls, so errno survives it. */
static __attribute__((noinline)) int lp_claim(struct lp_thread *t, size_t need)
{
	int err = errno;
	int r = lp_claim_(t, need);
	errno = err;
	return r;
}

/* ---- processes and threads ---- */

/* The executable's path: as the program was started, when that was by an
 * absolute path (the kernel's AT_EXECFN: no system call; a shell's or
 * execvp's path search gives one), else the kernel's link to it, whose
 * first readlink costs 20-40 us here, a sixth of a joined log's start-up.
 * (A relative path could mean another directory by now; /dev/fd/N, from
 * fexecve, names no file.) */
static void lp_read_exe(void)
{
	const char *fn = (const char *)getauxval(AT_EXECFN);
	if (fn && fn[0] == '/' && strncmp(fn, "/dev/fd/", 8) != 0 && strncmp(fn, "/proc/", 6) != 0) {
		size_t n = strlen(fn);
		if (n > sizeof lp.exe - 1)
			n = sizeof lp.exe - 1;
		memcpy(lp.exe, fn, n);
		lp.exe[n] = 0;
		return;
	}
	ssize_t n = readlink("/proc/self/exe", lp.exe, sizeof lp.exe - 1);
	lp.exe[n > 0 ? n : 0] = 0;
}

/* The command line as the constructor got it (glibc passes main's
 * arguments to ELF constructors), valid while it runs: reading them there
 * saves three system calls on /proc at start-up. */
static char **lp_ctor_argv;

static void lp_read_cmdline(void)
{
	ssize_t n = 0;
	if (lp_ctor_argv) {
		for (int i = 0; lp_ctor_argv[i] && (size_t)n < sizeof lp.cmdline; i++) {
			size_t len = strlen(lp_ctor_argv[i]) + 1;
			if (len > sizeof lp.cmdline - (size_t)n)
				len = sizeof lp.cmdline - (size_t)n;
			memcpy(lp.cmdline + n, lp_ctor_argv[i], len);
			n += (ssize_t)len;
		}
	} else {
		int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, lp.cmdline, sizeof lp.cmdline);
			close(fd);
		}
	}
	while (n > 0 && lp.cmdline[n - 1] == 0)
		n--; /* the last argument's NUL */
	lp.cmdline_len = n > 0 ? (uint32_t)n : 0;
}

/* This process is new to the log: the first open, or a fork or raw clone
 * child (its wipe page reads zero). */
static void lp_new_process(void)
{
	LP_STORE(&lp.pid, (uint32_t)getpid());
	LP_STORE(&lp.growing, 0);
	LP_STORE(&lp.early_lock, 0);
	LP_STORE(&lp.mark_next, 0); /* a child's own text comes at once */
	LP_STORE(&lp.mark_wait, 0);
	/* The timestamp rate is measured again from this process's own
	 * clock pairs: a child may live in another time namespace than the
	 * parent whose pair it would inherit (CRIU's restored tasks). */
	LP_STORE(&lp.hz_mono, 0);
	uint64_t e = ++lp.epoch_counter;
	if (e == UINT64_MAX || e == 0)
		e = lp.epoch_counter = 1;
	LP_STORE(lp.wipe_page, e);
	__atomic_store_n(&lp.proc_pending, 1, __ATOMIC_RELEASE);
}

static void lp_sync(struct lp_thread *t)
{
	const volatile uint64_t *w = LP_LOAD_ACQ(&lp.wipe);
	if (w == lp.wipe_page && LP_LOAD(w) == 0)
		lp_new_process();
	uint64_t e = LP_LOAD(w);
	if (t->chunk_epoch != e) {
		/* New thread, new process or new log: the old chunk (if any)
		 * belongs to someone else now. */
		t->pos = t->end = t->limit = NULL;
		t->chunk_epoch = e;
		t->chunk_size = 0;
		t->retry = 0;
		t->dropped = 0;
		t->tid = (uint32_t)syscall(SYS_gettid);
	}
	t->epoch = e;
}

/* ---- records ---- */

/* Notes the size of the program's text log before the record about to be
 * written at ts, when it changed since this process's last note: lines
 * that others (CRIU's parasite, helper programs) wrote into it while the
 * program waited can then be put in their place. */
static void lp_text_mark(struct lp_thread *t, uint64_t ts, int only_same)
{
	/* A check costs a system call, and a program like CRIU pauses
	 * before most of its records: while the checks find the text log
	 * unchanged, the next is due only after a wait that doubles from a
	 * pause's length up to 16 of them (0.32 ms), and halves when one
	 * finds text. Text written meanwhile is marked by the next check: it
	 * is placed at most that much later. (The last mark, at exit, is
	 * taken whatever the wait, for the text log marked before.) */
	if (!only_same && ts < LP_LOAD(&lp.mark_next))
		return;
	int (*fn)(void) = LP_LOAD(&lp.text_fd_fn);
	int fd = fn ? fn() : STDERR_FILENO;
	struct stat st;
	int file = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (!file && !fn) {
		/* A program that did not name its text log writes it to
		 * stderr, if anywhere: when that is no file, no marks. */
		LP_STORE(&lp.marks_off, 1);
		LP_STORE(&lp.gap_ticks, UINT64_MAX);
		return;
	}
	int same = file && st.st_dev == LP_LOAD(&lp.text_dev) && st.st_ino == LP_LOAD(&lp.text_ino);
	if (!file || (same && (uint64_t)st.st_size == LP_LOAD(&lp.text_size))) {
		/* Nothing to mark (the text log the program names is no file
		 * just now, as in CRIU's restored tasks, or it did not grow). */
		uint64_t gap = LP_LOAD(&lp.gap_ticks), wait = LP_LOAD(&lp.mark_wait) * 2;
		uint64_t most = gap > (UINT64_MAX >> 8) ? gap : gap * 16;
		wait = wait < gap ? gap : wait > most ? most : wait;
		LP_STORE(&lp.mark_wait, wait);
		LP_STORE(&lp.mark_next, ts + wait);
		return;
	}
	/* Text came: the next check is due after half the wait (where other
	 * processes write text every few records, CRIU's restore, resetting
	 * it would mean a check per pause again). */
	uint64_t wait = LP_LOAD(&lp.mark_wait) / 2;
	LP_STORE(&lp.mark_wait, wait);
	LP_STORE(&lp.mark_next, wait ? ts + wait : 0);
	if (only_same && !same)
		return;
	char path[PATH_MAX];
	ssize_t n = 0;
	if (!same) {
		char link[32];
		lp_fd_link(link, fd);
		n = readlink(link, path, sizeof path);
		if (n < 0 || n >= (ssize_t)sizeof path)
			n = 0;
	}
	size_t need = 32 + (size_t)n;
	if ((size_t)(t->end - t->pos) < need + LP_SLACK)
		return; /* a mark is a hint: no new chunk for it */
	unsigned char *rec = t->pos, *p = rec + 1;
	p = put_uv(p, LP_TAG_TEXT);
	p = put_uv(p, ts - t->last_ts);
	p = put_uv(p, (uint64_t)st.st_size);
	p = put_bytes(p, path, (size_t)n);
	t->pos = lp_commit(rec, p);
	t->last_ts = ts;
	LP_STORE(&lp.text_dev, st.st_dev);
	LP_STORE(&lp.text_ino, st.st_ino);
	LP_STORE(&lp.text_size, (uint64_t)st.st_size);
}

/* The current chunk cannot hold the next need bytes of the record begun at
 * rec (arguments from argstart): move it to a new chunk. */
static __attribute__((noinline)) unsigned char *lp_spill(struct lp_thread *t, unsigned char **recp,
							 unsigned char **argstartp, unsigned char *p,
							 size_t need, uint32_t idx, int level)
{
	unsigned char *old = *argstartp;
	size_t done = (size_t)(p - old);
	if (!lp_claim(t, done + need + 32)) {
		/* Later records may still fit in this chunk: what follows the
		 * last record must read as zero. */
		memset(*recp, 0, (size_t)(p - *recp));
		return NULL;
	}
	unsigned char *rec = t->pos;
	unsigned char *q = put_uv(rec + 1, idx);
	q = put_uv(q, 0); /* the new chunk's base_ts is this record's timestamp */
	if (level >= 0)
		*q++ = (unsigned char)level;
	memcpy(q, old, done);
	*recp = rec;
	*argstartp = q;
	return q + done;
}

/* Copies len <= 64 bytes without a call, reading only the len bytes of
 * the source. */
static inline __attribute__((always_inline)) void lp_copy_short(unsigned char *d, const char *s, size_t len)
{
	if (len >= 8) {
		if (len > 32) {
			memcpy(d, s, 32);
			memcpy(d + len - 32, s + len - 32, 32);
		} else if (len >= 16) {
			memcpy(d, s, 16);
			memcpy(d + len - 16, s + len - 16, 16);
		} else {
			memcpy(d, s, 8);
			memcpy(d + len - 8, s + len - 8, 8);
		}
	} else if (len >= 4) {
		memcpy(d, s, 4);
		memcpy(d + len - 4, s + len - 4, 4);
	} else if (len) {
		d[0] = (unsigned char)s[0];
		d[len / 2] = (unsigned char)s[len / 2];
		d[len - 1] = (unsigned char)s[len - 1];
	}
}

/* A string cut to fit its record: the cut record after the record says
 * how long it was (argument k of the site's list). */
struct lp_cut {
	unsigned k;
	size_t len;
};

/* A string argument that is not short, NULL, or read with a bound: cut
 * to what one record holds, moving the record to a new chunk if need be
 * (rest: room the arguments after it need). */
static __attribute__((noinline)) unsigned char *
lp_put_str(struct lp_thread *t, unsigned char **recp, unsigned char **argstartp, unsigned char *p,
	   unsigned k, uint64_t bound, const char *s, uint32_t idx, int level, size_t rest, size_t *full)
{
	size_t len = 0;
	*full = 0;
	if (s)
		len = k == LOGPACK_STRMAX && (long long)bound >= 0 ? strnlen(s, (size_t)bound) : strlen(s);
	long room = LP_STR_BUDGET - (long)(p - *recp);
	if ((long)len > room) {
		*full = len;
		len = room > 0 ? (size_t)room : 0;
	}
	/* Keep LP_ARG_ROOM for each argument after this one. */
	if ((size_t)(t->end - p) < len + 10 + LP_SLACK + rest) {
		p = lp_spill(t, recp, argstartp, p, len + 10 + LP_SLACK + rest, idx, level);
		if (!p)
			return NULL;
	}
	if (!s) {
		*p++ = 0;
		return p;
	}
	p = put_uv(p, len + 1);
	memcpy(p, s, len);
	return p + len;
}

/* The length of s when it is shorter than LP_ARG_ROOM - 1, else any
 * larger value. Reads s in aligned 16-byte blocks, as glibc's strlen
 * starts, so it never crosses into another page; inline, it spares the
 * record path a call and the spills around it. */
static inline __attribute__((always_inline)) size_t lp_strlen_short(const char *s)
{
#if defined(__SSE2__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	const __m128i *b = (const __m128i *)((uintptr_t)s & ~(uintptr_t)15);
	unsigned off = (unsigned)((uintptr_t)s & 15);
	__m128i zero = _mm_setzero_si128();
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(b), zero)) >> off;
	if (LP_LIKELY(m))
		return (size_t)__builtin_ctz(m);
	/* Blocks before the one holding the NUL are all string, and that one
	 * holds a byte of it: no read leaves the string's pages. */
	for (unsigned i = 1; i <= LP_ARG_ROOM / 16; i++) {
		m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(b + i), zero));
		if (m)
			return 16 * i - off + (size_t)__builtin_ctz(m);
	}
	return LP_ARG_ROOM;
#else
	return strnlen(s, LP_ARG_ROOM);
#endif
}

/* The fixed-size classes, as case labels of a switch over the class byte
 * with the output pointer p and the argument pointer a in scope. Both
 * argument loops below use them: shared as labels rather than as a helper
 * function so the fast path keeps a single dispatch per argument. */
#define LP_SCALAR_CASES                                      \
	case LOGPACK_I32:                                    \
		p = put_uv_fast(p, zigzag((int)a++->i));     \
		break;                                       \
	case LOGPACK_U32:                                    \
		p = put_uv_fast(p, (unsigned)a++->u);        \
		break;                                       \
	case LOGPACK_I64:                                    \
		p = put_uv_fast(p, zigzag(a++->i));          \
		break;                                       \
	case LOGPACK_U64:                                    \
		p = put_uv_fast(p, a++->u);                  \
		break;                                       \
	case LOGPACK_PTR:                                    \
		p = put_uv_fast(p, (uintptr_t)a++->p);       \
		break;                                       \
	case LOGPACK_F64:                                    \
		memcpy(p, &a++->d, 8);                       \
		p += 8;                                      \
		break;

/* The arguments of the common record: scalars and short strings only, in
 * a chunk with room for LP_ARG_ROOM per argument. Writes them from *pp on
 * and returns where it stopped in the class list: ce when all are
 * written, else at an argument the general loop must write. */
static inline __attribute__((always_inline)) const unsigned char *
lp_fast_args(unsigned char **pp, const unsigned char *c, const unsigned char *ce,
	     const union logpack_arg *a)
{
	unsigned char *p = *pp;
	for (; c < ce; c++) {
		switch (*c) {
		LP_SCALAR_CASES
		case LOGPACK_STR: {
			const char *s = a++->p;
			if (LP_UNLIKELY(!s))
				goto out;
			size_t len = lp_strlen_short(s);
			if (LP_UNLIKELY(len >= LP_ARG_ROOM - 1))
				goto out;
			*p++ = (unsigned char)(len + 1);
			lp_copy_short(p, s, len);
			p += len;
			break;
		}
		default: /* f80, strmax, errno (reading it is a call), constants,
			  * or a class this runtime does not know */
			goto out;
		}
	}
out:
	*pp = p;
	return c;
}

/* The general loop over a record's arguments: long and NULL strings,
 * bounded strings (which may move the record to a new chunk: *recp,
 * *argstartp and *tsp follow it), f80, errno, constants. Returns the end
 * of the arguments, or NULL when the record cannot be written. */
static __attribute__((noinline)) unsigned char *
lp_args(struct lp_thread *t, unsigned char **recp, unsigned char **argstartp, uint64_t *tsp,
	struct logpack_site *site, uint32_t idx, int level, const union logpack_arg *args, int err,
	struct lp_cut *cut)
{
	unsigned char *rec = *recp, *p = *argstartp;
	const union logpack_arg *a = args;
	const unsigned char *c = lp_site_args(site);
	unsigned n = site->nargs;
	/* The slots after each argument, for the room a long string leaves. */
	unsigned slots_left = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = c[0];
		slots_left += k < LOGPACK_CONST_STR;
		c = lp_skip_extra(k, c + 1);
	}
	c = lp_site_args(site);
	cut->len = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = *c++;
		slots_left -= k < LOGPACK_CONST_STR;
		switch (k) {
		LP_SCALAR_CASES
		case LOGPACK_F80:
			memcpy(p, a++->p, 10);
			p += 10;
			break;
		case LOGPACK_ERRNO:
			p = put_uv_fast(p, zigzag(err < 0 ? errno : err));
			break;
		case LOGPACK_CONST_STR:
		case LOGPACK_CONST_INT:
		case LOGPACK_CONST_UINT:
			c = lp_skip_extra(k, c);
			break;
		case LOGPACK_STR:
		case LOGPACK_STRMAX: {
			uint64_t b = (uint64_t)-1;
			if (k == LOGPACK_STRMAX) {
				c = get_uv(c, &b);
				if (b & 1) {
					/* The bound is another argument's value: find its slot. */
					const unsigned char *cc = lp_site_args(site);
					size_t slot = 0;
					for (uint64_t j = 0; j < (b >> 1) && j < n; j++) {
						unsigned kk = *cc++;
						slot += lp_takes_slot(kk);
						cc = lp_skip_extra(kk, cc);
					}
					b = (uint64_t)(long long)(int)args[slot].i;
				} else {
					b >>= 1;
				}
			}
			unsigned char *was = rec;
			size_t full;
			p = lp_put_str(t, &rec, argstartp, p, k, b, a++->p, idx, level,
				       (size_t)slots_left * LP_ARG_ROOM, &full);
			if (!p)
				return NULL;
			if (rec != was)
				*tsp = t->last_ts;
			if (full) {
				cut->k = i;
				cut->len = full;
			}
			break;
		}
		default:
			/* Not a class this runtime knows: the record is not published. */
			memset(rec, 0, (size_t)(p - rec));
			return NULL;
		}
	}
	*recp = rec;
	return p;
}

static __attribute__((noinline)) int lp_encode(struct lp_thread *t, uint32_t idx,
							    struct logpack_site *site, int level,
							    const union logpack_arg *args, int err,
							    uint64_t ts)
{
	unsigned char *rec = t->pos, *end = t->end;
	uint64_t last = t->last_ts;
	if (LP_UNLIKELY(ts < last))
		ts = last;
	if (LP_UNLIKELY(ts - last > LP_LOAD(&lp.gap_ticks))) {
		lp_text_mark(t, ts, 0);
		rec = t->pos;
		last = t->last_ts;
	}
	if (LP_UNLIKELY(ts - t->pair_ts > LP_LOAD(&lp.pair_ticks)) && end - rec > 32) {
		/* A calibration pair keeps the TSC-to-ns fit accurate over
		 * long runs. */
		unsigned char *p = put_uv(rec + 1, LP_TAG_CLOCK);
		p = put_uv(p, ts - last);
		p = put_u64(p, LP_LOAD(&lp.ts_tsc) ? clock_ns(CLOCK_MONOTONIC) : ts);
		rec = lp_commit(rec, p);
		t->last_ts = t->pair_ts = last = ts;
		t->pos = rec;
	}
	/* Room for the header and LP_ARG_ROOM per argument, checked once:
	 * scalars and short strings need no check of their own. */
	size_t worst = LP_WORST(site->nargs);
	if (LP_UNLIKELY(end - rec < (ptrdiff_t)worst)) {
		if (!lp_claim(t, worst))
			return 0;
		rec = t->pos;
		ts = last = t->last_ts; /* the chunk was stamped just now */
	}
	if (site->level != 255)
		level = -1;
	unsigned char *p = put_uv_fast(rec + 1, idx);
	p = put_uv_fast(p, ts - last);
	if (level >= 0)
		*p++ = (unsigned char)level;
	struct lp_cut cut;
	unsigned char *q = lp_args(t, &rec, &p, &ts, site, idx, level, args, err, &cut);
	if (!q)
		return 0;
	t->pos = lp_commit(rec, q);
	t->last_ts = ts;
	if (LP_UNLIKELY(cut.len) && t->limit - t->pos >= 24) {
		unsigned char *r = t->pos, *x = put_uv(r + 1, LP_TAG_CUT);
		x = put_uv(x, cut.k);
		x = put_uv(x, cut.len);
		t->pos = lp_commit(r, x);
		if (t->pos > t->end)
			t->end = t->pos;
	}
	return 1;
}

/* A byte sink that only counts when p is NULL: the descriptor is measured
 * first, then written straight into the chunk. */
struct lp_w {
	unsigned char *p;
	size_t n;
};

static void w_byte(struct lp_w *w, unsigned c)
{
	if (w->p)
		w->p[w->n] = (unsigned char)c;
	w->n++;
}

static void w_uv(struct lp_w *w, uint64_t v)
{
	while (v >= 0x80) {
		w_byte(w, (unsigned)(v & 0x7f) | 0x80);
		v >>= 7;
	}
	w_byte(w, (unsigned)v);
}

static void w_bytes(struct lp_w *w, const void *s, size_t n)
{
	w_uv(w, n);
	if (w->p)
		memcpy(w->p + w->n, s, n);
	w->n += n;
}

/* The site's descriptor (docs/FORMAT.md, "Site descriptors") from its
 * table entry. */
static void lp_descriptor(const struct logpack_site *site, struct lp_w *w)
{
	const char *fmt = lp_site_str(site, site->format);
	const char *file = lp_site_str(site, site->file);
	const char *func = lp_site_str(site, site->func);
	w_byte(w, LP_DESC_VERSION);
	w_byte(w, site->level);
	w_byte(w, site->flags);
	w_byte(w, site->text_level);
	w_bytes(w, file, strlen(file));
	w_uv(w, site->line);
	w_bytes(w, func, strlen(func));
	w_bytes(w, fmt, strlen(fmt));
	w_uv(w, site->nargs);
	const unsigned char *c = lp_site_args(site);
	for (unsigned i = 0; i < site->nargs; i++) {
		unsigned k = *c++;
		w_byte(w, k);
		switch (k) {
		case LOGPACK_STRMAX: {
			uint64_t b;
			c = get_uv(c, &b);
			w_uv(w, b);
			break;
		}
		case LOGPACK_CONST_STR: {
			int32_t off;
			memcpy(&off, c, 4);
			c += 4;
			const char *s = lp_site_str(site, off);
			w_bytes(w, s, strlen(s));
			break;
		}
		case LOGPACK_CONST_INT:
		case LOGPACK_CONST_UINT: {
			/* the table holds them as the log does: zigzag for signed */
			uint64_t v;
			c = get_uv(c, &v);
			w_uv(w, v);
			break;
		}
		}
	}
}

/* The site's descriptor goes into the log the first time this process uses
 * the site in this log. */
static int lp_describe(struct lp_thread *t, struct lp_header *h, struct logpack_site *site, uint32_t *idx)
{
	struct lp_w w = {NULL, 0};
	lp_descriptor(site, &w);
	size_t n = w.n;
	if (n > LP_MAX_BODY - 16)
		return 0;
	uint32_t i = t == &lp.early_t ? lp.early_next_index++
				      : __atomic_fetch_add(&h->next_site_index, 1, __ATOMIC_RELAXED);
	if (!t->pos || (size_t)(t->end - t->pos) < n + 16 + LP_SLACK)
		if (!lp_claim(t, n + 16))
			return 0;
	unsigned char *rec = t->pos;
	unsigned char *p = put_uv(rec + 1, LP_TAG_SITE);
	p = put_uv(p, i);
	w.p = p;
	w.n = 0;
	lp_descriptor(site, &w);
	t->pos = lp_commit(rec, p + w.n);
	LP_STORE_REL(&site->state, ((uint64_t)LP_LOAD(&lp.gen) << 32) | i);
	*idx = i;
	return 1;
}

/* Returns whether the record was written. */
static int lp_slow_locked(struct lp_thread *t, struct lp_header *h, struct logpack_site *site, int level,
			  const union logpack_arg *args, int err)
{
	lp_put_dropped(t);
	uint64_t st = LP_LOAD_ACQ(&site->state);
	uint32_t idx = (uint32_t)st;
	if ((!t->pos && !lp_claim(t, 64)) ||
	    ((uint32_t)(st >> 32) != LP_LOAD(&lp.gen) && !lp_describe(t, h, site, &idx)) ||
	    !lp_encode(t, idx, site, level, args, err, lp_now())) {
		lp_count_drop(t, site, level);
		return 0;
	}
	return 1;
}

/* Returns whether the record was written (0 also when logging is off). */
static __attribute__((noinline)) int lp_slow(struct logpack_site *site, int level,
					     const union logpack_arg *args)
{
	int err = errno, written = 0;
	struct lp_thread *t = &logpack_thread_;
	if (!LP_LOAD(&logpack_recording))
		goto out;
	if (t->busy) {
		/* A signal handler interrupted a log call of this thread. */
		lp_count_drop(t, site, level);
		t->epoch = 0;
		goto out;
	}
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	int done = 0;
	if (LP_LOAD(&lp.early_on)) {
		while (__atomic_exchange_n(&lp.early_lock, 1, __ATOMIC_ACQUIRE))
			;
		if (LP_LOAD(&lp.early_on)) {
			written = lp_slow_locked(&lp.early_t, NULL, site, level, args, err);
			done = 1;
		}
		__atomic_store_n(&lp.early_lock, 0, __ATOMIC_RELEASE);
	}
	struct lp_header *h;
	if (!done && (h = LP_LOAD_ACQ(&lp.hdr))) {
		/* h, not lp.hdr again: the log may be closed meanwhile, and the
		 * old one stays mapped. */
		lp_sync(t);
		written = lp_slow_locked(t, h, site, level, args, err);
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
out:
	errno = err;
	return written;
}

/* Starts a record on a fast path: returns where it goes, with the thread
 * marked busy, or NULL when the call must take the general path. The fast
 * path needs the thread in sync with the process and the log, the site
 * described, no pause that wants a text mark, no calibration pair due and
 * room for worst bytes; ts - last also catches a clock going back
 * (another CPU's TSC): it wraps. All is checked after busy is set: a
 * signal handler's call before that may have moved the chunk and its
 * clock on, and one after it takes the slow path. */
static inline __attribute__((always_inline)) unsigned char *lp_fast_begin(struct lp_thread *t, uint64_t st,
									    uint64_t ts, size_t worst)
{
	if (LP_UNLIKELY(t->busy))
		return NULL;
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	/* (A pause while the text log checks back off is no pause.) */
	if (LP_LIKELY(t->epoch == LP_EPOCH() && (uint32_t)(st >> 32) == LP_LOAD(&lp.gen) &&
		      (ts - t->last_ts <= LP_LOAD(&lp.gap_ticks) || (ts >= t->last_ts && ts < LP_LOAD(&lp.mark_next))) &&
		      ts - t->pair_ts <= LP_LOAD(&lp.pair_ticks) && t->end - t->pos >= (ptrdiff_t)worst))
		return t->pos;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
	return NULL;
}

/* The common generic call, inline in lp_emit: every argument is a scalar
 * or a short string. Returns 0, with nothing published and errno
 * untouched, for lp_emit_general to do the rest. */
static inline __attribute__((always_inline)) int lp_try(struct logpack_site *site, int level,
							 const union logpack_arg *args, uint64_t ts)
{
	struct lp_thread *t = &logpack_thread_;
	uint64_t st = LP_LOAD(&site->state);
	const unsigned char *c = lp_site_args(site);
	unsigned n = site->nargs;
	unsigned char *rec = lp_fast_begin(t, st, ts, LP_WORST(n));
	if (LP_UNLIKELY(!rec))
		return 0;
	unsigned char *p = put_uv_fast(rec + 1, (uint32_t)st);
	p = put_uv_fast(p, ts - t->last_ts);
	if (level >= 0 && site->level == 255)
		*p++ = (unsigned char)level;
	if (LP_LIKELY(lp_fast_args(&p, c, c + n, args) == c + n)) {
		t->pos = lp_commit(rec, p);
		t->last_ts = ts;
	} else {
		/* What follows the last record must read as zero: a signal
		 * handler may log before lp_emit_general writes this record
		 * again. */
		memset(rec + 1, 0, (size_t)(p - rec - 1));
		p = NULL;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
	return p != NULL;
}

/* Every other call: ts is the call's timestamp, or 0 when it was not read
 * yet. */
static __attribute__((noinline)) int lp_emit_general(struct logpack_site *site, int level,
						     const union logpack_arg *args, uint64_t ts)
{
	struct lp_thread *t = &logpack_thread_;
	uint64_t st = LP_LOAD(&site->state);
	if (LP_UNLIKELY(t->epoch != LP_EPOCH() || (uint32_t)(st >> 32) != LP_LOAD(&lp.gen) || t->busy))
		return lp_slow(site, level, args);
	/* errno as the call found it: for %m, and for the program after
	 * (a pause's text mark makes system calls). */
	int err = errno;
	if (!ts)
		ts = lp_now();
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	int written = lp_encode(t, (uint32_t)st, site, level, args, err, ts);
	if (LP_UNLIKELY(!written))
		lp_count_drop(t, site, level);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
	errno = err;
	return written;
}

static inline __attribute__((always_inline)) int lp_emit(struct logpack_site *site, int level,
							  const union logpack_arg *args)
{
#if LP_HAVE_TSC
	if (LP_LIKELY(LP_LOAD(&lp.ts_tsc))) {
		/* The timestamp first: the checks do not depend on it. */
		uint64_t ts = __rdtsc();
		if (LP_LIKELY(lp_try(site, level, args, ts)))
			return 1;
		return lp_emit_general(site, level, args, ts);
	}
#endif
	return lp_emit_general(site, level, args, 0);
}

static __attribute__((noinline)) int lp_emit_any(struct logpack_site *site, int level, const union logpack_arg *args)
{
	return lp_emit(site, level, args);
}

int logpack_emit(struct logpack_site *site, const union logpack_arg *args)
{
	return lp_emit_any(site, -1, args);
}

int logpack_emit_level(struct logpack_site *site, int level, const union logpack_arg *args)
{
	return lp_emit_any(site, level & 0xff, args);
}

void logpack_text_fd(int (*fn)(void))
{
	LP_STORE(&lp.text_fd_fn, fn);
}

/*
 * Per-signature encoders. Generated code (logpack cc writes one function
 * per signature a program uses, after this file in the same unit) is a
 * sequence of these macros, over four kinds of argument: z (a signed
 * integer, zigzag), u (an unsigned integer or a pointer), d (a double),
 * s (a string), and e (errno, read on entry):
 *
 *	int logpack_enc_sz(struct logpack_site *site, const char *a0, long long a1)
 *	{
 *		LP_ENC_BEGIN(site, -1, 2);
 *		LP_ENC_STR(a0);
 *		LP_ENC_Z(a1);
 *		LP_ENC_END();
 *		LP_ENC_GENERAL(site, -1, 2, lp_a[0].p = a0; lp_a[1].i = a1);
 *	}
 *
 * The fast path writes the record straight from the registers; anything
 * unusual (a long or NULL string, no room, a pause, a new thread) undoes
 * what it wrote and hands the arguments to lp_emit_general as an array.
 * What is rare or bulky (long varints, strings, long records) is out of
 * line, shared by all encoders: CRIU's criu has 127 of them.
 */
static __attribute__((noinline, unused)) unsigned char *lp_put_uv_long(unsigned char *p, uint64_t v)
{
	return put_uv_fast(p, v);
}

static inline __attribute__((always_inline)) unsigned char *lp_put_uv_enc(unsigned char *p, uint64_t v)
{
	if (LP_LIKELY(v < 0x80)) {
		p[0] = (unsigned char)v;
		return p + 1;
	}
	if (LP_LIKELY(v < (1u << 14))) {
		p[0] = (unsigned char)(v | 0x80);
		p[1] = (unsigned char)(v >> 7);
		return p + 2;
	}
	return lp_put_uv_long(p, v);
}

/* A string of fewer than LP_ARG_ROOM - 1 bytes, or NULL (nothing written)
 * when s is NULL or longer. */
static __attribute__((noinline, unused)) unsigned char *lp_put_short_str(unsigned char *p, const char *s)
{
	if (LP_UNLIKELY(!s))
		return NULL;
	size_t n = lp_strlen_short(s);
	if (LP_UNLIKELY(n >= LP_ARG_ROOM - 1))
		return NULL;
	*p++ = (unsigned char)(n + 1);
	lp_copy_short(p, s, n);
	return p + n;
}

/* The parts every encoder shares, out of line: a program has over a
 * hundred encoders, and the checks and the record's head are the same in
 * all of them. lp_enc_begin starts a record on the fast path and returns
 * where its arguments go, or NULL for the general path; lp_enc_end
 * publishes it; lp_enc_undo takes back a record begun that the general
 * path must write instead (a long or NULL string). */
static __attribute__((noinline, unused)) unsigned char *lp_enc_begin(struct logpack_site *site, int level,
								   size_t worst, uint64_t *tsp)
{
	struct lp_thread *t = &logpack_thread_;
#if LP_HAVE_TSC
	uint64_t ts = LP_LIKELY(LP_LOAD(&lp.ts_tsc)) ? __rdtsc() : 0;
#else
	uint64_t ts = 0;
#endif
	*tsp = ts;
	uint64_t st = LP_LOAD(&site->state);
	/* (Calls that also print as text come here with logging off too:
	 * the general path then returns at once.) */
	unsigned char *rec;
	if (LP_UNLIKELY(!ts || !(rec = lp_fast_begin(t, st, ts, worst))))
		return NULL;
	unsigned char *p = lp_put_uv_enc(rec + 1, (uint32_t)st);
	p = lp_put_uv_enc(p, ts - t->last_ts);
	if (level >= 0)
		*p++ = (unsigned char)level;
	return p;
}

static __attribute__((noinline, unused)) void lp_enc_end(unsigned char *p, uint64_t ts)
{
	struct lp_thread *t = &logpack_thread_;
	t->pos = lp_commit(t->pos, p);
	t->last_ts = ts;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
}

static __attribute__((noinline, unused)) void lp_enc_undo(unsigned char *p)
{
	struct lp_thread *t = &logpack_thread_;
	memset(t->pos + 1, 0, (size_t)(p - t->pos - 1));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
}

#define LP_ENC_BEGIN(site, level, nargs)                                                            \
	uint64_t ts_;                                                                                \
	unsigned char *p_ = lp_enc_begin((site), (level), LP_WORST(nargs), &ts_);                    \
	if (LP_UNLIKELY(!p_))                                                                        \
		goto general_;

/* An argument's varint: one byte inline, longer ones out of line (a
 * program has over a hundred encoders; the two-byte case inline in each
 * would double their size). */
static inline __attribute__((always_inline)) unsigned char *lp_put_uv_arg(unsigned char *p, uint64_t v)
{
	if (LP_LIKELY(v < 0x80)) {
		*p = (unsigned char)v;
		return p + 1;
	}
	return lp_put_uv_long(p, v);
}

#define LP_ENC_Z(x) (p_ = lp_put_uv_arg(p_, zigzag(x)))
#define LP_ENC_U(x) (p_ = lp_put_uv_arg(p_, (x)))
#define LP_ENC_D(x) (memcpy(p_, &(double){(x)}, 8), p_ += 8)
#define LP_ENC_ERRNO(err) (p_ = lp_put_uv_arg(p_, zigzag(err)))
#define LP_ENC_STR(x)                                                \
	do {                                                         \
		unsigned char *q_ = lp_put_short_str(p_, (x));       \
		if (LP_UNLIKELY(!q_))                                \
			goto undo_;                                  \
		p_ = q_;                                             \
	} while (0)

#define LP_ENC_END()                          \
	lp_enc_end(p_, ts_);                  \
	return 1;                             \
undo_: __attribute__((unused));               \
	lp_enc_undo(p_);

#define LP_ENC_GENERAL(site, level, nslots, fill)                      \
	general_: {                                                    \
		union logpack_arg lp_a[(nslots) ? (nslots) : 1];       \
		fill;                                                  \
		return lp_emit_general((site), (level), lp_a, ts_);    \
	}

/* ---- opening ---- */

/* The first 8 bytes of the main program's GNU build ID note (0 without
 * one): read from the program headers in memory, no system call. */
static int lp_build_id_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		const unsigned char *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const unsigned char *name = p + sizeof *nh;
			const unsigned char *desc = name + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
			    nh->n_descsz >= 8 && desc + 8 <= end) {
				memcpy(data, desc, 8);
				return 1;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 1; /* the main program only */
}

static uint64_t lp_compute_build_id(void)
{
	uint64_t id = 0;
	dl_iterate_phdr(lp_build_id_cb, &id);
	return id;
}

#if defined(__x86_64__) && defined(__GLIBC__)
/* glibc (2.33 on) keeps the cpuid leaves it read at start-up, as
 * <sys/platform/x86.h> reads them; a weak reference, so that the runtime
 * links and runs without it too (older glibc, plugins loaded elsewhere). */
struct lp_cpuid_leaf {
	unsigned cpuid[4]; /* eax, ebx, ecx, edx */
	unsigned active[4];
};
extern const struct lp_cpuid_leaf *__x86_get_cpuid_feature_leaf(unsigned) __attribute__((weak));
#define LP_GLIBC_LEAF_80000007 4 /* glibc's CPUID_INDEX_80000007 (ABI) */
#endif

/* An invariant TSC (CPUID 0x80000007 EDX bit 8) ticks at one rate on every
 * CPU, in every power state: usable as a clock. */
static int lp_tsc_usable(void)
{
#if LP_HAVE_TSC
	const char *e = lp_getenv("LOGPACK_CLOCK");
	if (e && strcmp(e, "ns") == 0)
		return 0;
#if defined(__x86_64__) && defined(__GLIBC__)
	/* cpuid traps to the hypervisor in a virtual machine: 6 us here, in
	 * every process; glibc asked already. */
	if (__x86_get_cpuid_feature_leaf)
		return (__x86_get_cpuid_feature_leaf(LP_GLIBC_LEAF_80000007)->cpuid[3] >> 8) & 1;
#endif
	unsigned a, b, c, d;
#if !defined(__x86_64__)
	/* Every x86-64 processor has the extended leaves up to 0x80000008;
	 * asking costs another cpuid, which traps to the hypervisor in a
	 * virtual machine (microseconds each). */
	if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007)
		return 0;
#endif
	__cpuid(0x80000007, a, b, c, d);
	return (d >> 8) & 1;
#else
	return 0;
#endif
}

/* lp_tsc_usable once per process and its children (cpuid traps to the
 * hypervisor in a virtual machine: microseconds each). */
static int lp_clock_tsc(void)
{
	static int known = -1; /* racing threads compute the same */
	int k = LP_LOAD(&known);
	if (k < 0) {
		k = lp_tsc_usable();
		LP_STORE(&known, k);
	}
	return k;
}

static uint64_t lp_random64(void)
{
	uint64_t v = 0;
	if (syscall(SYS_getrandom, &v, sizeof v, 0x0001 /* GRND_NONBLOCK */) != (long)sizeof v)
		v = clock_ns(CLOCK_REALTIME) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 32;
	return v ? v : 1;
}

static int lp_header_valid(const struct lp_header *h)
{
	return memcmp(h->magic, "LOGPACK\n", 8) == 0 && h->version == LP_VERSION &&
	       h->header_size == LP_HEADER_SIZE && h->header_check == fnv32(h, 60);
}

/* Once per process: the wipe-on-fork page, clock choice, identity. */
static int lp_setup_process(void)
{
	if (!lp.wipe_page) {
		void *w = mmap(NULL, LP_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (w == MAP_FAILED)
			return -1;
		if (madvise(w, LP_PAGE, MADV_WIPEONFORK) != 0) {
			/* Without it (before Linux 4.14) a child could not be told
			 * apart without a system call per record: stay off. */
			munmap(w, LP_PAGE);
			errno = ENOSYS;
			return -1;
		}
		lp.wipe_page = w;
	}
	LP_STORE(&lp.ts_tsc, lp_clock_tsc());
	if (!lp.exe[0])
		lp_read_exe();
	if (!LP_LOAD(&lp.build_id))
		LP_STORE(&lp.build_id, lp_compute_build_id());
	return 0;
}

/* The largest log (LOGPACK_MAX_BYTES can lower it). */
#define LP_MAX_LEN ((uint64_t)1 << 40)

/* Moves fd above the descriptors a program uses (CRIU's own descriptor
 * numbers appear in its log, and its restore closes and reuses low ones),
 * below where programs keep their service descriptors (the top of the
 * limit). */
static int lp_park_fd(int fd)
{
	struct rlimit rl;
	int want = LP_FD_PREFERRED;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (rlim_t)want >= rl.rlim_cur / 2)
		want = (int)(rl.rlim_cur / 2);
	if (fd >= want)
		return fd;
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, want);
	if (nfd < 0)
		return fd;
	close(fd);
	return nfd;
}

static void lp_flush_early(void);

/* Fills a new log's header page. */
static void lp_init_header(struct lp_header *h)
{
	memset(h, 0, LP_HEADER_SIZE);
	h->version = LP_VERSION;
	h->header_size = LP_HEADER_SIZE;
	h->ts_kind = (uint32_t)LP_LOAD(&lp.ts_tsc);
	h->file_id = lp_random64();
	h->start_realtime_ns = clock_ns(CLOCK_REALTIME);
	h->start_mono_ns = clock_ns(CLOCK_MONOTONIC);
	h->start_ts = LP_LOAD(&lp.ts_tsc) ? lp_now() : h->start_mono_ns;
	h->first_pid = (uint32_t)getpid();
	h->build_id = LP_LOAD(&lp.build_id);
	h->tail = LP_HEADER_SIZE;
	h->capacity = LP_HEADER_SIZE; /* the first claim grows it */
	h->next_site_index = LP_FIRST_INDEX;
	memcpy(h->exe, lp.exe, sizeof h->exe - 1);
	memcpy(h->magic, "LOGPACK\n", 8);
	h->header_check = fnv32(h, 60);
}

/* Why the last open failed, for the one line a user who set LOGPACK_FILE
 * gets on stderr. */
static const char *lp_why;

/* Makes fd (a new, empty file) a log: its header page, in one write,
 * with a capacity of just itself. The first chunk claimed grows it, as
 * any later one: a run that logs nothing costs one page. */
static int lp_create_in(int fd)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && LP_HEADER_SIZE > rl.rlim_cur) {
		lp_why = "the file size limit (ulimit -f) is too small";
		errno = EFBIG;
		return -1;
	}
	union {
		struct lp_header h;
		unsigned char page[LP_HEADER_SIZE];
	} first;
	lp_init_header(&first.h);
	if (pwrite(fd, &first, sizeof first, 0) != (ssize_t)sizeof first) {
		lp_why = errno == ENOSPC ? "no space left on the device" : NULL;
		return -1;
	}
	return 0;
}

/* Checks that fd holds a log this runtime may join: 0, or 1 for an empty
 * file, or -1 (lp_why says why). */
static int lp_check_log(int fd)
{
	struct lp_header h;
	ssize_t n = pread(fd, &h, sizeof h, 0);
	if (n == 0)
		return 1; /* empty: the caller may make it a log */
	if (n != (ssize_t)sizeof h || memcmp(h.magic, "LOGPACK\n", 8) != 0) {
		lp_why = "the file exists and is not a logpack log; it is left alone";
		errno = EEXIST;
		return -1;
	}
	if (!lp_header_valid(&h)) {
		lp_why = h.version != LP_VERSION ? "a logpack log of another format version; it is left alone"
						 : "a damaged logpack log header; it is left alone";
		errno = EEXIST;
		return -1;
	}
	return 0;
}

/* Writes path made absolute (against the working directory) into out:
 * 0, or -1 if it cannot (no working directory, too long). */
static int lp_absolute(const char *path, char *out, size_t cap)
{
	size_t k = 0, n = strlen(path);
	if (path[0] != '/') {
		if (!getcwd(out, cap))
			return -1;
		k = strlen(out);
		out[k++] = '/';
	}
	if (k + n >= cap)
		return -1;
	memcpy(out + k, path, n + 1);
	return 0;
}

/* Maps a valid log in fd and starts logging into it. made: the file's
 * stat when this process just made the log (its capacity is the header's
 * page, or more if a joiner grew it since: mapped when needed). */
static int lp_start(int fd, const char *path, uint64_t session, unsigned proc_flags, const struct stat *made)
{
	if (lp_setup_process() != 0) {
		lp_why = "the kernel lacks MADV_WIPEONFORK (Linux 4.14)";
		return -1;
	}
	/* The capacity before the size: growers publish a capacity only
	 * once the file is that long, so the size read after it covers it
	 * (read the other way round, a growth in between would look like a
	 * shrunk file). */
	uint64_t cap = LP_HEADER_SIZE;
	struct stat st;
	if (made)
		st = *made;
	else if (pread(fd, &cap, sizeof cap, offsetof(struct lp_header, capacity)) != (ssize_t)sizeof cap ||
		 fstat(fd, &st) != 0 || cap > (uint64_t)st.st_size) {
		/* Someone shrank the file under the log: writing would fault.
		 * Stay off rather than risk SIGBUS. */
		lp_why = "the file is shorter than its header says";
		errno = EINVAL;
		return -1;
	}
	uint64_t map_len = lp_map_goal(cap);
	unsigned char *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (m == MAP_FAILED) {
		lp_why = "cannot map the file";
		return -1;
	}
	struct lp_header *h = (struct lp_header *)m;
	uint64_t max_len = LP_MAX_LEN;
	const char *mx = lp_getenv("LOGPACK_MAX_BYTES");
	if (mx) {
		/* A cap on the log's size, for hosts with little disk. */
		uint64_t v = strtoull(mx, NULL, 0) & ~(uint64_t)(LP_PAGE - 1);
		if (v >= LP_HEADER_SIZE + 2 * LP_CHUNK_MAX && v < max_len)
			max_len = v;
	}
	lp_lock_growth();
	/* A table of its own for each log opened: mappings of a log closed
	 * before stay, for a thread still writing or claiming in it (a few
	 * hundred bytes left behind per reopening). */
	struct lp_maps *M = &lp.maps_first;
	if (LP_LOAD(&lp.maps)) {
		M = mmap(NULL, sizeof *M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (M == MAP_FAILED) {
			lp_unlock_growth();
			munmap(m, map_len);
			lp_why = "out of memory";
			return -1;
		}
	}
	M->seg[0] = (struct lp_seg){m, 0, map_len};
	__atomic_store_n(&M->nseg, 1, __ATOMIC_RELEASE);
	LP_STORE_REL(&lp.maps, M);
	LP_STORE(&lp.max_len, max_len);
	struct statfs sf;
	LP_STORE(&lp.fs_memory, fstatfs(fd, &sf) == 0 && sf.f_type == LP_TMPFS_MAGIC);
	LP_STORE(&lp.fd, lp_park_fd(fd));
	LP_STORE(&lp.dev, st.st_dev);
	LP_STORE(&lp.ino, st.st_ino);
	if (!path || lp_absolute(path, lp.path, sizeof lp.path) != 0)
		lp.path[0] = 0;
	lp_unlock_growth();
	if (h->ts_kind != (uint32_t)LP_LOAD(&lp.ts_tsc))
		LP_STORE(&lp.ts_tsc, h->ts_kind == 1 && LP_HAVE_TSC); /* write in the log's own units */
	LP_STORE(&lp.pair_ticks, LP_LOAD(&lp.ts_tsc) ? ((uint64_t)1 << 31) : 1000000000u);
	LP_STORE(&lp.gap_ticks, LP_LOAD(&lp.ts_tsc) ? (uint64_t)LP_GAP_NS * 5 / 2 : LP_GAP_NS);
	LP_STORE(&lp.session, session);
	LP_STORE(&lp.proc_flags, proc_flags);
	if (proc_flags && !lp.cmdline_len)
		lp_read_cmdline(); /* once: a process's command line does not change */
	LP_STORE(&lp.text_dev, 0);
	LP_STORE(&lp.text_ino, 0);
	LP_STORE(&lp.text_size, 0);
	LP_STORE(&lp.marks_off, 0); /* hz_mono and the mark waits: lp_new_process */
	uint32_t gen = LP_LOAD(&lp.gen) + 1;
	LP_STORE_REL(&lp.gen, gen ? gen : 1);
	LP_STORE_REL(&lp.hdr, h);
	LP_STORE_REL(&lp.wipe, (const volatile uint64_t *)lp.wipe_page);
	lp_new_process();
	lp_flush_early();
	LP_STORE_REL(&logpack_recording, 1);
	return 0;
}

/* Makes fd, an empty file of this user's, a log, under the lock growers
 * take, unless another run is doing just that or has done it meanwhile:
 * 0 made (this process created the log), 1 another run's (join it once
 * it is made), -1 failed. made: this process created the file, so on a
 * file system without record locks it goes on alone. path, if not NULL,
 * is the name this process created the file under: removed if the file
 * cannot be made a log, so that no empty file is left behind (a run
 * that opened it meanwhile finds it unlinked and tries the name again).
 * made_st, if not NULL, gets the file's stat once this process made it. */
static int lp_make_log(int fd, int made, const char *path, struct stat *made_st)
{
	int locked = lp_file_lock(fd, F_WRLCK) == 0;
	if (!locked && (!made || errno == EAGAIN || errno == EACCES))
		return 1;
	struct stat st;
	int r = 1;
	if (fstat(fd, &st) == 0 && st.st_size == 0 && (made || st.st_nlink > 0))
		r = lp_setup_process() == 0 && lp_create_in(fd) == 0 ? 0 : -1;
	if (r == 0 && made_st)
		*made_st = st;
	if (r < 0 && path) {
		int err = errno;
		struct stat named;
		if (stat(path, &named) == 0 && named.st_dev == st.st_dev && named.st_ino == st.st_ino)
			unlink(path);
		errno = err;
	}
	if (locked)
		lp_file_lock(fd, F_UNLCK);
	if (r == 0)
		LP_STORE(&lp.created, 1);
	return r;
}

/* The path LOGPACK_FILE names: %p is the pid, %% a percent sign. */
static int lp_expand_path(const char *pat, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *s = pat; *s; s++) {
		char tmp[24];
		const char *add = tmp;
		size_t len = 1;
		if (s[0] == '%' && s[1] == 'p') {
			len = lp_utoa(tmp, (uint32_t)getpid(), 10, 1);
			s++;
		} else if (s[0] == '%' && s[1] == '%') {
			tmp[0] = '%';
			s++;
		} else {
			tmp[0] = *s;
		}
		if (n + len >= cap)
			return -1;
		memcpy(out + n, add, len);
		n += len;
	}
	out[n] = 0;
	return 0;
}

/* Checks that fd, a file this process did not create, may be written as
 * a log: a regular file of this user's. 0, or -1 (lp_why says why). */
static int lp_usable_file(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		lp_why = S_ISDIR(st.st_mode) ? "it is a directory" : "it is not a regular file";
		errno = EINVAL;
		return -1;
	}
	if (st.st_uid != geteuid()) {
		lp_why = "the file belongs to another user; it is left alone";
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Opens the log at path for a new session, or for joining session: the
 * existing log if there is one (it must be a regular file owned by this
 * user, not a symlink, and a logpack log), else a new one. A new file is
 * created empty under its own name; an empty file is made a log by
 * whichever run takes its lock first (the others join that log). */
static int lp_open_path(const char *path, uint64_t session, unsigned proc_flags)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		/* Creating first: one system call for a new log (the usual
		 * case: a name per run); joining an existing one costs one
		 * more. */
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
		int made = fd >= 0, exists = fd < 0 && errno == EEXIST;
		if (exists)
			fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			if (exists && errno == ENOENT)
				continue; /* removed meanwhile: create it */
			lp_why = errno == ELOOP ? "it is a symbolic link; it is left alone" : NULL;
			return -1;
		}
		if (!made && lp_usable_file(fd) != 0) {
			int err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		int r = made ? 1 : lp_check_log(fd);
		struct stat made_st, *made_here = NULL;
		if (r == 1) {
			r = lp_make_log(fd, made, made ? path : NULL, &made_st);
			if (r == 1) {
				/* Another run is making it a log: join it next round. */
				close(fd);
				struct timespec pause = {0, 2000000};
				nanosleep(&pause, NULL);
				continue;
			}
			if (r == 0)
				made_here = &made_st;
		}
		if (r != 0 || lp_start(fd, path, session, proc_flags, made_here) != 0) {
			int err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		return 0;
	}
	lp_why = "the file keeps changing under us";
	errno = EAGAIN;
	return -1;
}

/* Copies the early records into the log as one chunk, renumbering their
 * site indexes into the log's. */
static void lp_flush_early(void)
{
	if (!lp.early_buf)
		return;
	while (__atomic_exchange_n(&lp.early_lock, 1, __ATOMIC_ACQUIRE))
		;
	struct lp_thread *t = &logpack_thread_;
	struct lp_thread *e = &lp.early_t;
	unsigned char *src = lp.early_buf + sizeof(struct lp_chunk), *stop = e->pos ? e->pos : src;
	uint32_t nlocal = lp.early_next_index - LP_FIRST_INDEX;
	uint32_t base = __atomic_fetch_add(&LP_LOAD(&lp.hdr)->next_site_index, nlocal, __ATOMIC_RELAXED);
	uint64_t early_dropped = e->dropped;
	LP_STORE(&lp.early_on, 0);
	lp_sync(t);
	/* Remapped indexes can need 4 more bytes each; records have at least 3. */
	size_t need = (size_t)(stop - src) * 3 + 64;
	struct lp_thread tmp = *t;
	tmp.chunk_size = 0;
	tmp.dropped = early_dropped;
	if (src < stop && lp_claim(&tmp, need)) {
		struct lp_chunk *c = (struct lp_chunk *)tmp.chunk;
		/* Early records keep their own time base. */
		memcpy(&c->base_ts, lp.early_buf + offsetof(struct lp_chunk, base_ts), 8);
		c->mono_ns = lp.early_mono;
		c->check = fnv32(c, offsetof(struct lp_chunk, check));
		/* The process record (stamped with the early base) and a dropped
		 * record (no time) may precede the early records. */
		unsigned char *out = tmp.pos;
		while (src < stop && *src) {
			size_t n;
			const unsigned char *body = lp_record_body(src, &n);
			uint64_t tag, idx;
			const unsigned char *q = get_uv(body, &tag);
			unsigned char *rec = out, *p = out + 1;
			if (tag == LP_TAG_SITE) {
				q = get_uv(q, &idx);
				p = put_uv(p, LP_TAG_SITE);
				p = put_uv(p, idx - LP_FIRST_INDEX + base);
			} else if (tag >= LP_FIRST_INDEX) {
				p = put_uv(p, tag - LP_FIRST_INDEX + base);
			} else {
				p = put_uv(p, tag);
			}
			size_t rest = (size_t)(body + n - q);
			memcpy(p, q, rest);
			out = lp_commit(rec, p + rest);
			src = (unsigned char *)body + n;
		}
	} else if (src < stop) {
		/* No room: the early records are lost, counted as drops (the
		 * drops before them are in dropped_local already, not yet in
		 * the header). */
		uint64_t lost = 0;
		while (src < stop && *src) {
			size_t n;
			const unsigned char *body = lp_record_body(src, &n);
			uint64_t tag;
			get_uv(body, &tag);
			lost += tag >= LP_FIRST_INDEX;
			src = (unsigned char *)body + n;
		}
		__atomic_fetch_add(&lp.dropped_local, lost, __ATOMIC_RELAXED);
		__atomic_fetch_add(&LP_LOAD(&lp.hdr)->dropped, lost + early_dropped, __ATOMIC_RELAXED);
	}
	munmap(lp.early_buf, LP_EARLY_SIZE);
	lp.early_buf = NULL;
	memset(e, 0, sizeof *e);
	lp.early_next_index = 0;
	__atomic_store_n(&lp.early_lock, 0, __ATOMIC_RELEASE);
}

/* ---- public API ---- */

int logpack_open(const char *path, int flags)
{
	(void)flags; /* an existing log is always joined now */
	int err = errno;
	if (LP_LOAD(&lp.hdr))
		logpack_close();
	if (lp_open_path(path, lp_random64(), LP_PROC_SESSION_START) != 0)
		return -1;
	errno = err;
	return 0;
}

int logpack_attach_fd(int fd, int flags)
{
	(void)flags;
	int err = errno;
	if (LP_LOAD(&lp.hdr))
		logpack_close();
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (own < 0)
		return -1;
	char link[32], path[PATH_MAX];
	lp_fd_link(link, own);
	ssize_t n = readlink(link, path, sizeof path - 1);
	path[n > 0 ? n : 0] = 0;
	struct stat st;
	int r = fstat(own, &st);
	if (r == 0 && !S_ISREG(st.st_mode)) {
		errno = EINVAL;
		r = -1;
	}
	if (r == 0 && st.st_size == 0) {
		/* The caller made an empty file for the log; a run that found
		 * it by its name may be making it a log too: then join that. */
		r = lp_make_log(own, 1, NULL, NULL);
		if (r == 1) {
			struct timespec pause = {0, 2000000};
			nanosleep(&pause, NULL);
			int c = lp_check_log(own);
			if (c == 1)
				errno = EAGAIN; /* still being made */
			r = c == 0 ? 0 : -1;
		}
	} else if (r == 0 && lp_check_log(own) != 0) {
		r = -1;
	}
	if (r == 0)
		r = lp_start(own, n > 0 && path[0] == '/' ? path : NULL, lp_random64(), LP_PROC_SESSION_START, NULL);
	if (r != 0) {
		err = errno;
		close(own);
		errno = err;
		return -1;
	}
	errno = err;
	return 0;
}

void logpack_early(void)
{
	int err = errno;
	if (LP_LOAD(&lp.hdr) || lp.early_buf)
		return;
	void *b = mmap(NULL, LP_EARLY_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED) {
		errno = err;
		return;
	}
	LP_STORE(&lp.ts_tsc, lp_clock_tsc());
	LP_STORE(&lp.pair_ticks, UINT64_MAX); /* the chunk header is the early buffer's pair */
	LP_STORE(&lp.gap_ticks, UINT64_MAX);
	lp.early_buf = b;
	uint64_t ts = lp_now();
	lp.early_mono = clock_ns(CLOCK_MONOTONIC);
	memcpy(lp.early_buf + offsetof(struct lp_chunk, base_ts), &ts, 8);
	struct lp_thread *e = &lp.early_t;
	memset(e, 0, sizeof *e);
	e->pos = lp.early_buf + sizeof(struct lp_chunk);
	e->end = e->limit = lp.early_buf + LP_EARLY_SIZE;
	e->last_ts = e->pair_ts = ts;
	lp.early_next_index = LP_FIRST_INDEX;
	uint32_t gen = LP_LOAD(&lp.gen) + 1;
	LP_STORE_REL(&lp.gen, gen ? gen : 1);
	LP_STORE_REL(&lp.wipe, &lp_closed_epoch);
	LP_STORE(&lp.early_on, 1);
	LP_STORE_REL(&logpack_recording, 1);
	errno = err;
}

int logpack_flush(void)
{
	int err = errno;
	struct lp_header *h = LP_LOAD_ACQ(&lp.hdr);
	if (!h)
		return 0;
	uint64_t n = LP_LOAD(&h->tail);
	uint64_t cap = LP_LOAD(&h->capacity);
	if (n > cap)
		n = cap;
	struct lp_maps *M = LP_LOAD_ACQ(&lp.maps);
	for (int i = 0; M && i < LP_LOAD_ACQ(&M->nseg); i++) {
		const struct lp_seg *sg = &M->seg[i];
		if (sg->off < n && msync(sg->base, (n < sg->off + sg->len ? n : sg->off + sg->len) - sg->off, MS_SYNC) != 0)
			return -1;
	}
	errno = err;
	return 0;
}

/* Closes the process's descriptor of the log, if it still is the log's
 * (lp_own_fd). The growth lock held. */
static void lp_close_fd(void)
{
	struct stat st;
	int fd = lp_own_fd(&st);
	LP_STORE(&lp.fd, -1);
	if (fd >= 0)
		close(fd);
}

void logpack_close(void)
{
	int err = errno;
	struct lp_header *h = LP_LOAD_ACQ(&lp.hdr);
	LP_STORE_REL(&logpack_recording, 0);
	if (!h)
		goto out;
	if (LP_LOAD(&lp.created) && (uint32_t)getpid() == h->first_pid)
		__atomic_fetch_or(&h->flags, 1u, __ATOMIC_RELEASE);
	/* The mapping stays: another thread may be inside a log call. Threads
	 * notice the new epoch and let go of their chunks. */
	LP_STORE_REL(&lp.hdr, NULL);
	LP_STORE_REL(&lp.wipe, &lp_closed_epoch);
	uint32_t gen = LP_LOAD(&lp.gen) + 1;
	LP_STORE_REL(&lp.gen, gen ? gen : 1);
	lp_lock_growth();
	lp_close_fd();
	lp_unlock_growth();
out:
	errno = err;
}

int logpack_enabled(void)
{
	return LP_LOAD(&logpack_recording);
}

unsigned long long logpack_dropped(void)
{
	return LP_LOAD(&lp.dropped_local);
}

unsigned long long logpack_to_text(void)
{
	return LP_LOAD(&lp.to_text_local);
}

/* Says once, on stderr, why LOGPACK_FILE could not be used: the user who
 * set it asked for binary logging. The program runs on with text. */
static void lp_notice(const char *path, int err)
{
	char buf[PATH_MAX + 256];
	const char *why = lp_why ? lp_why : strerror(err);
	int n = snprintf(buf, sizeof buf, "logpack: LOGPACK_FILE=%s: %s; binary logging is off\n", path, why);
	if (n > (int)sizeof buf - 1)
		n = (int)sizeof buf - 1;
	ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
	(void)w;
}

static void lp_open_env(const char *pattern)
{
	/* A relative name is the log of the directory the run started in:
	 * passed on made absolute, for a process that changes directory and
	 * execs (%p left for the exec'd program to fill in). */
	char abs[PATH_MAX], path[PATH_MAX];
	if (pattern[0] != '/' && lp_absolute(pattern, abs, sizeof abs) == 0)
		pattern = abs;
	if (lp_expand_path(pattern, path, sizeof path) != 0) {
		lp_why = "the name is too long";
		lp_notice(pattern, ENAMETOOLONG);
		return;
	}
	/* A program exec'd by a logging one joins its session. */
	const char *s = lp_getenv("LOGPACK_SESSION");
	uint64_t session = s ? strtoull(s, NULL, 16) : 0;
	unsigned flags = session ? LP_PROC_EXEC_JOIN : LP_PROC_SESSION_START;
	if (!session)
		session = lp_random64();
	lp_why = NULL;
	if (lp_open_path(path, session, flags) != 0) {
		lp_notice(path, errno);
		return;
	}
	char buf[24];
	lp_utoa(buf, session, 16, 16);
	setenv("LOGPACK_SESSION", buf, 1);
	if (pattern == abs)
		setenv("LOGPACK_FILE", abs, 1);
}

/* Whether this copy of the runtime is in a shared library and holds the
 * process's state: a logpack-built library that a plain program loads
 * (with the executable's copy, or a library loaded before, the state is
 * theirs). The linker's __ehdr_start is this object's ELF header (weak:
 * a link with a script of its own may lack it); AT_PHDR, the
 * executable's program headers. */
extern const ElfW(Ehdr) __ehdr_start __attribute__((weak, visibility("hidden")));

static int lp_library_owns_state(void)
{
	if (&lp_own_state != &logpack_state_ || !&__ehdr_start)
		return 0;
	const char *phdr = (const char *)&__ehdr_start + __ehdr_start.e_phoff;
	return phdr != (const char *)getauxval(AT_PHDR);
}

/* At a normal exit: a last text mark (lines that went into the program's
 * text log after its last record, CRIU's parasite's or a child's, then go
 * after that record when decoded, not before the records logged just
 * before them without a pause), the thread's drops reported, and in the
 * process that created the log the flag that it was closed cleanly.
 *
 * A library that holds the state also runs this when the program unloads
 * it (dlclose): its descriptor of the log goes then, or a plugin loaded
 * and unloaded again and again would keep one per load. At an exit the
 * same is harmless: a thread still logging grows the log through a
 * descriptor of its own (lp_grow_fd). The mappings stay (such a thread may
 * be writing into them). */
__attribute__((destructor)) static void lp_destructor(void)
{
	int err = errno;
	struct lp_thread *t = &logpack_thread_;
	struct lp_header *h = LP_LOAD_ACQ(&lp.hdr);
	if (!h || !LP_LOAD(&logpack_recording) || t->busy)
		goto out;
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (!LP_LOAD(&lp.early_on) && LP_LOAD(&lp.gap_ticks) != UINT64_MAX) {
		lp_sync(t);
		uint64_t ts = lp_now();
		/* Only for the file the marks named: a program that closed its
		 * log (CRIU's log_fini) names stderr now. */
		if (t->pos && t->epoch == LP_EPOCH() && ts >= t->last_ts)
			lp_text_mark(t, ts, 1);
	}
	if (t->chunk_epoch == LP_EPOCH())
		lp_put_dropped(t);
	if (LP_LOAD(&lp.created) && LP_LOAD(&lp.pid) == h->first_pid)
		__atomic_fetch_or(&h->flags, 1u, __ATOMIC_RELEASE);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
out:
	if (LP_LOAD(&lp.fd) >= 0 && lp_library_owns_state() && lp_trylock_growth()) {
		lp_close_fd();
		lp_unlock_growth();
	}
	errno = err;
}

#ifdef __GLIBC__
__attribute__((constructor)) static void lp_constructor(int argc, char **argv)
#else
__attribute__((constructor)) static void lp_constructor(void)
#endif
{
	/* Every copy of this file (executable and shared libraries) runs
	 * this; the shared state makes all but the first a no-op. */
	if (lp.initialized)
		return;
	lp.initialized = 1;
	int err = errno;
	const char *path = lp_getenv("LOGPACK_FILE");
#ifdef __GLIBC__
	(void)argc; /* argv ends with a NULL */
	lp_ctor_argv = argv;
#endif
	if (path && *path)
		lp_open_env(path);
	lp_ctor_argv = NULL;
	errno = err;
}
