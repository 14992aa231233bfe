/*
 * ctl — the command-line companion of the Kore module.
 *
 * Kore serves (kore -c kore.conf loads build/spanner.so, see app.c); this
 * small tool does what needs no server, with the same config and code:
 *
 *   spanner-ctl [-c FILE] --init-only   prepare the database (embedded cluster
 *                                       or URL, migrations, seed), print its
 *                                       conninfo, exit
 *   spanner-ctl [-c FILE] --stop-db     stop the embedded PostgreSQL cluster
 *   spanner-ctl [-c FILE] --drop-db     stop it and delete its data (tests)
 *   spanner-ctl [-c FILE] --backup PATH a consistent pg_dump of the database in
 *                                       use (make backup)
 *   spanner-ctl [-c FILE] --restore PATH the dump into a fresh database (the
 *                                       embedded cluster of an empty var dir,
 *                                       or an empty external one), then the
 *                                       migrations (make restore)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/backup.h"
#include "core/config.h"
#include "core/db.h"
#include "core/log.h"
#include "core/migrate.h"
#include "core/pgembed.h"
#include "domain/seed.h"

#define MAIN_DEFAULT_CONFIG "conf/spanner.conf"

static int main_prepare_database(const struct config *cfg, char **conninfo);
static int main_backup(const struct config *cfg, const char *path);
static int main_restore(const struct config *cfg, const char *path);
static void main_usage(void);

static void
main_usage(void)
{
	fprintf(stderr, "usage: spanner-ctl [-c config] --init-only | --stop-db | --drop-db | "
			"--backup PATH | --restore PATH\n");
}

/* Embedded cluster or configured URL, then migrations and the seed, on one connection. */
static int
main_prepare_database(const struct config *cfg, char **conninfo)
{
	db_conn *c;
	int rc = 0;

	*conninfo = cfg->database ? strdup(cfg->database) : pgembed_start(cfg);
	if (!*conninfo)
		return -1;
	c = db_connect(*conninfo);
	if (!c)
		return -1;
	if (migrate_run(c, cfg->migrations_dir) < 0 || seed_run(c, cfg, !cfg->database) != 0)
		rc = -1;
	db_close(c);
	return rc;
}

/* The database in use, as it is: a backup never creates or migrates anything. */
static int
main_backup(const struct config *cfg, const char *path)
{
	char *conninfo = cfg->database ? strdup(cfg->database) : pgembed_start(cfg);
	int rc = -1;

	if (!conninfo)
		return -1;
	if (!cfg->database && pgembed_created())
		log_error("backup: there was no database under %s to back up", cfg->var_dir);
	else
		rc = backup_dump(cfg, conninfo, path);
	free(conninfo);
	return rc;
}

/* Into a fresh database; then the migrations, so an older backup meets today's code. */
static int
main_restore(const struct config *cfg, const char *path)
{
	char *conninfo = cfg->database ? strdup(cfg->database) : pgembed_start(cfg);
	db_conn *c;
	int rc;

	if (!conninfo)
		return -1;
	rc = backup_restore(cfg, conninfo, path);
	if (rc == 0) {
		c = db_connect(conninfo);
		if (!c || migrate_run(c, cfg->migrations_dir) < 0)
			rc = -1;
		db_close(c);
	}
	if (rc == 0)
		printf("%s\n", conninfo);
	free(conninfo);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *path = getenv("SPANNER_CONFIG");
	struct config cfg;
	char err[512];
	char *conninfo = NULL;
	const char *backup = NULL, *restore = NULL;
	int init_only = 0, stop_db = 0, drop_db = 0, i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--init-only") == 0)
			init_only = 1;
		else if (strcmp(argv[i], "--stop-db") == 0)
			stop_db = 1;
		else if (strcmp(argv[i], "--drop-db") == 0)
			drop_db = 1;
		else if (strcmp(argv[i], "--backup") == 0 && i + 1 < argc)
			backup = argv[++i];
		else if (strcmp(argv[i], "--restore") == 0 && i + 1 < argc)
			restore = argv[++i];
		else {
			main_usage();
			return 2;
		}
	}
	if (!init_only && !stop_db && !drop_db && !backup && !restore) {
		main_usage();
		return 2;
	}
	if (!path && access(MAIN_DEFAULT_CONFIG, R_OK) == 0)
		path = MAIN_DEFAULT_CONFIG;

	config_defaults(&cfg);
	if (config_load(&cfg, path, err, sizeof err) != 0) {
		fprintf(stderr, "spanner: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	log_init(cfg.log_format);
	if (stop_db || drop_db) {
		rc = cfg.database ? 0 : drop_db ? pgembed_drop(&cfg) : pgembed_stop(&cfg);
		config_free(&cfg);
		return rc == 0 ? 0 : 1;
	}
	if (backup || restore) {
		rc = backup ? main_backup(&cfg, backup) : main_restore(&cfg, restore);
		config_free(&cfg);
		return rc == 0 ? 0 : 1;
	}
	rc = main_prepare_database(&cfg, &conninfo);
	if (rc == 0 && init_only)
		printf("%s\n", conninfo);
	free(conninfo);
	config_free(&cfg);
	return rc == 0 ? 0 : 1;
}
