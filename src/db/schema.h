/*
 * db/schema.h - collections and fields in memory, their JSON form, and the
 * tables that hold them.
 *
 * A hr_schema is an immutable snapshot of every collection, loaded from the
 * system table _collections. Each thread that serves requests keeps its own
 * snapshot and reloads it when hr_store_generation() moves (one atomic load
 * per request), so no snapshot is ever shared between threads and none
 * needs a lock. Everything in a snapshot lives in its own arena and is
 * freed in one call.
 *
 * STORAGE (DIALECT.md §3, §4, §21)
 *   _collections(id, system, type, name, fields, indexes, listRule,
 *                viewRule, createRule, updateRule, deleteRule, options,
 *                created, updated): fields/indexes/options are JSON text,
 *                the rules are TEXT or NULL (NULL = superusers only).
 *   _params(id, value, created, updated): settings as JSON.
 *   One table per base/auth collection, named after it, one column per
 *   field (see hr_field_sql_type), and one VIEW per view collection.
 *   Multi-valued fields (select/relation/file with maxSelect >= 2) are JSON
 *   text arrays; json is the one nullable type; numbers are NUMERIC,
 *   booleans 0/1, dates canonical text.
 *
 * Identifiers that reach SQL text (collection and field names) are
 * validated by hr_schema_valid_name() before they are ever stored, and are
 * always written quoted ("name") besides.
 */
#ifndef HR_DB_SCHEMA_H
#define HR_DB_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "db/db.h"

enum hr_coll_type { HR_COLL_BASE = 1, HR_COLL_AUTH, HR_COLL_VIEW };

enum hr_field_type {
	HR_FT_TEXT = 1,
	HR_FT_NUMBER,
	HR_FT_BOOL,
	HR_FT_EMAIL,
	HR_FT_URL,
	HR_FT_EDITOR,
	HR_FT_DATE,
	HR_FT_AUTODATE,
	HR_FT_SELECT,
	HR_FT_JSON,
	HR_FT_RELATION,
	HR_FT_FILE,
	HR_FT_PASSWORD,
	HR_FT_GEOPOINT,
	HR_FT__COUNT
};

enum hr_rule_kind {
	HR_RULE_LIST = 0,
	HR_RULE_VIEW,
	HR_RULE_CREATE,
	HR_RULE_UPDATE,
	HR_RULE_DELETE,
	HR_RULE_AUTH,	/* auth collections */
	HR_RULE_MANAGE, /* auth collections */
	HR_RULE__COUNT
};

typedef struct hr_strs {
	hr_str *v;
	unsigned n;
} hr_strs;

typedef struct hr_field {
	hr_str id, name;
	int type; /* enum hr_field_type */
	bool system, hidden, presentable, required;
	hr_str help;
	/* text, password: length in code points; 0 = none (text max 0 = 5000) */
	int64_t min, max;
	hr_str pattern;	       /* text, password: "" = none */
	hr_str autogen;	       /* text: autogeneratePattern */
	bool primary_key;      /* the id field */
	/* number: nullable bounds */
	bool has_nmin, has_nmax, only_int;
	double nmin, nmax;
	/* email, url */
	hr_strs only_domains, except_domains;
	/* editor (5 MiB), json (1 MiB), file (5 MiB): 0 = the default */
	int64_t max_size;
	bool convert_urls;
	/* date: "" = none, else canonical */
	hr_str dmin, dmax;
	/* autodate */
	bool on_create, on_update;
	/* select */
	hr_strs values;
	/* select, relation, file: <= 1 single, >= 2 multiple */
	unsigned max_select, min_select;
	/* relation */
	hr_str collection_id;
	bool cascade_delete;
	/* file */
	hr_strs mime_types, thumbs;
	bool protected_file;
	/* password: bcrypt cost upstream; kept for round-trip only */
	int cost;
	/* compiled pattern (PCRE2 code), NULL when pattern is empty */
	void *re;
} hr_field;

typedef struct hr_collection {
	hr_str id, name;
	int type; /* enum hr_coll_type */
	bool system;
	hr_str rules[HR_RULE__COUNT];
	bool rule_set[HR_RULE__COUNT]; /* false: the rule is null (superusers only) */
	hr_field *fields;
	unsigned nfields;
	hr_strs indexes;     /* full CREATE [UNIQUE] INDEX statements */
	hr_str view_query;   /* view collections */
	hr_str created, updated;
	hr_json *options;    /* auth options and anything else kept verbatim (may be NULL) */
} hr_collection;

