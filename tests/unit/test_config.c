/*
 * Unit tests for src/core/config.c.
 *
 * The fixtures under tests/unit/data/config/ are small files each showing one
 * thing (a full file, the comment and `=` syntax, one kind of mistake); tests
 * run with the project root as working directory, as `make unit` does. Every
 * test starts with no SPANNER_* variable in the environment, so a developer's
 * shell cannot change the outcome.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

#define DATA "tests/unit/data/config/"

/* Every setting, in the order of struct config. */
static const char *const all_keys[] = {
    "http_body_max",  "base_url",	    "database",	      "pg_bindir",	    "var_dir",
    "assets_dir",     "templates_dir",	    "migrations_dir", "task_threads",	    "job_lease",
    "dedup_schedule", "argon2_t_cost",	    "argon2_m_cost",  "argon2_parallelism", "session_idle",
    "session_max",    "login_max_failures", "login_window",   "smtp_url",	    "smtp_user",
    "smtp_password",  "smtp_from",	    "demo",	      "log_format",	    "log_access",
    "trust_proxy",
};

#define NKEYS (sizeof all_keys / sizeof all_keys[0])

/*
 * The keys of the HTTP server before Kore and the message each one stops the
 * start with (after "file:line: " or "environment SPANNER_KEY: ").
 */
static const char *const moved[][2] = {
    {"bind", "`bind` is now set in kore.conf (`bind ADDRESS PORT` in Kore's `server default` "
	     "block)"},
    {"workers", "`workers` is now set in kore.conf (`workers`; left out, Kore starts one per CPU)"},
    {"http_timeout", "`http_timeout` is now set in kore.conf (`http_keepalive_time`, "
		     "`http_header_timeout`, `http_body_timeout`)"},
    {"http_conn_max",
     "`http_conn_max` is now set in kore.conf (`worker_max_connections`, per Kore worker)"},
    {"http_conn_per_ip", "`http_conn_per_ip` is now the TLS proxy's (nginx `limit_conn`; Kore "
			 "has no per-address limit)"},
    {"tls_cert", "`tls_cert` is now the TLS proxy's (`ssl_certificate` in "
		 "conf/nginx/spanner.conf; Kore serves plain HTTP)"},
    {"tls_key", "`tls_key` is now the TLS proxy's (`ssl_certificate_key` in "
		"conf/nginx/spanner.conf; Kore serves plain HTTP)"},
    {"pgsql_conn_max",
     "`pgsql_conn_max` is now set in kore.conf (`pgsql_conn_max`, per Kore worker)"},
};

#define NMOVED (sizeof moved / sizeof moved[0])

static void clear_env(void);
static int setup(void **state);
static void assert_str_or_null(const char *got, const char *want);
static void assert_same_config(const struct config *a, const struct config *b);
static void assert_load_fails(const char *path, const char *want);
static char *read_text(const char *path);
static void env_var(char *var, size_t size, const char *key);

extern char **environ;

/* Removes every SPANNER_* variable; restarts the scan because unsetenv reshuffles environ. */
static void
clear_env(void)
{
	int again = 1;

	while (again) {
		again = 0;
		for (char **e = environ; *e; e++) {
			if (!strncmp(*e, "SPANNER_", 8)) {
				char name[128];
				size_t n = strcspn(*e, "=");

				assert_true(n < sizeof name);
				memcpy(name, *e, n);
				name[n] = '\0';
				unsetenv(name);
				again = 1;
				break;
			}
		}
	}
}

static int
setup(void **state)
{
	(void)state;
	clear_env();
	return 0;
}

static void
assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

