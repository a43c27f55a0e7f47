package dev.meshwork.transport.ws.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the WebSocket transport (PID {@code dev.meshwork.transport.ws}). */
@ObjectClassDefinition(id = WebSocketTransport.PID, name = "Meshwork WebSocket transport",
        description = "Netty WebSocket client and server for ws:// and wss:// peer URLs.")
public @interface TransportConfig {

    @AttributeDefinition(description = "Event-loop threads shared by client and server; 0 = number of CPU cores.")
    int eventLoopThreads() default 0;

    @AttributeDefinition(description = "Use the native epoll transport when available (Linux); NIO otherwise.")
    boolean nativeTransport() default true;

    @AttributeDefinition(description = "Maximum size of one WebSocket message in bytes, reassembled fragments included.")
    int maxFrameBytes() default 1 << 20;

    @AttributeDefinition(description = "Interval between WebSocket pings on every connection, in milliseconds.")
    long pingIntervalMillis() default 5_000;

    @AttributeDefinition(description = "A connection from which nothing arrived for this long is closed as stale, in milliseconds.")
    long staleThresholdMillis() default 15_000;

    @AttributeDefinition(description = "Default bound on the TCP (and TLS) connect of a dial, in milliseconds.")
    long connectTimeoutMillis() default 3_000;

    @AttributeDefinition(description = "Bound on the HTTP upgrade: a dial's default and the time a server gives a new TCP connection to upgrade, in milliseconds.")
    long handshakeTimeoutMillis() default 5_000;

    @AttributeDefinition(description = "Write buffer low water mark in bytes: a connection turns writable again below it.")
    int writeBufferLowWaterMark() default 64 * 1024;

    @AttributeDefinition(description = "Write buffer high water mark in bytes: a connection turns unwritable above it.")
    int writeBufferHighWaterMark() default 256 * 1024;

    @AttributeDefinition(description = "Negotiate permessage-deflate compression (off by default). Inflated messages are held to maxFrameBytes as they inflate.")
    boolean permessageDeflate() default false;

    @AttributeDefinition(description = "WebSocket subprotocol offered by clients and selected by servers; empty for none.")
    String subprotocol() default "meshwork.v1";

    @AttributeDefinition(description = "TLS certificate for wss listeners: a PEM certificate chain, or a PKCS#12 file (.p12/.pfx) holding key and chain. Empty: no wss listener.")
    String tlsCertificate() default "";

    @AttributeDefinition(description = "TLS private key (PKCS#8 PEM) when tlsCertificate is PEM; empty for PKCS#12.")
    String tlsPrivateKey() default "";

    @AttributeDefinition(description = "Password of the PKCS#12 file or of an encrypted PEM key.", type = org.osgi.service.metatype.annotations.AttributeType.PASSWORD)
    String tlsKeyPassword() default "";

    @AttributeDefinition(description = "Trust store: PEM certificates or a PKCS#12/JKS file. Verifies servers we dial and, when set on a listener, client certificates. Empty: the JDK's default CAs for dials, no client certificates.")
    String tlsTrustStore() default "";

    @AttributeDefinition(description = "Password of the trust store (PKCS#12/JKS).", type = org.osgi.service.metatype.annotations.AttributeType.PASSWORD)
    String tlsTrustStorePassword() default "";

    @AttributeDefinition(description = "Require a client certificate on wss listeners (verified against tlsTrustStore).")
    boolean tlsRequireClientCertificate() default false;

    @AttributeDefinition(description = "DANGEROUS: accept any server certificate and host name on wss dials. For tests only.")
    boolean tlsInsecureSkipVerify() default false;
}
