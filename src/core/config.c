/*
 * config — load struct config from a Kore-style file and the environment.
 *
 * The idea: one table lists every setting once — its name, what kind of value
 * it takes, where it lives in struct config, its allowed range and its
 * default written as text. Everything else is driven by that table, so a
 * setting cannot be known to the file but forgotten by the environment, by
 * config_free or by the defaults:
 *   - config_defaults applies each default through the same parser as the
 *     file, so conf/spanner.conf and the built-in defaults mean the same thing;
 *   - the file is read line by line and each `key value` goes to config_set;
 *   - then every SPANNER_<KEY> variable that is set and non-empty goes to
 *     config_set too, so the environment wins (that is how containers
 *     configure the server without editing the file).
 * A second, smaller table lists the keys of the HTTP server Spanner had before
 * Kore (bind, workers, ...). Kore owns those now, in kore.conf; a file or
 * variable that still sets one stops the start with where it moved, rather than
 * being taken and then silently doing nothing.
 * config_set parses into a local first and only then stores, so a rejected
 * value leaves the previous one in place.
 */
#include "config.h"

#include "buf.h"
#include "cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum kind {
	K_INT,	    /* int, min..max */
	K_SIZE,	    /* size_t, bytes with optional K/M/G, min..max */
	K_BOOL,	    /* int 0/1 */
	K_STR,	    /* char *, any non-empty text */
	K_HTTP_URL, /* char *, http:// or https://, trailing '/' dropped */
	K_SMTP_URL, /* char *, smtp:// or smtps:// */
	K_LOG_FORMAT,
	K_SCHEDULE, /* char *, cron expression or "off" */
};

struct setting {
	const char *name;
	enum kind kind;
	size_t off; /* of the field in struct config */
	long long min, max;
	const char *def; /* default as it would be written in the file; NULL = unset */
};

#define FIELD(f) offsetof(struct config, f)

/*
 * Ranges: what the code that uses a value can cope with, not what is sensible
 * (that is the comment in conf/spanner.conf). session_idle and session_max stop
 * at one year so that converting them to seconds never overflows an int.
 */
