/*
 * bench/seed.c - `hearth-bench seed`: the data of the records and database
 * benchmarks, generated deterministically and written fast.
 *
 *   hearth-bench seed [--posts DATA_DB [--count N] [--ids FILE]] [--world FILE]
 *                     [--auth DATA_DB [--users N] [--notes N]]
 *
 * --posts  a hearth data.db whose "posts" collection was already created
 *          through the collections API (so the schema, the _collections
 *          row and the indexes are exactly what hearth makes), and that no
 *          server has open. Appends N records (default 100000) in one
 *          transaction, then checkpoints the WAL into the main file, so the
 *          file alone can be copied for the Node.js peer.
 * --ids    writes the ids of those records, one per line (wrk's view script
 *          picks from them).
 * --world  creates (or refills) TechEmpower's table world(id INTEGER
 *          PRIMARY KEY, randomNumber INTEGER NOT NULL) with ids 1..10000 in
 *          a file of its own.
 *
 * --auth   a hearth data.db with the auth collection "members" and the base
 *          collection "notes" (title, body, owner: a relation to members,
 *          created, updated) already created through the API, and at least
 *          one member created through the API (with a password, so its
 *          hash is hearth's own argon2id string). Adds members up to N in
 *          all (default 1000) and then appends the notes (default 100000),
 *          each owned by one member drawn at random, in one transaction,
 *          and checkpoints as --posts does. Member k (1-based, in rowid
 *          order) has the e-mail "member<k>@example.com"; the added ones
 *          get a random 15-character id, a random 50-character tokenKey
 *          and the first member's password hash verbatim: a real argon2id
 *          string, so every member logs in with the first one's password
 *          and no hashing is spent here (the salt is shared, which only a
 *          benchmark may do).
 *
 * The records. Record i (0-based) gets, from one xorshift64* generator with
 * a fixed seed: an id of 15 characters [a-z0-9] (the dialect's default
 * pattern); a title "Post i: <three words>"; a body of about 200
 * characters of words; views uniform in 0..999; status "published" or
 * "draft" with even odds; author one of 100 fixed 15-character ids; and
 * created = updated = 2025-01-01 00:00:00 UTC + i minutes + 0..999 ms, in
 * the dialect's canonical form "YYYY-MM-DD HH:MM:SS.mmmZ". So rowid order
 * is created order, created is unique, and the benchmark filter
 * status='published' && views>500 matches about a quarter of the rows.
 * The same seed always gives the same file contents.
 *
 * It goes through the storage interface (src/db/db.h) like everything
 * else that touches SQLite, with one prepared INSERT bound per row.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "db/db.h"

#define SEED_BASE_TIME 1735689600 /* 2025-01-01 00:00:00 UTC */
#define AUTHORS 100
#define BODY_MIN 190

static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
static const char alnum_mixed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

