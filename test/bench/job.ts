// The one job every target does: a signed `subscribe` push with qrscene_<scene>, answered with that
// campaign's text welcome. Shared by the targets and the load generator.
export const TOKEN = 'benchtoken';
export const APPID = 'wx2c2769f8efd9abc2';
export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const ACCOUNT = 'gh_bench';
export const SCENE = 'bench-poster';
export const WELCOME = '欢迎！感谢扫描海报关注。';

/** The plaintext push of user number i: every request is another user and another CreateTime. */
export function pushXml(i: number, scene = SCENE): string {
  return (
    `<xml><ToUserName><![CDATA[${ACCOUNT}]]></ToUserName><FromUserName><![CDATA[oBenchUser${i}]]></FromUserName>` +
    `<CreateTime>${1_700_000_000 + i}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>` +
    `<EventKey><![CDATA[qrscene_${scene}]]></EventKey><Ticket><![CDATA[TICKET${i}]]></Ticket></xml>`
  );
}

/** Tells the orchestrator which port a target listens on. */
export function ready(port: number): void {
  process.stdout.write(`READY ${port}\n`);
}
