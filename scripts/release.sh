#!/usr/bin/env bash
# Builds the release binaries the action's shim downloads, and their
# checksums:
#
#   scripts/release.sh vX.Y.Z [OUTDIR]    build into OUTDIR (default _release/vX.Y.Z):
#                                         jit-policy_{linux,darwin}_{amd64,arm64} and
#                                         SHA256SUMS, then print the PINNED entry for
#                                         dist/binary.js
#   scripts/release.sh --check vX.Y.Z     rebuild and compare with the checksums pinned
#                                         for vX.Y.Z in dist/binary.js
#
# Builds are reproducible (CGO off, -trimpath, no VCS stamping, the module's
# go.sum), and dist/ is not part of the Go build, so the binaries of the
# commit that pins their checksums are the binaries that were pinned.
# Release steps: build; paste the printed entry into PINNED in
# dist/binary.js; commit; tag vX.Y.Z; run --check on the tag; publish the
# files as the GitHub release vX.Y.Z; move the major tag (git tag -f v1).
# (goreleaser was not used: the module proxy here does not serve all of its
# dependencies.)
set -euo pipefail

check=false
if [ "${1:-}" = "--check" ]; then
  check=true
  shift
fi
version=${1:?usage: scripts/release.sh [--check] vX.Y.Z [OUTDIR]}
if ! [[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]]; then
  echo "version $version: want vMAJOR.MINOR.PATCH" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$root/_release/$version}
if $check; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
cd "$root"

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64)
for p in "${platforms[@]}"; do
  os=${p%/*} arch=${p#*/}
  echo "== go build $os/$arch" >&2
  GOOS=$os GOARCH=$arch go build -trimpath -ldflags '-s -w -buildid=' \
    -o "$out/jit-policy_${os}_${arch}" ./cmd/jit-policy
done
(cd "$out" && sha256sum jit-policy_* > SHA256SUMS)

# The checksums as dist/binary.js pins them: {"linux-amd64": "<sha256>", ...}.
pinned_entry() {
  awk '{ sub(/^jit-policy_/, "", $2); sub(/_/, "-", $2); printf "%s    \x27%s\x27: \x27%s\x27", (NR > 1 ? ",\n" : ""), $2, $1 }' "$out/SHA256SUMS"
}

if ! $check; then
  echo "== built into $out:" >&2
  cat "$out/SHA256SUMS" >&2
  echo "== add to PINNED in dist/binary.js:" >&2
  printf "  '%s': {\n%s,\n  },\n" "$version" "$(pinned_entry)"
  exit 0
fi

# --check: every platform's checksum must equal the one dist/binary.js pins.
fail=0
while read -r sum file; do
  plat=${file#jit-policy_}
  plat=${plat/_/-}
  want=$(node -e 'const p = require(process.argv[1]).PINNED[process.argv[2]] || {}; process.stdout.write(p[process.argv[3]] || "")' \
    "$root/dist/binary.js" "$version" "$plat")
  if [ "$want" = "$sum" ]; then
    echo "ok       $plat $sum"
  else
    echo "MISMATCH $plat built $sum, pinned ${want:-nothing}" >&2
    fail=1
  fi
done < "$out/SHA256SUMS"
exit $fail
