# confluent-kafka-python (Debian's python3-confluent-kafka) against Quill: admin, keyed produce with each codec,
# manual-assign consume, offsets for times. Usage: python_roundtrip.py <bootstrap> <topic>. Prints one JSON line.
import json, sys
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, NewPartitions, ConfigResource

bootstrap, topic = sys.argv[1], sys.argv[2]
admin = AdminClient({'bootstrap.servers': bootstrap})
for f in admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1, config={'retention.bytes': '1048576'})]).values():
    f.result()
configs = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
retention = list(configs.values())[0].result()['retention.bytes'].value

sent = []
for codec in ['none', 'gzip', 'snappy', 'lz4', 'zstd']:
    p = Producer({'bootstrap.servers': bootstrap, 'compression.type': codec, 'enable.idempotence': True, 'linger.ms': 5})
    for i in range(40):
        value = '%s-%d' % (codec, i)
        p.produce(topic, key='key-%d' % (i % 4), value=value, timestamp=1700000000000 + len(sent) * 10)
        sent.append(value)
    assert p.flush(30) == 0

c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'py-' + topic, 'enable.auto.commit': False, 'enable.partition.eof': True})
c.assign([TopicPartition(topic, p, 0) for p in range(2)])
seen, eof = [], set()
while len(eof) < 2:
    m = c.poll(10)
    if m is None:
        raise SystemExit('timed out after %d messages' % len(seen))
    if m.error():
        if m.error().code() == -191:  # _PARTITION_EOF
            eof.add(m.partition())
            continue
        raise SystemExit(str(m.error()))
    seen.append({'partition': m.partition(), 'offset': m.offset(), 'key': m.key().decode(), 'value': m.value().decode(), 'ts': m.timestamp()[1]})
times = c.offsets_for_times([TopicPartition(topic, p, 1700000000000 + 1000) for p in range(2)], timeout=10)
c.close()

# The rest of the admin API: add partitions, alter a config, delete the topic.
for f in admin.create_partitions([NewPartitions(topic, 3)]).values():
    f.result()
partitions_after = len(admin.list_topics(topic, timeout=10).topics[topic].partitions)
for f in admin.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={'retention.ms': '3600000'})]).values():
    f.result()
retention_ms = list(admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)]).values())[0].result()['retention.ms'].value
for f in admin.delete_topics([topic]).values():
    f.result()
listed_after_delete = topic in admin.list_topics(timeout=10).topics
print(json.dumps({'retention': retention, 'sent': sent, 'seen': seen, 'byTime': [t.offset for t in times],
                  'partitionsAfter': partitions_after, 'retentionMs': retention_ms, 'listedAfterDelete': listed_after_delete}))
