#!/bin/sh
# Copies install.sh into cloud-config.yaml and cloudformation.yaml, between their
# "# BEGIN install.sh" and "# END install.sh" lines, indented as the YAML block scalar that
# follows the BEGIN line needs, without its comment lines (but the first): EC2 takes at most
# 16 KiB of user data. Run it after every change to install.sh: UserDataLintIT fails while a
# copy differs.
set -eu
dir=$(dirname "$0")
for f in "$dir/cloud-config.yaml" "$dir/cloudformation.yaml"; do
  awk -v script="$dir/install.sh" '
    /# END install\.sh/ { skip = 0 }
    skip { next }
    { print }
    /# BEGIN install\.sh/ { begin = 1; next }
    begin {
      begin = 0
      skip = 1
      match($0, /^ */)
      pad = "  "
      for (i = 0; i < RLENGTH; i++) pad = pad " "
      n = 0
      while ((getline line < script) > 0) {
        if (n++ > 0 && line ~ /^[ \t]*#/) continue
        print (line == "" ? "" : pad line)
      }
      close(script)
    }
  ' "$f" >"$f.tmp"
  mv "$f.tmp" "$f"
done
