/**
 * The one place that knows WeChat's XML names. Every push becomes one typed event; the
 * union and the parser both come from EVENTS below, so they cannot drift apart.
 */
import type { XmlObject, XmlValue } from './xml.ts';

// Field specs: 'Name' is a text field the type needs (a push without it is kept as `unknown`), 'Name?'
// an optional one. An element is { el: 'Name', fields } (optional); a list is { list: 'Name', fields }
// for a repeated <Name>, or { list: 'Name', item: 'item', fields } for <Name><item/>…</Name>; a list
// of texts is { texts: 'Name' }. Fields WeChat's docs spell two ways (MsgId, MsgID) are read either way.
const MSG_ID = 'MsgId?';
const CARD = { cardId: 'CardId?', userCardCode: 'UserCardCode?' } as const;
const DEVICE = {
  deviceType: 'DeviceType?',
  deviceId: 'DeviceID?',
  sessionId: 'SessionID?',
  content: 'Content?',
  openId: 'OpenID?',
} as const;
const SCAN_CODE = {
  key: 'EventKey?',
  scanCodeInfo: { el: 'ScanCodeInfo', fields: { scanType: 'ScanType?', scanResult: 'ScanResult?' } },
} as const;
const EVENTS = {
  // Messages (MsgType): a person sent them, and waits for an answer.
  text: { msgType: 'text', person: true, fields: { text: 'Content', msgId: MSG_ID } },
  image: { msgType: 'image', person: true, fields: { picUrl: 'PicUrl?', mediaId: 'MediaId?', msgId: MSG_ID } },
  voice: {
    msgType: 'voice',
    person: true,
    fields: { mediaId: 'MediaId?', format: 'Format?', recognition: 'Recognition?', msgId: MSG_ID },
  },
  video: { msgType: 'video', person: true, fields: { mediaId: 'MediaId?', thumbMediaId: 'ThumbMediaId?', msgId: MSG_ID } },
  shortvideo: { msgType: 'shortvideo', person: true, fields: { mediaId: 'MediaId?', thumbMediaId: 'ThumbMediaId?', msgId: MSG_ID } },
  location: {
    msgType: 'location',
    person: true,
    fields: { latitude: 'Location_X?', longitude: 'Location_Y?', scale: 'Scale?', label: 'Label?', msgId: MSG_ID },
  },
  link: { msgType: 'link', person: true, fields: { title: 'Title?', description: 'Description?', url: 'Url?', msgId: MSG_ID } },
  miniprogrampage: {
    msgType: 'miniprogrampage',
    person: true,
    fields: {
      title: 'Title?',
      appId: 'AppId?',
      pagePath: 'PagePath?',
      thumbUrl: 'ThumbUrl?',
      thumbMediaId: 'ThumbMediaId?',
      msgId: MSG_ID,
    },
  },
  // A message from a device bound to the account (WeChat hardware): Content is base64.
  device_text: { msgType: 'device_text', fields: { ...DEVICE, msgId: MSG_ID } },
  // Events (MsgType event, field Event, matched whatever its case)
  subscribe: { msgType: 'event', event: 'subscribe', shown: true, fields: { scene: 'EventKey?', ticket: 'Ticket?' } },
  unsubscribe: { msgType: 'event', event: 'unsubscribe', fields: {} },
  scan: { msgType: 'event', event: 'SCAN', person: true, fields: { scene: 'EventKey', ticket: 'Ticket?' } },
  click: { msgType: 'event', event: 'CLICK', person: true, fields: { key: 'EventKey' } },
  view: { msgType: 'event', event: 'VIEW', fields: { url: 'EventKey?', menuId: 'MenuId?' } },
  location_report: {
    msgType: 'event',
    event: 'LOCATION',
    fields: { latitude: 'Latitude?', longitude: 'Longitude?', precision: 'Precision?' },
  },
  scancode_push: {
    msgType: 'event',
    event: 'scancode_push',
    person: true,
    fields: SCAN_CODE,
  },
  scancode_waitmsg: {
    msgType: 'event',
    event: 'scancode_waitmsg',
    person: true,
    fields: SCAN_CODE,
  },
  // The three photo buttons and location_select are followed by the image or location message
  // itself: that message is what a person sent, so the event is not answered by the fallback.
  pic_sysphoto: { msgType: 'event', event: 'pic_sysphoto', shown: true, fields: { key: 'EventKey?', sendPicsInfo: pics() } },
  pic_photo_or_album: { msgType: 'event', event: 'pic_photo_or_album', shown: true, fields: { key: 'EventKey?', sendPicsInfo: pics() } },
  pic_weixin: { msgType: 'event', event: 'pic_weixin', shown: true, fields: { key: 'EventKey?', sendPicsInfo: pics() } },
  location_select: {
    msgType: 'event',
    event: 'location_select',
    shown: true,
    fields: {
      key: 'EventKey?',
      sendLocationInfo: {
        el: 'SendLocationInfo',
        fields: { latitude: 'Location_X?', longitude: 'Location_Y?', scale: 'Scale?', label: 'Label?', poiname: 'Poiname?' },
      },
    },
  },
  view_miniprogram: { msgType: 'event', event: 'view_miniprogram', fields: { path: 'EventKey?', menuId: 'MenuId?' } },
  // Reports of jobs the account started
  template_send_job_finish: { msgType: 'event', event: 'TEMPLATESENDJOBFINISH', fields: { msgId: MSG_ID, status: 'Status?' } },
  mass_send_job_finish: {
    msgType: 'event',
    event: 'MASSSENDJOBFINISH',
    fields: {
      msgId: MSG_ID,
      status: 'Status?',
      totalCount: 'TotalCount?',
      filterCount: 'FilterCount?',
      sentCount: 'SentCount?',
      errorCount: 'ErrorCount?',
      copyrightCheckResult: {
        el: 'CopyrightCheckResult',
        fields: {
          count: 'Count?',
          checkState: 'CheckState?',
          resultList: {
            list: 'ResultList',
            item: 'item',
            fields: {
              articleIdx: 'ArticleIdx?',
              userDeclareState: 'UserDeclareState?',
              auditState: 'AuditState?',
              originalArticleUrl: 'OriginalArticleUrl?',
              originalArticleType: 'OriginalArticleType?',
              canReprint: 'CanReprint?',
              needReplaceContent: 'NeedReplaceContent?',
              needShowReprintSource: 'NeedShowReprintSource?',
            },
          },
        },
      },
      articleUrlResult: {
        el: 'ArticleUrlResult',
        fields: {
          count: 'Count?',
          resultList: { list: 'ResultList', item: 'item', fields: { articleIdx: 'ArticleIdx?', articleUrl: 'ArticleUrl?' } },
        },
      },
    },
  },
  publish_job_finish: {
    msgType: 'event',
    event: 'PUBLISHJOBFINISH',
    fields: {
      publishEventInfo: {
        el: 'PublishEventInfo',
        fields: {
          publishId: 'publish_id?',
          publishStatus: 'publish_status?',
          articleId: 'article_id?',
          articleDetail: {
            el: 'article_detail',
            fields: { count: 'count?', items: { list: 'item', fields: { idx: 'idx?', articleUrl: 'article_url?' } } },
          },
          failIdx: { texts: 'fail_idx' },
        },
      },
    },
  },
  // Customer-service sessions
  kf_create_session: { msgType: 'event', event: 'kf_create_session', fields: { kfAccount: 'KfAccount?' } },
  kf_close_session: { msgType: 'event', event: 'kf_close_session', fields: { kfAccount: 'KfAccount?' } },
  kf_switch_session: {
    msgType: 'event',
    event: 'kf_switch_session',
    fields: { fromKfAccount: 'FromKfAccount?', toKfAccount: 'ToKfAccount?' },
  },
  // The account's qualification and name verification
  qualification_verify_success: { msgType: 'event', event: 'qualification_verify_success', fields: { expiredTime: 'ExpiredTime?' } },
  qualification_verify_fail: {
    msgType: 'event',
    event: 'qualification_verify_fail',
    fields: { failTime: 'FailTime?', failReason: 'FailReason?' },
  },
  naming_verify_success: { msgType: 'event', event: 'naming_verify_success', fields: { expiredTime: 'ExpiredTime?' } },
  naming_verify_fail: { msgType: 'event', event: 'naming_verify_fail', fields: { failTime: 'FailTime?', failReason: 'FailReason?' } },
  annual_renew: { msgType: 'event', event: 'annual_renew', fields: { expiredTime: 'ExpiredTime?' } },
  verify_expired: { msgType: 'event', event: 'verify_expired', fields: { expiredTime: 'ExpiredTime?' } },
  // Cards and coupons (卡券)
  card_pass_check: { msgType: 'event', event: 'card_pass_check', fields: { cardId: 'CardId?', refuseReason: 'RefuseReason?' } },
  card_not_pass_check: { msgType: 'event', event: 'card_not_pass_check', fields: { cardId: 'CardId?', refuseReason: 'RefuseReason?' } },
  user_get_card: {
    msgType: 'event',
    event: 'user_get_card',
    fields: {
      ...CARD,
      isGiveByFriend: 'IsGiveByFriend?',
      friendUserName: 'FriendUserName?',
      oldUserCardCode: 'OldUserCardCode?',
      outerStr: 'OuterStr?',
      outerId: 'OuterId?',
      isRestoreMemberCard: 'IsRestoreMemberCard?',
      unionId: 'UnionId?',
    },
  },
  user_gifting_card: {
    msgType: 'event',
    event: 'user_gifting_card',
    fields: { ...CARD, isReturnBack: 'IsReturnBack?', friendUserName: 'FriendUserName?', isChatRoom: 'IsChatRoom?' },
  },
  user_del_card: { msgType: 'event', event: 'user_del_card', fields: CARD },
  user_consume_card: {
    msgType: 'event',
    event: 'user_consume_card',
    fields: {
      ...CARD,
      consumeSource: 'ConsumeSource?',
      locationName: 'LocationName?',
      locationId: 'LocationId?',
      staffOpenId: 'StaffOpenId?',
      verifyCode: 'VerifyCode?',
      remarkAmount: 'RemarkAmount?',
      outerStr: 'OuterStr?',
    },
  },
  user_pay_from_pay_cell: {
    msgType: 'event',
    event: 'user_pay_from_pay_cell',
    fields: { ...CARD, transId: 'TransId?', locationId: 'LocationId?', fee: 'Fee?', originalFee: 'OriginalFee?' },
  },
  user_view_card: { msgType: 'event', event: 'user_view_card', fields: { ...CARD, outerStr: 'OuterStr?' } },
  user_enter_session_from_card: { msgType: 'event', event: 'user_enter_session_from_card', shown: true, fields: CARD },
  update_member_card: {
    msgType: 'event',
    event: 'update_member_card',
    fields: { ...CARD, modifyBonus: 'ModifyBonus?', modifyBalance: 'ModifyBalance?' },
  },
  card_sku_remind: { msgType: 'event', event: 'card_sku_remind', fields: { cardId: 'CardId?', detail: 'Detail?' } },
  card_pay_order: {
    msgType: 'event',
    event: 'card_pay_order',
    fields: {
      orderId: 'OrderId?',
      status: 'Status?',
      createOrderTime: 'CreateOrderTime?',
      payFinishTime: 'PayFinishTime?',
      desc: 'Desc?',
      freeCoinCount: 'FreeCoinCount?',
      payCoinCount: 'PayCoinCount?',
      refundFreeCoinCount: 'RefundFreeCoinCount?',
      refundPayCoinCount: 'RefundPayCoinCount?',
      orderType: 'OrderType?',
      memo: 'Memo?',
      receiptInfo: 'ReceiptInfo?',
    },
  },
  submit_membercard_user_info: { msgType: 'event', event: 'submit_membercard_user_info', fields: CARD },
  // Subscribe messages (订阅通知): each lists the templates it concerns.
  subscribe_msg_popup_event: {
    msgType: 'event',
    event: 'subscribe_msg_popup_event',
    fields: {
      templates: {
        list: 'SubscribeMsgPopupEvent',
        item: 'List',
        fields: { templateId: 'TemplateId?', subscribeStatus: 'SubscribeStatusString?', popupScene: 'PopupScene?' },
      },
    },
  },
  subscribe_msg_change_event: {
    msgType: 'event',
    event: 'subscribe_msg_change_event',
    fields: {
      templates: {
        list: 'SubscribeMsgChangeEvent',
        item: 'List',
        fields: { templateId: 'TemplateId?', subscribeStatus: 'SubscribeStatusString?' },
      },
    },
  },
  subscribe_msg_sent_event: {
    msgType: 'event',
    event: 'subscribe_msg_sent_event',
    fields: {
      templates: {
        list: 'SubscribeMsgSentEvent',
        item: 'List',
        fields: { templateId: 'TemplateId?', msgId: MSG_ID, errorCode: 'ErrorCode?', errorStatus: 'ErrorStatus?' },
      },
    },
  },
  // Devices, Wi-Fi, stores, the shop
  device_event: { msgType: 'device_event', event: '*', fields: { ...DEVICE, opType: 'OpType?' } },
  wifi_connected: {
    msgType: 'event',
    event: 'WifiConnected',
    fields: {
      connectTime: 'ConnectTime?',
      expireTime: 'ExpireTime?',
      vendorId: 'VendorId?',
      shopId: 'ShopId?',
      placeId: 'PlaceId?',
      deviceNo: 'DeviceNo?',
    },
  },
  poi_check_notify: {
    msgType: 'event',
    event: 'poi_check_notify',
    fields: { uniqId: 'UniqId?', poiId: 'PoiId?', result: 'Result?', msg: 'Msg?' },
  },
  merchant_order: {
    msgType: 'event',
    event: 'merchant_order',
    fields: { orderId: 'OrderId?', orderStatus: 'OrderStatus?', productId: 'ProductId?', skuInfo: 'SkuInfo?' },
  },
} as const satisfies Record<string, EventSpec>;

