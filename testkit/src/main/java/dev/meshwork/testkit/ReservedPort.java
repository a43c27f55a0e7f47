package dev.meshwork.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * A loopback port this JVM keeps listening on until the moment its real owner is about to bind
 * it: for ports a test must know before the code under test binds them, by construction (two
 * nodes that name each other's port in their configuration before either starts, a gateway
 * process that is told its port). Everywhere else, bind port 0 where the code under test binds
 * and read the bound port back.
 *
 * <p>A port picked with {@code new ServerSocket(0)} and closed at once is free for anyone (another
 * build, or this test's next port-0 bind) until its owner binds it. Held open, the kernel hands
 * it to no one; {@link #release()} narrows the race to the owner's own start-up.
 */
public final class ReservedPort implements AutoCloseable {

    private final ServerSocket socket;
    private final int port;

    public ReservedPort() {
        try {
            this.socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("no loopback port to reserve", e);
        }
        this.port = socket.getLocalPort();
    }

    public int port() {
        return port;
    }

    /** Hands the port over: call immediately before the owner binds it. Idempotent. */
    public int release() {
        try {
            socket.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release port " + port, e);
        }
        return port;
    }

    public boolean held() {
        return !socket.isClosed();
    }

    @Override
    public void close() {
        release();
    }
}
