package dev.meshwork.transport.multichannel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.testkit.Await;
import dev.meshwork.transport.multichannel.internal.secure.HandshakeException;
import dev.meshwork.transport.multichannel.internal.secure.NoiseHandshake;
import dev.meshwork.transport.multichannel.internal.secure.NoiseStaticKey;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A man in the middle with no key, on real loopback sockets, between two honest nodes that pin
 * each other's keys: alpha's URL for beta leads to the attacker, who connects on to beta. Whether
 * he splices two handshakes (the attack that worked against the v1 hello) or forwards bytes and
 * slips his own messages in, he gets no authenticated link and delivers nothing.
 */
class ManInTheMiddleLoopbackTest {

    private static final Duration WAIT = Duration.ofSeconds(15);
    private final List<Runnable> cleanup = new ArrayList<>();

    private final class Node {
        final Ed25519Identity identity;
        final TcpTestTransport transport = new TcpTestTransport();
        final MeshCore core;
        final List<String> received = new CopyOnWriteArrayList<>();
        URI listening;

        Node(String name) {
            identity = Ed25519Identity.ephemeral(NodeId.of(name));
            ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
            ExecutorService callbacks = Executors.newCachedThreadPool();
            core = new MeshCore(identity, RouterSettings.DEFAULTS.withTrustedKeys(Set.of()), System::nanoTime,
                    InstantSource.system(), scheduler, callbacks, () -> ThreadLocalRandom.current().nextDouble());
            core.addTransport(transport, List.of("tcp"));
            core.addHandler(m -> {
                received.add(new String(m.payload()));
                return CompletableFuture.completedFuture(null);
            }, List.of("test"));
            core.start();
            listening = core.listen(URI.create("tcp://127.0.0.1:0/mesh")).join();
            cleanup.add(() -> {
                core.close();
                transport.shutdown();
                scheduler.shutdownNow();
                callbacks.shutdownNow();
            });
        }

        void pin(Node other, URI url) {
            core.addPeer(new PeerConfig(other.identity.nodeId(), other.identity.nodeId().value(), List.of(url),
                    Optional.of(other.identity.publicKeyBase64())));
        }

        long counter(String name) {
            return core.counters().getOrDefault(name, 0L);
        }

        LinkState state(Node other) {
            return core.peer(other.identity.nodeId()).map(p -> p.state()).orElse(LinkState.REMOVED);
        }
    }

    @AfterEach
    void tearDown() {
        cleanup.forEach(Runnable::run);
    }

    /** Listens for alpha and, for each connection, opens one to beta; what it does in between is the attack. */
    private abstract static class Middle {
        final TcpTestTransport net = new TcpTestTransport();
        final URI beta;
        URI listening;

        Middle(URI beta) {
            this.beta = beta;
            listening = net.listen(URI.create("tcp://127.0.0.1:0/mesh"), this::accept).join().uri();
        }

        private ConnectionHandler accept(Connection fromAlpha) {
            Leg toAlpha = new Leg();
            Leg toBeta = new Leg();
            toAlpha.connection = fromAlpha;
            toAlpha.other = toBeta;
            toBeta.other = toAlpha;
            toBeta.connection = net.dial(beta, DialOptions.DEFAULT, toBeta).join();
            return toAlpha;
        }

        /** One side of the splice. */
        final class Leg implements ConnectionHandler {
            Connection connection;
            Leg other;

            @Override
            public void onMessage(Connection c, byte[] message) {
                Middle.this.onMessage(this, message);
            }

            @Override
            public void onClosed(Connection c, CloseReason reason) {
                if (other.connection != null) {
                    other.connection.close(CloseReason.NORMAL, "other side closed");
                }
            }
        }

        abstract void onMessage(Leg from, byte[] message);
    }

    /**
     * Runs its own handshake with each side (its own static key) and hands each side the other's
     * certificate: the v1 attack, translated.
     */
    private static final class Splicer extends Middle {
        final NoiseStaticKey key = NoiseStaticKey.generate();
        final NoiseHandshake asResponder = NoiseHandshake.responder(key);
        final NoiseHandshake asInitiator = NoiseHandshake.initiator(key);
        final AtomicBoolean forwardedCertificate = new AtomicBoolean();

        Splicer(URI beta) {
            super(beta);
        }

