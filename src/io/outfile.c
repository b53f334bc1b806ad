#include "weft/outfile.h"

#include <string.h>
#include <sys/stat.h>

int outfile_check(const char *output, const char *const *inputs, size_t ninputs, int replace,
		  struct errbuf *err)
{
	struct stat out, in;
	size_t k;

	/* Not there (or not reachable: the write itself then says why). */
	if (stat(output, &out) < 0)
		return 0;
	for (k = 0; k < ninputs; k++) {
		if (!inputs[k] || stat(inputs[k], &in) < 0)
			continue;
		if (in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
			if (!strcmp(inputs[k], output))
				errbuf_set(err,
					   "%s is an input of this command: writing it "
					   "would destroy what is read; choose another output",
					   output);
			else
				errbuf_set(err,
					   "%s is the same file as the input %s: writing "
					   "it would destroy what is read; choose another output",
					   output, inputs[k]);
			return OUTFILE_IS_INPUT;
		}
	}
	if (!replace) {
		errbuf_set(err, "%s exists (use --force to replace it)", output);
		return OUTFILE_EXISTS;
	}
	return 0;
}
