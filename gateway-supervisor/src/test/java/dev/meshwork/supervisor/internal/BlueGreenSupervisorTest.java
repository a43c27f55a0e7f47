package dev.meshwork.supervisor.internal;

import static dev.meshwork.api.lifecycle.LifecycleState.BACKOFF;
import static dev.meshwork.api.lifecycle.LifecycleState.DEGRADED;
import static dev.meshwork.api.lifecycle.LifecycleState.RUNNING;
import static dev.meshwork.api.lifecycle.LifecycleState.STARTING;
import static dev.meshwork.api.lifecycle.LifecycleState.STOPPED;
import static dev.meshwork.api.lifecycle.LifecycleState.SWITCHING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.lifecycle.BlueGreenStatus;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blue/green restarts on the state machine, driven by a manual clock, pretend processes and
 * hand-answered probes: one test per SWITCHING edge, plus the port rules.
 */
class BlueGreenSupervisorTest {

    private static final int BLUE = 8080;
    private static final int GREEN = 8081;

    private final ManualTime time = new ManualTime();
    private final FakeSpawner spawner = new FakeSpawner();
    private final ScriptedProbe ready = new ScriptedProbe();
    private final ScriptedProbe heartbeat = new ScriptedProbe();
    private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
    private final Map<Integer, PortHolder> portHolders = new HashMap<>();

    private SupervisorConfig config = SupervisorConfig.defaults("gw", List.of("/opt/gw/bin/gateway", "--listen=${port}"))
            .withReadiness(new ProbeSpec("ready", Map.of("url", "http://127.0.0.1:${port}/health"), Duration.ofSeconds(10)))
            .withHeartbeat(new ProbeSpec("hb", Map.of(), Duration.ofSeconds(1)), Duration.ofHours(1), 3)
            .withProcess(Map.of("GW_PORT", "${port}"), BLUE, null)
            .withBlueGreen(GREEN, Duration.ofSeconds(1));

    private PidFile pidFile = new PidFile(null, "gw", new ProcessTable());
    private GatewaySupervisor supervisor;

    private GatewaySupervisor supervisor() {
        if (supervisor == null) {
            Map<String, Probe> probes = Map.of("ready", ready, "hb", heartbeat);
            supervisor = new GatewaySupervisor(config, spawner, t -> Optional.ofNullable(probes.get(t)),
                    p -> Optional.ofNullable(portHolders.get(p)), pidFile, time::nanoTime,
                    time, time, () -> 0.5, events::add);
        }
        return supervisor;
    }

    private LifecycleState state() {
        time.runDue();
        return supervisor.status().state();
    }

    private BlueGreenStatus blueGreen() {
        time.runDue();
        return supervisor.status().blueGreen().orElseThrow();
    }

    private FakeProcess startBlue() {
        supervisor().start();
        time.runDue();
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        return spawner.last();
    }

    /** From RUNNING: an explicit restart, after the debounce, is a switch. */
    private CompletableFuture<LifecycleStatus> askRestart() {
        CompletableFuture<LifecycleStatus> f = supervisor.restart();
        time.advance(config.debounce());
        return f;
    }

    private List<String> transitions() {
        return events.stream().map(e -> e.from() + ">" + e.to()).toList();
    }

    private static String port(SupervisorConfig c) {
        return c.env().get("GW_PORT");
    }

    // ---------------------------------------------------------------- edges

    @Test
    void firstStartIsBlueWithThePortPassedThroughCommandEnvironmentAndProbe() {
        startBlue();
        SupervisorConfig spawned = spawner.configs.get(0);
        assertEquals(List.of("/opt/gw/bin/gateway", "--listen=8080"), spawned.command());
        assertEquals("8080", port(spawned));
        assertEquals("http://127.0.0.1:8080/health", ready.contexts.get(0).parameters().get("url"));
        assertEquals("8080", ready.contexts.get(0).parameters().get("port"), "probes default to the process's port");
        BlueGreenStatus bg = blueGreen();
        assertEquals("blue", bg.activeColour());
        assertEquals(BLUE, bg.activePort());
        assertEquals(GREEN, bg.standbyPort());
        assertEquals(0, bg.switches());
    }

