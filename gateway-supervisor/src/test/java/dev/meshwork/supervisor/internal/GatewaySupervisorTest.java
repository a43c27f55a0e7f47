package dev.meshwork.supervisor.internal;

import static dev.meshwork.api.lifecycle.LifecycleState.BACKOFF;
import static dev.meshwork.api.lifecycle.LifecycleState.DEGRADED;
import static dev.meshwork.api.lifecycle.LifecycleState.FAILED;
import static dev.meshwork.api.lifecycle.LifecycleState.RUNNING;
import static dev.meshwork.api.lifecycle.LifecycleState.STARTING;
import static dev.meshwork.api.lifecycle.LifecycleState.STOPPED;
import static dev.meshwork.api.lifecycle.LifecycleState.STOPPING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.lifecycle.LifecycleState;
import dev.meshwork.api.lifecycle.LifecycleStatus;
import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.supervisor.internal.FakeSpawner.FakeProcess;
import dev.meshwork.supervisor.internal.SupervisorConfig.ProbeSpec;
import dev.meshwork.supervisor.internal.process.ProcessTable;
import dev.meshwork.supervisor.internal.process.ProcessTable.PortHolder;
import dev.meshwork.testkit.ManualTime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state machine driven by a manual clock, pretend processes and hand-answered probes: one
 * test per edge of the diagram, plus the intent rules (deferral, debounce, cancellation, epochs).
 */
class GatewaySupervisorTest {

    private final ManualTime time = new ManualTime();
    private final FakeSpawner spawner = new FakeSpawner();
    private final ScriptedProbe ready = new ScriptedProbe();
    private final ScriptedProbe heartbeat = new ScriptedProbe();
    private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
    private final Map<Integer, PortHolder> portHolders = new HashMap<>();
    private PidFile pidFile = new PidFile(null, "gw", new ProcessTable());

    private SupervisorConfig config = SupervisorConfig.defaults("gw", List.of("/opt/gw/bin/gateway", "--serve"))
            .withReadiness(new ProbeSpec("ready", Map.of(), Duration.ofSeconds(10)))
            .withHeartbeat(new ProbeSpec("hb", Map.of(), Duration.ofSeconds(1)), Duration.ofHours(1), 3);

    private GatewaySupervisor supervisor;

    private void fastHeartbeat() {
        config = config.withHeartbeat(config.heartbeat(), Duration.ofSeconds(5), 3);
    }

    private GatewaySupervisor supervisor() {
        if (supervisor == null) {
            Map<String, Probe> probes = Map.of("ready", ready, "hb", heartbeat);
            supervisor = new GatewaySupervisor(config, spawner, t -> Optional.ofNullable(probes.get(t)),
                    p -> Optional.ofNullable(portHolders.get(p)), pidFile, time::nanoTime, time, time, () -> 0.5, events::add);
        }
        return supervisor;
    }

    private LifecycleState state() {
        time.runDue();
        return supervisor.status().state();
    }

    private CompletableFuture<LifecycleStatus> startAndBecomeReady() {
        CompletableFuture<LifecycleStatus> f = supervisor().start();
        time.runDue();
        ready.answerLast(true);
        time.runDue();
        assertEquals(RUNNING, state());
        return f;
    }

    private List<String> transitions() {
        return events.stream().map(e -> e.from() + ">" + e.to()).toList();
    }

    // ---------------------------------------------------------------- edges

    @Test
    void startSpawnsTheProcessAndEntersStarting() {
        supervisor().start();
        assertEquals(STARTING, state());
        assertEquals(1, spawner.spawned.size());
        assertEquals(1, ready.runs.size(), "the readiness probe runs right after the spawn");
        assertEquals(List.of("STOPPED>STARTING"), transitions());
        assertEquals(OptionalLong.of(1000), supervisor.status().pid());
    }

    @Test
    void readinessMakesItRunningAndCompletesTheStart() throws Exception {
        CompletableFuture<LifecycleStatus> f = startAndBecomeReady();
        assertTrue(f.isDone());
        assertEquals(RUNNING, f.get().state());
        assertEquals(List.of("STOPPED>STARTING", "STARTING>RUNNING"), transitions());
    }

    @Test
    void readinessRetriesUntilThePassingAttempt() {
        supervisor().start();
        time.runDue();
        ready.answerLast(false);
        time.advance(Duration.ofMillis(100));
        assertEquals(2, ready.runs.size(), "retried after readiness.retry");
        ready.answerLast(true);
        assertEquals(RUNNING, state());
    }

