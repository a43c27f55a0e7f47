package dev.meshwork.transport.multichannel.internal;

/**
 * A token bucket: {@code perSecond} tokens a second, bursts up to one second's worth. Bounds what
 * one peer can make this node do, so a flooding peer cannot starve the others. Not thread-safe.
 */
final class RateLimiter {

    private final double perNano;
    private final double burst;
    private double tokens;
    private long last;

    RateLimiter(int perSecond, long now) {
        this.perNano = perSecond / 1e9;
        this.burst = perSecond;
        this.tokens = perSecond;
        this.last = now;
    }

    boolean tryAcquire(long now) {
        if (now > last) {
            tokens = Math.min(burst, tokens + (now - last) * perNano);
            last = now;
        }
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
