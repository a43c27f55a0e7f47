package dev.meshwork.transport.ws.internal;

import java.util.function.LongSupplier;

/**
 * What every connection and handler of one transport shares: settings, counters, the rate-limited
 * log and the monotonic clock.
 */
record TransportContext(WsSettings settings, TransportCounters counters, RateLimitedLog log, LongSupplier nanoTime) {
}
