// kafkagoclient does one Kafka client action with kafka-go (Debian's golang-github-segmentio-kafka-go-dev, 0.2.1)
// and prints its result as one JSON object on the last line of stdout, for the broker compatibility tests
// (tests/Quill.Broker.Compat.Tests/GoClientTests.cs).
//
//	kafkagoclient produce -bootstrap H:P -topic T -count N [-keys K] [-pad N] [-compression C] [-ts-start MS -ts-step MS]
//	kafkagoclient consume -bootstrap H:P -topic T -count N
//	kafkagoclient group   -bootstrap H:P -topic T -count N -group G
//
// kafka-go 0.2.1 speaks old request versions only: Produce v2 with magic 1 message sets (a compressed set is one
// wrapper message), Fetch v2 (so the broker must down-convert to magic 1), ListOffsets v1, Metadata v1, and the
// group APIs at v0/v1 (JoinGroup v1, SyncGroup v0, OffsetCommit v2, OffsetFetch v1). A failure ends the action with
// {"error": "..."} and exit code 1; -timeout (seconds) bounds the whole run (exit code 2).
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
	"strings"
	"sync"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/gzip"
	"github.com/segmentio/kafka-go/lz4"
	"github.com/segmentio/kafka-go/snappy"
)

type record struct {
	Partition int    `json:"partition"`
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
	compression = flag.String("compression", "none", "produce: none, gzip, snappy, lz4")
	pad         = flag.Int("pad", 0, "produce: make each value value-I-xxx... with this many padding letters")
	tsStart     = flag.Int64("ts-start", 0, "produce: timestamp (ms) of record 0; 0 = let kafka-go stamp the records")
	tsStep      = flag.Int64("ts-step", 0, "produce: timestamp increment (ms) per record")
	group       = flag.String("group", "", "group: consumer group id")
	timeout     = flag.Int("timeout", 45, "seconds the whole action may take")
)

// errorLog is where the Reader and Writer report errors. A Reader retries every error forever, so an error that
// kafka-go calls "unknown" (a response it cannot use, such as a message format it cannot read) ends the action
// once it has repeated maxUnknownErrors times instead of waiting for the deadline.
var errorLog = log.New(&errorWriter{}, "[kafka-go] ", log.LstdFlags|log.Lmicroseconds)

const maxUnknownErrors = 20

type errorWriter struct {
	mu      sync.Mutex
	unknown int
}

func (w *errorWriter) Write(p []byte) (int, error) {
	os.Stderr.Write(p)
	line := string(p)
	if strings.Contains(line, "unknown error") {
		w.mu.Lock()
		w.unknown++
		n := w.unknown
		w.mu.Unlock()
		if n == maxUnknownErrors {
			message := strings.TrimSpace(line)
			if i := strings.Index(message, "the kafka reader"); i >= 0 {
				message = message[i:]
			}
			emit(map[string]interface{}{"error": fmt.Sprintf("%s (%d times)", message, n)})
			os.Exit(1)
		}
	}
	return len(p), nil
}

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: kafkagoclient produce|consume|group [flags]"))
	}
	command := os.Args[1]
	if err := flag.CommandLine.Parse(os.Args[2:]); err != nil {
		fail(err)
	}
	if *bootstrap == "" || *topic == "" {
		fail(errors.New("-bootstrap and -topic are required"))
	}
	deadline := time.Duration(*timeout) * time.Second
	go func() {
		time.Sleep(deadline)
		emit(map[string]interface{}{"error": fmt.Sprintf("%s did not finish within %s", command, deadline)})
		os.Exit(2)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), deadline-time.Second)
	defer cancel()

	var result map[string]interface{}
	var err error
	switch command {
	case "produce":
		result, err = produce(ctx)
	case "consume":
		result, err = consume(ctx)
	case "group":
		result, err = consumeGroup(ctx)
	default:
		err = fmt.Errorf("unknown command %q", command)
	}
	if err != nil {
		fail(err)
	}
	emit(result)
}

func brokers() []string { return strings.Split(*bootstrap, ",") }

func logger() *log.Logger {
	if os.Getenv("KAFKAGO_DEBUG") != "" {
		return log.New(os.Stderr, "[kafka-go] ", log.LstdFlags|log.Lmicroseconds)
	}
	return nil
}

