package dev.meshwork.bench.failover;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback that can be frozen: while frozen it forwards nothing in either
 * direction and closes nothing (no FIN, no RST), as a dead NAT or a pulled cable does. Plain JDK
 * sockets, a pump thread per direction. (netcrusher, planned for this, is not on this machine's
 * Maven mirror.)
 */
public final class BlackholeProxy implements AutoCloseable {

    private final ServerSocket server;
    private final int upstreamPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    private volatile boolean frozen;

    public BlackholeProxy(int listenPort, int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        server = new ServerSocket();
        server.bind(new InetSocketAddress("127.0.0.1", listenPort));
        Thread t = new Thread(this::acceptLoop, "proxy-" + listenPort);
        t.setDaemon(true);
        t.start();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                awaitThaw();
                Socket up = new Socket("127.0.0.1", upstreamPort);
                client.setTcpNoDelay(true);
                up.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(up);
                pump(client, up);
                pump(up, client);
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    awaitThaw();
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed
            }
            closeQuietly(from);
            closeQuietly(to);
        });
        t.setDaemon(true);
        t.start();
    }

    private void awaitThaw() {
        synchronized (lock) {
            while (frozen) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Stops forwarding silently, both ways. */
    public void freeze() {
        frozen = true;
    }

    public void unfreeze() {
        synchronized (lock) {
            frozen = false;
            lock.notifyAll();
        }
    }

    /** Closes every proxied connection (both sides see the close). */
    public void closeAllPairs() {
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        sockets.clear();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        closeAllPairs();
    }
}
