#!/bin/sh
# drainguard install.sh: EC2 user data that installs drainguard and starts it, on Amazon Linux
# 2023, Amazon Linux 2, Ubuntu 22.04/24.04 (and Debian). Idempotent: a second run changes
# nothing. Every step is logged to the console and /var/log/drainguard-install.log; a failure
# prints "drainguard install: FAILED at step <name>: <reason>" and exits 1. userdata/README.md
# says more. Set as environment variables before it runs:
#
#   DRAINGUARD_PACKAGE_URL     required: the .rpm (Amazon Linux) or .deb (Ubuntu): https://...,
#                              s3://bucket/key (needs the aws CLI), file:///path or /path
#   DRAINGUARD_PACKAGE_SHA256  the package's SHA-256; when set, a different file is refused
#   DRAINGUARD_<KEY>           each key of drainguard.conf (list below, as 'drainguard run
#                              --help' names them): DRAINGUARD_HOOK_NAME=drain writes
#                              'hook-name = drain'. Unset keys keep the agent's default;
#                              queue-root defaults to /opt/cribl/state/queues
#   DRAINGUARD_CRIBL_USER      owner of a queue root this script creates (default cribl; root
#                              when no such user exists)
#   DRAINGUARD_CHECK_STRICT=1  fail when 'drainguard check' fails (default: report, go on)
# For images, containers, chroots and tests:
#   DRAINGUARD_ROOT=/dir       install into this root (rpm --root, dpkg-deb -x); no Java
#                              install, no service start (only 'systemctl --root enable')
#   DRAINGUARD_SKIP_JAVA=1     install no Java runtime (one must be there, or come with it)
#   DRAINGUARD_SKIP_CHECK=1    do not run 'drainguard check'
#   DRAINGUARD_SKIP_SERVICE=1  neither enable nor start the service
#   DRAINGUARD_OS_RELEASE      the os-release file to read (default /etc/os-release)
set -u

keys="queue-root ignore-glob residual-bytes queue-probe-command cribl-api-url cribl-token-file
cribl-worker-processes probe-interval probe-timeout drained-when quiet-period reconcile-interval
heartbeat-interval action-grace deadline-policy deadline-margin max-hold before-complete-command
on-termination-command command-timeout protect-while-busy protect-threshold protect-after
protect-interval asg-name asg-from-tags hook-name region imds-endpoint autoscaling-endpoint
imds-poll-interval imds-startup-timeout loopback-only log-level control-socket metrics-port
metrics-bind"
# this script's own variables, and the agent's config file variable
own="package-url package-sha256 cribl-user check-strict root skip-java skip-check skip-service
os-release config"

root=${DRAINGUARD_ROOT:-}
root=${root%/}
conf=$root/etc/drainguard/drainguard.conf
launcher=$root/usr/bin/drainguard
log_file=$root/var/log/drainguard-install.log
state_dir=$root/var/lib/drainguard-install
step=start
changed=
warnings=

mkdir -p "${log_file%/*}" 2>/dev/null

log() {
  echo "drainguard install: $*"
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) drainguard install: $*" >>"$log_file" 2>/dev/null
}

fail() {
  log "FAILED at step $step: $*"
  exit 1
}

# Runs a command, its output to the console and the log; returns its exit code.
run() {
  log "run: $*"
  { "$@" 2>&1; echo $? >"$work/rc"; } | tee -a "$log_file"
  return "$(cat "$work/rc")"
}

note_change() {
  changed="$changed $1"
}

env_name() {
  echo "DRAINGUARD_$1" | tr 'a-z-' 'A-Z_'
}

env_value() {
  eval "printf '%s' \"\${$(env_name "$1"):-}\""
}

work=$(mktemp -d "${TMPDIR:-/tmp}/drainguard-install.XXXXXX") || fail "cannot make a work directory"
trap 'rm -rf "$work"' EXIT

step=preflight
log "start (root ${root:-/})"
[ -n "${DRAINGUARD_PACKAGE_URL:-}" ] || fail "DRAINGUARD_PACKAGE_URL is not set"
if [ -z "$root" ] && [ "$(id -u)" != 0 ]; then
  fail "must run as root (user data does)"
