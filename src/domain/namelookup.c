/*
 * namelookup — an open-addressing hash map of lowered names, with a cache
 * of the answers for names as typed.
 */
#include "namelookup.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "domain/normalise.h"

static unsigned long map_hash(const char *s);
static int map_get(const struct namelookup_map *m, const char *key, int *val);
static void map_put(struct namelookup_map *m, const char *key, int val);
static void map_free(struct namelookup_map *m);

static unsigned long
map_hash(const char *s)
{
	unsigned long h = 14695981039346656037UL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211UL;
	return h;
}

static int
map_get(const struct namelookup_map *m, const char *key, int *val)
{
	size_t i;

	if (!m->cap)
		return 0;
	for (i = map_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->keys[i], key) == 0) {
			*val = m->vals[i];
			return 1;
		}
	return 0;
}

static void
map_put(struct namelookup_map *m, const char *key, int val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct namelookup_map bigger = {NULL, NULL, m->cap ? m->cap * 2 : 64, 0};

		bigger.keys = xcalloc(bigger.cap, sizeof *bigger.keys);
		bigger.vals = xcalloc(bigger.cap, sizeof *bigger.vals);
		for (i = 0; i < m->cap; i++)
			if (m->keys[i]) {
				map_put(&bigger, m->keys[i], m->vals[i]);
				free(m->keys[i]);
			}
		free(m->keys);
		free(m->vals);
		*m = bigger;
	}
	for (i = map_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->keys[i], key) == 0) {
			m->vals[i] = val;
			return;
		}
	m->keys[i] = xstrdup(key);
	m->vals[i] = val;
	m->n++;
}

static void
map_free(struct namelookup_map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

void
namelookup_init(struct namelookup *l)
{
	memset(l, 0, sizeof *l);
}

void
namelookup_free(struct namelookup *l)
{
	map_free(&l->by_lower);
	map_free(&l->cache);
}

void
namelookup_add(struct namelookup *l, const char *scope, const char *name, int value)
{
	buf key = BUF_INIT;
	int old;

	buf_puts(&key, scope);
	normalise_lower(&key, name);
	if (!map_get(&l->by_lower, key.data, &old))
		map_put(&l->by_lower, key.data, value);
	buf_free(&key);
}

int
namelookup_find(struct namelookup *l, const char *scope, const char *name)
{
	buf key = BUF_INIT;
	int idx = -1;

	buf_puts(&key, scope);
	buf_puts(&key, name);
	if (!map_get(&l->cache, key.data, &idx)) {
		buf lowered = BUF_INIT;

		buf_puts(&lowered, scope);
		normalise_lower(&lowered, name);
		if (!map_get(&l->by_lower, lowered.data, &idx))
			idx = -1;
		buf_free(&lowered);
		map_put(&l->cache, key.data, idx);
	}
	buf_free(&key);
	return idx;
}