    @Test
    void readinessTimeoutFailsTheStartIntoBackoffAndEndsTheProcess() {
        spawner.spawned.clear();
        CompletableFuture<LifecycleStatus> f = supervisor().start();
        time.runDue();
        FakeProcess p = spawner.last();
        p.output.add("listening soon…");
        time.advance(Duration.ofSeconds(10));
        assertEquals(BACKOFF, state());
        assertTrue(p.signals.contains("TERM"), "the process that never became ready is ended");
        assertTrue(f.isCompletedExceptionally());
        LifecycleStatus s = supervisor.status();
        assertTrue(s.lastError().orElseThrow().contains("not ready within 10000 ms"), s.lastError().toString());
        assertEquals(List.of("listening soon…"), s.recentOutput(), "start-up lines kept for the error report");
        assertTrue(s.nextAttemptAt().isPresent());
    }

    @Test
    void backoffTimerStartsAgainWithFullJitterDelay() {
        startAndBecomeReady();
        spawner.last().exitWith(1);
        assertEquals(BACKOFF, state());
        // attempt 0: ceiling 1 s, random 0.5 → 500 ms
        assertEquals(Duration.ofMillis(500), time.nextDeadline());
        time.advance(Duration.ofMillis(499));
        assertEquals(BACKOFF, state());
        time.advance(Duration.ofMillis(1));
        assertEquals(STARTING, state());
        assertEquals(2, spawner.spawned.size());
        assertEquals(1, supervisor.status().restarts());
        assertEquals(1, supervisor.status().lastExitCode().getAsInt());
    }

    @Test
    void backoffGrowsOnRepeatedFailuresAndResetsAfterStableUptime() {
        startAndBecomeReady();
        spawner.last().exitWith(1);
        time.runDue();
        time.advance(Duration.ofMillis(500));
        ready.answerLast(true);
        time.runDue();
        spawner.last().exitWith(1); // up for 0 s: attempt 1 → ceiling 2 s → 1 s
        time.runDue();
        assertEquals(Duration.ofSeconds(1), time.nextDeadline());
        time.advance(Duration.ofSeconds(1));
        ready.answerLast(true);
        time.runDue();
        time.advance(Duration.ofSeconds(60)); // stable
        heartbeat.runs.forEach(r -> r.complete(dev.meshwork.api.lifecycle.ProbeResult.ok("ok")));
        spawner.last().exitWith(1);
        time.runDue();
        assertEquals(BACKOFF, supervisor.status().state());
        assertEquals(Duration.ofMillis(500), time.nextDeadline(), "a stable process restarts with the base delay again");
    }

    @Test
    void exitDuringStartGoesToBackoffWithTheStartupLines() {
        supervisor().start();
        time.runDue();
        spawner.last().output.add("fatal: cannot bind");
        spawner.last().exitWith(2);
        assertEquals(BACKOFF, state());
        assertEquals(List.of("fatal: cannot bind"), supervisor.status().recentOutput());
        assertTrue(supervisor.status().lastError().orElseThrow().contains("exit code 2"));
    }

