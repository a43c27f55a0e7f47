package dev.meshwork.transport.ws.internal;

import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/** A handler that records every event, optionally echoing messages, and notes callbacks after onClosed. */
class Recorder implements ConnectionHandler {

    final List<byte[]> messages = new CopyOnWriteArrayList<>();
    final List<Boolean> writability = new CopyOnWriteArrayList<>();
    final List<Duration> rtts = new CopyOnWriteArrayList<>();
    final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
    final AtomicBoolean eventAfterClose = new AtomicBoolean();
    final boolean echo;

    Recorder(boolean echo) {
        this.echo = echo;
    }

    Recorder() {
        this(false);
    }

    @Override
    public void onMessage(Connection connection, byte[] message) {
        checkOpen();
        messages.add(message);
        if (echo) {
            connection.send(message);
        }
    }

    @Override
    public void onWritabilityChanged(Connection connection, boolean writable) {
        checkOpen();
        writability.add(writable);
    }

    @Override
    public void onRtt(Connection connection, Duration sample) {
        checkOpen();
        rtts.add(sample);
    }

    @Override
    public void onClosed(Connection connection, CloseReason reason) {
        checkOpen();
        closed.complete(reason);
    }

    private void checkOpen() {
        if (closed.isDone()) {
            eventAfterClose.set(true);
        }
    }
}
