/** Text made safe inside HTML, in an element or an attribute. */
export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A small page: its title as heading, the body as given (escape what came from outside), a style.
 * @example
 * htmlPage('会员中心', `<p>你好，${escapeHtml(nickname)}</p>`)
 */
export const htmlPage = (title: string, body: string, style = '') =>
  `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${title}</title>${style ? `<style>${style}</style>` : ''}</head><body><h1>${title}</h1>${body}</body></html>`;
