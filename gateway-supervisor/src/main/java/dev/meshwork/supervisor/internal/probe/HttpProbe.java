package dev.meshwork.supervisor.internal.probe;

import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.api.lifecycle.ProbeContext;
import dev.meshwork.api.lifecycle.ProbeResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletionStage;
import org.osgi.service.component.annotations.Component;

/**
 * Probe type {@code http}: GETs {@code url} (or {@code http://host:port/path}) and passes when the
 * status matches {@code status} (an exact code like {@code 204}, or a class like {@code 2xx};
 * default {@code 2xx}). Uses the JDK's HTTP client, asynchronously.
 */
@Component(service = Probe.class, property = Probe.TYPE + "=http")
public final class HttpProbe implements Probe {

    private static final class Client {
        static final HttpClient INSTANCE = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Override
    public CompletionStage<ProbeResult> probe(ProbeContext context) {
        URI uri = uri(context, "http");
        String expect = Params.string(context, "status", "2xx");
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(context.timeout()).GET().build();
        return Client.INSTANCE.sendAsync(req, HttpResponse.BodyHandlers.discarding()).handle((resp, t) -> {
            if (t != null) {
                return ProbeResult.failed("GET " + uri + ": " + t);
            }
            int code = resp.statusCode();
            return matches(code, expect) ? ProbeResult.ok("GET " + uri + " → " + code)
                    : ProbeResult.failed("GET " + uri + " → " + code + ", expected " + expect);
        });
    }

    static boolean matches(int code, String expect) {
        String e = expect.trim().toLowerCase(java.util.Locale.ROOT);
        if (e.length() == 3 && e.endsWith("xx")) {
            return code / 100 == e.charAt(0) - '0';
        }
        return Integer.toString(code).equals(e);
    }

    static URI uri(ProbeContext ctx, String scheme) {
        String url = ctx.parameters().get("url");
        if (url != null && !url.isBlank()) {
            return URI.create(url.trim());
        }
        String host = Params.string(ctx, "host", "127.0.0.1");
        String path = Params.string(ctx, "path", "/");
        return URI.create(scheme + "://" + host + ":" + Params.port(ctx) + (path.startsWith("/") ? path : "/" + path));
    }
}
