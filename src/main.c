/*
 * main — start-up and shutdown of one Spanner process.
 *
 * Start-up is a straight sequence, each step stopping the start with a clear
 * message when it fails: config → database (embedded cluster or URL) →
 * migrations → first Admin and demo data → templates and assets → pool →
 * task workers → HTTP. SIGTERM and SIGINT run it backwards, letting
 * in-flight requests and running jobs finish first.
 *
 *   spanner [-c FILE]     serve (default config: conf/spanner.conf if present)
 *   spanner --init-only   prepare the database, print its conninfo, exit
 *   spanner --stop-db     stop the embedded PostgreSQL cluster
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/db.h"
#include "core/http.h"
#include "core/jobs.h"
#include "core/log.h"
#include "core/mail.h"
#include "core/migrate.h"
#include "core/pgembed.h"
#include "core/render.h"
#include "core/static.h"
#include "domain/accounts.h"
#include "domain/company_import.h"
#include "domain/housekeeping.h"
#include "domain/seed.h"
#include "web/routes.h"
#include "web/session.h"

#define MAIN_DEFAULT_CONFIG "conf/spanner.conf"
/* How long in-flight requests and running jobs get to finish at shutdown. */
#define MAIN_STOP_WAIT 10

static int main_prepare_database(const struct config *cfg, char **conninfo);
static int main_serve(const struct config *cfg, const char *conninfo);
static void main_usage(void);

static void
main_usage(void)
{
	fprintf(stderr, "usage: spanner [-c config] [--init-only | --stop-db]\n");
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

static int
main_serve(const struct config *cfg, const char *conninfo)
{
	char err[512];
	sigset_t stop;
	int sig;

	if (render_init(cfg, err, sizeof err) != 0) {
		log_error("templates: %s", err);
		return -1;
	}
	if (static_load(cfg->assets_dir) != 0)
		return -1;
	render_set_asset_version(static_version());
	render_set_hook(session_render_hook);
	http_set_guard(session_guard);
	http_set_identify(session_identify);
	accounts_init(cfg);
	if (db_pool_init(conninfo, cfg->pgsql_conn_max) != 0)
		return -1;
	housekeeping_register();
	company_import_register();
	if (mail_register(cfg) != 0)
		return -1;
	if (jobs_start(conninfo, cfg->task_threads, cfg->job_lease) != 0)
		return -1;
	if (http_start(cfg, routes_table) != 0)
		return -1;
	log_info("spanner: serving on %s://%s:%d/ (%d workers, %d database connections, %d "
		 "task threads)",
		 cfg->tls_cert ? "https" : "http", cfg->bind_host, cfg->bind_port, cfg->workers,
		 cfg->pgsql_conn_max, cfg->task_threads);

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigwait(&stop, &sig);
	log_info("spanner: %s received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	http_stop(MAIN_STOP_WAIT);
	jobs_stop(MAIN_STOP_WAIT);
	db_pool_shutdown();
	render_shutdown();
	static_free();
	log_info("spanner: stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = getenv("SPANNER_CONFIG");
	struct config cfg;
	char err[512];
	char *conninfo = NULL;
	int init_only = 0, stop_db = 0, i, rc;
	sigset_t block;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--init-only") == 0)
			init_only = 1;
		else if (strcmp(argv[i], "--stop-db") == 0)
			stop_db = 1;
		else {
			main_usage();
			return 2;
		}
	}
	if (!path && access(MAIN_DEFAULT_CONFIG, R_OK) == 0)
		path = MAIN_DEFAULT_CONFIG;

	/*
	 * Block the stop signals before any thread exists, so every thread
	 * inherits the mask and only sigwait() in main sees them.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	signal(SIGPIPE, SIG_IGN);

	config_defaults(&cfg);
	if (config_load(&cfg, path, err, sizeof err) != 0) {
		fprintf(stderr, "spanner: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	log_init(cfg.log_format);
	if (stop_db) {
		rc = cfg.database ? 0 : pgembed_stop(&cfg);
		config_free(&cfg);
		return rc == 0 ? 0 : 1;
	}
	rc = main_prepare_database(&cfg, &conninfo);
	if (rc == 0 && init_only)
		printf("%s\n", conninfo);
	else if (rc == 0)
		rc = main_serve(&cfg, conninfo);
	free(conninfo);
	config_free(&cfg);
	return rc == 0 ? 0 : 1;
}
