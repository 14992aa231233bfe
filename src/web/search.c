/*
 * search — the global search box in the header: one query across segments,
 * companies and contacts (by name, e-mail, job title or company), each group
 * a short list that links to the full, filtered list.
 *
 * It reuses each module's own list query with its search filter, so a result
 * here is exactly what that list would show for the same words.
 */
#include <stdlib.h>
#include <string.h>

#include "core/render.h"
#include "domain/companies.h"
#include "domain/contacts.h"
#include "domain/segments.h"
#include "domain/validate.h"
#include "web/routes.h"

#define SEARCH_PER_GROUP 10

void
web_search(struct request *req)
{
	const char *q = req_query(req, "q");
	struct companies_filter cf;
	struct contacts_filter kf;
	struct segments_filter sf;
	json_t *vm, *companies = NULL, *segments = NULL, *contacts = NULL;
	char *next = NULL, *knext = NULL;
	db_conn *db;

	/* checked before anything holds it: a JSON string must be valid UTF-8 */
	if (validate_search(q)) {
		render(req, 200, "search",
		       json_pack("{s:s, s:s, s:s}", "title", "Search", "q", "", "error",
				 validate_search(q)));
		return;
	}
	vm = json_pack("{s:s, s:s}", "title", "Search", "q", q ? q : "");
	if (!q || !*q) {
		render(req, 200, "search", vm);
		return;
	}
	db = req_db(req);
	if (!db) {
		json_decref(vm);
		render_db_error(req, NULL);
		return;
	}
	memset(&cf, 0, sizeof cf);
	cf.q = q;
	cf.limit = SEARCH_PER_GROUP;
	memset(&sf, 0, sizeof sf);
	sf.q = q;
	sf.archived = 1;
	memset(&kf, 0, sizeof kf);
	kf.q = q;
	kf.limit = SEARCH_PER_GROUP;
	companies = companies_list(db, &cf, &next);
	segments = companies ? segments_list(db, &sf) : NULL;
	contacts = segments ? contacts_list(db, &kf, &knext) : NULL;
	if (!companies || !segments || !contacts) {
		json_decref(companies);
		json_decref(segments);
		free(next);
		json_decref(vm);
		render_db_error(req, db);
		return;
	}
	json_object_set_new(vm, "searched", json_true());
	json_object_set_new(vm, "companies", companies);
	json_object_set_new(vm, "companies_more", json_boolean(next != NULL));
	json_object_set(vm, "segments", json_object_get(segments, "segments"));
	json_object_set_new(vm, "has_companies", json_boolean(json_array_size(companies) > 0));
	json_object_set_new(
	    vm, "has_segments",
	    json_boolean(json_array_size(json_object_get(segments, "segments")) > 0));
	json_object_set_new(vm, "has_contacts", json_boolean(json_array_size(contacts) > 0));
	json_object_set_new(vm, "contacts_more", json_boolean(knext != NULL));
	json_object_set_new(
	    vm, "nothing",
	    json_boolean(json_array_size(companies) == 0 && json_array_size(contacts) == 0 &&
			 json_array_size(json_object_get(segments, "segments")) == 0));
	json_object_set_new(vm, "contacts", contacts);
	json_decref(segments);
	free(next);
	free(knext);
	render(req, 200, "search", vm);
}