// produce writes -count records with a Writer (keyed records go to partitions by kafka-go's Hash balancer), all in
// one WriteMessages call so that each partition gets them as one message set.
func produce(ctx context.Context) (map[string]interface{}, error) {
	config := kafka.WriterConfig{
		Brokers:      brokers(),
		Topic:        *topic,
		Balancer:     &kafka.Hash{},
		BatchSize:    *count,
		BatchTimeout: 100 * time.Millisecond,
		MaxAttempts:  3,
		RequiredAcks: -1,
		Logger:       logger(),
		ErrorLogger:  errorLog,
	}
	switch *compression {
	case "none":
	case "gzip":
		config.CompressionCodec = gzip.NewCompressionCodec()
	case "snappy":
		config.CompressionCodec = snappy.NewCompressionCodec()
	case "lz4":
		config.CompressionCodec = lz4.NewCompressionCodec()
	default:
		return nil, fmt.Errorf("unknown compression %q", *compression)
	}
	w := kafka.NewWriter(config)
	messages := make([]kafka.Message, *count)
	for i := range messages {
		messages[i] = kafka.Message{Value: []byte(value(i))}
		if *keys > 0 {
			messages[i].Key = []byte(fmt.Sprintf("key-%d", i%*keys))
		}
		if *tsStart != 0 {
			ms := *tsStart + int64(i)**tsStep
			messages[i].Time = time.Unix(ms/1000, (ms%1000)*int64(time.Millisecond))
		}
	}
	err := w.WriteMessages(ctx, messages...)
	if closeErr := w.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, err
	}
	stats := w.Stats()
	return map[string]interface{}{"written": len(messages), "writes": stats.Writes}, nil
}

func partitions(ctx context.Context) ([]int, error) {
	conn, err := kafka.DialContext(ctx, "tcp", brokers()[0])
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	found, err := conn.ReadPartitions(*topic)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, p := range found {
		if p.Topic == *topic {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("topic %s has no partitions", *topic)
	}
	sort.Ints(ids)
	return ids, nil
}

// consume reads every partition from its first offset with one Reader per partition until -count records came.
func consume(ctx context.Context) (map[string]interface{}, error) {
	ids, err := partitions(ctx)
	if err != nil {
		return nil, err
	}
	type result struct {
		m   kafka.Message
		err error
	}
	results := make(chan result)
	readCtx, stop := context.WithCancel(ctx)
	defer stop()
	for _, p := range ids {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers:     brokers(),
			Topic:       *topic,
			Partition:   p,
			MinBytes:    1,
			MaxBytes:    1 << 20,
			MaxWait:     250 * time.Millisecond,
			Logger:      logger(),
			ErrorLogger: errorLog,
		})
		defer r.Close()
		if err := r.SetOffset(kafka.FirstOffset); err != nil {
			return nil, err
		}
		go func(r *kafka.Reader) {
			for {
				m, err := r.ReadMessage(readCtx)
				select {
				case results <- result{m, err}:
				case <-readCtx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}(r)
	}
	var seen []record
	for len(seen) < *count {
		select {
		case r := <-results:
			if r.err != nil {
				return nil, fmt.Errorf("%v (consumed %d of %d records)", r.err, len(seen), *count)
			}
			seen = append(seen, toRecord(r.m))
		case <-ctx.Done():
			return nil, fmt.Errorf("consumed %d of %d records before the deadline", len(seen), *count)
		}
	}
	return map[string]interface{}{"consumed": seen}, nil
}

// consumeGroup reads the topic as a member of consumer group -group (ReadMessage commits each record) until
// -count records came, then leaves the group.
func consumeGroup(ctx context.Context) (map[string]interface{}, error) {
	if *group == "" {
		return nil, errors.New("-group is required")
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           brokers(),
		Topic:             *topic,
		GroupID:           *group,
		MinBytes:          1,
		MaxBytes:          1 << 20,
		MaxWait:           250 * time.Millisecond,
		HeartbeatInterval: time.Second,
		SessionTimeout:    10 * time.Second,
		Logger:            logger(),
		ErrorLogger:       errorLog,
	})
	var seen []record
	for len(seen) < *count {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("%v (consumed %d of %d records)", err, len(seen), *count)
		}
		seen = append(seen, toRecord(m))
	}
	if err := r.Close(); err != nil {
		return nil, err
	}
	return map[string]interface{}{"consumed": seen}, nil
}

func toRecord(m kafka.Message) record {
	r := record{Partition: m.Partition, Offset: m.Offset, Key: string(m.Key), Value: string(m.Value), Timestamp: -1}
	if !m.Time.IsZero() {
		r.Timestamp = m.Time.UnixNano() / int64(time.Millisecond)
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
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		out["kerror"] = int(kerr)
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
