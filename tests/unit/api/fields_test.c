/*
 * tests/unit/api/fields_test.c - the `fields` parameter (src/api/fields.c,
 * DIALECT.md §9.2).
 *
 * Three tables, one labelled row each:
 *   - specs that must be refused (and a few accepted spellings);
 *   - selections: a spec, an input document and the exact output (member
 *     order is the input's);
 *   - excerpts: HTML, max, withEllipsis and the text.
 * Inputs run from guarded buffers so an over-read faults. Beside them: the
 * entry and depth limits, a 10 000-deep document, apply on a NULL spec,
 * and out-of-memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fields.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/json.h"
#include "harness/unit.h"

typedef struct env {
	char first[2048];
	hr_arena a;
} env;

static void env_init(env *e)
{
	hr_arena_init(&e->a, e->first, sizeof e->first, (size_t)256 << 20);
}

static int parse(env *e, const char *spec, hr_fields **f, const char **why)
{
	size_t n = strlen(spec);
	char *g = hr_test_guard_copy(spec, n);
	/* The parsed spec borrows its text: keep a copy in the arena. */
	char *keep = hr_arena_dup(&e->a, g, n);
	hr_test_guard_free(g, n);
	return hr_fields_parse(&e->a, hr_str_make(keep, n), f, why);
}

/* ---- spec parsing ----------------------------------------------------------- */

typedef struct spec_case {
	const char *spec;
	int rc;
	bool null; /* accepted as "keep everything" */
} spec_case;

static const spec_case spec_cases[] = {
	{"", 0, true},
	{" , ,, ", 0, true},
	{"id", 0, false},
	{"*", 0, false},
	{"title:excerpt(5)", 0, false},
	{"title:excerpt( 5 , true )", 0, false},
	{"title : excerpt (5,false)", 0, false},
	{"title:excerpt(5,1)", 0, false},
	{"title:excerpt(5,0)", 0, false},
	{"title:excerpt(5,t)", 0, false},
	{"title:excerpt(5,F)", 0, false},
	{"title:excerpt(5,TRUE)", 0, false},
	{"title:excerpt(5,False)", 0, false},
	{"title:excerpt(1000000000)", 0, false},
	{"a,\"b,c\",d", 0, false},
	{"a,'b(',c", 0, false},
	{"a,b\\(,c", 0, false},
	{"a)", 0, false},
	{"title:excerpt", HR_EPARSE, false},
	{"title:excerpt()", HR_EPARSE, false},
	{"title:excerpt( )", HR_EPARSE, false},
	{"title:excerpt(0)", HR_EPARSE, false},
	{"title:excerpt(-5)", HR_EPARSE, false},
	{"title:excerpt(+5)", HR_EPARSE, false},
	{"title:excerpt(5.5)", HR_EPARSE, false},
	{"title:excerpt(abc)", HR_EPARSE, false},
	{"title:excerpt('5')", HR_EPARSE, false},
	{"title:excerpt(1000000001)", HR_EPARSE, false},
	{"title:excerpt(99999999999999999999999)", HR_EPARSE, false},
	{"title:excerpt(5,yes)", HR_EPARSE, false},
	{"title:excerpt(5,)", HR_EPARSE, false},
	{"title:excerpt(,true)", HR_EPARSE, false},
	{"title:excerpt(5,true,1)", HR_EPARSE, false},
	{"title:excerpt(5)x", HR_EPARSE, false},
	{"title:excerpt 5", HR_EPARSE, false},
	{"title:excerpt(5", HR_EPARSE, false},
	{"title:Excerpt(5)", HR_EPARSE, false},
	{"title:upper", HR_EPARSE, false},
	{"title:", HR_EPARSE, false},
	{"title:excerpt(5):x", HR_EPARSE, false},
	{"id,title:excerpt(2),body:nope(1)", HR_EPARSE, false},
	{"a,\"b", HR_EPARSE, false},
	{"a,(b", HR_EPARSE, false},
	{"`a", HR_EPARSE, false},
};

