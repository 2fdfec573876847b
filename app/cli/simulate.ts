// wechat-mp-bot simulate <action> [args] [--user <openid>] [--aes] [--url <callback url>]
// Plays WeChat's side of the callback against a running bot and prints the decoded reply.
import { readArgs, UsageError } from './args.ts';
import { loadDotEnv, readSettings } from '../settings.ts';
import { describeReply, simulate, type SimulatedAction } from '../simulator.ts';

export const USAGE = `usage: wechat-mp-bot simulate <action> [options]
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
  --url <url>       the bot's callback (default http://localhost:$PORT/wechat)
  -h, --help        this text`;

/** Sends one simulated push; exit status 0 when the bot answered 200. */
export async function simulateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = readArgs(argv, {
    usage: USAGE,
    positionals: true,
    options: { scene: { type: 'string' }, user: { type: 'string' }, aes: { type: 'boolean' }, url: { type: 'string' } },
  });
  const [kind, ...rest] = positionals;
  if (!kind) throw new UsageError(`an action is needed\n\n${USAGE}`);
  const action = toAction(kind, rest, values.scene);
  loadDotEnv();
  const settings = readSettings();
  if (values.aes && settings.aesKeys.length === 0) throw new Error('--aes needs WECHAT_AES_KEY to be set, as for the bot');
  try {
    const result = await simulate(action, {
      url: values.url ?? `http://localhost:${settings.port}/wechat`,
      token: settings.token,
      user: values.user ?? 'oSimulatedUser0001',
      ...(values.aes ? { aes: { appId: settings.appId, encodingAESKey: settings.aesKeys[0]! } } : {}),
    });
    console.log(describeReply(result));
    return result.status === 200 ? 0 : 1;
  } catch (error) {
    if ((error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED')
      throw new Error('the bot is not running: start it with npm start');
    throw error;
  }
}

function toAction(kind: string, rest: string[], scene: string | undefined): SimulatedAction {
  switch (kind) {
    case 'subscribe':
      return scene ? { kind, scene } : { kind };
    case 'scan':
      if (!scene) throw new UsageError('scan needs --scene <scene>');
      return { kind, scene };
    case 'click':
      if (!rest[0]) throw new UsageError('click needs a key: wechat-mp-bot simulate click TODAY');
      return { kind, key: rest[0] };
    case 'view':
      if (!rest[0]) throw new UsageError('view needs a url');
      return { kind, url: rest[0] };
    case 'text':
      if (rest.length === 0) throw new UsageError('text needs words');
      return { kind, text: rest.join(' ') };
    case 'unsubscribe':
      return { kind };
    default:
      throw new UsageError(`unknown action ${kind}\n\n${USAGE}`);
  }
}
