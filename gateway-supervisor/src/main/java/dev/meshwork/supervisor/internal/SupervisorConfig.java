package dev.meshwork.supervisor.internal;

import dev.meshwork.api.BackoffPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Everything one supervised gateway is configured with, as plain values. Immutable.
 *
 * <p>Built from the {@code dev.meshwork.supervisor~NAME} configuration by the DS component, or
 * directly by tests and benchmarks; the state machine never sees ConfigAdmin.
 *
 * @param name               the gateway's name
 * @param command            the program and its arguments
 * @param workingDir         where it runs, or empty for the supervisor's working directory
 * @param env                extra environment variables
 * @param redact             keys (of environment variables and {@code --flag}s) whose values never reach a log line
 * @param port               the TCP port the gateway listens on, or 0 if none is checked
 * @param readiness          the readiness probe
 * @param readinessRetry     the pause between two readiness attempts
 * @param heartbeat          the heartbeat probe, or type {@code none}
 * @param heartbeatInterval  time between heartbeats
 * @param heartbeatMisses    consecutive misses that make the supervisor restart the gateway
 * @param backoff            restart backoff (full jitter)
 * @param stableAfter        running this long resets the backoff
 * @param governorMax        at most this many automatic restarts…
 * @param governorWindow     …within this window, or the gateway goes FAILED
 * @param slowRetry          how long FAILED waits before trying again
 * @param permanentExitCodes exit codes after which the gateway is not restarted until the configuration changes
 * @param reloadSignal       the reload signal name ({@code HUP}, {@code USR1}, …) or empty to reload by restarting
 * @param reloadVerify       how long after the signal the gateway must still be healthy
 * @param stopGrace          SIGTERM to SIGKILL
 * @param debounce           restart and reload requests within this window coalesce
 * @param output             how output is logged
 * @param pidDir             where pid files live (usually {@code <meshwork.data.dir>/gateways}), or null for none
 * @param blueGreen          start-before-stop restarts on two ports, or empty for stop-then-start restarts
 */
