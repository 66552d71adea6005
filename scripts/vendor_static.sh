#!/usr/bin/env bash
# Refresh the third-party files bundled in book/_static (see book/_static/LICENSES.md)
# from the npm registry with `npm pack` (no node_modules, no build step). Run from anywhere;
# commit the result. Versions are pinned here and in LICENSES.md.
set -euo pipefail
MATHJAX=3.2.2
REQUIREJS=2.3.8
HTML_MANAGER=1.0.15
FONT_AWESOME=4.7.0  # for matplotlib to_jshtml players, which link Font Awesome 4.4 on a CDN
root="$(cd "$(dirname "$0")/.." && pwd)"
static="$root/book/_static"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "mathjax@$MATHJAX" "requirejs@$REQUIREJS" \
  "@jupyter-widgets/html-manager@$HTML_MANAGER" "font-awesome@$FONT_AWESOME" >/dev/null
for f in *.tgz; do mkdir "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done
m="mathjax-$MATHJAX/package"
h="jupyter-widgets-html-manager-$HTML_MANAGER/package"
fa="font-awesome-$FONT_AWESOME/package"
rm -rf "$static/mathjax" "$static/font-awesome"
# widgets/ also holds our own perpsbook-widgets.js: replace only the vendored files
rm -f "$static"/widgets/embed-amd.js "$static"/widgets/require.js "$static"/widgets/*.woff* \
  "$static"/widgets/*.ttf "$static"/widgets/*.LICENSE.txt
mkdir -p "$static/mathjax/output/chtml/fonts" "$static/mathjax/input/tex" "$static/widgets" \
  "$static/font-awesome/css" "$static/font-awesome/fonts"
cp "$m/es5/tex-mml-chtml.js" "$m/LICENSE" "$static/mathjax/"
cp -r "$m/es5/output/chtml/fonts/woff-v2" "$static/mathjax/output/chtml/fonts/"
cp -r "$m/es5/input/tex/extensions" "$static/mathjax/input/tex/"
cp -r "$m/es5/ui" "$static/mathjax/"
cp "$h/dist/embed-amd.js" "$h/dist/embed.js.LICENSE.txt" "$h"/dist/*.woff2 "$h"/dist/*.woff \
  "$h"/dist/*.ttf "$static/widgets/"
cp "requirejs-$REQUIREJS/package/require.js" "$static/widgets/"
cp "$fa/css/font-awesome.min.css" "$static/font-awesome/css/"
cp "$fa"/fonts/*.woff2 "$fa"/fonts/*.woff "$fa"/fonts/*.ttf "$static/font-awesome/fonts/"
echo "book/_static refreshed: mathjax $MATHJAX, requirejs $REQUIREJS," \
  "html-manager $HTML_MANAGER, font-awesome $FONT_AWESOME"
