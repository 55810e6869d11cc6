#!/usr/bin/env bash
# Builds the FDI Atlas runtime image without network or base images, out of
# release binaries that are already built, and checks what it holds.
#
#   deploy/image/build-offline.sh [--bin-dir DIR] [--save FILE] [--self-test]
#
#   --bin-dir DIR  where fdi, fdi-catalogue, fdi-ingest and fdi-analytics are
#                  (default: $FDI_BIN_DIR, else <repository>/target/release;
#                  build them first with `cargo build --release --locked --bins`)
#   --save FILE    also write the image as an OCI archive (oci-archive) to FILE
#   --self-test    then plant secrets, a shell, a missing library and a bad
#                  configuration in a copy of the image and require the checks
#                  to refuse every one of them
#
# What it does:
#   1. assembles a root filesystem in a temporary folder: stripped copies of
#      the four binaries in /usr/local/bin, the shared libraries that ldd says
#      they load (at the same paths, the dynamic loader included), /etc/passwd
#      and /etc/group with the nonroot user 65532, /etc/nsswitch.conf;
#   2. builds deploy/image/Containerfile.scratch (FROM scratch, no RUN step)
#      with Debian's buildah: vfs storage and chroot isolation, in a private
#      storage root under the temporary folder that is deleted at the end;
#      buildah is installed with apt-get when it is missing;
#   3. checks the image and exits non-zero, naming each failure, if: the user
#      is not 65532:65532; the entrypoint is not /usr/local/bin/fdi; the exposed
#      ports are not exactly 50051-50053/tcp; the labels are not the expected
#      ones; the environment holds something secret-looking; a shell is in the
#      image; a binary does not start (its libraries are resolved and it is run
#      with --help in a chroot of the image's own files, as user 65532); a file
#      is not owned by root or is writable by others; any layer holds a private
#      key, an fdi API key, a PostgreSQL URL with a password, a .fdi/ or .env
#      file, or a *.key/*.pem file;
#   4. prints a summary: image id, size, user, entrypoint, ports, files.
#
# Runs as root (chroot and buildah's vfs storage need it); re-runs itself with
# sudo otherwise.
set -euo pipefail
umask 022
export LC_ALL=C

readonly BINARIES=(fdi fdi-catalogue fdi-ingest fdi-analytics)
readonly EXPECTED_USER="65532:65532"
readonly EXPECTED_ENTRYPOINT='["/usr/local/bin/fdi"]'
readonly EXPECTED_PORTS="50051/tcp 50052/tcp 50053/tcp"
readonly EXPECTED_TITLE="fdi-atlas"
readonly EXPECTED_LICENSE="MIT"
readonly IMAGE="localhost/fdi-atlas:offline"

# What counts as a secret (extended regular expressions, grep -E).
readonly RE_PRIVATE_KEY='-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----'
readonly RE_API_KEY='fdi_[0-9a-f]{16}_[A-Za-z0-9_-]{43}'
readonly RE_PG_PASSWORD='postgres(ql)?://[^:/@[:space:][:cntrl:]]+:[^@[:space:][:cntrl:]]+@'
# ...unless the password is a placeholder, as in a command's --help: `…`,
# `...`, `***`, `<password>`, `$VAR`, `${VAR}`.
readonly RE_PLACEHOLDER='^(…|\.\.\.|\*+|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)$'
readonly RE_SECRET_FILE='(^|/)(\.fdi(/|$)|\.env(\.[^/]*)?$|[^/]*\.(key|pem|p12|pfx)$|id_(rsa|dsa|ecdsa|ed25519)$)'
readonly RE_SHELL='^(usr/)?s?bin/(sh|bash|dash|ash|zsh|ksh|mksh|busybox)$'
readonly RE_SECRET_ENV_NAME='(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY)'

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

log() { printf '==> %s\n' "$*"; }
die() {
  printf 'build-offline: error: %s\n' "$*" >&2
  exit 1
}
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

