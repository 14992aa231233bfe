/*
 * listing — the filter query string and the links and count built from it.
 *
 * One function writes the query string and every link is derived from it,
 * so the export, the next page and "back to the first page" cannot disagree
 * with the rows on screen.
 */
#include "listing.h"

#include <stdio.h>
#include <string.h>

#include "core/format.h"
#include "core/url.h"

void
listing_query(buf *out, const struct listing_param *params, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!params[i].value)
			continue;
		buf_printf(out, "%s%s=", out->len ? "&" : "", params[i].name);
		url_encode(out, params[i].value);
	}
}

const char *
listing_count_text(long long total, int capped, const char *one, const char *many, int filtered,
		   char *out, size_t outlen)
{
	size_t len;

	format_count_noun(total, capped, one, many, out, outlen);
	len = strlen(out);
	if (filtered && len < outlen)
		snprintf(out + len, outlen - len, " %s",
			 total == 1 && !capped ? "matches" : "match");
	return out;
}

/* path?query (or just path), plus "&" or "?" then extra when given. */
static json_t *
listing_url(const char *path, const char *query, const char *extra_name, const char *extra)
{
	buf url = BUF_INIT;
	json_t *s;

	buf_puts(&url, path);
	if (query && *query)
		buf_printf(&url, "?%s", query);
	if (extra) {
		buf_printf(&url, "%s%s=", query && *query ? "&" : "?", extra_name);
		url_encode(&url, extra);
	}
	s = json_string(url.data);
	buf_free(&url);
	return s;
}

json_t *
listing_vm(const struct listing *l)
{
	json_t *vm = json_object();
	char text[96];

	json_object_set_new(vm, "query", json_string(l->query ? l->query : ""));
	json_object_set_new(vm, "base_url", listing_url(l->base, l->query, NULL, NULL));
	json_object_set_new(vm, "next_url",
			    l->next_cursor ? listing_url(l->base, l->query, "after", l->next_cursor)
					   : json_string(""));
	json_object_set_new(vm, "export_url",
			    l->export_path ? listing_url(l->export_path, l->query, NULL, NULL)
					   : json_string(""));
	if (l->total >= 0)
		json_object_set_new(
		    vm, "count_text",
		    json_string(listing_count_text(l->total, l->capped, l->one, l->many,
						   l->filtered, text, sizeof text)));
	return vm;
}

int
listing_duplicates(const char *value)
{
	if (!value || !*value)
		return 0;
	return strcmp(value, "only") == 0 ? 2 : 1;
}

const char *
listing_duplicates_param(int show_duplicates)
{
	return show_duplicates == 2 ? "only" : show_duplicates ? "1" : NULL;
}
