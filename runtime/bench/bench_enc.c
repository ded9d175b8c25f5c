/* bench_enc.c - the runtime with the encoder emitbench.c's call needs, as
 * logpack cc builds it (TestBenchSiteHeader keeps it so). */
#include "logpack.c"
/* logpack per-signature encoders, generated for the signatures a program uses. */

int logpack_enc_sszzzu(struct logpack_site *site, const char * a0, const char * a1, long long a2, long long a3, long long a4, unsigned long long a5)
{
	LP_ENC_BEGIN(site, -1, 6);
	LP_ENC_STR(a0);
	LP_ENC_STR(a1);
	LP_ENC_Z(a2);
	LP_ENC_Z(a3);
	LP_ENC_Z(a4);
	LP_ENC_U(a5);
	LP_ENC_END();
	LP_ENC_GENERAL(site, -1, 6, lp_a[0].p = a0; lp_a[1].p = a1; lp_a[2].i = a2; lp_a[3].i = a3; lp_a[4].i = a4; lp_a[5].u = a5);
}
