/**
 * The one place that knows WeChat's XML names. Every push becomes one typed event; the
 * union and the parser both come from EVENTS below, so they cannot drift apart.
 */
import type { XmlObject, XmlValue } from './xml.ts';

// Field specs: 'Name' is a required text field, 'Name?' optional, 'Name{}' a nested element.
const MSG_ID = 'MsgId';
const EVENTS = {
  // Messages (MsgType)
  text: { msgType: 'text', fields: { text: 'Content', msgId: MSG_ID } },
  image: { msgType: 'image', fields: { picUrl: 'PicUrl', mediaId: 'MediaId', msgId: MSG_ID } },
  voice: { msgType: 'voice', fields: { mediaId: 'MediaId', format: 'Format?', recognition: 'Recognition?', msgId: MSG_ID } },
  video: { msgType: 'video', fields: { mediaId: 'MediaId', thumbMediaId: 'ThumbMediaId?', msgId: MSG_ID } },
  shortvideo: { msgType: 'shortvideo', fields: { mediaId: 'MediaId', thumbMediaId: 'ThumbMediaId?', msgId: MSG_ID } },
  location: {
    msgType: 'location',
    fields: { latitude: 'Location_X', longitude: 'Location_Y', scale: 'Scale?', label: 'Label?', msgId: MSG_ID },
  },
  link: { msgType: 'link', fields: { title: 'Title?', description: 'Description?', url: 'Url', msgId: MSG_ID } },
  // Events (MsgType event, field Event, spelled as WeChat sends it)
  subscribe: { msgType: 'event', event: 'subscribe', fields: { scene: 'EventKey?', ticket: 'Ticket?' } },
  unsubscribe: { msgType: 'event', event: 'unsubscribe', fields: {} },
  scan: { msgType: 'event', event: 'SCAN', fields: { scene: 'EventKey', ticket: 'Ticket?' } },
  click: { msgType: 'event', event: 'CLICK', fields: { key: 'EventKey' } },
  view: { msgType: 'event', event: 'VIEW', fields: { url: 'EventKey', menuId: 'MenuId?' } },
  location_report: {
    msgType: 'event',
    event: 'LOCATION',
    fields: { latitude: 'Latitude', longitude: 'Longitude', precision: 'Precision?' },
  },
  scancode_push: { msgType: 'event', event: 'scancode_push', fields: { key: 'EventKey', scanCodeInfo: 'ScanCodeInfo{}' } },
  scancode_waitmsg: { msgType: 'event', event: 'scancode_waitmsg', fields: { key: 'EventKey', scanCodeInfo: 'ScanCodeInfo{}' } },
  pic_sysphoto: { msgType: 'event', event: 'pic_sysphoto', fields: { key: 'EventKey', sendPicsInfo: 'SendPicsInfo{}' } },
  pic_photo_or_album: {
    msgType: 'event',
    event: 'pic_photo_or_album',
    fields: { key: 'EventKey', sendPicsInfo: 'SendPicsInfo{}' },
  },
  pic_weixin: { msgType: 'event', event: 'pic_weixin', fields: { key: 'EventKey', sendPicsInfo: 'SendPicsInfo{}' } },
  location_select: {
    msgType: 'event',
    event: 'location_select',
    fields: { key: 'EventKey', sendLocationInfo: 'SendLocationInfo{}' },
  },
  view_miniprogram: { msgType: 'event', event: 'view_miniprogram', fields: { path: 'EventKey', menuId: 'MenuId?' } },
  template_send_job_finish: { msgType: 'event', event: 'TEMPLATESENDJOBFINISH', fields: { msgId: 'MsgID?', status: 'Status?' } },
  mass_send_job_finish: {
    msgType: 'event',
    event: 'MASSSENDJOBFINISH',
    fields: {
      msgId: 'MsgID?',
      status: 'Status?',
      totalCount: 'TotalCount?',
      filterCount: 'FilterCount?',
      sentCount: 'SentCount?',
      errorCount: 'ErrorCount?',
    },
  },
  publish_job_finish: { msgType: 'event', event: 'PUBLISHJOBFINISH', fields: { publishEventInfo: 'PublishEventInfo{}' } },
} as const satisfies Record<string, { msgType: string; event?: string; fields: Record<string, string> }>;

type Table = typeof EVENTS;
/** Every event type name, e.g. 'subscribe', 'scan', 'click', 'text'. */
export type EventType = keyof Table;
/** Every event type name, at run time. */
export const EVENT_TYPES = Object.keys(EVENTS) as EventType[];

type Value<S> = S extends `${string}{}` ? XmlObject : string;
type Required<F> = { [K in keyof F as F[K] extends `${string}?` ? never : K]: Value<F[K]> };
type Optional<F> = { [K in keyof F as F[K] extends `${string}?` ? K : never]?: string };
type Flatten<T> = { [K in keyof T]: T[K] };

/** What every push carries. */
export interface EventBase {
  /** The user's OpenID (the push's FromUserName). */
  readonly from: string;
  /** The account's id, gh_… (the push's ToUserName). */
  readonly to: string;
  /** Seconds since the epoch, as WeChat sent it. */
  readonly createTime: number;
}

/**
 * One event type of the union, by name: `EventOf<'scan'>` has `scene` and `ticket`. Given several
 * names it is the union of each one's type (it distributes), so `on(['text', 'voice'], …)` can
 * narrow on `ctx.event.type` and read `text` or `recognition`.
 */
export type EventOf<T extends EventType> = T extends EventType
  ? Flatten<{ readonly type: T } & EventBase & Readonly<Required<Table[T]['fields']>> & Readonly<Optional<Table[T]['fields']>>>
  : never;

