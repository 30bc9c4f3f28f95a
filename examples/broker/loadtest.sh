#!/usr/bin/env bash
# loadtest.sh: the broker's throughput on this machine, as reported in the
# README. It builds jit-policy and the workplace's peerload and oidcfake,
# starts oidcfake (a real OIDC issuer with an RSA key) and `jit-policy serve`
# on 127.0.0.1 with the file lease store (durable, single-use tokens), and
# runs peerload in bearer mode against POST /v1/issue for SSH certificates.
#
#   examples/broker/loadtest.sh [ROUNDS] [CLIENTS] [DURATION]
#
# Defaults: 3 rounds of 16 clients for 10s. TOOLS (default ../shared/tools
# beside the repository) holds peerload/ and oidcfake/. The per-subject
# rate limit is raised to 10^6/s for the run, because every peerload token
# has the same subject. Everything listens on loopback and stops at exit.
set -euo pipefail

rounds=${1:-3} clients=${2:-16} duration=${3:-10s}
repo=$(cd "$(dirname "$0")/../.." && pwd)
tools=${TOOLS:-$repo/../shared/tools}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$repo" && go build -o "$work/jit-policy" ./cmd/jit-policy)
(cd "$tools/peerload" && go build -o "$work/peerload" .)
(cd "$tools/oidcfake" && go build -o "$work/oidcfake" .)

mkdir -p "$work/oidc" "$work/srv/policies"
"$work/oidcfake" serve -addr 127.0.0.1:0 -dir "$work/oidc" >"$work/oidcfake.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/oidc/issuer" ] && break; sleep 0.1; done
[ -s "$work/oidc/issuer" ] || { echo "oidcfake did not start: $(cat "$work/oidcfake.log")" >&2; exit 1; }

cp "$repo/examples/policies/jit/policy.rego" "$work/srv/policies/"
cat >"$work/srv/policies/data.yaml" <<'EOF'
access:
  pipeline:
    ssh:
      deploy:
        repository_ids: ["2002"]   # oidcfake's and peerload's acme/app
        ref: refs/heads/main
        environment: prod
        workflow: 'acme/app/\.github/workflows/deploy\.yml@refs/heads/main'
        grant:
          max_ttl_seconds: 900
          principals: [deploy]
          extensions: {permit-pty: ""}
EOF
cd "$work/srv"
"$work/jit-policy" ca init --kind ssh --out ca >/dev/null

for round in $(seq "$rounds"); do
	rm -f leases.db* audit.log revoked.krl
	cat >jit-policy.yaml <<EOF
version: jit-policy/v1
policy: ./policies
audit: file://audit.log
oidc:
  - issuer: $(cat "$work/oidc/issuer")
    audience: peerbench
leases: file://leases.db
krl: file://revoked.krl
issuers:
  ssh:
    ca_key: file://ca/ssh-ca
    max_ttl: 1h
    roles:
      deploy: {principals: [deploy], max_ttl: 15m}
EOF
	"$work/jit-policy" serve --config jit-policy.yaml --addr 127.0.0.1:18443 \
		--rate 1000000 --burst 1000000 >serve.log 2>&1 &
	srv=$!
	pids+=("$srv")
	for _ in $(seq 100); do curl -sf http://127.0.0.1:18443/readyz >/dev/null && break; sleep 0.1; done
	echo "round $round:"
	"$work/peerload" -mode bearer -url http://127.0.0.1:18443/v1/issue -oidc "$work/oidc" -aud peerbench \
		-c "$clients" -d "$duration" -n 40000 -principal deploy -cert-field outputs.certificate -pids "$srv" \
		-body '{"issuer":"ssh","role":"deploy","public_key":"{{PUBKEY}}","principals":["{{PRINCIPAL}}"]}'
	curl -s http://127.0.0.1:18443/metrics | grep -E '^jit_lease_commit' || true
	kill "$srv"
	wait "$srv" 2>/dev/null || true
done
