/*
 * http/chunked.c - the chunked transfer-coding decoder (RFC 9112 §7.1).
 * The contract is in parser.h.
 *
 *   chunked-body   = *chunk last-chunk trailer-section CRLF
 *   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size     = 1*HEXDIG
 *   last-chunk     = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-name = token
 *   chunk-ext-val  = token / quoted-string
 *   trailer-section = *( field-line CRLF )
 *
 * DESIGN
 *
 * A byte-resumable state machine, nginx's habit: every framing byte moves
 * the machine through a named state, so input split anywhere, down to one
 * byte per call, decodes to the same bytes and fails with the same code at
 * the same byte. Data bytes are the exception: they are moved in bulk with
 * memmove to the front of the caller's buffer (in place; the output never
 * overtakes the input because framing only removes bytes).
 *
 * Bounds, so a client cannot make us loop or count without end:
 *   - chunk-size is checked for overflow before each digit, and the chunk is
 *     refused with 413 as soon as its size would take the decoded total past
 *     max_body, before any of its data arrives;
 *   - one chunk-size line, extensions included, is at most CHUNK_LINE_MAX
 *     bytes (this also bounds leading zeros, which the overflow check cannot);
 *   - the trailer section is at most max_head_bytes bytes (its final CRLF
 *     included) and max_headers fields.
 *
 * Error codes: a malformed size is CHUNK_SIZE; anything wrong after the
 * digits and before the CRLF is CHUNK_EXT; data not followed by CRLF is
 * CHUNK_DATA; a LF without CR is BARE_LF and a CR without LF is BARE_CR
 * (except after data, where it is CHUNK_DATA); a malformed trailer field is
 * TRAILER, with a control byte in its value CTL.
 *
 * CAVEATS (deliberate)
 *   - Extensions are validated and dropped; trailers are validated and
 *     dropped (RFC 9112 §7.1.2 lets a recipient discard them).
 *   - BWS is accepted only where the grammar puts it: "5 \r\n" (whitespace
 *     not followed by ";") is refused.
 *   - On error the state records the code; later calls return it again.
 *     Bytes already moved to the front of the buffer by the failing call
 *     are garbage to the caller, who must close the connection anyway.
 */
#include "http/parser.h"

#include <string.h>

#include "core/common.h"

#define CHUNK_LINE_MAX 4096 /* bytes of one chunk-size line, CRLF excluded */

enum {
	S_SIZE0,	/* first HEXDIG of chunk-size */
	S_SIZE,		/* more HEXDIG, BWS, ";" or CR */
	S_EXT_SEMI,	/* BWS seen where only ";" may follow */
	S_EXT_NAME0,	/* after ";": BWS or the first tchar of a name */
	S_EXT_NAME,	/* tchar, BWS, "=", ";" or CR */
	S_EXT_NAME_WS,	/* BWS after a name: "=" or ";" */
	S_EXT_VAL0,	/* after "=": BWS, tchar or DQUOTE */
	S_EXT_VAL,	/* token value: tchar, BWS, ";" or CR */
	S_EXT_QS,	/* inside a quoted-string */
	S_EXT_QP,	/* after "\" in a quoted-string */
	S_EXT_QEND,	/* after the closing DQUOTE: BWS, ";" or CR */
	S_SIZE_LF,	/* CR ending the size line seen */
	S_DATA,		/* remaining_ bytes of chunk-data to go */
	S_DATA_CR,	/* CR after chunk-data */
	S_DATA_LF,	/* LF after chunk-data */
	S_TR0,		/* start of a trailer line: CR (end) or a field name */
	S_TR_NAME,	/* tchar or ":" */
	S_TR_VALUE,	/* field-value bytes until CR */
	S_TR_LF,	/* CR ending a trailer field line seen */
	S_END_LF,	/* CR of the final empty line seen */
	S_DONE
};

/*
 * qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4),
 * that is, hr_str_field_map less DQUOTE and backslash.
 * quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ), that is, hr_str_field_map.
 */
