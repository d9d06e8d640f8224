#!/usr/bin/env python3
"""The reference client of the benchmark: PyPI confluent-kafka, as a user would write it.

`bench` runs this script next to the project's own binaries against the same broker and
compares the figures. Two modes, each printing one JSON object on stdout:

  produce --brokers B --topic T --events FILE
      FILE holds one event per line, "key<TAB>payload" (the bench writes it). Sends every
      line with a delivery callback, polling as it goes, then flushes.
      -> {"events": N, "delivered": D, "failed": F, "seconds": S}
         seconds: from the first produce() to the end of flush()

  consume --brokers B --topic T --group G --count N [--session-timeout-ms MS] [--decode]
      Joins group G, reads from the earliest offset until N records were read. With
      --decode, parses each record's JSON and reads its seq and source, as the project's
      consumer does (the equal-work row).
      -> {"count": N, "bytes": B, "join_seconds": J, "drain_seconds": S}
         join_seconds: start to the first record; drain_seconds: first record to the Nth

Times are taken inside the process (time.perf_counter), like the project's own figures.
"""

import argparse
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer


def produce(args):
    with open(args.events, "rb") as f:
        lines = [line.rstrip(b"\n").split(b"\t", 1) for line in f if line.strip()]
    outcome = {"delivered": 0, "failed": 0}

    def on_delivery(err, _msg):
        outcome["failed" if err else "delivered"] += 1

    producer = Producer({"bootstrap.servers": args.brokers})
    started = time.perf_counter()
    for key, value in lines:
        while True:
            try:
                producer.produce(args.topic, value=value, key=key, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: serve callbacks, then retry
                producer.poll(0.01)
        producer.poll(0)
    left = producer.flush(60)
    seconds = time.perf_counter() - started
    print(json.dumps({"events": len(lines), "undelivered": left, "seconds": seconds, **outcome}))
    return 0 if left == 0 and outcome["failed"] == 0 else 1


def consume(args):
    started = time.perf_counter()
    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            "group.id": args.group,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": args.session_timeout_ms,
        }
    )
    consumer.subscribe([args.topic])
    count, size, first = 0, 0, None
    deadline = started + args.timeout
    try:
        while count < args.count:
            if time.perf_counter() > deadline:
                print(f"timed out after {args.timeout} s with {count} records", file=sys.stderr)
                return 1
            # Small batches: consume() returns when a batch is full, so the first record
            # is seen at most 500 records late.
            for msg in consumer.consume(num_messages=500, timeout=0.5):
                if msg.error():
                    raise KafkaException(msg.error())
                if first is None:
                    first = time.perf_counter()
                value = msg.value()
                if args.decode:
                    event = json.loads(value)
                    _ = (event["seq"], event["source"])
                size += len(value)
                count += 1
        last = time.perf_counter()
    finally:
        consumer.close()
    print(json.dumps({"count": count, "bytes": size, "join_seconds": first - started, "drain_seconds": last - first}))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    p = modes.add_parser("produce")
    p.add_argument("--brokers", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--events", required=True)
    c = modes.add_parser("consume")
    c.add_argument("--brokers", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--group", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--session-timeout-ms", type=int, default=6000)
    c.add_argument("--decode", action="store_true", help="parse each record's JSON")
    c.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds")
    args = parser.parse_args()
    return produce(args) if args.mode == "produce" else consume(args)


if __name__ == "__main__":
    sys.exit(main())
