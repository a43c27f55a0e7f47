package dev.meshwork.transport.ws.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One batched liveness tick for all connections of one event loop: every tick it closes the members
 * silent for at least the stale threshold and pings those whose ping is due.
 *
 * <p>Why: a timer per connection meant one event-loop wake-up per connection per ping interval
 * (1,000 wake-ups/s for 5,000 connections pinging every 5 s), which dominated the idle CPU. One tick
 * per loop wakes it a few times per interval whatever the number of connections. Stale detection
 * is at most one tick (a quarter of the shorter of interval and threshold) late, tighter than the
 * one-interval delay of the per-connection timer.
 *
 * <p>Not thread-safe: every method runs on the owning event loop (the executor given here).
 */
final class LivenessWheel {

    /** A connection under watch. */
    interface Member {
        /** When anything (data, ping, pong) last arrived, in {@code nanoTime} units. */
        long lastReadNanos();

        /** Sends a ping carrying {@code nowNanos}. */
        void ping(long nowNanos);

        /** Nothing arrived for {@code silentNanos} (at least the threshold); the member is already removed. */
        void stale(long silentNanos);
    }

    /** Where a member sits in the wheel and when it pings next. */
    static final class Slot {
        private final Member member;
        private long nextPingNanos;
        private int index = -1;

        private Slot(Member member, long nextPingNanos) {
            this.member = member;
            this.nextPingNanos = nextPingNanos;
        }

        boolean registered() {
            return index >= 0;
        }
    }

    private final ScheduledExecutorService loop;
    private final LongSupplier nanoTime;
    private final long intervalNanos;
    private final long staleNanos;
    private final long tickNanos;
    private final ArrayList<Slot> slots = new ArrayList<>();
    private Slot[] snapshot = new Slot[0];
    private ScheduledFuture<?> task;

    LivenessWheel(ScheduledExecutorService loop, LongSupplier nanoTime, long intervalNanos, long staleNanos) {
        if (intervalNanos <= 0 || staleNanos <= 0) {
            throw new IllegalArgumentException("ping interval and stale threshold must be positive");
        }
        this.loop = loop;
        this.nanoTime = nanoTime;
        this.intervalNanos = intervalNanos;
        this.staleNanos = staleNanos;
        this.tickNanos = tickFor(intervalNanos, staleNanos);
    }

    /** A quarter of the shorter of interval and threshold, at least 1 ms. */
    static long tickFor(long intervalNanos, long staleNanos) {
        return Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(intervalNanos, staleNanos) / 4);
    }

    long tickNanos() {
        return tickNanos;
    }

    int size() {
        return slots.size();
    }

    /** Watches {@code member}; its first ping is due one interval from now. Starts the tick if idle. */
    Slot add(Member member) {
        Slot slot = new Slot(member, nanoTime.getAsLong() + intervalNanos);
        slot.index = slots.size();
        slots.add(slot);
        if (task == null) {
            task = loop.scheduleAtFixedRate(this::tick, tickNanos, tickNanos, TimeUnit.NANOSECONDS);
        }
        return slot;
    }

    /** Stops watching; idempotent. Stops the tick when the wheel is empty. */
    void remove(Slot slot) {
        int i = slot.index;
        if (i < 0) {
            return;
        }
        Slot last = slots.remove(slots.size() - 1);
        if (last != slot) {
            slots.set(i, last);
            last.index = i;
        }
        slot.index = -1;
        if (slots.isEmpty() && task != null) {
            task.cancel(false);
            task = null;
        }
    }

    /** One pass over every member: stale ones are removed and told, due ones pinged. */
    void tick() {
        long now = nanoTime.getAsLong();
        // a snapshot: a ping or a stale close may remove members (even others) while we iterate
        int n = slots.size();
        if (snapshot.length < n) {
            snapshot = new Slot[Math.max(n, snapshot.length * 2)];
        }
        Slot[] members = slots.toArray(snapshot);
        List<Slot> stale = null;
        for (int i = 0; i < n; i++) {
            Slot slot = members[i];
            members[i] = null;
            if (!slot.registered()) {
                continue;
            }
            long silent = now - slot.member.lastReadNanos();
            if (silent >= staleNanos) {
                remove(slot);
                if (stale == null) {
                    stale = new ArrayList<>();
                }
                stale.add(slot);
            } else if (now - slot.nextPingNanos >= 0) {
                // keep the phase (no drift) unless we fell more than one interval behind
                slot.nextPingNanos += intervalNanos;
                if (now - slot.nextPingNanos >= 0) {
                    slot.nextPingNanos = now + intervalNanos;
                }
                slot.member.ping(now);
            }
        }
        if (stale != null) {
            for (Slot slot : stale) {
                slot.member.stale(now - slot.member.lastReadNanos());
            }
        }
    }
}
