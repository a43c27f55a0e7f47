package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.BackoffPolicy;
import java.time.Duration;
import java.util.Set;

/**
 * The tunables of a {@link MeshCore}, read from the {@code dev.meshwork.node} configuration.
 * Immutable; {@link #DEFAULTS} are the shipped defaults, the {@code with…} methods exist for tests.
 *
 * @param helloTimeout        bound on the handshake of a new connection (connection to authenticated)
 * @param queueLimit          messages a link may hold (queued plus awaiting ack)
 * @param queueBytes          payload bytes a link may hold
 * @param maxPayloadBytes     largest payload accepted, sent or received
 * @param pingInterval        Ping cadence on the active channel
 * @param standbyPingInterval Ping cadence on standby channels
 * @param phiThreshold        suspicion level at which the active channel is declared dead
 * @param minStdDeviation     floor of the heartbeat inter-arrival deviation (keeps phi sane on a steady link)
 * @param acceptablePause     extra silence tolerated on top of the learnt distribution (GC, CPU starvation)
 * @param backoff             per-channel reconnect backoff
 * @param slowRetry           pace of retries of a FAILED channel (a refused key uses {@code backoff})
 * @param permanentFailureLimit identical permanent failures before a channel is marked FAILED
 * @param standbyCount        hot standby channels kept open besides the active one
 * @param dialStagger         Happy-Eyeballs delay between dial attempts of one link
 * @param switchRatio         a candidate must be at most this fraction of the active RTT
 * @param switchSamples       consecutive samples the candidate must win before a switch
 * @param rateBudget          frames per second a peer may send (burst = one second's budget)
 * @param dedupWindow         how long message ids are remembered for duplicate suppression
 * @param dedupCapacity       most message ids remembered
 * @param clockJumpThreshold  wall/monotonic divergence taken as a wake from sleep
 * @param trustedKeys         Base64 X.509 Ed25519 keys trusted for any node id
 * @param limits              caps on ids, topics, headers and neighbour lists a peer sends
 * @param maxHandshakes       connections that have not authenticated yet, in total (each holds about 2 KiB)
 * @param maxHandshakesPerAddress connections that have not authenticated yet, from one remote IP address
 */
public record RouterSettings(Duration helloTimeout, int queueLimit, long queueBytes, int maxPayloadBytes,
        Duration pingInterval, Duration standbyPingInterval, double phiThreshold, Duration minStdDeviation,
        Duration acceptablePause, BackoffPolicy backoff, Duration slowRetry, int permanentFailureLimit,
        int standbyCount, Duration dialStagger, double switchRatio, int switchSamples, int rateBudget,
        Duration dedupWindow, int dedupCapacity, Duration clockJumpThreshold, Set<String> trustedKeys,
        InboundLimits limits, int maxHandshakes, int maxHandshakesPerAddress) {

    public static final RouterSettings DEFAULTS = new RouterSettings(Duration.ofSeconds(5), 1000, 16L << 20,
            (1 << 20) - 4096, Duration.ofMillis(100), Duration.ofSeconds(1), 8.0, Duration.ofMillis(40),
            Duration.ofMillis(250), BackoffPolicy.DEFAULT, Duration.ofSeconds(60), 3, 1, Duration.ofMillis(250),
            0.7, 5, 2000, Duration.ofMinutes(5), 100_000, Duration.ofSeconds(2), Set.of(), InboundLimits.DEFAULTS, 256, 32);

    public RouterSettings {
        trustedKeys = Set.copyOf(trustedKeys);
        java.util.Objects.requireNonNull(limits, "limits");
        if (queueLimit < 1 || queueBytes < 1 || maxPayloadBytes < 1 || standbyCount < 0 || rateBudget < 1
                || dedupCapacity < 1 || permanentFailureLimit < 1 || switchSamples < 1 || maxHandshakes < 1
                || maxHandshakesPerAddress < 1) {
            throw new IllegalArgumentException("router limits must be positive");
        }
        if (!(switchRatio > 0 && switchRatio <= 1)) {
            throw new IllegalArgumentException("switch ratio must be within (0, 1]: " + switchRatio);
        }
    }

    public RouterSettings withTrustedKeys(Set<String> keys) {
        return new RouterSettings(helloTimeout, queueLimit, queueBytes, maxPayloadBytes, pingInterval,
                standbyPingInterval, phiThreshold, minStdDeviation, acceptablePause, backoff, slowRetry,
                permanentFailureLimit, standbyCount, dialStagger, switchRatio, switchSamples, rateBudget, dedupWindow,
                dedupCapacity, clockJumpThreshold, keys, limits, maxHandshakes, maxHandshakesPerAddress);
    }

    public RouterSettings withQueueLimit(int limit) {
        return new RouterSettings(helloTimeout, limit, queueBytes, maxPayloadBytes, pingInterval,
                standbyPingInterval, phiThreshold, minStdDeviation, acceptablePause, backoff, slowRetry,
                permanentFailureLimit, standbyCount, dialStagger, switchRatio, switchSamples, rateBudget, dedupWindow,
                dedupCapacity, clockJumpThreshold, trustedKeys, limits, maxHandshakes, maxHandshakesPerAddress);
    }

    public RouterSettings withRateBudget(int budget) {
        return new RouterSettings(helloTimeout, queueLimit, queueBytes, maxPayloadBytes, pingInterval,
                standbyPingInterval, phiThreshold, minStdDeviation, acceptablePause, backoff, slowRetry,
                permanentFailureLimit, standbyCount, dialStagger, switchRatio, switchSamples, budget, dedupWindow,
                dedupCapacity, clockJumpThreshold, trustedKeys, limits, maxHandshakes, maxHandshakesPerAddress);
    }

    public RouterSettings withMaxPayloadBytes(int max) {
        return new RouterSettings(helloTimeout, queueLimit, queueBytes, max, pingInterval,
                standbyPingInterval, phiThreshold, minStdDeviation, acceptablePause, backoff, slowRetry,
                permanentFailureLimit, standbyCount, dialStagger, switchRatio, switchSamples, rateBudget, dedupWindow,
                dedupCapacity, clockJumpThreshold, trustedKeys, limits, maxHandshakes, maxHandshakesPerAddress);
    }

    public RouterSettings withLimits(InboundLimits caps) {
        return new RouterSettings(helloTimeout, queueLimit, queueBytes, maxPayloadBytes, pingInterval,
                standbyPingInterval, phiThreshold, minStdDeviation, acceptablePause, backoff, slowRetry,
                permanentFailureLimit, standbyCount, dialStagger, switchRatio, switchSamples, rateBudget, dedupWindow,
                dedupCapacity, clockJumpThreshold, trustedKeys, caps, maxHandshakes, maxHandshakesPerAddress);
    }

    public RouterSettings withHandshakeLimits(int total, int perAddress) {
        return new RouterSettings(helloTimeout, queueLimit, queueBytes, maxPayloadBytes, pingInterval,
                standbyPingInterval, phiThreshold, minStdDeviation, acceptablePause, backoff, slowRetry,
                permanentFailureLimit, standbyCount, dialStagger, switchRatio, switchSamples, rateBudget, dedupWindow,
                dedupCapacity, clockJumpThreshold, trustedKeys, limits, total, perAddress);
    }
}