static void
assert_same_config(const struct config *a, const struct config *b)
{
	assert_int_equal(a->http_body_max, b->http_body_max);
	assert_str_or_null(a->base_url, b->base_url);
	assert_str_or_null(a->database, b->database);
	assert_str_or_null(a->pg_bindir, b->pg_bindir);
	assert_str_or_null(a->var_dir, b->var_dir);
	assert_str_or_null(a->assets_dir, b->assets_dir);
	assert_str_or_null(a->templates_dir, b->templates_dir);
	assert_str_or_null(a->migrations_dir, b->migrations_dir);
	assert_int_equal(a->task_threads, b->task_threads);
	assert_int_equal(a->job_lease, b->job_lease);
	assert_str_or_null(a->dedup_schedule, b->dedup_schedule);
	assert_int_equal(a->argon2_t_cost, b->argon2_t_cost);
	assert_int_equal(a->argon2_m_cost, b->argon2_m_cost);
	assert_int_equal(a->argon2_parallelism, b->argon2_parallelism);
	assert_int_equal(a->session_idle, b->session_idle);
	assert_int_equal(a->session_max, b->session_max);
	assert_int_equal(a->login_max_failures, b->login_max_failures);
	assert_int_equal(a->login_window, b->login_window);
	assert_str_or_null(a->smtp_url, b->smtp_url);
	assert_str_or_null(a->smtp_user, b->smtp_user);
	assert_str_or_null(a->smtp_password, b->smtp_password);
	assert_str_or_null(a->smtp_from, b->smtp_from);
	assert_int_equal(a->demo, b->demo);
	assert_int_equal(a->log_format, b->log_format);
	assert_int_equal(a->log_access, b->log_access);
	assert_int_equal(a->trust_proxy, b->trust_proxy);
}

static void
assert_load_fails(const char *path, const char *want)
{
	struct config c;
	char err[512] = "";

	config_defaults(&c);
	assert_int_equal(config_load(&c, path, err, sizeof err), -1);
	assert_string_equal(err, want);
	config_free(&c);
}

static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	text = malloc((size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* "SPANNER_" + key in upper case. */
static void
env_var(char *var, size_t size, const char *key)
{
	size_t j = (size_t)snprintf(var, size, "SPANNER_");

	assert_true(j + strlen(key) < size);
	for (; *key; key++)
		var[j++] = (char)(*key >= 'a' && *key <= 'z' ? *key - 'a' + 'A' : *key);
	var[j] = '\0';
}

/* ---------------------------------------------------------------- defaults */

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.http_body_max, 10551296);
	assert_int_equal(c.http_body_max, 10 * 1024 * 1024 + 64 * 1024);
	assert_string_equal(c.base_url, "http://127.0.0.1:8080");
	assert_null(c.database);
	assert_null(c.pg_bindir);
	assert_string_equal(c.var_dir, "var");
	assert_string_equal(c.assets_dir, "assets");
	assert_string_equal(c.templates_dir, "templates");
	assert_string_equal(c.migrations_dir, "migrations");
	assert_int_equal(c.task_threads, 2);
	assert_int_equal(c.job_lease, 60);
	assert_string_equal(c.dedup_schedule, "0 3 * * 0");
	assert_int_equal(c.argon2_t_cost, 3);
	assert_int_equal(c.argon2_m_cost, 19456);
	assert_int_equal(c.argon2_parallelism, 1);
	assert_int_equal(c.session_idle, 120);
	assert_int_equal(c.session_max, 12);
	assert_int_equal(c.login_max_failures, 5);
	assert_int_equal(c.login_window, 900);
	assert_null(c.smtp_url);
	assert_null(c.smtp_user);
	assert_null(c.smtp_password);
	assert_string_equal(c.smtp_from, "Spanner <spanner@localhost>");
	assert_int_equal(c.demo, 1);
	assert_int_equal(c.log_format, LOG_FORMAT_TEXT);
	assert_int_equal(c.log_access, 1);
	assert_int_equal(c.trust_proxy, 0);
	config_free(&c);
	/* config_free leaves c zeroed, so freeing again is harmless. */
	assert_null(c.base_url);
	config_free(&c);
}

static void
test_load_without_file_is_defaults(void **state)
{
	struct config c, d;
	char err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load(&c, NULL, err, sizeof err), 0);
	config_defaults(&d);
	assert_same_config(&c, &d);
	config_free(&c);
	config_free(&d);
}

/* The shipped file says exactly what the built-in defaults are. */
static void
test_shipped_conf_matches_defaults(void **state)
{
	struct config c, d;
	char err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load(&c, "conf/spanner.conf", err, sizeof err), 0);
	config_defaults(&d);
	assert_same_config(&c, &d);
	config_free(&c);
	config_free(&d);
}

