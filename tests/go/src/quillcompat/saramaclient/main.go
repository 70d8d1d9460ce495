// saramaclient does one Kafka client action with sarama (Debian's golang-github-shopify-sarama-dev, 1.22.1) and
// prints its result as one JSON object on the last line of stdout, for the broker compatibility tests
// (tests/Quill.Broker.Compat.Tests/GoClientTests.cs).
//
//	saramaclient produce -bootstrap H:P -topic T -count N [-keys K] [-pad N] [-version V] [-compression C] [-ts-start MS -ts-step MS]
//	saramaclient consume -bootstrap H:P -topic T -count N [-version V]
//	saramaclient group   -bootstrap H:P -topic T -count N -group G [-version V]
//	saramaclient offsets -bootstrap H:P -topic T -partition P -times MS,MS,... [-version V]
//
// -version is a sarama KafkaVersion ("2.1.0") or "default" for sarama's own default (V0_8_2_0). It decides which
// request versions and message format sarama uses. A Kafka error ends the action with {"error": "...", "kerror": N}
// and exit code 1; -timeout (seconds) bounds the whole run (exit code 2).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

type record struct {
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Key       string `json:"key"`
	Value     string `json:"value"`
	Timestamp int64  `json:"ts"`
}

var (
	bootstrap   = flag.String("bootstrap", "", "bootstrap servers, host:port[,host:port]")
	topic       = flag.String("topic", "", "topic")
	count       = flag.Int("count", 0, "records to produce or consume")
	keys        = flag.Int("keys", 0, "produce: number of distinct keys (key-0 .. key-K-1); 0 = no keys")
	version     = flag.String("version", "default", "sarama Config.Version, e.g. 0.10.2.0, 1.0.0, 2.1.0; default = sarama's default")
	compression = flag.String("compression", "none", "produce: none, gzip, snappy, lz4, zstd")
	pad         = flag.Int("pad", 0, "produce: make each value value-I-xxx... with this many padding letters")
	tsStart     = flag.Int64("ts-start", 0, "produce: timestamp (ms) of record 0; 0 = let sarama stamp the records")
	tsStep      = flag.Int64("ts-step", 0, "produce: timestamp increment (ms) per record")
	group       = flag.String("group", "", "group: consumer group id")
	partition   = flag.Int("partition", 0, "offsets: partition")
	times       = flag.String("times", "", "offsets: comma-separated timestamps (ms) to look up")
	timeout     = flag.Int("timeout", 45, "seconds the whole action may take")
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: saramaclient produce|consume|group|offsets [flags]"))
	}
	command := os.Args[1]
	if err := flag.CommandLine.Parse(os.Args[2:]); err != nil {
		fail(err)
	}
	if *bootstrap == "" || *topic == "" {
		fail(errors.New("-bootstrap and -topic are required"))
	}
	if os.Getenv("SARAMA_DEBUG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.LstdFlags|log.Lmicroseconds)
	}
	deadline := time.Duration(*timeout) * time.Second
	go func() {
		time.Sleep(deadline)
		emit(map[string]interface{}{"error": fmt.Sprintf("%s did not finish within %s", command, deadline)})
		os.Exit(2)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	config, err := newConfig()
	if err != nil {
		fail(err)
	}
	var result map[string]interface{}
	switch command {
	case "produce":
		result, err = produce(config)
	case "consume":
		result, err = consume(ctx, config)
	case "group":
		result, err = consumeGroup(ctx, config)
	case "offsets":
		result, err = offsets(config)
	default:
		err = fmt.Errorf("unknown command %q", command)
	}
	if err != nil {
		fail(err)
	}
	result["version"] = config.Version.String()
	emit(result)
}

