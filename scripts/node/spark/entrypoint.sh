#!/bin/bash
# Entrypoint of the Spark image (scripts/node/spark-image.sh): what spark-submit's driver and executor pods expect an
# image's entrypoint to do in Kubernetes cluster mode. spark-submit gives the driver container the arguments
# `driver --properties-file /opt/spark/conf/spark.properties --class CLASS RESOURCE ARGS...` and the executor
# container `executor`, and passes everything else in the environment (SPARK_DRIVER_BIND_ADDRESS, SPARK_DRIVER_URL,
# SPARK_EXECUTOR_*, SPARK_JAVA_OPT_0..n, ...). Written for this repository from that contract (the image Spark's
# source tree builds with kubernetes/dockerfiles/spark/entrypoint.sh does the same); no tini, no passwd rewriting:
# the image's user 185 is in /etc/passwd.
#
#   driver ARGS...    exec spark-submit --deploy-mode client ARGS... bound to the pod's IP
#   executor          exec the JVM running KubernetesExecutorBackend with the SPARK_* environment
#   anything else     exec'd as given
set -euo pipefail

export SPARK_HOME=${SPARK_HOME:-/opt/spark}
classpath="$SPARK_HOME/jars/*"
[[ -n ${SPARK_CLASSPATH:-} ]] && classpath="$SPARK_CLASSPATH:$classpath"
[[ -n ${SPARK_CONF_DIR:-} ]] && classpath="$SPARK_CONF_DIR:$classpath"
java=${JAVA_HOME:+$JAVA_HOME/bin/}java

case ${1:-} in
  driver)
    shift
    exec "$SPARK_HOME/bin/spark-submit" \
      --conf "spark.driver.bindAddress=${SPARK_DRIVER_BIND_ADDRESS:?}" \
      --conf "spark.executorEnv.SPARK_DRIVER_POD_IP=$SPARK_DRIVER_BIND_ADDRESS" \
      --deploy-mode client "$@"
    ;;
  executor)
    shift
    # spark.executor.extraJavaOptions (with the JDK 17 --add-opens Spark adds) arrive as SPARK_JAVA_OPT_0, _1, ...
    opts=()
    for ((i = 0; ; i++)); do
      var=SPARK_JAVA_OPT_$i
      [[ -n ${!var+set} ]] || break
      opts+=("${!var}")
    done
    exec "$java" "${opts[@]}" -Xms"${SPARK_EXECUTOR_MEMORY:?}" -Xmx"$SPARK_EXECUTOR_MEMORY" -cp "$classpath" \
      org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
      --driver-url "${SPARK_DRIVER_URL:?}" --executor-id "${SPARK_EXECUTOR_ID:?}" \
      --cores "${SPARK_EXECUTOR_CORES:?}" --app-id "${SPARK_APPLICATION_ID:?}" \
      --hostname "${SPARK_EXECUTOR_POD_IP:?}" --resourceProfileId "${SPARK_RESOURCE_PROFILE_ID:-0}" \
      --podName "${SPARK_EXECUTOR_POD_NAME:?}"
    ;;
  *) exec "$@" ;;
esac
