"""A tiny PySpark job for the real-node suite (scripts/test-node.sh), baked into the Spark image at
/opt/spark/jobs/pi.py: sums 1..N and estimates pi on the executors, and prints which executor pods did the work.

Output (stdout, the driver pod's log):
  pipeguard-spark: sum 1..N = N(N+1)/2 in P partitions
  pipeguard-spark: executors HOST[,HOST...]
  Pi is roughly 3.14...
"""
import random
import socket
import sys
from operator import add

from pyspark.sql import SparkSession

partitions = int(sys.argv[1]) if len(sys.argv) > 1 else 2
n = 100000 * partitions
spark = SparkSession.builder.getOrCreate()  # the application name is spark-submit's --name
sc = spark.sparkContext
total = sc.parallelize(range(1, n + 1), partitions).reduce(add)
print("pipeguard-spark: sum 1..%d = %d in %d partitions" % (n, total, partitions), flush=True)
hosts = sorted(set(sc.parallelize(range(partitions), partitions).map(lambda _: socket.gethostname()).collect()))
print("pipeguard-spark: executors %s" % ",".join(hosts), flush=True)


def inside(_):
    x, y = random.random() * 2 - 1, random.random() * 2 - 1
    return 1 if x * x + y * y <= 1 else 0


count = sc.parallelize(range(n), partitions).map(inside).reduce(add)
print("Pi is roughly %f" % (4.0 * count / n), flush=True)
spark.stop()
