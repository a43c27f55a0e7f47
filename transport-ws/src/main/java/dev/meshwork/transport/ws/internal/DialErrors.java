package dev.meshwork.transport.ws.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertificateException;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import javax.net.ssl.SSLException;

/**
 * Maps what Netty and the JDK throw during a dial to a typed Meshwork failure.
 *
 * <p>The router retries a {@link RetryableException} with backoff and gives up on a
 * {@link PermanentException} until configuration changes, so the split matters more than the text.
 */
final class DialErrors {

    private DialErrors() {
    }

    static MeshworkException classify(Throwable failure, String target) {
        Throwable t = failure;
        while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof MeshworkException m) {
            return m;
        }
        String where = " (" + target + ")";
        if (t instanceof CancellationException) {
            return new RetryableException(FailureCode.CANCELLED, "dial cancelled" + where, t);
        }
        if (t instanceof ConnectTimeoutException || t instanceof SocketTimeoutException) {
            return new RetryableException(FailureCode.TIMEOUT, "connect timed out" + where, t);
        }
        if (t instanceof WebSocketClientHandshakeException h) {
            int status = h.response() == null ? 0 : h.response().status().code();
            if (status >= 400 && status < 500) {
                return new PermanentException(FailureCode.UPGRADE_REFUSED, "upgrade refused with HTTP " + status + where, t);
            }
            if (status >= 500) {
                return new RetryableException(FailureCode.UPGRADE_REFUSED, "upgrade failed with HTTP " + status + where, t);
            }
            return new PermanentException(FailureCode.PROTOCOL_VIOLATION, "invalid upgrade response: " + h.getMessage() + where, t);
        }
        if (t instanceof WebSocketHandshakeException) {
            return new PermanentException(FailureCode.PROTOCOL_VIOLATION, "handshake failed: " + t.getMessage() + where, t);
        }
        if (t instanceof SSLException) {
            if (isCertificateProblem(t)) {
                return new PermanentException(FailureCode.CERTIFICATE_REJECTED, "certificate rejected: " + t.getMessage() + where, t);
            }
            return new RetryableException(FailureCode.TLS_HANDSHAKE, "TLS handshake interrupted: " + t.getMessage() + where, t);
        }
        if (t instanceof UnknownHostException || t instanceof NoRouteToHostException) {
            return new RetryableException(FailureCode.UNREACHABLE, "unreachable: " + t.getMessage() + where, t);
        }
        String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
        if (t instanceof ConnectException) {
            if (message.contains("unreachable") || message.contains("no route")) {
                return new RetryableException(FailureCode.UNREACHABLE, "unreachable: " + t.getMessage() + where, t);
            }
            if (message.contains("reset")) {
                return new RetryableException(FailureCode.CONNECTION_RESET, "connection reset" + where, t);
            }
            if (message.contains("timed out")) {
                return new RetryableException(FailureCode.TIMEOUT, "connect timed out" + where, t);
            }
            return new RetryableException(FailureCode.CONNECTION_REFUSED, "connection refused" + where, t);
        }
        if (t instanceof ClosedChannelException) {
            return new RetryableException(FailureCode.CONNECTION_RESET, "connection closed during the upgrade" + where, t);
        }
        if (t instanceof IOException) {
            return new RetryableException(FailureCode.CONNECTION_RESET, "connection failed: " + t.getMessage() + where, t);
        }
        return new PermanentException(FailureCode.PROTOCOL_VIOLATION, "dial failed: " + t + where, t);
    }

    private static boolean isCertificateProblem(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof CertificateException || c.getClass().getName().startsWith("sun.security.validator")
                    || c.getClass().getName().startsWith("java.security.cert")) {
                return true;
            }
            String m = String.valueOf(c.getMessage());
            if (m.contains("certificate") || m.contains("PKIX") || m.contains("subject alternative")) {
                return true;
            }
        }
        return false;
    }
}