static void test_spec_table(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(spec_cases); i++) {
		const spec_case *c = &spec_cases[i];
		env e;
		env_init(&e);
		hr_fields *f = (hr_fields *)&e;
		const char *why = NULL;
		int rc = parse(&e, c->spec, &f, &why);
		HR_CHECKF(rc == c->rc, "\"%s\": rc %d (%s)", c->spec, rc, why ? why : "-");
		if (rc == 0)
			HR_CHECKF((f == NULL) == c->null, "\"%s\": null %d", c->spec, f == NULL);
		else
			HR_CHECKF(why && why[0] && f == (hr_fields *)&e, "\"%s\": no reason or output set",
				  c->spec);
		hr_arena_dispose(&e.a);
	}
}

static void test_spec_limits(void)
{
	static char spec[16 * 1024];
	env e;
	env_init(&e);
	hr_fields *f;
	size_t k = 0;
	for (int i = 0; i < HR_FIELDS_MAX_ENTRIES; i++)
		k += (size_t)sprintf(spec + k, "%sk%d", i ? "," : "", i);
	HR_CHECK(hr_fields_parse(&e.a, hr_str_make(spec, k), &f, NULL) == 0 && f);
	k += (size_t)sprintf(spec + k, ",one_more");
	const char *why = NULL;
	HR_CHECK(hr_fields_parse(&e.a, hr_str_make(spec, k), &f, &why) == HR_EPARSE && why);
	/* Depth: 64 segments pass, 65 do not. */
	k = 0;
	for (int i = 0; i < HR_FIELDS_MAX_DEPTH; i++)
		k += (size_t)sprintf(spec + k, "%sa", i ? "." : "");
	HR_CHECK(hr_fields_parse(&e.a, hr_str_make(spec, k), &f, NULL) == 0 && f);
	k += (size_t)sprintf(spec + k, ".a");
	HR_CHECK(hr_fields_parse(&e.a, hr_str_make(spec, k), &f, NULL) == HR_EPARSE);
	hr_arena_dispose(&e.a);
}

/* ---- selections -------------------------------------------------------------- */

typedef struct sel_case {
	const char *label;
	const char *spec;
	const char *in;
	const char *out;
} sel_case;

#define REC                                                                                        \
	"{\"id\":\"p1\",\"title\":\"Hello\",\"body\":\"<p>Hi <b>there</b>, friend.</p>\","          \
	"\"author\":\"u1\",\"expand\":{\"author\":{\"id\":\"u1\",\"name\":\"Ada\",\"email\":\"a@x\"}," \
	"\"tags\":[{\"id\":\"t1\",\"name\":\"x\"},{\"id\":\"t2\",\"name\":\"y\"}]},\"views\":3}"

#define LIST                                                                                   \
	"{\"items\":[{\"id\":\"a\",\"title\":\"A\",\"n\":1},{\"id\":\"b\",\"title\":\"B\",\"n\":2}]," \
	"\"page\":1,\"perPage\":30,\"totalItems\":2,\"totalPages\":1}"

