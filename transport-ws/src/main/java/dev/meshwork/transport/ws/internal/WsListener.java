package dev.meshwork.transport.ws.internal;

import dev.meshwork.api.transport.TransportListener;
import io.netty.channel.Channel;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A bound server socket and every channel it accepted, upgraded or not. */
final class WsListener implements TransportListener {

    private final URI uri;
    private final Channel serverChannel;
    private final Set<Channel> children = ConcurrentHashMap.newKeySet();
    private final Set<WsConnection> connections = ConcurrentHashMap.newKeySet();
    private final Consumer<WsListener> onClose;

    WsListener(URI uri, Channel serverChannel, Consumer<WsListener> onClose) {
        this.uri = uri;
        this.serverChannel = serverChannel;
        this.onClose = onClose;
    }

    void addChild(Channel channel) {
        children.add(channel);
        channel.closeFuture().addListener(f -> children.remove(channel));
    }

    void addConnection(WsConnection connection) {
        connections.add(connection);
        connection.closeFuture().whenComplete((r, e) -> connections.remove(connection));
    }

    int openChannels() {
        return children.size();
    }

    @Override
    public URI uri() {
        return uri;
    }

    @Override
    public CompletableFuture<Void> closeAsync() {
        if (serverChannel.eventLoop().isShuttingDown()) {
            // The transport stopped first (bundle stop order) and closed every channel with its
            // event loops; touching the channel now would only make Netty log a rejected task.
            onClose.accept(this);
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> closed = new CompletableFuture<>();
        serverChannel.close().addListener(f -> closed.complete(null));
        List<CompletableFuture<?>> all = new ArrayList<>();
        all.add(closed);
        for (WsConnection connection : connections) {
            all.add(connection.shutdown());
        }
        for (Channel child : children) {
            all.add(toFuture(child));
        }
        onClose.accept(this);
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    private CompletableFuture<Void> toFuture(Channel child) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        child.closeFuture().addListener(x -> f.complete(null));
        // upgraded children close through their connection; the rest (mid-upgrade) are dropped after a grace period
        child.eventLoop().schedule(() -> {
            child.close();
        }, WsConnection.CLOSE_HANDSHAKE_MILLIS + 200, TimeUnit.MILLISECONDS);
        return f;
    }

    @Override
    public void close() {
        try {
            closeAsync().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            serverChannel.close();
            children.forEach(Channel::close);
        }
    }
}
