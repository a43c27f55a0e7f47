package dev.meshwork.supervisor.internal;

import static dev.meshwork.api.lifecycle.LifecycleState.RUNNING;
import static dev.meshwork.api.lifecycle.LifecycleState.SWITCHING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.lifecycle.BlueGreenStatus;
import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.lifecycle.LifecycleStatus;
import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.supervisor.internal.SupervisorConfig.ProbeSpec;
import dev.meshwork.supervisor.internal.probe.TcpProbe;
import dev.meshwork.supervisor.internal.process.ProcessSpawner;
import dev.meshwork.supervisor.internal.process.ProcessTable;
import dev.meshwork.testkit.Await;
import dev.meshwork.testkit.ReservedPort;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blue/green restarts over real child processes: two small Java gateways on two loopback ports,
 * a TCP readiness probe, and a client that connects to whatever port the status calls active,
 * over and over, while the switch happens.
 */
class BlueGreenProcessTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final ProcessTable table = new ProcessTable();
    private final Map<String, Probe> probes = Map.of("tcp", new TcpProbe());
    private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
    private volatile long watchPid;
    private volatile Boolean blueAliveAtSwitch;
    private volatile List<String> childEventsAtSwitch = List.of();
    private ScheduledThreadPoolExecutor executor;
    private GatewaySupervisor supervisor;
    private Traffic traffic;
    private Path childEvents;
    private Path failMarker;
    // The gateway is told its port (${port}) and the supervisor probes that port: both colours'
    // ports are known before a process binds them, by construction. Each is held open by this JVM
    // until the moment its process is spawned (see ReservedPort).
    private ReservedPort blueHold;
    private ReservedPort greenHold;
    private int blue;
    private int green;

    @BeforeEach
    void setUp() throws Exception {
        blueHold = new ReservedPort();
        greenHold = new ReservedPort();
        blue = blueHold.port();
        green = greenHold.port();
        childEvents = dir.resolve("child-events");
        failMarker = dir.resolve("fail-next");
        executor = new ScheduledThreadPoolExecutor(1);
        executor.setRemoveOnCancelPolicy(true);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (traffic != null) {
            traffic.stop();
        }
        if (supervisor != null) {
            supervisor.stop().get(20, TimeUnit.SECONDS);
        }
        executor.shutdownNow();
        blueHold.close();
        greenHold.close();
    }

    /** Starts blue on its port, handed over at the last moment. */
    private LifecycleStatus startBlue(GatewaySupervisor s) throws Exception {
        blueHold.release();
        return s.start().get(30, TimeUnit.SECONDS);
    }

    /** Starts the switch to green, its port handed over at the last moment. */
    private CompletableFuture<LifecycleStatus> switchToGreen(GatewaySupervisor s) {
        greenHold.release();
        return s.restart();
    }

    private GatewaySupervisor supervisor(Duration readiness) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), TestBlueGreenGateway.class.getName(), "${port}",
                childEvents.toString(), failMarker.toString());
        SupervisorConfig c = SupervisorConfig.defaults("bg", command)
                .withReadiness(new ProbeSpec("tcp", Map.of(), readiness))
                .withTiming(Duration.ofSeconds(3), Duration.ZERO, Optional.empty(), Duration.ofMillis(300))
                .withProcess(Map.of(), blue, dir.resolve("gateways"))
                .withBlueGreen(green, Duration.ofMillis(300));
        supervisor = new GatewaySupervisor(c, new ProcessSpawner(table, System::nanoTime),
                t -> Optional.ofNullable(probes.get(t)), table::listener,
                new PidFile(c.pidDir(), c.name(), table), System::nanoTime, InstantSource.system(), executor,
                () -> ThreadLocalRandom.current().nextDouble(), this::onEvent);
        return supervisor;
    }

    /** Records events; at the end of a switch (on the supervisor's thread) looks at blue and at what the children wrote. */
    private void onEvent(LifecycleEvent e) {
        events.add(e);
        if (e.from() == SWITCHING && e.to() == RUNNING) {
            blueAliveAtSwitch = table.isAlive(watchPid);
            childEventsAtSwitch = childEvents();
        }
    }

    private BlueGreenStatus blueGreen() {
        return supervisor.status().blueGreen().orElseThrow();
    }

    private List<String> childEvents() {
        try {
            return Files.exists(childEvents) ? Files.readAllLines(childEvents) : List.of();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * A client that connects to the port the status calls active, reads the answer, and records
     * every failure, until stopped.
     */
    private final class Traffic implements Runnable {
        final Map<Integer, AtomicInteger> served = new ConcurrentHashMap<>();
        final List<String> failures = new CopyOnWriteArrayList<>();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread = new Thread(this, "blue-green-traffic");

        Traffic begin() {
            thread.start();
            return this;
        }

        int served(int port) {
            return served.getOrDefault(port, new AtomicInteger()).get();
        }

        @Override
        public void run() {
            while (running.get()) {
                int port = supervisor.status().blueGreen().orElseThrow().activePort();
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
                    s.setSoTimeout(2_000);
                    String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                            .readLine();
                    if (("ok " + port).equals(line)) {
                        served.computeIfAbsent(port, p -> new AtomicInteger()).incrementAndGet();
                    } else {
                        failures.add("port " + port + " answered " + line);
                    }
                } catch (IOException e) {
                    failures.add("port " + port + ": " + e);
                }
                // Pacing, not synchronisation: a few hundred connections a second, so that
                // loopback TIME_WAIT sockets stay few on a shared 2-core machine.
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(3));
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }
    }

    @Test
    void greenIsReadyBeforeBlueGetsSigtermAndTheActivePortServesThroughout() throws Exception {
        GatewaySupervisor s = supervisor(Duration.ofSeconds(20));
        long bluePid = startBlue(s).pid().getAsLong();
        watchPid = bluePid;
        assertEquals(blue, blueGreen().activePort());
        traffic = new Traffic().begin();
        Await.until("traffic reaches blue", WAIT, () -> traffic.served(blue) >= 20);

        LifecycleStatus after = switchToGreen(s).get(30, TimeUnit.SECONDS);
        assertEquals(RUNNING, after.state());
        long greenPid = after.pid().getAsLong();
        assertTrue(greenPid != bluePid);
        BlueGreenStatus bg = after.blueGreen().orElseThrow();
        assertEquals(green, bg.activePort());
        assertEquals("green", bg.activeColour());
        assertEquals(1, bg.switches());
        assertTrue(events.stream().anyMatch(e -> e.from() == RUNNING && e.to() == SWITCHING));
        assertEquals(Boolean.TRUE, blueAliveAtSwitch, "blue still ran the moment green was ready");
        // green's readiness probe connected, so green listened; its own "LISTENING" line is written just
        // after its socket listens and may trail the probe by a moment: the order is checked below
        assertFalse(childEventsAtSwitch.contains("TERM " + blue), "no SIGTERM for blue before green was ready: "
                + childEventsAtSwitch);

        Await.until("blue stopped after the drain", WAIT, () -> !table.isAlive(bluePid));
        Await.until("blue's SIGTERM handler ran", WAIT, () -> childEvents().contains("TERM " + blue));
        List<String> order = childEvents();
        assertTrue(order.indexOf("LISTENING " + green) >= 0, order.toString());
        assertTrue(order.indexOf("LISTENING " + green) < order.indexOf("TERM " + blue),
                "green listened before blue got SIGTERM: " + order);
        assertFalse(order.contains("TERM " + green), order.toString());
        int greenBefore = traffic.served(green);
        Await.until("traffic reaches green after blue is gone", WAIT, () -> traffic.served(green) >= greenBefore + 20);
        traffic.stop();
        assertEquals(List.of(), traffic.failures, "no connection failed during the switch");
        assertTrue(table.isAlive(greenPid));
        assertTrue(Files.readString(dir.resolve("gateways/bg.pid")).startsWith(greenPid + " "),
                "the pid file names green now");
    }

    @Test
    void aGreenThatFailsReadinessIsStoppedAndBlueKeepsServing() throws Exception {
        GatewaySupervisor s = supervisor(Duration.ofSeconds(4));
        long bluePid = startBlue(s).pid().getAsLong();
        traffic = new Traffic().begin();
        Await.until("traffic reaches blue", WAIT, () -> traffic.served(blue) >= 20);

        Files.writeString(failMarker, "the next process must fail");
        var restart = switchToGreen(s);
        long greenPid = Await.value("green spawned beside blue", WAIT,
                () -> s.status().blueGreen().orElseThrow().candidatePid().isPresent()
                        ? s.status().blueGreen().orElseThrow().candidatePid().getAsLong() : null);
        ExecutionException failed = assertThrows(ExecutionException.class, () -> restart.get(30, TimeUnit.SECONDS));
        assertTrue(failed.getCause().getMessage().contains("blue/green switch failed"), failed.getCause().getMessage());

        LifecycleStatus st = s.status();
        assertEquals(RUNNING, st.state());
        assertEquals(bluePid, st.pid().getAsLong(), "blue is still the gateway");
        assertTrue(table.isAlive(bluePid));
        BlueGreenStatus bg = st.blueGreen().orElseThrow();
        assertEquals(blue, bg.activePort());
        assertEquals(1, bg.failedSwitches());
        assertEquals(0, bg.switches());
        assertTrue(st.lastError().orElseThrow().contains("not ready within 4000 ms"), st.lastError().toString());
        Await.until("the failed green is gone", WAIT, () -> !table.isAlive(greenPid));
        assertTrue(table.groupMembers(greenPid).isEmpty());
        int blueBefore = traffic.served(blue);
        Await.until("blue serves on", WAIT, () -> traffic.served(blue) >= blueBefore + 20);
        traffic.stop();
        assertEquals(List.of(), traffic.failures, "no connection failed while green failed");
        assertFalse(childEvents().contains("TERM " + blue), "blue never got SIGTERM");
        assertEquals(0, traffic.served(green));
    }
}