    @Test
    void restartOfARunningGatewayStartsGreenBesideBlueWithoutTouchingBlue() {
        FakeProcess blue = startBlue();
        askRestart();
        assertEquals(SWITCHING, state());
        assertEquals(2, spawner.spawned.size());
        FakeProcess green = spawner.last();
        assertEquals(List.of("/opt/gw/bin/gateway", "--listen=8081"), spawner.configs.get(1).command());
        assertEquals("8081", port(spawner.configs.get(1)));
        assertEquals("http://127.0.0.1:8081/health", ready.contexts.get(1).parameters().get("url"),
                "the readiness probe checks the new process on its own port");
        assertTrue(blue.signals.isEmpty(), "blue is not stopped before green is ready");
        LifecycleStatus s = supervisor.status();
        assertEquals(OptionalLong.of(blue.pid), s.pid(), "the status pid is the serving process");
        assertEquals(OptionalLong.of(green.pid), s.blueGreen().orElseThrow().candidatePid());
        assertEquals(BLUE, s.blueGreen().orElseThrow().activePort());
        assertTrue(transitions().contains("RUNNING>SWITCHING"));
    }

    @Test
    void greenReadyFlipsTheActivePortAndBlueGetsSigtermOnlyAfterTheDrain() throws Exception {
        FakeProcess blue = startBlue();
        CompletableFuture<LifecycleStatus> f = askRestart();
        FakeProcess green = spawner.last();
        ready.answerLast(false);
        time.advance(Duration.ofMillis(100));
        assertEquals(SWITCHING, state(), "a failed attempt retries; blue still serves");
        assertTrue(blue.signals.isEmpty());
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertTrue(blue.signals.isEmpty(), "green was ready before blue got anything; blue drains first");
        BlueGreenStatus bg = blueGreen();
        assertEquals("green", bg.activeColour());
        assertEquals(GREEN, bg.activePort());
        assertEquals(1, bg.switches());
        assertEquals(OptionalLong.empty(), bg.candidatePid());
        assertEquals(OptionalLong.of(green.pid), supervisor.status().pid());
        assertEquals(RUNNING, f.get().state(), "the restart completes when green serves");
        assertEquals(1, f.get().restarts());
        time.advance(Duration.ofMillis(999));
        assertTrue(blue.signals.isEmpty());
        time.advance(Duration.ofMillis(1));
        assertEquals(List.of("TERM"), blue.signals, "graceful stop of blue after the drain");
        assertTrue(green.signals.isEmpty());
        assertEquals(RUNNING, state(), "blue's expected exit is not a crash");
        assertTrue(transitions().contains("SWITCHING>RUNNING"));
    }

    @Test
    void theNextSwitchGoesBackToBlue() {
        startBlue();
        askRestart();
        ready.answerLast(true);
        time.advance(Duration.ofSeconds(1));
        askRestart();
        assertEquals(SWITCHING, state());
        assertEquals("8080", port(spawner.configs.get(2)));
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertEquals("blue", blueGreen().activeColour());
        assertEquals(2, blueGreen().switches());
    }

