#!/bin/sh
# The exports for the outward systems on the command line: a street office
# takes cases to their penalty decisions, with parties, a complainant and
# places; two major cases go to the district for legal review, which
# approves one and leaves the other pending. The district then exports the
# public disclosure (四公开), the credit records (社会信用) and the map
# (GeoJSON) in each format, and the sqlite3 shell reads every file back
# (.import --csv, json_each over readfile()) and compares it with queries of
# its own on the district's database. The disclosure holds no party's name,
# number or phone, nor the complainant's; a unit outside the jurisdiction is
# refused (exit 1), a bad period is bad usage (exit 2), and -o leaves no
# partial file.
. "$TS_TOP/tests/e2e/lib.sh"

dc=$work/dc
st=$work/jingshan
ts init "$dc" --tier district --id bj.dc --author "张区" >/dev/null
city_above "$dc" bj.dc
ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "值班员" >/dev/null
enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"

# the district's key area reaches the street
area=$(ts -C "$dc" area add "景山" --zone "景山前街至景山东街" --reason "违法建设反复")
ts -C "$dc" commit -m "list 景山" >/dev/null
ts -C "$st" pull >/dev/null

zhang_id=110101198001010010
li_id=110102199002020027
shop_code=91350100M000100Y43

# a new illegal building (违法建设: penalized at once) at the street, taken
# to its filing: new_case SOURCE ADDRESS [--set ...]; prints its id
new_case() {
	_source=$1
	_address=$2
	shift 2
	_c=$(ts -C "$st" case new --category illegal_building --source "$_source" --address "$_address" "$@" --author "王伟")
	ts -C "$st" case dispatch "$_c" --officer "王伟" --author "王伟" >/dev/null
	ts -C "$st" case penalize "$_c" --author "王伟" >/dev/null
	ts -C "$st" case file "$_c" --author "王伟" >/dev/null
	printf '%s\n' "$_c"
}

# A: a complaint, decided below the major threshold; a person, a place
a=$(new_case complaint "景山前街 4号院" --set lng=116.397128 --set lat=39.916527 --set key_area_id="$area" \
	--set complainant_name=赵投诉 --set complainant_phone=13911112222)
ts -C "$st" party add "$a" --kind person --name "张三" --id-number "$zhang_id" --phone 13800138000 \
	--address "景山前街 4号院" --author "王伟" >/dev/null
ts -C "$st" case decide "$a" --basis "《城乡规划法》第六十四条, \"第一款\"" --amount 500.50 --author "李娜" >/dev/null
# B: major, to be approved; a business
b=$(new_case patrol "景山东街 18号" --set lng=116.4 --set lat=39.92 --set key_area_id="$area")
ts -C "$st" party add "$b" --kind business --name "景山小卖部" --id-number "$shop_code" --address "景山东街 18号" \
	--author "王伟" >/dev/null
ts -C "$st" case decide "$b" --basis "《城乡规划法》第六十四条" --amount 20000 --author "李娜" >/dev/null
# C: major, its review left pending; a person
c=$(new_case patrol "景山后街 7号" --set lng=116.39 --set lat=39.93)
ts -C "$st" party add "$c" --kind person --name "李四" --id-number "$li_id" --phone 13700137000 --author "王伟" >/dev/null
ts -C "$st" case decide "$c" --basis "《城乡规划法》第六十四条" --amount 30000 --author "李娜" >/dev/null
# D: decided, no party recorded, no place
d=$(new_case patrol "地安门内大街")
ts -C "$st" case decide "$d" --basis "《城乡规划法》第六十四条" --amount 800 --author "李娜" >/dev/null
# E: found, not decided, no place
e=$(ts -C "$st" case new --category small_ads --source patrol --address "景山西街" --set key_area_id="$area" \
	--author "王伟")
ts -C "$st" commit -m "五起案件" >/dev/null

# the decisions go up; the district's legal staff review the major ones
ts -C "$st" push >/dev/null 2>&1
ts -C "$dc" merge --submissions >/dev/null
ts -C "$dc" case review "$b" --approve --reviewer "赵法" --author "赵法" >/dev/null
ts -C "$dc" commit -m "法制审核" >/dev/null
check "sqlite3: the district holds five cases, B approved and C pending" \
	is "$(db "$dc" "SELECT count(*) || ' ' || (SELECT review_status FROM cases WHERE id = '$b') || ' ' ||
		(SELECT review_status FROM cases WHERE id = '$c') FROM cases")" "5 approved pending"
check "  ...three of them in the key area, two with a place" \
	is "$(db "$dc" "SELECT count(*) || ' ' || count(lng) FROM cases WHERE key_area_id = '$area'")" "3 2"
year=$(db "$dc" "SELECT substr(min(decided_at), 1, 4) FROM cases")

# imported CSV FILE QUERY: QUERY over the table t that sqlite3 made of FILE
imported() {
	sqlite3 :memory: ".import --csv $1 t" "$2"
}
# in_json FILE QUERY: QUERY where ?j is FILE's text
in_json() {
	sqlite3 :memory: "$(printf '%s' "$2" | sed "s|?j|CAST(readfile('$1') AS TEXT)|g")"
}

