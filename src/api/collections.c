/*
 * api/collections.c - the collections API (DIALECT.md §14): list, view,
 * create, update, delete, truncate, import, scaffolds. Superusers only.
 *
 * A create or update is prepared on the worker only as far as reading the
 * body; everything that needs the current schema - defaults, generated
 * ids, system fields, validation, the migration itself - runs in a writer
 * job against the writer's snapshot, so two concurrent changes can never
 * validate against the same stale picture. The job bumps the schema
 * generation after its commit.
 *
 * Normalisation before validation: type defaults to base; the id field is
 * added at position 0 when missing; auth collections get their system
 * fields and unique indexes; field ids are generated as type + CRC-32 of
 * the name (§1.8) or, on update, reused from the existing field of the
 * same name; index statements are re-targeted to the collection's name;
 * view collections get their fields from the query's result columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/internal.h"
#include "core/common.h"
#include "core/rand.h"
#include "core/time.h"

static const char *const internal_tables[] = {"_collections", "_params", "_migrations", "_otps", "_mfas",
					      "sqlite_master", "sqlite_sequence", "sqlite_schema"};

static hr_str adup(hr_arena *a, hr_str s)
{
	char *p = hr_arena_dup(a, s.ptr ? s.ptr : "", s.len);
	return p ? hr_str_make(p, s.len) : HR_STR("");
}

static uint32_t crc(hr_str s)
{
	return (uint32_t)crc32(0, (const Bytef *)s.ptr, (uInt)s.len);
}

/* ---- normalisation ---------------------------------------------------- */

static const char *type_str(int t)
{
	return t == HR_COLL_AUTH ? "auth" : t == HR_COLL_VIEW ? "view" : "base";
}

/* "pbc_" + CRC-32(type + name), with a numeric suffix on collision. */
static hr_str gen_collection_id(hr_arena *a, const hr_schema *s, int type, hr_str name)
{
	char *tn = hr_arena_printf(a, "%s%.*s", type_str(type), (int)name.len, name.ptr);
	uint32_t v = crc(hr_str_make(tn, strlen(tn)));
	for (unsigned k = 1;; k++) {
		char *id = k == 1 ? hr_arena_printf(a, "pbc_%u", v) : hr_arena_printf(a, "pbc_%u%u", v, k);
		hr_str ids = hr_str_make(id, strlen(id));
		bool taken = false;
		for (unsigned i = 0; i < s->n; i++)
			if (hr_str_eq(s->cols[i].id, ids))
				taken = true;
		if (!taken)
			return ids;
	}
}

static hr_str gen_field_id(hr_arena *a, const hr_collection *c, const hr_field *f)
{
	uint32_t v = crc(f->name);
	const char *t = hr_field_type_name(f->type);
	for (unsigned k = 1;; k++) {
		char *id = k == 1 ? hr_arena_printf(a, "%s%u", t, v) : hr_arena_printf(a, "%s%u%u", t, v, k);
		hr_str ids = hr_str_make(id, strlen(id));
		bool taken = false;
		for (unsigned i = 0; i < c->nfields; i++)
			if (&c->fields[i] != f && hr_str_eq(c->fields[i].id, ids))
				taken = true;
		if (!taken)
			return ids;
	}
}

static void id_field(hr_field *f)
{
	memset(f, 0, sizeof *f);
	f->id = HR_STR("text3208210256");
	f->name = HR_STR("id");
	f->type = HR_FT_TEXT;
	f->system = true;
	f->required = true;
	f->primary_key = true;
	f->min = f->max = 15;
	f->pattern = HR_STR("^[a-z0-9]+$");
	f->autogen = HR_STR("[a-z0-9]{15}");
}

/* Inserts f at position pos of c's fields (arena copy). */
static bool insert_field(hr_arena *a, hr_collection *c, unsigned pos, const hr_field *f)
{
	hr_field *nf = hr_arena_alloc(a, (c->nfields + 2) * sizeof *nf);
	if (!nf)
		return false;
	if (pos)
		memcpy(nf, c->fields, pos * sizeof *nf);
	nf[pos] = *f;
	if (c->nfields > pos)
		memcpy(nf + pos + 1, c->fields + pos, (c->nfields - pos) * sizeof *nf);
	c->fields = nf;
	c->nfields++;
	return true;
}

static void auth_system_fields(hr_arena *a, hr_collection *c)
{
	static const struct {
		const char *name, *id;
		int type;
		bool hidden, required;
	} sys[] = {
		{"password", "password901924565", HR_FT_PASSWORD, true, true},
		{"tokenKey", "text2504183744", HR_FT_TEXT, true, true},
		{"email", "email3885137012", HR_FT_EMAIL, false, true},
		{"emailVisibility", "bool1547992806", HR_FT_BOOL, false, false},
		{"verified", "bool256245529", HR_FT_BOOL, false, false},
	};
	unsigned pos = 1;
	for (size_t i = 0; i < HR_ARRAY_LEN(sys); i++) {
		hr_str name = hr_str_make(sys[i].name, strlen(sys[i].name));
		int at = hr_coll_field_index(c, name);
		if (at >= 0) {
			c->fields[at].system = true;
			pos = (unsigned)at + 1;
			continue;
		}
		hr_field f;
		memset(&f, 0, sizeof f);
		f.name = name;
		f.id = hr_str_make(sys[i].id, strlen(sys[i].id));
		f.type = sys[i].type;
		f.system = true;
		f.hidden = sys[i].hidden;
		f.required = sys[i].required;
		if (f.type == HR_FT_PASSWORD)
			f.min = 8;
		if (hr_str_eq_lit(name, "tokenKey")) {
			f.min = 30;
			f.max = 60;
			f.autogen = HR_STR("[a-zA-Z0-9]{50}");
		}
		insert_field(a, c, pos++, &f);
	}
	/* unique indexes on tokenKey and email */
	const char *want[2] = {"tokenKey", "email"};
	for (int k = 0; k < 2; k++) {
		bool have = false;
		for (unsigned i = 0; i < c->indexes.n; i++) {
			hr_buf tmp;
			hr_buf_init(&tmp, 0);
			hr_str name, cols[2];
			unsigned ncols = 0;
			bool uniq = false;
			if (hr_schema_index_normalize(c->indexes.v[i], c->name, &tmp, &name, &uniq, cols,
						      &ncols, 2) &&
			    uniq && ncols == 1 && hr_str_eq(cols[0], hr_str_make(want[k], strlen(want[k]))))
				have = true;
			hr_buf_dispose(&tmp);
		}
		if (have)
			continue;
		char *stmt = k == 0 ? hr_arena_printf(a, "CREATE UNIQUE INDEX `idx_tokenKey_%.*s` ON `%.*s` (`tokenKey`)",
						      (int)c->id.len, c->id.ptr, (int)c->name.len, c->name.ptr)
				    : hr_arena_printf(a, "CREATE UNIQUE INDEX `idx_email_%.*s` ON `%.*s` (`email`) WHERE `email` != ''",
						      (int)c->id.len, c->id.ptr, (int)c->name.len, c->name.ptr);
		hr_str *nv = hr_arena_alloc(a, (c->indexes.n + 1) * sizeof *nv);
		if (!nv || !stmt)
			return;
		if (c->indexes.n)
			memcpy(nv, c->indexes.v, c->indexes.n * sizeof *nv);
		nv[c->indexes.n] = hr_str_make(stmt, strlen(stmt));
		c->indexes.v = nv;
		c->indexes.n++;
	}
}

