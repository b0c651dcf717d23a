#!/bin/sh
# drainguard install.sh: installs and starts drainguard from EC2 user data on Amazon Linux 2023
# and 2, Ubuntu and Debian. Idempotent. Logs to the console and /var/log/drainguard-install.log;
# a failure says "FAILED at step <name>: <reason>" and exits 1. Variables (userdata/README.md):
#   DRAINGUARD_PACKAGE_URL     required: https://, s3://, file:// or /path of the .rpm or .deb
#   DRAINGUARD_PACKAGE_SHA256  required: its SHA-256, unless DRAINGUARD_ALLOW_UNVERIFIED=1 (which
#                              also allows http://; not for production)
#   DRAINGUARD_<KEY>           a key of drainguard.conf: DRAINGUARD_HOOK_NAME=x writes hook-name = x
#   DRAINGUARD_CRIBL_USER      owner of queue roots it creates (cribl); DRAINGUARD_CHECK_STRICT=1
#                              fails when 'drainguard check' fails
#   DRAINGUARD_ROOT, DRAINGUARD_SKIP_JAVA, _SKIP_CHECK, _SKIP_SERVICE, _OS_RELEASE: images, tests
set -u

keys="queue-root ignore-glob residual-bytes queue-probe-command cribl-api-url cribl-token-file
cribl-worker-processes probe-interval probe-timeout drained-when quiet-period reconcile-interval
heartbeat-interval action-grace deadline-policy deadline-margin max-hold before-complete-command
on-termination-command command-timeout protect-while-busy protect-threshold protect-after
protect-interval asg-name asg-from-tags hook-name region imds-endpoint autoscaling-endpoint
imds-poll-interval imds-startup-timeout loopback-only log-level control-socket control-group
state-directory metrics-port metrics-bind statsd-address statsd-flavor stall-after
metrics-allow-remote"
# this script's own variables, and the agent's config file variable
own="package-url package-sha256 allow-unverified cribl-user check-strict root skip-java skip-check
skip-service os-release config"

root=${DRAINGUARD_ROOT:-}
root=${root%/}
conf=$root/etc/drainguard/drainguard.conf
launcher=$root/usr/bin/drainguard
log_file=$root/var/log/drainguard-install.log
state_dir=$root/var/lib/drainguard-install
step=start
changed=
warnings=
pkg_done=

mkdir -p "${log_file%/*}" 2>/dev/null

log() {
  echo "drainguard install: $*"
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) drainguard install: $*" >>"$log_file" 2>/dev/null
}

fail() {
  log "FAILED at step $step: $*"
  # after the package step the unit may be enabled with a config that is not ours: disable it
  if [ -n "$pkg_done" ] && command -v systemctl >/dev/null 2>&1; then
    systemctl ${root:+--root "$root"} disable --quiet drainguard.service >/dev/null 2>&1
    log "drainguard is installed but NOT enabled: fix the above and run this script again (or fix $conf, run 'drainguard check', then 'systemctl enable --now drainguard')"
  fi
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
for k in $keys $own; do
  case $(env_value "$k") in *'
'*) fail "$(env_name "$k") holds a line break" ;; esac
done
for k in allow-unverified check-strict skip-java skip-check skip-service; do
  case $(env_value "$k") in '' | 0 | 1) ;; *) fail "$(env_name "$k") must be 1 or 0" ;; esac
done
unverified=${DRAINGUARD_ALLOW_UNVERIFIED:-}
want=$(printf '%s' "${DRAINGUARD_PACKAGE_SHA256:-}" | tr 'A-F' 'a-f')
case $want in
  '') [ "$unverified" = 1 ] ||
    fail "DRAINGUARD_PACKAGE_SHA256 is not set (sha256sum of the package); DRAINGUARD_ALLOW_UNVERIFIED=1 installs without it" ;;
  *[!0-9a-f]*) fail "DRAINGUARD_PACKAGE_SHA256 is not 64 hex digits: $want" ;;
