/* bench_site.h - the site table entry of emitbench.c's log call, as
 * the rewriter emits it (TestBenchSiteHeader keeps it so). */
#include "logpack_site.h"
#define logpack_site_bench logpack_site_bench_0
extern struct logpack_site logpack_site_bench_0 __attribute__((visibility("hidden")));
__asm__("\011.pushsection logpack_sites,\"aw\",@progbits\n\011.balign 8\n\011.globl logpack_site_bench_0\n\011.hidden logpack_site_bench_0\n\011.type logpack_site_bench_0,@object\nlogpack_site_bench_0:\n\011.quad 0\n\011.long .Llogpack_bench_s0-logpack_site_bench_0, .Llogpack_bench_s1-logpack_site_bench_0, .Llogpack_bench_s2-logpack_site_bench_0, 1\n\011.byte 3, 0, 255, 6\n\011.byte 7\n\011.byte 7\n\011.byte 1\n\011.byte 3\n\011.byte 1\n\011.byte 4\n\011.size logpack_site_bench_0, .-logpack_site_bench_0\n\011.popsection\n\011.pushsection .rodata.str1.8,\"aMS\",@progbits,1\n\011.balign 8\n.Llogpack_bench_s0:\n\011.string \"Some message %s %s %c %li %d %lu\\012\"\n\011.popsection\n\011.pushsection .rodata.str1.1,\"aMS\",@progbits,1\n.Llogpack_bench_s1:\n\011.string \"bench/emitbench.c\"\n\011.popsection\n\011.pushsection .rodata.str1.1,\"aMS\",@progbits,1\n.Llogpack_bench_s2:\n\011.string \"run_logpack\"\n\011.popsection\n");
extern int logpack_enc_sszzzu(struct logpack_site *, const char *, const char *, long long, long long, long long, unsigned long long);