        @Override
        synchronized void onMessage(Leg from, byte[] message) {
            try {
                if (from.connection.isInbound() && asResponder.mustRead()) {
                    asResponder.read(message); // alpha's message 1
                    from.other.connection.send(asInitiator.write(new byte[0]));
                } else if (!from.connection.isInbound() && asInitiator.mustRead()) {
                    byte[] betaCertificate = asInitiator.read(message); // beta's message 2
                    from.other.connection.send(asResponder.write(betaCertificate));
                    forwardedCertificate.set(true);
                }
            } catch (HandshakeException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** Forwards every message unchanged (a plain TCP relay) and can inject its own. */
    private static final class Forwarder extends Middle {
        final List<byte[]> towardsBeta = new CopyOnWriteArrayList<>();
        volatile Leg betaLeg;

        Forwarder(URI beta) {
            super(beta);
        }

        @Override
        void onMessage(Leg from, byte[] message) {
            if (from.connection.isInbound()) {
                towardsBeta.add(message);
                betaLeg = from.other;
            }
            from.other.connection.send(message);
        }
    }

    @Test
    void aSplicingManInTheMiddleGetsNoAuthenticatedLinkAndDeliversNothing() {
        Node alpha = new Node("alpha");
        Node beta = new Node("beta");
        Splicer mitm = new Splicer(beta.listening);
        alpha.pin(beta, mitm.listening); // alpha's URL for beta leads to the attacker
        beta.pin(alpha, URI.create("tcp://127.0.0.1:1/nowhere"));
        Await.until("alpha refused the spliced certificate", WAIT, () -> alpha.counter("refused.badHandshake") >= 1);
        assertTrue(mitm.forwardedCertificate.get(), "the attacker did hand beta's certificate to alpha");
        // beta sees a dialer that never completes its handshake
        Await.until("beta gave up on the attacker's handshake", WAIT, () -> beta.counter("refused.handshakeTimeout") >= 1);
        assertNotEquals(LinkState.UP, alpha.state(beta));
        assertNotEquals(LinkState.UP, beta.state(alpha));
        assertEquals(0, alpha.counter("handshakesOk"));
        assertEquals(0, beta.counter("handshakesOk"));
        assertTrue(beta.received.isEmpty() && alpha.received.isEmpty());
    }

    @Test
    void aForwardingManInTheMiddleCannotInjectOrReplayIntoTheLinkItCarries() {
        Node alpha = new Node("alpha");
        Node beta = new Node("beta");
        // two paths to beta, both through the attacker: the active channel and the standby
        Forwarder first = new Forwarder(beta.listening);
        Forwarder second = new Forwarder(beta.listening);
        alpha.core.addPeer(new PeerConfig(beta.identity.nodeId(), "beta", List.of(first.listening, second.listening),
                Optional.of(beta.identity.publicKeyBase64())));
        beta.pin(alpha, URI.create("tcp://127.0.0.1:1/nowhere"));
        // a byte-for-byte relay is only a wire: the link is alpha's and beta's, end to end
        Await.until("alpha and beta linked through both wires", WAIT, () -> alpha.state(beta) == LinkState.UP
                && first.betaLeg != null && second.betaLeg != null && beta.counter("handshakesOk") == 2);
        alpha.core.send(beta.identity.nodeId(), "test", "genuine".getBytes(), SendOptions.DEFAULT).join();
        Await.until("delivered", WAIT, () -> beta.received.contains("genuine"));
        // on one wire the attacker injects an envelope "from alpha" of his own making
        byte[] forged = Frame.newBuilder().setEnvelope(Envelope.newBuilder().setMessageId("forged")
                .setSource("alpha").setTarget("beta").setTopic("test").setHopLimit(1)
                .setSourceIncarnation(alpha.identity.incarnation())).build().toByteArray();
        first.betaLeg.connection.send(forged);
        Await.until("beta closed the injected connection", WAIT, () -> beta.counter("refused.decrypt") >= 1);
        // on the other he replays the last protected message alpha sent on it
        byte[] recorded = second.towardsBeta.get(second.towardsBeta.size() - 1);
        second.betaLeg.connection.send(recorded);
        Await.until("beta closed the replayed connection", WAIT, () -> beta.counter("refused.decrypt") >= 2);
        assertEquals(List.of("genuine"), beta.received, "nothing the attacker sent was delivered");
        assertEquals(2, beta.counter("protocolViolations"), beta.core.counters().toString());
    }
}
