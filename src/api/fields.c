/*
 * api/fields.c - the `fields` query parameter (DIALECT.md §9.2). See
 * fields.h for the contract.
 *
 * DESIGN
 *   Spec. Entries are split on commas outside parentheses and quotes
 *   (' " `), as upstream's tokenizer does: a character after a backslash
 *   opens or closes nothing, an unmatched ')' is ordinary, and an open
 *   parenthesis or quote at the end is an error. Each entry is trimmed;
 *   empty entries are dropped; the first ':' separates the path from a
 *   modifier (both trimmed). A path splits on '.', every segment is a key
 *   (so "a..b" names the key "" between a and b), except that one trailing
 *   '.' is dropped ("a." is "a"): exactly upstream's prefix matching on
 *   f+"." against k+".". A last segment "*" selects every key of its level
 *   ("*.x" names the literal key "*").
 *
 *   The entries become a trie (struct fnode). A node is `terminal` when an
 *   entry ends on it: the whole value is kept (with the entry's modifier),
 *   whatever deeper entries say, as upstream keeps it. Repeating a path
 *   keeps the last entry's modifier (upstream's map assignment). `wild`
 *   marks "*" at the node's level, with its own modifier, applied to keys
 *   no entry names. After parsing, each node's children are sorted so
 *   applying looks keys up by binary search.
 *
 *   Modifier. Only excerpt(max[,withEllipsis]): max is 1*DIGIT, > 0, at
 *   most HR_FIELDS_MAX_EXCERPT; withEllipsis is a Go strconv.ParseBool
 *   value (1 t T TRUE true True 0 f F FALSE false False). Stricter than
 *   upstream's cast.ToInt/ToBool, which read "-3" as a max and "yes" as
 *   false; the dialect asks for 400 on a bad argument, and we say what a
 *   bad argument is.
 *
 *   Apply (upstream tools/picker): an object keeps the members the node
 *   names, in input order; a terminal member is written whole (modifier
 *   applied), a non-terminal member is reduced by the child node when it
 *   is an object or an array whose first element is an object (each
 *   object element reduced, others written as they are), and written
 *   whole otherwise (upstream leaves non-map values alone). Members not
 *   named are kept only under "*". The top-level value follows the same
 *   rule. A list envelope - an object with an "items" array and a "page"
 *   key and no keys besides items/page/perPage/totalItems/totalPages - is
 *   written whole except that the selection applies to items. (Upstream
 *   recognises the envelope by its Go type; the exact key set is our
 *   stand-in, so that a record that happens to have "items" and "page"
 *   fields is not mistaken for one.) Recursion follows the trie, so its
 *   depth is at most HR_FIELDS_MAX_DEPTH + 1; unselected subtrees go
 *   through hr_json_write, which is not recursive.
 *
 *   Excerpt (upstream excerptModifier over golang.org/x/net/html). We do
 *   not build an HTML5 tree; a small tokenizer reproduces what matters for
 *   the text: tags with quoted or bare attributes, comments, bogus
 *   comments (<!...>, <?...>), raw-text elements (script style iframe
 *   textarea title xmp noembed noframes plaintext, whose content is not
 *   markup), character references (the Latin-1 named set plus a few
 *   common ones, &#NNN; and &#xHH; with HTML5's replacements). Text is
 *   emitted as upstream walks the tree:
 *     - the content of §9.2's dropped elements (head style script iframe
 *       embed applet object svg img picture dialog template button form
 *       textarea input select option) is skipped; nested elements of the
 *       same name are counted so the right end tag ends the skip;
 *     - a block element (any not in §9.2's inline list) adds a space when
 *       it ENDS (upstream appends it after the children: "a<div>b</div>c"
 *       is "ab c"), unless the output already ends in one;
 *     - runs of [ \t\n\f\r] collapse to one space, and a space is dropped
 *       after a space;
 *   and then trimmed (Unicode white space, Go's strings.TrimSpace), cut to
 *   max code points, trimmed again, "..." appended when cut and asked.
 *   Element ends are tracked on a stack of open elements (at most 256;
 *   deeper ones are not tracked), with the HTML5 implied ends that change
 *   where spaces fall: a start tag of the paragraph-closing set closes an
 *   open p, li closes li, dd/dt close dd/dt, td/th close a cell, tr a
 *   row, a heading closes a heading; an end tag closes everything above
 *   its element (an inline end tag does not reach past a block element);
 *   </p> with no open p is an empty p; html/body tags are ignored. Before
 *   any body content the parser is "in head" like HTML5's implied head:
 *   title, meta, style, ... there are head content and dropped (title is
 *   treated so everywhere: it belongs in head); the first other tag or
 *   non-space text leaves the head.
 *
 * MEMORY
 *   The trie lives in the parse arena; hr_fields_apply reads it without
 *   changing it, so one parsed spec can serve many documents. Excerpts
 *   are built in the arena (input length + 8 bytes: the output never
 *   grows past input + 1, see emit()). Any thread; one user per arena.
 *
 * CAVEATS
 *   Not an HTML5 tree builder: no adoption agency for misnested
 *   formatting elements, no foster parenting in tables, no quirks beyond
 *   "<table> does not close <p>" (documents without a doctype are quirks
 *   mode). Named references outside the set above are left as written.
 */
#include "api/fields.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

/* ------------------------------------------------------------------ */
/* The parsed spec                                                     */
/* ------------------------------------------------------------------ */

typedef struct fmod {
	bool set;
	bool ellipsis;
	size_t max; /* code points */
} fmod;

typedef struct fnode fnode;
struct fnode {
	hr_str key;
	bool terminal; /* an entry ends here: keep the whole value */
	fmod mod;      /* that entry's modifier */
	bool wild;     /* "*" listed at this node's level */
	fmod wild_mod;
	fnode *first, *next; /* children while parsing */
	fnode **kids;	     /* children sorted by key, after parsing */
	size_t nkids;
};

