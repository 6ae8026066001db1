#!/usr/bin/env bash
# Installs the host packages StatCommons needs, when they are missing.
#   scripts/install-system.sh base     python3-venv and npm, if missing
#   scripts/install-system.sh engine   podman, runc, mmdebstrap, slirp4netns (only if no Docker daemon answers)
#   scripts/install-system.sh browser  Debian's chromium (browser tests)
#   scripts/install-system.sh postgres PostgreSQL server (tests of the PostgreSQL store)
# As root on Debian/Ubuntu it uses apt-get; otherwise it names what to install and exits 1.
set -euo pipefail

want=()
case "${1:-engine}" in
  base)
    "${PYTHON:-python3}" -c 'import venv, ensurepip' 2>/dev/null || want+=(python3-venv)
    command -v npm >/dev/null || want+=(npm)
    ;;
  engine)
    if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then
      exit 0  # a Docker daemon answers: use it, install nothing
    fi
    command -v podman >/dev/null || want+=(podman)
    command -v runc >/dev/null || [ -x /usr/sbin/runc ] || want+=(runc)
    command -v mmdebstrap >/dev/null || want+=(mmdebstrap)
    # A network namespace per container (engine.network: slirp4netns, the default).
    command -v slirp4netns >/dev/null || [ -x /usr/bin/slirp4netns ] || want+=(slirp4netns)
    # Size caps of volumes: an ext4 image each (statcommons/platform/diskcap.py).
    command -v mkfs.ext4 >/dev/null || [ -x /sbin/mkfs.ext4 ] || want+=(e2fsprogs)
    ;;
  browser)
    command -v chromium >/dev/null || want+=(chromium)
    ;;
  postgres)
    ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || want+=(postgresql)
    ;;
  *) echo "usage: $0 base|engine|browser|postgres" >&2; exit 64 ;;
esac

[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "statcommons: missing ${want[*]}: install them (for example 'sudo apt-get install ${want[*]}'), or start a Docker daemon, then run again." >&2
  exit 1
fi

echo "==> installing ${want[*]} with apt-get (one time)"
export DEBIAN_FRONTEND=noninteractive
# An old or empty package list finds nothing: refresh it when it is more than a day old.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
echo "==> installed ${want[*]}"
