# %postun: $1 is 0 when the package is erased, 1 on an upgrade.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload || :
fi
