#!/usr/bin/env bash
# Installs the real clients of the e2e client scenarios (e2e/clients_test.sh) into a cached virtualenv:
# Apache Airflow with the cncf.kubernetes provider (KubernetesPodOperator) and pyspark (spark-submit, with the
# Spark-on-Kubernetes jars it ships), all from PyPI at the versions pinned in e2e/clients/requirements.txt.
#
# Usage: install.sh                install if missing; progress on stderr
#        install.sh --print-venv   the same, then print the venv's path on stdout
#        install.sh --no-install   print the venv's path if it is installed, else exit 2
#
# Contract:
#   - venv: $PIPEGUARD_CACHE/e2e-venv-<hash> (PIPEGUARD_CACHE defaults to ~/.cache/pipeguard); <hash> covers
#     requirements.txt and the Python version, so a changed pin makes a new venv (and older e2e-venv-* are removed).
#   - a venv is used only once its stamp file .pipeguard-complete exists (written last, after the imports, the
#     Spark-on-Kubernetes jar and the Airflow metadata DB checked out); an interrupted install is redone.
#   - inside it: bin/python, bin/spark-submit, spark-home (the pyspark directory, i.e. SPARK_HOME) and
#     airflow-home/airflow.db (a migrated Airflow metadata DB to copy, not to use in place).
#   - concurrent runs serialise on a lock in the cache. Needs PyPI on the first run only, $PIPEGUARD_PYTHON (default
#     python3, 3.9 to 3.12, with venv) and Java 17 for spark-submit (installed from Debian's packages when missing).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf 'e2e-clients: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

mode=install
case "${1:-}" in
  "") ;;
  --print-venv) mode=print ;;
  --no-install) mode=noinstall ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac

cache=${PIPEGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pipeguard}
python=${PIPEGUARD_PYTHON:-python3}
requirements=$here/requirements.txt
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])') || die "no $python"
hash=$({ cat "$requirements"; echo "python $pyver"; } | sha256sum | cut -c1-16)
venv=$cache/e2e-venv-$hash
stamp=$venv/.pipeguard-complete

installed() { [[ -f $stamp && -x $venv/bin/python ]]; }

if [[ $mode == noinstall ]]; then
  installed || exit 2
  printf '%s\n' "$venv"
  exit 0
fi

# spark-submit runs on the JVM: Spark 3.5 supports Java 8/11/17.
if ! command -v java >/dev/null 2>&1; then
  log "java is missing: installing openjdk-17-jre-headless (Debian)"
  if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; } >&2 ||
      die "cannot install Java 17 (spark-submit needs it)"
  else
    die "spark-submit needs Java 17 (apt-get install openjdk-17-jre-headless)"
  fi
fi

mkdir -p "$cache"
exec 9>"$cache/.e2e-venv.lock"
flock 9

if ! installed; then
  "$python" -c 'import sys, venv; sys.exit(not ((3, 9) <= sys.version_info[:2] <= (3, 12)))' ||
    die "$python must be CPython 3.9-3.12 with the venv module (Airflow 2.10 supports those)"
  t0=$SECONDS
  log "installing Airflow 2.10.5 + cncf.kubernetes 10.1.0 + pyspark 3.5.8 into $venv (from PyPI; ~2 min cold)"
  rm -rf "$venv"
  ilog=$cache/e2e-venv-$hash.install.log
  {
    "$python" -m venv "$venv" &&
      "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$requirements" &&
      "$venv/bin/python" -m pip check &&
      "$venv/bin/python" -c 'import airflow, pyspark, kubernetes
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator' &&
      spark_home=$("$venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))') &&
      ln -sfn "$spark_home" "$venv/spark-home" &&
      compgen -G "$venv/spark-home/jars/spark-kubernetes_*.jar" >/dev/null &&
      mkdir -p "$venv/airflow-home" &&
      AIRFLOW_HOME=$venv/airflow-home AIRFLOW__CORE__LOAD_EXAMPLES=False "$venv/bin/airflow" db migrate
  } >"$ilog" 2>&1 || {
    tail -n 30 "$ilog" >&2
    rm -rf "$venv"
    die "installing the e2e clients failed (log: $ilog)"
  }
  rm -f "$venv/airflow-home/airflow.cfg" # each run writes its own
  touch "$stamp"
  rm -f "$ilog"
  log "installed in $((SECONDS - t0)) s"
  # Older venvs (other pins) are large (pyspark ships Spark's jars): keep only this one.
  for old in "$cache"/e2e-venv-*; do
    [[ -d $old && $old != "$venv" ]] && rm -rf "$old"
  done
fi
log "using $venv"
[[ $mode == print ]] && printf '%s\n' "$venv"
exit 0