static const sel_case sel_cases[] = {
	/* §9.2's examples */
	{"dialect_example", "id,title,expand.author.name,body:excerpt(120,true)", REC,
	 "{\"id\":\"p1\",\"title\":\"Hello\",\"body\":\"Hi there, friend.\","
	 "\"expand\":{\"author\":{\"name\":\"Ada\"}}}"},
	{"star_plus_nested", "*,expand.author.name", REC,
	 "{\"id\":\"p1\",\"title\":\"Hello\",\"body\":\"<p>Hi <b>there</b>, friend.</p>\","
	 "\"author\":\"u1\",\"expand\":{\"author\":{\"name\":\"Ada\"}},\"views\":3}"},
	{"sdk_list_auth_methods", "mfa,otp,password,oauth2",
	 "{\"mfa\":{\"enabled\":false},\"otp\":{\"enabled\":false},\"password\":{\"enabled\":true},"
	 "\"oauth2\":{\"enabled\":false},\"other\":1}",
	 "{\"mfa\":{\"enabled\":false},\"otp\":{\"enabled\":false},\"password\":{\"enabled\":true},"
	 "\"oauth2\":{\"enabled\":false}}"},
	/* basics */
	{"one_key", "id", REC, "{\"id\":\"p1\"}"},
	{"input_order_kept", "views,id", REC, "{\"id\":\"p1\",\"views\":3}"},
	{"missing_key_absent", "id,nope", REC, "{\"id\":\"p1\"}"},
	{"only_missing", "nope", REC, "{}"},
	{"star_alone", "*", "{\"b\":1,\"a\":[1,{\"c\":2}]}", "{\"b\":1,\"a\":[1,{\"c\":2}]}"},
	{"whitespace_trimmed", "  id ,\ttitle  ", REC, "{\"id\":\"p1\",\"title\":\"Hello\"}"},
	{"empty_entries_ignored", ",,id,,", REC, "{\"id\":\"p1\"}"},
	{"duplicate_entries", "id,id", REC, "{\"id\":\"p1\"}"},
	/* nesting */
	{"nested_object", "expand.author.name,expand.author.id", REC,
	 "{\"expand\":{\"author\":{\"id\":\"u1\",\"name\":\"Ada\"}}}"},
	{"array_of_objects", "expand.tags.name", REC,
	 "{\"expand\":{\"tags\":[{\"name\":\"x\"},{\"name\":\"y\"}]}}"},
	{"whole_key_beats_nested", "expand,expand.author.name", REC,
	 "{\"expand\":{\"author\":{\"id\":\"u1\",\"name\":\"Ada\",\"email\":\"a@x\"},"
	 "\"tags\":[{\"id\":\"t1\",\"name\":\"x\"},{\"id\":\"t2\",\"name\":\"y\"}]}}"},
	{"whole_key_beats_nested_reversed", "expand.author.name,expand", REC,
	 "{\"expand\":{\"author\":{\"id\":\"u1\",\"name\":\"Ada\",\"email\":\"a@x\"},"
	 "\"tags\":[{\"id\":\"t1\",\"name\":\"x\"},{\"id\":\"t2\",\"name\":\"y\"}]}}"},
	{"nested_star", "expand.author.*", REC,
	 "{\"expand\":{\"author\":{\"id\":\"u1\",\"name\":\"Ada\",\"email\":\"a@x\"}}}"},
	{"nested_star_plus_key", "expand.*,expand.tags.id", REC,
	 "{\"expand\":{\"author\":{\"id\":\"u1\",\"name\":\"Ada\",\"email\":\"a@x\"},"
	 "\"tags\":[{\"id\":\"t1\"},{\"id\":\"t2\"}]}}"},
	{"nested_path_into_scalar_keeps_it", "title.x", REC, "{\"title\":\"Hello\"}"},
	{"nested_path_into_scalar_array", "a.b", "{\"a\":[1,2],\"c\":3}", "{\"a\":[1,2]}"},
	{"nested_missing_inner", "expand.nope", REC, "{\"expand\":{}}"},
	{"trailing_dot", "id.", REC, "{\"id\":\"p1\"}"},
	{"empty_segment_is_empty_key", "a..b", "{\"a\":{\"\":{\"b\":1,\"c\":2},\"d\":3}}",
	 "{\"a\":{\"\":{\"b\":1}}}"},
	{"star_not_last_is_literal", "*.x", "{\"*\":{\"x\":1,\"y\":2},\"z\":1}", "{\"*\":{\"x\":1}}"},
	{"quoted_entry_is_literal", "\"a,b\",c", "{\"\\\"a,b\\\"\":1,\"a\":2,\"c\":3}",
	 "{\"\\\"a,b\\\"\":1,\"c\":3}"},
	{"escaped_key_output", "q", "{\"q\":\"say \\\"hi\\\"\\n\",\"r\":0}", "{\"q\":\"say \\\"hi\\\"\\n\"}"},
	{"unicode_keys", "\xc3\xa9t\xc3\xa9", "{\"\xc3\xa9t\xc3\xa9\":1,\"ete\":2}",
	 "{\"\xc3\xa9t\xc3\xa9\":1}"},
	/* arrays */
	{"mixed_array_objects_first", "a", "[{\"a\":1,\"b\":2},7,{\"b\":3},null]", "[{\"a\":1},7,{},null]"},
	{"array_scalar_first_untouched", "a", "[1,{\"a\":1,\"b\":2}]", "[1,{\"a\":1,\"b\":2}]"},
	{"array_of_arrays_untouched", "a", "[[{\"a\":1,\"b\":2}]]", "[[{\"a\":1,\"b\":2}]]"},
	{"empty_array", "a", "[]", "[]"},
	{"scalar_top", "a", "5", "5"},
	{"string_top", "a:excerpt(2)", "\"<b>hello</b>\"", "\"<b>hello</b>\""},
	{"null_top", "a", "null", "null"},
	/* list envelope */
	{"list_items_reduced", "id", LIST,
	 "{\"items\":[{\"id\":\"a\"},{\"id\":\"b\"}],\"page\":1,\"perPage\":30,\"totalItems\":2,"
	 "\"totalPages\":1}"},
	{"list_envelope_keys_not_selectable", "page,id", LIST,
	 "{\"items\":[{\"id\":\"a\"},{\"id\":\"b\"}],\"page\":1,\"perPage\":30,\"totalItems\":2,"
	 "\"totalPages\":1}"},
	{"list_skip_total", "n",
	 "{\"items\":[{\"id\":\"a\",\"n\":1}],\"page\":2,\"perPage\":1,\"totalItems\":-1,\"totalPages\":-1}",
	 "{\"items\":[{\"n\":1}],\"page\":2,\"perPage\":1,\"totalItems\":-1,\"totalPages\":-1}"},
	{"list_empty_items", "id", "{\"items\":[],\"page\":1,\"perPage\":30,\"totalItems\":0,\"totalPages\":0}",
	 "{\"items\":[],\"page\":1,\"perPage\":30,\"totalItems\":0,\"totalPages\":0}"},
	{"list_minimal_envelope", "id", "{\"page\":1,\"items\":[{\"id\":1,\"x\":2}]}",
	 "{\"page\":1,\"items\":[{\"id\":1}]}"},
	{"not_envelope_extra_key", "id", "{\"items\":[{\"id\":1}],\"page\":1,\"id\":\"r\"}",
	 "{\"id\":\"r\"}"},
	{"not_envelope_items_not_array", "id", "{\"items\":{\"id\":1},\"page\":1}", "{}"},
	{"not_envelope_no_page", "id", "{\"items\":[{\"id\":1,\"y\":2}],\"perPage\":1}", "{}"},
	/* modifiers */
	{"excerpt_plain", "body:excerpt(5)", REC, "{\"body\":\"Hi th\"}"},
	{"excerpt_ellipsis", "body:excerpt(5,true)", REC, "{\"body\":\"Hi th...\"}"},
	{"excerpt_trim_after_cut", "body:excerpt(3,true)", REC, "{\"body\":\"Hi...\"}"},
	{"excerpt_not_cut", "title:excerpt(5,true)", REC, "{\"title\":\"Hello\"}"},
	{"excerpt_non_string", "views:excerpt(1),expand:excerpt(1)",
	 "{\"views\":12345,\"expand\":{\"a\":\"long text\"},\"n\":null}",
	 "{\"views\":12345,\"expand\":{\"a\":\"long text\"}}"},
	{"excerpt_null", "n:excerpt(1)", "{\"n\":null}", "{\"n\":null}"},
	{"excerpt_in_array_items", "expand.tags.name:excerpt(0001,1)", REC,
	 "{\"expand\":{\"tags\":[{\"name\":\"x\"},{\"name\":\"y\"}]}}"},
	{"excerpt_last_entry_wins", "title:excerpt(2),title", REC, "{\"title\":\"Hello\"}"},
	{"excerpt_last_entry_wins_2", "title,title:excerpt(2)", REC, "{\"title\":\"He\"}"},
	{"star_modifier", "*:excerpt(3)", "{\"a\":\"<b>hello</b>\",\"n\":1,\"o\":{\"s\":\"long\"}}",
	 "{\"a\":\"hel\",\"n\":1,\"o\":{\"s\":\"long\"}}"},
	{"star_modifier_named_key_own", "*:excerpt(3),a", "{\"a\":\"<b>hello</b>\",\"b\":\"world\"}",
	 "{\"a\":\"<b>hello</b>\",\"b\":\"wor\"}"},
	{"list_excerpt", "title:excerpt(1,true)", LIST,
	 "{\"items\":[{\"title\":\"A\"},{\"title\":\"B\"}],\"page\":1,\"perPage\":30,\"totalItems\":2,"
	 "\"totalPages\":1}"},
	{"numbers_kept_as_sent", "n", "{\"n\":1.50,\"m\":2}", "{\"n\":1.50}"},
};

