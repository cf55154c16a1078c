#!/usr/bin/env bash
# Generates TypeScript types for the gobgp API into proto/generated/ (gitignored) with
# @grpc/proto-loader's proto-loader-gen-types, from the .proto files Debian's
# golang-github-osrg-gobgp-dev installs (override the directory with TABBY_GOBGP_PROTO_DIR).
# Skipped when neither the protos, the generator's version nor this script changed (the key is
# kept in proto/generated/.stamp). Prints one line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"

dir="${TABBY_GOBGP_PROTO_DIR:-/usr/share/gocode/src/github.com/osrg/gobgp/api}"
files=(gobgp.proto attribute.proto capability.proto)
for f in "${files[@]}"; do
  if [ ! -f "$dir/$f" ]; then
    echo "gobgp protos: $dir/$f not found (install golang-github-osrg-gobgp-dev or set TABBY_GOBGP_PROTO_DIR)" >&2
    exit 1
  fi
done
gen=node_modules/.bin/proto-loader-gen-types
out="$repo/proto/generated"

key="$({
  (cd "$dir" && sha256sum "${files[@]}")
  sha256sum "$here/gen-proto-types.sh" | cut -d' ' -f1
  node -p "require('./node_modules/@grpc/proto-loader/package.json').version"
} | sha256sum | cut -d' ' -f1)"
if [ -f "$out/gobgp.ts" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$key" ]; then
  echo "gobgp proto types: proto/generated up to date"
  exit 0
fi

# Same options as proto/gobgp.ts's loadSync, so the types describe what the loader returns.
work="$(mktemp -d /tmp/tabby-proto-gen.XXXXXX)"
trap 'rm -rf "$work"' EXIT
log="$work/log"
if ! "$gen" --longs=String --enums=String --defaults --oneofs --json \
  --grpcLib=@grpc/grpc-js --importFileExtension=.js \
  -I "$dir" -O "$work/out" "${files[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
rm -rf "$out"
mv "$work/out" "$out"
printf '%s\n' "$key" > "$out/.stamp"
echo "gobgp proto types: generated proto/generated ($(find "$out" -name '*.ts' | wc -l) files)"
