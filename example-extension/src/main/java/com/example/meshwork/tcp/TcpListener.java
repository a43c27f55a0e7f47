package com.example.meshwork.tcp;

import dev.meshwork.api.transport.ConnectionAcceptor;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.TransportListener;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

/** Accepts tcp connections and hands each to the acceptor's handler. */
final class TcpListener implements TransportListener {

    private final ServerSocket server;
    private final URI uri;
    private final ConnectionAcceptor acceptor;
    private final ExecutorService io;
    private final Set<AutoCloseable> transportOpen;
    private final Set<TcpConnection> accepted = ConcurrentHashMap.newKeySet();

    TcpListener(ServerSocket server, URI uri, ConnectionAcceptor acceptor, ExecutorService io, Set<AutoCloseable> transportOpen) {
        this.server = server;
        this.uri = uri;
        this.acceptor = acceptor;
        this.io = io;
        this.transportOpen = transportOpen;
    }

    void acceptLoop() {
        while (!server.isClosed()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            try {
                TcpConnection connection = new TcpConnection(socket, uri, true, io, accepted::remove);
                accepted.add(connection);
                ConnectionHandler handler = acceptor.accept(connection);
                if (handler == null) {
                    connection.close(1008, "refused");
                } else {
                    connection.start(handler);
                }
            } catch (IOException | RuntimeException e) {
                TcpTransport.closeQuietly(socket);
            }
        }
    }

    @Override
    public URI uri() {
        return uri;
    }

    @Override
    public CompletableFuture<Void> closeAsync() {
        close();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        transportOpen.remove(this);
        TcpTransport.closeQuietly(server);
        for (TcpConnection connection : accepted) {
            connection.close(1001, "listener closed");
        }
    }
}
