/*
 * http/form.c - multipart/form-data (RFC 7578 over RFC 2046 §5.1) and
 * application/x-www-form-urlencoded bodies. See form.h for the contracts.
 *
 * DESIGN
 *   Both parsers see the whole body at once (the request layer has already
 *   collected it under its size limit), so they are plain functions of
 *   (bytes, limits), not state machines. Multipart parts are slices of the
 *   body; only a name or filename that needed unescaping is copied into
 *   the arena. Urlencoded pairs are percent-decoded into one arena block
 *   the size of the body (decoding never grows).
 *
 *   Multipart framing, RFC 2046 §5.1.1:
 *     multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF
 *                       body-part *encapsulation close-delimiter
 *                       transport-padding [CRLF epilogue]
 *     encapsulation  := delimiter transport-padding CRLF body-part
 *     delimiter      := CRLF dash-boundary
 *     dash-boundary  := "--" boundary
 *     close-delimiter := delimiter "--"
 *     transport-padding := *LWSP-char          ; SP / HTAB
 *     body-part      := MIME-part-headers [CRLF *OCTET]
 *   A part's data ends at the first CRLF "--" boundary that is followed by
 *   SP, HTAB, CR, LF or "--" (Go's mime/multipart rule, matchAfterPrefix):
 *   "--B" followed by anything else is data, so file bytes may contain
 *   fragments of the boundary. Once such a candidate is found, its line
 *   must be a well-formed delimiter or close-delimiter, or the body is
 *   refused (Go refuses it too: "expecting a new Part"). Like Go, a part
 *   whose data is empty may have the dash-boundary straight after its
 *   blank line, without the delimiter's CRLF. The preamble is skipped: the
 *   first line that is a complete delimiter starts the parts, and lines
 *   that merely begin with "--B" are preamble. A close delimiter must be
 *   followed by padding and then the end of the body or CRLF + epilogue
 *   (anything; ignored).
 *
 *   Part headers are RFC 5322 fields with HTTP's strictness: each line ends
 *   in CRLF (a bare CR or LF is refused), the name is a token immediately
 *   followed by ':', no obs-fold, no control characters except HTAB in the
 *   value. Content-Disposition must be "form-data" with a non-empty name;
 *   filename and filename* are read; Content-Type is kept as sent;
 *   Content-Transfer-Encoding, deprecated by RFC 7578 §4.7, is accepted only
 *   as an identity (7bit, 8bit, binary); other header fields are ignored.
 *
 *   Parameter values (RFC 9110 §5.6.6, RFC 6266 §4.1) are tokens or quoted
 *   strings; OWS is allowed around '=' as Go's mime.ParseMediaType allows.
 *   Inside a quoted string a backslash escapes only an RFC 2045 tspecial
 *   and is otherwise a literal backslash: Go's rule for MSIE, which sends
 *   "C:\dir\f.txt" unescaped. A parameter given twice is refused, as Go
 *   refuses it. filename* (RFC 5987 ext-value, UTF-8 or US-ASCII) is
 *   decoded and, as in Go, overrides filename; an undecodable one is
 *   ignored.
 *
 *   Urlencoded bodies follow Go's url.ParseQuery: pairs split on '&', empty
 *   pairs skipped, the first '=' splits name from value (no '=' means an
 *   empty value), '+' is a space, a malformed %-escape is refused, and so
 *   is a raw ';' (Go 1.17+ refuses semicolon separators).
 *
 * LIMITS
 *   max_parts (caller) bounds parts/pairs; HR_FORM_MAX_PART_HEADERS and
 *   HR_FORM_MAX_PART_HEAD bound each part's header block. Every loop walks
 *   forward through the body, and boundary candidates are found with
 *   memmem, so the work is linear in the body.
 *
 * CAVEATS
 *   Deliberately not supported: nested multipart/mixed parts (RFC 2388's
 *   old multi-file form; they come through as a single part), RFC 2231
 *   parameter continuations (name*0=...), quoted-printable or base64 part
 *   bodies, bare-LF line endings (Go accepts those; we refuse them).
 */
#include "http/form.h"

#include <string.h>

#include "core/common.h"

/* ------------------------------------------------------------------ */
/* Byte classes                                                        */
/* ------------------------------------------------------------------ */

