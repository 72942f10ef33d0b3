/*
 * rules/filter.c - lexer and parser of the filter / rule expression
 * language (DIALECT.md §6.1, §6.2) and of the sort parameter (§8.1).
 * The contract is in filter.h; this comment is about how.
 *
 * DESIGN
 *
 * One pass, no token buffer: the parser pulls tokens from the lexer one at
 * a time (next_token), and the lexer works on byte offsets into the caller's
 * input, so every error carries the offset where it was found. Operands are
 * lexed whole, function calls included (an operand is a single token, as in
 * upstream fexpr), so the list parser only ever sees five token kinds:
 * operand, sign operator, join operator, '(' and end.
 *
 * Groups. Upstream scans a group's extent first - from '(' to the matching
 * ')', counting parentheses and skipping quoted texts, nothing else - and
 * parses the inside as a separate expression. We do the same: group_end()
 * finds the extent, and the inside is parsed as the range [open+1, close),
 * which then behaves like a whole input (a "//" comment inside a group ends
 * at the group's ')' at the latest; a quote inside such a comment still
 * counts as a text while the extent is found). Copying this rather than
 * writing a comment-aware scanner is deliberate: an expression upstream
 * accepts parses here to the same AST (the deviations below aside). The
 * cost is a rescan of each group per nesting level, O(n * depth), with
 * depth capped (HR_FILTER_MAX_DEPTH).
 *
 * Memory. The AST borrows the input: identifiers, numbers, function names
 * and texts that need no decoding are slices of it. Everything else comes
 * from the arena: decoded texts, and the item and argument arrays. Those
 * arrays are sized exactly: a list's items (a function's arguments) are
 * first pushed on a scratch stack that all lists (all calls) of the parse
 * share - a nested group pushes above its parent's items and pops before
 * the parent continues - and copied out when the list ends. The top-level
 * list, which finishes last, keeps the scratch array itself, and the
 * scratch stack's first size is an upper bound counted from the input, so
 * a flat filter of k comparisons costs one arena allocation of k items.
 *
 * Recursion happens only for groups (bounded by max_depth, itself capped by
 * HR_FILTER_MAX_DEPTH) and function arguments (bounded by FUNC_DEPTH). Every
 * loop advances through the input, so parsing is O(n * depth) time.
 *
 * Deviations from upstream fexpr, all towards refusing:
 *   - a group is an item; upstream also accepts one where an operand, a
 *     sign or a join is expected (`a = (b = 1)` silently drops `a =`);
 *   - a NUL byte is an "unexpected character" everywhere; upstream's
 *     scanner takes it for the end of input and ignores the rest;
 *   - a number that overflows a double is refused ("number out of range")
 *     rather than bound as infinity (or whatever a failed conversion
 *     gives).
 * Things kept as upstream has them, though they look odd: "-.5" is a
 * number (-0.5: the literal neither starts nor ends with '.'); invalid
 * UTF-8 inside a text is replaced by U+FFFD, byte by byte, as Go's rune
 * decoder does; CR is refused as whitespace but is plain content inside
 * texts and comments.
 *
 * Texts. The closing quote is the first same quote not escaped by a
 * backslash, where a backslash escapes whatever byte follows it, so "a\\"
 * is the text a\ (the JSON encoding of a\ must round-trip, §6.1.1). Escapes
 * decode as JSON's: \" \' \\ \/ \b \f \n \r \t \uXXXX (a UTF-16 surrogate
 * pair combines; a lone surrogate becomes U+FFFD). Any other escaped
 * character stands for itself (\q is q, \x41 is x41), and so does a \u
 * not followed by four hex digits (\u12 is u12).
 *
 * Numbers are converted with strtod(), which reads the decimal point of
 * the C locale: nothing in the server calls setlocale().
 */
#include "rules/filter.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

/* Function calls nest at most this deep: f(g(h(x))) is fine, one more
 * level is an error (§6.1.2, "two levels deep"; fexpr's maxFuncDepth 3). */
#define FUNC_DEPTH 3

/*
 * Byte classes (DIALECT.md §6.1):
 *
 *   whitespace       = SP / HTAB / LF                        ; CR is not
 *   identifier start = ALPHA / "_" / "@" / "#"
 *   identifier char  = ALPHA / DIGIT / "_" / "." / ":"
 *   number start     = "-" / DIGIT
 *   sign char        = "=" / "?" / "!" / ">" / "<" / "~"
 *   join char        = "&" / "|"
 *   quote            = "'" / DQUOTE
 *
 * Bytes >= 0x80 belong to no class: outside texts and comments they are
 * unexpected characters.
 */