# --- 四公开: disclosure --------------------------------------------------------
run ts -C "$dc" export disclosure --period "$year" -o "$work/disclosure.csv"
check "export disclosure -o FILE" exit_is 0
check "  ...writes nothing on stdout or stderr" is "$(cat "$work/out" "$work/err")" ""
check "  ...a row per decided case (sqlite3 .import against the district's db)" \
	is "$(imported "$work/disclosure.csv" "SELECT group_concat(case_id, ' ') FROM (SELECT case_id FROM t ORDER BY case_id)")" \
	"$(db "$dc" "SELECT group_concat(id, ' ') FROM (SELECT id FROM cases WHERE decided_at IS NOT NULL ORDER BY id)")"
check "  ...the penalties, in fen and in yuan, as the db has them" \
	is "$(imported "$work/disclosure.csv" "SELECT sum(penalty_fen) || ' ' || (SELECT penalty_yuan FROM t WHERE case_id = '$a') FROM t")" \
	"$(db "$dc" "SELECT sum(penalty_amount) FROM cases WHERE decided_at IS NOT NULL") 500.50"
check "  ...the legal basis with its comma and quotes whole (RFC 4180 quoting)" \
	is "$(imported "$work/disclosure.csv" "SELECT legal_basis FROM t WHERE case_id = '$a'")" \
	"$(db "$dc" "SELECT legal_basis FROM cases WHERE id = '$a'")"
check "  ...major and review: B approved, C pending, A none" \
	is "$(imported "$work/disclosure.csv" "SELECT group_concat(major || ':' || review, ' ') FROM (SELECT * FROM t WHERE case_id IN ('$a', '$b', '$c') ORDER BY case_id)")" \
	"0: 1:approved 1:pending"
check "  ...the place without its house number" \
	is "$(imported "$work/disclosure.csv" "SELECT place FROM t WHERE case_id = '$a'")" "景山前街"
check "  ...the columns in their documented order" \
	is "$(head -n 1 "$work/disclosure.csv" | tr -d '\r')" \
	"case_id,unit,category,category_name,place,decided_at,legal_basis,penalty_yuan,penalty_fen,major,review,executed_at,closed_at"
run ts -C "$dc" export disclosure --period "$year" --format json -o "$work/disclosure.json"
check "export disclosure --format json" exit_is 0
check "  ...one array, as many objects as CSV rows" \
	is "$(in_json "$work/disclosure.json" "SELECT json_array_length(?j)")" \
	"$(imported "$work/disclosure.csv" "SELECT count(*) FROM t")"
check "  ...numbers and booleans typed: B's penalty 20000 yuan, major true" \
	is "$(in_json "$work/disclosure.json" "SELECT json_extract(value, '$.penalty_yuan') || ' ' || json_type(value, '$.major') FROM json_each(?j) WHERE json_extract(value, '$.case_id') = '$b'")" \
	"20000.0 true"
for secret in "张三" "$zhang_id" 13800138000 "李四" "$li_id" 13700137000 "景山小卖部" "$shop_code" "赵投诉" 13911112222 \
	"王伟" "李娜" "赵法" "4号院"; do
	check "  ...the disclosure files never hold \"$secret\"" \
		sh -c '! grep -qF -- "$1" "$2" "$3"' - "$secret" "$work/disclosure.csv" "$work/disclosure.json"
done

# --- 社会信用: credit -------------------------------------------------------
run ts -C "$dc" export credit --period "$year" -o "$work/credit.csv"
check "export credit -o FILE" exit_is 0
check "  ...warns of the final decision without a party, in one line" stderr_is_one_line
check "  ...saying how many" stderr_has "1 final decision in the period has no party recorded"
check "  ...a row per party of a final decision: A's person and B's business, not C's (pending)" \
	is "$(imported "$work/credit.csv" "SELECT group_concat(case_id || ':' || party_kind || ':' || party_name || ':' || id_number, ' ') FROM (SELECT * FROM t ORDER BY case_id)")" \
	"$(db "$dc" "SELECT group_concat(x, ' ') FROM (SELECT c.id || ':' || p.kind || ':' || p.name || ':' || p.id_number AS x
		FROM cases c JOIN parties p ON p.case_id = c.id WHERE c.decided_at IS NOT NULL
		AND ((c.major = 0 AND c.review_status IS NULL) OR c.review_status = 'approved') ORDER BY c.id)")"
check "  ...exactly two, with the db's penalties" \
	is "$(imported "$work/credit.csv" "SELECT count(*) || ' ' || sum(penalty_fen) FROM t")" \
	"$(db "$dc" "SELECT count(*) || ' ' || sum(penalty_amount) FROM cases WHERE id IN ('$a', '$b')")"
check "  ...a file for its owner only: it holds identity numbers" \
	is "$(stat -c %a "$work/credit.csv")" "600"
