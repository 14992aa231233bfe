/*
 * mail — the outbox, the mail.send job and the RFC 5322 formatting.
 *
 * The outbox row is the message: mail_queue() inserts it and queues a job
 * naming only its id (job payloads are visible in the jobs table and its
 * logs; bodies carry reset links and stay in the outbox alone). The job locks
 * the row, formats the message and sends it with libcurl's SMTP client, then
 * marks it sent in the job's own transaction. A message is therefore sent at
 * least once: if the process dies between the relay's "250 OK" and the
 * commit, the job runs again and the message goes twice, with the same
 * Message-ID, which is the usual trade-off of a queue in front of SMTP.
 *
 * A failed delivery is not retried (job failed, error and attempts on the
 * row through give_up, which runs in the transaction that records the
 * failure: run()'s own writes are rolled back with it). A person waiting for
 * a reset link asks again; a relay that is down does not collect a growing
 * pile of retries.
 *
 * TLS: smtps:// is TLS from the start. On smtp://, credentials are only ever
 * sent after STARTTLS (CURLUSESSL_ALL); without credentials the connection
 * stays plain, because local relays commonly offer STARTTLS with a
 * self-signed certificate that would make every delivery fail.
 */
#include "mail.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jobs.h"
#include "log.h"

/* RFC 5322: a line is at most 998 octets; 78 is the recommended width. */
#define MAIL_LINE_MAX 998
#define MAIL_FOLD_WIDTH 78
/* Quoted-printable lines are at most 76 characters, the soft-break "=" included. */
#define MAIL_QP_WIDTH 75
/* UTF-8 bytes per RFC 2047 encoded word: 36 → 48 base64 characters, a 60-character word. */
#define MAIL_WORD_BYTES 36
#define MAIL_CONNECT_TIMEOUT 10L
#define MAIL_TIMEOUT 60L
/* What an outbox-mode row says instead of an error. */
#define MAIL_HELD_NOTE "Not sent: no SMTP relay is configured (smtp_url), so it stays here."
/* Stored failure messages are for an Admin's eyes; a relay may answer at length. */
#define MAIL_ERROR_MAX 500

#define MAIL_TIME_COLS(col)                                                                        \
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                  \
	"to_char(" col " AT TIME ZONE 'UTC', 'FMDD Mon YYYY, HH24:MI') || ' UTC'"
#define MAIL_OUTBOX_COLS                                                                           \
	"id::text, to_address, subject, " MAIL_TIME_COLS("created_at") ", " MAIL_TIME_COLS(        \
	    "sent_at") ", error, attempts"

DB_STMT(st_insert, "INSERT INTO outbox (to_address, subject, body) VALUES ($1, $2, $3) "
		   "RETURNING id::text");
/* FOR UPDATE: two workers can never both send one message. */
DB_STMT(st_load, "SELECT to_address, subject, body, sent_at IS NOT NULL FROM outbox "
		 "WHERE id = $1::uuid FOR UPDATE");
DB_STMT(st_mark_sent, "UPDATE outbox SET sent_at = now(), attempts = attempts + 1, error = NULL "
		      "WHERE id = $1::uuid");
/* Outbox mode: the row says why it was not sent (attempts stays 0: nothing was tried). */
DB_STMT(st_mark_held, "UPDATE outbox SET error = $2 WHERE id = $1::uuid AND sent_at IS NULL");
DB_STMT(st_mark_failed, "UPDATE outbox SET attempts = attempts + 1, error = $2 "
			"WHERE id = $1::uuid AND sent_at IS NULL");
DB_STMT(st_list_first, "SELECT " MAIL_OUTBOX_COLS " FROM outbox "
		       "ORDER BY created_at DESC, id DESC LIMIT $1::int");
DB_STMT(st_list_before, "SELECT " MAIL_OUTBOX_COLS " FROM outbox "
			"WHERE (created_at, id) < (SELECT created_at, id FROM outbox "
			"WHERE id = $1::uuid) ORDER BY created_at DESC, id DESC LIMIT $2::int");
