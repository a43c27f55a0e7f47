package dev.meshwork.transport.ws.internal;

import io.netty.util.concurrent.EventExecutor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The {@link LivenessWheel} of each event loop of one transport, created on first use.
 *
 * <p>Per transport rather than global because the interval and threshold are the transport's
 * settings; per loop so that a wheel is only ever touched by its own thread.
 */
final class LivenessWheels {

    private final Map<EventExecutor, LivenessWheel> wheels = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;
    private final long intervalNanos;
    private final long staleNanos;

    LivenessWheels(LongSupplier nanoTime, long intervalNanos, long staleNanos) {
        this.nanoTime = nanoTime;
        this.intervalNanos = intervalNanos;
        this.staleNanos = staleNanos;
    }

    LivenessWheel forLoop(EventExecutor loop) {
        return wheels.computeIfAbsent(loop, l -> new LivenessWheel(l, nanoTime, intervalNanos, staleNanos));
    }
}
