#!/usr/bin/env node
// The one command of the package: wechat-mp-bot <start|dev|simulate|sync|qr|init|emulator> [options].
import { runCommand, UsageError } from './args.ts';
import { ownPackage } from './package-info.ts';

const USAGE = `usage: wechat-mp-bot <command> [options]
commands:
  start       runs the bot (the built-in emulator without WECHAT_APPID)
  dev         runs the bot and restarts it when the config or a plugin changes
  simulate    plays WeChat's side of the callback against a running bot
  sync        applies the config's menu and campaigns to the account once
  qr          writes each campaign's code as PNG and SVG
  init <dir>  creates a new bot project
  emulator    serves WeChat's API on this machine, for any SDK
Each command takes --help. Settings come from the environment and .env (see the README).`;

const commands: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
  start: async () => (await import('./start.ts')).startCommand,
  dev: async () => (await import('./dev.ts')).devCommand,
  simulate: async () => (await import('./simulate.ts')).simulateCommand,
  sync: async () => (await import('./sync.ts')).syncCommand,
  qr: async () => (await import('./qr.ts')).qrCommand,
  init: async () => (await import('./init.ts')).initCommand,
  emulator: async () => (await import('./emulator.ts')).emulatorCommand,
};

const [name, ...argv] = process.argv.slice(2);
process.exitCode = await runCommand(async () => {
  if (name === '--help' || name === '-h' || name === 'help') return void console.log(USAGE);
  if (name === '--version' || name === '-v') return void console.log(ownPackage().version);
  const load = name !== undefined && Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) throw new UsageError(`${name === undefined ? 'a command is needed' : `unknown command ${name}`}\n\n${USAGE}`);
  return (await load())(argv);
});