bin_dir=${FDI_BIN_DIR:-}
save=""
self_test=0
args=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --bin-dir) [ $# -ge 2 ] || die "--bin-dir needs a folder"; bin_dir=$2; shift ;;
    --bin-dir=*) bin_dir=${1#*=} ;;
    --save) [ $# -ge 2 ] || die "--save needs a file name"; save=$2; shift ;;
    --save=*) save=${1#*=} ;;
    --self-test) self_test=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "needs root (chroot, buildah vfs storage) and sudo is not installed"
  log "not root: running again with sudo"
  exec sudo -- env "FDI_BIN_DIR=$bin_dir" bash "${BASH_SOURCE[0]}" "${args[@]}"
fi

bin_dir=${bin_dir:-$repo/target/release}
[ -d "$bin_dir" ] || die "no folder $bin_dir: build the binaries first (cargo build --release --locked --bins)"
bin_dir=$(cd "$bin_dir" && pwd)
if [ -n "$save" ]; then
  case $save in /*) ;; *) save=$PWD/$save ;; esac
fi
for b in "${BINARIES[@]}"; do
  [ -x "$bin_dir/$b" ] || die "no executable $bin_dir/$b: build the binaries first (cargo build --release --locked --bins)"
done
for tool in strip ldd chroot tar grep gzip; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing"
done
# By its path: the checks run it under `env -i`, without PATH.
chroot_bin=$(command -v chroot)

started=$(date +%s)

if ! command -v buildah >/dev/null 2>&1; then
  log "buildah is missing: installing it with apt-get"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends buildah
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fdi-image.XXXXXX")
containers=()
# containers/image keeps a blob-info cache here when root pushes (buildah has
# no option to move it): removed at the end if this run created it.
blob_cache=/var/lib/containers/cache/blob-info-cache-v1.boltdb
blob_cache_was_there=0
[ ! -e "$blob_cache" ] || blob_cache_was_there=1
cleanup() {
  local c
  for c in "${containers[@]}"; do
    bh umount "$c" >/dev/null 2>&1 || true
    bh rm "$c" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
  if [ "$blob_cache_was_there" -eq 0 ] && [ -e "$blob_cache" ]; then
    rm -f "$blob_cache"
    rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null || true
  fi
}
trap cleanup EXIT

# buildah with a private storage root: nothing outside $work is read or kept.
bh() {
  buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"
}
export BUILDAH_ISOLATION=chroot

# --- 1. the root filesystem --------------------------------------------------
context=$work/context
rootfs=$context/rootfs
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc"
chmod 0755 "$context" "$rootfs"

log "root filesystem: stripped binaries from $bin_dir"
libs=()
for b in "${BINARIES[@]}"; do
  strip --strip-all -o "$rootfs/usr/local/bin/$b" "$bin_dir/$b"
  chmod 0755 "$rootfs/usr/local/bin/$b"
  # `libfoo.so => /path (0x...)`, `/lib64/ld-linux-x86-64.so.2 (0x...)`,
  # `linux-vdso.so.1 (0x...)` (in the kernel, no file), `libbar.so => not found`.
  while read -r first arrow path _; do
    if [ "$arrow" = "=>" ]; then
      [ "$path" != "not" ] || die "$b: $first not found by ldd on this machine"
      libs+=("$path")
    elif [ "${first#/}" != "$first" ]; then
      libs+=("$first")
    fi
  done < <(ldd "$bin_dir/$b")
done
mapfile -t libs < <(printf '%s\n' "${libs[@]}" | sort -u)
for lib in "${libs[@]}"; do
  [ -n "$lib" ] || continue # none at all: static binaries
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
  chmod 0755 "$rootfs$lib"
done
log "root filesystem: libraries ${libs[*]}"

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
nonroot:x:65532:
EOF
# Kubernetes writes /etc/hosts for each pod; read it before asking DNS.
cat >"$rootfs/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/nsswitch.conf"

# --- 2. the image ------------------------------------------------------------
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$repo/Cargo.toml")
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)
source_url=$(git -C "$repo" remote get-url origin 2>/dev/null || true)
# The commit's time, not now: the same binaries give the same image.
epoch=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)

log "buildah $(buildah --version | awk '{print $3}'): building $IMAGE from deploy/image/Containerfile.scratch"
bh bud --quiet --isolation chroot --format oci --timestamp "$epoch" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "SOURCE_URL=$source_url" \
  -f "$repo/deploy/image/Containerfile.scratch" -t "$IMAGE" "$context" >/dev/null

# --- 3. the checks -----------------------------------------------------------
# check_image IMAGE NAME: prints one `FAIL <check>: <what>` line per failure and
# a summary; returns non-zero when anything failed. It does not rely on `set -e`
# (it runs in an `if`, where bash ignores it).
check_image() {
  local image=$1 name=$2
  local dir=$work/check-$name
  local failures=0
  fail() {
    printf 'FAIL %s: %s\n' "$1" "$2"
    failures=$((failures + 1))
  }
  mkdir -p "$dir"

  # The configuration.
  local user entrypoint ports labels_title labels_license id size
  user=$(bh inspect --type image --format '{{.OCIv1.Config.User}}' "$image") || { fail config "cannot inspect $image"; return 1; }
  # As JSON (buildah 1.28's templates have no `json`): ["a", "b"].
  entrypoint=$(bh inspect --type image --format '{{range .OCIv1.Config.Entrypoint}}{{println .}}{{end}}' "$image" |
    awk 'BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? ", " : ""), $0 } END { printf "]" }')
  # shellcheck disable=SC2016 # a Go template: its $p is not the shell's
  ports=$(bh inspect --type image --format '{{range $p, $_ := .OCIv1.Config.ExposedPorts}}{{$p}} {{end}}' "$image")
  ports=${ports% }
  labels_title=$(bh inspect --type image --format '{{index .OCIv1.Config.Labels "org.opencontainers.image.title"}}' "$image")
  labels_license=$(bh inspect --type image --format '{{index .OCIv1.Config.Labels "org.opencontainers.image.licenses"}}' "$image")
  bh inspect --type image --format '{{range .OCIv1.Config.Env}}{{println .}}{{end}}' "$image" >"$dir/env"

  [ "$user" = "$EXPECTED_USER" ] || fail user "the user is '$user', not the numeric non-root $EXPECTED_USER"
  [ "$entrypoint" = "$EXPECTED_ENTRYPOINT" ] || fail entrypoint "the entrypoint is $entrypoint, not $EXPECTED_ENTRYPOINT"
  [ "$ports" = "$EXPECTED_PORTS" ] || fail ports "the exposed ports are '$ports', not exactly '$EXPECTED_PORTS'"
  [ "$labels_title" = "$EXPECTED_TITLE" ] || fail labels "org.opencontainers.image.title is '$labels_title', not '$EXPECTED_TITLE'"
  [ "$labels_license" = "$EXPECTED_LICENSE" ] || fail labels "org.opencontainers.image.licenses is '$labels_license', not '$EXPECTED_LICENSE'"
  local var
  while IFS= read -r var; do
    [ -n "$var" ] || continue
    if printf '%s\n' "${var%%=*}" | grep -qiE "$RE_SECRET_ENV_NAME"; then
      fail env "the environment sets ${var%%=*}, a secret-looking name"
    elif printf '%s\n' "${var#*=}" | grep -qE -e "$RE_PRIVATE_KEY" -e "$RE_API_KEY" -e "$RE_PG_PASSWORD"; then
      fail env "the environment's ${var%%=*} holds a secret-looking value"
    fi
  done <"$dir/env"

  # Every layer, exported as OCI and read blob by blob: a secret that a later
  # layer deletes is still in the image.
  bh push --quiet "$image" "oci:$dir/oci:latest" >/dev/null
  local blob digest layer layers=0 files=0 gz=0 n
  : >"$dir/files"
  for blob in "$dir"/oci/blobs/sha256/*; do
    tar -tf "$blob" >/dev/null 2>&1 || continue # the manifest and the configuration are JSON
    digest=sha256:$(basename "$blob")
    layer=$dir/layers/$layers
    layers=$((layers + 1))
    mkdir -p "$layer"
    tar -xf "$blob" -C "$layer" --no-same-owner
    gz=$((gz + $(gzip -c "$blob" | wc -c))) # what a registry would store
    # Owner and write bits, from the archive itself.
    tar --numeric-owner -tvf "$blob" | awk -v d="${digest:0:19}" '
      substr($1, 1, 1) != "l" && (substr($1, 6, 1) == "w" || substr($1, 9, 1) == "w") { print "FAIL permissions: " $6 " is writable by others (" $1 ", in layer " d ")" }
      $2 != "0/0" { print "FAIL permissions: " $6 " is owned by " $2 ", not root (in layer " d ")" }
    ' >"$dir/perms"
    n=$(grep -c . "$dir/perms" || true)
    cat "$dir/perms"
    failures=$((failures + n))
    # Names: secrets and shells.
    (cd "$layer" && find . -mindepth 1 \( -type f -o -type l -o -type d \) -printf '%P\n') |
      while IFS= read -r path; do printf '%s\t%s\n' "$path" "$digest"; done >>"$dir/files"
    files=$((files + $(find "$layer" -type f | wc -l)))
    # Contents: every file, binaries included.
    local what re hit url pw last=""
    for what in "private key:$RE_PRIVATE_KEY" "fdi API key:$RE_API_KEY"; do
      re=${what#*:}
      while IFS= read -r hit; do
        fail secret-content "${hit#"$layer"/} holds a ${what%%:*} (in layer ${digest:0:19})"
      done < <(grep -rlaE -e "$re" "$layer" || true)
    done
    # Each URL on its own (grep -o, -Z: `file\0url`), its password never shown.
    while IFS= read -r -d '' hit && IFS= read -r url; do
      pw=${url#*://}
      pw=${pw#*:}
      pw=${pw%@}
      if [[ $pw =~ $RE_PLACEHOLDER ]] || [ "$hit" = "$last" ]; then continue; fi
      last=$hit
      fail secret-content "${hit#"$layer"/} holds a PostgreSQL URL with a password (in layer ${digest:0:19})"
    done < <(grep -raoZE -e "$RE_PG_PASSWORD" "$layer" || true)
  done
  [ "$layers" -gt 0 ] || fail layers "the exported image has no layer"
  local path d
  while IFS=$'\t' read -r path d; do
    # A whiteout (.wh.NAME) records a deletion: its content is empty.
    case ${path##*/} in .wh.*) continue ;; esac
    if printf '%s\n' "$path" | grep -qE "$RE_SECRET_FILE"; then
      fail secret-file "$path is a secret-looking file (in layer ${d:0:19})"
    fi
    if printf '%s\n' "$path" | grep -qE "$RE_SHELL"; then
      fail shell "$path is a shell (in layer ${d:0:19})"
    fi
  done <"$dir/files"

  # The image's own files, as a container sees them: every executable in
  # /usr/local/bin must have its libraries (resolved by the image's loader)
  # and start, as the image's user, with nothing from this machine's
  # environment.
  local ctr mnt loader exe out version=""
  ctr=$(bh from --quiet --pull=never "$image")
  containers+=("$ctr")
  mnt=$(bh mount "$ctr")
  for n in /bin/sh /bin/bash /usr/bin/sh /usr/bin/bash; do
    if [ -e "$mnt$n" ] || [ -L "$mnt$n" ]; then fail shell "$n exists in the image"; fi
  done
  loader=$(cd "$mnt" && find lib64 lib -maxdepth 2 -name 'ld-linux*.so*' 2>/dev/null | head -n 1)
  for exe in "$mnt"/usr/local/bin/*; do
    exe=/usr/local/bin/${exe##*/}
    if [ -z "$loader" ]; then
      fail libraries "the image has no dynamic loader (ld-linux)"
      break
    fi
    # `ld.so --list` is ldd without a shell: it exits non-zero, or says
    # `not found`, when a library is missing.
    if ! out=$(env -i "$chroot_bin" "$mnt" "/$loader" --list "$exe" 2>&1) || printf '%s\n' "$out" | grep -q 'not found'; then
      fail libraries "$exe: the image's loader cannot resolve its libraries: $(printf '%s\n' "$out" | grep -v '=> /' | head -n 2 | tr -s ' \t\n' ' ')"
    fi
    if ! out=$(env -i "$chroot_bin" --userspec="$EXPECTED_USER" "$mnt" "$exe" --help 2>&1 >/dev/null); then
      fail libraries "$exe --help does not run in the image (as $EXPECTED_USER): $(printf '%s' "$out" | head -n 2 | tr '\n' ' ')"
    fi
  done
  if [ -x "$mnt/usr/local/bin/fdi" ]; then
    version=$(env -i "$chroot_bin" --userspec="$EXPECTED_USER" "$mnt" /usr/local/bin/fdi --version 2>/dev/null || true)
  fi
  bh umount "$ctr" >/dev/null

  id=$(bh inspect --type image --format '{{.FromImageID}}' "$image")
  size=$(bh images --format '{{.Size}}' "$image" | head -n 1)
  local bytes
  bytes=$(du -cb "$dir"/layers | tail -n 1 | cut -f 1)
  printf -- '--- %s (%s)\n' "$image" "$name"
  printf '  image id:   %s\n' "$id"
  printf '  size:       %s (%s MB of files, about %s MB compressed)\n' "$size" "$((bytes / 1000000))" "$((gz / 1000000))"
  printf '  user:       %s\n' "$user"
  printf '  entrypoint: %s\n' "$entrypoint"
  printf '  ports:      %s\n' "$ports"
  printf '  layers:     %s, files: %s\n' "$layers" "$files"
  [ -z "$version" ] || printf '  version:    %s\n' "$version"
  if [ "$failures" -gt 0 ]; then
    printf '  %s check(s) FAILED\n' "$failures"
    return 1
  fi
  printf '  all checks passed\n'
}

