#!/usr/bin/env bash
# Package "dist/Qwen Desk.app" (from `python packaging/build.py` on macOS) into a drag-to-install
# disk image: dist/QwenDesk-<version>-macos-<arch>.dmg. Run on a macOS runner (hdiutil).
# The app is ad-hoc signed here; a Developer ID signature and notarisation need the project's
# certificate (set CODESIGN_IDENTITY to sign with it).
set -euo pipefail
cd "$(dirname "$0")/../.."
app="dist/Qwen Desk.app"
[ -d "$app" ] || { echo "no $app: run python packaging/build.py first" >&2; exit 1; }
version=$(python3 -c "import re;print(re.search(r'__version__ = \"(.+?)\"', open('qwen_desk/__init__.py').read()).group(1))")
arch=$(uname -m)
identity="${CODESIGN_IDENTITY:--}"
codesign --force --deep --sign "$identity" "$app"
codesign --verify --deep --strict "$app"
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
out="dist/QwenDesk-${version}-macos-${arch}.dmg"
rm -f "$out"
hdiutil create -volname "Qwen Desk" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$out"
hdiutil verify "$out"
echo "$out"
