/*
 * records/fields.c - see fields.h. Messages and codes follow DIALECT.md §4;
 * where upstream formats a number into a message it uses Go's %v, which
 * for our integral limits is the plain integer.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "records/fields.h"

#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/rand.h"
#include "core/time.h"

#define TEXT_MAX_DEFAULT 5000
#define EDITOR_MAX_DEFAULT (5 << 20)
#define JSON_MAX_DEFAULT (1 << 20)

static hr_str sdup(hr_arena *a, hr_str s)
{
	char *p = hr_arena_dup(a, s.ptr ? s.ptr : "", s.len);
	return p ? hr_str_make(p, s.len) : HR_STR("");
}

static hr_str take_buf(hr_arena *a, hr_buf *b)
{
	hr_str s = b->err ? HR_STR("") : sdup(a, hr_str_make(b->ptr ? b->ptr : "", b->len));
	hr_buf_dispose(b);
	return s;
}

void hr_field_zero(const hr_field *f, hr_val *out)
{
	memset(out, 0, sizeof *out);
	if (hr_field_multi(f)) {
		out->kind = HR_V_JSON;
		out->s = HR_STR("[]");
		return;
	}
	switch (f->type) {
	case HR_FT_NUMBER:
		out->kind = HR_V_NUM;
		break;
	case HR_FT_BOOL:
		out->kind = HR_V_BOOL;
		break;
	case HR_FT_JSON:
		out->kind = HR_V_NULL;
		break;
	case HR_FT_GEOPOINT:
		out->kind = HR_V_JSON;
		out->s = HR_STR("{\"lon\":0,\"lat\":0}");
		break;
	default:
		out->kind = HR_V_TEXT;
		out->s = HR_STR("");
	}
}

/* Go's cast.ToString for scalars; "" for arrays, objects and null. */
static hr_str stringify(hr_arena *a, const hr_json *in)
{
	if (!in)
		return HR_STR("");
	switch (in->type) {
	case HR_JSON_STRING:
		return in->u.str;
	case HR_JSON_TRUE:
		return HR_STR("true");
	case HR_JSON_FALSE:
		return HR_STR("false");
	case HR_JSON_NUMBER: {
		/* Go's cast.ToString: FormatFloat(v, 'f', -1, 64) */
		char tmp[HR_JSON_PLAIN_MAX + 16];
		size_t n = hr_json_format_plain(in->u.n.num, tmp);
		return sdup(a, hr_str_make(tmp, n));
	}
	default:
		return HR_STR("");
	}
}

static double to_number(const hr_json *in)
{
	if (!in)
		return 0;
	switch (in->type) {
	case HR_JSON_NUMBER:
		return in->u.n.num;
	case HR_JSON_TRUE:
		return 1;
	case HR_JSON_STRING: {
		/* Go's strconv.ParseFloat: no surrounding space, no hex without
		 * a binary exponent; unparseable -> 0 */
		char tmp[128];
		hr_str s = in->u.str;
		if (s.len == 0 || s.len >= sizeof tmp || s.ptr[0] == ' ' || s.ptr[s.len - 1] == ' ' ||
		    s.ptr[0] == '\t' || s.ptr[s.len - 1] == '\t' || s.ptr[0] == '\n')
			return 0;
		for (size_t k = 0; k + 1 < s.len; k++)
			if (s.ptr[k] == '0' && (s.ptr[k + 1] == 'x' || s.ptr[k + 1] == 'X'))
				return 0;
		memcpy(tmp, s.ptr, s.len);
		tmp[s.len] = '\0';
		char *end;
		double d = strtod(tmp, &end);
		if (*end)
			return 0;
		return d;
	}
	default:
		return 0;
	}
}

static bool to_bool(const hr_json *in)
{
	if (!in)
		return false;
	if (in->type == HR_JSON_TRUE)
		return true;
	if (in->type == HR_JSON_NUMBER)
		return in->u.n.num == 1;
	if (in->type == HR_JSON_STRING) {
		hr_str s = in->u.str;
		return hr_str_eq_lit(s, "true") || hr_str_eq_lit(s, "1") || hr_str_eq_lit(s, "t") ||
		       hr_str_eq_lit(s, "T") || hr_str_eq_lit(s, "TRUE") || hr_str_eq_lit(s, "True");
	}
	return false;
}

