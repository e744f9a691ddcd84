-- 0006_file_columns: which columns hold the SHA-256 of a file kept in
-- history. The files themselves are blobs of the history, at
-- _tiersync/files/<first two hex digits>/<SHA-256> (docs/FORMAT.md, "Files");
-- the engine (sync/files.c) knows nothing of what they mean, and learns
-- here which values name one: `verify` reports every value of such a
-- column that names a file history does not hold. See docs/EVIDENCE.md.
--
-- The table is synced like sync_policies, so every node holds the same
-- declarations; it changes only by a later migration.

CREATE TABLE sync_file_columns (
	table_name TEXT NOT NULL CHECK (table_name <> ''),
	column_name TEXT NOT NULL CHECK (column_name <> ''),
	PRIMARY KEY (table_name, column_name)
) STRICT;

INSERT INTO sync_file_columns (table_name, column_name) VALUES
	('evidence', 'sha256');

INSERT INTO sync_policies (table_name, column_name, policy, settles) VALUES
	('sync_file_columns', '*', 'upper', 1);
