package dev.meshwork.transport.ws.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.TransportListener;
import dev.meshwork.testkit.Await;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** permessage-deflate, negotiated only when configured, and never inflated past the message limit. */
class DeflateTest {

    static final int LIMIT = 64 * 1024;
    private final List<WsTransportEngine> engines = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        engines.forEach(WsTransportEngine::close);
    }

    private WsTransportEngine engine(boolean deflate) {
        WsTransportEngine e = Fixtures.engine(Fixtures.settings().withMaxFrameBytes(LIMIT).withPermessageDeflate(deflate));
        engines.add(e);
        return e;
    }

    /** Deflates as a permessage-deflate sender does: raw deflate, sync flush, the 4-byte tail stripped. */
    private static byte[] deflate(byte[] plain) {
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        deflater.setInput(plain);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = deflater.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH)) > 0) {
            out.write(buf, 0, n);
        }
        deflater.end();
        byte[] all = out.toByteArray();
        return Arrays.copyOf(all, all.length - 4);
    }

    @Test
    void compressedMessagesEchoBetweenPeersThatBothOfferIt() throws Exception {
        TransportListener listener = Fixtures.listen(engine(true), "ws", c -> new Recorder(true));
        Recorder recorder = new Recorder();
        Connection c = Fixtures.dial(engine(true), listener.uri(), recorder);
        assertNotNull(((WsConnection) c).channel().pipeline().get(BoundedDeflate.Decoder.class), "deflate negotiated");
        byte[] text = "the same sentence again and again; ".repeat(1000).getBytes();
        for (int i = 0; i < 3; i++) {
            c.send(text).get(5, TimeUnit.SECONDS);
        }
        Await.until("three echoes", Duration.ofSeconds(5), () -> recorder.messages.size() == 3);
        for (byte[] m : recorder.messages) {
            assertArrayEquals(text, m);
        }
        // compressed on the wire: far fewer bytes than the payloads
        assertTrue(c.stats().bytesOut() > 0);
    }

    @Test
    void notNegotiatedUnlessBothSidesEnableIt() throws Exception {
        TransportListener listener = Fixtures.listen(engine(false), "ws", c -> new Recorder(true));
        Connection c = Fixtures.dial(engine(true), listener.uri(), new Recorder());
        assertEquals(null, ((WsConnection) c).channel().pipeline().get(BoundedDeflate.Decoder.class));
    }

    @Test
    void aDeflateBombIsRefusedAsTooBigBeforeItIsInflated() throws Exception {
        WsTransportEngine server = engine(true);
        List<CloseReason> closes = new CopyOnWriteArrayList<>();
        TransportListener listener = Fixtures.listen(server, "ws", c -> new Recorder(true) {
            @Override
            public void onClosed(Connection connection, CloseReason reason) {
                closes.add(reason);
                super.onClosed(connection, reason);
            }
        });
        try (RawWsClient raw = new RawWsClient(listener.uri().getPort())) {
            String head = raw.upgrade("/mesh", "meshwork.v1", "Sec-WebSocket-Extensions: permessage-deflate\r\n");
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            assertTrue(head.toLowerCase().contains("permessage-deflate"), head);
            // 64 MiB of zeros in about 64 KiB: under the frame limit on the wire, a thousand times over it inflated
            byte[] bomb = deflate(new byte[64 << 20]);
            assertTrue(bomb.length < LIMIT, "bomb fits the wire limit: " + bomb.length);
            raw.writeFrame(0x80 | 0x40 | 0x2, bomb); // FIN, RSV1 (compressed), binary
            assertEquals(CloseReason.MESSAGE_TOO_BIG, raw.awaitCloseCode());
        }
        Await.until("server reports the close", Duration.ofSeconds(5), () -> !closes.isEmpty());
        assertEquals(CloseReason.Kind.TOO_BIG, closes.get(0).kind());
        assertEquals(1, server.counters().get(TransportCounters.Event.OVERSIZED_FRAMES));
    }

    @Test
    void garbageMarkedCompressedClosesWithInvalidPayload() throws Exception {
        TransportListener listener = Fixtures.listen(engine(true), "ws", c -> new Recorder(true));
        try (RawWsClient raw = new RawWsClient(listener.uri().getPort())) {
            raw.upgrade("/mesh", "meshwork.v1", "Sec-WebSocket-Extensions: permessage-deflate\r\n");
            raw.writeFrame(0x80 | 0x40 | 0x2, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x13, 0x37});
            int code = raw.awaitCloseCode();
            assertTrue(code == CloseReason.INVALID_PAYLOAD || code == CloseReason.PROTOCOL_ERROR, "close code " + code);
        }
    }

    @Test
    void theInflaterStopsWithinOneChunkOfTheLimit() {
        BoundedDeflate.Decoder decoder = new BoundedDeflate.Decoder(LIMIT);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        byte[] bomb = deflate(new byte[64 << 20]);
        assertThrows(TooLongFrameException.class,
                () -> channel.writeInbound(new BinaryWebSocketFrame(true, 4, Unpooled.wrappedBuffer(bomb))));
        // Netty's own decoder would have inflated all 64 MiB before anyone could look
        assertTrue(decoder.inflatedSoFar() <= LIMIT + 8192, "inflated " + decoder.inflatedSoFar());
        channel.finishAndReleaseAll();
    }
}
