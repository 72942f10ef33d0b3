/*
 * db/schema.c - collections <-> JSON <-> tables. See schema.h.
 *
 * MIGRATIONS use SQLite's ALTER TABLE (RENAME TO, ADD/RENAME/DROP COLUMN,
 * all available since 3.35) rather than rebuilding tables, so large
 * collections migrate in time proportional to the change. Indexes are
 * dropped before column changes and recreated after (a column that an
 * index uses cannot be dropped), which is also where a new unique index
 * over duplicate values fails: the caller's transaction then rolls
 * everything back, table and _collections row alike.
 *
 * Index statements from clients are parsed into (unique, name, columns,
 * where) and regenerated, so the only client text that reaches SQL
 * verbatim is an index's WHERE clause and a view's SELECT, both from
 * superusers only, and both prepared as a single statement (SQLite refuses
 * a second statement in prepare, and we check the tail).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "db/schema.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/rand.h"
#include "core/time.h"

/* ---- names and types -------------------------------------------------- */

bool hr_schema_valid_name(hr_str s, size_t max)
{
	if (s.len == 0 || s.len > max)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

static const char *const type_names[HR_FT__COUNT] = {
	[HR_FT_TEXT] = "text",	       [HR_FT_NUMBER] = "number",   [HR_FT_BOOL] = "bool",
	[HR_FT_EMAIL] = "email",       [HR_FT_URL] = "url",	    [HR_FT_EDITOR] = "editor",
	[HR_FT_DATE] = "date",	       [HR_FT_AUTODATE] = "autodate", [HR_FT_SELECT] = "select",
	[HR_FT_JSON] = "json",	       [HR_FT_RELATION] = "relation", [HR_FT_FILE] = "file",
	[HR_FT_PASSWORD] = "password", [HR_FT_GEOPOINT] = "geoPoint",
};

const char *hr_field_type_name(int type)
{
	return type > 0 && type < HR_FT__COUNT ? type_names[type] : "";
}

int hr_field_type_from(hr_str name)
{
	for (int t = 1; t < HR_FT__COUNT; t++)
		if (hr_str_eq(name, hr_str_make(type_names[t], strlen(type_names[t]))))
			return t;
	return 0;
}

bool hr_field_multi(const hr_field *f)
{
	return (f->type == HR_FT_SELECT || f->type == HR_FT_RELATION || f->type == HR_FT_FILE) &&
	       f->max_select >= 2;
}

const char *hr_field_sql_type(const hr_field *f)
{
	if (f->primary_key)
		return "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL";
	if (hr_field_multi(f))
		return "JSON DEFAULT '[]' NOT NULL";
	switch (f->type) {
	case HR_FT_NUMBER:
		return "NUMERIC DEFAULT 0 NOT NULL";
	case HR_FT_BOOL:
		return "BOOLEAN DEFAULT FALSE NOT NULL";
	case HR_FT_JSON:
		return "JSON DEFAULT NULL";
	case HR_FT_GEOPOINT:
		return "JSON DEFAULT '{\"lon\":0,\"lat\":0}' NOT NULL";
	default:
		return "TEXT DEFAULT '' NOT NULL";
	}
}

/* ---- lookups ---------------------------------------------------------- */

const hr_collection *hr_schema_find(const hr_schema *s, hr_str key)
{
	if (!s)
		return NULL;
	for (unsigned i = 0; i < s->n; i++)
		if (hr_str_eq(s->cols[i].id, key))
			return &s->cols[i];
	for (unsigned i = 0; i < s->n; i++)
		if (hr_str_ieq(s->cols[i].name, key))
			return &s->cols[i];
	return NULL;
}

int hr_coll_field_index(const hr_collection *c, hr_str name)
{
	for (unsigned i = 0; i < c->nfields; i++)
		if (hr_str_eq(c->fields[i].name, name))
			return (int)i;
	return -1;
}

const hr_field *hr_coll_field(const hr_collection *c, hr_str name)
{
	int i = hr_coll_field_index(c, name);
	return i >= 0 ? &c->fields[i] : NULL;
}

/* ---- JSON in ---------------------------------------------------------- */

static hr_str dup_str(hr_arena *a, hr_str s)
{
	char *p = hr_arena_dup(a, s.ptr, s.len);
	return p ? hr_str_make(p, s.len) : HR_STR("");
}

/* Reads an optional string member; wrong type -> false. */
static bool get_str(hr_arena *a, const hr_json *o, const char *key, hr_str *out)
{
	hr_json *v = hr_json_get(o, key);
	if (!v || v->type == HR_JSON_NULL) {
		*out = HR_STR("");
		return true;
	}
	if (v->type != HR_JSON_STRING)
		return false;
	*out = dup_str(a, v->u.str);
	return true;
}

static bool get_bool(const hr_json *o, const char *key, bool *out)
{
	hr_json *v = hr_json_get(o, key);
	if (!v || v->type == HR_JSON_NULL) {
		*out = false;
		return true;
	}
	if (v->type != HR_JSON_TRUE && v->type != HR_JSON_FALSE)
		return false;
	*out = v->type == HR_JSON_TRUE;
	return true;
}

static bool get_num(const hr_json *o, const char *key, bool *present, double *out)
{
	hr_json *v = hr_json_get(o, key);
	if (!v || v->type == HR_JSON_NULL) {
		*present = false;
		*out = 0;
		return true;
	}
	if (v->type != HR_JSON_NUMBER)
		return false;
	*present = true;
	*out = v->u.n.num;
	return true;
}

static bool get_int(const hr_json *o, const char *key, int64_t *out)
{
	bool p;
	double d;
	if (!get_num(o, key, &p, &d))
		return false;
	if (d != d || d > 9e15 || d < -9e15)
		return false;
	*out = (int64_t)d;
	return true;
}

static bool get_strs(hr_arena *a, const hr_json *o, const char *key, hr_strs *out)
{
	hr_json *v = hr_json_get(o, key);
	out->v = NULL;
	out->n = 0;
	if (!v || v->type == HR_JSON_NULL)
		return true;
	if (v->type != HR_JSON_ARRAY)
		return false;
	if (v->u.arr.len == 0)
		return true;
	out->v = hr_arena_alloc(a, v->u.arr.len * sizeof(hr_str));
	if (!out->v)
		return false;
	for (size_t i = 0; i < v->u.arr.len; i++) {
		hr_json *e = v->u.arr.items[i];
		if (e->type != HR_JSON_STRING)
			return false;
		out->v[out->n++] = dup_str(a, e->u.str);
	}
	return true;
}

static int field_from_json(hr_arena *a, const hr_json *j, hr_field *f, const char **what)
{
	memset(f, 0, sizeof *f);
	if (!j || j->type != HR_JSON_OBJECT) {
		*what = "fields";
		return HR_EPARSE;
	}
	hr_str type;
	int64_t i64;
	if (!get_str(a, j, "type", &type)) {
		*what = "type";
		return HR_EPARSE;
	}
	f->type = hr_field_type_from(type);
#define S(key, dst)                                     \
	if (!get_str(a, j, key, dst)) {                 \
		*what = key;                            \
		return HR_EPARSE;                       \
	}
#define B(key, dst)                                     \
	if (!get_bool(j, key, dst)) {                   \
		*what = key;                            \
		return HR_EPARSE;                       \
	}
#define I(key, dst)                                     \
	if (!get_int(j, key, &i64)) {                   \
		*what = key;                            \
		return HR_EPARSE;                       \
	}                                               \
	dst = i64;
#define L(key, dst)                                     \
	if (!get_strs(a, j, key, dst)) {                \
		*what = key;                            \
		return HR_EPARSE;                       \
	}
	S("id", &f->id);
	S("name", &f->name);
	B("system", &f->system);
	B("hidden", &f->hidden);
	B("presentable", &f->presentable);
	B("required", &f->required);
	S("help", &f->help);
	switch (f->type) {
	case HR_FT_TEXT:
	case HR_FT_PASSWORD:
		I("min", f->min);
		I("max", f->max);
		S("pattern", &f->pattern);
		if (f->type == HR_FT_TEXT) {
			S("autogeneratePattern", &f->autogen);
			B("primaryKey", &f->primary_key);
		} else {
			I("cost", f->cost);
		}
		break;
	case HR_FT_NUMBER:
		if (!get_num(j, "min", &f->has_nmin, &f->nmin) ||
		    !get_num(j, "max", &f->has_nmax, &f->nmax)) {
			*what = "min";
			return HR_EPARSE;
		}
		B("onlyInt", &f->only_int);
		break;
	case HR_FT_EMAIL:
	case HR_FT_URL:
		L("onlyDomains", &f->only_domains);
		L("exceptDomains", &f->except_domains);
		break;
	case HR_FT_EDITOR:
		I("maxSize", f->max_size);
		B("convertURLs", &f->convert_urls);
		break;
	case HR_FT_DATE:
		S("min", &f->dmin);
		S("max", &f->dmax);
		break;
	case HR_FT_AUTODATE:
		B("onCreate", &f->on_create);
		B("onUpdate", &f->on_update);
		break;
	case HR_FT_SELECT:
		L("values", &f->values);
		I("maxSelect", f->max_select);
		break;
	case HR_FT_JSON:
		I("maxSize", f->max_size);
		break;
	case HR_FT_RELATION:
		S("collectionId", &f->collection_id);
		B("cascadeDelete", &f->cascade_delete);
		I("minSelect", f->min_select);
		I("maxSelect", f->max_select);
		break;
	case HR_FT_FILE:
		I("maxSelect", f->max_select);
		I("maxSize", f->max_size);
		L("mimeTypes", &f->mime_types);
		L("thumbs", &f->thumbs);
		B("protected", &f->protected_file);
		break;
	default:
		break;
	}
#undef S
#undef B
#undef I
#undef L
	return 0;
}

static const char *const rule_keys[HR_RULE__COUNT] = {
	"listRule", "viewRule", "createRule", "updateRule", "deleteRule", "authRule", "manageRule",
};

int hr_collection_from_json(hr_arena *a, const hr_json *j, hr_collection *c, const char **what)
{
	memset(c, 0, sizeof *c);
	*what = "";
	if (!j || j->type != HR_JSON_OBJECT)
		return HR_EPARSE;
	hr_str type;
	if (!get_str(a, j, "id", &c->id)) {
		*what = "id";
		return HR_EPARSE;
	}
	if (!get_str(a, j, "name", &c->name)) {
		*what = "name";
		return HR_EPARSE;
	}
	if (!get_str(a, j, "type", &type)) {
		*what = "type";
		return HR_EPARSE;
	}
	c->type = hr_str_eq_lit(type, "auth")   ? HR_COLL_AUTH
		  : hr_str_eq_lit(type, "view") ? HR_COLL_VIEW
		  : hr_str_eq_lit(type, "base") || type.len == 0 ? HR_COLL_BASE
								  : 0;
	if (!get_bool(j, "system", &c->system)) {
		*what = "system";
		return HR_EPARSE;
	}
	for (int r = 0; r < HR_RULE__COUNT; r++) {
		hr_json *v = hr_json_get(j, rule_keys[r]);
		if (!v || v->type == HR_JSON_NULL) {
			c->rule_set[r] = false;
			/* authRule defaults to "" (anyone who proves the password) */
			if (r == HR_RULE_AUTH && !v) {
				c->rule_set[r] = true;
				c->rules[r] = HR_STR("");
			}
			continue;
		}
		if (v->type != HR_JSON_STRING) {
			*what = rule_keys[r];
			return HR_EPARSE;
		}
		c->rule_set[r] = true;
		c->rules[r] = dup_str(a, v->u.str);
	}
	if (!get_strs(a, j, "indexes", &c->indexes)) {
		*what = "indexes";
		return HR_EPARSE;
	}
	if (!get_str(a, j, "viewQuery", &c->view_query)) {
		*what = "viewQuery";
		return HR_EPARSE;
	}
	if (!get_str(a, j, "created", &c->created) || !get_str(a, j, "updated", &c->updated)) {
		*what = "created";
		return HR_EPARSE;
	}
	hr_json *fs = hr_json_get(j, "fields");
	if (fs && fs->type != HR_JSON_NULL) {
		if (fs->type != HR_JSON_ARRAY) {
			*what = "fields";
			return HR_EPARSE;
		}
		c->fields = hr_arena_alloc(a, (fs->u.arr.len + 1) * sizeof(hr_field));
		if (!c->fields)
			return HR_ENOMEM;
		for (size_t i = 0; i < fs->u.arr.len; i++) {
			int rc = field_from_json(a, fs->u.arr.items[i], &c->fields[i], what);
			if (rc)
				return rc;
		}
		c->nfields = (unsigned)fs->u.arr.len;
	}
	hr_json *opts = hr_json_get(j, "options");
	c->options = opts && opts->type == HR_JSON_OBJECT ? opts : NULL;
	return 0;
}

/* ---- JSON out --------------------------------------------------------- */

static void w_key(hr_buf *b, const char *k, bool *first)
{
	if (!*first)
		hr_buf_append_char(b, ',');
	*first = false;
	hr_buf_append_char(b, '"');
	hr_buf_append_cstr(b, k);
	hr_buf_append_cstr(b, "\":");
}

static void w_str(hr_buf *b, const char *k, hr_str v, bool *first)
{
	w_key(b, k, first);
	hr_json_write_string(b, v);
}

static void w_bool(hr_buf *b, const char *k, bool v, bool *first)
{
	w_key(b, k, first);
	hr_buf_append_cstr(b, v ? "true" : "false");
}

static void w_int(hr_buf *b, const char *k, int64_t v, bool *first)
{
	w_key(b, k, first);
	hr_buf_append_i64(b, v);
}

static void w_strs(hr_buf *b, const char *k, const hr_strs *v, bool null_when_empty, bool *first)
{
	w_key(b, k, first);
	if (v->n == 0 && null_when_empty) {
		hr_buf_append_cstr(b, "null");
		return;
	}
	hr_buf_append_char(b, '[');
	for (unsigned i = 0; i < v->n; i++) {
		if (i)
			hr_buf_append_char(b, ',');
		hr_json_write_string(b, v->v[i]);
	}
	hr_buf_append_char(b, ']');
}

void hr_field_to_json(hr_buf *b, const hr_field *f)
{
	bool first = true;
	hr_buf_append_char(b, '{');
	/* Keys in lexicographic order per type (DIALECT.md §3.1). */
	switch (f->type) {
	case HR_FT_TEXT:
		w_str(b, "autogeneratePattern", f->autogen, &first);
		w_str(b, "help", f->help, &first);
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_int(b, "max", f->max, &first);
		w_int(b, "min", f->min, &first);
		w_str(b, "name", f->name, &first);
		w_str(b, "pattern", f->pattern, &first);
		w_bool(b, "presentable", f->presentable, &first);
		w_bool(b, "primaryKey", f->primary_key, &first);
		w_bool(b, "required", f->required, &first);
		break;
	case HR_FT_PASSWORD:
		w_int(b, "cost", f->cost, &first);
		w_str(b, "help", f->help, &first);
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_int(b, "max", f->max, &first);
		w_int(b, "min", f->min, &first);
		w_str(b, "name", f->name, &first);
		w_str(b, "pattern", f->pattern, &first);
		w_bool(b, "presentable", f->presentable, &first);
		w_bool(b, "required", f->required, &first);
		break;
	case HR_FT_NUMBER:
		w_str(b, "help", f->help, &first);
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_key(b, "max", &first);
		if (f->has_nmax)
			hr_json_write_number(b, f->nmax);
		else
			hr_buf_append_cstr(b, "null");
		w_key(b, "min", &first);
		if (f->has_nmin)
			hr_json_write_number(b, f->nmin);
		else
			hr_buf_append_cstr(b, "null");
		w_str(b, "name", f->name, &first);
		w_bool(b, "onlyInt", f->only_int, &first);
		w_bool(b, "presentable", f->presentable, &first);
		w_bool(b, "required", f->required, &first);
		break;
	case HR_FT_EMAIL:
	case HR_FT_URL:
		w_strs(b, "exceptDomains", &f->except_domains, true, &first);
		w_str(b, "help", f->help, &first);
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_str(b, "name", f->name, &first);
		w_strs(b, "onlyDomains", &f->only_domains, true, &first);
		w_bool(b, "presentable", f->presentable, &first);
		w_bool(b, "required", f->required, &first);
		break;
	case HR_FT_EDITOR:
		w_bool(b, "convertURLs", f->convert_urls, &first);
		w_str(b, "help", f->help, &first);
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_int(b, "maxSize", f->max_size, &first);
		w_str(b, "name", f->name, &first);
		w_bool(b, "presentable", f->presentable, &first);
		w_bool(b, "required", f->required, &first);
		break;
	case HR_FT_DATE:
		w_str(b, "help", f->help, &first);
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_str(b, "max", f->dmax, &first);
		w_str(b, "min", f->dmin, &first);
		w_str(b, "name", f->name, &first);
		w_bool(b, "presentable", f->presentable, &first);
		w_bool(b, "required", f->required, &first);
		break;
	case HR_FT_AUTODATE:
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_str(b, "name", f->name, &first);
		w_bool(b, "onCreate", f->on_create, &first);
		w_bool(b, "onUpdate", f->on_update, &first);
		w_bool(b, "presentable", f->presentable, &first);
		break;
	case HR_FT_SELECT:
		w_str(b, "help", f->help, &first);
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_int(b, "maxSelect", f->max_select, &first);
		w_str(b, "name", f->name, &first);
		w_bool(b, "presentable", f->presentable, &first);
		w_bool(b, "required", f->required, &first);
		break;
	case HR_FT_JSON:
		w_str(b, "help", f->help, &first);
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_int(b, "maxSize", f->max_size, &first);
		w_str(b, "name", f->name, &first);
		w_bool(b, "presentable", f->presentable, &first);
		w_bool(b, "required", f->required, &first);
		break;
	case HR_FT_RELATION:
		w_bool(b, "cascadeDelete", f->cascade_delete, &first);
		w_str(b, "collectionId", f->collection_id, &first);
		w_str(b, "help", f->help, &first);
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_int(b, "maxSelect", f->max_select, &first);
		w_int(b, "minSelect", f->min_select, &first);
		w_str(b, "name", f->name, &first);
		w_bool(b, "presentable", f->presentable, &first);
		w_bool(b, "required", f->required, &first);
		break;
	case HR_FT_FILE:
		w_str(b, "help", f->help, &first);
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_int(b, "maxSelect", f->max_select, &first);
		w_int(b, "maxSize", f->max_size, &first);
		w_strs(b, "mimeTypes", &f->mime_types, false, &first);
		w_str(b, "name", f->name, &first);
		w_bool(b, "presentable", f->presentable, &first);
		w_bool(b, "protected", f->protected_file, &first);
		w_bool(b, "required", f->required, &first);
		break;
	default: /* bool, geoPoint */
		w_str(b, "help", f->help, &first);
		w_bool(b, "hidden", f->hidden, &first);
		w_str(b, "id", f->id, &first);
		w_str(b, "name", f->name, &first);
		w_bool(b, "presentable", f->presentable, &first);
		w_bool(b, "required", f->required, &first);
		break;
	}
	w_bool(b, "system", f->system, &first);
	if (f->type == HR_FT_FILE)
		w_strs(b, "thumbs", &f->thumbs, false, &first);
	w_str(b, "type", hr_str_make(hr_field_type_name(f->type), strlen(hr_field_type_name(f->type))),
	      &first);
	if (f->type == HR_FT_SELECT)
		w_strs(b, "values", &f->values, false, &first);
	hr_buf_append_char(b, '}');
}

/* Writes an options object, dropping "secret"/"clientSecret" keys at any depth. */
static void write_public(hr_buf *b, const hr_json *v)
{
	if (v->type == HR_JSON_OBJECT) {
		hr_buf_append_char(b, '{');
		bool first = true;
		for (size_t i = 0; i < v->u.obj.len; i++) {
			hr_str k = v->u.obj.members[i].key;
			if (hr_str_eq_lit(k, "secret") || hr_str_eq_lit(k, "clientSecret"))
				continue;
			if (!first)
				hr_buf_append_char(b, ',');
			first = false;
			hr_json_write_string(b, k);
			hr_buf_append_char(b, ':');
			write_public(b, v->u.obj.members[i].value);
		}
		hr_buf_append_char(b, '}');
	} else if (v->type == HR_JSON_ARRAY) {
		hr_buf_append_char(b, '[');
		for (size_t i = 0; i < v->u.arr.len; i++) {
			if (i)
				hr_buf_append_char(b, ',');
			write_public(b, v->u.arr.items[i]);
		}
		hr_buf_append_char(b, ']');
	} else {
		hr_json_write(b, v);
	}
}

static void w_rule(hr_buf *b, const hr_collection *c, int r, bool *first)
{
	w_key(b, rule_keys[r], first);
	if (c->rule_set[r])
		hr_json_write_string(b, c->rules[r]);
	else
		hr_buf_append_cstr(b, "null");
}

void hr_collection_to_json(hr_buf *b, const hr_collection *c, bool with_secrets)
{
	bool first = true;
	hr_buf_append_char(b, '{');
	w_str(b, "id", c->id, &first);
	for (int r = HR_RULE_LIST; r <= HR_RULE_DELETE; r++)
		w_rule(b, c, r, &first);
	w_str(b, "name", c->name, &first);
	w_str(b, "type",
	      c->type == HR_COLL_AUTH	? HR_STR("auth")
	      : c->type == HR_COLL_VIEW ? HR_STR("view")
					: HR_STR("base"),
	      &first);
	w_key(b, "fields", &first);
	hr_buf_append_char(b, '[');
	for (unsigned i = 0; i < c->nfields; i++) {
		if (i)
			hr_buf_append_char(b, ',');
		hr_field_to_json(b, &c->fields[i]);
	}
	hr_buf_append_char(b, ']');
	w_strs(b, "indexes", &c->indexes, false, &first);
	w_str(b, "created", c->created, &first);
	w_str(b, "updated", c->updated, &first);
	w_bool(b, "system", c->system, &first);
	if (c->type == HR_COLL_VIEW)
		w_str(b, "viewQuery", c->view_query, &first);
	if (c->type == HR_COLL_AUTH) {
		w_rule(b, c, HR_RULE_AUTH, &first);
		w_rule(b, c, HR_RULE_MANAGE, &first);
		if (c->options) {
			for (size_t i = 0; i < c->options->u.obj.len; i++) {
				const hr_json_member *m = &c->options->u.obj.members[i];
				if (hr_str_eq_lit(m->key, "authRule") ||
				    hr_str_eq_lit(m->key, "manageRule"))
					continue;
				hr_buf_append_char(b, ',');
				hr_json_write_string(b, m->key);
				hr_buf_append_char(b, ':');
				if (with_secrets)
					hr_json_write(b, m->value);
				else
					write_public(b, m->value);
			}
		}
	}
	hr_buf_append_char(b, '}');
}

/* ---- patterns --------------------------------------------------------- */

int hr_collection_compile(hr_collection *c, unsigned *bad)
{
	for (unsigned i = 0; i < c->nfields; i++) {
		hr_field *f = &c->fields[i];
		f->re = NULL;
		if (f->pattern.len == 0)
			continue;
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)f->pattern.ptr, f->pattern.len, PCRE2_UTF,
					       &ec, &eo, NULL);
		if (!re) {
			*bad = i;
			return HR_EPARSE;
		}
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
		f->re = re;
	}
	return 0;
}

