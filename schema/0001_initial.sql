-- 0001_initial: the case database of the city-management enforcement service
-- (城管执法): every record the domain (DOMAIN.md) names. See docs/SCHEMA.md.
--
-- Conventions, kept by every table below:
--  * Every table has a TEXT primary key. Synced rows are keyed by ids the
--    creating node mints offline, "<node id>-<prefix><yyyymmdd>-<n>";
--    reference tables by their code. No rowid or AUTOINCREMENT ids.
--  * Times are text 'YYYY-MM-DDTHH:MM:SS+08:00' (Beijing time, one fixed
--    offset), so text order is time order on every node.
--  * Money is INTEGER fen (分, 1/100 yuan): exact, no rounding.
--  * Node ids ('bj', 'bj.dc', 'bj.dc.jingshan') name tiers and jurisdictions.
--  * Foreign keys are DEFERRABLE INITIALLY DEFERRED: the sync engine applies
--    rows table by table, children possibly before parents, and the check
--    runs at COMMIT.
--  * Enumerations are CHECK constraints; workflow order is the node's job.
--  * evidence and case_events are append-only: triggers refuse UPDATE and
--    DELETE.

-- 发现渠道: where a case came from.
CREATE TABLE sources (
	code TEXT NOT NULL PRIMARY KEY,  -- e.g. 'complaint'
	name_zh TEXT NOT NULL            -- Chinese name, e.g. '群众举报'
) STRICT;

INSERT INTO sources (code, name_zh) VALUES
	('patrol', '巡查发现'),
	('complaint', '群众举报'),
	('video', '视频监控'),
	('referral', '部门移送'),
	('media', '媒体曝光'),
	('supervision', '检查督导');

-- 违法形态: the unlawful situations, grouped by the plan's three campaigns.
CREATE TABLE categories (
	code TEXT NOT NULL PRIMARY KEY,  -- e.g. 'small_ads'
	campaign TEXT NOT NULL           -- 大气污染防治 / 街面环境秩序 / 市政公共安全
		CHECK (campaign IN ('air_pollution', 'street_order', 'public_safety')),
	name_zh TEXT NOT NULL,           -- Chinese name, e.g. '非法小广告'
	deadline_days INTEGER NOT NULL   -- default 限时办结 period: days from report to deadline
		CHECK (deadline_days > 0)
) STRICT;

INSERT INTO categories (code, campaign, name_zh, deadline_days) VALUES
	('construction_dust', 'air_pollution', '施工扬尘', 3),
	('muck_spill', 'air_pollution', '渣土运输遗撒', 1),
	('muck_vehicle', 'air_pollution', '不达标车辆运输', 3),
	('outdoor_bbq', 'air_pollution', '露天烧烤', 1),
	('open_burning', 'air_pollution', '露天焚烧', 1),
	('coal_unlicensed', 'air_pollution', '无照售煤', 1),
	('small_ads', 'street_order', '非法小广告', 3),
	('unlicensed_vending', 'street_order', '无照经营', 3),
	('parking_lot', 'street_order', '停车场管理', 15),
	('outside_store', 'street_order', '店外经营', 3),
	('signboard', 'street_order', '违规广告牌匾', 15),
	('illegal_vehicle', 'street_order', '黑车/两轮三轮车', 3),
	('gas_safety', 'public_safety', '燃气安全', 3),
	('facility_damage', 'public_safety', '占压损毁市政设施', 7),
	('kitchen_waste', 'public_safety', '餐厨垃圾', 7),
	('illegal_building', 'public_safety', '违法建设', 30);

