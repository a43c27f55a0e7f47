package dev.meshwork.supervisor.internal;

import static dev.meshwork.api.lifecycle.LifecycleState.DEGRADED;
import static dev.meshwork.api.lifecycle.LifecycleState.RUNNING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.api.lifecycle.ProbeContext;
import dev.meshwork.api.lifecycle.ProbeResult;
import dev.meshwork.supervisor.internal.SupervisorConfig.ProbeSpec;
import dev.meshwork.supervisor.internal.process.ProcessTable;
import dev.meshwork.testkit.ManualTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Nothing the supervisor schedules may die silently: a task that throws (here an {@link Error}
 * from a probe or a listener, as a bundle updated under the supervisor throws
 * {@link NoClassDefFoundError}) is logged, counted, visible in {@code gateway:status}, and
 * periodic work keeps its schedule.
 */
class NoSilentDeathTest {

    private final ManualTime time = new ManualTime();
    private final FakeSpawner spawner = new FakeSpawner();
    private final ScriptedProbe ready = new ScriptedProbe();
    private final ScriptedProbe answering = new ScriptedProbe();
    private final SupervisorConfig config = SupervisorConfig.defaults("gw", List.of("/opt/gw/bin/gateway"))
            .withReadiness(new ProbeSpec("ready", Map.of(), Duration.ofSeconds(10)))
            .withHeartbeat(new ProbeSpec("hb", Map.of(), Duration.ofSeconds(1)), Duration.ofSeconds(5), 3);

    /** A heartbeat probe whose first run throws, as a probe of a bundle being updated does. */
    private final class ThrowsOnce implements Probe {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public CompletionStage<ProbeResult> probe(ProbeContext context) {
            if (calls.incrementAndGet() == 1) {
                throw new NoClassDefFoundError("dev/example/probe/Internal");
            }
            return answering.probe(context);
        }
    }

    private GatewaySupervisor supervisor(Probe hb, Consumer<LifecycleEvent> events) {
        Map<String, Probe> probes = Map.of("ready", ready, "hb", hb);
        return new GatewaySupervisor(config, spawner, t -> Optional.ofNullable(probes.get(t)), p -> Optional.empty(),
                new PidFile(null, "gw", new ProcessTable()), time::nanoTime, time, time, () -> 0.5, events);
    }

    private String gogoStatus(GatewaySupervisor s) {
        return new GatewayCommands(List.of(s)).status("gw");
    }

    @Test
    void aHeartbeatThatThrowsIsCountedAndKeepsBeating() {
        ThrowsOnce hb = new ThrowsOnce();
        GatewaySupervisor s = supervisor(hb, e -> { });
        s.start();
        time.runDue();
        ready.answerLast(true);
        time.runDue();
        assertEquals(RUNNING, s.status().state());

        time.advance(Duration.ofSeconds(5)); // the first beat: the probe throws
        assertEquals(1, hb.calls.get());
        time.advance(Duration.ofSeconds(5)); // the heartbeat is still scheduled and runs again
        assertEquals(2, hb.calls.get(), "the heartbeat kept its schedule after a beat threw");
        answering.answerLast(false);
        time.runDue();
        assertEquals(DEGRADED, s.status().state(), "and it still acts on what it sees");
        time.advance(Duration.ofSeconds(5));
        assertEquals(3, hb.calls.get());
        answering.answerLast(true);
        time.runDue();
        assertEquals(RUNNING, s.status().state());

        assertTrue(time.failures().isEmpty(), "nothing swallowed by a future: " + time.failures());
        String status = gogoStatus(s);
        assertTrue(status.contains("task failures 1"), status);
        assertTrue(status.contains("heartbeat") && status.contains("NoClassDefFoundError"), status);
    }

    @Test
    void aListenerThatThrowsAnErrorIsCountedAndSupervisionGoesOn() {
        GatewaySupervisor s = supervisor(answering, e -> {
            throw new NoClassDefFoundError("dev/example/listener/Gone");
        });
        s.start();
        time.runDue();
        assertEquals(1, spawner.spawned.size(), "the start went on past the failing listener");
        ready.answerLast(true);
        time.runDue();
        assertEquals(RUNNING, s.status().state());
        spawner.last().exitWith(1);
        time.runDue();
        time.advance(Duration.ofMillis(500)); // the backoff timer's transition fires the listener too
        assertEquals(2, spawner.spawned.size(), "the backoff timer restarted the gateway");

        assertTrue(time.failures().isEmpty(), "nothing swallowed by a future: " + time.failures());
        String status = gogoStatus(s);
        assertTrue(status.contains("listener failures 4"), status); // STOPPED>STARTING>RUNNING>BACKOFF>STARTING
    }
}
