-- 0003_review_queue_policies: how the review queue's own records merge.
--
-- The same dispute, met by two merges (at two tiers, or again after a
-- criss-cross), is written twice under one id: the two records hold the
-- same two values and may differ in their origins, their base or how far
-- their review has gone. That is no new dispute, so it settles at once:
-- review only moves forward (open, settled, resolved), and any other column
-- takes the greater value, the same on every node. The engine records no
-- conflict about its own records.

INSERT INTO sync_policies (table_name, column_name, policy, settles) VALUES
	('sync_conflicts', 'status', 'order:open,settled,resolved', 1),
	('sync_conflicts', '*', 'max', 1);
