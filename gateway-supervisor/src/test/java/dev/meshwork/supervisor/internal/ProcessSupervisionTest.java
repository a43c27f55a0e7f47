package dev.meshwork.supervisor.internal;

import static dev.meshwork.api.lifecycle.LifecycleState.FAILED;
import static dev.meshwork.api.lifecycle.LifecycleState.RUNNING;
import static dev.meshwork.api.lifecycle.LifecycleState.STARTING;
import static dev.meshwork.api.lifecycle.LifecycleState.STOPPED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.BackoffPolicy;
import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.lifecycle.LifecycleStatus;
import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.supervisor.internal.SupervisorConfig.ProbeSpec;
import dev.meshwork.supervisor.internal.probe.LogProbe;
import dev.meshwork.supervisor.internal.probe.TcpProbe;
import dev.meshwork.supervisor.internal.process.ProcessSpawner;
import dev.meshwork.supervisor.internal.process.ProcessTable;
import dev.meshwork.testkit.Await;
import dev.meshwork.testkit.ReservedPort;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The supervisor over real child processes (a shell-script gateway, and a small Java one that
 * holds a port), with short configured intervals. Process state is checked in {@code /proc}.
 */
class ProcessSupervisionTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final ProcessTable table = new ProcessTable();
    private final Map<String, Probe> probes = Map.of("log", new LogProbe(), "tcp", new TcpProbe());
    private final List<GatewaySupervisor> supervisors = new ArrayList<>();
    private final List<ScheduledThreadPoolExecutor> executors = new ArrayList<>();
    private final List<Process> foreign = new ArrayList<>();
    private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
    private Path script;

    @BeforeEach
    void copyScript() throws Exception {
        script = dir.resolve("test-gateway.sh");
        try (var in = getClass().getResourceAsStream("/test-gateway.sh")) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (GatewaySupervisor s : supervisors) {
            try {
                s.stop().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // executor already shut down in the adoption test
            }
        }
        executors.forEach(ScheduledThreadPoolExecutor::shutdownNow);
        foreign.forEach(Process::destroyForcibly);
    }

    private SupervisorConfig scriptGateway(String name, String... args) {
        List<String> command = new ArrayList<>(List.of("/bin/sh", script.toString()));
        command.addAll(List.of(args));
        return SupervisorConfig.defaults(name, command)
                .withReadiness(new ProbeSpec("log", Map.of("pattern", "^READY$"), Duration.ofSeconds(5)))
                .withRestarts(BackoffPolicy.fullJitter(Duration.ofMillis(20), Duration.ofMillis(100)), Duration.ofSeconds(60),
                        5, Duration.ofSeconds(60), Duration.ofMinutes(5))
                .withTiming(Duration.ofMillis(300), Duration.ZERO, Optional.empty(), Duration.ofMillis(300));
    }

    private GatewaySupervisor supervisor(SupervisorConfig config) {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
        executor.setRemoveOnCancelPolicy(true);
        executors.add(executor);
        GatewaySupervisor s = new GatewaySupervisor(config, new ProcessSpawner(table, System::nanoTime),
                t -> Optional.ofNullable(probes.get(t)), table::listener,
                new PidFile(config.pidDir(), config.name(), table), System::nanoTime, InstantSource.system(), executor,
                () -> ThreadLocalRandom.current().nextDouble(), events::add);
        supervisors.add(s);
        return s;
    }

    private long starts(String gateway) {
        return events.stream().filter(e -> e.gateway().equals(gateway) && e.to() == STARTING).count();
    }

    @Test
    void crashLoopStopsAtTheGovernorLimitAndRecoversBySlowRetry() throws Exception {
        Path marker = dir.resolve("config-fixed");
        SupervisorConfig c = scriptGateway("crashy", "crash-unless", marker.toString());
        c = c.withRestarts(c.backoff(), Duration.ofSeconds(60), 3, Duration.ofSeconds(30), Duration.ofMillis(1500));
        GatewaySupervisor s = supervisor(c);
        s.start();
        Await.until("governor opens", WAIT, () -> s.status().state() == FAILED);
        LifecycleStatus failed = s.status();
        assertEquals(4, starts("crashy"), "the first start and exactly 3 restarts, then the governor stops the loop");
        assertTrue(failed.lastError().orElseThrow().contains("more than 3 restarts"), failed.lastError().toString());
        assertEquals(3, failed.lastExitCode().getAsInt());
        Await.until("the error report has the last start-up lines", WAIT,
                () -> s.status().recentOutput().stream().anyMatch(l -> l.startsWith("fatal: configuration broken")));
        assertTrue(failed.nextAttemptAt().isPresent());
        Files.writeString(marker, "fixed");
        Await.until("slow retry brings it back", WAIT, () -> s.status().state() == RUNNING);
        assertEquals(5, starts("crashy"));
    }

    @Test
    void stopLeavesNoOrphansEvenChildrenThatIgnoreTermOrLeaveTheGroup() throws Exception {
        Path pids = dir.resolve("children");
        GatewaySupervisor s = supervisor(scriptGateway("forky", "fork", pids.toString()));
        LifecycleStatus up = s.start().get(10, TimeUnit.SECONDS);
        long main = up.pid().getAsLong();
        List<Long> children = Await.value("both grandchildren recorded", WAIT, () -> {
            try {
                List<String> lines = Files.exists(pids) ? Files.readAllLines(pids) : List.of();
                return lines.size() >= 2 ? lines.stream().map(String::trim).map(Long::parseLong).toList() : null;
            } catch (Exception e) {
                return null;
            }
        });
        for (long pid : children) {
            assertTrue(table.isAlive(pid), "grandchild " + pid + " runs");
        }
        assertNotEquals(main, table.stat(children.get(1)).orElseThrow().pgid(), "the setsid grandchild left the group");

        assertEquals(STOPPED, s.stop().get(10, TimeUnit.SECONDS).state());
        assertFalse(table.isAlive(main), "gateway gone");
        for (long pid : children) {
            assertFalse(table.isAlive(pid), "grandchild " + pid + " gone (no orphan)");
        }
        assertTrue(table.groupMembers(main).isEmpty(), "nothing left in the gateway's process group");
    }

    @Test
    void aGatewayIgnoringSigtermIsKilledAfterTheGrace() throws Exception {
        GatewaySupervisor s = supervisor(scriptGateway("stubborn", "ignore-term"));
        long pid = s.start().get(10, TimeUnit.SECONDS).pid().getAsLong();
        long t0 = System.nanoTime();
        s.stop().get(10, TimeUnit.SECONDS);
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertFalse(table.isAlive(pid));
        assertTrue(table.groupMembers(pid).isEmpty());
        assertTrue(tookMs >= 300, "waited the 300 ms grace before SIGKILL, took " + tookMs);
    }

    @Test
    void childrenOfACrashedGatewayAreCleanedUp() throws Exception {
        Path pids = dir.resolve("children");
        GatewaySupervisor s = supervisor(scriptGateway("parent", "fork", pids.toString()));
        long main = s.start().get(10, TimeUnit.SECONDS).pid().getAsLong();
        Await.until("grandchildren recorded", WAIT, () -> {
            try {
                return Files.exists(pids) && Files.readAllLines(pids).size() >= 2;
            } catch (Exception e) {
                return false;
            }
        });
        long stubborn = Long.parseLong(Files.readAllLines(pids).get(0).trim());
        Signals.toProcess(main, "KILL"); // the gateway crashes; its TERM-ignoring child stays in the group
        Await.until("restarted", WAIT, () -> s.status().state() == RUNNING && s.status().pid().getAsLong() != main);
        Await.until("the crashed gateway's child is gone", WAIT, () -> !table.isAlive(stubborn));
        assertEquals("SIGKILL", s.status().lastSignal().orElse(""));
    }

    @Test
    void restartRequestedDuringStartIsAppliedExactlyOnce() throws Exception {
        GatewaySupervisor s = supervisor(scriptGateway("slow", "slow", "0.4"));
        CompletableFuture<LifecycleStatus> started = s.start();
        Await.until("spawned", WAIT, () -> s.status().pid().isPresent());
        long first = s.status().pid().getAsLong();
        CompletableFuture<LifecycleStatus> r1 = s.restart();
        CompletableFuture<LifecycleStatus> r2 = s.restart();
        assertEquals(RUNNING, started.get(10, TimeUnit.SECONDS).state());
        LifecycleStatus after1 = r1.get(10, TimeUnit.SECONDS);
        LifecycleStatus after2 = r2.get(10, TimeUnit.SECONDS);
        assertEquals(RUNNING, after1.state());
        assertNotEquals(first, after1.pid().getAsLong(), "the deferred restart replaced the process");
        assertEquals(after1.pid(), after2.pid(), "both requests were served by one restart");
        s.stop().get(10, TimeUnit.SECONDS); // queued behind anything still pending
        assertEquals(2, starts("slow"), "one start plus exactly one restart");
        assertFalse(table.isAlive(first));
    }

    @Test
    void reloadFallsBackToRestartWhenTheSignalKillsTheGateway() throws Exception {
        SupervisorConfig c = scriptGateway("nohup", "serve-nohup")
                .withTiming(Duration.ofMillis(300), Duration.ZERO, Optional.of("HUP"), Duration.ofMillis(300));
        GatewaySupervisor s = supervisor(c);
        long before = s.start().get(10, TimeUnit.SECONDS).pid().getAsLong();
        LifecycleStatus after = s.reload().get(10, TimeUnit.SECONDS);
        assertEquals(RUNNING, after.state());
        assertNotEquals(before, after.pid().getAsLong(), "fell back to a restart");
        assertEquals("SIGHUP", after.lastSignal().orElse(""));
        assertEquals(1, after.restarts());
    }

    @Test
    void reloadInPlaceKeepsTheProcess() throws Exception {
        SupervisorConfig c = scriptGateway("hup", "serve")
                .withTiming(Duration.ofMillis(300), Duration.ZERO, Optional.of("HUP"), Duration.ofMillis(300));
        GatewaySupervisor s = supervisor(c);
        long before = s.start().get(10, TimeUnit.SECONDS).pid().getAsLong();
        LifecycleStatus after = s.reload().get(10, TimeUnit.SECONDS);
        assertEquals(before, after.pid().getAsLong());
        assertEquals(0, after.restarts());
        Await.until("the gateway saw the signal", WAIT,
                () -> s.status().state() == RUNNING && starts("hup") == 1);
    }

    @Test
    void exitCode78IsNotRestarted() throws Exception {
        GatewaySupervisor s = supervisor(scriptGateway("badconf", "exit78"));
        s.start();
        Await.until("FAILED", WAIT, () -> s.status().state() == FAILED);
        LifecycleStatus st = s.status();
        assertEquals(78, st.lastExitCode().getAsInt());
        assertTrue(st.lastError().orElseThrow().contains("EX_CONFIG"));
        Await.until("the error report has the gateway's complaint", WAIT,
                () -> s.status().recentOutput().contains("invalid configuration: missing key 'port'"));
        assertEquals(1, starts("badconf"));
        assertTrue(st.nextAttemptAt().isEmpty());
    }

    @Test
    void readinessFailureEndsTheStartAndKeepsItsOutput() throws Exception {
        SupervisorConfig c = scriptGateway("never", "hang")
                .withReadiness(new ProbeSpec("log", Map.of("pattern", "^READY$"), Duration.ofMillis(400)));
        GatewaySupervisor s = supervisor(c);
        CompletableFuture<LifecycleStatus> f = s.start();
        Await.until("start failed", WAIT, f::isDone);
        assertTrue(f.isCompletedExceptionally());
        Await.until("the error report has the output", WAIT, () -> s.status().recentOutput().contains("starting, never ready"));
        assertTrue(s.status().lastError().orElseThrow().contains("not ready within 400 ms"));
    }

    @Test
    void floodingStderrDoesNotStopReadiness() throws Exception {
        GatewaySupervisor s = supervisor(scriptGateway("noisy", "flood"));
        LifecycleStatus st = s.start().get(10, TimeUnit.SECONDS);
        assertEquals(RUNNING, st.state());
    }

    // ------------------------------------------------------------------ ports

    private List<String> javaHolder(int port) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                TestPortHolder.class.getName(), Integer.toString(port));
    }

    @Test
    void aPortHeldByAForeignProcessFailsTheStartNamingItsPidAndCommand() throws Exception {
        // the foreign process binds port 0 and names the port it got
        Process holder = new ProcessBuilder(javaHolder(0)).redirectErrorStream(true).start();
        foreign.add(holder);
        String first = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertTrue(first != null && first.startsWith("LISTENING on "), String.valueOf(first));
        int port = Integer.parseInt(first.substring("LISTENING on ".length()).trim());

        SupervisorConfig c = scriptGateway("clash", "serve").withProcess(Map.of(), port, dir.resolve("gateways"));
        GatewaySupervisor s = supervisor(c);
        CompletableFuture<LifecycleStatus> f = s.start();
        Await.until("start refused", WAIT, f::isDone);
        assertTrue(f.isCompletedExceptionally());
        assertEquals(FAILED, s.status().state());
        String err = s.status().lastError().orElseThrow();
        assertTrue(err.contains("port " + port + " is already held by pid " + holder.pid()), err);
        assertTrue(err.contains("TestPortHolder"), err);
        assertTrue(holder.isAlive(), "a foreign process is reported, never killed");
        assertEquals(0, events.stream().filter(e -> e.to() == RUNNING).count());
    }

    @Test
    void ourOwnGatewayStillHoldingThePortIsAdoptedAfterASupervisorRestart() throws Exception {
        // the gateway is told its port and probed there: known before it binds, by construction;
        // held open by this JVM until the supervisor spawns the gateway
        ReservedPort reserved = new ReservedPort();
        int port = reserved.port();
        Path pidDir = dir.resolve("gateways");
        SupervisorConfig c = SupervisorConfig.defaults("held", javaHolder(port))
                .withReadiness(new ProbeSpec("tcp", Map.of(), Duration.ofSeconds(10)))
                .withTiming(Duration.ofMillis(500), Duration.ZERO, Optional.empty(), Duration.ofMillis(300))
                .withProcess(Map.of(), port, pidDir);
        GatewaySupervisor first = supervisor(c);
        reserved.release();
        long pid = first.start().get(15, TimeUnit.SECONDS).pid().getAsLong();
        assertTrue(Files.readString(pidDir.resolve("held.pid")).startsWith(pid + " "));
        // the node "dies": its supervisor thread is gone, the gateway keeps running
        executors.get(0).shutdownNow();
        supervisors.remove(first);

        GatewaySupervisor second = supervisor(c);
        LifecycleStatus st = second.start().get(15, TimeUnit.SECONDS);
        assertEquals(RUNNING, st.state());
        assertEquals(pid, st.pid().getAsLong(), "adopted, not spawned a second time");
        assertEquals(STOPPED, second.stop().get(10, TimeUnit.SECONDS).state());
        assertFalse(table.isAlive(pid), "the adopted gateway is stopped like our own");
    }
}
