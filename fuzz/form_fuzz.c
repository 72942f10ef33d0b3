/*
 * fuzz/form_fuzz.c - libFuzzer target for src/http/form.c and
 * src/api/body.c.
 *
 * The first byte picks the mode (byte % 3); every body is an exactly-sized
 * heap copy so ASan sees any over-read.
 *   0 multipart:  [1] boundary length (b % 70 + 1), then that many
 *                 boundary bytes (bytes outside RFC 2046 bchars are mapped
 *                 into them; a final space becomes 'x'), then one byte of
 *                 max_parts, then the body.
 *   1 urlencoded: [1] max_parts, then the body.
 *   2 body:       [1] Content-Type (one of a fixed list), [2] depth
 *                 limit, then the body, through hr_body_read.
 * Checked:
 *   - results are one of the documented codes; a failure leaves the
 *     outputs untouched and gives a reason;
 *   - multipart: parts are at most max_parts, data slices lie inside the
 *     body in order; re-encoding the parts (names quoted with backslash
 *     escapes, filenames as filename*=UTF-8''%XX...) with the same
 *     boundary parses back to the same parts;
 *   - urlencoded: re-encoding every byte as %XX parses back the same;
 *   - body: the object writes as valid JSON, files are parts with a
 *     non-empty filename; hr_body_infer's numbers read back from their
 *     text.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/body.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/json.h"
#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)               \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static const char bchars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=? ";

static bool is_bchar(unsigned char c)
{
	return c && memchr(bchars, c, sizeof bchars - 1) != NULL;
}

static bool same_parts(const hr_form_part *a, unsigned na, const hr_form_part *b, unsigned nb)
{
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++) {
		if (!hr_str_eq(a[i].name, b[i].name) || !hr_str_eq(a[i].data, b[i].data) ||
		    !hr_str_eq(a[i].filename, b[i].filename) ||
		    !hr_str_eq(a[i].content_type, b[i].content_type) || a[i].is_file != b[i].is_file)
			return false;
	}
	return true;
}

static void put_pct(hr_buf *b, hr_str s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		char t[3] = {'%', hex[c >> 4], hex[c & 15]};
		hr_buf_append(b, t, 3);
	}
}

static void put_quoted(hr_buf *b, hr_str s)
{
	hr_buf_append_char(b, '"');
	for (size_t i = 0; i < s.len; i++) {
		if (s.ptr[i] == '"' || s.ptr[i] == '\\')
			hr_buf_append_char(b, '\\');
		hr_buf_append_char(b, s.ptr[i]);
	}
	hr_buf_append_char(b, '"');
}

static void fuzz_multipart(const uint8_t *data, size_t size, hr_arena *a)
{
	if (size < 2)
		return;
	size_t blen = data[0] % 70 + 1;
	if (size < 1 + blen + 1)
		return;
	char bnd[71];
	for (size_t i = 0; i < blen; i++) {
		unsigned char c = data[1 + i];
		bnd[i] = is_bchar(c) ? (char)c : bchars[c % (sizeof bchars - 1)];
	}
	if (bnd[blen - 1] == ' ')
		bnd[blen - 1] = 'x';
	unsigned max_parts = data[1 + blen];
	size_t n = size - blen - 2;
	char *body = malloc(n ? n : 1);
	REQUIRE(body);
	memcpy(body, data + blen + 2, n);
	hr_str b = hr_str_make(bnd, blen);

	hr_form_part *parts = (hr_form_part *)(uintptr_t)1;
	unsigned np = 0xdead;
	const char *why = NULL;
	int rc = hr_multipart_parse(a, hr_str_make(body, n), b, max_parts, &parts, &np, &why);
	REQUIRE(rc == 0 || rc == HR_EPARSE || rc == HR_ELIMIT || rc == HR_ENOMEM);
	if (rc != 0) {
		REQUIRE(why && parts == (hr_form_part *)(uintptr_t)1 && np == 0xdead);
		free(body);
		return;
	}
	REQUIRE(np <= max_parts);
	const char *prev_end = body;
	for (unsigned i = 0; i < np; i++) {
		hr_str d = parts[i].data;
		REQUIRE(d.ptr >= prev_end && d.ptr + d.len <= body + n);
		prev_end = d.ptr + d.len;
		REQUIRE(parts[i].name.len > 0);
		REQUIRE(!parts[i].is_file || parts[i].filename.ptr);
	}

	/* Re-encode and parse again. */
	hr_buf enc;
	hr_buf_init(&enc, 0);
	hr_buf_append_cstr(&enc, "preamble\r\n");
	for (unsigned i = 0; i < np; i++) {
		hr_buf_append_cstr(&enc, "--");
		hr_buf_append_str(&enc, b);
		hr_buf_append_cstr(&enc, "\r\nContent-Disposition: form-data; name=");
		put_quoted(&enc, parts[i].name);
		if (parts[i].is_file) {
			hr_buf_append_cstr(&enc, "; filename*=UTF-8''");
			put_pct(&enc, parts[i].filename);
		}
		hr_buf_append_cstr(&enc, "\r\n");
		if (parts[i].content_type.len) {
			hr_buf_append_cstr(&enc, "Content-Type: ");
			hr_buf_append_str(&enc, parts[i].content_type);
			hr_buf_append_cstr(&enc, "\r\n");
		}
		hr_buf_append_cstr(&enc, "\r\n");
		hr_buf_append_str(&enc, parts[i].data);
		hr_buf_append_cstr(&enc, "\r\n");
	}
	hr_buf_append_cstr(&enc, "--");
	hr_buf_append_str(&enc, b);
	hr_buf_append_cstr(&enc, "--\r\nepilogue");
	REQUIRE(enc.err == 0);
	char *again_body = malloc(enc.len);
	REQUIRE(again_body);
	memcpy(again_body, enc.ptr, enc.len);
	hr_form_part *again;
	unsigned na;
	rc = hr_multipart_parse(a, hr_str_make(again_body, enc.len), b, max_parts, &again, &na, &why);
	if (rc != HR_ENOMEM) {
		/* A part header block can only grow past the limit through a
		 * long name or filename; every other failure is a bug. */
		if (rc == HR_ELIMIT)
			REQUIRE(why && strstr(why, "header"));
		else
			REQUIRE(rc == 0 && same_parts(parts, np, again, na));
	}
	free(again_body);
	hr_buf_dispose(&enc);
	free(body);
}

