#!/usr/bin/env bash
# Refresh the third-party files bundled in book/_static (see book/_static/LICENSES.md)
# from the npm registry with `npm pack` (no node_modules, no build step). Run from anywhere;
# commit the result. Versions are pinned here and in LICENSES.md.
set -euo pipefail
MATHJAX=3.2.2
REQUIREJS=2.3.8
HTML_MANAGER=1.0.15
root="$(cd "$(dirname "$0")/.." && pwd)"
static="$root/book/_static"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "mathjax@$MATHJAX" "requirejs@$REQUIREJS" \
  "@jupyter-widgets/html-manager@$HTML_MANAGER" >/dev/null
for f in *.tgz; do mkdir "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done
m="mathjax-$MATHJAX/package"
h="jupyter-widgets-html-manager-$HTML_MANAGER/package"
rm -rf "$static/mathjax" "$static/widgets"
mkdir -p "$static/mathjax/output/chtml/fonts" "$static/mathjax/input/tex" "$static/widgets"
cp "$m/es5/tex-mml-chtml.js" "$m/LICENSE" "$static/mathjax/"
cp -r "$m/es5/output/chtml/fonts/woff-v2" "$static/mathjax/output/chtml/fonts/"
cp -r "$m/es5/input/tex/extensions" "$static/mathjax/input/tex/"
cp -r "$m/es5/ui" "$static/mathjax/"
cp "$h/dist/embed-amd.js" "$h/dist/embed.js.LICENSE.txt" "$h"/dist/*.woff2 "$h"/dist/*.woff \
  "$h"/dist/*.ttf "$static/widgets/"
cp "requirejs-$REQUIREJS/package/require.js" "$static/widgets/"
echo "book/_static refreshed: mathjax $MATHJAX, requirejs $REQUIREJS, html-manager $HTML_MANAGER"