static void run_sel(const sel_case *c)
{
	env e;
	env_init(&e);
	hr_fields *f;
	const char *why = NULL;
	int rc = parse(&e, c->spec, &f, &why);
	HR_CHECKF(rc == 0, "%s: spec rc %d (%s)", c->label, rc, why ? why : "-");
	if (rc != 0) {
		hr_arena_dispose(&e.a);
		return;
	}
	size_t n = strlen(c->in);
	char *g = hr_test_guard_copy(c->in, n);
	hr_json *doc;
	hr_json_error je;
	rc = hr_json_parse(&e.a, g, n, 10000, &doc, &je);
	HR_CHECKF(rc == 0, "%s: bad test JSON at %zu: %s", c->label, je.offset, je.message);
	if (rc == 0) {
		hr_buf out;
		hr_buf_init(&out, 0);
		hr_fields_apply(&e.a, f, doc, &out);
		HR_CHECK(out.err == 0);
		HR_CHECKF(out.len == strlen(c->out) && memcmp(out.ptr, c->out, out.len) == 0,
			  "%s:\n     got  %.*s\n     want %s", c->label, (int)out.len, out.ptr, c->out);
		/* The output is valid JSON; applying again is idempotent. */
		hr_json *again;
		HR_CHECK(hr_json_parse(&e.a, out.ptr, out.len, 10000, &again, NULL) == 0);
		hr_buf_dispose(&out);
	}
	hr_test_guard_free(g, n);
	hr_arena_dispose(&e.a);
}

