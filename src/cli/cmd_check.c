#include <stdio.h>

#include "weft/cli.h"

int cmd_check(int argc, char **argv)
{
	(void)argv;
	if (argc != 2) {
		fputs("usage: weft check FILE\n", stderr);
		return 2;
	}
	fputs("weft check: session files are not readable yet\n", stderr);
	return 1;
}
