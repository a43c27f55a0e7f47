package dev.meshwork.transport.ws.internal;

import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.transport.TransportListener;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Shared set-up of the transport tests. */
final class Fixtures {

    private Fixtures() {
    }

    static WsSettings settings() {
        return new WsSettings(2, true, 1 << 20, Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(3),
                Duration.ofSeconds(5), 64 * 1024, 256 * 1024, false, "meshwork.v1", WsSettings.TlsSettings.NONE, "test");
    }

    static WsTransportEngine engine(WsSettings settings) {
        return new WsTransportEngine(settings, () -> Optional.of("node-a"), System::nanoTime, InstantSource.system());
    }

    static TransportListener listen(WsTransportEngine engine, String scheme, ConnectionHandlerFactory factory) throws Exception {
        return engine.listen(URI.create(scheme + "://127.0.0.1:0/mesh"), c -> factory.create(c)).get(5, TimeUnit.SECONDS);
    }

    static Connection dial(WsTransportEngine engine, URI uri, ConnectionHandler handler) throws Exception {
        return engine.dial(uri, DialOptions.DEFAULT, handler).get(10, TimeUnit.SECONDS);
    }

    /**
     * An opaque message (the transport never looks inside): {@code tag} in UTF-8, a zero byte, then
     * {@code payloadBytes} bytes of filler. {@link #tag} reads the tag back.
     */
    static byte[] message(String tag, int payloadBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(tag.getBytes(StandardCharsets.UTF_8));
        out.write(0);
        byte[] filler = new byte[payloadBytes];
        Arrays.fill(filler, (byte) 0x5a);
        out.writeBytes(filler);
        return out.toByteArray();
    }

    /** The tag of a {@link #message}: the bytes before the first zero byte (all of them if none). */
    static String tag(byte[] message) {
        int end = 0;
        while (end < message.length && message[end] != 0) {
            end++;
        }
        return new String(message, 0, end, StandardCharsets.UTF_8);
    }

    /** A message of exactly {@code bytes} bytes. */
    static byte[] messageOfSize(int bytes) {
        return message("t", bytes - 2);
    }

    interface ConnectionHandlerFactory {
        ConnectionHandler create(Connection connection);
    }
}