static void test_selection_table(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(sel_cases); i++)
		run_sel(&sel_cases[i]);
}

static void test_null_spec(void)
{
	env e;
	env_init(&e);
	hr_json *doc;
	static const char in[] = "{\"b\":1,\"a\":[true,null,\"x\"]}";
	HR_REQUIRE(hr_json_parse(&e.a, in, sizeof in - 1, 100, &doc, NULL) == 0);
	hr_buf out;
	hr_buf_init(&out, 0);
	hr_fields_apply(&e.a, NULL, doc, &out);
	HR_CHECK(out.len == sizeof in - 1 && memcmp(out.ptr, in, out.len) == 0);
	hr_buf_dispose(&out);
	hr_arena_dispose(&e.a);
}

/* A 10 000-deep document: unselected depth is written without recursion,
 * selected depth follows the spec. */
static void test_deep_document(void)
{
	size_t levels = 9999, n = 5 + levels * 2 + 1;
	char *in = malloc(n);
	memcpy(in, "{\"a\":", 5);
	memset(in + 5, '[', levels);
	memset(in + 5 + levels, ']', levels);
	in[n - 1] = '}';
	env e;
	env_init(&e);
	hr_json *doc;
	HR_REQUIRE(hr_json_parse(&e.a, in, n, 10000, &doc, NULL) == 0);
	hr_fields *f;
	HR_REQUIRE(hr_fields_parse(&e.a, HR_STR("a.b.c,*"), &f, NULL) == 0);
	hr_buf out;
	hr_buf_init(&out, 0);
	hr_fields_apply(&e.a, f, doc, &out);
	HR_CHECK(out.err == 0 && out.len == n && memcmp(out.ptr, in, n) == 0);
	hr_buf_dispose(&out);
	free(in);
	hr_arena_dispose(&e.a);
}

/* The output buffer's ceiling is reported through out->err. */
static void test_output_limit(void)
{
	env e;
	env_init(&e);
	hr_json *doc;
	static const char in[] = REC;
	HR_REQUIRE(hr_json_parse(&e.a, in, sizeof in - 1, 100, &doc, NULL) == 0);
	hr_fields *f;
	HR_REQUIRE(hr_fields_parse(&e.a, HR_STR("*,body:excerpt(50)"), &f, NULL) == 0);
	hr_buf out;
	hr_buf_init(&out, 16);
	hr_fields_apply(&e.a, f, doc, &out);
	HR_CHECK(out.err == HR_ELIMIT);
	hr_buf_dispose(&out);
	hr_arena_dispose(&e.a);
}

/* ---- excerpts ---------------------------------------------------------------- */

typedef struct ex_case {
	const char *label;
	const char *html;
	size_t max;
	bool ellipsis;
	const char *out;
} ex_case;

