-- 0004_case_rules: the rules of the case lifecycle that the upper tiers set.
-- See docs/LIFECYCLE.md.
--
-- A rule row applies to the cases of its scope: '' (the service-wide
-- defaults this migration ships), the city ('bj') or a district ('bj.dc').
-- For a case, the row of the longest scope that is its jurisdiction or one
-- of its ancestors wins. Only a city or district node writes rows, each for
-- its own id (node/lifecycle.c); streets and devices read them.
--
--  * major_threshold (category ''): a penalty of at least this many fen
--    makes the case a major penalty case (重大行政处罚), which needs a legal
--    review (法制审核) and filing with the higher tier (备案).
--  * deadline_days (per category): the days from report to deadline
--    (限时办结); without a row, categories.deadline_days.
--  * immediate_penalty (per category): 1 lets an officer penalize at once,
--    without educating and warning first (三步法); 0 or no row: the three
--    steps in order.

CREATE TABLE case_rules (
	scope TEXT NOT NULL,                 -- node id of the city or district; '' = every node
	rule TEXT NOT NULL
		CHECK (rule IN ('major_threshold', 'deadline_days', 'immediate_penalty')),
	category TEXT NOT NULL DEFAULT '',   -- the category of a per-category rule; '' for major_threshold
	value INTEGER NOT NULL,              -- fen, days, or 0/1
	set_by TEXT                          -- real name of who set it; NULL for the shipped defaults
		CHECK (set_by <> ''),
	set_at TEXT                          -- when it was set; NULL for the shipped defaults
		CHECK (set_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	CHECK ((rule = 'major_threshold') = (category = '')),
	CHECK (rule <> 'major_threshold' OR value >= 0),
	CHECK (rule <> 'deadline_days' OR value > 0),
	CHECK (rule <> 'immediate_penalty' OR value IN (0, 1)),
	PRIMARY KEY (scope, rule, category)
) STRICT;

INSERT INTO case_rules (scope, rule, category, value) VALUES
	-- 10,000 yuan: the initial line of a major penalty, for the city to set.
	('', 'major_threshold', '', 1000000),
	-- The plan's zero-tolerance (零容忍) situations: unlicensed coal selling
	-- (无照售煤), occupying or damaging municipal facilities (占压损毁市政设施)
	-- and new illegal building (新生违法建设) are penalized at once.
	('', 'immediate_penalty', 'coal_unlicensed', 1),
	('', 'immediate_penalty', 'facility_damage', 1),
	('', 'immediate_penalty', 'illegal_building', 1);

-- The rules are the upper tier's: its side wins and settles.
INSERT INTO sync_policies (table_name, column_name, policy, settles) VALUES
	('case_rules', '*', 'upper', 1);
