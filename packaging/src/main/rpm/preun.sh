# %preun: $1 is 0 when the package is erased, 1 on an upgrade (the new version's %post has
# restarted the service already). Failing here keeps the package installed: 'maintainer remove'
# fails while the agent holds a lifecycle action.
if [ "$1" -eq 0 ]; then
  /usr/libexec/drainguard/maintainer remove || exit 1
  if command -v systemctl >/dev/null 2>&1; then
    systemctl --quiet disable drainguard.service || :
  fi
fi
