// npm run simulate -- <action> [args] [--user <openid>] [--aes] [--url <callback url>]
// Plays WeChat's side of the callback against a running bot and prints the decoded reply.
import { parseArgs } from 'node:util';
import { loadDotEnv, readSettings } from '../settings.ts';
import { describeReply, simulate, type SimulatedAction } from '../simulator.ts';

const USAGE = `usage: npm run simulate -- <action> [options]
actions:
  subscribe [--scene <scene>]   follow (through a campaign's code with --scene)
  scan --scene <scene>          scan a campaign's code as a follower
  click <key>                   tap a menu click button
  view <url>                    open a menu link
  text <words…>                 send a text message
  unsubscribe                   unfollow
options:
  --user <openid>   the user (default oSimulatedUser0001)
  --aes             encrypt the push (needs WECHAT_AES_KEY)
  --url <url>       the bot's callback (default http://localhost:$PORT/wechat)`;

try {
  loadDotEnv();
  const settings = readSettings();
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      scene: { type: 'string' },
      user: { type: 'string' },
      aes: { type: 'boolean' },
      url: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const [kind, ...rest] = positionals;
  if (values.help || !kind) throw new Error(USAGE);
  const action = toAction(kind, rest, values.scene);
  if (values.aes && settings.aesKeys.length === 0) throw new Error('--aes needs WECHAT_AES_KEY to be set, as for the bot');
  const result = await simulate(action, {
    url: values.url ?? `http://localhost:${settings.port}/wechat`,
    token: settings.token,
    user: values.user ?? 'oSimulatedUser0001',
    ...(values.aes ? { aes: { appId: settings.appId, encodingAESKey: settings.aesKeys[0]! } } : {}),
  });
  console.log(describeReply(result));
  process.exitCode = result.status === 200 ? 0 : 1;
} catch (error) {
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  console.error(
    cause === 'ECONNREFUSED' ? 'the bot is not running: start it with npm start' : error instanceof Error ? error.message : error,
  );
  process.exitCode = 1;
}

function toAction(kind: string, rest: string[], scene: string | undefined): SimulatedAction {
  switch (kind) {
    case 'subscribe':
      return scene ? { kind, scene } : { kind };
    case 'scan':
      if (!scene) throw new Error('scan needs --scene <scene>');
      return { kind, scene };
    case 'click':
      if (!rest[0]) throw new Error('click needs a key: npm run simulate -- click TODAY');
      return { kind, key: rest[0] };
    case 'view':
      if (!rest[0]) throw new Error('view needs a url');
      return { kind, url: rest[0] };
    case 'text':
      if (rest.length === 0) throw new Error('text needs words');
      return { kind, text: rest.join(' ') };
    case 'unsubscribe':
      return { kind };
    default:
      throw new Error(`unknown action ${kind}\n${USAGE}`);
  }
}
