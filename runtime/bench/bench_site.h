/* bench_site.h - the site struct of emitbench.c's log call, as
 * runtime.SiteDefinition emits it (TestBenchSiteHeader keeps it so). */
#include "logpack_site.h"
static const unsigned char logpack_site_bench_desc[83] = "\001\323J\237O\205\364\326~\003\021bench/emitbench.c\001\013run_logpack!Some message %s %s %c %li %d %lu\012\006\007\007\001\003\001\004";
static struct logpack_site logpack_site_bench __attribute__((used, section("logpack_sites"))) = { 0, logpack_site_bench_desc, logpack_site_bench_desc + 75, 82, 3, {0, 0, 0} };