enum {
	C_WS = 0x01,
	C_IDS = 0x02,
	C_IDC = 0x04,
	C_DIG = 0x08,
	C_SIGN = 0x10,
	C_JOIN = 0x20,
	C_QUOTE = 0x40,
};

static const unsigned char cls[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, /* 0x00 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 0x10 */
	0x01, 0x10, 0x40, 0x02, 0x00, 0x00, 0x20, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, /* 0x20 */
	0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x04, 0x00, 0x10, 0x10, 0x10, 0x10, /* 0x30 */
	0x02, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, /* 0x40 */
	0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x00, 0x00, 0x00, 0x00, 0x06, /* 0x50 */
	0x00, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, /* 0x60 */
	0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x00, 0x20, 0x00, 0x10, 0x00, /* 0x70 */
	/* 0x80-0xFF: 0 */
};

#define CLS(c) cls[(unsigned char)(c)]

static bool is_operand_start(unsigned char c)
{
	return (cls[c] & (C_IDS | C_DIG | C_QUOTE)) || c == '-';
}

/* The sign operators, matched against the whole run of sign chars. */
static const struct {
	char text[4];
	unsigned char len;
	unsigned char op;
} sign_ops[] = {
	{"=", 1, HR_F_EQ},	    {"!=", 2, HR_F_NEQ},     {">", 1, HR_F_GT},
	{">=", 2, HR_F_GTE},	    {"<", 1, HR_F_LT},	     {"<=", 2, HR_F_LTE},
	{"~", 1, HR_F_LIKE},	    {"!~", 2, HR_F_NLIKE},   {"?=", 2, HR_F_ANY_EQ},
	{"?!=", 3, HR_F_ANY_NEQ},   {"?>", 2, HR_F_ANY_GT},  {"?>=", 3, HR_F_ANY_GTE},
	{"?<", 2, HR_F_ANY_LT},	    {"?<=", 3, HR_F_ANY_LTE}, {"?~", 2, HR_F_ANY_LIKE},
	{"?!~", 3, HR_F_ANY_NLIKE},
};

const char *hr_f_op_name(int op)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(sign_ops); i++)
		if (sign_ops[i].op == op)
			return sign_ops[i].text;
	return "(invalid)";
}

static int sign_op(const char *p, size_t len)
{
	if (len > 3)
		return 0;
	for (size_t i = 0; i < HR_ARRAY_LEN(sign_ops); i++)
		if (sign_ops[i].len == len && memcmp(sign_ops[i].text, p, len) == 0)
			return sign_ops[i].op;
	return 0;
}

typedef struct parser {
	hr_arena *a;
	const char *s; /* the whole input; every offset is into it */
	size_t n;
	unsigned max_cmp; /* 0 = unlimited */
	unsigned ncmp;	  /* comparisons so far, groups included */
	unsigned max_depth;
	hr_f_item *items; /* scratch stack of items of the open lists */
	size_t nitems, items_cap;
	size_t items_hint; /* first capacity of items */
	hr_f_operand *args; /* scratch stack of arguments of the open calls */
	size_t nargs, args_cap;
	hr_filter_error *err;
} parser;

static int fail(parser *p, int rc, size_t pos, const char *msg)
{
	p->err->pos = pos;
	p->err->message = msg;
	return rc;
}

static int nomem(parser *p, size_t pos)
{
	return fail(p, HR_ENOMEM, pos, "out of memory");
}

/* An error message that quotes a short piece of the input; falls back to
 * the static text when the piece is long or the arena is exhausted. */
static int fail_quoted(parser *p, int rc, size_t pos, size_t len, const char *fallback)
{
	const char *msg = NULL;
	if (len <= 8)
		msg = hr_arena_printf(p->a, "%s '%.*s'", fallback, (int)len, p->s + pos);
	return fail(p, rc, pos, msg ? msg : fallback);
}

static int fail_limit(parser *p, size_t pos, const char *what, unsigned limit)
{
	const char *msg = hr_arena_printf(p->a, "%s (limit %u)", what, limit);
	return fail(p, HR_ELIMIT, pos, msg ? msg : what);
}

