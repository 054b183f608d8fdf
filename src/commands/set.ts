import { isDeepStrictEqual } from 'node:util';
import {
  BadSettingPathError,
  CurrentContentInvalidError,
  EmptyValueError,
  InPlaceEditRefusedError,
  PositionalValueError,
  PromptMismatchError,
  SettingPathConflictError,
  ValueNotScalarError,
  ValueNotUtf8Error,
} from '../errors.ts';
import type { ReadResult } from '../format/encrypted_file.ts';
import { readInput } from '../io.ts';
import { instanceByName } from '../namespaces.ts';
import { decodeUtf8 } from '../text.ts';
import { checkSecretYaml } from '../yaml/secret_yaml.ts';
import { editCommand, openTarget } from './context.ts';
import type { CommandContext, Opened } from './context.ts';
import { prepareChange, saveChange } from './save.ts';
import type { Change } from './save.ts';
import { PathConflict, TextEditRefused, setInText, yamlString } from './text_edit.ts';
import type { TextEdit } from './text_edit.ts';
import { checkContent, refuseContent } from './validate.ts';

export interface SetOptions {
  /** The value as YAML scalar text, from the command line; else it comes from stdin. */
  value?: string | undefined;
  /** Let an empty value from stdin be set. */
  allowEmpty?: boolean;
  /** Create a missing settings directory. */
  createDir?: boolean;
  /** Start from nothing when the current file cannot be decrypted (its contents are lost). */
  force?: boolean;
}

/** What a setting becomes: the YAML text written and the value GitLab will load from it. */
interface NewValue {
  text: string;
  loaded: unknown;
}

/**
 * `gitlab-secrets <ns> set <dotted.key>`: change one setting, leaving every other byte of the file as it
 * was. The value comes from stdin (always a string) or from --value (a YAML scalar, as Psych reads it).
 */
export async function set(context: CommandContext, key: string, options: SetOptions = {}): Promise<void> {
  refusePositionalValue(context, 'set');
  const path = settingPath(key);
  const opened = openTarget(context, { createDir: options.createDir === true });
  const change = await prepareChange(context, { force: options.force === true, hint: true, opened });
  const text = currentText(context, opened, change.current);
  const value = options.value !== undefined ? valueFromArgument(options.value) : await valueFromStdin(context, options.allowEmpty === true);
  const edit = inPlace(context, key, () => setInText(text, path, value.text));
  await saveEdit(context, change, text, edit, path, { set: value.loaded });
}

/** `redis set password hunter2` would take the value for an instance name: refuse without repeating it. */
export function refusePositionalValue(context: CommandContext, verb: string): void {
  if (context.instance === undefined) return;
  try {
    instanceByName(context.namespace, context.instance);
  } catch {
    throw new PositionalValueError(`gitlab-secrets ${context.namespace.name} ${verb}`);
  }
}

export function settingPath(key: string): string[] {
  const parts = key.split('.');
  if (parts.some((part) => part === '')) throw new BadSettingPathError(key);
  return parts;
}

export function currentText(context: CommandContext, opened: Opened, current: ReadResult | null): string {
  if (!current) return '';
  const text = decodeUtf8(current.plaintext);
  if (text === null || checkSecretYaml(current.plaintext).kind === 'invalid') {
    throw new CurrentContentInvalidError(opened.target.path, editCommand(context));
  }
  return text;
}

function valueFromArgument(raw: string): NewValue {
  // An anchor or a tag would be written into the file, and set refuses to change such an entry in place
  // later: only plain and quoted scalars.
  if (/[\r\n]/.test(raw) || /^\s*[&!]/.test(raw)) throw new ValueNotScalarError();
  const check = checkSecretYaml(Buffer.from(`v: ${raw}\n`, 'utf8'));
  if (check.kind !== 'mapping' || Object.keys(check.value).length !== 1) throw new ValueNotScalarError();
  const loaded = check.value['v'];
  if (typeof loaded === 'object' && loaded !== null && !(loaded instanceof Uint8Array)) throw new ValueNotScalarError();
  return { text: raw, loaded };
}

/**
 * A pipe: all of it, less one trailing newline (`echo "$PASS" |` adds one), as a string. A terminal: a
 * prompt that does not echo, asked twice.
 */
async function valueFromStdin(context: CommandContext, allowEmpty: boolean): Promise<NewValue> {
  const { stdin } = context.io;
  let value: string;
  if (stdin.isTTY) {
    const { readHidden } = await import('./prompt.ts');
    value = await readHidden(context.io, 'Value (not shown): ');
    if ((await readHidden(context.io, 'The same again: ')) !== value) throw new PromptMismatchError();
  } else {
    const decoded = decodeUtf8(await readInput(stdin));
    if (decoded === null) throw new ValueNotUtf8Error();
    value = decoded.replace(/\r?\n$/, '');
  }
  if (value === '' && !allowEmpty) throw new EmptyValueError();
  return { text: yamlString(value), loaded: value };
}

export function inPlace(context: CommandContext, key: string, run: () => TextEdit): TextEdit {
  try {
    return run();
  } catch (error) {
    if (error instanceof PathConflict) throw new SettingPathConflictError(key, error.at, error.isMapping);
    if (error instanceof TextEditRefused) throw new InPlaceEditRefusedError(key, error.message, editCommand(context));
    throw error;
  }
}

/**
 * Check the new text as GitLab will load it, and that it holds the old settings with exactly this one
 * change (a wrong edit is refused, never saved); then save it under the usual guarantees.
 */
export async function saveEdit(
  context: CommandContext,
  change: Change,
  before: string,
  edit: TextEdit,
  path: readonly string[],
  wanted: { set: unknown } | { unset: true },
): Promise<void> {
  const bytes = Buffer.from(edit.text, 'utf8');
  const verdict = checkContent(context.namespace, bytes, context.io);
  if (!verdict.ok) throw refuseContent(verdict);
  const old = settingsOf(Buffer.from(before, 'utf8'));
  const now = settingsOf(bytes);
  if (now === undefined || !onlyChanged(old ?? {}, now, path, wanted)) {
    throw new InPlaceEditRefusedError(path.join('.'), 'the result would change other settings too', editCommand(context));
  }
  // The new text was made from the one read: a change that landed meanwhile is a conflict, never lost.
  await saveChange(context, change, bytes, { onChanged: 'conflict' });
}

function settingsOf(bytes: Buffer): Record<string, unknown> | undefined {
  const check = checkSecretYaml(bytes);
  return check.kind === 'mapping' ? check.value : check.kind === 'not-mapping' ? {} : undefined;
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/** `now` is `old` with only `path` set to the value, or removed. */
function onlyChanged(old: unknown, now: unknown, path: readonly string[], change: { set: unknown } | { unset: true }): boolean {
  if (path.length === 0) return 'set' in change ? isDeepStrictEqual(now, change.set) : false;
  const oldMap = old === undefined ? {} : old;
  if (!isMapping(oldMap) || !isMapping(now)) return false;
  const [part, ...rest] = path as [string, ...string[]];
  const keys = new Set([...Object.keys(oldMap), ...Object.keys(now)]);
  for (const key of keys) {
    if (key === part) continue;
    if (!Object.hasOwn(oldMap, key) || !Object.hasOwn(now, key) || !isDeepStrictEqual(oldMap[key], now[key])) return false;
  }
  if ('unset' in change && rest.length === 0) return !Object.hasOwn(now, part);
  if (!Object.hasOwn(now, part)) return false;
  return onlyChanged(oldMap[part], now[part], rest, change);
}
