#!/usr/bin/env bash
# Installs the system packages parallel-cc's native sandbox needs (Debian/Ubuntu), only when missing:
# bubblewrap (the sandbox), git, socat and ripgrep (used by Claude Code's tools inside the sandbox);
# with --with-docker also docker.io for the docker provider; with --with-test-tools what the tests drive.
set -euo pipefail

need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v git >/dev/null 2>&1 || need+=(git)
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v ps >/dev/null 2>&1 || need+=(procps)
for arg in "$@"; do
  case "$arg" in
    # --with-docker: the docker provider's daemon too (CI runs its tests on a real dockerd).
    --with-docker) command -v dockerd >/dev/null 2>&1 || need+=(docker.io) ;;
    # --with-test-tools: what the test suite drives for real: headless chromium (dashboard browser
    # tests), tmux (TUI tests), an sshd + ssh client (the --ssh-key broker test).
    --with-test-tools)
      command -v chromium >/dev/null 2>&1 || need+=(chromium)
      command -v tmux >/dev/null 2>&1 || need+=(tmux)
      [ -x /usr/sbin/sshd ] || need+=(openssh-server)
      command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
      ;;
    *) echo "unknown option: $arg (known: --with-docker, --with-test-tools)" >&2; exit 2 ;;
  esac
done

if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${need[*]} — install them with your package manager" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
