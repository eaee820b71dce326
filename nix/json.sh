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