log "checking $IMAGE"
if ! check_image "$IMAGE" image; then
  die "the image failed its checks (see FAIL lines above)"
fi

if [ -n "$save" ]; then
  mkdir -p "$(dirname "$save")"
  rm -f "$save"
  bh push --quiet "$IMAGE" "oci-archive:$save:fdi-atlas:offline" >/dev/null
  log "saved $IMAGE to $save ($(du -h "$save" | cut -f 1))"
fi

# --- the self-test -----------------------------------------------------------
if [ "$self_test" -eq 1 ]; then
  log "self-test: planting what the checks must refuse in a copy of the image"
  tampered=localhost/fdi-atlas:tampered
  # Fake secrets, put together here so that this file holds none of them.
  fake_key=$(printf -- '-----BEGIN %s-----\n%s\n-----END %s-----\n' "EC PRIVATE KEY" "MHcCAQEEIFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEoAoGCCqGSM49" "EC PRIVATE KEY")
  fake_api_key="fdi_$(printf '%016x' 48879)_$(printf 'A%.0s' {1..43})"
  fake_url="postgres""ql://fdi_ingest:not-a-real-password@db.example:5432/fdi"

  # Layer 2: a key file that layer 3 deletes again (still in the image).
  ctr=$(bh from --quiet --pull=never "$IMAGE")
  containers+=("$ctr")
  mnt=$(bh mount "$ctr")
  mkdir -p "$mnt/etc/fdi"
  printf '%s\n' "$fake_key" >"$mnt/etc/fdi/deleted-later.key"
  bh umount "$ctr" >/dev/null
  bh commit --quiet "$ctr" localhost/fdi-atlas:tampered-1 >/dev/null

  # Layer 3: the rest.
  ctr=$(bh from --quiet --pull=never localhost/fdi-atlas:tampered-1)
  containers+=("$ctr")
  mnt=$(bh mount "$ctr")
  rm "$mnt/etc/fdi/deleted-later.key"
  mkdir -p "$mnt/.fdi" "$mnt/srv/app" "$mnt/etc/ssl/private" "$mnt/bin"
  printf 'state\n' >"$mnt/.fdi/state.json"
  printf 'FDI_LOG=info\n' >"$mnt/srv/app/.env"
  printf 'not a certificate\n' >"$mnt/etc/ssl/private/server.pem"
  printf '%s\n' "$fake_key" >"$mnt/etc/fdi/innocent-name.txt"
  printf 'api_key = %s\n' "$fake_api_key" >"$mnt/etc/fdi/client.toml"
  printf 'url = %s\n' "$fake_url" >"$mnt/etc/fdi/db.toml"
  # Placeholders, as a --help shows them: not secrets, must pass.
  # shellcheck disable=SC2016 # ${PGPASSWORD} is the text planted, not expanded
  printf '%s\n' 'e.g. postgres://fdi_owner:…@db:5432/fdi' 'postgres://fdi:***@db/fdi' \
    'postgresql://fdi:<password>@db/fdi' 'postgres://fdi:${PGPASSWORD}@db/fdi' >"$mnt/etc/fdi/help.txt"
  printf '#!/nonexistent\n' >"$mnt/bin/sh"
  chmod 0755 "$mnt/bin/sh"
  chmod 0666 "$mnt/etc/fdi/db.toml"
  rm "$mnt/lib/x86_64-linux-gnu/libgcc_s.so.1"
  bh umount "$ctr" >/dev/null
  bh config --user 0:0 --entrypoint '["/bin/sh"]' --port 22/tcp \
    --env "FDI_DATABASE_URL=$fake_url" --env "FDI_API_TOKEN=x" \
    --label org.opencontainers.image.licenses=Proprietary "$ctr" 2>"$work/config.err" ||
    { cat "$work/config.err" >&2; die "self-test: buildah config failed"; }
  bh commit --quiet "$ctr" "$tampered" >/dev/null

  out=$work/self-test.log
  if check_image "$tampered" tampered >"$out" 2>&1; then
    cat "$out"
    die "self-test: the checks passed an image full of planted problems"
  fi
  sed 's/^/  | /' "$out"
  missed=0
  while IFS='|' read -r check what; do
    if grep -E "^FAIL $check: " "$out" | grep -qF -- "$what"; then
      printf '  refused as expected: %-15s %s\n' "$check" "$what"
    else
      printf '  NOT REFUSED:         %-15s %s\n' "$check" "$what"
      missed=$((missed + 1))
    fi
  done <<'EOF'
