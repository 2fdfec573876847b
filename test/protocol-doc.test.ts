// docs/protocol.md has a row for every event type, with its fields, exactly as the table in
// core/protocol/events.ts types them: `npm test` fails when the two drift apart.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { eventRows } from './_doc-table.ts';

test('docs/protocol.md lists every event type with the fields its type has', (t) => {
  // Compared with runs of spaces as one: prettier pads the table's cells.
  const squeeze = (text: string) => text.replace(/ +/g, ' ');
  const doc = squeeze(readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8'));
  for (const [type, row] of eventRows()) {
    t.true(doc.includes(squeeze(row)), `${type}: docs/protocol.md lacks this row, or has another:\n${row}`);
  }
});
