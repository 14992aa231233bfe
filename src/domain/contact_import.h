/*
 * contact_import — what a contact CSV import is (SPEC.md §4), as an
 * imports_spec for the generic pipeline in domain/imports.h.
 *
 * Columns: First Name, Last Name, Email, Company Name and Segment Name
 * (required), then every other contact field's CSV header
 * (domain/contacts.h). Each row goes through contacts_clean, the very
 * normalisation and validation of the contact form. The company is named,
 * and company names repeat across segments, so it is looked up by name
 * within the named segment (case-insensitively, as the database sees
 * names); it must be approved. Imported contacts are `uploaded`, take their
 * company's segment, carry the batch id and the uploader as creator.
 */
#ifndef SPANNER_CONTACT_IMPORT_H
#define SPANNER_CONTACT_IMPORT_H

#include "domain/imports.h"

#define CONTACT_IMPORT_KIND "import.contacts"

extern const struct imports_spec contact_import_spec;

/* Registers the spec and its job kind (import.contacts). Before jobs_start. 0 or -1. */
int contact_import_register(void);

#endif
