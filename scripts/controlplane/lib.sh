# shellcheck shell=bash
# Shared helpers for scripts/controlplane/*.sh, and the entry points for tests.
#
# Contract: safe to source from any bash script (it defines functions and default variables only and changes
# no shell options). Tests use it like this:
#
#   source scripts/controlplane/lib.sh
#   cp_dir=$(mktemp -d)
#   trap 'controlplane_down "$cp_dir" --rm' EXIT      # never fails, keeps the script's exit status
#   controlplane_up "$cp_dir"                          # starts etcd + kube-apiserver, exports DIR/env
#   "$KUBECTL" get ns                                  # KUBECONFIG, APISERVER_URL, KUBECTL, HELM, ... are set
#
# Versions (override through the environment; the cache is keyed by them):
#   PIPEGUARD_KUBE_VERSION   k8s.io/kubernetes release for kube-apiserver and kubectl
#   PIPEGUARD_ETCD_VERSION   go.etcd.io/etcd/server/v3 release (3.5.x for Kubernetes 1.33)
#   PIPEGUARD_HELM_VERSION   helm.sh/helm/v3 release (3.18.x is the line built against Kubernetes 1.33)
# Paths:
#   PIPEGUARD_CACHE          cache root, default ~/.cache/pipeguard; binaries live in $PIPEGUARD_CACHE/bin/
#   KUBEBUILDER_ASSETS       if it holds kube-apiserver and etcd (and maybe kubectl), those are used instead

: "${PIPEGUARD_KUBE_VERSION:=v1.33.13}"
: "${PIPEGUARD_ETCD_VERSION:=v3.5.35}"
: "${PIPEGUARD_HELM_VERSION:=v3.18.6}"
: "${PIPEGUARD_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/pipeguard}"

PIPEGUARD_CONTROLPLANE_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# cp_log MSG... : progress and diagnostics go to stderr so that stdout stays machine-readable.
cp_log() { printf 'controlplane: %s\n' "$*" >&2; }

# cp_die MSG... : log and exit 1 (only for use inside the scripts, not from a test's shell).
cp_die() {
  cp_log "error: $*"
  exit 1
}

# cp_pid_alive PID : true if PID exists and is not a zombie.
cp_pid_alive() {
  local pid=$1 stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) } # the state field follows the last ')' (the command name may contain spaces and parens)
  [[ ${stat%% *} != Z ]]
}

# cp_run_logged LOGGER LABEL LOG CMD... : runs CMD in the background with its output in LOG, calling LOGGER (a
# function such as cp_log) with a heartbeat every 30 s; on failure LOGGER names it and LOG's tail goes to stderr;
# returns CMD's status. Sets the caller's global build_pid while CMD runs, so an exit trap can kill it.
cp_run_logged() {
  local logger=$1 label=$2 log=$3 start=$SECONDS rc=0 next=30
  shift 3
  "$@" >"$log" 2>&1 &
  build_pid=$!
  while cp_pid_alive "$build_pid"; do
    sleep 1
    if ((SECONDS - start >= next)); then
      "$logger" "$label: still building ($((SECONDS - start))s elapsed, log $log)"
      next=$((next + 30))
    fi
  done
  wait "$build_pid" || rc=$?
  build_pid=
  if ((rc != 0)); then
    "$logger" "$label: FAILED after $((SECONDS - start))s (exit $rc); last lines of $log:"
    tail -n 40 "$log" >&2
    return "$rc"
  fi
  "$logger" "$label: built in $((SECONDS - start))s"
}

# cp_pid_owned PID DIR : true if PID is alive and its command line mentions a path under DIR ("DIR/..."), i.e.
# it is a process we started for that control plane and not an unrelated process that reused the PID (nor a
# shell that merely got DIR as an argument).
cp_pid_owned() {
  local pid=$1 dir=$2 cmdline
  cp_pid_alive "$pid" || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$dir/"* ]]
}

# cp_signal_group SIG PID : send SIG to PID's process group when PID leads one (started with setsid), else to PID.
cp_signal_group() {
  local sig=$1 pid=$2 stat pg
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  read -r _ _ pg _ <<<"$stat"
  if [[ $pg == "$pid" ]]; then
    kill "-$sig" -- "-$pid" 2>/dev/null || true
  else
    kill "-$sig" "$pid" 2>/dev/null || true
  fi
}