/*
 * Returns a copy of a full scratch stack old[0..used) of `size`-byte
 * elements with room for more (*cap updated), or NULL with the error set.
 * The old array stays in the arena, unused; growth is geometric, so the
 * waste is at most the final size.
 */
static void *grow(parser *p, const void *old, size_t used, size_t *cap, size_t size,
		  size_t first, size_t pos)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *nv = ncap <= SIZE_MAX / size ? hr_arena_alloc(p->a, ncap * size) : NULL;
	if (!nv) {
		nomem(p, pos);
		return NULL;
	}
	if (used)
		memcpy(nv, old, used * size);
	*cap = ncap;
	return nv;
}

/* --- lexer ----------------------------------------------------------- */

/*
 * Skips whitespace and "//" comments in [*ip, end). A comment runs to the
 * LF (consumed) or to end. A lone '/' is left for the caller to refuse.
 */
static int skip_blank(parser *p, size_t *ip, size_t end)
{
	const char *s = p->s;
	size_t i = *ip;
	for (;;) {
		while (i < end && (CLS(s[i]) & C_WS))
			i++;
		if (end - i < 2 || s[i] != '/' || s[i + 1] != '/')
			break;
		const char *nl = memchr(s + i + 2, '\n', end - i - 2);
		size_t stop = nl ? (size_t)(nl - s) : end;
		const char *z = memchr(s + i + 2, '\0', stop - i - 2);
		if (z)
			return fail(p, HR_EPARSE, (size_t)(z - s), "unexpected character");
		i = nl ? stop + 1 : end;
	}
	*ip = i;
	return 0;
}

/*
 * Length of the well-formed UTF-8 sequence at p[0..n) (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0 if there is
 * none. p[0] >= 0x80.
 */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t len;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		len = 2;
	else if (c < 0xF0) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c < 0xF5) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/*
 * s[i] is a quote. Finds its closing quote in (i, end), the first same
 * quote not escaped by a backslash; a backslash escapes any byte. *plain
 * says the content needs no decoding (no backslash, valid UTF-8).
 */
