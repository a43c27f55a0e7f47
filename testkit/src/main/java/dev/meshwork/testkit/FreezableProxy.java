package dev.meshwork.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP proxy that can be frozen: while frozen, no byte moves in either direction and
 * nothing is closed (no FIN, no RST), as when a NAT drops its mapping or a cable is pulled. Only
 * the mesh's own liveness checks can tell, which is what the failover tests and benchmarks need.
 *
 * <p>Plain JDK sockets and a thread per direction: simple enough to trust in a test, and
 * netcrusher, the library meant for this, is not on this machine's Maven mirror.
 */
public final class FreezableProxy implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private boolean frozen;

    /** A proxy on an ephemeral loopback port in front of {@code targetPort}. */
    public FreezableProxy(int targetPort) throws IOException {
        this(0, targetPort);
    }

    /** A proxy on loopback {@code listenPort} (0: any free one) in front of {@code targetPort}. */
    public FreezableProxy(int listenPort, int targetPort) throws IOException {
        this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), listenPort), 50);
        daemon(this::acceptLoop, "proxy-" + server.getLocalPort()).start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public int targetPort() {
        return target.getPort();
    }

    /** Stops forwarding silently, both ways; new connections are accepted and then hear nothing. */
    public void freeze() {
        synchronized (gate) {
            frozen = true;
        }
    }

    /** Forwards again, including what was held while frozen. */
    public void thaw() {
        synchronized (gate) {
            frozen = false;
            gate.notifyAll();
        }
    }

    public boolean isFrozen() {
        synchronized (gate) {
            return frozen;
        }
    }

    /** Closes every proxied connection: both sides see the close. */
    public void closeAllPairs() {
        sockets.forEach(FreezableProxy::closeQuietly);
        sockets.clear();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                daemon(() -> connect(client), "proxy-connect-" + client.getPort()).start();
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    private void connect(Socket client) {
        Socket upstream = new Socket();
        try {
            // a frozen proxy lets nothing through, not even a connection attempt
            awaitThaw(client);
            upstream.connect(target, 2000);
        } catch (IOException | InterruptedException e) {
            closeQuietly(client); // the node behind is down: refuse, as the node itself would
            return;
        }
        try {
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
        } catch (IOException ignored) {
            // a socket that just closed: the pumps notice
        }
        sockets.add(upstream);
        daemon(() -> pipe(client, upstream), "proxy-up-" + client.getPort()).start();
        daemon(() -> pipe(upstream, client), "proxy-down-" + client.getPort()).start();
    }

    private void awaitThaw(Socket socket) throws InterruptedException {
        synchronized (gate) {
            while (frozen && !socket.isClosed()) {
                gate.wait();
            }
        }
    }

    private void pipe(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                awaitThaw(from); // hold the bytes: the link is silently dead
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // one side went away
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            sockets.remove(from);
            sockets.remove(to);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closeQuietly(server);
        thaw();
        closeAllPairs();
    }

    private static void closeQuietly(ServerSocket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    private static Thread daemon(Runnable body, String name) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }
}