static void fuzz_urlencoded(const uint8_t *data, size_t size, hr_arena *a)
{
	if (size < 1)
		return;
	unsigned max_parts = data[0];
	size_t n = size - 1;
	char *body = malloc(n ? n : 1);
	REQUIRE(body);
	memcpy(body, data + 1, n);
	hr_form_part *parts = (hr_form_part *)(uintptr_t)1;
	unsigned np = 0xdead;
	const char *why = NULL;
	int rc = hr_urlencoded_parse(a, hr_str_make(body, n), max_parts, &parts, &np, &why);
	REQUIRE(rc == 0 || rc == HR_EPARSE || rc == HR_ELIMIT || rc == HR_ENOMEM);
	if (rc != 0) {
		REQUIRE(why && parts == (hr_form_part *)(uintptr_t)1 && np == 0xdead);
		free(body);
		return;
	}
	REQUIRE(np <= max_parts);
	hr_buf enc;
	hr_buf_init(&enc, 0);
	for (unsigned i = 0; i < np; i++) {
		REQUIRE(!parts[i].is_file && parts[i].filename.len == 0);
		if (i)
			hr_buf_append_char(&enc, '&');
		put_pct(&enc, parts[i].name);
		hr_buf_append_char(&enc, '=');
		put_pct(&enc, parts[i].data);
	}
	REQUIRE(enc.err == 0);
	hr_form_part *again;
	unsigned na;
	rc = hr_urlencoded_parse(a, hr_str_make(enc.ptr ? enc.ptr : "", enc.len), max_parts, &again,
				 &na, NULL);
	REQUIRE(rc == HR_ENOMEM || (rc == 0 && same_parts(parts, np, again, na)));
	hr_buf_dispose(&enc);
	free(body);
}

