package com.example.meshwork.tcp;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionAcceptor;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.transport.Transport;
import dev.meshwork.api.transport.TransportListener;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * A {@link Transport} for {@code tcp://host:port} URLs: each message is a 4-byte big-endian length
 * followed by the message's bytes, which this transport never looks into (no protobuf, no frame
 * parsing: the node core decodes and secures them). Written against the api alone, as a third
 * party would.
 *
 * <p>Blocking sockets with a reader thread per connection keep it short; a real transport would
 * use non-blocking I/O. The router does its own liveness (Ping/Pong), so this transport measures
 * no RTT.
 */
@Component(service = Transport.class, property = Transport.SCHEMES + "=tcp")
public final class TcpTransport implements Transport {

    private final AtomicInteger threads = new AtomicInteger();
    private final ExecutorService io = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "example-tcp-" + threads.incrementAndGet());
        t.setDaemon(true);
        return t;
    });
    private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();

    @Override
    public CompletableFuture<Connection> dial(URI uri, DialOptions options, ConnectionHandler handler) {
        InetSocketAddress address;
        try {
            address = address(uri);
        } catch (PermanentException e) {
            return CompletableFuture.failedFuture(e);
        }
        return CompletableFuture.supplyAsync(() -> {
            Socket socket = new Socket();
            try {
                socket.connect(address, (int) options.connectTimeout().toMillis());
                TcpConnection connection = new TcpConnection(socket, uri, false, io, open::remove);
                open.add(connection);
                connection.start(handler);
                return connection;
            } catch (IOException e) {
                closeQuietly(socket);
                throw classify(uri, e);
            }
        }, io);
    }

    @Override
    public CompletableFuture<TransportListener> listen(URI uri, ConnectionAcceptor acceptor) {
        try {
            ServerSocket server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(address(uri));
            URI bound = URI.create("tcp://" + uri.getHost() + ":" + server.getLocalPort());
            TcpListener listener = new TcpListener(server, bound, acceptor, io, open);
            open.add(listener);
            io.execute(listener::acceptLoop);
            return CompletableFuture.completedFuture(listener);
        } catch (PermanentException e) {
            return CompletableFuture.failedFuture(e);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.MALFORMED_URL,
                    "cannot listen on " + uri + ": " + e.getMessage(), e));
        }
    }

    @Deactivate
    void deactivate() {
        for (AutoCloseable closeable : open) {
            closeQuietly(closeable);
        }
        io.shutdownNow();
    }

    private static InetSocketAddress address(URI uri) {
        if (!"tcp".equals(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 0) {
            throw new PermanentException(FailureCode.MALFORMED_URL, "not a tcp://host:port URL: " + uri);
        }
        return new InetSocketAddress(uri.getHost(), uri.getPort());
    }

    private static RuntimeException classify(URI uri, IOException e) {
        String text = "dial " + uri + ": " + e.getMessage();
        if (e instanceof ConnectException) {
            return new RetryableException(FailureCode.CONNECTION_REFUSED, text, e);
        }
        if (e instanceof SocketTimeoutException) {
            return new RetryableException(FailureCode.TIMEOUT, text, e);
        }
        if (e instanceof NoRouteToHostException || e instanceof UnknownHostException) {
            return new RetryableException(FailureCode.UNREACHABLE, text, e);
        }
        return new RetryableException(FailureCode.CONNECTION_RESET, text, e);
    }

    static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // closing on the way out: nothing left to do
        }
    }
}