func newConfig() (*sarama.Config, error) {
	config := sarama.NewConfig()
	config.ClientID = "quill-compat-sarama"
	if *version != "default" {
		v, err := sarama.ParseKafkaVersion(*version)
		if err != nil {
			return nil, err
		}
		config.Version = v
	}
	config.Metadata.Retry.Max = 10
	config.Metadata.Retry.Backoff = 500 * time.Millisecond
	config.Producer.Return.Successes = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Retry.Max = 5
	config.Producer.Retry.Backoff = 500 * time.Millisecond
	// One batch per partition for what SendMessages hands over at once (up to 1 MB): the tests look at batches
	// of several records (compressed wrappers, max timestamps).
	config.Producer.Flush.Frequency = 50 * time.Millisecond
	switch *compression {
	case "none":
		config.Producer.Compression = sarama.CompressionNone
	case "gzip":
		config.Producer.Compression = sarama.CompressionGZIP
	case "snappy":
		config.Producer.Compression = sarama.CompressionSnappy
	case "lz4":
		config.Producer.Compression = sarama.CompressionLZ4
	case "zstd":
		config.Producer.Compression = sarama.CompressionZSTD
	default:
		return nil, fmt.Errorf("unknown compression %q", *compression)
	}
	config.Consumer.Return.Errors = true
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.MaxWaitTime = 250 * time.Millisecond
	config.Consumer.Offsets.CommitInterval = 200 * time.Millisecond
	return config, config.Validate()
}

func produce(config *sarama.Config) (map[string]interface{}, error) {
	producer, err := sarama.NewSyncProducer(strings.Split(*bootstrap, ","), config)
	if err != nil {
		return nil, err
	}
	defer producer.Close()
	messages := make([]*sarama.ProducerMessage, *count)
	for i := range messages {
		m := &sarama.ProducerMessage{Topic: *topic, Value: sarama.StringEncoder(value(i))}
		if *keys > 0 {
			m.Key = sarama.StringEncoder(fmt.Sprintf("key-%d", i%*keys))
		}
		if *tsStart != 0 {
			ms := *tsStart + int64(i)**tsStep
			m.Timestamp = time.Unix(ms/1000, (ms%1000)*int64(time.Millisecond))
		}
		messages[i] = m
	}
	if err := producer.SendMessages(messages); err != nil {
		var errs sarama.ProducerErrors
		if errors.As(err, &errs) && len(errs) > 0 {
			return nil, errs[0].Err
		}
		return nil, err
	}
	produced := make([]record, len(messages))
	for i, m := range messages {
		produced[i] = record{Partition: m.Partition, Offset: m.Offset, Value: value(i), Timestamp: -1}
		if m.Key != nil {
			produced[i].Key = fmt.Sprintf("key-%d", i%*keys)
		}
		if !m.Timestamp.IsZero() {
			produced[i].Timestamp = m.Timestamp.UnixNano() / int64(time.Millisecond)
		}
	}
	return map[string]interface{}{"produced": produced}, nil
}

// consume reads every partition of the topic from the oldest offset with ConsumePartition until -count records came.
func consume(ctx context.Context, config *sarama.Config) (map[string]interface{}, error) {
	consumer, err := sarama.NewConsumer(strings.Split(*bootstrap, ","), config)
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	partitions, err := consumer.Partitions(*topic)
	if err != nil {
		return nil, err
	}
	messages := make(chan *sarama.ConsumerMessage)
	failures := make(chan error, len(partitions))
	for _, p := range partitions {
		pc, err := consumer.ConsumePartition(*topic, p, sarama.OffsetOldest)
		if err != nil {
			return nil, err
		}
		defer pc.AsyncClose()
		go func(pc sarama.PartitionConsumer) {
			for {
				select {
				case m, ok := <-pc.Messages():
					if !ok {
						return
					}
					select {
					case messages <- m:
					case <-ctx.Done():
						return
					}
				case e, ok := <-pc.Errors():
					if ok {
						failures <- e.Err
					}
				case <-ctx.Done():
					return
				}
			}
		}(pc)
	}
	var seen []record
	for len(seen) < *count {
		select {
		case m := <-messages:
			seen = append(seen, toRecord(m))
		case err := <-failures:
			return nil, err
		case <-ctx.Done():
			return nil, fmt.Errorf("consumed %d of %d records before the deadline", len(seen), *count)
		}
	}
	return map[string]interface{}{"consumed": seen}, nil
}

