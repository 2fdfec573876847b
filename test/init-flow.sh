#!/usr/bin/env bash
# A new bot author's first steps, from a tarball made by npm pack, as the README gives them:
# init, npm install, npm test, npm start, a push answered. CI runs it after npm test; it installs the
# whole dependency tree twice (npm exec, then the project), so it is not part of npm test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
  # npm start runs the bot as a child of its own: stop the whole process group.
  [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
npm pack --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/wechat-mp-bot-*.tgz)

cd "$work"
npm exec --yes --package="$tarball" -- wechat-mp-bot init my-bot --package "$tarball"
cd my-bot
npm install --no-audit --no-fund
npm test

PORT=0 setsid npm start >start.log 2>&1 &
pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'listening on http://[^"]*/wechat' start.log | head -1 | sed 's/^listening on //' || true)
  [ -n "$url" ] && break
  sleep 0.2
done
[ -n "$url" ] || { cat start.log; echo "init flow: the bot never said it was listening"; exit 1; }
grep -q 'EMULATOR MODE' start.log || { cat start.log; echo "init flow: no emulator-mode notice"; exit 1; }
answer=$(npm run -s simulate -- click TODAY --url "$url")
echo "$answer"
case "$answer" in
  "text: 今日推荐"*) echo "init flow: ok" ;;
  *) cat start.log; echo "init flow: unexpected answer"; exit 1 ;;
esac
