/*
 * normalise — trimming, white space, URL and casing rules.
 *
 * The idea: every function starts from normalise_text (trim, one space between
 * words, empty → NULL) and then applies one rule on top. Every function is
 * idempotent, because values are normalised again on every edit and must not
 * drift: the casing rule is by construction, and the URL and host rules, where
 * one step can expose work for another, are repeated until nothing changes.
 *
 * "White space" is ASCII space, tab, CR, LF, VT and FF; other Unicode spaces
 * (U+2028 LINE SEPARATOR included) are data, not formatting, and are kept as
 * typed. normalise_multiline keeps line breaks (CR, LF, CRLF → LF) and treats
 * the rest as normalise_text does.
 *
 * Text is walked as UTF-8 with the strict decoder of validate.c. A byte that
 * does not start a valid character is passed through untouched and is never
 * case-mapped: normalisation must not make invalid input worse, and rejecting
 * it is the validator's job. Case mappings only ever map a character to one of
 * the same or shorter encoded length, so casing never makes a value longer.
 */
#include "normalise.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "domain/validate.h"

/* Stands in for a byte that does not start a valid UTF-8 character. */
#define NOT_A_CHAR 0xFFFFFFFFu

/* More passes than any input needs (see normalise_url); a guard, not a rule. */
#define MAX_PASSES 32

enum letter_case { CASE_NONE, CASE_UPPER, CASE_LOWER };

/* How a character takes part in title-casing a word. */
enum char_class {
	CC_WORD,       /* letters, digits, other scripts: part of a word */
	CC_SEPARATOR,  /* white space and punctuation: the next letter starts a word */
	CC_APOSTROPHE, /* inside a word, starts nothing: "O'reilly", "Mcdonald's" */
	CC_PERIOD,     /* a separator only after a single letter: "J.P.", "Amazon.com" */
	CC_MARK,       /* combining marks belong to the letter before them */
};

static int normalise_is_space(char c);
static size_t next_char(const char *s, size_t len, uint32_t *cp);
static void put_char(buf *b, uint32_t cp);
static enum letter_case case_of(uint32_t cp);
static uint32_t upper_of(uint32_t cp);
static uint32_t lower_of(uint32_t cp);
static enum char_class class_of(uint32_t cp);
static int is_mark(uint32_t cp);
static void put_lower(buf *b, const char *s, size_t len);
static enum letter_case name_case(const char *s);
static int is_acronym(const char *w, size_t len);
static int sigma_is_final(const char *s, size_t len);
static void title_case_word(buf *b, const char *w, size_t len);
static size_t scheme_length(const char *s);
static void split_authority(const char *url, size_t start, size_t end,
			    struct normalise_url_parts *p);
static char *url_pass(const char *s);
static char *host_pass(const char *url);

/* ---------------------------------------------------------------- white space */

static int
normalise_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

