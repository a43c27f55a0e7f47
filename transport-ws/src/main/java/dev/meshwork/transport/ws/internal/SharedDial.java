package dev.meshwork.transport.ws.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import io.netty.channel.Channel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One in-flight dial attempt shared by every concurrent dial of the same URL and options.
 *
 * <p>Each caller gets its own future; cancelling it withdraws that caller's handler, and the
 * attempt itself is aborted when the last caller withdraws.
 */
final class SharedDial {

    final CompletableFuture<WsConnection> attempt = new CompletableFuture<>();
    final List<ConnectionHandler> handlers = new CopyOnWriteArrayList<>();
    private int participants;
    private volatile Channel channel;

    void channel(Channel value) {
        channel = value;
        if (attempt.isDone() && attempt.isCompletedExceptionally()) {
            value.close();
        }
    }

    /** Adds a caller; null when the attempt is already settled and a new one must start. */
    synchronized CompletableFuture<Connection> join(ConnectionHandler handler) {
        if (attempt.isDone()) {
            return null;
        }
        participants++;
        handlers.add(handler);
        CompletableFuture<Connection> mine = new CompletableFuture<>();
        attempt.whenComplete((connection, failure) -> {
            if (failure != null) {
                mine.completeExceptionally(failure);
            } else if (!mine.complete(connection)) {
                leave(handler);
            }
        });
        mine.whenComplete((c, e) -> {
            if (mine.isCancelled()) {
                leave(handler);
            }
        });
        return mine;
    }

    private void leave(ConnectionHandler handler) {
        boolean last;
        synchronized (this) {
            if (!handlers.remove(handler)) {
                return;
            }
            last = --participants == 0;
        }
        if (!last) {
            return;
        }
        if (attempt.completeExceptionally(new RetryableException(FailureCode.CANCELLED, "dial cancelled"))) {
            Channel c = channel;
            if (c != null) {
                c.close();
            }
        } else {
            WsConnection connection = attempt.getNow(null);
            if (connection != null) {
                connection.close(1000, "dial cancelled");
            }
        }
    }
}
