/*
 * mix.h - the two benchmark workloads, written once and compiled once per
 * logging method. The including unit defines
 *
 *   LOG(level, fmt, ...)  the log call of its method
 *   WL(name)              the name of a workload function for its method
 *
 * (a) is DESIGN.md's reference message (2 strings, 4 scalars); (b) is a mix
 * shaped like a CRIU dump log at -v4: mostly page-pipe, page-xfer and VMA
 * lines of ints and hex, some file paths and a source location.
 */

void WL(a)(unsigned long n);
void WL(b)(unsigned long n);

void WL(a)(unsigned long n)
{
	static const char *const names[] = { "dump", "restore", "page-server", "lazy-pages" };
	unsigned long i;

	for (i = 0; i < n; i++)
		LOG(4, "Some message %s %s %c %li %d %lu\n", names[i & 3], "pre-dump", (char)('a' + i % 26),
		    (long)i * -7, (int)(i & 0xffff), i * 4096);
}

void WL(b)(unsigned long n)
{
	static const char *const paths[] = {
		"/home/user/app/pyfiles/f17",
		"/usr/lib/x86_64-linux-gnu/liblzma.so.5.4.1",
		"/root/.pyenv/versions/3.11.7/lib/python3.11/lib-dynload/_struct.cpython-311-x86_64-linux-gnu.so",
	};
	unsigned long i;

	for (i = 0; i < n; i++) {
		unsigned long a = 0x7f38e11cc000UL + (i << 12);
		unsigned int k = (unsigned int)i;

		switch (i % 32) {
		case 0: case 1: case 2: case 3: case 4: case 5:
			LOG(4, "page-pipe: \t\t%#lx - %#lx\n", a, a + 0x1000);
			break;
		case 6: case 7: case 8: case 9: case 10: case 11:
			LOG(4, "page-xfer: \tp %#lx [%u]\n", a, k % 256 + 1);
			break;
		case 12: case 13: case 14: case 15: case 16:
			LOG(4, "page-pipe: Add iov to page pipe (%u iovs, %u/%u total)\n", k % 16, k, 55366u);
			break;
		case 17: case 18: case 19:
			LOG(4, "page-pipe: Grow pipe %x -> %x\n", 16u << (k % 4), 32u << (k % 4));
			break;
		case 20: case 21:
			LOG(4, "Pagemap generated: %lu pages (%lu lazy) %lu holes\n", i % 420, 0UL, i % 3);
			break;
		case 22: case 23:
			LOG(4, "pagemap-cache: %d: filling VMA %lx-%lx (%luK) [l:%lx h:%lx]\n", 12899, a, a + 0x6000,
			    24UL, a & ~0x1fffffUL, (a & ~0x1fffffUL) + 0x200000);
			break;
		case 24: case 25:
			LOG(4, "Parsed %lx-%lx vma\n", a, a + 0x3000);
			break;
		case 26:
			LOG(3, "%#lx-%#lx (%luK) prot %#x flags %#x fdflags %#o st %#x off %#lx %s %s %s shmid: %#x\n",
			    a, a + 0x1000, 4UL, 1u, 2u, 0u, 0x41u, (i % 64) << 12, "reg", "fp", "", 1u);
			break;
		case 27:
			LOG(4, "Dumping path for %d fd via self %d [%s]\n", (int)(i % 64), 13, paths[i % 3]);
			break;
		case 28:
			LOG(3, "%d fdinfo %d: pos: %#16lx flags: %16o/%#x\n", 12899, (int)(i % 64), i << 12, 0100000u, 0u);
			break;
		case 29:
			LOG(4, "Sent msg to daemon %d %d %d\n", 66, 0, 0);
			break;
		case 30:
			LOG(4, "PPB: %u pages %u segs %u pipe %u off\n", 256u, k % 16 + 1, 256u, k % 7);
			break;
		default:
			LOG(2, "Warn  (%s:%d): page-xfer: Short write of %lu pages at %#lx\n", "criu/page-xfer.c", 1187, i % 9, a);
			break;
		}
	}
}
