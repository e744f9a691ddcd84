-- 0009_patrol_cases: a case found on a patrol names the patrol. See
-- docs/PATROLS.md.
--
-- cases.patrol_id is set at intake, when an officer records a case found on
-- a patrol (巡查发现: source 'patrol'), and the same write counts the case in
-- the patrol's `found`. It never changes afterwards. It is a column of
-- cases like any other: the '*' ownership rule of cases (0007: the nodes
-- whose jurisdiction holds the case's place, a device as its street) and
-- the '*' merge policy of cases (0002: manual) cover it, so no rule is
-- declared here. Cases recorded before this migration, and cases not found
-- on a patrol, keep it NULL.

ALTER TABLE cases ADD COLUMN patrol_id TEXT      -- the patrol it was found on, if any
	REFERENCES patrols (id) DEFERRABLE INITIALLY DEFERRED;

CREATE INDEX cases_patrol_id ON cases (patrol_id);
