package dev.meshwork.supervisor.internal.probe;

import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.api.lifecycle.ProbeContext;
import dev.meshwork.api.lifecycle.ProbeResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletionStage;
import org.osgi.service.component.annotations.Component;

/**
 * Probe type {@code ws}: passes when a WebSocket handshake with {@code url} (or
 * {@code ws://host:port/path}) completes; the connection is then closed at once. Uses the JDK's
 * {@link WebSocket}, so no WebSocket library is needed for a probe.
 */
@Component(service = Probe.class, property = Probe.TYPE + "=ws")
public final class WsProbe implements Probe {

    private static final class Client {
        static final HttpClient INSTANCE = HttpClient.newHttpClient();
    }

    @Override
    public CompletionStage<ProbeResult> probe(ProbeContext context) {
        URI uri = HttpProbe.uri(context, "ws");
        return Client.INSTANCE.newWebSocketBuilder().connectTimeout(context.timeout())
                .buildAsync(uri, new WebSocket.Listener() { })
                .handle((ws, t) -> {
                    if (t != null) {
                        return ProbeResult.failed("WebSocket " + uri + ": " + t);
                    }
                    ws.abort();
                    return ProbeResult.ok("WebSocket " + uri + " connected");
                });
    }
}
