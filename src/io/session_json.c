/*
 * The loader's JSON reader (session_load.h): one array element at a time
 * into a reusable struct jdoc.
 *
 * Two readers give the same jdoc.  The quick one below reads the plain
 * JSON a session file holds (RFC 8259 with its four whitespace bytes,
 * numbers of up to 40 characters, valid escapes, at most FAST_DEPTH deep)
 * in one pass, without an allocation per value.  Whenever it meets anything
 * else (a syntax error, a \u0000 or another escape cJSON reads its own way,
 * whitespace only cJSON takes, very long numbers, deep nesting) it stops
 * and the element is read again by cJSON, whose tree is copied into the
 * jdoc: so the loader accepts and rejects exactly what cJSON does, with
 * cJSON's error offsets, and the quick reader is only ever a shortcut.
 */
#include "weft/session.h"

#include <cjson/cJSON.h>
#include <float.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/xalloc.h"

#include "session_load.h"

#define FAST_DEPTH 32
/* Longest number the quick reader takes; cJSON reads longer ones. */
#define FAST_NUMBER 40

void jdoc_init(struct jdoc *d)
{
	memset(d, 0, sizeof(*d));
	strbuf_init(&d->s);
}

static void jdoc_reset(struct jdoc *d)
{
	d->n = 0;
	strbuf_reset(&d->s);
	cJSON_Delete(d->owned);
	d->owned = NULL;
}

void jdoc_release(struct jdoc *d)
{
	jdoc_reset(d);
	free(d->v);
	strbuf_release(&d->s);
	memset(d, 0, sizeof(*d));
}

uint32_t jdoc_member(const struct jdoc *d, uint32_t o, const char *key)
{
	uint32_t c;

	size_t n = strlen(key);

	for (c = d->v[o].child; c; c = d->v[c].next)
		if (jv_key_is(d, c, key, n))
			return c;
	return 0;
}

/* A new value under parent (0 and no parent for the root), after last. */
static uint32_t add_value(struct jdoc *d, int type, size_t key, size_t klen, uint32_t parent,
			  uint32_t *last)
{
	struct jval *v;
	uint32_t i;

	if (d->dry)
		return 0; /* jdoc_skip: nothing kept, value 0 is scribbled on */
	XGROW(d->v, d->cap, d->n + 1);
	i = (uint32_t)d->n++;
	v = &d->v[i];
	memset(v, 0, sizeof(*v));
	v->type = (uint8_t)type;
	v->key = key;
	v->klen = klen;
	if (i) {
		if (*last)
			d->v[*last].next = i;
		else
			d->v[parent].child = i;
		*last = i;
		d->v[parent].count++;
	}
	return i;
}

/* ---- the quick reader --------------------------------------------------- */

/* strbuf_add and strbuf_addch for the jdoc's uncapped buffer, inline: the
 * quick reader adds every string's bytes through them. */
static inline void put_bytes(struct strbuf *sb, const char *p, size_t n)
{
	if (!sb) /* checking syntax only (jdoc_skip) */
		return;
	if (sb->len + n + 1 > sb->cap)
		strbuf_grow(sb, n);
	memcpy(sb->data + sb->len, p, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

static inline void put_byte(struct strbuf *sb, char c)
{
	put_bytes(sb, &c, 1);
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

/* The first '"' or '\\' in [p, end), or end. */
static const char *find_quote(const char *p, const char *end)
{
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');

	/* sixteen bytes at a time */
	while (end - p >= 16) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)p);
		int hit = _mm_movemask_epi8(
		    _mm_or_si128(_mm_cmpeq_epi8(w, quote), _mm_cmpeq_epi8(w, backslash)));

		if (hit)
			return p + __builtin_ctz((unsigned)hit);
		p += 16;
	}
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

	/* eight bytes at a time: a byte equal to c makes w ^ c's byte zero,
	 * and the lowest byte flagged below is the first zero byte */
	while (end - p >= 8) {
		uint64_t w, q, b, hit;

		memcpy(&w, p, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		hit = ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs);
		if (hit)
			return p + (__builtin_ctzll(hit) >> 3);
		p += 8;
	}
#endif
	while (p < end && *p != '"' && *p != '\\')
		p++;
	return p;
}

