# Timing helpers of the bound scripts (bounds.sh, crane-bound.sh); they
# keep their scratch files in "$work", which the sourcing script makes.

# Seconds (wall, then user + system, children included) of a command.
timed() {
  local TIMEFORMAT='%R %U %S'
  { time "$@" > /dev/null 2> "$work/stderr"; } 2> "$work/time"
  awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$work/time"
}
# The least of the numbers on stdin, one a line. Bounds are least: what
# this machine can do, not what it did on average.
least() { sort -n | head -1; }