void hr_collection_release(hr_collection *c)
{
	for (unsigned i = 0; i < c->nfields; i++)
		if (c->fields[i].re) {
			pcre2_code_free(c->fields[i].re);
			c->fields[i].re = NULL;
		}
}

/* ---- load ------------------------------------------------------------- */

static const char SYSTEM_TABLES[] =
	"CREATE TABLE IF NOT EXISTS _collections ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" system BOOLEAN DEFAULT FALSE NOT NULL,"
	" type TEXT DEFAULT 'base' NOT NULL,"
	" name TEXT NOT NULL,"
	" fields JSON DEFAULT '[]' NOT NULL,"
	" indexes JSON DEFAULT '[]' NOT NULL,"
	" listRule TEXT DEFAULT NULL,"
	" viewRule TEXT DEFAULT NULL,"
	" createRule TEXT DEFAULT NULL,"
	" updateRule TEXT DEFAULT NULL,"
	" deleteRule TEXT DEFAULT NULL,"
	" options JSON DEFAULT '{}' NOT NULL,"
	" created TEXT DEFAULT '' NOT NULL,"
	" updated TEXT DEFAULT '' NOT NULL);"
	"CREATE UNIQUE INDEX IF NOT EXISTS _collections_name_idx ON _collections (name COLLATE NOCASE);"
	"CREATE TABLE IF NOT EXISTS _params ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" value JSON DEFAULT NULL,"
	" created TEXT DEFAULT '' NOT NULL,"
	" updated TEXT DEFAULT '' NOT NULL);"
	/* one-time passwords (api/flows.c): hashed code, expiry in Unix ms */
	"CREATE TABLE IF NOT EXISTS _otps ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" collectionRef TEXT NOT NULL,"
	" recordRef TEXT NOT NULL,"
	" password TEXT NOT NULL,"
	" sentTo TEXT DEFAULT '' NOT NULL,"
	" created TEXT DEFAULT '' NOT NULL,"
	" expires INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS _otps_record_idx ON _otps (collectionRef, recordRef);"
	"CREATE TABLE IF NOT EXISTS _mfas ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" collectionRef TEXT NOT NULL,"
	" recordRef TEXT NOT NULL,"
	" method TEXT NOT NULL,"
	" created TEXT DEFAULT '' NOT NULL,"
	" expires INTEGER NOT NULL);";

