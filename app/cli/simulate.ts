// wechat-mp-bot simulate <action> [argument] [--field value…] [--user <openid>] [--aes] [--url <callback url>]
// Plays WeChat's side of the callback against a running bot and prints the decoded reply of each push.
import { readArgs, UsageError } from './args.ts';
import { loadDotEnv, readSettings } from '../settings.ts';
import { ACTION_KINDS, actionUsage, argumentOf, describeReply, parseAction, simulate } from '../simulator.ts';

const lines = ACTION_KINDS.map(actionUsage);
const width = Math.max(...lines.map((l) => l.usage.length));
export const USAGE = `usage: wechat-mp-bot simulate <action> [options]
actions:
${lines.map((l) => `  ${l.usage.padEnd(width)}   ${l.help}`).join('\n')}
options:
  --user <openid>   the user (default oSimulatedUser0001)
  --aes             encrypt the push (needs WECHAT_AES_KEY)
  --url <url>       the bot's callback (default http://localhost:$PORT/wechat)
  -h, --help        this text`;

// Every action's fields are options; the one its argument gives (click TODAY) may come either way.
const FIELDS = ['scene', 'recognition', 'latitude', 'longitude', 'label', 'title', 'result', 'key', 'path', 'text'] as const;

/** Sends one simulated action; exit status 0 when the bot answered each of its pushes with 200. */
export async function simulateCommand(argv: string[]): Promise<number> {
  const fieldOptions = Object.fromEntries(FIELDS.map((field) => [field, { type: 'string' as const }])) as Record<
    (typeof FIELDS)[number],
    { type: 'string' }
  >;
  const { values, positionals } = readArgs(argv, {
    usage: USAGE,
    positionals: true,
    options: { ...fieldOptions, user: { type: 'string' }, aes: { type: 'boolean' }, url: { type: 'string' } },
  });
  const [kind, ...rest] = positionals;
  if (!kind) throw new UsageError(`an action is needed\n\n${USAGE}`);
  if (!(ACTION_KINDS as string[]).includes(kind)) throw new UsageError(`unknown action ${kind}\n\n${USAGE}`);
  const argument = argumentOf(kind as (typeof ACTION_KINDS)[number]);
  const given: Record<string, unknown> = { kind };
  for (const field of FIELDS) if (typeof values[field] === 'string') given[field] = values[field];
  // --url is the callback's: a link's or a view's url is the argument.
  if (argument && rest.length > 0) given[argument] = argument === 'text' ? rest.join(' ') : rest[0];
  const parsed = parseAction(given);
  if ('error' in parsed) throw new UsageError(`${parsed.error.replace(/^action\.(\w+)/, '$1')}: ${actionUsage(kind as never).usage}`);
  loadDotEnv();
  const settings = readSettings();
  if (values.aes && settings.aesKeys.length === 0) throw new Error('--aes needs WECHAT_AES_KEY to be set, as for the bot');
  try {
    const replies = await simulate(parsed.action, {
      url: values.url ?? `http://localhost:${settings.port}/wechat`,
      token: settings.token,
      user: values.user ?? 'oSimulatedUser0001',
      ...(values.aes ? { aes: { appId: settings.appId, encodingAESKey: settings.aesKeys[0]! } } : {}),
    });
    for (const reply of replies) console.log(describeReply(reply));
    return replies.every((reply) => reply.status === 200) ? 0 : 1;
  } catch (error) {
    if ((error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED')
      throw new Error('the bot is not running: start it with npm start');
    throw error;
  }
}
