// The console's front end: Preact with htm, served from node_modules: no build step, no CDN.
import { html, render, useState, useEffect, useRef, useCallback } from '/console/vendor/preact.js';
import uPlot from '/console/vendor/uplot.js';

const api = async (path, options = {}) => {
  const response = await fetch(`/console/api/${path}`, { headers: { 'content-type': 'application/json' }, ...options });
  if (response.status === 401) throw Object.assign(new Error('login'), { login: true });
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error ?? `HTTP ${response.status}`);
  return response.json();
};

function App() {
  const [state, setState] = useState(null);
  const [needLogin, setNeedLogin] = useState(false);
  const [tab, setTab] = useState(location.hash.slice(1) || 'phone');
  const load = useCallback(() => api('state').then(setState, (e) => (e.login ? setNeedLogin(true) : setState({ error: e.message }))), []);
  useEffect(() => void load(), []);
  useEffect(() => void (location.hash = tab), [tab]);
  if (needLogin) return html`<${Login} onDone=${() => (setNeedLogin(false), load())} />`;
  if (!state) return html`<p>loading…</p>`;
  if (state.error) return html`<p class="error">${state.error}</p>`;
  // The phone stays mounted while hidden, so its users and threads survive a look at another tab.
  const tabs = [['phone', '手机 Phone'], ['campaigns', '活动 Campaigns'], ['menus', '菜单 Menus'], ['events', '事件 Events'], ['sync', '同步 Sync']];
  return html`
    <header>
      <h1>Bot console</h1>
      <span class="badge ${state.mode}">${state.mode === 'emulator' ? 'emulator' : 'real account · read-only'}</span>
      <nav>${tabs.map(([id, label]) => html`<button data-tab=${id} class=${tab === id ? 'active' : ''} onClick=${() => setTab(id)}>${label}</button>`)}</nav>
    </header>
    <main>
      <div style=${tab === 'phone' ? '' : 'display:none'}><${Phone} state=${state} /></div>
      ${tab === 'campaigns' && html`<${Campaigns} />`}
      ${tab === 'menus' && html`<${Menus} />`}
      ${tab === 'events' && html`<${Events} />`}
      ${tab === 'sync' && html`<${Sync} />`}
    </main>
  `;
}

function Login({ onDone }) {
  const [error, setError] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    const token = new FormData(event.target).get('token');
    const response = await fetch('/console/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    response.ok ? onDone() : setError('wrong token');
  };
  return html`<form class="card login" onSubmit=${submit}>
    <h2>Bot console</h2>
    <p class="muted">Enter BOT_CONSOLE_TOKEN.</p>
    <input name="token" type="password" autocomplete="current-password" />
    <button class="act" type="submit">Log in</button>
    ${error && html`<p class="error" data-testid="login-error">${error}</p>`}
  </form>`;
}

const newUser = () => `oConsole${Math.random().toString(36).slice(2, 12)}`;