unsigned hr_val_list(hr_arena *a, const hr_val *v, hr_str **out)
{
	*out = NULL;
	if (v->kind == HR_V_TEXT) {
		if (v->s.len == 0)
			return 0;
		*out = hr_arena_alloc(a, sizeof(hr_str));
		if (!*out)
			return 0;
		(*out)[0] = v->s;
		return 1;
	}
	if (v->kind != HR_V_JSON || v->s.len == 0)
		return 0;
	hr_json *j;
	hr_json_error e;
	if (hr_json_parse(a, v->s.ptr, v->s.len, 4, &j, &e) != 0 || j->type != HR_JSON_ARRAY)
		return 0;
	hr_str *items = hr_arena_alloc(a, (j->u.arr.len + 1) * sizeof *items);
	if (!items)
		return 0;
	unsigned n = 0;
	for (size_t i = 0; i < j->u.arr.len; i++)
		if (j->u.arr.items[i]->type == HR_JSON_STRING)
			items[n++] = j->u.arr.items[i]->u.str;
	*out = items;
	return n;
}

hr_str hr_val_make_list(hr_arena *a, const hr_str *items, unsigned n)
{
	hr_buf b;
	hr_buf_init(&b, 64u << 20);
	hr_buf_append_char(&b, '[');
	for (unsigned i = 0; i < n; i++) {
		if (i)
			hr_buf_append_char(&b, ',');
		hr_json_write_string(&b, items[i]);
	}
	hr_buf_append_char(&b, ']');
	return take_buf(a, &b);
}

/* Strings of a submitted select/relation/file value: a string or an array
 * of scalars; empty strings dropped. */
static unsigned input_list(hr_arena *a, const hr_json *in, hr_str **out)
{
	*out = NULL;
	if (!in || in->type == HR_JSON_NULL)
		return 0;
	if (in->type != HR_JSON_ARRAY) {
		hr_str s = stringify(a, in);
		if (s.len == 0)
			return 0;
		*out = hr_arena_alloc(a, sizeof(hr_str));
		if (!*out)
			return 0;
		(*out)[0] = s;
		return 1;
	}
	hr_str *items = hr_arena_alloc(a, (in->u.arr.len + 1) * sizeof *items);
	if (!items)
		return 0;
	unsigned n = 0;
	for (size_t i = 0; i < in->u.arr.len; i++) {
		hr_str s = stringify(a, in->u.arr.items[i]);
		if (s.len)
			items[n++] = s;
	}
	*out = items;
	return n;
}

static unsigned dedupe(hr_str *items, unsigned n)
{
	unsigned o = 0;
	for (unsigned i = 0; i < n; i++) {
		bool seen = false;
		for (unsigned k = 0; k < o; k++)
			if (hr_str_eq(items[k], items[i])) {
				seen = true;
				break;
			}
		if (!seen)
			items[o++] = items[i];
	}
	return o;
}

/* json field string inputs (§4.2 json). */
static void set_json(hr_arena *a, const hr_json *in, hr_val *out)
{
	if (!in || in->type == HR_JSON_NULL) {
		out->kind = HR_V_NULL;
		return;
	}
	out->kind = HR_V_JSON;
	if (in->type == HR_JSON_STRING) {
		hr_str s = in->u.str;
		if (s.len == 0) {
			out->s = HR_STR("\"\"");
			return;
		}
		if (hr_str_eq_lit(s, "null") || hr_str_eq_lit(s, "true") || hr_str_eq_lit(s, "false")) {
			out->s = s;
			return;
		}
		char c = s.ptr[0];
		if (((c >= '0' && c <= '9') || c == '-' || c == '"' || c == '[' || c == '{') &&
		    hr_json_valid(s.ptr, s.len, 10000)) {
			out->s = s;
			return;
		}
	}
	hr_buf b;
	hr_buf_init(&b, 64u << 20);
	hr_json_write(&b, in);
	out->s = take_buf(a, &b);
}

