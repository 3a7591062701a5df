#!/usr/bin/env bash
# Fetch the front-end files Kehu serves from the npm registry into kehu/static/vendor/.
# Versions are pinned here; VERSIONS.md beside the files records them with their licences.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=kehu/core/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {  # package version
  (cd "$tmp" && npm pack --silent "$1@$2" >/dev/null && mkdir -p "$1" && tar -xzf "${1//\//-}-$2.tgz" -C "$1")
}
fetch bootstrap 5.3.9
fetch bootstrap-icons 1.13.2
fetch htmx.org 2.0.11
fetch sortablejs 1.15.7
fetch echarts 6.1.0
mkdir -p "$dest/bootstrap" "$dest/bootstrap-icons/fonts" "$dest/htmx" "$dest/sortablejs" "$dest/echarts"
cp "$tmp/bootstrap/package/dist/css/bootstrap.min.css" "$dest/bootstrap/"
cp "$tmp/bootstrap/package/dist/js/bootstrap.bundle.min.js" "$dest/bootstrap/"
cp "$tmp/bootstrap/package/LICENSE" "$dest/bootstrap/LICENSE"
cp "$tmp/bootstrap-icons/package/font/bootstrap-icons.min.css" "$dest/bootstrap-icons/"
cp "$tmp/bootstrap-icons/package/font/fonts/bootstrap-icons.woff2" "$dest/bootstrap-icons/fonts/"
cp "$tmp/bootstrap-icons/package/LICENSE" "$dest/bootstrap-icons/LICENSE"
cp "$tmp/htmx.org/package/dist/htmx.min.js" "$dest/htmx/"
cp "$tmp/htmx.org/package/LICENSE" "$dest/htmx/LICENSE"
cp "$tmp/sortablejs/package/Sortable.min.js" "$dest/sortablejs/"
cp "$tmp/sortablejs/package/LICENSE" "$dest/sortablejs/LICENSE"
cp "$tmp/echarts/package/dist/echarts.min.js" "$tmp/echarts/package/LICENSE" "$tmp/echarts/package/NOTICE" "$dest/echarts/"
cat > "$dest/VERSIONS.md" <<'TXT'
| package | version | licence |
| --- | --- | --- |
| bootstrap | 5.3.9 | MIT |
| bootstrap-icons | 1.13.2 | MIT |
| htmx.org | 2.0.11 | 0BSD |
| sortablejs | 1.15.7 | MIT |
| echarts | 6.1.0 | Apache-2.0 |
TXT
echo "vendored into $dest"