# cp_stop_recorded LOG DIR GRACE NAME... : stop, in the given order, the processes recorded in DIR/NAME.pid that are
# still ours (cp_pid_owned; a recycled PID is left alone): SIGTERM to the process group, SIGKILL after GRACE
# seconds. Removes the pid file of everything that is gone and logs through the function named LOG. Returns 1,
# after logging what is left, if anything is still running. Shared by every stop.sh of the test servers.
cp_stop_recorded() {
  local log=$1 dir=$2 grace=$3 name pidfile pid deadline
  shift 3
  local remaining=()
  for name in "$@"; do
    pidfile=$dir/$name.pid
    [[ -f $pidfile ]] || continue
    pid=$(cat "$pidfile")
    # A watchdog runs stop.sh by exec'ing it: never signal ourselves.
    if [[ $pid == "$$" ]] || ! cp_pid_owned "$pid" "$dir"; then
      rm -f "$pidfile"
      continue
    fi
    cp_signal_group TERM "$pid"
    deadline=$((SECONDS + grace))
    while cp_pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if cp_pid_alive "$pid"; then
      "$log" "$name (PID $pid) ignored SIGTERM for ${grace}s; sending SIGKILL"
      cp_signal_group KILL "$pid"
      sleep 0.3
    fi
    if cp_pid_alive "$pid"; then
      remaining+=("$name:$pid")
    else
      rm -f "$pidfile"
      "$log" "stopped $name (PID $pid)"
    fi
  done
  if ((${#remaining[@]})); then
    "$log" "error: still running in $dir: ${remaining[*]}"
    return 1
  fi
}

# cp_procs_in DIR : print the PIDs of live processes whose command line mentions a path under DIR (leaks).
cp_procs_in() {
  local dir=$1 p pid
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [[ $pid == "$$" || $pid == "${BASHPID:-}" ]] && continue
    cp_pid_owned "$pid" "$dir" && printf '%s\n' "$pid"
  done
  return 0
}

# cp_free_port VAR : store in VAR a TCP port on which nothing listens or is connected right now, chosen at random
# below the kernel's ephemeral range; ports handed out earlier in this shell are not handed out again. Binding
# can still race with another process: callers retry on "address already in use".
cp_free_port() {
  local -n _cp_out=$1
  local used=" " _sl addr _rest port i
  while read -r _sl addr _rest; do
    [[ $addr == *:* ]] || continue
    used+="$((16#${addr##*:})) "
  done < <(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  for ((i = 0; i < 500; i++)); do
    port=$((20000 + RANDOM % 12000))
    [[ $used == *" $port "* || ${_CP_TAKEN_PORTS:-} == *" $port "* ]] && continue
    _CP_TAKEN_PORTS="${_CP_TAKEN_PORTS:- } $port "
    _cp_out=$port
    return 0
  done
  cp_log "error: no free TCP port found"
  return 1
}

# --- Starting servers: shared by the start.sh scripts (controlplane, moto, podidentity, sigstore) -------------------

# cp_launch DIR NAME CMD... : start CMD in its own session with output in DIR/NAME.log and its PID in DIR/NAME.pid.
# (A background job of a non-interactive shell is not a group leader, so setsid(1) does not fork: $! is the PID of
# the real process, which is also its process group ID, and stop scripts signal that group.)
cp_launch() {
  local dir=$1 name=$2
  shift 2
  setsid "$@" </dev/null >"$dir/$name.log" 2>&1 &
  echo "$!" >"$dir/$name.pid"
}

# cp_wait_up DIR NAME TIMEOUT CHECK_CMD... : polls CHECK_CMD (output discarded) until it succeeds: returns 0; 1 when
# the process of DIR/NAME.pid died first, 2 when TIMEOUT seconds passed with it still running.
cp_wait_up() {
  local dir=$1 name=$2 deadline=$((SECONDS + $3)) pid
  shift 3
  pid=$(cat "$dir/$name.pid")
  while ((SECONDS < deadline)); do
    "$@" >/dev/null 2>&1 && return 0
    cp_pid_alive "$pid" || return 1
    sleep 0.2
  done
  return 2
}

# cp_lost_port_race DIR NAME : whether DIR/NAME.log says a port was taken between cp_free_port and the bind (then
# pick new ports and launch again).
cp_lost_port_race() { grep -qiE 'address already in use' "$1/$2.log" 2>/dev/null; }

# cp_arm_watchdog DIR OWNER_PID STOP_SCRIPT TAG : starts a watchdog (DIR/watchdog.pid, process title TAG) that polls
# OWNER_PID every second and execs `STOP_SCRIPT DIR` once the owner is gone, unless STOP_SCRIPT has disarmed it
# meanwhile by removing DIR/watchdog.armed. Its arguments mention DIR/..., so STOP_SCRIPT recognises it as its own
# and, being exec'd by it, knows not to kill its own PID. The caller checks first that OWNER_PID is running.
cp_arm_watchdog() {
  local dir=$1 owner=$2 stop=$3 tag=$4
  : >"$dir/watchdog.armed"
  # shellcheck disable=SC2016 # expanded by the watchdog's shell
  cp_launch "$dir" watchdog bash -c '
    while kill -0 "$1" 2>/dev/null && [[ -f "$2" ]]; do sleep 1; done
    if [[ -f "$2" ]]; then echo "owner PID $1 is gone: stopping"; exec "$3" "${2%/watchdog.armed}"; fi' \
    "$tag" "$owner" "$dir/watchdog.armed" "$stop"
}

# controlplane_up DIR : start a control plane with all state in DIR (see start.sh) and export the variables of
# DIR/env into the calling shell. The processes are tied to the calling shell: if it dies without calling
# controlplane_down, a watchdog stops them.
controlplane_up() {
  local dir=${1:?usage: controlplane_up DIR}
  PIPEGUARD_CONTROLPLANE_OWNER_PID=$$ "$PIPEGUARD_CONTROLPLANE_SCRIPTS/start.sh" "$dir" || return
  local line
  while IFS= read -r line; do
    eval "export $line" # lines are KEY=VALUE with VALUE shell-quoted by start.sh
  done <"$dir/env"
}

# controlplane_down DIR [--rm] : stop the control plane in DIR (tolerates one that is stopped, dead or was
# never started); with --rm also delete DIR. Never fails and returns the exit status it was called with, so it
# fits `trap 'controlplane_down "$dir" --rm' EXIT`.
controlplane_down() {
  local rc=$? dir=${1:-} opt=${2:-}
  [[ -n $dir ]] || return "$rc"
  "$PIPEGUARD_CONTROLPLANE_SCRIPTS/stop.sh" "$dir" || true
  if [[ $opt == --rm && -d $dir && -z $(cp_procs_in "$dir") ]]; then
    rm -rf -- "$dir" || true
  fi
  return "$rc"
}
