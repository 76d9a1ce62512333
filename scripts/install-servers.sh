#!/usr/bin/env bash
# Installs, from Debian's packages, what the native and production rows and the ab cross-check need:
# ApacheBench, Apache (prefork/worker/event), lighttpd, nginx, h2o, webfs, mini_httpd, GNU Pth, State Threads, a C compiler,
# g++ (native-coro, C++20), liburing (native-uring), Go (go-nethttp, go-raw), chromium for the report's browser test,
# OpenSSH and iproute2 for agents on other hosts and the network namespaces of `eventbench hosts up`, and python3
# for the example user servers (examples/). Optional for a user: eventbench runs its TypeScript servers without it.
# Idempotent; needs root (or sudo). Stock services the packages start are stopped and disabled: eventbench starts
# its own instances on loopback with its own configuration.
set -euo pipefail

packages=(apache2 apache2-utils lighttpd nginx-light h2o webfs mini-httpd libst-dev libpth-dev build-essential g++ liburing-dev golang-go chromium procps
  openssh-server openssh-client iproute2 python3)

sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then sudo=sudo; else echo "install-servers: run as root or install sudo" >&2; exit 1; fi
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-servers: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  # policy-rc.d keeps the packages' own services from starting during install (they would take port 80).
  echo 'exit 101' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
  $sudo rm -f /usr/sbin/policy-rc.d
  [ "${status:-0}" = 0 ] || exit "$status"
fi

# Stop stock daemons a package may have started anyway, and disable them (webfs's postinst enables its init script
# for every boot; mini-httpd's registers it disabled): eventbench never uses them.
for svc in apache2 lighttpd nginx h2o webfs mini-httpd; do
  pidfile=""
  case $svc in
    apache2) pidfile=/var/run/apache2/apache2.pid ;;
    lighttpd) pidfile=/run/lighttpd.pid ;;
    nginx) pidfile=/run/nginx.pid ;;
    h2o) pidfile=/run/h2o.pid ;;
    webfs) pidfile=/run/webfs/webfsd.pid ;;
    mini-httpd) pidfile=/run/mini_httpd.pid ;;
  esac
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    $sudo kill "$(cat "$pidfile")" 2>/dev/null || true
  fi
  if [ -d /run/systemd/system ]; then $sudo systemctl disable "$svc.service" >/dev/null 2>&1 || true; fi
  if [ -x "/etc/init.d/$svc" ]; then $sudo update-rc.d "$svc" disable >/dev/null 2>&1 || true; fi
done
# The sshd of a freshly installed openssh-server: eventbench starts its own in its namespaces, on their addresses
# only, and never needs one on port 22 of this host. One that was installed before this script ran is the user's
# own and is left alone.
if [[ " ${missing[*]} " == *" openssh-server "* ]]; then
  if [ -d /run/systemd/system ]; then $sudo systemctl disable --now ssh.service ssh.socket 2>/dev/null || true; fi
  if [ -s /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; then $sudo kill "$(cat /run/sshd.pid)" 2>/dev/null || true; fi
  $sudo update-rc.d ssh disable >/dev/null 2>&1 || true
fi
echo "install-servers: done" >&2