void hr_field_set(hr_arena *a, const hr_field *f, const hr_json *in, hr_val *out)
{
	hr_field_zero(f, out);
	if (hr_field_multi(f)) {
		hr_str *items;
		unsigned n = input_list(a, in, &items);
		n = dedupe(items, n);
		out->kind = HR_V_JSON;
		out->s = hr_val_make_list(a, items, n);
		return;
	}
	switch (f->type) {
	case HR_FT_NUMBER:
		out->n = to_number(in);
		break;
	case HR_FT_BOOL:
		out->b = to_bool(in);
		break;
	case HR_FT_JSON:
		set_json(a, in, out);
		break;
	case HR_FT_DATE: {
		hr_str s = stringify(a, in);
		int64_t ms;
		if (in && in->type == HR_JSON_NUMBER) {
			/* Unix seconds; out-of-range values are unparseable (empty) */
			double d = in->u.n.num;
			if (!(d > -62135596800.0 && d < 253402300800.0)) {
				out->s = HR_STR("");
				break;
			}
			ms = (int64_t)d * 1000;
		} else if (!hr_time_parse(s, &ms)) {
			out->s = HR_STR("");
			break;
		}
		char *buf = hr_arena_alloc(a, HR_TIME_LEN + 1);
		if (buf) {
			hr_time_format(ms, buf);
			out->s = hr_str_make(buf, HR_TIME_LEN);
		}
		break;
	}
	case HR_FT_AUTODATE:
		break; /* client values are ignored */
	case HR_FT_SELECT:
	case HR_FT_RELATION:
	case HR_FT_FILE: {
		/* single: arrays collapse to their last element */
		hr_str *items;
		unsigned n = input_list(a, in, &items);
		out->s = n ? items[n - 1] : HR_STR("");
		break;
	}
	case HR_FT_GEOPOINT: {
		const hr_json *v = in;
		hr_json *parsed = NULL;
		if (v && v->type == HR_JSON_STRING) {
			hr_json_error e;
			if (hr_json_parse(a, v->u.str.ptr, v->u.str.len, 4, &parsed, &e) == 0)
				v = parsed;
		}
		double lon = 0, lat = 0;
		if (v && v->type == HR_JSON_OBJECT) {
			lon = to_number(hr_json_get(v, "lon"));
			lat = to_number(hr_json_get(v, "lat"));
		}
		hr_buf b;
		hr_buf_init(&b, 256);
		hr_buf_append_cstr(&b, "{\"lon\":");
		hr_json_write_number(&b, lon);
		hr_buf_append_cstr(&b, ",\"lat\":");
		hr_json_write_number(&b, lat);
		hr_buf_append_char(&b, '}');
		out->s = take_buf(a, &b);
		break;
	}
	default:
		out->s = stringify(a, in);
	}
}

bool hr_field_modify(hr_arena *a, const hr_field *f, char mod, const hr_json *in, hr_val *cur)
{
	if (f->type == HR_FT_NUMBER) {
		if (mod == '^')
			return false;
		double d = to_number(in);
		cur->kind = HR_V_NUM;
		cur->n = mod == '+' ? cur->n + d : cur->n - d;
		return true;
	}
	if (f->type != HR_FT_SELECT && f->type != HR_FT_RELATION && f->type != HR_FT_FILE)
		return false;
	hr_str *have, *add;
	unsigned nh = hr_val_list(a, cur, &have);
	unsigned na = input_list(a, in, &add);
	hr_str *res = hr_arena_alloc(a, (nh + na + 1) * sizeof *res);
	if (!res)
		return false;
	unsigned n = 0;
	if (mod == '-') {
		for (unsigned i = 0; i < nh; i++) {
			bool drop = false;
			for (unsigned k = 0; k < na; k++)
				if (hr_str_eq(have[i], add[k]))
					drop = true;
			if (!drop)
				res[n++] = have[i];
		}
	} else if (mod == '+') {
		for (unsigned i = 0; i < nh; i++)
			res[n++] = have[i];
		for (unsigned i = 0; i < na; i++)
			res[n++] = add[i];
	} else {
		for (unsigned i = 0; i < na; i++)
			res[n++] = add[i];
		for (unsigned i = 0; i < nh; i++)
			res[n++] = have[i];
	}
	n = dedupe(res, n);
	if (hr_field_multi(f)) {
		cur->kind = HR_V_JSON;
		cur->s = hr_val_make_list(a, res, n);
	} else {
		cur->kind = HR_V_TEXT;
		cur->s = n ? res[n - 1] : HR_STR("");
	}
	return true;
}

/* ---- validation ------------------------------------------------------- */