static const struct setting settings[] = {
    /* A 10 MB upload plus 64 KB for the multipart framing and the other form fields. */
    {"http_body_max", K_SIZE, FIELD(http_body_max), 1024, 1024LL * 1024 * 1024, "10304K"},
    {"base_url", K_HTTP_URL, FIELD(base_url), 0, 0, "http://127.0.0.1:8080"},
    {"database", K_STR, FIELD(database), 0, 0, NULL},
    {"pg_bindir", K_STR, FIELD(pg_bindir), 0, 0, NULL},
    {"var_dir", K_STR, FIELD(var_dir), 0, 0, "var"},
    {"assets_dir", K_STR, FIELD(assets_dir), 0, 0, "assets"},
    {"templates_dir", K_STR, FIELD(templates_dir), 0, 0, "templates"},
    {"migrations_dir", K_STR, FIELD(migrations_dir), 0, 0, "migrations"},
    /* Job threads in each Kore worker; kore.conf's task_threads are Kore's own. */
    {"task_threads", K_INT, FIELD(task_threads), 0, 64, "2"},
    {"job_lease", K_INT, FIELD(job_lease), 5, 86400, "60"},
    {"dedup_schedule", K_SCHEDULE, FIELD(dedup_schedule), 0, 0, "0 3 * * 0"},
    {"argon2_t_cost", K_INT, FIELD(argon2_t_cost), 1, 10, "3"},
    {"argon2_m_cost", K_INT, FIELD(argon2_m_cost), 8192, 4194304, "19456"},
    {"argon2_parallelism", K_INT, FIELD(argon2_parallelism), 1, 16, "1"},
    {"argon2_concurrency", K_INT, FIELD(argon2_concurrency), 1, 64, "1"},
    {"signin_queue", K_INT, FIELD(signin_queue), 0, 100000, "128"},
    {"session_idle", K_INT, FIELD(session_idle), 1, 525600, "120"},
    {"session_max", K_INT, FIELD(session_max), 1, 8760, "12"},
    {"login_max_failures", K_INT, FIELD(login_max_failures), 1, 1000, "5"},
    {"login_window", K_INT, FIELD(login_window), 1, 86400, "900"},
    {"login_slowdown_max", K_INT, FIELD(login_slowdown_max), 0, 60000, "2000"},
    {"smtp_url", K_SMTP_URL, FIELD(smtp_url), 0, 0, NULL},
    {"smtp_user", K_STR, FIELD(smtp_user), 0, 0, NULL},
    {"smtp_password", K_STR, FIELD(smtp_password), 0, 0, NULL},
    {"smtp_from", K_STR, FIELD(smtp_from), 0, 0, "Spanner <spanner@localhost>"},
    {"demo", K_BOOL, FIELD(demo), 0, 0, "on"},
    {"log_format", K_LOG_FORMAT, FIELD(log_format), 0, 0, "text"},
    {"log_access", K_BOOL, FIELD(log_access), 0, 0, "on"},
    /* Behind the TLS proxy: believe its X-Forwarded-Proto and X-Forwarded-For. */
    {"trust_proxy", K_BOOL, FIELD(trust_proxy), 0, 0, "off"},
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

/*
 * Keys of the HTTP server before Kore, and where each setting lives now. The
 * message reads "`key` <where>". env = 0: SPANNER_<KEY> is not refused,
 * because the variable is someone else's input, not a stale app setting.
 */
struct moved_setting {
	const char *name;
	const char *where;
	int env;
};

static const struct moved_setting moved_settings[] = {
    /* SPANNER_BIND is how scripts/kore-serve (and so the test harness and the
     * benchmarks) is told the listener: it rewrites kore.conf's bind line and
     * the server it starts inherits the variable. */
    {"bind", "is now set in kore.conf (`bind ADDRESS PORT` in Kore's `server default` block)", 0},
    {"workers", "is now set in kore.conf (`workers`; left out, Kore starts one per CPU)", 1},
    {"http_timeout",
     "is now set in kore.conf (`http_keepalive_time`, `http_header_timeout`, "
     "`http_body_timeout`)",
     1},
    {"http_conn_max", "is now set in kore.conf (`worker_max_connections`, per Kore worker)", 1},
    {"http_conn_per_ip",
     "is now the TLS proxy's (nginx `limit_conn`; Kore has no per-address limit)", 1},
    {"tls_cert",
     "is now the TLS proxy's (`ssl_certificate` in conf/nginx/spanner.conf; Kore serves plain "
     "HTTP)",
     1},
    {"tls_key",
     "is now the TLS proxy's (`ssl_certificate_key` in conf/nginx/spanner.conf; Kore serves "
     "plain HTTP)",
     1},
    {"pgsql_conn_max", "is now set in kore.conf (`pgsql_conn_max`, per Kore worker)", 1},
};

#define NMOVED (sizeof moved_settings / sizeof moved_settings[0])

/* Longest piece of input quoted back in a message. */
#define QUOTE_MAX 40

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const struct setting *find_setting(const char *name, size_t len);
static const struct moved_setting *find_moved(const char *name, size_t len);
static void env_name(char *var, size_t size, const char *name);
static char **str_field(struct config *c, const struct setting *s);
static void store_str(char **field, const char *value, size_t len);
static int parse_int(const char *v, long long min, long long max, long long *out);
static int parse_size(const char *v, long long min, long long max, long long *out);
static int parse_bool(const char *v, int *out);
static int load_file(struct config *c, const char *path, char *err, size_t errlen);
static int apply_line(struct config *c, char *line, const char *path, long lineno, char *err,
		      size_t errlen);
static int load_env(struct config *c, char *err, size_t errlen);

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

static const struct setting *
find_setting(const char *name, size_t len)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (strlen(settings[i].name) == len && !memcmp(settings[i].name, name, len))
			return &settings[i];
	}
	return NULL;
}

static const struct moved_setting *
find_moved(const char *name, size_t len)
{
	for (size_t i = 0; i < NMOVED; i++) {
		if (strlen(moved_settings[i].name) == len &&
		    !memcmp(moved_settings[i].name, name, len))
			return &moved_settings[i];
	}
	return NULL;
}

/* "SPANNER_" + name in upper case, cut to fit var. */
static void
env_name(char *var, size_t size, const char *name)
{
	size_t j = (size_t)snprintf(var, size, "SPANNER_");

	for (; *name && j + 1 < size; name++)
		var[j++] = (char)toupper((unsigned char)*name);
	var[j] = '\0';
}

/* The char * a string-valued setting lives in. */
static char **
str_field(struct config *c, const struct setting *s)
{
	return (char **)((char *)c + s->off);
}

static void
store_str(char **field, const char *value, size_t len)
{
	free(*field);
	*field = xstrndup(value, len);
}

void
config_defaults(struct config *c)
{
	char err[256];

	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (!settings[i].def)
			continue;
		/* The defaults are compiled in; one that does not parse is a bug, not an input. */
		if (config_set(c, settings[i].name, settings[i].def, err, sizeof err) < 0) {
			fprintf(stderr, "config: bad built-in default for %s: %s\n",
				settings[i].name, err);
			abort();
		}
	}
}

