// wechat-mp-bot start: runs the bot until SIGTERM or SIGINT.
import { readArgs } from './args.ts';

export const USAGE = `usage: wechat-mp-bot start
Runs the bot: the callback at /wechat on PORT (3000). Without WECHAT_APPID it runs offline against
the built-in WeChat emulator, on 127.0.0.1. Settings come from the environment and .env.
options:
  -h, --help   this text`;

/** Starts the bot; the process runs until it is stopped. */
export async function startCommand(argv: string[]): Promise<number> {
  readArgs(argv, { usage: USAGE });
  await import('../main.ts');
  return new Promise<number>(() => {}); // the server runs until a signal ends the process
}