struct hr_fields {
	fnode root;
};

#define FAIL(msg)                   \
	do {                        \
		if (why)            \
			*why = (msg); \
		return HR_EPARSE;   \
	} while (0)

static bool is_ascii_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static hr_str trim(hr_str s)
{
	while (s.len && is_ascii_space((unsigned char)s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len && is_ascii_space((unsigned char)s.ptr[s.len - 1]))
		s.len--;
	return s;
}

static int key_cmp(hr_str a, hr_str b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
	return c ? c : (a.len > b.len) - (a.len < b.len);
}

static fnode *child(hr_arena *a, fnode *n, hr_str key)
{
	for (fnode *c = n->first; c; c = c->next)
		if (hr_str_eq(c->key, key))
			return c;
	fnode *c = hr_arena_alloc(a, sizeof *c);
	if (!c)
		return NULL;
	memset(c, 0, sizeof *c);
	c->key = key;
	c->next = n->first;
	n->first = c;
	n->nkids++;
	return c;
}

/* strconv.ParseBool's accepted spellings. */
static int parse_bool(hr_str s, bool *out)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < HR_ARRAY_LEN(yes); i++) {
		if (hr_str_eq(s, hr_str_make(yes[i], strlen(yes[i])))) {
			*out = true;
			return 0;
		}
		if (hr_str_eq(s, hr_str_make(no[i], strlen(no[i])))) {
			*out = false;
			return 0;
		}
	}
	return HR_EPARSE;
}

/* modifier = "excerpt" OWS "(" OWS max OWS [ "," OWS bool OWS ] ")" */
static int parse_mod(hr_str s, fmod *m, const char **why)
{
	if (s.len == 0)
		FAIL("Invalid or empty fields modifier.");
	size_t i = 0;
	while (i < s.len && s.ptr[i] != '(' && !is_ascii_space((unsigned char)s.ptr[i]))
		i++;
	if (!hr_str_eq_lit(hr_str_make(s.ptr, i), "excerpt"))
		FAIL("Unknown fields modifier.");
	hr_str rest = trim(hr_str_make(s.ptr + i, s.len - i));
	if (rest.len == 0)
		FAIL("The excerpt modifier requires a max argument: excerpt(max, withEllipsis?).");
	if (rest.ptr[0] != '(' || rest.ptr[rest.len - 1] != ')')
		FAIL("Invalid excerpt modifier arguments: expected excerpt(max, withEllipsis?).");
	hr_str args = hr_str_make(rest.ptr + 1, rest.len - 2);
	hr_str arg[3];
	size_t nargs = 0;
	for (size_t p = 0, start = 0; p <= args.len; p++) {
		if (p < args.len && args.ptr[p] != ',')
			continue;
		if (nargs == 3)
			break;
		arg[nargs++] = trim(hr_str_make(args.ptr + start, p - start));
		start = p + 1;
	}
	if (nargs == 1 && arg[0].len == 0)
		FAIL("The excerpt modifier requires a max argument: excerpt(max, withEllipsis?).");
	if (nargs > 2)
		FAIL("Too many excerpt arguments: expected excerpt(max, withEllipsis?).");
	uint64_t max;
	if (hr_str_to_u64(arg[0], HR_FIELDS_MAX_EXCERPT, &max) != 0 || max == 0)
		FAIL("The excerpt max argument must be an integer > 0.");
	bool ell = false;
	if (nargs == 2 && parse_bool(arg[1], &ell) != 0)
		FAIL("The excerpt withEllipsis argument must be a boolean.");
	*m = (fmod){true, ell, (size_t)max};
	return 0;
}

static int add_entry(hr_arena *a, fnode *root, hr_str e, const char **why)
{
	fmod mod = {false, false, 0};
	hr_str path = e;
	const char *colon = memchr(e.ptr, ':', e.len);
	if (colon) {
		path = trim(hr_str_make(e.ptr, (size_t)(colon - e.ptr)));
		int rc = parse_mod(trim(hr_str_make(colon + 1, (size_t)(e.ptr + e.len - colon - 1))),
				   &mod, why);
		if (rc < 0)
			return rc;
	}
	/* One trailing '.' is dropped (see DESIGN). */
	if (path.len > 1 && path.ptr[path.len - 1] == '.')
		path.len--;
	size_t nseg = 1;
	for (size_t i = 0; i < path.len; i++)
		nseg += path.ptr[i] == '.';
	if (nseg > HR_FIELDS_MAX_DEPTH)
		FAIL("A fields path is too deep.");
	fnode *n = root;
	size_t start = 0;
	for (size_t i = 0; i <= path.len; i++) {
		if (i < path.len && path.ptr[i] != '.')
			continue;
		hr_str seg = hr_str_make(path.ptr + start, i - start);
		start = i + 1;
		if (i == path.len && hr_str_eq_lit(seg, "*")) {
			n->wild = true;
			n->wild_mod = mod;
			return 0;
		}
		n = child(a, n, seg);
		if (!n) {
			if (why)
				*why = "out of memory";
			return HR_ENOMEM;
		}
	}
	n->terminal = true;
	n->mod = mod;
	return 0;
}

static int kid_cmp(const void *x, const void *y)
{
	const fnode *a = *(const fnode *const *)x, *b = *(const fnode *const *)y;
	return key_cmp(a->key, b->key);
}

/* Sorts every node's children; recursion depth is the trie's depth. */
static int finish(hr_arena *a, fnode *n)
{
	if (!n->nkids)
		return 0;
	n->kids = hr_arena_alloc(a, n->nkids * sizeof *n->kids);
	if (!n->kids)
		return HR_ENOMEM;
	size_t k = 0;
	for (fnode *c = n->first; c; c = c->next) {
		n->kids[k++] = c;
		int rc = finish(a, c);
		if (rc < 0)
			return rc;
	}
	qsort(n->kids, n->nkids, sizeof *n->kids, kid_cmp);
	return 0;
}

