#include "weft/errbuf.h"

#include <stdio.h>
#include <string.h>

int errbuf_vset(struct errbuf *err, const char *fmt, va_list ap)
{
	if (err)
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int errbuf_set(struct errbuf *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vset(err, fmt, ap);
	va_end(ap);
	return -1;
}

int errbuf_prefix(struct errbuf *err, const char *fmt, ...)
{
	char prefix[ERRBUF_SIZE];
	size_t plen, mlen;
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	memcpy(prefix + plen, ": ", 3);
	plen += 2;
	mlen = strnlen(err->msg, sizeof(err->msg) - 1);
	if (plen + mlen >= sizeof(err->msg))
		mlen = sizeof(err->msg) - 1 - plen;
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + mlen] = '\0';
	return -1;
}

void errbuf_clear(struct errbuf *err)
{
	if (err)
		err->msg[0] = '\0';
}
