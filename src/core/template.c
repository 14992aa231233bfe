/*
 * template — the project's Mustache engine.
 *
 * The idea: every template is parsed once, when the server starts, into a
 * small tree of nodes (text, variable, section, inverted section, partial).
 * Everything the spec decides by looking at the source text — which tags are
 * "standalone" and take their whole line with them, where the delimiters
 * change, which whitespace indents a partial — is decided here, once, so that
 * rendering is a plain walk over the tree that only reads it. That is what
 * makes a set safe to render from any number of threads at the same time
 * without a lock: nothing in the set is written after the last tmpl_set_add.
 *
 * Partial indentation is the one rule that seems to need the source at render
 * time: a standalone partial tag indented by "  " must indent every line *of
 * the partial's template* (not the lines of the values it interpolates). The
 * usual trick is to prefix the partial's source and parse it again, which
 * would mean parsing while rendering. Instead the parser marks each node that
 * begins a source line (`bol`), and text nodes re-indent after their inner
 * newlines; the renderer carries the indentation of the enclosing standalone
 * partials and writes it at those marks. The output is the same as prefixing
 * the source, and the tree is shared by every indentation a partial is used
 * with.
 *
 * Context lookups follow the spec: the first part of a dotted name is searched
 * from the innermost context outwards, the remaining parts only inside what
 * was found. The context stack is a linked list of frames on the C stack, so a
 * render allocates nothing but the output (and, rarely, an indentation
 * string).
 */
#include "template.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Delimiters longer than this are a typo, not a style. */
#define DELIM_MAX 16
/* Partials may recurse (trees of comments); a template that recurses without
 * end must not take the server's stack with it. */
#define PARTIAL_DEPTH_MAX 100
/*
 * And a template whose partials or sections multiply (two self-references a
 * level, or sections nested over the same list) must not take the CPU and
 * memory either: a rendering stops, failed, past this many steps (a node
 * visited, a list item, a context searched for a name) or this much output.
 * Our largest page, a segment with its companies (139 KB), takes 7,846 steps
 * (counted over the integration tests' pages); a million is a page of some
 * 18 MB, and about 0.15 s of CPU when a template runs away.
 */
#define RENDER_STEPS_MAX 1000000
#define RENDER_OUTPUT_MAX (64u << 20)
/* tmpl_set_load_dir follows symlinks; this stops a link to a parent folder. */
#define DIR_DEPTH_MAX 16

enum node_kind {
	NODE_TEXT,     /* literal text */
	NODE_VAR,      /* {{x}}: HTML-escaped */
	NODE_RAW,      /* {{{x}}} and {{&x}} */
	NODE_SECTION,  /* {{#x}}...{{/x}} */
	NODE_INVERTED, /* {{^x}}...{{/x}} */
	NODE_PARTIAL,  /* {{>x}} */
};

struct node;

struct nodelist {
	struct node *v;
	size_t n, cap;
};

struct node {
	enum node_kind kind;
	bool bol;	      /* a line of the source begins here: partial indentation goes first */
	bool standalone;      /* PARTIAL: alone on its line, so its lines are indented */
	char *str;	      /* TEXT: the text; PARTIAL: template name; others: name as written */
	size_t len;	      /* of str */
	char **keys;	      /* the name split at dots; keys[0] owns the storage of all of them */
	size_t nkeys;	      /* 0 for the implicit iterator "." */
	char *indent;	      /* standalone PARTIAL: the whitespace before the tag */
	struct nodelist body; /* SECTION, INVERTED */
};

struct tmpl {
	char *name;
	struct nodelist root;
};

struct tmpl_set {
	struct tmpl **v; /* sorted by name for bsearch: partials are looked up at render */
	size_t n, cap;
};

/* A section (or the template itself, at depth 0) whose close tag is pending. */
struct open_section {
	struct node node;
	size_t pos; /* where its tag starts, for "unclosed section" */
};

