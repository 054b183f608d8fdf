import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

// loadConfigYaml turns V8's optimizing compiler off while it parses a small configuration file
// (src/yaml/config_yaml.ts): it must be on again afterwards, whether the file loaded or was refused,
// or the rest of the process (a 16 MiB secret's YAML) would run unoptimized.

const CONFIG_YAML = fileURLToPath(new URL('../../src/yaml/config_yaml.ts', import.meta.url));

let bundled: string | undefined;

/**
 * src/yaml/config_yaml.ts and what it imports as one plain script defining `ConfigYaml`, bundled by esbuild
 * once: a child that loads it needs no TypeScript loader (tsx costs a child ~0.5 s of CPU, the script a
 * few ms).
 */
function configYamlScript(): string {
  bundled ??= buildSync({
    entryPoints: [CONFIG_YAML],
    bundle: true,
    platform: 'node',
    format: 'iife',
    globalName: 'ConfigYaml',
    target: 'node20',
    write: false,
    logLevel: 'warning',
  }).outputFiles[0]!.text;
  return bundled;
}

/** Whether V8 optimizes a function with TurboFan after `before` ran, in a fresh process. */
function optimizesAfter(before: string, extraFlags: string[] = []): boolean {
  const script = `${configYamlScript()}
    const { loadConfigYaml } = ConfigYaml;
    ${before}
    const status = new Function('f', 'return %GetOptimizationStatus(f)');
    const prepare = new Function('f', '%PrepareFunctionForOptimization(f)');
    const optimizeNext = new Function('f', '%OptimizeFunctionOnNextCall(f)');
    const add = (a, b) => a + b;
    prepare(add); add(1, 2); add(3, 4); optimizeNext(add); add(5, 6);
    process.stdout.write(String((status(add) & (1 << 4)) !== 0));`;
  // The script on stdin (`node -`): the bundle is too long for an argument.
  const result = spawnSync(process.execPath, ['--allow-natives-syntax', ...extraFlags, '-'], { input: script, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout === 'true';
}

test('the optimizing compiler is on after a configuration file loads', () => {
  assert.equal(optimizesAfter(''), true, 'control: V8 optimizes with no YAML loaded');
  assert.equal(optimizesAfter("loadConfigYaml('production:\\n  gitlab:\\n    host: example.com\\n');"), true);
});

test('the optimizing compiler is on after a configuration file is refused', () => {
  assert.equal(optimizesAfter("try { loadConfigYaml('a: [b\\n'); } catch {}"), true);
  assert.equal(optimizesAfter("try { loadConfigYaml('a: *nowhere\\n'); } catch {}"), true);
});

test('a process started without the optimizing compiler stays without it', () => {
  assert.equal(optimizesAfter("loadConfigYaml('a: 1\\n');", ['--no-opt']), false);
});
