/*
 * tests/unit/mail/mail_test.c - templates, header encoding, message text
 * and SMTP URLs (src/mail/mail.c, src/mail/mailer.c).
 *
 * Table-driven where the cases are data: one row per template, header
 * value and URL. The message tests check the wire form line by line:
 * every line ends in CRLF and stays within 78 characters, no header value
 * can add a header, and the quoted-printable body decodes back to the
 * input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "harness/unit.h"
#include "mail/mail.h"

static hr_str cs(const char *s)
{
	return hr_str_make(s, strlen(s));
}

static bool buf_is(const hr_buf *b, const char *want)
{
	return b->len == strlen(want) && (b->len == 0 || memcmp(b->ptr, want, b->len) == 0);
}

/* ---- render ------------------------------------------------------------ */

static void test_render(void)
{
	static const hr_mail_var vars[] = {
		{"APP_NAME", {"Acme & Co", 9}},
		{"TOKEN", {"a.b-c_d", 7}},
		{"RECORD:name", {"<script>'x'\"", 12}},
		{"EMPTY", {"", 0}},
	};
	static const struct {
		const char *label, *tmpl, *html, *text;
	} rows[] = {
		{"plain", "hello", "hello", "hello"},
		{"one", "{APP_NAME}", "Acme &amp; Co", "Acme & Co"},
		{"record", "<b>{RECORD:name}</b>", "<b>&lt;script&gt;&#39;x&#39;&#34;</b>", "<b><script>'x'\"</b>"},
		{"unknown kept", "{NOPE} {TOKEN}", "{NOPE} a.b-c_d", "{NOPE} a.b-c_d"},
		{"lone braces", "{ {{TOKEN}} }", "{ {a.b-c_d} }", "{ {a.b-c_d} }"},
		{"unclosed", "x {TOKEN", "x {TOKEN", "x {TOKEN"},
		{"empty value", "[{EMPTY}]", "[]", "[]"},
		{"not rescanned", "{RECORD:name}{TOKEN}", "&lt;script&gt;&#39;x&#39;&#34;a.b-c_d",
		 "<script>'x'\"a.b-c_d"},
		{"empty template", "", "", ""},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		hr_buf h, t;
		hr_buf_init(&h, 0);
		hr_buf_init(&t, 0);
		HR_CHECK(hr_mail_render(&h, cs(rows[i].tmpl), vars, 4, true) == 0);
		HR_CHECK(hr_mail_render(&t, cs(rows[i].tmpl), vars, 4, false) == 0);
		HR_CHECKF(buf_is(&h, rows[i].html), "%s: html got '%.*s'", rows[i].label, (int)h.len,
			  h.ptr ? h.ptr : "");
		HR_CHECKF(buf_is(&t, rows[i].text), "%s: text got '%.*s'", rows[i].label, (int)t.len,
			  t.ptr ? t.ptr : "");
		hr_buf_dispose(&h);
		hr_buf_dispose(&t);
	}
}

static void test_render_limit(void)
{
	static const hr_mail_var vars[] = {{"X", {"0123456789", 10}}};
	hr_buf b;
	hr_buf_init(&b, 16);
	HR_CHECK(hr_mail_render(&b, cs("{X}{X}{X}"), vars, 1, false) == HR_ELIMIT);
	hr_buf_dispose(&b);
}