type groupHandler struct {
	mu       sync.Mutex
	seen     []record
	done     chan struct{}
	doneOnce sync.Once
	claims   map[int32]bool
}

func (h *groupHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ps := range s.Claims() {
		for _, p := range ps {
			h.claims[p] = true
		}
	}
	return nil
}

func (h *groupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *groupHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.mu.Lock()
		h.seen = append(h.seen, toRecord(m))
		n := len(h.seen)
		h.mu.Unlock()
		s.MarkMessage(m, "")
		if n >= *count {
			h.doneOnce.Do(func() { close(h.done) })
		}
	}
	return nil
}

// consumeGroup consumes the topic in consumer group -group (from the oldest offset when the group has none) until
// -count records came, then closes the group, which commits the marked offsets.
func consumeGroup(ctx context.Context, config *sarama.Config) (map[string]interface{}, error) {
	if *group == "" {
		return nil, errors.New("-group is required")
	}
	cg, err := sarama.NewConsumerGroup(strings.Split(*bootstrap, ","), *group, config)
	if err != nil {
		return nil, err
	}
	handler := &groupHandler{done: make(chan struct{}), claims: map[int32]bool{}}
	sessionCtx, stop := context.WithCancel(ctx)
	finished := make(chan error, 1)
	go func() {
		for sessionCtx.Err() == nil {
			if err := cg.Consume(sessionCtx, []string{*topic}, handler); err != nil {
				finished <- err
				return
			}
		}
		finished <- nil
	}()
	var groupErr error
	select {
	case <-handler.done:
	case err := <-cg.Errors():
		groupErr = err
	case err := <-finished:
		groupErr = err
		if groupErr == nil {
			groupErr = errors.New("the group session ended before all records came")
		}
	case <-ctx.Done():
		groupErr = ctx.Err()
	}
	stop()
	if groupErr == nil {
		groupErr = <-finished
	}
	if err := cg.Close(); err != nil && groupErr == nil {
		groupErr = err
	}
	handler.mu.Lock()
	defer handler.mu.Unlock()
	if groupErr != nil {
		return nil, fmt.Errorf("%v (consumed %d of %d records)", groupErr, len(handler.seen), *count)
	}
	claimed := make([]int, 0, len(handler.claims))
	for p := range handler.claims {
		claimed = append(claimed, int(p))
	}
	sort.Ints(claimed)
	return map[string]interface{}{"consumed": handler.seen, "claimed": claimed}, nil
}

// offsets answers Client.GetOffset(topic, partition, time) for each of -times (ListOffsets by timestamp).
func offsets(config *sarama.Config) (map[string]interface{}, error) {
	client, err := sarama.NewClient(strings.Split(*bootstrap, ","), config)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	answers := map[string]int64{}
	for _, t := range strings.Split(*times, ",") {
		ms, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, err
		}
		offset, err := client.GetOffset(*topic, int32(*partition), ms)
		if err != nil {
			return nil, err
		}
		answers[t] = offset
	}
	return map[string]interface{}{"offsets": answers}, nil
}

func toRecord(m *sarama.ConsumerMessage) record {
	r := record{Partition: m.Partition, Offset: m.Offset, Key: string(m.Key), Value: string(m.Value), Timestamp: -1}
	if !m.Timestamp.IsZero() {
		r.Timestamp = m.Timestamp.UnixNano() / int64(time.Millisecond)
	}
	return r
}

func emit(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"error": %q}`, err.Error()))
	}
	fmt.Println(string(b))
}

func fail(err error) {
	out := map[string]interface{}{"error": err.Error()}
	var kerr sarama.KError
	if errors.As(err, &kerr) {
		out["kerror"] = int16(kerr)
	}
	emit(out)
	os.Exit(1)
}

// value is the value of record i: "value-I", or "value-I-" and -pad letters (compressible, different per record).
func value(i int) string {
	if *pad == 0 {
		return fmt.Sprintf("value-%d", i)
	}
	return fmt.Sprintf("value-%d-", i) + strings.Repeat(string(rune('a'+i%26)), *pad)
}