/* Every setting appears in conf/spanner.conf, set or (if unset by default) commented out. */
static void
test_shipped_conf_lists_every_setting(void **state)
{
	char *text = read_text("conf/spanner.conf");

	(void)state;
	for (size_t i = 0; i < NKEYS; i++) {
		char set[64], commented[64];

		snprintf(set, sizeof set, "\n%s ", all_keys[i]);
		snprintf(commented, sizeof commented, "\n# %s ", all_keys[i]);
		if (!strstr(text, set) && !strstr(text, commented))
			fail_msg("conf/spanner.conf does not mention %s", all_keys[i]);
	}
	/* Secrets are never given a value in the shipped file. */
	assert_null(strstr(text, "\nsmtp_password "));
	assert_non_null(strstr(text, "\n# smtp_password "));
	/* The keys Kore took over are not offered, not even commented out. */
	for (size_t i = 0; i < NMOVED; i++) {
		char set[64], commented[64];

		snprintf(set, sizeof set, "\n%s ", moved[i][0]);
		snprintf(commented, sizeof commented, "\n# %s ", moved[i][0]);
		if (strstr(text, set) || strstr(text, commented))
			fail_msg("conf/spanner.conf still offers %s", moved[i][0]);
	}
	free(text);
}

static void
test_docker_conf(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	setenv("SPANNER_DATABASE", "postgresql://spanner:pw@db:5432/spanner", 1);
	config_defaults(&c);
	assert_int_equal(config_load(&c, "conf/spanner.docker.conf", err, sizeof err), 0);
	assert_string_equal(c.database, "postgresql://spanner:pw@db:5432/spanner");
	assert_int_equal(c.demo, 0);
	assert_int_equal(c.log_format, LOG_FORMAT_JSON);
	assert_int_equal(c.log_access, 1);
	config_free(&c);
}

/* ---------------------------------------------------------------- good files */

static void
test_good_file(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load(&c, DATA "good.conf", err, sizeof err), 0);
	assert_string_equal(err, "");
	assert_int_equal(c.http_body_max, 20 * 1024 * 1024);
	/* The trailing slash is dropped so base_url + "/path" never doubles it. */
	assert_string_equal(c.base_url, "https://spanner.example.com");
	assert_string_equal(
	    c.database, "postgresql://spanner:secret@db.example.com:5432/spanner?sslmode=require");
	assert_string_equal(c.pg_bindir, "/usr/lib/postgresql/15/bin");
	assert_string_equal(c.var_dir, "/var/lib/spanner");
	assert_string_equal(c.assets_dir, "/usr/share/spanner/assets");
	assert_string_equal(c.templates_dir, "/usr/share/spanner/templates");
	assert_string_equal(c.migrations_dir, "/usr/share/spanner/migrations");
	assert_int_equal(c.task_threads, 4);
	assert_int_equal(c.job_lease, 300);
	assert_string_equal(c.dedup_schedule, "30 2 * * mon-fri");
	assert_int_equal(c.argon2_t_cost, 4);
	assert_int_equal(c.argon2_m_cost, 65536);
	assert_int_equal(c.argon2_parallelism, 2);
	assert_int_equal(c.session_idle, 30);
	assert_int_equal(c.session_max, 24);
	assert_int_equal(c.login_max_failures, 10);
	assert_int_equal(c.login_window, 600);
	assert_string_equal(c.smtp_url, "smtps://mail.example.com:465");
	assert_string_equal(c.smtp_user, "spanner");
	assert_string_equal(c.smtp_password, "s3cret#not-a-comment");
	assert_string_equal(c.smtp_from, "Spanner CRM <crm@example.com>");
	assert_int_equal(c.demo, 0);
	assert_int_equal(c.log_format, LOG_FORMAT_JSON);
	assert_int_equal(c.log_access, 0);
	assert_int_equal(c.trust_proxy, 1);
	config_free(&c);
}

static void
test_comments_and_equals(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load(&c, DATA "comments.conf", err, sizeof err), 0);
	assert_int_equal(c.task_threads, 3);
	assert_int_equal(c.job_lease, 45);
	assert_int_equal(c.session_max, 48);
	assert_string_equal(c.smtp_password, "pa ss#word");
	assert_string_equal(c.base_url, "http://crm.example/#frag");
	assert_int_equal(c.log_format, LOG_FORMAT_JSON);
	assert_int_equal(c.demo, 1);
	assert_string_equal(c.dedup_schedule, "@weekly");
	assert_int_equal(c.http_body_max, 64 * 1024);
	/* The last line has no newline and still counts. */
	assert_int_equal(c.log_access, 0);
	/* Untouched settings keep their defaults. */
	assert_int_equal(c.argon2_m_cost, 19456);
	config_free(&c);
}

