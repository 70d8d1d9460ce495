// kafkajs transactions against Quill: commit, abort, offsets sent to a transaction, read back by a read_committed
// consumer (kafkajs' default). Usage: node kafkajs_transactions.js <bootstrap> <topic>. Prints one JSON line.
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [bootstrap, topic] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'quill-compat-txn', brokers: [bootstrap], logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });

  const producer = kafka.producer({ transactionalId: `tx-${topic}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let txn = await producer.transaction();
  await txn.send({ topic, messages: [0, 1, 2].map(i => ({ key: 'k', value: `committed-${i}` })) });
  await txn.commit();

  txn = await producer.transaction();
  await txn.send({ topic, messages: [0, 1].map(i => ({ key: 'k', value: `aborted-${i}` })) });
  await txn.abort();

  const groupId = `g-${topic}`;
  txn = await producer.transaction();
  await txn.send({ topic, messages: [{ key: 'k', value: 'committed-3' }] });
  await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '42' }] }] });
  await txn.commit();
  await producer.disconnect();

  const committedOffsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const consumer = kafka.consumer({ groupId: `reader-${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, 8000); // read for a while: nothing aborted may turn up later either
    consumer.run({
      eachMessage: async ({ message }) => { seen.push(message.value.toString()); },
    }).catch(e => { clearTimeout(timer); reject(e); });
  });
  await consumer.disconnect();
  await admin.disconnect();
  console.log(JSON.stringify({ seen, committed: committedOffsets[0].partitions.map(p => Number(p.offset)) }));
}

main().catch(e => { console.error(e && e.stack || e); process.exit(1); });
