package dev.meshwork.supervisor.internal;

import static dev.meshwork.api.lifecycle.LifecycleState.BACKOFF;
import static dev.meshwork.api.lifecycle.LifecycleState.DEGRADED;
import static dev.meshwork.api.lifecycle.LifecycleState.FAILED;
import static dev.meshwork.api.lifecycle.LifecycleState.RUNNING;
import static dev.meshwork.api.lifecycle.LifecycleState.STARTING;
import static dev.meshwork.api.lifecycle.LifecycleState.STOPPED;
import static dev.meshwork.api.lifecycle.LifecycleState.STOPPING;
import static dev.meshwork.api.lifecycle.LifecycleState.SWITCHING;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.lifecycle.BlueGreenStatus;
import dev.meshwork.api.lifecycle.LifecycleController;
import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.lifecycle.LifecycleState;
import dev.meshwork.api.lifecycle.LifecycleStatus;
import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.api.lifecycle.ProbeResult;
import dev.meshwork.supervisor.internal.BlueGreenSlots.Slot;
import dev.meshwork.supervisor.internal.IntentQueue.Intent;
import dev.meshwork.supervisor.internal.SupervisorConfig.ProbeSpec;
import dev.meshwork.supervisor.internal.process.ExitStatus;
import dev.meshwork.supervisor.internal.process.GatewayProcess;
import dev.meshwork.supervisor.internal.process.ProcessTable.PortHolder;
import dev.meshwork.supervisor.internal.process.Spawner;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Supervises one gateway process: the one class that owns its {@link LifecycleState} and makes
 * every transition (the edges allowed are in {@link Transitions}); its collaborators notice and
 * act, and never change the state.
 *
 * <pre>
 *   STOPPED ──start──▶ STARTING ──ready──▶ RUNNING ──miss──▶ DEGRADED ──hit──▶ RUNNING
 *                         │  ▲                │ exit             │ K misses / exit
 *                 fail /  │  │ restart,       ▼                  ▼
 *                 exit    │  │ reload     BACKOFF ◀──────────────┘
 *                         ▼  │ fallback      │ timer (full-jitter backoff)
 *                      BACKOFF ──timer──▶ STARTING
 *   exit or start failure with the governor open ──▶ FAILED ──slow retry──▶ STARTING
 *   exit code 78 / configured permanent code ──▶ FAILED ──configuration change, start, restart──▶ STARTING
 *   port held by a foreign process ──▶ FAILED ──slow retry──▶ STARTING
 *   any ──stop──▶ STOPPING ──process group gone──▶ STOPPED
 *
 *   blue/green (restart.strategy=blue-green), while the old process lives:
 *   RUNNING/DEGRADED ──restart, reload fallback, K heartbeat misses──▶ SWITCHING
 *   SWITCHING ──new process ready──▶ RUNNING   (active port flips; the old one gets SIGTERM after the drain)
 *   SWITCHING ──new one not ready / exits / cannot spawn / port held──▶ RUNNING or DEGRADED (the old one serves on)
 *   SWITCHING ──the old process exits──▶ STARTING (nothing left to overlap: the new one just starts)
 * </pre>
 *
 * <p>Blue/green: the blue process listens on {@code port}, the green one on the alternate port;
 * every new process takes the port the serving one does not use ({@code ${port}} in its command,
 * arguments, environment and probe parameters). During SWITCHING {@link BlueGreenSlots#serving()}
 * is the old process and {@link #process} the new one, so the whole start path (spawn, readiness,
 * deadline, epochs) is the same as for STARTING; only its two outcomes differ.
 *
 * <table>
 *   <caption>the parts, one job each</caption>
 *   <tr><td>{@link IntentQueue}</td><td>restart/reload intents, their debounce, every waiting future</td></tr>
 *   <tr><td>{@link RestartPolicy}</td><td>backoff with full jitter under the {@link Governor}</td></tr>
 *   <tr><td>{@link Adoption}</td><td>the pid file; our own process found running; a foreign port holder</td></tr>
 *   <tr><td>{@link Readiness}, {@link Heartbeat}</td><td>probe until ready; beat at a fixed rate, count misses</td></tr>
 *   <tr><td>{@link ProbeRunner}</td><td>one probe: found on the whiteboard, given the port, bounded by its timeout</td></tr>
 *   <tr><td>{@link BlueGreenSlots}</td><td>the active port, the old process while switching, the drain</td></tr>
 *   <tr><td>{@link Reaper}</td><td>ends a process group (SIGTERM, SIGKILL after the grace); when all are gone</td></tr>
 *   <tr><td>{@link StatusBoard}</td><td>what the status tells, published as one {@link SupervisorSnapshot}</td></tr>
 *   <tr><td>{@link GuardedScheduler}</td><td>runs every task and callback: a throw is logged, counted, survived</td></tr>
 * </table>
 *
 * <p>Why one thread: every input (requests, process exits, probe results, timers) is posted to
 * the injected single-threaded scheduler and handled there in order, so the state is plain fields
 * with no locks and no flag combinations. Every start increments the epoch; callbacks carry the
 * epoch they were made for and do nothing once it is stale. Restart and reload requests are
 * intents: they coalesce within the debounce window, wait while STARTING and are applied once
 * the gateway is RUNNING; a stop cancels them (their futures fail with {@code CANCELLED}).
 *
 * <p>Public methods are thread-safe and never block. Other threads (the shell, the console, DS)
 * read only the immutable snapshot the supervisor's thread publishes ({@link #status()},
 * {@link #config()}, {@link #snapshot()}), never its fields.
 */
public final class GatewaySupervisor implements LifecycleController {

    private static final Logger LOG = LoggerFactory.getLogger(GatewaySupervisor.class);

    /** Why the gateway is FAILED, which decides whether it retries on its own. */
    enum FailedCause { GOVERNOR, PERMANENT_EXIT, PORT_HELD }

    private final Spawner spawner;
    private final ProbeRunner probeRunner;
    private final Reaper reaper;
    private final Adoption adoption;
    private final BlueGreenSlots slots;
    private final Heartbeat heartbeat;
    private final Readiness readiness;
    /** The status, and the only state other threads read (its published snapshot). */
    private final StatusBoard board;
    private final LongSupplier nanoTime;
    private final InstantSource clock;
    private final GuardedScheduler tasks;
    private final DoubleSupplier random;
    private final Consumer<LifecycleEvent> events;

    // ---- state: touched only on the executor thread ----
    private SupervisorConfig config;
    private final RestartPolicy restartPolicy;
    private final IntentQueue requests = new IntentQueue();
    private LifecycleState state = STOPPED;
    private long epoch;
    private GatewayProcess process;
    private SupervisorConfig processConfig;
    private long spawnedAt;
    private long readyAt;
    private Instant since;
    private FailedCause failedCause;
    private ScheduledFuture<?> wakeTimer;


    /**
     * @param probes  finds the probe registered for a type (the whiteboard)
     * @param ports   who listens on a port ({@code ProcessTable::listener})
     * @param executor a single-threaded scheduler: all state changes happen on it
     * @param random  uniform in [0, 1): the backoff jitter
     * @param events  receives every transition, in order, on the executor thread
     */
    public GatewaySupervisor(SupervisorConfig config, Spawner spawner, Function<String, Optional<Probe>> probes,
            IntFunction<Optional<PortHolder>> ports, PidFile pidFile, LongSupplier nanoTime, InstantSource clock,
            ScheduledExecutorService executor, DoubleSupplier random, Consumer<LifecycleEvent> events) {
        this.config = config;
        this.spawner = spawner;
        this.adoption = new Adoption(config.name(), pidFile, ports, spawner);
        this.nanoTime = nanoTime;
        this.clock = clock;
        this.tasks = new GuardedScheduler(executor, config.name());
        this.tasks.onFailure(this::publish);
        this.probeRunner = new ProbeRunner(config.name(), probes, tasks);
        this.reaper = new Reaper(config.name(), tasks, nanoTime);
        this.slots = new BlueGreenSlots(tasks);
        this.heartbeat = new Heartbeat(tasks);
        this.readiness = new Readiness(tasks);
        this.board = new StatusBoard(tasks);
        this.random = random;
        this.events = events;
        this.restartPolicy = new RestartPolicy(config, random);
        this.since = clock.instant();
        this.processConfig = config.forPort(config.port());
        publish();
    }

    // ------------------------------------------------------------------ public API

    @Override
    public String name() {
        return board.current().config().name();
    }

    @Override
    public LifecycleStatus status() {
        return board.current().statusAt(nanoTime.getAsLong());
    }

    /** One consistent view of the status, configuration and failure counts (read on any thread). */
    SupervisorSnapshot snapshot() {
        return board.current();
    }

    /** The monotonic clock the uptime in a snapshot is counted on. */
    long nanoTime() {
        return nanoTime.getAsLong();
    }

    @Override
    public CompletableFuture<LifecycleStatus> start() {
        CompletableFuture<LifecycleStatus> f = new CompletableFuture<>();
        post(() -> onStartRequest(f));
        return f;
    }

    @Override
    public CompletableFuture<LifecycleStatus> stop() {
        CompletableFuture<LifecycleStatus> f = new CompletableFuture<>();
        post(() -> onStopRequest(f));
        return f;
    }

    @Override
    public CompletableFuture<LifecycleStatus> restart() {
        CompletableFuture<LifecycleStatus> f = new CompletableFuture<>();
        post(() -> onIntent(Intent.RESTART, f));
        return f;
    }

    @Override
    public CompletableFuture<LifecycleStatus> reload() {
        CompletableFuture<LifecycleStatus> f = new CompletableFuture<>();
        post(() -> onIntent(Intent.RELOAD, f));
        return f;
    }

    /**
     * Applies a new configuration: a FAILED gateway (governor or permanent exit code) starts
     * again at once; a live one restarts through the debounced intent path.
     */
    public void reconfigure(SupervisorConfig next) {
        post(() -> {
            if (next.equals(config)) {
                return; // an unchanged update keeps the restart history
            }
            config = next;
            restartPolicy.reconfigure(next);
            publish(); // readers of config() see the new one from now on
            switch (state) {
                case FAILED -> {
                    cancel(wakeTimer);
                    beginStart("configuration changed");
                }
                case STARTING, SWITCHING, RUNNING, DEGRADED, BACKOFF -> onIntent(Intent.RESTART, new CompletableFuture<>());
                default -> { }
            }
        });
    }

    /** The configuration in force, as last published (read on any thread; for commands and tests). */
    public SupervisorConfig config() {
        return board.current().config();
    }

    // ------------------------------------------------------------------ requests

    private void onStartRequest(CompletableFuture<LifecycleStatus> f) {
        switch (state) {
            case STOPPED -> {
                requests.awaitStart(f);
                beginStart("start requested");
            }
            case FAILED, BACKOFF -> {
                requests.awaitStart(f);
                cancel(wakeTimer);
                restartPolicy.forgiveGovernor();
                beginStart("start requested in " + state);
            }
            case STARTING -> requests.awaitStart(f);
            case RUNNING, DEGRADED, SWITCHING -> f.complete(board.current().status());
            case STOPPING -> requests.startAfterStop(f);
            default -> throw new IllegalStateException(state.name());
        }
    }

    private void onStopRequest(CompletableFuture<LifecycleStatus> f) {
        if (state == STOPPED) {
            f.complete(board.current().status());
            return;
        }
        requests.awaitStop(f);
        if (state == STOPPING) {
            return;
        }
        requests.cancel(new RetryableException(FailureCode.CANCELLED, "gateway " + config.name() + ": cancelled by stop"),
                new RetryableException(FailureCode.SHUT_DOWN, "gateway " + config.name() + " was stopped"));
        cancelTimers();
        board.nextAttemptAt(Optional.empty());
        epoch++;
        transition(STOPPING, "stop requested");
        retire(process);
        Slot old = slots.takeServing(); // the old process of a blue/green switch under way
        retire(old == null ? null : old.process());
        retireDraining();
        long stopEpoch = epoch;
        reaper.allGone().whenComplete((v, e) -> post(() -> {
            if (state == STOPPING && epoch == stopEpoch) {
                adoption.forget();
                transition(STOPPED, "process group gone");
                requests.completeStops(board.current().status());
                if (requests.takeStartsAfterStop()) {
                    beginStart("start requested while stopping");
                }
            }
        }));
    }

    private void onIntent(Intent wanted, CompletableFuture<LifecycleStatus> f) {
        switch (state) {
            case STOPPED -> onStartRequest(f);
            case STOPPING -> requests.startAfterStop(f);
            default -> requests.request(wanted, f, tasks, config.debounce(), this::onDebounceElapsed);
        }
    }

    private void onDebounceElapsed() {
        if (!requests.hasPending()) {
            return;
        }
        switch (state) {
            case STARTING, SWITCHING -> LOG.debug("gateway {}: {} deferred until the start completes", config.name(),
                    requests.pending());
            case RUNNING, DEGRADED -> applyIntent();
            case BACKOFF, FAILED -> {
                // The process is down already: an explicit restart means "try now", whatever the
                // backoff or governor said.
                Intent i = requests.take();
                cancel(wakeTimer);
                restartPolicy.forgiveGovernor();
                board.restarted();
                beginStart(i == Intent.RELOAD ? "reload requested while down" : "restart requested");
            }
            default -> { }
        }
    }

    /** Applies the pending intent to a RUNNING or DEGRADED gateway. */
    private void applyIntent() {
        if (requests.pending() == Intent.RESTART || config.reloadSignal().isEmpty()) {
            Intent i = requests.take();
            restartNow(i == Intent.RESTART ? "restart requested" : "reload requested; no reload signal configured");
            return;
        }
        requests.takeAsReload();
        String sig = config.reloadSignal().get();
        if (!process.signal(sig)) {
            requests.reloadBecomesStart();
            restartNow("reload signal SIG" + sig + " could not be delivered; restarting");
            return;
        }
        LOG.info("gateway {}: sent SIG{} to pid {} to reload", config.name(), sig, process.pid());
        long e = epoch;
        tasks.schedule("reload check", () -> verifyReload(e), config.reloadVerify());
    }

    private void verifyReload(long e) {
        if (e != epoch || (state != RUNNING && state != DEGRADED) || !requests.reloadPending()) {
            return;
        }
        ProbeSpec spec = processConfig.heartbeat().isNone() ? processConfig.readiness() : processConfig.heartbeat();
        if (spec.isNone()) {
            requests.completeReloads(board.current().status());
            return;
        }
        runProbe(spec, spec.timeout()).thenAccept(r -> post(() -> {
            if (e != epoch || (state != RUNNING && state != DEGRADED)) {
                return;
            }
            if (r.ok()) {
                LOG.info("gateway {}: reloaded in place ({})", config.name(), r.detail());
                requests.completeReloads(board.current().status());
            } else {
                requests.reloadBecomesStart();
                restartNow("unhealthy after reload signal (" + r.detail() + "); restarting");
            }
        }));
    }

    /**
     * RUNNING/DEGRADED → STARTING: an explicit restart, not counted by the governor; with
     * blue/green and the old process alive, RUNNING/DEGRADED → SWITCHING instead.
     */
    private void restartNow(String reason) {
        board.restarted();
        restartPolicy.resetBackoff();
        if (config.blueGreen().isPresent() && process != null && !process.exit().isDone()) {
            beginSwitch(reason);
            return;
        }
        retire(process);
        beginStart(reason);
    }

    // ------------------------------------------------------------------ starting

    private void beginStart(String reason) {
        prepareStart();
        transition(STARTING, reason);
        long e = epoch;
        reaper.allGone().whenComplete((v, x) -> post(() -> spawnNow(e)));
    }

    /**
     * RUNNING/DEGRADED → SWITCHING: the serving process stays up, the new one starts on the other
     * port. Its spawn still waits for retired processes (a failed green of an earlier switch on
     * the same port), never for the serving one.
     */
    private void beginSwitch(String reason) {
        Slot old = new Slot(process, processConfig, spawnedAt);
        slots.begin(state, old);
        process = null;
        prepareStart();
        int port = nextPort();
        transition(SWITCHING, reason + "; blue/green: starting the new process on port " + port + " (" + colour(port)
                + ") while pid " + old.process().pid() + " keeps serving port " + old.config().port() + " ("
                + colour(old.config().port()) + ")");
        long e = epoch;
        reaper.allGone().whenComplete((v, x) -> post(() -> spawnNow(e)));
    }

    private void prepareStart() {
        // A process still draining after a switch holds the port the next one may need: the
        // next spawn waits until it is gone.
        retireDraining();
        cancelTimers();
        if (requests.hasPending()) {
            requests.take(); // this start reads the newest configuration: it satisfies a pending restart or reload
        }
        epoch++;
        heartbeat.resetMisses();
        board.nextAttemptAt(Optional.empty());
    }

    /** STARTING or SWITCHING: a new process is on its way to readiness. */
    private boolean starting() {
        return state == STARTING || state == SWITCHING;
    }

    /**
     * The port of the next process: {@code port}; with blue/green, the one of the two the
     * serving (or last serving) process does not use.
     */
    private int nextPort() {
        return slots.nextPort(config);
    }

    private String colour(int port) {
        return BlueGreenSlots.colour(config, port);
    }

    private void spawnNow(long e) {
        if (e != epoch || !starting()) {
            return; // superseded while the previous process was going away
        }
        boolean switching = state == SWITCHING;
        int port = nextPort();
        Optional<Adoption.Adopted> adopted = switching ? Optional.empty() : adoption.findOwn(config);
        if (adopted.isPresent()) {
            port = adopted.get().port();
        } else {
            Optional<String> held = adoption.heldByForeign(config, port);
            if (held.isPresent()) {
                if (switching) {
                    switchFailed(held.get());
                } else {
                    failed(FailedCause.PORT_HELD, held.get());
                }
                return;
            }
        }
        SupervisorConfig resolved = config.forPort(port);
        GatewayProcess p;
        if (adopted.isPresent()) {
            p = adopted.get().process();
        } else {
            try {
                p = spawner.spawn(resolved, e);
            } catch (IOException | RuntimeException ex) {
                String why = "cannot start " + resolved.command().get(0) + ": " + ex.getMessage();
                if (switching) {
                    switchFailed(why);
                } else {
                    board.error(why);
                    scheduleRestart(-1);
                }
                return;
            }
            if (!switching) {
                adoption.record(config, p.pid(), port); // while switching, the file names the serving process until the new one takes over
            }
        }
        process = p;
        processConfig = resolved;
        spawnedAt = nanoTime.getAsLong();
        publish();
        GatewayProcess mine = p;
        p.exit().thenAccept(st -> post(() -> onExit(mine, st)));
        ProbeSpec spec = resolved.readiness();
        if (spec.isNone()) {
            becomeRunning("no readiness probe configured");
            return;
        }
        readiness.begin(spec.timeout(), () -> e == epoch && starting(),
                () -> runProbe(processConfig.readiness(), processConfig.readiness().timeout()), config::readinessRetry,
                this::post, new Readiness.Outcome() {
                    @Override
                    public void ready(String detail) {
                        becomeRunning(detail);
                    }

                    @Override
                    public void notYet(String detail) {
                        board.error(detail);
                    }

                    @Override
                    public void timedOut() {
                        startFailed("not ready within " + spec.timeout().toMillis() + " ms (" + spec.type() + " probe"
                                + board.lastError().map(s -> ": " + s).orElse("") + ")");
                    }
                });
    }

    private void becomeRunning(String detail) {
        readiness.cancel();
        readyAt = nanoTime.getAsLong();
        board.clearError();
        int port = processConfig.port();
        if (state == SWITCHING) {
            // The new process is ready: it serves from now on; the old one drains, then gets SIGTERM.
            Slot served = slots.succeeded(port);
            GatewayProcess old = served.process();
            int oldPort = served.config().port();
            adoption.record(config, process.pid(), port);
            Duration drain = config.blueGreen().map(SupervisorConfig.BlueGreen::drain).orElse(Duration.ZERO);
            transition(RUNNING, "ready on port " + port + " (" + colour(port) + "): " + detail + "; blue/green switch done, pid "
                    + old.pid() + " on port " + oldPort + " gets SIGTERM" + (drain.isZero() ? "" : " in " + drain.toMillis() + " ms"));
            slots.drain(old, drain, this::retire);
        } else {
            slots.served(port);
            transition(RUNNING, "ready: " + detail);
        }
        requests.completeStarts(board.current().status());
        startHeartbeat();
        if (requests.ready()) {
            applyIntent(); // the intent deferred while STARTING, applied exactly once
        }
    }

    private void startFailed(String reason) {
        if (state == SWITCHING) {
            switchFailed(reason);
            return;
        }
        board.error(reason);
        if (process != null) {
            report(process, "start failed: " + reason);
        } else {
            LOG.warn("gateway {}: start failed: {}", config.name(), reason);
        }
        retire(process);
        scheduleRestart(-1);
    }

    /**
     * SWITCHING → RUNNING/DEGRADED: the new process failed (not ready in time, exited, could not
     * spawn, its port held); it is stopped and the old one, never touched, keeps serving.
     */
    private void switchFailed(String reason) {
        readiness.cancel();
        Slot old = slots.failed(reason);
        GatewayProcess green = process;
        int greenPort = nextPort(); // the active port flips only on success
        process = old.process();
        processConfig = old.config();
        spawnedAt = old.spawnedAt();
        String message = "blue/green switch failed: the new process on port " + greenPort + " (" + colour(greenPort) + ") "
                + reason + "; pid " + process.pid() + " keeps serving port " + processConfig.port() + " ("
                + colour(processConfig.port()) + "); failed switches: " + slots.failedSwitches();
        board.error(message);
        if (green != null) {
            report(green, message); // one warning with the new process's start-up lines
            retire(green);
        } else {
            LOG.warn("gateway {}: {}", config.name(), message);
        }
        heartbeat.resetMisses();
        transition(slots.switchFrom(), message);
        requests.failStarts(new RetryableException(FailureCode.INTERNAL, "gateway " + config.name() + ": " + message));
        startHeartbeat();
        if (requests.ready()) {
            applyIntent(); // asked for during the switch: applied once, now
        }
    }

    /** Ends the drain now (a stop, or the next switch). */
    private void retireDraining() {
        retire(slots.endDrain());
    }

    // ------------------------------------------------------------------ running

    private void startHeartbeat() {
        ProbeSpec hb = processConfig.heartbeat();
        if (hb.isNone()) {
            return;
        }
        long e = epoch;
        heartbeat.start(config.heartbeatInterval(), () -> e == epoch, () -> state == RUNNING || state == DEGRADED,
                () -> runProbe(processConfig.heartbeat(), processConfig.heartbeat().timeout()), this::post,
                this::onHeartbeat);
    }

    /** A heartbeat answered while RUNNING or DEGRADED: a hit recovers, a miss degrades, K misses in a row act. */
    private void onHeartbeat(ProbeResult r) {
        if (r.ok()) {
            heartbeat.resetMisses();
            if (state == DEGRADED) {
                transition(RUNNING, "heartbeat answered: " + r.detail());
            }
            return;
        }
        int misses = heartbeat.missed();
        board.error("heartbeat missed " + misses + "/" + config.heartbeatMisses() + ": " + r.detail());
        if (misses >= config.heartbeatMisses()) {
            // A miss acts: K in a row and the process is replaced, through the governor.
            LOG.warn("gateway {}: {}; restarting", config.name(), board.lastError().get());
            if (config.blueGreen().isPresent() && !process.exit().isDone()
                    && restartPolicy.tryReplace(nanoTime.getAsLong())) {
                // Still alive, perhaps still serving some: the new one starts beside it and
                // replaces it only once ready. No backoff wait: K more misses come first anyway.
                board.restarted();
                beginSwitch(board.lastError().get());
                return;
            }
            long up = nanoTime.getAsLong() - readyAt;
            retire(process);
            scheduleRestart(up);
        } else if (state == RUNNING) {
            transition(DEGRADED, board.lastError().get());
        } else {
            publish();
        }
    }

    private void onExit(GatewayProcess p, ExitStatus status) {
        if (state == SWITCHING && p == process) {
            switchFailed("exited before it was ready: " + status.describe());
            return;
        }
        if (state == SWITCHING && slots.serving() != null && p == slots.serving().process()) {
            // Nothing left to overlap: the switch becomes a plain start of the new process.
            slots.takeServing();
            board.exited(status);
            board.error("the serving process exited during the switch: " + status.describe());
            report(p, board.lastError().get());
            retire(p);
            if (process != null) {
                adoption.record(config, process.pid(), processConfig.port()); // not yet spawned: spawnNow writes it
            }
            transition(STARTING, board.lastError().get() + "; the new process on port " + nextPort() + " is still starting");
            return;
        }
        if (p != process) {
            return; // a retired or superseded process: its exit was expected
        }
        process = null;
        adoption.forget();
        board.exited(status);
        try {
            decideAfterExit(p, status);
        } finally {
            // Children left in its group must not outlive it. Retired after the decision so the
            // backoff timer starts at the exit, not after the clean-up; the next spawn still waits
            // for the group to be gone.
            retire(p);
        }
    }

    private void decideAfterExit(GatewayProcess p, ExitStatus status) {
        switch (state) {
            case STARTING -> {
                board.error("exited during start: " + status.describe());
                report(p, board.lastError().get());
                afterExit(status, -1);
            }
            case RUNNING, DEGRADED -> {
                board.error("exited: " + status.describe());
                report(p, null);
                LOG.warn("gateway {}: {}", config.name(), board.lastError().get());
                boolean permanent = status.code().isPresent() && config.permanentExitCodes().contains(status.code().getAsInt());
                if (requests.reloadPending() && !permanent) {
                    // Our reload signal ended it: the reload falls back to a restart, now, and
                    // the reload completes with it. Not a crash, so neither backoff nor governor.
                    requests.reloadBecomesStart();
                    board.restarted();
                    beginStart("exited after the reload signal (" + status.describe() + "); restarting");
                    return;
                }
                afterExit(status, nanoTime.getAsLong() - readyAt);
            }
            default -> publish();
        }
    }

    private void report(GatewayProcess p, String logAs) {
        board.report(p, logAs, config, this::publish);
    }

    private void afterExit(ExitStatus status, long upNanos) {
        if (status.code().isPresent() && config.permanentExitCodes().contains(status.code().getAsInt())) {
            failed(FailedCause.PERMANENT_EXIT, board.lastError().get() + (status.code().getAsInt() == SupervisorConfig.EX_CONFIG
                    ? " (EX_CONFIG)" : "") + ": not restarted until the configuration changes");
            return;
        }
        scheduleRestart(upNanos);
    }

    // ------------------------------------------------------------------ restarts

    /** After a failure: BACKOFF with full jitter, or FAILED with a slow retry when the governor is open. */
    private void scheduleRestart(long upNanos) {
        cancelTimers();
        long now = nanoTime.getAsLong();
        Optional<Duration> after = restartPolicy.afterFailure(now, upNanos);
        if (after.isEmpty()) {
            failed(FailedCause.GOVERNOR, restartPolicy.governorOpen() + " (last: " + board.lastError().orElse("?") + ")");
            return;
        }
        Duration delay = after.get();
        board.nextAttemptAt(Optional.of(clock.instant().plus(delay)));
        transition(BACKOFF, board.lastError().orElse("failed") + "; restarting in " + delay.toMillis() + " ms");
        requests.failStarts(new RetryableException(FailureCode.INTERNAL,
                "gateway " + config.name() + ": " + board.lastError().orElse("start failed") + " (will retry)"));
        long e = epoch;
        wakeTimer = tasks.schedule("backoff timer", () -> {
            if (e == epoch && state == BACKOFF) {
                board.restarted();
                beginStart("backoff of " + delay.toMillis() + " ms elapsed");
            }
        }, delay);
    }

    private void failed(FailedCause cause, String reason) {
        cancelTimers();
        failedCause = cause;
        board.error(reason);
        if (cause == FailedCause.PERMANENT_EXIT) {
            board.nextAttemptAt(Optional.empty());
        } else {
            Duration slow = config.slowRetry();
            board.nextAttemptAt(Optional.of(clock.instant().plus(slow)));
            long e = epoch;
            wakeTimer = tasks.schedule("slow retry", () -> {
                if (e == epoch && state == FAILED) {
                    restartPolicy.forgiveGovernor();
                    restartPolicy.resetBackoff();
                    board.restarted();
                    beginStart("slow retry after " + slow.toSeconds() + " s in FAILED");
                }
            }, slow);
        }
        LOG.error("gateway {}: FAILED: {}{}", config.name(), reason,
                board.nextAttemptAt().map(t -> "; next attempt at " + t).orElse(""));
        transition(FAILED, reason);
        MeshworkException ex = cause == FailedCause.GOVERNOR
                ? new RetryableException(FailureCode.INTERNAL, "gateway " + config.name() + ": " + reason)
                : new PermanentException(cause == FailedCause.PERMANENT_EXIT ? FailureCode.MALFORMED_URL
                        : FailureCode.ILLEGAL_STATE, "gateway " + config.name() + ": " + reason);
        requests.fail(ex);
    }

    // ------------------------------------------------------------------ ending processes

    /**
     * Ends a process and its whole group ({@link Reaper}); the next spawn waits until the group
     * is gone, so two generations never hold the port at once.
     */
    private void retire(GatewayProcess p) {
        if (p == null) {
            return;
        }
        if (p == process) {
            process = null;
            adoption.forget();
        }
        heartbeat.stop();
        reaper.retire(p, config.stopGrace());
    }

    private CompletableFuture<ProbeResult> runProbe(ProbeSpec spec, Duration timeout) {
        return probeRunner.run(spec, timeout, process, processConfig.port());
    }

    // ------------------------------------------------------------------ plumbing

    private void transition(LifecycleState to, String reason) {
        LifecycleState from = state;
        if (!Transitions.allowed(from, to)) {
            throw new IllegalStateException("gateway " + config.name() + ": no transition " + from + " → " + to + " (" + reason + ")");
        }
        state = to;
        since = clock.instant();
        if (to != FAILED) {
            failedCause = null;
        }
        publish();
        LOG.info("gateway {}: {} → {} (epoch {}): {}", config.name(), from, to, epoch, reason);
        LifecycleEvent event = new LifecycleEvent(config.name(), from, to, epoch, since, reason);
        try {
            events.accept(event);
        } catch (Throwable t) { // NoClassDefFoundError from a listener's bundle updated under us, too
            tasks.listenerFailed(event, t);
            publish();
        }
    }

    private void publish() {
        Slot old = slots.serving();
        boolean switching = state == SWITCHING && old != null;
        GatewayProcess p = switching ? old.process() : process; // while switching, the old process is the one serving
        long at = switching ? old.spawnedAt() : spawnedAt;
        long now = nanoTime.getAsLong();
        Optional<BlueGreenStatus> bg = slots.status(config,
                switching && process != null ? OptionalLong.of(process.pid()) : OptionalLong.empty());
        board.publish(config, state, epoch, since, p, at, bg, now);
    }

    private void cancelTimers() {
        cancel(wakeTimer);
        readiness.cancel();
        heartbeat.stop();
    }

    private static void cancel(ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }

    private void post(Runnable r) {
        tasks.execute("callback", r);
    }

    /** Current state, for tests on the executor thread. */
    LifecycleState state() {
        return state;
    }
}
