/*
 * fiber — stacks for requests, switched with ucontext (see fiber.h).
 *
 * Stacks are mmap'ed with a guard page below them, so an overflow faults
 * instead of corrupting the heap. Memory is only committed where touched,
 * which keeps a deep 512 KiB reservation cheap; finished fibers' stacks are
 * kept on a short free list because a busy worker starts thousands of
 * requests a second and mmap/munmap each time would show in the profile.
 *
 * Under AddressSanitizer every switch is announced with the sanitizer's
 * fiber calls, or it would take the other stack for an overflow of this one.
 */
#include "fiber.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#endif
#ifdef FIBER_ASAN
#include <sanitizer/common_interface_defs.h>
#define FIBER_STACK (2u * 1024 * 1024)
#else
#define FIBER_STACK (512u * 1024)
#endif
#define FIBER_SPARE_MAX 32

struct fiber {
	ucontext_t ctx;
	ucontext_t caller;
	fiber_fn fn;
	void *arg;
	void *map; /* guard page + stack */
	size_t map_len;
	int started;
	int finished;
#ifdef FIBER_ASAN
	void *fake_stack;
	const void *caller_bottom;
	size_t caller_size;
#endif
};

static __thread struct fiber *fiber_running;
static void *spare_maps[FIBER_SPARE_MAX];
static int nspare;

static void fiber_entry(void);
static void *fiber_stack_get(size_t *len);
static void fiber_stack_put(void *map, size_t len);

static void *
fiber_stack_get(size_t *len)
{
	long page = sysconf(_SC_PAGESIZE);
	void *map;

	*len = FIBER_STACK + (size_t)page;
	if (nspare > 0)
		return spare_maps[--nspare];
	map = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	/* The lowest page stays inaccessible: stacks grow down into it. */
	if (mprotect(map, (size_t)page, PROT_NONE) != 0) {
		munmap(map, *len);
		return NULL;
	}
	return map;
}

static void
fiber_stack_put(void *map, size_t len)
{
	if (nspare < FIBER_SPARE_MAX)
		spare_maps[nspare++] = map;
	else
		munmap(map, len);
}

struct fiber *
fiber_new(fiber_fn fn, void *arg)
{
	struct fiber *f = calloc(1, sizeof *f);

	if (!f)
		return NULL;
	f->map = fiber_stack_get(&f->map_len);
	if (!f->map) {
		free(f);
		return NULL;
	}
	f->fn = fn;
	f->arg = arg;
	return f;
}

static void
fiber_entry(void)
{
	struct fiber *f = fiber_running;

#ifdef FIBER_ASAN
	__sanitizer_finish_switch_fiber(NULL, &f->caller_bottom, &f->caller_size);
#endif
	f->fn(f->arg);
	f->finished = 1;
#ifdef FIBER_ASAN
	/* NULL: this stack is done with, its fake frames can go. */
	__sanitizer_start_switch_fiber(NULL, f->caller_bottom, f->caller_size);
#endif
	/* uc_link returns to the caller's context. */
}

int
fiber_resume(struct fiber *f)
{
	struct fiber *prev = fiber_running;
#ifdef FIBER_ASAN
	void *fake = NULL;
#endif

	if (f->finished)
		return 1;
	if (!f->started) {
		long page = sysconf(_SC_PAGESIZE);

		getcontext(&f->ctx);
		f->ctx.uc_stack.ss_sp = (char *)f->map + page;
		f->ctx.uc_stack.ss_size = f->map_len - (size_t)page;
		f->ctx.uc_link = &f->caller;
		makecontext(&f->ctx, fiber_entry, 0);
		f->started = 1;
	}
	fiber_running = f;
#ifdef FIBER_ASAN
	__sanitizer_start_switch_fiber(&fake, (char *)f->map + sysconf(_SC_PAGESIZE),
				       f->map_len - (size_t)sysconf(_SC_PAGESIZE));
#endif
	swapcontext(&f->caller, &f->ctx);
#ifdef FIBER_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	fiber_running = prev;
	return f->finished;
}

void
fiber_yield(void)
{
	struct fiber *f = fiber_running;

	if (!f)
		return;
#ifdef FIBER_ASAN
	__sanitizer_start_switch_fiber(&f->fake_stack, f->caller_bottom, f->caller_size);
#endif
	swapcontext(&f->ctx, &f->caller);
#ifdef FIBER_ASAN
	__sanitizer_finish_switch_fiber(f->fake_stack, &f->caller_bottom, &f->caller_size);
#endif
}

struct fiber *
fiber_current(void)
{
	return fiber_running;
}

void
fiber_free(struct fiber *f)
{
	if (!f)
		return;
	if (f->started && !f->finished) {
		/* A suspended stack may hold the only pointers to memory: a bug in the caller. */
		fprintf(stderr, "fiber: freeing a suspended fiber\n");
		abort();
	}
	fiber_stack_put(f->map, f->map_len);
	free(f);
}
