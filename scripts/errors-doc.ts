/**
 * Regenerates the code table of docs/errors.md from core/errors.ts:
 * `node scripts/errors-doc.ts` (run after adding a code; the errors test checks the doc).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '../core/errors.ts';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/errors.md');
const BEGIN = '<!-- codes:begin -->';
const END = '<!-- codes:end -->';
const rows = Object.entries(ERROR_CODES).map(([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.retriable ? 'yes' : 'no'} | ${spec.summary} |`);
const table = [BEGIN, '| code | HTTP status | retriable | when |', '|---|---|---|---|', ...rows, END].join('\n');
const text = fs.readFileSync(file, 'utf8');
const start = text.indexOf(BEGIN);
const stop = text.indexOf(END);
if (start === -1 || stop === -1) throw new Error(`${file} lacks the ${BEGIN} / ${END} markers`);
fs.writeFileSync(file, text.slice(0, start) + table + text.slice(stop + END.length));
console.log(`docs/errors.md: ${rows.length} codes`);
