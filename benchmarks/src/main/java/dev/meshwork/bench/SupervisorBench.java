package dev.meshwork.bench;

import dev.meshwork.api.BackoffPolicy;
import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.lifecycle.LifecycleState;
import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.api.lifecycle.ProbeResult;
import dev.meshwork.supervisor.internal.GatewaySupervisor;
import dev.meshwork.supervisor.internal.PidFile;
import dev.meshwork.supervisor.internal.SupervisorConfig;
import dev.meshwork.supervisor.internal.SupervisorConfig.ProbeSpec;
import dev.meshwork.supervisor.internal.probe.LogProbe;
import dev.meshwork.supervisor.internal.process.GatewayProcess;
import dev.meshwork.supervisor.internal.process.ProcessSpawner;
import dev.meshwork.supervisor.internal.process.ProcessTable;
import dev.meshwork.supervisor.internal.process.Spawner;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code ./bench supervisor}: the supervisor's own cost over real child processes.
 *
 * <ul>
 *   <li>respawn overhead: the child is SIGKILLed at t0; the next child is spawned at t1;
 *       overhead = t1 − t0 − configured backoff (100 ms, no jitter). Baseline in the same run: a
 *       bare loop that does the same with ProcessBuilder, waitFor and a 100 ms sleep.</li>
 *   <li>ready overhead: from the readiness probe's own positive answer to the RUNNING event
 *       (the probe's detection itself is reported beside it).</li>
 *   <li>idle cost: 50 supervised idle gateways, each with a heartbeat every second (ten times the
 *       default rate), JVM CPU time over a window minus the same JVM idle with none.</li>
 * </ul>
 */
public final class SupervisorBench {

    private static final Duration BACKOFF = Duration.ofMillis(100);
    private static final int CYCLES = 40;
    private static final int IDLE_GATEWAYS = 50;
    private static final Duration IDLE_WINDOW = Duration.ofSeconds(20);

    private SupervisorBench() {
    }

    public static void main(String[] args) throws Exception {
        System.out.printf("supervisor benchmark: %d cores, java %s%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"));
        double[] baseline = bareRespawn();
        Cycle cycle = supervisedRespawn();
        double idle = idleCost();

        System.out.println();
        System.out.printf("%-44s %10s %10s %10s%n", "measure (ms)", "median", "p95", "max");
        row("bare ProcessBuilder respawn beyond 100 ms sleep", baseline);
        row("supervised respawn beyond 100 ms backoff", cycle.respawn);
        row("spawn → log probe detection (probe's own)", cycle.detection);
        row("probe answer → RUNNING (supervisor overhead)", cycle.ready);
        System.out.printf("%-44s %10.2f%n", "respawn overhead ratio (median, vs bare)", median(cycle.respawn) / Math.max(0.001, median(baseline)));
        System.out.printf("%-44s %10.3f %% of one core%n", "idle cost, " + IDLE_GATEWAYS + " gateways, 1 s heartbeat", idle);
        System.out.printf("RESULT supervisor respawn_overhead_ms=%.1f ready_overhead_ms=%.2f idle_cpu_pct=%.2f%n",
                median(cycle.respawn), median(cycle.ready), idle);
    }

    private static void row(String name, double[] v) {
        System.out.printf("%-44s %10.2f %10.2f %10.2f%n", name, median(v), pct(v, 0.95), pct(v, 1.0));
    }

    private static List<String> gatewayCommand() {
        return List.of("/bin/sh", "-c", "echo READY; while :; do sleep 1000 & wait $!; done");
    }

    // ------------------------------------------------------------------ baseline

    private static double[] bareRespawn() throws Exception {
        double[] out = new double[CYCLES];
        Process p = new ProcessBuilder(List.of("/usr/bin/setsid", "/bin/sh", "-c", "sleep 1000")).start();
        for (int i = 0; i < CYCLES; i++) {
            long t0 = System.nanoTime();
            p.destroyForcibly();
            p.waitFor();
            Thread.sleep(BACKOFF.toMillis());
            p = new ProcessBuilder(List.of("/usr/bin/setsid", "/bin/sh", "-c", "sleep 1000")).start();
            out[i] = (System.nanoTime() - t0) / 1e6 - BACKOFF.toMillis();
        }
        p.destroyForcibly();
        return out;
    }

    // ------------------------------------------------------------------ supervised

    private record Cycle(double[] respawn, double[] detection, double[] ready) {
    }

    private static GatewaySupervisor supervisor(SupervisorConfig config, Spawner spawner, Map<String, Probe> probes,
            ScheduledThreadPoolExecutor executor, java.util.function.Consumer<LifecycleEvent> events) {
        ProcessTable table = new ProcessTable();
        return new GatewaySupervisor(config, spawner, t -> Optional.ofNullable(probes.get(t)), table::listener,
                new PidFile(null, config.name(), table), System::nanoTime, InstantSource.system(), executor, Math::random,
                events);
    }

    private static Cycle supervisedRespawn() throws Exception {
        ProcessTable table = new ProcessTable();
        ProcessSpawner real = new ProcessSpawner(table, System::nanoTime);
        AtomicLong spawnedAt = new AtomicLong();
        Spawner timed = new Spawner() {
            @Override
            public GatewayProcess spawn(SupervisorConfig config, long epoch) throws IOException {
                GatewayProcess p = real.spawn(config, epoch);
                spawnedAt.set(System.nanoTime());
                return p;
            }

            @Override
            public Optional<GatewayProcess> adopt(SupervisorConfig config, long pid) {
                return real.adopt(config, pid);
            }
        };
        AtomicLong probeOkAt = new AtomicLong();
        LogProbe log = new LogProbe();
        Probe timedLog = ctx -> {
            CompletionStage<ProbeResult> r = log.probe(ctx);
            return r.thenApply(res -> {
                if (res.ok()) {
                    probeOkAt.set(System.nanoTime());
                }
                return res;
            });
        };
        AtomicLong runningAt = new AtomicLong();
        SupervisorConfig config = SupervisorConfig.defaults("bench", gatewayCommand())
                .withReadiness(new ProbeSpec("log", Map.of("pattern", "^READY$", "pollMs", "1"), Duration.ofSeconds(10)))
                .withRestarts(new BackoffPolicy(BACKOFF, BACKOFF, 1.0, 0.0), Duration.ofHours(1), 100_000,
                        Duration.ofSeconds(60), Duration.ofMinutes(5))
                .withTiming(Duration.ofSeconds(2), Duration.ZERO, Optional.empty(), Duration.ofSeconds(1));
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
        GatewaySupervisor s = supervisor(config, timed, Map.of("log", timedLog), executor, e -> {
            if (e.to() == LifecycleState.RUNNING) {
                runningAt.set(System.nanoTime());
            }
        });
        s.start().get(10, TimeUnit.SECONDS);
        // warm up the JIT on a few cycles first
        double[] respawn = new double[CYCLES];
        double[] detection = new double[CYCLES];
        double[] ready = new double[CYCLES];
        for (int i = -5; i < CYCLES; i++) {
            long pid = s.status().pid().getAsLong();
            long before = spawnedAt.get();
            long t0 = System.nanoTime();
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((s.status().state() != LifecycleState.RUNNING || spawnedAt.get() == before
                    || s.status().pid().getAsLong() == pid) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            if (i >= 0) {
                respawn[i] = (spawnedAt.get() - t0) / 1e6 - BACKOFF.toMillis();
                detection[i] = (probeOkAt.get() - spawnedAt.get()) / 1e6;
                ready[i] = (runningAt.get() - probeOkAt.get()) / 1e6;
            }
        }
        s.stop().get(10, TimeUnit.SECONDS);
        executor.shutdownNow();
        return new Cycle(respawn, detection, ready);
    }

    // ------------------------------------------------------------------ idle cost

    private static double idleCost() throws Exception {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        System.gc();
        long c0 = os.getProcessCpuTime();
        long w0 = System.nanoTime();
        Thread.sleep(IDLE_WINDOW.toMillis());
        double baselinePct = 100.0 * (os.getProcessCpuTime() - c0) / (System.nanoTime() - w0);

        ProcessTable table = new ProcessTable();
        ProcessSpawner spawner = new ProcessSpawner(table, System::nanoTime);
        Probe alive = ctx -> CompletableFuture.completedFuture(ctx.pid().isPresent()
                && ProcessHandle.of(ctx.pid().getAsLong()).map(ProcessHandle::isAlive).orElse(false)
                ? ProbeResult.ok("alive") : ProbeResult.failed("gone"));
        List<GatewaySupervisor> all = new ArrayList<>();
        List<ScheduledThreadPoolExecutor> executors = new ArrayList<>();
        for (int i = 0; i < IDLE_GATEWAYS; i++) {
            SupervisorConfig c = SupervisorConfig.defaults("idle" + i, gatewayCommand())
                    .withReadiness(new ProbeSpec("log", Map.of("pattern", "^READY$"), Duration.ofSeconds(20)))
                    .withHeartbeat(new ProbeSpec("alive", Map.of(), Duration.ofSeconds(1)), Duration.ofSeconds(1), 3);
            ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1);
            ex.setRemoveOnCancelPolicy(true);
            executors.add(ex);
            GatewaySupervisor s = supervisor(c, spawner, Map.of("log", new LogProbe(), "alive", alive), ex, e -> { });
            all.add(s);
            s.start();
        }
        for (GatewaySupervisor s : all) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (s.status().state() != LifecycleState.RUNNING && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
        long running = all.stream().filter(s -> s.status().state() == LifecycleState.RUNNING).count();
        Thread.sleep(2000); // let start-up work settle
        System.gc();
        long c1 = os.getProcessCpuTime();
        long w1 = System.nanoTime();
        Thread.sleep(IDLE_WINDOW.toMillis());
        double withPct = 100.0 * (os.getProcessCpuTime() - c1) / (System.nanoTime() - w1);
        System.out.printf("idle: %d/%d gateways RUNNING; JVM CPU %.3f %% with them, %.3f %% without (baseline)%n", running,
                IDLE_GATEWAYS, withPct, baselinePct);
        List<CompletableFuture<?>> stops = new ArrayList<>();
        all.forEach(s -> stops.add(s.stop()));
        CompletableFuture.allOf(stops.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
        executors.forEach(ScheduledThreadPoolExecutor::shutdownNow);
        return Math.max(0.0, withPct - baselinePct);
    }

    // ------------------------------------------------------------------ stats

    private static double median(double[] v) {
        return pct(v, 0.5);
    }

    private static double pct(double[] v, double q) {
        List<Double> s = new ArrayList<>();
        for (double d : v) {
            s.add(d);
        }
        Collections.sort(s);
        int i = (int) Math.ceil(q * s.size()) - 1;
        return s.get(Math.max(0, Math.min(s.size() - 1, i)));
    }
}