function Phone({ state }) {
  const [users, setUsers] = useState(() => [newUser()]);
  const [user, setUser] = useState(users[0]);
  const [threads, setThreads] = useState({});
  const [open, setOpen] = useState(-1);
  const [text, setText] = useState('');
  const [scanned, setScanned] = useState('https://example.com/scanned');
  const chat = useRef(null);
  const lateSeen = useRef(0);
  const thread = threads[user] ?? [];
  const add = (who, entries) => setThreads((all) => ({ ...all, [who]: [...(all[who] ?? []), ...entries] }));
  useEffect(() => chat.current?.scrollTo(0, 1e9), [thread.length]);

  // Replies that missed the deadline arrive as customer-service messages.
  useEffect(() => {
    if (!state.canSimulate) return;
    const timer = setInterval(async () => {
      const late = await api(`late?after=${lateSeen.current}`).catch(() => []);
      for (const m of late) {
        lateSeen.current = m.index;
        add(m.touser, [{ from: 'bot late', text: m.content }]);
      }
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  // One answer per push: a photo or location button is its event, then the photo or location itself.
  const send = async (action, as = user, note) => {
    setOpen(-1);
    if (note) add(as, [note]);
    const result = await api('simulate', { method: 'POST', body: JSON.stringify({ user: as, action }) }).catch((e) => ({ replies: [{ text: `error: ${e.message}` }] }));
    add(as, result.replies.map((r) => (r.reply ? { from: 'bot', reply: r.reply } : { from: 'note', text: r.text === 'success (no reply)' ? '(no reply)' : r.text })));
  };
  // WeChat's client opens a view button's page; a page that knows its user gets there through web
  // authorization (the emulator's authorize page asks which simulated user it is).
  const openPage = (url) => {
    const target = new URL(url, location.href);
    const known = target.host === location.host || state.oauthHosts.includes(target.hostname);
    const page = known ? `/oauth/authorize?${new URLSearchParams({ redirect: target.href, scope: 'snsapi_userinfo' })}` : target.href;
    window.open(page, '_blank', 'noopener');
  };
  // What the phone does with each button type of the menu, as WeChat's client would.
  const press = (button) => {
    const me = (text) => ({ from: 'me', text });
    switch (button.type) {
      case 'click':
        return send({ kind: 'click', key: button.key }, user, me(`[菜单] ${button.name}`));
      case 'view':
        openPage(button.url);
        return send({ kind: 'view', url: button.url }, user, { from: 'note', text: `opened ${button.url}` });
      case 'miniprogram':
        return send({ kind: 'view_miniprogram', path: button.pagepath }, user, { from: 'note', text: `opened mini program ${button.appid} ${button.pagepath}` });
      case 'scancode_push':
      case 'scancode_waitmsg':
        return send({ kind: button.type, key: button.key, result: scanned }, user, me(`[扫一扫] ${scanned}`));
      case 'pic_sysphoto':
      case 'pic_photo_or_album':
      case 'pic_weixin':
        return send({ kind: button.type, key: button.key }, user, me('[图片]'));
      case 'location_select':
        return send({ kind: 'location_select', key: button.key, ...PLACE }, user, me(`[位置] ${PLACE.label}`));
      default:
        // media_id, article_id and their kinds: WeChat answers these itself, nothing is pushed.
        add(user, [{ from: 'note', text: `${button.type}: WeChat shows it itself; nothing is pushed to the bot` }]);
    }
  };
  const followVia = (campaign) => {
    const fresh = newUser();
    setUsers((list) => [...list, fresh]);
    setUser(fresh);
    send({ kind: 'subscribe', scene: String(campaign.scene) }, fresh, { from: 'note', text: `new user followed via ${campaign.name}` });
  };

  if (!state.canSimulate) {
    return html`<div class="card"><p>The phone simulates users against the emulator only. Against a real account the console is read-only: see Campaigns, Events and Sync.</p></div>`;
  }
  const buttons = state.menu?.button ?? [];
  return html`<div class="row">
    <div class="phone" data-testid="phone">
      <div class="title">公众号 · ${user.slice(0, 14)}</div>
      <div class="chat" ref=${chat} data-testid="chat">
        ${thread.map((m) => html`<div class="bubble ${m.from === 'me' ? 'me' : m.from === 'note' ? 'note' : m.from === 'bot late' ? 'bot late' : 'bot'}${m.reply && m.reply.MsgType !== 'text' ? ` ${m.reply.MsgType}` : ''}" data-testid=${m.from === 'bot' || m.from === 'bot late' ? 'bot-bubble' : undefined}>${m.reply ? html`<${Reply} reply=${m.reply} />` : m.text}</div>`)}
      </div>
      <form class="inputbar" onSubmit=${(e) => (e.preventDefault(), text && (send({ kind: 'text', text }, user, { from: 'me', text }), setText('')))}>
        <input value=${text} onInput=${(e) => setText(e.target.value)} placeholder="发消息" data-testid="text-input" />
        <button class="act" type="submit">发送</button>
      </form>
      <div class="menu" data-testid="menu">
        ${buttons.map((b, i) => html`<div>
          ${open === i && b.sub_button && html`<div class="sub">${b.sub_button.map((s) => html`<button data-testid="menu-button" onClick=${() => press(s)}>${s.name}</button>`)}</div>`}
          <button class="col" data-testid="menu-button" onClick=${() => (b.sub_button ? setOpen(open === i ? -1 : i) : press(b))}>${b.sub_button ? '≡ ' : ''}${b.name}</button>
        </div>`)}
      </div>
    </div>
    <div class="controls">
      <div class="card">
        <h3>User</h3>
        <select value=${user} onChange=${(e) => setUser(e.target.value)} data-testid="user-select">${users.map((u) => html`<option value=${u}>${u}</option>`)}</select>
        <button class="act" onClick=${() => { const fresh = newUser(); setUsers((l) => [...l, fresh]); setUser(fresh); }}>+ new user</button>
      </div>
      <div class="card">
        <h3>Follow and scan</h3>
        <button class="act" onClick=${() => send({ kind: 'subscribe' }, user, { from: 'note', text: 'followed (no code)' })}>Follow (plain)</button>
        ${state.campaigns.map((c) => html`<div>
          <button class="act" data-testid=${`follow-${c.name}`} onClick=${() => followVia(c)}>Follow via ${c.name} as a new user</button>
          <button class="act" data-testid=${`scan-${c.name}`} onClick=${() => send({ kind: 'scan', scene: String(c.scene) }, user, { from: 'note', text: `scanned ${c.name}` })}>Scan ${c.name} as a follower</button>
        </div>`)}
        <button class="act danger" data-testid="unfollow" onClick=${() => send({ kind: 'unsubscribe' }, user, { from: 'note', text: 'unfollowed' })}>Unfollow</button>
      </div>
      <div class="card">
        <h3>Send as the user</h3>
        <button class="act" data-testid="send-image" onClick=${() => send({ kind: 'image' }, user, { from: 'me', text: '[图片]' })}>Photo</button>
        <button class="act" data-testid="send-voice" onClick=${() => send({ kind: 'voice', ...(text ? { recognition: text } : {}) }, user, { from: 'me', text: `[语音]${text ? ` ${text}` : ''}` })}>Voice (the text box is what WeChat heard)</button>
        <button class="act" data-testid="send-video" onClick=${() => send({ kind: 'video' }, user, { from: 'me', text: '[视频]' })}>Video</button>
        <button class="act" data-testid="send-location" onClick=${() => send({ kind: 'location', ...PLACE }, user, { from: 'me', text: `[位置] ${PLACE.label}` })}>Location</button>
        <button class="act" data-testid="send-link" onClick=${() => send({ kind: 'link', url: 'https://example.com/article', title: '一篇文章' }, user, { from: 'me', text: '[链接] 一篇文章' })}>Link</button>
        <label class="muted">what a scan button reads <input value=${scanned} onInput=${(e) => setScanned(e.target.value)} data-testid="scan-result" /></label>
      </div>
    </div>
  </div>`;
}

// Where the location buttons say the user is.
const PLACE = { latitude: '39.9042', longitude: '116.4074', label: '北京市东城区天安门' };

// A passive reply as WeChat's client shows it: text, a news card, an image, a voice or video
// message, a music card. Media are shown by their media_id: the emulator keeps no files.
function Reply({ reply }) {
  switch (reply.MsgType) {
    case 'text':
      return reply.Content;
    case 'news': {
      const items = reply.Articles?.item;
      const a = (Array.isArray(items) ? items[0] : items) ?? {};
      return html`<a class="news" href=${a.Url} target="_blank" rel="noopener noreferrer" data-testid="news-card">
        <strong>${a.Title}</strong>${a.PicUrl && html`<img src=${a.PicUrl} alt="" />`}<span class="muted">${a.Description}</span>
      </a>`;
    }
    case 'image':
      return html`<span class="media" data-testid="image-reply">🖼 图片<br /><code>${reply.Image?.MediaId}</code></span>`;
    case 'voice':
      return html`<span class="media" data-testid="voice-reply">🔊 语音<br /><code>${reply.Voice?.MediaId}</code></span>`;
    case 'video':
      return html`<span class="media" data-testid="video-reply">▶ ${reply.Video?.Title || '视频'}<br /><span class="muted">${reply.Video?.Description}</span></span>`;
    case 'music':
      return html`<a class="news" href=${reply.Music?.MusicUrl} target="_blank" rel="noopener noreferrer" data-testid="music-card">
        <strong>♪ ${reply.Music?.Title}</strong><span class="muted">${reply.Music?.Description}</span>
      </a>`;
    case 'transfer_customer_service':
      return html`<span class="muted">转接人工客服</span>`;
    default:
      return `[${reply.MsgType}]`;
  }
}

function Chart({ series }) {
  const box = useRef(null);
  useEffect(() => {
    const data = [series.hours.map((h) => h / 1000), series.scans, series.follows, series.unfollows];
    const plot = new uPlot(
      { width: 320, height: 140, legend: { show: true }, scales: { x: { time: true } }, series: [{}, { label: 'scans', stroke: '#2563eb' }, { label: 'follows', stroke: '#07c160' }, { label: 'unfollows', stroke: '#dc2626' }] },
      data,
      box.current,
    );
    return () => plot.destroy();
  }, [series]);
  return html`<div ref=${box}></div>`;
}

function Campaigns() {
  const [list, setList] = useState(null);
  useEffect(() => {
    const load = () => api('campaigns').then(setList, () => {});
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, []);
  if (!list) return html`<p>loading…</p>`;
  return html`<div class="campaigns">${list.map((c) => html`<div class="card campaign" data-testid=${`campaign-${c.name}`}>
    <div class="head">
      ${c.created ? html`<img src=${`/qr/${c.name}.png?size=256`} alt=${`${c.name} QR code`} />` : html`<div class="muted">no code yet: the sync creates it</div>`}
      <div>
        <h3 style="margin:0">${c.name}</h3>
        <div class="muted">${c.description ?? ''}</div>
        <div>scene <code>${c.scene}</code></div>
        <div>${c.permanent ? 'permanent' : c.expiresAt ? `expires ${new Date(c.expiresAt).toLocaleString()}` : 'temporary'}</div>
        ${c.created && html`<div><a href=${`/qr/${c.name}.png?size=1024`} download>PNG</a> · <a href=${`/qr/${c.name}.svg`} download>SVG</a></div>`}
      </div>
    </div>
    <div class="stats">
      <div>scans<b data-testid="scans">${c.stats.scans}</b></div>
      <div>follows<b data-testid="follows">${c.stats.follows}</b></div>
      <div>unfollows<b data-testid="unfollows">${c.stats.unfollows}</b></div>
      <div>retention<b>${c.retention === null ? '–' : `${Math.round(c.retention * 100)}%`}</b></div>
    </div>
    <${Chart} series=${c.series} />
  </div>`)}</div>`;
}

function Events() {
  const [entries, setEntries] = useState([]);
  const [filter, setFilter] = useState('');
  const last = useRef(0);
  useEffect(() => {
    const load = async () => {
      const fresh = await api(`events?after=${last.current}`).catch(() => []);
      if (fresh.length === 0) return;
      last.current = fresh.at(-1).id;
      setEntries((all) => [...all, ...fresh].slice(-500));
    };
    load();
    const timer = setInterval(load, 1000);
    return () => clearInterval(timer);
  }, []);
  const types = [...new Set(entries.map((e) => e.type))].sort();
  const shown = entries.filter((e) => !filter || e.type === filter).reverse();
  return html`<div class="card">
    <label>type <select value=${filter} onChange=${(e) => setFilter(e.target.value)} data-testid="event-filter"><option value="">all</option>${types.map((t) => html`<option>${t}</option>`)}</select></label>
    <span class="muted"> live · OpenIDs masked</span>
    <table data-testid="events"><thead><tr><th>time</th><th>type</th><th>user</th><th>scene / key / url / text</th><th>reply</th></tr></thead>
    <tbody>${shown.map((e) => html`<tr><td>${new Date(e.at).toLocaleTimeString()}</td><td>${e.type}${e.duplicate ? ' (retry)' : ''}</td><td><code>${e.user}</code></td><td>${e.detail ?? ''}</td><td>${e.reply ?? ''}</td></tr>`)}</tbody></table>
  </div>`;
}

// A menu's buttons as a line of text: top-level names, a sub menu's in brackets.
const buttonsOf = (button) => button.map((b) => (b.sub_button?.length ? `${b.name} [${b.sub_button.map((s) => s.name).join(', ')}]` : b.name)).join(' | ');
const ruleOf = (rule) => Object.entries(rule).map(([k, v]) => `${k}: ${v}`).join(', ');

function Menus() {
  const [data, setData] = useState(null);
  const [user, setUser] = useState('');
  const [preview, setPreview] = useState(null);
  useEffect(() => void api('menus').then(setData, (e) => setData({ error: e.message })), []);
  if (!data) return html`<p>loading…</p>`;
  if (data.error) return html`<p class="error">${data.error}</p>`;
  const tryMatch = async (event) => {
    event.preventDefault();
    setPreview(await api('trymatch', { method: 'POST', body: JSON.stringify({ user }) }).catch((e) => ({ error: e.message })));
  };
  return html`<div data-testid="menus">
    <div class="card">
      <h3>默认菜单 Default menu</h3>
      <p>${data.default ? buttonsOf(data.default.button) : html`<span class="muted">none in bot.config.ts</span>`}</p>
    </div>
    ${data.conditional.map((m) => html`<div class="card" data-testid=${`conditional-${m.name}`}>
      <h3>${m.name} <span class="muted">${m.menuid ? `menuid ${m.menuid}` : 'not on the account yet'}</span></h3>
      <p class="muted">${ruleOf(m.matchrule)}</p>
      <p>${buttonsOf(m.button)}</p>
    </div>`)}
    <form class="card" onSubmit=${tryMatch}>
      <h3>预览 Preview (trymatch)</h3>
      <p class="muted">The menu a follower sees: their OpenID.</p>
      <input data-testid="trymatch-user" value=${user} onInput=${(e) => setUser(e.target.value)} placeholder="o…" />
      <button class="act" type="submit" data-testid="trymatch-go">Preview</button>
      ${preview?.error && html`<p class="error">${preview.error}</p>`}
      ${preview?.button && html`<p data-testid="trymatch-result">${buttonsOf(preview.button)}</p>
        <p class="muted" data-testid="trymatch-matched">${preview.matched ? `menu: ${preview.matched}` : 'a menu this config does not hold'}</p>`}
    </form>
  </div>`;
}

function Sync() {
  const [data, setData] = useState(null);
  useEffect(() => void api('sync').then(setData, (e) => setData({ error: e.message })), []);
  if (!data) return html`<p>loading…</p>`;
  if (data.error) return html`<p class="error">${data.error}</p>`;
  const report = (r, title) => html`<div class="card" style="flex:1">
    <h3>${title}</h3>
    ${!r ? html`<p class="muted">none yet</p>` : r.error ? html`<p class="error">${r.error}</p>` : html`
      <p class="muted">${new Date(r.at).toLocaleString()}</p>
      <p>menu: <b>${r.menu}</b></p>
      <table><tbody>${r.campaigns.map((c) => html`<tr><td>${c.name}</td><td>${c.action}</td><td>${c.expiresAt ? new Date(c.expiresAt).toLocaleString() : ''}</td></tr>`)}
        ${(r.tags ?? []).map((x) => html`<tr><td>tag ${x.name}</td><td>${x.action}</td><td></td></tr>`)}
        ${(r.conditionalMenus ?? []).map((x) => html`<tr><td>menu ${x.name}</td><td>${x.action}</td><td></td></tr>`)}</tbody></table>
      ${[...(r.errors ?? []), ...(r.warnings ?? [])].map((e) => html`<p class="error">${e}</p>`)}`}
  </div>`;
  return html`<div class="row" data-testid="sync">${report(data.last, 'Last start-up sync')}${report(data.plan, 'bot.config.ts vs the account now')}</div>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