static void
test_crlf_line_ends(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load(&c, DATA "crlf.conf", err, sizeof err), 0);
	assert_int_equal(c.task_threads, 5);
	assert_string_equal(c.smtp_from, "Ops <ops@example.com>");
	config_free(&c);
}

/* config_load builds on what c holds, so files stack (and nothing leaks doing so). */
static void
test_files_stack(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load(&c, DATA "good.conf", err, sizeof err), 0);
	assert_int_equal(config_load(&c, DATA "comments.conf", err, sizeof err), 0);
	/* From the second file. */
	assert_int_equal(c.task_threads, 3);
	assert_string_equal(c.smtp_password, "pa ss#word");
	/* From the first, untouched by the second. */
	assert_int_equal(c.argon2_m_cost, 65536);
	assert_string_equal(
	    c.database, "postgresql://spanner:secret@db.example.com:5432/spanner?sslmode=require");
	config_free(&c);
}

/* ---------------------------------------------------------------- bad files */

static void
test_bad_files(void **state)
{
	static const struct {
		const char *file, *err;
	} cases[] = {
	    {"bad_unknown.conf", DATA "bad_unknown.conf:3: unknown setting 'tsak_threads'"},
	    {"bad_missing.conf", DATA "bad_missing.conf:3: job_lease: missing value"},
	    {"bad_number.conf",
	     DATA "bad_number.conf:3: task_threads: must be a number from 0 to 64"},
	    {"bad_range.conf",
	     DATA "bad_range.conf:3: argon2_m_cost: must be a number from 8192 to 4194304"},
	    {"bad_bool.conf",
	     DATA "bad_bool.conf:3: demo: must be on or off (or yes/no, true/false, 1/0)"},
	    {"bad_cron.conf", DATA "bad_cron.conf:3: dedup_schedule: must be a cron expression or "
				   "off (hour: 25 is out of range 0-23)"},
	    {"bad_size.conf", DATA "bad_size.conf:2: http_body_max: must be a size from 1K to 1G "
				   "(bytes, or a number followed by K, M or G)"},
	    {"bad_log_format.conf", DATA "bad_log_format.conf:2: log_format: must be text or json"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[256];

		snprintf(path, sizeof path, DATA "%s", cases[i].file);
		assert_load_fails(path, cases[i].err);
	}
}

static void
test_missing_file(void **state)
{
	(void)state;
	assert_load_fails(DATA "no-such.conf",
			  DATA "no-such.conf: cannot open: No such file or directory");
	assert_load_fails(DATA, DATA ": cannot read: Is a directory");
}

/* ---------------------------------------------------------------- environment */

static void
test_env_overrides_file(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	setenv("SPANNER_TASK_THREADS", "7", 1);
	setenv("SPANNER_TRUST_PROXY", "off", 1);
	setenv("SPANNER_HTTP_BODY_MAX", "1M", 1);
	setenv("SPANNER_DATABASE", "postgresql:///other", 1);
	setenv("SPANNER_DEMO", "on", 1);
	setenv("SPANNER_DEDUP_SCHEDULE", "off", 1);
	setenv("SPANNER_SMTP_PASSWORD", "from env # with a hash", 1);
	/* Empty means not set: the file's value stays. */
	setenv("SPANNER_JOB_LEASE", "", 1);
	config_defaults(&c);
	assert_int_equal(config_load(&c, DATA "good.conf", err, sizeof err), 0);
	assert_int_equal(c.task_threads, 7);
	assert_int_equal(c.trust_proxy, 0);
	assert_int_equal(c.http_body_max, 1024 * 1024);
	assert_string_equal(c.database, "postgresql:///other");
	assert_int_equal(c.demo, 1);
	assert_string_equal(c.dedup_schedule, "off");
	/* The environment has no comment syntax: the value is taken as it is. */
	assert_string_equal(c.smtp_password, "from env # with a hash");
	assert_int_equal(c.job_lease, 300);
	/* Not overridden: from the file. */
	assert_int_equal(c.argon2_m_cost, 65536);
	config_free(&c);
}

/* Every setting has its variable, not just the ones the file tests happen to use. */
static void
test_env_every_setting(void **state)
{
	static const char *const values[][2] = {
	    {"SPANNER_HTTP_BODY_MAX", "2G"},
	    {"SPANNER_BASE_URL", "https://b.example"},
	    {"SPANNER_DATABASE", "postgresql://db/x"},
	    {"SPANNER_PG_BINDIR", "/pg/bin"},
	    {"SPANNER_VAR_DIR", "/v"},
	    {"SPANNER_ASSETS_DIR", "/a"},
	    {"SPANNER_TEMPLATES_DIR", "/t"},
	    {"SPANNER_MIGRATIONS_DIR", "/m"},
	    {"SPANNER_TASK_THREADS", "0"},
	    {"SPANNER_JOB_LEASE", "5"},
	    {"SPANNER_DEDUP_SCHEDULE", "@daily"},
	    {"SPANNER_ARGON2_T_COST", "1"},
	    {"SPANNER_ARGON2_M_COST", "8192"},
	    {"SPANNER_ARGON2_PARALLELISM", "16"},
	    {"SPANNER_SESSION_IDLE", "1"},
	    {"SPANNER_SESSION_MAX", "1"},
	    {"SPANNER_LOGIN_MAX_FAILURES", "1000"},
	    {"SPANNER_LOGIN_WINDOW", "1"},
	    {"SPANNER_SMTP_URL", "smtp://127.0.0.1:2525"},
	    {"SPANNER_SMTP_USER", "u"},
	    {"SPANNER_SMTP_PASSWORD", "p"},
	    {"SPANNER_SMTP_FROM", "f@example.com"},
	    {"SPANNER_DEMO", "false"},
	    {"SPANNER_LOG_FORMAT", "json"},
	    {"SPANNER_LOG_ACCESS", "0"},
	    {"SPANNER_TRUST_PROXY", "true"},
	};
	struct config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(sizeof values / sizeof values[0], NKEYS);
	/* 2G is over the 1G limit: first check that the variable is really read. */
	for (size_t i = 0; i < NKEYS; i++) {
		char var[64];

		/* The same keys, in the same order, as all_keys. */
		env_var(var, sizeof var, all_keys[i]);
		assert_string_equal(values[i][0], var);
		setenv(values[i][0], values[i][1], 1);
	}
	config_defaults(&c);
	assert_int_equal(config_load(&c, NULL, err, sizeof err), -1);
	assert_string_equal(err, "environment SPANNER_HTTP_BODY_MAX: must be a size from 1K to 1G "
				 "(bytes, or a number followed by K, M or G)");
	config_free(&c);

	setenv("SPANNER_HTTP_BODY_MAX", "1G", 1);
	config_defaults(&c);
	assert_int_equal(config_load(&c, NULL, err, sizeof err), 0);
	assert_int_equal(c.http_body_max, 1024 * 1024 * 1024);
	assert_string_equal(c.base_url, "https://b.example");
	assert_string_equal(c.database, "postgresql://db/x");
	assert_string_equal(c.pg_bindir, "/pg/bin");
	assert_string_equal(c.var_dir, "/v");
	assert_string_equal(c.assets_dir, "/a");
	assert_string_equal(c.templates_dir, "/t");
	assert_string_equal(c.migrations_dir, "/m");
	assert_int_equal(c.task_threads, 0);
	assert_int_equal(c.job_lease, 5);
	assert_string_equal(c.dedup_schedule, "@daily");
	assert_int_equal(c.argon2_t_cost, 1);
	assert_int_equal(c.argon2_m_cost, 8192);
	assert_int_equal(c.argon2_parallelism, 16);
	assert_int_equal(c.session_idle, 1);
	assert_int_equal(c.session_max, 1);
	assert_int_equal(c.login_max_failures, 1000);
	assert_int_equal(c.login_window, 1);
	assert_string_equal(c.smtp_url, "smtp://127.0.0.1:2525");
	assert_string_equal(c.smtp_user, "u");
	assert_string_equal(c.smtp_password, "p");
	assert_string_equal(c.smtp_from, "f@example.com");
	assert_int_equal(c.demo, 0);
	assert_int_equal(c.log_format, LOG_FORMAT_JSON);
	assert_int_equal(c.log_access, 0);
	assert_int_equal(c.trust_proxy, 1);
	config_free(&c);
}

static void
test_env_bad_value(void **state)
{
	static const char *const cases[][3] = {
	    {"SPANNER_ARGON2_PARALLELISM", "0",
	     "environment SPANNER_ARGON2_PARALLELISM: must be a number from 1 to 16"},
	    {"SPANNER_ARGON2_PARALLELISM", " 4",
	     "environment SPANNER_ARGON2_PARALLELISM: must be a number from 1 to 16"},
	    {"SPANNER_LOG_FORMAT", "xml", "environment SPANNER_LOG_FORMAT: must be text or json"},
	    {"SPANNER_BASE_URL", "crm.example.com",
	     "environment SPANNER_BASE_URL: must be an http:// or https:// address"},
	    {"SPANNER_TRUST_PROXY", "proxy",
	     "environment SPANNER_TRUST_PROXY: must be on or off (or yes/no, true/false, 1/0)"},
	    {"SPANNER_DEDUP_SCHEDULE", "daily",
	     "environment SPANNER_DEDUP_SCHEDULE: must be a cron expression or off (expected 5 "
	     "fields (minute hour day-of-month month day-of-week), found 1)"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		clear_env();
		setenv(cases[i][0], cases[i][1], 1);
		assert_load_fails(DATA "good.conf", cases[i][2]);
	}
	/* The file is read first, so its mistakes are reported before the environment's. */
	clear_env();
	setenv("SPANNER_ARGON2_PARALLELISM", "0", 1);
	assert_load_fails(DATA "bad_unknown.conf",
			  DATA "bad_unknown.conf:3: unknown setting 'tsak_threads'");
}

/* ---------------------------------------------------------------- keys Kore took over */

/* An old file stops at its first such key, with where the setting went. */
static void
test_moved_key_in_file(void **state)
{
	char want[512];

	(void)state;
	snprintf(want, sizeof want, DATA "moved_bind.conf:3: %s", moved[0][1]);
	assert_load_fails(DATA "moved_bind.conf", want);
}

/* Each key, in a file of its own: one message per key, any value, `=` or not. */
static void
test_moved_keys_in_file(void **state)
{
	static const char *const values[] = {"127.0.0.1:8080", "= 4", "30",
					     "=1024",	       "64",  "/etc/spanner/cert.pem",
					     "= /etc/k.pem",   "2"};
	char path[] = "/tmp/spanner-test-config-XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(sizeof values / sizeof values[0], NMOVED);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < NMOVED; i++) {
		FILE *f = fopen(path, "w");
		char want[512];

		assert_non_null(f);
		fprintf(f, "# before Kore\ndemo off\n  %s %s   # old\nlog_access on\n", moved[i][0],
			values[i]);
		assert_int_equal(fclose(f), 0);
		snprintf(want, sizeof want, "%s:3: %s", path, moved[i][1]);
		assert_load_fails(path, want);
	}
	unlink(path);
}

/* config_set says the same, without a file and line. */
static void
test_moved_keys_set(void **state)
{
	struct config c;
	char err[512];

	(void)state;
	config_defaults(&c);
	for (size_t i = 0; i < NMOVED; i++) {
		assert_int_equal(config_set(&c, moved[i][0], "1", err, sizeof err), -1);
		assert_string_equal(err, moved[i][1]);
	}
	/* Only the exact names: a look-alike is just unknown. */
	assert_int_equal(config_set(&c, "Workers", "1", err, sizeof err), -1);
	assert_string_equal(err, "unknown setting 'Workers'");
	assert_int_equal(config_set(&c, "tls", "1", err, sizeof err), -1);
	assert_string_equal(err, "unknown setting 'tls'");
	config_free(&c);
}

/*
 * SPANNER_<KEY> of a moved key stops the start too, all but SPANNER_BIND,
 * which is scripts/kore-serve's input (it rewrites kore.conf's bind) and is in
 * the environment of every server the tests and benchmarks start.
 */
static void
test_moved_keys_in_env(void **state)
{
	struct config c, d;
	char err[512] = "", var[64], want[512];

	(void)state;
	for (size_t i = 0; i < NMOVED; i++) {
		if (!strcmp(moved[i][0], "bind"))
			continue;
		clear_env();
		env_var(var, sizeof var, moved[i][0]);
		setenv(var, "4", 1);
		snprintf(want, sizeof want, "environment %s: %s", var, moved[i][1]);
		assert_load_fails(DATA "good.conf", want);
		assert_load_fails(NULL, want);
		/* Empty is "not set", as for every variable. */
		setenv(var, "", 1);
		config_defaults(&c);
		assert_int_equal(config_load(&c, NULL, err, sizeof err), 0);
		config_free(&c);
	}

	/* The file is read first, so its mistakes are reported before the environment's. */
	clear_env();
	setenv("SPANNER_PGSQL_CONN_MAX", "8", 1);
	snprintf(want, sizeof want, DATA "moved_bind.conf:3: %s", moved[0][1]);
	assert_load_fails(DATA "moved_bind.conf", want);

	/* kore-serve's variables and the others that are not settings are left alone. */
	clear_env();
	setenv("SPANNER_BIND", "127.0.0.1:18080", 1);
	setenv("SPANNER_KORE_WORKERS", "2", 1);
	setenv("SPANNER_MODULE", "build/spanner-asan.so", 1);
	setenv("SPANNER_KORE_DIR", "var/kore/18080", 1);
	setenv("SPANNER_PG_FSYNC", "off", 1);
	setenv("SPANNER_ADMIN_PASSWORD", "x", 1);
	config_defaults(&c);
	assert_int_equal(config_load(&c, NULL, err, sizeof err), 0);
	config_defaults(&d);
	assert_same_config(&c, &d);
	config_free(&c);
	config_free(&d);
}

/* ---------------------------------------------------------------- config_set */

static void
test_set_values(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	config_defaults(&c);

	/* Sizes: plain bytes or binary multiples, 1K at least. */
	assert_int_equal(config_set(&c, "http_body_max", "1024", err, sizeof err), 0);
	assert_int_equal(c.http_body_max, 1024);
	assert_int_equal(config_set(&c, "http_body_max", "64k", err, sizeof err), 0);
	assert_int_equal(c.http_body_max, 65536);
	assert_int_equal(config_set(&c, "http_body_max", "10M", err, sizeof err), 0);
	assert_int_equal(c.http_body_max, 10485760);
	assert_int_equal(config_set(&c, "http_body_max", "1g", err, sizeof err), 0);
	assert_int_equal(c.http_body_max, 1073741824);
	assert_int_equal(config_set(&c, "http_body_max", "1023", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "http_body_max", "10MB", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "http_body_max", "M", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "http_body_max", "99999999999999999999G", err, sizeof err),
			 -1);
	/* A rejected value leaves the old one. */
	assert_int_equal(c.http_body_max, 1073741824);

	/* Numbers: strict decimal, range inclusive at both ends. */
	assert_int_equal(config_set(&c, "argon2_parallelism", "1", err, sizeof err), 0);
	assert_int_equal(c.argon2_parallelism, 1);
	assert_int_equal(config_set(&c, "argon2_parallelism", "16", err, sizeof err), 0);
	assert_int_equal(c.argon2_parallelism, 16);
	assert_int_equal(config_set(&c, "argon2_parallelism", "17", err, sizeof err), -1);
	assert_string_equal(err, "must be a number from 1 to 16");
	assert_int_equal(config_set(&c, "argon2_parallelism", "-1", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "argon2_parallelism", "4x", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "argon2_parallelism", "0x10", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "argon2_parallelism", "+4", err, sizeof err), -1);
	assert_int_equal(
	    config_set(&c, "argon2_parallelism", "99999999999999999999", err, sizeof err), -1);
	assert_int_equal(c.argon2_parallelism, 16);
	assert_int_equal(config_set(&c, "job_lease", "4", err, sizeof err), -1);
	assert_string_equal(err, "must be a number from 5 to 86400");
	assert_int_equal(config_set(&c, "task_threads", "0", err, sizeof err), 0);
	assert_int_equal(config_set(&c, "task_threads", "65", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "session_idle", "0", err, sizeof err), -1);

	/* Booleans in every spelling and any case. */
	static const char *const yes[] = {"on", "yes", "true", "1", "ON", "Yes", "TRUE"};
	static const char *const no[] = {"off", "no", "false", "0", "OFF", "No", "False"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		assert_int_equal(config_set(&c, "demo", no[i], err, sizeof err), 0);
		assert_int_equal(c.demo, 0);
		assert_int_equal(config_set(&c, "demo", yes[i], err, sizeof err), 0);
		assert_int_equal(c.demo, 1);
	}
	assert_int_equal(config_set(&c, "log_access", "2", err, sizeof err), -1);

	/* Schedules: a cron expression as written, or off in any case, stored as "off". */
	assert_int_equal(config_set(&c, "dedup_schedule", "OFF", err, sizeof err), 0);
	assert_string_equal(c.dedup_schedule, "off");
	assert_int_equal(config_set(&c, "dedup_schedule", "*/30 * * * *", err, sizeof err), 0);
	assert_string_equal(c.dedup_schedule, "*/30 * * * *");
	assert_int_equal(config_set(&c, "dedup_schedule", "61 * * * *", err, sizeof err), -1);
	assert_string_equal(err,
			    "must be a cron expression or off (minute: 61 is out of range 0-59)");
	assert_string_equal(c.dedup_schedule, "*/30 * * * *");

	/* URLs. */
	assert_int_equal(config_set(&c, "base_url", "https://x.example///", err, sizeof err), 0);
	assert_string_equal(c.base_url, "https://x.example");
	assert_int_equal(config_set(&c, "base_url", "x.example", err, sizeof err), -1);
	assert_string_equal(err, "must be an http:// or https:// address");
	assert_int_equal(config_set(&c, "base_url", "http://", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "smtp_url", "smtp://relay:25", err, sizeof err), 0);
	assert_int_equal(config_set(&c, "smtp_url", "http://relay", err, sizeof err), -1);
	assert_string_equal(err, "must start with smtp:// or smtps://");
	assert_string_equal(c.smtp_url, "smtp://relay:25");

	/* Unknown names and missing values. */
	assert_int_equal(config_set(&c, "Task_threads", "2", err, sizeof err), -1);
	assert_string_equal(err, "unknown setting 'Task_threads'");
	assert_int_equal(config_set(&c, "task_threads", "", err, sizeof err), -1);
	assert_string_equal(err, "missing value");
	assert_int_equal(config_set(&c, "task_threads", NULL, err, sizeof err), -1);
	/* err may be left out. */
	assert_int_equal(config_set(&c, "task_threads", "x", NULL, 0), -1);
	assert_int_equal(config_set(&c, "workers", "2", NULL, 0), -1);

	config_free(&c);
}

/* A short err buffer gets a truncated, still terminated message. */
static void
test_short_err_buffer(void **state)
{
	struct config c;
	char err[16];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load(&c, DATA "bad_unknown.conf", err, sizeof err), -1);
	assert_string_equal(err, "tests/unit/data");
	config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_defaults, setup),
	    cmocka_unit_test_setup(test_load_without_file_is_defaults, setup),
	    cmocka_unit_test_setup(test_shipped_conf_matches_defaults, setup),
	    cmocka_unit_test_setup(test_shipped_conf_lists_every_setting, setup),
	    cmocka_unit_test_setup(test_docker_conf, setup),
	    cmocka_unit_test_setup(test_good_file, setup),
	    cmocka_unit_test_setup(test_comments_and_equals, setup),
	    cmocka_unit_test_setup(test_crlf_line_ends, setup),
	    cmocka_unit_test_setup(test_files_stack, setup),
	    cmocka_unit_test_setup(test_bad_files, setup),
	    cmocka_unit_test_setup(test_missing_file, setup),
	    cmocka_unit_test_setup(test_env_overrides_file, setup),
	    cmocka_unit_test_setup(test_env_every_setting, setup),
	    cmocka_unit_test_setup(test_env_bad_value, setup),
	    cmocka_unit_test_setup(test_moved_key_in_file, setup),
	    cmocka_unit_test_setup(test_moved_keys_in_file, setup),
	    cmocka_unit_test_setup(test_moved_keys_set, setup),
	    cmocka_unit_test_setup(test_moved_keys_in_env, setup),
	    cmocka_unit_test_setup(test_set_values, setup),
	    cmocka_unit_test_setup(test_short_err_buffer, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
