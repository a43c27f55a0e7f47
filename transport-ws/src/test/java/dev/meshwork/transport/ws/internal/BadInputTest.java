package dev.meshwork.transport.ws.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.TransportListener;
import dev.meshwork.testkit.Await;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile and broken clients: each gets the right close code or a dropped connection within a
 * bounded time, is counted, and the server keeps serving a well-behaved client.
 */
class BadInputTest {

    static final int LIMIT = 1024;
    static WsTransportEngine engine;
    static TransportListener listener;
    static final List<CloseReason> serverCloses = new CopyOnWriteArrayList<>();
    static final List<byte[]> serverReceived = new CopyOnWriteArrayList<>();
    static int port;

    @BeforeAll
    static void start() throws Exception {
        engine = Fixtures.engine(Fixtures.settings().withMaxFrameBytes(LIMIT).withHandshakeTimeout(Duration.ofMillis(500)));
        listener = Fixtures.listen(engine, "ws", c -> new Recorder(true) {
            @Override
            public void onMessage(Connection connection, byte[] message) {
                serverReceived.add(message);
                super.onMessage(connection, message);
            }

            @Override
            public void onClosed(Connection connection, CloseReason reason) {
                serverCloses.add(reason);
                super.onClosed(connection, reason);
            }
        });
        port = listener.uri().getPort();
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    @AfterEach
    void serverStillServesAWellBehavedClient() throws Exception {
        Recorder recorder = new Recorder();
        Connection connection = Fixtures.dial(engine, listener.uri(), recorder);
        connection.send(Fixtures.message("still-here", 100)).get(5, TimeUnit.SECONDS);
        Await.until("echo from the server after bad input", Duration.ofSeconds(5), () -> recorder.messages.size() == 1);
        connection.close(1000, "done").get(5, TimeUnit.SECONDS);
    }

    private static RawWsClient upgraded() throws Exception {
        RawWsClient raw = new RawWsClient(port);
        String head = raw.upgrade("/mesh", "meshwork.v1");
        assertTrue(head.startsWith("HTTP/1.1 101"), head);
        return raw;
    }

    private long count(TransportCounters.Event event) {
        return engine.counters().get(event);
    }

    @Test
    void reservedOpcodeClosesWithProtocolError() throws Exception {
        long before = count(TransportCounters.Event.MALFORMED_FRAMES);
        try (RawWsClient raw = upgraded()) {
            raw.writeFrame(0x80 | 0x3, new byte[] {1, 2, 3});
            assertEquals(1002, raw.awaitCloseCode());
        }
        Await.until("counted", Duration.ofSeconds(2), () -> count(TransportCounters.Event.MALFORMED_FRAMES) > before);
    }

    @Test
    void textFrameClosesWithUnsupportedData() throws Exception {
        long before = count(TransportCounters.Event.TEXT_FRAMES);
        try (RawWsClient raw = upgraded()) {
            raw.writeFrame(0x81, "hello".getBytes(StandardCharsets.UTF_8));
            assertEquals(1003, raw.awaitCloseCode());
        }
        Await.until("counted", Duration.ofSeconds(2), () -> count(TransportCounters.Event.TEXT_FRAMES) > before);
        Await.until("server saw a protocol error", Duration.ofSeconds(2),
                () -> serverCloses.stream().anyMatch(r -> r.code() == 1003 && r.kind() == CloseReason.Kind.PROTOCOL_ERROR && !r.intentional()));
    }

    @Test
    void nothingBehindATextFrameInTheSameReadIsDispatched() throws Exception {
        int closesBefore = serverCloses.size();
        byte[] behind = Fixtures.message("behind-the-text-frame", 10);
        try (RawWsClient raw = upgraded()) {
            // one write: the fatal text frame and a valid binary message right behind it
            byte[] text = RawWsClient.frameBytes(0x81, "hello".getBytes(StandardCharsets.UTF_8), 5);
            byte[] binary = RawWsClient.frameBytes(0x82, behind, behind.length);
            byte[] both = java.util.Arrays.copyOf(text, text.length + binary.length);
            System.arraycopy(binary, 0, both, text.length, binary.length);
            raw.writeRaw(both);
            assertEquals(1003, raw.awaitCloseCode());
        }
        Await.until("the server closed the connection", Duration.ofSeconds(5), () -> serverCloses.size() > closesBefore);
        assertTrue(serverReceived.stream().noneMatch(m -> java.util.Arrays.equals(m, behind)),
                "the message behind the text frame reached the handler");
    }

    @Test
    void bytesThatAreNoProtobufFramePassThroughUntouched() throws Exception {
        byte[] notAFrame = {0x0A, (byte) 0xFF}; // protobuf: field 1, length varint cut short
        try (RawWsClient raw = upgraded()) {
            raw.writeFrame(0x82, notAFrame);
            RawWsClient.ServerFrame echo;
            do {
                echo = raw.readFrame();
            } while (echo != null && echo.opcode() == 0x9); // skip pings
            assertEquals(0x2, echo.opcode(), "echoed, not refused: decoding is the node core's job");
            assertArrayEquals(notAFrame, echo.payload());
        }
    }

    @Test
    void messageExactlyAtTheLimitIsEchoed() throws Exception {
        byte[] atLimit = Fixtures.messageOfSize(LIMIT);
        assertEquals(LIMIT, atLimit.length);
        try (RawWsClient raw = upgraded()) {
            raw.writeFrame(0x82, atLimit);
            RawWsClient.ServerFrame echo;
            do {
                echo = raw.readFrame();
            } while (echo != null && echo.opcode() == 0x9); // skip pings
            assertEquals(0x2, echo.opcode());
            assertArrayEquals(atLimit, echo.payload());
        }
    }

    @Test
    void frameOneByteOverTheLimitClosesWith1009BeforeThePayloadIsSent() throws Exception {
        long before = count(TransportCounters.Event.OVERSIZED_FRAMES);
        try (RawWsClient raw = upgraded()) {
            // only the header: the limit must be enforced on the declared length, before allocation
            raw.writeFrame(0x82, new byte[0], LIMIT + 1);
            assertEquals(1009, raw.awaitCloseCode());
        }
        Await.until("counted", Duration.ofSeconds(2), () -> count(TransportCounters.Event.OVERSIZED_FRAMES) > before);
    }

    @Test
    void hugeDeclaredLengthClosesWith1009() throws Exception {
        try (RawWsClient raw = upgraded()) {
            raw.writeFrame(0x82, new byte[0], Long.MAX_VALUE);
            int code = raw.awaitCloseCode();
            assertTrue(code == 1009 || code == 1002, "closed with " + code);
        }
    }

    @Test
    void fragmentedMessageOverTheLimitClosesWith1009() throws Exception {
        long before = count(TransportCounters.Event.OVERSIZED_FRAMES);
        try (RawWsClient raw = upgraded()) {
            raw.writeFrame(0x02, new byte[600]); // binary, not final
            raw.writeFrame(0x80, new byte[600]); // continuation, final: 1200 > 1024 reassembled
            assertEquals(1009, raw.awaitCloseCode());
        }
        Await.until("counted", Duration.ofSeconds(2), () -> count(TransportCounters.Event.OVERSIZED_FRAMES) > before);
    }

    @Test
    void invalidUtf8InCloseReasonClosesWith1007() throws Exception {
        long before = count(TransportCounters.Event.INVALID_UTF8);
        try (RawWsClient raw = upgraded()) {
            raw.writeFrame(0x88, new byte[] {0x03, (byte) 0xE8, (byte) 0xC3, 0x28});
            // Netty answers a broken close frame by dropping the socket (the peer already started closing)
            int code = raw.awaitCloseCode();
            assertTrue(code == 1007 || code == -1, "closed with " + code);
        }
        Await.until("server recorded 1007", Duration.ofSeconds(2),
                () -> serverCloses.stream().anyMatch(r -> r.code() == 1007 && r.kind() == CloseReason.Kind.PROTOCOL_ERROR));
        Await.until("counted", Duration.ofSeconds(2), () -> count(TransportCounters.Event.INVALID_UTF8) > before);
    }

    @Test
    void slowlorisIsDroppedWithinTheHandshakeTimeout() throws Exception {
        long before = count(TransportCounters.Event.UPGRADE_TIMEOUTS);
        try (RawWsClient raw = new RawWsClient(port)) {
            raw.writeRaw("GET /mesh HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            assertTrue(raw.awaitEndOfStream(), "server dropped the half-sent request");
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            // bounded, not at TCP's pace: the handshake timeout is 500 ms; the slack is for a loaded CI machine
            assertTrue(tookMillis < 4000, "dropped after " + tookMillis + " ms (timeout 500 ms)");
        }
        Await.until("counted", Duration.ofSeconds(2), () -> count(TransportCounters.Event.UPGRADE_TIMEOUTS) > before);
    }

    @Test
    void garbageBeforeTheUpgradeGetsBadRequestAndIsDropped() throws Exception {
        long before = count(TransportCounters.Event.BAD_HTTP_REQUESTS);
        try (RawWsClient raw = new RawWsClient(port)) {
            raw.writeRaw(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xA5, 0x01, 0x00, '\r', '\n', '\r', '\n'});
            String head = raw.readHead();
            assertTrue(head.isEmpty() || head.startsWith("HTTP/1.1 400"), head);
            assertTrue(raw.awaitEndOfStream());
        }
        Await.until("counted", Duration.ofSeconds(2), () -> count(TransportCounters.Event.BAD_HTTP_REQUESTS) > before);
    }

    @Test
    void thousandAbandonedTcpConnectionsAreDroppedAndOthersStillServed() throws Exception {
        long before = count(TransportCounters.Event.UPGRADE_TIMEOUTS);
        List<Socket> abandoned = new ArrayList<>();
        try {
            for (int i = 0; i < 1000; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                s.setSoTimeout(5000);
                abandoned.add(s);
            }
            // while they hang, a well-behaved client is served
            serverStillServesAWellBehavedClient();
            for (Socket s : abandoned) {
                assertEquals(-1, s.getInputStream().read(), "the server drops an abandoned connection");
            }
        } finally {
            for (Socket s : abandoned) {
                s.close();
            }
        }
        Await.until("all counted", Duration.ofSeconds(5), () -> count(TransportCounters.Event.UPGRADE_TIMEOUTS) >= before + 1000);
    }
}
