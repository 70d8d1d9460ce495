// kafkajs admin calls against Quill: partition reassignments and ACLs.
// Usage: node kafkajs_admin.js <bootstrap> <topic>. Prints one JSON line with each call's result or error.
const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = require('kafkajs');

// An error as the caller sees it: its name and type, and those of the errors it aggregates, with their partition.
function describe(e) {
  return {
    name: e.name,
    type: e.type ?? null,
    message: e.message,
    errors: (e.errors ?? []).map(inner => ({ name: inner.name, type: inner.type ?? null, message: inner.message, topic: inner.topic ?? null, partition: inner.partition ?? null })),
  };
}

async function attempt(call) {
  try {
    return { ok: true, value: (await call()) ?? null };
  } catch (e) {
    return { ok: false, error: describe(e) };
  }
}

async function main() {
  const [bootstrap, topic] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'quill-admin', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });

  const out = {};
  out.listAll = await attempt(() => admin.listPartitionReassignments({}));
  out.listTopic = await attempt(() => admin.listPartitionReassignments({ topics: [{ topic, partitions: [0, 1, 7] }] }));
  out.alterSame = await attempt(() => admin.alterPartitionReassignments({
    topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: [0] }, { partition: 1, replicas: [0] }] }],
  }));
  out.alterDeadBroker = await attempt(() => admin.alterPartitionReassignments({
    topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: [0] }, { partition: 1, replicas: [42] }] }],
  }));
  out.listAfter = await attempt(() => admin.listPartitionReassignments({ topics: [{ topic, partitions: [0, 1] }] }));

  const acl = {
    resourceType: AclResourceTypes.TOPIC,
    resourceName: topic,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:alice',
    host: '*',
    operation: AclOperationTypes.READ,
    permissionType: AclPermissionTypes.ALLOW,
  };
  out.describeAcls = await attempt(() => admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  }));
  out.createAcls = await attempt(() => admin.createAcls({ acl: [acl] }));
  out.deleteAcls = await attempt(() => admin.deleteAcls({ filters: [acl] }));

  await admin.disconnect();
  console.log(JSON.stringify(out));
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
