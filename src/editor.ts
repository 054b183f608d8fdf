import { accessSync, constants, chmodSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { EditBufferLostError, EditorFailedError, HANDLED_SIGNALS, InterruptedError } from './errors.ts';
import { removeOnExit } from './fs/cleanup.ts';
import { trackEditor } from './signals.ts';

/**
 * Split $EDITOR into words as a shell would for a simple command, honouring quotes and backslashes
 * (Rails uses Shellwords; GitLab's plain split on spaces broke `EDITOR='emacs -nw'`, GitLab issue
 * 431339). No variable expansion, no globbing: the words are run without a shell.
 */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new EditorFailedError(`${command} (unterminated quote)`);
      word += command.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      inWord = true;
      for (i++; ; i++) {
        if (i >= command.length) throw new EditorFailedError(`${command} (unterminated quote)`);
        const d = command[i]!;
        if (d === '"') break;
        if (d === '\\' && i + 1 < command.length && '"\\$`\n'.includes(command[i + 1]!)) word += command[++i];
        else word += d;
      }
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

export interface EditBuffer {
  path: string;
  read(): Buffer;
  write(bytes: Uint8Array): void;
  remove(): void;
}

/**
 * The plaintext's home while the editor runs: a 0600 file in a private 0700 directory, on a RAM-backed
 * filesystem where there is one, never beside the encrypted file (GitLab puts it in the settings
 * directory). Named after the target with a YAML suffix so editors highlight it.
 */
export async function createEditBuffer(targetPath: string, env: NodeJS.ProcessEnv): Promise<EditBuffer> {
  const { tmp } = await import('./editor_deps.ts');
  const dir = tmp.dirSync({ prefix: 'gitlab-secrets-', mode: 0o700, tmpdir: privateTempRoot(env) }).name;
  const remove = removeOnExit(dir);
  chmodSync(dir, 0o700);
  const name = basename(targetPath).replace(/\.enc$/, '');
  const path = join(dir, /\.ya?ml$/.test(name) ? name : `${name}.yml`);
  return {
    path,
    read: () => {
      try {
        return readFileSync(path);
      } catch {
        throw new EditBufferLostError();
      }
    },
    write: (bytes) => writeFileSync(path, bytes, { mode: 0o600 }),
    remove,
  };
}

/** $XDG_RUNTIME_DIR (per user, in RAM), then /dev/shm, then the system temp directory. */
function privateTempRoot(env: NodeJS.ProcessEnv): string {
  for (const dir of [env['XDG_RUNTIME_DIR'], '/dev/shm']) {
    if (dir && isWritableDirectory(dir)) return dir;
  }
  return tmpdir();
}

function isWritableDirectory(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Run the editor on a file, stdio inherited, no shell. Resolves with how long it ran; an editor that
 * cannot start, is killed or exits non-zero is an EditorFailedError.
 */
export async function runEditor(editor: string, file: string, env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...args] = splitCommand(editor);
  if (!command) throw new EditorFailedError(editor);
  const { execa } = await import('./editor_deps.ts');
  const started = Date.now();
  const child = execa(command, [...args, file], { stdio: 'inherit', reject: false, env, extendEnv: false });
  trackEditor(child);
  try {
    const result = await child;
    // The editor died of the signal that is stopping us too (Ctrl-C, a hang-up): that is an interruption.
    const signal = HANDLED_SIGNALS.find((name) => name === result.signal);
    if (signal) throw new InterruptedError(signal);
    if (result.failed) throw new EditorFailedError(editor);
  } finally {
    trackEditor(undefined);
  }
  return Date.now() - started;
}
