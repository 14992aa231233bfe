/*
 * seed — the first Admin and the demo data.
 *
 * SPEC.md §7: the first start of an empty database creates admin@example.com
 * with the password in SPANNER_ADMIN_PASSWORD, or a random one printed once.
 * A new embedded database also gets seeds/demo.sql unless demo is off.
 */
#ifndef SPANNER_SEED_H
#define SPANNER_SEED_H

#include "core/config.h"
#include "core/db.h"

#define SEED_ADMIN_EMAIL "admin@example.com"
#define SEED_DEMO_PASSWORD "spanner-demo"
#define SEED_DEMO_FILE "seeds/demo.sql"

/* embedded: the database is the private cluster (a random password is also kept in var/). */
int seed_run(db_conn *c, const struct config *cfg, int embedded);

#endif