static int text_end(parser *p, size_t i, size_t end, size_t *close, bool *plain)
{
	const unsigned char *s = (const unsigned char *)p->s;
	unsigned char q = s[i];
	bool pl = true;
	size_t j = i + 1;
	while (j < end) {
		unsigned char c = s[j];
		if (c == q) {
			*close = j;
			*plain = pl;
			return 0;
		}
		if (c == '\\') {
			pl = false;
			if (j + 1 < end && s[j + 1] == '\0')
				return fail(p, HR_EPARSE, j + 1, "unexpected character");
			j += 2;
		} else if (c == '\0') {
			return fail(p, HR_EPARSE, j, "unexpected character");
		} else if (c >= 0x80) {
			size_t k = utf8_len(s + j, end - j);
			if (!k) {
				pl = false;
				k = 1;
			}
			j += k;
		} else {
			j++;
		}
	}
	return fail(p, HR_EPARSE, i, "unterminated text");
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = hr_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The 4 hex digits at p[0..n) as a number, or -1. */
static long hex4(const unsigned char *p, size_t n)
{
	if (n < 4)
		return -1;
	long v = 0;
	for (int i = 0; i < 4; i++) {
		int d = hexval(p[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static size_t put_utf8(char *dst, unsigned long cp)
{
	unsigned char b[4];
	size_t len;
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 4;
	}
	if (dst)
		memcpy(dst, b, len);
	return len;
}

/*
 * Decodes the content of a text (between the quotes, already checked by
 * text_end: every backslash has a byte after it) into dst, or only counts
 * the bytes when dst is NULL. Returns the decoded length.
 */
static size_t decode_text(const unsigned char *src, size_t len, char *dst)
{
	size_t i = 0, o = 0;
	while (i < len) {
		unsigned char c = src[i];
		if (c == '\\') {
			assert(i + 1 < len);
			unsigned char e = src[i + 1];
			int ch = -1;
			switch (e) {
			case '"':
			case '\'':
			case '\\':
			case '/':
				ch = e;
				break;
			case 'b':
				ch = '\b';
				break;
			case 'f':
				ch = '\f';
				break;
			case 'n':
				ch = '\n';
				break;
			case 'r':
				ch = '\r';
				break;
			case 't':
				ch = '\t';
				break;
			case 'u': {
				long cp = hex4(src + i + 2, len - i - 2);
				if (cp < 0)
					break; /* not an escape: "u" stands for itself */
				i += 6;
				if (cp >= 0xD800 && cp <= 0xDBFF && len - i >= 6 && src[i] == '\\' &&
				    src[i + 1] == 'u') {
					long lo = hex4(src + i + 2, len - i - 2);
					if (lo >= 0xDC00 && lo <= 0xDFFF) {
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						i += 6;
					}
				}
				if (cp >= 0xD800 && cp <= 0xDFFF)
					cp = 0xFFFD;
				o += put_utf8(dst ? dst + o : NULL, (unsigned long)cp);
				continue;
			}
			default:
				break;
			}
			if (ch >= 0) {
				if (dst)
					dst[o] = (char)ch;
				o++;
				i += 2;
			} else {
				i++; /* drop the backslash; the byte after it is itself */
			}
			continue;
		}
		if (c < 0x80) {
			if (dst)
				dst[o] = (char)c;
			o++;
			i++;
			continue;
		}
		size_t k = utf8_len(src + i, len - i);
		if (k) {
			if (dst)
				memcpy(dst + o, src + i, k);
			o += k;
			i += k;
		} else {
			o += put_utf8(dst ? dst + o : NULL, 0xFFFD);
			i++;
		}
	}
	return o;
}

static int lex_text(parser *p, size_t i, size_t end, hr_f_operand *o, size_t *next)
{
	size_t close;
	bool plain;
	int rc = text_end(p, i, end, &close, &plain);
	if (rc)
		return rc;
	const unsigned char *src = (const unsigned char *)p->s + i + 1;
	size_t len = close - i - 1;
	o->kind = HR_F_TEXT;
	o->pos = i;
	if (plain) {
		o->text = hr_str_make(p->s + i + 1, len);
	} else {
		size_t dlen = decode_text(src, len, NULL);
		char *d = hr_arena_alloc(p->a, dlen ? dlen : 1);
		if (!d)
			return nomem(p, i);
		size_t w = decode_text(src, len, d);
		assert(w == dlen);
		(void)w;
		o->text = hr_str_make(d, dlen);
	}
	*next = close + 1;
	return 0;
}

/*
 * number = [ "-" ] *( DIGIT / one "." ), not just "-", not ending in "."
 * (it cannot start with "." since "." does not start a number). The run
 * stops at a second ".", so "1.2.3" lexes as 1.2 and then fails at ".3".
 */
static int lex_number(parser *p, size_t i, size_t end, hr_f_operand *o, size_t *next)
{
	const char *s = p->s;
	size_t j = i;
	bool dot = false;
	if (s[j] == '-')
		j++;
	while (j < end) {
		if (CLS(s[j]) & C_DIG) {
			j++;
		} else if (s[j] == '.' && !dot) {
			dot = true;
			j++;
		} else {
			break;
		}
	}
	size_t len = j - i;
	if ((len == 1 && s[i] == '-') || s[j - 1] == '.')
		return fail_quoted(p, HR_EPARSE, i, len, "invalid number");

	char buf[64];
	char *z = buf;
	if (len < sizeof buf) {
		memcpy(buf, s + i, len);
		buf[len] = '\0';
	} else if (!(z = hr_arena_dup(p->a, s + i, len))) {
		return nomem(p, i);
	}
	double v = strtod(z, NULL);
	if (!isfinite(v))
		return fail(p, HR_EPARSE, i, "number out of range");
	o->kind = HR_F_NUMBER;
	o->text = hr_str_make(s + i, len);
	o->num = v;
	o->pos = i;
	*next = j;
	return 0;
}

static int lex_operand(parser *p, size_t i, size_t end, unsigned fdepth, hr_f_operand *o,
		       size_t *next);

/*
 * The arguments of a call: s[open] is '('. Arguments are operands separated
 * by commas, one trailing comma allowed, whitespace and comments around
 * them. Fills o (kind FUNC, name and pos already set by the caller).
 */
static int lex_args(parser *p, size_t open, size_t end, unsigned fdepth, hr_f_operand *o,
		    size_t *next)
{
	const char *s = p->s;
	size_t base = p->nargs, i = open + 1;
	enum { START, AFTER_ARG, AFTER_COMMA } st = START;
	int rc;
	for (;;) {
		if ((rc = skip_blank(p, &i, end)))
			goto out;
		if (i >= end) {
			rc = fail(p, HR_EPARSE, open, "missing ')'");
			goto out;
		}
		unsigned char c = (unsigned char)s[i];
		if (c == ')')
			break;
		if (c == ',') {
			if (st != AFTER_ARG) {
				rc = fail(p, HR_EPARSE, i, "unexpected ','");
				goto out;
			}
			st = AFTER_COMMA;
			i++;
			continue;
		}
		if (st == AFTER_ARG) {
			rc = fail(p, HR_EPARSE, i, "expected ',' or ')'");
			goto out;
		}
		if (!is_operand_start(c)) {
			rc = fail(p, HR_EPARSE, i, "invalid function argument");
			goto out;
		}
		hr_f_operand arg;
		if ((rc = lex_operand(p, i, end, fdepth + 1, &arg, &i)))
			goto out;
		if (p->nargs == p->args_cap) {
			hr_f_operand *v = grow(p, p->args, p->nargs, &p->args_cap, sizeof *v, 4, arg.pos);
			if (!v) {
				rc = HR_ENOMEM;
				goto out;
			}
			p->args = v;
		}
		p->args[p->nargs++] = arg;
		st = AFTER_ARG;
	}
	size_t k = p->nargs - base;
	o->args = NULL;
	if (k) {
		o->args = hr_arena_alloc(p->a, k * sizeof *o->args);
		if (!o->args) {
			rc = nomem(p, open);
			goto out;
		}
		memcpy(o->args, p->args + base, k * sizeof *o->args);
	}
	o->nargs = (unsigned)k;
	*next = i + 1;
	rc = 0;
out:
	p->nargs = base;
	return rc;
}

/* Identifiers may not end with '.' or ':' and may not be a lone '@' '_' '#'. */
static bool ident_ok(const char *p, size_t len)
{
	unsigned char last = (unsigned char)p[len - 1];
	if (last == '.' || last == ':')
		return false;
	return len > 1 || (p[0] != '@' && p[0] != '_' && p[0] != '#');
}

/* An identifier, or a function call if '(' follows it immediately. */
static int lex_ident(parser *p, size_t i, size_t end, unsigned fdepth, hr_f_operand *o,
		     size_t *next)
{
	const char *s = p->s;
	size_t j = i + 1;
	while (j < end && (CLS(s[j]) & C_IDC))
		j++;
	bool ok = ident_ok(s + i, j - i);
	memset(o, 0, sizeof *o);
	o->text = hr_str_make(s + i, j - i);
	o->pos = i;
	if (j < end && s[j] == '(') {
		if (!ok)
			return fail(p, HR_EPARSE, i, "invalid function name");
		if (fdepth >= FUNC_DEPTH)
			return fail(p, HR_EPARSE, i, "function nesting too deep");
		o->kind = HR_F_FUNC;
		return lex_args(p, j, end, fdepth, o, next);
	}
	if (!ok)
		return fail_quoted(p, HR_EPARSE, i, j - i, "invalid identifier");
	o->kind = HR_F_IDENT;
	*next = j;
	return 0;
}

/* s[i] starts an operand (is_operand_start). fdepth: enclosing calls. */
static int lex_operand(parser *p, size_t i, size_t end, unsigned fdepth, hr_f_operand *o,
		       size_t *next)
{
	unsigned char c = (unsigned char)p->s[i];
	assert(is_operand_start(c));
	if (cls[c] & C_IDS)
		return lex_ident(p, i, end, fdepth, o, next);
	memset(o, 0, sizeof *o);
	if (cls[c] & C_QUOTE)
		return lex_text(p, i, end, o, next);
	return lex_number(p, i, end, o, next);
}

enum { T_END, T_OPERAND, T_SIGN, T_JOIN, T_OPEN };

/*
 * Next token in [*ip, end). An operand is lexed into *o; a sign or join
 * operator's code goes to *op. *tpos is where the token starts (end for
 * T_END).
 */
static int next_token(parser *p, size_t *ip, size_t end, int *kind, hr_f_operand *o, int *op,
		      size_t *tpos)
{
	const char *s = p->s;
	size_t i = *ip;
	int rc = skip_blank(p, &i, end);
	if (rc)
		return rc;
	*tpos = i;
	if (i >= end) {
		*kind = T_END;
		*ip = i;
		return 0;
	}
	unsigned char c = (unsigned char)s[i];
	if (is_operand_start(c)) {
		*kind = T_OPERAND;
		return lex_operand(p, i, end, 0, o, ip);
	}
	if (cls[c] & (C_SIGN | C_JOIN)) {
		unsigned char which = cls[c] & (C_SIGN | C_JOIN);
		size_t j = i + 1;
		while (j < end && (CLS(s[j]) & which))
			j++;
		size_t len = j - i;
		if (which == C_SIGN) {
			*kind = T_SIGN;
			*op = sign_op(s + i, len);
		} else {
			*kind = T_JOIN;
			*op = len != 2 || s[i] != s[i + 1] ? 0 : s[i] == '&' ? HR_F_AND : HR_F_OR;
		}
		if (!*op)
			return fail_quoted(p, HR_EPARSE, i, len, "invalid operator");
		*ip = j;
		return 0;
	}
	if (c == '(') {
		*kind = T_OPEN;
		*ip = i + 1;
		return 0;
	}
	return fail(p, HR_EPARSE, i, "unexpected character");
}

/*
 * s[open] is '('. Finds the matching ')' in (open, end) the way upstream
 * does: parentheses are counted and quoted texts skipped, nothing else is
 * looked at (see the file comment).
 */
static int group_end(parser *p, size_t open, size_t end, size_t *close)
{
	const char *s = p->s;
	size_t depth = 1;
	for (size_t i = open + 1; i < end; i++) {
		char c = s[i];
		if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth == 0) {
				*close = i;
				return 0;
			}
		} else if (CLS(c) & C_QUOTE) {
			bool plain;
			int rc = text_end(p, i, end, &i, &plain);
			if (rc)
				return rc;
		}
	}
	return fail(p, HR_EPARSE, open, "missing ')'");
}

/*
 * Parses the list in [i, end) into *out. depth: groups around it (0 for the
 * whole input); open: offset of the group's '(' (unused at depth 0).
 */
static int parse_list(parser *p, size_t i, size_t end, unsigned depth, size_t open,
		      hr_f_list *out)
{
	size_t base = p->nitems, tpos;
	int join = 0, kind, op, rc;
	hr_f_operand scratch;
	for (;;) {
		hr_f_item it;
		memset(&it, 0, sizeof it);
		it.join = join;
		if ((rc = next_token(p, &i, end, &kind, &it.left, &op, &tpos)))
			goto out;
		it.pos = tpos;
		if (kind == T_OPEN) {
			size_t close;
			if (depth >= p->max_depth) {
				rc = fail(p, HR_ELIMIT, tpos, "nesting too deep");
				goto out;
			}
			if ((rc = group_end(p, tpos, end, &close)) ||
			    (rc = parse_list(p, tpos + 1, close, depth + 1, tpos, &it.group)))
				goto out;
			it.is_group = true;
			i = close + 1;
		} else if (kind == T_OPERAND) {
			if (p->max_cmp && p->ncmp >= p->max_cmp) {
				rc = fail_limit(p, tpos, "too many comparisons", p->max_cmp);
				goto out;
			}
			p->ncmp++;
			if ((rc = next_token(p, &i, end, &kind, &scratch, &it.op, &tpos)))
				goto out;
			if (kind != T_SIGN) {
				rc = fail(p, HR_EPARSE, tpos, "expected a comparison operator");
				goto out;
			}
			if ((rc = next_token(p, &i, end, &kind, &it.right, &op, &tpos)))
				goto out;
			if (kind != T_OPERAND) {
				rc = fail(p, HR_EPARSE, tpos, "expected an operand");
				goto out;
			}
		} else if (kind == T_END && p->nitems == base) {
			rc = depth ? fail(p, HR_EPARSE, open, "empty group")
				   : fail(p, HR_EPARSE, 0, "empty expression");
			goto out;
		} else {
			rc = fail(p, HR_EPARSE, tpos, "expected an operand");
			goto out;
		}
		if (p->nitems == p->items_cap) {
			hr_f_item *v = grow(p, p->items, p->nitems, &p->items_cap, sizeof *v,
					    p->items_hint, it.pos);
			if (!v) {
				rc = HR_ENOMEM;
				goto out;
			}
			p->items = v;
		}
		p->items[p->nitems++] = it;

		if ((rc = next_token(p, &i, end, &kind, &scratch, &join, &tpos)))
			goto out;
		if (kind == T_END)
			break;
		if (kind != T_JOIN) {
			rc = fail(p, HR_EPARSE, tpos, "expected && or ||");
			goto out;
		}
	}

	size_t k = p->nitems - base;
	if (depth == 0) {
		/* The outermost list finishes last: it keeps the scratch array.
		 * (Not any list with base 0: a leading group has that too.) */
		assert(base == 0);
		out->items = p->items;
	} else {
		out->items = hr_arena_alloc(p->a, k * sizeof *out->items);
		if (!out->items) {
			rc = nomem(p, open);
			goto out;
		}
		memcpy(out->items, p->items + base, k * sizeof *out->items);
	}
	out->n = (unsigned)k;
	rc = 0;
out:
	p->nitems = base;
	return rc;
}

int hr_filter_parse(hr_arena *a, const char *s, size_t n, const hr_filter_limits *lim,
		    hr_f_list *out, hr_filter_error *err)
{
	assert(a && (s || n == 0) && lim && out && err);
	parser p = {
		.a = a,
		.s = s,
		.n = n,
		.max_cmp = lim->max_comparisons,
		.max_depth = lim->max_depth && lim->max_depth < HR_FILTER_MAX_DEPTH
				     ? lim->max_depth
				     : HR_FILTER_MAX_DEPTH,
		.err = err,
	};
	if (n == 0)
		return fail(&p, HR_EPARSE, 0, "empty expression");

	/*
	 * The items of all lists number at most one per list plus one per
	 * join: with a list per '(' and a join per two '&'/'|' bytes, this
	 * count bounds the scratch stack, so for most inputs it is allocated
	 * once, at the size it needs. Capped: texts can hold any of these.
	 */
	size_t hint = 1, amp = 0;
	for (size_t i = 0; i < n && hint < 64; i++) {
		hint += s[i] == '(';
		amp += s[i] == '&' || s[i] == '|';
	}
	p.items_hint = HR_MIN(hint + amp / 2, 64);

	hr_f_list list;
	int rc = parse_list(&p, 0, n, 0, 0, &list);
	if (rc)
		return rc;
	*out = list;
	return 0;
}

/* Go's strings.TrimSpace, ASCII part: what upstream trims off sort items. */
static bool sort_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

int hr_sort_parse(hr_arena *a, const char *s, size_t n, unsigned max_items, hr_sort_item **out,
		  unsigned *nout, hr_filter_error *err)
{
	assert(a && (s || n == 0) && out && nout && err);
	parser p = {.a = a, .s = s, .n = n, .max_depth = HR_FILTER_MAX_DEPTH, .err = err};

	/* Every item but the last ends at a comma: that bounds the count. */
	size_t cap = 1;
	for (const char *c = s; n && (c = memchr(c, ',', (size_t)(s + n - c))); c++)
		cap++;
	if (max_items && cap > max_items)
		cap = max_items;

	hr_sort_item *v = NULL;
	unsigned k = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && sort_space(s[i]))
			i++;
		if (i >= n)
			break;
		if (s[i] == ',') {
			i++;
			continue;
		}
		size_t start = i;
		bool desc = s[i] == '-';
		if (s[i] == '-' || s[i] == '+')
			i++;
		if (i >= n || !(CLS(s[i]) & C_IDS))
			return fail(&p, HR_EPARSE, i, "invalid sort field");
		if (max_items && k >= max_items)
			return fail_limit(&p, start, "too many sort fields", max_items);
		if (!v && !(v = hr_arena_alloc(a, cap * sizeof *v)))
			return nomem(&p, start);
		hr_f_operand o;
		size_t j;
		int rc = lex_ident(&p, i, n, 0, &o, &j);
		if (rc)
			return rc;
		if (j - i > HR_SORT_MAX_NAME)
			return fail_limit(&p, i, "sort field too long", HR_SORT_MAX_NAME);
		i = j;
		while (i < n && sort_space(s[i]))
			i++;
		if (i < n && s[i] != ',')
			return fail(&p, HR_EPARSE, i, "invalid sort field");
		assert(k < cap);
		v[k].expr = o;
		v[k].desc = desc;
		k++;
	}
	*out = v;
	*nout = k;
	return 0;
}
