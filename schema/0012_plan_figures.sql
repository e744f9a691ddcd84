-- 0012_plan_figures: the records two of the plan's figures need. See
-- docs/REPORT.md.
--
--  * complaint_baselines: the complaint volume (常量) the city sets for a
--    unit, a subject and a year, that the plan's "群众举报低于常量15%以上"
--    measures against. A subject is the key areas or one of the campaigns
--    the plan gives a complaint goal: dust and muck (施工扬尘, 渣土运输遗撒,
--    不达标车辆运输), outdoor barbecue (露天烧烤), small ads (非法小广告).
--  * exposures: the service's own exposures in the media (主动曝光), made
--    by a street, a district or the city about its jurisdiction, with the
--    case exposed if there is one. Cases the media found are cases with
--    source 'media'.

CREATE TABLE complaint_baselines (
	scope TEXT NOT NULL CHECK (scope <> ''),  -- node id of the unit the baseline is for
	subject TEXT NOT NULL                -- what is counted: complaints in key areas, or a campaign's
		CHECK (subject IN ('key_areas', 'dust_muck', 'outdoor_bbq', 'small_ads')),
	year TEXT NOT NULL                   -- the calendar year it holds for (Beijing time), e.g. '2015'
		CHECK (year GLOB '[12][0-9][0-9][0-9]'),
	complaints INTEGER NOT NULL          -- the baseline: complaints in a whole year
		CHECK (complaints >= 0),
	set_by TEXT NOT NULL CHECK (set_by <> ''),   -- real name of who set it
	set_at TEXT NOT NULL                 -- when it was set
		CHECK (set_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	PRIMARY KEY (scope, subject, year)
) STRICT;

CREATE TABLE exposures (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	jurisdiction TEXT NOT NULL           -- node id of the unit that made it
		CHECK (jurisdiction <> ''),
	case_id TEXT                         -- the case exposed, if any
		REFERENCES cases (id) DEFERRABLE INITIALLY DEFERRED,
	outlet TEXT NOT NULL CHECK (outlet <> ''),   -- the paper, station or account, e.g. '北京日报'
	title TEXT NOT NULL CHECK (title <> ''),     -- the headline or subject, one line
	published_at TEXT NOT NULL           -- when it was published
		CHECK (published_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	made_by TEXT NOT NULL CHECK (made_by <> ''), -- real name of who made it
	url TEXT                             -- where it can be read, if online
) STRICT;

CREATE INDEX exposures_jurisdiction ON exposures (jurisdiction, published_at);
CREATE INDEX exposures_case_id ON exposures (case_id);

-- The baselines are the city's; an exposure is its unit's (a device acts
-- for its street), and never changes once made but by its unit.
INSERT INTO sync_ownership (table_name, column_name, scope_column, max_depth, scope_table,
		scope_table_column, reach, below_only, new_values, sole) VALUES
	('complaint_baselines', '*', 'scope', 1, NULL, NULL, NULL, 0, NULL, 0),
	('exposures', '*', 'jurisdiction', 4, NULL, NULL, 3, 0, NULL, 0);

-- The city's word on a baseline stands; two offline edits of one exposure
-- go to review.
INSERT INTO sync_policies (table_name, column_name, policy, settles) VALUES
	('complaint_baselines', '*', 'upper', 1),
	('exposures', '*', 'manual', 0);