public record SupervisorConfig(String name, List<String> command, Optional<Path> workingDir, Map<String, String> env,
        Pattern redact, int port, ProbeSpec readiness, Duration readinessRetry, ProbeSpec heartbeat,
        Duration heartbeatInterval, int heartbeatMisses, BackoffPolicy backoff, Duration stableAfter, int governorMax,
        Duration governorWindow, Duration slowRetry, Set<Integer> permanentExitCodes, Optional<String> reloadSignal,
        Duration reloadVerify, Duration stopGrace, Duration debounce, OutputSettings output, Path pidDir,
        Optional<BlueGreen> blueGreen) {

    /** The restart backoff the issue asks for: full jitter, base 1 s, cap 30 s. */
    public static final BackoffPolicy DEFAULT_BACKOFF = BackoffPolicy.fullJitter(Duration.ofSeconds(1), Duration.ofSeconds(30));

    /** EX_CONFIG from sysexits.h: the gateway says its configuration is wrong. */
    public static final int EX_CONFIG = 78;

    public SupervisorConfig {
        Objects.requireNonNull(name, "name");
        command = List.copyOf(command);
        if (command.isEmpty() || command.get(0).isBlank()) {
            throw new IllegalArgumentException("command: no program configured for gateway '" + name + "'");
        }
        Objects.requireNonNull(workingDir, "workingDir");
        env = Map.copyOf(env);
        Objects.requireNonNull(redact, "redact");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: out of range: " + port);
        }
        Objects.requireNonNull(readiness, "readiness");
        Objects.requireNonNull(heartbeat, "heartbeat");
        if (heartbeatMisses < 1) {
            throw new IllegalArgumentException("heartbeat.misses: must be >= 1: " + heartbeatMisses);
        }
        if (governorMax < 1) {
            throw new IllegalArgumentException("governor.maxRestarts: must be >= 1: " + governorMax);
        }
        requirePositive("heartbeat.interval.ms", heartbeatInterval);
        requirePositive("readiness.retry.ms", readinessRetry);
        requirePositive("governor.window.ms", governorWindow);
        requirePositive("governor.slowRetry.ms", slowRetry);
        Objects.requireNonNull(backoff, "backoff");
        Objects.requireNonNull(stableAfter, "stableAfter");
        permanentExitCodes = Set.copyOf(permanentExitCodes);
        Objects.requireNonNull(reloadSignal, "reloadSignal");
        reloadSignal.ifPresent(Signals::requireKnown);
        Objects.requireNonNull(reloadVerify, "reloadVerify");
        Objects.requireNonNull(stopGrace, "stopGrace");
        Objects.requireNonNull(debounce, "debounce");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(blueGreen, "blueGreen");
        blueGreen.ifPresent(bg -> {
            if (port == 0 || bg.alternatePort() == port) {
                throw new IllegalArgumentException("restart.alternatePort: blue-green needs 'port' and a different "
                        + "'restart.alternatePort' (port " + port + ", alternate " + bg.alternatePort() + ")");
            }
        });
    }

    /** The placeholder in the command, arguments, environment values and probe parameters that becomes the port. */
    public static final String PORT_PLACEHOLDER = "${port}";

    /**
     * This configuration for one process that listens on {@code listenPort}: {@code ${port}}
     * replaced in the command, arguments, environment values and probe parameters, and no
     * blue/green settings (a single process has one port).
     */
    public SupervisorConfig forPort(int listenPort) {
        String p = Integer.toString(listenPort);
        List<String> cmd = command.stream().map(a -> a.replace(PORT_PLACEHOLDER, p)).toList();
        Map<String, String> environment = new java.util.LinkedHashMap<>();
        env.forEach((k, v) -> environment.put(k, v.replace(PORT_PLACEHOLDER, p)));
        return new SupervisorConfig(name, cmd, workingDir, environment, redact, listenPort, readiness.forPort(p),
                readinessRetry, heartbeat.forPort(p), heartbeatInterval, heartbeatMisses, backoff, stableAfter, governorMax,
                governorWindow, slowRetry, permanentExitCodes, reloadSignal, reloadVerify, stopGrace, debounce, output, pidDir,
                Optional.empty());
    }

    public SupervisorConfig withBlueGreen(int alternatePort, Duration drain) {
        return new SupervisorConfig(name, command, workingDir, env, redact, port, readiness, readinessRetry, heartbeat,
                heartbeatInterval, heartbeatMisses, backoff, stableAfter, governorMax, governorWindow, slowRetry,
                permanentExitCodes, reloadSignal, reloadVerify, stopGrace, debounce, output, pidDir,
                Optional.of(new BlueGreen(alternatePort, drain)));
    }

    /**
     * Start-before-stop restarts: the blue process listens on {@code port}, the green one on
     * {@code alternatePort}; each restart starts the other colour, waits for its readiness and
     * only then stops the one that served.
     *
     * @param alternatePort the green port
     * @param drain         how long the old process keeps running after the new one took over, so
     *                      that clients and proxies following the status can move
     */
    public record BlueGreen(int alternatePort, Duration drain) {

        public BlueGreen {
            if (alternatePort < 1 || alternatePort > 65535) {
                throw new IllegalArgumentException("restart.alternatePort: must be a port (1-65535): " + alternatePort);
            }
            if (drain == null || drain.isNegative()) {
                throw new IllegalArgumentException("restart.drain.ms: must be >= 0: " + drain);
            }
        }
    }

    private static void requirePositive(String key, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(key + ": must be positive: " + d);
        }
    }

    /** Defaults for everything but the command: handy for tests and the benchmark. */
    public static SupervisorConfig defaults(String name, List<String> command) {
        return new SupervisorConfig(name, command, Optional.empty(), Map.of(),
                Pattern.compile("(?i)secret|token|password|key"), 0, ProbeSpec.NONE, Duration.ofMillis(100),
                ProbeSpec.NONE, Duration.ofSeconds(10), 3, DEFAULT_BACKOFF, Duration.ofSeconds(60), 5,
                Duration.ofSeconds(60), Duration.ofMinutes(5), Set.of(EX_CONFIG), Optional.empty(), Duration.ofSeconds(2),
                Duration.ofSeconds(5), Duration.ofSeconds(2), OutputSettings.DEFAULT, null, Optional.empty());
    }

    public SupervisorConfig withReadiness(ProbeSpec spec) {
        return new SupervisorConfig(name, command, workingDir, env, redact, port, spec, readinessRetry, heartbeat,
                heartbeatInterval, heartbeatMisses, backoff, stableAfter, governorMax, governorWindow, slowRetry,
                permanentExitCodes, reloadSignal, reloadVerify, stopGrace, debounce, output, pidDir, blueGreen);
    }

    public SupervisorConfig withHeartbeat(ProbeSpec spec, Duration interval, int misses) {
        return new SupervisorConfig(name, command, workingDir, env, redact, port, readiness, readinessRetry, spec,
                interval, misses, backoff, stableAfter, governorMax, governorWindow, slowRetry,
                permanentExitCodes, reloadSignal, reloadVerify, stopGrace, debounce, output, pidDir, blueGreen);
    }

    public SupervisorConfig withRestarts(BackoffPolicy policy, Duration stable, int max, Duration window, Duration slow) {
        return new SupervisorConfig(name, command, workingDir, env, redact, port, readiness, readinessRetry, heartbeat,
                heartbeatInterval, heartbeatMisses, policy, stable, max, window, slow,
                permanentExitCodes, reloadSignal, reloadVerify, stopGrace, debounce, output, pidDir, blueGreen);
    }

    public SupervisorConfig withTiming(Duration grace, Duration debounceWindow, Optional<String> signal, Duration verify) {
        return new SupervisorConfig(name, command, workingDir, env, redact, port, readiness, readinessRetry, heartbeat,
                heartbeatInterval, heartbeatMisses, backoff, stableAfter, governorMax, governorWindow, slowRetry,
                permanentExitCodes, signal, verify, grace, debounceWindow, output, pidDir, blueGreen);
    }

    public SupervisorConfig withProcess(Map<String, String> environment, int listenPort, Path pidDirectory) {
        return new SupervisorConfig(name, command, workingDir, environment, redact, listenPort, readiness, readinessRetry,
                heartbeat, heartbeatInterval, heartbeatMisses, backoff, stableAfter, governorMax, governorWindow,
                slowRetry, permanentExitCodes, reloadSignal, reloadVerify, stopGrace, debounce, output, pidDirectory, blueGreen);
    }

    public SupervisorConfig withOutput(OutputSettings settings) {
        return new SupervisorConfig(name, command, workingDir, env, redact, port, readiness, readinessRetry, heartbeat,
                heartbeatInterval, heartbeatMisses, backoff, stableAfter, governorMax, governorWindow, slowRetry,
                permanentExitCodes, reloadSignal, reloadVerify, stopGrace, debounce, settings, pidDir, blueGreen);
    }

    /**
     * A probe as configured: its type, parameters and timeout.
     *
     * @param type       the {@code meshwork.probe.type} to use, or {@code none}
     * @param parameters probe parameters ({@code port}, {@code path}, {@code pattern}, …)
     * @param timeout    how long one run may take
     */
    public record ProbeSpec(String type, Map<String, String> parameters, Duration timeout) {

        public static final ProbeSpec NONE = new ProbeSpec("none", Map.of(), Duration.ofSeconds(5));

        public ProbeSpec {
            Objects.requireNonNull(type, "type");
            parameters = Map.copyOf(parameters);
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("probe timeout must be positive: " + timeout);
            }
        }

        /** This probe with {@code ${port}} in its parameters replaced by {@code port}. */
        public ProbeSpec forPort(String port) {
            Map<String, String> p = new java.util.LinkedHashMap<>();
            parameters.forEach((k, v) -> p.put(k, v.replace(PORT_PLACEHOLDER, port)));
            return new ProbeSpec(type, p, timeout);
        }

        public boolean isNone() {
            return type.isBlank() || type.equals("none");
        }
    }

    /**
     * How the gateway's output is logged.
     *
     * @param levelPatterns  ordered {@code LEVEL=regex} rules; the first match decides a line's level
     * @param dedupEntries   size of the LRU of recently seen (normalised) lines
     * @param summaryEvery   a repeated line is logged again as a summary every this many repeats
     * @param startupLines   lines kept for the error report of a failed start
     * @param linesPerSecond most lines logged per second per stream; the rest are counted and summarised
     */
    public record OutputSettings(List<String> levelPatterns, int dedupEntries, int summaryEvery, int startupLines,
            int linesPerSecond) {

        public static final OutputSettings DEFAULT = new OutputSettings(
                List.of("ERROR=(?i)\\b(error|fatal|panic|exception)\\b", "WARN=(?i)\\bwarn(ing)?\\b",
                        "DEBUG=(?i)\\bdebug\\b"), 256, 100, 50, 200);

        public OutputSettings {
            levelPatterns = List.copyOf(levelPatterns);
            if (dedupEntries < 1 || summaryEvery < 1 || startupLines < 1 || linesPerSecond < 1) {
                throw new IllegalArgumentException("output settings must be positive");
            }
        }
    }
}