DB_STMT(st_get, "SELECT " MAIL_OUTBOX_COLS ", body FROM outbox WHERE id = $1::uuid");

/* One upload to libcurl: the formatted message, read front to back. */
struct mail_upload {
	const char *data;
	size_t len;
	size_t pos;
};

static const struct config *mail_cfg;

static int mail_send_run(struct job *job);
static void mail_send_give_up(db_conn *tx, const char *job_id, json_t *payload, const char *reason);
static int mail_deliver(const struct config *cfg, const char *to, const char *message, char *err,
			size_t errlen);
static size_t mail_read(char *ptr, size_t size, size_t nmemb, void *cls);
static int mail_address_ok(const char *to);
static int mail_is_plain(const char *s);
static void mail_put_base64(buf *out, const unsigned char *data, size_t len);
static void mail_put_words(buf *out, const char *s);
static void mail_put_plain(buf *out, const char *s, size_t column);
static void mail_put_header(buf *out, const char *name, const char *value);
static void mail_put_mailbox(buf *out, const char *mailbox);
static void mail_put_date(buf *out, time_t date);
static int mail_body_is_7bit(const char *body);
static void mail_put_body_7bit(buf *out, const char *body);
static void mail_put_body_qp(buf *out, const char *body);
static char *mail_single_line(const char *s);
static json_t *mail_outbox_row(PGresult *res, int row);

/* ---------------------------------------------------------------- queue */

int
mail_register(const struct config *cfg)
{
	static const struct job_kind send = {MAIL_SEND_KIND, mail_send_run, mail_send_give_up};
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK) {
		log_error("mail: libcurl cannot be initialised: %s", curl_easy_strerror(rc));
		return -1;
	}
	mail_cfg = cfg;
	if (!cfg->smtp_url)
		log_info(
		    "mail: no smtp_url configured: messages stay in the outbox (/admin/outbox)");
	return jobs_register(&send);
}

int
mail_queue(db_conn *tx, const char *to, const char *subject, const char *body)
{
	const char *p[3] = {to, subject, body};
	char job_id[37];
	json_t *payload;
	PGresult *res;
	int rc;

	if (!mail_address_ok(to)) {
		log_warn("mail: refused a message to a malformed address");
		return -1;
	}
	if (strpbrk(subject, "\r\n")) {
		log_warn("mail: refused a message whose subject has a line break");
		return -1;
	}
	res = db_exec(tx, &st_insert, 3, p);
	if (!res)
		return -1;
	payload = json_pack("{s:s}", "outbox_id", PQgetvalue(res, 0, 0));
	PQclear(res);
	rc = jobs_enqueue(tx, MAIL_SEND_KIND, payload, job_id);
	json_decref(payload);
	return rc;
}

/*
 * An address we are willing to put in a To header and an RCPT command: one
 * '@', no white space or control characters, none of the characters that
 * would let it carry a second address or a display name.
 */
static int
mail_address_ok(const char *to)
{
	const char *at = to ? strchr(to, '@') : NULL;
	const unsigned char *s;
	size_t len = to ? strlen(to) : 0;

	if (!at || at == to || !at[1] || strchr(at + 1, '@') || len > 320)
		return 0;
	for (s = (const unsigned char *)to; *s; s++)
		if (*s <= 0x20 || *s == 0x7f || strchr("<>()[],;:\"\\", *s))
			return 0;
	return 1;
}

/* ---------------------------------------------------------------- the job */