/*
 * RFC 2046 §5.1.1:
 *   boundary      := 0*69<bchars> bcharsnospace
 *   bchars        := bcharsnospace / " "
 *   bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," /
 *                    "-" / "." / "/" / ":" / "=" / "?"
 * 1 = bcharsnospace, 2 = space (allowed, but not last).
 */
static const unsigned char bchar_map[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	2, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, /* 0x20  '()+,-./ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, /* 0x30 0-9 : = ? */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 A-O */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, /* 0x50 P-Z _ */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 a-o */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, /* 0x70 p-z */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xA0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xB0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xC0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xD0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xE0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xF0 */
};

/*
 * RFC 2045 §5.1:
 *   tspecials := "(" / ")" / "<" / ">" / "@" / "," / ";" / ":" / "\" /
 *                <"> / "/" / "[" / "]" / "?" / "="
 * A backslash in a quoted string escapes one of these; before anything
 * else it is a literal backslash (see DESIGN).
 */
static const unsigned char tspecial_map[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1, /* 0x20 " ( ) , / */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, /* 0x30 : ; < = > ? */
	1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 @ */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, /* 0x50 [ \ ] */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xA0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xB0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xC0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xD0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xE0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xF0 */
};

/*
 * RFC 5987 §3.2.1:
 *   attr-char = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." /
 *               "^" / "_" / "`" / "|" / "~"
 * plus '%' for pct-encoded, which the decoder checks.
 */
