package dev.meshwork.transport.ws.internal;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of everything that went wrong or was refused, so that every failure is visible.
 *
 * <p>Thread-safe; read by status commands and tests.
 */
public final class TransportCounters {

    /** What is counted. */
    public enum Event {
        CONNECTIONS_ACCEPTED, CONNECTIONS_DIALED, DIAL_FAILURES, STALE_CLOSES, TEXT_FRAMES, OVERSIZED_FRAMES,
        MALFORMED_FRAMES, UNDECODABLE_PAYLOADS, INVALID_UTF8, UPGRADE_TIMEOUTS, BAD_HTTP_REQUESTS, STATUS_REQUESTS,
        HANDLER_ERRORS, ACCEPTOR_REFUSALS, TLS_FAILURES, SENDS_REFUSED
    }

    private final Map<Event, LongAdder> counters = new EnumMap<>(Event.class);

    public TransportCounters() {
        for (Event event : Event.values()) {
            counters.put(event, new LongAdder());
        }
    }

    public void increment(Event event) {
        counters.get(event).increment();
    }

    public long get(Event event) {
        return counters.get(event).sum();
    }

    /** A one-line summary, {@code NAME=count} for each non-zero counter. */
    public String summary() {
        StringBuilder out = new StringBuilder();
        counters.forEach((event, adder) -> {
            long value = adder.sum();
            if (value != 0) {
                out.append(out.length() == 0 ? "" : " ").append(event.name().toLowerCase()).append('=').append(value);
            }
        });
        return out.length() == 0 ? "(no events)" : out.toString();
    }
}
