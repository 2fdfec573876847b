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
  return parseFlat(text) ?? parseFull(text);
}

/** {@link parseXml} without the fast path: every body through xml2js. */
export async function parseFull(text: string): Promise<XmlObject> {
  // What users type arrives in CDATA: only the markup around it may not declare anything. Most
  // bodies have no `<!` but CDATA openings, and skip the stripping.
  if (/<!(?!\[CDATA\[)/.test(text) && FORBIDDEN.test(text.replace(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g, ''))) {
    throw new XmlError('DTD and entity declarations are not accepted');
  }
  let doc: unknown;
  try {
    doc = await parseStringPromise(text, OPTIONS);
  } catch {
    throw new XmlError('body is not well-formed XML');
  }
  const root = (doc as { xml?: unknown } | null)?.xml;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) throw new XmlError('the root element must be <xml> with children');
  if (tooDeep(root as XmlObject, 1)) throw new XmlError('XML is nested too deeply');
  return root as XmlObject;
}

/**
 * The shape of nearly every push, read without xml2js: `<xml>` holding only flat children, each
 * one CDATA section or plain text without markup or references, each name once. Anything else
 * (nesting, entities, comments, a declaration, attributes, a repeated name, text between the
 * children) returns undefined and goes through xml2js. What this accepts, xml2js reads to the same
 * object: test/xml.test.ts checks the two against each other on generated documents.
 */
export function parseFlat(text: string): XmlObject | undefined {
  if (!text.startsWith('<xml>')) return undefined;
  const out: XmlObject = {};
  let empty = true;
  let i = 5;
  for (;;) {
    i = skipSpace(text, i);
    if (text.startsWith('</xml>', i)) return !empty && skipSpace(text, i + 6) === text.length ? out : undefined;
    if (text.charCodeAt(i) !== 60 /* < */) return undefined;
    const open = text.indexOf('>', i);
    const name = text.slice(i + 1, open);
    // `in` also turns away __proto__, constructor and the like, and `_` is where xml2js puts text:
    // xml2js reads those its own way.
    if (open < 0 || name === '_' || !NAME.test(name) || name in out) return undefined;
    let value: string;
    let end: number;
    if (text.startsWith('<![CDATA[', open + 1)) {
      const close = text.indexOf(']]>', open + 10);
      if (close < 0) return undefined;
      value = text.slice(open + 10, close);
      end = close + 3;
    } else {
      end = text.indexOf('<', open + 1);
      if (end < 0) return undefined;
      value = text.slice(open + 1, end);
      if (value.includes('&')) return undefined;
    }
    // `</name>`, compared in place.
    const after = end + 2 + name.length;
    if (
      text.charCodeAt(end) !== 60 ||
      text.charCodeAt(end + 1) !== 47 ||
      !text.startsWith(name, end + 2) ||
      text.charCodeAt(after) !== 62
    ) {
      return undefined;
    }
    out[name] = value;
    empty = false;
    i = after + 1;
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// XML's own white space: JavaScript's \s would also take U+00A0 and U+3000.
function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return i;
    i++;
  }
}

// WeChat's pushes are shallow; anything deeper is refused before it is used. The walk stops at the
// bound, so a hostile tree costs no more than a legitimate one.
function tooDeep(node: XmlValue, depth: number): boolean {
  if (typeof node === 'string') return false;
  if (depth > MAX_DEPTH) return true;
  const children = Array.isArray(node) ? node : Object.values(node);
  return children.some((child) => tooDeep(child, Array.isArray(node) ? depth : depth + 1));
}

/** Wraps text in CDATA, splitting any `]]>` and dropping characters XML 1.0 cannot carry. */
export function cdata(text: string): string {
  // Most text (ASCII, CJK, no control characters, no surrogates) has nothing to drop.
  // eslint-disable-next-line no-control-regex
  const clean = PLAIN.test(text) ? text : text.replace(/[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
  return `<![CDATA[${clean.includes(']]>') ? clean.replaceAll(']]>', ']]]]><![CDATA[>') : clean}]]>`;
}

// eslint-disable-next-line no-control-regex
const PLAIN = /^[\u0009\u000A\u000D\u0020-\uD7FF]*$/;