static inline bool is_qdtext(unsigned char c)
{
	return hr_str_field_map[c] && c != '"' && c != '\\';
}

static inline int hexval(unsigned char c)
{
	if ((unsigned)(c - '0') < 10u)
		return c - '0';
	c |= 0x20;
	if ((unsigned)(c - 'a') < 6u)
		return c - 'a' + 10;
	return -1;
}

void hr_http_chunked_init(hr_http_chunked *c)
{
	memset(c, 0, sizeof *c);
	c->state_ = S_SIZE0;
}

int hr_http_chunked_decode(hr_http_chunked *c, char *buf, size_t *len, size_t *out,
			   const hr_http_limits *lim)
{
	if (HR_UNLIKELY(c->state_ < 0))
		return c->state_;
	size_t n = *len, i = 0, o = 0;
	int st = c->state_, err = 0;
	if (st == S_DONE) {
		*len = 0;
		*out = 0;
		return 1;
	}

	while (i < n) {
		/* Each iteration consumes at least one byte. */
		unsigned char ch = (unsigned char)buf[i];

		if (st == S_DATA) {
			uint64_t take = HR_MIN(c->remaining_, (uint64_t)(n - i));
			if (o != i)
				memmove(buf + o, buf + i, (size_t)take);
			o += (size_t)take;
			i += (size_t)take;
			c->remaining_ -= take;
			c->total += take;
			if (c->remaining_ == 0)
				st = S_DATA_CR;
			continue;
		}
		i++;

		if (st < S_SIZE_LF && ++c->line_len_ > CHUNK_LINE_MAX && ch != '\r') {
			err = st <= S_SIZE ? HR_HTTP_E_CHUNK_SIZE : HR_HTTP_E_CHUNK_EXT;
			goto fail;
		}
		if (st < S_SIZE_LF && ch == '\n') {
			err = HR_HTTP_E_BARE_LF;
			goto fail;
		}

		switch (st) {
		case S_SIZE0:
		case S_SIZE: {
			int d = hexval(ch);
			if (d >= 0) {
				/* Overflow check before the digit (nginx's habit), then
				 * the body limit, so a huge size fails at its digits. */
				if (c->remaining_ > ((uint64_t)INT64_MAX - (uint64_t)d) / 16) {
					err = HR_HTTP_E_CHUNK_SIZE;
					goto fail;
				}
				c->remaining_ = c->remaining_ * 16 + (uint64_t)d;
				if (c->remaining_ > lim->max_body - HR_MIN(c->total, lim->max_body)) {
					err = HR_HTTP_E_BODY_TOO_LARGE;
					goto fail;
				}
				st = S_SIZE;
			} else if (st == S_SIZE0) {
				err = HR_HTTP_E_CHUNK_SIZE;
				goto fail;
			} else if (ch == '\r') {
				st = S_SIZE_LF;
			} else if (ch == ';') {
				st = S_EXT_NAME0;
			} else if (ch == ' ' || ch == '\t') {
				st = S_EXT_SEMI;
			} else {
				err = HR_HTTP_E_CHUNK_SIZE;
				goto fail;
			}
			break;
		}
		case S_EXT_SEMI:
			if (ch == ';')
				st = S_EXT_NAME0;
			else if (ch != ' ' && ch != '\t')
				goto bad_ext;
			break;
		case S_EXT_NAME0:
			if (hr_str_tchar_map[ch])
				st = S_EXT_NAME;
			else if (ch != ' ' && ch != '\t')
				goto bad_ext;
			break;
		case S_EXT_NAME:
			if (hr_str_tchar_map[ch])
				break;
			if (ch == '=')
				st = S_EXT_VAL0;
			else if (ch == ';')
				st = S_EXT_NAME0;
			else if (ch == ' ' || ch == '\t')
				st = S_EXT_NAME_WS;
			else if (ch == '\r')
				st = S_SIZE_LF;
			else
				goto bad_ext;
			break;
		case S_EXT_NAME_WS:
			if (ch == '=')
				st = S_EXT_VAL0;
			else if (ch == ';')
				st = S_EXT_NAME0;
			else if (ch != ' ' && ch != '\t')
				goto bad_ext;
			break;
		case S_EXT_VAL0:
			if (hr_str_tchar_map[ch])
				st = S_EXT_VAL;
			else if (ch == '"')
				st = S_EXT_QS;
			else if (ch != ' ' && ch != '\t')
				goto bad_ext;
			break;
		case S_EXT_VAL:
		case S_EXT_QEND:
			if (st == S_EXT_VAL && hr_str_tchar_map[ch])
				break;
			if (ch == ';')
				st = S_EXT_NAME0;
			else if (ch == ' ' || ch == '\t')
				st = S_EXT_SEMI;
			else if (ch == '\r')
				st = S_SIZE_LF;
			else
				goto bad_ext;
			break;
		case S_EXT_QS:
			if (ch == '"')
				st = S_EXT_QEND;
			else if (ch == '\\')
				st = S_EXT_QP;
			else if (!is_qdtext(ch))
				goto bad_ext;
			break;
		case S_EXT_QP:
			if (!hr_str_field_map[ch])
				goto bad_ext;
			st = S_EXT_QS;
			break;
		case S_SIZE_LF:
			if (ch != '\n') {
				err = HR_HTTP_E_BARE_CR;
				goto fail;
			}
			c->line_len_ = 0;
			st = c->remaining_ ? S_DATA : S_TR0; /* size 0 is last-chunk */
			break;
		case S_DATA_CR:
			if (ch != '\r') {
				err = HR_HTTP_E_CHUNK_DATA;
				goto fail;
			}
			st = S_DATA_LF;
			break;
		case S_DATA_LF:
			if (ch != '\n') {
				err = HR_HTTP_E_CHUNK_DATA;
				goto fail;
			}
			st = S_SIZE0;
			break;
		default:
			/* Trailer section: every byte counts against max_head_bytes. */
			if (++c->trailer_bytes_ > lim->max_head_bytes) {
				err = HR_HTTP_E_HEAD_TOO_LARGE;
				goto fail;
			}
			switch (st) {
			case S_TR0:
				if (ch == '\r') {
					st = S_END_LF;
				} else if (hr_str_tchar_map[ch]) {
					if (++c->trailers_ > lim->max_headers) {
						err = HR_HTTP_E_TOO_MANY_HEADERS;
						goto fail;
					}
					st = S_TR_NAME;
				} else {
					err = ch == '\n' ? HR_HTTP_E_BARE_LF : HR_HTTP_E_TRAILER;
					goto fail;
				}
				break;
			case S_TR_NAME:
				if (ch == ':') {
					st = S_TR_VALUE;
				} else if (!hr_str_tchar_map[ch]) {
					err = ch == '\n' ? HR_HTTP_E_BARE_LF : HR_HTTP_E_TRAILER;
					goto fail;
				}
				break;
			case S_TR_VALUE:
				if (ch == '\r') {
					st = S_TR_LF;
				} else if (!hr_str_field_map[ch]) {
					err = ch == '\n' ? HR_HTTP_E_BARE_LF : HR_HTTP_E_CTL;
					goto fail;
				}
				break;
			case S_TR_LF:
			case S_END_LF:
				if (ch != '\n') {
					err = HR_HTTP_E_BARE_CR;
					goto fail;
				}
				if (st == S_END_LF) {
					c->state_ = S_DONE;
					*len = i;
					*out = o;
					return 1;
				}
				st = S_TR0;
				break;
			default:
				HR_ASSERT(!"chunked: bad state");
			}
		}
	}
	c->state_ = st;
	*len = i;
	*out = o;
	return 0;

bad_ext:
	err = HR_HTTP_E_CHUNK_EXT;
fail:
	c->state_ = -err;
	return -err;
}
