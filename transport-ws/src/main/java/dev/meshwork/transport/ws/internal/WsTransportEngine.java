package dev.meshwork.transport.ws.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionAcceptor;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.transport.Transport;
import dev.meshwork.api.transport.TransportListener;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WebSocket {@link Transport} as a plain object: listeners, dials and the shared event loops.
 *
 * <p>The DS component {@link WebSocketTransport} only builds one from configuration; tests build
 * it directly. Each pipeline is Netty's HTTP and WebSocket handlers plus small Meshwork handlers:
 *
 * <pre>
 * server: [tls] http-codec http-aggregator upgrade-deadline http-status [deflate] ws
 *         ws-aggregator frame-decoder frame-encoder events      (+ liveness after the ws decoder)
 * client: [tls] http-codec http-aggregator [deflate] ws ws-aggregator frame-decoder frame-encoder events
 * </pre>
 */
public final class WsTransportEngine implements Transport, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WsTransportEngine.class);

    private final WsSettings settings;
    private final TransportContext context;
    private final EventLoops loops;
    private final Optional<SslContext> serverTls;
    private final SslContext clientTls;
    private final Supplier<Optional<String>> nodeId;
    private final InstantSource wallClock;
    private final Instant started;
    private final Set<WsListener> listeners = ConcurrentHashMap.newKeySet();
    private final Set<WsConnection> outbound = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<DialKey, SharedDial> inFlight = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private record DialKey(URI uri, DialOptions options) {
    }

    /**
     * @param nodeId    this node's id for the status document, when known
     * @param nanoTime  the monotonic clock (liveness, RTT, log rate limits)
     * @param wallClock the wall clock (uptime in the status document)
     */
    public WsTransportEngine(WsSettings settings, Supplier<Optional<String>> nodeId, LongSupplier nanoTime, InstantSource wallClock) {
        this.settings = settings;
        this.context = new TransportContext(settings, new TransportCounters(),
                new RateLimitedLog(LOG, nanoTime, TimeUnit.SECONDS.toNanos(10)), nanoTime,
                new LivenessWheels(nanoTime, settings.pingInterval().toNanos(), settings.staleThreshold().toNanos()));
        this.serverTls = TlsContexts.server(settings.tls());
        this.clientTls = TlsContexts.client(settings.tls());
        this.nodeId = nodeId;
        this.wallClock = wallClock;
        this.started = wallClock.instant();
        int threads = settings.eventLoopThreads() > 0 ? settings.eventLoopThreads() : Runtime.getRuntime().availableProcessors();
        this.loops = new EventLoops(threads, settings.nativeTransport());
        LOG.info("WebSocket transport started: {} event loop(s), {}", threads, loops.isEpoll() ? "epoll" : "NIO");
    }

    public TransportCounters counters() {
        return context.counters();
    }

    public boolean usesEpoll() {
        return loops.isEpoll();
    }

    /** Dialed connections currently open. */
    public int outboundConnections() {
        return outbound.size();
    }

    // ------------------------------------------------------------------ listen

    @Override
    public CompletableFuture<TransportListener> listen(URI uri, ConnectionAcceptor acceptor) {
        if (closed) {
            return CompletableFuture.failedFuture(new RetryableException(FailureCode.SHUT_DOWN, "transport is stopped"));
        }
        Optional<SslContext> tls;
        InetSocketAddress address;
        String path;
        try {
            tls = schemeTls(uri, true);
            address = new InetSocketAddress(host(uri), uri.getPort() < 0 ? 0 : uri.getPort());
            path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        } catch (PermanentException e) {
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.MALFORMED_URL, "bad listen URL " + uri + ": " + e.getMessage(), e));
        }
        CompletableFuture<TransportListener> result = new CompletableFuture<>();
        WsListener[] holder = new WsListener[1];
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(loops.group())
                .channel(loops.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(settings.lowWaterMark(), settings.highWaterMark()))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        WsListener listener = holder[0];
                        if (listener == null) {
                            ch.close();
                            return;
                        }
                        listener.addChild(ch);
                        serverPipeline(ch, tls, path, listener, acceptor);
                    }
                });
        bootstrap.bind(address).addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                Throwable cause = f.cause();
                String text = cause instanceof BindException ? "address in use or not available: " : "cannot listen: ";
                result.completeExceptionally(new PermanentException(FailureCode.ILLEGAL_STATE, text + uri + " (" + cause.getMessage() + ")", cause));
                return;
            }
            InetSocketAddress bound = (InetSocketAddress) f.channel().localAddress();
            URI actual;
            try {
                actual = new URI(uri.getScheme(), null, uri.getHost(), bound.getPort(), path, null, null);
            } catch (URISyntaxException e) {
                actual = uri;
            }
            WsListener listener = new WsListener(actual, f.channel(), listeners::remove);
            holder[0] = listener;
            listeners.add(listener);
            if (closed) {
                listener.closeAsync();
                result.completeExceptionally(new RetryableException(FailureCode.SHUT_DOWN, "transport is stopped"));
                return;
            }
            LOG.info("listening on {}", actual);
            result.complete(listener);
        });
        return result;
    }

    private void serverPipeline(Channel ch, Optional<SslContext> tls, String path, WsListener listener, ConnectionAcceptor acceptor) {
        ChannelPipeline p = ch.pipeline();
        p.addLast("flush", new FlushConsolidationHandler(256, true));
        tls.ifPresent(ssl -> p.addLast("tls", ssl.newHandler(ch.alloc())));
        p.addLast("http-codec", new HttpServerCodec(4096, 8192, 8192));
        p.addLast("http-aggregator", new HttpObjectAggregator(8192));
        p.addLast("upgrade-deadline", new UpgradeDeadlineHandler(settings.handshakeTimeout().toMillis(), context));
        p.addLast("http-status", new HttpStatusHandler(this::statusJson, context, path));
        if (settings.permessageDeflate()) {
            p.addLast("deflate", BoundedDeflate.serverHandler(settings.maxFrameBytes()));
        }
        WebSocketServerProtocolConfig config = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(path)
                .subprotocols(settings.subprotocol().isEmpty() ? null : settings.subprotocol())
                // exact path (query allowed) is enforced by HttpStatusHandler; Netty compares the raw URI
                .checkStartsWith(true)
                .handshakeTimeoutMillis(settings.handshakeTimeout().toMillis())
                .handleCloseFrames(false)
                .dropPongFrames(false)
                .forceCloseTimeoutMillis(WsConnection.CLOSE_HANDSHAKE_MILLIS)
                .decoderConfig(decoderConfig())
                .build();
        p.addLast("ws", new WebSocketServerProtocolHandler(config));
        addFramePipeline(p, new WsChannelHandler(context) {
            @Override
            protected WsConnection upgraded(ChannelHandlerContext ctx) {
                WsConnection c = new WsConnection(listener.uri(), true, ctx.channel(), context, new java.util.concurrent.CopyOnWriteArrayList<>());
                context.counters().increment(TransportCounters.Event.CONNECTIONS_ACCEPTED);
                listener.addConnection(c);
                ConnectionHandler handler;
                try {
                    handler = acceptor.accept(c);
                } catch (RuntimeException e) {
                    context.counters().increment(TransportCounters.Event.ACCEPTOR_REFUSALS);
                    context.log().warn("acceptor.failed", "acceptor failed for {}: {}", c, e.toString());
                    handler = null;
                }
                if (handler == null) {
                    context.counters().increment(TransportCounters.Event.ACCEPTOR_REFUSALS);
                    c.closeWithFrame(new CloseReason(CloseReason.Kind.LOCAL_SHUTDOWN, CloseReason.POLICY_VIOLATION,
                            "not accepted", false, Optional.empty()), false);
                } else {
                    c.addHandler(handler);
                }
                return c;
            }

            @Override
            protected void failedBeforeUpgrade(ChannelHandlerContext ctx, Throwable cause) {
                // a server-side channel that never upgraded has nobody to tell; the counters already know
            }
        });
    }

    private WebSocketDecoderConfig decoderConfig() {
        return WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(settings.maxFrameBytes())
                .allowExtensions(settings.permessageDeflate())
                .closeOnProtocolViolation(true)
                .withUTF8Validator(true)
                .build();
    }

    private void addFramePipeline(ChannelPipeline p, WsChannelHandler events) {
        p.addLast("ws-aggregator", new WebSocketFrameAggregator(settings.maxFrameBytes()));
        p.addLast("frame-decoder", new FrameDecoder());
        p.addLast("events", events);
    }

    String statusJson() {
        long uptime = Duration.between(started, wallClock.instant()).getSeconds();
        return "{\"nodeId\":" + nodeId.get().map(HttpStatusHandler::quote).orElse("null")
                + ",\"version\":" + HttpStatusHandler.quote(settings.version())
                + ",\"uptimeSeconds\":" + uptime + "}";
    }

    // ------------------------------------------------------------------ dial

    @Override
    public CompletableFuture<Connection> dial(URI uri, DialOptions options, ConnectionHandler handler) {
        if (closed) {
            return CompletableFuture.failedFuture(new RetryableException(FailureCode.SHUT_DOWN, "transport is stopped"));
        }
        try {
            schemeTls(uri, false);
            host(uri);
        } catch (PermanentException e) {
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.MALFORMED_URL, "bad URL " + uri + ": " + e.getMessage(), e));
        }
        DialKey key = new DialKey(uri, options);
        while (true) {
            SharedDial fresh = new SharedDial();
            SharedDial shared = inFlight.putIfAbsent(key, fresh);
            if (shared == null) {
                // join before the attempt starts: an attempt that fails at once (a reset during the
                // upgrade) must fail this caller, not send it round the loop into a second attempt
                CompletableFuture<Connection> mine = fresh.join(handler);
                startDial(key, fresh);
                return mine;
            }
            CompletableFuture<Connection> mine = shared.join(handler);
            if (mine != null) {
                return mine;
            }
            // settled before we could join: it belongs to its callers; start our own
            inFlight.remove(key, shared);
        }
    }

    private void startDial(DialKey key, SharedDial shared) {
        shared.attempt.whenComplete((c, e) -> inFlight.remove(key, shared));
        if (shared.attempt.isDone()) {
            return; // its only caller cancelled before it started
        }
        URI uri = key.uri();
        DialOptions options = key.options();
        boolean secure = uri.getScheme().equalsIgnoreCase("wss");
        String host = host(uri);
        int port = uri.getPort() > 0 ? uri.getPort() : secure ? 443 : 80;
        Bootstrap bootstrap = new Bootstrap()
                .group(loops.group())
                .channel(loops.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, options.connectTimeout().toMillis()))
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(settings.lowWaterMark(), settings.highWaterMark()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        clientPipeline(ch, uri, secure, host, port, options, shared);
                    }
                });
        ChannelFuture connect;
        try {
            connect = bootstrap.connect(host, port);
        } catch (RuntimeException e) {
            shared.attempt.completeExceptionally(DialErrors.classify(e, uri.toString()));
            return;
        }
        shared.channel(connect.channel());
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                dialFailed(shared, f.cause(), uri);
                return;
            }
            // the upgrade (and TLS) deadline starts once TCP is up
            f.channel().eventLoop().schedule(() -> {
                if (!shared.attempt.isDone()) {
                    dialFailed(shared, new RetryableException(FailureCode.TIMEOUT,
                            "upgrade did not finish within " + options.handshakeTimeout().toMillis() + " ms (" + uri + ")"), uri);
                    f.channel().close();
                }
            }, options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        });
    }

    private void dialFailed(SharedDial shared, Throwable cause, URI uri) {
        if (shared.attempt.isDone()) {
            return;
        }
        var error = DialErrors.classify(cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
                ? cause.getCause() : cause, uri.toString());
        if (shared.attempt.completeExceptionally(error)) {
            context.counters().increment(TransportCounters.Event.DIAL_FAILURES);
            context.log().warn("dial." + error.code(), "dial {} failed: {}", uri, error.getMessage());
        }
    }

    private void clientPipeline(Channel ch, URI uri, boolean secure, String host, int port, DialOptions options, SharedDial shared) {
        ChannelPipeline p = ch.pipeline();
        p.addLast("flush", new FlushConsolidationHandler(256, true));
        if (secure) {
            String serverName = options.expectedServerName().orElse(host);
            SslHandler ssl = clientTls.newHandler(ch.alloc(), serverName, port);
            if (!settings.tls().insecureSkipVerify()) {
                SSLEngine engine = ssl.engine();
                SSLParameters params = engine.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                engine.setSSLParameters(params);
            }
            ssl.setHandshakeTimeoutMillis(options.handshakeTimeout().toMillis());
            p.addLast("tls", ssl);
        }
        p.addLast("http-codec", new HttpClientCodec(4096, 8192, 8192));
        p.addLast("http-aggregator", new HttpObjectAggregator(8192));
        if (settings.permessageDeflate()) {
            p.addLast("deflate", BoundedDeflate.clientHandler(settings.maxFrameBytes()));
        }
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(uri)
                .subprotocol(settings.subprotocol().isEmpty() ? null : settings.subprotocol())
                .version(WebSocketVersion.V13)
                .allowExtensions(settings.permessageDeflate())
                .customHeaders(new DefaultHttpHeaders())
                .maxFramePayloadLength(settings.maxFrameBytes())
                .handleCloseFrames(false)
                .dropPongFrames(false)
                // our own deadline (startDial) covers TLS and upgrade and fires first
                .handshakeTimeoutMillis(options.handshakeTimeout().toMillis() + 10_000)
                .forceCloseTimeoutMillis(WsConnection.CLOSE_HANDSHAKE_MILLIS)
                .build();
        p.addLast("ws", new WebSocketClientProtocolHandler(config));
        addFramePipeline(p, new WsChannelHandler(context) {
            @Override
            protected WsConnection upgraded(ChannelHandlerContext ctx) {
                WsConnection c = new WsConnection(uri, false, ctx.channel(), context, shared.handlers);
                if (closed || !shared.attempt.complete(c)) {
                    c.abort(new CloseReason(CloseReason.Kind.LOCAL_SHUTDOWN, CloseReason.GOING_AWAY, "dial abandoned", false, Optional.empty()));
                    return c;
                }
                context.counters().increment(TransportCounters.Event.CONNECTIONS_DIALED);
                outbound.add(c);
                c.closeFuture().whenComplete((r, e) -> outbound.remove(c));
                return c;
            }

            @Override
            protected void failedBeforeUpgrade(ChannelHandlerContext ctx, Throwable cause) {
                dialFailed(shared, cause, uri);
            }
        });
    }

    // ------------------------------------------------------------------ helpers

    private Optional<SslContext> schemeTls(URI uri, boolean server) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("ws")) {
            return Optional.empty();
        }
        if (scheme.equals("wss")) {
            if (server && serverTls.isEmpty()) {
                throw new PermanentException(FailureCode.MALFORMED_URL, "a wss listener needs tlsCertificate: " + uri);
            }
            return serverTls;
        }
        throw new PermanentException(FailureCode.UNSUPPORTED_SCHEME, "not a ws or wss URL: " + uri);
    }

    private static String host(URI uri) {
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new PermanentException(FailureCode.MALFORMED_URL, "URL has no host: " + uri);
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return host;
    }

    /** Closes every listener and connection, then stops the event loops; no thread is left. */
    @Override
    public void close() {
        closed = true;
        List<CompletableFuture<?>> all = new ArrayList<>();
        for (WsConnection connection : List.copyOf(outbound)) {
            all.add(connection.shutdown());
        }
        for (WsListener listener : List.copyOf(listeners)) {
            all.add(listener.closeAsync());
        }
        for (SharedDial dial : List.copyOf(inFlight.values())) {
            dial.attempt.completeExceptionally(new RetryableException(FailureCode.SHUT_DOWN, "transport is stopping"));
        }
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(3, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("not every connection closed in time; stopping the event loops anyway");
        }
        loops.close(Duration.ofSeconds(3));
        LOG.info("WebSocket transport stopped: {}", context.counters().summary());
    }
}
