#!/usr/bin/env bash
# One Apache Kafka node (KRaft, broker and controller) on 127.0.0.1:9092, its data in a temp folder,
# in the foreground until Ctrl-C. Its jars come from Maven Central, once:
#   mvn -q -f test/support/kafka/pom.xml dependency:copy-dependencies
set -euo pipefail
jars="${KEEL_KAFKA_JARS:-$HOME/.m2/keel-kafka-4.1.1}"
port="${KAFKA_PORT:-9092}"
controller="${KAFKA_CONTROLLER_PORT:-9093}"
[ -f "$jars/kafka_2.13-4.1.1.jar" ] || {
  echo "no Kafka jars in $jars: run mvn -q -f test/support/kafka/pom.xml dependency:copy-dependencies" >&2
  exit 1
}
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
cat > "$data/server.properties" <<PROPERTIES
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.voters=1@127.0.0.1:$controller
log.dirs=$data/log
num.partitions=2
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPERTIES
java -Xmx384m -cp "$jars/*" kafka.tools.StorageTool format -t "$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')" \
  -c "$data/server.properties" >/dev/null
echo "Kafka on 127.0.0.1:$port (Ctrl-C stops it)"
java -Xmx384m -cp "$jars/*" kafka.Kafka "$data/server.properties"
