/*
 * system — liveness and metrics for operators and load balancers.
 *
 * /healthz answers 200 only when the database answers, because Spanner can
 * do nothing useful without it; a load balancer should take a server whose
 * database is gone out of rotation. /metrics is Prometheus text.
 */
#include <stdlib.h>

#include "core/buf.h"
#include "core/db.h"
#include "core/db_kore.h"

#include <kore/kore.h>
#include <kore/pgsql.h>
#include "core/metrics.h"
#include "core/render.h"
#include "web/routes.h"

DB_STMT(stmt_jobs_by_state, "SELECT s.state, count(j.id) FROM "
			    "(VALUES ('queued'), ('running'), ('done'), ('failed')) AS s(state) "
			    "LEFT JOIN jobs j ON j.state = s.state GROUP BY s.state ORDER BY 1");

void
web_system_healthz(struct request *req)
{
	db_conn *db = req_db(req);
	int up = db && db_ping(db) == 0;

	resp_header(req, "Cache-Control", "no-store");
	if (req_wants_json(req)) {
		resp_json(req, up ? 200 : 503,
			  json_pack("{s:s, s:s}", "status", up ? "ok" : "unavailable", "database",
				    up ? "reachable" : "unreachable"));
		return;
	}
	resp_text(req, up ? 200 : 503, "text/plain; charset=utf-8",
		  up ? "ok: database reachable\n" : "unavailable: database unreachable\n");
}

void
web_system_metrics(struct request *req)
{
	buf out = BUF_INIT;
	db_conn *db = req_db(req);
	PGresult *res;
	int i;

	metrics_format(&out);
	buf_printf(&out,
		   "# HELP spanner_db_pool_connections Database connections each Kore worker "
		   "may hold (kore.conf pgsql_conn_max).\n"
		   "# TYPE spanner_db_pool_connections gauge\n"
		   "spanner_db_pool_connections %d\n"
		   "# HELP spanner_db_pool_in_use Database connections the answering worker's "
		   "requests hold right now.\n"
		   "# TYPE spanner_db_pool_in_use gauge\n"
		   "spanner_db_pool_in_use %d\n",
		   (int)pgsql_conn_max, db_kore_in_use());
	res = db ? db_exec(db, &stmt_jobs_by_state, 0, NULL) : NULL;
	buf_printf(&out, "# HELP spanner_database_up 1 when the database answered this scrape.\n"
			 "# TYPE spanner_database_up gauge\n"
			 "spanner_database_up %d\n",
		   res ? 1 : 0);
	if (res) {
		buf_puts(&out, "# HELP spanner_jobs Background jobs by state.\n"
			       "# TYPE spanner_jobs gauge\n");
		for (i = 0; i < PQntuples(res); i++)
			buf_printf(&out, "spanner_jobs{state=\"%s\"} %s\n", PQgetvalue(res, i, 0),
				   PQgetvalue(res, i, 1));
		PQclear(res);
	}
	resp_header(req, "Cache-Control", "no-store");
	resp_buf(req, 200, "text/plain; version=0.0.4; charset=utf-8", &out);
}
