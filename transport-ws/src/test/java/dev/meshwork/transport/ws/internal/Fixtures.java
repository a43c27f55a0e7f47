package dev.meshwork.transport.ws.internal;

import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.transport.TransportListener;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.api.wire.Frame;
import com.google.protobuf.ByteString;
import java.net.URI;
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

    static Frame envelope(String topic, int payloadBytes) {
        return Frame.newBuilder().setEnvelope(Envelope.newBuilder().setMessageId("m").setTopic(topic)
                .setPayload(ByteString.copyFrom(new byte[payloadBytes]))).build();
    }

    /** A frame whose serialised size is exactly {@code bytes}. */
    static Frame frameOfSize(int bytes) {
        for (int payload = Math.max(0, bytes - 32); payload <= bytes; payload++) {
            Frame f = envelope("t", payload);
            if (f.getSerializedSize() == bytes) {
                return f;
            }
        }
        throw new IllegalArgumentException("no frame of exactly " + bytes + " bytes");
    }

    interface ConnectionHandlerFactory {
        ConnectionHandler create(Connection connection);
    }
}
