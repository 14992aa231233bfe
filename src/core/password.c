/*
 * password — libargon2 wrappers.
 *
 * Salts and tokens come from getrandom(2), the kernel's CSPRNG.
 *
 * Argon2 is slow on purpose (tens of milliseconds, tens of MiB): on a Kore
 * worker's event loop it would stall every other request of that worker, so
 * hashing and verifying run in a Kore task thread while the request sleeps;
 * inline where blocking is harmless (tools, jobs, tests).
 *
 * And they pass a gate (offload.h): argon2_concurrency at once per worker.
 * Without it a burst of sign-ins would run an Argon2 on every task thread of
 * every worker, take every core from the pages, and hold m_cost of memory
 * each; with it a burst costs one core's worth per worker. The queue in front
 * is bounded by the sign-in gate (accounts.c), which refuses what does not
 * fit; here the queue is never refused.
 */
#include "password.h"

#include <argon2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "buf.h"
#include "log.h"
#include "offload.h"

#define PASSWORD_SALT_LEN 16
#define PASSWORD_HASH_LEN 32

struct password_work {
	const struct config *cfg;
	const char *encoded;
	const char *password;
	char *hash;
	int match;
};

static struct offload_gate password_gate = {"argon2", 1, 1000000, 0, 0, NULL, NULL};

static int password_fill_random(unsigned char *out, size_t n);
static void password_hash_work(void *arg);
static void password_verify_work(void *arg);

static int
password_fill_random(unsigned char *out, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(out + got, n - got, 0);

		if (r < 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

void
password_setup(const struct config *cfg)
{
	password_gate.limit = cfg->argon2_concurrency;
}

char *
password_hash(const struct config *cfg, const char *password)
{
	struct password_work w = {cfg, NULL, password, NULL, 0};

	if (offload_run_gated(&password_gate, 0, password_hash_work, &w) != 0)
		return NULL;
	return w.hash;
}

int
password_verify(const char *encoded, const char *password)
{
	struct password_work w = {NULL, encoded, password, NULL, 0};

	if (!encoded || !password)
		return 0;
	if (offload_run_gated(&password_gate, 0, password_verify_work, &w) != 0)
		return 0;
	return w.match;
}

static void
password_verify_work(void *arg)
{
	struct password_work *w = arg;

	w->match = argon2id_verify(w->encoded, w->password, strlen(w->password)) == ARGON2_OK;
}

static void
password_hash_work(void *arg)
{
	struct password_work *w = arg;
	const struct config *cfg = w->cfg;
	const char *password = w->password;
	unsigned char salt[PASSWORD_SALT_LEN];
	size_t len;
	char *encoded;
	int rc;

	if (password_fill_random(salt, sizeof salt) != 0)
		return;
	len = argon2_encodedlen((uint32_t)cfg->argon2_t_cost, (uint32_t)cfg->argon2_m_cost,
				(uint32_t)cfg->argon2_parallelism, PASSWORD_SALT_LEN,
				PASSWORD_HASH_LEN, Argon2_id);
	encoded = xmalloc(len);
	rc = argon2id_hash_encoded((uint32_t)cfg->argon2_t_cost, (uint32_t)cfg->argon2_m_cost,
				   (uint32_t)cfg->argon2_parallelism, password, strlen(password),
				   salt, sizeof salt, PASSWORD_HASH_LEN, encoded, len);
	if (rc != ARGON2_OK) {
		log_error("password: hashing failed: %s", argon2_error_message(rc));
		free(encoded);
		return;
	}
	w->hash = encoded;
}

int
password_needs_rehash(const struct config *cfg, const char *encoded)
{
	char want[64];

	snprintf(want, sizeof want, "$argon2id$v=19$m=%d,t=%d,p=%d$", cfg->argon2_m_cost,
		 cfg->argon2_t_cost, cfg->argon2_parallelism);
	return strncmp(encoded, want, strlen(want)) != 0;
}

int
password_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t i;

	if (nbytes > sizeof raw || password_fill_random(raw, nbytes) != 0)
		return -1;
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return 0;
}
