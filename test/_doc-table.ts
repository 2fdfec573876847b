import { EVENT_SPECS, EVENT_TYPES, PERSON_TYPES, SHOWN_TYPES, type Specs } from '../core/protocol/events.ts';

// How docs/protocol.md spells one type's fields: `name ← Wire`, optional ones with `?`, lists with
// `[]`, nested fields in braces.
function fieldsOf(specs: Specs): string {
  return Object.entries(specs)
    .map(([name, spec]) => {
      if (typeof spec === 'string') return spec.endsWith('?') ? `${name}? ← ${spec.slice(0, -1)}` : `${name} ← ${spec}`;
      if ('texts' in spec) return `${name}?: string[] ← ${spec.texts}`;
      const inner = fieldsOf(spec.fields);
      if ('el' in spec) return `${name}? ← ${spec.el} { ${inner} }`;
      return `${name}?: [] ← ${spec.list}${spec.item ? `/${spec.item}` : ''} { ${inner} }`;
    })
    .join(', ');
}

const yes = (set: ReadonlySet<string>, type: string) => (set.has(type) ? 'yes' : 'no');

/** The row of each event type in docs/protocol.md's table, from the table the code types events with. */
export function eventRows(): Map<string, string> {
  return new Map(
    EVENT_TYPES.map((type) => {
      const spec = EVENT_SPECS[type];
      const wire = spec.event === undefined ? spec.msgType : `${spec.msgType} / ${spec.event}`;
      return [type, `| \`${type}\` | ${wire} | ${fieldsOf(spec.fields) || '—'} | ${yes(SHOWN_TYPES, type)} | ${yes(PERSON_TYPES, type)} |`];
    }),
  );
}