struct parser {
	const char *name;
	const char *src;
	size_t len;
	size_t pos; /* next byte not yet consumed */
	char otag[DELIM_MAX + 1], ctag[DELIM_MAX + 1];
	size_t olen, clen;
	bool bol; /* the next node begins a source line */
	struct open_section *open;
	size_t nopen, capopen;
	char *err;
	size_t errlen;
};

/* What scan_tag found between the delimiters. */
struct tag {
	char sigil;	  /* '#', '^', '/', '>', '!', '=', '{', '&', or 0 for a variable */
	size_t start;	  /* of the opening delimiter */
	size_t end;	  /* just past the closing delimiter */
	const char *name; /* trimmed content (for '=': the new delimiter pair) */
	size_t nlen;
};

/* A context frame: rendering a section pushes one on the C stack. */
struct ctx {
	json_t *v;
	const struct ctx *up;
};

struct render {
	const tmpl_set *set;
	buf *out;
	buf indent;	    /* indentation of the enclosing standalone partials, outermost first */
	size_t indent_from; /* an inline partial starts over: only indent[from..len] applies */
	int depth;	    /* of partials */
	long steps;	    /* against RENDER_STEPS_MAX (render_spend) */
	int failed;	    /* a limit was reached: the output is incomplete */
};

static struct node *list_push(struct nodelist *l);
static void list_free(struct nodelist *l);
static void node_free(struct node *n);
static void node_set_name(struct node *n, const char *name, size_t len);
static void tmpl_free(struct tmpl *t);
static struct tmpl *set_find(const tmpl_set *s, const char *name);
static int set_cmp(const void *key, const void *elem);