int hr_fields_parse(hr_arena *a, hr_str spec, hr_fields **out, const char **why)
{
	hr_fields *f = hr_arena_alloc(a, sizeof *f);
	if (!f) {
		if (why)
			*why = "out of memory";
		return HR_ENOMEM;
	}
	memset(f, 0, sizeof *f);
	int depth = 0;
	char quote = 0, prev = 0;
	size_t start = 0, entries = 0;
	for (size_t i = 0; i <= spec.len; i++) {
		char c = i < spec.len ? spec.ptr[i] : ',';
		if (i < spec.len) {
			if (prev != '\\') {
				if (c == '(' && !quote)
					depth++;
				else if (c == ')' && depth > 0 && !quote)
					depth--;
				else if (c == '"' || c == '\'' || c == '`') {
					if (quote == c)
						quote = 0;
					else if (!quote)
						quote = c;
				}
			}
			prev = c;
			if (c != ',' || depth || quote)
				continue;
		} else if (depth || quote) {
			FAIL("Unbalanced parenthesis or quote in fields.");
		}
		hr_str e = trim(hr_str_make(spec.ptr + start, i - start));
		start = i + 1;
		prev = 0;
		if (e.len == 0)
			continue;
		if (++entries > HR_FIELDS_MAX_ENTRIES)
			FAIL("Too many fields.");
		int rc = add_entry(a, &f->root, e, why);
		if (rc < 0)
			return rc;
	}
	if (!f->root.first && !f->root.wild) {
		*out = NULL;
		return 0;
	}
	if (finish(a, &f->root) < 0) {
		if (why)
			*why = "out of memory";
		return HR_ENOMEM;
	}
	*out = f;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Apply                                                               */
/* ------------------------------------------------------------------ */

static const fnode *find(const fnode *n, hr_str key)
{
	size_t lo = 0, hi = n->nkids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(n->kids[mid]->key, key);
		if (c == 0)
			return n->kids[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void write_mod(hr_arena *a, const fmod *m, const hr_json *v, hr_buf *out)
{
	if (!m->set || !v || v->type != HR_JSON_STRING) {
		hr_json_write(out, v);
		return;
	}
	hr_str x = hr_fields_excerpt(a, v->u.str, m->max, m->ellipsis);
	if (!x.ptr) {
		if (!out->err)
			out->err = HR_ENOMEM;
		return;
	}
	hr_json_write_string(out, x);
}

static void pick_value(hr_arena *a, const fnode *n, const hr_json *v, hr_buf *out);

static void pick_object(hr_arena *a, const fnode *n, const hr_json *v, hr_buf *out)
{
	bool first = true;
	hr_buf_append_char(out, '{');
	for (size_t i = 0; i < v->u.obj.len && !out->err; i++) {
		const hr_json_member *m = &v->u.obj.members[i];
		const fnode *c = find(n, m->key);
		if (!c && !n->wild)
			continue;
		if (!first)
			hr_buf_append_char(out, ',');
		first = false;
		hr_json_write_string(out, m->key);
		hr_buf_append_char(out, ':');
		if (!c)
			write_mod(a, &n->wild_mod, m->value, out);
		else if (c->terminal)
			write_mod(a, &c->mod, m->value, out);
		else
			pick_value(a, c, m->value, out);
	}
	hr_buf_append_char(out, '}');
}

static void pick_value(hr_arena *a, const fnode *n, const hr_json *v, hr_buf *out)
{
	if (v && v->type == HR_JSON_OBJECT) {
		pick_object(a, n, v, out);
		return;
	}
	if (!v || v->type != HR_JSON_ARRAY || v->u.arr.len == 0 ||
	    !v->u.arr.items[0] || v->u.arr.items[0]->type != HR_JSON_OBJECT) {
		hr_json_write(out, v);
		return;
	}
	hr_buf_append_char(out, '[');
	for (size_t i = 0; i < v->u.arr.len && !out->err; i++) {
		const hr_json *e = v->u.arr.items[i];
		if (i)
			hr_buf_append_char(out, ',');
		if (e && e->type == HR_JSON_OBJECT)
			pick_object(a, n, e, out);
		else
			hr_json_write(out, e);
	}
	hr_buf_append_char(out, ']');
}

static bool is_envelope(const hr_json *v)
{
	if (!v || v->type != HR_JSON_OBJECT)
		return false;
	const hr_json *items = NULL;
	bool page = false;
	for (size_t i = 0; i < v->u.obj.len; i++) {
		hr_str k = v->u.obj.members[i].key;
		if (hr_str_eq_lit(k, "items"))
			items = v->u.obj.members[i].value;
		else if (hr_str_eq_lit(k, "page"))
			page = true;
		else if (!hr_str_eq_lit(k, "perPage") && !hr_str_eq_lit(k, "totalItems") &&
			 !hr_str_eq_lit(k, "totalPages"))
			return false;
	}
	return page && items && items->type == HR_JSON_ARRAY;
}

void hr_fields_apply(hr_arena *a, const hr_fields *f, const hr_json *json, hr_buf *out)
{
	if (!f) {
		hr_json_write(out, json);
		return;
	}
	if (!is_envelope(json)) {
		pick_value(a, &f->root, json, out);
		return;
	}
	hr_buf_append_char(out, '{');
	for (size_t i = 0; i < json->u.obj.len; i++) {
		const hr_json_member *m = &json->u.obj.members[i];
		if (i)
			hr_buf_append_char(out, ',');
		hr_json_write_string(out, m->key);
		hr_buf_append_char(out, ':');
		if (hr_str_eq_lit(m->key, "items"))
			pick_value(a, &f->root, m->value, out);
		else
			hr_json_write(out, m->value);
	}
	hr_buf_append_char(out, '}');
}

/* ------------------------------------------------------------------ */
/* Excerpt: element classes                                            */
/* ------------------------------------------------------------------ */

enum {
	T_INLINE = 1 << 0,  /* §9.2's inline list: no separating space */
	T_DROP = 1 << 1,    /* §9.2's dropped list (+ title, see DESIGN) */
	T_VOID = 1 << 2,    /* HTML void element: no content, no end tag */
	T_RAW = 1 << 3,	    /* raw text / RCDATA content: not markup */
	T_PCLOSE = 1 << 4,  /* start tag closes an open p (HTML5 "in body") */
	T_HEADOK = 1 << 5,  /* head content before the body starts */
	T_HEADING = 1 << 6, /* h1..h6 */
	T_FOREIGN = 1 << 7, /* svg, math: "/>" self-closes */
};

typedef struct tag_class {
	const char *name;
	unsigned flags;
} tag_class;

/* Sorted by name (bsearch). Anything absent is a plain block element. */
static const tag_class tag_classes[] = {
	{"a", T_INLINE},
	{"abbr", T_INLINE},
	{"acronym", T_INLINE},
	{"address", T_PCLOSE},
	{"applet", T_DROP},
	{"area", T_VOID},
	{"article", T_PCLOSE},
	{"aside", T_PCLOSE},
	{"b", T_INLINE},
	{"base", T_VOID | T_HEADOK},
	{"basefont", T_VOID | T_HEADOK},
	{"bdo", T_INLINE},
	{"bgsound", T_VOID | T_HEADOK},
	{"big", T_INLINE},
	{"blockquote", T_PCLOSE},
	{"br", T_INLINE | T_VOID},
	{"button", T_INLINE | T_DROP},
	{"center", T_PCLOSE},
	{"cite", T_INLINE},
	{"code", T_INLINE},
	{"col", T_VOID},
	{"dd", T_PCLOSE},
	{"details", T_PCLOSE},
	{"dialog", T_PCLOSE | T_DROP},
	{"dir", T_PCLOSE},
	{"div", T_PCLOSE},
	{"dl", T_PCLOSE},
	{"dt", T_PCLOSE},
	{"em", T_INLINE},
	{"embed", T_DROP | T_VOID},
	{"fieldset", T_PCLOSE},
	{"figcaption", T_PCLOSE},
	{"figure", T_PCLOSE},
	{"footer", T_PCLOSE},
	{"form", T_PCLOSE | T_DROP},
	{"frame", T_VOID},
	{"h1", T_PCLOSE | T_HEADING},
	{"h2", T_PCLOSE | T_HEADING},
	{"h3", T_PCLOSE | T_HEADING},
	{"h4", T_PCLOSE | T_HEADING},
	{"h5", T_PCLOSE | T_HEADING},
	{"h6", T_PCLOSE | T_HEADING},
	{"head", T_DROP},
	{"header", T_PCLOSE},
	{"hgroup", T_PCLOSE},
	{"hr", T_PCLOSE | T_VOID},
	{"i", T_INLINE},
	{"iframe", T_DROP | T_RAW},
	{"img", T_DROP | T_VOID},
	{"input", T_DROP | T_VOID},
	{"keygen", T_VOID},
	{"label", T_INLINE},
	{"li", T_PCLOSE},
	{"link", T_VOID | T_HEADOK},
	{"listing", T_PCLOSE},
	{"main", T_PCLOSE},
	{"math", T_FOREIGN},
	{"menu", T_PCLOSE},
	{"meta", T_VOID | T_HEADOK},
	{"nav", T_PCLOSE},
	{"noembed", T_RAW},
	{"noframes", T_RAW | T_HEADOK},
	{"noscript", T_HEADOK},
	{"object", T_DROP},
	{"ol", T_PCLOSE},
	{"option", T_DROP},
	{"p", T_PCLOSE},
	{"param", T_VOID},
	{"picture", T_DROP},
	{"plaintext", T_PCLOSE | T_RAW},
	{"pre", T_PCLOSE},
	{"q", T_INLINE},
	{"script", T_DROP | T_RAW | T_HEADOK},
	{"search", T_PCLOSE},
	{"section", T_PCLOSE},
	{"select", T_DROP},
	{"small", T_INLINE},
	{"source", T_VOID},
	{"span", T_INLINE},
	{"strike", T_INLINE},
	{"strong", T_INLINE},
	{"style", T_DROP | T_RAW | T_HEADOK},
	{"sub", T_INLINE},
	{"summary", T_PCLOSE},
	{"sup", T_INLINE},
	{"svg", T_DROP | T_FOREIGN},
	{"template", T_DROP | T_HEADOK},
	{"textarea", T_DROP | T_RAW},
	{"time", T_INLINE},
	{"title", T_DROP | T_RAW | T_HEADOK},
	{"track", T_VOID},
	{"ul", T_PCLOSE},
	{"wbr", T_VOID},
	{"xmp", T_PCLOSE | T_RAW},
};

#define TAG_NAME_MAX 16 /* longer names are unknown elements */

/* Lower-cased copy of name into buf (NUL-terminated); false if too long. */
static bool lower_name(hr_str name, char buf[TAG_NAME_MAX])
{
	if (name.len >= TAG_NAME_MAX)
		return false;
	for (size_t i = 0; i < name.len; i++)
		buf[i] = (char)hr_lower((unsigned char)name.ptr[i]);
	buf[name.len] = '\0';
	return true;
}

static int tag_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const tag_class *)elem)->name);
}

