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

# The peers (nginx, HAProxy, NSD) start as daemons, each in a session of its own, and so, where the
# kernel's autogroup scheduling is on (/proc/sys/kernel/sched_autogroup_enabled), in a scheduling
# group of its own. A process started from this script shares the script's session, and its group,
# with wrk and dnsperf: the scheduler then shares one group's CPU between the server and the load
# generator, and the server measured lower than it is (webstack's proxy: 8-13% of both CPUs idle
# under load against 1-2% for nginx's, ~0.9x nginx's requests/s against ~1.1x in a session of its
# own). AS_DAEMON, the command prefix that puts webstack where the peers are: setsid.
AS_DAEMON=(setsid)
command -v setsid >/dev/null || { echo "bench: setsid missing (util-linux)" >&2; exit 1; }

# CPU time (user + system, in clock ticks: getconf CLK_TCK a second) of the given processes, all
# their threads included. The fields after the process name, which may hold spaces: utime, stime.
cpu_ticks() { local s=0 pid; for pid in "$@"; do s=$((s + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'))); done; echo "$s"; }
