package dev.meshwork.supervisor.internal;

import dev.meshwork.api.lifecycle.LifecycleStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * Operator requests and the futures that wait on them: restart and reload intents, coalesced
 * within the debounce window and kept until the state machine applies them, and whoever waits
 * for a start, a stop, a reload check, or a start once a stop is done.
 *
 * <pre>
 *   restart() / reload() ──▶ pending intent (RESTART absorbs RELOAD) ──debounce──▶ GatewaySupervisor applies it
 *     applied as a start  ({@link #take()}):         its futures wait for the start
 *     applied as a reload ({@link #takeAsReload()}): its futures wait for the reload check,
 *                                                    or for the restart it falls back to
 *   stop() ──▶ {@link #cancel}: pending intents and reloads fail CANCELLED, starts fail SHUT_DOWN
 * </pre>
 *
 * <p>It decides nothing about states: the supervisor asks and acts. Not thread-safe: used on
 * the supervisor's thread.
 */
final class IntentQueue {

    /** A pending operator request. RESTART includes RELOAD. */
    enum Intent { NONE, RELOAD, RESTART }

    private Intent intent = Intent.NONE;
    private ScheduledFuture<?> debounceTimer;
    private final List<CompletableFuture<LifecycleStatus>> starts = new ArrayList<>();
    private final List<CompletableFuture<LifecycleStatus>> intents = new ArrayList<>();
    private final List<CompletableFuture<LifecycleStatus>> reloads = new ArrayList<>();
    private final List<CompletableFuture<LifecycleStatus>> stops = new ArrayList<>();
    private final List<CompletableFuture<LifecycleStatus>> startsAfterStop = new ArrayList<>();

    Intent pending() {
        return intent;
    }

    boolean hasPending() {
        return intent != Intent.NONE;
    }

    /** Whether a pending intent can be applied now: it is no longer inside its debounce window. */
    boolean ready() {
        return intent != Intent.NONE && debounceTimer == null;
    }

    /** Adds a restart or reload; the first of a window starts the debounce timer, which then runs {@code onElapsed}. */
    void request(Intent wanted, CompletableFuture<LifecycleStatus> f, GuardedScheduler tasks, Duration debounce,
            Runnable onElapsed) {
        if (wanted.ordinal() > intent.ordinal()) {
            intent = wanted;
        }
        intents.add(f);
        if (debounceTimer == null) {
            debounceTimer = tasks.schedule("debounce timer", () -> {
                debounceTimer = null;
                onElapsed.run();
            }, debounce);
        }
    }

    /** The intent is applied as a start: its futures complete with that start. */
    Intent take() {
        Intent i = intent;
        intent = Intent.NONE;
        starts.addAll(intents);
        intents.clear();
        return i;
    }

    /** The intent is applied as a reload signal: its futures wait for the reload check. */
    void takeAsReload() {
        intent = Intent.NONE;
        reloads.addAll(intents);
        intents.clear();
    }

    boolean reloadPending() {
        return !reloads.isEmpty();
    }

    /** The reload falls back to a restart: its futures complete with that start. */
    void reloadBecomesStart() {
        starts.addAll(reloads);
        reloads.clear();
    }

    void completeReloads(LifecycleStatus s) {
        completeAll(reloads, s);
    }

    void awaitStart(CompletableFuture<LifecycleStatus> f) {
        starts.add(f);
    }

    void completeStarts(LifecycleStatus s) {
        completeAll(starts, s);
    }

    void failStarts(Throwable t) {
        failAll(starts, t);
    }

    void awaitStop(CompletableFuture<LifecycleStatus> f) {
        stops.add(f);
    }

    void completeStops(LifecycleStatus s) {
        completeAll(stops, s);
    }

    /** A start asked for while stopping: it begins once STOPPED. */
    void startAfterStop(CompletableFuture<LifecycleStatus> f) {
        startsAfterStop.add(f);
    }

    /** Once STOPPED: whether a start was asked for meanwhile; its futures then wait for that start. */
    boolean takeStartsAfterStop() {
        if (startsAfterStop.isEmpty()) {
            return false;
        }
        starts.addAll(startsAfterStop);
        startsAfterStop.clear();
        return true;
    }

    /** A stop: pending intents and reloads fail with {@code cancelled}, starts with {@code shutDown}. */
    void cancel(Throwable cancelled, Throwable shutDown) {
        dropIntent();
        failAll(intents, cancelled);
        failAll(reloads, cancelled);
        failAll(starts, shutDown);
    }

    /** FAILED: starts and pending intents fail with {@code t}. */
    void fail(Throwable t) {
        failAll(starts, t);
        failAll(intents, t);
        dropIntent();
    }

    private void dropIntent() {
        intent = Intent.NONE;
        if (debounceTimer != null) {
            debounceTimer.cancel(false);
            debounceTimer = null;
        }
    }

    private static void completeAll(List<CompletableFuture<LifecycleStatus>> waiters, LifecycleStatus s) {
        List<CompletableFuture<LifecycleStatus>> copy = new ArrayList<>(waiters);
        waiters.clear();
        copy.forEach(f -> f.complete(s));
    }

    private static void failAll(List<CompletableFuture<LifecycleStatus>> waiters, Throwable t) {
        List<CompletableFuture<LifecycleStatus>> copy = new ArrayList<>(waiters);
        waiters.clear();
        copy.forEach(f -> f.completeExceptionally(t));
    }
}