/* ---- views ------------------------------------------------------------ */

/* Derives a view's fields from its query's result columns. */
static int view_fields(hr_arena *a, hr_db *db, const hr_schema *s, hr_collection *c,
		       hr_verrs *errs)
{
	hr_str q = hr_str_trim_ows(c->view_query);
	while (q.len && (q.ptr[q.len - 1] == ';' || q.ptr[q.len - 1] == '\n'))
		q.len--;
	if (q.len == 0 || !hr_str_istarts(q, HR_STR("SELECT")) || memchr(q.ptr, ';', q.len)) {
		hr_verrs_add(errs, HR_STR("viewQuery"), "validation_invalid_view_query",
			     "The view query must be a single SELECT statement.", NULL);
		return HR_EPARSE;
	}
	c->view_query = q;
	char *sql = hr_arena_printf(a, "SELECT * FROM (%.*s) LIMIT 0", (int)q.len, q.ptr);
	hr_db_stmt *st;
	hr_db_error de;
	if (!sql || hr_db_prepare(db, hr_str_make(sql, strlen(sql)), &st, &de) != 0) {
		hr_verrs_add(errs, HR_STR("viewQuery"), "validation_invalid_view_query",
			     hr_arena_printf(a, "Invalid query: %s.", sql ? de.msg : "out of memory"), NULL);
		return HR_EPARSE;
	}
	int n = hr_db_column_count(st);
	hr_field *fs = hr_arena_alloc(a, ((size_t)n + 1) * sizeof *fs);
	unsigned nf = 0;
	bool has_id = false;
	for (int i = 0; fs && i < n; i++) {
		hr_str name = adup(a, hr_db_column_name(st, i));
		hr_field f;
		memset(&f, 0, sizeof f);
		hr_str table, col;
		const hr_field *src = NULL;
		if (hr_db_column_origin(st, i, &table, &col)) {
			const hr_collection *sc = hr_schema_find(s, table);
			src = sc ? hr_coll_field(sc, col) : NULL;
		}
		if (src) {
			f = *src;
			f.system = false;
			f.primary_key = false;
		} else {
			f.type = HR_FT_JSON;
		}
		f.name = name;
		f.re = NULL;
		if (hr_str_eq_lit(name, "id")) {
			has_id = true;
			id_field(&f);
			f.system = true;
		}
		f.id = HR_STR("");
		fs[nf++] = f;
	}
	hr_db_release(st);
	if (!has_id) {
		hr_verrs_add(errs, HR_STR("viewQuery"), "validation_missing_view_id",
			     "The view query must select an id column.", NULL);
		return HR_EPARSE;
	}
	c->fields = fs;
	c->nfields = nf;
	for (unsigned i = 0; i < nf; i++)
		if (!hr_str_eq_lit(fs[i].name, "id"))
			fs[i].id = gen_field_id(a, c, &fs[i]);
		else
			fs[i].id = HR_STR("text3208210256");
	return 0;
}

/* ---- validation ------------------------------------------------------- */

static bool reserved_field_name(hr_str n)
{
	static const char *const r[] = {"null", "true", "false", "_rowid_", "collectionId",
					"collectionName", "expand"};
	for (size_t i = 0; i < HR_ARRAY_LEN(r); i++)
		if (hr_str_eq(n, hr_str_make(r[i], strlen(r[i]))))
			return true;
	return false;
}

static bool contains_via(hr_str s)
{
	for (size_t i = 0; i + 5 <= s.len; i++)
		if (hr_str_ieq(hr_str_make(s.ptr + i, 5), HR_STR("_via_")))
			return true;
	return false;
}

/* A schema with c added (or replacing its old version), for rule checks. */
static hr_schema *with_collection(hr_arena *a, const hr_schema *s, const hr_collection *c,
				  const hr_collection *old)
{
	hr_schema *t = hr_arena_alloc(a, sizeof *t);
	if (!t)
		return NULL;
	*t = *s;
	t->cols = hr_arena_alloc(a, (s->n + 1) * sizeof *t->cols);
	if (!t->cols)
		return NULL;
	unsigned n = 0;
	for (unsigned i = 0; i < s->n; i++)
		if (!old || &s->cols[i] != old)
			t->cols[n++] = s->cols[i];
	t->cols[n++] = *c;
	t->n = n;
	return t;
}

/* True when one of c's indexes is UNIQUE over exactly the column `col`. */
static bool has_unique_index(const hr_collection *c, hr_str col)
{
	bool have = false;
	for (unsigned i = 0; i < c->indexes.n && !have; i++) {
		hr_buf tmp;
		hr_buf_init(&tmp, 0);
		hr_str name, cols[2];
		unsigned ncols = 0;
		bool uniq = false;
		if (hr_schema_index_normalize(c->indexes.v[i], c->name, &tmp, &name, &uniq, cols, &ncols, 2) &&
		    uniq && ncols == 1 && hr_str_eq(cols[0], col))
			have = true;
		hr_buf_dispose(&tmp);
	}
	return have;
}

/* §11.1: each passwordAuth.identityFields entry names a field of the
 * collection that has a single-column UNIQUE index, so a login finds at
 * most one record. */
static void validate_identity_fields(hr_arena *a, const hr_collection *c, hr_verrs *errs)
{
	hr_json *pa = api_coll_opt(c, "passwordAuth");
	hr_json *ids = pa && pa->type == HR_JSON_OBJECT ? hr_json_get(pa, "identityFields") : NULL;
	if (!ids || ids->type != HR_JSON_ARRAY)
		return;
	for (size_t i = 0; i < ids->u.arr.len; i++) {
		const hr_json *f = ids->u.arr.items[i];
		const char *msg = NULL;
		if (f->type != HR_JSON_STRING || hr_coll_field_index(c, f->u.str) < 0)
			msg = "Must be the name of a field of the collection.";
		else if (!has_unique_index(c, f->u.str))
			msg = "The identity field must have a single-column UNIQUE index.";
		char *path = msg ? hr_arena_printf(a, "passwordAuth.identityFields.%zu", i) : NULL;
		if (path)
			hr_verrs_add(errs, hr_str_make(path, strlen(path)), "validation_invalid_identity_field",
				     msg, NULL);
	}
}