function pics() {
  return {
    el: 'SendPicsInfo',
    fields: { count: 'Count?', picList: { list: 'PicList', item: 'item', fields: { picMd5Sum: 'PicMd5Sum?' } } },
  } as const;
}

export interface EventSpec {
  readonly msgType: string;
  /** The Event field; '*' takes any (the type then carries it as `event`). */
  readonly event?: string;
  /** Something a person did and waits for an answer to: the fallback answers these, and only these. */
  readonly person?: boolean;
  /** WeChat shows the user a passive reply to it (always so for `person`); otherwise a reply is dropped. */
  readonly shown?: boolean;
  readonly fields: Specs;
}
export type Spec =
  | string
  | { readonly el: string; readonly fields: Specs }
  | { readonly list: string; readonly item?: string; readonly fields: Specs }
  | { readonly texts: string };
export type Specs = { readonly [name: string]: Spec };

type Table = typeof EVENTS;
/** Every event type name, e.g. 'subscribe', 'scan', 'click', 'text'. */
export type EventType = keyof Table;
/** Every event type name, at run time. */
export const EVENT_TYPES = Object.keys(EVENTS) as EventType[];
/** The table itself: each type's MsgType, Event and fields as WeChat names them (for docs/protocol.md). */
export const EVENT_SPECS: { readonly [T in EventType]: EventSpec } = EVENTS;

