#!/usr/bin/env bash
# A new bot author's first steps, from a tarball made by npm pack, as the README gives them:
# init, npm install, npm test, npm start, a push answered. Then the same with a bot.config.ts of
# another shape in place of the generated one: the project's tests and tsc still pass, and the bot
# answers as the new config says. CI runs it after npm test; it installs the whole dependency tree
# twice (npm exec, then the project), so it is not part of npm test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=""
stop_bot() {
  # npm start runs the bot as a child of its own: stop the whole process group.
  if [ -n "$pid" ]; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
  fi
}
trap 'stop_bot; rm -rf "$work"' EXIT

# Starts the bot, and asks it what a click on $1 answers; the answer must start with $2.
check_click() {
  PORT=0 setsid npm start >start.log 2>&1 &
  pid=$!
  local url=""
  for _ in $(seq 1 100); do
    url=$(grep -o 'listening on http://[^"]*/wechat' start.log | head -1 | sed 's/^listening on //' || true)
    [ -n "$url" ] && break
    sleep 0.2
  done
  [ -n "$url" ] || { cat start.log; echo "init flow: the bot never said it was listening"; exit 1; }
  grep -q 'EMULATOR MODE' start.log || { cat start.log; echo "init flow: no emulator-mode notice"; exit 1; }
  local answer
  answer=$(npm run -s simulate -- click "$1" --url "$url")
  echo "$answer"
  case "$answer" in
    "text: $2"*) ;;
    *) cat start.log; echo "init flow: unexpected answer to click $1"; exit 1 ;;
  esac
  stop_bot
}

cd "$root"
npm pack --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/wechat-mp-bot-*.tgz)

cd "$work"
npm exec --yes --package="$tarball" -- wechat-mp-bot init my-bot --package "$tarball"
cd my-bot
npm install --no-audit --no-fund
npm test
check_click TODAY 今日推荐

# A config the template never saw: other keys, handlers, a sub menu, two campaigns, no plugin.
cat >bot.config.ts <<'CONFIG'
import { defineConfig } from 'wechat-mp-bot';

export default defineConfig({
  welcome: (ctx) => `你好 ${ctx.event.from.slice(0, 4)}`,
  menu: {
    button: [
      { type: 'click', name: '价格', key: 'PRICE' },
      {
        name: '更多',
        sub_button: [
          { type: 'click', name: '地址', key: 'WHERE' },
          { type: 'view', name: '官网', url: 'https://example.org/' },
        ],
      },
    ],
  },
  clicks: { PRICE: '九十九元', WHERE: () => ({ type: 'text', content: '北京市' }) },
  campaigns: {
    door: { scene: 42, permanent: true, welcome: '门口扫码，欢迎' },
    flyer: { scene: 'flyer-2026', expireSeconds: 3600 },
  },
  fallback: '收到',
});
CONFIG
rm -rf data
npm test
check_click PRICE 九十九元
echo "init flow: ok"
