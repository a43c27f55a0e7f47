package dev.meshwork.supervisor.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.meshwork.api.lifecycle.LifecycleState;
import dev.meshwork.api.lifecycle.LifecycleStatus;
import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.api.lifecycle.ProbeResult;
import dev.meshwork.supervisor.internal.SupervisorConfig.ProbeSpec;
import dev.meshwork.supervisor.internal.process.GatewayProcess;
import dev.meshwork.supervisor.internal.process.ProcessTable;
import dev.meshwork.supervisor.internal.process.Spawner;
import dev.meshwork.testkit.ManualTime;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The shell and the console read a gateway's status and configuration from their own threads
 * while the supervisor's thread changes them: every read is one consistent snapshot. A reader
 * thread loops over {@code gateway:list}, {@code gateway:status}, {@code status()} and
 * {@code config()} while the owner drives a seeded random schedule of starts, restarts (blue/green
 * switches), crashes, heartbeat misses, reconfigurations and stops.
 *
 * <p>Bounded: {@link #STEPS} owner steps, about 2 s. Before the status was one published record,
 * the uptime was read from a second volatile field and this test caught an uptime counted from
 * another process's spawn within half a second.
 */
class SnapshotReadTest {

    private static final int STEPS = 60_000;

    private final ManualTime time = new ManualTime();
    private final FakeSpawner fake = new FakeSpawner();
    /** When each pid was spawned (owner thread), so a reader can tell an uptime that belongs to another process. */
    private final Map<Long, Long> spawnedAt = new ConcurrentHashMap<>();
    private final ScriptedProbe ready = new ScriptedProbe();
    private final ScriptedProbe heartbeat = new ScriptedProbe();

    private final SupervisorConfig a = SupervisorConfig.defaults("gw", List.of("/opt/gw/bin/gateway", "--listen=${port}"))
            .withReadiness(new ProbeSpec("ready", Map.of(), Duration.ofSeconds(2)))
            .withHeartbeat(new ProbeSpec("hb", Map.of(), Duration.ofMillis(500)), Duration.ofSeconds(1), 2)
            .withProcess(Map.of(), 8080, null)
            .withBlueGreen(8081, Duration.ofMillis(300));
    private final SupervisorConfig b = a.withTiming(Duration.ofMillis(700), Duration.ZERO, Optional.of("HUP"),
            Duration.ofMillis(400));

    @Test
    void readersOnOtherThreadsSeeOnlyWholeSnapshots() throws Exception {
        long seed = Long.getLong("snapshot.seed", System.nanoTime()); // the owner's schedule; the reader's timing is the race
        Random random = new Random(seed);
        Spawner spawner = new Spawner() {
            @Override
            public GatewayProcess spawn(SupervisorConfig config, long epoch) throws IOException {
                GatewayProcess p = fake.spawn(config, epoch);
                spawnedAt.put(p.pid(), time.nanoTime());
                return p;
            }

            @Override
            public Optional<GatewayProcess> adopt(SupervisorConfig config, long pid) {
                return Optional.empty();
            }
        };
        Map<String, Probe> probes = Map.of("ready", ready, "hb", heartbeat);
        GatewaySupervisor supervisor = new GatewaySupervisor(a, spawner, t -> Optional.ofNullable(probes.get(t)),
                p -> Optional.empty(), new PidFile(null, "gw", new ProcessTable()), time::nanoTime, time, time,
                random::nextDouble, e -> { });
        GatewayCommands commands = new GatewayCommands(List.of(supervisor));

        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> broken = new AtomicReference<>();
        AtomicLong reads = new AtomicLong();
        Thread reader = new Thread(() -> {
            long lastEpoch = -1;
            int lastRestarts = -1;
            try {
                while (!done.get()) {
                    long before = time.nanoTime();
                    LifecycleStatus s = supervisor.status();
                    long after = time.nanoTime();
                    check(s, before, after);
                    if (s.epoch() < lastEpoch || s.restarts() < lastRestarts) {
                        throw new AssertionError("went back in time: epoch " + lastEpoch + " → " + s.epoch()
                                + ", restarts " + lastRestarts + " → " + s.restarts());
                    }
                    lastEpoch = s.epoch();
                    lastRestarts = s.restarts();
                    SupervisorConfig c = supervisor.config();
                    if (!c.equals(a) && !c.equals(b)) {
                        throw new AssertionError("a configuration nobody set: " + c);
                    }
                    String status = commands.status("gw");
                    if (!status.startsWith("gateway   gw\nstate     ")) {
                        throw new AssertionError("gateway:status: " + status);
                    }
                    String list = commands.list();
                    if (!list.contains("gw")) {
                        throw new AssertionError("gateway:list: " + list);
                    }
                    reads.incrementAndGet();
                }
            } catch (Throwable t) {
                broken.compareAndSet(null, t);
            }
        }, "snapshot-reader");
        reader.start();
        try {
            for (int step = 0; step < STEPS && broken.get() == null; step++) {
                act(supervisor, random);
            }
        } finally {
            done.set(true);
            reader.join(10_000);
        }
        if (broken.get() != null) {
            throw new AssertionError("seed " + seed + ": a reader saw a torn or failing snapshot", broken.get());
        }
        assertTrue(time.failures().isEmpty(), "seed " + seed + ": " + time.failures());
        assertTrue(reads.get() > 0, "the reader ran");
    }

    /** One random owner step, then whatever falls due. */
    private void act(GatewaySupervisor s, Random random) {
        switch (random.nextInt(11)) {
            case 0 -> s.start();
            case 1 -> {
                if (random.nextInt(10) == 0) {
                    s.stop();
                }
            }
            case 2 -> s.restart();
            case 3 -> s.reload();
            case 4 -> {
                if (!fake.spawned.isEmpty()) {
                    fake.last().exitWith(random.nextBoolean() ? 1 : 139);
                }
            }
            case 5, 6 -> answerAll(ready, random.nextInt(4) != 0);
            case 7 -> answerAll(heartbeat, random.nextInt(3) != 0);
            case 8 -> s.reconfigure(random.nextBoolean() ? a : b);
            default -> time.advance(Duration.ofMillis(random.nextInt(1500)));
        }
        time.runDue();
    }

    private static void answerAll(ScriptedProbe probe, boolean ok) {
        probe.runs.forEach(f -> f.complete(ok ? ProbeResult.ok("fine") : ProbeResult.failed("no answer")));
    }

    /** What every published status satisfies, whatever the moment it was read. */
    private void check(LifecycleStatus s, long before, long after) {
        if (s.uptime().isPresent()) {
            if (s.pid().isEmpty()) {
                throw new AssertionError("an uptime without a process: " + s);
            }
            Long at = spawnedAt.get(s.pid().getAsLong());
            if (at == null) {
                throw new AssertionError("a pid nobody spawned: " + s);
            }
            long up = s.uptime().get().toNanos();
            if (up < before - at || up > after - at) {
                throw new AssertionError("uptime " + s.uptime().get() + " is not that of pid " + s.pid().getAsLong()
                        + " (spawned at " + Duration.ofNanos(at) + ", read between " + Duration.ofNanos(before) + " and "
                        + Duration.ofNanos(after) + "): " + s);
            }
        }
        s.blueGreen().ifPresent(bg -> {
            if (bg.candidatePid().isPresent() && s.state() != LifecycleState.SWITCHING) {
                throw new AssertionError("a switch candidate outside SWITCHING: " + s);
            }
            if (bg.activePort() == bg.standbyPort() || bg.activePort() != 8080 && bg.activePort() != 8081) {
                throw new AssertionError("ports: " + bg);
            }
        });
        if (s.state() == LifecycleState.STOPPED && s.pid().isPresent()) {
            fail("STOPPED with a pid: " + s);
        }
    }
}
