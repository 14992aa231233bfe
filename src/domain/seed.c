/*
 * seed — first Admin, then (on a new embedded database) the demo data.
 *
 * Both happen only when the users table is empty, so a restart never adds
 * anything and an Admin who changed the demo data keeps their changes.
 */
#include "seed.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/password.h"
#include "domain/audit.h"

static int seed_admin(db_conn *c, const struct config *cfg, const char *password);
static int seed_demo(db_conn *c, const struct config *cfg);
static void seed_keep_password(const struct config *cfg, const char *password);

DB_STMT(stmt_user_count, "SELECT count(*) FROM users");
DB_STMT(stmt_admin_insert,
	"INSERT INTO users (email, name, password_hash) VALUES ($1, 'Admin', $2) RETURNING id");
DB_STMT(stmt_admin_role, "INSERT INTO user_roles (user_id, role_id) "
			 "SELECT $1, id FROM roles WHERE name = 'Admin'");
DB_STMT(stmt_demo_hash, "SELECT set_config('spanner.demo_password_hash', $1, true)");

static int
seed_admin(db_conn *c, const struct config *cfg, const char *password)
{
	char *hash = password_hash(cfg, password);
	const char *params[2] = {SEED_ADMIN_EMAIL, hash};
	PGresult *res;
	char *id;
	int rc = -1;

	if (!hash)
		return -1;
	if (db_begin(c) != 0)
		goto out;
	res = db_exec(c, &stmt_admin_insert, 2, params);
	free(hash);
	hash = NULL;
	if (!res)
		goto fail;
	id = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	params[0] = id;
	if (db_run(c, &stmt_admin_role, 1, params) != 0 ||
	    audit_record(c, NULL, "create", "user", id,
			 json_pack("{s:s, s:[s], s:s}", "email", SEED_ADMIN_EMAIL, "roles", "Admin",
				   "source", "first start")) != 0) {
		free(id);
		goto fail;
	}
	free(id);
	rc = db_commit(c);
	goto out;
fail:
	db_rollback(c);
out:
	free(hash);
	if (rc != 0)
		log_error("seed: cannot create the first Admin: %s", db_error_message(c));
	return rc;
}

/*
 * The demo file is run with the demo users' password hash in a transaction-
 * local setting, so the SQL file needs no templating and no hash is ever
 * written into a file.
 */
static int
seed_demo(db_conn *c, const struct config *cfg)
{
	char *hash = password_hash(cfg, SEED_DEMO_PASSWORD);
	const char *params[1] = {hash};
	FILE *f = fopen(SEED_DEMO_FILE, "rb");
	buf sql = BUF_INIT;
	char chunk[8192];
	size_t n;
	PGresult *res;

	if (!hash || !f) {
		log_warn("seed: no demo data (%s)", f ? "hashing failed" : "no " SEED_DEMO_FILE);
		free(hash);
		if (f)
			fclose(f);
		return 0;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&sql, chunk, n);
	fclose(f);
	if (db_begin(c) != 0 || db_run(c, &stmt_demo_hash, 1, params) != 0)
		goto fail;
	res = db_exec_sql(c, sql.data ? sql.data : "");
	if (!res)
		goto fail;
	PQclear(res);
	if (db_commit(c) != 0)
		goto fail;
	free(hash);
	buf_free(&sql);
	log_info("seed: demo data loaded; demo users sign in with the password '%s'",
		 SEED_DEMO_PASSWORD);
	return 0;
fail:
	log_error("seed: demo data failed: %s", db_error_message(c));
	db_rollback(c);
	free(hash);
	buf_free(&sql);
	return -1;
}

/* For `make run`: the embedded database's random Admin password, readable by the owner only. */
static void
seed_keep_password(const struct config *cfg, const char *password)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/admin-password", cfg->var_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	if (write(fd, password, strlen(password)) < 0 || write(fd, "\n", 1) < 0)
		log_warn("seed: could not keep the password in %s", path);
	close(fd);
}

int
seed_run(db_conn *c, const struct config *cfg, int embedded)
{
	const char *given = getenv("SPANNER_ADMIN_PASSWORD");
	char random[33];
	PGresult *res = db_exec(c, &stmt_user_count, 0, NULL);
	long users;

	if (!res)
		return -1;
	users = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (users > 0)
		return 0;

	if (!given || !*given) {
		if (password_random_hex(random, 12) != 0)
			return -1;
		given = random;
		fprintf(stderr,
			"\n  First start: the Admin account is %s with the password %s\n"
			"  (shown once; change it after signing in)\n\n",
			SEED_ADMIN_EMAIL, given);
		if (embedded)
			seed_keep_password(cfg, given);
	}
	if (seed_admin(c, cfg, given) != 0)
		return -1;
	log_info("seed: created %s", SEED_ADMIN_EMAIL);
	if (embedded && cfg->demo)
		return seed_demo(c, cfg);
	return 0;
}
