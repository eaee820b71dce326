# json_at FILE KEY.PATH: one field of a JSON file (list indices as numbers);
# a list prints as its JSON items joined by commas. Host-side scripts only.
json_at() {
  python3 - "$@" <<'PY'
import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print(",".join(json.dumps(v) for v in value) if isinstance(value, list) else value)
PY
}

# report_of OUT: the report the derivation that built OUT printed into its
# build log, timings included (outputs hold it without them, beside the
# layer): one line of JSON. Host-side scripts only.
report_of() {
  nix-store --read-log "$1" 2> /dev/null | sed -n 's/^cargo-inherit: report //p' | tail -1
}
