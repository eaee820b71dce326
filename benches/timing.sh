# Helpers of the bound scripts (bounds.sh, crane-bound.sh): timing, and
# the state each timed write starts in. They keep their scratch files in
# "$work", which the sourcing script makes.

# Seconds (wall, then user + system, children included) of a command.
timed() {
  local TIMEFORMAT='%R %U %S'
  { time "$@" > /dev/null 2> "$work/stderr"; } 2> "$work/time"
  awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$work/time"
}
# The least of the numbers on stdin, one a line. Bounds are least: what
# this machine can do, not what it did on average.
least() { sort -n | head -1; }
# A directory no run has used, for one run's writes: with ext2/3/4's
# top-directory flag where the file system takes it, as unpack's spread
# directory, so that no recently deleted inodes lie in its way.
fresh_dir() { # NAME
  mkdir "$work/$1"
  chattr +T "$work/$1" 2> /dev/null || true
  echo "$work/$1"
}
# No other write's dirty pages left to throttle the next write, and the
# pages freed so far handed back to the VM's host (BOUND_SETTLE seconds).
settle() { sync && sleep "${BOUND_SETTLE:-5}"; }
