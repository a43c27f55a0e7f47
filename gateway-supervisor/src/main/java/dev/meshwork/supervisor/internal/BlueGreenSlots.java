package dev.meshwork.supervisor.internal;

import dev.meshwork.api.lifecycle.BlueGreenStatus;
import dev.meshwork.api.lifecycle.LifecycleState;
import dev.meshwork.supervisor.internal.process.GatewayProcess;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;

/**
 * The two ports of a gateway restarted blue/green and what stands on them: which port serves (or
 * last served), the old process while a switch is under way, the one draining after a switch,
 * and the record of switches for the status.
 *
 * <pre>
 *   blue  = {@code port}                    green = {@code restart.alternatePort}
 *   {@link #begin}     the serving process is kept aside; the new one starts on {@link #nextPort}
 *   {@link #succeeded} the new port serves; the old process is handed back to {@link #drain}
 *   {@link #failed}    the old process is handed back: it serves on, the active port unchanged
 * </pre>
 *
 * <p>It decides nothing about states: {@link GatewaySupervisor} owns the transitions and tells
 * this class what happened. Without blue/green only {@link #served} is used (the active port).
 * Not thread-safe: used on the supervisor's thread.
 */
final class BlueGreenSlots {

    /** A process with the port-resolved configuration it was started with, and when. */
    record Slot(GatewayProcess process, SupervisorConfig config, long spawnedAt) {
    }

    private final GuardedScheduler tasks;
    private Slot serving;
    private LifecycleState switchFrom;
    private GatewayProcess draining;
    private ScheduledFuture<?> drainTimer;
    private int activePort;
    private int switches;
    private int failedSwitches;
    private Optional<String> lastSwitchFailure = Optional.empty();

    BlueGreenSlots(GuardedScheduler tasks) {
        this.tasks = tasks;
    }

    /**
     * The port of the next process: {@code port}; with blue/green, the one of the two the
     * serving (or last serving) process does not use.
     */
    int nextPort(SupervisorConfig config) {
        return config.blueGreen().map(bg -> activePort == config.port() ? bg.alternatePort() : config.port())
                .orElse(config.port());
    }

    static String colour(SupervisorConfig config, int port) {
        return port == config.port() ? "blue" : config.blueGreen().filter(bg -> bg.alternatePort() == port).isPresent()
                ? "green" : "port " + port;
    }

    /** A switch begins from {@code from} (RUNNING or DEGRADED): {@code old} serves on meanwhile. */
    void begin(LifecycleState from, Slot old) {
        switchFrom = from;
        serving = old;
    }

    /** The old process while a switch is under way, or null. */
    Slot serving() {
        return serving;
    }

    /** The state a failed switch returns to. */
    LifecycleState switchFrom() {
        return switchFrom;
    }

    /** The old process is no longer ours to keep aside (it exited, or a stop retires it); returns it. */
    Slot takeServing() {
        Slot s = serving;
        serving = null;
        return s;
    }

    /** The new process on {@code port} is ready: it serves; returns the old one, to drain. */
    Slot succeeded(int port) {
        Slot old = takeServing();
        activePort = port;
        switches++;
        return old;
    }

    /** The new process failed: returns the old one, which serves on; the active port is unchanged. */
    Slot failed(String reason) {
        failedSwitches++;
        lastSwitchFailure = Optional.of(reason);
        return takeServing();
    }

    int failedSwitches() {
        return failedSwitches;
    }

    /** A process became ready on {@code port} outside a switch. */
    void served(int port) {
        activePort = port;
    }

    /** After a switch: the old process serves on for {@code drain}, then goes to {@code retire}. */
    void drain(GatewayProcess old, Duration drain, Consumer<GatewayProcess> retire) {
        if (drain.isZero()) {
            retire.accept(old);
            return;
        }
        draining = old;
        drainTimer = tasks.schedule("drain timer", () -> {
            if (draining == old) {
                draining = null;
                retire.accept(old);
            }
        }, drain);
    }

    /** Ends the drain now (a stop, or the next start): returns the process that was draining, or null. */
    GatewayProcess endDrain() {
        if (drainTimer != null) {
            drainTimer.cancel(false);
        }
        GatewayProcess d = draining;
        draining = null;
        return d;
    }

    /** The blue/green part of the status, if configured; {@code candidate} is the new process while switching. */
    Optional<BlueGreenStatus> status(SupervisorConfig config, OptionalLong candidate) {
        return config.blueGreen().map(b -> {
            int active = activePort == b.alternatePort() ? b.alternatePort() : config.port();
            return new BlueGreenStatus(colour(config, active), active, active == config.port() ? b.alternatePort()
                    : config.port(), candidate, switches, failedSwitches, lastSwitchFailure);
        });
    }
}