type ValueOf<S> = S extends string
  ? string
  : S extends { readonly texts: string }
    ? readonly string[]
    : S extends { readonly list: string; readonly fields: infer F }
      ? readonly ShapeOf<F>[]
      : S extends { readonly fields: infer F }
        ? ShapeOf<F>
        : never;
type Needed<S> = S extends `${string}?` ? false : S extends string ? true : false;
type ShapeOf<F> = Flatten<
  { readonly [K in keyof F as Needed<F[K]> extends true ? K : never]: ValueOf<F[K]> } & {
    readonly [K in keyof F as Needed<F[K]> extends true ? never : K]?: ValueOf<F[K]>;
  }
>;
type Flatten<T> = { [K in keyof T]: T[K] };
// What a type adds to its fields: the raw Event of a wildcard, the raw key of a follow that is not a scan.
type Extra<T extends EventType> = T extends 'subscribe'
  ? { readonly key?: string }
  : Table[T] extends { readonly event: '*' }
    ? { readonly event: string }
    : unknown;

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
  ? Flatten<{ readonly type: T } & EventBase & ShapeOf<Table[T]['fields']> & Extra<T>>
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

/** Thrown for a push that is not WeChat's: no FromUserName, ToUserName or MsgType. The transport answers 400. */
export class EventError extends Error {
  override name = 'EventError';
}

