/*
 * app — Spanner as a Kore module: the hooks Kore calls and the sandbox rules.
 *
 * Kore loads build/spanner.so (kore.conf's `load`), parses kore.conf, then
 * calls kore_parent_configure in the parent before it forks the workers.
 * Everything that reads files or may take seconds happens there, once: the
 * app config, the embedded PostgreSQL, migrations, the seed, the templates
 * and the asset fingerprint. The workers inherit all of it through fork and
 * only set up what is theirs: the HTTP layer's task runner and the job
 * threads (kore_worker_configure), inside Kore's seccomp sandbox.
 *
 * A bad setting, an unreachable database or a failed migration stops the
 * start with the reason before any worker exists.
 */
#include <errno.h>
#include <stdarg.h>
#include <kore/kore.h>
#include <kore/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/db.h"
#include "core/db_kore.h"
#include "core/http.h"
#include "core/jobs.h"
#include "core/log.h"
#include "core/mail.h"
#include "core/metrics.h"
#include "core/migrate.h"
#include "core/password.h"
#include "core/pgembed.h"
#include "core/render.h"
#include "core/static.h"
#include "domain/accounts.h"
#include "domain/company_import.h"
#include "domain/contact_import.h"
#include "domain/dedup.h"
#include "domain/housekeeping.h"
#include "domain/seed.h"
#include "web/routes.h"
#include "web/session.h"

#define APP_DEFAULT_CONFIG "conf/spanner.conf"
/* How long running jobs get to finish when a worker stops. */
#define APP_STOP_WAIT 5

void kore_parent_configure(int argc, char **argv);
void kore_worker_configure(void);
void kore_worker_teardown(void);
void kore_parent_teardown(void);
void kore_seccomp_hook(void);

static struct config app_cfg;
static char *app_conninfo;

static void app_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void app_prepare_database(void);

/*
 * What the worker sandbox must allow beyond Kore's own list (DESIGN.md,
 * "Seccomp"): glibc 2.36 stats files with newfstatat and registers rseq for
 * every thread; clone3 is refused with ENOSYS so glibc falls back to clone,
 * which Kore's task filter allows. The job threads' libpq and libcurl
 * connections need the socket calls below (SMTP resolves its host: uname).
 */
KORE_SECCOMP_FILTER(
    "spanner", KORE_SYSCALL_ALLOW(newfstatat), KORE_SYSCALL_ALLOW(rseq),
    KORE_SYSCALL_DENY(clone3, ENOSYS), KORE_SYSCALL_ALLOW(clone),
    KORE_SYSCALL_ALLOW(set_robust_list), KORE_SYSCALL_ALLOW(uname), KORE_SYSCALL_ALLOW(connect),
    KORE_SYSCALL_ALLOW_ARG(socket, 0, AF_INET), KORE_SYSCALL_ALLOW_ARG(socket, 0, AF_INET6),
    KORE_SYSCALL_ALLOW_ARG(socket, 0, AF_UNIX), KORE_SYSCALL_ALLOW(getsockopt),
    KORE_SYSCALL_ALLOW(getsockname), KORE_SYSCALL_ALLOW(getpeername), KORE_SYSCALL_ALLOW(recvmsg),
    KORE_SYSCALL_ALLOW(sendmsg), KORE_SYSCALL_ALLOW(sendmmsg), KORE_SYSCALL_ALLOW(faccessat),
    KORE_SYSCALL_ALLOW(statx), KORE_SYSCALL_ALLOW(fstatfs), KORE_SYSCALL_ALLOW(pread64),
    KORE_SYSCALL_ALLOW(getdents64), KORE_SYSCALL_ALLOW(gettid),
    KORE_SYSCALL_ALLOW(sched_getaffinity), KORE_SYSCALL_ALLOW(sched_yield),
    KORE_SYSCALL_ALLOW(prlimit64), KORE_SYSCALL_ALLOW(mremap), KORE_SYSCALL_ALLOW(pipe2),
    KORE_SYSCALL_ALLOW(eventfd2), KORE_SYSCALL_ALLOW(ftruncate), KORE_SYSCALL_ALLOW(fsync),
    KORE_SYSCALL_ALLOW(fdatasync), KORE_SYSCALL_ALLOW(sysinfo), KORE_SYSCALL_ALLOW(unlinkat),
    KORE_SYSCALL_ALLOW(readlinkat), KORE_SYSCALL_ALLOW(tgkill), KORE_SYSCALL_ALLOW(getppid),
    KORE_SYSCALL_ALLOW(shutdown));

static void
app_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "spanner: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	/* Before any worker exists: nothing to stop but this process. */
	_exit(1);
}

