# confluent-kafka-python (Debian's python3-confluent-kafka) through a partition leader's failover: an idempotent
# acks=all producer writes `total` records one by one (each waited for), touching `<marker>` once half are
# acknowledged so the test can kill the leader; then a consumer reads the partition from the start.
# Usage: python_failover.py <bootstrap> <topic> <total> <marker>. Prints one JSON line.
import json, os, sys, time
from confluent_kafka import Producer, Consumer, TopicPartition, OFFSET_BEGINNING

bootstrap, topic, total, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
acked, errors = [], []

def delivered(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        acked.append(msg.value().decode())

p = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'acks': 'all',
              'message.timeout.ms': 120000, 'linger.ms': 0})
for i in range(total):
    p.produce(topic, key='k', value='py-%d' % i, on_delivery=delivered)
    if p.flush(120) != 0:
        raise SystemExit('record %d not delivered in 120 s' % i)
    if len(acked) == total // 2:
        open(marker, 'w').close()
    time.sleep(0.005)

# Assigned, not subscribed: the cluster's __consumer_offsets has one replica per partition, which may have been on
# the killed broker.
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'py-failover-' + topic, 'enable.auto.commit': False})
c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
consumed, deadline = [], time.time() + 90
while len(consumed) < len(acked) and time.time() < deadline:
    m = c.poll(1)
    if m is None:
        continue
    if m.error():
        continue  # transient: leadership moves are reported and retried by the client
    consumed.append(m.value().decode())
c.close()
print(json.dumps({'acked': acked, 'errors': errors, 'consumed': consumed}))