    @Test
    void greenNotReadyInTimeIsStoppedAndBlueKeepsServing() {
        FakeProcess blue = startBlue();
        CompletableFuture<LifecycleStatus> f = askRestart();
        FakeProcess green = spawner.last();
        green.output.add("cannot load plugin x");
        time.advance(Duration.ofSeconds(10));
        assertEquals(RUNNING, state());
        assertEquals(List.of("TERM"), green.signals, "the failed green is stopped");
        assertTrue(blue.signals.isEmpty(), "blue is never touched");
        LifecycleStatus s = supervisor.status();
        assertEquals(OptionalLong.of(blue.pid), s.pid());
        String err = s.lastError().orElseThrow();
        assertTrue(err.startsWith("blue/green switch failed: the new process on port 8081 (green) not ready within 10000 ms"), err);
        assertTrue(err.contains("pid " + blue.pid + " keeps serving port 8080 (blue)"), err);
        BlueGreenStatus bg = s.blueGreen().orElseThrow();
        assertEquals(1, bg.failedSwitches());
        assertEquals(0, bg.switches());
        assertEquals(BLUE, bg.activePort());
        assertTrue(bg.lastSwitchFailure().orElseThrow().contains("not ready within"));
        assertTrue(f.isCompletedExceptionally(), "the restart request fails");
        assertEquals(List.of("cannot load plugin x"), s.recentOutput(), "green's start-up lines for the report");
        assertTrue(transitions().contains("SWITCHING>RUNNING"));
        // blue is supervised again: the next restart tries green once more
        askRestart();
        assertEquals(SWITCHING, state());
        assertEquals("8081", port(spawner.configs.get(2)));
    }

    @Test
    void greenExitingDuringTheSwitchFailsTheSwitchAndBlueStaysRunning() {
        FakeProcess blue = startBlue();
        askRestart();
        spawner.last().exitWith(78);
        assertEquals(RUNNING, state(), "even a configuration error in green leaves blue serving");
        assertTrue(supervisor.status().lastError().orElseThrow().contains("exited before it was ready: exit code 78"));
        assertEquals(OptionalLong.of(blue.pid), supervisor.status().pid());
        assertTrue(blue.signals.isEmpty());
        assertEquals(1, blueGreen().failedSwitches());
    }

    @Test
    void heartbeatMissesStartGreenAtOnceAndAFailedSwitchReturnsToDegradedBlue() {
        config = config.withHeartbeat(config.heartbeat(), Duration.ofSeconds(5), 3);
        FakeProcess blue = startBlue();
        for (int i = 0; i < 3; i++) {
            time.advance(Duration.ofSeconds(5));
            heartbeat.answerLast(false);
        }
        assertEquals(SWITCHING, state(), "K misses with blue alive: green starts now, no backoff wait");
        assertTrue(transitions().contains("DEGRADED>SWITCHING"));
        assertTrue(blue.signals.isEmpty());
        assertEquals(2, spawner.spawned.size());
        assertEquals(1, supervisor.status().restarts());
        spawner.last().exitWith(1);
        assertEquals(DEGRADED, state(), "back where it was: blue serves, degraded");
        assertTrue(transitions().contains("SWITCHING>DEGRADED"));
        int runs = heartbeat.runs.size();
        time.advance(Duration.ofSeconds(5));
        assertEquals(runs + 1, heartbeat.runs.size(), "blue's heartbeat resumes");
        heartbeat.answerLast(true);
        assertEquals(RUNNING, state());
    }

    @Test
    void heartbeatSwitchesCountForTheGovernor() {
        config = config.withHeartbeat(config.heartbeat(), Duration.ofSeconds(5), 1)
                .withRestarts(config.backoff(), config.stableAfter(), 2, Duration.ofMinutes(10), Duration.ofMinutes(5));
        startBlue();
        for (int i = 0; i < 2; i++) {
            time.advance(Duration.ofSeconds(5));
            heartbeat.answerLast(false);
            assertEquals(SWITCHING, state());
            spawner.last().exitWith(1);
            assertEquals(RUNNING, state());
        }
        time.advance(Duration.ofSeconds(5));
        heartbeat.answerLast(false);
        assertEquals(LifecycleState.FAILED, state(), "a third switch within the window: the governor opens");
        assertEquals(3, spawner.spawned.size());
    }

