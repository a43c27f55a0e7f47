package dev.meshwork.transport.ws.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Logs at most one line per key and period, counting what it suppressed.
 *
 * <p>Bad input from the network can arrive thousands of times a second; an unthrottled log line per
 * occurrence would turn an attack into a disk-filling one.
 */
public final class RateLimitedLog {

    private final Logger log;
    private final LongSupplier nanoTime;
    private final long periodNanos;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    public RateLimitedLog(Logger log, LongSupplier nanoTime, long periodNanos) {
        this.log = log;
        this.nanoTime = nanoTime;
        this.periodNanos = periodNanos;
    }

    /** Logs a warning for {@code key} unless one was logged within the period. */
    public void warn(String key, String format, Object... args) {
        Window window = windows.computeIfAbsent(key, k -> new Window());
        long now = nanoTime.getAsLong();
        long last = window.lastLogged.get();
        if ((last == Long.MIN_VALUE || now - last >= periodNanos) && window.lastLogged.compareAndSet(last, now)) {
            long suppressed = window.suppressed.getAndSet(0);
            if (suppressed > 0) {
                log.warn(format + " (" + suppressed + " similar suppressed)", args);
            } else {
                log.warn(format, args);
            }
        } else {
            window.suppressed.incrementAndGet();
        }
    }

    private static final class Window {
        final AtomicLong lastLogged = new AtomicLong(Long.MIN_VALUE);
        final AtomicLong suppressed = new AtomicLong();
    }
}
