# A scriptable $EDITOR for the safety tests, run as `EDITOR="sh /abs/path/safety_editor.sh"` (POSIX sh and
# coreutils: a Node editor cost ~0.13 s of CPU per run, this one a few ms). The file to edit is the last
# argument. It is driven by one variable:
#
#   SAFETY_EDITOR_PLAN=<plan directory>, written by `editor()` in safety_helpers.ts:
#     <plan>/log/       where the records go (writable by everyone: the editor may run as nobody)
#     <plan>/<n>/       the step for run n (1, 2, ...), one file per action the step takes
#
# The editor counts its runs (1, 2, ...) by the records already in the log and follows step n, or the last
# step when there are fewer steps than runs (none at all: it leaves the buffer alone and exits 0). A step
# directory may hold, applied in this order:
#
#   write         raw bytes that replace the buffer (in place)
#   sidecar       a file name: write the buffer's bytes to that file beside the buffer, as an editor's swap
#                 or backup file would be
#   removeBuffer  (present) delete the buffer, as a careless editor or a user's `:!rm %` would
#   target, targetMode, targetBody
#                 act as another writer on the ENCRYPTED file `target` while the edit is open: targetMode
#                 "rename" writes a sibling (mode 0600) and renames it over the file, as gitlab-secrets and
#                 Rails do; "inplace" truncates and rewrites; "delete" removes it. targetBody: the bytes.
#   sleepMs       wait, after acting and recording, so a test can interrupt an edit in progress
#   sleepWith     the path of a Node executable: do that wait as a Node process (exec'd, so with this
#                 process's pid; Node itself then moves the record into place), for the tests about how a
#                 Node-based editor takes signals
#   exit          the exit code (default 0)
#
# Single-line values (sidecar, target, targetMode, sleepMs, sleepWith, exit) have no newline.
#
# Before sleeping it writes `<log>/run-<n>.rec` atomically (`.partial`, then mv: it appears last, so a test
# can poll for it to know the editor is running). The record is what the editor found when it started,
# before acting. Its format needs no escaping: NUL-terminated fields, key then value, and the raw bytes
# the editor was given at the end:
#
#   run <n> pid <pid> ppid <parent pid: the CLI> argv <word> (one per word: this script's path, its
#   arguments, the buffer path last) buffer <path> stat <%f %u %g of the buffer> stat <%f %u %g of its
#   directory> entry <name> (one per entry of the buffer's directory, unsorted) seen <bytes to the end>
#
# It never writes to stdout or stderr, so the CLI's streams stay the CLI's own (a failing command's own
# message aside, as the Node editor's stack trace was: a test that sees it has found a broken step).

[ "$#" -ge 1 ] && [ -n "${SAFETY_EDITOR_PLAN:-}" ] || exit 64
plan=$SAFETY_EDITOR_PLAN
log=$plan/log
for buffer; do :; done
case $buffer in
  */*) dir=${buffer%/*}; [ -n "$dir" ] || dir=/ ;;
  *) dir=. ;;
esac

run=1
for record in "$log"/run-*.rec; do
  [ -e "$record" ] && run=$((run + 1))
done
step=$run
while [ "$step" -gt 0 ] && [ ! -d "$plan/$step" ]; do step=$((step - 1)); done
step=$plan/$step

# A one-line value of the step, or the default.
value() {
  v=$2
  [ -e "$step/$1" ] || return 0
  IFS= read -r v <"$step/$1" || :
}

record=$log/run-$run.rec
{
  printf '%s\0' run "$run" pid "$$" ppid "$PPID"
  printf 'argv\0%s\0' "$0" "$@"
  printf '%s\0' buffer "$buffer"
  stat --printf 'stat\0%f %u %g\0' -- "$buffer" "$dir" || exit 1
  for entry in "$dir"/* "$dir"/.[!.]* "$dir"/..?*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    printf 'entry\0%s\0' "${entry##*/}"
  done
  printf 'seen\0'
  cat -- "$buffer" || exit 1
} >"$record.partial" || exit 1

if [ -e "$step/write" ]; then cat -- "$step/write" >"$buffer" || exit 1; fi
if [ -e "$step/sidecar" ]; then
  value sidecar ''
  cat -- "$buffer" >"$dir/$v" || exit 1
fi
if [ -e "$step/removeBuffer" ]; then rm -- "$buffer" || exit 1; fi
if [ -e "$step/target" ]; then
  value target ''
  target=$v
  value targetMode rename
  case $v in
    delete) rm -- "$target" || exit 1 ;;
    inplace) cat -- "$step/targetBody" >"$target" || exit 1 ;;
    *)
      mask=$(umask)
      umask 077
      cat -- "$step/targetBody" >"$target.other-writer" || exit 1
      umask "$mask"
      mv -f -- "$target.other-writer" "$target" || exit 1
      ;;
  esac
fi

value exit 0
code=$v
value sleepMs 0
ms=$v
value sleepWith ''
if [ "$ms" -gt 0 ] && [ -n "$v" ]; then
  # Node publishes the record once it runs, as the Node editor did: a test that acts on the record then
  # acts on a Node process that has taken the terminal's settings at its start.
  exec "$v" -e '
    const [partial, record, ms, code] = process.argv.slice(1);
    require("node:fs").renameSync(partial, record);
    setTimeout(() => process.exit(Number(code)), Number(ms));
  ' "$record.partial" "$record" "$ms" "$code"
fi
mv -f -- "$record.partial" "$record" || exit 1
[ "$ms" -gt 0 ] || exit "$code"
seconds=$((ms / 1000)).$(printf '%03d' $((ms % 1000)))
# With nothing left to do but exit 0, become the sleep: a signal for the editor (SIGTERM from the CLI, the
# group's SIGINT, SIGKILL to the recorded pid) then ends it at once and leaves no child behind.
[ "$code" -ne 0 ] || exec sleep "$seconds"
# An exit code to return after the sleep: sleep in the background and wait, which a trapped signal
# interrupts at once; stop the sleep, then die of the signal as a Node editor would. (SIGKILL to this
# process alone would leave the sleep running out its time.)
sleep "$seconds" &
sleeper=$!
for signal in HUP INT TERM; do
  trap "kill $sleeper 2>/dev/null; trap - $signal; kill -$signal $$" "$signal"
done
wait "$sleeper" 2>/dev/null
exit "$code"
