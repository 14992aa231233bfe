/*
 * validate — field validation shared by the forms and the CSV importer.
 *
 * The idea: a validator answers one question about one value, the value as it
 * will be stored, and its answer is a sentence for the user, not a code. The
 * CSV error report, the error-correction page and the forms all show that
 * sentence as it is, so the same mistake reads the same everywhere.
 *
 * The rules are deliberately "practical", not "everything the RFC allows": a
 * CRM stores addresses people send mail to and links people click, so quoted
 * local parts, comments, domain literals, user:password@ links and hosts
 * without a dot are refused, even where a standard would allow them.
 *
 * Messages that name a number ("at most 200 characters", "from 1800 to 2026")
 * are formatted once per distinct text and kept for the life of the process, so
 * every validator can return a plain const char * that needs no freeing. The
 * numbers come from the schema, not from users, so that set stays small.
 */
#include "validate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "domain/normalise.h"

#define EMAIL_MAX 254	   /* RFC 5321 path limit less the angle brackets */
#define EMAIL_LOCAL_MAX 64 /* RFC 5321 local-part limit */
#define DOMAIN_MAX 253	   /* a DNS name in text form, without the root dot */
#define LABEL_MAX 63	   /* one DNS label */
#define URL_MAX 2048	   /* what every browser, proxy and spreadsheet copes with */
#define PORT_DIGITS_MAX 5
#define YEAR_DIGITS_MAX 9 /* fits an int without overflow */

static const char msg_email_missing[] = "Enter an e-mail address.";
static const char msg_email[] = "Enter a valid e-mail address, like name@example.com.";
static const char msg_email_spaces[] = "Remove the spaces from the e-mail address.";
static const char msg_email_long[] = "An e-mail address can be at most 254 characters.";
static const char msg_email_local_long[] =
    "The part of the e-mail address before the @ can be at most 64 characters.";
static const char msg_url_missing[] = "Enter a web address.";
static const char msg_url[] = "Enter a valid web address, like https://example.com.";
static const char msg_url_scheme[] = "Enter a web address that starts with http:// or https://.";
static const char msg_url_spaces[] = "Remove the spaces from the web address.";
static const char msg_url_long[] = "A web address can be at most 2048 characters.";
/* Credentials in a stored link are shown to everyone who can see the record. */
static const char msg_url_userinfo[] = "Remove the user name and password from the web address.";
static const char msg_utf8[] = "This text is not valid UTF-8.";
static const char msg_nul[] = "This text contains a NUL character, which cannot be stored.";

struct message {
	struct message *next;
	char text[];
};