/* Embedded cluster or configured URL, then migrations and the seed, on one connection. */
static void
app_prepare_database(void)
{
	db_conn *c;

	app_conninfo = app_cfg.database ? xstrdup(app_cfg.database) : pgembed_start(&app_cfg);
	if (!app_conninfo)
		app_fail("the database could not be started (see above)");
	c = db_connect(app_conninfo);
	if (!c)
		app_fail("cannot connect to the database");
	if (migrate_run(c, app_cfg.migrations_dir) < 0)
		app_fail("migrations failed (see above)");
	if (seed_run(c, &app_cfg, !app_cfg.database) != 0)
		app_fail("seeding failed (see above)");
	db_close(c);
}

void
kore_parent_configure(int argc, char **argv)
{
	const char *path = getenv("SPANNER_CONFIG");
	char err[512], tmp[4096];

	(void)argc;
	(void)argv;
	/*
	 * The sanitizer build runs under an LD_PRELOAD of libasan (scripts/
	 * kore-serve); initdb and pg_ctl started from here must not inherit it
	 * (an instrumented-by-preload `postgres -V` never exits).
	 */
	unsetenv("LD_PRELOAD");
	if (!path && access(APP_DEFAULT_CONFIG, R_OK) == 0)
		path = APP_DEFAULT_CONFIG;
	config_defaults(&app_cfg);
	if (config_load(&app_cfg, path, err, sizeof err) != 0)
		app_fail("%s", err);
	log_init(app_cfg.log_format);
	/*
	 * Kore logs with printf: on a pipe that is block-buffered, so its lines
	 * came late, and the parent's unflushed buffer was copied into every
	 * worker at fork. One line at a time, as on a terminal.
	 */
	fflush(stdout);
	setvbuf(stdout, NULL, _IOLBF, 0);

	snprintf(tmp, sizeof tmp, "%s/tmp", app_cfg.var_dir);
	if (mkdir(app_cfg.var_dir, 0700) != 0 && errno != EEXIST)
		app_fail("cannot create %s: %s", app_cfg.var_dir, strerror(errno));
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		app_fail("cannot create %s: %s", tmp, strerror(errno));

	app_prepare_database();
	db_set_conninfo(app_conninfo);
	if (db_kore_register(app_conninfo) != 0)
		app_fail("cannot register the database with Kore");

	if (render_init(&app_cfg, err, sizeof err) != 0)
		app_fail("templates: %s", err);
	if (static_load(app_cfg.assets_dir) != 0)
		app_fail("cannot read the assets in %s", app_cfg.assets_dir);
	render_set_asset_version(static_version());
	render_set_hook(session_render_hook);
	password_setup(&app_cfg);
	accounts_init(&app_cfg);
	if (housekeeping_register() != 0 || company_import_register() != 0 ||
	    contact_import_register() != 0 || mail_register(&app_cfg) != 0 ||
	    dedup_register(&app_cfg) != 0)
		app_fail("cannot register the background jobs");

	if (metrics_init() != 0)
		app_fail("cannot map the shared request counters");
	http_setup(&app_cfg, routes_table);
	http_set_guard(session_guard);
	http_set_identify(session_identify);
	if (http_check_routes() != 0)
		app_fail("kore.conf and the route table disagree (see above)");
	log_info("spanner: ready; Kore serves the routes of kore.conf");
}

void
kore_worker_configure(void)
{
	/* The parent's setup is inherited; the task runner is per process. */
	http_setup(&app_cfg, routes_table);
	if (jobs_start(app_conninfo, app_cfg.task_threads, app_cfg.job_lease) != 0)
		log_error("spanner: the job threads did not start; background work waits");
}

/*
 * Under AddressSanitizer (the tests' module, with libasan preloaded into an
 * uninstrumented kore) exit() never returns: libasan's lazy start inside
 * libp11-kit's constructor leaves glibc's locale lock held, and p11-kit's
 * destructor then waits for it forever. What is left after the teardown is
 * freeing memory, so the sanitizer build ends the process right there.
 */
static void
app_exit_now(void)
{
#if defined(__SANITIZE_ADDRESS__)
	fflush(NULL);
	_exit(0);
#endif
}

void
kore_worker_teardown(void)
{
	jobs_stop(APP_STOP_WAIT);
	app_exit_now();
}

void
kore_parent_teardown(void)
{
#if defined(__SANITIZE_ADDRESS__)
	/* Kore removes its pid file after this hook, which does not return here. */
	if (kore_pidfile)
		unlink(kore_pidfile);
#endif
	app_exit_now();
}