void
config_free(struct config *c)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		switch (settings[i].kind) {
		case K_STR:
		case K_HTTP_URL:
		case K_SMTP_URL:
		case K_SCHEDULE:
			free(*str_field(c, &settings[i]));
			break;
		default:
			break;
		}
	}
	/* Zeroed, so a second config_free (or one after a failed load) is harmless. */
	memset(c, 0, sizeof *c);
}

/*
 * Layered on what c already holds (the defaults, normally) rather than resetting
 * it: resetting would leak the strings of a caller that prepared c with
 * config_defaults first, and layering lets a test or tool stack several files.
 */
int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	if (path && load_file(c, path, err, errlen) < 0)
		return -1;
	return load_env(c, err, errlen);
}

int
config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
	const struct setting *s = find_setting(key, strlen(key));
	long long n;
	int b;

	if (!s) {
		const struct moved_setting *m = find_moved(key, strlen(key));

		if (m)
			set_err(err, errlen, "`%s` %s", m->name, m->where);
		else
			set_err(err, errlen, "unknown setting '%.*s'", QUOTE_MAX, key);
		return -1;
	}
	if (!value || !*value) {
		set_err(err, errlen, "missing value");
		return -1;
	}

	switch (s->kind) {
	case K_INT:
		if (parse_int(value, s->min, s->max, &n) < 0) {
			set_err(err, errlen, "must be a number from %lld to %lld", s->min, s->max);
			return -1;
		}
		*(int *)((char *)c + s->off) = (int)n;
		return 0;
	case K_SIZE:
		if (parse_size(value, s->min, s->max, &n) < 0) {
			set_err(err, errlen,
				"must be a size from 1K to 1G (bytes, or a number followed by K, M "
				"or G)");
			return -1;
		}
		*(size_t *)((char *)c + s->off) = (size_t)n;
		return 0;
	case K_BOOL:
		if (parse_bool(value, &b) < 0) {
			set_err(err, errlen, "must be on or off (or yes/no, true/false, 1/0)");
			return -1;
		}
		*(int *)((char *)c + s->off) = b;
		return 0;
	case K_STR:
		store_str(str_field(c, s), value, strlen(value));
		return 0;
	case K_HTTP_URL: {
		size_t len = strlen(value);
		size_t scheme = 0;

		if (!strncmp(value, "http://", 7))
			scheme = 7;
		else if (!strncmp(value, "https://", 8))
			scheme = 8;
		/* Links are built as base_url + "/path"; a trailing slash would double it. */
		while (len > scheme && value[len - 1] == '/')
			len--;
		if (!scheme || len == scheme) {
			set_err(err, errlen, "must be an http:// or https:// address");
			return -1;
		}
		store_str(str_field(c, s), value, len);
		return 0;
	}
	case K_SMTP_URL:
		if (strncmp(value, "smtp://", 7) && strncmp(value, "smtps://", 8)) {
			set_err(err, errlen, "must start with smtp:// or smtps://");
			return -1;
		}
		store_str(str_field(c, s), value, strlen(value));
		return 0;
	case K_LOG_FORMAT:
		if (!strcasecmp(value, "text"))
			c->log_format = LOG_FORMAT_TEXT;
		else if (!strcasecmp(value, "json"))
			c->log_format = LOG_FORMAT_JSON;
		else {
			set_err(err, errlen, "must be text or json");
			return -1;
		}
		return 0;
	case K_SCHEDULE: {
		struct cron cr;
		char why[128];

		/* Stored as "off" exactly, so users of the field can strcmp it. */
		if (!strcasecmp(value, "off")) {
			store_str(str_field(c, s), "off", 3);
			return 0;
		}
		if (cron_parse(value, &cr, why, sizeof why) < 0) {
			set_err(err, errlen, "must be a cron expression or off (%s)", why);
			return -1;
		}
		store_str(str_field(c, s), value, strlen(value));
		return 0;
	}
	}
	set_err(err, errlen, "internal error: setting of unknown kind");
	return -1;
}

/*
 * Strict decimal: optional '-', digits, nothing else. strtol would also take
 * leading blanks, a '+', hex with base 0 and trailing junk after the digits.
 */