user|'0:0'
entrypoint|["/bin/sh"]
ports|'22/tcp 50051/tcp
labels|Proprietary
env|FDI_DATABASE_URL
env|FDI_API_TOKEN
shell|bin/sh is a shell
shell|/bin/sh exists in the image
libraries|libgcc_s.so.1
secret-file|etc/fdi/deleted-later.key
secret-file|.fdi
secret-file|srv/app/.env
secret-file|etc/ssl/private/server.pem
secret-content|etc/fdi/deleted-later.key holds a private key
secret-content|etc/fdi/innocent-name.txt holds a private key
secret-content|etc/fdi/client.toml holds a fdi API key
secret-content|etc/fdi/db.toml holds a PostgreSQL URL with a password
permissions|etc/fdi/db.toml is writable by others
EOF
  if grep -E '^FAIL [a-z-]+: etc/fdi/help\.txt ' "$out"; then
    printf '  REFUSED:             %-15s %s\n' secret-content "placeholder passwords in etc/fdi/help.txt"
    missed=$((missed + 1))
  else
    printf '  accepted as expected: %-14s %s\n' secret-content "placeholder passwords in etc/fdi/help.txt"
  fi
  [ "$missed" -eq 0 ] || die "self-test: $missed planted problem(s) were not refused, or a placeholder was"
  log "self-test passed: every planted problem was refused"
fi

log "done in $(($(date +%s) - started)) s"