size_t hr_utf8_len(hr_str s)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++)
		if (((unsigned char)s.ptr[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static bool email_local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static bool alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Host labels: alnum, inner hyphens, 1..63 each. */
static bool valid_host(hr_str h)
{
	if (h.len == 0 || h.len > 253)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= h.len; i++) {
		if (i == h.len || h.ptr[i] == '.') {
			size_t n = i - start;
			if (n == 0 || n > 63 || !alnum((unsigned char)h.ptr[start]) ||
			    !alnum((unsigned char)h.ptr[i - 1]))
				return false;
			for (size_t k = start; k < i; k++)
				if (!alnum((unsigned char)h.ptr[k]) && h.ptr[k] != '-')
					return false;
			start = i + 1;
		}
	}
	return true;
}

bool hr_is_email(hr_str s)
{
	const char *at = memchr(s.ptr, '@', s.len);
	if (!at || at == s.ptr || s.len > 254)
		return false;
	hr_str local = hr_str_make(s.ptr, (size_t)(at - s.ptr));
	hr_str dom = hr_str_make(at + 1, s.len - local.len - 1);
	if (local.len > 64)
		return false;
	for (size_t i = 0; i < local.len; i++)
		if (!email_local_char((unsigned char)local.ptr[i]))
			return false;
	return valid_host(dom);
}

static hr_str email_domain(hr_str s)
{
	const char *at = memchr(s.ptr, '@', s.len);
	return at ? hr_str_make(at + 1, s.len - (size_t)(at + 1 - s.ptr)) : HR_STR("");
}

/* scheme://host[:port][/...]: returns the host, or an empty slice. */
static hr_str url_host(hr_str s)
{
	size_t i = 0;
	if (s.len == 0 || !((s.ptr[0] | 0x20) >= 'a' && (s.ptr[0] | 0x20) <= 'z'))
		return HR_STR("");
	while (i < s.len && (alnum((unsigned char)s.ptr[i]) || s.ptr[i] == '+' || s.ptr[i] == '-' ||
			     s.ptr[i] == '.'))
		i++;
	if (s.len - i < 3 || memcmp(s.ptr + i, "://", 3) != 0)
		return HR_STR("");
	i += 3;
	size_t hs = i;
	const char *at = NULL;
	for (size_t k = i; k < s.len && s.ptr[k] != '/' && s.ptr[k] != '?' && s.ptr[k] != '#'; k++)
		if (s.ptr[k] == '@')
			at = s.ptr + k;
	if (at)
		hs = (size_t)(at - s.ptr) + 1;
	size_t he = hs;
	while (he < s.len && s.ptr[he] != ':' && s.ptr[he] != '/' && s.ptr[he] != '?' &&
	       s.ptr[he] != '#')
		he++;
	for (size_t k = 0; k < s.len; k++)
		if ((unsigned char)s.ptr[k] <= ' ' || s.ptr[k] == 0x7f)
			return HR_STR("");
	return hr_str_make(s.ptr + hs, he - hs);
}

static bool domain_in(hr_str dom, const hr_strs *list)
{
	for (unsigned i = 0; i < list->n; i++)
		if (hr_str_ieq(dom, list->v[i]))
			return true;
	return false;
}

static bool pattern_ok(const hr_field *f, hr_str s)
{
	if (!f->re)
		return true;
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	if (!md)
		return false;
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	if (mc) {
		pcre2_set_match_limit(mc, 100000);
		pcre2_set_depth_limit(mc, 1000);
	}
	int rc = pcre2_match(f->re, (PCRE2_SPTR)s.ptr, s.len, 0, 0, md, mc);
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static void err(hr_verrs *e, hr_str key, const char *code, const char *msg, const char *params)
{
	hr_verrs_add(e, key, code, msg, params);
}

static bool check_text(hr_arena *a, const hr_field *f, hr_str s, hr_verrs *e, hr_str key)
{
	if (s.len == 0) {
		if (f->required) {
			err(e, key, "validation_required", "Cannot be blank.", NULL);
			return false;
		}
		return true;
	}
	size_t n = hr_utf8_len(s);
	int64_t max = f->max > 0 ? f->max : (f->type == HR_FT_PASSWORD ? 71 : TEXT_MAX_DEFAULT);
	char *m;
	if (f->min > 0 && (int64_t)n < f->min) {
		m = hr_arena_printf(a, "Must be at least %lld character(s).", (long long)f->min);
		char *p = hr_arena_printf(a, "{\"min\":%lld}", (long long)f->min);
		err(e, key, "validation_min_text_constraint", m, p);
		return false;
	}
	if ((int64_t)n > max) {
		m = hr_arena_printf(a, "Must be no more than %lld character(s).", (long long)max);
		char *p = hr_arena_printf(a, "{\"max\":%lld}", (long long)max);
		err(e, key, "validation_max_text_constraint", m, p);
		return false;
	}
	if (!pattern_ok(f, s)) {
		err(e, key, "validation_invalid_format", "Invalid value format.", NULL);
		return false;
	}
	return true;
}

/*
 * With a non-default id pattern, ids must still be safe as file and path
 * names (§4.2 text as primary key): no path, shell or URL specials, no
 * Windows device names.
 */
static bool pk_ok(hr_str s, hr_verrs *e, hr_str key)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c == 0 || strchr("./\\|\"'`<>:?*%$\t\r\n ", c)) {
			err(e, key, "validation_forbidden_pk_character",
			    "The record primary key contains forbidden characters.", NULL);
			return false;
		}
	}
	static const char *const reserved[] = {"CON", "PRN", "AUX", "NUL"};
	for (size_t i = 0; i < 4; i++)
		if (hr_str_ieq(s, hr_str_make(reserved[i], 3)))
			goto bad;
	if (s.len == 4 && (hr_str_istarts(s, HR_STR("COM")) || hr_str_istarts(s, HR_STR("LPT"))) &&
	    s.ptr[3] >= '1' && s.ptr[3] <= '9')
		goto bad;
	return true;
bad:
	err(e, key, "validation_reserved_pk", "The record primary key is reserved.", NULL);
	return false;
}

