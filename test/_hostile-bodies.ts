// Bodies for the hostile-input tests. The worst bodies we could construct, each the size the transport accepts: unclosed openers (a
// backtracking regex over them was quadratic), long declarations (sax's declaration state is),
// deep nesting, many elements, long names, entities, attributes.
export const LIMIT = 256 * 1024;
export const fill = (unit: string, head = '', tail = '') =>
  head + unit.repeat(Math.floor((LIMIT - head.length - tail.length) / unit.length)) + tail;
export const hostileBodies: Record<string, string> = {
  'unclosed comments': fill('<!--'),
  'unclosed comments in <xml>': fill('<!--', '<xml><a>'),
  'unclosed CDATA openers': fill('<![CDATA['),
  'a long declaration': fill('x', '<xml><!'),
  'a long almost-CDATA opener': fill('x', '<xml><![CDAT'),
  'declaration openers': fill('<!', '<xml>'),
  'deep nesting': '<xml>' + '<a>'.repeat(LIMIT / 8) + '</a>'.repeat(LIMIT / 8) + '</xml>',
  'many elements': fill('<a>1</a>', '<xml>', '</xml>'),
  'wrong closing tags': '<xml>' + '<a>'.repeat(LIMIT / 8) + '</b>'.repeat(LIMIT / 8),
  'a long entity': fill('a', '<xml><a>&', '</a></xml>'),
  'many attributes': fill(' a="1"', '<xml b="0"', '></xml>'),
  'processing instructions': fill('<?', '<xml>'),
  'CDATA ends': fill(']]>', '<xml><a>', '</a></xml>'),
  'tag openers that never end': fill('<a', '<xml>'),
  'tag openers, one end': fill('<a', '<xml>', '>'),
  'empty elements': fill('<a/>', '<xml>', '</xml>'),
  'closing tags': fill('</a>', '<xml>'),
};
/** A push of the same size, as WeChat could send it: nested (so through xml2js), with a long text. */
export const benignBody = fill(
  'x',
  '<xml><MsgType><![CDATA[event]]></MsgType><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType></ScanCodeInfo><ScanResult><![CDATA[',
  ']]></ScanResult></xml>',
);

/** The least time of a few runs, in ms: the machine's other load only ever adds. */
export async function leastTime(run: () => unknown, times = 3): Promise<number> {
  let least = Infinity;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await run();
    least = Math.min(least, performance.now() - started);
  }
  return least;
}
