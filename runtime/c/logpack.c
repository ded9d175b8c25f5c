/* logpack runtime: placeholder until the recording runtime lands. */
#include "logpack.h"
#include "logpack_site.h"

int logpack_recording;

void logpack_emit(struct logpack_site *site, const union logpack_arg *args)
{
	(void)site;
	(void)args;
}

void logpack_emit_level(struct logpack_site *site, int level, const union logpack_arg *args)
{
	(void)site;
	(void)level;
	(void)args;
}
