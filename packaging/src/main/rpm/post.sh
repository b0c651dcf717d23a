# %post: $1 is 1 on a first install, 2 or more on an upgrade.
if [ "$1" -eq 1 ]; then
  /usr/libexec/drainguard/maintainer install
else
  /usr/libexec/drainguard/maintainer upgrade
fi