static void validate(hr_arena *a, const hr_schema *s, hr_collection *c, const hr_collection *old,
		     hr_verrs *errs)
{
	/* name */
	if (c->name.len == 0)
		hr_verrs_add(errs, HR_STR("name"), "validation_required", "Cannot be blank.", NULL);
	else if (c->name.len > 255)
		hr_verrs_add(errs, HR_STR("name"), "validation_length_out_of_range",
			     "The length must be between 1 and 255.", NULL);
	else if (contains_via(c->name))
		hr_verrs_add(errs, HR_STR("name"), "validation_found_via",
			     "The value must not contain '_via_'.", NULL);
	else if (!hr_schema_valid_name(c->name, 255))
		hr_verrs_add(errs, HR_STR("name"), "validation_match_invalid", "Must be in a valid format.",
			     NULL);
	else if (old && old->system && !hr_str_eq(old->name, c->name))
		hr_verrs_add(errs, HR_STR("name"), "validation_collection_system_name_change",
			     "System collection name cannot be changed.", NULL);
	else {
		for (unsigned i = 0; i < s->n; i++) {
			const hr_collection *o = &s->cols[i];
			if (old && hr_str_eq(o->id, old->id))
				continue;
			if (hr_str_ieq(o->name, c->name)) {
				hr_verrs_add(errs, HR_STR("name"), "validation_collection_name_exists",
					     "Collection name must be unique (case insensitive).", NULL);
				break;
			}
			if (hr_str_eq(o->id, c->name)) {
				hr_verrs_add(errs, HR_STR("name"), "validation_collection_name_id_duplicate",
					     "The name must not match an existing collection id.", NULL);
				break;
			}
		}
		for (size_t i = 0; i < HR_ARRAY_LEN(internal_tables); i++)
			if (hr_str_ieq(c->name, hr_str_make(internal_tables[i], strlen(internal_tables[i]))) ||
			    hr_str_istarts(c->name, HR_STR("sqlite_")))
				hr_verrs_add(errs, HR_STR("name"), "validation_collection_name_invalid",
					     "The name is reserved.", NULL);
	}
	if (c->type == 0)
		hr_verrs_add(errs, HR_STR("type"), "validation_in_invalid", "Must be a valid value.", NULL);
	else if (old && old->type != c->type)
		hr_verrs_add(errs, HR_STR("type"), "validation_collection_type_change",
			     "Collection type cannot be changed.", NULL);
	if (c->id.len && (c->id.len > 100 || !hr_schema_valid_name(c->id, 100)))
		hr_verrs_add(errs, HR_STR("id"), "validation_match_invalid", "Must be in a valid format.", NULL);
	/* fields */
	for (unsigned i = 0; i < c->nfields; i++) {
		hr_field *f = &c->fields[i];
		char *p = hr_arena_printf(a, "fields.%u", i);
		hr_str pre = hr_str_make(p, p ? strlen(p) : 0);
		for (unsigned k = 0; k < i; k++) {
			if (hr_str_eq(c->fields[k].id, f->id) && f->id.len)
				hr_verrs_addf(errs, pre, HR_STR("id"), "validation_duplicated_field_id",
					      "Duplicated or invalid field id.", NULL);
			if (hr_str_ieq(c->fields[k].name, f->name))
				hr_verrs_addf(errs, pre, HR_STR("name"), "validation_duplicated_field_name",
					      "Duplicated field name.", NULL);
		}
		if (f->type == 0) {
			hr_verrs_addf(errs, pre, HR_STR("type"), "validation_in_invalid", "Must be a valid value.", NULL);
			continue;
		}
		if (f->name.len == 0)
			hr_verrs_addf(errs, pre, HR_STR("name"), "validation_required", "Cannot be blank.", NULL);
		else if (f->name.len > 100)
			hr_verrs_addf(errs, pre, HR_STR("name"), "validation_length_out_of_range",
				      "The length must be between 1 and 100.", NULL);
		else if (!hr_schema_valid_name(f->name, 100))
			hr_verrs_addf(errs, pre, HR_STR("name"), "validation_match_invalid",
				      "Must be in a valid format.", NULL);
		else if (reserved_field_name(f->name))
			hr_verrs_addf(errs, pre, HR_STR("name"), "validation_not_in_invalid",
				      "Must not be one of the reserved names.", NULL);
		else if (contains_via(f->name))
			hr_verrs_addf(errs, pre, HR_STR("name"), "validation_found_via",
				      "The value must not contain '_via_'.", NULL);
		else if (c->type == HR_COLL_AUTH && (hr_str_eq_lit(f->name, "passwordConfirm") ||
						     hr_str_eq_lit(f->name, "oldPassword")))
			hr_verrs_addf(errs, pre, HR_STR("name"), "validation_not_in_invalid",
				      "Must not be one of the reserved names.", NULL);
		if (old) {
			for (unsigned k = 0; k < old->nfields; k++) {
				const hr_field *of = &old->fields[k];
				if (!hr_str_eq(of->id, f->id))
					continue;
				if (of->type != f->type)
					hr_verrs_addf(errs, pre, HR_STR("type"), "validation_field_type_change",
						      "The field type cannot be changed.", NULL);
				else if (f->type == HR_FT_RELATION && !hr_str_eq(of->collection_id, f->collection_id))
					hr_verrs_addf(errs, pre, HR_STR("collectionId"),
						      "validation_field_relation_change",
						      "The relation collection cannot be changed.", NULL);
			}
		}
		if (f->type == HR_FT_SELECT && f->values.n == 0)
			hr_verrs_addf(errs, pre, HR_STR("values"), "validation_required", "Cannot be blank.", NULL);
		if (f->type == HR_FT_SELECT && f->max_select > f->values.n && f->values.n)
			hr_verrs_addf(errs, pre, HR_STR("maxSelect"), "validation_max_less_equal_than_required",
				      hr_arena_printf(a, "Must be no greater than %u.", f->values.n), NULL);
		if (f->type == HR_FT_RELATION) {
			const hr_collection *t = hr_schema_find(s, f->collection_id);
			if (!t && !hr_str_eq(f->collection_id, c->id))
				hr_verrs_addf(errs, pre, HR_STR("collectionId"), "validation_missing_collection",
					      "The relation collection doesn't exist.", NULL);
			else if (t && t->type == HR_COLL_VIEW && c->type != HR_COLL_VIEW)
				hr_verrs_addf(errs, pre, HR_STR("collectionId"), "validation_relation_to_view",
					      "Non view collections cannot reference view collections.", NULL);
			else if (t)
				f->collection_id = t->id;
			if (f->min_select > 0 && f->max_select < f->min_select && f->max_select > 1)
				hr_verrs_addf(errs, pre, HR_STR("maxSelect"), "validation_min_greater_equal_than_required",
					      "Must be no less than minSelect.", NULL);
		}
		if (f->type == HR_FT_TEXT && f->autogen.len) {
			hr_str tmp;
			if (!hr_field_autogen(a, f->autogen, &tmp))
				hr_verrs_addf(errs, pre, HR_STR("autogeneratePattern"), "validation_invalid_pattern",
					      "Unsupported autogenerate pattern.", NULL);
		}
		if (f->type == HR_FT_AUTODATE && !f->on_create && !f->on_update)
			hr_verrs_addf(errs, pre, HR_STR("onCreate"), "validation_required",
				      "At least one of onCreate or onUpdate must be set.", NULL);
	}
	unsigned bad;
	if (hr_collection_compile(c, &bad) != 0) {
		char *p = hr_arena_printf(a, "fields.%u", bad);
		hr_verrs_addf(errs, hr_str_make(p, strlen(p)), HR_STR("pattern"), "validation_invalid_regex",
			      "Invalid regular expression.", NULL);
	}
	/* indexes */
	for (unsigned i = 0; i < c->indexes.n; i++) {
		hr_buf tmp;
		hr_buf_init(&tmp, 0);
		hr_str name, cols[32];
		unsigned ncols = 0;
		bool ok = hr_schema_index_normalize(c->indexes.v[i], c->name, &tmp, &name, NULL, cols, &ncols, 32);
		if (ok) {
			c->indexes.v[i] = adup(a, hr_str_make(tmp.ptr, tmp.len));
			for (unsigned k = 0; k < ncols; k++)
				if (!hr_coll_field(c, cols[k]))
					ok = false;
		}
		hr_buf_dispose(&tmp);
		if (!ok) {
			char *p = hr_arena_printf(a, "indexes.%u", i);
			hr_verrs_add(errs, hr_str_make(p, strlen(p)), "validation_invalid_index_expression",
				     "Invalid CREATE INDEX expression.", NULL);
		}
	}
	/* rules */
	if (errs->n == 0) {
		hr_schema *ts = with_collection(a, s, c, old);
		static const char *const keys[HR_RULE__COUNT] = {"listRule", "viewRule", "createRule",
								 "updateRule", "deleteRule", "authRule",
								 "manageRule"};
		for (int r = 0; ts && r < HR_RULE__COUNT; r++) {
			if (!c->rule_set[r] || c->rules[r].len == 0)
				continue;
			if ((r == HR_RULE_AUTH || r == HR_RULE_MANAGE) && c->type != HR_COLL_AUTH)
				continue;
			const char *msg;
			if (hr_sql_check_rule(a, ts, &ts->cols[ts->n - 1], c->rules[r], &msg) != 0)
				hr_verrs_add(errs, hr_str_make(keys[r], strlen(keys[r])), "validation_invalid_rule",
					     hr_arena_printf(a, "Invalid rule. %s.", msg), NULL);
		}
		if (c->type == HR_COLL_AUTH)
			validate_identity_fields(a, c, errs);
		if (c->type == HR_COLL_AUTH && c->rule_set[HR_RULE_MANAGE] && c->rules[HR_RULE_MANAGE].len == 0)
			hr_verrs_add(errs, HR_STR("manageRule"), "validation_invalid_rule",
				     "The manage rule cannot be an empty string; use null.", NULL);
		if (c->type == HR_COLL_VIEW)
			for (int r = HR_RULE_CREATE; r <= HR_RULE_DELETE; r++)
				if (c->rule_set[r]) {
					static const char *const k3[] = {"createRule", "updateRule", "deleteRule"};
					hr_verrs_add(errs, hr_str_make(k3[r - HR_RULE_CREATE], 10), "validation_must_be_null",
						     "Must be null for view collections.", NULL);
				}
	}
}