static const ex_case ex_cases[] = {
	{"plain_text", "Hello world", 100, false, "Hello world"},
	{"paragraph", "<p>Hello <b>world</b></p>", 100, false, "Hello world"},
	{"inline_no_space", "<b>bold</b>text<i>it</i>", 100, false, "boldtextit"},
	{"all_inline_list", "<a>1</a><abbr>2</abbr><acronym>3</acronym><b>4</b><bdo>5</bdo><big>6</big>"
			    "<cite>7</cite><code>8</code><em>9</em><i>0</i><label>1</label><q>2</q>"
			    "<small>3</small><span>4</span><strong>5</strong><strike>6</strike>"
			    "<sub>7</sub><sup>8</sup><time>9</time>",
	 100, false, "1234567890123456789"},
	{"block_space_at_end", "a<div>b</div>c", 100, false, "ab c"},
	{"two_paragraphs", "<p>a</p><p>b</p>", 100, false, "a b"},
	{"implied_p_end", "<p>a<p>b", 100, false, "a b"},
	{"div_closes_p", "<p>a<div>b</div>", 100, false, "a b"},
	{"list_items", "<ul><li>one<li>two</ul>", 100, false, "one two"},
	{"definition_list", "<dl><dt>t<dd>d<dt>u</dl>", 100, false, "t d u"},
	{"table_cells", "<table><tr><td>a<td>b<tr><td>c</table>", 100, false, "a b c"},
	{"headings", "<h1>a<h2>b</h2>", 100, false, "a b"},
	{"br_is_inline", "x<br>y<br/>z", 100, false, "xyz"},
	{"hr_is_block", "x<hr>y", 100, false, "x y"},
	{"wbr_is_block", "a<wbr>b", 100, false, "a b"},
	{"unknown_element_block", "a<custom-el>b</custom-el>c", 100, false, "ab c"},
	{"font_is_block", "a<font>b</font>c", 100, false, "ab c"},
	{"uppercase_tags", "<P>Upper</P>case<DIV>x</Div>", 100, false, "Upper casex"},
	{"unmatched_p_end", "x</p>y", 100, false, "x y"},
	{"unmatched_div_end", "x</div>y", 100, false, "xy"},
	{"inline_end_stops_at_block", "<span>a<div>b</span>c</div>d", 100, false, "abc d"},
	{"document", "<!DOCTYPE html><html><head><title>T</title><style>p{}</style></head>"
		     "<body><h1>Title</h1><p>Text</p></body></html>",
	 100, false, "Title Text"},
	{"implied_head_title", "<title>T</title>Body", 100, false, "Body"},
	{"implied_head_meta", "<meta charset=utf-8><link rel=x>Body", 100, false, "Body"},
	{"head_ends_at_text", "<head><meta>x<title>t</title>y", 100, false, "xy"},
	{"head_ends_at_tag", "<head><p>x</p>", 100, false, "x"},
	{"head_tag_after_body_ignored", "a<head>b</head>c", 100, false, "abc"},
	{"title_in_body_dropped", "a <title>t</title> b", 100, false, "a b"},
	{"script", "<script>var x = '<p>' + \"</div>\";</script>text", 100, false, "text"},
	{"script_case_end", "<SCRIPT>x</ScRiPt >after", 100, false, "after"},
	{"script_fake_end", "<script>a</scripts>b</script>c", 100, false, "c"},
	{"style", "<style>p { color: red }</style>x", 100, false, "x"},
	{"iframe", "<iframe src=x>fallback <b>y</b></iframe>z", 100, false, "z"},
	{"textarea_rcdata", "<textarea><p>x</p>&amp;</textarea>y", 100, false, "y"},
	{"img_void_no_space", "x<img src=a.png alt=y>z", 100, false, "xz"},
	{"input_embed", "a<input value=x>b<embed src=y>c", 100, false, "abc"},
	{"button", "<button>Click</button>after", 100, false, "after"},
	{"form", "<form><input value=x><textarea>t</textarea>f<p>p</p></form>ok", 100, false, "ok"},
	{"nested_form_count", "<form>a<form>b</form>c</form>d", 100, false, "d"},
	{"select_option", "<select><option>1</option><option>2</option></select>z", 100, false, "z"},
	{"option_alone", "a<option>x</option>b", 100, false, "ab"},
	{"svg", "<svg><text>x</text></svg>y", 100, false, "y"},
	{"svg_self_closing", "a<svg/>b", 100, false, "ab"},
	{"svg_nested_self_closing", "<svg><svg/><g/></svg>y", 100, false, "y"},
	{"object_nested", "<object><object>a</object>b</object>c", 100, false, "c"},
	{"applet_picture_dialog_template",
	 "<applet>1</applet><picture>2</picture><dialog>3</dialog><template>4</template>ok", 100, false,
	 "ok"},
	{"dropped_content_with_script", "<form><script>'</form>'</script>x</form>y", 100, false, "y"},
	{"xmp_raw_text", "<xmp><b>x</b></xmp>", 100, false, "<b>x</b>"},
	{"plaintext", "a<plaintext><b>x</b>", 100, false, "a<b>x</b>"},
	{"noscript_normal", "<p>a</p><noscript><p>b</p></noscript>", 100, false, "a b"},
	{"comment", "<!-- comment <p> -->x", 100, false, "x"},
	{"comment_empty_forms", "a<!-->b<!--->c", 100, false, "abc"},
	{"comment_bang_end", "a<!-- x --!>b", 100, false, "ab"},
	{"comment_unterminated", "a<!-- x", 100, false, "a"},
	{"doctype_and_pi", "a<!DOCTYPE html>b<?php x ?>c", 100, false, "abc"},
	{"bogus_end_tag", "a</ x>b</>c", 100, false, "abc"},
	{"lone_lt", "a < b <3 <", 100, false, "a < b <3 <"},
	{"lt_end_slash", "a</", 100, false, "a</"},
	{"tag_eof", "a<b", 100, false, "a"},
	{"attr_quoted_gt", "<a title=\"x>y\" data-x='a>b'>z</a>", 100, false, "z"},
	{"attr_eof_in_quote", "a<a title=\"x", 100, false, "a"},
	{"attr_unquoted", "<a href=x/y?z>link</a>", 100, false, "link"},
	{"attr_equals_first", "<a =x>y</a>", 100, false, "y"},
	{"entities", "a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39; &#x41;&#65;&apos;", 100, false,
	 "a & b <c> \"d\" 'e' AA'"},
	{"entity_legacy_no_semicolon", "&amp x &copy2024 &ltb", 100, false,
	 "& x \xc2\xa9" "2024 <b"},
	{"entity_unknown", "&unknown; & &; &#; &#x;", 100, false, "&unknown; & &; &#; &#x;"},
	{"entity_non_legacy_needs_semicolon", "&hellip &hellip;", 100, false, "&hellip \xe2\x80\xa6"},
	{"entity_numeric_special", "&#0;|&#x110000;|&#xD800;|&#128;|&#150", 100, false,
	 "\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|\xe2\x82\xac|\xe2\x80\x93"},
	{"entity_numeric_huge", "&#99999999999999999999;", 100, false, "\xef\xbf\xbd"},
	{"entity_latin1", "caf&eacute; &Auml;&szlig;", 100, false, "caf\xc3\xa9 \xc3\x84\xc3\x9f"},
	{"entity_space_collapses", "a&#32;&#10; b", 100, false, "a b"},
	{"nbsp_trimmed", "&nbsp;x&nbsp;", 100, false, "x"},
	{"nbsp_not_collapsed", "a&nbsp;&nbsp;b", 100, false, "a\xc2\xa0\xc2\xa0" "b"},
	{"whitespace_collapse", "  lots   of \n\t space \r\f ", 100, false, "lots of space"},
	{"vertical_tab_kept", "a\vb", 100, false, "a\vb"},
	{"unicode_space_trim", "\xe2\x80\x83x\xe3\x80\x80", 100, false, "x"},
	{"nul_dropped", "a\0b", 100, false, "ab"},
	{"empty", "", 10, true, ""},
	{"only_markup", "<p> </p><div></div>", 10, true, ""},
	{"cut", "Hello world", 5, false, "Hello"},
	{"cut_ellipsis", "Hello world", 5, true, "Hello..."},
	{"cut_then_trim", "Hello world", 6, true, "Hello..."},
	{"cut_spaces_trimmed", "abc   def", 4, true, "abc..."},
	{"exact_no_ellipsis", "Hello", 5, true, "Hello"},
	{"cut_one", "Hello", 1, true, "H..."},
	{"cut_code_points", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3, false,
	 "\xc3\xa9\xc3\xa9\xc3\xa9"},
	{"cut_cjk", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x83\x86\xe3\x82\xad", 3, true,
	 "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e..."},
	{"cut_emoji", "\xf0\x9f\x98\x80\xf0\x9f\x98\x81x", 2, true, "\xf0\x9f\x98\x80\xf0\x9f\x98\x81..."},
	{"invalid_utf8_counts_bytes", "\xff\xfe" "ab", 2, false, "\xff\xfe"},
	{"cut_after_markup", "<p>Hi <b>there</b>, friend.</p>", 8, true, "Hi there..."},
	{"huge_max", "x", 1000000000, true, "x"},
};

