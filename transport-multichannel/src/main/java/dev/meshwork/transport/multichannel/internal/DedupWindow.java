package dev.meshwork.transport.multichannel.internal;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A bounded, time-windowed set of message ids used to drop duplicates (re-sends after failover,
 * relayed copies). An id is remembered for the window or until the capacity pushes it out,
 * whichever comes first, so memory stays bounded under any load. Not thread-safe.
 */
final class DedupWindow<V> {

    private record Entry(String key, long at) {
    }

    private final long windowNanos;
    private final int capacity;
    private final ArrayDeque<Entry> order = new ArrayDeque<>();
    private final Map<String, V> values = new HashMap<>();

    DedupWindow(long windowNanos, int capacity) {
        this.windowNanos = windowNanos;
        this.capacity = capacity;
    }

    /** Remembers {@code key}; returns false if it was already known (a duplicate). */
    boolean add(String key, V value, long now) {
        expire(now);
        if (values.containsKey(key)) {
            return false;
        }
        values.put(key, value);
        order.addLast(new Entry(key, now));
        while (order.size() > capacity) {
            values.remove(order.removeFirst().key());
        }
        return true;
    }

    boolean contains(String key, long now) {
        expire(now);
        return values.containsKey(key);
    }

    V get(String key, long now) {
        expire(now);
        return values.get(key);
    }

    void put(String key, V value) {
        if (values.containsKey(key)) {
            values.put(key, value);
        }
    }

    /** Forgets every key starting with {@code prefix} (a restarted peer's ids). */
    void removePrefix(String prefix) {
        values.keySet().removeIf(k -> k.startsWith(prefix));
        order.removeIf(e -> e.key().startsWith(prefix));
    }

    int size() {
        return values.size();
    }

    private void expire(long now) {
        while (!order.isEmpty() && now - order.peekFirst().at() > windowNanos) {
            values.remove(order.removeFirst().key());
        }
    }
}