/*
 * One option object of a create or update: cur with the body's object v
 * laid over it key by key, recursively for keys whose values are objects
 * on both sides (a partial {"otp":{"duration":300}} keeps otp.length and
 * otp.emailTemplate, and write-only secrets stay unless v sets them).
 * Arrays and scalars replace. Result in a; NULL when out of memory.
 */
static hr_json *merge_obj(hr_arena *a, const hr_json *cur, hr_json *v)
{
	if (!cur || cur->type != HR_JSON_OBJECT)
		return v;
	hr_json *o = hr_arena_alloc(a, sizeof *o);
	hr_json_member *m = hr_arena_alloc(a, (cur->u.obj.len + v->u.obj.len + 1) * sizeof *m);
	if (!o || !m)
		return NULL;
	size_t n = cur->u.obj.len;
	memcpy(m, cur->u.obj.members, n * sizeof *m);
	for (size_t i = 0; i < v->u.obj.len; i++) {
		const hr_json_member *bm = &v->u.obj.members[i];
		size_t k = 0;
		while (k < n && !hr_str_eq(m[k].key, bm->key))
			k++;
		hr_json *val = bm->value;
		if (k < n && val->type == HR_JSON_OBJECT && m[k].value->type == HR_JSON_OBJECT &&
		    !(val = merge_obj(a, m[k].value, val)))
			return NULL;
		if (k == n)
			m[n++].key = bm->key;
		m[k].value = val;
	}
	o->type = HR_JSON_OBJECT;
	o->u.obj.members = m;
	o->u.obj.len = n;
	return o;
}

/* The auth options of a create or update: base (the stored options, or
 * defs on create) with each known option object of body merged over it;
 * an option missing from base starts from its default. NULL on OOM. */
static hr_json *merge_options(hr_arena *a, const hr_json *base, const hr_json *defs,
			      const hr_json *body)
{
	static const char *const okeys[] = {"authAlert", "oauth2", "passwordAuth", "mfa", "otp",
					    "authToken", "passwordResetToken", "emailChangeToken",
					    "verificationToken", "fileToken", "verificationTemplate",
					    "resetPasswordTemplate", "confirmEmailChangeTemplate"};
	hr_json *no = hr_arena_alloc(a, sizeof *no);
	hr_json_member *m =
		hr_arena_alloc(a, (base->u.obj.len + HR_ARRAY_LEN(okeys) + 1) * sizeof *m);
	if (!no || !m)
		return NULL;
	size_t n = base->u.obj.len;
	memcpy(m, base->u.obj.members, n * sizeof *m);
	for (size_t i = 0; i < HR_ARRAY_LEN(okeys); i++) {
		hr_json *v = hr_json_get(body, okeys[i]);
		if (!v || v->type != HR_JSON_OBJECT)
			continue;
		hr_str key = hr_str_make(okeys[i], strlen(okeys[i]));
		size_t k = 0;
		while (k < n && !hr_str_eq(m[k].key, key))
			k++;
		const hr_json *cur = k < n ? m[k].value : hr_json_get(defs, okeys[i]);
		hr_json *val = merge_obj(a, cur, v);
		if (!val)
			return NULL;
		if (k == n)
			m[n++].key = key;
		m[k].value = val;
	}
	no->type = HR_JSON_OBJECT;
	no->u.obj.members = m;
	no->u.obj.len = n;
	return no;
}

/*
 * Builds the collection to save from body over `old` (NULL: create).
 * Returns 0, or 400 with err filled.
 */

/* A changed authRule invalidates every token of the collection (§7.6):
 * replaces options.authToken.secret in opts (an object in a's arena). */
