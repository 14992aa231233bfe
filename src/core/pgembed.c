/*
 * pgembed — initdb/pg_ctl for the embedded cluster.
 *
 * The commands run in a child process, as the `postgres` user when we are
 * root, with output to the log files under var/pg so a failure can be read afterwards.
 * If the project folder cannot be reached by that user (a checkout under
 * /root, mode 0700), the cluster lives under /var/tmp instead, in a folder
 * named after the project path, and the log says where.
 */
#include "pgembed.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

/* The socket name is "<dir>/.s.PGSQL.5432" and must fit in sun_path (108 bytes). */
#define PGEMBED_SOCKET_DIR_MAX 90

struct pgembed {
	char bindir[PATH_MAX];
	/* Each is built from the one before plus a short suffix; sized so it always fits. */
	char base[PATH_MAX + 16]; /* var/pg or the /var/tmp fallback */
	char data[PATH_MAX + 48];
	char sockdir[PATH_MAX + 48];
	char log[PATH_MAX + 48];
	const struct passwd *pw; /* run as this user; NULL = as ourselves */
};

static int pgembed_created_flag;

static int pgembed_prepare(const struct config *cfg, struct pgembed *pg);
static int pgembed_find_bindir(const struct config *cfg, char *out, size_t len);
static int pgembed_run(const struct pgembed *pg, const char *logfile, char *const argv[]);
static int pgembed_mkdir_owned(const struct pgembed *pg, const char *path, mode_t mode);
static int pgembed_user_can_use(const struct pgembed *pg, const char *path);
static unsigned long pgembed_hash(const char *s);
static int pgembed_create_database(const char *sockdir);
static int pgembed_upgraded(const struct pgembed *pg);

