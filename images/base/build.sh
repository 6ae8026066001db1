#!/usr/bin/env bash
# Builds the StatCommons base image: a minimal Debian bookworm root file system
# (mmdebstrap, variant minbase) with Python 3, venv, pip, git, tini and CA certificates,
# imported into the container engine as TAG.
#
#   usage: images/base/build.sh TAG [ENGINE [LABEL=VALUE]]
#          e.g. images/base/build.sh statcommons/base:bookworm podman
#
# ENGINE is podman (default) or docker; LABEL=VALUE is one more image label
# (statcommons images uses it to record the hash of this folder). The caller sets CONTAINERS_CONF for podman if needed.
# Needs root (or fakeroot/unshare support) and mmdebstrap. Packages come from Debian's own
# mirrors over http and are checked by apt's signatures; no certificate is added to the image.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "usage: $0 TAG [ENGINE [LABEL=VALUE]]" >&2
  exit 64
fi
TAG=$1
ENGINE=${2:-podman}
EXTRA_LABEL=${3:-}
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}

command -v mmdebstrap >/dev/null || { echo "$0: mmdebstrap not found (apt-get install mmdebstrap)" >&2; exit 1; }
command -v "$ENGINE" >/dev/null || { echo "$0: container engine '$ENGINE' not found" >&2; exit 1; }

PACKAGES=(
  ca-certificates
  python3 python3-venv python3-pip
  git            # nbgitpuller shells out to git
  tini           # PID 1 in the lab images
  less procps    # small comforts in a terminal
)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/statcommons-base.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

start=$(date +%s)
echo "==> mmdebstrap $SUITE (minbase + ${#PACKAGES[@]} packages) into $tmp/rootfs.tar"
# Docs, man pages and translations are left out to keep the image small (copyright files stay).
mmdebstrap \
  --variant=minbase \
  --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/apt/* "$1"/var/log/dpkg.log' \
  --quiet \
  "$SUITE" "$tmp/rootfs.tar" \
  "deb $MIRROR $SUITE main" \
  "deb $MIRROR $SUITE-updates main" \
  "deb $SECURITY_MIRROR $SUITE-security main"

echo "==> importing $(du -h "$tmp/rootfs.tar" | cut -f1) tarball as $TAG with $ENGINE"
"$ENGINE" import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' \
  --change 'LABEL org.opencontainers.image.title=statcommons-base' \
  --change "LABEL org.opencontainers.image.description=\"Debian $SUITE minbase with python3, venv, pip, git and tini\"" \
  ${EXTRA_LABEL:+--change "LABEL $EXTRA_LABEL"} \
  "$tmp/rootfs.tar" "$TAG" >/dev/null

echo "==> built $TAG in $(( $(date +%s) - start ))s"