static const char *const words[] = {
	"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed",
	"do", "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna",
	"aliqua", "enim", "ad", "minim", "veniam", "quis", "nostrud", "exercitation",
	"ullamco", "laboris", "nisi", "aliquip", "ex", "ea", "commodo", "consequat", "duis",
	"aute", "irure", "in", "reprehenderit", "voluptate", "velit", "esse", "cillum",
	"fugiat", "nulla", "pariatur", "excepteur", "sint", "occaecat", "cupidatat", "non",
	"proident", "sunt", "culpa", "qui", "officia", "deserunt", "mollit", "anim", "id",
	"est", "laborum",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static uint64_t next64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static unsigned below(uint64_t *s, unsigned n)
{
	return (unsigned)((next64(s) >> 32) % n);
}

static void make_id(uint64_t *s, char out[16])
{
	for (int i = 0; i < 15; i++)
		out[i] = alnum[below(s, 36)];
	out[15] = '\0';
}

/* Appends words to buf (cap bytes) until it holds at least min bytes. */
static size_t add_words(uint64_t *s, char *buf, size_t len, size_t cap, size_t min, unsigned max_words)
{
	unsigned n = 0;

	while (len < min && n < max_words) {
		const char *w = words[below(s, NWORDS)];
		size_t wl = strlen(w);

		if (len + wl + 2 >= cap)
			break;
		if (n > 0 || len > 0)
			buf[len++] = ' ';
		memcpy(buf + len, w, wl);
		len += wl;
		n++;
	}
	buf[len] = '\0';
	return len;
}

/* out: 80 bytes, room for any int the compiler can imagine in struct tm. */
static void canonical_time(int64_t ms, char out[80])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(out, 80, "%04d-%02d-%02d %02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int open_db(const char *path, hr_db **db)
{
	hr_db_config cfg = { .kind = HR_DB_SQLITE, .path = path };
	hr_db_error err;
	int rc = hr_db_open(&cfg, db, &err);

	if (rc != 0)
		fprintf(stderr, "seed: %s: %s\n", path, err.msg);
	return rc;
}

static int fail(hr_db *db, const char *what, const hr_db_error *err)
{
	fprintf(stderr, "seed: %s: %s\n", what, err ? err->msg : "failed");
	(void)hr_db_rollback(db);
	return 1;
}

static int seed_posts(const char *path, unsigned count, const char *ids_path)
{
	static const char ins[] = "INSERT INTO posts (id, title, body, views, status, author, "
				  "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	char authors[AUTHORS][16];
	uint64_t s = 0x5EED0F0057ULL;
	hr_db_error err;
	hr_db *db = NULL;
	FILE *ids = NULL;
	int rc = 1;

	if (open_db(path, &db) != 0)
		return 1;
	if (ids_path != NULL && (ids = fopen(ids_path, "w")) == NULL) {
		fprintf(stderr, "seed: %s: %s\n", ids_path, strerror(errno));
		goto out;
	}
	for (int a = 0; a < AUTHORS; a++)
		make_id(&s, authors[a]);
	if (hr_db_begin(db, true, &err) != 0) {
		rc = fail(db, "BEGIN", &err);
		goto out;
	}
	for (unsigned i = 0; i < count; i++) {
		char id[16], title[128], body[256], when[80];
		size_t tl, bl;
		hr_db_stmt *st;
		int64_t ms = (int64_t)SEED_BASE_TIME * 1000 + (int64_t)i * 60000;
		int step;

		make_id(&s, id);
		tl = (size_t)snprintf(title, sizeof(title), "Post %u:", i + 1);
		tl = add_words(&s, title, tl, sizeof(title), sizeof(title), 3);
		bl = add_words(&s, body, 0, sizeof(body) - 1, BODY_MIN, 1000);
		body[bl++] = '.';
		body[bl] = '\0';
		if (body[0] >= 'a' && body[0] <= 'z')
			body[0] = (char)(body[0] - 'a' + 'A');
		ms += below(&s, 1000);
		canonical_time(ms, when);
		if (hr_db_prepare(db, HR_STR(ins), &st, &err) != 0) {
			rc = fail(db, "INSERT INTO posts (create the collection through the API first)", &err);
			goto out;
		}
		hr_db_bind_text(st, 1, hr_str_make(id, 15));
		hr_db_bind_text(st, 2, hr_str_make(title, tl));
		hr_db_bind_text(st, 3, hr_str_make(body, bl));
		hr_db_bind_int64(st, 4, below(&s, 1000));
		hr_db_bind_text(st, 5, below(&s, 2) ? HR_STR("published") : HR_STR("draft"));
		hr_db_bind_text(st, 6, hr_str_make(authors[below(&s, AUTHORS)], 15));
		hr_db_bind_text(st, 7, hr_str_make(when, strlen(when)));
		hr_db_bind_text(st, 8, hr_str_make(when, strlen(when)));
		step = hr_db_step(st, &err);
		hr_db_release(st);
		if (step != HR_DB_DONE) {
			rc = fail(db, "INSERT INTO posts", &err);
			goto out;
		}
		if (ids != NULL && fprintf(ids, "%s\n", id) < 0) {
			fprintf(stderr, "seed: %s: %s\n", ids_path, strerror(errno));
			(void)hr_db_rollback(db);
			goto out;
		}
	}
	if (hr_db_commit(db, &err) != 0) {
		rc = fail(db, "COMMIT", &err);
		goto out;
	}
	if (hr_db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", &err) != 0) {
		fprintf(stderr, "seed: checkpoint: %s\n", err.msg);
		goto out;
	}
	rc = 0;
out:
	if (ids != NULL && fclose(ids) != 0 && rc == 0) {
		fprintf(stderr, "seed: %s: %s\n", ids_path, strerror(errno));
		rc = 1;
	}
	hr_db_close(db);
	return rc;
}

static int seed_world(const char *path)
{
	static const char ins[] = "INSERT INTO world (id, randomNumber) VALUES (?, ?)";
	uint64_t s = 0x7E57ULL << 20 | 1;
	hr_db_error err;
	hr_db *db = NULL;
	int rc = 1;

	if (open_db(path, &db) != 0)
		return 1;
	if (hr_db_exec(db, "CREATE TABLE IF NOT EXISTS world (id INTEGER PRIMARY KEY, "
			   "randomNumber INTEGER NOT NULL)", &err) != 0 ||
	    hr_db_begin(db, true, &err) != 0 || hr_db_exec(db, "DELETE FROM world", &err) != 0) {
		rc = fail(db, "world", &err);
		goto out;
	}
	for (unsigned id = 1; id <= 10000; id++) {
		hr_db_stmt *st;
		int step;

		if (hr_db_prepare(db, HR_STR(ins), &st, &err) != 0) {
			rc = fail(db, "INSERT INTO world", &err);
			goto out;
		}
		hr_db_bind_int64(st, 1, id);
		hr_db_bind_int64(st, 2, below(&s, 10000) + 1);
		step = hr_db_step(st, &err);
		hr_db_release(st);
		if (step != HR_DB_DONE) {
			rc = fail(db, "INSERT INTO world", &err);
			goto out;
		}
	}
	if (hr_db_commit(db, &err) != 0 ||
	    hr_db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", &err) != 0) {
		rc = fail(db, "COMMIT", &err);
		goto out;
	}
	rc = 0;
out:
	hr_db_close(db);
	return rc;
}

/* Reads one text column of the first row of sql into out (cap bytes, NUL
 * terminated); returns 0, or 1 (no row, too long, or an error). */
static int query_text(hr_db *db, const char *sql, char *out, size_t cap)
{
	hr_db_error err;
	hr_db_stmt *st;
	int rc = 1;

	if (hr_db_prepare(db, hr_str_make(sql, strlen(sql)), &st, &err) != 0) {
		fprintf(stderr, "seed: %s: %s\n", sql, err.msg);
		return 1;
	}
	if (hr_db_step(st, &err) == HR_DB_ROW) {
		hr_str v = hr_db_column_text(st, 0);

		if (v.len < cap) {
			memcpy(out, v.ptr, v.len);
			out[v.len] = '\0';
			rc = 0;
		}
	}
	hr_db_release(st);
	return rc;
}

static int add_members(hr_db *db, uint64_t *s, unsigned have, unsigned users, const char *hash)
{
	static const char ins[] = "INSERT INTO members (id, password, tokenKey, email, emailVisibility, "
				  "verified, created, updated) VALUES (?, ?, ?, ?, 0, 0, ?, ?)";
	hr_db_error err;

	for (unsigned k = have + 1; k <= users; k++) {
		char id[16], key[51], email[64], when[80];
		hr_db_stmt *st;
		int step;

		make_id(s, id);
		for (int i = 0; i < 50; i++)
			key[i] = alnum_mixed[below(s, sizeof(alnum_mixed) - 1)];
		key[50] = '\0';
		snprintf(email, sizeof(email), "member%u@example.com", k);
		canonical_time((int64_t)SEED_BASE_TIME * 1000 + (int64_t)k * 1000, when);
		if (hr_db_prepare(db, HR_STR(ins), &st, &err) != 0)
			return fail(db, "INSERT INTO members (create the collection through the API first)", &err);
		hr_db_bind_text(st, 1, hr_str_make(id, 15));
		hr_db_bind_text(st, 2, hr_str_make(hash, strlen(hash)));
		hr_db_bind_text(st, 3, hr_str_make(key, 50));
		hr_db_bind_text(st, 4, hr_str_make(email, strlen(email)));
		hr_db_bind_text(st, 5, hr_str_make(when, strlen(when)));
		hr_db_bind_text(st, 6, hr_str_make(when, strlen(when)));
		step = hr_db_step(st, &err);
		hr_db_release(st);
		if (step != HR_DB_DONE)
			return fail(db, "INSERT INTO members", &err);
	}
	return 0;
}

static int add_notes(hr_db *db, uint64_t *s, unsigned count, char (*owners)[16], unsigned users)
{
	static const char ins[] = "INSERT INTO notes (id, title, body, owner, created, updated) "
				  "VALUES (?, ?, ?, ?, ?, ?)";
	hr_db_error err;

	for (unsigned i = 0; i < count; i++) {
		char id[16], title[128], body[256], when[80];
		size_t tl, bl;
		hr_db_stmt *st;
		int64_t ms = (int64_t)SEED_BASE_TIME * 1000 + (int64_t)i * 60000;
		int step;

		make_id(s, id);
		tl = (size_t)snprintf(title, sizeof(title), "Note %u:", i + 1);
		tl = add_words(s, title, tl, sizeof(title), sizeof(title), 3);
		bl = add_words(s, body, 0, sizeof(body) - 1, BODY_MIN, 1000);
		body[bl++] = '.';
		body[bl] = '\0';
		ms += below(s, 1000);
		canonical_time(ms, when);
		if (hr_db_prepare(db, HR_STR(ins), &st, &err) != 0)
			return fail(db, "INSERT INTO notes (create the collection through the API first)", &err);
		hr_db_bind_text(st, 1, hr_str_make(id, 15));
		hr_db_bind_text(st, 2, hr_str_make(title, tl));
		hr_db_bind_text(st, 3, hr_str_make(body, bl));
		hr_db_bind_text(st, 4, hr_str_make(owners[below(s, users)], 15));
		hr_db_bind_text(st, 5, hr_str_make(when, strlen(when)));
		hr_db_bind_text(st, 6, hr_str_make(when, strlen(when)));
		step = hr_db_step(st, &err);
		hr_db_release(st);
		if (step != HR_DB_DONE)
			return fail(db, "INSERT INTO notes", &err);
	}
	return 0;
}

static int seed_auth(const char *path, unsigned users, unsigned notes)
{
	char hash[256], num[32];
	char (*owners)[16] = NULL;
	uint64_t s = 0xA17407E5ULL;
	hr_db_error err;
	hr_db_stmt *st;
	hr_db *db = NULL;
	unsigned have, n = 0;
	int rc = 1;

	if (open_db(path, &db) != 0)
		return 1;
	if (query_text(db, "SELECT password FROM members ORDER BY _rowid_ LIMIT 1", hash, sizeof(hash)) != 0 ||
	    strncmp(hash, "$argon2id$", 10) != 0) {
		fprintf(stderr, "seed: members: no member with an argon2id password (create one through the API first)\n");
		goto out;
	}
	if (query_text(db, "SELECT COUNT(*) FROM members", num, sizeof(num)) != 0)
		goto out;
	have = (unsigned)strtoul(num, NULL, 10);
	if (have > users)
		users = have;
	if ((owners = calloc(users, sizeof(*owners))) == NULL) {
		fprintf(stderr, "seed: out of memory\n");
		goto out;
	}
	if (hr_db_begin(db, true, &err) != 0) {
		rc = fail(db, "BEGIN", &err);
		goto out;
	}
	if (add_members(db, &s, have, users, hash) != 0)
		goto out;
	if (hr_db_prepare(db, HR_STR("SELECT id FROM members ORDER BY _rowid_"), &st, &err) != 0) {
		rc = fail(db, "SELECT id FROM members", &err);
		goto out;
	}
	while (n < users && hr_db_step(st, &err) == HR_DB_ROW) {
		hr_str id = hr_db_column_text(st, 0);

		snprintf(owners[n++], 16, "%.*s", (int)id.len, id.ptr);
	}
	hr_db_release(st);
	if (n != users) {
		fail(db, "SELECT id FROM members", NULL);
		goto out;
	}
	if (add_notes(db, &s, notes, owners, users) != 0)
		goto out;
	if (hr_db_commit(db, &err) != 0) {
		rc = fail(db, "COMMIT", &err);
		goto out;
	}
	if (hr_db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", &err) != 0) {
		fprintf(stderr, "seed: checkpoint: %s\n", err.msg);
		goto out;
	}
	rc = 0;
out:
	free(owners);
	hr_db_close(db);
	return rc;
}

/* Parses a count of 1..10,000,000; returns 0 or 1. */
static int parse_count(const char *v, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(v, &end, 10);
	return errno != 0 || *end != '\0' || v[0] == '-' || *out == 0 || *out > 10000000;
}

int seed_main(int argc, char **argv)
{
	const char *posts = NULL, *ids = NULL, *world = NULL, *auth = NULL;
	unsigned long count = 100000, users = 1000, notes = 100000;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			goto usage;
		if (strcmp(a, "--posts") == 0) {
			posts = v;
		} else if (strcmp(a, "--ids") == 0) {
			ids = v;
		} else if (strcmp(a, "--world") == 0) {
			world = v;
		} else if (strcmp(a, "--auth") == 0) {
			auth = v;
		} else if (strcmp(a, "--count") == 0) {
			if (parse_count(v, &count) != 0)
				goto usage;
		} else if (strcmp(a, "--users") == 0) {
			if (parse_count(v, &users) != 0)
				goto usage;
		} else if (strcmp(a, "--notes") == 0) {
			if (parse_count(v, &notes) != 0)
				goto usage;
		} else {
			goto usage;
		}
		i++;
	}
	if (posts == NULL && world == NULL && auth == NULL)
		goto usage;
	if (posts != NULL && seed_posts(posts, (unsigned)count, ids) != 0)
		return 1;
	if (world != NULL && seed_world(world) != 0)
		return 1;
	if (auth != NULL && seed_auth(auth, (unsigned)users, (unsigned)notes) != 0)
		return 1;
	return 0;
usage:
	fprintf(stderr, "usage: hearth-bench seed [--posts DATA_DB [--count N] [--ids FILE]]"
			" [--world FILE] [--auth DATA_DB [--users N] [--notes N]]\n");
	return 2;
}
