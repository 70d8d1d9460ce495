# confluent-kafka-python AdminClient.alter_configs (the non-incremental AlterConfigs API) against Quill: validate-only,
# whole-set replacement, refusals. Usage: python_alter_configs.py <bootstrap> <topic>. Prints one JSON line.
import json, sys
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource, ConfigSource

bootstrap, topic = sys.argv[1], sys.argv[2]
admin = AdminClient({'bootstrap.servers': bootstrap})
for f in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1,
                                       config={'retention.ms': '123456', 'cleanup.policy': 'compact'})]).values():
    f.result()


def describe():
    entries = list(admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)]).values())[0].result()
    return {name: {'value': e.value, 'source': ConfigSource(e.source).name}
            for name, e in entries.items() if name in ('retention.ms', 'cleanup.policy', 'max.message.bytes')}


def alter(name, config, validate_only=False):
    """None when accepted, else the error's name and message."""
    futures = admin.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, name, set_config=config)],
                                  validate_only=validate_only, request_timeout=30)
    try:
        for f in futures.values():
            f.result()
        return None
    except KafkaException as e:
        return {'name': e.args[0].name(), 'message': e.args[0].str()}


result = {'created': describe()}
result['validateOnly'] = alter(topic, {'retention.ms': '1000'}, validate_only=True)
result['afterValidateOnly'] = describe()
result['replace'] = alter(topic, {'retention.ms': '3600000', 'max.message.bytes': '2000'})
result['afterReplace'] = describe()
result['unknownKey'] = alter(topic, {'retention.ms': '5', 'no.such.config': '1'})
result['badValue'] = alter(topic, {'retention.ms': 'soon'})
result['badValueValidateOnly'] = alter(topic, {'max.message.bytes': '-7'}, validate_only=True)
result['afterRefusals'] = describe()
result['unknownTopic'] = alter(topic + '-missing', {'retention.ms': '1000'})
print(json.dumps(result))