static const char LOAD_SQL[] =
	"SELECT id, system, type, name, fields, indexes, listRule, viewRule, createRule, "
	"updateRule, deleteRule, options, created, updated FROM _collections ORDER BY rowid";

/* Builds a JSON object text for one row so that from_json has one input form. */
static int row_to_collection(hr_arena *a, hr_db_stmt *st, hr_collection *c)
{
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_buf_append_cstr(&b, "{\"id\":");
	hr_json_write_string(&b, hr_db_column_text(st, 0));
	hr_buf_append_cstr(&b, ",\"system\":");
	hr_buf_append_cstr(&b, hr_db_column_int64(st, 1) ? "true" : "false");
	hr_buf_append_cstr(&b, ",\"type\":");
	hr_json_write_string(&b, hr_db_column_text(st, 2));
	hr_buf_append_cstr(&b, ",\"name\":");
	hr_json_write_string(&b, hr_db_column_text(st, 3));
	hr_buf_append_cstr(&b, ",\"fields\":");
	hr_buf_append_str(&b, hr_db_column_text(st, 4));
	hr_buf_append_cstr(&b, ",\"indexes\":");
	hr_buf_append_str(&b, hr_db_column_text(st, 5));
	for (int r = 0; r < 5; r++) {
		hr_buf_printf(&b, ",\"%s\":", rule_keys[r]);
		if (hr_db_column_type(st, 6 + r) == HR_DB_NULL)
			hr_buf_append_cstr(&b, "null");
		else
			hr_json_write_string(&b, hr_db_column_text(st, 6 + r));
	}
	hr_buf_append_cstr(&b, ",\"options\":");
	hr_buf_append_str(&b, hr_db_column_text(st, 11));
	hr_buf_append_cstr(&b, ",\"created\":");
	hr_json_write_string(&b, hr_db_column_text(st, 12));
	hr_buf_append_cstr(&b, ",\"updated\":");
	hr_json_write_string(&b, hr_db_column_text(st, 13));
	hr_buf_append_char(&b, '}');
	if (b.err) {
		hr_buf_dispose(&b);
		return HR_ENOMEM;
	}
	char *copy = hr_arena_dup(a, b.ptr, b.len);
	size_t len = b.len;
	hr_buf_dispose(&b);
	if (!copy)
		return HR_ENOMEM;
	hr_json *j;
	hr_json_error je;
	int rc = hr_json_parse(a, copy, len, 64, &j, &je);
	if (rc)
		return rc;
	const char *what;
	rc = hr_collection_from_json(a, j, c, &what);
	if (rc)
		return rc;
	/* Options carry the auth rules (auth collections) and the view query. */
	if (c->options) {
		hr_json *vq = hr_json_get(c->options, "viewQuery");
		if (vq && vq->type == HR_JSON_STRING)
			c->view_query = vq->u.str;
		for (int r = HR_RULE_AUTH; r <= HR_RULE_MANAGE; r++) {
			hr_json *v = hr_json_get(c->options, rule_keys[r]);
			if (!v)
				continue;
			c->rule_set[r] = v->type == HR_JSON_STRING;
			c->rules[r] = v->type == HR_JSON_STRING ? v->u.str : HR_STR("");
		}
	}
	return 0;
}

