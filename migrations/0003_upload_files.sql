-- 0003_upload_files.sql — the bytes of every uploaded CSV file, kept in the database.
--
-- An upload is accepted by whichever server the load balancer picked, and its import job
-- may run on any other: the file therefore cannot live only on the accepting server's
-- disk. The upload handler streams it here (COPY, in the transaction that creates the
-- batch and queues the job), and the job reads it back from here. Kept after the import
-- as the record of exactly what was uploaded.
--
-- Run inside a transaction by the migration runner (no BEGIN/COMMIT here).

create table upload_files (
	batch_id   uuid primary key references upload_batches (id),
	content    bytea not null,
	created_at timestamptz not null default now()
);

-- CSV files are read once, whole, by the import job; compressing them on the way in only
-- makes the upload request slower. EXTERNAL = out of line, uncompressed.
alter table upload_files alter column content set storage external;

-- "My uploads" and the uploads list filter by status as well as by uploader.
create index upload_batches_status_created_idx on upload_batches (status, created_at, id);
