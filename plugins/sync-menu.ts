import type { Menu } from '../core/protocol/menu.ts';

/**
 * Compares the buttons of two menus as WeChat stores them: menu/get adds an empty sub_button to
 * every leaf and a menuid, and key order does not matter. Anything beside the buttons (a
 * conditional menu's matchrule) is not compared.
 */
export function sameMenu(a: unknown, b: Menu): boolean {
  return JSON.stringify(canonical({ button: (a as Menu | undefined)?.button })) === JSON.stringify(canonical({ button: b.button }));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value)
    .filter(([key, v]) => key !== 'menuid' && !(key === 'sub_button' && Array.isArray(v) && v.length === 0) && v !== undefined)
    .sort(([x], [y]) => (x < y ? -1 : 1));
  return Object.fromEntries(entries.map(([key, v]) => [key, canonical(v)]));
}