int hr_schema_load(hr_db *db, uint64_t generation, hr_schema **out, hr_db_error *err)
{
	hr_schema *s = hr_xcalloc(1, sizeof *s);
	hr_arena_init(&s->arena, NULL, 0, 0);
	s->generation = generation;
	hr_db_stmt *st;
	int rc = hr_db_prepare(db, HR_STR(LOAD_SQL), &st, err);
	if (rc) {
		free(s);
		return rc;
	}
	unsigned cap = 16;
	s->cols = malloc(cap * sizeof *s->cols);
	while ((rc = hr_db_step(st, err)) == HR_DB_ROW) {
		if (s->n == cap) {
			cap *= 2;
			s->cols = hr_xrealloc(s->cols, cap * sizeof *s->cols);
		}
		hr_collection *c = &s->cols[s->n];
		if (row_to_collection(&s->arena, st, c) != 0) {
			if (err) {
				err->code = HR_EPARSE;
				snprintf(err->msg, sizeof err->msg, "corrupt _collections row %u", s->n);
			}
			rc = HR_EPARSE;
			break;
		}
		unsigned bad;
		if (hr_collection_compile(c, &bad) != 0)
			c->fields[bad].pattern = HR_STR(""); /* stored, so it compiled once */
		s->n++;
	}
	hr_db_release(st);
	if (rc < 0) {
		hr_schema_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void hr_schema_free(hr_schema *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++)
		hr_collection_release(&s->cols[i]);
	free(s->cols);
	hr_arena_dispose(&s->arena);
	free(s);
}

/* ---- indexes ---------------------------------------------------------- */

typedef struct idx_col {
	hr_str name, collate;
	bool desc, has_sort;
} idx_col;

typedef struct idx_info {
	bool unique;
	hr_str name, table;
	idx_col cols[32];
	unsigned ncols;
	hr_str where;
} idx_info;

static void skip_ws(hr_str s, size_t *i)
{
	while (*i < s.len && (s.ptr[*i] == ' ' || s.ptr[*i] == '\t' || s.ptr[*i] == '\n' ||
			      s.ptr[*i] == '\r'))
		(*i)++;
}

static bool kw(hr_str s, size_t *i, const char *word)
{
	size_t n = strlen(word);
	skip_ws(s, i);
	if (s.len - *i < n || !hr_str_ieq(hr_str_make(s.ptr + *i, n), hr_str_make(word, n)))
		return false;
	if (*i + n < s.len) {
		char c = s.ptr[*i + n];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
			return false;
	}
	*i += n;
	return true;
}

/* An identifier: `x`, "x", [x] or a bare word; must be a valid name. */
static bool ident(hr_str s, size_t *i, hr_str *out)
{
	skip_ws(s, i);
	if (*i >= s.len)
		return false;
	char open = s.ptr[*i], close = open == '[' ? ']' : open;
	size_t start, end;
	if (open == '`' || open == '"' || open == '[') {
		start = ++(*i);
		while (*i < s.len && s.ptr[*i] != close)
			(*i)++;
		if (*i >= s.len)
			return false;
		end = (*i)++;
	} else {
		start = *i;
		while (*i < s.len && ((s.ptr[*i] >= 'a' && s.ptr[*i] <= 'z') ||
				      (s.ptr[*i] >= 'A' && s.ptr[*i] <= 'Z') ||
				      (s.ptr[*i] >= '0' && s.ptr[*i] <= '9') || s.ptr[*i] == '_'))
			(*i)++;
		end = *i;
	}
	*out = hr_str_make(s.ptr + start, end - start);
	return hr_schema_valid_name(*out, 255);
}

static bool parse_index(hr_str s, idx_info *x)
{
	memset(x, 0, sizeof *x);
	size_t i = 0;
	if (!kw(s, &i, "CREATE"))
		return false;
	x->unique = kw(s, &i, "UNIQUE");
	if (!kw(s, &i, "INDEX"))
		return false;
	if (kw(s, &i, "IF")) {
		if (!kw(s, &i, "NOT") || !kw(s, &i, "EXISTS"))
			return false;
	}
	if (!ident(s, &i, &x->name) || !kw(s, &i, "ON") || !ident(s, &i, &x->table))
		return false;
	skip_ws(s, &i);
	if (i >= s.len || s.ptr[i] != '(')
		return false;
	i++;
	for (;;) {
		if (x->ncols == HR_ARRAY_LEN(x->cols))
			return false;
		idx_col *c = &x->cols[x->ncols++];
		if (!ident(s, &i, &c->name))
			return false;
		if (kw(s, &i, "COLLATE") && !ident(s, &i, &c->collate))
			return false;
		if (kw(s, &i, "ASC")) {
			c->has_sort = true;
		} else if (kw(s, &i, "DESC")) {
			c->has_sort = c->desc = true;
		}
		skip_ws(s, &i);
		if (i < s.len && s.ptr[i] == ',') {
			i++;
			continue;
		}
		if (i < s.len && s.ptr[i] == ')') {
			i++;
			break;
		}
		return false;
	}
	if (kw(s, &i, "WHERE")) {
		skip_ws(s, &i);
		size_t e = s.len;
		while (e > i && (s.ptr[e - 1] == ' ' || s.ptr[e - 1] == ';' || s.ptr[e - 1] == '\n'))
			e--;
		x->where = hr_str_make(s.ptr + i, e - i);
		if (x->where.len == 0 || memchr(x->where.ptr, ';', x->where.len))
			return false;
		return true;
	}
	skip_ws(s, &i);
	while (i < s.len && s.ptr[i] == ';')
		i++;
	skip_ws(s, &i);
	return i == s.len;
}

/* Regenerates an index statement for `table` (backtick-quoted, as the dialect shows). */
static void write_index(hr_buf *b, const idx_info *x, hr_str table)
{
	hr_buf_append_cstr(b, x->unique ? "CREATE UNIQUE INDEX `" : "CREATE INDEX `");
	hr_buf_append_str(b, x->name);
	hr_buf_append_cstr(b, "` ON `");
	hr_buf_append_str(b, table);
	hr_buf_append_cstr(b, "` (");
	for (unsigned i = 0; i < x->ncols; i++) {
		if (i)
			hr_buf_append_cstr(b, ", ");
		hr_buf_append_char(b, '`');
		hr_buf_append_str(b, x->cols[i].name);
		hr_buf_append_char(b, '`');
		if (x->cols[i].collate.len) {
			hr_buf_append_cstr(b, " COLLATE ");
			hr_buf_append_str(b, x->cols[i].collate);
		}
		if (x->cols[i].has_sort)
			hr_buf_append_cstr(b, x->cols[i].desc ? " DESC" : " ASC");
	}
	hr_buf_append_char(b, ')');
	if (x->where.len) {
		hr_buf_append_cstr(b, " WHERE ");
		hr_buf_append_str(b, x->where);
	}
}

bool hr_schema_index_normalize(hr_str stmt, hr_str table, hr_buf *out, hr_str *name, bool *unique,
			       hr_str *cols, unsigned *ncols, unsigned max_cols)
{
	idx_info x;
	if (!parse_index(stmt, &x))
		return false;
	write_index(out, &x, table);
	if (name)
		*name = x.name;
	if (unique)
		*unique = x.unique;
	if (cols && ncols) {
		*ncols = 0;
		for (unsigned i = 0; i < x.ncols && i < max_cols; i++)
			cols[(*ncols)++] = x.cols[i].name;
	}
	return out->err == 0;
}

/* ---- migrations ------------------------------------------------------- */

static int exec_buf(hr_db *db, hr_buf *b, hr_db_error *err)
{
	if (b->err) {
		if (err) {
			err->code = b->err;
			snprintf(err->msg, sizeof err->msg, "statement too large");
		}
		return b->err;
	}
	int rc = hr_db_exec(db, b->ptr, err);
	hr_buf_reset(b);
	return rc;
}

static void q_ident(hr_buf *b, hr_str s)
{
	hr_buf_append_char(b, '"');
	hr_buf_append_str(b, s);
	hr_buf_append_char(b, '"');
}

static int drop_indexes(hr_db *db, const hr_collection *c, hr_buf *b, hr_db_error *err)
{
	for (unsigned i = 0; i < c->indexes.n; i++) {
		idx_info x;
		if (!parse_index(c->indexes.v[i], &x))
			continue;
		hr_buf_append_cstr(b, "DROP INDEX IF EXISTS ");
		q_ident(b, x.name);
		int rc = exec_buf(db, b, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int create_indexes(hr_db *db, const hr_collection *c, hr_buf *b, hr_db_error *err)
{
	for (unsigned i = 0; i < c->indexes.n; i++) {
		idx_info x;
		if (!parse_index(c->indexes.v[i], &x)) {
			if (err) {
				err->code = HR_DB_E_SQL;
				snprintf(err->msg, sizeof err->msg, "invalid index %u", i);
			}
			return HR_DB_E_SQL;
		}
		write_index(b, &x, c->name);
		if (b->err)
			return b->err;
		int rc = hr_db_exec_one(db, hr_str_make(b->ptr, b->len), err);
		hr_buf_reset(b);
		if (rc)
			return rc;
	}
	return 0;
}

static int write_row(hr_db *db, const hr_collection *c, bool insert, hr_str old_id, hr_db_error *err)
{
	hr_buf fields, indexes, options;
	hr_buf_init(&fields, 0);
	hr_buf_init(&indexes, 0);
	hr_buf_init(&options, 0);
	hr_buf_append_char(&fields, '[');
	for (unsigned i = 0; i < c->nfields; i++) {
		if (i)
			hr_buf_append_char(&fields, ',');
		hr_field_to_json(&fields, &c->fields[i]);
	}
	hr_buf_append_char(&fields, ']');
	hr_buf_append_char(&indexes, '[');
	for (unsigned i = 0; i < c->indexes.n; i++) {
		if (i)
			hr_buf_append_char(&indexes, ',');
		idx_info x;
		hr_buf tmp;
		hr_buf_init(&tmp, 0);
		if (parse_index(c->indexes.v[i], &x))
			write_index(&tmp, &x, c->name);
		else
			hr_buf_append_str(&tmp, c->indexes.v[i]);
		hr_json_write_string(&indexes, hr_str_make(tmp.ptr ? tmp.ptr : "", tmp.len));
		hr_buf_dispose(&tmp);
	}
	hr_buf_append_char(&indexes, ']');
	/* options: the auth options (rules included) or the view query */
	hr_buf_append_char(&options, '{');
	bool first = true;
	if (c->type == HR_COLL_VIEW) {
		w_str(&options, "viewQuery", c->view_query, &first);
	} else if (c->type == HR_COLL_AUTH) {
		w_rule(&options, c, HR_RULE_AUTH, &first);
		w_rule(&options, c, HR_RULE_MANAGE, &first);
		if (c->options)
			for (size_t i = 0; i < c->options->u.obj.len; i++) {
				const hr_json_member *m = &c->options->u.obj.members[i];
				if (hr_str_eq_lit(m->key, "authRule") ||
				    hr_str_eq_lit(m->key, "manageRule"))
					continue;
				hr_buf_append_char(&options, ',');
				hr_json_write_string(&options, m->key);
				hr_buf_append_char(&options, ':');
				hr_json_write(&options, m->value);
			}
	}
	hr_buf_append_char(&options, '}');
	int rc = HR_ENOMEM;
	hr_db_stmt *st = NULL;
	if (fields.err || indexes.err || options.err)
		goto out;
	const char *sql =
		insert ? "INSERT INTO _collections (id, system, type, name, fields, indexes, listRule, "
			 "viewRule, createRule, updateRule, deleteRule, options, created, updated) "
			 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
		       : "UPDATE _collections SET id=?, system=?, type=?, name=?, fields=?, indexes=?, "
			 "listRule=?, viewRule=?, createRule=?, updateRule=?, deleteRule=?, options=?, "
			 "created=?, updated=? WHERE id=?";
	rc = hr_db_prepare(db, hr_str_make(sql, strlen(sql)), &st, err);
	if (rc)
		goto out;
	hr_db_bind_text(st, 1, c->id);
	hr_db_bind_int64(st, 2, c->system);
	hr_db_bind_text(st, 3,
			c->type == HR_COLL_AUTH	  ? HR_STR("auth")
			: c->type == HR_COLL_VIEW ? HR_STR("view")
						  : HR_STR("base"));
	hr_db_bind_text(st, 4, c->name);
	hr_db_bind_text(st, 5, hr_str_make(fields.ptr, fields.len));
	hr_db_bind_text(st, 6, hr_str_make(indexes.ptr, indexes.len));
	for (int r = 0; r < 5; r++) {
		if (c->rule_set[r])
			hr_db_bind_text(st, 7 + r, c->rules[r]);
		else
			hr_db_bind_null(st, 7 + r);
	}
	hr_db_bind_text(st, 12, hr_str_make(options.ptr, options.len));
	hr_db_bind_text(st, 13, c->created);
	hr_db_bind_text(st, 14, c->updated);
	if (!insert)
		hr_db_bind_text(st, 15, old_id);
	rc = hr_db_step(st, err);
	if (rc == HR_DB_DONE)
		rc = 0;
out:
	hr_db_release(st);
	hr_buf_dispose(&fields);
	hr_buf_dispose(&indexes);
	hr_buf_dispose(&options);
	return rc;
}

static const hr_field *field_by_id(const hr_collection *c, hr_str id)
{
	for (unsigned i = 0; i < c->nfields; i++)
		if (hr_str_eq(c->fields[i].id, id))
			return &c->fields[i];
	return NULL;
}

static int create_table(hr_db *db, const hr_collection *c, hr_buf *b, hr_db_error *err)
{
	hr_buf_append_cstr(b, "CREATE TABLE ");
	q_ident(b, c->name);
	hr_buf_append_cstr(b, " (");
	for (unsigned i = 0; i < c->nfields; i++) {
		if (i)
			hr_buf_append_cstr(b, ", ");
		q_ident(b, c->fields[i].name);
		hr_buf_append_char(b, ' ');
		hr_buf_append_cstr(b, hr_field_sql_type(&c->fields[i]));
	}
	hr_buf_append_char(b, ')');
	return exec_buf(db, b, err);
}

/* Converts column `col` of `table` between single and multiple storage by
 * adding a column with the new declaration, copying converted values and
 * swapping it in (SQLite cannot change a column's default in place). */
static int convert_column(hr_db *db, hr_str table, const hr_field *nf, bool to_multi, hr_buf *b,
			  hr_db_error *err)
{
	hr_buf_append_cstr(b, "ALTER TABLE ");
	q_ident(b, table);
	hr_buf_append_cstr(b, " ADD COLUMN \"__hr_conv\" ");
	hr_buf_append_cstr(b, hr_field_sql_type(nf));
	int rc = exec_buf(db, b, err);
	if (rc)
		return rc;
	hr_buf_append_cstr(b, "UPDATE ");
	q_ident(b, table);
	if (to_multi) {
		hr_buf_append_cstr(b, " SET \"__hr_conv\" = CASE WHEN COALESCE(");
		q_ident(b, nf->name);
		hr_buf_append_cstr(b, ", '') = '' THEN '[]' WHEN json_valid(");
		q_ident(b, nf->name);
		hr_buf_append_cstr(b, ") AND json_type(");
		q_ident(b, nf->name);
		hr_buf_append_cstr(b, ") = 'array' THEN ");
		q_ident(b, nf->name);
		hr_buf_append_cstr(b, " ELSE json_array(");
		q_ident(b, nf->name);
		hr_buf_append_cstr(b, ") END");
	} else {
		hr_buf_append_cstr(b, " SET \"__hr_conv\" = CASE WHEN json_valid(");
		q_ident(b, nf->name);
		hr_buf_append_cstr(b, ") AND json_type(");
		q_ident(b, nf->name);
		hr_buf_append_cstr(b, ") = 'array' THEN COALESCE((SELECT value FROM json_each(");
		q_ident(b, nf->name);
		hr_buf_append_cstr(b, ") ORDER BY key DESC LIMIT 1), '') ELSE COALESCE(");
		q_ident(b, nf->name);
		hr_buf_append_cstr(b, ", '') END");
	}
	if ((rc = exec_buf(db, b, err)))
		return rc;
	hr_buf_append_cstr(b, "ALTER TABLE ");
	q_ident(b, table);
	hr_buf_append_cstr(b, " DROP COLUMN ");
	q_ident(b, nf->name);
	if ((rc = exec_buf(db, b, err)))
		return rc;
	hr_buf_append_cstr(b, "ALTER TABLE ");
	q_ident(b, table);
	hr_buf_append_cstr(b, " RENAME COLUMN \"__hr_conv\" TO ");
	q_ident(b, nf->name);
	return exec_buf(db, b, err);
}

static int migrate_table(hr_db *db, const hr_collection *old, const hr_collection *neu, hr_buf *b,
			 hr_db_error *err)
{
	int rc;
	if ((rc = drop_indexes(db, old, b, err)))
		return rc;
	if (!hr_str_eq(old->name, neu->name)) {
		hr_str from = old->name;
		if (hr_str_ieq(old->name, neu->name)) {
			/* SQLite names are case-insensitive: go through a temporary name */
			hr_buf_append_cstr(b, "ALTER TABLE ");
			q_ident(b, old->name);
			hr_buf_append_cstr(b, " RENAME TO \"__hr_rename\"");
			if ((rc = exec_buf(db, b, err)))
				return rc;
			from = HR_STR("__hr_rename");
		}
		hr_buf_append_cstr(b, "ALTER TABLE ");
		q_ident(b, from);
		hr_buf_append_cstr(b, " RENAME TO ");
		q_ident(b, neu->name);
		if ((rc = exec_buf(db, b, err)))
			return rc;
	}
	hr_str t = neu->name;
	/* Dropped fields. */
	for (unsigned i = 0; i < old->nfields; i++) {
		const hr_field *of = &old->fields[i];
		if (field_by_id(neu, of->id))
			continue;
		hr_buf_append_cstr(b, "ALTER TABLE ");
		q_ident(b, t);
		hr_buf_append_cstr(b, " DROP COLUMN ");
		q_ident(b, of->name);
		if ((rc = exec_buf(db, b, err)))
			return rc;
	}
	/* Renamed fields: through temporary names, so that swaps work. */
	for (unsigned i = 0; i < old->nfields; i++) {
		const hr_field *of = &old->fields[i];
		const hr_field *nf = field_by_id(neu, of->id);
		if (!nf || hr_str_eq(of->name, nf->name))
			continue;
		hr_buf_append_cstr(b, "ALTER TABLE ");
		q_ident(b, t);
		hr_buf_append_cstr(b, " RENAME COLUMN ");
		q_ident(b, of->name);
		hr_buf_append_cstr(b, " TO \"__hr_tmp_");
		hr_buf_append_u64(b, i);
		hr_buf_append_char(b, '"');
		if ((rc = exec_buf(db, b, err)))
			return rc;
	}
	for (unsigned i = 0; i < old->nfields; i++) {
		const hr_field *of = &old->fields[i];
		const hr_field *nf = field_by_id(neu, of->id);
		if (!nf || hr_str_eq(of->name, nf->name))
			continue;
		hr_buf_append_cstr(b, "ALTER TABLE ");
		q_ident(b, t);
		hr_buf_append_cstr(b, " RENAME COLUMN \"__hr_tmp_");
		hr_buf_append_u64(b, i);
		hr_buf_append_cstr(b, "\" TO ");
		q_ident(b, nf->name);
		if ((rc = exec_buf(db, b, err)))
			return rc;
	}
	/* Storage changes (single <-> multiple). */
	for (unsigned i = 0; i < old->nfields; i++) {
		const hr_field *of = &old->fields[i];
		const hr_field *nf = field_by_id(neu, of->id);
		if (!nf || hr_field_multi(of) == hr_field_multi(nf))
			continue;
		if ((rc = convert_column(db, t, nf, hr_field_multi(nf), b, err)))
			return rc;
	}
	/* New fields. */
	for (unsigned i = 0; i < neu->nfields; i++) {
		const hr_field *nf = &neu->fields[i];
		if (field_by_id(old, nf->id))
			continue;
		hr_buf_append_cstr(b, "ALTER TABLE ");
		q_ident(b, t);
		hr_buf_append_cstr(b, " ADD COLUMN ");
		q_ident(b, nf->name);
		hr_buf_append_char(b, ' ');
		hr_buf_append_cstr(b, hr_field_sql_type(nf));
		if ((rc = exec_buf(db, b, err)))
			return rc;
	}
	return create_indexes(db, neu, b, err);
}

static int create_view(hr_db *db, const hr_collection *c, hr_buf *b, hr_db_error *err)
{
	hr_buf_append_cstr(b, "CREATE VIEW ");
	q_ident(b, c->name);
	hr_buf_append_cstr(b, " AS ");
	hr_buf_append_str(b, c->view_query);
	if (b->err)
		return b->err;
	int rc = hr_db_exec_one(db, hr_str_make(b->ptr, b->len), err);
	hr_buf_reset(b);
	return rc;
}

int hr_schema_migrate(hr_db *db, const hr_collection *old, const hr_collection *neu,
		      hr_db_error *err)
{
	hr_buf b;
	hr_buf_init(&b, 16u << 20);
	int rc = 0;
	if (!neu) {
		hr_buf_append_cstr(&b, old->type == HR_COLL_VIEW ? "DROP VIEW IF EXISTS "
							       : "DROP TABLE IF EXISTS ");
		q_ident(&b, old->name);
		if ((rc = exec_buf(db, &b, err)))
			goto out;
		hr_db_stmt *st;
		if ((rc = hr_db_prepare(db, HR_STR("DELETE FROM _collections WHERE id = ?"), &st, err)))
			goto out;
		hr_db_bind_text(st, 1, old->id);
		rc = hr_db_step(st, err);
		hr_db_release(st);
		rc = rc == HR_DB_DONE ? 0 : rc;
		goto out;
	}
	if (!old) {
		rc = neu->type == HR_COLL_VIEW ? create_view(db, neu, &b, err)
					       : create_table(db, neu, &b, err);
		if (rc == 0 && neu->type != HR_COLL_VIEW)
			rc = create_indexes(db, neu, &b, err);
		if (rc == 0)
			rc = write_row(db, neu, true, HR_STR(""), err);
		goto out;
	}
	if (neu->type == HR_COLL_VIEW) {
		hr_buf_append_cstr(&b, "DROP VIEW IF EXISTS ");
		q_ident(&b, old->name);
		if ((rc = exec_buf(db, &b, err)) || (rc = create_view(db, neu, &b, err)))
			goto out;
	} else if ((rc = migrate_table(db, old, neu, &b, err))) {
		goto out;
	}
	rc = write_row(db, neu, false, old->id, err);
out:
	hr_buf_dispose(&b);
	if (rc)
		hr_db_flush_cache(db);
	return rc;
}

/* ---- bootstrap -------------------------------------------------------- */

/* The _superusers collection (DIALECT.md §13), with secrets filled in. */
static const char SUPERUSERS_JSON[] =
	"{\"id\":\"pbc_3142635823\",\"name\":\"_superusers\",\"type\":\"auth\",\"system\":true,"
	"\"listRule\":null,\"viewRule\":null,\"createRule\":null,\"updateRule\":null,"
	"\"deleteRule\":null,"
	"\"fields\":["
	"{\"autogeneratePattern\":\"[a-z0-9]{15}\",\"help\":\"\",\"hidden\":false,"
	"\"id\":\"text3208210256\",\"max\":15,\"min\":15,\"name\":\"id\",\"pattern\":\"^[a-z0-9]+$\","
	"\"presentable\":false,\"primaryKey\":true,\"required\":true,\"system\":true,\"type\":\"text\"},"
	"{\"cost\":0,\"help\":\"\",\"hidden\":true,\"id\":\"password901924565\",\"max\":0,\"min\":8,"
	"\"name\":\"password\",\"pattern\":\"\",\"presentable\":false,\"required\":true,\"system\":true,"
	"\"type\":\"password\"},"
	"{\"autogeneratePattern\":\"[a-zA-Z0-9]{50}\",\"help\":\"\",\"hidden\":true,"
	"\"id\":\"text2504183744\",\"max\":60,\"min\":30,\"name\":\"tokenKey\",\"pattern\":\"\","
	"\"presentable\":false,\"primaryKey\":false,\"required\":true,\"system\":true,\"type\":\"text\"},"
	"{\"exceptDomains\":null,\"help\":\"\",\"hidden\":false,\"id\":\"email3885137012\","
	"\"name\":\"email\",\"onlyDomains\":null,\"presentable\":false,\"required\":true,"
	"\"system\":true,\"type\":\"email\"},"
	"{\"help\":\"\",\"hidden\":false,\"id\":\"bool1547992806\",\"name\":\"emailVisibility\","
	"\"presentable\":false,\"required\":false,\"system\":true,\"type\":\"bool\"},"
	"{\"help\":\"\",\"hidden\":false,\"id\":\"bool256245529\",\"name\":\"verified\","
	"\"presentable\":false,\"required\":false,\"system\":true,\"type\":\"bool\"},"
	"{\"hidden\":false,\"id\":\"autodate2990389176\",\"name\":\"created\",\"onCreate\":true,"
	"\"onUpdate\":false,\"presentable\":false,\"system\":true,\"type\":\"autodate\"},"
	"{\"hidden\":false,\"id\":\"autodate3332085495\",\"name\":\"updated\",\"onCreate\":true,"
	"\"onUpdate\":true,\"presentable\":false,\"system\":true,\"type\":\"autodate\"}],"
	"\"indexes\":[\"CREATE UNIQUE INDEX `idx_tokenKey_pbc_3142635823` ON `_superusers` (`tokenKey`)\","
	"\"CREATE UNIQUE INDEX `idx_email_pbc_3142635823` ON `_superusers` (`email`) WHERE `email` != ''\"]"
	"}";

/* The default "users" collection created with a fresh data directory. */
static const char USERS_JSON[] =
	"{\"id\":\"_pb_users_auth_\",\"name\":\"users\",\"type\":\"auth\",\"system\":false,"
	"\"listRule\":\"id = @request.auth.id\",\"viewRule\":\"id = @request.auth.id\","
	"\"createRule\":\"\",\"updateRule\":\"id = @request.auth.id\","
	"\"deleteRule\":\"id = @request.auth.id\","
	"\"fields\":["
	"{\"autogeneratePattern\":\"[a-z0-9]{15}\",\"help\":\"\",\"hidden\":false,"
	"\"id\":\"text3208210256\",\"max\":15,\"min\":15,\"name\":\"id\",\"pattern\":\"^[a-z0-9]+$\","
	"\"presentable\":false,\"primaryKey\":true,\"required\":true,\"system\":true,\"type\":\"text\"},"
	"{\"cost\":0,\"help\":\"\",\"hidden\":true,\"id\":\"password901924565\",\"max\":0,\"min\":8,"
	"\"name\":\"password\",\"pattern\":\"\",\"presentable\":false,\"required\":true,\"system\":true,"
	"\"type\":\"password\"},"
	"{\"autogeneratePattern\":\"[a-zA-Z0-9]{50}\",\"help\":\"\",\"hidden\":true,"
	"\"id\":\"text2504183744\",\"max\":60,\"min\":30,\"name\":\"tokenKey\",\"pattern\":\"\","
	"\"presentable\":false,\"primaryKey\":false,\"required\":true,\"system\":true,\"type\":\"text\"},"
	"{\"exceptDomains\":null,\"help\":\"\",\"hidden\":false,\"id\":\"email3885137012\","
	"\"name\":\"email\",\"onlyDomains\":null,\"presentable\":false,\"required\":true,"
	"\"system\":true,\"type\":\"email\"},"
	"{\"help\":\"\",\"hidden\":false,\"id\":\"bool1547992806\",\"name\":\"emailVisibility\","
	"\"presentable\":false,\"required\":false,\"system\":true,\"type\":\"bool\"},"
	"{\"help\":\"\",\"hidden\":false,\"id\":\"bool256245529\",\"name\":\"verified\","
	"\"presentable\":false,\"required\":false,\"system\":true,\"type\":\"bool\"},"
	"{\"autogeneratePattern\":\"\",\"help\":\"\",\"hidden\":false,\"id\":\"text1579384326\","
	"\"max\":255,\"min\":0,\"name\":\"name\",\"pattern\":\"\",\"presentable\":false,"
	"\"primaryKey\":false,\"required\":false,\"system\":false,\"type\":\"text\"},"
	"{\"hidden\":false,\"id\":\"autodate2990389176\",\"name\":\"created\",\"onCreate\":true,"
	"\"onUpdate\":false,\"presentable\":false,\"system\":false,\"type\":\"autodate\"},"
	"{\"hidden\":false,\"id\":\"autodate3332085495\",\"name\":\"updated\",\"onCreate\":true,"
	"\"onUpdate\":true,\"presentable\":false,\"system\":false,\"type\":\"autodate\"}],"
	"\"indexes\":[\"CREATE UNIQUE INDEX `idx_tokenKey__pb_users_auth_` ON `users` (`tokenKey`)\","
	"\"CREATE UNIQUE INDEX `idx_email__pb_users_auth_` ON `users` (`email`) WHERE `email` != ''\"]"
	"}";

static void secret(char out[51])
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	hr_rand_string(out, 50, a, sizeof a - 1);
	out[50] = '\0';
}

/* Default auth options with fresh token secrets (DIALECT.md §11.1). */
int hr_schema_default_auth_options(hr_arena *a, bool superusers, hr_json **out)
{
	char s[5][51];
	for (int i = 0; i < 5; i++)
		secret(s[i]);
	char *txt = hr_arena_printf(
		a,
		"{\"authAlert\":{\"enabled\":true,\"emailTemplate\":{\"subject\":\"Login from a new "
		"location\",\"body\":\"\"}},"
		"\"oauth2\":{\"providers\":[],\"mappedFields\":{\"id\":\"\",\"name\":\"\","
		"\"username\":\"\",\"avatarURL\":\"\"},\"enabled\":false},"
		"\"passwordAuth\":{\"enabled\":true,\"identityFields\":[\"email\"]},"
		"\"mfa\":{\"enabled\":false,\"duration\":600,\"rule\":\"\"},"
		"\"otp\":{\"enabled\":false,\"duration\":180,\"length\":8,\"emailTemplate\":"
		"{\"subject\":\"OTP for {APP_NAME}\",\"body\":\"<p>Hello,</p><p>Your one-time "
		"password is: <strong>{OTP}</strong></p><p><i>If you did not ask for the one-time "
		"password, you can ignore this email.</i></p><p>Thanks,<br/>{APP_NAME} team</p>\"}},"
		"\"authToken\":{\"duration\":%d,\"secret\":\"%s\"},"
		"\"passwordResetToken\":{\"duration\":1800,\"secret\":\"%s\"},"
		"\"emailChangeToken\":{\"duration\":1800,\"secret\":\"%s\"},"
		"\"verificationToken\":{\"duration\":86400,\"secret\":\"%s\"},"
		"\"fileToken\":{\"duration\":180,\"secret\":\"%s\"},"
		"\"verificationTemplate\":{\"subject\":\"Verify your {APP_NAME} email\",\"body\":"
		"\"<p>Hello,</p><p>Thank you for joining us at {APP_NAME}.</p><p>Click on the link "
		"below to verify your email address.</p><p><a href=\\\"{APP_URL}/_/#/auth/"
		"confirm-verification/{TOKEN}\\\" target=\\\"_blank\\\" rel=\\\"noopener\\\">Verify</a>"
		"</p><p><i>If you did not ask to verify this email address, you can ignore this "
		"email.</i></p><p>Thanks,<br/>{APP_NAME} team</p>\"},"
		"\"resetPasswordTemplate\":{\"subject\":\"Reset your {APP_NAME} password\",\"body\":"
		"\"<p>Hello,</p><p>Click on the link below to reset your password.</p><p><a "
		"href=\\\"{APP_URL}/_/#/auth/confirm-password-reset/{TOKEN}\\\" target=\\\"_blank\\\" "
		"rel=\\\"noopener\\\">Reset password</a></p><p><i>If you did not ask to reset your "
		"password, you can ignore this email.</i></p><p>Thanks,<br/>{APP_NAME} team</p>\"},"
		"\"confirmEmailChangeTemplate\":{\"subject\":\"Confirm your {APP_NAME} new email "
		"address\",\"body\":\"<p>Hello,</p><p>Click on the link below to confirm your new "
		"email address.</p><p><a href=\\\"{APP_URL}/_/#/auth/confirm-email-change/{TOKEN}\\\" "
		"target=\\\"_blank\\\" rel=\\\"noopener\\\">Confirm new email</a></p><p><i>If you did "
		"not ask to change your email address, you can ignore this email.</i></p><p>Thanks,"
		"<br/>{APP_NAME} team</p>\"}}",
		superusers ? 86400 : 432000, s[0], s[1], s[2], s[3], s[4]);
	if (!txt)
		return HR_ENOMEM;
	hr_json_error je;
	return hr_json_parse(a, txt, strlen(txt), 16, out, &je);
}

/* Creates one built-in auth collection from its JSON definition. */
static int bootstrap_auth(hr_db *db, const char *json, size_t len, bool superusers, const char *now,
			  hr_db_error *err)
{
	hr_arena a;
	hr_arena_init(&a, NULL, 0, 0);
	hr_json *j;
	hr_json_error je = {0};
	hr_collection c;
	const char *what = NULL;
	int rc = hr_json_parse(&a, json, len, 16, &j, &je);
	if (rc == 0)
		rc = hr_collection_from_json(&a, j, &c, &what);
	if (rc == 0)
		rc = hr_schema_default_auth_options(&a, superusers, &c.options);
	if (rc == 0) {
		c.created = c.updated = hr_str_make(now, HR_TIME_LEN);
		c.rule_set[HR_RULE_AUTH] = true;
		c.rules[HR_RULE_AUTH] = HR_STR("");
		c.rule_set[HR_RULE_MANAGE] = false;
		rc = hr_schema_migrate(db, NULL, &c, err);
	} else if (err) {
		err->code = rc;
		snprintf(err->msg, sizeof err->msg, "built-in collection definition: %s",
			 je.message ? je.message : what);
	}
	hr_arena_dispose(&a);
	return rc;
}

/*
 * A fresh database (no _superusers yet) gets _superusers and, with
 * default_users, the default "users" collection in one transaction; an
 * existing one is left as it is, so a deleted "users" stays deleted.
 */
static int bootstrap(hr_db *db, bool default_users, hr_db_error *err)
{
	int rc = hr_db_exec(db, SYSTEM_TABLES, err);
	if (rc)
		return rc;
	hr_db_stmt *st;
	if ((rc = hr_db_prepare(db, HR_STR("SELECT 1 FROM _collections WHERE id = 'pbc_3142635823'"),
				&st, err)))
		return rc;
	int found = hr_db_step(st, err);
	hr_db_release(st);
	if (found == HR_DB_ROW)
		return 0;
	if (found < 0)
		return found;
	char now[HR_TIME_LEN + 1];
	hr_time_format(hr_time_now_ms(), now);
	rc = hr_db_begin(db, true, err);
	if (rc)
		return rc;
	rc = bootstrap_auth(db, SUPERUSERS_JSON, sizeof SUPERUSERS_JSON - 1, true, now, err);
	if (rc == 0 && default_users)
		rc = bootstrap_auth(db, USERS_JSON, sizeof USERS_JSON - 1, false, now, err);
	if (rc == 0)
		rc = hr_db_commit(db, err);
	else
		hr_db_rollback(db);
	return rc;
}

int hr_schema_bootstrap(hr_db *db, hr_db_error *err)
{
	return bootstrap(db, false, err);
}

int hr_schema_bootstrap_app(hr_db *db, hr_db_error *err)
{
	return bootstrap(db, true, err);
}