static int
mail_send_run(struct job *job)
{
	const char *id = json_string_value(json_object_get(job->payload, "outbox_id"));
	char err[CURL_ERROR_SIZE + 128];
	const char *p[1] = {id};
	char *message;
	PGresult *res;
	int sent;

	if (!id) {
		jobs_set_error(job, "the job names no outbox message");
		return JOBS_FAILED;
	}
	res = db_exec(job->db, &st_load, 1, p);
	if (!res)
		return JOBS_FAILED;
	if (PQntuples(res) == 0) {
		PQclear(res);
		jobs_set_error(job, "outbox message %s does not exist", id);
		return JOBS_FAILED;
	}
	if (strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
		/* A re-run after the relay took it and the commit was lost: done already. */
		PQclear(res);
		job->result = json_pack("{s:b, s:s}", "delivered", 1, "note", "sent before");
		return JOBS_DONE;
	}
	if (!mail_cfg || !mail_cfg->smtp_url) {
		const char *ph[2] = {id, MAIL_HELD_NOTE};

		PQclear(res);
		if (db_run(job->db, &st_mark_held, 2, ph) != 0)
			return JOBS_FAILED;
		job->result = json_pack("{s:b, s:s}", "delivered", 0, "note", MAIL_HELD_NOTE);
		return JOBS_DONE;
	}
	message = mail_format(mail_cfg->smtp_from ? mail_cfg->smtp_from : "spanner@localhost",
			      PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
			      id, time(NULL));
	sent = mail_deliver(mail_cfg, PQgetvalue(res, 0, 0), message, err, sizeof err);
	/* The message holds a live reset link: do not leave it in freed memory. */
	explicit_bzero(message, strlen(message));
	free(message);
	PQclear(res);
	if (sent != 0) {
		jobs_set_error(job, "SMTP delivery failed: %s", err);
		return JOBS_FAILED;
	}
	if (db_run(job->db, &st_mark_sent, 1, p) != 0)
		return JOBS_FAILED;
	log_info("mail: outbox message %s handed to the relay", id);
	job->result = json_pack("{s:b}", "delivered", 1);
	return JOBS_DONE;
}

/* In the transaction that marks the job failed: the row says why, for /admin/outbox. */
static void
mail_send_give_up(db_conn *tx, const char *job_id, json_t *payload, const char *reason)
{
	const char *id = json_string_value(json_object_get(payload, "outbox_id"));
	char why[MAIL_ERROR_MAX + 1];
	const char *p[2] = {id, why};

	(void)job_id;
	if (!id)
		return;
	snprintf(why, sizeof why, "%s", reason ? reason : "delivery failed");
	db_run(tx, &st_mark_failed, 2, p);
}

static size_t
mail_read(char *ptr, size_t size, size_t nmemb, void *cls)
{
	struct mail_upload *u = cls;
	size_t n = size * nmemb;

	if (n > u->len - u->pos)
		n = u->len - u->pos;
	memcpy(ptr, u->data + u->pos, n);
	u->pos += n;
	return n;
}

/* One SMTP transaction with the relay. 0, or -1 with err. */
static int
mail_deliver(const struct config *cfg, const char *to, const char *message, char *err,
	     size_t errlen)
{
	struct mail_upload up = {message, strlen(message), 0};
	char curl_err[CURL_ERROR_SIZE] = "";
	char *from = mail_address(cfg->smtp_from ? cfg->smtp_from : "spanner@localhost");
	struct curl_slist *rcpt = NULL;
	buf envelope_from = BUF_INIT, envelope_to = BUF_INIT;
	CURL *curl = curl_easy_init();
	CURLcode rc;
	long code = 0;

	if (!curl) {
		snprintf(err, errlen, "libcurl could not start a transfer");
		free(from);
		return -1;
	}
	buf_printf(&envelope_from, "<%s>", from);
	buf_printf(&envelope_to, "<%s>", to);
	rcpt = curl_slist_append(rcpt, envelope_to.data);

	curl_easy_setopt(curl, CURLOPT_URL, cfg->smtp_url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, envelope_from.data);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	if (cfg->smtp_user) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD,
				 cfg->smtp_password ? cfg->smtp_password : "");
		curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	}
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, mail_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
	/* Worker threads: no SIGALRM-based DNS timeouts. */
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, MAIL_CONNECT_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, MAIL_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);

	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		if (code)
			snprintf(err, errlen, "%s (SMTP %ld)",
				 curl_err[0] ? curl_err : curl_easy_strerror(rc), code);
		else
			snprintf(err, errlen, "%s",
				 curl_err[0] ? curl_err : curl_easy_strerror(rc));
	}
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(curl);
	buf_free(&envelope_from);
	buf_free(&envelope_to);
	free(from);
	return rc == CURLE_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- the outbox page */