static unsigned classify(hr_str name)
{
	char buf[TAG_NAME_MAX];
	if (!lower_name(name, buf))
		return 0;
	const tag_class *t =
		bsearch(buf, tag_classes, HR_ARRAY_LEN(tag_classes), sizeof tag_classes[0], tag_cmp);
	return t ? t->flags : 0;
}

/* ------------------------------------------------------------------ */
/* Excerpt: character references                                       */
/* ------------------------------------------------------------------ */

/* ISO-8859-1 names for U+00A0..U+00FF: all HTML5 "legacy" references,
 * recognised even without the ';'. */
static const char *const latin1_names[96] = {
	"nbsp",	  "iexcl",  "cent",   "pound",	"curren", "yen",    "brvbar", "sect",
	"uml",	  "copy",   "ordf",   "laquo",	"not",	  "shy",    "reg",    "macr",
	"deg",	  "plusmn", "sup2",   "sup3",	"acute",  "micro",  "para",   "middot",
	"cedil",  "sup1",   "ordm",   "raquo",	"frac14", "frac12", "frac34", "iquest",
	"Agrave", "Aacute", "Acirc",  "Atilde", "Auml",	  "Aring",  "AElig",  "Ccedil",
	"Egrave", "Eacute", "Ecirc",  "Euml",	"Igrave", "Iacute", "Icirc",  "Iuml",
	"ETH",	  "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde", "Ouml",   "times",
	"Oslash", "Ugrave", "Uacute", "Ucirc",	"Uuml",	  "Yacute", "THORN",  "szlig",
	"agrave", "aacute", "acirc",  "atilde", "auml",	  "aring",  "aelig",  "ccedil",
	"egrave", "eacute", "ecirc",  "euml",	"igrave", "iacute", "icirc",  "iuml",
	"eth",	  "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide",
	"oslash", "ugrave", "uacute", "ucirc",	"uuml",	  "yacute", "thorn",  "yuml",
};