static int parse(struct parser *p, struct nodelist *out);
static int parse_fail(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int scan_tag(struct parser *p, size_t start, struct tag *t);
static bool is_standalone(const struct parser *p, const struct tag *t, size_t *line, size_t *next);
static int set_delimiters(struct parser *p, const struct tag *t);
static struct nodelist *parser_list(struct parser *p);
static void parser_text(struct parser *p, size_t from, size_t to);
static void parser_mark_bol(struct parser *p);
static struct node *parser_node(struct parser *p, enum node_kind kind, bool standalone);
static bool is_blank(char c);

static void render_list(struct render *r, const struct nodelist *l, const struct ctx *c);
static void render_text(struct render *r, const char *s, size_t len);
static void render_value(struct render *r, const json_t *v, bool escape);
static void render_partial(struct render *r, const struct node *n, const struct ctx *c);
static void render_indent(struct render *r);
static bool render_spend(struct render *r, long steps);
static json_t *lookup(struct render *r, const struct ctx *c, const struct node *n);
static bool is_falsy(const json_t *v);

static int load_dir(tmpl_set *s, const char *dir, const char *rel, int depth, char *err,
		    size_t errlen);
static char *read_file(const char *path);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---------------------------------------------------------------- the set */

tmpl_set *
tmpl_set_new(void)
{
	return xcalloc(1, sizeof(tmpl_set));
}

void
tmpl_set_free(tmpl_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		tmpl_free(s->v[i]);
	free(s->v);
	free(s);
}

int
tmpl_set_add(tmpl_set *s, const char *name, const char *source, char *err, size_t errlen)
{
	struct parser p;
	struct nodelist root;
	struct tmpl *t;
	size_t lo, hi, mid;
	int c;

	if (!s || !name || !source) {
		set_err(err, errlen, "%s: no template", name ? name : "(null)");
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.src = source;
	p.len = strlen(source);
	p.err = err;
	p.errlen = errlen;
	if (parse(&p, &root) < 0)
		return -1;

	/* Binary search for the slot keeps the array sorted for set_find. */
	lo = 0;
	hi = s->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(s->v[mid]->name, name);
		if (c == 0) {
			list_free(&s->v[mid]->root);
			s->v[mid]->root = root;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	memmove(s->v + lo + 1, s->v + lo, (s->n - lo) * sizeof(*s->v));
	t = xmalloc(sizeof(*t));
	t->name = xstrdup(name);
	t->root = root;
	s->v[lo] = t;
	s->n++;
	return 0;
}

int
tmpl_set_load_dir(tmpl_set *s, const char *dir, char *err, size_t errlen)
{
	return load_dir(s, dir, "", 0, err, errlen);
}

int
tmpl_exists(const tmpl_set *s, const char *name)
{
	return set_find(s, name) != NULL;
}

int
tmpl_render(const tmpl_set *s, const char *name, json_t *ctx, buf *out)
{
	struct render r = {s, out, BUF_INIT, 0, 0, 0, 0};
	struct ctx top = {ctx, NULL};
	const struct tmpl *t = set_find(s, name);

	if (!t)
		return -1;
	render_list(&r, &t->root, &top);
	buf_free(&r.indent);
	return r.failed ? -1 : 0;
}

static int
set_cmp(const void *key, const void *elem)
{
	const struct tmpl *const *t = elem;

	return strcmp(key, (*t)->name);
}

static struct tmpl *
set_find(const tmpl_set *s, const char *name)
{
	struct tmpl **t;

	if (!s->n)
		return NULL;
	t = bsearch(name, s->v, s->n, sizeof(*s->v), set_cmp);
	return t ? *t : NULL;
}

static void
tmpl_free(struct tmpl *t)
{
	list_free(&t->root);
	free(t->name);
	free(t);
}

/* ---------------------------------------------------------------- nodes */

static struct node *
list_push(struct nodelist *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

static void
list_free(struct nodelist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		node_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static void
node_free(struct node *n)
{
	free(n->str);
	if (n->keys)
		free(n->keys[0]);
	free(n->keys);
	free(n->indent);
	list_free(&n->body);
}

/*
 * Splits "a.b.c" once at parse time so a lookup is a few json_object_get
 * calls. All the parts live in one copy of the name, owned by keys[0].
 */
static void
node_set_name(struct node *n, const char *name, size_t len)
{
	char *copy, *dot;
	size_t i;

	n->str = xstrndup(name, len);
	n->len = len;
	if (len == 1 && name[0] == '.')
		return;
	n->nkeys = 1;
	for (i = 0; i < len; i++)
		if (name[i] == '.')
			n->nkeys++;
	n->keys = xmalloc(n->nkeys * sizeof(*n->keys));
	copy = xstrndup(name, len);
	for (i = 0; i < n->nkeys; i++) {
		n->keys[i] = copy;
		dot = strchr(copy, '.');
		if (dot) {
			*dot = '\0';
			copy = dot + 1;
		}
	}
}

/* ---------------------------------------------------------------- parser */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
parse_fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	char reason[256];
	size_t line = 1, i;
	va_list ap;

	for (i = 0; i < pos && i < p->len; i++)
		if (p->src[i] == '\n')
			line++;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	set_err(p->err, p->errlen, "%s:%zu: %s", p->name, line, reason);
	return -1;
}

static int
parse(struct parser *p, struct nodelist *out)
{
	struct open_section *sec;
	struct node *n;
	struct tag t;
	const char *hit;
	size_t line, next, i;
	bool alone;

	memcpy(p->otag, "{{", 3);
	memcpy(p->ctag, "}}", 3);
	p->olen = p->clen = 2;
	p->bol = true;
	p->capopen = 8;
	p->open = xcalloc(p->capopen, sizeof(*p->open));
	p->nopen = 1; /* open[0] is the template itself; only its body is used */

	while (p->pos < p->len) {
		hit = memmem(p->src + p->pos, p->len - p->pos, p->otag, p->olen);
		if (!hit) {
			parser_text(p, p->pos, p->len);
			p->pos = p->len;
			break;
		}
		if (scan_tag(p, (size_t)(hit - p->src), &t) < 0)
			goto fail;

		alone = is_standalone(p, &t, &line, &next);
		if (alone) {
			/* The line's indentation and newline vanish with the tag. */
			parser_text(p, p->pos, line);
			p->pos = next;
		} else {
			parser_text(p, p->pos, t.start);
			p->pos = t.end;
		}

		switch (t.sigil) {
		case '!':
			if (!alone)
				parser_mark_bol(p);
			break;
		case '=':
			if (set_delimiters(p, &t) < 0)
				goto fail;
			if (!alone)
				parser_mark_bol(p);
			break;
		case '#':
		case '^':
			if (p->nopen == p->capopen) {
				p->capopen *= 2;
				p->open = xrealloc(p->open, p->capopen * sizeof(*p->open));
			}
			sec = &p->open[p->nopen++];
			memset(sec, 0, sizeof(*sec));
			sec->pos = t.start;
			sec->node.kind = t.sigil == '#' ? NODE_SECTION : NODE_INVERTED;
			node_set_name(&sec->node, t.name, t.nlen);
			if (!alone) {
				sec->node.bol = p->bol;
				p->bol = false;
			}
			break;
		case '/':
			if (p->nopen == 1) {
				parse_fail(p, t.start, "close tag \"%.*s\" without open section",
					   (int)t.nlen, t.name);
				goto fail;
			}
			sec = &p->open[p->nopen - 1];
			if (sec->node.len != t.nlen || memcmp(sec->node.str, t.name, t.nlen) != 0) {
				parse_fail(p, t.start,
					   "mismatched close tag \"%.*s\" for section \"%s\"",
					   (int)t.nlen, t.name, sec->node.str);
				goto fail;
			}
			if (!alone)
				parser_mark_bol(p); /* the indentation belongs inside the body */
			p->nopen--;
			n = list_push(parser_list(p));
			*n = sec->node;
			break;
		case '>':
			n = parser_node(p, NODE_PARTIAL, alone);
			n->str = xstrndup(t.name, t.nlen);
			n->len = t.nlen;
			n->standalone = alone;
			if (alone)
				n->indent = xstrndup(p->src + line, t.start - line);
			break;
		case '{':
		case '&':
			n = parser_node(p, NODE_RAW, false);
			node_set_name(n, t.name, t.nlen);
			break;
		default:
			n = parser_node(p, NODE_VAR, false);
			node_set_name(n, t.name, t.nlen);
			break;
		}
		if (alone)
			p->bol = true;
	}

	if (p->nopen > 1) {
		sec = &p->open[p->nopen - 1];
		parse_fail(p, sec->pos, "unclosed section \"%s\"", sec->node.str);
		goto fail;
	}
	*out = p->open[0].node.body;
	free(p->open);
	return 0;

fail:
	for (i = 0; i < p->nopen; i++)
		node_free(&p->open[i].node);
	free(p->open);
	return -1;
}

/*
 * Finds the end of the tag whose opening delimiter starts at `start` and the
 * trimmed name inside it. Triple mustaches close with "}" + the closing
 * delimiter and delimiter changes with "=" + it, so "{{{a}}}" and
 * "{{=| |=}}" need no special case later.
 */
static int
scan_tag(struct parser *p, size_t start, struct tag *t)
{
	char close[DELIM_MAX + 2];
	size_t i = start + p->olen, clen;
	const char *hit, *a, *b;

	memset(t, 0, sizeof(*t));
	t->start = start;
	if (i < p->len && strchr("#^/>!={&", p->src[i])) {
		t->sigil = p->src[i];
		i++;
	}
	clen = 0;
	if (t->sigil == '{' || t->sigil == '=')
		close[clen++] = t->sigil == '{' ? '}' : '=';
	memcpy(close + clen, p->ctag, p->clen);
	clen += p->clen;

	hit = memmem(p->src + i, p->len - i, close, clen);
	if (!hit)
		return parse_fail(p, start, "unclosed tag");
	t->end = (size_t)(hit - p->src) + clen;
	if (t->sigil == '!')
		return 0;

	a = p->src + i;
	b = hit;
	while (a < b && (is_blank(*a) || *a == '\n' || *a == '\r'))
		a++;
	while (b > a && (is_blank(b[-1]) || b[-1] == '\n' || b[-1] == '\r'))
		b--;
	t->name = a;
	t->nlen = (size_t)(b - a);
	if (!t->nlen)
		return parse_fail(p, start, "empty tag");
	return 0;
}

/*
 * A section, inverted, close, partial, comment or delimiter tag that is the
 * only thing on its line (but for spaces and tabs) is "standalone": the whole
 * line, newline included, is removed from the output. On success *line is
 * where the line starts and *next is where the following line starts.
 */
static bool
is_standalone(const struct parser *p, const struct tag *t, size_t *line, size_t *next)
{
	size_t i = t->start, j = t->end;

	if (!t->sigil || t->sigil == '{' || t->sigil == '&')
		return false;
	while (i > p->pos && is_blank(p->src[i - 1]))
		i--;
	/*
	 * When i reaches p->pos, src[i-1] is the last byte consumed: a closing
	 * delimiter (another tag on this line) or the newline a standalone tag
	 * before took along (a fresh line). Delimiters never hold a newline.
	 */
	if (i > 0 && p->src[i - 1] != '\n')
		return false;
	while (j < p->len && is_blank(p->src[j]))
		j++;
	if (j < p->len && p->src[j] == '\n')
		j++;
	else if (j + 1 < p->len && p->src[j] == '\r' && p->src[j + 1] == '\n')
		j += 2;
	else if (j < p->len)
		return false;
	*line = i;
	*next = j;
	return true;
}

static int
set_delimiters(struct parser *p, const struct tag *t)
{
	const char *s = t->name, *end = t->name + t->nlen;
	const char *o, *c;
	size_t ol, cl;

	o = s;
	while (s < end && !isspace((unsigned char)*s))
		s++;
	ol = (size_t)(s - o);
	while (s < end && isspace((unsigned char)*s))
		s++;
	c = s;
	while (s < end && !isspace((unsigned char)*s))
		s++;
	cl = (size_t)(s - c);
	if (!ol || !cl || s != end || ol > DELIM_MAX || cl > DELIM_MAX || memchr(o, '=', ol) ||
	    memchr(c, '=', cl))
		return parse_fail(p, t->start, "invalid delimiters \"%.*s\"", (int)t->nlen,
				  t->name);
	memcpy(p->otag, o, ol);
	p->otag[ol] = '\0';
	p->olen = ol;
	memcpy(p->ctag, c, cl);
	p->ctag[cl] = '\0';
	p->clen = cl;
	return 0;
}

static struct nodelist *
parser_list(struct parser *p)
{
	return &p->open[p->nopen - 1].node.body;
}

/* Appends source[from, to) as a text node; a trailing newline makes the next node begin a line. */
static void
parser_text(struct parser *p, size_t from, size_t to)
{
	struct node *n;

	if (from >= to)
		return;
	n = parser_node(p, NODE_TEXT, false);
	n->str = xstrndup(p->src + from, to - from);
	n->len = to - from;
	p->bol = p->src[to - 1] == '\n';
}

/*
 * A tag that renders nothing by itself (comment, delimiter change, close)
 * may still start an indented line of a partial; an empty text node keeps
 * the place where the indentation is written, inside the right section.
 */
static void
parser_mark_bol(struct parser *p)
{
	if (p->bol)
		parser_node(p, NODE_TEXT, false)->str = xstrdup("");
}

static struct node *
parser_node(struct parser *p, enum node_kind kind, bool standalone)
{
	struct node *n = list_push(parser_list(p));

	n->kind = kind;
	/* A standalone tag's line is gone; the partial it names indents by itself. */
	n->bol = standalone ? false : p->bol;
	p->bol = false;
	return n;
}

/* ---------------------------------------------------------------- render */

static void
render_list(struct render *r, const struct nodelist *l, const struct ctx *c)
{
	const struct node *n;
	struct ctx inner;
	json_t *v;
	size_t i, k;

	for (i = 0; i < l->n && !r->failed; i++) {
		if (render_spend(r, 1))
			return;
		n = &l->v[i];
		if (n->bol)
			render_indent(r);
		switch (n->kind) {
		case NODE_TEXT:
			render_text(r, n->str, n->len);
			break;
		case NODE_VAR:
		case NODE_RAW:
			render_value(r, lookup(r, c, n), n->kind == NODE_VAR);
			break;
		case NODE_SECTION:
			v = lookup(r, c, n);
			if (is_falsy(v))
				break;
			inner.up = c;
			if (json_is_array(v)) {
				/* An item is a step even when the body is empty. */
				for (k = 0; k < json_array_size(v); k++) {
					if (render_spend(r, 1))
						return;
					inner.v = json_array_get(v, k);
					render_list(r, &n->body, &inner);
				}
			} else {
				inner.v = v;
				render_list(r, &n->body, &inner);
			}
			break;
		case NODE_INVERTED:
			if (is_falsy(lookup(r, c, n)))
				render_list(r, &n->body, c);
			break;
		case NODE_PARTIAL:
			render_partial(r, n, c);
			break;
		}
	}
}

/*
 * Counts steps against the rendering's budget and checks its output: true
 * (and the rendering failed) once either limit is past. Every loop whose
 * length the template or the data decides goes through here.
 */
static bool
render_spend(struct render *r, long steps)
{
	r->steps += steps;
	if (r->steps > RENDER_STEPS_MAX || r->out->len > RENDER_OUTPUT_MAX)
		r->failed = 1;
	return r->failed;
}

static void
render_indent(struct render *r)
{
	if (r->indent.len > r->indent_from)
		buf_append(r->out, r->indent.data + r->indent_from, r->indent.len - r->indent_from);
}

/* Text of a template: every line it starts (not the last newline's empty rest) is indented. */
static void
render_text(struct render *r, const char *s, size_t len)
{
	size_t i, start = 0;

	if (r->indent.len == r->indent_from) {
		buf_append(r->out, s, len);
		return;
	}
	/*
	 * Nested standalone partials can make the indent megabytes long, and a
	 * text of many lines repeats it per line: the output limit is checked
	 * per line here, not only per node.
	 */
	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '\n')
			continue;
		if (render_spend(r, 0))
			return;
		buf_append(r->out, s + start, i + 1 - start);
		render_indent(r);
		start = i + 1;
	}
	buf_append(r->out, s + start, len - start);
}

static void
render_value(struct render *r, const json_t *v, bool escape)
{
	char num[32];
	double d;
	int prec;

	if (!v)
		return;
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (escape)
			buf_append_html(r->out, json_string_value(v), json_string_length(v));
		else
			buf_append(r->out, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		buf_printf(r->out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		/*
		 * The shortest form that reads back as the same double: 1.21
		 * prints "1.21", not "1.2099999999999999", and 3.0 prints "3".
		 */
		d = json_real_value(v);
		for (prec = 15; prec <= 17; prec++) {
			snprintf(num, sizeof(num), "%.*g", prec, d);
			if (strtod(num, NULL) == d)
				break;
		}
		buf_puts(r->out, num);
		break;
	case JSON_TRUE:
		buf_puts(r->out, "true");
		break;
	case JSON_FALSE:
		buf_puts(r->out, "false");
		break;
	default:
		/* Missing, null, objects and arrays have no text of their own. */
		break;
	}
}

static void
render_partial(struct render *r, const struct node *n, const struct ctx *c)
{
	const struct tmpl *t = set_find(r->set, n->str);
	size_t saved_len = r->indent.len, saved_from = r->indent_from;

	if (!t || r->depth >= PARTIAL_DEPTH_MAX)
		return;
	if (n->standalone)
		buf_puts(&r->indent, n->indent);
	else
		r->indent_from = r->indent.len; /* inline partials are not indented at all */
	r->depth++;
	render_list(r, &t->root, c);
	r->depth--;
	r->indent.len = saved_len;
	r->indent_from = saved_from;
}

/*
 * The first part of a dotted name is searched from the innermost context out;
 * the rest only inside what it found, so "a.b" never falls back to an outer
 * "b" when the inner "a" has none.
 */
static json_t *
lookup(struct render *r, const struct ctx *c, const struct node *n)
{
	json_t *v = NULL;
	size_t i;

	if (!n->nkeys)
		return c->v;
	/*
	 * Each context searched counts as a step: a partial recursing inside
	 * a section stacks a context a level, and a name found only at the
	 * root (or nowhere) would otherwise cost the whole stack on every
	 * visit, a hundred times the work the step limit allows for.
	 */
	for (; c; c = c->up) {
		if (render_spend(r, 1))
			return NULL;
		if (json_is_object(c->v) && (v = json_object_get(c->v, n->keys[0])))
			break;
	}
	for (i = 1; v && i < n->nkeys; i++)
		v = json_is_object(v) ? json_object_get(v, n->keys[i]) : NULL;
	return v;
}

static bool
is_falsy(const json_t *v)
{
	return !v || json_is_null(v) || json_is_false(v) ||
	       (json_is_array(v) && json_array_size(v) == 0) ||
	       (json_is_string(v) && json_string_length(v) == 0);
}

/* ---------------------------------------------------------------- files */

static int
load_dir(tmpl_set *s, const char *dir, const char *rel, int depth, char *err, size_t errlen)
{
	static const char ext[] = ".mustache";
	const size_t extlen = sizeof(ext) - 1;
	struct dirent **ents = NULL;
	struct stat st;
	buf path = BUF_INIT, name = BUF_INIT;
	char *source;
	size_t nlen;
	int n, i, rc = 0;

	if (depth > DIR_DEPTH_MAX) {
		set_err(err, errlen, "%s/%s: folders nested too deeply", dir, rel);
		return -1;
	}
	buf_printf(&path, "%s/%s", dir, rel);
	/* Sorted, so that of several broken files the same one is reported every time. */
	n = scandir(path.data, &ents, NULL, alphasort);
	if (n < 0) {
		set_err(err, errlen, "%s: %s", path.data, strerror(errno));
		buf_free(&path);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;

		/* ".", "..", and the hidden files of editors and version control. */
		if (rc < 0 || e[0] == '.')
			continue;
		buf_reset(&path);
		buf_printf(&path, "%s/%s%s", dir, rel, e);
		if (stat(path.data, &st) < 0) {
			set_err(err, errlen, "%s: %s", path.data, strerror(errno));
			rc = -1;
			continue;
		}
		buf_reset(&name);
		if (S_ISDIR(st.st_mode)) {
			buf_printf(&name, "%s%s/", rel, e);
			rc = load_dir(s, dir, name.data, depth + 1, err, errlen);
			continue;
		}
		nlen = strlen(e);
		if (!S_ISREG(st.st_mode) || nlen <= extlen || strcmp(e + nlen - extlen, ext) != 0)
			continue;
		source = read_file(path.data);
		if (!source) {
			set_err(err, errlen, "%s: %s", path.data, strerror(errno));
			rc = -1;
			continue;
		}
		buf_printf(&name, "%s%.*s", rel, (int)(nlen - extlen), e);
		rc = tmpl_set_add(s, name.data, source, err, errlen);
		free(source);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	buf_free(&path);
	buf_free(&name);
	return rc;
}

static char *
read_file(const char *path)
{
	buf b = BUF_INIT;
	char chunk[8192];
	size_t n;
	int saved;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	if (ferror(f)) {
		saved = errno;
		fclose(f);
		buf_free(&b);
		errno = saved;
		return NULL;
	}
	fclose(f);
	return buf_steal(&b);
}

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
