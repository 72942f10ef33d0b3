/*
 * mail/mail.c - templates and message text (see mail.h): placeholder
 * rendering, RFC 2047 header encoding, RFC 5322 / MIME formatting.
 *
 * Pure functions over hr_str slices and hr_buf; any thread.
 *
 * HEADER SAFETY. Every value placed in a header passes
 * hr_mail_header_ok() (no CR, LF or NUL, bounded length) and addresses
 * must be a bare addr-spec without the characters that could end or
 * extend one (<>,;"() and whitespace), so no value can open a new header
 * line or add a recipient. Values that are not printable ASCII are
 * written as RFC 2047 "B" encoded-words, split on UTF-8 character
 * boundaries so each word stays under 76 characters (RFC 2047 §2).
 *
 * BODIES are quoted-printable (RFC 2045 §6.7): lines stay under 76
 * characters, line ends become CRLF, and a '.' starting a line is encoded
 * so SMTP's end-of-data marker can never appear in the text.
 */
#include "mail/mail.h"

#include <string.h>

#include "core/common.h"
#include "core/rand.h"
#include "core/time.h"

/* ---- templates -------------------------------------------------------- */

static void html_escape(hr_buf *out, hr_str v)
{
	for (size_t i = 0; i < v.len; i++) {
		switch (v.ptr[i]) {
		case '&':
			hr_buf_append_cstr(out, "&amp;");
			break;
		case '<':
			hr_buf_append_cstr(out, "&lt;");
			break;
		case '>':
			hr_buf_append_cstr(out, "&gt;");
			break;
		case '"':
			hr_buf_append_cstr(out, "&#34;");
			break;
		case '\'':
			hr_buf_append_cstr(out, "&#39;");
			break;
		default:
			hr_buf_append_char(out, v.ptr[i]);
		}
	}
}

int hr_mail_render(hr_buf *out, hr_str tmpl, const hr_mail_var *vars, size_t n, bool html)
{
	size_t i = 0;
	while (i < tmpl.len) {
		const char *open = memchr(tmpl.ptr + i, '{', tmpl.len - i);
		if (!open) {
			hr_buf_append(out, tmpl.ptr + i, tmpl.len - i);
			break;
		}
		size_t o = (size_t)(open - tmpl.ptr);
		hr_buf_append(out, tmpl.ptr + i, o - i);
		const char *close = memchr(open + 1, '}', tmpl.len - o - 1);
		const hr_mail_var *hit = NULL;
		if (close) {
			hr_str name = hr_str_make(open + 1, (size_t)(close - open - 1));
			for (size_t k = 0; k < n && !hit; k++)
				if (name.len == strlen(vars[k].name) &&
				    memcmp(name.ptr, vars[k].name, name.len) == 0)
					hit = &vars[k];
		}
		if (!hit) {
			hr_buf_append_char(out, '{');
			i = o + 1;
			continue;
		}
		if (html)
			html_escape(out, hit->value);
		else
			hr_buf_append_str(out, hit->value);
		i = (size_t)(close - tmpl.ptr) + 1;
	}
	return out->err;
}

static const struct {
	const char *ent;
	char c;
} ENTITIES[] = {{"&amp;", '&'}, {"&lt;", '<'},	 {"&gt;", '>'},	 {"&quot;", '"'},
		{"&#34;", '"'}, {"&#39;", '\''}, {"&nbsp;", ' '}};

/* The href="..." value of an <a ...> tag's inside, or an empty slice. */
static hr_str href_of(hr_str tag)
{
	if (tag.len < 2 || (tag.ptr[0] | 0x20) != 'a' || (tag.ptr[1] != ' ' && tag.ptr[1] != '\t'))
		return HR_STR("");
	for (size_t i = 1; i + 6 <= tag.len; i++) {
		if (hr_str_istarts(hr_str_make(tag.ptr + i, tag.len - i), HR_STR("href=\""))) {
			const char *v = tag.ptr + i + 6;
			const char *q = memchr(v, '"', tag.len - i - 6);
			return q ? hr_str_make(v, (size_t)(q - v)) : HR_STR("");
		}
	}
	return HR_STR("");
}

static void append_decoded(hr_buf *out, hr_str s);