run ts -C "$dc" export credit --period "$year" --json
check "export credit --json on stdout" exit_is 0
check "  ...the same records" \
	is "$(in_json "$work/out" "SELECT group_concat(json_extract(value, '$.party_id'), ' ') FROM json_each(?j)")" \
	"$(imported "$work/credit.csv" "SELECT group_concat(party_id, ' ') FROM t")"

# --- 城管地图: GeoJSON -------------------------------------------------------
run ts -C "$dc" export geojson --period "$year" -o "$work/map.geojson"
check "export geojson -o FILE" exit_is 0
check "  ...a FeatureCollection of the placed cases" \
	is "$(in_json "$work/map.geojson" "SELECT json_extract(?j, '$.type') || ' ' || (SELECT count(*) FROM json_each(?j, '$.features') WHERE json_extract(value, '$.properties.kind') = 'case')")" \
	"FeatureCollection $(db "$dc" "SELECT count(*) FROM cases WHERE lng IS NOT NULL AND lat IS NOT NULL")"
check "  ...and the key area once, at the mean of its placed cases' points, counting all three" \
	is "$(in_json "$work/map.geojson" "SELECT group_concat(json_extract(value, '$.id') || ' ' || printf('%.6f %.6f', json_extract(value, '$.geometry.coordinates[0]'), json_extract(value, '$.geometry.coordinates[1]')) || ' ' || json_extract(value, '$.properties.cases'), ';') FROM json_each(?j, '$.features') WHERE json_extract(value, '$.properties.kind') = 'key_area'")" \
	"$(db "$dc" "SELECT key_area_id || ' ' || printf('%.6f %.6f', avg(lng), avg(lat)) || ' ' || (SELECT count(*) FROM cases WHERE key_area_id = '$area') FROM cases WHERE key_area_id = '$area' AND lng IS NOT NULL")"
check "  ...the cases without a place counted in its tiersync member" \
	is "$(in_json "$work/map.geojson" "SELECT json_extract(?j, '$.tiersync.without_place')")" \
	"$(db "$dc" "SELECT count(*) FROM cases WHERE lng IS NULL OR lat IS NULL")"
check "  ...A at [lng, lat]" \
	is "$(in_json "$work/map.geojson" "SELECT json_extract(value, '$.geometry.coordinates') FROM json_each(?j, '$.features') WHERE json_extract(value, '$.id') = '$a'")" \
	"[116.397128,39.916527]"
check "  ...with its properties" \
	is "$(in_json "$work/map.geojson" "SELECT json_extract(value, '$.properties.category') || ' ' || json_extract(value, '$.properties.status') FROM json_each(?j, '$.features') WHERE json_extract(value, '$.id') = '$a'")" \
	"$(db "$dc" "SELECT category || ' ' || status FROM cases WHERE id = '$a'")"
for secret in "张三" "$zhang_id" 13800138000 "赵投诉" 13911112222; do
	check "  ...the map never holds \"$secret\"" sh -c '! grep -qF -- "$1" "$2"' - "$secret" "$work/map.geojson"
done

# --- scope, period, output -------------------------------------------------------
run ts -C "$dc" export disclosure --period "$year" --unit bj.dc.jingshan
check "--unit a street below the district: its decisions" exit_is 0
check "  ...the same four" is "$(grep -c "^bj.dc.jingshan-c" "$work/out")" "4"
echo "an older export" >"$work/old.csv"
run ts -C "$dc" export disclosure --unit bj.xc -o "$work/old.csv"
check "--unit outside the jurisdiction: refused (exit 1)" exit_is 1
check "  ...in one line" stderr_is_one_line
check "  ...saying why" stderr_has "'bj.xc' is not bj.dc or a unit below it"
check "  ...the old file untouched, no temporary left" \
	is "$(cat "$work/old.csv"; ls "$work" | grep -c '^old\.csv\.')" "an older export
0"
run ts -C "$dc" export disclosure --period "$year" -o "$work/old.csv"
check "the same -o once the export succeeds: the file replaced whole" \
	is "$(head -c 8 "$work/old.csv"; ls "$work" | grep -c '^old\.csv\.')" "case_id,0"
run ts -C "$dc" export disclosure --period 2015-13
check "a bad --period: bad usage (exit 2)" exit_is 2
check "  ...in one line" stderr_is_one_line
run ts -C "$dc" export credit --format xml
check "a bad --format: bad usage (exit 2)" exit_is 2
run ts -C "$dc" export geojson --format csv
check "geojson with --format: bad usage (exit 2)" exit_is 2
run ts -C "$dc" export geojson --period "$year" --json
check "geojson with --json: the same collection" is "$rc $(cmp -s "$work/out" "$work/map.geojson" && echo same)" "0 same"
run ts -C "$dc" export census
check "an unknown export: bad usage (exit 2)" exit_is 2
run ts -C "$dc" export disclosure -o "$work/no-such-folder/disclosure.csv"
check "-o into a missing folder: exit 1" exit_is 1
check "  ...in one line" stderr_is_one_line
check "  ...and no file" is "$(ls "$work/no-such-folder" 2>/dev/null | wc -l)" "0"
run ts -C "$dc" export --help
check "export --help" exit_is 0
check "  ...names the three exports" stdout_has "disclosure|credit"