static struct message *messages;
static pthread_mutex_t messages_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *intern(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int is_invisible(uint32_t cp);
static int is_atext(unsigned char c);
static int check_chars(const char *s, size_t len, int *has_space);
static int check_label(const char *s, size_t len);
static int check_domain(const char *s, size_t len);
static int check_ipv4(const char *s, size_t len);
static int check_ipv6_literal(const char *s, size_t len);
static int check_port(const char *s, size_t len);
static size_t count_chars(const char *s, size_t len);

/* ---------------------------------------------------------------- helpers */

/* The one copy of a formatted message; lives for the process. */
static const char *
intern(const char *fmt, ...)
{
	char text[160];
	struct message *m;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	len = strlen(text);
	pthread_mutex_lock(&messages_lock);
	for (m = messages; m; m = m->next)
		if (strcmp(m->text, text) == 0)
			break;
	if (!m) {
		m = xmalloc(sizeof(*m) + len + 1);
		memcpy(m->text, text, len + 1);
		m->next = messages;
		messages = m;
	}
	pthread_mutex_unlock(&messages_lock);
	return m->text;
}

/*
 * Characters nobody can see or type on purpose in an address or a link:
 * controls, Unicode spaces and format characters (zero-width space, bidi
 * overrides, BOM). They are how look-alike and broken links are made.
 */
static int
is_invisible(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
	       (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 || cp == 0xFEFF ||
	       (cp >= 0xFFF9 && cp <= 0xFFFB);
}

/* RFC 5322 atext: the characters of an unquoted local part, besides '.'. */
static int
is_atext(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/*
 * 0 when s[0..len) is valid UTF-8 without invisible characters; sets
 * *has_space when it failed because of an ASCII space, which gets its own
 * message because it is the most common mistake.
 */
static int
check_chars(const char *s, size_t len, int *has_space)
{
	size_t i = 0, n;
	uint32_t cp;

	*has_space = 0;
	while (i < len) {
		n = utf8_next(s + i, len - i, &cp);
		if (n == 0)
			return -1;
		if (cp == ' ') {
			*has_space = 1;
			return -1;
		}
		if (is_invisible(cp))
			return -1;
		i += n;
	}
	return 0;
}

/*
 * One DNS label: 1–63 bytes of letters, digits and hyphens, no hyphen at
 * either end. Non-ASCII characters are allowed, because internationalised
 * names are typed in their Unicode form ("münchen.de"), except those IDNA
 * never allows in a name: noncharacters, private use, specials and the
 * full-width forms (which IDNA would map to other characters, so the text
 * stored would not be the host the browser visits: "％４１.com"). This is a
 * screen, not full IDNA validation; the caller has already refused invisible
 * characters and invalid UTF-8.
 */
static int
check_label(const char *s, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	if (len == 0 || len > LABEL_MAX || s[0] == '-' || s[len - 1] == '-')
		return -1;
	while (i < len) {
		n = utf8_next(s + i, len - i, &cp);
		if (n == 0)
			return -1;
		if (cp < 0x80 ? !isalnum((int)cp) && cp != '-'
			      : (cp >= 0xE000 && cp <= 0xF8FF) || (cp >= 0xFDD0 && cp <= 0xFDEF) ||
				    (cp >= 0xFF00 && cp <= 0xFFFF) || (cp & 0xFFFE) == 0xFFFE ||
				    cp >= 0xF0000)
			return -1;
		i += n;
	}
	return 0;
}

/*
 * A domain name of two or more labels whose last one (the TLD) starts with a
 * letter. Every real TLD does; the rule refuses all-digit TLDs ("iana.123",
 * "1.2.3.4.5") and the hexadecimal ones ("foo.0x4") that browsers read as
 * broken IPv4 addresses rather than names.
 */
static int
check_domain(const char *s, size_t len)
{
	size_t start = 0, i, labels = 0;

	if (len == 0 || len > DOMAIN_MAX)
		return -1;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (check_label(s + start, i - start) != 0)
			return -1;
		labels++;
		start = i + 1;
	}
	for (i = len; i > 0 && s[i - 1] != '.'; i--)
		;
	if (labels < 2 || !(isalpha((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80))
		return -1;
	return 0;
}

/* A dotted-quad IPv4 address, strictly: four decimal parts, no leading zeros. */
static int
check_ipv4(const char *s, size_t len)
{
	char text[16];
	struct in_addr a;

	if (len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	return inet_pton(AF_INET, text, &a) == 1 ? 0 : -1;
}

/* "[…]" holding an IPv6 address (no zone id: a zone means nothing to anyone else). */
static int
check_ipv6_literal(const char *s, size_t len)
{
	char text[64];
	struct in6_addr a;

	if (len < 2 || s[0] != '[' || s[len - 1] != ']' || len - 2 >= sizeof(text))
		return -1;
	memcpy(text, s + 1, len - 2);
	text[len - 2] = '\0';
	return inet_pton(AF_INET6, text, &a) == 1 ? 0 : -1;
}

static int
check_port(const char *s, size_t len)
{
	size_t i;
	long v = 0;

	if (len == 0 || len > PORT_DIGITS_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 65535 ? 0 : -1;
}

/* Characters, not bytes; a byte that starts no valid character counts as one. */
static size_t
count_chars(const char *s, size_t len)
{
	size_t i = 0, n, count = 0;
	uint32_t cp;

	while (i < len) {
		n = utf8_next(s + i, len - i, &cp);
		i += n ? n : 1;
		count++;
	}
	return count;
}

/* ---------------------------------------------------------------- validators */

const char *
validate_utf8(const char *s, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (s[i] == '\0')
			return msg_nul;
		n = utf8_next(s + i, len - i, &cp);
		if (n == 0)
			return msg_utf8;
		i += n;
	}
	return NULL;
}

const char *
validate_max_length(const char *s, size_t max_chars)
{
	if (!s || count_chars(s, strlen(s)) <= max_chars)
		return NULL;
	if (max_chars == 1)
		return "Enter at most 1 character.";
	return intern("Enter at most %zu characters.", max_chars);
}

const char *
validate_search(const char *q)
{
	if (q && (validate_utf8(q, strlen(q)) || count_chars(q, strlen(q)) > VALIDATE_SEARCH_MAX))
		return "Search for at most 200 characters of text.";
	return NULL;
}

const char *
validate_year(const char *s, int min, int max, int *out)
{
	size_t i, len = s ? strlen(s) : 0;
	long v = 0;

	if (len == 0 || len > YEAR_DIGITS_MAX)
		goto invalid;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			goto invalid;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		goto invalid;
	if (out)
		*out = (int)v;
	return NULL;
invalid:
	return intern("Enter a year from %d to %d.", min, max);
}

const char *
validate_email(const char *s)
{
	const char *at, *local_end;
	size_t len, local_len, i;
	int has_space;

	if (!s || !*s)
		return msg_email_missing;
	len = strlen(s);
	if (check_chars(s, len, &has_space) != 0)
		return has_space ? msg_email_spaces : msg_email;
	at = strchr(s, '@');
	if (!at || strchr(at + 1, '@'))
		return msg_email;
	local_end = at;
	local_len = (size_t)(local_end - s);
	if (local_len == 0)
		return msg_email;
	if (local_len > EMAIL_LOCAL_MAX)
		return msg_email_local_long;
	if (len > EMAIL_MAX)
		return msg_email_long;
	/* A dot-atom: atext (or non-ASCII) runs joined by single dots. */
	if (s[0] == '.' || s[local_len - 1] == '.')
		return msg_email;
	for (i = 0; i < local_len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return msg_email;
		} else if (!is_atext((unsigned char)s[i]) && (unsigned char)s[i] < 0x80) {
			return msg_email;
		}
	}
	if (check_domain(at + 1, len - local_len - 1) != 0)
		return msg_email;
	return NULL;
}

const char *
validate_url(const char *s)
{
	struct normalise_url_parts p;
	const char *host;
	size_t len, host_len;
	int has_space;

	if (!s || !*s)
		return msg_url_missing;
	len = strlen(s);
	if (check_chars(s, len, &has_space) != 0)
		return has_space ? msg_url_spaces : msg_url;
	if (count_chars(s, len) > URL_MAX)
		return msg_url_long;
	/* Characters that break out of an HTML attribute: never part of a link as typed. */
	if (strpbrk(s, "<>\""))
		return msg_url;
	normalise_url_split(s, &p);
	/*
	 * Before the query, browsers read '\' as '/', so the text would not say
	 * where the link goes; in the query and fragment it is plain data.
	 */
	if (memchr(s, '\\', p.query_off))
		return msg_url;
	if (!((p.scheme_len == 4 && strncasecmp(s, "http", 4) == 0) ||
	      (p.scheme_len == 5 && strncasecmp(s, "https", 5) == 0)))
		return msg_url_scheme;
	if (!p.has_authority)
		return msg_url;
	if (p.has_userinfo)
		return msg_url_userinfo;
	if (p.has_port && check_port(s + p.port_off, p.port_len) != 0)
		return msg_url;
	host = s + p.host_off;
	host_len = p.host_len;
	/* A fully qualified "acme.com." is still acme.com. */
	if (host_len > 1 && host[0] != '[' && host[host_len - 1] == '.' &&
	    host[host_len - 2] != '.')
		host_len--;
	if (host_len == 0)
		return msg_url;
	if (host[0] == '[')
		return check_ipv6_literal(host, host_len) == 0 ? NULL : msg_url;
	if (check_ipv4(host, host_len) == 0)
		return NULL;
	if (host_len == 9 && strncasecmp(host, "localhost", 9) == 0)
		return NULL;
	return check_domain(host, host_len) == 0 ? NULL : msg_url;
}
