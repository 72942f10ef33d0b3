/*
 * rules/filter.h - the filter / rule expression language (DIALECT.md §6):
 * lexing and parsing into an AST. Compiling the AST to SQL is sql.h's job;
 * this module knows nothing of collections or fields.
 *
 * The grammar (§6.2) is a flat list of comparisons joined by && / ||, with
 * parenthesised groups; there is no precedence tree, the list is kept as
 * written and the SQL compiler emits it as "(a AND b OR c)" so that the
 * database applies AND-before-OR precedence (§6.3).
 *
 * Lexing follows §6.1 exactly: identifiers start with a letter, '_', '@'
 * or '#' and continue with letters, digits, '_', '.', ':' (never ending in
 * '.' or ':'; never a lone '@', '_', '#'); numbers are an optional '-',
 * digits, at most one '.', not starting or ending with '.', no exponent;
 * texts are single- or double-quoted with JSON-style escapes decoded
 * (\" \' \\ \/ \b \f \n \r \t \uXXXX with surrogate pairs; an unknown
 * escape keeps the escaped character); whitespace is space, tab and LF
 * (CR is an error); "//" comments run to the end of the line; a sign
 * operator is the longest run of = ? ! > < ~ and must be one of the 16
 * operators; a join operator is the longest run of & and | and must be &&
 * or ||; an identifier immediately followed by '(' is a function call,
 * whose arguments are identifiers, numbers, texts or function calls
 * (nested at most two levels), separated by commas, with one trailing
 * comma allowed.
 *
 * Every failure reports the byte offset and a short reason, so the API can
 * answer 400 with a message that points at the problem. Parsing is bounded:
 * max_comparisons, max_depth for groups, and the input length (the caller
 * enforces the 3500-byte client limit). The parser recurses only on
 * groups and function arguments, both depth-limited. No I/O; all memory
 * from the arena.
 *
 * A group's extent is found as upstream finds it: from '(' to the matching
 * ')', counting parentheses and skipping quoted texts only; the inside is
 * then parsed as an expression of its own (so a "//" comment inside a
 * group ends at the group's ')' at the latest). A group is only accepted
 * where an item may start. The text's closing quote is the first same
 * quote not escaped by a backslash, a backslash escaping any byte (so the
 * JSON encoding of a\ , "a\", is a complete text). Invalid UTF-8 inside a
 * text decodes to U+FFFD; a NUL byte is refused everywhere. filter.c's
 * header lists the remaining choices.
 *
 * The AST borrows the input: identifiers, numbers, function names and
 * texts without escapes are slices of s, so s must outlive the AST. The
 * rest (decoded texts, item and argument arrays) lives in the arena.
 * Any thread; nothing is shared between calls.
 */
#ifndef HR_RULES_FILTER_H
#define HR_RULES_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/str.h"

enum hr_f_operand_kind {
	HR_F_IDENT = 1,	 /* field path, @macro, @request..., null/true/false */
	HR_F_NUMBER,
	HR_F_TEXT,
	HR_F_FUNC,
};

enum hr_f_op {
	HR_F_EQ = 1, /* =   */
	HR_F_NEQ,    /* !=  */
	HR_F_GT,     /* >   */
	HR_F_GTE,    /* >=  */
	HR_F_LT,     /* <   */
	HR_F_LTE,    /* <=  */
	HR_F_LIKE,   /* ~   */
	HR_F_NLIKE,  /* !~  */
	HR_F_ANY_EQ, /* ?=  and so on: the any-of variants, in the same order */
	HR_F_ANY_NEQ,
	HR_F_ANY_GT,
	HR_F_ANY_GTE,
	HR_F_ANY_LT,
	HR_F_ANY_LTE,
	HR_F_ANY_LIKE,
	HR_F_ANY_NLIKE,
};

/* The plain operator of an any-of one (ANY_GT -> GT); identity otherwise. */
static inline int hr_f_op_base(int op)
{
	return op >= HR_F_ANY_EQ ? op - (HR_F_ANY_EQ - HR_F_EQ) : op;
}
static inline bool hr_f_op_is_any(int op)
{
	return op >= HR_F_ANY_EQ;
}