typedef struct entity {
	const char *name;
	unsigned cp;
	bool legacy; /* recognised without ';' */
} entity;

static const entity other_entities[] = {
	{"amp", '&', true},	{"AMP", '&', true},	{"lt", '<', true},     {"LT", '<', true},
	{"gt", '>', true},	{"GT", '>', true},	{"quot", '"', true},   {"QUOT", '"', true},
	{"COPY", 0xA9, true},	{"REG", 0xAE, true},	{"apos", '\'', false}, {"trade", 0x2122, false},
	{"hellip", 0x2026, false}, {"mdash", 0x2014, false}, {"ndash", 0x2013, false},
	{"lsquo", 0x2018, false}, {"rsquo", 0x2019, false}, {"sbquo", 0x201A, false},
	{"ldquo", 0x201C, false}, {"rdquo", 0x201D, false}, {"bdquo", 0x201E, false},
	{"lsaquo", 0x2039, false}, {"rsaquo", 0x203A, false}, {"bull", 0x2022, false},
	{"euro", 0x20AC, false}, {"ensp", 0x2002, false}, {"emsp", 0x2003, false},
	{"thinsp", 0x2009, false}, {"zwnj", 0x200C, false}, {"zwj", 0x200D, false},
	{"lrm", 0x200E, false},	{"rlm", 0x200F, false},	{"dagger", 0x2020, false},
	{"Dagger", 0x2021, false}, {"permil", 0x2030, false}, {"prime", 0x2032, false},
	{"minus", 0x2212, false}, {"larr", 0x2190, false}, {"rarr", 0x2192, false},
	{"uarr", 0x2191, false}, {"darr", 0x2193, false}, {"harr", 0x2194, false},
	{"le", 0x2264, false},	{"ge", 0x2265, false},	{"ne", 0x2260, false},
	{"infin", 0x221E, false}, {"hearts", 0x2665, false},
};