static unsigned long
pgembed_hash(const char *s)
{
	unsigned long h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static int
pgembed_find_bindir(const struct config *cfg, char *out, size_t len)
{
	static const char *const candidates[] = {
	    "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin",
	    "/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin"};
	char probe[PATH_MAX];
	size_t i;

	if (cfg->pg_bindir) {
		snprintf(out, len, "%s", cfg->pg_bindir);
		return 0;
	}
	for (i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
		snprintf(probe, sizeof probe, "%s/pg_ctl", candidates[i]);
		if (access(probe, X_OK) == 0) {
			snprintf(out, len, "%s", candidates[i]);
			return 0;
		}
	}
	log_error("database: no PostgreSQL server found (pg_ctl); install postgresql-15 "
		  "or set pg_bindir");
	return -1;
}

/* Runs argv as the cluster's user, output appended to logfile. Returns the exit status. */
static int
pgembed_run(const struct pgembed *pg, const char *logfile, char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			if (pg->pw && fchown(fd, pg->pw->pw_uid, pg->pw->pw_gid) != 0)
				_exit(126);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		if (pg->pw && (setgid(pg->pw->pw_gid) != 0 ||
			       initgroups(pg->pw->pw_name, pg->pw->pw_gid) != 0 ||
			       setuid(pg->pw->pw_uid) != 0))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
pgembed_mkdir_owned(const struct pgembed *pg, const char *path, mode_t mode)
{
	if (mkdir(path, mode) != 0 && errno != EEXIST) {
		log_error("database: cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (pg->pw && chown(path, pg->pw->pw_uid, pg->pw->pw_gid) != 0) {
		log_error("database: cannot hand %s to %s: %s", path, pg->pw->pw_name,
			  strerror(errno));
		return -1;
	}
	return 0;
}

/* Can the cluster's user read, write and enter path (and so every folder above it)? */
static int
pgembed_user_can_use(const struct pgembed *pg, const char *path)
{
	pid_t pid;
	int status;

	if (!pg->pw)
		return access(path, R_OK | W_OK | X_OK) == 0;
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		if (setgid(pg->pw->pw_gid) != 0 ||
		    initgroups(pg->pw->pw_name, pg->pw->pw_gid) != 0 || setuid(pg->pw->pw_uid) != 0)
			_exit(1);
		_exit(access(path, R_OK | W_OK | X_OK) == 0 ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int
pgembed_prepare(const struct config *cfg, struct pgembed *pg)
{
	char var[PATH_MAX];

	memset(pg, 0, sizeof *pg);
	if (pgembed_find_bindir(cfg, pg->bindir, sizeof pg->bindir) != 0)
		return -1;
	if (geteuid() == 0) {
		pg->pw = getpwnam("postgres");
		if (!pg->pw) {
			log_error("database: running as root needs the 'postgres' user to run "
				  "PostgreSQL (install postgresql-15)");
			return -1;
		}
	}
	if (mkdir(cfg->var_dir, 0755) != 0 && errno != EEXIST) {
		log_error("database: cannot create %s: %s", cfg->var_dir, strerror(errno));
		return -1;
	}
	if (!realpath(cfg->var_dir, var)) {
		log_error("database: %s: %s", cfg->var_dir, strerror(errno));
		return -1;
	}
	snprintf(pg->base, sizeof pg->base, "%s/pg", var);
	if (pgembed_mkdir_owned(pg, pg->base, 0700) != 0)
		return -1;
	if (!pgembed_user_can_use(pg, pg->base)) {
		snprintf(pg->base, sizeof pg->base, "/var/tmp/spanner-pg-%lx", pgembed_hash(var));
		log_info("database: %s is not reachable by user %s; the cluster lives in %s", var,
			 pg->pw ? pg->pw->pw_name : "?", pg->base);
		if (pgembed_mkdir_owned(pg, pg->base, 0700) != 0)
			return -1;
	}
	snprintf(pg->data, sizeof pg->data, "%s/data", pg->base);
	snprintf(pg->log, sizeof pg->log, "%s/server.log", pg->base);
	snprintf(pg->sockdir, sizeof pg->sockdir, "%s/run", pg->base);
	if (strlen(pg->sockdir) > PGEMBED_SOCKET_DIR_MAX)
		snprintf(pg->sockdir, sizeof pg->sockdir, "/tmp/spanner-pg-%lx",
			 pgembed_hash(pg->base));
	return pgembed_mkdir_owned(pg, pg->sockdir, 0700);
}

static int
pgembed_create_database(const char *sockdir)
{
	char conninfo[PATH_MAX + 128];
	const char *params[1] = {"spanner"};
	PGconn *c;
	PGresult *res;
	int exists, rc = 0;

	snprintf(conninfo, sizeof conninfo, "host=%s port=5432 user=spanner dbname=postgres",
		 sockdir);
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		log_error("database: cannot connect to the embedded cluster: %s",
			  PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	res = PQexecParams(c, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL, params, NULL,
			   NULL, 0);
	exists = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
	PQclear(res);
	if (!exists) {
		/* A fixed name, not input: CREATE DATABASE cannot take parameters. */
		res = PQexec(c, "CREATE DATABASE spanner ENCODING 'UTF8' TEMPLATE template0");
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_error("database: CREATE DATABASE failed: %s", PQerrorMessage(c));
			rc = -1;
		} else {
			pgembed_created_flag = 1;
		}
		PQclear(res);
	}
	PQfinish(c);
	return rc;
}

/*
 * 1 when the postgres binary was installed after the running cluster started:
 * dpkg sets a file's ctime when it unpacks it (the mtime is the package's).
 */
static int
pgembed_upgraded(const struct pgembed *pg)
{
	char bin[sizeof pg->bindir + 16], pid[sizeof pg->data + 32];
	struct stat b, p;

	snprintf(bin, sizeof bin, "%s/postgres", pg->bindir);
	snprintf(pid, sizeof pid, "%s/postmaster.pid", pg->data);
	if (stat(bin, &b) != 0 || stat(pid, &p) != 0)
		return 0;
	return b.st_ctime > p.st_mtime;
}

char *
pgembed_start(const struct config *cfg)
{
	struct pgembed pg;
	char path[PATH_MAX + 128], prog[PATH_MAX + 16], opts[PATH_MAX + 512];
	buf conninfo = BUF_INIT;
	const char *fast = getenv("SPANNER_PG_FSYNC");

	if (pgembed_prepare(cfg, &pg) != 0)
		return NULL;

	snprintf(path, sizeof path, "%s/PG_VERSION", pg.data);
	if (access(path, F_OK) != 0) {
		char *const argv[] = {prog,
				      "-D",
				      pg.data,
				      "-U",
				      "spanner",
				      "--auth=trust",
				      "-E",
				      "UTF8",
				      "--no-instructions",
				      "--locale=C.UTF-8",
				      NULL};

		snprintf(prog, sizeof prog, "%s/initdb", pg.bindir);
		log_info("database: creating the embedded cluster in %s", pg.data);
		if (pgembed_run(&pg, pg.log, argv) != 0) {
			log_error("database: initdb failed; see %s", pg.log);
			return NULL;
		}
	}

	snprintf(prog, sizeof prog, "%s/pg_ctl", pg.bindir);
	{
		char *const argv[] = {prog, "status", "-D", pg.data, NULL};

		/*
		 * Only a socket, no TCP: nothing outside this machine (or outside
		 * the users allowed into var/pg) can connect. SPANNER_PG_FSYNC=off
		 * trades durability for speed in throw-away test clusters.
		 */
		snprintf(opts, sizeof opts,
			 "-c listen_addresses='' -c unix_socket_directories='%s' -c port=5432 "
			 "-c max_connections=100%s",
			 pg.sockdir,
			 fast && strcmp(fast, "off") == 0
			     ? " -c fsync=off -c synchronous_commit=off "
			       "-c full_page_writes=off"
			     : "");
		/* pg_ctl status: 0 running, 3 not running, 4 no data directory. */
		if (pgembed_run(&pg, pg.log, argv) == 0 && pgembed_upgraded(&pg)) {
			/*
			 * apt-get upgraded postgresql-15 under the running cluster: it
			 * can no longer load its own libraries (plpgsql.so) until it
			 * is restarted with the new binaries.
			 */
			char *const restart[] = {prog, "restart", "-w", "-t",	"60", "-m", "fast",
						 "-D", pg.data,	  "-l", pg.log, "-o", opts, NULL};

			log_info("database: PostgreSQL was upgraded after the embedded cluster "
				 "started; restarting it");
			if (pgembed_run(&pg, pg.log, restart) != 0) {
				log_error(
				    "database: the embedded PostgreSQL did not restart; see %s",
				    pg.log);
				return NULL;
			}
		} else if (pgembed_run(&pg, pg.log, argv) != 0) {
			char *const start[] = {prog,	"start", "-w",	 "-t", "60", "-D",
					       pg.data, "-l",	 pg.log, "-o", opts, NULL};

			if (pgembed_run(&pg, pg.log, start) != 0) {
				log_error("database: the embedded PostgreSQL did not start; see %s",
					  pg.log);
				return NULL;
			}
			log_info("database: embedded PostgreSQL started (socket in %s)",
				 pg.sockdir);
		}
	}
	if (pgembed_create_database(pg.sockdir) != 0)
		return NULL;
	buf_printf(&conninfo, "host=%s port=5432 user=spanner dbname=spanner", pg.sockdir);
	return buf_steal(&conninfo);
}

int
pgembed_stop(const struct config *cfg)
{
	struct pgembed pg;
	char prog[PATH_MAX + 16];

	if (pgembed_prepare(cfg, &pg) != 0)
		return -1;
	snprintf(prog, sizeof prog, "%s/pg_ctl", pg.bindir);
	{
		char *const argv[] = {prog, "stop", "-w", "-m", "fast", "-D", pg.data, NULL};

		return pgembed_run(&pg, pg.log, argv) == 0 ? 0 : -1;
	}
}

int
pgembed_drop(const struct config *cfg)
{
	struct pgembed pg;

	if (pgembed_stop(cfg) != 0)
		log_info("database: no embedded cluster was running");
	if (pgembed_prepare(cfg, &pg) != 0)
		return -1;
	{
		char *const argv[] = {"/bin/rm", "-rf", "--", pg.data, NULL};

		if (pgembed_run(&pg, pg.log, argv) != 0) {
			log_error("database: could not remove %s", pg.data);
			return -1;
		}
	}
	log_info("database: removed the embedded cluster in %s", pg.data);
	return 0;
}

int
pgembed_tool(const struct config *cfg, const char *tool, char *out, size_t len)
{
	char dir[PATH_MAX];

	if (pgembed_find_bindir(cfg, dir, sizeof dir) != 0)
		return -1;
	if ((size_t)snprintf(out, len, "%s/%s", dir, tool) >= len || access(out, X_OK) != 0) {
		log_error("database: %s is not in %s", tool, dir);
		return -1;
	}
	return 0;
}

int
pgembed_created(void)
{
	return pgembed_created_flag;
}
