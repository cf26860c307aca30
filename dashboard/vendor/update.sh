#!/usr/bin/env bash
# Updates the vendored browser files of the dashboard view from the npm registry. Only this script
# needs Node: building the Go program uses the files as committed.
#
#   dashboard/vendor/update.sh                 # the versions pinned below
#   EXT_APPS_VERSION=latest UPLOT_VERSION=latest dashboard/vendor/update.sh
#
# What it writes next to itself:
#   uPlot.iife.min.js, uPlot.min.css, uPlot.LICENSE      uPlot's own built files, copied as published
#   ext-apps-app-with-deps.js                             the view's side of MCP Apps: the SDK's
#       published browser bundle (dist/src/app-with-deps.js), copied as published; package
#       dashboard turns its final export statement into globals and inlines it compressed
#   ext-apps-app-bridge.js                                the host side (AppBridge), bundled with
#       its peer dependencies by esbuild; only the browser tests' host page uses it
#   ext-apps.LICENSE, VERSIONS
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT_APPS_VERSION="${EXT_APPS_VERSION:-2.0.4}"
UPLOT_VERSION="${UPLOT_VERSION:-1.6.32}"
ESBUILD_VERSION="${ESBUILD_VERSION:-0.28.2}"

ext_apps=$(npm view "@modelcontextprotocol/ext-apps@$EXT_APPS_VERSION" version | tail -1)
uplot=$(npm view "uplot@$UPLOT_VERSION" version | tail -1)
echo "ext-apps $ext_apps, uPlot $uplot"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# uPlot: the published files as they are.
npm pack --silent "uplot@$uplot" >/dev/null
mkdir uplot && tar xzf "uplot-$uplot.tgz" -C uplot
cp uplot/package/dist/uPlot.iife.min.js uplot/package/dist/uPlot.min.css "$here/"
cp uplot/package/LICENSE "$here/uPlot.LICENSE"

# ext-apps: its peer dependencies are needed to bundle the host side.
npm init -y >/dev/null
peers=$(npm view "@modelcontextprotocol/ext-apps@$ext_apps" peerDependencies --json |
  node -e 'const p=JSON.parse(require("fs").readFileSync(0));for(const n of ["@modelcontextprotocol/client","@modelcontextprotocol/core","zod"])console.log(n+"@"+p[n])')
# shellcheck disable=SC2086
npm install --silent --no-audit --no-fund --ignore-scripts "@modelcontextprotocol/ext-apps@$ext_apps" $peers "esbuild@$ESBUILD_VERSION"
esbuild="$work/node_modules/@esbuild/linux-x64/bin/esbuild"
[[ -x "$esbuild" ]] || esbuild="npx --no-install esbuild"
pkg=node_modules/@modelcontextprotocol/ext-apps
cp "$pkg/LICENSE" "$here/ext-apps.LICENSE"

cp "$pkg/dist/src/app-with-deps.js" "$here/ext-apps-app-with-deps.js"
cat >bridge.js <<'JS'
export { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";
JS
common=(--bundle --minify --format=iife --platform=browser --target=es2020 --legal-comments=none --log-level=warning)
$esbuild bridge.js "${common[@]}" --global-name=McpAppsHost --outfile="$here/ext-apps-app-bridge.js"

cat >"$here/VERSIONS" <<V
@modelcontextprotocol/ext-apps $ext_apps (MIT; dist/src/app-with-deps.js as published; dist/src/app-bridge.js bundled by esbuild $ESBUILD_VERSION)
uplot $uplot (MIT; dist/uPlot.iife.min.js, dist/uPlot.min.css)
V
ls -l "$here"
