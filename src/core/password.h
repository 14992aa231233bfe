/*
 * password — Argon2id hashing and random tokens.
 *
 * Hashes are stored in the PHC string form ($argon2id$v=19$m=...,t=...,p=...$salt$hash),
 * which carries its own parameters: a hash made with older costs still
 * verifies, and password_needs_rehash tells sign-in to upgrade it.
 */
#ifndef SPANNER_PASSWORD_H
#define SPANNER_PASSWORD_H

#include <stddef.h>

#include "config.h"

/* Sizes the hashing gate from argon2_concurrency; before the workers fork. */
void password_setup(const struct config *cfg);
/* Returns a malloc'ed encoded hash, or NULL if hashing failed. */
char *password_hash(const struct config *cfg, const char *password);
/* 1 when password matches encoded, 0 otherwise (also for a malformed hash). */
int password_verify(const char *encoded, const char *password);
int password_needs_rehash(const struct config *cfg, const char *encoded);
/* Fills out with 2*nbytes hex characters of cryptographic randomness (+ NUL). */
int password_random_hex(char *out, size_t nbytes);

#endif
