# A scriptable $EDITOR for the CLI tests, run as `EDITOR="sh /abs/path/fake_editor.sh"` so every edit test
# also proves that an EDITOR with arguments works (GitLab issue 431339). POSIX sh and coreutils: a Node
# editor cost ~0.13 s of CPU per run, this one a few ms. The file to edit is the last argument. It acts in
# this order, each step only when its variable is set:
#
# 1. FAKE_EDITOR_RECORD=<path>: copy the buffer it was given to <path>, then write its own argv (this
#    script's path, its arguments, the buffer path last), each word NUL-terminated, to `<path>.argv`. That
#    file appears last and atomically, so a test can poll for it to know the editor is running.
# 2. FAKE_EDITOR_WRITE=<path>: replace the buffer's bytes with that file's bytes (in place).
# 3. FAKE_EDITOR_APPEND=<text>: append the text to the buffer.
# 4. FAKE_EDITOR_SLEEP_MS=<n>: wait, after acting, so a test can interrupt an edit in progress.
# 5. FAKE_EDITOR_EXIT=<code>: the exit code (default 0).
#
# With none of them set it leaves the buffer unchanged, like `:q` in vim.

if [ "$#" -lt 1 ]; then
  printf 'fake_editor: no file to edit\n' >&2
  exit 64
fi
for buffer; do :; done

if [ -n "${FAKE_EDITOR_RECORD:-}" ]; then
  cat -- "$buffer" >"$FAKE_EDITOR_RECORD" || exit 1
  printf '%s\0' "$0" "$@" >"$FAKE_EDITOR_RECORD.argv.tmp" || exit 1
  mv -f -- "$FAKE_EDITOR_RECORD.argv.tmp" "$FAKE_EDITOR_RECORD.argv" || exit 1
fi
if [ -n "${FAKE_EDITOR_WRITE:-}" ]; then cat -- "$FAKE_EDITOR_WRITE" >"$buffer" || exit 1; fi
if [ -n "${FAKE_EDITOR_APPEND:-}" ]; then printf '%s' "$FAKE_EDITOR_APPEND" >>"$buffer" || exit 1; fi

code=${FAKE_EDITOR_EXIT:-0}
ms=${FAKE_EDITOR_SLEEP_MS:-0}
[ "$ms" -gt 0 ] || exit "$code"
seconds=$((ms / 1000)).$(printf '%03d' $((ms % 1000)))
# With nothing left to do but exit 0, become the sleep: a signal for the editor (SIGTERM from the CLI, the
# group's SIGINT) then ends it at once and leaves no child behind.
[ "$code" -ne 0 ] || exec sleep "$seconds"
# An exit code to return after the sleep: sleep in the background and wait, which a trapped signal
# interrupts at once; stop the sleep, then die of the signal as a Node editor would.
sleep "$seconds" &
sleeper=$!
for signal in HUP INT TERM; do
  trap "kill $sleeper 2>/dev/null; trap - $signal; kill -$signal $$" "$signal"
done
wait "$sleeper" 2>/dev/null
exit "$code"
