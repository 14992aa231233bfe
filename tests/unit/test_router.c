/*
 * Router: literal and captured segments, 404 versus 405 with the Allow list,
 * HEAD answered by GET routes, and no capture leaking from a failed match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/router.h"

static void h_list(struct request *req);
static void h_show(struct request *req);
static void h_peek(struct request *req);
static void h_approve(struct request *req);
static void h_new(struct request *req);

static void h_list(struct request *req) { (void)req; }
static void h_show(struct request *req) { (void)req; }
static void h_peek(struct request *req) { (void)req; }
static void h_approve(struct request *req) { (void)req; }
static void h_new(struct request *req) { (void)req; }

static const struct route table[] = {
	{"GET", "/companies", h_list, ACCESS_SIGNED_IN, NULL},
	{"GET", "/companies/new", h_new, ACCESS_PERMISSION, "companies.create"},
	{"GET", "/companies/{id}", h_show, ACCESS_SIGNED_IN, NULL},
	{"GET", "/companies/{id}/peek", h_peek, ACCESS_SIGNED_IN, NULL},
	{"POST", "/companies/{id}/approve", h_approve, ACCESS_PERMISSION, "companies.approve"},
	{"GET", "/imports/{batch}/rows/{row}", h_show, ACCESS_SIGNED_IN, NULL},
	{NULL, NULL, NULL, ACCESS_PUBLIC, NULL},
};

static void
test_literal_before_capture(void **state)
{
	const struct route *r;
	struct route_params p;
	char allowed[64];

	(void)state;
	assert_int_equal(router_match(table, "GET", "/companies/new", &r, &p, allowed,
				      sizeof allowed),
			 ROUTER_FOUND);
	assert_ptr_equal(r->handler, h_new);
	assert_int_equal(p.n, 0);
}

static void
test_capture(void **state)
{
	const struct route *r;
	struct route_params p;
	char allowed[64];

	(void)state;
	assert_int_equal(router_match(table, "GET", "/companies/0b7c-11/peek", &r, &p, allowed,
				      sizeof allowed),
			 ROUTER_FOUND);
	assert_ptr_equal(r->handler, h_peek);
	assert_string_equal(router_param(&p, "id"), "0b7c-11");
	assert_null(router_param(&p, "other"));
	router_params_free(&p);

	assert_int_equal(router_match(table, "GET", "/imports/b1/rows/42", &r, &p, allowed,
				      sizeof allowed),
			 ROUTER_FOUND);
	assert_string_equal(router_param(&p, "batch"), "b1");
	assert_string_equal(router_param(&p, "row"), "42");
	router_params_free(&p);
}

static void
test_not_found(void **state)
{
	const struct route *r;
	struct route_params p;
	char allowed[64];

	(void)state;
	assert_int_equal(router_match(table, "GET", "/nope", &r, &p, allowed, sizeof allowed),
			 ROUTER_NOT_FOUND);
	/* an empty capture is not a match, nor is a trailing extra segment */
	assert_int_equal(router_match(table, "GET", "/companies//peek", &r, &p, allowed,
				      sizeof allowed),
			 ROUTER_NOT_FOUND);
	assert_int_equal(router_match(table, "GET", "/companies/1/peek/x", &r, &p, allowed,
				      sizeof allowed),
			 ROUTER_NOT_FOUND);
	assert_int_equal(p.n, 0);
	assert_null(r);
}

static void
test_wrong_method(void **state)
{
	const struct route *r;
	struct route_params p;
	char allowed[64];

	(void)state;
	assert_int_equal(router_match(table, "GET", "/companies/7/approve", &r, &p, allowed,
				      sizeof allowed),
			 ROUTER_WRONG_METHOD);
	assert_string_equal(allowed, "POST");
	assert_int_equal(router_match(table, "DELETE", "/companies/7", &r, &p, allowed,
				      sizeof allowed),
			 ROUTER_WRONG_METHOD);
	assert_string_equal(allowed, "GET, HEAD");
	assert_int_equal(p.n, 0);
}

static void
test_head_uses_get(void **state)
{
	const struct route *r;
	struct route_params p;
	char allowed[64];

	(void)state;
	assert_int_equal(router_match(table, "HEAD", "/companies", &r, &p, allowed, sizeof allowed),
			 ROUTER_FOUND);
	assert_ptr_equal(r->handler, h_list);
	assert_int_equal(router_match(table, "HEAD", "/companies/9/approve", &r, &p, allowed,
				      sizeof allowed),
			 ROUTER_WRONG_METHOD);
}

static void
test_permission_declared(void **state)
{
	const struct route *r;
	struct route_params p;
	char allowed[64];

	(void)state;
	assert_int_equal(router_match(table, "POST", "/companies/abc/approve", &r, &p, allowed,
				      sizeof allowed),
			 ROUTER_FOUND);
	assert_int_equal(r->access, ACCESS_PERMISSION);
	assert_string_equal(r->permission, "companies.approve");
	router_params_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_before_capture),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_wrong_method),
		cmocka_unit_test(test_head_uses_get),
		cmocka_unit_test(test_permission_declared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