esac
[ -z "$want" ] || [ ${#want} = 64 ] || fail "DRAINGUARD_PACKAGE_SHA256 is not 64 hex digits: $want"
case $DRAINGUARD_PACKAGE_URL in
  http://*) [ "$unverified" = 1 ] ||
    fail "plain http:// can be tampered with on the way: use https://, or set DRAINGUARD_ALLOW_UNVERIFIED=1" ;;
esac

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
    case $url in http://*) log "warning: plain http (DRAINGUARD_ALLOW_UNVERIFIED=1)" ;; esac
    # any failure is tried again (a refused connection, a name not resolving yet while the
    # network comes up); https:// is never redirected to http://
    p='=https'
    case $url in http://*) p='=https,http' ;; esac
    try=1
    until if command -v curl >/dev/null 2>&1; then
      run curl -fsSL --proto "$p" --proto-redir "$p" --connect-timeout 10 -o "$pkg" "$url"
    else run wget -q -t 1 -T 30 -O "$pkg" "$url"; fi; do
      [ $try -lt 6 ] || fail "could not download $url ($try tries)"
      log "fetch: try $try failed; again in $((try * 2)) s"
      sleep $((try * 2))
      try=$((try + 1))
    done
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
if [ -z "$want" ]; then
  log "warning: verify: NOT verified (DRAINGUARD_ALLOW_UNVERIFIED=1); the package's SHA-256 is $sha"
  warnings=1
elif [ "$sha" = "$want" ]; then
  log "verify: sha256 $sha matches"
else
  fail "sha256 of $url is $sha, expected $want"
fi

step=validate
case $name in *.deb) ptype=deb ;; *.rpm) ptype=rpm ;; *) ptype=$type ;; esac
if [ -z "$root" ] && [ "$ptype" != "$type" ]; then
  fail "$name is a .$ptype package; this system ($os) installs .$type"
fi
{
  echo "# Written by drainguard's install.sh from DRAINGUARD_* variables (userdata/README.md)."
  echo "# A later run rewrites it when they change: change the variables, not this file."
  for k in $keys; do
    v=$(env_value "$k")
    [ "$k" = queue-root ] && v=${v:-/opt/cribl/state/queues}
    [ -z "$v" ] || echo "$k = $v"
  done
} >"$work/drainguard.conf" || fail "cannot write $work/drainguard.conf"

# The queue roots in file $1, one a line, as the agent reads them: a comma followed by a '/'
# starts the next root; ':ignore=' and ':residual=' rules follow a path. No word splitting.
queue_roots() {
  sed -n 's/^queue-root = //p' "$1" | awk '{
    n = split($0, part, /,[[:space:]]*\//)
    for (i = 1; i <= n; i++) {
      p = (i > 1 ? "/" : "") part[i]
      sub(/:(ignore|residual)=.*/, "", p); sub(/^[[:space:]]+/, "", p); sub(/[[:space:]]+$/, "", p)
      print p
    }
  }'
}
# every value checked by the package's agent before anything is installed: 'status' loads the
# whole config (exit 78 for a wrong value) and needs nothing else
preview=$work/preview
mkdir -p "$preview" || fail "cannot make $preview"
if [ "$ptype" = deb ]; then
  dpkg-deb -x "$pkg" "$preview" || fail "$name is not a readable .deb"
elif command -v rpm2cpio >/dev/null 2>&1 && command -v cpio >/dev/null 2>&1; then
  (cd "$preview" && rpm2cpio "$pkg" | cpio -idm --quiet) || fail "$name is not a readable .rpm"
fi
(
  for k in $keys $own; do unset "$(env_name "$k")"; done
  "$preview/usr/bin/drainguard" status --config "$work/drainguard.conf" >/dev/null 2>"$work/err"
)
case $? in
  78) fail "$(cat "$work/err")" ;;
  69 | 127) log "warning: validate: could not run the agent here (no Java 17?): 'drainguard check' checks the values later"; warnings=1 ;;
  *) log "validate: every value accepted by drainguard $name" ;;
esac
rm -rf "$preview"

step=package
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
  pkg_done=1
fi
[ -x "$launcher" ] || fail "$launcher is missing after the install"

step=config
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
queue_roots "$conf" >"$work/roots" || fail "cannot read the queue roots of $conf"
check_roots=
while IFS= read -r q; do
  check_roots="$check_roots${check_roots:+,}$root$q"
  if [ -d "$root$q" ]; then
    log "queue-root: $q exists"
    continue
  fi
  # create the missing directories top down, each owned like Cribl's own
  d='' rest=${q#/}
  while [ -n "$rest" ]; do
    part=${rest%%/*}
    case $rest in */*) rest=${rest#*/} ;; *) rest= ;; esac
    [ -n "$part" ] || continue
    d=$d/$part
    [ -d "$root$d" ] && continue
    mkdir -m 0755 -- "$root$d" || fail "cannot create $root$d"
    [ "$owner" = root ] || chown -- "$owner:" "$root$d" || fail "cannot chown $root$d to $owner"
  done
  log "queue-root: created $q, owned by $owner (Cribl creates it only on first use)"
  note_change queue-root
done <"$work/roots"

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
        # only an agent that says it holds nothing (0 in service, 11 done) is restarted
        "$launcher" status >/dev/null 2>&1
        st=$?
        case $st in
          0 | 11) run systemctl restart drainguard || fail "could not restart drainguard" ;;
          *)
            log "warning: drainguard may hold a lifecycle action ('drainguard status' exits $st): not restarted for the new config"
            warnings=1
            ;;
        esac
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