/* Four hex digits, or -1 (cJSON would read a bad digit as a 0). */
static long hex4(const char *p)
{
	long v = 0;
	int k;

	for (k = 0; k < 4; k++) {
		char c = p[k];

		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (c - 'A' + 10);
		else
			return -1;
	}
	return v;
}

static void add_utf8(struct strbuf *sb, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	put_bytes(sb, b, n);
}

/* A \u escape at p (p[1] == 'u'), added to sb; the end of the escape, or
 * NULL for one the quick reader leaves to cJSON. */
static const char *unicode_escape(const char *p, const char *end, struct strbuf *sb)
{
	long hi, lo;

	if (end - p < 6 || (hi = hex4(p + 2)) <= 0 || (hi >= 0xdc00 && hi <= 0xdfff))
		return NULL; /* cut, bad digits, \u0000 or a lone low surrogate */
	if (hi < 0xd800 || hi > 0xdbff) {
		add_utf8(sb, (uint32_t)hi);
		return p + 6;
	}
	if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
		return NULL;
	lo = hex4(p + 8);
	if (lo < 0xdc00 || lo > 0xdfff)
		return NULL;
	add_utf8(sb, 0x10000u + (((uint32_t)hi & 0x3ff) << 10) + ((uint32_t)lo & 0x3ff));
	return p + 12;
}

/* The string at p (p[0] == '"') decoded into d->s, NUL-terminated, at
 * *off; returns its end, or NULL to leave it to cJSON. */
static const char *quick_string(struct jdoc *d, const char *p, const char *end, size_t *off,
				size_t *len)
{
	struct strbuf *sb = d->dry ? NULL : &d->s;

	*off = sb ? sb->len : 0;
	p++;
	for (;;) {
		const char *q = find_quote(p, end);

		if (q >= end)
			return NULL;
		put_bytes(sb, p, (size_t)(q - p));
		if (*q == '"') {
			*len = sb ? sb->len - *off : 0;
			put_byte(sb, '\0');
			return q + 1;
		}
		if (end - q < 2)
			return NULL;
		switch (q[1]) {
		case '"':
		case '\\':
		case '/': put_byte(sb, q[1]); break;
		case 'b': put_byte(sb, '\b'); break;
		case 'f': put_byte(sb, '\f'); break;
		case 'n': put_byte(sb, '\n'); break;
		case 'r': put_byte(sb, '\r'); break;
		case 't': put_byte(sb, '\t'); break;
		case 'u':
			p = unicode_escape(q, end, sb);
			if (!p)
				return NULL;
			continue;
		default: return NULL;
		}
		p = q + 2;
	}
}

#if LDBL_MANT_DIG == 64 && (defined(__x86_64__) || defined(__i386__))
/* Powers of ten exact in the x87's 64-bit significand (5^27 < 2^64). */
static const long double pow10l_exact[] = {1e0L,  1e1L,	 1e2L,	1e3L,  1e4L,  1e5L,  1e6L,
					   1e7L,  1e8L,	 1e9L,	1e10L, 1e11L, 1e12L, 1e13L,
					   1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L,
					   1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};

/*
 * m * 10^e10 correctly rounded, as strtod gives it, when that can be had
 * cheaply: m and 10^|e10| are exact in a long double, one multiplication
 * or division rounds once to 64 bits, and rounding that to a double is
 * right unless it landed exactly halfway between two doubles (its low 11
 * bits 0x400), where the 64-bit rounding may have crossed the midpoint.
 * Returns 0 then, and the caller asks strtod.
 */
static int decimal_to_double(uint64_t m, int e10, double *out)
{
	long double r = (long double)m;
	uint64_t bits;

	if (e10 < -27 || e10 > 27)
		return 0;
	r = e10 < 0 ? r / pow10l_exact[-e10] : r * pow10l_exact[e10];
	memcpy(&bits, &r, sizeof(bits)); /* the x87 significand, explicit 1 included */
	if ((bits & 0x7ff) == 0x400)
		return 0;
	*out = (double)r;
	return 1;
}
#else
static int decimal_to_double(uint64_t m, int e10, double *out)
{
	if (e10 || m > (1ull << 53))
		return 0;
	*out = (double)m;
	return 1;
}
#endif

