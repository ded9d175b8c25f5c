/*
 * logpack.c - the recording runtime: rewritten log calls store their site
 * index, a timestamp and their raw arguments into a shared file mapping
 * laid out as docs/FORMAT.md describes.
 *
 * Shape of the design:
 * - The log file is mapped MAP_SHARED once, over a large virtual range, so
 *   pointers never move; records are safe in the page cache as soon as they
 *   are stored. Only pages inside the allocated capacity are ever touched
 *   (no SIGBUS), and the file grows by fallocate after checking
 *   RLIMIT_FSIZE (no SIGXFSZ).
 * - Each thread owns a chunk and appends to it without atomics; a new chunk
 *   is claimed with one fetch_add on the shared tail.
 * - A new thread, a fork or raw clone child, or a reopened log is noticed
 *   without a system call: a MADV_WIPEONFORK page holds the process epoch
 *   and every thread compares it with its own copy.
 * - A first write fault on a file page costs microseconds, so pages are
 *   faulted in (MADV_POPULATE_WRITE) a chunk at a time when the chunk is
 *   claimed, never record by record. LOGPACK_PREFAULT=thread moves that
 *   work, and the file's growth, to a background thread (started lazily,
 *   again in each forked child, never in a raw clone child) that keeps the
 *   pages ahead of the tail ready: faster for the logging thread when a
 *   core is idle, but the host then has a thread it did not create
 *   (unshare/setns of a user namespace need a single-threaded caller), and
 *   on a busy machine it costs more than it saves.
 *
 * All state lives in the default-visibility objects logpack_state_ and
 * logpack_thread_, so that an executable and a shared library that both
 * carry this file end up sharing one copy through the dynamic linker.
 */
#define _GNU_SOURCE
#include "logpack.h"
#include "logpack_site.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define LP_HAVE_TSC 1
#else
#define LP_HAVE_TSC 0
#endif

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define LP_LIKELY(x) __builtin_expect(!!(x), 1)
#define LP_UNLIKELY(x) __builtin_expect(!!(x), 0)

enum {
	LP_PAGE = 4096,
	LP_HEADER_SIZE = 4096,
	LP_CHUNK_HDR = 40,
	LP_CHUNK_MIN = 4096,       /* a thread's first chunk: short-lived threads waste little */
	LP_CHUNK_MAX = 64 << 10,   /* doubled per claim up to this */
	LP_SLACK = 3,              /* room to widen a len byte to 255 + u16 */
	LP_MARK_RESERVE = 12,      /* kept at a chunk's end for a dropped record */
	LP_ARG_ROOM = 64,          /* room any scalar or short string argument fits in */
	LP_MAX_BODY = 65535,
	LP_STR_BUDGET = 62000,     /* strings stop here so that the scalars after them still fit */
	LP_EARLY_SIZE = 64 << 10,
	LP_AHEAD = 4 << 20,        /* populated ahead of the tail */
	LP_FIRST_INDEX = 16,
	LP_TAG_SITE = 0, LP_TAG_DROPPED = 1, LP_TAG_CLOCK = 2, LP_TAG_PROCESS = 3,
};

#define LP_INITIAL_CAP ((uint64_t)4 << 20)
#define LP_RETRY_DROPS 1024 /* records dropped between two attempts to get space */

/* docs/FORMAT.md, "File header". */
struct lp_header {
	char magic[8];
	uint16_t version;
	uint16_t header_size;
	uint32_t ts_kind;
	uint64_t session;
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
};
_Static_assert(offsetof(struct lp_header, header_check) == 60, "header layout");
_Static_assert(offsetof(struct lp_header, tail) == 72, "header layout");
_Static_assert(offsetof(struct lp_header, next_site_index) == 96, "header layout");
_Static_assert(offsetof(struct lp_header, exe) == 104, "header layout");
_Static_assert(sizeof(struct logpack_site) == 32, "site layout");

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

struct logpack_state_s {
	unsigned char *map;
	uint64_t map_len;
	struct lp_header *hdr;
	const volatile uint64_t *wipe; /* process epoch; zeroed by the kernel in a child */
	uint64_t *wipe_page;
	uint64_t epoch_counter;
	uint32_t gen;            /* log generation of this process: site->state >> 32 */
	int initialized;         /* the constructor ran (in any copy of this file) */
	int fd;
	dev_t dev;
	ino_t ino;
	int ts_tsc;
	uint64_t pair_ticks;     /* add a clock record after this many ticks */
	uint32_t pid;
	uint64_t build_id;
	uint64_t dropped_local;
	int proc_pending;        /* this process has not written its process record */
	int atfork_seen;         /* set by the atfork child handler: not a raw clone */
	int atfork_registered;
	int prefault_inline;
	int pop_started;
	uint32_t pop_seq;        /* futex word of the populator */
	uint64_t populated;      /* file offset up to which this process has faulted pages in */
	int growing;
	int created;             /* this process created the log */
	char path[PATH_MAX];
	char exe[256];
	/* early buffer */
	int early_on;
	int early_lock;
	unsigned char *early_buf;
	struct lp_thread early_t;
	uint64_t early_mono;
	uint32_t early_next_index;
};

int logpack_recording;
struct logpack_state_s logpack_state_ = {.fd = -1};
__thread struct lp_thread logpack_thread_;

#define lp logpack_state_

/* Never equal to a thread's epoch, so calls go to the slow path while no
 * log is open. */
static const uint64_t lp_closed_epoch = UINT64_MAX;

/* ---- small helpers ---- */

static uint32_t fnv32(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;
	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static uint64_t fnv64_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n--)
		h = (h ^ *b++) * 1099511628211ull;
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
	if (LP_LIKELY(lp.ts_tsc))
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

