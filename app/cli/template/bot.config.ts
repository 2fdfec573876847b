// The bot's whole behaviour in one file: edit it, and `npm run dev` restarts the bot. Secrets go
// in .env, never here.
import { defineConfig } from 'wechat-mp-bot';
import { hello } from './plugins/hello.ts';

export default defineConfig({
  // What a new follower gets when no campaign brought them.
  welcome: '欢迎关注！点击下方菜单，或回复「你好」。',

  // WeChat's own menu JSON: at most 3 buttons, each with at most 5 in its sub menu.
  menu: {
    button: [
      { type: 'click', name: '今日推荐', key: 'TODAY' },
      { type: 'view', name: '官网', url: 'https://example.com/' },
    ],
  },

  // An answer for every click key above.
  clicks: {
    TODAY: '今日推荐：春季新品九折。',
  },

  // Parametric QR codes: who scanned which code, and a welcome of their own.
  campaigns: {
    poster: { scene: 'spring-poster', expireSeconds: 7 * 86_400, welcome: '欢迎！你是扫海报来的。' },
  },

  plugins: [hello()],
});
