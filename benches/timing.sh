# Timing helpers of the bound scripts (bounds.sh, crane-bound.sh); they
# keep their scratch files in "$work", which the sourcing script makes.

# Seconds (wall, then user + system, children included) of a command.
timed() {
  local TIMEFORMAT='%R %U %S'
  { time "$@" > /dev/null 2> "$work/stderr"; } 2> "$work/time"
  awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$work/time"
}
# The least and the most of the numbers on stdin, one a line. Bounds are
# least: what this machine can do, not what it did on average.
least() { sort -n | head -1; }
most() { sort -n | tail -1; }
# The median of the numbers on stdin, one a line (the upper one of an even count).
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
