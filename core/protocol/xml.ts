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

const MAX_DEPTH = 8; // WeChat's deepest push (SendPicsInfo/PicList/item/PicMd5Sum) is 5 below <xml>.
// WeChat's longest lists (a mass send's articles, the pictures of SendPicsInfo) hold a few dozen
// elements; xml2js costs about 3 µs an element, so a body of nothing but elements is cut short.
const MAX_ELEMENTS = 10_000;

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
  screen(text);
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

/**
 * One pass over the text before sax sees it. Every `<!` but a CDATA section or a comment is
 * refused: WeChat never sends a DTD, and refusing one outright closes XXE and entity expansion; it
 * also keeps sax out of its declaration state, which is quadratic on a long `<!…` without `>` (it
 * upper-cases its whole buffer at every character). And nesting past MAX_DEPTH, or more than
 * MAX_ELEMENTS elements, is refused before xml2js builds an object for each. A scan, not a regex, so a hostile body costs what a benign
 * one does. It may undercount the depth of odd markup (a `/>` inside an attribute), never
 * overcount it: tooDeep() checks the parsed tree as well.
 */
function screen(text: string): void {
  let depth = 0;
  let elements = 0;
  let close = -1; // the first `>` after the current `<`, kept while the scan is before it (`<a<b<c>`)
  for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) {
    const next = text.charCodeAt(i + 1);
    if (text.startsWith('<![CDATA[', i)) i = text.indexOf(']]>', i + 9);
    else if (text.startsWith('<!--', i)) i = text.indexOf('-->', i + 4);
    else if (next === 33 /* ! */) throw new XmlError('DTD and entity declarations are not accepted');
    else if (next === 63 /* ? */) i = text.indexOf('?>', i + 2);
    else if (next === 47 /* / */) depth--;
    else {
      if (close < i) close = text.indexOf('>', i);
      if (close < 0) return; // no tag ends: xml2js refuses the body
      if (text.charCodeAt(close - 1) !== 47 /* / */ && ++depth > MAX_DEPTH + 1) throw new XmlError('XML is nested too deeply');
      if (++elements > MAX_ELEMENTS) throw new XmlError('XML has too many elements');
    }
    if (i < 0) return; // the rest of the text is inside a section that never ends: xml2js refuses the body
  }
}

/**
 * The text of the `<Encrypt>` element of a safe-mode push, found by one scan that steps over CDATA
 * sections and comments (in compatible mode a user's own text, in CDATA, may spell `<Encrypt>`).
 * Nothing else of the body is read: msg_signature covers this value alone, and is checked before
 * anything of an unauthenticated body is parsed. Undefined when there is no such element, or its
 * text is neither one CDATA section nor plain text.
 * @example
 * encryptOf('<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[AbC=]]></Encrypt></xml>') // 'AbC='
 */
export function encryptOf(text: string): string | undefined {
  for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) {
    if (text.startsWith('<![CDATA[', i)) i = text.indexOf(']]>', i + 9);
    else if (text.startsWith('<!--', i)) i = text.indexOf('-->', i + 4);
    else if (text.startsWith('<Encrypt>', i)) return elementText(text, i + 9, '</Encrypt>');
    if (i < 0) return undefined;
  }
  return undefined;
}

// The text from `start` to the closing tag: one CDATA section, or plain text without markup.
function elementText(text: string, start: number, closing: string): string | undefined {
  if (text.startsWith('<![CDATA[', start)) {
    const end = text.indexOf(']]>', start + 9);
    return end >= 0 && text.startsWith(closing, end + 3) ? text.slice(start + 9, end) : undefined;
  }
  const end = text.indexOf('<', start);
  const value = end >= 0 && text.startsWith(closing, end) ? text.slice(start, end) : undefined;
  return value?.includes('&') ? undefined : value;
}

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