typedef struct hr_schema {
	hr_arena arena;
	hr_collection *cols;
	unsigned n;
	uint64_t generation; /* hr_store_generation() it was loaded at */
	unsigned refs;	     /* holders (one thread's requests); owner's business */
} hr_schema;

/* Is s a valid collection/field identifier (^\w+$, 1..max bytes)? */
bool hr_schema_valid_name(hr_str s, size_t max);

/* Name of a field type ("text"...) and back (0 when unknown). */
const char *hr_field_type_name(int type);
int hr_field_type_from(hr_str name);

/* Is the field stored as a JSON array (select/relation/file, maxSelect >= 2)? */
bool hr_field_multi(const hr_field *f);

/* SQL column declaration for a field: type and default, e.g.
 * "TEXT DEFAULT '' NOT NULL". */
const char *hr_field_sql_type(const hr_field *f);

/* Lookups. Collections by id or name (names case-insensitively); fields by
 * exact name. NULL when absent. */
const hr_collection *hr_schema_find(const hr_schema *s, hr_str name_or_id);
const hr_field *hr_coll_field(const hr_collection *c, hr_str name);
int hr_coll_field_index(const hr_collection *c, hr_str name);

/*
 * Creates the system tables if they are missing and the built-in
 * collection _superusers when the
 * database is new. Idempotent. Runs on the writer connection.
 */
int hr_schema_bootstrap(hr_db *db, hr_db_error *err);

/* The same, plus the default "users" auth collection (id _pb_users_auth_)
 * when the database is new: what a server's data directory starts with. */
int hr_schema_bootstrap_app(hr_db *db, hr_db_error *err);

/* Loads every collection into a new snapshot. */
int hr_schema_load(hr_db *db, uint64_t generation, hr_schema **out, hr_db_error *err);
void hr_schema_free(hr_schema *s);

/*
 * Reads a collection from its JSON form (as stored, or as sent to the
 * collections API after the API has validated it) into arena memory.
 * Unknown keys are ignored; absent options take zero values. Returns 0 or
 * HR_EPARSE (a key of the wrong JSON type; *what names it).
 */
int hr_collection_from_json(hr_arena *a, const hr_json *j, hr_collection *out, const char **what);

/* Writes the collection's JSON (DIALECT.md §3.1 key order; fields with
 * keys sorted; secrets omitted unless with_secrets). */
void hr_collection_to_json(hr_buf *b, const hr_collection *c, bool with_secrets);

/* Writes one field's JSON object (keys sorted, as the dialect emits). */
void hr_field_to_json(hr_buf *b, const hr_field *f);

/*
 * Compiles the field patterns of c (PCRE2). Returns 0, or HR_EPARSE with
 * *bad set to the offending field index.
 */
int hr_collection_compile(hr_collection *c, unsigned *bad);

/* Frees what hr_collection_compile made (the arena memory stays). */
void hr_collection_release(hr_collection *c);

/*
 * Migrates the database from collection `old` (NULL: create) to `neu`
 * (NULL: delete) in the current transaction: creates, alters, renames or
 * drops the table or view, converts values whose storage changed
 * (single <-> multiple), recreates indexes, and writes the _collections
 * row. The caller has validated `neu` and owns the transaction; on error
 * it rolls back. err->msg holds the database's message.
 */
int hr_schema_migrate(hr_db *db, const hr_collection *old, const hr_collection *neu,
		      hr_db_error *err);

/*
 * Parses an index statement (CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON
 * table (col [COLLATE c] [ASC|DESC], ...) [WHERE expr]) and appends its
 * normalised form for `table` to out. Returns false when it does not parse.
 * name/unique/cols (up to max_cols) are filled when non-NULL; they point
 * into stmt.
 */
bool hr_schema_index_normalize(hr_str stmt, hr_str table, hr_buf *out, hr_str *name, bool *unique,
			       hr_str *cols, unsigned *ncols, unsigned max_cols);

/* Default auth-collection options with fresh secrets, parsed into a. */
int hr_schema_default_auth_options(hr_arena *a, bool superusers, hr_json **out);

#endif