static const unsigned char attr_char_map[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, /* 0x20 ! # $ % & + - . */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0x30 0-9 */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 A-O */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 0x50 P-Z ^ _ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 ` a-o */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 0x70 p-z | ~ */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xA0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xB0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xC0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xD0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xE0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xF0 */
};

static bool is_lwsp(char c)
{
	return c == ' ' || c == '\t';
}

/* ------------------------------------------------------------------ */
/* Header parameters (shared by Content-Type and Content-Disposition)  */
/* ------------------------------------------------------------------ */

typedef struct param {
	hr_str name;  /* token */
	hr_str value; /* token, or the inside of the quotes */
	bool quoted;
	bool escaped; /* value holds a backslash escape (needs unescape()) */
} param;

static size_t skip_ows(hr_str s, size_t i)
{
	while (i < s.len && is_lwsp(s.ptr[i]))
		i++;
	return i;
}

static size_t scan_token(hr_str s, size_t i)
{
	while (i < s.len && hr_str_tchar_map[(unsigned char)s.ptr[i]])
		i++;
	return i;
}

/*
 * s.ptr[i] is the opening quote. Returns the index just past the closing
 * quote, or 0 when the string is unterminated or holds a byte outside
 * qdtext/quoted-pair (RFC 9110 §5.6.4: HTAB, SP, VCHAR, obs-text).
 */
static size_t scan_quoted(hr_str s, size_t i, bool *escaped)
{
	for (i++; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c == '"')
			return i + 1;
		if (!hr_str_field_map[c])
			return 0;
		if (c == '\\' && i + 1 < s.len && tspecial_map[(unsigned char)s.ptr[i + 1]]) {
			*escaped = true;
			i++;
		}
	}
	return 0;
}

/*
 * Reads the next parameter after *pos: *( OWS ";" OWS [ name OWS "=" OWS
 * value ] ). Empty parameters (";;") are skipped. Returns 1 with *p, 0 at
 * the end of s, or HR_EPARSE.
 */
static int next_param(hr_str s, size_t *pos, param *p)
{
	size_t i = *pos;
	for (;;) {
		i = skip_ows(s, i);
		if (i == s.len) {
			*pos = i;
			return 0;
		}
		if (s.ptr[i] != ';')
			return HR_EPARSE;
		i = skip_ows(s, i + 1);
		if (i < s.len && s.ptr[i] != ';')
			break;
	}
	if (i == s.len) {
		*pos = i;
		return 0;
	}
	size_t n0 = i;
	i = scan_token(s, i);
	if (i == n0)
		return HR_EPARSE;
	p->name = hr_str_make(s.ptr + n0, i - n0);
	i = skip_ows(s, i);
	if (i == s.len || s.ptr[i] != '=')
		return HR_EPARSE;
	i = skip_ows(s, i + 1);
	if (i == s.len)
		return HR_EPARSE;
	p->escaped = false;
	if (s.ptr[i] == '"') {
		size_t end = scan_quoted(s, i, &p->escaped);
		if (end == 0)
			return HR_EPARSE;
		p->value = hr_str_make(s.ptr + i + 1, end - i - 2);
		p->quoted = true;
		i = end;
	} else {
		size_t v0 = i;
		i = scan_token(s, i);
		if (i == v0)
			return HR_EPARSE;
		p->value = hr_str_make(s.ptr + v0, i - v0);
		p->quoted = false;
	}
	*pos = i;
	return 1;
}

/* The value of p with backslash escapes removed; borrows s unless escaped.
 * NULL ptr on OOM. */
static hr_str unescape(hr_arena *a, const param *p)
{
	if (!p->escaped)
		return p->value;
	char *d = hr_arena_alloc(a, p->value.len ? p->value.len : 1);
	if (!d)
		return HR_STR_NULL;
	size_t o = 0;
	for (size_t i = 0; i < p->value.len; i++) {
		char c = p->value.ptr[i];
		if (c == '\\' && i + 1 < p->value.len &&
		    tspecial_map[(unsigned char)p->value.ptr[i + 1]])
			c = p->value.ptr[++i];
		d[o++] = c;
	}
	return hr_str_make(d, o);
}

/* ------------------------------------------------------------------ */
/* Boundary                                                            */
/* ------------------------------------------------------------------ */

static bool valid_boundary(hr_str b)
{
	if (b.len < 1 || b.len > HR_FORM_MAX_BOUNDARY)
		return false;
	for (size_t i = 0; i < b.len; i++)
		if (!bchar_map[(unsigned char)b.ptr[i]])
			return false;
	return b.ptr[b.len - 1] != ' ';
}

int hr_multipart_boundary(hr_str content_type, hr_str *boundary)
{
	hr_str s = hr_str_trim_ows(content_type);
	/* media-type = type "/" subtype, RFC 9110 §8.3.1 */
	size_t i = scan_token(s, 0);
	if (i == 0 || i == s.len || s.ptr[i] != '/')
		return HR_EPARSE;
	size_t j = scan_token(s, i + 1);
	if (j == i + 1)
		return HR_EPARSE;
	if (!hr_str_ieq_lit(hr_str_make(s.ptr, j), "multipart/form-data"))
		return HR_EPARSE;
	size_t pos = j;
	param p;
	hr_str found = HR_STR_NULL;
	int rc;
	while ((rc = next_param(s, &pos, &p)) == 1) {
		if (!hr_str_ieq_lit(p.name, "boundary"))
			continue;
		/* Twice is ambiguous; a quoted-pair is never needed (bchars hold
		 * no '"' or '\'), and keeping the slice needs no unescaping. */
		if (found.ptr || (p.quoted && memchr(p.value.ptr, '\\', p.value.len)))
			return HR_EPARSE;
		found = p.value;
	}
	if (rc < 0 || !found.ptr || !valid_boundary(found))
		return HR_EPARSE;
	*boundary = found;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Multipart                                                           */
/* ------------------------------------------------------------------ */

typedef struct mp {
	hr_arena *a;
	hr_str body;
	char delim[HR_FORM_MAX_BOUNDARY + 4]; /* CRLF "--" boundary */
	size_t dlen;			      /* strlen of delim */
	const char **why;
} mp;

#define FAIL(code, msg)                   \
	do {                              \
		if (m->why)               \
			*m->why = (msg);  \
		return (code);            \
	} while (0)

/*
 * Is there a delimiter candidate at i (the position of "--" boundary, i.e.
 * after the CRLF)? The dash-boundary must be followed by SP, HTAB, CR, LF,
 * "--", or the end of the body (Go's matchAfterPrefix); anything else makes
 * it ordinary data.
 */
static bool candidate_at(const mp *m, size_t i)
{
	size_t e = i + m->dlen - 2;
	if (e > m->body.len || memcmp(m->body.ptr + i, m->delim + 2, m->dlen - 2) != 0)
		return false;
	if (e == m->body.len)
		return true;
	char c = m->body.ptr[e];
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
		return true;
	return c == '-' && (e + 1 == m->body.len || m->body.ptr[e + 1] == '-');
}

/*
 * Checks the delimiter line whose dash-boundary starts at i. Returns 1 and
 * sets *next to the first byte of the next part (after the line's CRLF), 2
 * for a valid close-delimiter, or HR_EPARSE.
 */
static int delimiter_line(const mp *m, size_t i, size_t *next)
{
	const char *p = m->body.ptr;
	size_t n = m->body.len;
	size_t e = i + m->dlen - 2;
	bool close = false;
	if (e + 1 < n && p[e] == '-' && p[e + 1] == '-') {
		close = true;
		e += 2;
	}
	while (e < n && is_lwsp(p[e]))
		e++;
	if (close && e == n)
		return 2;
	if (e + 1 < n && p[e] == '\r' && p[e + 1] == '\n') {
		*next = e + 2;
		return close ? 2 : 1;
	}
	return HR_EPARSE;
}

/* Finds the next delimiter candidate in body[from..): returns the index of
 * its CRLF, or SIZE_MAX. */
static size_t find_candidate(const mp *m, size_t from)
{
	while (from < m->body.len) {
		const char *h = memmem(m->body.ptr + from, m->body.len - from, m->delim, m->dlen);
		if (!h)
			break;
		size_t at = (size_t)(h - m->body.ptr);
		if (candidate_at(m, at + 2))
			return at;
		from = at + 1;
	}
	return SIZE_MAX;
}

typedef struct part_headers {
	hr_str disposition;
	hr_str content_type;
	hr_str cte;
	bool has_disposition, has_content_type, has_cte;
} part_headers;

/*
 * Reads a part's header block starting at *pos, through its blank line.
 * On success *pos is the first data byte.
 */
static int read_headers(mp *m, size_t *pos, part_headers *h)
{
	const char *p = m->body.ptr;
	size_t n = m->body.len, i = *pos, start = *pos;
	unsigned lines = 0;
	memset(h, 0, sizeof *h);
	for (;;) {
		if (i - start > HR_FORM_MAX_PART_HEAD)
			FAIL(HR_ELIMIT, "part headers too large");
		if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n') {
			*pos = i + 2;
			return 0;
		}
		if (i == n)
			FAIL(HR_EPARSE, "unexpected end of body in part headers");
		if (++lines > HR_FORM_MAX_PART_HEADERS)
			FAIL(HR_ELIMIT, "too many part headers");
		/* field-name ":" OWS field-value OWS CRLF; no obs-fold (a line
		 * starting with whitespace is not a token and fails here). */
		size_t n0 = i;
		while (i < n && hr_str_tchar_map[(unsigned char)p[i]])
			i++;
		if (i == n0 || i == n || p[i] != ':')
			FAIL(HR_EPARSE, "malformed part header");
		hr_str name = hr_str_make(p + n0, i - n0);
		size_t v0 = ++i;
		while (i < n && hr_str_field_map[(unsigned char)p[i]])
			i++;
		if (i + 1 >= n)
			FAIL(HR_EPARSE, "unexpected end of body in part headers");
		if (p[i] != '\r' || p[i + 1] != '\n')
			FAIL(HR_EPARSE, "malformed part header line");
		if (i - start > HR_FORM_MAX_PART_HEAD)
			FAIL(HR_ELIMIT, "part headers too large");
		hr_str value = hr_str_trim_ows(hr_str_make(p + v0, i - v0));
		i += 2;
		hr_str *slot = NULL;
		bool *seen = NULL;
		if (hr_str_ieq_lit(name, "Content-Disposition")) {
			slot = &h->disposition;
			seen = &h->has_disposition;
		} else if (hr_str_ieq_lit(name, "Content-Type")) {
			slot = &h->content_type;
			seen = &h->has_content_type;
		} else if (hr_str_ieq_lit(name, "Content-Transfer-Encoding")) {
			slot = &h->cte;
			seen = &h->has_cte;
		}
		if (slot) {
			if (*seen)
				FAIL(HR_EPARSE, "repeated part header");
			*seen = true;
			*slot = value;
		}
	}
}

/* Percent-decodes an RFC 5987 ext-value's value-chars into the arena. */
static int decode_ext_value(hr_arena *a, hr_str v, hr_str *out)
{
	const char *q1 = memchr(v.ptr, '\'', v.len);
	if (!q1)
		return HR_EPARSE;
	hr_str charset = hr_str_make(v.ptr, (size_t)(q1 - v.ptr));
	size_t rest = v.len - charset.len - 1;
	const char *q2 = memchr(q1 + 1, '\'', rest);
	if (!q2)
		return HR_EPARSE;
	if (!hr_str_ieq_lit(charset, "utf-8") && !hr_str_ieq_lit(charset, "us-ascii"))
		return HR_EPARSE;
	hr_str enc = hr_str_make(q2 + 1, (size_t)(v.ptr + v.len - (q2 + 1)));
	for (size_t i = 0; i < enc.len; i++)
		if (!attr_char_map[(unsigned char)enc.ptr[i]])
			return HR_EPARSE;
	char *d = hr_arena_alloc(a, enc.len ? enc.len : 1);
	if (!d)
		return HR_ENOMEM;
	long dl = hr_str_pct_decode(enc, d, false);
	if (dl < 0)
		return HR_EPARSE;
	*out = hr_str_make(d, (size_t)dl);
	return 0;
}

/* Parses Content-Disposition into the part's name and filename. */
static int read_disposition(mp *m, hr_str v, hr_form_part *part)
{
	size_t i = scan_token(v, 0);
	if (!hr_str_ieq_lit(hr_str_make(v.ptr, i), "form-data"))
		FAIL(HR_EPARSE, "part is not form-data");
	param p, name = {0}, filename = {0}, filename_ext = {0};
	bool has_name = false, has_filename = false, has_ext = false;
	int rc;
	while ((rc = next_param(v, &i, &p)) == 1) {
		param *dst = NULL;
		bool *seen = NULL;
		if (hr_str_ieq_lit(p.name, "name")) {
			dst = &name;
			seen = &has_name;
		} else if (hr_str_ieq_lit(p.name, "filename")) {
			dst = &filename;
			seen = &has_filename;
		} else if (hr_str_ieq_lit(p.name, "filename*")) {
			dst = &filename_ext;
			seen = &has_ext;
		}
		if (dst) {
			if (*seen)
				FAIL(HR_EPARSE, "repeated Content-Disposition parameter");
			*seen = true;
			*dst = p;
		}
	}
	if (rc < 0)
		FAIL(HR_EPARSE, "malformed Content-Disposition");
	if (!has_name || name.value.len == 0)
		FAIL(HR_EPARSE, "part without a name");
	part->name = unescape(m->a, &name);
	if (!part->name.ptr)
		FAIL(HR_ENOMEM, "out of memory");
	part->filename = HR_STR_NULL;
	part->is_file = 0;
	if (has_filename) {
		part->filename = unescape(m->a, &filename);
		if (!part->filename.ptr)
			FAIL(HR_ENOMEM, "out of memory");
		part->is_file = 1;
	}
	if (has_ext) {
		hr_str dec;
		param *e = &filename_ext;
		hr_str raw = unescape(m->a, e);
		if (!raw.ptr)
			FAIL(HR_ENOMEM, "out of memory");
		rc = decode_ext_value(m->a, raw, &dec);
		if (rc == HR_ENOMEM)
			FAIL(HR_ENOMEM, "out of memory");
		if (rc == 0) {
			part->filename = dec;
			part->is_file = 1;
		}
	}
	if (!part->filename.ptr)
		part->filename = hr_str_make(part->name.ptr, 0);
	return 0;
}

/* Appends to an arena array that doubles; *cap 0 starts it. */
static hr_form_part *push_part(hr_arena *a, hr_form_part **arr, unsigned *n, unsigned *cap)
{
	if (*n == *cap) {
		unsigned nc = *cap ? *cap * 2 : 8;
		if (nc < *cap)
			return NULL;
		hr_form_part *na = hr_arena_alloc(a, (size_t)nc * sizeof *na);
		if (!na)
			return NULL;
		if (*n)
			memcpy(na, *arr, (size_t)*n * sizeof *na);
		*arr = na;
		*cap = nc;
	}
	hr_form_part *p = &(*arr)[(*n)++];
	memset(p, 0, sizeof *p);
	return p;
}

int hr_multipart_parse(hr_arena *a, hr_str body, hr_str boundary, unsigned max_parts,
		       hr_form_part **out, unsigned *n, const char **why)
{
	mp mm = {.a = a, .body = body, .why = why};
	mp *m = &mm;
	if (!valid_boundary(boundary))
		FAIL(HR_EPARSE, "invalid boundary");
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, boundary.ptr, boundary.len);
	m->dlen = boundary.len + 4;

	/* Preamble: the first complete delimiter line, at the very start or
	 * after a CRLF. Lines that only begin like one are preamble. */
	size_t pos = 0;
	int kind = HR_EPARSE;
	if (candidate_at(m, 0))
		kind = delimiter_line(m, 0, &pos);
	for (size_t from = 0; kind < 0;) {
		size_t at = find_candidate(m, from);
		if (at == SIZE_MAX)
			FAIL(HR_EPARSE, "missing boundary");
		kind = delimiter_line(m, at + 2, &pos);
		from = at + 1;
	}

	hr_form_part *parts = NULL;
	unsigned np = 0, cap = 0;
	while (kind == 1) {
		if (np >= max_parts)
			FAIL(HR_ELIMIT, "too many parts");
		part_headers h;
		int rc = read_headers(m, &pos, &h);
		if (rc < 0)
			return rc;
		hr_form_part *part = push_part(a, &parts, &np, &cap);
		if (!part)
			FAIL(HR_ENOMEM, "out of memory");
		if (!h.has_disposition)
			FAIL(HR_EPARSE, "part without Content-Disposition");
		if ((rc = read_disposition(m, h.disposition, part)) < 0)
			return rc;
		if (h.has_cte && !hr_str_ieq_lit(h.cte, "binary") && !hr_str_ieq_lit(h.cte, "8bit") &&
		    !hr_str_ieq_lit(h.cte, "7bit"))
			FAIL(HR_EPARSE, "unsupported Content-Transfer-Encoding");
		part->content_type = h.has_content_type ? h.content_type : hr_str_make(body.ptr + pos, 0);
		/* Data: up to the next candidate; an empty part may have its
		 * dash-boundary right after the blank line (see DESIGN). */
		size_t dash, end;
		if (candidate_at(m, pos)) {
			end = pos;
			dash = pos;
		} else {
			size_t at = find_candidate(m, pos);
			if (at == SIZE_MAX)
				FAIL(HR_EPARSE, "missing closing boundary");
			end = at;
			dash = at + 2;
		}
		part->data = hr_str_make(body.ptr + pos, end - pos);
		kind = delimiter_line(m, dash, &pos);
		if (kind < 0)
			FAIL(HR_EPARSE, "malformed boundary line");
	}
	*out = parts;
	*n = np;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Urlencoded                                                          */
/* ------------------------------------------------------------------ */

int hr_urlencoded_parse(hr_arena *a, hr_str body, unsigned max_parts, hr_form_part **out,
			unsigned *n, const char **why)
{
	mp mm = {.why = why};
	mp *m = &mm;
	hr_form_part *parts = NULL;
	unsigned np = 0, cap = 0;
	char *dec = NULL;
	if (body.len) {
		dec = hr_arena_alloc(a, body.len);
		if (!dec)
			FAIL(HR_ENOMEM, "out of memory");
	}
	size_t o = 0;
	for (size_t i = 0; i < body.len;) {
		const char *amp = memchr(body.ptr + i, '&', body.len - i);
		size_t end = amp ? (size_t)(amp - body.ptr) : body.len;
		hr_str pair = hr_str_make(body.ptr + i, end - i);
		i = end + (amp != NULL);
		if (pair.len == 0)
			continue;
		if (memchr(pair.ptr, ';', pair.len))
			FAIL(HR_EPARSE, "invalid semicolon separator in form data");
		if (np >= max_parts)
			FAIL(HR_ELIMIT, "too many form values");
		const char *eq = memchr(pair.ptr, '=', pair.len);
		hr_str rn = eq ? hr_str_make(pair.ptr, (size_t)(eq - pair.ptr)) : pair;
		hr_str rv = eq ? hr_str_make(eq + 1, (size_t)(pair.ptr + pair.len - eq - 1))
			       : hr_str_make(pair.ptr + pair.len, 0);
		long ln = hr_str_pct_decode(rn, dec + o, true);
		if (ln < 0)
			FAIL(HR_EPARSE, "malformed percent escape");
		hr_str name = hr_str_make(dec + o, (size_t)ln);
		o += (size_t)ln;
		long lv = hr_str_pct_decode(rv, dec + o, true);
		if (lv < 0)
			FAIL(HR_EPARSE, "malformed percent escape");
		hr_str value = hr_str_make(dec + o, (size_t)lv);
		o += (size_t)lv;
		hr_form_part *p = push_part(a, &parts, &np, &cap);
		if (!p)
			FAIL(HR_ENOMEM, "out of memory");
		p->name = name;
		p->data = value;
		p->filename = hr_str_make(value.ptr, 0);
		p->content_type = hr_str_make(value.ptr, 0);
	}
	*out = parts;
	*n = np;
	return 0;
}
