package dev.meshwork.transport.ws.internal;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The one event-loop group shared by client and server: epoll on Linux when the native library
 * loads, NIO otherwise, with threads named {@code meshwork-ws-N-M}.
 */
final class EventLoops implements AutoCloseable {

    /** Prefix of every thread this transport starts; tests check none is left after close. */
    static final String THREAD_PREFIX = "meshwork-ws";

    private final EventLoopGroup group;
    private final boolean epoll;

    EventLoops(int threads, boolean preferNative) {
        this.epoll = preferNative && Epoll.isAvailable();
        // daemon threads: a forgotten transport must not keep a JVM alive
        DefaultThreadFactory factory = new DefaultThreadFactory(THREAD_PREFIX, true);
        this.group = epoll ? new EpollEventLoopGroup(threads, factory) : new NioEventLoopGroup(threads, factory);
    }

    EventLoopGroup group() {
        return group;
    }

    boolean isEpoll() {
        return epoll;
    }

    Class<? extends SocketChannel> socketChannel() {
        return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    Class<? extends ServerChannel> serverChannel() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /** Shuts the loops down and waits (bounded) until their threads ended. */
    void close(Duration timeout) {
        group.shutdownGracefully(0, timeout.toMillis(), TimeUnit.MILLISECONDS).awaitUninterruptibly(timeout.toMillis() + 1000);
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }
}