/* HTML5 numeric references 0x80..0x9F name Windows-1252 characters. */
static const unsigned short cp1252[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static bool is_alnum(unsigned char c)
{
	return (unsigned)(c - '0') < 10u || (unsigned)((c | 0x20) - 'a') < 26u;
}

/*
 * s[i] is '&'. Decodes a character reference: returns the index after it
 * and sets *cp, or returns i when there is none (the '&' is text).
 */
static size_t char_ref(const char *s, size_t n, size_t i, unsigned *cp)
{
	size_t j = i + 1;
	if (j < n && s[j] == '#') {
		j++;
		bool hex = j < n && (s[j] == 'x' || s[j] == 'X');
		if (hex)
			j++;
		size_t d0 = j;
		unsigned long v = 0;
		for (; j < n; j++) {
			unsigned char c = (unsigned char)s[j];
			unsigned dv;
			if ((unsigned)(c - '0') < 10u)
				dv = c - '0';
			else if (hex && (unsigned)((c | 0x20) - 'a') < 6u)
				dv = (unsigned)((c | 0x20) - 'a' + 10);
			else
				break;
			v = v * (hex ? 16 : 10) + dv;
			if (v > 0x10FFFF)
				v = 0x110000; /* saturate: any larger is U+FFFD */
		}
		if (j == d0)
			return i;
		if (j < n && s[j] == ';')
			j++;
		if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			v = 0xFFFD;
		else if (v >= 0x80 && v <= 0x9F)
			v = cp1252[v - 0x80];
		*cp = (unsigned)v;
		return j;
	}
	size_t e = j;
	while (e < n && e - j < 32 && is_alnum((unsigned char)s[e]))
		e++;
	hr_str run = hr_str_make(s + j, e - j);
	bool semi = e < n && s[e] == ';';
	size_t best = 0;
	unsigned best_cp = 0;
	/* Exact name + ';' wins; otherwise the longest legacy prefix. */
	for (size_t k = 0; k < 96 + HR_ARRAY_LEN(other_entities); k++) {
		const char *name = k < 96 ? latin1_names[k] : other_entities[k - 96].name;
		unsigned c = k < 96 ? (unsigned)(0xA0 + k) : other_entities[k - 96].cp;
		bool legacy = k < 96 || other_entities[k - 96].legacy;
		size_t ln = strlen(name);
		if (ln > run.len || memcmp(run.ptr, name, ln) != 0)
			continue;
		if (ln == run.len && semi) {
			*cp = c;
			return e + 1;
		}
		if (legacy && ln > best) {
			best = ln;
			best_cp = c;
		}
	}
	if (!best)
		return i;
	*cp = best_cp;
	return j + best;
}

/* ------------------------------------------------------------------ */
/* Excerpt: the walker                                                 */
/* ------------------------------------------------------------------ */

#define STACK_MAX 256

typedef struct open_el {
	hr_str name;
	bool block;
} open_el;

typedef struct walker {
	const char *s;
	size_t n;
	char *out;
	size_t olen, ocap;
	bool prev_space; /* the output ends in a space (upstream hasPrevSpace) */
	bool in_head;	 /* before the body: head content is dropped */
	hr_str skip_name; /* dropped element being skipped */
	size_t skip;	  /* its nesting count; 0 = not skipping */
	open_el stack[STACK_MAX];
	size_t depth;
} walker;

/*
 * The output never outgrows the input by more than one byte: every text
 * byte and character reference emits at most as many bytes as it spans
 * (&#0 is 3 bytes for U+FFFD's 3, legacy names are 2-byte Latin-1, others
 * need their ';'), and a separating space needs a tag of 3+ bytes that
 * emitted nothing else. HR_ASSERT keeps that honest.
 */
static void emit_byte(walker *w, char c)
{
	HR_ASSERT(w->olen < w->ocap);
	w->out[w->olen++] = c;
}

static bool is_html_space(unsigned char c)
{
	/* Go's regexp \s: [\t\n\f\r ] */
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static void text(walker *w, const char *p, size_t len)
{
	if (w->skip)
		return;
	if (w->in_head) {
		size_t k = 0;
		while (k < len && is_html_space((unsigned char)p[k]))
			k++;
		if (k == len)
			return; /* white space in head */
		w->in_head = false;
	}
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)p[k];
		if (c == 0)
			continue; /* HTML5 "in body" ignores NUL */
		if (is_html_space(c)) {
			if (!w->prev_space) {
				emit_byte(w, ' ');
				w->prev_space = true;
			}
		} else {
			emit_byte(w, (char)c);
			w->prev_space = false;
		}
	}
}

