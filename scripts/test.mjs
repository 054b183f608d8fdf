// `npm test`: build, then the type check and the test files side by side (two cores: the type check is
// mostly one core, the tests wait on processes and the disk as often as they compute). Fails if either does.
// Arguments are test files to run instead of all of them.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';

const run = (command, args, options = {}) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    const output = [];
    child.stdout?.on('data', (chunk) => output.push(chunk));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output: Buffer.concat(output) }));
  });

/** The longest files start first, so that the two workers finish together. */
const SLOW_FIRST = ['test/package/pack.test.ts', 'test/interop/library.test.ts', 'test/safety/terminal.test.ts', 'test/package/binary.test.ts'];

if ((await run(process.execPath, ['scripts/build.mjs'])).code !== 0) process.exit(1);

const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync('test', { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .flatMap((dir) => readdirSync(`test/${dir.name}`).filter((f) => f.endsWith('.test.ts')).map((f) => `test/${dir.name}/${f}`))
        .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
function rank(file) {
  const at = SLOW_FIRST.indexOf(file);
  return at < 0 ? SLOW_FIRST.length : at;
}
const typecheck = run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit'], { stdio: ['ignore', 'pipe', 'inherit'] });
const tests = run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', ...files]);
const [typecheckRun, testsRun] = await Promise.all([typecheck, tests]);
if (typecheckRun.code !== 0) {
  process.stderr.write(typecheckRun.output);
  console.error('npm test: tsc --noEmit failed');
}
process.exit(typecheckRun.code || testsRun.code);