static void fmt_num(hr_arena *a, double v, char **out)
{
	hr_buf b;
	hr_buf_init(&b, 64);
	hr_json_write_number(&b, v);
	hr_str s = take_buf(a, &b);
	*out = (char *)(uintptr_t)s.ptr;
}

bool hr_field_validate(hr_arena *a, const hr_field *f, const hr_val *v, hr_verrs *e, hr_str key)
{
	switch (f->type) {
	case HR_FT_TEXT:
	case HR_FT_PASSWORD:
		if (f->primary_key && v->s.len && !hr_str_eq_lit(f->pattern, "^[a-z0-9]+$") &&
		    !pk_ok(v->s, e, key))
			return false;
		return check_text(a, f, v->s, e, key);
	case HR_FT_NUMBER: {
		double d = v->n;
		if (isnan(d) || isinf(d)) {
			err(e, key, "validation_not_a_number", "The submitted number is not properly formatted.", NULL);
			return false;
		}
		if (d == 0) {
			if (f->required) {
				err(e, key, "validation_required", "Cannot be blank.", NULL);
				return false;
			}
			return true;
		}
		if (f->only_int && d != floor(d)) {
			err(e, key, "validation_only_int_constraint", "Decimal numbers are not allowed.", NULL);
			return false;
		}
		char *num;
		if (f->has_nmin && d < f->nmin) {
			fmt_num(a, f->nmin, &num);
			err(e, key, "validation_min_number_constraint",
			    hr_arena_printf(a, "Must be greater or equal than %s.", num),
			    hr_arena_printf(a, "{\"min\":%s}", num));
			return false;
		}
		if (f->has_nmax && d > f->nmax) {
			fmt_num(a, f->nmax, &num);
			err(e, key, "validation_max_number_constraint",
			    hr_arena_printf(a, "Must be less or equal than %s.", num),
			    hr_arena_printf(a, "{\"max\":%s}", num));
			return false;
		}
		return true;
	}
	case HR_FT_BOOL:
		if (f->required && !v->b) {
			err(e, key, "validation_required", "Cannot be blank.", NULL);
			return false;
		}
		return true;
	case HR_FT_EMAIL: {
		if (v->s.len == 0) {
			if (f->required)
				err(e, key, "validation_required", "Cannot be blank.", NULL);
			return !f->required;
		}
		if (!hr_is_email(v->s)) {
			err(e, key, "validation_is_email", "Must be a valid email address.", NULL);
			return false;
		}
		hr_str dom = email_domain(v->s);
		if ((f->only_domains.n && !domain_in(dom, &f->only_domains)) ||
		    (f->except_domains.n && domain_in(dom, &f->except_domains))) {
			err(e, key, "validation_email_domain_not_allowed", "Email domain is not allowed.", NULL);
			return false;
		}
		return true;
	}
	case HR_FT_URL: {
		if (v->s.len == 0) {
			if (f->required)
				err(e, key, "validation_required", "Cannot be blank.", NULL);
			return !f->required;
		}
		hr_str host = url_host(v->s);
		if (host.len == 0) {
			err(e, key, "validation_invalid_url", "Must be a valid url.", NULL);
			return false;
		}
		if ((f->only_domains.n && !domain_in(host, &f->only_domains)) ||
		    (f->except_domains.n && domain_in(host, &f->except_domains))) {
			err(e, key, "validation_url_domain_not_allowed", "Url domain is not allowed.", NULL);
			return false;
		}
		return true;
	}
	case HR_FT_EDITOR: {
		if (v->s.len == 0) {
			if (f->required)
				err(e, key, "validation_required", "Cannot be blank.", NULL);
			return !f->required;
		}
		int64_t max = f->max_size > 0 ? f->max_size : EDITOR_MAX_DEFAULT;
		if ((int64_t)v->s.len > max) {
			err(e, key, "validation_content_size_limit",
			    hr_arena_printf(a, "The maximum allowed content size is %lld bytes.", (long long)max),
			    hr_arena_printf(a, "{\"maxSize\":%lld}", (long long)max));
			return false;
		}
		return true;
	}
	case HR_FT_DATE: {
		if (v->s.len == 0) {
			if (f->required)
				err(e, key, "validation_required", "Cannot be blank.", NULL);
			return !f->required;
		}
		hr_buf p;
		int64_t t, lim;
		bool have = hr_time_parse(v->s, &t);
		if (have && f->dmin.len && hr_time_parse(f->dmin, &lim) && t < lim) {
			hr_buf_init(&p, 256);
			hr_buf_append_cstr(&p, "{\"threshold\":");
			hr_json_write_string(&p, f->dmin);
			hr_buf_append_char(&p, '}');
			hr_str ps = take_buf(a, &p);
			err(e, key, "validation_min_greater_equal_than_required",
			    hr_arena_printf(a, "Must be no less than %.*s.", (int)f->dmin.len, f->dmin.ptr), ps.ptr);
			return false;
		}
		if (have && f->dmax.len && hr_time_parse(f->dmax, &lim) && t > lim) {
			hr_buf_init(&p, 256);
			hr_buf_append_cstr(&p, "{\"threshold\":");
			hr_json_write_string(&p, f->dmax);
			hr_buf_append_char(&p, '}');
			hr_str ps = take_buf(a, &p);
			err(e, key, "validation_max_less_equal_than_required",
			    hr_arena_printf(a, "Must be no more than %.*s.", (int)f->dmax.len, f->dmax.ptr), ps.ptr);
			return false;
		}
		return true;
	}
	case HR_FT_SELECT:
	case HR_FT_RELATION:
	case HR_FT_FILE: {
		hr_str *items;
		unsigned n = hr_val_list(a, v, &items);
		if (n == 0) {
			if (f->required) {
				err(e, key, "validation_required", "Cannot be blank.", NULL);
				return false;
			}
			return true;
		}
		if (f->type == HR_FT_SELECT) {
			for (unsigned i = 0; i < n; i++) {
				bool ok = false;
				for (unsigned k = 0; k < f->values.n; k++)
					if (hr_str_eq(items[i], f->values.v[k]))
						ok = true;
				if (!ok) {
					hr_buf p;
					hr_buf_init(&p, 4096);
					hr_buf_append_cstr(&p, "{\"value\":");
					hr_json_write_string(&p, items[i]);
					hr_buf_append_char(&p, '}');
					hr_str ps = take_buf(a, &p);
					err(e, key, "validation_invalid_value",
					    hr_arena_printf(a, "Invalid value %.*s.", (int)HR_MIN(items[i].len, 200u), items[i].ptr),
					    ps.ptr);
					return false;
				}
			}
		}
		unsigned max = f->max_select > 1 ? f->max_select : 1;
		if (n > max && f->type == HR_FT_FILE) {
			err(e, key, "validation_too_many_files",
			    hr_arena_printf(a, "The maximum number of files allowed is %u.", max),
			    hr_arena_printf(a, "{\"maxSelect\":%u}", max));
			return false;
		}
		if (n > max) {
			err(e, key, "validation_too_many_values",
			    hr_arena_printf(a, "Select no more than %u.", max),
			    hr_arena_printf(a, "{\"maxSelect\":%u}", max));
			return false;
		}
		if (f->type == HR_FT_RELATION && f->min_select > 0 && n < f->min_select) {
			err(e, key, "validation_not_enough_values",
			    hr_arena_printf(a, "Select at least %u.", f->min_select),
			    hr_arena_printf(a, "{\"minSelect\":%u}", f->min_select));
			return false;
		}
		return true;
	}
	case HR_FT_JSON: {
		bool empty = v->kind == HR_V_NULL || hr_str_eq_lit(v->s, "null") ||
			     hr_str_eq_lit(v->s, "\"\"") || hr_str_eq_lit(v->s, "[]") ||
			     hr_str_eq_lit(v->s, "{}");
		if (empty) {
			if (f->required) {
				err(e, key, "validation_required", "Cannot be blank.", NULL);
				return false;
			}
			if (v->kind == HR_V_NULL)
				return true;
		}
		int64_t max = f->max_size > 0 ? f->max_size : JSON_MAX_DEFAULT;
		if ((int64_t)v->s.len > max) {
			err(e, key, "validation_json_size_limit",
			    hr_arena_printf(a, "The maximum allowed JSON size is %lld bytes.", (long long)max),
			    hr_arena_printf(a, "{\"maxSize\":%lld}", (long long)max));
			return false;
		}
		if (!hr_json_valid(v->s.ptr, v->s.len, 10000)) {
			err(e, key, "validation_invalid_json", "Must be a valid json value.", NULL);
			return false;
		}
		return true;
	}
	case HR_FT_GEOPOINT: {
		hr_json *j;
		hr_json_error je;
		if (hr_json_parse(a, v->s.ptr, v->s.len, 4, &j, &je) != 0 || j->type != HR_JSON_OBJECT)
			return true;
		double lon = to_number(hr_json_get(j, "lon")), lat = to_number(hr_json_get(j, "lat"));
		if (lon == 0 && lat == 0 && f->required) {
			err(e, key, "validation_required", "Cannot be blank.", NULL);
			return false;
		}
		if (lat < -90 || lat > 90) {
			err(e, key, "validation_invalid_latitude", "Latitude must be between -90 and 90 degrees.", NULL);
			return false;
		}
		if (lon < -180 || lon > 180) {
			err(e, key, "validation_invalid_longitude", "Longitude must be between -180 and 180 degrees.", NULL);
			return false;
		}
		return true;
	}
	default:
		return true;
	}
}

