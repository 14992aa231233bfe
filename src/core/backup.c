/*
 * backup — see backup.h. The tools run as child processes with the
 * conninfo passed as their --dbname, their messages going to our stderr.
 */
#include "backup.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "pgembed.h"

static int backup_run(char *const argv[]);

/* Runs argv and waits: its exit status, or -1. */
static int
backup_run(char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv(argv[0], argv);
		fprintf(stderr, "spanner: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
backup_dump(const struct config *cfg, const char *conninfo, const char *path)
{
	char tool[PATH_MAX];
	buf file = BUF_INIT, db = BUF_INIT;
	struct stat st;
	int rc;

	if (pgembed_tool(cfg, "pg_dump", tool, sizeof tool) != 0)
		return -1;
	buf_printf(&file, "--file=%s", path);
	buf_printf(&db, "--dbname=%s", conninfo);
	{
		/*
		 * Custom format: compressed, and pg_restore can load it in one
		 * transaction. No owners or grants: the restored database belongs to
		 * whoever restores it, as the embedded cluster's user does.
		 */
		char *const argv[] = {tool,	 "--format=custom", "--no-owner", "--no-privileges",
				      file.data, db.data,	    NULL};

		rc = backup_run(argv);
	}
	buf_free(&file);
	buf_free(&db);
	if (rc != 0) {
		log_error("backup: pg_dump failed (exit %d); %s is not a backup", rc, path);
		unlink(path);
		return -1;
	}
	if (stat(path, &st) == 0)
		log_info("backup: %s written (%lld bytes)", path, (long long)st.st_size);
	return 0;
}

int
backup_restore(const struct config *cfg, const char *conninfo, const char *path)
{
	char tool[PATH_MAX];
	buf db = BUF_INIT;
	db_conn *c;
	PGresult *res;
	long tables;
	int rc;

	if (access(path, R_OK) != 0) {
		log_error("restore: cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (pgembed_tool(cfg, "pg_restore", tool, sizeof tool) != 0)
		return -1;
	c = db_connect(conninfo);
	if (!c)
		return -1;
	res = db_exec_params(c, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", 0,
			     NULL);
	tables = res ? atol(PQgetvalue(res, 0, 0)) : -1;
	if (res)
		PQclear(res);
	db_close(c);
	if (tables != 0) {
		if (tables > 0)
			log_error(
			    "restore: the database already holds %ld tables; restore into a "
			    "fresh one (an empty SPANNER_VAR_DIR for the embedded cluster, or "
			    "an empty database)",
			    tables);
		return tables > 0 ? 1 : -1;
	}
	buf_printf(&db, "--dbname=%s", conninfo);
	{
		char *const argv[] = {tool,
				      "--no-owner",
				      "--no-privileges",
				      "--exit-on-error",
				      "--single-transaction",
				      db.data,
				      (char *)path,
				      NULL};

		rc = backup_run(argv);
	}
	buf_free(&db);
	if (rc != 0) {
		log_error("restore: pg_restore failed (exit %d); nothing was restored", rc);
		return -1;
	}
	log_info("restore: %s restored", path);
	return 0;
}