// Matched without regard to case or surrounding space: WeChat has changed the case of event names
// before (SCAN vs scan), and its docs show `event` and padded values.
const BY_WIRE = new Map<string, EventType>(
  EVENT_TYPES.map((type) => {
    const spec: EventSpec = EVENTS[type];
    return [wireName(spec.msgType, spec.event), type];
  }),
);

function wireName(msgType: string, event: string | undefined): string {
  return (event === undefined ? msgType : `${msgType}/${event}`).toLowerCase();
}

/** The types whose pushes a person sent and waits an answer to (messages, clicks, scans). */
export const PERSON_TYPES: ReadonlySet<EventType> = new Set(EVENT_TYPES.filter((type) => EVENT_SPECS[type].person));
/** The types whose passive reply WeChat shows the user. */
export const SHOWN_TYPES: ReadonlySet<EventType> = new Set(
  EVENT_TYPES.filter((type) => EVENT_SPECS[type].person || EVENT_SPECS[type].shown),
);

/**
 * Turns the children of a push's `<xml>` into a typed event. Only a push that is not WeChat's
 * throws (no FromUserName, ToUserName or MsgType): a field missing or malformed is left out, and
 * a push without a field its type needs (a text without Content) is kept as `unknown`.
 * @example
 * toEvent(await parseXml(body)) // { type: 'subscribe', from: 'o…', scene: 'spring', … }
 */
