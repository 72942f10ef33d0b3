/*
 * api/body.c - request bodies into one JSON object, the way the dialect
 * reads them (DIALECT.md §1.2). See body.h for the contract.
 *
 * DESIGN
 *   Dispatch is on the Content-Type by case-insensitive prefix, after
 *   leading OWS, as upstream's binder does with strings.HasPrefix:
 *     application/json                   -> one JSON object
 *     multipart/form-data                -> form values + files
 *     application/x-www-form-urlencoded  -> form values
 *   Anything else with a non-empty body (text/xml and application/xml
 *   included: the dialect makes them optional and nobody sends them) is
 *   HR_BODY_UNSUPPORTED. An empty body is an empty object whatever the
 *   type, checked first.
 *
 *   JSON goes through hr_json_parse with the caller's depth bound, so
 *   deep nesting costs heap, not stack; anything but an object is
 *   HR_BODY_BAD_JSON.
 *
 *   Forms are assembled in three steps, all linear: every "@jsonPayload"
 *   text part is parsed first (so a bad one fails the body whatever else
 *   it holds); then the text values are grouped by name through an
 *   open-addressing hash (FNV-1a) whose slots point at object members, so
 *   a repeated name becomes an array of its values in order, placed where
 *   the name first appeared; then each payload's members are set on top,
 *   in order: an existing key is replaced in place, a new one appended
 *   (json.Unmarshal into an existing map: top-level keys override, no deep
 *   merge). A part with a non-empty filename is a file (files[], not the
 *   object); a part with filename="" is a text value, as Go's
 *   multipart.ReadForm treats it (browsers send that for an empty file
 *   input).
 *
 *   Form value inference (§1.2): "" stays "", "true"/"false" become
 *   booleans, and a value made of '-', '.' and digits that starts with '-'
 *   or a digit becomes a number when the double it reads as prints back as
 *   exactly the same text. "Prints" is upstream's strconv.FormatFloat(v,
 *   'f', -1, 64): the shortest round-trip digits, which are the digits
 *   hr_json_write_number produces, but always laid out in plain notation.
 *   So we take the writer's output and re-lay exponent forms ("1e+21",
 *   "1e-7") in plain notation before comparing; "1000000000000000000000"
 *   and "0.0000001" therefore become numbers, as upstream has them. A
 *   candidate longer than any plain shortest double (327 bytes: -5e-324)
 *   is a string without parsing.
 *
 * MEMORY
 *   The result borrows the body: JSON trees do (core/json.h), and form
 *   strings, names and file bytes are slices of it (or of urlencoded
 *   decodings in the arena). Nodes, member arrays and the hash live in the
 *   arena. Any thread; one arena user at a time.
 *
 * CAVEATS
 *   Limits: HR_BODY_MAX_PARTS multipart parts (Go's multipart.ReadForm
 *   default, 1000) and HR_BODY_MAX_PAIRS urlencoded pairs; over either is
 *   HR_BODY_BAD_FORM, like any other malformed form. A "@jsonPayload" of
 *   `null` is refused (Go's json.Unmarshal would ignore it); the brief of
 *   the dialect is "holds a JSON object".
 */
#include "api/body.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

static const hr_str payload_key = {"@jsonPayload", sizeof("@jsonPayload") - 1};

static hr_json *new_node(hr_arena *a, hr_json_type t)
{
	hr_json *v = hr_arena_alloc(a, sizeof *v);
	if (v) {
		memset(v, 0, sizeof *v);
		v->type = t;
	}
	return v;
}

/* ------------------------------------------------------------------ */
/* Inference                                                           */
/* ------------------------------------------------------------------ */

/* The §1.2 number rule; *out set when v is a canonical number. */
static bool canonical_number(hr_str v, double *out)
{
	if (v.len == 0 || v.len > HR_JSON_PLAIN_MAX)
		return false;
	unsigned char c0 = (unsigned char)v.ptr[0];
	if (c0 != '-' && (unsigned)(c0 - '0') > 9u)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.ptr[i];
		if (c != '-' && c != '.' && (unsigned)(c - '0') > 9u)
			return false;
	}
	char buf[HR_JSON_PLAIN_MAX + 1];
	memcpy(buf, v.ptr, v.len);
	buf[v.len] = '\0';
	char *end;
	double d = strtod(buf, &end);
	/* Out of range reads as +-HUGE_VAL (Go: ErrRange); underflow needs no
	 * errno check: it cannot print back as the same text. */
	if (end != buf + v.len || !isfinite(d))
		return false;
	char fmt[HR_JSON_PLAIN_MAX + 16];
	size_t n = hr_json_format_plain(d, fmt);
	if (n != v.len || memcmp(fmt, v.ptr, n) != 0)
		return false;
	*out = d;
	return true;
}

