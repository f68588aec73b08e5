# Helpers the bench scripts share (sourced, not run): figures of running processes from /proc.

# CPU time (user + system, in clock ticks: getconf CLK_TCK a second) of the given processes, all
# their threads included. The fields after the process name, which may hold spaces: utime, stime.
cpu_ticks() { local s=0 pid; for pid in "$@"; do s=$((s + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'))); done; echo "$s"; }