/* ---- autogenerate ----------------------------------------------------- */

bool hr_field_autogen(hr_arena *a, hr_str p, hr_str *out)
{
	hr_buf b;
	hr_buf_init(&b, 4096);
	size_t i = 0;
	while (i < p.len) {
		char set[256];
		size_t nset = 0;
		char c = p.ptr[i];
		if (c == '[') {
			i++;
			while (i < p.len && p.ptr[i] != ']') {
				char lo = p.ptr[i];
				if (lo == '\\' && i + 1 < p.len)
					lo = p.ptr[++i];
				if (i + 2 < p.len && p.ptr[i + 1] == '-' && p.ptr[i + 2] != ']') {
					char hi = p.ptr[i + 2];
					if (hi < lo)
						goto bad;
					for (int k = (unsigned char)lo; k <= (unsigned char)hi && nset < sizeof set; k++)
						set[nset++] = (char)k;
					i += 3;
				} else {
					if (lo == '^' && nset == 0)
						goto bad;
					if (nset < sizeof set)
						set[nset++] = lo;
					i++;
				}
			}
			if (i >= p.len || nset == 0)
				goto bad;
			i++;
		} else if (c == '\\' && i + 1 < p.len) {
			char e = p.ptr[i + 1];
			i += 2;
			if (e == 'd') {
				for (char k = '0'; k <= '9'; k++)
					set[nset++] = k;
			} else if (e == 'w') {
				const char *w = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
				for (const char *k = w; *k; k++)
					set[nset++] = *k;
			} else if (strchr("\\.[]{}()*+?^$|-/", e)) {
				set[nset++] = e;
			} else {
				goto bad;
			}
		} else if (strchr("()*+?|.^$", c)) {
			if ((c == '^' && i == 0) || (c == '$' && i + 1 == p.len)) {
				i++;
				continue;
			}
			goto bad;
		} else {
			set[nset++] = c;
			i++;
		}
		unsigned lo = 1, hi = 1;
		if (i < p.len && p.ptr[i] == '{') {
			size_t k = i + 1;
			unsigned v = 0;
			while (k < p.len && p.ptr[k] >= '0' && p.ptr[k] <= '9' && v < 10000)
				v = v * 10 + (unsigned)(p.ptr[k++] - '0');
			lo = hi = v;
			if (k < p.len && p.ptr[k] == ',') {
				k++;
				unsigned w = 0;
				while (k < p.len && p.ptr[k] >= '0' && p.ptr[k] <= '9' && w < 10000)
					w = w * 10 + (unsigned)(p.ptr[k++] - '0');
				hi = w < lo ? lo : w;
			}
			if (k >= p.len || p.ptr[k] != '}' || hi > 1000)
				goto bad;
			i = k + 1;
		}
		unsigned count = lo + (hi > lo ? hr_rand_below(hi - lo + 1) : 0);
		if (count && hr_buf_reserve(&b, count) == 0) {
			hr_rand_string(b.ptr + b.len, count, set, nset);
			b.len += count;
			if (b.len < b.cap)
				b.ptr[b.len] = '\0';
		}
	}
	*out = take_buf(a, &b);
	return true;
bad:
	hr_buf_dispose(&b);
	return false;
}