hr_json *hr_body_infer(hr_arena *a, hr_str value)
{
	if (hr_str_eq_lit(value, "true"))
		return hr_json_new_bool(a, true);
	if (hr_str_eq_lit(value, "false"))
		return hr_json_new_bool(a, false);
	double d;
	if (canonical_number(value, &d))
		return hr_json_new_number(a, d);
	hr_json *s = new_node(a, HR_JSON_STRING);
	if (s)
		s->u.str = value.len ? value : HR_STR("");
	return s;
}

/* ------------------------------------------------------------------ */
/* Form assembly                                                       */
/* ------------------------------------------------------------------ */

typedef struct builder {
	hr_json_member *members;
	size_t n, cap;
	size_t *counts;	 /* values per member (text values only) */
	size_t *slots;	 /* hash: member index + 1, 0 = empty */
	size_t mask;
} builder;

static uint64_t fnv1a(hr_str s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.ptr[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Index of key's member, adding an empty one if absent. SIZE_MAX: full
 * (cannot happen: the table is sized for every key). */
static size_t lookup(builder *b, hr_str key, bool *added)
{
	size_t i = (size_t)fnv1a(key) & b->mask;
	for (size_t probes = 0; probes <= b->mask; probes++, i = (i + 1) & b->mask) {
		size_t s = b->slots[i];
		if (s == 0) {
			HR_ASSERT(b->n < b->cap);
			b->members[b->n] = (hr_json_member){key, NULL};
			b->counts[b->n] = 0;
			b->slots[i] = ++b->n;
			*added = true;
			return b->n - 1;
		}
		if (hr_str_eq(b->members[s - 1].key, key)) {
			*added = false;
			return s - 1;
		}
	}
	return SIZE_MAX;
}

static bool is_text(const hr_form_part *p)
{
	return !(p->is_file && p->filename.len);
}

static int build_form(hr_arena *a, const hr_form_part *parts, unsigned n, unsigned max_depth,
		      hr_body *out)
{
	/* 1. Payloads. */
	hr_json **payloads = NULL;
	size_t npay = 0, nkeys = 0, nfiles = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!is_text(&parts[i]))
			nfiles++;
		else if (hr_str_eq(parts[i].name, payload_key))
			npay++;
	}
	if (npay) {
		payloads = hr_arena_alloc(a, npay * sizeof *payloads);
		if (!payloads)
			return HR_BODY_NOMEM;
	}
	for (unsigned i = 0, k = 0; i < n; i++) {
		const hr_form_part *p = &parts[i];
		if (!is_text(p) || !hr_str_eq(p->name, payload_key))
			continue;
		hr_json *j;
		int rc = hr_json_parse(a, p->data.len ? p->data.ptr : "", p->data.len, max_depth, &j,
				       NULL);
		if (rc == HR_ENOMEM)
			return HR_BODY_NOMEM;
		if (rc == HR_ELIMIT)
			return HR_BODY_TOO_DEEP;
		if (rc != 0 || j->type != HR_JSON_OBJECT)
			return HR_BODY_BAD_JSON;
		payloads[k++] = j;
		nkeys += j->u.obj.len;
	}
	nkeys += n; /* text values: at most one key each */

	/* 2. Text values, grouped by name. */
	builder b = {.cap = nkeys};
	size_t tsize = 8;
	while (tsize < 2 * nkeys)
		tsize *= 2;
	b.mask = tsize - 1;
	b.members = hr_arena_alloc(a, (nkeys ? nkeys : 1) * sizeof *b.members);
	b.counts = hr_arena_alloc(a, (nkeys ? nkeys : 1) * sizeof *b.counts);
	b.slots = hr_arena_alloc(a, tsize * sizeof *b.slots);
	if (!b.members || !b.counts || !b.slots)
		return HR_BODY_NOMEM;
	memset(b.slots, 0, tsize * sizeof *b.slots);
	bool added;
	for (unsigned i = 0; i < n; i++) {
		const hr_form_part *p = &parts[i];
		if (!is_text(p) || hr_str_eq(p->name, payload_key))
			continue;
		size_t m = lookup(&b, p->name, &added);
		HR_ASSERT(m != SIZE_MAX);
		b.counts[m]++;
	}
	size_t ntext = b.n;
	for (size_t m = 0; m < ntext; m++) {
		if (b.counts[m] < 2)
			continue;
		hr_json *arr = new_node(a, HR_JSON_ARRAY);
		hr_json **items = hr_arena_alloc(a, b.counts[m] * sizeof *items);
		if (!arr || !items)
			return HR_BODY_NOMEM;
		arr->u.arr.items = items;
		b.members[m].value = arr;
	}
	for (unsigned i = 0; i < n; i++) {
		const hr_form_part *p = &parts[i];
		if (!is_text(p) || hr_str_eq(p->name, payload_key))
			continue;
		size_t m = lookup(&b, p->name, &added);
		hr_json *v = hr_body_infer(a, p->data);
		if (!v)
			return HR_BODY_NOMEM;
		if (b.counts[m] < 2) {
			b.members[m].value = v;
		} else {
			hr_json *arr = b.members[m].value;
			arr->u.arr.items[arr->u.arr.len++] = v;
		}
	}

	/* 3. Payloads on top, in order. */
	for (size_t k = 0; k < npay; k++) {
		const hr_json *j = payloads[k];
		for (size_t i = 0; i < j->u.obj.len; i++) {
			size_t m = lookup(&b, j->u.obj.members[i].key, &added);
			HR_ASSERT(m != SIZE_MAX);
			b.members[m].value = j->u.obj.members[i].value;
		}
	}

	hr_json *obj = new_node(a, HR_JSON_OBJECT);
	hr_body_file *files = NULL;
	if (nfiles)
		files = hr_arena_alloc(a, nfiles * sizeof *files);
	if (!obj || (nfiles && !files))
		return HR_BODY_NOMEM;
	obj->u.obj.members = b.members;
	obj->u.obj.len = b.n;
	for (unsigned i = 0, f = 0; i < n; i++) {
		const hr_form_part *p = &parts[i];
		if (is_text(p))
			continue;
		files[f++] = (hr_body_file){p->name, p->filename, p->content_type, p->data};
	}
	out->obj = obj;
	out->files = files;
	out->nfiles = (unsigned)nfiles;
	return HR_BODY_OK;
}

