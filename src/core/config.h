/*
 * config — the settings of one Spanner process.
 *
 * One file in Kore's style (conf/spanner.conf): one `key value` setting a
 * line, `#` starts a comment, blank lines ignored. Every setting can be
 * overridden by an environment variable named SPANNER_ + the key in upper
 * case (SPANNER_DATABASE, SPANNER_TRUST_PROXY, ...), which is how containers
 * configure it. A bad file or variable stops the start with file, line and
 * reason.
 *
 * The listener, the worker processes, connection limits and timeouts, TLS and
 * the database pool are Kore's (kore.conf), not settings here. A file line or
 * variable that still sets one of the old HTTP server's keys (bind, workers,
 * http_timeout, ...) stops the start with where the setting is now.
 */
#ifndef SPANNER_CONFIG_H
#define SPANNER_CONFIG_H

#include <stddef.h>

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

struct config {
	/* HTTP (the listener and its limits are kore.conf's) */
	size_t http_body_max; /* bytes; larger bodies get the app's 413 page */
	char *base_url;	      /* public address used in e-mailed links; no trailing '/' */

	/* Database (the pool of page connections is kore.conf's pgsql_conn_max) */
	char *database;	 /* postgresql://... ; NULL = embedded cluster under var_dir */
	char *pg_bindir; /* where initdb/pg_ctl live; NULL = search */

	/* Files */
	char *var_dir; /* embedded cluster, temp uploads */
	char *assets_dir;
	char *templates_dir;
	char *migrations_dir;

	/* Background jobs */
	int task_threads;     /* job threads in each Kore worker (not kore.conf's task_threads) */
	int job_lease;	      /* seconds a claimed job is held before another worker may take it */
	char *dedup_schedule; /* 5-field cron expression (src/core/cron.h), or exactly "off" */

	/* Accounts */
	int argon2_t_cost;
	int argon2_m_cost; /* KiB */
	int argon2_parallelism;
	int argon2_concurrency; /* Argon2 runs at once per Kore worker */
	int signin_queue;	/* sign-ins waiting for a turn per worker; more get 503 */
	int session_idle;	/* minutes */
	int session_max;	/* hours */
	int login_max_failures; /* failed sign-ins per account within login_window before a pause */
	int login_window;	/* seconds; an address may fail 4x login_max_failures */
	int login_slowdown_max; /* ms: the most an account under attack delays an attempt */

	/* Mail */
	char *smtp_url; /* smtp://host:port or smtps://...; NULL = outbox table only */
	char *smtp_user;
	char *smtp_password;
	char *smtp_from;

	/* Start-up */
	int demo; /* seed demo data into a new embedded database */
	enum log_format log_format;
	int log_access;	 /* one access log line per request */
	int trust_proxy; /* requests come through the TLS proxy (X-Forwarded-*) */
};

/*
 * Fills c with the defaults (documented in conf/spanner.conf). c needs no
 * preparation and whatever it held is overwritten, not freed; the strings it
 * allocates are released by config_free.
 */
void config_defaults(struct config *c);

/*
 * Reads path (NULL: defaults only) and then the SPANNER_* environment on top
 * of what c holds, which must be the defaults: call config_defaults(c) first.
 * Returns 0, or -1 with err holding "file:line: reason" (or
 * "environment SPANNER_X: reason"). Call config_free afterwards in both cases.
 */
int config_load(struct config *c, const char *path, char *err, size_t errlen);

/*
 * Applies one setting by name, as from the file. Returns 0 or -1 with a reason
 * that does not repeat the key ("must be a number from 1 to 256"); a rejected
 * value leaves the setting as it was.
 */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);

/* Frees the strings and zeroes c; calling it twice is harmless. */
void config_free(struct config *c);

#endif
