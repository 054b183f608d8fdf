import assert from 'node:assert/strict';
import type { CliResult } from '../helpers/run_cli.ts';

/**
 * A failure with GitLab's line kept byte for byte and one `hint:` line of ours after it (matching `hint`
 * when given), nothing on stdout, a non-zero exit.
 */
export function assertFailsWithHint(result: CliResult, line: string, hint?: RegExp | string): void {
  const lines = result.stderr.split('\n');
  assert.equal(lines.length, 3, `two lines and a newline on stderr: ${JSON.stringify(result.stderr)}`);
  assert.equal(lines[0], line, 'GitLab line');
  assert.ok(lines[1]!.startsWith('hint: '), `hint line: ${lines[1]}`);
  assert.equal(lines[2], '');
  if (typeof hint === 'string') assert.ok(lines[1]!.includes(hint), `${lines[1]} mentions ${hint}`);
  else if (hint) assert.match(lines[1]!, hint);
  assert.equal(result.stdout, '', 'stdout');
  assert.notEqual(result.exitCode, 0, 'exit code');
}
