# A fake $EDITOR for the interop tests (POSIX sh: a Node one cost ~0.13 s of CPU per run):
# `sh append_editor.sh WORD... FILE` appends the words, joined by spaces, as one line to FILE. The CLI
# appends FILE itself, so EDITOR="sh append_editor.sh 'a: 1'".
for file; do :; done
if [ -z "${file:-}" ]; then
  printf 'usage: append_editor.sh WORD... FILE\n' >&2
  exit 2
fi
line=
i=0
for word; do
  i=$((i + 1))
  [ "$i" -lt "$#" ] || break
  if [ "$i" -eq 1 ]; then line=$word; else line="$line $word"; fi
done
printf '%s\n' "$line" >>"$file"
