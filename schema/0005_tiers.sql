-- 0005_tiers: what the records between the tiers need beyond 0001/0002.
-- See docs/TIERS.md.
--
-- A small-ad number's warning call is one act: when it was made, by whom,
-- and what came of it. 0002 sent every conflict over it to review, column
-- by column, which could leave a merged row naming one caller with the
-- other's outcome. The number belongs to the case of the street that found
-- it, and the warning call is made there, so the lower tier's side wins
-- whole (all three columns from the same side: a tier policy picks one side
-- for every column) and settles; the other side's call stays readable in
-- sync_conflicts and in history.
UPDATE sync_policies SET policy = 'lower', settles = 1
	WHERE table_name = 'small_ad_phones' AND column_name = '*';

-- The events of a tier are looked up by who declared them when cases are
-- marked.
CREATE INDEX major_events_owner_node ON major_events (owner_node, starts_at);
