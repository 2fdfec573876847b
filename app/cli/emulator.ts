// wechat-mp-bot emulator: WeChat's API on this machine, for any SDK in any language.
import { EMULATOR_SECRET } from '../runtime.ts';
import { EMULATOR_APPID, isPort } from '../settings.ts';
import { WechatEmulator } from '../emulator.ts';
import { readArgs, UsageError } from './args.ts';

export const USAGE = `usage: wechat-mp-bot emulator [--port N] [--appid ID --secret SECRET]
Serves WeChat's API (api.weixin.qq.com) on 127.0.0.1, offline, for any client: tokens, menus,
parametric QR codes and their images, customer-service messages, users, web authorization.
Point an SDK's API base at the printed URL and give it the printed appid and secret.
options:
  --port N          the port (default: any free one)
  --appid ID        the appid it plays (default ${EMULATOR_APPID})
  --secret SECRET   the secret it accepts (default ${EMULATOR_SECRET})
  --followers N     followers it starts with, oEmulatedUser0001 and on (default 3); other
                    OpenIDs are refused (40003), as on WeChat
  --lenient         take any OpenID for a follower who just wrote, and any media_id
  -h, --help        this text`;

/** Serves the emulator until SIGTERM or SIGINT. */
export async function emulatorCommand(argv: string[]): Promise<number> {
  const { values } = readArgs(argv, {
    usage: USAGE,
    options: {
      port: { type: 'string' },
      appid: { type: 'string' },
      secret: { type: 'string' },
      followers: { type: 'string' },
      lenient: { type: 'boolean' },
    },
  });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!isPort(port)) throw new UsageError(`--port must be a port number, got ${values.port}\n\n${USAGE}`);
  const appId = values.appid ?? EMULATOR_APPID;
  const secret = values.secret ?? EMULATOR_SECRET;
  const followers = values.followers === undefined ? 3 : Number(values.followers);
  if (!Number.isInteger(followers) || followers < 0 || followers > 100_000)
    throw new UsageError(`--followers must be a whole number up to 100000, got ${values.followers}\n\n${USAGE}`);
  const emulator = new WechatEmulator({ appId, secret, strict: !values.lenient });
  const openids = Array.from({ length: followers }, (_, i) => `oEmulatedUser${String(i + 1).padStart(4, '0')}`);
  for (const openid of openids) emulator.users.follow(openid);
  const served = await emulator.listen(port);
  const who = values.lenient ? 'any OpenID' : followers === 0 ? 'none' : `${openids[0]}${followers > 1 ? ` … ${openids.at(-1)}` : ''}`;
  console.log(`WeChat emulator: ${served.url}
  appid     ${appId}
  secret    ${secret}
  followers ${who}
  e.g.    curl '${served.url}/cgi-bin/token?grant_type=client_credential&appid=${appId}&secret=${secret}'
Stop it with Ctrl-C.`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await served.close();
  return 0;
}
