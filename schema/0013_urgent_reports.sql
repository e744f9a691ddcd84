-- 0013_urgent_reports: urgent information reports (信息报送). See
-- docs/SCHEMA.md, "urgent_reports", and docs/TIERS.md, "Urgent reports".
--
-- An urgent report is an event that must reach the city at once: a street
-- (or a device acting for its street) or a district records it, and its
-- next push sends it ahead of any backlog. The upper node that takes it in
-- acknowledges it in the same row (received_at, received_by): those
-- columns are the upper tiers' alone.

CREATE TABLE urgent_reports (
	id TEXT NOT NULL PRIMARY KEY,              -- minted: <node id>-u<yyyymmdd>-<n>
	jurisdiction TEXT NOT NULL                 -- the unit reporting (a device reports for its street)
		CHECK (jurisdiction <> ''),
	case_id TEXT                               -- the case it is about, or NULL
		REFERENCES cases (id) DEFERRABLE INITIALLY DEFERRED,
	subject TEXT NOT NULL                      -- one line
		CHECK (subject <> '' AND instr(subject, char(10)) = 0 AND instr(subject, char(13)) = 0),
	detail TEXT,
	occurred_at TEXT NOT NULL                  -- when the event happened
		CHECK (occurred_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	reported_at TEXT NOT NULL                  -- when it was recorded
		CHECK (reported_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	reporter TEXT NOT NULL CHECK (reporter <> ''),   -- real name of who reported it
	node TEXT NOT NULL CHECK (node <> ''),           -- the node that recorded it
	received_at TEXT                           -- when a node above took it in; NULL: pending
		CHECK (received_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	received_by TEXT CHECK (received_by <> ''),      -- real name of who took it in there
	CHECK ((received_at IS NULL) = (received_by IS NULL)),
	CHECK (occurred_at <= reported_at)
) STRICT;

CREATE INDEX urgent_reports_place ON urgent_reports (jurisdiction, reported_at);

INSERT INTO sync_ownership (table_name, column_name, scope_column, max_depth, scope_table,
		scope_table_column, reach, below_only, new_values, sole) VALUES
	-- written by the nodes of the reporting unit; a device acts as its street
	('urgent_reports', '*', 'jurisdiction', 4, NULL, NULL, 3, 0, NULL, 0),
	-- taken in by a node above the unit: the city or a district, never the unit itself
	('urgent_reports', 'received_at', 'jurisdiction', 2, NULL, NULL, NULL, 1, NULL, 1),
	('urgent_reports', 'received_by', 'jurisdiction', 2, NULL, NULL, NULL, 1, NULL, 1);

-- A report is written once by the node that records it, and reaches the
-- upper node twice (its urgent commit, then main) with the same values:
-- no conflict. The acknowledgement is the upper tier's, whose side wins.
INSERT INTO sync_policies (table_name, column_name, policy, settles) VALUES
	('urgent_reports', '*', 'lower', 1),
	('urgent_reports', 'received_at', 'upper', 1),
	('urgent_reports', 'received_by', 'upper', 1);
