"""Run one Airflow task that launches a pod with the real KubernetesPodOperator, and report what happened.

Usage (with the venv of e2e/clients/install.sh, AIRFLOW_HOME holding a migrated metadata DB):
    python airflow_kpo.py --kubeconfig FILE --namespace NS --image IMAGE --task-id ID --out RESULT.json
                          [--env NAME=VALUE ...] [--service-account NAME] [--startup-timeout SECONDS]
                          [--cmd WORD ...] [--arg WORD ...] [--get-logs]

The task is a KubernetesPodOperator in a one-task DAG, run the way `airflow dags test` runs it (DAG.test(): a real
DagRun and TaskInstance in the metadata DB, templates rendered, the operator's execute()). The control plane has
no nodes, so an admitted pod stays Pending: the operator gives up after --startup-timeout seconds and the pod is
kept (on_finish_action="keep_pod") so the caller can inspect what reached the API server. On a cluster with a node
(scripts/test-node.sh) the pod really runs: --cmd/--arg set its command (default: python -c "print('extract')"),
--get-logs streams its log into the task's log, and the task succeeds once the pod has.

RESULT.json: {"dag_id", "task_id", "run_id", "state" (the TaskInstance state), "errors" (every exception logged
while the task ran, as "Type: message" strings)}. Exit status 0 whenever the task ran (whatever its state); 2 on
usage errors. Everything Airflow logs goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback


class ErrorCollector(logging.Handler):
    """Keeps the text of every exception that Airflow logs (the task's failure reason)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text = f"{type(exc).__name__}: {exc}"
        else:
            text = record.getMessage()
        if text not in self.errors:  # Airflow logs a task's failure more than once
            self.errors.append(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--task-id", required=True)
    parser.add_argument("--dag-id", default="pipeguard_e2e")
    parser.add_argument("--out", required=True)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--service-account", default=None)
    parser.add_argument("--startup-timeout", type=int, default=5)
    parser.add_argument("--cmd", action="append", default=None, metavar="WORD")
    parser.add_argument("--arg", action="append", default=None, metavar="WORD")
    parser.add_argument("--get-logs", action="store_true")
    args = parser.parse_args()
    env_vars = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--env wants NAME=VALUE, got {item!r}")
        env_vars[name] = value

    collector = ErrorCollector()
    logging.getLogger().addHandler(collector)

    import pendulum
    from airflow import DAG
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    logging.getLogger().addHandler(collector)  # Airflow's logging setup on import may have replaced the handlers
    logging.getLogger("airflow.task").addHandler(collector)

    with DAG(
        dag_id=args.dag_id,
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        tags=["pipeguard-e2e"],
    ) as dag:
        KubernetesPodOperator(
            task_id=args.task_id,
            name=args.task_id.replace("_", "-"),
            namespace=args.namespace,
            image=args.image,
            cmds=args.cmd or ["python", "-c"],
            arguments=args.arg or ["print('extract')"],
            env_vars=env_vars,
            service_account_name=args.service_account,
            config_file=args.kubeconfig,
            in_cluster=False,
            get_logs=args.get_logs,
            do_xcom_push=False,
            startup_timeout_seconds=args.startup_timeout,
            startup_check_interval_seconds=1,
            on_finish_action="keep_pod",
            log_events_on_failure=False,
            retries=0,
        )

    state = None
    run_id = None
    try:
        dag_run = dag.test()
        run_id = dag_run.run_id
        for ti in dag_run.get_task_instances():
            if ti.task_id == args.task_id:
                state = ti.state
    except Exception as exc:  # DAG.test itself failed: report it as the task's error
        collector.errors.append(f"{type(exc).__name__}: {exc}")
        traceback.print_exc()

    result = {
        "dag_id": args.dag_id,
        "task_id": args.task_id,
        "run_id": run_id,
        "state": None if state is None else str(state),
        "errors": collector.errors,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(json.dumps({k: result[k] for k in ("task_id", "state")}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