static int rotate_auth_secret(hr_arena *a, hr_json *opts)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	for (size_t k = 0; k < opts->u.obj.len; k++) {
		hr_json_member *om = &opts->u.obj.members[k];
		if (!hr_str_eq_lit(om->key, "authToken") || !om->value || om->value->type != HR_JSON_OBJECT)
			continue;
		const hr_json *cur = om->value;
		hr_json *nv = hr_arena_alloc(a, sizeof *nv);
		hr_json *sv = hr_arena_alloc(a, sizeof *sv);
		hr_json_member *nm = hr_arena_alloc(a, (cur->u.obj.len + 1) * sizeof *nm);
		char *sec = hr_arena_alloc(a, 51);
		if (!nv || !sv || !nm || !sec)
			return HR_ENOMEM;
		hr_rand_string(sec, 50, alnum, sizeof alnum - 1);
		sv->type = HR_JSON_STRING;
		sv->u.str = hr_str_make(sec, 50);
		size_t n = 0;
		for (size_t i = 0; i < cur->u.obj.len; i++)
			if (!hr_str_eq_lit(cur->u.obj.members[i].key, "secret"))
				nm[n++] = cur->u.obj.members[i];
		nm[n++] = (hr_json_member){HR_STR("secret"), sv};
		nv->type = HR_JSON_OBJECT;
		nv->u.obj.members = nm;
		nv->u.obj.len = n;
		om->value = nv;
	}
	return 0;
}

static int prepare(api_req *r, hr_db *db, const hr_schema *s, const hr_json *body,
		   const hr_collection *old, hr_collection *c, hr_rerr *err)
{
	hr_arena *a = r->a;
	const char *what;
	const char *fail_msg = old ? "Failed to update collection." : "Failed to create collection.";
	/* Merge: the stored collection's JSON, then the body's keys on top. */
	const hr_json *merged = body;
	if (old) {
		hr_buf ob;
		hr_buf_init(&ob, 0);
		hr_collection_to_json(&ob, old, true);
		hr_json *oj;
		hr_json_error je;
		char *txt = ob.err ? NULL : hr_arena_dup(a, ob.ptr, ob.len);
		size_t len = ob.len;
		hr_buf_dispose(&ob);
		if (!txt || hr_json_parse(a, txt, len, 64, &oj, &je) != 0) {
			err->status = 500;
			return HR_EPARSE;
		}
		size_t cap = oj->u.obj.len + body->u.obj.len;
		hr_json_member *m = hr_arena_alloc(a, (cap + 1) * sizeof *m);
		if (!m) {
			err->status = 500;
			return HR_ENOMEM;
		}
		size_t n = 0;
		for (size_t i = 0; i < oj->u.obj.len; i++)
			m[n++] = oj->u.obj.members[i];
		for (size_t i = 0; i < body->u.obj.len; i++) {
			bool replaced = false;
			for (size_t k = 0; k < n; k++)
				if (hr_str_eq(m[k].key, body->u.obj.members[i].key)) {
					m[k].value = body->u.obj.members[i].value;
					replaced = true;
				}
			if (!replaced)
				m[n++] = body->u.obj.members[i];
		}
		hr_json *mj = hr_arena_alloc(a, sizeof *mj);
		if (!mj) {
			err->status = 500;
			return HR_ENOMEM;
		}
		mj->type = HR_JSON_OBJECT;
		mj->u.obj.members = m;
		mj->u.obj.len = n;
		merged = mj;
	}
	if (hr_collection_from_json(a, merged, c, &what) != 0) {
		err->status = 400;
		err->message = fail_msg;
		hr_verrs_add(&err->data, hr_str_make(what, strlen(what)), "validation_invalid_value",
			     "Invalid value.", NULL);
		return HR_EPARSE;
	}
	/* Options: auth settings live beside the top-level keys (§11.1). */
	if (c->type == HR_COLL_AUTH) {
		hr_json *defs, *no;
		if (hr_schema_default_auth_options(a, false, &defs) != 0 ||
		    !(no = merge_options(a, old && old->options ? old->options : defs, defs, body))) {
			err->status = 500;
			return HR_ENOMEM;
		}
		c->options = no;
		if (!hr_json_get(merged, "authRule")) {
			c->rule_set[HR_RULE_AUTH] = old ? old->rule_set[HR_RULE_AUTH] : true;
			c->rules[HR_RULE_AUTH] = old ? old->rules[HR_RULE_AUTH] : HR_STR("");
		}
		if (old && old->type == HR_COLL_AUTH &&
		    (old->rule_set[HR_RULE_AUTH] != c->rule_set[HR_RULE_AUTH] ||
		     !hr_str_eq(old->rules[HR_RULE_AUTH], c->rules[HR_RULE_AUTH])) &&
		    rotate_auth_secret(a, no) != 0) {
			err->status = 500;
			return HR_ENOMEM;
		}
	}
	if (old) {
		c->id = old->id;
		c->system = old->system;
		c->created = old->created;
	} else {
		if (c->id.len == 0 && c->name.len)
			c->id = gen_collection_id(a, s, c->type ? c->type : HR_COLL_BASE, c->name);
		c->system = false;
	}
	char *now = hr_arena_alloc(a, HR_TIME_LEN + 1);
	if (!now) {
		err->status = 500;
		return HR_ENOMEM;
	}
	hr_time_format(hr_time_now_ms(), now);
	if (!old)
		c->created = hr_str_make(now, HR_TIME_LEN);
	c->updated = hr_str_make(now, HR_TIME_LEN);
	if (c->type == HR_COLL_VIEW) {
		if (view_fields(a, db, s, c, &err->data) != 0) {
			err->status = 400;
			err->message = fail_msg;
			return HR_EPARSE;
		}
		c->indexes.n = 0;
	} else if (c->type) {
		int idf = hr_coll_field_index(c, HR_STR("id"));
		if (idf < 0) {
			hr_field f;
			id_field(&f);
			insert_field(a, c, 0, &f);
		} else {
			c->fields[idf].primary_key = true;
			c->fields[idf].system = true;
			c->fields[idf].required = true;
			if (c->fields[idf].id.len == 0)
				c->fields[idf].id = HR_STR("text3208210256");
		}
		if (c->type == HR_COLL_AUTH)
			auth_system_fields(a, c);
	}
	for (unsigned i = 0; i < c->nfields; i++) {
		hr_field *f = &c->fields[i];
		if (f->id.len == 0 && old) {
			const hr_field *same = hr_coll_field(old, f->name);
			if (same)
				f->id = same->id;
		}
		if (f->id.len == 0)
			f->id = gen_field_id(a, c, f);
		if (old) {
			/* system fields of the stored collection cannot be removed */
			for (unsigned k = 0; k < old->nfields; k++)
				if (hr_str_eq(old->fields[k].id, f->id) && old->fields[k].system)
					f->system = true;
		}
	}
	if (old) {
		for (unsigned k = 0; k < old->nfields; k++) {
			const hr_field *of = &old->fields[k];
			if (!of->system)
				continue;
			bool kept = false;
			for (unsigned i = 0; i < c->nfields; i++)
				if (hr_str_eq(c->fields[i].id, of->id))
					kept = true;
			if (!kept)
				insert_field(a, c, c->nfields, of);
		}
	}
	validate(a, s, c, old, &err->data);
	if (err->data.n) {
		hr_collection_release(c);
		err->status = 400;
		err->message = fail_msg;
		return HR_EPARSE;
	}
	return 0;
}