export function toEvent(xml: XmlObject): WechatEvent {
  const base = { from: requiredText(xml, 'FromUserName'), to: requiredText(xml, 'ToUserName'), createTime: createTimeOf(xml) };
  const msgType = requiredText(xml, 'MsgType').trim();
  const message = BY_WIRE.get(wireName(msgType, undefined));
  const event = message ? undefined : textOf(xml, 'Event')?.trim();
  const type =
    message ?? (event === undefined ? undefined : (BY_WIRE.get(wireName(msgType, event)) ?? BY_WIRE.get(wireName(msgType, '*'))));
  const fields = type && readFields(xml, FIELDS.get(type)!);
  if (!type || !fields) return { type: 'unknown', ...base, msgType, ...(event === undefined ? {} : { event }), fields: xml };
  if (type === 'device_event') fields.event = event!;
  if (type === 'subscribe') return subscribeOf(base, fields);
  return { type, ...base, ...fields } as WechatEvent;
}

// A follow through a parametric code says qrscene_<scene>; a plain follow sends an empty key; other
// keys (last_trade_no_… after a payment, scanbarcode|… from a product scan) are not scenes. Built
// whole rather than by deleting fields: an object with a deleted field is slow to copy.
function subscribeOf(base: EventBase, fields: Record<string, unknown>): WechatEvent {
  const key = typeof fields.scene === 'string' ? fields.scene : '';
  const ticket = typeof fields.ticket === 'string' && fields.ticket !== '' ? { ticket: fields.ticket } : {};
  if (key.startsWith('qrscene_') && key.length > 'qrscene_'.length) {
    return { type: 'subscribe', ...base, scene: key.slice('qrscene_'.length), ...ticket };
  }
  return { type: 'subscribe', ...base, ...(key ? { key } : {}), ...ticket };
}