static int
parse_int(const char *v, long long min, long long max, long long *out)
{
	int neg = 0;
	long long n = 0;

	if (*v == '-') {
		neg = 1;
		v++;
	}
	if (!*v)
		return -1;
	for (; *v; v++) {
		if (!isdigit((unsigned char)*v))
			return -1;
		/* Saturate: anything this large is out of every range anyway. */
		if (n < 1000000000000LL)
			n = n * 10 + (*v - '0');
	}
	if (neg)
		n = -n;
	if (n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* Digits with an optional K, M or G (binary multiples, either case). */
static int
parse_size(const char *v, long long min, long long max, long long *out)
{
	long long n = 0;
	int shift = 0;

	if (!isdigit((unsigned char)*v))
		return -1;
	for (; isdigit((unsigned char)*v); v++) {
		if (n < 1000000000000LL)
			n = n * 10 + (*v - '0');
	}
	switch (*v) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -1;
	}
	if (*v && v[1])
		return -1;
	/* n is at most 10^12 and shift at most 30; compare before shifting to avoid overflow. */
	if (n > (max >> shift) || (n << shift) < min)
		return -1;
	*out = n << shift;
	return 0;
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = {"on", "yes", "true", "1"};
	static const char *const no[] = {"off", "no", "false", "0"};

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int rc = 0;

	if (!f) {
		set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (strlen(line) != (size_t)n) {
			set_err(err, errlen, "%s:%ld: NUL byte in line", path, lineno);
			rc = -1;
			break;
		}
		if (apply_line(c, line, path, lineno, err, errlen) < 0) {
			rc = -1;
			break;
		}
		errno = 0;
	}
	/* getline returns -1 both at the end and on error; errno tells them apart. */
	if (rc == 0 && ferror(f)) {
		set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

/*
 * One line: `key value`, `key = value` or `key=value`; `#` at the start of a
 * line or after whitespace begins a comment. A `#` glued to the text before
 * it (a password, a URL fragment) is part of the value.
 */
static int
apply_line(struct config *c, char *line, const char *path, long lineno, char *err, size_t errlen)
{
	char *p = line, *key, *value, *q, *end;
	size_t key_len;
	const struct setting *s;
	const struct moved_setting *m;
	char why[256];

	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;

	key = p;
	key_len = strcspn(p, " \t\r\n\v\f=");
	p += key_len;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '=') {
		p++;
		while (isspace((unsigned char)*p))
			p++;
	}
	value = p;
	for (q = value; *q; q++) {
		if (*q == '#' && q > line && isspace((unsigned char)q[-1])) {
			*q = '\0';
			break;
		}
	}
	end = value + strlen(value);
	while (end > value && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';

	if (key_len == 0) {
		set_err(err, errlen, "%s:%ld: missing setting name before '='", path, lineno);
		return -1;
	}
	s = find_setting(key, key_len);
	m = s ? NULL : find_moved(key, key_len);
	if (m) {
		set_err(err, errlen, "%s:%ld: `%s` %s", path, lineno, m->name, m->where);
		return -1;
	}
	if (!s) {
		set_err(err, errlen, "%s:%ld: unknown setting '%.*s'", path, lineno,
			key_len > QUOTE_MAX ? QUOTE_MAX : (int)key_len, key);
		return -1;
	}
	if (config_set(c, s->name, value, why, sizeof why) < 0) {
		set_err(err, errlen, "%s:%ld: %s: %s", path, lineno, s->name, why);
		return -1;
	}
	return 0;
}

/*
 * Only the SPANNER_<KEY> variables of the two tables are looked at; any other
 * SPANNER_* variable is not the app's and is left alone: scripts/kore-serve's
 * SPANNER_BIND, SPANNER_KORE_WORKERS, SPANNER_MODULE and SPANNER_KORE_DIR, the
 * tests' SPANNER_BIN, and the variables read elsewhere (SPANNER_CONFIG,
 * SPANNER_ADMIN_PASSWORD, SPANNER_PG_FSYNC).
 */
static int
load_env(struct config *c, char *err, size_t errlen)
{
	char var[64], why[256];
	const char *v;

	for (size_t i = 0; i < NMOVED; i++) {
		if (!moved_settings[i].env)
			continue;
		env_name(var, sizeof var, moved_settings[i].name);
		v = getenv(var);
		/* Empty is "not set" here too, as below. */
		if (v && *v) {
			set_err(err, errlen, "environment %s: `%s` %s", var, moved_settings[i].name,
				moved_settings[i].where);
			return -1;
		}
	}
	for (size_t i = 0; i < NSETTINGS; i++) {
		env_name(var, sizeof var, settings[i].name);
		v = getenv(var);
		/* Empty means "not set": `-e SPANNER_X=` in a compose file should not break
		 * start-up. */
		if (!v || !*v)
			continue;
		if (config_set(c, settings[i].name, v, why, sizeof why) < 0) {
			set_err(err, errlen, "environment %s: %s", var, why);
			return -1;
		}
	}
	return 0;
}