/* ---- jobs ------------------------------------------------------------- */

static void write_collection(hr_buf *b, const hr_collection *c)
{
	hr_collection_to_json(b, c, false);
}

static int save_fn(api_job *j, hr_db *db, const hr_schema *s)
{
	api_req *r = j->r;
	const hr_collection *old = NULL;
	if (j->coll.len) {
		old = hr_schema_find(s, j->coll);
		if (!old) {
			j->err.status = 404;
			return HR_EPARSE;
		}
		if (old->system && j->body.obj) {
			static const char *const rk[] = {"listRule", "viewRule", "createRule", "updateRule",
							 "deleteRule"};
			for (size_t i = 0; i < HR_ARRAY_LEN(rk); i++)
				if (hr_json_get(j->body.obj, rk[i]) && old->type == HR_COLL_AUTH &&
				    hr_str_eq_lit(old->id, HR_SUPERUSERS_ID)) {
					j->err.status = 400;
					j->err.message = "Failed to update collection.";
					hr_verrs_add(&j->err.data, hr_str_make(rk[i], strlen(rk[i])),
						     "validation_system_collection_rules",
						     "System collection rules cannot be changed.", NULL);
					return HR_EPARSE;
				}
		}
	}
	hr_collection c;
	int rc = prepare(r, db, s, j->body.obj, old, &c, &j->err);
	if (rc)
		return rc;
	hr_db_error de = {0};
	rc = hr_schema_migrate(db, old, &c, &de);
	hr_collection_release(&c);
	if (rc) {
		j->err.status = 400;
		j->err.message = hr_arena_printf(r->a, "%s Raw error: \n%s",
						 old ? "Failed to update collection." : "Failed to create collection.",
						 de.msg);
		return HR_EPARSE;
	}
	j->schema_changed = true;
	write_collection(&j->out, &c);
	return 0;
}

static int delete_fn(api_job *j, hr_db *db, const hr_schema *s)
{
	const hr_collection *c = hr_schema_find(s, j->coll);
	if (!c) {
		j->err.status = 404;
		return HR_EPARSE;
	}
	if (c->system) {
		j->err.status = 400;
		j->err.message = "Failed to delete collection. System collections cannot be deleted.";
		return HR_EPARSE;
	}
	hr_buf refs;
	hr_buf_init(&refs, 4096);
	for (unsigned i = 0; i < s->n; i++) {
		const hr_collection *o = &s->cols[i];
		if (o == c)
			continue;
		for (unsigned k = 0; k < o->nfields; k++)
			if (o->fields[k].type == HR_FT_RELATION && hr_str_eq(o->fields[k].collection_id, c->id)) {
				if (refs.len)
					hr_buf_append_cstr(&refs, ", ");
				hr_buf_append_str(&refs, o->name);
				break;
			}
	}
	if (refs.len) {
		j->err.status = 400;
		j->err.message = hr_arena_printf(j->r->a,
						 "Failed to delete collection probably due to existing reference in %.*s",
						 (int)refs.len, refs.ptr);
		hr_buf_dispose(&refs);
		return HR_EPARSE;
	}
	hr_buf_dispose(&refs);
	hr_db_error de = {0};
	if (hr_schema_migrate(db, c, NULL, &de) != 0) {
		j->err.status = 400;
		j->err.message = hr_arena_printf(j->r->a, "Failed to delete collection. Raw error: \n%s", de.msg);
		return HR_EPARSE;
	}
	j->schema_changed = true;
	j->status = 204;
	return 0;
}

static int truncate_fn(api_job *j, hr_db *db, const hr_schema *s)
{
	const hr_collection *c = hr_schema_find(s, j->coll);
	if (!c) {
		j->err.status = 404;
		return HR_EPARSE;
	}
	hr_rctx x;
	api_rctx(j->r, db, &x);
	x.schema = s;
	hr_rule_req rq = api_job_rq(j, s);
	x.rq = &rq;
	int rc = hr_records_truncate(&x, c, &j->err);
	if (rc == 0)
		j->status = 204;
	return rc;
}

