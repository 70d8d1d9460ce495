# confluent-kafka-python (Debian's, an older librdkafka than Confluent.Kafka's) against Quill: a committed and an
# aborted transaction, read back by a read_committed and a read_uncommitted consumer.
# Usage: /usr/bin/python3 python_transactions.py <bootstrap> <topic>. Prints one JSON line.
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topic = sys.argv[1], sys.argv[2]
admin = AdminClient({'bootstrap.servers': bootstrap})
admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(30)

producer = Producer({'bootstrap.servers': bootstrap, 'transactional.id': 'py-' + topic})
producer.init_transactions(30)
producer.begin_transaction()
for i in range(3):
    producer.produce(topic, key=b'k', value=f'committed-{i}'.encode())
producer.commit_transaction(30)
producer.begin_transaction()
for i in range(2):
    producer.produce(topic, key=b'k', value=f'aborted-{i}'.encode())
producer.flush(30)
producer.abort_transaction(30)


def read(isolation):
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': f'py-{isolation}-{topic}', 'isolation.level': isolation,
                         'enable.partition.eof': True, 'enable.auto.commit': False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    seen, deadline = [], time.time() + 30
    while time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == -191:  # _PARTITION_EOF
                break
            raise RuntimeError(str(msg.error()))
        seen.append(msg.value().decode())
    consumer.close()
    return seen


print(json.dumps({'committed': read('read_committed'), 'uncommitted': read('read_uncommitted')}))