static void test_excerpt_table(void)
{
	for (size_t i = 0; i < HR_ARRAY_LEN(ex_cases); i++) {
		const ex_case *c = &ex_cases[i];
		env e;
		env_init(&e);
		size_t n = strlen(c->html);
		if (strcmp(c->label, "nul_dropped") == 0)
			n = 3;
		char *g = hr_test_guard_copy(c->html, n);
		hr_str r = hr_fields_excerpt(&e.a, hr_str_make(g, n), c->max, c->ellipsis);
		HR_CHECKF(r.ptr && r.len == strlen(c->out) && memcmp(r.ptr, c->out, r.len) == 0,
			  "%s: got [%.*s] want [%s]", c->label, (int)r.len, r.ptr ? r.ptr : "", c->out);
		hr_test_guard_free(g, n);
		hr_arena_dispose(&e.a);
	}
}

/* Deep nesting and many tags stay linear and within the output bound. */
static void test_excerpt_stress(void)
{
	env e;
	env_init(&e);
	size_t n = 200000;
	char *s = malloc(n);
	for (size_t i = 0; i + 3 <= n; i += 3)
		memcpy(s + i, "<p>", 3);
	hr_str r = hr_fields_excerpt(&e.a, hr_str_make(s, n - n % 3), 10, true);
	HR_CHECK(r.ptr && r.len == 0);
	for (size_t i = 0; i + 5 <= n; i += 5)
		memcpy(s + i, "<i>x ", 5);
	r = hr_fields_excerpt(&e.a, hr_str_make(s, n - n % 5), 7, true);
	HR_CHECK(r.ptr && r.len == 10 && memcmp(r.ptr, "x x x x...", 10) == 0);
	for (size_t i = 0; i + 4 <= n; i += 4)
		memcpy(s + i, "</p>", 4);
	r = hr_fields_excerpt(&e.a, hr_str_make(s, n), 10, true);
	HR_CHECK(r.ptr && r.len == 0);
	memset(s, '&', n);
	r = hr_fields_excerpt(&e.a, hr_str_make(s, n), 3, true);
	HR_CHECK(r.ptr && r.len == 6 && memcmp(r.ptr, "&&&...", 6) == 0);
	free(s);
	hr_arena_dispose(&e.a);
}

