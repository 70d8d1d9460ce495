// kafkajs against Quill: admin create/describe/delete, keyed produce, a consumer group reading it all back.
// Usage: node kafkajs_roundtrip.js <bootstrap> <topic>. Prints one JSON line with what it saw.
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');

async function main() {
  const [bootstrap, topic] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'quill-compat', brokers: [bootstrap], logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });

  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const messages = [];
  for (let i = 0; i < 90; i++) messages.push({ key: `k${i % 9}`, value: `${i}` });
  await producer.send({ topic, messages: messages.slice(0, 45), acks: -1 });
  await producer.send({ topic, messages: messages.slice(45), acks: -1, compression: CompressionTypes.GZIP });
  await producer.disconnect();

  const offsets = await admin.fetchTopicOffsets(topic);
  const consumer = kafka.consumer({ groupId: `g-${topic}`, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length} messages consumed`)), 30000);
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({ partition, offset: Number(message.offset), key: message.key.toString(), value: message.value.toString() });
        if (seen.length === messages.length) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  const after = await admin.listTopics();
  await admin.disconnect();
  console.log(JSON.stringify({
    created,
    partitions: meta.topics[0].partitions.map(p => ({ id: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })),
    highWatermarks: offsets.map(o => Number(o.high)),
    seen,
    deleted: !after.includes(topic),
  }));
}

main().catch(e => { console.error(e && e.stack || e); process.exit(1); });
