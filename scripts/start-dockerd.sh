#!/usr/bin/env bash
# Starts a docker daemon when none answers (CI and fresh machines without systemd). Without a usable
# bridge (containers, restricted kernels) it runs with --iptables=false --bridge=none; parallel-cc
# only needs network "none" containers. Logs go to /tmp/dockerd.log.
set -euo pipefail
if docker info >/dev/null 2>&1; then
  echo "docker daemon: running"
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker daemon: dockerd not installed (apt-get install docker.io); docker tests will be skipped" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo sh -c 'nohup dockerd --iptables=false --bridge=none >/tmp/dockerd.log 2>&1 &'
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker daemon: started"
    exit 0
  fi
  sleep 1
done
echo "docker daemon: did not start; see /tmp/dockerd.log" >&2
tail -20 /tmp/dockerd.log >&2 || true
exit 1