fi
case $root in /* | '') ;; *) fail "DRAINGUARD_ROOT must be an absolute path, not $root" ;; esac

step=detect-os
os_release=${DRAINGUARD_OS_RELEASE:-/etc/os-release}
[ -r "$os_release" ] || fail "cannot read $os_release"
# shellcheck source=/dev/null
os=$(. "$os_release" && echo "${ID:-}:${VERSION_ID:-}")
case $os in
  amzn:2023*) pm=dnf type=rpm java_pkg=java-17-amazon-corretto-headless ;;
  amzn:2) pm=yum type=rpm java_pkg=java-17-amazon-corretto-headless ;;
  ubuntu:* | debian:*) pm=apt-get type=deb java_pkg=openjdk-17-jre-headless ;;
  *) fail "unsupported system $os (Amazon Linux 2023, Amazon Linux 2, Ubuntu, Debian)" ;;
esac
case $os in
  ubuntu:22.04 | ubuntu:24.04 | debian:*) ;;
  ubuntu:*) log "warning: $os is not tested; going on with apt" ;;
esac
log "system $os: $pm, .$type packages"

apt_updated=
pm_install() {
  if [ "$pm" = apt-get ]; then
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$apt_updated" ]; then
      run apt-get update -q || return 1
      apt_updated=1
    fi
    run apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef "$@"
  else
    run "$pm" install -y "$@"
  fi
}

# Sets java to a Java 17+ runtime found where the launcher looks, or returns 1.
find_java() {
  for j in "${JAVA_HOME:-/nonexistent}/bin/java" "$(command -v java)" /usr/lib/jvm/*/bin/java; do
    [ -x "$j" ] || continue
    v=$("$j" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java\.specification\.version = //p')
    case $v in '' | 1.*) continue ;; esac
    if [ "${v%%.*}" -ge 17 ] 2>/dev/null; then
      java="$j (Java $v)"
      return 0
    fi
  done
  return 1
}

step=java
if [ "${DRAINGUARD_SKIP_JAVA:-}" = 1 ] || [ -n "$root" ]; then
  log "java: skipped (DRAINGUARD_SKIP_JAVA=1 or DRAINGUARD_ROOT set)"
elif find_java; then
  log "java: found $java"
else
  pm_install "$java_pkg" ||
    { [ "$pm" = apt-get ] && pm_install default-jre-headless; } ||
    fail "could not install $java_pkg"
  find_java || fail "installed $java_pkg but found no Java 17+ runtime"
  log "java: installed $java"
  note_change java
fi

step=fetch
url=$DRAINGUARD_PACKAGE_URL
name=${url%%\?*}
name=${name##*/}
case $name in *.deb | *.rpm) ;; *) name=drainguard.$type ;; esac
pkg=$work/$name
case $url in
  https://* | http://*)
    case $url in http://*) log "warning: plain http; set DRAINGUARD_PACKAGE_SHA256" ;; esac
    if command -v curl >/dev/null 2>&1; then
      run curl -fsSL --retry 5 --retry-delay 2 -o "$pkg" "$url"
    else
      run wget -q -t 5 -O "$pkg" "$url"
    fi || fail "could not download $url"
    ;;
  s3://*)
    command -v aws >/dev/null 2>&1 ||
      fail "$url needs the AWS CLI (aws), which is not installed; use an https:// URL"
    run aws s3 cp --no-progress "$url" "$pkg" || fail "could not copy $url"
    ;;
  file://* | /*)
    src=${url#file://}
    [ -f "$src" ] || fail "no such file: $src"
    cp "$src" "$pkg" || fail "could not copy $src"
    ;;
  *) fail "unsupported URL $url (https://, s3://, file:// or an absolute path)" ;;
esac
log "fetch: $url ($(wc -c <"$pkg") bytes)"

step=verify
sha=$(sha256sum "$pkg" | cut -d' ' -f1) || fail "sha256sum failed"
want=$(printf '%s' "${DRAINGUARD_PACKAGE_SHA256:-}" | tr 'A-F' 'a-f')
if [ -z "$want" ]; then
  log "verify: no DRAINGUARD_PACKAGE_SHA256 given; the package's is $sha"
elif [ "$sha" = "$want" ]; then
  log "verify: sha256 $sha matches"
else
  fail "sha256 of $url is $sha, expected $want"
fi

step=package
case $name in *.deb) ptype=deb ;; *.rpm) ptype=rpm ;; *) ptype=$type ;; esac
if [ -z "$root" ] && [ "$ptype" != "$type" ]; then
  fail "$name is a .$ptype package; this system ($os) installs .$type"
