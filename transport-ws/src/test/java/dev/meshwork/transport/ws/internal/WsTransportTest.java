package dev.meshwork.transport.ws.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.transport.TransportListener;
import dev.meshwork.testkit.Await;
import dev.meshwork.testkit.FreezableProxy;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WsTransportTest {

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private WsTransportEngine engine(WsSettings settings) {
        WsTransportEngine engine = Fixtures.engine(settings);
        toClose.add(engine);
        return engine;
    }

    private static MeshworkException dialFailure(CompletableFuture<Connection> dial) throws Exception {
        try {
            dial.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return assertInstanceOf(MeshworkException.class, e.getCause());
        }
        throw new AssertionError("dial succeeded");
    }

    @Test
    void echoesFramesBetweenDialerAndListener() throws Exception {
        WsTransportEngine engine = engine(Fixtures.settings());
        TransportListener listener = Fixtures.listen(engine, "ws", c -> new Recorder(true));
        assertTrue(listener.uri().getPort() > 0, "actual port is reported");
        Recorder client = new Recorder();
        Connection connection = Fixtures.dial(engine, listener.uri(), client);
        assertFalse(connection.isInbound());
        for (int i = 0; i < 100; i++) {
            connection.send(Fixtures.message("echo-" + i, 256)).get(5, TimeUnit.SECONDS);
        }
        Await.until("100 echoes", Duration.ofSeconds(5), () -> client.messages.size() == 100);
        assertEquals("echo-99", Fixtures.tag(client.messages.get(99)), "order is kept");
        assertEquals(100, connection.stats().framesOut());
        assertEquals(100, connection.stats().framesIn());
        assertTrue(engine.usesEpoll() || !io.netty.channel.epoll.Epoll.isAvailable(), "epoll is used when available");
    }

    @Test
    void deliversCloseCodeAndReasonAndMarksDeliberateCloseIntentional() throws Exception {
        WsTransportEngine engine = engine(Fixtures.settings());
        Recorder server = new Recorder();
        TransportListener listener = Fixtures.listen(engine, "ws", c -> server);
        Recorder client = new Recorder();
        Connection connection = Fixtures.dial(engine, listener.uri(), client);
        CloseReason local = connection.close(1000, "goodbye").get(5, TimeUnit.SECONDS);
        CloseReason remote = server.closed.get(5, TimeUnit.SECONDS);
        assertEquals(CloseReason.Kind.NORMAL, remote.kind());
        assertEquals(1000, remote.code());
        assertEquals("goodbye", remote.text());
        assertTrue(remote.byPeer());
        assertTrue(remote.intentional());
        assertFalse(local.byPeer());
        assertTrue(local.intentional());
        assertEquals(local, client.closed.get(5, TimeUnit.SECONDS));
        assertFalse(connection.isOpen());
    }

    @Test
    void failureCloseFromPeerIsNotIntentional() throws Exception {
        WsTransportEngine engine = engine(Fixtures.settings());
        TransportListener listener = Fixtures.listen(engine, "ws", c -> {
            c.close(CloseReason.INTERNAL_ERROR, "broken");
            return new Recorder();
        });
        Recorder client = new Recorder();
        Fixtures.dial(engine, listener.uri(), client);
        CloseReason reason = client.closed.get(5, TimeUnit.SECONDS);
        assertEquals(1011, reason.code());
        assertEquals("broken", reason.text());
        assertTrue(reason.byPeer());
        assertFalse(reason.intentional(), "a 1011 close is a failure, so the router reconnects");
        assertFalse(client.eventAfterClose.get());
    }

    @Test
    void reportsHalfOpenLinkAsStaleWithinThreshold() throws Exception {
        WsSettings settings = Fixtures.settings().withLiveness(Duration.ofMillis(100), Duration.ofMillis(500));
        WsTransportEngine engine = engine(settings);
        // The server keeps the default (slow) liveness: if it noticed first and closed its side,
        // the client would see the proxy's close as an error instead of detecting the silence.
        WsTransportEngine server = engine(Fixtures.settings());
        TransportListener listener = Fixtures.listen(server, "ws", c -> new Recorder(true));
        FreezableProxy proxy = new FreezableProxy(listener.uri().getPort());
        toClose.add(proxy);
        Recorder client = new Recorder();
        Connection connection = Fixtures.dial(engine, URI.create("ws://127.0.0.1:" + proxy.port() + "/mesh"), client);
        Await.until("an RTT sample through the proxy", Duration.ofSeconds(3), () -> connection.rtt().isPresent());
        proxy.freeze();
        long frozenAt = System.nanoTime();
        CloseReason reason = client.closed.get(10, TimeUnit.SECONDS);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenAt);
        assertEquals(CloseReason.Kind.STALE, reason.kind());
        assertFalse(reason.intentional());
        // The exact bound (threshold plus one tick) is LivenessWheelTest's, on a manual clock; on
        // real sockets and a loaded CI machine this only rules out TCP's own ~15 minutes and any
        // wait for a timeout of another kind (the handshake's 5 s, the ping interval of the server).
        assertTrue(tookMillis < 4000, "stale detected after " + tookMillis + " ms");
        assertTrue(engine.counters().get(TransportCounters.Event.STALE_CLOSES) >= 1);
    }

    @Test
    void upgradedServerConnectionOutlivesTheHandshakeTimeout() throws Exception {
        // the upgrade deadline must end with the upgrade: it once dropped every connection at the timeout
        WsSettings settings = Fixtures.settings().withHandshakeTimeout(Duration.ofMillis(300))
                .withLiveness(Duration.ofMillis(100), Duration.ofSeconds(5));
        WsTransportEngine engine = engine(settings);
        TransportListener listener = Fixtures.listen(engine, "ws", c -> new Recorder(true));
        Recorder client = new Recorder();
        Connection connection = Fixtures.dial(engine, listener.uri(), client);
        long dialled = System.nanoTime();
        // RTT samples arrive every 100 ms: waiting for 10 of them lets well over 300 ms pass
        Await.until("ten RTT samples", Duration.ofSeconds(5), () -> client.rtts.size() >= 10);
        assertTrue(System.nanoTime() - dialled > TimeUnit.MILLISECONDS.toNanos(600));
        assertFalse(client.closed.isDone(), "closed: " + (client.closed.isDone() ? client.closed.get() : ""));
        connection.send(Fixtures.message("after-deadline", 100)).get(5, TimeUnit.SECONDS);
        Await.until("echo after the handshake timeout", Duration.ofSeconds(5), () -> client.messages.size() == 1);
        assertEquals(0, engine.counters().get(TransportCounters.Event.UPGRADE_TIMEOUTS));
    }

    @Test
    void busyLinkWithShortIntervalsIsNotClosedAsStaleAndReportsRtt() throws Exception {
        WsSettings settings = Fixtures.settings().withLiveness(Duration.ofMillis(100), Duration.ofMillis(500));
        WsTransportEngine engine = engine(settings);
        TransportListener listener = Fixtures.listen(engine, "ws", c -> new Recorder(true));
        Recorder client = new Recorder();
        Connection connection = Fixtures.dial(engine, listener.uri(), client);
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        int sent = 0;
        while (System.nanoTime() < end) {
            if (connection.isWritable()) {
                connection.send(Fixtures.message("busy", 4096));
                sent++;
            } else {
                Thread.onSpinWait();
            }
        }
        assertTrue(connection.isOpen(), "a busy healthy link stays open");
        assertFalse(client.closed.isDone());
        assertTrue(sent > 0);
        Await.until("RTT samples", Duration.ofSeconds(2), () -> !client.rtts.isEmpty());
        assertTrue(connection.rtt().orElseThrow().compareTo(Duration.ofSeconds(1)) < 0);
    }

    @Test
    void signalsBackPressureRefusesBeyondTheBoundAndFailsPendingSendsOnClose() throws Exception {
        WsSettings settings = Fixtures.settings().withWaterMarks(8 * 1024, 32 * 1024).withMaxFrameBytes(64 * 1024);
        WsTransportEngine engine = engine(settings);
        CompletableFuture<WsConnection> serverSide = new CompletableFuture<>();
        TransportListener listener = Fixtures.listen(engine, "ws", c -> {
            WsConnection ws = (WsConnection) c;
            ws.channel().config().setAutoRead(false);
            serverSide.complete(ws);
            return new Recorder();
        });
        Recorder client = new Recorder();
        Connection connection = Fixtures.dial(engine, listener.uri(), client);
        WsConnection server = serverSide.get(5, TimeUnit.SECONDS);
        // a well-behaved sender: send while writable; the peer does not read, so writability ends
        List<CompletableFuture<Void>> unused = fillUntilStuck(connection);
        assertFalse(unused.isEmpty());
        Await.until("the last writability event says unwritable", Duration.ofSeconds(2),
                () -> !client.writability.isEmpty() && !client.writability.get(client.writability.size() - 1));
        // a sender that ignores writability is refused, never buffered without bound
        MeshworkException refused = null;
        for (int i = 0; i < 10_000 && refused == null; i++) {
            CompletableFuture<Void> send = connection.send(Fixtures.message("bulk", 16 * 1024));
            if (send.isCompletedExceptionally()) {
                refused = (MeshworkException) dialFailureOf(send);
            }
        }
        assertTrue(refused != null, "refused once the bound is reached");
        assertEquals(FailureCode.QUEUE_FULL, refused.code());
        assertTrue(refused.isRetryable());
        // let the reader drain: writability comes back
        server.channel().config().setAutoRead(true);
        Await.until("writable again", Duration.ofSeconds(10), () -> client.writability.contains(true) && connection.isWritable());
        // stop reading again, fill the buffer, then close: pending sends fail with CLOSED
        server.channel().config().setAutoRead(false);
        List<CompletableFuture<Void>> pending = fillUntilStuck(connection);
        pending.removeIf(CompletableFuture::isDone);
        assertFalse(pending.isEmpty());
        ((WsConnection) connection).channel().close();
        for (CompletableFuture<Void> send : pending) {
            try {
                send.get(5, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                RetryableException closed = assertInstanceOf(RetryableException.class, e.getCause());
                assertEquals(FailureCode.CLOSED, closed.code());
            }
        }
        assertTrue(pending.stream().anyMatch(CompletableFuture::isCompletedExceptionally));
        PermanentException tooLarge = assertInstanceOf(PermanentException.class, dialFailureOf(connection.send(Fixtures.message("x", 70_000))));
        assertEquals(FailureCode.PAYLOAD_TOO_LARGE, tooLarge.code());
    }

    /** Sends while writable until the connection stays unwritable; returns the sends' futures. */
    private static List<CompletableFuture<Void>> fillUntilStuck(Connection connection) {
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (connection.isWritable()) {
                sends.add(connection.send(Fixtures.message("bulk", 16 * 1024)));
            } else {
                // unwritable: either momentarily (queued writes) or for good (kernel buffers full)
                long wait = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
                while (!connection.isWritable() && System.nanoTime() < wait) {
                    Thread.onSpinWait();
                }
                if (!connection.isWritable()) {
                    return sends;
                }
            }
        }
        throw new AssertionError("writability never ended although the peer stopped reading");
    }

    private static Throwable dialFailureOf(CompletableFuture<?> f) {
        try {
            f.join();
            throw new AssertionError("did not fail");
        } catch (java.util.concurrent.CompletionException e) {
            return e.getCause();
        }
    }

    @Test
    void listensOnIpv4AndIpv6AtOnceAndEchoesOverBoth() throws Exception {
        WsTransportEngine engine = engine(Fixtures.settings());
        TransportListener v4 = Fixtures.listen(engine, "ws", c -> new Recorder(true));
        TransportListener v6 = engine.listen(URI.create("ws://[::1]:0/mesh"), c -> new Recorder(true)).get(5, TimeUnit.SECONDS);
        assertTrue(v6.uri().getPort() > 0);
        assertEquals("[::1]", v6.uri().getHost());
        for (URI target : List.of(v4.uri(), v6.uri())) {
            Recorder client = new Recorder();
            Connection c = Fixtures.dial(engine, target, client);
            assertEquals(target.getHost().startsWith("[") ? java.net.Inet6Address.class : java.net.Inet4Address.class,
                    c.remoteAddress().getAddress().getClass());
            c.send(Fixtures.message("v", 10)).get(5, TimeUnit.SECONDS);
            Await.until("echo over " + target, Duration.ofSeconds(5), () -> client.messages.size() == 1);
        }
    }

    @Test
    void dialToClosedPortFailsRetryableRefused() throws Exception {
        WsTransportEngine engine = engine(Fixtures.settings());
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        MeshworkException e = dialFailure(engine.dial(URI.create("ws://127.0.0.1:" + port + "/mesh"), DialOptions.DEFAULT, new Recorder()));
        assertTrue(e.isRetryable());
        assertEquals(FailureCode.CONNECTION_REFUSED, e.code());
    }

    @Test
    void malformedUrlsFailPermanently() throws Exception {
        WsTransportEngine engine = engine(Fixtures.settings());
        MeshworkException noHost = dialFailure(engine.dial(URI.create("ws:///mesh"), DialOptions.DEFAULT, new Recorder()));
        assertFalse(noHost.isRetryable());
        assertEquals(FailureCode.MALFORMED_URL, noHost.code());
        MeshworkException http = dialFailure(engine.dial(URI.create("http://127.0.0.1:1/"), DialOptions.DEFAULT, new Recorder()));
        assertFalse(http.isRetryable());
    }

    @Test
    void upgradeRefusedWith4xxFailsPermanently() throws Exception {
        WsTransportEngine engine = engine(Fixtures.settings());
        TransportListener listener = Fixtures.listen(engine, "ws", c -> new Recorder());
        URI wrongPath = URI.create("ws://127.0.0.1:" + listener.uri().getPort() + "/not-mesh");
        MeshworkException e = dialFailure(engine.dial(wrongPath, DialOptions.DEFAULT, new Recorder()));
        assertFalse(e.isRetryable());
        assertEquals(FailureCode.UPGRADE_REFUSED, e.code());
    }

    @Test
    void silentServerFailsRetryableTimeoutAndResetFailsRetryable() throws Exception {
        WsTransportEngine engine = engine(Fixtures.settings());
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            DialOptions quick = DialOptions.DEFAULT.withHandshakeTimeout(Duration.ofMillis(300));
            MeshworkException timeout = dialFailure(engine.dial(URI.create("ws://127.0.0.1:" + silent.getLocalPort() + "/mesh"), quick, new Recorder()));
            assertTrue(timeout.isRetryable());
            assertEquals(FailureCode.TIMEOUT, timeout.code());
        }
        try (ServerSocket slammer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = slammer.accept()) {
                    s.setSoLinger(true, 0); // RST on close
                } catch (Exception ignored) {
                    // test ends
                }
            });
            t.start();
            MeshworkException reset = dialFailure(engine.dial(URI.create("ws://127.0.0.1:" + slammer.getLocalPort() + "/mesh"), DialOptions.DEFAULT, new Recorder()));
            assertTrue(reset.isRetryable());
            assertEquals(FailureCode.CONNECTION_RESET, reset.code(), reset.getMessage());
            // (a reset that beat the caller's join once sent it into a second attempt to a server that
            // accepts only one connection: the caller then saw that attempt's TIMEOUT, not the reset)
            Await.until("both failures counted", Duration.ofSeconds(5),
                    () -> engine.counters().get(TransportCounters.Event.DIAL_FAILURES) == 2);
            t.join(5000);
        }
    }

    @Test
    void concurrentDialsToSameUrlShareOneAttempt() throws Exception {
        WsTransportEngine engine = engine(Fixtures.settings());
        AtomicInteger accepted = new AtomicInteger();
        TransportListener listener = Fixtures.listen(engine, "ws", c -> {
            accepted.incrementAndGet();
            return new Recorder(true);
        });
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        CompletableFuture<Connection> first = engine.dial(listener.uri(), DialOptions.DEFAULT, a);
        CompletableFuture<Connection> second = engine.dial(listener.uri(), DialOptions.DEFAULT, b);
        Connection one = first.get(5, TimeUnit.SECONDS);
        assertSame(one, second.get(5, TimeUnit.SECONDS));
        one.send(Fixtures.message("both", 10)).get(5, TimeUnit.SECONDS);
        Await.until("both handlers see the echo", Duration.ofSeconds(5), () -> a.messages.size() == 1 && b.messages.size() == 1);
        assertEquals(1, engine.counters().get(TransportCounters.Event.CONNECTIONS_DIALED), "one attempt for both dials");
        assertTrue(accepted.get() >= 1);
    }

    @Test
    void cancellingADialAbortsTheAttempt() throws Exception {
        WsTransportEngine engine = engine(Fixtures.settings());
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Connection> dial = engine.dial(URI.create("ws://127.0.0.1:" + silent.getLocalPort() + "/mesh"),
                    DialOptions.DEFAULT.withHandshakeTimeout(Duration.ofSeconds(30)), new Recorder());
            try (Socket accepted = silent.accept()) {
                accepted.setSoTimeout(5000);
                InputStream in = accepted.getInputStream();
                assertTrue(in.read() >= 0, "the upgrade request arrives");
                assertTrue(dial.cancel(true));
                byte[] buffer = new byte[4096];
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                int n = 0;
                while (n >= 0 && System.nanoTime() < deadline) {
                    n = in.read(buffer);
                }
                assertEquals(-1, n, "the aborted dial closed its socket");
            }
        }
    }

    @Test
    void plainHttpGetAnswersStatusJson() throws Exception {
        WsTransportEngine engine = engine(Fixtures.settings());
        TransportListener listener = Fixtures.listen(engine, "ws", c -> new Recorder());
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listener.uri().getPort() + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("\"nodeId\":\"node-a\""), response.body());
        assertTrue(response.body().contains("\"version\":\"test\""), response.body());
        assertTrue(response.body().contains("\"uptimeSeconds\":"), response.body());
    }

    @Test
    void closingTheEngineClosesConnectionsAndLeavesNoThread() throws Exception {
        WsTransportEngine engine = Fixtures.engine(Fixtures.settings());
        Recorder server = new Recorder();
        TransportListener listener = Fixtures.listen(engine, "ws", c -> server);
        Recorder client = new Recorder();
        Fixtures.dial(engine, listener.uri(), client);
        assertTrue(threadCount() > 0);
        engine.close();
        CloseReason reason = client.closed.get(1, TimeUnit.SECONDS);
        assertTrue(reason.intentional(), "a shutdown is deliberate: " + reason);
        assertTrue(server.closed.get(1, TimeUnit.SECONDS).intentional());
        Await.until("no meshwork-ws thread left", Duration.ofSeconds(5), () -> threadCount() == 0);
        MeshworkException afterStop = dialFailure(engine.dial(listener.uri(), DialOptions.DEFAULT, new Recorder()));
        assertEquals(FailureCode.SHUT_DOWN, afterStop.code());
    }

    private static long threadCount() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(EventLoops.THREAD_PREFIX) && t.isAlive()).count();
    }
}
