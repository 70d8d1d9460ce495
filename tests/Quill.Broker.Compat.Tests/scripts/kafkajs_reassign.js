// kafkajs partition reassignment calls. Usage:
//   node kafkajs_reassign.js <bootstrap> alter <topic> <partition> <broker,broker,...>
//   node kafkajs_reassign.js <bootstrap> list <topic>
// Prints one JSON line: { ok, value } or { ok: false, error: { name, type, message, errors } }.
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [bootstrap, op, topic, partition, replicas] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'quill-reassign', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  let out;
  try {
    const value = op === 'alter'
      ? await admin.alterPartitionReassignments({
        topics: [{ topic, partitionAssignment: [{ partition: Number(partition), replicas: replicas.split(',').map(Number) }] }],
      })
      : await admin.listPartitionReassignments({ topics: [{ topic, partitions: [0, 1, 2, 3] }] });
    out = { ok: true, value: value ?? null };
  } catch (e) {
    out = {
      ok: false,
      error: {
        name: e.name, type: e.type ?? null, message: e.message,
        errors: (e.errors ?? []).map(i => ({ name: i.name, type: i.type ?? null, message: i.message, partition: i.partition ?? null })),
      },
    };
  }
  await admin.disconnect();
  console.log(JSON.stringify(out));
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
