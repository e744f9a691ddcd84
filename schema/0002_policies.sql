-- 0002_policies: the merge policies of the case schema. The sync engine
-- (sync/policy.c) reads this table and applies it to every conflict of a
-- merge; it knows nothing of cases, so all the case knowledge is here. See
-- docs/SCHEMA.md, "Merge policies".
--
--  * column_name '*' covers every column of the table and its whole-row
--    (delete) conflicts; a row naming a column overrides it. A table or
--    column without a row gets the engine's default (= manual).
--  * policy: 'order:v1,v2,...' (later wins), 'max', 'min', 'upper' (the
--    higher tier's side wins), 'lower', 'append-only' (a conflict is damage:
--    the merge aborts), 'manual' (provisional value, for review).
--  * settles = 1: the policy's choice closes the conflict without review
--    (still recorded, as 'settled'); 0: it waits in the review queue.
--  * The table is synced like any other, so every node holds the same
--    declarations; it changes only by a later migration.

CREATE TABLE sync_policies (
	table_name TEXT NOT NULL CHECK (table_name <> ''),
	column_name TEXT NOT NULL CHECK (column_name <> ''),  -- '*' = every column of the table
	policy TEXT NOT NULL
		CHECK (policy IN ('max', 'min', 'upper', 'lower', 'append-only', 'manual')
			OR (policy GLOB 'order:?*' AND policy NOT GLOB 'order:,*'
				AND policy NOT GLOB '*,,*' AND policy NOT GLOB '*,')),
	settles INTEGER NOT NULL DEFAULT 0   -- 1: the choice closes the conflict without review
		CHECK (settles IN (0, 1)),
	CHECK (settles = 0 OR policy NOT IN ('manual', 'append-only')),
	PRIMARY KEY (table_name, column_name)
) STRICT;

INSERT INTO sync_policies (table_name, column_name, policy, settles) VALUES
	-- Reference data and what the city or a district lists and declares: the
	-- upper tier owns it, so its side wins outright; a lower node's change
	-- that meets one from above gives way, and a delete by the owner stands.
	('sources', '*', 'upper', 1),
	('categories', '*', 'upper', 1),
	('key_areas', '*', 'upper', 1),
	('major_events', '*', 'upper', 1),
	-- The declarations themselves are the upper tier's.
	('sync_policies', '*', 'upper', 1),

	-- A case moves forward through its lifecycle: the later state wins and
	-- settles. transferred (移送) is last: handing a case to another
	-- department or the police takes it out of the service's hands, even if
	-- a node meanwhile closed it. Every step stays in case_events.
	('cases', 'status', 'order:discovered,dispatched,handling,feedback,closed,transferred', 1),
	-- When a step happened: the latest record wins and settles; who did
	-- which step when is kept, both times, in case_events.
	('cases', 'filed_at', 'max', 1),
	('cases', 'decided_at', 'max', 1),
	('cases', 'reviewed_at', 'max', 1),
	('cases', 'filed_up_at', 'max', 1),
	('cases', 'executed_at', 'max', 1),
	('cases', 'transferred_at', 'max', 1),
	('cases', 'visited_at', 'max', 1),
	('cases', 'closed_at', 'max', 1),
	-- Everything else of a case (place, officer, penalty, review decision,
	-- deadline, complainant...) is someone's judgement: for review.
	('cases', '*', 'manual', 0),

	-- Immutable records: a conflict there means damaged or forged history.
	('case_events', '*', 'append-only', 0),
	('evidence', '*', 'append-only', 0),

	-- 督办: what was asked, of whom, by when, and whether it is closed are
	-- the issuing tier's decisions; the rest of an item (who issued it,
	-- when, the case it is about) never changes once issued, so a conflict
	-- there is for review.
	('supervision_items', 'status', 'upper', 1),
	('supervision_items', 'closed_at', 'upper', 1),
	('supervision_items', 'due_at', 'upper', 1),
	('supervision_items', 'subject', 'upper', 1),
	('supervision_items', 'detail', 'upper', 1),
	('supervision_items', 'target_node', 'upper', 1),
	('supervision_items', '*', 'manual', 0),
	-- 反馈: an answer belongs to the node that wrote it, below.
	('supervision_feedback', '*', 'lower', 1),

	-- Street work: for review.
	('parties', '*', 'manual', 0),
	('small_ad_phones', '*', 'manual', 0),
	('patrols', '*', 'manual', 0),
	('responsibility_zones', '*', 'manual', 0),
	('responsibility_checks', '*', 'manual', 0);