static int import_fn(api_job *j, hr_db *db, const hr_schema *s)
{
	hr_json *list = hr_json_get(j->body.obj, "collections");
	hr_json *dm = hr_json_get(j->body.obj, "deleteMissing");
	bool delete_missing = dm && dm->type == HR_JSON_TRUE;
	if (!list || list->type != HR_JSON_ARRAY || list->u.arr.len == 0) {
		j->err.status = 400;
		j->err.message = "Failed to import collections.";
		hr_verrs_add(&j->err.data, HR_STR("collections"), "validation_required", "Cannot be blank.", NULL);
		return HR_EPARSE;
	}
	/* base and auth first, then views (they may select from the others) */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < list->u.arr.len; i++) {
			hr_json *cj = list->u.arr.items[i];
			if (cj->type != HR_JSON_OBJECT)
				continue;
			hr_json *t = hr_json_get(cj, "type");
			bool view = t && t->type == HR_JSON_STRING && hr_str_eq_lit(t->u.str, "view");
			if ((pass == 0) == view)
				continue;
			const hr_schema *cur = api_writer_schema(j->r->api, db);
			hr_json *idj = hr_json_get(cj, "id"), *nj = hr_json_get(cj, "name");
			const hr_collection *old = NULL;
			if (idj && idj->type == HR_JSON_STRING)
				old = hr_schema_find(cur, idj->u.str);
			if (!old && nj && nj->type == HR_JSON_STRING)
				old = hr_schema_find(cur, nj->u.str);
			hr_json *body = cj;
			if (old && !delete_missing) {
				/* keep fields the import does not list */
				hr_json *fs = hr_json_get(cj, "fields");
				if (fs && fs->type == HR_JSON_ARRAY) {
					hr_buf fb;
					hr_buf_init(&fb, 0);
					hr_buf_append_char(&fb, '[');
					for (size_t k = 0; k < fs->u.arr.len; k++) {
						if (k)
							hr_buf_append_char(&fb, ',');
						hr_json_write(&fb, fs->u.arr.items[k]);
					}
					for (unsigned k = 0; k < old->nfields; k++) {
						bool listed = false;
						for (size_t q = 0; q < fs->u.arr.len; q++) {
							hr_json *fid = hr_json_get(fs->u.arr.items[q], "id");
							hr_json *fn = hr_json_get(fs->u.arr.items[q], "name");
							if ((fid && fid->type == HR_JSON_STRING && hr_str_eq(fid->u.str, old->fields[k].id)) ||
							    (fn && fn->type == HR_JSON_STRING && hr_str_eq(fn->u.str, old->fields[k].name)))
								listed = true;
						}
						if (!listed) {
							if (fb.len > 1)
								hr_buf_append_char(&fb, ',');
							hr_field_to_json(&fb, &old->fields[k]);
						}
					}
					hr_buf_append_char(&fb, ']');
					hr_json *nf;
					hr_json_error je;
					char *txt = fb.err ? NULL : hr_arena_dup(j->r->a, fb.ptr, fb.len);
					size_t fl = fb.len;
					hr_buf_dispose(&fb);
					if (txt && hr_json_parse(j->r->a, txt, fl, 64, &nf, &je) == 0) {
						hr_json *nb = hr_arena_alloc(j->r->a, sizeof *nb);
						hr_json_member *m = hr_arena_alloc(j->r->a, (cj->u.obj.len + 1) * sizeof *m);
						if (nb && m) {
							memcpy(m, cj->u.obj.members, cj->u.obj.len * sizeof *m);
							for (size_t k = 0; k < cj->u.obj.len; k++)
								if (hr_str_eq_lit(m[k].key, "fields"))
									m[k].value = nf;
							nb->type = HR_JSON_OBJECT;
							nb->u.obj.members = m;
							nb->u.obj.len = cj->u.obj.len;
							body = nb;
						}
					}
				}
			}
			hr_collection c;
			hr_rerr e;
			hr_rerr_init(&e, j->r->a);
			int rc = prepare(j->r, db, cur, body, old, &c, &e);
			hr_db_error de = {0};
			if (rc == 0)
				rc = hr_schema_migrate(db, old, &c, &de);
			hr_collection_release(&c);
			if (rc) {
				j->err.status = 400;
				j->err.message = "Failed to import collections.";
				char *p = hr_arena_printf(j->r->a, "collections.%zu", i);
				if (e.data.n) {
					hr_buf eb;
					hr_buf_init(&eb, 0);
					hr_verrs_write(&e.data, &eb);
					hr_verrs_add_raw(&j->err.data, hr_str_make(p, strlen(p)),
							 hr_str_make(eb.ptr ? eb.ptr : "{}", eb.len ? eb.len : 2));
					hr_buf_dispose(&eb);
				} else {
					hr_verrs_add(&j->err.data, HR_STR("collections"),
						     "validation_collections_import_failure",
						     hr_arena_printf(j->r->a, "Failed to import the collections configuration. Raw error: %s", de.msg),
						     NULL);
				}
				j->schema_changed = true;
				return HR_EPARSE;
			}
			j->schema_changed = true;
			api_writer_schema_dirty(j->r->api);
		}
	}
	if (delete_missing) {
		const hr_schema *cur = api_writer_schema(j->r->api, db);
		for (unsigned i = 0; i < cur->n; i++) {
			const hr_collection *c = &cur->cols[i];
			if (c->system)
				continue;
			bool listed = false;
			for (size_t k = 0; k < list->u.arr.len; k++) {
				hr_json *idj = hr_json_get(list->u.arr.items[k], "id");
				hr_json *nj = hr_json_get(list->u.arr.items[k], "name");
				if ((idj && idj->type == HR_JSON_STRING && hr_str_eq(idj->u.str, c->id)) ||
				    (nj && nj->type == HR_JSON_STRING && hr_str_ieq(nj->u.str, c->name)))
					listed = true;
			}
			if (listed)
				continue;
			hr_db_error de = {0};
			if (hr_schema_migrate(db, c, NULL, &de) != 0) {
				j->err.status = 400;
				j->err.message = "Failed to import collections.";
				return HR_EPARSE;
			}
			j->schema_changed = true;
		}
	}
	(void)s;
	j->status = 204;
	return 0;
}

/* ---- handlers --------------------------------------------------------- */

static api_req *begin_su(hearth_req *req, void *ud)
{
	api_req *r = api_begin(ud, req);
	if (r && !api_require_superuser(r))
		return NULL;
	return r;
}

static void submit(api_req *r, api_job_fn fn, bool with_body, bool by_param, const char *bad)
{
	api_job *j = api_job_new(r, fn);
	if (!j) {
		api_error(r, 500, NULL);
		return;
	}
	if (with_body && !api_body(r, &j->body, bad))
		return;
	if (with_body && j->body.obj->type != HR_JSON_OBJECT) {
		api_error(r, 400, bad);
		return;
	}
	if (by_param) {
		hearth_str c = hearth_req_param(r->req, "collection");
		j->coll = hr_str_make(c.ptr, c.len);
		if (!api_collection(r)) {
			api_error(r, 404, NULL);
			return;
		}
	}
	api_job_submit(j);
}

static void coll_create(hearth_req *req, void *ud)
{
	api_req *r = begin_su(req, ud);
	if (r)
		submit(r, save_fn, true, false, "Failed to create collection.");
}

static void coll_update(hearth_req *req, void *ud)
{
	api_req *r = begin_su(req, ud);
	if (r)
		submit(r, save_fn, true, true, "Failed to update collection.");
}

static void coll_delete(hearth_req *req, void *ud)
{
	api_req *r = begin_su(req, ud);
	if (r)
		submit(r, delete_fn, false, true, NULL);
}

static void coll_truncate(hearth_req *req, void *ud)
{
	api_req *r = begin_su(req, ud);
	if (r)
		submit(r, truncate_fn, false, true, NULL);
}

static void coll_import(hearth_req *req, void *ud)
{
	api_req *r = begin_su(req, ud);
	if (r)
		submit(r, import_fn, true, false, "Failed to import collections.");
}

static void coll_view(hearth_req *req, void *ud)
{
	api_req *r = begin_su(req, ud);
	if (!r)
		return;
	const hr_collection *c = api_collection(r);
	if (!c) {
		api_error(r, 404, NULL);
		return;
	}
	hr_buf b;
	hr_buf_init(&b, 0);
	write_collection(&b, c);
	api_send(r, 200, &b);
	hr_buf_dispose(&b);
}

/* A collection describing _collections' filterable columns (§14 list). */
static void meta_collection(hr_arena *a, hr_collection *m)
{
	hr_field *f = hr_arena_alloc(a, 6 * sizeof *f);
	memset(m, 0, sizeof *m);
	if (!f)
		return;
	memset(f, 0, 6 * sizeof *f);
	const char *names[6] = {"id", "created", "updated", "name", "type", "system"};
	for (int i = 0; i < 6; i++) {
		f[i].name = hr_str_make(names[i], strlen(names[i]));
		f[i].type = i == 5 ? HR_FT_BOOL : HR_FT_TEXT;
	}
	m->id = HR_STR("_collections");
	m->name = HR_STR("_collections");
	m->type = HR_COLL_BASE;
	m->fields = f;
	m->nfields = 6;
}

