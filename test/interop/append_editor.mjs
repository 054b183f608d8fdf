#!/usr/bin/env node
// A fake $EDITOR for the interop tests: `append_editor.mjs WORD... FILE` appends the words, joined by
// spaces, as one line to FILE. The CLI appends FILE itself, so EDITOR="node append_editor.mjs 'a: 1'".
import { appendFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.pop();
if (!file) {
  process.stderr.write('usage: append_editor.mjs WORD... FILE\n');
  process.exit(2);
}
appendFileSync(file, `${args.join(' ')}\n`);
