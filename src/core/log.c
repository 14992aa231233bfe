/*
 * log — text or JSON lines on stderr.
 *
 * Text lines are "2026-11-22T10:00:00Z level message"; JSON lines carry the
 * same as {"ts","level","msg"} (and method/path/status/bytes/us for access
 * lines) so a log shipper can parse them without regular expressions.
 */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

static enum log_format log_fmt = LOG_FORMAT_TEXT;

static void log_emit(const char *level, const char *fmt, va_list ap);
static void log_timestamp(char *out, size_t len);
static void log_write(buf *b);

void
log_init(enum log_format format)
{
	log_fmt = format;
}

static void
log_timestamp(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static void
log_write(buf *b)
{
	ssize_t n;
	size_t off = 0;

	buf_putc(b, '\n');
	while (off < b->len) {
		n = write(STDERR_FILENO, b->data + off, b->len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	buf_free(b);
}

static void
log_emit(const char *level, const char *fmt, va_list ap)
{
	char ts[64];
	buf msg = BUF_INIT, line = BUF_INIT;

	log_timestamp(ts, sizeof ts);
	buf_vprintf(&msg, fmt, ap);
	if (log_fmt == LOG_FORMAT_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level, "msg",
				      msg.data ? msg.data : "");
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (s)
			buf_puts(&line, s);
		free(s);
		json_decref(o);
	} else {
		buf_printf(&line, "%s %-5s %s", ts, level, msg.data ? msg.data : "");
	}
	buf_free(&msg);
	log_write(&line);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("info", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("warn", fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("error", fmt, ap);
	va_end(ap);
}

void
log_access(const char *method, const char *path, unsigned status, size_t bytes, long usec)
{
	char ts[64];
	buf line = BUF_INIT;

	log_timestamp(ts, sizeof ts);
	if (log_fmt == LOG_FORMAT_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "ts", ts, "level",
				      "info", "method", method, "path", path, "status", (int)status,
				      "bytes", (json_int_t)bytes, "us", (json_int_t)usec);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (s)
			buf_puts(&line, s);
		free(s);
		json_decref(o);
	} else {
		buf_printf(&line, "%s access %s %s %u %zu %ldus", ts, method, path, status, bytes,
			   usec);
	}
	log_write(&line);
}
