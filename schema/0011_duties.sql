-- 0011_duties: separation of duties in the case lifecycle. See
-- docs/LIFECYCLE.md, "Who may".
--
--  * cases.first_officer: the first-contact officer (首问负责制), set at the
--    first dispatch and never changed; cases.officer is the current one.
--  * case_rules gains the rule review_tier: the tier whose node makes the
--    legal review (法制审核) of a major case (1 the city, 2 a district),
--    per jurisdiction like the other rules. The shipped default is the
--    district, which holds the legal staff.
--  * case_filings: the filing of a major case with the higher tier (备案),
--    one row per case, written by the node that files it up; the upper
--    node acknowledges it in the same row.
--  * sync_ownership.sole: a column rule that takes its column out of the
--    table's '*' rules. The review's outcome and the acknowledgement are
--    the upper tiers' alone, whatever a lower node may write of the rest
--    of the row.

ALTER TABLE cases ADD COLUMN first_officer TEXT;  -- 首问负责: the officer of the first dispatch
UPDATE cases SET first_officer = officer WHERE officer IS NOT NULL;

-- case_rules again, with review_tier among its rules (a CHECK changes only
-- with the table). Same columns, same rows.
CREATE TABLE case_rules_0011 (
	scope TEXT NOT NULL,                 -- node id of the city or district; '' = every node
	rule TEXT NOT NULL
		CHECK (rule IN ('major_threshold', 'deadline_days', 'immediate_penalty', 'review_tier')),
	category TEXT NOT NULL DEFAULT '',   -- the category of a per-category rule; '' otherwise
	value INTEGER NOT NULL,              -- fen, days, 0/1, or a tier's depth (1 city, 2 district)
	set_by TEXT                          -- real name of who set it; NULL for the shipped defaults
		CHECK (set_by <> ''),
	set_at TEXT                          -- when it was set; NULL for the shipped defaults
		CHECK (set_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	CHECK ((rule IN ('major_threshold', 'review_tier')) = (category = '')),
	CHECK (rule <> 'major_threshold' OR value >= 0),
	CHECK (rule <> 'deadline_days' OR value > 0),
	CHECK (rule <> 'immediate_penalty' OR value IN (0, 1)),
	CHECK (rule <> 'review_tier' OR value IN (1, 2)),
	PRIMARY KEY (scope, rule, category)
) STRICT;
INSERT INTO case_rules_0011 (scope, rule, category, value, set_by, set_at)
	SELECT scope, rule, category, value, set_by, set_at FROM case_rules;
DROP TABLE case_rules;
ALTER TABLE case_rules_0011 RENAME TO case_rules;

-- The district holds the legal staff (法制审核): it reviews by default.
INSERT INTO case_rules (scope, rule, category, value) VALUES ('', 'review_tier', '', 2);

CREATE TABLE case_filings (
	case_id TEXT NOT NULL PRIMARY KEY    -- the major case filed up
		REFERENCES cases (id) DEFERRABLE INITIALLY DEFERRED,
	filed_at TEXT NOT NULL               -- 备案: when it was filed up
		CHECK (filed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	filed_by TEXT NOT NULL CHECK (filed_by <> ''),   -- real name of who filed it up
	node TEXT NOT NULL CHECK (node <> ''),           -- the node that filed it up
	filed_with TEXT NOT NULL CHECK (filed_with <> ''),  -- the upper node it is filed with
	acked_at TEXT                        -- when the upper node acknowledged it; NULL: pending
		CHECK (acked_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	acked_by TEXT CHECK (acked_by <> ''),            -- real name of who acknowledged it
	ack_note TEXT,                                   -- what the upper node said, or NULL
	CHECK ((acked_at IS NULL) = (acked_by IS NULL))
) STRICT;

CREATE INDEX case_filings_filed_with ON case_filings (filed_with, acked_at);

ALTER TABLE sync_ownership ADD COLUMN sole INTEGER NOT NULL DEFAULT 0 CHECK (sole IN (0, 1));

INSERT INTO sync_ownership (table_name, column_name, scope_column, max_depth, scope_table,
		scope_table_column, reach, below_only, new_values, sole) VALUES
	-- The legal review's outcome: the city or a district over the case's
	-- place. Any node of the place may send a case back to review (a new
	-- decision sets it pending): that rule reaches the case's jurisdiction
	-- through the case's own id, as a key of cases.
	('cases', 'review_status', 'jurisdiction', 2, NULL, NULL, NULL, 0, NULL, 1),
	('cases', 'review_status', 'id', 4, 'cases', 'jurisdiction', 3, 0, 'pending', 1),
	('cases', 'reviewer', 'jurisdiction', 2, NULL, NULL, NULL, 0, NULL, 1),
	('cases', 'reviewed_at', 'jurisdiction', 2, NULL, NULL, NULL, 0, NULL, 1),
	-- A filing is the case's: written by the nodes of its place; its
	-- acknowledgement is the upper node's it is filed with (or above).
	('case_filings', '*', 'case_id', 4, 'cases', 'jurisdiction', 3, 0, NULL, 0),
	('case_filings', 'acked_at', 'filed_with', 2, NULL, NULL, NULL, 0, NULL, 1),
	('case_filings', 'acked_by', 'filed_with', 2, NULL, NULL, NULL, 0, NULL, 1),
	('case_filings', 'ack_note', 'filed_with', 2, NULL, NULL, NULL, 0, NULL, 1);

-- A filing is made once, by the case's node, and acknowledged once, by the
-- upper node: a conflict is two nodes filing up the same case offline, for
-- review; the acknowledgement is the upper tier's, whose side wins.
-- Two first dispatches made offline at two tiers: the first-contact officer
-- is the lower node's, where the case was met (a re-dispatch never changes it).
INSERT INTO sync_policies (table_name, column_name, policy, settles) VALUES
	('cases', 'first_officer', 'lower', 1),
	('case_filings', '*', 'manual', 0),
	('case_filings', 'acked_at', 'upper', 1),
	('case_filings', 'acked_by', 'upper', 1),
	('case_filings', 'ack_note', 'upper', 1);
