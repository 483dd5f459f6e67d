#!/usr/bin/env bash
# Build the unsealer's container image without a Docker engine: a release build, static
# (glibc's crt-static), put into one layer with GNU tar and assembled with crane (built from the
# Go module proxy by image/tools.sh) against a registry it serves itself on 127.0.0.1, for the
# time of the build. Output, under $IMAGE_OUT (default target/image/):
#   oci/                       the OCI image layout (`crane push target/image/oci REF` publishes it)
#   unsealer-<version>-oci.tar the same layout as a tarball (`podman load -i`, `skopeo copy
#                              oci-archive:...`, `ctr images import`)
#   rootfs/                    the layer's files, as staged
# The image: /usr/local/bin/unsealer and its hard link /usr/local/bin/controller (the
# reference's entrypoint name, which its chart and controller.yaml run as `command:
# [controller]`), /etc/passwd and /etc/group naming uid 1001, an empty /tmp; no shell, nothing
# else. User 1001:65534, entrypoint [controller], PATH=/usr/local/bin, ports 8080 and 8081.
# Fails if the compressed image is over $IMAGE_MAX_BYTES (default 20 MB). The last line on
# stdout is the tarball's path.
#
# Env: IMAGE (default registry.example/sealed-secrets/unsealer:<crate version>; the name is a
# placeholder: nothing is pushed anywhere), CARGO_TARGET_DIR, IMAGE_CARGO_TARGET_DIR (the cargo
# target dir of the release build only, default CARGO_TARGET_DIR or target/: CI points it at a
# cache outside its fresh clone, so that only the changed crates are built again), IMAGE_OUT,
# IMAGE_MAX_BYTES, SOURCE_DATE_EPOCH (default: HEAD's commit time; all file times in the layer).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
log() { echo "image/build: $*" >&2; }

VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[[ -n $VERSION ]] || { log "cannot read the workspace version from Cargo.toml"; exit 1; }
IMAGE="${IMAGE:-registry.example/sealed-secrets/unsealer:$VERSION}"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
OUT="${IMAGE_OUT:-$TARGET_DIR/image}"
MAX="${IMAGE_MAX_BYTES:-20000000}"
TRIPLE=x86_64-unknown-linux-gnu
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"

T0=$(date +%s)
CRANE=$(image/tools.sh crane | tail -1)

# --- The binary. An explicit --target keeps these flags off build scripts and proc macros, and
# the output in target/<triple>/release, a cache of its own that the next run reuses. ---
# getrandom_backend: getrandom(2) through libc. The default finds it with dlsym, which a static
# binary cannot, and falls back to reading /dev/urandom: the binary would then need a /dev.
log "cargo build --release --target $TRIPLE -p unsealer (crt-static) ..."
t=$(date +%s)
BUILD_DIR="${IMAGE_CARGO_TARGET_DIR:-$TARGET_DIR}"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\"" \
  CARGO_TARGET_DIR="$BUILD_DIR" cargo build --release --locked --target "$TRIPLE" -p unsealer >&2
BIN="$BUILD_DIR/$TRIPLE/release/unsealer"
log "binary built in $(( $(date +%s) - t )) s"
# Static: no program interpreter and no shared libraries, or the image (which has no libc)
# could not run it.
if readelf -lW "$BIN" | grep -q 'Requesting program interpreter' ||
   readelf -dW "$BIN" | grep -q '(NEEDED)'; then
  log "$BIN is not static:"; readelf -dW "$BIN" | grep NEEDED >&2 || true; exit 1
fi
"$BIN" --version >&2

# --- The one layer. ---
rm -rf "$OUT/rootfs" "$OUT/oci" "$OUT/layer.tar"
mkdir -p "$OUT"
R="$OUT/rootfs"
install -d -m 0755 "$R/usr/local/bin" "$R/etc"
install -d -m 1777 "$R/tmp"
# Stripped here (binutils), not by the profile: the build keeps its symbols and its cache.
strip -o "$R/usr/local/bin/unsealer" "$BIN"
chmod 0755 "$R/usr/local/bin/unsealer"
ln "$R/usr/local/bin/unsealer" "$R/usr/local/bin/controller"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nunsealer:x:1001:65534:unsealer:/nonexistent:/sbin/nologin\n' > "$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$R/etc/group"
chmod 0644 "$R/etc/passwd" "$R/etc/group"
# Reproducible: sorted names, one owner, one time; the second name is stored as a hard link.
tar --sort=name --format=gnu --numeric-owner --owner=0 --group=0 --mtime="@$EPOCH" \
  -C "$R" -cf "$OUT/layer.tar" etc tmp usr

