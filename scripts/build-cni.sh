#!/usr/bin/env bash
# Builds the CNI plugin executable dist/cni/tabby (install it into the runtime's CNI bin dir as
# `tabby`):
#   1. esbuild bundles cni/main.ts (cni/ + node builtins only) into dist/cni/plugin.cjs;
#   2. the bundle becomes a Node single-executable application: a copy of the running node
#      binary with the bundle and its V8 code cache injected (postject), so the host needs no
#      Node.js and start-up skips module resolution and compilation.
# Step 2 is skipped when neither the bundle, this script nor the node binary changed (the key is
# kept in dist/cni/tabby.hash). Prints one line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"

out="$repo/dist/cni"
node_bin="$(readlink -f "$(node -p process.execPath)")"
mkdir -p "$out"

node_modules/.bin/esbuild cni/main.ts --bundle --format=cjs --platform=node --target=node20 \
  --log-level=warning --outfile="$out/plugin.cjs"

key="$({
  sha256sum "$out/plugin.cjs" "$here/build-cni.sh" | cut -d' ' -f1
  "$node_bin" --version
  stat -c '%n %s %Y' "$node_bin"
} | sha256sum | cut -d' ' -f1)"
if [ -x "$out/tabby" ] && [ "$(cat "$out/tabby.hash" 2>/dev/null)" = "$key" ]; then
  echo "cni plugin: dist/cni/tabby up to date"
  exit 0
fi

work="$(mktemp -d /tmp/tabby-cni-build.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# useSnapshot was measured too (README: start-up) and was not faster: code cache only.
cat > "$work/sea-config.json" <<EOF
{
  "main": "$out/plugin.cjs",
  "output": "$work/sea.blob",
  "disableExperimentalSEAWarning": true,
  "useCodeCache": true
}
EOF
quiet() { local log; if ! log="$("$@" 2>&1)"; then printf '%s\n' "$log" >&2; return 1; fi; }
quiet "$node_bin" --experimental-sea-config "$work/sea-config.json"
cp "$node_bin" "$work/tabby"
chmod 755 "$work/tabby"
# postject warns "Can't find string offset for section name '.note.100'": harmless.
quiet node_modules/.bin/postject "$work/tabby" NODE_SEA_BLOB "$work/sea.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2
mv -f "$work/tabby" "$out/tabby"
printf '%s\n' "$key" > "$out/tabby.hash"
echo "cni plugin: built dist/cni/tabby ($(du -m "$out/tabby" | cut -f1) MB, node $("$node_bin" --version))"