// Each spec, read once into what the reader needs.
type Field =
  | { name: string; kind: 'text'; wire: string; needed: boolean }
  | { name: string; kind: 'element'; wire: string; fields: Field[] }
  | { name: string; kind: 'list'; wire: string; item: string | undefined; fields: Field[] }
  | { name: string; kind: 'texts'; wire: string };

function compile(specs: Specs): Field[] {
  return Object.entries(specs).map(([name, spec]): Field => {
    if (typeof spec === 'string') {
      const needed = !spec.endsWith('?');
      return { name, kind: 'text', wire: needed ? spec : spec.slice(0, -1), needed };
    }
    if ('texts' in spec) return { name, kind: 'texts', wire: spec.texts };
    if ('el' in spec) return { name, kind: 'element', wire: spec.el, fields: compile(spec.fields) };
    return { name, kind: 'list', wire: spec.list, item: spec.item, fields: compile(spec.fields) };
  });
}
const FIELDS = new Map<EventType, Field[]>(EVENT_TYPES.map((type) => [type, compile(EVENTS[type].fields)]));

// The fields of one element; undefined when a field the type needs is missing.
function readFields(xml: XmlObject, fields: readonly Field[]): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = readField(xml, field);
    if (value !== undefined) out[field.name] = value;
    else if (field.kind === 'text' && field.needed) return undefined;
  }
  return out;
}

function readField(xml: XmlObject, field: Field): unknown {
  if (field.kind === 'text') return textOf(xml, field.wire);
  const value = valueOf(xml, field.wire);
  if (field.kind === 'texts') return value === undefined ? undefined : all(value).filter((v) => typeof v === 'string');
  if (field.kind === 'element') {
    const element = first(value);
    return isElement(element) ? readFields(element, field.fields) : undefined;
  }
  // A list: the repeated <wire> itself, or the <item>s inside one <wire>.
  const holder = field.item === undefined ? undefined : first(value);
  const items = field.item === undefined ? value : isElement(holder) ? valueOf(holder, field.item) : undefined;
  if (items === undefined) return value === undefined ? undefined : [];
  return all(items).flatMap((item) => (isElement(item) ? [readFields(item, field.fields)!] : []));
}

// A field by its name, or, where WeChat's docs spell it otherwise (MsgId and MsgID), by the same
// name in another case.
function valueOf(xml: XmlObject, name: string): XmlValue | undefined {
  const exact = xml[name];
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const key in xml) if (key.toLowerCase() === lower) return xml[key];
  return undefined;
}

// Text, given once or first of several; an element where text belongs counts as missing.
function textOf(xml: XmlObject, name: string): string | undefined {
  const value = first(valueOf(xml, name));
  return typeof value === 'string' ? value : undefined;
}

const first = (value: XmlValue | undefined) => (Array.isArray(value) ? value[0] : value);
const all = (value: XmlValue) => (Array.isArray(value) ? value : [value]);
const isElement = (value: XmlValue | undefined): value is XmlObject => typeof value === 'object' && !Array.isArray(value);

// A field without which the push is not WeChat's: text, not blank (the first, if it came twice).
function requiredText(xml: XmlObject, name: string): string {
  const value = first(xml[name]);
  if (typeof value !== 'string' || value.trim() === '') throw new EventError(`missing ${name}`);
  return value;
}

// Seconds; 0 when the push has none, so that its retries still share a dedupe key.
function createTimeOf(xml: XmlObject): number {
  const text = textOf(xml, 'CreateTime')?.trim();
  return text !== undefined && /^\d{1,12}$/.test(text) ? Number(text) : 0;
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