# --- Assemble with crane, through a registry of its own on loopback. ---
REGLOG=$(mktemp)
"$CRANE" registry serve --address 127.0.0.1:0 2>"$REGLOG" &
REG_PID=$!
cleanup() { kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; rm -f "$REGLOG"; }
trap cleanup EXIT
PORT=
for _ in $(seq 100); do
  PORT=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$REGLOG")
  [[ -n $PORT ]] && break
  kill -0 "$REG_PID" 2>/dev/null || { cat "$REGLOG" >&2; exit 1; }
  sleep 0.1
done
[[ -n $PORT ]] || { log "crane's registry did not start"; cat "$REGLOG" >&2; exit 1; }
LOCAL="127.0.0.1:$PORT/unsealer:$VERSION"
"$CRANE" append --oci-empty-base -f "$OUT/layer.tar" -t "$LOCAL" >/dev/null 2>&1
# MALLOC_ARENA_MAX=1: one glibc arena. The controller's threads mostly wait on the network or
# on RSA, so they rarely contend for it, and the peak RSS at 5,000 objects was 50-52 MiB with
# one arena against 56-71 MiB with two (benches/controller.md).
# glibc.malloc.tcache_count=0: no per-thread cache of freed chunks. Chunks parked in the caches
# of a dozen threads kept their neighbours from being merged and reused: the first sync of
# 20,000 objects peaked at 77 MiB without the caches against 137 MiB with them, at the same CPU
# (benches/controller.md, after run E).
"$CRANE" mutate "$LOCAL" -t "$LOCAL" \
  --set-platform linux/amd64 \
  --entrypoint controller \
  --user 1001:65534 \
  --env PATH=/usr/local/bin \
  --env MALLOC_ARENA_MAX=1 \
  --env GLIBC_TUNABLES=glibc.malloc.tcache_count=0 \
  --exposed-ports 8080/tcp,8081/tcp \
  -l org.opencontainers.image.title=unsealer \
  -l "org.opencontainers.image.description=sealed-secrets controller in Rust, a drop-in for Bitnami's" \
  -l "org.opencontainers.image.version=$VERSION" \
  -l "org.opencontainers.image.revision=$REVISION" \
  -l org.opencontainers.image.licenses=Apache-2.0 >/dev/null 2>&1
"$CRANE" validate --remote "$LOCAL" >&2
"$CRANE" pull --format=oci "$LOCAL" "$OUT/oci"
# The layout names the image by its published name (what `podman load` and skopeo read).
jq --arg n "$IMAGE" '.manifests[0].annotations["org.opencontainers.image.ref.name"] = $n' \
  "$OUT/oci/index.json" > "$OUT/oci/index.json.tmp"
mv "$OUT/oci/index.json.tmp" "$OUT/oci/index.json"
ARCHIVE="$OUT/unsealer-$VERSION-oci.tar"
tar --sort=name --format=gnu --numeric-owner --owner=0 --group=0 --mtime="@$EPOCH" \
  -C "$OUT/oci" -cf "$ARCHIVE.tmp" .
mv -f "$ARCHIVE.tmp" "$ARCHIVE"
rm -f "$OUT/layer.tar"

# --- Size: what a registry stores and a node pulls (manifest, config, compressed layer). ---
manifest=$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$OUT/oci/index.json")
m="$OUT/oci/blobs/sha256/$manifest"
SIZE=$(( $(stat -c %s "$m") + $(jq '.config.size + ([.layers[].size] | add)' "$m") ))
log "image $IMAGE: digest sha256:$manifest, $SIZE bytes compressed ($(stat -c %s "$R/usr/local/bin/unsealer") bytes unpacked), in $(( $(date +%s) - T0 )) s"
if (( SIZE > MAX )); then log "over the limit of $MAX bytes"; exit 1; fi
echo "$ARCHIVE"
