package dev.meshwork.transport.multichannel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.ChannelState;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The small parts of the core, each alone: liveness detector, dedup window, rate limiter, channel state machine, identity. */
class PartsTest {

    private static final long MS = 1_000_000L;

    @Test
    void phiRisesWithSilenceAndCrossesTheDefaultThresholdWellWithinASecond() {
        RouterSettings s = RouterSettings.DEFAULTS;
        PhiAccrualDetector d = new PhiAccrualDetector(100 * MS, s.minStdDeviation().toNanos(), s.acceptablePause().toNanos(), 0);
        long t = 0;
        for (int i = 0; i < 50; i++) {
            t += 100 * MS;
            d.heartbeat(t);
        }
        assertTrue(d.phi(t + 100 * MS) < 1, "one interval of silence is normal");
        assertTrue(d.phi(t + 300 * MS) < s.phiThreshold(), "300 ms is not yet suspicious");
        long crossed = -1;
        for (long silence = 0; silence < 2000 && crossed < 0; silence += 5) {
            if (d.phi(t + silence * MS) > s.phiThreshold()) {
                crossed = silence;
            }
        }
        assertTrue(crossed > 300 && crossed < 700, "crossed after " + crossed + " ms");
    }

    @Test
    void phiLearnsAJitteryLinkAndToleratesLongerGaps() {
        RouterSettings s = RouterSettings.DEFAULTS;
        PhiAccrualDetector steady = new PhiAccrualDetector(100 * MS, s.minStdDeviation().toNanos(), s.acceptablePause().toNanos(), 0);
        PhiAccrualDetector jittery = new PhiAccrualDetector(100 * MS, s.minStdDeviation().toNanos(), s.acceptablePause().toNanos(), 0);
        long t1 = 0;
        long t2 = 0;
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < 64; i++) {
            t1 += 100 * MS;
            steady.heartbeat(t1);
            t2 += (20 + r.nextInt(300)) * MS; // a starved CPU: pongs bunch up and straggle
            jittery.heartbeat(t2);
        }
        assertTrue(jittery.phi(t2 + 600 * MS) < steady.phi(t1 + 600 * MS));
        assertTrue(jittery.phi(t2 + 600 * MS) < s.phiThreshold(), "600 ms is within a jittery link's normal");
    }

    @Test
    void anyFrameCountsAsLife() {
        PhiAccrualDetector d = new PhiAccrualDetector(100 * MS, 40 * MS, 250 * MS, 0);
        d.alive(900 * MS); // a data frame, not a heartbeat
        assertTrue(d.phi(1000 * MS) < 1);
    }

    @Test
    void dedupWindowForgetsAfterItsWindowAndStaysBounded() {
        DedupWindow<Boolean> w = new DedupWindow<>(1000 * MS, 3);
        assertTrue(w.add("a", true, 0));
        assertFalse(w.add("a", true, 10 * MS), "duplicate within the window");
        assertTrue(w.add("a", true, 1011 * MS), "forgotten after the window");
        w.add("b", true, 1012 * MS);
        w.add("c", true, 1013 * MS);
        w.add("d", true, 1014 * MS);
        assertEquals(3, w.size(), "bounded by its capacity");
        assertTrue(w.add("a", true, 1015 * MS), "the oldest was pushed out");
    }

    @Test
    void rateLimiterAllowsItsBudgetPerSecond() {
        RateLimiter r = new RateLimiter(10, 0);
        int ok = 0;
        for (int i = 0; i < 20; i++) {
            ok += r.tryAcquire(0) ? 1 : 0;
        }
        assertEquals(10, ok, "burst of one second's budget");
        assertFalse(r.tryAcquire(50 * MS));
        assertTrue(r.tryAcquire(100 * MS), "refills at 10 a second");
    }

    @ParameterizedTest(name = "{0} -> {1}: {2}")
    @CsvSource({
        "IDLE, CONNECTING, true", "IDLE, AUTHENTICATING, true", "IDLE, OPEN, false",
        "CONNECTING, AUTHENTICATING, true", "CONNECTING, BACKOFF, true", "CONNECTING, FAILED, true", "CONNECTING, OPEN, false",
        "AUTHENTICATING, OPEN, true", "AUTHENTICATING, BACKOFF, true", "AUTHENTICATING, FAILED, true",
        "OPEN, BACKOFF, true", "OPEN, FAILED, true", "OPEN, CONNECTING, false",
        "BACKOFF, CONNECTING, true", "BACKOFF, FAILED, true", "BACKOFF, OPEN, false",
        "FAILED, CONNECTING, true", "FAILED, OPEN, false",
        "IDLE, CLOSED, true", "OPEN, CLOSED, true", "BACKOFF, CLOSED, true", "CLOSED, CONNECTING, false"})
    void channelStateMachineHasExactlyTheEdgesOfItsDiagram(ChannelState from, ChannelState to, boolean allowed) {
        Channel c = new Channel(null, URI.create("mem://x:1/"), false);
        c.state = from;
        if (allowed) {
            c.moveTo(to);
            assertEquals(to, c.state);
        } else {
            assertThrows(IllegalStateException.class, () -> c.moveTo(to));
            assertEquals(from, c.state);
        }
    }

    @Test
    void identityIsCreatedOnceWithAPrivateKeyFileOnlyTheOwnerCanRead(@TempDir Path dir) throws Exception {
        Ed25519Identity first = Ed25519Identity.loadOrCreate(dir.resolve("identity"), Optional.empty());
        Path key = dir.resolve("identity/node.key");
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE), Files.getPosixFilePermissions(key));
        Ed25519Identity second = Ed25519Identity.loadOrCreate(dir.resolve("identity"), Optional.empty());
        assertEquals(first.nodeId(), second.nodeId(), "generated id is kept");
        assertEquals(first.publicKeyBase64(), second.publicKeyBase64(), "key pair is kept");
        assertNotEquals(first.incarnation(), second.incarnation(), "new incarnation per start");
        byte[] data = "transcript".getBytes();
        assertTrue(Ed25519Identity.verify(second.publicKey(), data, first.sign(data)));
        Ed25519Identity configured = Ed25519Identity.loadOrCreate(dir.resolve("identity"), Optional.of(NodeId.of("gw-1")));
        assertEquals(NodeId.of("gw-1"), configured.nodeId(), "the configured id wins");
        assertEquals(first.publicKeyBase64(), configured.publicKeyBase64());
    }

    @Test
    void unreadableIdentityFailsWithAOneLineMessageNamingTheDirectory(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("identity"));
        Files.write(dir.resolve("identity/node.key"), new byte[] {1, 2, 3});
        Files.write(dir.resolve("identity/node.pub"), new byte[] {1, 2, 3});
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Ed25519Identity.loadOrCreate(dir.resolve("identity"), Optional.empty()));
        assertTrue(e.getMessage().contains(dir.resolve("identity").toString()));
        assertFalse(e.getMessage().contains("\n"));
    }
}