/* put_uv for the record path, unrolled for the values below 2^28 where
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

static long lp_futex(uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
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
	memmove(rec + 3, rec + 1, n);
	rec[1] = (unsigned char)n;
	rec[2] = (unsigned char)(n >> 8);
	__atomic_store_n(rec, (unsigned char)255, __ATOMIC_RELEASE);
	return p + 2;
}

/* ---- file space ---- */

static int lp_fd_ok(void)
{
	struct stat st;
	if (lp.fd >= 0 && fstat(lp.fd, &st) == 0 && st.st_dev == lp.dev && st.st_ino == lp.ino)
		return 1;
	/* The program closed or reused our descriptor: find the file again by
	 * its path, and only if it is still the same file. */
	if (!lp.path[0])
		return 0;
	int fd = open(lp.path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || st.st_dev != lp.dev || st.st_ino != lp.ino) {
		close(fd);
		return 0;
	}
	lp.fd = fd;
	return 1;
}

/* Makes at least want bytes of the file allocated; returns non-zero when
 * hdr->capacity >= want afterwards. */
static int lp_grow(uint64_t want)
{
	struct lp_header *h = lp.hdr;
	uint64_t cap = __atomic_load_n(&h->capacity, __ATOMIC_ACQUIRE);
	if (want <= cap)
		return 1;
	if (want > lp.map_len)
		return 0;
	/* One grower per process; the others wait for it (a fallocate is
	 * short) and then find the capacity they need. */
	while (__atomic_exchange_n(&lp.growing, 1, __ATOMIC_ACQUIRE))
		sched_yield();
	int ok = 0;
	cap = __atomic_load_n(&h->capacity, __ATOMIC_ACQUIRE);
	if (want <= cap) {
		ok = 1;
		goto out;
	}
	uint64_t step = cap / 4;
	if (step < LP_INITIAL_CAP)
		step = LP_INITIAL_CAP;
	if (step > ((uint64_t)256 << 20))
		step = (uint64_t)256 << 20;
	uint64_t newcap = (want > cap + step ? want : cap + step);
	newcap = (newcap + (1 << 20) - 1) & ~(uint64_t)((1 << 20) - 1);
	if (newcap > lp.map_len)
		newcap = lp.map_len;
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    newcap > (uint64_t)rl.rlim_cur)
		newcap = (uint64_t)rl.rlim_cur & ~(uint64_t)(LP_PAGE - 1);
	want = (want + LP_PAGE - 1) & ~(uint64_t)(LP_PAGE - 1);
	if (newcap < want || !lp_fd_ok())
		goto out;
	for (;;) {
		int r = fallocate(lp.fd, 0, 0, (off_t)newcap);
		if (r != 0 && errno == EOPNOTSUPP) {
			/* No preallocation here (some network filesystems): a sparse
			 * file is the best left. */
			struct stat st;
			r = fstat(lp.fd, &st);
			if (r == 0 && (uint64_t)st.st_size < newcap)
				r = ftruncate(lp.fd, (off_t)newcap);
		}
		if (r == 0)
			break;
		if (newcap == want)
			goto out;
		newcap = want; /* the disk is nearly full: take only what is needed */
	}
	cap = __atomic_load_n(&h->capacity, __ATOMIC_RELAXED);
	while (cap < newcap &&
	       !__atomic_compare_exchange_n(&h->capacity, &cap, newcap, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
	ok = 1;
out:
	__atomic_store_n(&lp.growing, 0, __ATOMIC_RELEASE);
	return ok || __atomic_load_n(&h->capacity, __ATOMIC_ACQUIRE) >= want;
}

/* Faults pages in [from, to) of the file into this process. */
static void lp_populate(uint64_t from, uint64_t to)
{
	from &= ~(uint64_t)(LP_PAGE - 1);
	if (to <= from)
		return;
	if (madvise(lp.map + from, to - from, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
		/* Kernels before 5.14: a locked add of zero faults each page in
		 * without changing what another writer may have stored. */
		for (uint64_t o = from; o < to; o += LP_PAGE)
			__atomic_fetch_add((uint32_t *)(lp.map + o + LP_PAGE - 4), 0, __ATOMIC_RELAXED);
	}
}

/* Readies a chunk just claimed (nobody else writes there) that the
 * prefault thread has not reached. Writing its zeros through the
 * descriptor first costs about half of faulting in preallocated but
 * unwritten pages (ext4), and where the file could only be grown sparse
 * it reserves the blocks, so a full disk fails here and not as a SIGBUS
 * later. Returns 0 when the chunk cannot be used. */
static int lp_prepare_chunk(uint64_t off, uint64_t size)
{
	static const unsigned char zeros[64 << 10];
	struct stat st;
	struct rlimit rl;
	/* Only on our own file (the program may have reused the descriptor)
	 * and never at an offset the size limit forbids (SIGXFSZ). */
	if (lp.fd >= 0 && fstat(lp.fd, &st) == 0 && st.st_dev == lp.dev && st.st_ino == lp.ino &&
	    getrlimit(RLIMIT_FSIZE, &rl) == 0 &&
	    (rl.rlim_cur == RLIM_INFINITY || off + size <= (uint64_t)rl.rlim_cur)) {
		for (uint64_t o = 0; o < size; o += sizeof zeros) {
			size_t n = size - o < sizeof zeros ? (size_t)(size - o) : sizeof zeros;
			if (pwrite(lp.fd, zeros, n, (off_t)(off + o)) != (ssize_t)n)
				return 0;
		}
	}
	lp_populate(off, off + size);
	return 1;
}

static void *lp_populator(void *arg)
{
	uint32_t gen = (uint32_t)(uintptr_t)arg;
	for (;;) {
		uint32_t seq = __atomic_load_n(&lp.pop_seq, __ATOMIC_ACQUIRE);
		struct lp_header *h = __atomic_load_n(&lp.hdr, __ATOMIC_ACQUIRE);
		if (!h || __atomic_load_n(&lp.gen, __ATOMIC_ACQUIRE) != gen)
			return NULL; /* the log was closed or replaced: its successor has its own */
		uint64_t tail = __atomic_load_n(&h->tail, __ATOMIC_RELAXED);
		uint64_t want = tail + LP_AHEAD;
		uint64_t cap = __atomic_load_n(&h->capacity, __ATOMIC_ACQUIRE);
		/* Grow well before the writers need it: by a quarter of the
		 * log when it is within a quarter of its end. */
		uint64_t early = want + cap / 4;
		lp_grow(early < lp.map_len ? early : lp.map_len);
		cap = __atomic_load_n(&h->capacity, __ATOMIC_ACQUIRE);
		if (want > cap)
			want = cap;
		uint64_t from = __atomic_load_n(&lp.populated, __ATOMIC_RELAXED);
		if (from < tail)
			from = tail;
		if (from < want) {
			lp_populate(from, want);
			__atomic_store_n(&lp.populated, want, __ATOMIC_RELEASE);
		}
		lp_futex(&lp.pop_seq, FUTEX_WAIT_PRIVATE, seq);
	}
}

static void lp_start_populator(void)
{
	if (lp.prefault_inline || __atomic_exchange_n(&lp.pop_started, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_attr_t a;
	pthread_t th;
	sigset_t all, old;
	sigfillset(&all);
	/* The thread takes no signals meant for the program. */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 64 << 10);
	if (pthread_create(&th, &a, lp_populator, (void *)(uintptr_t)lp.gen) != 0)
		lp.prefault_inline = 1;
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- chunks ---- */

static void lp_count_drop(struct lp_thread *t)
{
	t->dropped++;
	t->epoch = 0; /* the next call takes the slow path, which reports the drops */
	__atomic_fetch_add(&lp.dropped_local, 1, __ATOMIC_RELAXED);
	if (lp.hdr)
		__atomic_fetch_add(&lp.hdr->dropped, 1, __ATOMIC_RELAXED);
}

static unsigned char *lp_process_record(unsigned char *p, uint64_t ts_delta)
{
	unsigned char *rec = p++;
	p = put_uv(p, LP_TAG_PROCESS);
	p = put_uv(p, ts_delta);
	p = put_uv(p, (uint64_t)getppid());
	p = put_u64(p, lp.build_id);
	size_t n = strlen(lp.exe);
	p = put_uv(p, n);
	memcpy(p, lp.exe, n);
	return lp_commit(rec, p + n);
}

/* Reports t's dropped records, in the chunk's reserve if need be (a full
 * log still says how much it lost). */
static void lp_put_dropped(struct lp_thread *t)
{
	if (!t->dropped || !t->pos || t->limit - t->pos < 12)
		return;
	unsigned char *rec = t->pos, *p = rec + 1;
	p = put_uv(p, LP_TAG_DROPPED);
	p = put_uv(p, t->dropped);
	t->pos = lp_commit(rec, p);
	t->dropped = 0;
	if (t->pos > t->end)
		t->end = t->pos; /* the reserve is used up: the chunk is full */
}

/* Gives t a chunk with room for need bytes of records. Returns 0 (and
 * leaves t without a chunk) when the log has no space. */
static int lp_claim_(struct lp_thread *t, size_t need);

/* Called from inside log calls, so errno survives it. */
static __attribute__((noinline)) int lp_claim(struct lp_thread *t, size_t need)
{
	int err = errno;
	int r = lp_claim_(t, need);
	errno = err;
	return r;
}

static int lp_claim_(struct lp_thread *t, size_t need)
{
	if (t == &lp.early_t || !lp.hdr)
		return 0;
	struct lp_header *h = lp.hdr;
	if (t->retry) {
		t->retry--;
		return 0;
	}
	uint64_t size = t->chunk_size ? t->chunk_size : LP_CHUNK_MIN;
	uint64_t fit = (LP_CHUNK_HDR + need + 64 + 300 + LP_PAGE - 1) & ~(uint64_t)(LP_PAGE - 1);
	if (size < fit)
		size = fit;
	uint64_t tail = __atomic_load_n(&h->tail, __ATOMIC_RELAXED);
	/* Check before claiming, so a full log does not run the tail away. */
	if (tail + size > __atomic_load_n(&h->capacity, __ATOMIC_ACQUIRE) && !lp_grow(tail + size))
		goto full;
	uint64_t off = __atomic_fetch_add(&h->tail, size, __ATOMIC_RELAXED);
	if (off + size > lp.map_len ||
	    (off + size > __atomic_load_n(&h->capacity, __ATOMIC_ACQUIRE) && !lp_grow(off + size)))
		goto full; /* the claimed range stays zero: readers skip it */
	if (off + size > __atomic_load_n(&lp.populated, __ATOMIC_ACQUIRE) && !lp_prepare_chunk(off, size))
		goto full; /* no blocks for it after all: the range stays zero */
	if (!lp.prefault_inline) {
		if (!lp.pop_started)
			lp_start_populator();
		if (off + size + LP_AHEAD / 2 > __atomic_load_n(&lp.populated, __ATOMIC_RELAXED)) {
			__atomic_fetch_add(&lp.pop_seq, 1, __ATOMIC_RELEASE);
			lp_futex(&lp.pop_seq, FUTEX_WAKE_PRIVATE, 1);
		}
	}

	unsigned char *c = lp.map + off;
	uint64_t ts = lp_now();
	uint64_t mono = lp.ts_tsc ? clock_ns(CLOCK_MONOTONIC) : ts;
	uint32_t sz32 = (uint32_t)size;
	memcpy(c + 4, &sz32, 4);
	memcpy(c + 8, &lp.pid, 4);
	memcpy(c + 12, &t->tid, 4);
	memcpy(c + 16, &ts, 8);
	memcpy(c + 24, &mono, 8);
	memcpy(c, "LPCK", 4);
	uint32_t check = fnv32(c, 32);
	memcpy(c + 32, &check, 4);

	t->pos = c + LP_CHUNK_HDR;
	t->end = c + size - LP_MARK_RESERVE;
	t->limit = c + size;
	t->chunk = c;
	t->last_ts = ts;
	t->pair_ts = ts;
	if (size <= LP_CHUNK_MAX / 2 && t->chunk_size < LP_CHUNK_MAX)
		t->chunk_size = t->chunk_size ? t->chunk_size * 2 : LP_CHUNK_MIN * 2;
	if (__atomic_load_n(&lp.proc_pending, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&lp.proc_pending, 0, __ATOMIC_ACQ_REL))
		t->pos = lp_process_record(t->pos, 0);
	lp_put_dropped(t);
	return 1;
full:
	t->retry = LP_RETRY_DROPS;
	return 0;
}

/* ---- processes and threads ---- */

static void lp_atfork_child(void)
{
	lp.atfork_seen = 1;
}

static void lp_read_exe(void)
{
	ssize_t n = readlink("/proc/self/exe", lp.exe, sizeof lp.exe - 1);
	lp.exe[n > 0 ? n : 0] = 0;
}

/* This process is new to the log: the first open, or a fork or raw clone
 * child (its wipe page reads zero). */
static void lp_new_process(void)
{
	lp.pid = (uint32_t)getpid();
	/* A raw clone runs no atfork handlers and leaves the C library's
	 * thread bookkeeping as the parent had it: start no thread there. */
	if (!lp.atfork_seen)
		lp.prefault_inline = 1;
	lp.atfork_seen = 0;
	lp.pop_started = 0;
	lp.populated = 0;
	lp.growing = 0;
	lp.early_lock = 0;
	uint64_t e = ++lp.epoch_counter;
	if (e == UINT64_MAX || e == 0)
		e = lp.epoch_counter = 1;
	*lp.wipe_page = e;
	__atomic_store_n(&lp.proc_pending, 1, __ATOMIC_RELEASE);
}

static void lp_sync(struct lp_thread *t)
{
	if (lp.wipe == lp.wipe_page && *lp.wipe == 0)
		lp_new_process();
	uint64_t e = *lp.wipe;
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
static inline void lp_copy_short(unsigned char *d, const char *s, size_t len)
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

/* A string argument that is not short, NULL, or read with a bound: cut
 * to what one record holds, moving the record to a new chunk if need be
 * (rest: room the arguments after it need). */
static __attribute__((noinline)) unsigned char *
lp_put_str(struct lp_thread *t, unsigned char **recp, unsigned char **argstartp, unsigned char *p,
	   unsigned k, const unsigned char **cp, const unsigned char *classes,
	   const union logpack_arg *args, const char *s, uint32_t idx, int level, size_t rest)
{
	size_t len = 0;
	if (k == LOGPACK_STRMAX) {
		uint64_t b;
		*cp = get_uv(*cp, &b);
		long long bound = (long long)(b >> 1);
		if (b & 1) {
			/* The bound is another argument's value: find its slot. */
			const unsigned char *cc = classes;
			uint64_t cn;
			cc = get_uv(cc, &cn);
			size_t slot = 0;
			for (uint64_t j = 0; j < (b >> 1) && j < cn; j++) {
				unsigned kk = *cc++;
				if (kk == LOGPACK_STRMAX) {
					uint64_t skip;
					cc = get_uv(cc, &skip);
				}
				slot += kk != LOGPACK_ERRNO;
			}
			bound = (int)args[slot].i;
		}
		if (s)
			len = bound < 0 ? strlen(s) : strnlen(s, (size_t)bound);
	} else if (s) {
		len = strlen(s);
	}
	long room = LP_STR_BUDGET - (long)(p - *recp);
	if ((long)len > room)
		len = room > 0 ? (size_t)room : 0;
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
#if defined(__SSE2__) && !defined(__SANITIZE_ADDRESS__)
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
		default: /* f80, strmax, errno (reading it is a call), or a class
			  * this runtime does not know */
			goto out;
		}
	}
out:
	*pp = p;
	return c;
}

/* The general loop over a record's arguments: long and NULL strings,
 * bounded strings (which may move the record to a new chunk: *recp,
 * *argstartp and *tsp follow it), f80. Returns the end of the arguments, or
 * NULL when the record cannot be written. */
static __attribute__((noinline)) unsigned char *
lp_args(struct lp_thread *t, unsigned char **recp, unsigned char **argstartp, uint64_t *tsp,
	const unsigned char *c, uint64_t n, struct logpack_site *site, uint32_t idx, int level,
	const union logpack_arg *args, int err)
{
	unsigned char *rec = *recp, *p = *argstartp;
	const union logpack_arg *a = args;
	for (uint64_t i = 0; i < n; i++) {
		unsigned k = *c++;
		switch (k) {
		LP_SCALAR_CASES
		case LOGPACK_F80:
			memcpy(p, a++->p, 10);
			p += 10;
			break;
		case LOGPACK_ERRNO:
			p = put_uv_fast(p, zigzag(err < 0 ? errno : err));
			break;
		case LOGPACK_STR:
			if (LP_LIKELY(a->p != NULL)) {
				size_t len = strlen(a->p);
				if (LP_LIKELY(len < LP_ARG_ROOM - 1)) {
					*p++ = (unsigned char)(len + 1);
					lp_copy_short(p, a++->p, len);
					p += len;
					break;
				}
			}
			/* fall through */
		case LOGPACK_STRMAX: {
			unsigned char *was = rec;
			p = lp_put_str(t, &rec, argstartp, p, k, &c, site->classes, args, a++->p, idx, level,
				       (size_t)(n - i - 1) * LP_ARG_ROOM);
			if (!p)
				return NULL;
			if (rec != was)
				*tsp = t->last_ts;
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

static inline __attribute__((always_inline)) int lp_encode(struct lp_thread *t, uint32_t idx,
							    struct logpack_site *site, int level,
							    const union logpack_arg *args, int err,
							    uint64_t ts)
{
	unsigned char *rec = t->pos, *end = t->end;
	uint64_t last = t->last_ts;
	if (LP_UNLIKELY(ts < last))
		ts = last;
	if (LP_UNLIKELY(ts - t->pair_ts > lp.pair_ticks) && end - rec > 32) {
		/* A calibration pair keeps the TSC-to-ns fit accurate over
		 * long runs. */
		unsigned char *p = put_uv(rec + 1, LP_TAG_CLOCK);
		p = put_uv(p, ts - last);
		p = put_u64(p, lp.ts_tsc ? clock_ns(CLOCK_MONOTONIC) : ts);
		rec = lp_commit(rec, p);
		t->last_ts = t->pair_ts = last = ts;
		t->pos = rec;
	}
	const unsigned char *c = site->classes;
	uint64_t n = *c++;
	if (LP_UNLIKELY(n & 0x80))
		c = get_uv(c - 1, &n);
	/* Room for the header and LP_ARG_ROOM per argument, checked once:
	 * scalars and short strings need no check of their own. */
	size_t worst = 16 + LP_SLACK + (size_t)n * LP_ARG_ROOM;
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
	unsigned char *q = lp_args(t, &rec, &p, &ts, c, n, site, idx, level, args, err);
	if (!q)
		return 0;
	t->pos = lp_commit(rec, q);
	t->last_ts = ts;
	return 1;
}

/* The site's descriptor goes into the log the first time this process uses
 * the site in this log. */
static int lp_describe(struct lp_thread *t, struct logpack_site *site, uint32_t *idx)
{
	size_t n = site->desc_len;
	if (n > LP_MAX_BODY - 16)
		return 0;
	uint32_t i = t == &lp.early_t ? lp.early_next_index++
				      : __atomic_fetch_add(&lp.hdr->next_site_index, 1, __ATOMIC_RELAXED);
	if (!t->pos || (size_t)(t->end - t->pos) < n + 16 + LP_SLACK)
		if (!lp_claim(t, n + 16))
			return 0;
	unsigned char *rec = t->pos;
	unsigned char *p = put_uv(rec + 1, LP_TAG_SITE);
	p = put_uv(p, i);
	memcpy(p, site->desc, n);
	t->pos = lp_commit(rec, p + n);
	__atomic_store_n(&site->state, ((uint64_t)lp.gen << 32) | i, __ATOMIC_RELEASE);
	*idx = i;
	return 1;
}

static void lp_slow_locked(struct lp_thread *t, struct logpack_site *site, int level,
			   const union logpack_arg *args, int err)
{
	lp_put_dropped(t);
	if (!t->pos && !lp_claim(t, 64)) {
		lp_count_drop(t);
		return;
	}
	uint64_t st = __atomic_load_n(&site->state, __ATOMIC_ACQUIRE);
	uint32_t idx = (uint32_t)st;
	if ((uint32_t)(st >> 32) != lp.gen && !lp_describe(t, site, &idx)) {
		lp_count_drop(t);
		return;
	}
	if (!lp_encode(t, idx, site, level, args, err, lp_now()))
		lp_count_drop(t);
}

static __attribute__((noinline)) void lp_slow(struct logpack_site *site, int level,
					      const union logpack_arg *args)
{
	int err = errno;
	struct lp_thread *t = &logpack_thread_;
	if (!logpack_recording)
		goto out;
	if (t->busy) {
		/* A signal handler interrupted a log call of this thread. */
		lp_count_drop(t);
		t->epoch = 0;
		goto out;
	}
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	int done = 0;
	if (lp.early_on) {
		while (__atomic_exchange_n(&lp.early_lock, 1, __ATOMIC_ACQUIRE))
			;
		if (lp.early_on) {
			lp_slow_locked(&lp.early_t, site, level, args, err);
			done = 1;
		}
		__atomic_store_n(&lp.early_lock, 0, __ATOMIC_RELEASE);
	}
	if (!done && lp.hdr) {
		lp_sync(t);
		lp_slow_locked(t, site, level, args, err);
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
out:
	errno = err;
}

/* The common call, without a call of its own (so without saving
 * registers): the site is described, the thread's chunk has room for the
 * worst case of every argument, and every argument is a scalar or a short
 * string. Returns 0, with nothing published and errno untouched, for
 * lp_emit_general to do the rest. */
static inline __attribute__((always_inline)) int lp_try(struct logpack_site *site, int level,
							 const union logpack_arg *args, uint64_t ts)
{
	struct lp_thread *t = &logpack_thread_;
	uint64_t st = site->state;
	const unsigned char *c = site->classes;
	unsigned n = *c++;
	if (LP_UNLIKELY(t->epoch != *lp.wipe || (uint32_t)(st >> 32) != lp.gen || t->busy))
		return 0;
	t->busy = 1;
	/* The chunk is read only now: a signal handler's call before this
	 * point may have moved it on. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	unsigned char *rec = t->pos, *p = NULL;
	uint64_t last = t->last_ts;
	/* A clock going back (another CPU's TSC), a calibration pair due, a
	 * class count of 128 or more, or a chunk without room: the general
	 * path. */
	if (LP_LIKELY(ts >= last && ts - t->pair_ts <= lp.pair_ticks && n < 0x80 &&
		      t->end - rec >= (ptrdiff_t)(16 + LP_SLACK + n * LP_ARG_ROOM))) {
		p = put_uv_fast(rec + 1, (uint32_t)st);
		p = put_uv_fast(p, ts - last);
		if (level >= 0 && site->level == 255)
			*p++ = (unsigned char)level;
		if (LP_LIKELY(lp_fast_args(&p, c, c + n, args) == c + n)) {
			t->pos = lp_commit(rec, p);
			t->last_ts = ts;
		} else {
			/* What follows the last record must read as zero: a
			 * signal handler may log before lp_emit_general
			 * writes this record again. */
			for (unsigned char *z = rec + 1; z < p; z += 8) {
				/* Not a memset call: a call here would make the
				 * whole fast path save registers. The chunk has
				 * room, and the bytes past p are zero already. */
				__asm__("" : "+r"(z));
				memset(z, 0, 8);
			}
			p = NULL;
		}
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
	return p != NULL;
}

/* Every other call: ts is the call's timestamp, or 0 when it was not read
 * yet. */
static __attribute__((noinline)) void lp_emit_general(struct logpack_site *site, int level,
						      const union logpack_arg *args, uint64_t ts)
{
	struct lp_thread *t = &logpack_thread_;
	uint64_t st = site->state;
	if (LP_UNLIKELY(t->epoch != *lp.wipe || (uint32_t)(st >> 32) != lp.gen || t->busy)) {
		lp_slow(site, level, args);
		return;
	}
	if (!ts)
		ts = lp_now();
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (LP_UNLIKELY(!lp_encode(t, (uint32_t)st, site, level, args, -1, ts))) {
		int err = errno;
		lp_count_drop(t);
		errno = err;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
}

static inline __attribute__((always_inline)) void lp_emit(struct logpack_site *site, int level,
							   const union logpack_arg *args)
{
#if LP_HAVE_TSC
	if (LP_LIKELY(lp.ts_tsc)) {
		/* The timestamp first: the checks do not depend on it. */
		uint64_t ts = __rdtsc();
		if (LP_LIKELY(lp_try(site, level, args, ts)))
			return;
		lp_emit_general(site, level, args, ts);
		return;
	}
#endif
	lp_emit_general(site, level, args, 0);
}

void logpack_emit(struct logpack_site *site, const union logpack_arg *args)
{
	lp_emit(site, -1, args);
}

void logpack_emit_level(struct logpack_site *site, int level, const union logpack_arg *args)
{
	lp_emit(site, level & 0xff, args);
}

/* ---- opening ---- */

extern struct logpack_site __start_logpack_sites[] __attribute__((weak));
extern struct logpack_site __stop_logpack_sites[] __attribute__((weak));

static uint64_t lp_compute_build_id(void)
{
	uint64_t h = 14695981039346656037ull;
	int any = 0;
	if (!__start_logpack_sites || !__stop_logpack_sites)
		return 0;
	for (struct logpack_site *s = __start_logpack_sites; s < __stop_logpack_sites; s++) {
		if (s->desc && s->desc_len >= 9) {
			h = fnv64_add(h, s->desc + 1, 8);
			any = 1;
		}
	}
	return any ? h : 0;
}

static int lp_tsc_usable(void)
{
#if LP_HAVE_TSC
	const char *e = getenv("LOGPACK_CLOCK");
	if (e && strcmp(e, "ns") == 0)
		return 0;
	int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* The flags line of the first CPU is within the first few KiB. */
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *flags = strstr(buf, "\nflags");
	if (!flags)
		return 0;
	char *eol = strchr(flags + 1, '\n');
	if (eol)
		*eol = 0;
	return strstr(flags, " constant_tsc") && strstr(flags, " nonstop_tsc");
#else
	return 0;
#endif
}

static uint64_t lp_random64(void)
{
	uint64_t v = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &v, sizeof v) != (ssize_t)sizeof v)
			v = 0;
		close(fd);
	}
	v ^= clock_ns(CLOCK_REALTIME) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 32;
	return v ? v : 1;
}

static uint64_t lp_env_session(void)
{
	const char *s = getenv("LOGPACK_SESSION");
	return s ? strtoull(s, NULL, 16) : 0;
}

static int lp_header_valid(const struct lp_header *h)
{
	return memcmp(h->magic, "LOGPACK\n", 8) == 0 && h->version == 1 &&
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
			return -1;
		}
		lp.wipe_page = w;
	}
	if (!lp.atfork_registered) {
		pthread_atfork(NULL, NULL, lp_atfork_child);
		lp.atfork_registered = 1;
	}
	const char *pf = getenv("LOGPACK_PREFAULT");
	lp.prefault_inline = !(pf && strcmp(pf, "thread") == 0);
	lp.ts_tsc = lp_tsc_usable();
	if (!lp.exe[0])
		lp_read_exe();
	if (!lp.build_id)
		lp.build_id = lp_compute_build_id();
	return 0;
}

static void *lp_map_file(int fd, uint64_t *len)
{
	/* A large range mapped once: pointers into it stay valid as the file
	 * grows. Only pages below the allocated capacity are touched. */
	for (uint64_t l = (uint64_t)64 << 30; l >= ((uint64_t)16 << 20); l >>= 2) {
		void *m = mmap(NULL, l, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
		if (m != MAP_FAILED) {
			*len = l;
			return m;
		}
	}
	return NULL;
}

static void lp_flush_early(void);

static int lp_start(int fd, int flags, const char *path, int from_env)
{
	struct stat st;
	struct lp_header old;
	if (fstat(fd, &st) != 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if (lp_setup_process() != 0)
		return -1;
	int join = 0;
	if (pread(fd, &old, sizeof old, 0) == (ssize_t)sizeof old && lp_header_valid(&old)) {
		uint64_t want = lp_env_session();
		join = (flags & LOGPACK_APPEND) || (want && want == old.session);
	}
	if (!join) {
		if (ftruncate(fd, 0) != 0)
			return -1;
	}
	uint64_t map_len;
	unsigned char *m = lp_map_file(fd, &map_len);
	if (!m)
		return -1;
	const char *mx = getenv("LOGPACK_MAX_BYTES");
	if (mx) {
		/* A cap on the log's size, for hosts with little disk. */
		uint64_t v = strtoull(mx, NULL, 0) & ~(uint64_t)(LP_PAGE - 1);
		if (v >= LP_HEADER_SIZE + 2 * LP_CHUNK_MAX && v < map_len)
			map_len = v;
	}
	/* From here on the fields the growth path needs are set. */
	lp.map = m;
	lp.map_len = map_len;
	lp.fd = fd;
	lp.dev = st.st_dev;
	lp.ino = st.st_ino;
	lp.path[0] = 0;
	if (path) {
		if (path[0] != '/' && getcwd(lp.path, sizeof lp.path - 2)) {
			size_t n = strlen(lp.path);
			if (n + 1 + strlen(path) < sizeof lp.path) {
				lp.path[n] = '/';
				strcpy(lp.path + n + 1, path);
			} else {
				lp.path[0] = 0;
			}
		} else if (strlen(path) < sizeof lp.path) {
			strcpy(lp.path, path);
		}
	}
	struct lp_header *h = (struct lp_header *)m;
	if (!join) {
		struct lp_header tmp = {.capacity = LP_HEADER_SIZE};
		lp.hdr = &tmp; /* lp_grow reads capacity from here until the header exists */
		int ok = lp_grow(LP_INITIAL_CAP);
		if (!ok)
			ok = lp_grow(LP_HEADER_SIZE + LP_CHUNK_MAX);
		lp.hdr = NULL;
		if (!ok) {
			munmap(m, map_len);
			lp.map = NULL;
			errno = ENOSPC;
			return -1;
		}
		memset(h, 0, LP_HEADER_SIZE);
		h->version = 1;
		h->header_size = LP_HEADER_SIZE;
		h->ts_kind = (uint32_t)lp.ts_tsc;
		h->session = lp_random64();
		h->start_realtime_ns = clock_ns(CLOCK_REALTIME);
		h->start_mono_ns = clock_ns(CLOCK_MONOTONIC);
		h->start_ts = lp.ts_tsc ? lp_now() : h->start_mono_ns;
		h->tsc_hz = 0;
		h->first_pid = (uint32_t)getpid();
		h->build_id = lp.build_id;
		h->tail = LP_HEADER_SIZE;
		h->capacity = tmp.capacity;
		h->next_site_index = LP_FIRST_INDEX;
		memcpy(h->exe, lp.exe, sizeof h->exe - 1);
		memcpy(h->magic, "LOGPACK\n", 8);
		h->header_check = fnv32(h, 60);
		lp.created = 1;
		if (from_env) {
			char buf[24];
			snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h->session);
			setenv("LOGPACK_SESSION", buf, 1);
		}
	} else {
		if (h->capacity > (uint64_t)st.st_size) {
			/* Someone shrank the file under the log: writing would
			 * fault. Stay off rather than risk SIGBUS. */
			munmap(m, map_len);
			lp.map = NULL;
			errno = EINVAL;
			return -1;
		}
		lp.created = 0;
		if (h->ts_kind != (uint32_t)lp.ts_tsc) {
			/* Write in the log's own units. */
			lp.ts_tsc = h->ts_kind == 1 && LP_HAVE_TSC;
		}
	}
	lp.pair_ticks = lp.ts_tsc ? ((uint64_t)1 << 31) : 1000000000u;
	lp.populated = 0;
	lp.gen++;
	if (lp.gen == 0)
		lp.gen = 1;
	__atomic_store_n(&lp.hdr, h, __ATOMIC_RELEASE);
	lp.wipe = lp.wipe_page;
	lp.atfork_seen = 1;
	lp_new_process();
	lp_flush_early();
	__atomic_store_n(&logpack_recording, 1, __ATOMIC_RELEASE);
	return 0;
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
	unsigned char *src = lp.early_buf + LP_CHUNK_HDR, *stop = e->pos ? e->pos : src;
	uint32_t nlocal = lp.early_next_index - LP_FIRST_INDEX;
	uint32_t base = __atomic_fetch_add(&lp.hdr->next_site_index, nlocal, __ATOMIC_RELAXED);
	uint64_t early_dropped = e->dropped;
	lp.early_on = 0;
	lp_sync(t);
	/* Remapped indexes can need 4 more bytes each; records have at least 3. */
	size_t need = (size_t)(stop - src) * 3 + 64;
	struct lp_thread tmp = *t;
	tmp.chunk_size = 0;
	tmp.dropped = early_dropped;
	if (src < stop && lp_claim(&tmp, need)) {
		unsigned char *c = tmp.chunk;
		/* Early records keep their own time base. */
		uint64_t base_ts;
		memcpy(&base_ts, lp.early_buf + 16, 8);
		memcpy(c + 16, &base_ts, 8);
		memcpy(c + 24, &lp.early_mono, 8);
		uint32_t check = fnv32(c, 32);
		memcpy(c + 32, &check, 4);
		/* The process record (stamped with the early base) and a dropped
		 * record (no time) may precede the early records. */
		unsigned char *out = tmp.pos;
		while (src < stop && *src) {
			size_t n = *src;
			const unsigned char *body = src + 1;
			if (n == 255) {
				n = (size_t)src[1] | (size_t)src[2] << 8;
				body = src + 3;
			}
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
		(void)out;
	} else if (src < stop) {
		lp.dropped_local += early_dropped;
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
	int err = errno;
	if (lp.hdr)
		logpack_close();
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (lp_start(fd, flags, path, 0) != 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	errno = err;
	return 0;
}

int logpack_attach_fd(int fd, int flags)
{
	int err = errno;
	if (lp.hdr)
		logpack_close();
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (own < 0)
		return -1;
	char link[64], path[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", own);
	ssize_t n = readlink(link, path, sizeof path - 1);
	path[n > 0 ? n : 0] = 0;
	if (lp_start(own, flags, n > 0 && path[0] == '/' ? path : NULL, 0) != 0) {
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
	if (lp.hdr || lp.early_buf)
		return;
	void *b = mmap(NULL, LP_EARLY_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED) {
		errno = err;
		return;
	}
	lp.ts_tsc = lp_tsc_usable();
	lp.pair_ticks = UINT64_MAX; /* the chunk header is the early buffer's pair */
	lp.early_buf = b;
	uint64_t ts = lp_now();
	lp.early_mono = clock_ns(CLOCK_MONOTONIC);
	memcpy(lp.early_buf + 16, &ts, 8);
	struct lp_thread *e = &lp.early_t;
	memset(e, 0, sizeof *e);
	e->pos = lp.early_buf + LP_CHUNK_HDR;
	e->end = e->limit = lp.early_buf + LP_EARLY_SIZE;
	e->last_ts = e->pair_ts = ts;
	lp.early_next_index = LP_FIRST_INDEX;
	if (++lp.gen == 0)
		lp.gen = 1;
	lp.wipe = &lp_closed_epoch;
	lp.early_on = 1;
	__atomic_store_n(&logpack_recording, 1, __ATOMIC_RELEASE);
	errno = err;
}

int logpack_flush(void)
{
	int err = errno;
	struct lp_header *h = lp.hdr;
	if (!h)
		return 0;
	uint64_t n = __atomic_load_n(&h->tail, __ATOMIC_RELAXED);
	uint64_t cap = __atomic_load_n(&h->capacity, __ATOMIC_RELAXED);
	if (n > cap)
		n = cap;
	if (msync(lp.map, n, MS_SYNC) != 0)
		return -1;
	errno = err;
	return 0;
}

void logpack_close(void)
{
	int err = errno;
	struct lp_header *h = lp.hdr;
	__atomic_store_n(&logpack_recording, 0, __ATOMIC_RELEASE);
	if (!h)
		goto out;
	if (lp.created && (uint32_t)getpid() == h->first_pid)
		__atomic_fetch_or(&h->flags, 1u, __ATOMIC_RELEASE);
	/* The mapping stays: another thread may be inside a log call. Threads
	 * notice the new epoch and let go of their chunks. */
	__atomic_store_n(&lp.hdr, NULL, __ATOMIC_RELEASE);
	lp.wipe = &lp_closed_epoch;
	if (++lp.gen == 0)
		lp.gen = 1;
	__atomic_fetch_add(&lp.pop_seq, 1, __ATOMIC_RELEASE);
	lp_futex(&lp.pop_seq, FUTEX_WAKE_PRIVATE, 1);
	if (lp.fd >= 0 && lp_fd_ok())
		close(lp.fd);
	lp.fd = -1;
out:
	errno = err;
}

int logpack_enabled(void)
{
	return __atomic_load_n(&logpack_recording, __ATOMIC_RELAXED);
}

unsigned long long logpack_dropped(void)
{
	return __atomic_load_n(&lp.dropped_local, __ATOMIC_RELAXED);
}

static void lp_open_env(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (lp_start(fd, 0, path, 1) != 0)
		close(fd);
}

__attribute__((destructor)) static void lp_destructor(void)
{
	int err = errno;
	struct lp_thread *t = &logpack_thread_;
	struct lp_header *h = lp.hdr;
	if (!h || !logpack_recording || t->busy)
		goto out;
	if (t->chunk_epoch == *lp.wipe)
		lp_put_dropped(t);
	if (lp.created && lp.pid == h->first_pid)
		__atomic_fetch_or(&h->flags, 1u, __ATOMIC_RELEASE);
out:
	errno = err;
}

__attribute__((constructor)) static void lp_constructor(void)
{
	/* Every copy of this file (executable and shared libraries) runs
	 * this; the shared state makes all but the first a no-op. */
	if (lp.initialized)
		return;
	lp.initialized = 1;
	int err = errno;
	const char *path = getenv("LOGPACK_FILE");
	if (path && *path)
		lp_open_env(path);
	errno = err;
}
