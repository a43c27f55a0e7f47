package dev.meshwork.health.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.lifecycle.LifecycleState;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.Route;
import dev.meshwork.health.internal.sync.OwnLogState;
import dev.meshwork.health.internal.sync.SyncConfig;
import dev.meshwork.testkit.ManualTime;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replica's state as another thread sees it: {@code health:view} and the snapshot it prints
 * are read in a loop while the health thread records events and links and unlinks neighbours at
 * random. Every read must succeed and agree with itself (a torn read would show a version vector
 * from one moment and counters or timelines from another).
 */
class HealthSnapshotTest {

    private static final long SEED = 20261206L;
    private static final int OPERATIONS = 3000;
    private static final Pattern VV = Pattern.compile("version vector \\{x=(\\d+)}");
    private static final Pattern RECORDED = Pattern.compile("events\\.recorded=(\\d+)");

    @TempDir
    Path dir;

    @Test
    void aReaderLoopingOverTheViewWhileTheOwnerMutatesSeesOnlyWholeSnapshots() throws Exception {
        ManualTime mail = new ManualTime(); // the stand-in router's message timer: it is never advanced, nothing is delivered
        StandInMesh mesh = new StandInMesh(mail, Duration.ofMillis(1));
        ScheduledExecutorService owner = Executors.newSingleThreadScheduledExecutor();
        ExecutorService readers = Executors.newSingleThreadExecutor();
        NodeId self = NodeId.of("x");
        HealthNode node = new HealthNode(mesh.router("x"), new StateStore(dir.resolve("state.bin")),
                SyncConfig.DEFAULTS.withRejoinTimeout(Duration.ZERO), InstantSource.system(), owner, Duration.ofMillis(5),
                Duration.ofMinutes(5), e -> { }, () -> 42);
        try {
            owner.submit(node::start).get(10, TimeUnit.SECONDS);
            AtomicBoolean done = new AtomicBoolean();
            Future<Integer> reads = readers.submit(() -> {
                int n = 0;
                long lastRecorded = -1;
                while (!done.get() || n < 100) {
                    HealthSnapshot s = node.snapshot();
                    String out = HealthCommands.view(s, Instant.now());
                    n++;
                    if (s.ownLog() != OwnLogState.RECORDING) {
                        continue;
                    }
                    long own = s.versionVector().getOrDefault(self, 0L);
                    long recorded = s.counters().get("events.recorded");
                    assertEquals(own, recorded, "version vector and counters of one snapshot: " + out);
                    List<HealthEvent> timeline = s.queries().timeline(self, Instant.EPOCH, Integer.MAX_VALUE);
                    assertEquals(own, timeline.isEmpty() ? 0 : timeline.get(timeline.size() - 1).seq(),
                            "timeline and version vector of one snapshot");
                    assertTrue(recorded >= lastRecorded, "snapshots only move forward");
                    lastRecorded = recorded;
                    Matcher vv = VV.matcher(out);
                    Matcher rec = RECORDED.matcher(out);
                    assertTrue(vv.find() && rec.find(), out);
                    assertEquals(vv.group(1), rec.group(1), "the printed version vector and counter agree: " + out);
                    assertTrue(out.contains("sync neighbours " + s.neighbours()), out);
                }
                return n;
            });

            SplittableRandom random = new SplittableRandom(SEED);
            for (int i = 0; i < OPERATIONS; i++) {
                NodeId peer = NodeId.of("p" + random.nextInt(8));
                switch (random.nextInt(3)) {
                    case 0 -> node.onLifecycleEvent(new LifecycleEvent("gw" + random.nextInt(3), LifecycleState.STARTING,
                            LifecycleState.RUNNING, i, Instant.now(), "op " + i));
                    case 1 -> node.onPeerEvent(event(PeerEvent.Type.PEER_UP, peer, true));
                    default -> node.onPeerEvent(event(PeerEvent.Type.PEER_DOWN, peer, false));
                }
            }
            owner.submit(() -> { }).get(30, TimeUnit.SECONDS); // every operation ran
            done.set(true);
            int n = reads.get(30, TimeUnit.SECONDS);
            assertTrue(n >= 100, "reads: " + n);
            HealthSnapshot last = node.snapshot();
            assertEquals(OwnLogState.RECORDING, last.ownLog());
            assertTrue(last.versionVector().get(self) > OPERATIONS / 2, "the owner recorded while the reader read: "
                    + last.versionVector());
            assertEquals(0L, last.counters().get("tasks.failed"));
        } finally {
            readers.shutdownNow();
            owner.shutdownNow();
        }
    }

    private static PeerEvent event(PeerEvent.Type type, NodeId peer, boolean up) {
        URI uri = URI.create("ws://" + peer.value() + ".test:7400/mesh");
        PeerInfo info = new PeerInfo(peer, peer.value(), up ? LinkState.UP : LinkState.DOWN,
                up ? Route.direct(uri) : Route.UNREACHABLE, List.of(), 0, 0, Optional.empty(), Instant.now(),
                Optional.empty(), Map.of());
        return new PeerEvent(type, info, Instant.now(), type.name());
    }
}
