/* exitmark: records, then a line into the text log (stderr) after the
 * last record, then a normal exit. Usage: exitmark */
#include "testlog.h"
#include <unistd.h>

int main(void)
{
	LOG_SEQ(0, 1, 0, 0);
	usleep(2000); /* a pause: the next record marks the text log */
	fputs("text between\n", stderr);
	LOG_SEQ(0, 2, 0, 0);
	LOG_SEQ(0, 3, 0, 0);
	fputs("text after the last record\n", stderr);
	return 0;
}
