# Helpers the bench scripts share (sourced, not run): figures of running processes from /proc, and
# where they run.

# PIN=1 in the environment: the server under test alone on CPU 1, the load generators on CPU 0.
# Sets the arrays ON_SERVER and ON_CLIENT, the command prefixes (taskset; empty without PIN=1), and
# exits when the machine cannot pin.
pin_cpus() {
  ON_SERVER=(); ON_CLIENT=()
  [[ "${PIN:-0}" == 1 ]] || return 0
  command -v taskset >/dev/null || { echo "bench: PIN=1 needs taskset (util-linux)" >&2; exit 1; }
  (( $(nproc) >= 2 )) || { echo "bench: PIN=1 needs two CPUs" >&2; exit 1; }
  ON_SERVER=(taskset -c 1); ON_CLIENT=(taskset -c 0)
}

# CPU time (user + system, in clock ticks: getconf CLK_TCK a second) of the given processes, all
# their threads included. The fields after the process name, which may hold spaces: utime, stime.
cpu_ticks() { local s=0 pid; for pid in "$@"; do s=$((s + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'))); done; echo "$s"; }
