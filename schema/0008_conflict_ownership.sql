-- 0008_conflict_ownership: a record of the review queue is written only
-- by a node that may write the row it is about. See docs/SCHEMA.md,
-- "Ownership".
--
-- A conflict record names its row by history path (row_path). With
-- scope_table '*', a rule's scope_column holds such a path, and the writer
-- must be one that the '*' rules of that row's own table let write the row
-- as the receiving node, or the offer, holds it. So a street can neither
-- plant an open conflict about another street's case (for an administrator
-- to "take theirs" on) nor mark one resolved; a district records and
-- resolves the conflicts of its streets' cases.

DELETE FROM sync_ownership WHERE table_name = 'sync_conflicts';

INSERT INTO sync_ownership (table_name, column_name, scope_column, max_depth, scope_table,
		scope_table_column, reach, below_only, new_values) VALUES
	('sync_conflicts', '*', 'row_path', 4, '*', '*', NULL, 0, NULL);
