/*
 * tests/unit/rules/filter_test.c - the filter / rule language parser and the
 * sort parser (src/rules/filter.c).
 *
 * Table-driven: one labelled row per expression, with either the AST it
 * must parse to, printed in a compact canonical form (see pr_list), or the
 * error code, byte offset and message it must be refused with. Every row is
 * parsed from a copy that ends right before a PROT_NONE page, so any read
 * past the input faults; every accepted row is also parsed again from its
 * printed form (which must print the same), and under allocation failure
 * at every allocation of the parse (HR_ENOMEM, then the same result).
 *
 * The canonical print: a list is its items joined by " && " / " || ", a
 * group is "(" list ")", a comparison is "L op R"; identifiers and numbers
 * print as written, texts as their decoded content in double quotes with
 * \" \\ \n \r \t and \u00XX escapes (other bytes raw), calls as
 * name(arg, arg).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/common.h"
#include "harness/unit.h"
#include "rules/filter.h"

/* --- printer ---------------------------------------------------------- */

typedef struct sb {
	char buf[1 << 16];
	size_t len;
	bool overflow;
} sb;

static void sb_put(sb *b, const char *p, size_t n)
{
	if (b->len + n >= sizeof b->buf) {
		b->overflow = true;
		return;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void sb_puts(sb *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void pr_operand(sb *b, const hr_f_operand *o)
{
	switch (o->kind) {
	case HR_F_IDENT:
	case HR_F_NUMBER:
		sb_put(b, o->text.ptr, o->text.len);
		break;
	case HR_F_TEXT:
		sb_puts(b, "\"");
		for (size_t i = 0; i < o->text.len; i++) {
			unsigned char c = (unsigned char)o->text.ptr[i];
			char e[8];
			if (c == '"' || c == '\\') {
				e[0] = '\\';
				e[1] = (char)c;
				sb_put(b, e, 2);
			} else if (c == '\n') {
				sb_puts(b, "\\n");
			} else if (c == '\r') {
				sb_puts(b, "\\r");
			} else if (c == '\t') {
				sb_puts(b, "\\t");
			} else if (c < 0x20 || c == 0x7f) {
				snprintf(e, sizeof e, "\\u%04x", c);
				sb_puts(b, e);
			} else {
				sb_put(b, (const char *)&c, 1);
			}
		}
		sb_puts(b, "\"");
		break;
	case HR_F_FUNC:
		sb_put(b, o->text.ptr, o->text.len);
		sb_puts(b, "(");
		for (unsigned i = 0; i < o->nargs; i++) {
			if (i)
				sb_puts(b, ", ");
			pr_operand(b, &o->args[i]);
		}
		sb_puts(b, ")");
		break;
	default:
		sb_puts(b, "<bad operand>");
	}
}

static void pr_list(sb *b, const hr_f_list *l)
{
	for (unsigned i = 0; i < l->n; i++) {
		const hr_f_item *it = &l->items[i];
		if (i)
			sb_puts(b, it->join == HR_F_AND ? " && " : it->join == HR_F_OR ? " || " : " ?? ");
		if (it->is_group) {
			sb_puts(b, "(");
			pr_list(b, &it->group);
			sb_puts(b, ")");
		} else {
			pr_operand(b, &it->left);
			sb_puts(b, " ");
			sb_puts(b, hr_f_op_name(it->op));
			sb_puts(b, " ");
			pr_operand(b, &it->right);
		}
	}
}

/* Structural invariants of an AST parsed from n bytes. */
static bool operand_ok(const hr_f_operand *o, size_t n)
{
	if (o->pos >= n)
		return false;
	switch (o->kind) {
	case HR_F_IDENT:
	case HR_F_NUMBER:
		return o->text.len > 0 && o->nargs == 0;
	case HR_F_TEXT:
		return o->nargs == 0;
	case HR_F_FUNC:
		if (o->text.len == 0 || (o->nargs > 0) != (o->args != NULL))
			return false;
		for (unsigned i = 0; i < o->nargs; i++)
			if (!operand_ok(&o->args[i], n) || o->args[i].pos <= o->pos)
				return false;
		return true;
	default:
		return false;
	}
}

static bool list_ok(const hr_f_list *l, size_t n)
{
	if (l->n == 0 || !l->items)
		return false;
	for (unsigned i = 0; i < l->n; i++) {
		const hr_f_item *it = &l->items[i];
		if (it->pos >= n || (i == 0) != (it->join == 0))
			return false;
		if (i && it->join != HR_F_AND && it->join != HR_F_OR)
			return false;
		if (i && it->pos <= l->items[i - 1].pos)
			return false;
		if (it->is_group) {
			if (!list_ok(&it->group, n) || it->group.items[0].pos <= it->pos)
				return false;
		} else if (!operand_ok(&it->left, n) || !operand_ok(&it->right, n) ||
			   it->left.pos != it->pos || it->right.pos <= it->left.pos ||
			   it->op < HR_F_EQ || it->op > HR_F_ANY_NLIKE) {
			return false;
		}
	}
	return true;
}

/* --- filter rows ------------------------------------------------------ */

typedef struct fcase {
	const char *label;
	const char *in;
	size_t len;			/* 0: strlen(in) */
	const char *ast;		/* expected print; NULL: an error is expected */
	int rc;				/* expected error (HR_EPARSE when 0 and ast NULL) */
	size_t pos;			/* expected error offset */
	const char *msg;		/* expected message (exact), or NULL */
	const hr_filter_limits *lim;	/* NULL: {200, 32} */
} fcase;

static const hr_filter_limits deflim = {200, 32};
static const hr_filter_limits lim2 = {2, 2};
static const hr_filter_limits lim_none = {0, 0};

#define LIT(s) s, sizeof(s) - 1
#define OK(label, in, ast) {label, in, 0, ast, 0, 0, NULL, NULL}
#define BAD(label, in, pos, msg) {label, in, 0, NULL, HR_EPARSE, pos, msg, NULL}

static const fcase fcases[] = {
	/* --- DIALECT.md §6.12, every example ----------------------------- */
	OK("dialect_status_group", "status = \"active\" && (priority > 2 || owner = @request.auth.id)",
	   "status = \"active\" && (priority > 2 || owner = @request.auth.id)"),
	OK("dialect_contains", "title ~ \"hello\"                        // contains, case-insensitive",
	   "title ~ \"hello\""),
	OK("dialect_like_pattern", "title ~ \"hel%o\"                        // user-controlled LIKE pattern",
	   "title ~ \"hel%o\""),
	OK("dialect_each", "tags:each ?= \"urgent\"                  // multi select contains \"urgent\"",
	   "tags:each ?= \"urgent\""),
	OK("dialect_length", "tags:length > 2", "tags:length > 2"),
	OK("dialect_relation", "author.name = \"Ada\"                    // through a single relation",
	   "author.name = \"Ada\""),
	OK("dialect_any_relation", "members.id ?= @request.auth.id         // any of a multiple relation",
	   "members.id ?= @request.auth.id"),
	OK("dialect_every_member",
	   "members.verified = true                // every member verified (false when there are none)",
	   "members.verified = true"),
	OK("dialect_back_relation", "comments_via_post.id ?!= \"\"            // post has at least one comment",
	   "comments_via_post.id ?!= \"\""),
	OK("dialect_json_path", "meta.dims.0 > 10                       // json path", "meta.dims.0 > 10"),
	OK("dialect_macros", "created >= @todayStart && created <= @todayEnd",
	   "created >= @todayStart && created <= @todayEnd"),
	OK("dialect_strftime", "strftime('%Y-%m', created) = \"2026-03\"",
	   "strftime(\"%Y-%m\", created) = \"2026-03\""),
	OK("dialect_geo", "geoDistance(location.lon, location.lat, 23.32, 42.69) < 25",
	   "geoDistance(location.lon, location.lat, 23.32, 42.69) < 25"),
	OK("dialect_isset", "@request.body.role:isset = false       // rule: client may not send role",
	   "@request.body.role:isset = false"),
	OK("dialect_changed", "@request.body.status:changed = false   // rule: status may not change",
	   "@request.body.status:changed = false"),
	OK("dialect_collection",
	   "@collection.members.user ?= @request.auth.id && @collection.members.project ?= id",
	   "@collection.members.user ?= @request.auth.id && @collection.members.project ?= id"),
	OK("dialect_signed_in", "@request.auth.id != \"\"", "@request.auth.id != \"\""),
	OK("dialect_sdk_first_item", "slug=\"hi\"", "slug = \"hi\""),
	OK("dialect_sdk_date", "created > \"2026-03-04 09:15:02.123Z\"", "created > \"2026-03-04 09:15:02.123Z\""),
	OK("dialect_precedence", "a = 1 || b = 2 && c = 3", "a = 1 || b = 2 && c = 3"),
	OK("dialect_changed_equiv", "(@request.body.f:isset = true && @request.body.f != f)",
	   "(@request.body.f:isset = true && @request.body.f != f)"),
	OK("dialect_multiline_rule",
	   "@request.auth.id != \"\" &&\n  // only owners\n  (owner = @request.auth.id ||\n   @request.auth.role = \"admin\")\n",
	   "@request.auth.id != \"\" && (owner = @request.auth.id || @request.auth.role = \"admin\")"),

	/* --- operators ---------------------------------------------------- */
	OK("all_sixteen_ops",
	   "a=1&&a!=1&&a>1&&a>=1&&a<1&&a<=1&&a~1&&a!~1&&a?=1&&a?!=1&&a?>1&&a?>=1&&a?<1&&a?<=1&&a?~1&&a?!~1",
	   "a = 1 && a != 1 && a > 1 && a >= 1 && a < 1 && a <= 1 && a ~ 1 && a !~ 1 && a ?= 1 && "
	   "a ?!= 1 && a ?> 1 && a ?>= 1 && a ?< 1 && a ?<= 1 && a ?~ 1 && a ?!~ 1"),
	OK("no_spaces", "a='x'&&b>1||c?~\"y\"", "a = \"x\" && b > 1 || c ?~ \"y\""),
	OK("sign_then_minus", "a=-1", "a = -1"),
	OK("neq_then_minus", "a!=-1", "a != -1"),
	OK("brief_example", "(a = 'x' && (b > 1 || c ?~ \"y\"))", "(a = \"x\" && (b > 1 || c ?~ \"y\"))"),
	OK("literal_left", "'x' = a", "\"x\" = a"),
	OK("number_both", "1 = 1", "1 = 1"),
	OK("ident_right", "a = b", "a = b"),
	BAD("op_eq_gt", "a => b", 2, "invalid operator '=>'"),
	BAD("op_eq_bang", "a =! b", 2, "invalid operator '=!'"),
	BAD("op_double_eq", "a == b", 2, "invalid operator '=='"),
	BAD("op_bang_alone", "a ! b", 2, "invalid operator '!'"),
	BAD("op_question_alone", "a ? b", 2, "invalid operator '?'"),
	BAD("op_longest_run", "a ?!~= b", 2, "invalid operator '?!~='"),
	BAD("op_eq_neq_run", "a =!= b", 2, "invalid operator '=!='"),
	BAD("op_gt_lt", "a >< b", 2, "invalid operator '><'"),
	BAD("op_long_run", "a =========== b", 2, "invalid operator"),
	BAD("op_tilde_eq", "a ~= b", 2, "invalid operator '~='"),
	BAD("join_single_amp", "a = 1 & b = 2", 6, "invalid operator '&'"),
	BAD("join_single_pipe", "a = 1 | b = 2", 6, "invalid operator '|'"),
	BAD("join_triple", "a = 1 ||| b = 2", 6, "invalid operator '|||'"),
	BAD("join_mixed", "a = 1 &| b = 2", 6, "invalid operator '&|'"),
	BAD("join_longest_run", "a = 1 &&|| b = 2", 6, "invalid operator '&&||'"),
	BAD("join_amp_triple", "a = 1 &&& b = 2", 6, "invalid operator '&&&'"),

	/* --- comparison shape -------------------------------------------- */
	BAD("empty", "", 0, "empty expression"),
	BAD("only_spaces", "  \t\n ", 0, "empty expression"),
	BAD("only_comment", "// nothing here", 0, "empty expression"),
	BAD("only_comments", "// one\n// two\n", 0, "empty expression"),
	BAD("operand_alone", "a", 1, "expected a comparison operator"),
	BAD("operand_alone_spaces", "  a  ", 5, "expected a comparison operator"),
	BAD("missing_right", "a =", 3, "expected an operand"),
	BAD("missing_right_comment", "a = // x", 8, "expected an operand"),
	BAD("missing_left", "= b", 0, "expected an operand"),
	BAD("chained", "a = b = c", 6, "expected && or ||"),
	BAD("dangling_and", "a = 1 &&", 8, "expected an operand"),
	BAD("dangling_or_space", "a = 1 || ", 9, "expected an operand"),
	BAD("leading_and", "&& a = 1", 0, "expected an operand"),
	BAD("double_join", "a = 1 || || b = 1", 9, "expected an operand"),
	BAD("join_then_sign", "a = 1 && = 2", 9, "expected an operand"),
	BAD("second_incomplete", "a = 1 && b", 10, "expected a comparison operator"),
	BAD("second_missing_right", "a = 1 && b =", 12, "expected an operand"),
	BAD("two_operands", "a b", 2, "expected a comparison operator"),
	BAD("missing_join", "a = 1 b = 2", 6, "expected && or ||"),
	BAD("missing_join_text", "a = 1 'x'", 6, "expected && or ||"),
	BAD("sign_after_sign", "a = = b", 4, "expected an operand"),
	BAD("join_as_right", "a = &&", 4, "expected an operand"),
	BAD("like_then_eq", "a ~ 'x' = 1", 8, "expected && or ||"),
	BAD("number_then_ident", "a = 5b", 5, "expected && or ||"),
	BAD("exponent", "a = 1e5", 5, "expected && or ||"),
	BAD("hex_number", "a = 0x10", 5, "expected && or ||"),
	BAD("placeholder_left_over", "a = {:q}", 4, "unexpected character"),

	/* --- whitespace, CR, comments -------------------------------------- */
	OK("odd_whitespace", " \t\na\n=\t1 \n", "a = 1"),
	OK("tabs_and_newlines", "a\t=\t1\n&&\nb\n!=\n2", "a = 1 && b != 2"),
	OK("leading_comment", "// lead\na = 1", "a = 1"),
	OK("trailing_comment", "a = 1 // trail", "a = 1"),
	OK("trailing_empty_comment", "a = 1 //", "a = 1"),
	OK("triple_slash", "a = 1 ///x", "a = 1"),
	OK("comment_between_tokens", "a // c1\n = // c2\n 1 // c3\n && // c4\n b = 2", "a = 1 && b = 2"),
	OK("comment_with_quote", "a = 1 // it's \"fine\" (really\n&& b = 2", "a = 1 && b = 2"),
	OK("comment_with_cr", "a = 1 // x\r\n&& b = 2", "a = 1 && b = 2"),
	OK("comment_with_utf8", "a = 1 // \xc3\xa9t\xc3\xa9\n", "a = 1"),
	OK("comment_with_bad_utf8", "a = 1 // \xff\xfe\n", "a = 1"),
	OK("comment_no_space", "a=1//x\n&&b=2", "a = 1 && b = 2"),
	BAD("cr_between", "a\r= 1", 1, "unexpected character"),
	BAD("crlf_at_end", "a = 1\r\n", 5, "unexpected character"),
	BAD("crlf_between_lines", "a = 1\r\n&& b = 2", 5, "unexpected character"),
	BAD("vertical_tab", "a =\v1", 3, "unexpected character"),
	BAD("form_feed", "a =\f1", 3, "unexpected character"),
	BAD("single_slash", "a = 1 /", 6, "unexpected character"),
	BAD("slash_space_slash", "a = 1 / / x", 6, "unexpected character"),
	BAD("division", "a = 1 / c", 6, "unexpected character"),
	{"nul_at_end", LIT("a = b\0"), NULL, HR_EPARSE, 5, "unexpected character", NULL},
	{"nul_in_text", LIT("a = 'x\0y'"), NULL, HR_EPARSE, 6, "unexpected character", NULL},
	{"nul_after_escape", LIT("a = 'x\\\0y'"), NULL, HR_EPARSE, 7, "unexpected character", NULL},
	{"nul_in_comment", LIT("a = 1 // c\0\n"), NULL, HR_EPARSE, 10, "unexpected character", NULL},
	{"nul_first", LIT("\0a = 1"), NULL, HR_EPARSE, 0, "unexpected character", NULL},
	BAD("non_ascii_operand", "a = \xc3\xa9", 4, "unexpected character"),
	BAD("non_ascii_ident_char", "ab\xc3\xa9 = 1", 2, "unexpected character"),
	BAD("byte_ff", "a = \xff", 4, "unexpected character"),
	BAD("dollar", "a = $x", 4, "unexpected character"),
	BAD("backtick", "a = `x`", 4, "unexpected character"),
	BAD("semicolon", "a = 1;", 5, "unexpected character"),
	BAD("comma_top_level", "a = 1 , b = 2", 6, "unexpected character"),
	BAD("stray_close", "a = 1)", 5, "unexpected character"),
	BAD("close_only", ")", 0, "unexpected character"),
	BAD("brackets", "a = [1]", 4, "unexpected character"),

	/* --- identifiers -------------------------------------------------- */
	OK("ident_specials", "_a = @b.c:d", "_a = @b.c:d"),
	OK("ident_hash", "#x = #1", "#x = #1"),
	OK("ident_digits_dots_colons", "a1.2:b = A.Z_9", "a1.2:b = A.Z_9"),
	OK("ident_double_underscore", "__ = _x_", "__ = _x_"),
	OK("ident_single_letter", "a = Z", "a = Z"),
	OK("ident_inner_dots", "a..b = a::b", "a..b = a::b"),
	OK("ident_at_dot", "@.a = 1", "@.a = 1"),
	OK("ident_keywords", "a = null || b = TRUE || c = false", "a = null || b = TRUE || c = false"),
	BAD("ident_lone_at", "@ = 1", 0, "invalid identifier '@'"),
	BAD("ident_lone_underscore", "_ = 1", 0, "invalid identifier '_'"),
	BAD("ident_lone_hash", "a = #", 4, "invalid identifier '#'"),
	BAD("ident_trailing_dot", "a. = 1", 0, "invalid identifier 'a.'"),
	BAD("ident_trailing_colon", "a = b:", 4, "invalid identifier 'b:'"),
	BAD("ident_path_trailing_dot", "a.b.c. = 1", 0, "invalid identifier 'a.b.c.'"),
	BAD("ident_long_invalid", "abcdefghij. = 1", 0, "invalid identifier"),
	BAD("ident_leading_dot", ".a = 1", 0, "unexpected character"),
	BAD("ident_leading_colon", ":a = 1", 0, "unexpected character"),
	BAD("ident_hash_inside", "a#b = 1", 1, "expected a comparison operator"),
	BAD("ident_at_inside", "a@ = 1", 1, "invalid identifier '@'"),
	BAD("ident_dash", "a-b = 1", 1, "invalid number '-'"),

	/* --- numbers ------------------------------------------------------ */
	OK("num_negative", "a > -5", "a > -5"),
	OK("num_decimal", "a = 1.5", "a = 1.5"),
	OK("num_negative_decimal", "a = -1.5", "a = -1.5"),
	OK("num_negative_left", "-1 < a", "-1 < a"),
	OK("num_minus_dot", "a = -.5", "a = -.5"),
	OK("num_leading_zeros", "a = 007", "a = 007"),
	OK("num_zero_dot_zero", "a = 0.0", "a = 0.0"),
	OK("num_long", "a = 0.000000000000000000000000000000000000000000000000000000000000000000000001",
	   "a = 0.000000000000000000000000000000000000000000000000000000000000000000000001"),
	BAD("num_then_minus_num", "a = 5-3", 5, "expected && or ||"),
	BAD("num_leading_dot", "a = .5", 4, "unexpected character"),
	BAD("num_trailing_dot", "a = 5.", 4, "invalid number '5.'"),
	BAD("num_two_dots", "a = 1.2.3", 7, "unexpected character"),
	BAD("num_double_dot", "a = 1..2", 4, "invalid number '1.'"),
	BAD("num_minus_alone", "a = -", 4, "invalid number '-'"),
	BAD("num_minus_space", "a = - 1", 4, "invalid number '-'"),
	BAD("num_double_minus", "a = --1", 4, "invalid number '-'"),
	BAD("num_minus_dot_only", "a = -.", 4, "invalid number '-.'"),
	BAD("num_dot_ident", "a = 123.abc", 4, "invalid number '123.'"),
	BAD("num_minus_ident", "a = -b", 4, "invalid number '-'"),

	/* --- texts and escapes -------------------------------------------- */
	OK("text_empty_single", "a = ''", "a = \"\""),
	OK("text_empty_double", "a = \"\"", "a = \"\""),
	OK("text_other_quote_inside", "a = 'x\"y' && b = \"x'y\"", "a = \"x\\\"y\" && b = \"x'y\""),
	OK("text_escaped_single", "a = 'it\\'s'", "a = \"it's\""),
	OK("text_escaped_double", "a = \"q\\\"q\"", "a = \"q\\\"q\""),
	OK("text_escaped_backslash", "a = \"a\\\\\"", "a = \"a\\\\\""),
	OK("text_backslash_then_quote", "a = 'a\\\\' && b = 1", "a = \"a\\\\\" && b = 1"),
	OK("text_json_escapes", "a = \"\\n\\t\\r\\b\\f\\/\\\\\\\"\"", "a = \"\\n\\t\\r\\u0008\\u000c/\\\\\\\"\""),
	OK("text_unicode_escapes", "a = \"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"",
	   "a = \"A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""),
	OK("text_u0000", "a = \"x\\u0000y\"", "a = \"x\\u0000y\""),
	OK("text_lone_high_surrogate", "a = \"\\ud800\"", "a = \"\xef\xbf\xbd\""),
	OK("text_lone_low_surrogate", "a = \"\\udc00x\"", "a = \"\xef\xbf\xbdx\""),
	OK("text_high_then_bmp", "a = \"\\ud800\\u0041\"", "a = \"\xef\xbf\xbd" "A\""),
	OK("text_unknown_escape", "a = '\\q'", "a = \"q\""),
	OK("text_hex_escape_kept", "a = '\\x41'", "a = \"x41\""),
	OK("text_short_u", "a = '\\u12'", "a = \"u12\""),
	OK("text_bad_hex_u", "a = '\\u12g4'", "a = \"u12g4\""),
	OK("text_capital_u", "a = '\\U0041'", "a = \"U0041\""),
	OK("text_escaped_utf8", "a = '\\\xc3\xa9'", "a = \"\xc3\xa9\""),
	OK("text_utf8", "a = '\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80'",
	   "a = \"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
	OK("text_invalid_utf8", "a = '\xff'", "a = \"\xef\xbf\xbd\""),
	OK("text_truncated_utf8", "a = '\xe2\x82'", "a = \"\xef\xbf\xbd\xef\xbf\xbd\""),
	OK("text_overlong_utf8", "a = '\xc0\xaf'", "a = \"\xef\xbf\xbd\xef\xbf\xbd\""),
	OK("text_surrogate_utf8", "a = '\xed\xa0\x80'", "a = \"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""),
	OK("text_overlong_e0", "a = '\xe0\x80\x80'", "a = \"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""),
	OK("text_smallest_e0", "a = '\xe0\xa0\x80'", "a = \"\xe0\xa0\x80\""),
	OK("text_max_code_point", "a = '\xf4\x8f\xbf\xbf'", "a = \"\xf4\x8f\xbf\xbf\""),
	OK("text_above_max_code_point", "a = '\xf4\x90\x80\x80x'",
	   "a = \"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx\""),
	OK("text_f5_lead", "a = '\xf5\x80'", "a = \"\xef\xbf\xbd\xef\xbf\xbd\""),
	OK("text_raw_cr_lf_tab", "a = 'x\ry\nz\tw'", "a = \"x\\ry\\nz\\tw\""),
	OK("text_operators_inside", "a = '||x&&' && b = \"(a = 1)\"", "a = \"||x&&\" && b = \"(a = 1)\""),
	OK("text_comment_inside", "a = '// not a comment'", "a = \"// not a comment\""),
	OK("text_like_pattern_escapes", "a ~ 'x\\\\%y_'", "a ~ \"x\\\\%y_\""),
	BAD("text_unterminated", "a = 'x", 4, "unterminated text"),
	BAD("text_mixed_quotes", "a = \"x'", 4, "unterminated text"),
	BAD("text_escaped_close", "a = 'x\\'", 4, "unterminated text"),
	BAD("text_trailing_backslash", "a = 'x\\", 4, "unterminated text"),
	BAD("text_unterminated_left", "'abc", 0, "unterminated text"),

	/* --- groups ------------------------------------------------------- */
	OK("group_only", "(a = 1)", "(a = 1)"),
	OK("group_double", "((a = 1))", "((a = 1))"),
	OK("group_first_then_more", "(a=1) && b=2 || c=3", "(a = 1) && b = 2 || c = 3"),
	OK("group_nested_first", "((a=1) && b=2) && c=3", "((a = 1) && b = 2) && c = 3"),
	OK("group_two", "(a=1)&&(b=2)", "(a = 1) && (b = 2)"),
	OK("group_deep_mixed", "(a = 1 && (b = 2 || (c = 3)))", "(a = 1 && (b = 2 || (c = 3)))"),
	OK("group_spaces_inside", "(  a = 1  )", "(a = 1)"),
	OK("group_text_parens", "(a = ')' || b = \"(\")", "(a = \")\" || b = \"(\")"),
	OK("group_escaped_quote_paren", "(a = 'x\\')' )", "(a = \"x')\")"),
	OK("group_backslash_end", "(a = \"a\\\\\")", "(a = \"a\\\\\")"),
	OK("group_comment_ends_at_paren", "(a = 1 // c)", "(a = 1)"),
	OK("group_comment_then_more", "(a = 1 // c) || b = 2", "(a = 1) || b = 2"),
	OK("group_comment_line", "(a = 1 // c\n || b = 2)", "(a = 1 || b = 2)"),
	OK("group_comment_quoted_paren", "(a // ')'\n = 1)", "(a = 1)"),
	OK("group_function", "(f(a) = 1)", "(f(a) = 1)"),
	OK("group_function_text_paren", "(f(a, ')') = 1)", "(f(a, \")\") = 1)"),
	OK("group_nested_functions", "(f(g(h(1))) = 1)", "(f(g(h(1))) = 1)"),
	BAD("group_empty", "()", 0, "empty group"),
	BAD("group_empty_space", "( )", 0, "empty group"),
	BAD("group_empty_comment", "(// c\n)", 0, "empty group"),
	BAD("group_empty_second", "a = 1 && ()", 9, "empty group"),
	BAD("group_empty_nested", "(())", 1, "empty group"),
	BAD("group_unclosed", "(a = 1", 0, "missing ')'"),
	BAD("group_unclosed_nested", "((a = 1)", 0, "missing ')'"),
	BAD("group_unclosed_text_paren", "(a = ')' ", 0, "missing ')'"),
	BAD("group_unterminated_text", "(a = 'x)", 5, "unterminated text"),
	BAD("group_comment_apostrophe", "(a = 1 // it's\n)", 12, "unterminated text"),
	BAD("group_comment_open_paren", "(a = 1 // (\n)", 0, "missing ')'"),
	BAD("group_extra_close", "(a = 1))", 7, "unexpected character"),
	BAD("group_after_operand", "a (b = 1)", 2, "expected a comparison operator"),
	BAD("group_as_right_operand", "a = (b = 1)", 4, "expected an operand"),
	BAD("group_without_join", "a = 1 (b = 2)", 6, "expected && or ||"),
	BAD("group_then_operand", "(a = 1) b = 2", 8, "expected && or ||"),
	BAD("group_compared", "(a = 1) = 2", 8, "expected && or ||"),
	BAD("group_inner_error", "(a = 1 && b)", 11, "expected a comparison operator"),
	BAD("group_inner_dangling", "(a = 1 &&)", 9, "expected an operand"),
	BAD("group_inner_extra_close", "(a = 1)) || (b = 2)", 7, "unexpected character"),

	/* --- functions ---------------------------------------------------- */
	OK("func_no_args", "f() = 1", "f() = 1"),
	OK("func_trailing_comma", "f(a,) = 1", "f(a) = 1"),
	OK("func_trailing_comma_space", "f(a, b,  ) = 1", "f(a, b) = 1"),
	OK("func_args_kinds", "f( a , 'b' , -1 , 2.5, g(h(x)) ) = 1", "f(a, \"b\", -1, 2.5, g(h(x))) = 1"),
	OK("func_special_name", "@test:abc() = 1", "@test:abc() = 1"),
	OK("func_right", "a = f(1)", "a = f(1)"),
	OK("func_both", "f(1) != g(2)", "f(1) != g(2)"),
	OK("func_comment_args", "f(a, // c\n b) = 1", "f(a, b) = 1"),
	OK("func_comment_before_close", "f(a //c\n) = 1", "f(a) = 1"),
	OK("func_newlines", "f(\n\ta,\n\tb\n) = 1", "f(a, b) = 1"),
	OK("func_text_comma_paren", "f('a,b)', \"c\\\"d\") = 1", "f(\"a,b)\", \"c\\\"d\") = 1"),
	OK("func_max_nesting", "a(b(c(1))) = 1", "a(b(c(1))) = 1"),
	OK("func_keywords", "f(false, null) = true", "f(false, null) = true"),
	OK("func_minus_dot", "f(-.5) = 1", "f(-.5) = 1"),
	BAD("func_nesting_too_deep", "a(b(c(d(1)))) = 1", 6, "function nesting too deep"),
	BAD("func_nesting_too_deep_empty", "f(a(b(c(d())))) = 1", 6, "function nesting too deep"),
	BAD("func_unclosed", "f(", 1, "missing ')'"),
	BAD("func_unclosed_arg", "f(a", 1, "missing ')'"),
	BAD("func_unclosed_later", "a = 1 && g(", 10, "missing ')'"),
	BAD("func_comment_eats_close", "f(a // x) = 1", 1, "missing ')'"),
	BAD("func_sign_inside", "f(a = 1", 4, "expected ',' or ')'"),
	BAD("func_missing_comma", "f(a b) = 1", 4, "expected ',' or ')'"),
	BAD("func_missing_comma_text", "f('a' 'b') = 1", 6, "expected ',' or ')'"),
	BAD("func_leading_comma", "f(,) = 1", 2, "unexpected ','"),
	BAD("func_double_comma", "f(a,,) = 1", 4, "unexpected ','"),
	BAD("func_double_comma_mid", "f(a,,b) = 1", 4, "unexpected ','"),
	BAD("func_group_arg", "f(a, (b)) = 1", 5, "invalid function argument"),
	BAD("func_space_before_paren", "f (a) = 1", 2, "expected a comparison operator"),
	BAD("func_bad_name_dot", "a.(1) = 1", 0, "invalid function name"),
	BAD("func_bad_name_at", "@(1) = 1", 0, "invalid function name"),
	BAD("func_bad_name_colon", "a:() = 1", 0, "invalid function name"),
	BAD("func_dot_number", "f(.5) = 1", 2, "invalid function argument"),
	BAD("func_minus_alone", "f(-) = 1", 2, "invalid number '-'"),
	BAD("func_unterminated_text", "f('x) = 1", 2, "unterminated text"),
	BAD("func_cr", "f(a\r) = 1", 3, "expected ',' or ')'"),
	BAD("func_cr_first", "f(\ra) = 1", 2, "invalid function argument"),
	BAD("func_bad_ident_arg", "f(a.) = 1", 2, "invalid identifier 'a.'"),
	BAD("func_single_slash", "f(a / b) = 1", 4, "expected ',' or ')'"),
	BAD("func_slash_first", "f(/ b) = 1", 2, "invalid function argument"),
	BAD("func_alone", "f(a)", 4, "expected a comparison operator"),

	/* --- limits ------------------------------------------------------- */
	{"lim_two_ok", "a=1&&b=2", 0, "a = 1 && b = 2", 0, 0, NULL, &lim2},
	{"lim_three", "a=1&&b=2&&c=3", 0, NULL, HR_ELIMIT, 10, "too many comparisons (limit 2)", &lim2},
	{"lim_three_incomplete", "a=1&&b=2&&c", 0, NULL, HR_ELIMIT, 10, NULL, &lim2},
	{"lim_groups_counted", "(a=1)&&((b=2)||c=3)", 0, NULL, HR_ELIMIT, 15, NULL, &lim2},
	{"lim_depth_ok", "(a=1&&(b=2))", 0, "(a = 1 && (b = 2))", 0, 0, NULL, &lim2},
	{"lim_depth_over", "(((a=1)))", 0, NULL, HR_ELIMIT, 2, "nesting too deep", &lim2},
	{"lim_depth_over_later", "a=1||((b=1)||((c=1)))", 0, NULL, HR_ELIMIT, 14, "nesting too deep", &lim2},
	{"lim_unlimited", "a=1&&b=2&&c=3&&d=4", 0, "a = 1 && b = 2 && c = 3 && d = 4", 0, 0, NULL, &lim_none},
	{"lim_syntax_before_limit", "a=1&&b=2&&&c=3", 0, NULL, HR_EPARSE, 8, NULL, &lim2},
};

static hr_arena arena_new(char *mem, size_t size)
{
	hr_arena a;
	hr_arena_init(&a, mem, size, 0);
	return a;
}

typedef struct result {
	int rc;
	hr_filter_error err;
	char ast[1 << 16];
	bool overflow;
} result;

/* Parses in[0..len) from a guarded copy, prints the AST or keeps the error. */
static void parse_guarded(const char *in, size_t len, const hr_filter_limits *lim, long fail_after,
			  result *r)
{
	static char mem[256];
	hr_arena a = arena_new(mem, sizeof mem);
	a.fail_after = fail_after;
	char *g = hr_test_guard_copy(in, len);
	hr_f_list out = {(hr_f_item *)(uintptr_t)1, 12345};
	hr_filter_error err = {777, "untouched"};
	r->rc = hr_filter_parse(&a, g, len, lim, &out, &err);
	r->ast[0] = '\0';
	r->overflow = false;
	if (r->rc == 0) {
		HR_CHECK(err.pos == 777 && strcmp(err.message, "untouched") == 0);
		HR_CHECK(list_ok(&out, len));
		static sb b;
		b.len = 0;
		b.buf[0] = '\0';
		b.overflow = false;
		pr_list(&b, &out);
		memcpy(r->ast, b.buf, b.len + 1);
		r->overflow = b.overflow;
	} else {
		HR_CHECK(out.items == (hr_f_item *)(uintptr_t)1 && out.n == 12345);
		HR_CHECK(err.message != NULL && err.pos <= len);
		r->err = err;
		/* The message may live in the arena: copy it before the reset. */
		static char msg[256];
		snprintf(msg, sizeof msg, "%s", err.message);
		r->err.message = msg;
	}
	hr_test_guard_free(g, len);
	hr_arena_dispose(&a);
}

static void test_filter_table(void)
{
	static result r, r2;
	for (size_t i = 0; i < HR_ARRAY_LEN(fcases); i++) {
		const fcase *c = &fcases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		const hr_filter_limits *lim = c->lim ? c->lim : &deflim;
		parse_guarded(c->in, len, lim, -1, &r);
		if (c->ast) {
			HR_CHECKF(r.rc == 0, "%s: rc %d at %zu: %s", c->label, r.rc, r.err.pos,
				  r.rc ? r.err.message : "");
			if (r.rc != 0)
				continue;
			HR_CHECKF(strcmp(r.ast, c->ast) == 0, "%s:\n      got  %s\n      want %s", c->label,
				  r.ast, c->ast);
			/* The canonical print parses back to itself. */
			parse_guarded(r.ast, strlen(r.ast), lim, -1, &r2);
			HR_CHECKF(r2.rc == 0 && strcmp(r2.ast, r.ast) == 0, "%s: reparse: %s", c->label,
				  r2.rc ? r2.err.message : r2.ast);
		} else {
			int want = c->rc ? c->rc : HR_EPARSE;
			HR_CHECKF(r.rc == want && r.err.pos == c->pos,
				  "%s: want rc %d at %zu, got rc %d at %zu (%s)%s%s", c->label, want, c->pos,
				  r.rc, r.rc ? r.err.pos : 0, r.rc ? r.err.message : "", r.rc ? "" : ": ",
				  r.rc ? "" : r.ast);
			if (r.rc && c->msg)
				HR_CHECKF(strcmp(r.err.message, c->msg) == 0, "%s: message '%s', want '%s'",
					  c->label, r.err.message, c->msg);
		}
	}
}

/* Every allocation of every row fails in turn: HR_ENOMEM, nothing leaked
 * or touched, and once allocations suffice the same result as before. */
static void test_filter_oom(void)
{
	static result want, got;
	for (size_t i = 0; i < HR_ARRAY_LEN(fcases); i++) {
		const fcase *c = &fcases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		const hr_filter_limits *lim = c->lim ? c->lim : &deflim;
		parse_guarded(c->in, len, lim, -1, &want);
		for (long k = 0;; k++) {
			HR_REQUIRE(k < 10000);
			parse_guarded(c->in, len, lim, k, &got);
			if (got.rc == HR_ENOMEM) {
				HR_CHECKF(strcmp(got.err.message, "out of memory") == 0, "%s", c->label);
				continue;
			}
			HR_CHECKF(got.rc == want.rc, "%s: fail_after %ld: rc %d, want %d", c->label, k,
				  got.rc, want.rc);
			if (want.rc == 0)
				HR_CHECKF(strcmp(got.ast, want.ast) == 0, "%s: fail_after %ld", c->label, k);
			else
				HR_CHECKF(got.err.pos == want.err.pos, "%s: fail_after %ld", c->label, k);
			break;
		}
	}
}

/* --- generated inputs ------------------------------------------------- */

/* n nested groups around "a=1": "((a=1))" for n = 2. */
static char *nested(unsigned n, size_t *len)
{
	char *s = malloc(2 * (size_t)n + 4);
	HR_ASSERT(s);
	memset(s, '(', n);
	memcpy(s + n, "a=1", 3);
	memset(s + n + 3, ')', n);
	*len = 2 * (size_t)n + 3;
	s[*len] = '\0';
	return s;
}

static void test_depth_limit(void)
{
	static result r;
	size_t len;
	hr_filter_limits lim = {200, 32};
	char *s = nested(32, &len);
	parse_guarded(s, len, &lim, -1, &r);
	HR_CHECK(r.rc == 0);
	free(s);

	s = nested(33, &len);
	parse_guarded(s, len, &lim, -1, &r);
	HR_CHECK(r.rc == HR_ELIMIT && r.err.pos == 32 && strcmp(r.err.message, "nesting too deep") == 0);
	free(s);

	/* max_depth 0 and anything above the ceiling mean the ceiling. */
	lim.max_depth = 0;
	s = nested(HR_FILTER_MAX_DEPTH, &len);
	parse_guarded(s, len, &lim, -1, &r);
	HR_CHECK(r.rc == 0);
	lim.max_depth = 100000;
	parse_guarded(s, len, &lim, -1, &r);
	HR_CHECK(r.rc == 0);
	free(s);
	s = nested(HR_FILTER_MAX_DEPTH + 1, &len);
	parse_guarded(s, len, &lim, -1, &r);
	HR_CHECK(r.rc == HR_ELIMIT && r.err.pos == HR_FILTER_MAX_DEPTH);
	lim.max_depth = 0;
	parse_guarded(s, len, &lim, -1, &r);
	HR_CHECK(r.rc == HR_ELIMIT && r.err.pos == HR_FILTER_MAX_DEPTH);
	free(s);

	/* Very deep: refused at the limit, not a stack overflow. */
	s = nested(50000, &len);
	parse_guarded(s, len, &lim, -1, &r);
	HR_CHECK(r.rc == HR_ELIMIT && r.err.pos == HR_FILTER_MAX_DEPTH);
	lim.max_depth = 8;
	parse_guarded(s, len, &lim, -1, &r);
	HR_CHECK(r.rc == HR_ELIMIT && r.err.pos == 8);
	free(s);

	/* Unbalanced: the outermost group's extent is looked for first. */
	len = 100000;
	s = malloc(len);
	HR_ASSERT(s);
	memset(s, '(', len);
	parse_guarded(s, len, &lim, -1, &r);
	HR_CHECK(r.rc == HR_EPARSE && r.err.pos == 0 && strcmp(r.err.message, "missing ')'") == 0);
	free(s);
}

/* "a=1 && a=1 && ..." with n comparisons, optionally every third one in a
 * group of its own. */
static char *comparisons(unsigned n, bool groups, size_t *len)
{
	char *s = malloc((size_t)n * 16 + 1);
	HR_ASSERT(s);
	size_t o = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i)
			o += (size_t)sprintf(s + o, i % 2 ? " && " : " || ");
		o += (size_t)sprintf(s + o, groups && i % 3 == 0 ? "(a=%u)" : "a=%u", i % 10);
	}
	*len = o;
	return s;
}

static void test_comparison_limit(void)
{
	static result r;
	hr_filter_limits lim = {200, 32};
	for (int groups = 0; groups < 2; groups++) {
		size_t len;
		char *s = comparisons(200, groups, &len);
		parse_guarded(s, len, &lim, -1, &r);
		HR_CHECKF(r.rc == 0, "200 comparisons, groups %d", groups);
		HR_CHECK(!r.overflow && strlen(r.ast) > 0);
		free(s);

		s = comparisons(201, groups, &len);
		parse_guarded(s, len, &lim, -1, &r);
		HR_CHECKF(r.rc == HR_ELIMIT, "201 comparisons, groups %d", groups);
		HR_CHECK(strcmp(r.err.message, "too many comparisons (limit 200)") == 0);
		/* The offset is the 201st comparison's first byte. */
		HR_CHECK(r.err.pos == len - 3); /* i = 200 is never grouped */
		free(s);

		/* 0 = unlimited. */
		s = comparisons(5000, groups, &len);
		lim.max_comparisons = 0;
		parse_guarded(s, len, &lim, -1, &r);
		HR_CHECK(r.rc == 0);
		lim.max_comparisons = 200;
		free(s);
	}
}

/* Numbers: values, and a value too large for a double. */
static void test_number_values(void)
{
	static const struct {
		const char *in;
		double v;
	} rows[] = {
		{"a = 0", 0},	    {"a = -5", -5},	  {"a = 1.5", 1.5},	{"a = -1.25", -1.25},
		{"a = -.5", -0.5},   {"a = 007", 7},	  {"a = 23.32", 23.32}, {"a = 0.1", 0.1},
		{"a = 9007199254740993", 9007199254740992.0},
	};
	char mem[256];
	for (size_t i = 0; i < HR_ARRAY_LEN(rows); i++) {
		hr_arena a = arena_new(mem, sizeof mem);
		hr_f_list l;
		hr_filter_error e;
		HR_CHECKF(hr_filter_parse(&a, rows[i].in, strlen(rows[i].in), &deflim, &l, &e) == 0, "%s",
			  rows[i].in);
		HR_CHECKF(l.items[0].right.kind == HR_F_NUMBER && l.items[0].right.num == rows[i].v, "%s",
			  rows[i].in);
		hr_arena_dispose(&a);
	}

	/* A long literal (past the parser's stack buffer) still converts. */
	char buf[600];
	strcpy(buf, "a = 0.");
	memset(buf + 6, '0', 300);
	strcpy(buf + 306, "25");
	hr_arena a = arena_new(mem, sizeof mem);
	hr_f_list l;
	hr_filter_error e;
	HR_CHECK(hr_filter_parse(&a, buf, strlen(buf), &deflim, &l, &e) == 0);
	HR_CHECK(l.items[0].right.num == strtod("2.5e-301", NULL));
	hr_arena_dispose(&a);

	memcpy(buf, "a = ", 4);
	memset(buf + 4, '9', 400);
	buf[404] = '\0';
	a = arena_new(mem, sizeof mem);
	HR_CHECK(hr_filter_parse(&a, buf, strlen(buf), &deflim, &l, &e) == HR_EPARSE);
	HR_CHECK(e.pos == 4 && strcmp(e.message, "number out of range") == 0);
	hr_arena_dispose(&a);
}

/* Plain texts, identifiers, numbers and names point into the input; decoded
 * texts do not. */
static void test_borrows_input(void)
{
	const char *in = "f(x) = 'abc' && b = \"a\\nb\" && -1 < c";
	char mem[256];
	hr_arena a = arena_new(mem, sizeof mem);
	hr_f_list l;
	hr_filter_error e;
	HR_REQUIRE(hr_filter_parse(&a, in, strlen(in), &deflim, &l, &e) == 0);
	HR_REQUIRE(l.n == 3);
	HR_CHECK(l.items[0].left.text.ptr == in && l.items[0].left.text.len == 1);
	HR_CHECK(l.items[0].left.args[0].text.ptr == in + 2);
	HR_CHECK(l.items[0].right.text.ptr == in + 8 && l.items[0].right.pos == 7);
	HR_CHECK(l.items[1].right.text.ptr < in || l.items[1].right.text.ptr > in + strlen(in));
	HR_CHECK(l.items[1].right.text.len == 3 && memcmp(l.items[1].right.text.ptr, "a\nb", 3) == 0);
	HR_CHECK(l.items[2].left.text.ptr == in + 30 && l.items[2].left.num == -1);
	HR_CHECK(l.items[0].join == 0 && l.items[1].join == HR_F_AND && l.items[2].join == HR_F_AND);
	HR_CHECK(l.items[0].left.kind == HR_F_FUNC && l.items[0].left.nargs == 1);
	HR_CHECK(hr_f_op_base(l.items[2].op) == HR_F_LT && !hr_f_op_is_any(l.items[2].op));
	hr_arena_dispose(&a);

	/* No NUL terminator is needed: the parse stops at n. */
	a = arena_new(mem, sizeof mem);
	HR_CHECK(hr_filter_parse(&a, "a = 1 garbage", 5, &deflim, &l, &e) == 0 && l.n == 1);
	hr_arena_dispose(&a);
}

/* A long text with escapes, and a long flat filter, through a small arena. */
static void test_large_inputs(void)
{
	static result r;
	size_t n = 200000;
	char *s = malloc(n + 16);
	HR_ASSERT(s);
	memcpy(s, "a = '", 5);
	size_t o = 5;
	while (o < n) {
		memcpy(s + o, "\\u00e9x\\\\", 9);
		o += 9;
	}
	s[o++] = '\'';
	parse_guarded(s, o, &deflim, -1, &r);
	HR_CHECK(r.rc == 0);
	free(s);

	size_t len;
	hr_filter_limits lim = {0, 0};
	s = comparisons(20000, true, &len);
	parse_guarded(s, len, &lim, -1, &r);
	HR_CHECK(r.rc == 0);
	free(s);
}

static void test_op_names(void)
{
	static const char *names[] = {"=",   "!=", ">",	  ">=",	 "<",	"<=",  "~",  "!~",
				      "?=",  "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~"};
	for (int op = HR_F_EQ; op <= HR_F_ANY_NLIKE; op++) {
		HR_CHECK(strcmp(hr_f_op_name(op), names[op - HR_F_EQ]) == 0);
		HR_CHECK(hr_f_op_is_any(op) == (op >= HR_F_ANY_EQ));
		HR_CHECK(hr_f_op_base(op) == (op >= HR_F_ANY_EQ ? op - 8 : op));
	}
	HR_CHECK(strcmp(hr_f_op_name(0), "(invalid)") == 0);
	HR_CHECK(strcmp(hr_f_op_name(99), "(invalid)") == 0);
}

/* --- sort ------------------------------------------------------------- */

typedef struct scase {
	const char *label;
	const char *in;
	unsigned max;	 /* max_items */
	const char *out; /* expected print "+a,-b", "" for none; NULL: error */
	int rc;
	size_t pos;
	const char *msg;
} scase;

#define SOK(label, in, out) {label, in, 8, out, 0, 0, NULL}
#define SBAD(label, in, pos, msg) {label, in, 8, NULL, HR_EPARSE, pos, msg}

static const scase scases[] = {
	SOK("empty", "", ""),
	SOK("one", "a", "+a"),
	SOK("desc", "-created", "-created"),
	SOK("plus", "+a", "+a"),
	SOK("mixed", "-a,+b, c ,, -d ", "-a,+b,+c,-d"),
	SOK("only_commas", " , , ", ""),
	SOK("trim_go_space", "\ta\r\n,\v-b\f", "+a,-b"),
	SOK("specials", "@random,-@rowid", "+@random,-@rowid"),
	SOK("paths_modifiers", "author.name,-title:lower,tags:length", "+author.name,-title:lower,+tags:length"),
	SOK("function_commas", "-geoDistance(lon, lat, 1, 2),id", "-geoDistance(lon, lat, 1, 2),+id"),
	SOK("function_text_comma", "strftime('%Y,%m', created),-id", "+strftime(\"%Y,%m\", created),-id"),
	SOK("function_no_args", "f()", "+f()"),
	SOK("eight", "a,b,c,d,e,f,g,h", "+a,+b,+c,+d,+e,+f,+g,+h"),
	SOK("eight_with_empties", ",a,,b,,c,,d,,e,,f,,g,,h,,,", "+a,+b,+c,+d,+e,+f,+g,+h"),
	{"unlimited", "a,b,c,d,e,f,g,h,i,j", 0, "+a,+b,+c,+d,+e,+f,+g,+h,+i,+j", 0, 0, NULL},
	{"nine", "a,b,c,d,e,f,g,h,i", 8, NULL, HR_ELIMIT, 16, "too many sort fields (limit 8)"},
	{"two_of_one", "a, -b", 1, NULL, HR_ELIMIT, 3, NULL},
	SBAD("number", "1", 0, "invalid sort field"),
	SBAD("text", "'a'", 0, "invalid sort field"),
	SBAD("desc_number", "-1", 1, "invalid sort field"),
	SBAD("sign_alone", "-", 1, "invalid sort field"),
	SBAD("sign_alone_later", "a, -", 4, "invalid sort field"),
	SBAD("double_minus", "--a", 1, "invalid sort field"),
	SBAD("sign_space", "- a", 1, "invalid sort field"),
	SBAD("plus_minus", "+-a", 1, "invalid sort field"),
	SBAD("two_words", "a b", 2, "invalid sort field"),
	SBAD("two_words_later", "a,b c", 4, "invalid sort field"),
	SBAD("expression", "a = 1", 2, "invalid sort field"),
	SBAD("group", "a,(b)", 2, "invalid sort field"),
	SBAD("pipe", "a|b", 1, "invalid sort field"),
	SBAD("bad_ident", "a.", 0, "invalid identifier 'a.'"),
	SBAD("lone_at", "@", 0, "invalid identifier '@'"),
	SBAD("unclosed_call", "f(", 1, "missing ')'"),
	SBAD("comment", "a // x", 2, "invalid sort field"),
	SBAD("non_ascii", "\xc3\xa9", 0, "invalid sort field"),
	SBAD("deep_call", "a(b(c(d())))", 6, "function nesting too deep"),
};

static void pr_sort(sb *b, const hr_sort_item *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (i)
			sb_puts(b, ",");
		sb_puts(b, v[i].desc ? "-" : "+");
		pr_operand(b, &v[i].expr);
	}
}

static int sort_guarded(const char *in, size_t len, unsigned max, long fail_after, sb *b,
			hr_filter_error *err)
{
	char mem[128];
	hr_arena a = arena_new(mem, sizeof mem);
	a.fail_after = fail_after;
	char *g = hr_test_guard_copy(in, len);
	hr_sort_item *v = (hr_sort_item *)(uintptr_t)1;
	unsigned n = 12345;
	hr_filter_error e = {777, "untouched"};
	int rc = hr_sort_parse(&a, g, len, max, &v, &n, &e);
	b->len = 0;
	b->buf[0] = '\0';
	if (rc == 0) {
		HR_CHECK(e.pos == 777);
		HR_CHECK((n == 0) == (v == NULL));
		for (unsigned i = 0; i < n; i++)
			HR_CHECK(v[i].expr.kind == HR_F_IDENT || v[i].expr.kind == HR_F_FUNC);
		pr_sort(b, v, n);
	} else {
		HR_CHECK(v == (hr_sort_item *)(uintptr_t)1 && n == 12345);
		HR_CHECK(e.message && e.pos <= len);
		*err = e;
		snprintf(b->buf, sizeof b->buf, "%s", e.message);
	}
	hr_test_guard_free(g, len);
	hr_arena_dispose(&a);
	return rc;
}

static void test_sort_table(void)
{
	static sb b;
	for (size_t i = 0; i < HR_ARRAY_LEN(scases); i++) {
		const scase *c = &scases[i];
		hr_filter_error e = {0, NULL};
		int rc = sort_guarded(c->in, strlen(c->in), c->max, -1, &b, &e);
		if (c->out) {
			HR_CHECKF(rc == 0 && strcmp(b.buf, c->out) == 0, "%s: rc %d: got '%s', want '%s'",
				  c->label, rc, b.buf, c->out);
		} else {
			HR_CHECKF(rc == c->rc && e.pos == c->pos, "%s: want rc %d at %zu, got rc %d at %zu (%s)",
				  c->label, c->rc, c->pos, rc, e.pos, b.buf);
			if (rc && c->msg)
				HR_CHECKF(strcmp(b.buf, c->msg) == 0, "%s: message '%s', want '%s'", c->label,
					  b.buf, c->msg);
		}
		/* Allocation failure at each step: ENOMEM, then the same outcome. */
		for (long k = 0;; k++) {
			HR_REQUIRE(k < 100);
			static sb b2;
			hr_filter_error e2;
			int rc2 = sort_guarded(c->in, strlen(c->in), c->max, k, &b2, &e2);
			if (rc2 == HR_ENOMEM)
				continue;
			HR_CHECKF(rc2 == rc && (rc || strcmp(b2.buf, b.buf) == 0), "%s: fail_after %ld",
				  c->label, k);
			break;
		}
	}
}

static void test_sort_name_length(void)
{
	static sb b;
	char in[300];
	hr_filter_error e;
	memset(in, 'a', 257);
	HR_CHECK(sort_guarded(in, 255, 8, -1, &b, &e) == 0);
	memset(in, 'a', 256);
	HR_CHECK(sort_guarded(in, 256, 8, -1, &b, &e) == HR_ELIMIT && e.pos == 0);
	HR_CHECK(strcmp(b.buf, "sort field too long (limit 255)") == 0);
	in[0] = '-';
	HR_CHECK(sort_guarded(in, 256, 8, -1, &b, &e) == 0);
	HR_CHECK(sort_guarded(in, 257, 8, -1, &b, &e) == HR_ELIMIT && e.pos == 1);
}

static const hr_test_case cases[] = {
	{"filter_table", test_filter_table},
	{"filter_oom", test_filter_oom},
	{"depth_limit", test_depth_limit},
	{"comparison_limit", test_comparison_limit},
	{"number_values", test_number_values},
	{"borrows_input", test_borrows_input},
	{"large_inputs", test_large_inputs},
	{"op_names", test_op_names},
	{"sort_table", test_sort_table},
	{"sort_name_length", test_sort_name_length},
};

HR_TEST_MAIN(cases)
