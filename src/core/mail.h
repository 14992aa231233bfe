/*
 * mail — outgoing e-mail: every message is an outbox row, delivered by a job.
 *
 * mail_queue() writes the message to the `outbox` table and queues a
 * `mail.send` job in the caller's transaction, so a message exists (and is
 * sent) exactly when the change that wanted it commits: a rolled-back reset
 * never mails a link that does not work.
 *
 * The job formats an RFC 5322 message and hands it to the configured relay
 * with libcurl's SMTP (smtp_url, smtp_user, smtp_password, smtp_from). With
 * no smtp_url the job leaves the row unsent, with a note saying why: that is
 * the outbox mode, in which an Admin reads the message at /admin/outbox and
 * forwards it by hand. A
 * delivery that fails is recorded on the row (error, attempts) and the job
 * fails for good; it is not retried, so a dead relay cannot cause a storm.
 *
 * Nothing here logs a body, a subject or an address: bodies carry reset links.
 */
#ifndef SPANNER_MAIL_H
#define SPANNER_MAIL_H

#include <jansson.h>
#include <time.h>

#include "config.h"
#include "db.h"

#define MAIL_SEND_KIND "mail.send"

/*
 * Registers the mail.send job kind and initialises libcurl. Call once from
 * main, before jobs_start and before any other thread exists (curl's global
 * initialisation is not thread-safe). cfg must outlive the job workers.
 * 0 or -1 (logged).
 */
int mail_register(const struct config *cfg);

/*
 * Queues one plain-text message (UTF-8) to one address, in tx. The subject
 * must be a single line. 0, or -1 (the error on tx, or logged for a bad
 * address or subject).
 */
int mail_queue(db_conn *tx, const char *to, const char *subject, const char *body);

/*
 * The outbox for /admin/outbox: up to limit messages, newest first, older
 * than the message before_id (NULL: from the newest). Each is an object
 * {id, to, subject, created_at, created_label, sent_at, sent_label, error,
 * attempts, sent, failed, held}: failed after a delivery attempt, held when
 * outbox mode kept it (error then says why); the body is left out. *more is
 * set when older messages exist.
 * NULL on a database error.
 */
json_t *mail_outbox_list(db_conn *c, const char *before_id, int limit, int *more);
/* One message with its body, as above plus "body". NULL when missing or on error (see db_error). */
json_t *mail_outbox_get(db_conn *c, const char *id);

/*
 * Formats a whole RFC 5322 message with CRLF line ends: Date, From, To,
 * Subject (RFC 2047 encoded when not plain ASCII), Message-ID
 * (<message_id_local@domain of from>), MIME-Version and a text/plain UTF-8
 * body, sent as 7bit when it is plain ASCII with short lines and as
 * quoted-printable otherwise. Dot-stuffing is left to the SMTP client.
 * Returns a malloc'ed string. Exposed for tests.
 */
char *mail_format(const char *from, const char *to, const char *subject, const char *body,
		  const char *message_id_local, time_t date);

/* The bare address of "Name <addr>" or "addr", malloc'ed. */
char *mail_address(const char *mailbox);

#endif
