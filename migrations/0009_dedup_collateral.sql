-- 0009_dedup_collateral.sql — the duplicate job's run record and its one-at-a-time rule,
-- its schedule setting, and the audited removal of marketing collateral (issue 12).
--
-- Run inside a transaction by the migration runner (no BEGIN/COMMIT here).
--
-- Errors raised here (the C code maps them to user messages)
--   SP008  a collateral link deleted without its "remove" audit row (title and URL) in
--          the same transaction

-- ---------------------------------------------------------------- dedup runs

-- 0001's dedup_runs says when a run started and how many records it flagged. The admin
-- page also shows who or what started it, how far a running one has got, and what it
-- checked, flagged anew and unflagged, per kind.
alter table dedup_runs
	add column trigger             text not null default 'schedule',
	add column status              text not null default 'running',
	add column phase               text,
	add column progress_done       bigint not null default 0,
	add column progress_total      bigint not null default 0,
	add column companies_checked   bigint not null default 0,
	add column contacts_checked    bigint not null default 0,
	add column companies_new       integer not null default 0,
	add column contacts_new        integer not null default 0,
	add column companies_unflagged integer not null default 0,
	add column contacts_unflagged  integer not null default 0,
	add constraint dedup_runs_trigger_check check (trigger in ('schedule', 'manual')
		and (trigger = 'manual') = (triggered_by is not null)),
	add constraint dedup_runs_status_check check (status in ('running', 'done', 'failed',
		'interrupted')),
	add constraint dedup_runs_finished_check check ((status = 'running')
		= (finished_at is null)),
	add constraint dedup_runs_phase_check check (phase is null
		or phase in ('companies', 'contacts')),
	add constraint dedup_runs_more_counts_check check (progress_done >= 0
		and progress_total >= 0 and companies_checked >= 0 and contacts_checked >= 0
		and companies_new >= 0 and contacts_new >= 0 and companies_unflagged >= 0
		and contacts_unflagged >= 0);

-- At most one duplicate job waiting or running, whoever asked and from whichever server:
-- two Admins pressing "Run now" at the same moment get one run. The application asks
-- first (INSERT ... ON CONFLICT DO NOTHING against this index); this is what makes the
-- race impossible rather than unlikely.
create unique index jobs_one_dedup_key on jobs (kind)
	where kind = 'dedup' and state in ('queued', 'running');

-- The schedule set on /admin/dedup: a 5-field cron expression, a @shortcut, or off.
-- The application parses it fully (src/core/cron.c); this keeps anything that is not
-- even shaped like one out of the table.
alter table settings add constraint settings_dedup_schedule_check check (key <> 'dedup_schedule'
	or value ~ '^(off|@(hourly|daily|midnight|weekly|monthly|yearly|annually)|[0-9A-Za-z*/,-]+( [0-9A-Za-z*/,-]+){4})$');

-- ---------------------------------------------------------------- collateral removal

-- Removing a collateral link is the product's only delete (SPEC §2), and it is audited
-- with what was removed: the transaction that deletes a link must also write its
-- "remove" audit row holding the link's title and URL. Checked at commit, so the order
-- of the two statements does not matter.
create function marketing_collaterals_removal_audited() returns trigger
language plpgsql as $$
begin
	if not exists (select 1 from audit_logs a
		       where a.entity_type = 'collateral' and a.entity_id = old.id
			 and a.action = 'remove' and a.details ->> 'title' = old.title
			 and a.details ->> 'url' = old.url) then
		raise exception 'collateral % removed without its audit row', old.id
			using errcode = 'SP008', table = 'marketing_collaterals',
			      detail = 'Write the "remove" audit row with the title and URL in the same'
				       ' transaction.';
	end if;
	return null;
end
$$;
create constraint trigger marketing_collaterals_removal_audit after delete
	on marketing_collaterals deferrable initially deferred
	for each row execute function marketing_collaterals_removal_audited();

-- The /collateral list: newest first, keyset pages.
create index marketing_collaterals_list_idx on marketing_collaterals (created_at desc, id desc);
