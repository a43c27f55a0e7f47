package dev.meshwork.transport.ws.internal;

import java.util.function.LongSupplier;

/**
 * What every connection and handler of one transport shares: settings, counters, the rate-limited
 * log, the monotonic clock and the liveness wheels of the event loops.
 */
record TransportContext(WsSettings settings, TransportCounters counters, RateLimitedLog log, LongSupplier nanoTime,
        LivenessWheels liveness) {
}