/* ---- conversions ------------------------------------------------------ */

void hr_field_write(hr_buf *b, const hr_field *f, const hr_val *v)
{
	switch (v->kind) {
	case HR_V_NUM:
		hr_json_write_number(b, v->n);
		return;
	case HR_V_BOOL:
		hr_buf_append_cstr(b, v->b ? "true" : "false");
		return;
	case HR_V_JSON:
		if (v->s.len)
			hr_buf_append_str(b, v->s);
		else
			hr_buf_append_cstr(b, hr_field_multi(f) ? "[]" : "null");
		return;
	case HR_V_TEXT:
		hr_json_write_string(b, v->s);
		return;
	default:
		hr_buf_append_cstr(b, f->type == HR_FT_JSON ? "null" : "\"\"");
	}
}

void hr_field_from_column(hr_arena *a, const hr_field *f, hr_db_stmt *st, int col, hr_val *out)
{
	hr_field_zero(f, out);
	int t = hr_db_column_type(st, col);
	if (t == HR_DB_NULL) {
		if (f->type == HR_FT_JSON)
			out->kind = HR_V_NULL;
		return;
	}
	switch (out->kind) {
	case HR_V_NUM:
		out->n = hr_db_column_double(st, col);
		return;
	case HR_V_BOOL:
		out->b = hr_db_column_int64(st, col) != 0;
		return;
	default:
		break;
	}
	if (f->type == HR_FT_JSON)
		out->kind = HR_V_JSON;
	out->s = sdup(a, hr_db_column_text(st, col));
}