static size_t utf8_encode(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static void block_space(walker *w)
{
	if (!w->skip && !w->prev_space) {
		emit_byte(w, ' ');
		w->prev_space = true;
	}
}

/* Pops the stack down to (and including) index k; a space if any block. */
static void pop_to(walker *w, size_t k)
{
	bool block = false;
	while (w->depth > k)
		block |= w->stack[--w->depth].block;
	if (block)
		block_space(w);
}

/* Index of the nearest open element called name, stopping at a block element
 * for which stop() says so; SIZE_MAX if none. */
static size_t find_open(const walker *w, hr_str name, bool (*stop)(const open_el *))
{
	for (size_t k = w->depth; k-- > 0;) {
		if (hr_str_ieq(w->stack[k].name, name))
			return k;
		if (stop && stop(&w->stack[k]))
			return SIZE_MAX;
	}
	return SIZE_MAX;
}

static void close_open(walker *w, hr_str name, bool (*stop)(const open_el *))
{
	size_t k = find_open(w, name, stop);
	if (k != SIZE_MAX)
		pop_to(w, k);
}

/* HTML5 "li" / "dd"/"dt" start: stop at a special element other than
 * address, div, p (all our block elements count as special here). */
static bool stop_list(const open_el *e)
{
	return e->block && !hr_str_ieq_lit(e->name, "address") && !hr_str_ieq_lit(e->name, "div") &&
	       !hr_str_ieq_lit(e->name, "p");
}

static bool stop_table(const open_el *e)
{
	return hr_str_ieq_lit(e->name, "table");
}

static bool stop_row(const open_el *e)
{
	return hr_str_ieq_lit(e->name, "table") || hr_str_ieq_lit(e->name, "tr");
}

static bool stop_block(const open_el *e)
{
	return e->block;
}

/* Index of "</" name followed by a tag-name end, at or after i; n if none. */
static size_t raw_end(const walker *w, size_t i, hr_str name)
{
	const char *s = w->s;
	size_t n = w->n;
	while (i < n) {
		const char *lt = memchr(s + i, '<', n - i);
		if (!lt)
			return n;
		size_t k = (size_t)(lt - s);
		if (k + 2 + name.len <= n && s[k + 1] == '/' &&
		    hr_str_ieq(hr_str_make(s + k + 2, name.len), name)) {
			size_t e = k + 2 + name.len;
			if (e == n || is_html_space((unsigned char)s[e]) || s[e] == '/' || s[e] == '>')
				return k;
		}
		i = k + 1;
	}
	return n;
}

/*
 * A start tag has been read; *i is just past it. Raw-text content is
 * consumed here (*i moves to its end tag, which the main loop then reads).
 */
static void start_tag(walker *w, hr_str name, bool selfclose, size_t *i)
{
	unsigned cls = classify(name);
	bool self_closed = selfclose && (cls & T_FOREIGN);
	if (w->skip) {
		if (hr_str_ieq(name, w->skip_name) && !self_closed)
			w->skip++;
		if (cls & T_RAW)
			*i = raw_end(w, *i, name);
		return;
	}
	if (w->in_head) {
		if (cls & T_HEADOK) {
			if ((cls & T_RAW) || hr_str_ieq_lit(name, "noscript"))
				*i = raw_end(w, *i, name);
			else if (hr_str_ieq_lit(name, "template")) {
				w->skip_name = name;
				w->skip = 1;
			}
			return;
		}
		if (hr_str_ieq_lit(name, "head") || hr_str_ieq_lit(name, "html"))
			return;
		w->in_head = false;
	}
	if (hr_str_ieq_lit(name, "html") || hr_str_ieq_lit(name, "body") ||
	    hr_str_ieq_lit(name, "head"))
		return;
	if (cls & T_DROP) {
		if (cls & T_RAW)
			*i = raw_end(w, *i, name);
		else if (!(cls & T_VOID) && !self_closed) {
			w->skip_name = name;
			w->skip = 1;
		}
		return;
	}
	/* Implied ends (HTML5 "in body"). */
	if (cls & T_PCLOSE)
		close_open(w, HR_STR("p"), NULL);
	if (hr_str_ieq_lit(name, "li")) {
		close_open(w, HR_STR("li"), stop_list);
	} else if (hr_str_ieq_lit(name, "dd") || hr_str_ieq_lit(name, "dt")) {
		size_t a = find_open(w, HR_STR("dd"), stop_list);
		size_t b = find_open(w, HR_STR("dt"), stop_list);
		if (a != SIZE_MAX && (b == SIZE_MAX || a > b))
			pop_to(w, a);
		else if (b != SIZE_MAX)
			pop_to(w, b);
	} else if (hr_str_ieq_lit(name, "td") || hr_str_ieq_lit(name, "th")) {
		size_t a = find_open(w, HR_STR("td"), stop_row);
		size_t b = find_open(w, HR_STR("th"), stop_row);
		if (a != SIZE_MAX && (b == SIZE_MAX || a > b))
			pop_to(w, a);
		else if (b != SIZE_MAX)
			pop_to(w, b);
	} else if (hr_str_ieq_lit(name, "tr")) {
		close_open(w, HR_STR("tr"), stop_table);
	} else if ((cls & T_HEADING) && w->depth &&
		   (classify(w->stack[w->depth - 1].name) & T_HEADING)) {
		pop_to(w, w->depth - 1);
	}
	bool block = !(cls & T_INLINE);
	if ((cls & T_VOID) || self_closed) {
		if (block)
			block_space(w);
		return;
	}
	if (w->depth < STACK_MAX)
		w->stack[w->depth++] = (open_el){name, block};
	if (cls & T_RAW) {
		/* xmp, noembed, noframes: the content is text, not markup;
		 * plaintext: everything that follows is. */
		size_t e = hr_str_ieq_lit(name, "plaintext") ? w->n : raw_end(w, *i, name);
		text(w, w->s + *i, e - *i);
		*i = e;
	}
}

static void end_tag(walker *w, hr_str name)
{
	if (w->skip) {
		if (hr_str_ieq(name, w->skip_name))
			w->skip--;
		return;
	}
	if (w->in_head) {
		if (hr_str_ieq_lit(name, "head") || hr_str_ieq_lit(name, "body") ||
		    hr_str_ieq_lit(name, "html") || hr_str_ieq_lit(name, "br"))
			w->in_head = false;
		return;
	}
	if (hr_str_ieq_lit(name, "html") || hr_str_ieq_lit(name, "body") ||
	    hr_str_ieq_lit(name, "head") || hr_str_ieq_lit(name, "br"))
		return;
	unsigned cls = classify(name);
	size_t k = find_open(w, name, (cls & T_INLINE) ? stop_block : NULL);
	if (k != SIZE_MAX)
		pop_to(w, k);
	else if (hr_str_ieq_lit(name, "p"))
		block_space(w); /* HTML5 inserts an empty p and closes it */
}

/*
 * s[i] is '<' followed by an ASCII letter (after "</" for an end tag).
 * Reads the tag name and attributes. Returns the index after '>', or
 * SIZE_MAX when the input ends inside the tag (HTML5 drops such a tag).
 */
static size_t read_tag(const walker *w, size_t i, hr_str *name, bool *selfclose)
{
	const char *s = w->s;
	size_t n = w->n, k = i;
	while (k < n && !is_html_space((unsigned char)s[k]) && s[k] != '/' && s[k] != '>')
		k++;
	*name = hr_str_make(s + i, k - i);
	*selfclose = false;
	while (k < n) {
		unsigned char c = (unsigned char)s[k];
		if (is_html_space(c)) {
			k++;
		} else if (c == '>') {
			return k + 1;
		} else if (c == '/') {
			if (k + 1 < n && s[k + 1] == '>') {
				*selfclose = true;
				return k + 2;
			}
			k++;
		} else {
			/* Attribute name (a leading '=' belongs to it), then an
			 * optional value: "..." '...' or bare. */
			k++;
			while (k < n && !is_html_space((unsigned char)s[k]) && s[k] != '/' &&
			       s[k] != '>' && s[k] != '=')
				k++;
			size_t v = k;
			while (v < n && is_html_space((unsigned char)s[v]))
				v++;
			if (v == n || s[v] != '=')
				continue;
			v++;
			while (v < n && is_html_space((unsigned char)s[v]))
				v++;
			if (v < n && (s[v] == '"' || s[v] == '\'')) {
				const char *q = memchr(s + v + 1, s[v], n - v - 1);
				if (!q)
					return SIZE_MAX;
				k = (size_t)(q - s) + 1;
			} else {
				while (v < n && !is_html_space((unsigned char)s[v]) && s[v] != '>')
					v++;
				k = v;
			}
		}
	}
	return SIZE_MAX;
}

static bool is_alpha(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26u;
}

/* Index after the '>' that ends a bogus comment starting at i, or n. */
static size_t to_gt(const walker *w, size_t i)
{
	const char *gt = memchr(w->s + i, '>', w->n - i);
	return gt ? (size_t)(gt - w->s) + 1 : w->n;
}

/* s[i] == '<': one piece of markup (or a literal '<'). */
static size_t markup(walker *w, size_t i)
{
	const char *s = w->s;
	size_t n = w->n;
	if (i + 1 >= n) {
		text(w, "<", 1);
		return n;
	}
	unsigned char c = (unsigned char)s[i + 1];
	if (is_alpha(c)) {
		hr_str name;
		bool sc;
		size_t e = read_tag(w, i + 1, &name, &sc);
		if (e == SIZE_MAX)
			return n;
		start_tag(w, name, sc, &e);
		return e;
	}
	if (c == '/') {
		if (i + 2 >= n) {
			text(w, "</", 2);
			return n;
		}
		unsigned char d = (unsigned char)s[i + 2];
		if (d == '>')
			return i + 3;
		if (!is_alpha(d))
			return to_gt(w, i + 2);
		hr_str name;
		bool sc;
		size_t e = read_tag(w, i + 2, &name, &sc);
		if (e == SIZE_MAX)
			return n;
		end_tag(w, name);
		return e;
	}
	if (c == '!') {
		if (i + 3 < n && s[i + 2] == '-' && s[i + 3] == '-') {
			/* Comment: "<!-->" and "<!--->" are empty ones; otherwise up
			 * to "-->" or "--!>", or the end of input. */
			size_t j = i + 4;
			if (j < n && s[j] == '>')
				return j + 1;
			if (j + 1 < n && s[j] == '-' && s[j + 1] == '>')
				return j + 2;
			while (j < n) {
				const char *dd = memmem(s + j, n - j, "--", 2);
				if (!dd)
					return n;
				size_t k = (size_t)(dd - s) + 2;
				if (k < n && s[k] == '>')
					return k + 1;
				if (k + 1 < n && s[k] == '!' && s[k + 1] == '>')
					return k + 2;
				j = k - 1;
			}
			return n;
		}
		return to_gt(w, i + 2);
	}
	if (c == '?')
		return to_gt(w, i + 1);
	text(w, "<", 1);
	return i + 1;
}

/* Width of the UTF-8 sequence at p (1 for an invalid byte, as Go counts). */
static size_t utf8_width(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t w;
	unsigned v, min;
	if (c >= 0xC2 && c <= 0xDF) {
		w = 2;
		v = c & 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		w = 3;
		v = c & 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		w = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	if (w > n) {
		*cp = 0xFFFD;
		return 1;
	}
	for (size_t k = 1; k < w; k++) {
		if ((p[k] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return 1;
		}
		v = v << 6 | (p[k] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
		*cp = 0xFFFD;
		return 1;
	}
	*cp = v;
	return w;
}

/* Go's unicode.IsSpace. */
static bool is_unicode_space(unsigned cp)
{
	switch (cp) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return true;
	default:
		return cp >= 0x2000 && cp <= 0x200A;
	}
}

/* Go's strings.TrimSpace over s[0..*len), returning the new start. */
static size_t trim_unicode(const char *s, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t a = 0, b = *len;
	while (a < b) {
		unsigned cp;
		size_t wd = utf8_width(p + a, b - a, &cp);
		if (!is_unicode_space(cp) || (cp == 0xFFFD && wd == 1))
			break;
		a += wd;
	}
	while (b > a) {
		/* Step back to the start of the last sequence. */
		size_t k = b - 1, lim = b - a < 4 ? b - a : 4;
		while (k > b - lim && (p[k] & 0xC0) == 0x80)
			k--;
		unsigned cp;
		size_t wd = utf8_width(p + k, b - k, &cp);
		if (k + wd != b) {
			/* b - 1 is a stray continuation byte: not space. */
			break;
		}
		if (!is_unicode_space(cp) || (cp == 0xFFFD && wd == 1))
			break;
		b = k;
	}
	*len = b - a;
	return a;
}

hr_str hr_fields_excerpt(hr_arena *a, hr_str html, size_t max, bool ellipsis)
{
	walker wk, *w = &wk;
	memset(w, 0, sizeof *w);
	w->s = html.len ? html.ptr : "";
	w->n = html.len;
	w->ocap = html.len + 8;
	w->out = hr_arena_alloc(a, w->ocap);
	w->in_head = true;
	if (!w->out)
		return HR_STR_NULL;
	for (size_t i = 0; i < w->n;) {
		char c = w->s[i];
		if (c == '<') {
			i = markup(w, i);
		} else if (c == '&') {
			unsigned cp;
			size_t e = char_ref(w->s, w->n, i, &cp);
			if (e == i) {
				text(w, "&", 1);
				i++;
			} else {
				char u[4];
				text(w, u, utf8_encode(cp, u));
				i = e;
			}
		} else {
			size_t j = i;
			while (j < w->n && w->s[j] != '<' && w->s[j] != '&')
				j++;
			text(w, w->s + i, j - i);
			i = j;
		}
	}
	size_t len = w->olen;
	char *out = w->out + trim_unicode(w->out, &len);
	const unsigned char *p = (const unsigned char *)out;
	size_t count = 0, cut = len;
	for (size_t k = 0; k < len;) {
		if (count == max) {
			cut = k;
			break;
		}
		unsigned cp;
		k += utf8_width(p + k, len - k, &cp);
		count++;
	}
	if (cut < len) {
		len = cut;
		out += trim_unicode(out, &len);
		/* out + len + 3 <= w->out + olen + 3 <= w->out + ocap: olen is at
		 * most the input length + 1 (see emit_byte). */
		if (ellipsis) {
			memcpy(out + len, "...", 3);
			len += 3;
		}
	}
	return hr_str_make(out, len);
}
