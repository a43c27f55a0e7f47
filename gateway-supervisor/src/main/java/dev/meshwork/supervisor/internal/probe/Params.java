package dev.meshwork.supervisor.internal.probe;

import dev.meshwork.api.lifecycle.ProbeContext;

/** Reads probe parameters with clear errors: a missing or malformed one names itself. */
final class Params {

    private Params() {
    }

    static String string(ProbeContext ctx, String key, String fallback) {
        String v = ctx.parameters().get(key);
        return v == null || v.isBlank() ? fallback : v.trim();
    }

    static int port(ProbeContext ctx) {
        String v = ctx.parameters().get("port");
        if (v == null) {
            throw new IllegalArgumentException("probe parameter 'port' is missing (and the gateway has no 'port')");
        }
        try {
            int p = Integer.parseInt(v.trim());
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("probe parameter 'port' is not a port: " + v);
        }
    }
}