-- 重点地区 ledger (挂账/销账): city and district key areas.
CREATE TABLE key_areas (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	level TEXT NOT NULL                  -- who listed it: 市级 or 区级
		CHECK (level IN ('city', 'district')),
	owner_node TEXT NOT NULL,            -- node id of the city or district that keeps it
	city_key_area_id TEXT                -- for a district area: the city key area it carries, if any
		REFERENCES key_areas (id) DEFERRABLE INITIALLY DEFERRED,
	name TEXT NOT NULL,                  -- e.g. '天安门地区'
	zone TEXT,                           -- description of the area's bounds
	listed_at TEXT NOT NULL              -- 挂账: when it was listed
		CHECK (listed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	delisted_at TEXT                     -- 销账: when it was delisted; NULL while listed
		CHECK (delisted_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	reason TEXT,                         -- why it was listed (problems, repeated complaints)
	delist_reason TEXT,                  -- why it was delisted
	CHECK (delisted_at >= listed_at)
) STRICT;

CREATE INDEX key_areas_owner_node ON key_areas (owner_node);
CREATE INDEX key_areas_city_key_area_id ON key_areas (city_key_area_id);

-- 重大活动保障: periods and zones of heightened control.
CREATE TABLE major_events (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	name TEXT NOT NULL,                  -- e.g. '田径世锦赛'
	starts_at TEXT NOT NULL              -- start of the period
		CHECK (starts_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	ends_at TEXT NOT NULL                -- end of the period
		CHECK (ends_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	zone TEXT,                           -- description of the controlled zone
	level TEXT NOT NULL                  -- who coordinates it: city or district
		CHECK (level IN ('city', 'district')),
	owner_node TEXT NOT NULL,            -- node id of the tier that declared it
	CHECK (ends_at >= starts_at)
) STRICT;

-- 案件: one unlawful situation at a place, from discovery to closing.
CREATE TABLE cases (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id, e.g. 'bj.dc.jingshan.d07-c20150522-3'
	source TEXT NOT NULL                 -- 发现渠道
		REFERENCES sources (code) DEFERRABLE INITIALLY DEFERRED,
	category TEXT NOT NULL               -- 违法形态
		REFERENCES categories (code) DEFERRABLE INITIALLY DEFERRED,
	address TEXT NOT NULL,               -- where, as written by the officer
	lng REAL                             -- longitude, degrees
		CHECK (lng BETWEEN -180 AND 180),
	lat REAL                             -- latitude, degrees
		CHECK (lat BETWEEN -90 AND 90),
	jurisdiction TEXT NOT NULL,          -- node id of the street/district the place belongs to
	description TEXT,                    -- what was found
	status TEXT NOT NULL DEFAULT 'discovered'  -- lifecycle: 发现 调度 处理 反馈 办结, or 移送
		CHECK (status IN ('discovered', 'dispatched', 'handling', 'feedback', 'closed', 'transferred')),
	officer TEXT,                        -- 首问负责: real name of the responsible officer, once dispatched
	reported_at TEXT NOT NULL            -- when the case was discovered or reported
		CHECK (reported_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	deadline TEXT NOT NULL               -- 限时办结: when it must be closed
		CHECK (deadline GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	stage TEXT                           -- 三步法 step reached: 教育核录 警示训诫 依法处罚; NULL before
		CHECK (stage IN ('educate', 'warn', 'penalize')),
	filed_at TEXT                        -- 立案: when a penalty case was filed
		CHECK (filed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	legal_basis TEXT,                    -- 处罚决定: the articles the penalty rests on
	penalty_amount INTEGER               -- 罚款 in fen (分, 1/100 yuan)
		CHECK (penalty_amount >= 0),
	decided_at TEXT                      -- when the penalty decision was made
		CHECK (decided_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	major INTEGER NOT NULL DEFAULT 0     -- 1 for a major penalty case (重大行政处罚)
		CHECK (major IN (0, 1)),
	review_status TEXT                   -- 法制审核 of a major case; NULL when none is needed
		CHECK (review_status IN ('pending', 'approved', 'rejected')),
	reviewer TEXT,                       -- real name of the legal reviewer
	reviewed_at TEXT                     -- when the review was decided
		CHECK (reviewed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	filed_up_at TEXT                     -- 备案: when a major case was filed with the higher tier
		CHECK (filed_up_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	executed_at TEXT                     -- 执行: when the penalty was carried out
		CHECK (executed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	transfer_to TEXT,                    -- 移送: the department or police it went to
	transferred_at TEXT                  -- when it was transferred
		CHECK (transferred_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	complainant_name TEXT,               -- complaint cases: who complained (personal data)
	complainant_phone TEXT,              -- complaint cases: how to reach them for the return visit
	visited_at TEXT                      -- 回访: when the complainant was called back
		CHECK (visited_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	satisfaction TEXT                    -- 回访满意度: 满意 基本满意 不满意
		CHECK (satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')),
	key_area_id TEXT                     -- the key area the place lies in, if any
		REFERENCES key_areas (id) DEFERRABLE INITIALLY DEFERRED,
	event_id TEXT                        -- the major-event period it fell in, if any
		REFERENCES major_events (id) DEFERRABLE INITIALLY DEFERRED,
	created_by_node TEXT NOT NULL,       -- node id of the node that recorded it first
	closed_at TEXT                       -- 办结: when it was closed
		CHECK (closed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00')
) STRICT;

CREATE INDEX cases_status ON cases (status);
CREATE INDEX cases_category ON cases (category);
CREATE INDEX cases_source ON cases (source);
CREATE INDEX cases_jurisdiction ON cases (jurisdiction, reported_at);
CREATE INDEX cases_key_area_id ON cases (key_area_id);
CREATE INDEX cases_event_id ON cases (event_id);

-- 当事人: the persons or businesses a case is against.
CREATE TABLE parties (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	case_id TEXT NOT NULL                -- the case
		REFERENCES cases (id) DEFERRABLE INITIALLY DEFERRED,
	kind TEXT NOT NULL                   -- 自然人 or 单位
		CHECK (kind IN ('person', 'business')),
	name TEXT NOT NULL,                  -- person's name or business name
	id_number TEXT,                      -- 身份证号 or 统一社会信用代码 (personal data)
	phone TEXT,                          -- contact phone
	address TEXT                         -- home or business address
) STRICT;

CREATE INDEX parties_case_id ON parties (case_id);

-- 证据: photos, videos, body-camera footage, documents. The bytes live
-- outside the database; a row records the content hash. Immutable.
CREATE TABLE evidence (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	case_id TEXT NOT NULL                -- the case
		REFERENCES cases (id) DEFERRABLE INITIALLY DEFERRED,
	kind TEXT NOT NULL                   -- 照片 视频 执法记录仪 文书
		CHECK (kind IN ('photo', 'video', 'bodycam', 'document')),
	sha256 TEXT NOT NULL                 -- SHA-256 of the content: 64 lowercase hex digits
		CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
	size INTEGER NOT NULL                -- content length in bytes
		CHECK (size >= 0),
	media_type TEXT NOT NULL             -- e.g. 'image/jpeg', 'video/mp4', 'application/pdf'
		CHECK (media_type GLOB '*/*'),
	captured_by TEXT NOT NULL            -- real name of who captured it
		CHECK (captured_by <> ''),
	captured_at TEXT NOT NULL            -- when it was captured
		CHECK (captured_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	lng REAL                             -- where: longitude, degrees
		CHECK (lng BETWEEN -180 AND 180),
	lat REAL                             -- where: latitude, degrees
		CHECK (lat BETWEEN -90 AND 90),
	note TEXT                            -- what it shows
) STRICT;

CREATE INDEX evidence_case_id ON evidence (case_id);
CREATE INDEX evidence_sha256 ON evidence (sha256);

CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
BEGIN
	SELECT RAISE(ABORT, 'evidence is immutable');
END;

CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
BEGIN
	SELECT RAISE(ABORT, 'evidence is immutable');
END;

-- 执法全过程记录: the append-only log of what happened to a case, by whom,
-- on which node.
CREATE TABLE case_events (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	case_id TEXT NOT NULL                -- the case
		REFERENCES cases (id) DEFERRABLE INITIALLY DEFERRED,
	at TEXT NOT NULL                     -- when it happened
		CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	kind TEXT NOT NULL                   -- what happened (see docs/SCHEMA.md)
		CHECK (kind IN ('intake', 'dispatch', 'educate', 'warn', 'penalize', 'file', 'decide',
			'review', 'file_up', 'execute', 'transfer', 'feedback', 'return_visit', 'close',
			'reopen', 'evidence', 'supervise', 'note')),
	officer TEXT NOT NULL                -- 实名制: real name of who did it
		CHECK (officer <> ''),
	node TEXT NOT NULL,                  -- node id where it was recorded
	detail TEXT                          -- free text: decision, outcome, remark
) STRICT;

CREATE INDEX case_events_case_id ON case_events (case_id, at);

CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN
	SELECT RAISE(ABORT, 'case_events is append-only');
END;

CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN
	SELECT RAISE(ABORT, 'case_events is append-only');
END;

-- 违法电话号码警示: phone numbers found on small ads, and their warning.
CREATE TABLE small_ad_phones (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	case_id TEXT NOT NULL                -- the small_ads case the number was found in
		REFERENCES cases (id) DEFERRABLE INITIALLY DEFERRED,
	phone TEXT NOT NULL                  -- the number, digits only, e.g. '13800138000'
		CHECK (phone <> '' AND phone NOT GLOB '*[^0-9]*'),
	warned_at TEXT                       -- when the warning was made; NULL until then
		CHECK (warned_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	warned_by TEXT,                      -- real name of who made it
	outcome TEXT                         -- 已警示 无法接通 已停机; NULL until tried
		CHECK (outcome IN ('warned', 'unreachable', 'suspended'))
) STRICT;

CREATE INDEX small_ad_phones_case_id ON small_ad_phones (case_id);
CREATE INDEX small_ad_phones_phone ON small_ad_phones (phone);

-- 巡查 (人盯车巡): who patrolled where and when, and what was found.
CREATE TABLE patrols (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	officers TEXT NOT NULL               -- real names of the patrol, separated by '、'
		CHECK (officers <> ''),
	jurisdiction TEXT NOT NULL,          -- node id of the street/district patrolled
	area TEXT,                           -- the area or route name
	key_area_id TEXT                     -- the key area patrolled, if any
		REFERENCES key_areas (id) DEFERRABLE INITIALLY DEFERRED,
	started_at TEXT NOT NULL             -- when the patrol began
		CHECK (started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	ended_at TEXT                        -- when it ended; NULL while under way
		CHECK (ended_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	route TEXT,                          -- the route taken
	notes TEXT,                          -- what was seen
	found INTEGER NOT NULL DEFAULT 0     -- number of problems found
		CHECK (found >= 0),
	CHECK (ended_at >= started_at)
) STRICT;

CREATE INDEX patrols_jurisdiction ON patrols (jurisdiction, started_at);
CREATE INDEX patrols_key_area_id ON patrols (key_area_id);

-- 市容环境卫生责任区: a shop or unit responsible for its frontage.
CREATE TABLE responsibility_zones (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	unit TEXT NOT NULL,                  -- name of the shop or unit
	address TEXT NOT NULL,               -- its address
	jurisdiction TEXT NOT NULL,          -- node id of the street it belongs to
	key_area_id TEXT                     -- the key area it lies in, if any (90% target there)
		REFERENCES key_areas (id) DEFERRABLE INITIALLY DEFERRED,
	notice_issued_at TEXT                -- 告知书发放: when the notice was handed over; NULL if not yet
		CHECK (notice_issued_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	notice_issued_by TEXT                -- real name of who handed it over
) STRICT;

CREATE INDEX responsibility_zones_jurisdiction ON responsibility_zones (jurisdiction);
CREATE INDEX responsibility_zones_key_area_id ON responsibility_zones (key_area_id);

-- 责任落实: one check of whether a zone's duties are met.
CREATE TABLE responsibility_checks (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	zone_id TEXT NOT NULL                -- the zone checked
		REFERENCES responsibility_zones (id) DEFERRABLE INITIALLY DEFERRED,
	checked_at TEXT NOT NULL             -- when
		CHECK (checked_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	met INTEGER NOT NULL                 -- 1 if the duties were met, 0 if not
		CHECK (met IN (0, 1)),
	checker TEXT NOT NULL,               -- real name of who checked
	note TEXT                            -- what was wrong, if anything
) STRICT;

CREATE INDEX responsibility_checks_zone_id ON responsibility_checks (zone_id, checked_at);

-- 督办/监管事项: an item dispatched down by the city or a district, tracked
-- until closed (闭合管理).
CREATE TABLE supervision_items (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	issued_by_node TEXT NOT NULL,        -- node id of the issuing city or district
	issuer TEXT,                         -- real name of who issued it
	level TEXT NOT NULL                  -- 市级 or 区级 supervision
		CHECK (level IN ('city', 'district')),
	target_node TEXT NOT NULL,           -- node id of the district or street that must answer
	case_id TEXT                         -- the case it is about, if any
		REFERENCES cases (id) DEFERRABLE INITIALLY DEFERRED,
	subject TEXT NOT NULL,               -- one line
	detail TEXT,                         -- what must be done
	issued_at TEXT NOT NULL              -- when it was dispatched
		CHECK (issued_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	due_at TEXT                          -- when the answer is due
		CHECK (due_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	status TEXT NOT NULL DEFAULT 'open'  -- open, answered by the target, closed by the issuer
		CHECK (status IN ('open', 'answered', 'closed')),
	closed_at TEXT                       -- when the issuer closed it
		CHECK (closed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00')
) STRICT;

CREATE INDEX supervision_items_target_node ON supervision_items (target_node, status);
CREATE INDEX supervision_items_issued_by_node ON supervision_items (issued_by_node);
CREATE INDEX supervision_items_case_id ON supervision_items (case_id);

-- 三级反馈: one answer to a supervision item, at street, district or city level.
CREATE TABLE supervision_feedback (
	id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),  -- minted id
	item_id TEXT NOT NULL                -- the supervision item
		REFERENCES supervision_items (id) DEFERRABLE INITIALLY DEFERRED,
	level TEXT NOT NULL                  -- the tier answering
		CHECK (level IN ('street', 'district', 'city')),
	node TEXT NOT NULL,                  -- node id of the answering node
	at TEXT NOT NULL                     -- when
		CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+08:00'),
	author TEXT NOT NULL,                -- real name of who answered
	text TEXT NOT NULL                   -- the answer: what was done
) STRICT;

CREATE INDEX supervision_feedback_item_id ON supervision_feedback (item_id, at);
