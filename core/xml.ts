import { parseStringPromise } from 'xml2js';

/** A parsed XML element: text, or child elements by name (an array when a name repeats). */
export type XmlValue = string | XmlObject | XmlValue[];
/** Child elements by name. */
export interface XmlObject {
  [name: string]: XmlValue;
}

/** Thrown for a body that is not the XML WeChat sends; the transport answers 400. */
export class XmlError extends Error {
  override name = 'XmlError';
}

// No DTD at all: WeChat never sends one, and refusing it outright closes XXE and entity expansion.
const FORBIDDEN = /<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST)/i;
const MAX_DEPTH = 8; // WeChat's deepest push (SendPicsInfo/PicList/item/PicMd5Sum) is 5 below <xml>.

// A parser per call: an xml2js Parser keeps state, and one left over from a failed parse must not leak.
const OPTIONS = { explicitArray: false, explicitRoot: true, ignoreAttrs: true, trim: false, emptyTag: '' };

/**
 * Parses a WeChat XML body and returns the children of its `<xml>` root.
 * @example
 * await parseXml('<xml><MsgType>text</MsgType></xml>') // { MsgType: 'text' }
 * await parseXml('<!DOCTYPE x>…')                      // throws XmlError
 */
export async function parseXml(text: string): Promise<XmlObject> {
  // What users type arrives in CDATA: only the markup around it may not declare anything.
  const markup = text.replace(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g, '');
  if (FORBIDDEN.test(markup)) throw new XmlError('DTD and entity declarations are not accepted');
  if (depthOf(markup) > MAX_DEPTH) throw new XmlError('XML is nested too deeply');
  let doc: unknown;
  try {
    doc = await parseStringPromise(text, OPTIONS);
  } catch {
    throw new XmlError('body is not well-formed XML');
  }
  const root = (doc as { xml?: unknown } | null)?.xml;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) throw new XmlError('the root element must be <xml> with children');
  return root as XmlObject;
}

// A cheap bound before parsing, so a hostile body cannot make the parser build a deep tree.
function depthOf(markup: string): number {
  let depth = 0;
  let max = 0;
  for (const match of markup.matchAll(/<(\/?)[A-Za-z_][^>]*?(\/?)>/g)) {
    if (match[1]) depth--;
    else if (!match[2]) max = Math.max(max, ++depth);
  }
  return max;
}

/** Wraps text in CDATA, splitting any `]]>` and dropping characters XML 1.0 cannot carry. */
export function cdata(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
  return `<![CDATA[${clean.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}