static const char *const content_types[] = {
	"application/json",
	"multipart/form-data; boundary=X",
	"application/x-www-form-urlencoded",
	"text/plain",
	"",
	"multipart/form-data",
	"Multipart/Form-Data; boundary=\"--b\"",
	"APPLICATION/JSON; charset=utf-8",
};
static const unsigned depths[4] = {1, 2, 64, 10000};

static void check_infer(hr_arena *a, hr_str s)
{
	hr_json *v = hr_body_infer(a, s);
	if (!v)
		return;
	if (v->type == HR_JSON_NUMBER) {
		char tmp[400];
		REQUIRE(s.len > 0 && s.len < sizeof tmp);
		memcpy(tmp, s.ptr, s.len);
		tmp[s.len] = '\0';
		for (size_t i = 0; i < s.len; i++)
			REQUIRE(strchr("-.0123456789", tmp[i]));
		REQUIRE(strtod(tmp, NULL) == v->u.n.num);
	} else if (v->type == HR_JSON_TRUE) {
		REQUIRE(hr_str_eq_lit(s, "true"));
	} else if (v->type == HR_JSON_FALSE) {
		REQUIRE(hr_str_eq_lit(s, "false"));
	} else {
		REQUIRE(v->type == HR_JSON_STRING && hr_str_eq(v->u.str, s));
	}
}

static void fuzz_body(const uint8_t *data, size_t size, hr_arena *a)
{
	if (size < 2)
		return;
	const char *ct = content_types[data[0] % HR_ARRAY_LEN(content_types)];
	unsigned depth = depths[data[1] % 4];
	size_t n = size - 2;
	char *body = malloc(n ? n : 1);
	REQUIRE(body);
	memcpy(body, data + 2, n);
	hr_body out = {(hr_json *)(uintptr_t)1, NULL, 77};
	int rc = hr_body_read(a, hr_str_make(ct, strlen(ct)), hr_str_make(body, n), depth, &out);
	REQUIRE(rc >= HR_BODY_OK && rc <= HR_BODY_NOMEM);
	if (rc != HR_BODY_OK) {
		REQUIRE(out.obj == (hr_json *)(uintptr_t)1 && out.nfiles == 77);
	} else {
		REQUIRE(out.obj && out.obj->type == HR_JSON_OBJECT);
		hr_buf w;
		hr_buf_init(&w, 0);
		hr_json_write(&w, out.obj);
		REQUIRE(w.err == 0);
		/* Payload values keep their depth; form values add none. */
		REQUIRE(hr_json_valid(w.ptr, w.len, depth + 1));
		hr_buf_dispose(&w);
		for (unsigned i = 0; i < out.nfiles; i++)
			REQUIRE(out.files[i].filename.len > 0 && out.files[i].field.len > 0);
		if (n == 0)
			REQUIRE(out.obj->u.obj.len == 0 && out.nfiles == 0);
	}
	if (n < 400)
		check_infer(a, hr_str_make(body, n));
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char first[2048];
	hr_arena a;
	hr_arena_init(&a, first, sizeof first, (size_t)64 << 20);
	switch (data[0] % 3) {
	case 0:
		fuzz_multipart(data + 1, size - 1, &a);
		break;
	case 1:
		fuzz_urlencoded(data + 1, size - 1, &a);
		break;
	default:
		fuzz_body(data + 1, size - 1, &a);
		break;
	}
	hr_arena_dispose(&a);
	return 0;
}
