-- 0007_ownership: who may write what, and the nodes' signing keys. See
-- docs/SCHEMA.md, "Ownership".
--
-- The sync engine (sync/ownership.c) reads sync_ownership and checks every
-- change that arrives from another node (a submission being merged, a
-- pull) and every local write against it; it knows nothing of cases, so
-- the case knowledge is here.
--
-- A writer is a node, known by its id. Its depth is the number of labels of
-- the id: 1 the city ('bj'), 2 a district ('bj.dc'), 3 a street office
-- ('bj.dc.jingshan'), 4 a device ('bj.dc.jingshan.d07').
--
--  * column_name '*' covers inserting and deleting rows, and every column;
--    a row naming a column lets more writers change that column.
--  * max_depth: the deepest writer allowed (1: the city only, 2: the city
--    and its districts, ... 4: every node). 0: no node at all: the rows
--    change only by migration, which every node applies alike.
--  * scope_column: the column that holds the node id a row belongs to.
--    The writer may write the row only when that id lies in the writer's
--    jurisdiction (its own id or an id below it), before and after the
--    change. NULL: any row of the table. With scope_table, scope_column is
--    a column of this table that names a row of scope_table by its
--    (single-column) primary key, and that row's scope_table_column holds
--    the node id (an evidence row belongs where its case does).
--  * reach: writers deeper than this act as their ancestor of that depth
--    (a device records its street's cases). NULL: as themselves.
--  * below_only = 1: only ids strictly below the writer (a node cannot
--    enroll itself, or change the key it was enrolled with).
--  * new_values (a column's rows only): the values, comma-separated, the
--    column may be set to under this row (a target answers an item, it
--    does not close it). NULL: any value.
--
-- A write is allowed when any row of the table's '*' or of the column
-- allows it (a supervision item's status is changed by its issuer, who
-- closes it, and by its target, which may only answer it).
-- A table with no row at all is open to every node. What reaches a node
-- from above is never counted against it: only what a submission changes
-- in the receiving node's rows is checked.
--
-- The table is synced like sync_policies, and it is the city's alone.

CREATE TABLE sync_ownership (
	table_name TEXT NOT NULL CHECK (table_name <> ''),
	column_name TEXT NOT NULL CHECK (column_name <> ''),   -- '*' = rows, and every other column
	scope_column TEXT NOT NULL DEFAULT '',                 -- '' = any row
	max_depth INTEGER NOT NULL CHECK (max_depth BETWEEN 0 AND 16),
	scope_table TEXT CHECK (scope_table <> ''),
	scope_table_column TEXT CHECK (scope_table_column <> ''),
	reach INTEGER CHECK (reach BETWEEN 1 AND 16),
	below_only INTEGER NOT NULL DEFAULT 0 CHECK (below_only IN (0, 1)),
	new_values TEXT CHECK (new_values <> ''),
	CHECK (new_values IS NULL OR column_name <> '*'),
	CHECK ((scope_table IS NULL) = (scope_table_column IS NULL)),
	CHECK (scope_table IS NULL OR scope_column <> ''),
	PRIMARY KEY (table_name, column_name, scope_column)
) STRICT;

-- The signing keys of the nodes (OpenSSH public key lines, Ed25519): a
-- node's commits are signed with its key, and an upper node enrolls each
-- lower node's key before it merges anything from it. The keys travel with
-- the history, so every node can check every commit it holds; `allowed_signers`
-- in the node's directory is written from this table.
CREATE TABLE sync_signers (
	node_id TEXT NOT NULL PRIMARY KEY CHECK (node_id <> ''),
	public_key TEXT NOT NULL CHECK (public_key GLOB 'ssh-ed25519 *'),
	enrolled_by TEXT NOT NULL CHECK (enrolled_by <> ''),    -- node id of the enrolling node
	enrolled_at TEXT NOT NULL
		CHECK (enrolled_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	revoked_at TEXT                                          -- NULL while the key is in force
		CHECK (revoked_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00')
) STRICT;

-- Limits on what one transfer may bring (sync/admit.c): a row blob's and a
-- file's size in bytes. A submission or pull holding a larger one is
-- refused whole. The engine's defaults, without a row, are the same.
CREATE TABLE sync_limits (
	name TEXT NOT NULL PRIMARY KEY CHECK (name IN ('row_bytes', 'file_bytes')),
	value INTEGER NOT NULL CHECK (value > 0)
) STRICT;

INSERT INTO sync_limits (name, value) VALUES
	('row_bytes', 1048576),          -- 1 MiB: a case row is a few hundred bytes
	('file_bytes', 1073741824);      -- 1 GiB: an hour of body-camera video

INSERT INTO sync_ownership (table_name, column_name, scope_column, max_depth, scope_table,
		scope_table_column, reach, below_only, new_values) VALUES
	-- The declarations and the reference lists: fixed by migration, or the city's.
	('sync_ownership', '*', '', 0, NULL, NULL, NULL, 0, NULL),
	('sync_policies', '*', '', 0, NULL, NULL, NULL, 0, NULL),
	('sync_file_columns', '*', '', 0, NULL, NULL, NULL, 0, NULL),
	('sync_limits', '*', '', 0, NULL, NULL, NULL, 0, NULL),
	('sources', '*', '', 1, NULL, NULL, NULL, 0, NULL),
	('categories', '*', '', 1, NULL, NULL, NULL, 0, NULL),
	-- A node's key is enrolled by a node above it, for a node in its
	-- jurisdiction; the city's own key is the one row it writes for itself.
	('sync_signers', '*', 'node_id', 4, NULL, NULL, NULL, 1, NULL),
	('sync_signers', '*', 'enrolled_by', 1, NULL, NULL, NULL, 0, NULL),
	-- Rules of the lifecycle: a city or district, for its own scope.
	('case_rules', '*', 'scope', 2, NULL, NULL, NULL, 0, NULL),
	-- Key areas and major events: the city or a district that keeps them.
	('key_areas', '*', 'owner_node', 2, NULL, NULL, NULL, 0, NULL),
	('major_events', '*', 'owner_node', 2, NULL, NULL, NULL, 0, NULL),
	-- Supervision: issued and closed by the issuer; the target answers.
	('supervision_items', '*', 'issued_by_node', 2, NULL, NULL, NULL, 0, NULL),
	('supervision_items', 'status', 'target_node', 3, NULL, NULL, NULL, 0, 'answered'),
	('supervision_feedback', '*', 'node', 4, NULL, NULL, 3, 0, NULL),
	-- Cases and what hangs on them: the nodes whose jurisdiction holds the
	-- place (a device acts for its street).
	('cases', '*', 'jurisdiction', 4, NULL, NULL, 3, 0, NULL),
	('parties', '*', 'case_id', 4, 'cases', 'jurisdiction', 3, 0, NULL),
	('evidence', '*', 'case_id', 4, 'cases', 'jurisdiction', 3, 0, NULL),
	('small_ad_phones', '*', 'case_id', 4, 'cases', 'jurisdiction', 3, 0, NULL),
	('case_events', '*', 'node', 4, NULL, NULL, NULL, 0, NULL),
	('patrols', '*', 'jurisdiction', 4, NULL, NULL, 3, 0, NULL),
	('responsibility_zones', '*', 'jurisdiction', 4, NULL, NULL, 3, 0, NULL),
	('responsibility_checks', '*', 'zone_id', 4, 'responsibility_zones', 'jurisdiction', 3, 0, NULL),
	-- The review queue: a conflict is the merging node's (ours_node).
	('sync_conflicts', '*', '', 4, NULL, NULL, NULL, 0, NULL);

INSERT INTO sync_policies (table_name, column_name, policy, settles) VALUES
	('sync_ownership', '*', 'upper', 1),
	('sync_signers', '*', 'upper', 1),
	('sync_limits', '*', 'upper', 1);
