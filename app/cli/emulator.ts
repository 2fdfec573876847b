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
  -h, --help        this text`;

/** Serves the emulator until SIGTERM or SIGINT. */
export async function emulatorCommand(argv: string[]): Promise<number> {
  const { values } = readArgs(argv, {
    usage: USAGE,
    options: { port: { type: 'string' }, appid: { type: 'string' }, secret: { type: 'string' } },
  });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!isPort(port)) throw new UsageError(`--port must be a port number, got ${values.port}\n\n${USAGE}`);
  const appId = values.appid ?? EMULATOR_APPID;
  const secret = values.secret ?? EMULATOR_SECRET;
  const emulator = new WechatEmulator({ appId, secret });
  const served = await emulator.listen(port);
  console.log(`WeChat emulator: ${served.url}
  appid   ${appId}
  secret  ${secret}
  e.g.    curl '${served.url}/cgi-bin/token?grant_type=client_credential&appid=${appId}&secret=${secret}'
Stop it with Ctrl-C.`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await served.close();
  return 0;
}
