#!/usr/bin/env bash
# Installs the pinned front-end packages (package.json / package-lock.json) from the npm registry and copies
# the files the templates use into static/vendor/. Needs node and npm; static/vendor/ is not committed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ "${1:-}" != "--force" && -f static/vendor/.stamp ]] && cmp -s package-lock.json static/vendor/.stamp; then
    echo "static/vendor is up to date"
    exit 0
fi

npm ci --no-audit --no-fund --loglevel=error

NM="$ROOT/node_modules"
OUT="$ROOT/static/vendor"
rm -rf "$OUT"
mkdir -p "$OUT/bootstrap" "$OUT/bootstrap-icons/fonts" "$OUT/htmx" "$OUT/echarts"

cp "$NM/bootstrap/dist/css/bootstrap.min.css" "$OUT/bootstrap/"
cp "$NM/bootstrap/dist/js/bootstrap.bundle.min.js" "$OUT/bootstrap/"
cp "$NM/bootstrap-icons/font/bootstrap-icons.min.css" "$OUT/bootstrap-icons/"
cp "$NM/bootstrap-icons/font/fonts/bootstrap-icons.woff2" "$NM/bootstrap-icons/font/fonts/bootstrap-icons.woff" \
    "$OUT/bootstrap-icons/fonts/"
cp "$NM/htmx.org/dist/htmx.min.js" "$OUT/htmx/"
cp "$NM/echarts/dist/echarts.min.js" "$OUT/echarts/"

# The minified files point at source maps we do not ship; a dangling sourceMappingURL makes
# whitenoise's manifest storage fail, so drop the comment.
for f in "$OUT/bootstrap/bootstrap.min.css" "$OUT/bootstrap/bootstrap.bundle.min.js"; do
    sed -i -E '/^\/[*\/]# sourceMappingURL=.*$/d' "$f"
done

cp package-lock.json "$OUT/.stamp"
echo "static/vendor populated:"
find "$OUT" -type f ! -name .stamp | sed "s|$ROOT/||" | sort
