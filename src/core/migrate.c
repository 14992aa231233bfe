/*
 * migrate — numbered SQL files, applied once each.
 *
 * The files are read with PQexec (the simple query protocol), the one place
 * where SQL text is sent unparameterised: it comes from the project's own
 * files, never from a request.
 */
#include "migrate.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

/* An arbitrary, fixed key for pg_advisory_lock shared by every Spanner process. */
#define MIGRATE_LOCK_KEY "7263540001"

static int migrate_cmp(const void *a, const void *b);
static char *migrate_read(const char *path);
static int migrate_is_applied(db_conn *c, const char *version, int *applied);
static int migrate_apply(db_conn *c, const char *dir, const char *file);

DB_STMT(stmt_applied, "SELECT 1 FROM schema_migrations WHERE version = $1");
DB_STMT(stmt_record, "INSERT INTO schema_migrations (version) VALUES ($1)");

static int
migrate_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
migrate_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	buf b = BUF_INIT;
	char chunk[8192];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

static int
migrate_is_applied(db_conn *c, const char *version, int *applied)
{
	const char *params[1] = {version};
	PGresult *res = db_exec(c, &stmt_applied, 1, params);

	if (!res)
		return -1;
	*applied = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

static int
migrate_apply(db_conn *c, const char *dir, const char *file)
{
	char path[4096];
	const char *params[1] = {file};
	char *sql;
	PGresult *res;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	sql = migrate_read(path);
	if (!sql) {
		log_error("migrate: cannot read %s", path);
		return -1;
	}
	if (db_begin(c) != 0) {
		free(sql);
		return -1;
	}
	res = db_exec_sql(c, sql);
	free(sql);
	if (!res) {
		log_error("migrate: %s failed: %s", file, db_error_message(c));
		db_rollback(c);
		return -1;
	}
	PQclear(res);
	if (db_run(c, &stmt_record, 1, params) != 0 || db_commit(c) != 0) {
		log_error("migrate: cannot record %s: %s", file, db_error_message(c));
		db_rollback(c);
		return -1;
	}
	log_info("migrate: applied %s", file);
	return 0;
}

int
migrate_run(db_conn *c, const char *dir)
{
	DIR *d;
	struct dirent *e;
	char **files = NULL;
	size_t n = 0, i;
	int applied_now = 0, rc = 0;
	PGresult *res;

	res = db_exec_sql(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			     " version text PRIMARY KEY,"
			     " applied_at timestamptz NOT NULL DEFAULT now())");
	if (!res) {
		log_error("migrate: %s", db_error_message(c));
		return -1;
	}
	PQclear(res);
	d = opendir(dir);
	if (!d) {
		log_error("migrate: cannot open %s", dir);
		return -1;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0) {
			files = xrealloc(files, (n + 1) * sizeof *files);
			files[n++] = xstrdup(e->d_name);
		}
	}
	closedir(d);
	qsort(files, n, sizeof *files, migrate_cmp);

	res = db_exec_sql(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")");
	if (!res) {
		rc = -1;
		goto out;
	}
	PQclear(res);
	for (i = 0; i < n && rc == 0; i++) {
		int applied;

		if (migrate_is_applied(c, files[i], &applied) != 0)
			rc = -1;
		else if (!applied && migrate_apply(c, dir, files[i]) != 0)
			rc = -1;
		else if (!applied)
			applied_now++;
	}
	res = db_exec_sql(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
	PQclear(res);
out:
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
	if (rc == 0)
		log_info("migrate: %d applied now, %zu in all", applied_now, n);
	return rc == 0 ? applied_now : -1;
}