static void coll_list(hearth_req *req, void *ud)
{
	api_req *r = begin_su(req, ud);
	if (!r)
		return;
	int64_t page = 1, per = 30;
	hr_str v = api_query(r, "page");
	if (v.len) {
		uint64_t u;
		if (hr_str_to_u64(v, 1000000000, &u) != 0) {
			api_error(r, 400, "Invalid page parameter.");
			return;
		}
		page = u ? (int64_t)u : 1;
	}
	v = api_query(r, "perPage");
	if (v.len) {
		uint64_t u;
		if (hr_str_to_u64(v, 1000000000, &u) != 0) {
			api_error(r, 400, "Invalid perPage parameter.");
			return;
		}
		per = u == 0 ? 30 : u > 1000 ? 1000 : (int64_t)u;
	}
	hr_str skip = api_query(r, "skipTotal");
	bool skip_total = hr_str_eq_lit(skip, "1") || hr_str_eq_lit(skip, "true") || hr_str_eq_lit(skip, "t");
	hr_collection meta;
	meta_collection(r->a, &meta);
	hr_sql_ctx sx;
	hr_sql_ctx_init(&sx, r->a, r->schema, &r->rq, false);
	hr_buf where, order, sql;
	hr_buf_init(&where, 1u << 20);
	hr_buf_init(&order, 1u << 20);
	hr_buf_init(&sql, 2u << 20);
	hr_buf_append_cstr(&where, "1=1");
	hr_str filter = api_query(r, "filter"), sort = api_query(r, "sort");
	int64_t total = -1;
	hr_db *db = hr_store_reader(r->api->store, r->w);
	if (filter.len) {
		hr_buf_append_cstr(&where, " AND ");
		if (hr_sql_where_text(&sx, &meta, HR_STR("r"), filter, &where) != 0) {
			api_error(r, 400, hr_arena_printf(r->a, "Invalid filter: %s.", sx.err_msg ? sx.err_msg : "syntax error"));
			goto out;
		}
	}
	if (sort.len) {
		hr_sort_item *items;
		unsigned n;
		hr_filter_error fe;
		if (hr_sort_parse(r->a, sort.ptr, sort.len, 8, &items, &n, &fe) != 0 ||
		    hr_sql_order(&sx, &meta, HR_STR("r"), items, n, &order) != 0) {
			api_error(r, 400, "Invalid sort.");
			goto out;
		}
	}
	hr_db_stmt *st;
	if (!skip_total) {
		hr_buf_printf(&sql, "SELECT COUNT(*) FROM _collections r WHERE %.*s", (int)where.len, where.ptr);
		if (hr_db_prepare(db, hr_str_make(sql.ptr, sql.len), &st, NULL) == 0) {
			hr_sql_bind(&sx, st);
			if (hr_db_step(st, NULL) == HR_DB_ROW)
				total = hr_db_column_int64(st, 0);
			hr_db_release(st);
		}
		hr_buf_reset(&sql);
	}
	hr_buf_printf(&sql, "SELECT r.id FROM _collections r WHERE %.*s ORDER BY %.*s%sr.rowid LIMIT %lld OFFSET %lld",
		      (int)where.len, where.ptr, (int)order.len, order.ptr ? order.ptr : "", order.len ? ", " : "",
		      (long long)per, (long long)((page - 1) * per));
	if (sql.err || hr_db_prepare(db, hr_str_make(sql.ptr, sql.len), &st, NULL) != 0) {
		api_error(r, 500, NULL);
		goto out;
	}
	hr_sql_bind(&sx, st);
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_buf_append_cstr(&b, "{\"items\":[");
	unsigned n = 0;
	while (hr_db_step(st, NULL) == HR_DB_ROW) {
		const hr_collection *c = hr_schema_find(r->schema, hr_db_column_text(st, 0));
		if (!c)
			continue;
		if (n++)
			hr_buf_append_char(&b, ',');
		write_collection(&b, c);
	}
	hr_db_release(st);
	hr_buf_printf(&b, "],\"page\":%lld,\"perPage\":%lld,\"totalItems\":%lld,\"totalPages\":%lld}",
		      (long long)page, (long long)per, (long long)total,
		      (long long)(total < 0 ? -1 : (total + per - 1) / per));
	api_send(r, 200, &b);
	hr_buf_dispose(&b);
out:
	hr_buf_dispose(&where);
	hr_buf_dispose(&order);
	hr_buf_dispose(&sql);
	hr_sql_ctx_dispose(&sx);
}

static void scaffolds(hearth_req *req, void *ud)
{
	api_req *r = begin_su(req, ud);
	if (!r)
		return;
	static const char body[] =
		"{\"auth\":{\"id\":\"\",\"listRule\":null,\"viewRule\":null,\"createRule\":null,"
		"\"updateRule\":null,\"deleteRule\":null,\"name\":\"\",\"type\":\"auth\",\"fields\":[],"
		"\"indexes\":[],\"created\":\"\",\"updated\":\"\",\"system\":false,\"authRule\":\"\","
		"\"manageRule\":null},"
		"\"base\":{\"id\":\"\",\"listRule\":null,\"viewRule\":null,\"createRule\":null,"
		"\"updateRule\":null,\"deleteRule\":null,\"name\":\"\",\"type\":\"base\",\"fields\":[],"
		"\"indexes\":[],\"created\":\"\",\"updated\":\"\",\"system\":false},"
		"\"view\":{\"id\":\"\",\"listRule\":null,\"viewRule\":null,\"createRule\":null,"
		"\"updateRule\":null,\"deleteRule\":null,\"name\":\"\",\"type\":\"view\",\"fields\":[],"
		"\"indexes\":[],\"created\":\"\",\"updated\":\"\",\"system\":false,\"viewQuery\":\"\"}}";
	hr_buf b;
	hr_buf_init(&b, 0);
	hr_buf_append(&b, body, sizeof body - 1);
	api_send(r, 200, &b);
	hr_buf_dispose(&b);
}

int hr_api_collections_register(hr_api *api, hearth_server *s)
{
	int rc;
	if ((rc = hearth_route(s, "GET", "/api/collections", coll_list, api)) ||
	    (rc = hearth_route(s, "POST", "/api/collections", coll_create, api)) ||
	    (rc = hearth_route(s, "PUT", "/api/collections/import", coll_import, api)) ||
	    (rc = hearth_route(s, "GET", "/api/collections/meta/scaffolds", scaffolds, api)) ||
	    (rc = hearth_route(s, "GET", "/api/collections/{collection}", coll_view, api)) ||
	    (rc = hearth_route(s, "PATCH", "/api/collections/{collection}", coll_update, api)) ||
	    (rc = hearth_route(s, "DELETE", "/api/collections/{collection}", coll_delete, api)) ||
	    (rc = hearth_route(s, "DELETE", "/api/collections/{collection}/truncate", coll_truncate, api)))
		return rc;
	return 0;
}