static json_t *
mail_outbox_row(PGresult *res, int row)
{
	json_t *o = json_object();
	int sent = !PQgetisnull(res, row, 5);
	int attempts = atoi(PQgetvalue(res, row, 8));
	int noted = !sent && !PQgetisnull(res, row, 7);

	json_object_set_new(o, "id", json_string(PQgetvalue(res, row, 0)));
	json_object_set_new(o, "to", json_string(PQgetvalue(res, row, 1)));
	json_object_set_new(o, "subject", json_string(PQgetvalue(res, row, 2)));
	json_object_set_new(o, "created_at", json_string(PQgetvalue(res, row, 3)));
	json_object_set_new(o, "created_label", json_string(PQgetvalue(res, row, 4)));
	json_object_set_new(o, "sent_at",
			    sent ? json_string(PQgetvalue(res, row, 5)) : json_null());
	json_object_set_new(o, "sent_label",
			    sent ? json_string(PQgetvalue(res, row, 6)) : json_null());
	json_object_set_new(o, "error",
			    PQgetisnull(res, row, 7) ? json_null()
						     : json_string(PQgetvalue(res, row, 7)));
	json_object_set_new(o, "attempts", json_integer(attempts));
	json_object_set_new(o, "sent", json_boolean(sent));
	/* A note without an attempt: held in outbox mode. With attempts: delivery failed. */
	json_object_set_new(o, "failed", json_boolean(noted && attempts > 0));
	json_object_set_new(o, "held", json_boolean(noted && attempts == 0));
	return o;
}

json_t *
mail_outbox_list(db_conn *c, const char *before_id, int limit, int *more)
{
	char lim[16];
	const char *p[2];
	PGresult *res;
	json_t *list;
	int i, n;

	/* One row more than shown tells whether an older page exists. */
	snprintf(lim, sizeof lim, "%d", limit + 1);
	if (before_id) {
		p[0] = before_id;
		p[1] = lim;
		res = db_exec(c, &st_list_before, 2, p);
	} else {
		p[0] = lim;
		res = db_exec(c, &st_list_first, 1, p);
	}
	if (!res)
		return NULL;
	n = PQntuples(res);
	*more = n > limit;
	list = json_array();
	for (i = 0; i < n && i < limit; i++)
		json_array_append_new(list, mail_outbox_row(res, i));
	PQclear(res);
	return list;
}

json_t *
mail_outbox_get(db_conn *c, const char *id)
{
	const char *p[1] = {id};
	PGresult *res = db_exec(c, &st_get, 1, p);
	json_t *o;

	if (!res)
		return NULL;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return NULL;
	}
	o = mail_outbox_row(res, 0);
	json_object_set_new(o, "body", json_string(PQgetvalue(res, 0, 9)));
	PQclear(res);
	return o;
}

/* ---------------------------------------------------------------- formatting */

