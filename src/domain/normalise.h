/*
 * normalise — the data-normalisation rules of SPEC.md §2, applied on every
 * write (form, CSV, API alike), in one place.
 *
 * Every function returns a new malloc'ed string, or NULL when the result is
 * empty ("empty → NULL"), so callers bind the result straight to a statement.
 */
#ifndef SPANNER_NORMALISE_H
#define SPANNER_NORMALISE_H

/* Trim, and collapse every run of internal white space to one space. */
char *normalise_text(const char *s);
/* normalise_text, then lower-case (ASCII; e-mail local parts are compared case-insensitively). */
char *normalise_email(const char *s);

#endif