char *
normalise_text(const char *s)
{
	buf out = BUF_INIT;
	int pending_space = 0;

	if (!s)
		return NULL;
	for (; *s; s++) {
		if (normalise_is_space(*s)) {
			pending_space = out.len > 0;
			continue;
		}
		if (pending_space)
			buf_putc(&out, ' ');
		pending_space = 0;
		buf_putc(&out, *s);
	}
	if (out.len == 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

/*
 * Line by line: a line's own white space is handled as normalise_text handles
 * a whole value, and line ends are counted, not copied, until the next
 * character shows where they belong. So trailing spaces, trailing blank lines
 * and leading blank lines are never written at all.
 *
 * Runs of blank lines become one blank line: a CRM user separates paragraphs
 * with one, and longer runs come from pasting (web pages, e-mail, Word's
 * CRLF-doubled text), where they only push the rest of the note off the
 * panel. One blank line still shows the paragraph. Spaces at the start of a
 * line go as well as those at its end: the pages show line breaks with
 * white-space: pre-line, which would not show indentation anyway, and a value
 * should look the same stored and shown.
 */
char *
normalise_multiline(const char *s)
{
	buf out = BUF_INIT;
	int pending_space = 0;	   /* white space since the last content */
	size_t pending_breaks = 0; /* line ends since the last content */

	if (!s)
		return NULL;
	for (; *s; s++) {
		if (*s == '\r' || *s == '\n') {
			if (*s == '\r' && s[1] == '\n')
				s++; /* CRLF is one line end */
			pending_space = 0;
			pending_breaks += out.len > 0;
			continue;
		}
		if (normalise_is_space(*s)) {
			pending_space = out.len > 0; /* a pending line end wins */
			continue;
		}
		if (pending_breaks > 0)
			buf_append(&out, "\n\n", pending_breaks > 1 ? 2 : 1);
		else if (pending_space)
			buf_putc(&out, ' ');
		pending_space = 0;
		pending_breaks = 0;
		buf_putc(&out, *s);
	}
	if (out.len == 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

char *
normalise_email(const char *s)
{
	char *e = normalise_text(s), *p;

	for (p = e; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return e;
}

/* ---------------------------------------------------------------- characters */

/* One character (or one undecodable byte, as NOT_A_CHAR); returns its length, always ≥ 1. */
static size_t
next_char(const char *s, size_t len, uint32_t *cp)
{
	size_t n = utf8_next(s, len, cp);

	if (n == 0) {
		*cp = NOT_A_CHAR;
		n = 1;
	}
	return n;
}

static void
put_char(buf *b, uint32_t cp)
{
	char u[4];

	if (cp < 0x80) {
		u[0] = (char)cp;
		buf_append(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, u, 3);
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, u, 4);
	}
}

/*
 * The cased letters we know: ASCII, Latin-1 Supplement, Latin Extended-A,
 * basic Greek and Cyrillic — the scripts of the company names this product
 * meets. Everything else is "uncased": it never decides whether a name is all
 * upper or all lower, and is never changed. µ, ª and º are letters without a
 * case partner in Latin-1, so they count as uncased too.
 */
static enum letter_case
case_of(uint32_t cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return CASE_UPPER;
	if (cp >= 'a' && cp <= 'z')
		return CASE_LOWER;
	if (cp < 0x80)
		return CASE_NONE;
	if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
		return CASE_UPPER;
	if (cp >= 0xDF && cp <= 0xFF && cp != 0xF7)
		return CASE_LOWER;
	if (cp >= 0x100 && cp <= 0x17F) {
		/* Latin Extended-A pairs upper/lower, but the parity flips twice. */
		if (cp == 0x130 || cp == 0x178)
			return CASE_UPPER;
		if (cp == 0x131 || cp == 0x138 || cp == 0x149 || cp == 0x17F)
			return CASE_LOWER;
		if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
			return (cp & 1) ? CASE_UPPER : CASE_LOWER;
		return (cp & 1) ? CASE_LOWER : CASE_UPPER;
	}
	if (cp == 0x386 || (cp >= 0x388 && cp <= 0x38A) || cp == 0x38C || cp == 0x38E ||
	    cp == 0x38F || (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2))
		return CASE_UPPER;
	if (cp == 0x390 || (cp >= 0x3AC && cp <= 0x3CE))
		return CASE_LOWER;
	if (cp >= 0x400 && cp <= 0x42F)
		return CASE_UPPER;
	if (cp >= 0x430 && cp <= 0x45F)
		return CASE_LOWER;
	return CASE_NONE;
}

/* The upper-case partner of a lower-case letter, or cp itself when there is none. */
static uint32_t
upper_of(uint32_t cp)
{
	if (case_of(cp) != CASE_LOWER)
		return cp;
	if (cp < 0x80)
		return cp - 0x20;
	if (cp == 0xDF)
		return cp; /* ß: its capital is two letters or U+1E9E; keep it */
	if (cp == 0xFF)
		return 0x178;
	if (cp < 0x100)
		return cp - 0x20;
	if (cp == 0x131)
		return 'I';
	if (cp == 0x138 || cp == 0x149)
		return cp; /* ĸ and ŉ have no single capital */
	if (cp == 0x17F)
		return 'S'; /* long s */
	if (cp < 0x180)
		return cp - 1;
	if (cp == 0x3AC)
		return 0x386;
	if (cp >= 0x3AD && cp <= 0x3AF)
		return cp - 0x25;
	if (cp == 0x3C2)
		return 0x3A3; /* final sigma */
	if (cp >= 0x3B1 && cp <= 0x3CB)
		return cp - 0x20;
	if (cp == 0x3CC)
		return 0x38C;
	if (cp == 0x3CD || cp == 0x3CE)
		return cp - 0x3F;
	if (cp >= 0x430 && cp <= 0x44F)
		return cp - 0x20;
	if (cp >= 0x450 && cp <= 0x45F)
		return cp - 0x50;
	return cp; /* ΐ, ΰ */
}

/* The lower-case partner of an upper-case letter, or cp itself. Σ always gives σ here. */
static uint32_t
lower_of(uint32_t cp)
{
	if (case_of(cp) != CASE_UPPER)
		return cp;
	if (cp < 0x100)
		return cp + 0x20;
	if (cp == 0x130)
		return 'i'; /* İ: Unicode's simple mapping (Turkish rules would need the locale) */
	if (cp == 0x178)
		return 0xFF;
	if (cp < 0x180)
		return cp + 1;
	if (cp == 0x386)
		return 0x3AC;
	if (cp >= 0x388 && cp <= 0x38A)
		return cp + 0x25;
	if (cp == 0x38C)
		return 0x3CC;
	if (cp == 0x38E || cp == 0x38F)
		return cp + 0x3F;
	if (cp < 0x400)
		return cp + 0x20;
	if (cp < 0x410)
		return cp + 0x50;
	return cp + 0x20;
}

static int
is_mark(uint32_t cp)
{
	return (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x483 && cp <= 0x489) ||
	       (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||
	       (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
	       (cp >= 0xFE20 && cp <= 0xFE2F);
}

/*
 * Which characters start a new word for title-casing. ASCII punctuation does
 * ("coca-cola" → "Coca-Cola", "at&t" → "At&T", "(acme)" → "(Acme)"), and so do
 * Latin-1 and general punctuation. Digits do not: "3m" stays "3m", "21st"
 * stays "21st". An undecodable byte is treated as part of a word, so it never
 * makes the next letter a capital.
 */
static enum char_class
class_of(uint32_t cp)
{
	if (cp == NOT_A_CHAR)
		return CC_WORD;
	if (cp < 0x80) {
		if (isalnum((int)cp))
			return CC_WORD;
		if (cp == '\'')
			return CC_APOSTROPHE;
		if (cp == '.')
			return CC_PERIOD;
		return CC_SEPARATOR;
	}
	if (cp == 0x2019 || cp == 0x2BC)
		return CC_APOSTROPHE; /* typographic apostrophes */
	if (is_mark(cp))
		return CC_MARK;
	if ((cp < 0xC0 && cp != 0xAA && cp != 0xB5 && cp != 0xBA) || cp == 0xD7 || cp == 0xF7)
		return CC_SEPARATOR; /* C1 controls, NBSP, Latin-1 punctuation and symbols */
	if ((cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) || cp == 0xFEFF)
		return CC_SEPARATOR;
	return CC_WORD;
}

/* Appends s[0..len) lower-cased (simple mappings, no final sigma: for hosts). */
static void
put_lower(buf *b, const char *s, size_t len)
{
	size_t i = 0, n;
	uint32_t cp, lo;

	while (i < len) {
		n = next_char(s + i, len - i, &cp);
		lo = lower_of(cp);
		if (lo == cp)
			buf_append(b, s + i, n);
		else
			put_char(b, lo);
		i += n;
	}
}

void
normalise_lower(buf *b, const char *s)
{
	put_lower(b, s, strlen(s));
}

/* ---------------------------------------------------------------- company names */

/*
 * CASE_UPPER when every cased letter of s is upper case, CASE_LOWER when every
 * one is lower case, CASE_NONE when they are mixed or there are none. Only
 * letters with a case count, so digits, punctuation, CJK or an invalid byte can
 * never make "McKinsey" look all-lower or "北京 ACME" look mixed.
 */
static enum letter_case
name_case(const char *s)
{
	size_t i = 0, len = strlen(s);
	int upper = 0, lower = 0;
	uint32_t cp;

	while (i < len) {
		i += next_char(s + i, len - i, &cp);
		switch (case_of(cp)) {
		case CASE_UPPER:
			upper = 1;
			break;
		case CASE_LOWER:
			lower = 1;
			break;
		case CASE_NONE:
			break;
		}
	}
	if (upper && !lower)
		return CASE_UPPER;
	if (lower && !upper)
		return CASE_LOWER;
	return CASE_NONE;
}

/*
 * Whether a word of an all-upper name is kept as an acronym: 2–4 letters and
 * digits long, counting neither punctuation nor combining marks, so "AT&T" is
 * 3 long, "3M" 2 and "CO." 2, while "É" typed as E + U+0301 counts once, as it
 * would typed precomposed. It must hold an upper-case letter: the rule is
 * about letters typed in upper case, not "12" or "北京".
 */
static int
is_acronym(const char *w, size_t len)
{
	size_t i = 0, n = 0;
	int upper = 0;
	uint32_t cp;

	while (i < len) {
		i += next_char(w + i, len - i, &cp);
		if (class_of(cp) == CC_WORD)
			n++;
		if (case_of(cp) == CASE_UPPER)
			upper = 1;
	}
	return upper && n >= 2 && n <= 4;
}

/* Whether a Σ followed by s[0..len) ends its word, and so lower-cases to ς, not σ. */
static int
sigma_is_final(const char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		i += next_char(s + i, len - i, &cp);
		if (!is_mark(cp))
			return class_of(cp) != CC_WORD;
	}
	return 1;
}

/*
 * Title-cases one space-delimited word: the first letter of each part is made
 * upper case, the rest lower case. Parts are split by separators; a full stop
 * splits only after a single letter, so initials work ("j.p." → "J.P.") while
 * domains stay whole ("amazon.com" → "Amazon.com"). An apostrophe never starts
 * a part: possessives and contractions ("mcdonald's", "int'l") are far more
 * common in company names than Irish prefixes, so "o'reilly" → "O'reilly"; a
 * user who wants "O'Reilly" types it in mixed case and it is kept.
 */
static void
title_case_word(buf *b, const char *w, size_t len)
{
	size_t i = 0, n, part = 0;
	int at_start = 1;
	uint32_t cp, to;

	while (i < len) {
		n = next_char(w + i, len - i, &cp);
		to = cp;
		switch (class_of(cp)) {
		case CC_SEPARATOR:
			at_start = 1;
			part = 0;
			break;
		case CC_PERIOD:
			if (part == 1) {
				at_start = 1;
				part = 0;
			}
			break;
		case CC_APOSTROPHE:
		case CC_MARK:
			break;
		case CC_WORD:
			if (at_start)
				to = upper_of(cp);
			else if (cp == 0x3A3 && sigma_is_final(w + i + n, len - i - n))
				to = 0x3C2;
			else
				to = lower_of(cp);
			at_start = 0;
			part++;
			break;
		}
		if (to == cp)
			buf_append(b, w + i, n);
		else
			put_char(b, to);
		i += n;
	}
}

/*
 * SPEC §2 casing. Decisions beyond the SPEC's examples:
 * - "Entirely lower/upper case" looks only at letters that have a case, in the
 *   scripts case_of knows; anything else neither counts nor changes.
 * - The acronym exception applies only to all-upper input: "ACME HOLDINGS LLC"
 *   → "ACME Holdings LLC", but "acme holdings llc" → "Acme Holdings Llc".
 * - A word's length counts its letters and digits (see is_acronym), so
 *   "3M", "AT&T", "H&M" are kept; "3m company" → "3m Company" (a digit is part
 *   of the word, so the letter after it is not a word start).
 * - Words are split on spaces; hyphenated words are one word for the acronym
 *   rule but title-case part by part: "COCA-COLA" → "Coca-Cola".
 * - Literal SPEC consequences: "THE HOME DEPOT" → "THE HOME Depot" and
 *   "ÉLECTRICITÉ DE FRANCE" → "Électricité DE France" (4- and 2-letter words are
 *   acronyms to the rule); "bank of america" → "Bank Of America".
 * - Apostrophes and full stops: see title_case_word ("O'reilly Media",
 *   "J.P. Morgan", "Amazon.com").
 * - Bytes that are not UTF-8 are kept as they are and never count as letters,
 *   so they cannot tip the all-upper/all-lower decision.
 */
char *
normalise_company_name(const char *s)
{
	char *t = normalise_text(s);
	enum letter_case mode;
	buf out = BUF_INIT;
	const char *w, *end;
	size_t len;

	if (!t)
		return NULL;
	mode = name_case(t);
	if (mode == CASE_NONE)
		return t;
	for (w = t; *w; w = end) {
		end = strchr(w, ' ');
		if (!end)
			end = w + strlen(w);
		len = (size_t)(end - w);
		if (mode == CASE_UPPER && is_acronym(w, len))
			buf_append(&out, w, len);
		else
			title_case_word(&out, w, len);
		if (*end == ' ') {
			buf_putc(&out, ' ');
			end++;
		}
	}
	free(t);
	return buf_steal(&out);
}

/* ---------------------------------------------------------------- URLs */

/*
 * The length of a leading RFC 3986 scheme ("http" in "http://…"), or 0. A
 * "word:digits" followed by the end, '/', '?', '#' or a space is a host and a
 * port, not a scheme: "acme.com:8080", "localhost:3000/x".
 */
static size_t
scheme_length(const char *s)
{
	size_t i = 1, j;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	if (s[i] != ':')
		return 0;
	for (j = i + 1; isdigit((unsigned char)s[j]); j++)
		;
	if (j > i + 1 && (s[j] == '\0' || strchr("/?# ", s[j])))
		return 0;
	return i;
}

/* Splits url[start..end), the authority, into user-info, host and port. */
static void
split_authority(const char *url, size_t start, size_t end, struct normalise_url_parts *p)
{
	size_t i, host = start;
	const char *close, *colon;

	/* The last '@' ends the user-info, as browsers read it: "a@b@host". */
	for (i = end; i > start; i--) {
		if (url[i - 1] == '@') {
			p->has_userinfo = 1;
			p->userinfo_off = start;
			p->userinfo_len = i - 1 - start;
			host = i;
			break;
		}
	}
	p->host_off = host;
	p->host_len = end - host;
	if (host < end && url[host] == '[') {
		/* An IPv6 literal: its colons are not a port. */
		close = memchr(url + host, ']', end - host);
		if (!close)
			return;
		i = (size_t)(close - url) + 1;
		if (i < end && url[i] != ':')
			return; /* "[::1]x": all host, and invalid */
		p->host_len = i - host;
	} else {
		colon = memchr(url + host, ':', end - host);
		if (!colon)
			return;
		i = (size_t)(colon - url);
		p->host_len = i - host;
	}
	if (i < end) {
		p->has_port = 1;
		p->port_off = i + 1;
		p->port_len = end - i - 1;
	}
}

void
normalise_url_split(const char *url, struct normalise_url_parts *p)
{
	size_t i = 0, end, n = strlen(url);

	memset(p, 0, sizeof(*p));
	p->scheme_len = scheme_length(url);
	if (p->scheme_len)
		i = p->scheme_len + 1;
	if (url[i] == '/' && url[i + 1] == '/') {
		p->has_authority = 1;
		i += 2;
		end = i + strcspn(url + i, "/?#");
		split_authority(url, i, end, p);
		i = end;
	} else {
		p->host_off = p->userinfo_off = p->port_off = i;
	}
	p->path_off = i;
	p->path_len = strcspn(url + i, "?#");
	i += p->path_len;
	p->query_off = i;
	if (url[i] == '?')
		p->query_len = strcspn(url + i, "#");
	i += p->query_len;
	p->fragment_off = i;
	p->fragment_len = n - i;
}

/* One application of the URL rules to s; never NULL for a non-empty s. */
static char *
url_pass(const char *s)
{
	char *t = normalise_text(s);
	struct normalise_url_parts p;
	buf out = BUF_INIT, with_scheme = BUF_INIT;
	size_t i, path_len;

	if (!t)
		return NULL;
	normalise_url_split(t, &p);
	if (p.scheme_len == 0) {
		buf_puts(&with_scheme, t[0] == '/' && t[1] == '/' ? "https:" : "https://");
		buf_puts(&with_scheme, t);
		free(t);
		t = buf_steal(&with_scheme);
		normalise_url_split(t, &p);
	}
	for (i = 0; i < p.scheme_len; i++)
		buf_putc(&out, (char)tolower((unsigned char)t[i]));
	buf_putc(&out, ':');
	if (p.has_authority) {
		buf_puts(&out, "//");
		if (p.has_userinfo && p.userinfo_len > 0) {
			buf_append(&out, t + p.userinfo_off, p.userinfo_len);
			buf_putc(&out, '@');
		}
		put_lower(&out, t + p.host_off, p.host_len);
		if (p.has_port && p.port_len > 0) {
			buf_putc(&out, ':');
			buf_append(&out, t + p.port_off, p.port_len);
		}
	}
	/*
	 * Trailing slashes go from the path even when a query or fragment follows:
	 * "/x/?q=1" and "/x?q=1" then get one form, as "/x/" and "/x" do. Slashes
	 * inside the query or fragment are data ("#/" is an app route) and stay.
	 */
	path_len = p.path_len;
	while (path_len > 0 && t[p.path_off + path_len - 1] == '/')
		path_len--;
	buf_append(&out, t + p.path_off, path_len);
	buf_append(&out, t + p.query_off, p.query_len);
	buf_append(&out, t + p.fragment_off, p.fragment_len);
	free(t);
	return buf_steal(&out);
}

/*
 * The rules are applied until nothing changes, because one rule can expose
 * work for another: stripping "/" from "a.com :/" leaves "https://a.com :"
 * whose port is empty and is dropped, leaving a trailing space to trim. Each
 * pass after the first only removes characters (a scheme, once added, is never
 * lost), so this ends within a few passes, and it is what makes normalise_url
 * idempotent by construction rather than by case analysis.
 */
char *
normalise_url(const char *s)
{
	char *cur = url_pass(s), *next;
	int passes;

	for (passes = 0; cur && passes < MAX_PASSES; passes++) {
		next = url_pass(cur);
		if (strcmp(next, cur) == 0) {
			free(next);
			break;
		}
		free(cur);
		cur = next;
	}
	return cur;
}

/* One application of the host rules: the host of url, trimmed, without trailing dots or "www.". */
static char *
host_pass(const char *url)
{
	char *n = normalise_url(url), *h, *t, *start;
	struct normalise_url_parts p;
	size_t len;

	if (!n)
		return NULL;
	normalise_url_split(n, &p);
	if (!p.has_authority) {
		free(n);
		return NULL;
	}
	h = xstrndup(n + p.host_off, p.host_len);
	free(n);
	t = normalise_text(h);
	free(h);
	if (!t)
		return NULL;
	len = strlen(t);
	while (len > 0 && t[len - 1] == '.')
		t[--len] = '\0';
	/*
	 * "www." goes only while a dotted name remains, so "www.com" stays a
	 * name and does not collapse into the bare TLD "com".
	 */
	start = t;
	while (strncmp(start, "www.", 4) == 0 && strchr(start + 4, '.'))
		start += 4;
	if (!*start) {
		free(t);
		return NULL;
	}
	h = xstrdup(start);
	free(t);
	return h;
}

/* Passes repeat until stable for the same reason as in normalise_url ("www. a.com."). */
char *
normalise_host(const char *url)
{
	char *cur = host_pass(url), *next;
	int passes;

	for (passes = 0; cur && passes < MAX_PASSES; passes++) {
		next = host_pass(cur);
		if (next && strcmp(next, cur) == 0) {
			free(next);
			break;
		}
		free(cur);
		cur = next;
	}
	return cur;
}

char *
normalise_search_pattern(const char *q)
{
	buf b = BUF_INIT;
	char *t;

	if (!q)
		return NULL;
	t = normalise_text(q);
	if (!t)
		return NULL;
	buf_putc(&b, '%');
	for (const char *p = t; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *p);
	}
	buf_putc(&b, '%');
	free(t);
	return buf_steal(&b);
}

void
normalise_initials(const char *name, char out[16])
{
	const char *first = name, *last = NULL, *p;
	size_t o = 0;

	while (*first == ' ')
		first++;
	for (p = first; *p; p++)
		if (*p == ' ' && p[1] && p[1] != ' ')
			last = p + 1;
	for (int k = 0; k < 2; k++) {
		const unsigned char *s = (const unsigned char *)(k == 0 ? first : last);
		size_t len = 1;

		if (!s || !*s)
			continue;
		if (*s >= 0xf0)
			len = 4;
		else if (*s >= 0xe0)
			len = 3;
		else if (*s >= 0xc0)
			len = 2;
		for (size_t i = 0; i < len && s[i] && o + 1 < 16; i++)
			out[o++] = (char)(i == 0 && len == 1 ? toupper(s[i]) : s[i]);
	}
	out[o] = '\0';
}