/* A JSON number at p: its end and value, or NULL to leave it to cJSON. */
static const char *quick_number(const char *p, const char *end, double *out)
{
	const char *s = p;
	uint64_t m = 0;
	int digits = 0, e10 = 0, neg = 0, exact = 1;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (p >= end || *p < '0' || *p > '9')
		return NULL;
	if (*p == '0') {
		p++;
	} else {
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (digits < 19) {
				m = m * 10 + (uint64_t)(*p - '0');
				digits++;
			} else {
				exact = 0;
			}
		}
	}
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return NULL;
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (!m && *p == '0') {
				e10--; /* a leading zero of the fraction */
			} else if (digits < 19) {
				m = m * 10 + (uint64_t)(*p - '0');
				digits++;
				e10--;
			} else {
				exact = 0;
			}
		}
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		int x = 0, xneg = 0, n = 0;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			xneg = *p++ == '-';
		for (; p < end && *p >= '0' && *p <= '9'; p++, n++)
			if (x < 10000)
				x = x * 10 + (*p - '0');
		if (!n)
			return NULL;
		e10 += xneg ? -x : x;
	}
	/* cJSON reads on through these (and "01" as 1): leave it to cJSON */
	if (p - s > FAST_NUMBER || (p < end && strchr("0123456789+-eE.", *p)))
		return NULL;
	if (!exact)
		e10 = 1000; /* digits were dropped: strtod */
	if (!m) {
		*out = 0.0;
	} else if (!decimal_to_double(m, e10, out)) {
		char buf[FAST_NUMBER + 1];

		memcpy(buf, s, (size_t)(p - s));
		buf[p - s] = '\0';
		*out = strtod(buf, NULL);
		return p;
	}
	if (neg)
		*out = -*out;
	return p;
}

/* The containers open around the quick reader, and each one's last value. */
struct quick_state {
	uint32_t stack[FAST_DEPTH], last[FAST_DEPTH];
	uint8_t obj[FAST_DEPTH]; /* whether each is an object */
	size_t top;
};

/* An object's key at p (whitespace before it skipped), its ':' and the
 * whitespace after: the start of the value, or NULL. */
static const char *quick_key(struct jdoc *d, const char *p, const char *end, size_t *key,
			     size_t *len)
{
	p = skip_space(p, end);
	if (p >= end || *p != '"')
		return NULL;
	p = quick_string(d, p, end, key, len);
	if (!p)
		return NULL;
	p = skip_space(p, end);
	if (p >= end || *p != ':')
		return NULL;
	return p + 1;
}

/* One scalar value at p into d; its end or NULL. */
static const char *quick_scalar(struct jdoc *d, const char *p, const char *end, uint32_t i)
{
	struct jval *v = &d->v[i];
	size_t off, len;

	switch (*p) {
	case '"':
		p = quick_string(d, p, end, &off, &len);
		v = &d->v[i];
		v->type = JV_STRING;
		v->str = off;
		v->len = len;
		return p;
	case 't': v->type = JV_TRUE; return end - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
	case 'f': v->type = JV_FALSE; return end - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
	case 'n': v->type = JV_NULL; return end - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
	default: v->type = JV_NUMBER; return quick_number(p, end, &v->num);
	}
}

/* The quick reader: the value at p into d (empty); its end, or NULL when
 * cJSON should read it. */
static const char *quick_value(struct jdoc *d, const char *p, const char *end)
{
	struct quick_state st;
	size_t key = 0, klen = 0;

	st.top = 0;
	for (;;) {
		uint32_t i, parent = st.top ? st.stack[st.top - 1] : 0;
		uint32_t *last = st.top ? &st.last[st.top - 1] : NULL;

		p = skip_space(p, end);
		if (p >= end)
			return NULL;
		i = add_value(d, JV_NULL, key, klen, parent, last);
		d->v[i].raw = p;
		if (*p == '{' || *p == '[') {
			int obj = *p == '{';

			if (st.top == FAST_DEPTH)
				return NULL;
			d->v[i].type = obj ? JV_OBJECT : JV_ARRAY;
			p = skip_space(p + 1, end);
			if (p < end && *p == (obj ? '}' : ']')) {
				p++;
				d->v[i].raw_end = p;
			} else {
				st.stack[st.top] = i;
				st.obj[st.top] = (uint8_t)obj;
				st.last[st.top++] = 0;
				key = klen = 0;
				if (obj && !(p = quick_key(d, p, end, &key, &klen)))
					return NULL;
				continue;
			}
		} else {
			p = quick_scalar(d, p, end, i);
			if (!p)
				return NULL;
			d->v[i].raw_end = p;
		}
		/* after a value: the next member, or the ends of containers */
		for (;;) {
			uint32_t c;
			int obj;

			if (!st.top)
				return p;
			c = st.stack[st.top - 1];
			obj = st.obj[st.top - 1];
			p = skip_space(p, end);
			if (p >= end)
				return NULL;
			if (*p == ',') {
				p++;
				key = klen = 0;
				if (obj && !(p = quick_key(d, p, end, &key, &klen)))
					return NULL;
				break;
			}
			if (*p != (obj ? '}' : ']'))
				return NULL;
			d->v[c].raw_end = ++p;
			st.top--;
		}
	}
}

