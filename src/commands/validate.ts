import { InvalidContentError, hintLine } from '../errors.ts';
import type { Io } from '../io.ts';
import type { Namespace } from '../namespaces.ts';
import { decodeUtf8 } from '../text.ts';
import { checkSecretYaml } from '../yaml/secret_yaml.ts';

/** `hint`: our own help on where libyaml stopped, for a `hint:` line after the refusal. */
export type ContentVerdict = { ok: true } | { ok: false; problem: string; hint?: string | undefined };

/**
 * Check new plaintext as GitLab loads it (`YAML.safe_load(contents, permitted_classes: [Symbol])` in
 * EncryptedCommandBase#validate_contents). A non-mapping gets GitLab's WARNING and is still saved;
 * invalid YAML gets the WARNING and is refused, since GitLab could not load it.
 */
export function checkContent(namespace: Namespace, bytes: Buffer, io: Io): ContentVerdict {
  if (decodeUtf8(bytes) === null) {
    return { ok: false, problem: 'The content is not valid UTF-8, so GitLab cannot load it as YAML' };
  }
  const check = checkSecretYaml(bytes);
  const warning = `WARNING: Content was not a valid ${namespace.displayName} secret yml file.`;
  if (check.kind === 'not-mapping') io.stdout.write(`${warning} Did not include any key-value pairs\n`);
  if (check.kind === 'invalid') {
    io.stdout.write(`${warning} ${check.reason}\n`);
    // Where libyaml stopped goes on a hint: line after the refusal, apart from GitLab's line.
    return { ok: false, problem: 'The content is not valid YAML, so GitLab could not load it', hint: check.hint };
  }
  // Saved, with our own help (a byte order mark hiding keys from GitLab) on stderr.
  if (check.kind === 'mapping' && check.hint !== undefined) io.stderr.write(`${hintLine(check.hint)}\n`);
  return { ok: true };
}

export function refuseContent(verdict: { problem: string; hint?: string | undefined }): InvalidContentError {
  const hint = verdict.hint === undefined ? '' : `\n${hintLine(verdict.hint)}`;
  return new InvalidContentError(`${verdict.problem}: nothing saved.${hint}`);
}