    @Test
    void blueDyingDuringTheSwitchLeavesAPlainStartOfGreen() {
        FakeProcess blue = startBlue();
        CompletableFuture<LifecycleStatus> f = askRestart();
        FakeProcess green = spawner.last();
        blue.exitWith(1);
        assertEquals(STARTING, state());
        assertTrue(transitions().contains("SWITCHING>STARTING"));
        assertEquals(OptionalLong.of(green.pid), supervisor.status().pid());
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertEquals(GREEN, blueGreen().activePort());
        assertTrue(f.isDone() && !f.isCompletedExceptionally());
    }

    @Test
    void blueDyingWhileGreenWaitsForAFailedGreenToGoStillStartsGreen() {
        FakeProcess blue = startBlue();
        spawner.ignoreTerm = true; // the failed green will need SIGKILL after the grace
        askRestart();
        FakeProcess failedGreen = spawner.last();
        time.advance(Duration.ofSeconds(10));
        assertEquals(RUNNING, state());
        askRestart();
        assertEquals(SWITCHING, state());
        assertEquals(2, spawner.spawned.size(), "the next green waits until the failed one is gone from its port");
        blue.exitWith(1);
        assertEquals(STARTING, state());
        assertTrue(supervisor.status().lastError().orElseThrow().contains("the serving process exited during the switch"));
        time.advance(config.stopGrace());
        assertEquals(List.of("TERM", "KILL"), failedGreen.signals);
        time.runDue();
        assertEquals(3, spawner.spawned.size());
        assertEquals("8081", port(spawner.configs.get(2)));
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertEquals(GREEN, blueGreen().activePort());
    }

    @Test
    void stopDuringTheSwitchEndsBothProcesses() throws Exception {
        FakeProcess blue = startBlue();
        askRestart();
        FakeProcess green = spawner.last();
        CompletableFuture<LifecycleStatus> stop = supervisor.stop();
        time.runDue();
        assertEquals(STOPPED, stop.get().state());
        assertEquals(List.of("TERM"), blue.signals);
        assertEquals(List.of("TERM"), green.signals);
        ready.answerLast(true); // green's late answer
        assertEquals(STOPPED, state());
        assertTrue(transitions().contains("SWITCHING>STOPPING"));
    }

    @Test
    void stopDuringTheDrainEndsTheOldProcessAtOnce() throws Exception {
        FakeProcess blue = startBlue();
        askRestart();
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        CompletableFuture<LifecycleStatus> stop = supervisor.stop();
        time.runDue();
        assertEquals(STOPPED, stop.get().state());
        assertEquals(List.of("TERM"), blue.signals);
    }

    @Test
    void greenCrashingWhileBlueDrainsEndsBlueBeforeTheNextStartOnBluesPort() {
        spawner.ignoreTerm = true; // blue takes its time to go: the next start must wait for it
        FakeProcess blue = startBlue();
        askRestart();
        FakeProcess green = spawner.last();
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        green.exitWith(1); // green crashes during blue's drain
        assertEquals(BACKOFF, state());
        time.advance(Duration.ofMillis(500)); // the backoff, shorter than the drain
        assertEquals(STARTING, state());
        assertEquals(List.of("TERM"), blue.signals, "the start that needs blue's port ends the drain");
        assertEquals(2, spawner.spawned.size(), "the new blue waits until the old blue is gone");
        time.advance(config.stopGrace());
        assertEquals(List.of("TERM", "KILL"), blue.signals);
        time.runDue();
        assertEquals(3, spawner.spawned.size());
        assertEquals("8080", port(spawner.configs.get(2)));
    }

    @Test
    void aCrashHasNothingToOverlapAndRestartsOnTheOtherPort() {
        FakeProcess blue = startBlue();
        blue.exitWith(1);
        assertEquals(BACKOFF, state());
        time.advance(Duration.ofMillis(500));
        assertEquals(STARTING, state(), "a dead process is not switched: a plain start");
        assertEquals("8081", port(spawner.configs.get(1)));
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertEquals("green", blueGreen().activeColour());
        assertFalse(transitions().contains("RUNNING>SWITCHING"));
    }