int hr_field_bind(hr_db_stmt *st, int idx, const hr_val *v)
{
	switch (v->kind) {
	case HR_V_NUM:
		if (v->n == floor(v->n) && fabs(v->n) < 9007199254740992.0)
			return hr_db_bind_int64(st, idx, (int64_t)v->n);
		return hr_db_bind_double(st, idx, v->n);
	case HR_V_BOOL:
		return hr_db_bind_int64(st, idx, v->b ? 1 : 0);
	case HR_V_NULL:
		return hr_db_bind_null(st, idx);
	default:
		return hr_db_bind_text(st, idx, v->s);
	}
}

hr_json *hr_val_to_json(hr_arena *a, const hr_field *f, const hr_val *v)
{
	(void)f;
	switch (v->kind) {
	case HR_V_NUM:
		return hr_json_new_number(a, v->n);
	case HR_V_BOOL:
		return hr_json_new_bool(a, v->b);
	case HR_V_NULL:
		return hr_json_new_null(a);
	case HR_V_JSON: {
		hr_json *j;
		hr_json_error e;
		if (hr_json_parse(a, v->s.ptr, v->s.len, 10000, &j, &e) == 0)
			return j;
		return hr_json_new_null(a);
	}
	default:
		return hr_json_new_string(a, v->s);
	}
}