char *
mail_address(const char *mailbox)
{
	const char *lt = strrchr(mailbox, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	const char *start = mailbox, *end;

	if (lt && gt) {
		start = lt + 1;
		end = gt;
	} else {
		end = mailbox + strlen(mailbox);
	}
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return xstrndup(start, (size_t)(end - start));
}

/* Printable ASCII that cannot be mistaken for an encoded word: goes into a header as is. */
static int
mail_is_plain(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return 0;
	return strstr(s, "=?") == NULL;
}

/* A copy with CR, LF and other control characters turned into spaces (header safety). */
static char *
mail_single_line(const char *s)
{
	char *copy = xstrdup(s);
	unsigned char *p;

	for (p = (unsigned char *)copy; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return copy;
}

static void
mail_put_base64(buf *out, const unsigned char *data, size_t len)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		buf_putc(out, abc[data[i] >> 2]);
		buf_putc(out, abc[((data[i] & 3) << 4) | (data[i + 1] >> 4)]);
		buf_putc(out, abc[((data[i + 1] & 15) << 2) | (data[i + 2] >> 6)]);
		buf_putc(out, abc[data[i + 2] & 63]);
	}
	if (len - i == 1) {
		buf_putc(out, abc[data[i] >> 2]);
		buf_putc(out, abc[(data[i] & 3) << 4]);
		buf_puts(out, "==");
	} else if (len - i == 2) {
		buf_putc(out, abc[data[i] >> 2]);
		buf_putc(out, abc[((data[i] & 3) << 4) | (data[i + 1] >> 4)]);
		buf_putc(out, abc[(data[i + 1] & 15) << 2]);
		buf_putc(out, '=');
	}
}

/*
 * RFC 2047 encoded words (UTF-8, base64), one per MAIL_WORD_BYTES bytes,
 * never splitting a UTF-8 sequence (each word must decode on its own), the
 * words folded onto continuation lines. A word is 60 characters, so even a
 * first line behind "Subject: " stays under 78.
 */
static void
mail_put_words(buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), pos = 0;

	while (pos < len) {
		size_t n = len - pos < MAIL_WORD_BYTES ? len - pos : MAIL_WORD_BYTES;

		while (n > 1 && pos + n < len && (p[pos + n] & 0xc0) == 0x80)
			n--;
		if (pos > 0)
			buf_puts(out, "\r\n ");
		buf_puts(out, "=?UTF-8?B?");
		mail_put_base64(out, p + pos, n);
		buf_puts(out, "?=");
		pos += n;
	}
}

/* Plain ASCII, folded at spaces so that lines stay near 78 characters. */
static void
mail_put_plain(buf *out, const char *s, size_t column)
{
	const char *word = s;

	while (*word) {
		const char *next = strchr(word + 1, ' ');
		size_t n = next ? (size_t)(next - word) : strlen(word);

		if (word != s && *word == ' ' && column + n > MAIL_FOLD_WIDTH) {
			/* Folding inserts CRLF before the white space, which stays. */
			buf_puts(out, "\r\n");
			column = 0;
		}
		buf_append(out, word, n);
		column += n;
		word += n;
	}
}

static void
mail_put_header(buf *out, const char *name, const char *value)
{
	char *line = mail_single_line(value);
	size_t column = strlen(name) + 2;

	buf_printf(out, "%s: ", name);
	if (mail_is_plain(line))
		mail_put_plain(out, line, column);
	else
		mail_put_words(out, line);
	buf_puts(out, "\r\n");
	free(line);
}

/* "Name <addr>" with the name quoted or encoded as it needs; "addr" as is. */
static void
mail_put_mailbox(buf *out, const char *mailbox)
{
	char *clean = mail_single_line(mailbox);
	char *addr = mail_address(clean);
	const char *lt = strrchr(clean, '<');
	char *name = lt ? xstrndup(clean, (size_t)(lt - clean)) : xstrdup("");
	size_t n = strlen(name);
	const char *c;

	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		name[--n] = '\0';
	c = name;
	while (*c == ' ' || *c == '\t')
		c++;
	if (!*c) {
		buf_puts(out, addr);
	} else if (!mail_is_plain(c)) {
		mail_put_words(out, c);
		buf_printf(out, " <%s>", addr);
	} else if (strpbrk(c, "()<>[]:;@\\,.\"")) {
		buf_putc(out, '"');
		for (; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_putc(out, '\\');
			buf_putc(out, *c);
		}
		buf_printf(out, "\" <%s>", addr);
	} else {
		buf_printf(out, "%s <%s>", c, addr);
	}
	free(name);
	free(addr);
	free(clean);
}