fi
if [ "$ptype" = deb ]; then
  version=$(dpkg-deb -f "$pkg" Version) || fail "$name is not a readable .deb"
  if [ -n "$root" ]; then
    installed=$(cat "$state_dir/deb-version" 2>/dev/null)
  else
    installed=$(dpkg-query -W -f '${db:Status-Status} ${Version}' drainguard 2>/dev/null)
    case $installed in "installed "*) installed=${installed#installed } ;; *) installed= ;; esac
  fi
else
  version=$(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$pkg" 2>/dev/null) ||
    fail "$name is not a readable .rpm"
  installed=$(rpm ${root:+--root "$root"} -q --qf '%{VERSION}-%{RELEASE}' drainguard 2>/dev/null) ||
    installed=
fi
if [ "$installed" = "$version" ]; then
  log "package: drainguard $version already installed"
else
  log "package: installing drainguard $version (installed: ${installed:-none})"
  if [ -z "$root" ]; then
    if [ "$pm" = apt-get ]; then
      pm_install --allow-downgrades "$pkg"
    else
      pm_install "$pkg"
    fi || fail "could not install $name"
  elif [ "$ptype" = rpm ]; then
    run rpm --root "$root" -U --nodeps --noscripts --oldpackage "$pkg" || fail "rpm --root failed"
  else
    # dpkg-deb -x knows no conffiles: keep the config as dpkg would
    [ -f "$conf" ] && cp -p "$conf" "$work/conf"
    run dpkg-deb -x "$pkg" "$root" || fail "dpkg-deb -x failed"
    [ -f "$work/conf" ] && cp -p "$work/conf" "$conf"
    { mkdir -p "$state_dir" && echo "$version" >"$state_dir/deb-version"; } ||
      fail "cannot write $state_dir/deb-version"
  fi
  note_change package
fi
[ -x "$launcher" ] || fail "$launcher is missing after the install"

step=config
for k in $keys; do
  case $(env_value "$k") in *'
'*) fail "$(env_name "$k") holds a line break" ;; esac
done
{
  echo "# Written by drainguard's install.sh from DRAINGUARD_* variables (userdata/README.md)."
  echo "# A later run rewrites it when they change: change the variables, not this file."
  for k in $keys; do
    v=$(env_value "$k")
    [ "$k" = queue-root ] && v=${v:-/opt/cribl/state/queues}
    [ -z "$v" ] || echo "$k = $v"
  done
} >"$work/drainguard.conf" || fail "cannot write $work/drainguard.conf"
if cmp -s "$work/drainguard.conf" "$conf"; then
  log "config: $conf unchanged"
else
  kept=
  if [ -f "$conf" ]; then
    cp -p "$conf" "$conf.bak" && kept=" (the previous one is $conf.bak)"
  fi
  { mkdir -p "${conf%/*}" && cp "$work/drainguard.conf" "$conf.new" &&
    chmod 0644 "$conf.new" && mv -f "$conf.new" "$conf"; } || fail "cannot write $conf"
  log "config: wrote $conf$kept"
  note_change config
fi
sed 's/^/  /' "$conf" | tee -a "$log_file"

step=queue-root
owner=${DRAINGUARD_CRIBL_USER:-cribl}
if ! getent passwd "$owner" >/dev/null 2>&1; then
  owner=root
fi
roots=$(sed -n 's/^queue-root = //p' "$conf" | tr ',' ' ')
check_roots=
for q in $roots; do
  check_roots="$check_roots${check_roots:+,}$root$q"
  if [ -d "$root$q" ]; then
    log "queue-root: $q exists"
    continue
  fi
  # create the missing directories top down, each owned like Cribl's own
  d=
  for part in $(echo "$q" | tr '/' ' '); do
    d=$d/$part
    [ -d "$root$d" ] && continue
    mkdir -m 0755 "$root$d" || fail "cannot create $root$d"
    [ "$owner" = root ] || chown "$owner:" "$root$d" || fail "cannot chown $root$d to $owner"
  done
  log "queue-root: created $q, owned by $owner (Cribl creates it only on first use)"
  note_change queue-root
done

step=check
if [ "${DRAINGUARD_SKIP_CHECK:-}" = 1 ]; then
  log "check: skipped (DRAINGUARD_SKIP_CHECK=1)"
else
  # only the file counts, as for the service: the variables above are not in its environment
  (
    for k in $keys $own; do unset "$(env_name "$k")"; done
    run "$launcher" check --config "$conf" ${root:+--queue-root "$check_roots"}
  )
  rc=$?
  case $rc in
    0) log "check: passed" ;;
    1)
      [ "${DRAINGUARD_CHECK_STRICT:-}" = 1 ] && fail "drainguard check failed (see above)"
      log "warning: drainguard check failed (see above); going on"
      warnings=1
      ;;
    *) fail "drainguard check exited $rc (see above)" ;;
  esac
fi

step=service
if [ "${DRAINGUARD_SKIP_SERVICE:-}" = 1 ]; then
  log "service: skipped (DRAINGUARD_SKIP_SERVICE=1)"
elif [ -n "$root" ]; then
  if systemctl --root "$root" is-enabled --quiet drainguard.service 2>/dev/null; then
    log "service: enabled in $root"
  else
    run systemctl --root "$root" enable drainguard.service || fail "could not enable the unit"
    note_change service
  fi
  log "service: not started (DRAINGUARD_ROOT is set)"
else
  was_active=
  systemctl is-active --quiet drainguard && was_active=1
  run systemctl enable --now drainguard ||
    fail "could not start drainguard: see 'journalctl -u drainguard'"
  # a new package restarted the agent itself (packaging/README.md); a new config needs one
  case " $changed " in
    *" config "*)
      if [ -n "$was_active" ]; then
        "$launcher" status >/dev/null 2>&1
        if [ $? = 10 ]; then
          log "warning: drainguard holds a lifecycle action: not restarted for the new config"
          warnings=1
        else
          run systemctl restart drainguard || fail "could not restart drainguard"
        fi
      fi
      ;;
  esac
  systemctl is-active --quiet drainguard || fail "drainguard is not active after start"
  log "service: drainguard enabled and active"
fi

step=finish
if [ -z "$changed" ]; then
  log "done: nothing changed${warnings:+ (with warnings above)}"
else
  log "done: changed$changed${warnings:+ (with warnings above)}"
fi
