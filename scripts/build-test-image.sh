#!/usr/bin/env bash
# Builds the docker image parallel-cc's tests (and `--provider docker` by default) use, without any
# registry: `docker import` of a tarball of this machine's own binaries (bash, coreutils, git, node,
# curl…) and the shared libraries they need. The claude binary is bind-mounted read-only at run time.
# Usage: scripts/build-test-image.sh [image-name]   (default parallel-cc-agent:latest)
set -euo pipefail
image="${1:-parallel-cc-agent:latest}"
# Bump when the image's contents change: an image built by an older version of this script is rebuilt.
version=2
have="$(docker image inspect --format '{{index .Config.Labels "parallel-cc.test-image"}}' "$image" 2>/dev/null || true)"
if [ "$have" = "$version" ] && [ "${REBUILD:-0}" != 1 ]; then
  echo "docker image $image: present"
  exit 0
fi
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
bins=(bash sh dash env cat ls cp mv rm mkdir rmdir ln chmod chown touch echo printf test true false sleep head tail wc sort uniq tr cut
  sed grep find xargs tee date id whoami uname basename dirname readlink realpath stat du df mktemp mkfifo kill ps pgrep pkill
  timeout nohup diff cmp git node curl tar gzip sha256sum which capsh less rg)
copy() { # copy a file to its real folder (merged /usr: /lib → /usr/lib), following links for the content
  local f="$1" dir
  [ -e "$f" ] || return 0
  dir="$(realpath "$(dirname "$f")")"
  mkdir -p "$root$dir"
  cp -L "$f" "$root$dir/$(basename "$f")" 2>/dev/null || true
}
libs() { ldd "$1" 2>/dev/null | awk '/=>/ {print $3} /ld-linux/ {print $1}' || true; }
for b in "${bins[@]}"; do
  # type -P: the file on PATH even for shell builtins (true, echo, kill…), which `command -v` names bare.
  p="$(type -P "$b" 2>/dev/null || true)"
  [ -n "$p" ] && [ -f "$p" ] || continue
  copy "$p"
  for lib in $(libs "$p"); do copy "$lib"; done
done
# git's helpers, its templates, TLS roots and the name-service libraries getpwuid needs.
mkdir -p "$root/usr/lib" "$root/usr/share" "$root/etc"
cp -a /usr/lib/git-core "$root/usr/lib/"
for f in "$root"/usr/lib/git-core/*; do
  [ -f "$f" ] || continue
  for lib in $(libs "$f"); do copy "$lib"; done
done
[ -d /usr/share/git-core ] && cp -a /usr/share/git-core "$root/usr/share/"
# …and the glibc pieces a bind-mounted claude binary links against (librt, libpthread, libdl).
for lib in libnss_files.so.2 libnss_dns.so.2 libresolv.so.2 librt.so.1 libpthread.so.0 libdl.so.2 libutil.so.1; do copy "/lib/x86_64-linux-gnu/$lib"; done
[ -d /etc/ssl/certs ] && mkdir -p "$root/etc/ssl" && cp -aL /etc/ssl/certs "$root/etc/ssl/" 2>/dev/null || true
# Debian's merged /usr: /bin, /lib and /lib64 are links.
for d in bin lib lib64 sbin; do [ -L "/$d" ] && ln -sfn "$(readlink "/$d")" "$root/$d"; done
printf 'root:x:0:0:root:/root:/bin/sh\nagent:x:1000:1000:agent:/home/agent:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nagent:x:1000:\nnogroup:x:65534:\n' > "$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"
mkdir -p "$root/tmp" "$root/workspace" "$root/home/agent" "$root/opt/parallel-cc/bin" "$root/opt/parallel-cc/run" "$root/proc" "$root/dev" "$root/sys"
chmod 1777 "$root/tmp"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/opt/parallel-cc/bin:/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'USER 1000:1000' \
  --change 'WORKDIR /workspace' \
  --change "LABEL parallel-cc.test-image=$version" \
  - "$image" >/dev/null
echo "docker image $image: built ($(docker image inspect --format '{{.Size}}' "$image") bytes)"
