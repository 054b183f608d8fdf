import { ConfigError } from '../errors.ts';

/**
 * The ERB that real gitlab.yml files contain, evaluated without Ruby:
 *   <%= ENV['X'] %>                 the variable, or '' when unset (nil.to_s)
 *   <%= ENV.fetch('X', 'default') %> the variable, or the default when unset
 *   <%= ENV['X'] || 'default' %>    the variable (even when empty: '' is truthy in Ruby), or the default
 *   <%# comment %>                  nothing
 * Anything else stops with the file and line, since guessing would point at the wrong secrets file.
 */
const TAG = /<%(=|#)?([\s\S]*?)-?%>/g;
const STRING = String.raw`(?:'([^'\\]*)'|"([^"\\]*)")`;
const ENV_INDEX = new RegExp(String.raw`^ENV\[\s*${STRING}\s*\]$`);
const ENV_FETCH = new RegExp(String.raw`^ENV\.fetch\(\s*${STRING}\s*,\s*${STRING}\s*\)$`);
const ENV_OR = new RegExp(String.raw`^ENV\[\s*${STRING}\s*\]\s*\|\|\s*${STRING}$`);

export function renderErb(text: string, file: string, env: NodeJS.ProcessEnv): string {
  if (!text.includes('<%')) return text;
  return text.replace(TAG, (tag: string, kind: string | undefined, code: string, offset: number) => {
    if (kind === '#') return '';
    const value = kind === '=' ? evaluate(code.trim(), env) : undefined;
    if (value === undefined) {
      const line = text.slice(0, offset).split('\n').length;
      throw new ConfigError(
        `${file}:${line}: unsupported ERB ${JSON.stringify(withoutLiterals(tag))}; ` +
          'only ENV lookups are understood. Name the encrypted file with --file <path> instead.',
      );
    }
    return value;
  });
}

function evaluate(code: string, env: NodeJS.ProcessEnv): string | undefined {
  let match = ENV_INDEX.exec(code);
  if (match) return env[(match[1] ?? match[2])!] ?? '';
  match = ENV_FETCH.exec(code);
  if (match) return env[(match[1] ?? match[2])!] ?? (match[3] ?? match[4])!;
  match = ENV_OR.exec(code);
  if (match) return env[(match[1] ?? match[2])!] ?? (match[3] ?? match[4])!;
  return undefined;
}

/**
 * The tag with its string literals blanked out: gitlab.yml may spell a password as `<%= 'secret'.strip %>`,
 * and no message shows a secret value (issue 10 §10). The code around them is enough to find the tag.
 */
function withoutLiterals(tag: string): string {
  return tag.replace(/'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?/g, (literal) => `${literal[0]}…${literal[0]}`);
}