int hr_mail_html_to_text(hr_buf *out, hr_str html)
{
	size_t start = out->len;
	int newlines = 2; /* no blank lines at the start */
	hr_str href = HR_STR("");
	for (size_t i = 0; i < html.len; i++) {
		char c = html.ptr[i];
		if (c == '<') {
			const char *end = memchr(html.ptr + i, '>', html.len - i);
			if (!end)
				break;
			hr_str tag = hr_str_make(html.ptr + i + 1, (size_t)(end - html.ptr) - i - 1);
			/* links keep their target: "text (url)" */
			if (href_of(tag).len) {
				href = href_of(tag);
			} else if (href.len && hr_str_istarts(tag, HR_STR("/a"))) {
				hr_buf_append_cstr(out, " (");
				append_decoded(out, href);
				hr_buf_append_char(out, ')');
				href = HR_STR("");
				newlines = 0;
			}
			/* block-level ends become line breaks */
			if (hr_str_istarts(tag, HR_STR("br")) || hr_str_istarts(tag, HR_STR("/p")) ||
			    hr_str_istarts(tag, HR_STR("/div")) || hr_str_istarts(tag, HR_STR("/h")) ||
			    hr_str_istarts(tag, HR_STR("/li"))) {
				if (newlines < 2) {
					hr_buf_append_char(out, '\n');
					newlines++;
				}
			}
			i = (size_t)(end - html.ptr);
			continue;
		}
		if (c == '&') {
			bool done = false;
			for (size_t k = 0; k < sizeof ENTITIES / sizeof ENTITIES[0]; k++) {
				size_t el = strlen(ENTITIES[k].ent);
				if (html.len - i >= el && memcmp(html.ptr + i, ENTITIES[k].ent, el) == 0) {
					hr_buf_append_char(out, ENTITIES[k].c);
					i += el - 1;
					done = true;
					break;
				}
			}
			if (done) {
				newlines = 0;
				continue;
			}
		}
		if (c == '\r')
			continue;
		if (c == '\n' || c == '\t')
			c = ' ';
		if (c == ' ' && (newlines || (out->len > start && out->ptr[out->len - 1] == ' ')))
			continue;
		hr_buf_append_char(out, c);
		newlines = 0;
	}
	return out->err;
}

static void append_decoded(hr_buf *out, hr_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		bool done = false;
		for (size_t k = 0; s.ptr[i] == '&' && k < sizeof ENTITIES / sizeof ENTITIES[0]; k++) {
			size_t el = strlen(ENTITIES[k].ent);
			if (s.len - i >= el && memcmp(s.ptr + i, ENTITIES[k].ent, el) == 0) {
				hr_buf_append_char(out, ENTITIES[k].c);
				i += el - 1;
				done = true;
				break;
			}
		}
		if (!done)
			hr_buf_append_char(out, s.ptr[i]);
	}
}

/* ---- headers ---------------------------------------------------------- */

bool hr_mail_header_ok(hr_str s)
{
	if (s.len > HR_MAIL_HEADER_MAX)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (s.ptr[i] == '\r' || s.ptr[i] == '\n' || s.ptr[i] == '\0')
			return false;
	return true;
}

/* A bare addr-spec: local@domain, printable ASCII, nothing that could end
 * the address or add another (RFC 5322 §3.4.1 specials and spaces). */
static bool addr_ok(hr_str s)
{
	if (s.len < 3 || s.len > 254)
		return false;
	size_t at = 0, ats = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c <= 32 || c >= 127 || strchr("<>()[]\\,;:\"", c))
			return false;
		if (c == '@')
			at = i, ats++;
	}
	return ats == 1 && at > 0 && at + 1 < s.len;
}

static bool plain_ascii(hr_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c < 32 || c > 126)
			return false;
	}
	/* "=?" would read as an encoded-word */
	for (size_t i = 0; i + 1 < s.len; i++)
		if (s.ptr[i] == '=' && s.ptr[i + 1] == '?')
			return false;
	return true;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64(hr_buf *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		hr_buf_append_char(out, B64[(v >> 18) & 63]);
		hr_buf_append_char(out, B64[(v >> 12) & 63]);
		hr_buf_append_char(out, i + 1 < n ? B64[(v >> 6) & 63] : '=');
		hr_buf_append_char(out, i + 2 < n ? B64[v & 63] : '=');
	}
}

int hr_mail_encode_header(hr_buf *out, hr_str s)
{
	if (plain_ascii(s))
		return hr_buf_append_str(out, s);
	/* 45 input bytes -> 60 base64 chars + 12 of "=?UTF-8?B??=" = 72 */
	size_t i = 0;
	bool first = true;
	while (i < s.len) {
		size_t n = HR_MIN(45, s.len - i);
		/* do not split a UTF-8 sequence: back up over continuation bytes */
		while (n > 1 && i + n < s.len && ((unsigned char)s.ptr[i + n] & 0xC0) == 0x80)
			n--;
		if (!first)
			hr_buf_append_cstr(out, "\r\n ");
		hr_buf_append_cstr(out, "=?UTF-8?B?");
		b64(out, (const unsigned char *)s.ptr + i, n);
		hr_buf_append_cstr(out, "?=");
		i += n;
		first = false;
	}
	return out->err;
}

