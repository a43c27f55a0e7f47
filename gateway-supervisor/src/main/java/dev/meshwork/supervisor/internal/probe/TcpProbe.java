package dev.meshwork.supervisor.internal.probe;

import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.api.lifecycle.ProbeContext;
import dev.meshwork.api.lifecycle.ProbeResult;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.osgi.service.component.annotations.Component;

/**
 * Probe type {@code tcp}: passes when a TCP connection to {@code host}:{@code port} (default
 * 127.0.0.1 and the gateway's port) is accepted. Non-blocking (NIO.2 connect).
 */
@Component(service = Probe.class, property = Probe.TYPE + "=tcp")
public final class TcpProbe implements Probe {

    @Override
    public CompletionStage<ProbeResult> probe(ProbeContext context) {
        String host = Params.string(context, "host", "127.0.0.1");
        int port = Params.port(context);
        CompletableFuture<ProbeResult> out = new CompletableFuture<>();
        AsynchronousSocketChannel ch;
        try {
            ch = AsynchronousSocketChannel.open();
        } catch (IOException e) {
            return CompletableFuture.completedFuture(ProbeResult.failed("cannot open a socket: " + e.getMessage()));
        }
        ch.connect(new InetSocketAddress(host, port), null, new CompletionHandler<Void, Void>() {
            @Override
            public void completed(Void v, Void a) {
                close(ch);
                out.complete(ProbeResult.ok("tcp " + host + ":" + port + " accepts connections"));
            }

            @Override
            public void failed(Throwable t, Void a) {
                close(ch);
                out.complete(ProbeResult.failed("tcp " + host + ":" + port + ": " + t));
            }
        });
        // If the supervisor gives up first, the socket must not leak.
        out.whenComplete((r, t) -> close(ch));
        return out;
    }

    private static void close(AsynchronousSocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // closing a probe socket cannot fail in a way that matters
        }
    }
}