static void test_oom(void)
{
	static const char in[] = REC;
	bool done = false;
	for (long k = 0; k < 500 && !done; k++) {
		char small[16];
		hr_arena a;
		hr_arena_init(&a, small, sizeof small, 1 << 20);
		hr_json *doc;
		HR_REQUIRE(hr_json_parse(&a, in, sizeof in - 1, 100, &doc, NULL) == 0);
		a.fail_after = k;
		hr_fields *f = NULL;
		int rc = hr_fields_parse(&a, HR_STR("id,expand.author.name,body:excerpt(3,true),*"), &f,
					 NULL);
		HR_CHECKF(rc == 0 || rc == HR_ENOMEM, "fail_after %ld: rc %d", k, rc);
		if (rc == 0) {
			hr_buf out;
			hr_buf_init(&out, 0);
			hr_fields_apply(&a, f, doc, &out);
			HR_CHECK(out.err == 0 || out.err == HR_ENOMEM);
			done = out.err == 0;
			hr_buf_dispose(&out);
		}
		hr_arena_dispose(&a);
	}
	HR_CHECK(done);
}

static const hr_test_case tests[] = {
	{"spec_table", test_spec_table},
	{"spec_limits", test_spec_limits},
	{"selection_table", test_selection_table},
	{"null_spec", test_null_spec},
	{"deep_document", test_deep_document},
	{"output_limit", test_output_limit},
	{"excerpt_table", test_excerpt_table},
	{"excerpt_stress", test_excerpt_stress},
	{"oom", test_oom},
};

HR_TEST_MAIN(tests)