    @Test
    void aForeignHolderOfTheAlternatePortFailsTheSwitchNotTheGateway() {
        FakeProcess blue = startBlue();
        portHolders.put(GREEN, new PortHolder(GREEN, OptionalLong.of(4242), "nc -l 8081"));
        CompletableFuture<LifecycleStatus> f = askRestart();
        assertEquals(RUNNING, state());
        assertEquals(1, spawner.spawned.size(), "nothing spawned against a held port");
        String err = supervisor.status().lastError().orElseThrow();
        assertTrue(err.contains("port 8081 is already held by pid 4242 (nc -l 8081)"), err);
        assertTrue(err.contains("'restart.alternatePort'"), err);
        assertTrue(f.isCompletedExceptionally());
        assertTrue(blue.signals.isEmpty());
    }

    @Test
    void restartAskedDuringTheSwitchIsAppliedOnceAfterIt() {
        startBlue();
        askRestart();
        CompletableFuture<LifecycleStatus> again = supervisor.restart();
        time.advance(config.debounce());
        assertEquals(SWITCHING, state(), "deferred while switching");
        assertEquals(2, spawner.spawned.size());
        ready.answerLast(true);
        assertEquals(SWITCHING, state(), "applied once green serves: back to blue");
        assertEquals(3, spawner.spawned.size());
        assertEquals("8080", port(spawner.configs.get(2)));
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertTrue(again.isDone() && !again.isCompletedExceptionally());
        time.advance(Duration.ofSeconds(30));
        assertEquals(3, spawner.spawned.size());
    }

    @Test
    void anAdoptedGreenIsActiveAndTheNextSwitchGoesToBlue(@TempDir Path dir) throws Exception {
        // a fake /proc where pid 777 has start time 12345; our pid file says it serves the green port
        Path proc = dir.resolve("proc");
        Files.createDirectories(proc.resolve("777"));
        Files.writeString(proc.resolve("777/stat"), "777 (gateway) S 1 777 777 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0");
        Files.createDirectories(dir.resolve("gateways"));
        Files.writeString(dir.resolve("gateways/gw.pid"), "777 12345 8081\n");
        pidFile = new PidFile(dir.resolve("gateways"), "gw", new ProcessTable(proc));
        config = config.withProcess(config.env(), BLUE, dir.resolve("gateways"));
        portHolders.put(GREEN, new PortHolder(GREEN, OptionalLong.of(777), "gateway"));
        supervisor().start();
        time.runDue();
        assertEquals("8081", ready.contexts.get(0).parameters().get("port"), "probed on the port it serves");
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertEquals(List.of(777L), spawner.adopted);
        assertEquals("green", blueGreen().activeColour());
        askRestart();
        assertEquals(SWITCHING, state());
        assertEquals("8080", port(spawner.configs.get(0)));
        ready.answerLast(true);
        assertEquals(RUNNING, state());
        assertTrue(Files.readString(dir.resolve("gateways/gw.pid")).trim().endsWith(" 8080"),
                "the pid file records the new port");
    }

    @Test
    void reloadFallbackIsABlueGreenRestartToo() {
        config = config.withTiming(config.stopGrace(), config.debounce(), Optional.of("HUP"), Duration.ofSeconds(2));
        FakeProcess blue = startBlue();
        supervisor.reload();
        time.advance(config.debounce());
        assertEquals(List.of("HUP"), blue.signals);
        time.advance(Duration.ofSeconds(2));
        heartbeat.answerLast(false); // the heartbeat probe verifies the reload
        assertEquals(SWITCHING, state(), "unhealthy after the signal: green starts beside blue");
        assertEquals(List.of("HUP"), blue.signals, "blue is not stopped before green is ready");
    }
}