    @Test
    void exConfigDuringStartIsPermanentUntilTheConfigurationChanges() {
        CompletableFuture<LifecycleStatus> f = supervisor().start();
        time.runDue();
        spawner.last().exitWith(78);
        assertEquals(FAILED, state());
        assertTrue(f.isCompletedExceptionally());
        ExecutionException ex = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f::get);
        assertInstanceOf(PermanentException.class, ex.getCause());
        assertTrue(supervisor.status().nextAttemptAt().isEmpty());
        time.advance(Duration.ofHours(1));
        assertEquals(1, spawner.spawned.size(), "no restart after EX_CONFIG");
        supervisor.reconfigure(config.withTiming(Duration.ofSeconds(5), Duration.ofSeconds(2), Optional.of("HUP"),
                Duration.ofSeconds(2)));
        assertEquals(STARTING, state());
        assertEquals(2, spawner.spawned.size());
    }

    @Test
    void configuredPermanentExitCodeFromRunningIsFailedWithoutRetry() {
        config = new SupervisorConfig(config.name(), config.command(), config.workingDir(), config.env(), config.redact(),
                0, config.readiness(), config.readinessRetry(), config.heartbeat(), config.heartbeatInterval(),
                config.heartbeatMisses(), config.backoff(), config.stableAfter(), config.governorMax(),
                config.governorWindow(), config.slowRetry(), java.util.Set.of(78, 64), Optional.empty(),
                config.reloadVerify(), config.stopGrace(), config.debounce(), config.output(), null, Optional.empty());
        startAndBecomeReady();
        spawner.last().exitWith(64);
        assertEquals(FAILED, state());
        time.advance(Duration.ofMinutes(10));
        assertEquals(FAILED, state());
    }

    @Test
    void stopDuringStartEndsTheProcessAndIgnoresTheLateProbeResult() throws Exception {
        supervisor().start();
        time.runDue();
        CompletableFuture<LifecycleStatus> stop = supervisor.stop();
        time.runDue();
        assertEquals(STOPPED, stop.get().state());
        ready.answerLast(true); // the superseded start's readiness answer arrives late
        assertEquals(STOPPED, state());
        assertEquals(List.of("STOPPED>STARTING", "STARTING>STOPPING", "STOPPING>STOPPED"), transitions());
    }

    @Test
    void heartbeatMissDegradesAndAHitRecovers() {
        fastHeartbeat();
        startAndBecomeReady();
        time.advance(Duration.ofSeconds(5));
        heartbeat.answerLast(false);
        assertEquals(DEGRADED, state());
        assertTrue(supervisor.status().lastError().orElseThrow().contains("heartbeat missed 1/3"));
        time.advance(Duration.ofSeconds(5));
        heartbeat.answerLast(true);
        assertEquals(RUNNING, state());
        assertTrue(transitions().containsAll(List.of("RUNNING>DEGRADED", "DEGRADED>RUNNING")));
    }

    @Test
    void heartbeatTimeoutCountsAsAMiss() {
        fastHeartbeat();
        startAndBecomeReady();
        time.advance(Duration.ofSeconds(5));
        time.advance(Duration.ofSeconds(1)); // probe never answers: timeout 1 s
        assertEquals(DEGRADED, state());
        assertTrue(supervisor.status().lastError().orElseThrow().contains("timed out"));
    }

    @Test
    void kConsecutiveHeartbeatMissesRestartTheGateway() {
        fastHeartbeat();
        startAndBecomeReady();
        FakeProcess first = spawner.last();
        for (int i = 0; i < 3; i++) {
            time.advance(Duration.ofSeconds(5));
            heartbeat.answerLast(false);
            time.runDue();
        }
        assertEquals(BACKOFF, state(), "a miss acts: the third one restarts");
        assertTrue(first.signals.contains("TERM"));
        time.advance(Duration.ofMillis(500));
        assertEquals(STARTING, state());
        assertEquals(2, spawner.spawned.size());
        assertTrue(transitions().contains("DEGRADED>BACKOFF"));
    }

    @Test
    void crashWhileRunningGoesToBackoff() {
        startAndBecomeReady();
        spawner.last().exitWith(139);
        assertEquals(BACKOFF, state());
        assertEquals("SIGSEGV", supervisor.status().lastSignal().orElseThrow());
        assertTrue(transitions().contains("RUNNING>BACKOFF"));
    }

    @Test
    void crashWhileDegradedGoesToBackoff() {
        fastHeartbeat();
        startAndBecomeReady();
        time.advance(Duration.ofSeconds(5));
        heartbeat.answerLast(false);
        assertEquals(DEGRADED, state());
        spawner.last().exitWith(1);
        assertEquals(BACKOFF, state());
    }

    @Test
    void crashLoopOpensTheGovernorIntoFailedAndTheSlowRetryRecovers() {
        config = config.withRestarts(config.backoff(), Duration.ofSeconds(60), 5, Duration.ofSeconds(60), Duration.ofMinutes(5));
        startAndBecomeReady();
        for (int i = 0; i < 5; i++) {
            spawner.last().exitWith(1);
            time.runDue();
            assertEquals(BACKOFF, supervisor.status().state(), "restart " + (i + 1) + " is within the budget");
            time.advance(time.nextDeadline());
            ready.answerLast(true);
            time.runDue();
        }
        spawner.last().exitWith(1);
        assertEquals(FAILED, state());
        assertTrue(supervisor.status().lastError().orElseThrow().contains("more than 5 restarts within 60 s"));
        assertTrue(events.stream().anyMatch(e -> e.to() == FAILED), "FAILED is an event, not a silent drop");
        assertEquals(6, spawner.spawned.size());
        time.advance(Duration.ofMinutes(5).minusMillis(1));
        assertEquals(FAILED, state());
        time.advance(Duration.ofMillis(1));
        assertEquals(STARTING, state(), "slow retry: never a dead end");
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertTrue(transitions().contains("FAILED>STARTING"));
    }

    @Test
    void startFailuresCountForTheGovernorToo() {
        config = config.withRestarts(config.backoff(), Duration.ofSeconds(60), 2, Duration.ofSeconds(60), Duration.ofMinutes(5));
        supervisor().start();
        time.runDue();
        spawner.last().exitWith(1);
        time.runDue();
        time.advance(time.nextDeadline());
        spawner.last().exitWith(1);
        time.runDue();
        time.advance(time.nextDeadline());
        spawner.last().exitWith(1);
        assertEquals(FAILED, state());
        assertTrue(transitions().contains("STARTING>FAILED"));
    }

    @Test
    void restartRequestRestartsARunningGatewayAfterTheDebounce() throws Exception {
        startAndBecomeReady();
        FakeProcess first = spawner.last();
        CompletableFuture<LifecycleStatus> f = supervisor.restart();
        time.advance(Duration.ofMillis(1999));
        assertEquals(1, spawner.spawned.size());
        time.advance(Duration.ofMillis(1));
        assertEquals(STARTING, state());
        assertTrue(first.signals.contains("TERM"));
        assertEquals(2, spawner.spawned.size());
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertEquals(RUNNING, f.get().state());
        assertEquals(1, f.get().restarts());
        assertTrue(transitions().contains("RUNNING>STARTING"));
    }

    @Test
    void restartRequestsWithinTheDebounceWindowCoalesceIntoOne() {
        startAndBecomeReady();
        CompletableFuture<LifecycleStatus> a = supervisor.restart();
        time.advance(Duration.ofMillis(500));
        CompletableFuture<LifecycleStatus> b = supervisor.reload();
        time.advance(Duration.ofMillis(500));
        CompletableFuture<LifecycleStatus> c = supervisor.restart();
        time.advance(Duration.ofSeconds(1));
        ready.answerLast(true);
        time.runDue();
        assertEquals(2, spawner.spawned.size(), "three requests, one restart");
        assertTrue(a.isDone() && b.isDone() && c.isDone());
        time.advance(Duration.ofSeconds(10));
        assertEquals(2, spawner.spawned.size());
    }

    @Test
    void restartAskedWhileStartingIsDeferredAndAppliedExactlyOnce() {
        supervisor().start();
        time.runDue();
        CompletableFuture<LifecycleStatus> r1 = supervisor.restart();
        CompletableFuture<LifecycleStatus> r2 = supervisor.restart();
        time.advance(Duration.ofSeconds(3)); // debounce elapsed while still STARTING
        assertEquals(STARTING, state());
        assertEquals(1, spawner.spawned.size(), "deferred, not applied mid-start");
        ready.answerLast(true); // RUNNING → the deferred restart is applied now
        time.runDue();
        assertEquals(STARTING, state());
        assertEquals(2, spawner.spawned.size());
        ready.answerLast(true);
        time.runDue();
        assertEquals(RUNNING, state());
        time.advance(Duration.ofSeconds(30));
        heartbeat.runs.forEach(r -> r.complete(dev.meshwork.api.lifecycle.ProbeResult.ok("ok")));
        time.runDue();
        assertEquals(2, spawner.spawned.size(), "applied once, not once per request");
        assertTrue(r1.isDone() && !r1.isCompletedExceptionally());
        assertTrue(r2.isDone() && !r2.isCompletedExceptionally());
    }

    @Test
    void stopCancelsPendingRestartsAndTheBackoffTimer() throws Exception {
        startAndBecomeReady();
        CompletableFuture<LifecycleStatus> r = supervisor.restart();
        spawner.last().exitWith(1);
        time.runDue();
        assertEquals(BACKOFF, state());
        CompletableFuture<LifecycleStatus> stop = supervisor.stop();
        time.runDue();
        assertEquals(STOPPED, stop.get().state());
        ExecutionException ex = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, r::get);
        assertEquals(FailureCode.CANCELLED, ((MeshworkException) ex.getCause()).code());
        time.advance(Duration.ofMinutes(10));
        assertEquals(1, spawner.spawned.size(), "nothing restarts after a stop");
        assertTrue(transitions().contains("BACKOFF>STOPPING"));
    }

    @Test
    void stopSendsTermThenKillAfterTheGrace() throws Exception {
        spawner.ignoreTerm = true;
        startAndBecomeReady();
        FakeProcess p = spawner.last();
        CompletableFuture<LifecycleStatus> stop = supervisor.stop();
        time.runDue();
        assertEquals(STOPPING, state());
        assertEquals(List.of("TERM"), p.signals);
        time.advance(Duration.ofMillis(4999));
        assertEquals(STOPPING, state());
        time.advance(Duration.ofMillis(1));
        assertEquals(STOPPED, state());
        assertEquals(List.of("TERM", "KILL"), p.signals);
        assertTrue(stop.isDone());
    }

    @Test
    void stopFromFailedGoesThroughStoppingToStopped() {
        supervisor().start();
        time.runDue();
        spawner.last().exitWith(78);
        assertEquals(FAILED, state());
        supervisor.stop();
        assertEquals(STOPPED, state());
        assertTrue(transitions().containsAll(List.of("FAILED>STOPPING", "STOPPING>STOPPED")));
    }

    @Test
    void restartFromBackoffStartsNowAndFromFailedToo() {
        startAndBecomeReady();
        spawner.last().exitWith(1);
        time.runDue();
        supervisor.restart();
        time.advance(Duration.ofMillis(499)); // debounce 2 s is longer than the 500 ms backoff: the backoff timer wins
        assertEquals(BACKOFF, state());
        time.advance(Duration.ofMillis(1));
        assertEquals(STARTING, state());
        time.advance(Duration.ofSeconds(5));
        assertEquals(2, spawner.spawned.size(), "the pending restart was satisfied by the start that happened");
    }

    @Test
    void reloadSendsTheSignalAndKeepsAHealthyProcess() throws Exception {
        config = config.withTiming(Duration.ofSeconds(5), Duration.ZERO, Optional.of("HUP"), Duration.ofSeconds(2));
        startAndBecomeReady();
        CompletableFuture<LifecycleStatus> f = supervisor.reload();
        time.runDue();
        assertEquals(List.of("HUP"), spawner.last().signals);
        time.advance(Duration.ofSeconds(2));
        heartbeat.answerLast(true);
        time.runDue();
        assertEquals(RUNNING, f.get().state());
        assertEquals(1, spawner.spawned.size(), "reloaded in place");
    }

    @Test
    void reloadFallsBackToRestartWhenTheProcessIsUnhealthyAfterTheSignal() throws Exception {
        config = config.withTiming(Duration.ofSeconds(5), Duration.ZERO, Optional.of("USR1"), Duration.ofSeconds(2));
        startAndBecomeReady();
        CompletableFuture<LifecycleStatus> f = supervisor.reload();
        time.advance(Duration.ofSeconds(2));
        heartbeat.answerLast(false);
        time.runDue();
        assertEquals(STARTING, state());
        ready.answerLast(true);
        time.runDue();
        assertEquals(2, spawner.spawned.size());
        assertEquals(RUNNING, f.get().state());
    }

    @Test
    void reloadWithoutASignalRestarts() {
        config = config.withTiming(Duration.ofSeconds(5), Duration.ZERO, Optional.empty(), Duration.ofSeconds(2));
        startAndBecomeReady();
        supervisor.reload();
        time.runDue();
        assertEquals(STARTING, state());
        assertEquals(2, spawner.spawned.size());
    }

    @Test
    void reloadThatKillsTheProcessFallsBackToAnImmediateRestart() throws Exception {
        config = config.withTiming(Duration.ofSeconds(5), Duration.ZERO, Optional.of("HUP"), Duration.ofSeconds(2));
        startAndBecomeReady();
        spawner.last().diesOnSignal = true;
        CompletableFuture<LifecycleStatus> f = supervisor.reload();
        time.runDue();
        assertEquals(STARTING, state(), "no backoff: the reload itself ended the process");
        ready.answerLast(true);
        time.runDue();
        assertEquals(RUNNING, f.get().state());
        assertEquals("SIGHUP", f.get().lastSignal().orElseThrow());
        assertEquals(2, spawner.spawned.size());
        assertTrue(transitions().contains("RUNNING>STARTING"));
    }

    @Test
    void callbacksOfASupersededStartDoNothing() {
        startAndBecomeReady();
        FakeProcess first = spawner.last();
        supervisor.restart();
        time.advance(Duration.ofSeconds(2));
        assertEquals(STARTING, state());
        long epoch = supervisor.status().epoch();
        // the first process's readiness probe answers again, and its exit is reported late
        ready.runs.get(0).obtrudeValue(dev.meshwork.api.lifecycle.ProbeResult.ok("late"));
        first.exitWith(1);
        time.runDue();
        assertEquals(STARTING, state(), "a stale exit or probe answer does not move the new start");
        assertEquals(epoch, supervisor.status().epoch());
        assertEquals(2, spawner.spawned.size());
    }

    @Test
    void spawnFailureGoesToBackoff() {
        spawner.failSpawn = true;
        supervisor().start();
        assertEquals(BACKOFF, state());
        assertTrue(supervisor.status().lastError().orElseThrow().contains("No such file"));
    }

    @Test
    void foreignPortHolderFailsTheStartWithPidAndCommand() {
        config = config.withProcess(Map.of(), 18789, null);
        portHolders.put(18789, new PortHolder(18789, OptionalLong.of(4242), "python3 -m http.server 18789"));
        CompletableFuture<LifecycleStatus> f = supervisor().start();
        assertEquals(FAILED, state());
        String err = supervisor.status().lastError().orElseThrow();
        assertTrue(err.contains("port 18789 is already held by pid 4242 (python3 -m http.server 18789)"), err);
        assertTrue(f.isCompletedExceptionally());
        assertEquals(0, spawner.spawned.size(), "nothing spawned against a held port");
        portHolders.clear();
        time.advance(Duration.ofMinutes(5));
        assertEquals(STARTING, state(), "retried slowly once the port may be free");
    }

    @Test
    void ownProcessNamedByThePidFileIsAdopted(@TempDir Path dir) throws Exception {
        // a fake /proc where pid 777 has start time 12345
        Path proc = dir.resolve("proc");
        Files.createDirectories(proc.resolve("777"));
        Files.writeString(proc.resolve("777/stat"), "777 (gateway) S 1 777 777 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0");
        ProcessTable table = new ProcessTable(proc);
        Files.createDirectories(dir.resolve("gateways"));
        Files.writeString(dir.resolve("gateways/gw.pid"), "777 12345\n");
        pidFile = new PidFile(dir.resolve("gateways"), "gw", table);
        config = config.withProcess(Map.of(), 18789, dir.resolve("gateways"));
        portHolders.put(18789, new PortHolder(18789, OptionalLong.of(777), "gateway"));
        supervisor().start();
        time.runDue();
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertEquals(List.of(777L), spawner.adopted);
        assertEquals(0, spawner.spawned.size());
        assertEquals(777, supervisor.status().pid().getAsLong());
    }

    @Test
    void everyTransitionIsAnEventWithItsEpoch() {
        startAndBecomeReady();
        spawner.last().exitWith(1);
        time.advance(Duration.ofMillis(500));
        assertEquals(List.of(1L, 1L, 1L, 2L), events.stream().map(LifecycleEvent::epoch).toList());
        assertTrue(events.stream().allMatch(e -> e.gateway().equals("gw") && !e.reason().isBlank()));
    }

    @Test
    void aFailingListenerDoesNotAffectSupervision() {
        Map<String, Probe> probes = Map.of("ready", ready, "hb", heartbeat);
        supervisor = new GatewaySupervisor(config, spawner, t -> Optional.ofNullable(probes.get(t)), p -> Optional.empty(),
                pidFile, time::nanoTime, time, time, () -> 0.5, e -> {
                    throw new IllegalStateException("listener bug");
                });
        supervisor.start();
        time.runDue();
        ready.answerLast(true);
        assertEquals(RUNNING, state());
    }

    @Test
    void missingProbeTypeIsReportedAndTheStartTimesOut() {
        config = config.withReadiness(new ProbeSpec("grpc", Map.of(), Duration.ofSeconds(3)));
        supervisor().start();
        time.advance(Duration.ofSeconds(3));
        assertEquals(BACKOFF, state());
        assertTrue(supervisor.status().lastError().orElseThrow().contains("no probe of type 'grpc'"));
    }

    @Test
    void startWhileStoppingStartsOnceStopped() {
        spawner.ignoreTerm = true;
        startAndBecomeReady();
        supervisor.stop();
        time.runDue();
        CompletableFuture<LifecycleStatus> f = supervisor.start();
        time.advance(Duration.ofSeconds(5));
        assertEquals(STARTING, state());
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertTrue(f.isDone());
        assertFalse(f.isCompletedExceptionally());
    }
}