/* display-name: a quoted-string when ASCII, else encoded-words (§3.4). */
static void display_name(hr_buf *out, hr_str name)
{
	if (!plain_ascii(name)) {
		hr_mail_encode_header(out, name);
		return;
	}
	hr_buf_append_char(out, '"');
	for (size_t i = 0; i < name.len; i++) {
		if (name.ptr[i] == '"' || name.ptr[i] == '\\')
			hr_buf_append_char(out, '\\');
		hr_buf_append_char(out, name.ptr[i]);
	}
	hr_buf_append_char(out, '"');
}

/* ---- bodies ----------------------------------------------------------- */

static const char HEX[] = "0123456789ABCDEF";

/* Quoted-printable (RFC 2045 §6.7); input line ends (LF or CRLF) become CRLF. */
static void qp(hr_buf *out, hr_str s)
{
	size_t col = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c == '\r' && i + 1 < s.len && s.ptr[i + 1] == '\n')
			continue;
		if (c == '\n') {
			hr_buf_append_cstr(out, "\r\n");
			col = 0;
			continue;
		}
		bool at_eol = i + 1 == s.len || s.ptr[i + 1] == '\n' || s.ptr[i + 1] == '\r';
		bool lit = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
		if (c == '.' && col == 0)
			lit = false;
		size_t w = lit ? 1 : 3;
		if (col + w > 75) {
			hr_buf_append_cstr(out, "=\r\n");
			col = 0;
			if (c == '.')
				lit = false, w = 3;
		}
		if (lit) {
			hr_buf_append_char(out, (char)c);
		} else {
			char e[3] = {'=', HEX[c >> 4], HEX[c & 15]};
			hr_buf_append(out, e, 3);
		}
		col += w;
	}
	hr_buf_append_cstr(out, "\r\n");
}

static const char *const WDAY[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const MON[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int hr_mail_format(hr_buf *out, const hr_mail_msg *m, int64_t now_ms, hr_str msg_id)
{
	if (!hr_mail_header_ok(m->from_name) || !hr_mail_header_ok(m->subject) ||
	    !addr_ok(m->from_addr) || !addr_ok(m->to) || m->html.len == 0 || !plain_ascii(msg_id) ||
	    !hr_mail_header_ok(msg_id))
		return HR_EINVAL;
	if (out->err)
		return out->err;
	size_t start = out->len;
	int y, mo, d, h, mi, s, ms, wd;
	hr_time_to_civil(now_ms, &y, &mo, &d, &h, &mi, &s, &ms, &wd);
	hr_buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", WDAY[wd % 7], d,
		      MON[(mo - 1) % 12], y, h, mi, s);
	hr_buf_append_cstr(out, "From: ");
	if (m->from_name.len) {
		display_name(out, m->from_name);
		hr_buf_append_char(out, ' ');
	}
	hr_buf_append_char(out, '<');
	hr_buf_append_str(out, m->from_addr);
	hr_buf_append_cstr(out, ">\r\nTo: <");
	hr_buf_append_str(out, m->to);
	hr_buf_append_cstr(out, ">\r\nSubject: ");
	hr_mail_encode_header(out, m->subject);
	const char *at = memchr(m->from_addr.ptr, '@', m->from_addr.len);
	hr_buf_append_cstr(out, "\r\nMessage-ID: <");
	hr_buf_append_str(out, msg_id);
	hr_buf_append_str(out, hr_str_make(at, m->from_addr.len - (size_t)(at - m->from_addr.ptr)));
	char boundary[33];
	hr_rand_string(boundary, 32, "0123456789abcdef", 16);
	boundary[32] = '\0';
	hr_buf_printf(out,
		      ">\r\nMIME-Version: 1.0\r\n"
		      "Content-Type: multipart/alternative;\r\n boundary=\"=_%s\"\r\n\r\n"
		      "--=_%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
		      "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		      boundary, boundary);
	if (m->text.len) {
		qp(out, m->text);
	} else {
		hr_buf t;
		hr_buf_init(&t, 0);
		hr_mail_html_to_text(&t, m->html);
		if (t.err)
			out->err = out->err ? out->err : t.err;
		else
			qp(out, hr_str_make(t.ptr ? t.ptr : "", t.len));
		hr_buf_dispose(&t);
	}
	hr_buf_printf(out,
		      "--=_%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
		      "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		      boundary);
	qp(out, m->html);
	hr_buf_printf(out, "--=_%s--\r\n", boundary);
	if (out->err) {
		int rc = out->err;
		hr_buf_truncate(out, start);
		out->err = 0;
		return rc;
	}
	return 0;
}