/* ---- cJSON's reading, copied in ----------------------------------------- */

static void from_cjson(struct jdoc *d, const cJSON *item, size_t key, size_t klen, uint32_t parent,
		       uint32_t *last)
{
	uint32_t i = add_value(d, JV_NULL, key, klen, parent, last), kid_last = 0;
	const cJSON *c;

	d->v[i].item = item;
	if (cJSON_IsFalse(item)) {
		d->v[i].type = JV_FALSE;
	} else if (cJSON_IsTrue(item)) {
		d->v[i].type = JV_TRUE;
	} else if (cJSON_IsNumber(item)) {
		d->v[i].type = JV_NUMBER;
		d->v[i].num = item->valuedouble;
	} else if (cJSON_IsString(item)) {
		d->v[i].type = JV_STRING;
		d->v[i].str = d->s.len;
		d->v[i].len = strlen(item->valuestring);
		strbuf_add(&d->s, item->valuestring, d->v[i].len + 1);
	} else if (cJSON_IsArray(item) || cJSON_IsObject(item)) {
		d->v[i].type = cJSON_IsArray(item) ? JV_ARRAY : JV_OBJECT;
		for (c = item->child; c; c = c->next) {
			size_t k = 0, n = 0;

			if (d->v[i].type == JV_OBJECT) {
				k = d->s.len;
				n = strlen(c->string);
				strbuf_add(&d->s, c->string, n + 1);
			}
			from_cjson(d, c, k, n, i, &kid_last);
		}
	}
}

int jdoc_read(struct loader *l, struct jdoc *d)
{
	const char *endp;
	cJSON *item;

	jdoc_reset(d);
	/* offset 0 of the strings is the empty key of values without one */
	strbuf_addch(&d->s, '\0');
	endp = quick_value(d, l->p, l->end);
	if (endp) {
		l->p = endp;
		return 0;
	}
	jdoc_reset(d);
	strbuf_addch(&d->s, '\0');
	item = loader_parse_value(l);
	if (!item)
		return -1;
	d->owned = item;
	from_cjson(d, item, 0, 0, 0, NULL);
	return 0;
}

int jdoc_skip(struct loader *l, struct jdoc *d)
{
	const char *endp;

	jdoc_reset(d);
	XGROW(d->v, d->cap, 1);
	d->dry = 1;
	endp = quick_value(d, l->p, l->end);
	d->dry = 0;
	if (!endp)
		return jdoc_read(l, d);
	l->p = endp;
	return 0;
}

void jdoc_add_member(struct strbuf *sb, const struct jdoc *d, uint32_t i)
{
	const struct jval *v = &d->v[i];
	cJSON *c = NULL;
	char *text;

	if (sb->len)
		strbuf_addch(sb, ',');
	strbuf_add_json_string(sb, jv_key(d, i));
	strbuf_addch(sb, ':');
	if (v->type == JV_NULL || v->type == JV_TRUE || v->type == JV_FALSE) {
		strbuf_addstr(sb, v->type == JV_NULL   ? "null"
				  : v->type == JV_TRUE ? "true"
						       : "false");
		return;
	}
	/* anything else is written as cJSON writes it, from cJSON's own
	 * reading of the same text */
	if (!v->item)
		c = cJSON_ParseWithLengthOpts(v->raw, (size_t)(v->raw_end - v->raw), NULL, 0);
	text = cJSON_PrintUnformatted(v->item ? v->item : c);
	if (!text)
		xalloc_die("out of memory");
	strbuf_addstr(sb, text);
	cJSON_free(text);
	cJSON_Delete(c);
}
