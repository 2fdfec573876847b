// The bot's whole behaviour in one file: edit it, restart, done. Secrets go in .env, never here.
import { defineConfig } from './core/index.ts';

export default defineConfig({
  // What a new follower gets when no campaign brought them.
  welcome: '欢迎关注！回复任意文字，或点击下方菜单看看我们能做什么。',

  // WeChat's own menu JSON: at most 3 buttons, each with at most 5 in its sub menu.
  menu: {
    button: [
      { type: 'click', name: '今日推荐', key: 'TODAY' },
      {
        name: '服务',
        sub_button: [
          { type: 'click', name: '联系客服', key: 'CONTACT' },
          { type: 'click', name: '最新活动', key: 'EVENTS' },
          { type: 'view', name: '官网', url: 'https://example.com/' },
        ],
      },
      { type: 'view', name: '会员中心', url: 'https://example.com/member' },
    ],
  },

  // An answer for every click key above: a reply, or a handler returning one.
  clicks: {
    TODAY: '今日推荐：春季新品九折，详情见菜单「最新活动」。',
    CONTACT: { type: 'transfer_customer_service' },
    EVENTS: () => ({
      type: 'news',
      articles: [
        {
          title: '春季活动进行中',
          description: '扫码关注即领优惠券',
          url: 'https://example.com/spring',
          picUrl: 'https://example.com/spring.jpg',
        },
      ],
    }),
  },

  // Parametric QR codes: who came from where.
  campaigns: {
    // A permanent code for the shop's door sticker (numeric scene_id, 1–100000).
    shopDoor: {
      scene: 1001,
      permanent: true,
      description: 'sticker on the shop door',
      welcome: '欢迎光临本店！出示此消息可享到店九折。',
      scan: '欢迎回来！到店出示此消息可享九折。',
    },
    // A temporary code for a 7-day spring poster (string scene, renewed by the sync).
    springPoster: {
      scene: 'spring-poster',
      expireSeconds: 7 * 24 * 3600,
      description: 'spring poster in the metro',
      welcome: async (ctx) => `感谢扫描春季海报关注！你的优惠码：SPRING-${ctx.event.createTime % 10000}`,
      scan: '你已经关注啦，春季优惠码请在菜单「最新活动」查看。',
      // Everyone the poster brings gets this WeChat tag: filter and mass-send by it in the console.
      tag: '春季海报',
    },
  },

  // Menus per audience: the poster's followers see the spring offer first.
  conditionalMenus: {
    spring: {
      matchrule: { tag: '春季海报' },
      button: [
        { type: 'click', name: '春季优惠', key: 'EVENTS' },
        { type: 'click', name: '今日推荐', key: 'TODAY' },
        { type: 'view', name: '会员中心', url: 'https://example.com/member' },
      ],
    },
  },

  // When nothing else answered a message.
  fallback: '收到！我们会尽快回复你。',

  // Follow-to-login (关注公众号登录) for our website: what the scanner is told.
  login: { reply: '你已登录 example.com，请回到网页继续。', expireSeconds: 300 },

  // Referral invites: thank the inviter, greet the friend they brought.
  invites: {
    onFollow: async (ctx, { inviter, follows }) => {
      await ctx.api?.sendCustom(inviter, { msgtype: 'text', text: { content: `感谢邀请！已有 ${follows} 位好友通过你关注。` } });
      return '欢迎！你是被好友邀请来的。';
    },
  },
});
