import { KeyNotFoundError } from '../errors.ts';
import { openTarget } from './context.ts';
import type { CommandContext } from './context.ts';
import { prepareChange } from './save.ts';
import { currentText, inPlace, saveEdit, settingPath } from './set.ts';
import { unsetInText } from './text_edit.ts';

/** `gitlab-secrets <ns> unset <dotted.key>`: remove one setting, every other byte staying as it was. */
export async function unset(context: CommandContext, key: string): Promise<void> {
  const path = settingPath(key);
  const opened = openTarget(context);
  const change = await prepareChange(context, { hint: true, opened });
  const text = currentText(context, opened, change.current);
  let removed = false;
  const edit = inPlace(context, key, () => {
    const result = unsetInText(text, path);
    removed = result !== null;
    return result ?? { text };
  });
  if (!removed) throw new KeyNotFoundError(key, opened.target.path);
  await saveEdit(context, change, text, edit, path, { unset: true });
}