/** A push whose MsgType or Event this version does not know yet: kept, not refused. */
export interface UnknownEvent extends EventBase {
  readonly type: 'unknown';
  readonly msgType: string;
  readonly event?: string;
  readonly fields: XmlObject;
}

/**
 * Every push WeChat sends, as one discriminated union on `type`.
 * @example
 * if (event.type === 'scan') event.scene // string
 * if (event.type === 'subscribe') event.scene // string | undefined, qrscene_ stripped
 */
export type WechatEvent = { [T in EventType]: EventOf<T> }[EventType] | UnknownEvent;

/** Thrown when a push lacks a field WeChat always sends; the transport answers 400. */
export class EventError extends Error {
  override name = 'EventError';
}

// Matched without regard to case: WeChat has changed the case of event names before (SCAN vs scan).
const BY_WIRE = new Map<string, EventType>(
  EVENT_TYPES.map((type) => {
    const spec: { msgType: string; event?: string } = EVENTS[type];
    return [wireName(spec.msgType, spec.event), type];
  }),
);

function wireName(msgType: string, event: string | undefined): string {
  return (event === undefined ? msgType : `${msgType}/${event}`).toLowerCase();
}

/**
 * Turns the children of a push's `<xml>` into a typed event.
 * @example
 * toEvent(await parseXml(body)) // { type: 'subscribe', from: 'o…', scene: 'spring', … }
 */
export function toEvent(xml: XmlObject): WechatEvent {
  const base = {
    from: requiredText(xml, 'FromUserName'),
    to: requiredText(xml, 'ToUserName'),
    createTime: createTimeOf(xml),
  };
  const msgType = requiredText(xml, 'MsgType');
  const event = msgType === 'event' ? requiredText(xml, 'Event') : undefined;
  const type = BY_WIRE.get(wireName(msgType, event));
  if (!type) return { type: 'unknown', ...base, msgType, ...(event === undefined ? {} : { event }), fields: xml };
  const fields: Record<string, string | XmlObject> = {};
  for (const field of FIELDS.get(type)!) {
    const value = readField(xml, field);
    if (value !== undefined) fields[field.name] = value;
  }
  if (type === 'subscribe') {
    // A follow through a parametric code says qrscene_<scene>; a plain follow sends an empty key.
    const scene = typeof fields.scene === 'string' ? fields.scene.replace(/^qrscene_/, '') : '';
    if (scene) fields.scene = scene;
    else delete fields.scene;
    if (!fields.ticket) delete fields.ticket;
  }
  return { type, ...base, ...fields } as WechatEvent;
}

// Each type's field specs, read once: `Name` required text, `Name?` optional, `Name{}` an element.
interface Field {
  name: string;
  wire: string;
  kind: 'text' | 'optional' | 'element';
}
const FIELDS = new Map<EventType, Field[]>(
  EVENT_TYPES.map((type) => [
    type,
    (Object.entries(EVENTS[type].fields) as [string, string][]).map(([name, spec]): Field => {
      if (spec.endsWith('{}')) return { name, wire: spec.slice(0, -2), kind: 'element' };
      if (spec.endsWith('?')) return { name, wire: spec.slice(0, -1), kind: 'optional' };
      return { name, wire: spec, kind: 'text' };
    }),
  ]),
);

function readField(xml: XmlObject, field: Field): string | XmlObject | undefined {
  if (field.kind === 'element') {
    const value = xml[field.wire];
    if (value === undefined || value === '') return {};
    if (typeof value !== 'object' || Array.isArray(value)) throw new EventError(`${field.wire} must be an element`);
    return value;
  }
  return field.kind === 'optional' ? optionalText(xml, field.wire) : requiredText(xml, field.wire);
}

function optionalText(xml: XmlObject, name: string): string | undefined {
  const value: XmlValue | undefined = xml[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new EventError(`${name} must be text, given once`);
  return value;
}

function requiredText(xml: XmlObject, name: string): string {
  const value = optionalText(xml, name);
  if (value === undefined) throw new EventError(`missing ${name}`);
  return value;
}

function createTimeOf(xml: XmlObject): number {
  const text = requiredText(xml, 'CreateTime');
  if (!/^\d{1,12}$/.test(text.trim())) throw new EventError('CreateTime must be whole seconds');
  return Number(text.trim());
}

/**
 * The key WeChat's retries share: the message id when the push has one (MsgId, or MsgID in job
 * reports); otherwise the user, CreateTime, the event and its key, since one user can send two
 * events in the same second (WxJava learnt this).
 * @example
 * dedupeKeyOf(event) // 'm:o…|text|6054768590064713728' or 'e:o…|1409735668|click|MENU_NEWS'
 */
export function dedupeKeyOf(event: WechatEvent): string {
  const kind = event.type === 'unknown' ? `unknown:${event.msgType}/${event.event ?? ''}` : event.type;
  const fields: Record<string, unknown> = event.type === 'unknown' ? event.fields : event;
  const id = firstText(fields, ID_FIELDS, true);
  if (id !== undefined) return `m:${event.from}|${kind}|${id}`;
  return `e:${event.from}|${event.createTime}|${kind}|${firstText(fields, DETAIL_FIELDS, false) ?? ''}`;
}

const ID_FIELDS = ['msgId', 'MsgId', 'MsgID'];
const DETAIL_FIELDS = ['key', 'scene', 'url', 'path', 'EventKey'];

// The first of the named fields that holds text (text that is not empty, if asked).
function firstText(fields: Record<string, unknown>, names: readonly string[], nonEmpty: boolean): string | undefined {
  for (const name of names) {
    const value = fields[name];
    if (typeof value === 'string' && (value !== '' || !nonEmpty)) return value;
  }
  return undefined;
}