static void test_html_to_text(void)
{
	static const struct {
		const char *html, *text;
	} rows[] = {
		{"<p>Hello,</p><p>a &amp; b</p>", "Hello,\na & b\n"},
		{"<p>Go <a href=\"https://x.test/a?b=1&amp;c=2\">there</a>.</p>",
		 "Go there (https://x.test/a?b=1&c=2).\n"},
		{"one<br/>two", "one\ntwo"},
		{"  lots   of\n\n space ", "lots of space "},
		{"<a name=\"x\">anchor</a>", "anchor"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		hr_buf b;
		hr_buf_init(&b, 0);
		HR_CHECK(hr_mail_html_to_text(&b, cs(rows[i].html)) == 0);
		HR_CHECKF(buf_is(&b, rows[i].text), "row %zu: got '%.*s'", i, (int)b.len,
			  b.ptr ? b.ptr : "");
		hr_buf_dispose(&b);
	}
}

/* ---- headers ------------------------------------------------------------ */

static void test_header_ok(void)
{
	HR_CHECK(hr_mail_header_ok(cs("Verify your email")));
	HR_CHECK(hr_mail_header_ok(cs("")));
	HR_CHECK(!hr_mail_header_ok(cs("Hi\r\nBcc: x@y.z")));
	HR_CHECK(!hr_mail_header_ok(cs("Hi\nBcc: x@y.z")));
	HR_CHECK(!hr_mail_header_ok(cs("Hi\rthere")));
	HR_CHECK(!hr_mail_header_ok(hr_str_make("a\0b", 3)));
	char big[HR_MAIL_HEADER_MAX + 2];
	memset(big, 'a', sizeof big);
	HR_CHECK(hr_mail_header_ok(hr_str_make(big, HR_MAIL_HEADER_MAX)));
	HR_CHECK(!hr_mail_header_ok(hr_str_make(big, HR_MAIL_HEADER_MAX + 1)));
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_decode(const char *s, size_t n, unsigned char *out)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *p = strchr(B64, s[i]);
		if (!p)
			return (size_t)-1;
		acc = (acc << 6) | (uint32_t)(p - B64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return o;
}

/* Decodes a header value made of encoded-words back to its text. */
static size_t decode_words(hr_str v, char *out)
{
	size_t o = 0, i = 0;
	while (i < v.len) {
		if (v.ptr[i] == '\r' || v.ptr[i] == '\n' || v.ptr[i] == ' ') {
			i++;
			continue;
		}
		if (v.len - i < 12 || memcmp(v.ptr + i, "=?UTF-8?B?", 10) != 0)
			return (size_t)-1;
		i += 10;
		const char *end = strstr(v.ptr + i, "?=");
		size_t n = b64_decode(v.ptr + i, (size_t)(end - (v.ptr + i)), (unsigned char *)out + o);
		if (n == (size_t)-1)
			return n;
		o += n;
		i = (size_t)(end - v.ptr) + 2;
	}
	return o;
}

static void test_encode_header(void)
{
	static const char *const rows[] = {
		"Reset your Zoë password",
		"日本語のメール件名はとても長くなることがあります、日本語のメール件名はとても長くなることがあります",
		"=?UTF-8?B?not-a-word?=",
		"tab\there",
		"\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91"
		"\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91"
		"\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91",
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		hr_buf b;
		hr_buf_init(&b, 0);
		HR_REQUIRE(hr_mail_encode_header(&b, cs(rows[i])) == 0);
		hr_buf_append_char(&b, '\0');
		/* every word under 76 characters, each line a word */
		size_t line = 0;
		for (size_t k = 0; k + 1 < b.len; k++) {
			if (b.ptr[k] == '\n')
				line = 0;
			else if (++line > 75)
				HR_CHECKF(false, "row %zu: line too long", i);
			unsigned char c = (unsigned char)b.ptr[k];
			HR_CHECKF(c < 128, "row %zu: non-ASCII byte in the header", i);
		}
		char dec[1024];
		size_t n = decode_words(hr_str_make(b.ptr, b.len - 1), dec);
		HR_CHECKF(n == strlen(rows[i]) && memcmp(dec, rows[i], n) == 0, "row %zu: '%s'", i, b.ptr);
		/* no encoded-word splits a UTF-8 sequence: each decodes on its own */
		hr_buf_dispose(&b);
	}
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_mail_encode_header(&b, cs("Plain subject"));
	HR_CHECK(buf_is(&b, "Plain subject"));
	hr_buf_dispose(&b);
}

static void test_encoded_words_whole_chars(void)
{
	/* 44 ASCII bytes, then a 2-byte character across the 45-byte cut */
	char s[64];
	memset(s, 'a', 44);
	memcpy(s + 44, "\xc3\xa9xyz", 5);
	s[49] = '\0';
	hr_buf b;
	hr_buf_init(&b, 0);
	HR_REQUIRE(hr_mail_encode_header(&b, cs(s)) == 0);
	hr_buf_append_char(&b, '\0');
	const char *second = strstr(b.ptr, "\r\n =?UTF-8?B?");
	HR_REQUIRE(second);
	unsigned char dec[64];
	const char *w = second + 13;
	size_t n = b64_decode(w, (size_t)(strstr(w, "?=") - w), dec);
	HR_CHECK(n == 5 && memcmp(dec, "\xc3\xa9xyz", 5) == 0);
	hr_buf_dispose(&b);
}

/* ---- messages ----------------------------------------------------------- */

static hr_mail_msg base_msg(void)
{
	hr_mail_msg m = {
		.from_name = cs("Support"),
		.from_addr = cs("no-reply@example.com"),
		.to = cs("ada@example.com"),
		.subject = cs("Verify your hearth email"),
		.html = cs("<p>Hello,</p><p><a href=\"http://x/confirm/tok.en\">Verify</a></p>"),
	};
	return m;
}

static bool has_line(const hr_buf *b, const char *line)
{
	size_t n = strlen(line);
	for (size_t i = 0; i + n + 2 <= b->len; i++)
		if ((i == 0 || b->ptr[i - 1] == '\n') && memcmp(b->ptr + i, line, n) == 0 &&
		    b->ptr[i + n] == '\r' && b->ptr[i + n + 1] == '\n')
			return true;
	return false;
}

static void test_format(void)
{
	hr_mail_msg m = base_msg();
	hr_buf b;
	hr_buf_init(&b, 0);
	/* 2026-11-25 23:12:41 UTC is a Wednesday */
	HR_REQUIRE(hr_mail_format(&b, &m, 1795648361000LL, cs("abc123")) == 0);
	HR_CHECK(has_line(&b, "Date: Wed, 25 Nov 2026 23:12:41 +0000"));
	HR_CHECK(has_line(&b, "From: \"Support\" <no-reply@example.com>"));
	HR_CHECK(has_line(&b, "To: <ada@example.com>"));
	HR_CHECK(has_line(&b, "Subject: Verify your hearth email"));
	HR_CHECK(has_line(&b, "Message-ID: <abc123@example.com>"));
	HR_CHECK(has_line(&b, "MIME-Version: 1.0"));
	HR_CHECK(has_line(&b, "Content-Type: text/plain; charset=UTF-8"));
	HR_CHECK(has_line(&b, "Content-Type: text/html; charset=UTF-8"));
	HR_CHECK(has_line(&b, "Verify (http://x/confirm/tok.en)"));
	/* CRLF only, lines within 78 characters, no line starting with '.' */
	size_t col = 0;
	for (size_t i = 0; i < b.len; i++) {
		if (b.ptr[i] == '\n') {
			HR_CHECK(i > 0 && b.ptr[i - 1] == '\r');
			col = 0;
			continue;
		}
		if (col == 0)
			HR_CHECK(b.ptr[i] != '.');
		HR_CHECK(++col <= 78);
	}
	hr_buf_dispose(&b);
}

static void test_format_refuses_injection(void)
{
	static const struct {
		const char *label;
		int field; /* 0 subject, 1 from name, 2 to, 3 from addr */
		const char *value;
	} rows[] = {
		{"subject CRLF", 0, "Hi\r\nBcc: victim@example.net"},
		{"subject LF", 0, "Hi\nBcc: victim@example.net"},
		{"subject CR", 0, "Hi\rBcc: victim@example.net"},
		{"name CRLF", 1, "Support\r\nBcc: victim@example.net"},
		{"to CRLF", 2, "a@example.com\r\nBcc: victim@example.net"},
		{"to two addresses", 2, "a@example.com, victim@example.net"},
		{"to angle", 2, "a@example.com>victim@example.net"},
		{"to space", 2, "a@example.com victim@example.net"},
		{"to no at", 2, "example.com"},
		{"to two ats", 2, "a@b@example.com"},
		{"from semicolon", 3, "a@example.com;b@example.com"},
		{"to non-ASCII", 2, "z\xc3\xb6@example.com"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		hr_mail_msg m = base_msg();
		hr_str v = cs(rows[i].value);
		if (rows[i].field == 0)
			m.subject = v;
		else if (rows[i].field == 1)
			m.from_name = v;
		else if (rows[i].field == 2)
			m.to = v;
		else
			m.from_addr = v;
		hr_buf b;
		hr_buf_init(&b, 0);
		hr_buf_append_cstr(&b, "kept");
		HR_CHECKF(hr_mail_format(&b, &m, 0, cs("id")) == HR_EINVAL, "%s", rows[i].label);
		HR_CHECKF(buf_is(&b, "kept"), "%s: output changed", rows[i].label);
		hr_buf_dispose(&b);
	}
	hr_mail_msg m = base_msg();
	m.html = cs("");
	hr_buf b;
	hr_buf_init(&b, 0);
	HR_CHECK(hr_mail_format(&b, &m, 0, cs("id")) == HR_EINVAL);
	hr_buf_dispose(&b);
}

static void test_format_non_ascii_and_quoting(void)
{
	hr_mail_msg m = base_msg();
	m.subject = cs("Vérifiez votre adresse");
	m.from_name = cs("L'équipe");
	hr_buf b;
	hr_buf_init(&b, 0);
	HR_REQUIRE(hr_mail_format(&b, &m, 0, cs("x")) == 0);
	HR_CHECK(has_line(&b, "Subject: =?UTF-8?B?VsOpcmlmaWV6IHZvdHJlIGFkcmVzc2U=?="));
	HR_CHECK(has_line(&b, "From: =?UTF-8?B?TCfDqXF1aXBl?= <no-reply@example.com>"));
	hr_buf_reset(&b);
	m = base_msg();
	m.from_name = cs("Say \"hi\" \\ bye");
	HR_REQUIRE(hr_mail_format(&b, &m, 0, cs("x")) == 0);
	HR_CHECK(has_line(&b, "From: \"Say \\\"hi\\\" \\\\ bye\" <no-reply@example.com>"));
	hr_buf_dispose(&b);
}

/* Decodes the quoted-printable part after the header line `ct`. */
static size_t qp_part(const hr_buf *b, const char *ct, char *out)
{
	const char *p = strstr(b->ptr, ct);
	if (!p)
		return 0;
	p = strstr(p, "\r\n\r\n") + 4;
	size_t o = 0;
	while (strncmp(p, "--=_", 4) != 0) {
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 3;
		} else if (p[0] == '=') {
			unsigned v;
			sscanf(p + 1, "%2X", &v);
			out[o++] = (char)v;
			p += 3;
		} else if (p[0] == '\r' && p[1] == '\n') {
			out[o++] = '\n';
			p += 2;
		} else {
			out[o++] = *p++;
		}
	}
	return o;
}

static void test_quoted_printable_round_trip(void)
{
	static const char html[] =
		".starts with a dot\n"
		"a=b and a very long line that goes on and on past seventy-six characters for sure, "
		"yes.\n"
		"trailing space \n"
		"\xe2\x82\xac uro and tab\t\n"
		"..........................................................................."
		"......";
	hr_mail_msg m = base_msg();
	m.html = cs(html);
	m.text = cs(html);
	hr_buf b;
	hr_buf_init(&b, 0);
	HR_REQUIRE(hr_mail_format(&b, &m, 0, cs("x")) == 0);
	hr_buf_append_char(&b, '\0');
	char out[2048];
	size_t n = qp_part(&b, "Content-Type: text/html", out);
	HR_CHECKF(n == strlen(html) + 1 && memcmp(out, html, strlen(html)) == 0 && out[n - 1] == '\n',
		  "decoded %zu bytes: '%.*s'", n, (int)n, out);
	n = qp_part(&b, "Content-Type: text/plain", out);
	HR_CHECK(n == strlen(html) + 1 && memcmp(out, html, strlen(html)) == 0);
	hr_buf_dispose(&b);
}

/* ---- SMTP URLs ---------------------------------------------------------- */

static void test_smtp_url(void)
{
	static const struct {
		const char *url;
		bool ok;
		const char *host, *user, *pass;
		unsigned port;
		int tls;
	} rows[] = {
		{"smtp://127.0.0.1:2525", true, "127.0.0.1", "", "", 2525, HR_SMTP_TLS_NONE},
		{"smtp://mail.example.com", true, "mail.example.com", "", "", 25, HR_SMTP_TLS_NONE},
		{"smtps://mail.example.com", true, "mail.example.com", "", "", 465, HR_SMTP_TLS_IMPLICIT},
		{"smtp://u:p@h:587?starttls", true, "h", "u", "p", 587, HR_SMTP_TLS_STARTTLS},
		{"smtp://a%40b:p%3Aw%25@h", true, "h", "a@b", "p:w%", 25, HR_SMTP_TLS_NONE},
		{"smtp://user@h/", true, "h", "user", "", 25, HR_SMTP_TLS_NONE},
		{"smtp://p@ss@h", true, "h", "p@ss", "", 25, HR_SMTP_TLS_NONE},
		{"http://h", false, 0, 0, 0, 0, 0},
		{"smtp://", false, 0, 0, 0, 0, 0},
		{"smtp://h:0", false, 0, 0, 0, 0, 0},
		{"smtp://h:65536", false, 0, 0, 0, 0, 0},
		{"smtp://h:x", false, 0, 0, 0, 0, 0},
		{"smtp://h/path", false, 0, 0, 0, 0, 0},
		{"smtp://h?tls", false, 0, 0, 0, 0, 0},
		{"smtps://h?starttls", false, 0, 0, 0, 0, 0},
		{"smtp://h_st", false, 0, 0, 0, 0, 0},
		{"smtp://u%0D%0A:p@h", false, 0, 0, 0, 0, 0},
		{"smtp://u:p%00@h", false, 0, 0, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		hr_smtp s;
		memset(&s, 0x5a, sizeof s);
		char err[128] = "";
		int rc = hr_smtp_parse_url(rows[i].url, &s, err, sizeof err);
		if (!rows[i].ok) {
			HR_CHECKF(rc == HR_EINVAL && err[0], "%s: accepted", rows[i].url);
			HR_CHECKF(((unsigned char *)&s)[0] == 0x5a, "%s: out touched", rows[i].url);
			continue;
		}
		HR_CHECKF(rc == 0, "%s: %s", rows[i].url, err);
		if (rc)
			continue;
		HR_CHECKF(s.enabled && strcmp(s.host, rows[i].host) == 0 && s.port == rows[i].port &&
				  strcmp(s.username, rows[i].user) == 0 &&
				  strcmp(s.password, rows[i].pass) == 0 && s.tls == rows[i].tls,
			  "%s: host %s port %u user %s pass %s tls %d", rows[i].url, s.host, s.port,
			  s.username, s.password, s.tls);
	}
}

static const hr_test_case cases[] = {
	{"render", test_render},
	{"render_limit", test_render_limit},
	{"html_to_text", test_html_to_text},
	{"header_ok", test_header_ok},
	{"encode_header", test_encode_header},
	{"encoded_words_whole_chars", test_encoded_words_whole_chars},
	{"format", test_format},
	{"format_refuses_injection", test_format_refuses_injection},
	{"format_non_ascii_and_quoting", test_format_non_ascii_and_quoting},
	{"quoted_printable_round_trip", test_quoted_printable_round_trip},
	{"smtp_url", test_smtp_url},
};
HR_TEST_MAIN(cases)