/* RFC 5322 date in UTC; names spelled out so the C locale cannot matter. */
static void
mail_put_date(buf *out, time_t date)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	gmtime_r(&date, &tm);
	buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
		   tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		   tm.tm_sec);
}

/* Plain ASCII text with lines short enough to travel unencoded. */
static int
mail_body_is_7bit(const char *body)
{
	const unsigned char *p;
	size_t column = 0;

	for (p = (const unsigned char *)body; *p; p++) {
		if (*p == '\n') {
			column = 0;
			continue;
		}
		if (*p > 0x7e || (*p < 0x20 && *p != '\t' && *p != '\r'))
			return 0;
		if (*p != '\r' && ++column > MAIL_LINE_MAX)
			return 0;
	}
	return 1;
}

/* The body with every line ending made CRLF, ending in one. */
static void
mail_put_body_7bit(buf *out, const char *body)
{
	const char *p;

	for (p = body; *p; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n')
			buf_puts(out, "\r\n");
		else
			buf_putc(out, *p);
	}
	if (!*body || p[-1] != '\n')
		buf_puts(out, "\r\n");
}

/*
 * RFC 2045 quoted-printable: "=" and bytes outside printable ASCII as =XX,
 * white space before a line break encoded (it would be stripped in transit),
 * soft line breaks ("=" CRLF) keeping lines at 76 characters.
 */
static void
mail_put_body_qp(buf *out, const char *body)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)body;
	size_t column = 0;

	while (*p) {
		unsigned char c = *p;
		int line_end = p[1] == '\0' || p[1] == '\n' || (p[1] == '\r' && p[2] == '\n');
		int encode;

		if (c == '\n') {
			buf_puts(out, "\r\n");
			column = 0;
			p++;
			continue;
		}
		if (c == '\r' && p[1] == '\n') {
			p++;
			continue;
		}
		encode = c == '=' || c > 0x7e || (c < 0x20 && c != '\t') ||
			 ((c == ' ' || c == '\t') && line_end);
		if (column + (encode ? 3 : 1) > MAIL_QP_WIDTH) {
			buf_puts(out, "=\r\n");
			column = 0;
		}
		if (encode) {
			buf_putc(out, '=');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
			column += 3;
		} else {
			buf_putc(out, (char)c);
			column++;
		}
		p++;
	}
	if (column > 0 || !*body)
		buf_puts(out, "\r\n");
}

char *
mail_format(const char *from, const char *to, const char *subject, const char *body,
	    const char *message_id_local, time_t date)
{
	char *from_addr = mail_address(from);
	const char *domain = strrchr(from_addr, '@');
	char *to_line = mail_single_line(to);
	buf out = BUF_INIT;
	int plain = mail_body_is_7bit(body);

	mail_put_date(&out, date);
	buf_puts(&out, "From: ");
	mail_put_mailbox(&out, from);
	buf_printf(&out, "\r\nTo: %s\r\n", to_line);
	mail_put_header(&out, "Subject", subject);
	buf_printf(&out, "Message-ID: <%s@%s>\r\n", message_id_local,
		   domain && domain[1] ? domain + 1 : "localhost");
	buf_puts(&out, "MIME-Version: 1.0\r\n");
	buf_puts(&out, "Content-Type: text/plain; charset=utf-8\r\n");
	buf_printf(&out, "Content-Transfer-Encoding: %s\r\n\r\n",
		   plain ? "7bit" : "quoted-printable");
	if (plain)
		mail_put_body_7bit(&out, body);
	else
		mail_put_body_qp(&out, body);
	free(from_addr);
	free(to_line);
	return buf_steal(&out);
}