/* ------------------------------------------------------------------ */
/* Entry point                                                         */
/* ------------------------------------------------------------------ */

int hr_body_read(hr_arena *a, hr_str content_type, hr_str body, unsigned max_depth, hr_body *out)
{
	if (body.len == 0) {
		hr_json *obj = new_node(a, HR_JSON_OBJECT);
		if (!obj)
			return HR_BODY_NOMEM;
		*out = (hr_body){obj, NULL, 0};
		return HR_BODY_OK;
	}
	hr_str ct = content_type;
	while (ct.len && (ct.ptr[0] == ' ' || ct.ptr[0] == '\t')) {
		ct.ptr++;
		ct.len--;
	}
	if (hr_str_istarts(ct, HR_STR("application/json"))) {
		hr_json *j;
		int rc = hr_json_parse(a, body.ptr, body.len, max_depth, &j, NULL);
		if (rc == HR_ENOMEM)
			return HR_BODY_NOMEM;
		if (rc == HR_ELIMIT)
			return HR_BODY_TOO_DEEP;
		if (rc != 0 || j->type != HR_JSON_OBJECT)
			return HR_BODY_BAD_JSON;
		*out = (hr_body){j, NULL, 0};
		return HR_BODY_OK;
	}
	hr_form_part *parts = NULL;
	unsigned n = 0;
	int rc;
	if (hr_str_istarts(ct, HR_STR("multipart/form-data"))) {
		hr_str boundary;
		if (hr_multipart_boundary(ct, &boundary) != 0)
			return HR_BODY_BAD_FORM;
		rc = hr_multipart_parse(a, body, boundary, HR_BODY_MAX_PARTS, &parts, &n, NULL);
	} else if (hr_str_istarts(ct, HR_STR("application/x-www-form-urlencoded"))) {
		rc = hr_urlencoded_parse(a, body, HR_BODY_MAX_PAIRS, &parts, &n, NULL);
	} else {
		return HR_BODY_UNSUPPORTED;
	}
	if (rc == HR_ENOMEM)
		return HR_BODY_NOMEM;
	if (rc != 0)
		return HR_BODY_BAD_FORM;
	return build_form(a, parts, n, max_depth, out);
}