enum hr_f_join { HR_F_AND = 1, HR_F_OR = 2 };

typedef struct hr_f_operand {
	int kind;		  /* enum hr_f_operand_kind */
	hr_str text;		  /* IDENT: the identifier; NUMBER: its source text;
				     TEXT: the decoded content; FUNC: the name */
	double num;		  /* NUMBER: its value */
	struct hr_f_operand *args; /* FUNC: arguments (NULL when nargs is 0) */
	unsigned nargs;
	size_t pos;		  /* byte offset in the source (TEXT: its opening quote) */
} hr_f_operand;

typedef struct hr_f_item hr_f_item;

typedef struct hr_f_list {
	hr_f_item *items;
	unsigned n;
} hr_f_list;

struct hr_f_item {
	int join;	   /* joins this item to the previous one; 0 for the first */
	bool is_group;
	hr_f_list group;   /* is_group: the parenthesised list (never empty) */
	hr_f_operand left; /* !is_group: left OP right */
	hr_f_operand right;
	int op;		   /* enum hr_f_op */
	size_t pos;	   /* byte offset of the item (a group: its '(') */
};

/* Hard ceiling on group nesting, whatever max_depth says: it bounds the
 * parser's recursion (one small stack frame per level). */
#define HR_FILTER_MAX_DEPTH 128

/* Longest sort name (the operand after the optional sign), DIALECT §6.11. */
#define HR_SORT_MAX_NAME 255

typedef struct hr_filter_limits {
	unsigned max_comparisons; /* 200 per the dialect; 0 = unlimited */
	unsigned max_depth;	  /* group nesting; e.g. 32; "(a = 1)" is depth 1.
				     0 or more than HR_FILTER_MAX_DEPTH means
				     HR_FILTER_MAX_DEPTH */
} hr_filter_limits;

typedef struct hr_filter_error {
	size_t pos;	     /* byte offset into s (n when the input ended early) */
	const char *message; /* e.g. "expected a comparison operator"; static text or
				text in the arena (messages that quote the input or
				name a limit), valid until the arena is reset */
} hr_filter_error;

/*
 * Parses a filter/rule expression s[0..n) (s need not be NUL-terminated and
 * is never read past n). Returns 0 with *out, or HR_EPARSE (syntax) /
 * HR_ELIMIT (max_comparisons or max_depth exceeded) / HR_ENOMEM (arena)
 * with *err; on failure *out is untouched, on success *err is. An input of
 * only whitespace and comments is an error ("empty expression"); callers
 * treat an absent or empty parameter as "no filter" before calling.
 * The result lives in the arena and borrows s (see above).
 */
int hr_filter_parse(hr_arena *a, const char *s, size_t n, const hr_filter_limits *lim,
		    hr_f_list *out, hr_filter_error *err);

typedef struct hr_sort_item {
	hr_f_operand expr; /* IDENT or FUNC; literals are refused */
	bool desc;
} hr_sort_item;

/*
 * Parses a sort parameter: comma-separated [-|+]operand (DIALECT.md §8.1).
 * Whitespace around entries is trimmed (Go's TrimSpace set, ASCII: SP,
 * HTAB, LF, VT, FF, CR); the sign must touch the operand; the operand must
 * be an identifier or a function call (commas inside its argument list do
 * not split entries); a number or text is "invalid sort field". Empty
 * entries are skipped. At most max_items (8; 0 = unlimited) entries, each
 * name at most HR_SORT_MAX_NAME bytes. Returns 0 with *out and *nout (*out is
 * NULL when there are no entries), or HR_EPARSE / HR_ELIMIT / HR_ENOMEM
 * with *err, leaving *out and *nout untouched. Borrows s like hr_filter_parse.
 */
int hr_sort_parse(hr_arena *a, const char *s, size_t n, unsigned max_items, hr_sort_item **out,
		  unsigned *nout, hr_filter_error *err);

/* Text of an operator for messages and tests ("?>="). */
const char *hr_f_op_name(int op);

#endif
