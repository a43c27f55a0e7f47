package dev.meshwork.supervisor.internal;

import dev.meshwork.api.BackoffPolicy;
import dev.meshwork.supervisor.internal.SupervisorConfig.OutputSettings;
import dev.meshwork.supervisor.internal.SupervisorConfig.ProbeSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * Turns the metatype configuration into a {@link SupervisorConfig}, failing with one line that
 * names the bad key (the launcher shows it as the component's failure).
 */
public final class ConfigMapper {

    private ConfigMapper() {
    }

    /** The gateway name: the key {@code name}, else what follows {@code ~} in the PID. */
    public static String name(SupervisorConfiguration c, String pid) {
        if (!c.name().isBlank()) {
            return c.name().trim();
        }
        if (pid != null && pid.contains("~")) {
            return pid.substring(pid.lastIndexOf('~') + 1);
        }
        if (pid != null && !pid.isBlank()) {
            return pid;
        }
        throw new IllegalArgumentException("name: no gateway name configured");
    }

    public static SupervisorConfig map(SupervisorConfiguration c, String name, Path pidDir) {
        if (c.command().isBlank()) {
            throw new IllegalArgumentException("command: required for gateway '" + name + "'");
        }
        List<String> command = new ArrayList<>();
        command.add(c.command().trim());
        // A metatype-driven launcher may turn an empty list into [""]: blank entries are no arguments.
        Arrays.stream(c.args()).filter(a -> !a.isEmpty()).forEach(command::add);
        Pattern redact;
        try {
            redact = Pattern.compile(c.redact_pattern());
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("redact.pattern: not a regex: " + e.getDescription());
        }
        BackoffPolicy backoff;
        try {
            backoff = BackoffPolicy.fullJitter(ms("backoff.base.ms", c.backoff_base_ms()), ms("backoff.cap.ms", c.backoff_cap_ms()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("backoff.base.ms/backoff.cap.ms: " + e.getMessage());
        }
        Set<Integer> permanent = Arrays.stream(c.permanentExitCodes()).boxed().collect(Collectors.toSet());
        Optional<String> signal = c.reload_signal().isBlank() ? Optional.empty() : Optional.of(Signals.requireKnown(c.reload_signal()));
        OutputSettings output = new OutputSettings(List.of(c.output_levels()), c.output_dedupEntries(),
                c.output_summaryEvery(), c.output_startupLines(), c.output_linesPerSecond());
        new dev.meshwork.supervisor.internal.output.LineClassifier(output.levelPatterns()); // validates the rules now
        return new SupervisorConfig(name, command,
                c.workingDir().isBlank() ? Optional.empty() : Optional.of(Path.of(c.workingDir())),
                pairs("env", c.env()), redact, c.port(),
                new ProbeSpec(c.readiness_type().trim(), pairs("readiness.params", c.readiness_params()),
                        ms("readiness.timeout.ms", c.readiness_timeout_ms())),
                ms("readiness.retry.ms", c.readiness_retry_ms()),
                new ProbeSpec(c.heartbeat_type().trim(), pairs("heartbeat.params", c.heartbeat_params()),
                        ms("heartbeat.timeout.ms", c.heartbeat_timeout_ms())),
                ms("heartbeat.interval.ms", c.heartbeat_interval_ms()), c.heartbeat_misses(), backoff,
                Duration.ofMillis(Math.max(0, c.backoff_stable_ms())), c.governor_maxRestarts(),
                ms("governor.window.ms", c.governor_window_ms()), ms("governor.slowRetry.ms", c.governor_slowRetry_ms()),
                permanent, signal, Duration.ofMillis(Math.max(0, c.reload_verify_ms())),
                Duration.ofMillis(Math.max(0, c.stop_grace_ms())), Duration.ofMillis(Math.max(0, c.debounce_ms())), output,
                pidDir, blueGreen(c, command, pairs("env", c.env())));
    }

    private static Optional<SupervisorConfig.BlueGreen> blueGreen(SupervisorConfiguration c, List<String> command,
            Map<String, String> env) {
        String strategy = c.restart_strategy().trim().toLowerCase(java.util.Locale.ROOT);
        switch (strategy) {
            case "", "stop-start" -> {
                return Optional.empty();
            }
            case "blue-green" -> { }
            default -> throw new IllegalArgumentException("restart.strategy: '" + c.restart_strategy()
                    + "' is not stop-start or blue-green");
        }
        if (c.port() <= 0) {
            throw new IllegalArgumentException("port: blue-green restarts need the gateway's port (the blue one)");
        }
        if (c.restart_alternatePort() <= 0 || c.restart_alternatePort() > 65535 || c.restart_alternatePort() == c.port()) {
            throw new IllegalArgumentException("restart.alternatePort: blue-green restarts need a port other than 'port' "
                    + c.port() + ": " + c.restart_alternatePort());
        }
        boolean passed = command.stream().anyMatch(a -> a.contains(SupervisorConfig.PORT_PLACEHOLDER))
                || env.values().stream().anyMatch(v -> v.contains(SupervisorConfig.PORT_PLACEHOLDER));
        if (!passed) {
            throw new IllegalArgumentException("restart.strategy: blue-green needs ${port} in command, args or env, "
                    + "so that the new process listens on the other port");
        }
        if (c.readiness_type().isBlank() || c.readiness_type().trim().equals("none")) {
            throw new IllegalArgumentException("readiness.type: blue-green restarts need a readiness probe: the old process "
                    + "is stopped only once the new one passes it");
        }
        if (c.restart_drain_ms() < 0) {
            throw new IllegalArgumentException("restart.drain.ms: must be >= 0: " + c.restart_drain_ms());
        }
        return Optional.of(new SupervisorConfig.BlueGreen(c.restart_alternatePort(), Duration.ofMillis(c.restart_drain_ms())));
    }

    private static Duration ms(String key, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(key + ": must be positive: " + value);
        }
        return Duration.ofMillis(value);
    }

    static Map<String, String> pairs(String key, String[] entries) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String e : entries) {
            if (e.isBlank()) {
                continue;
            }
            int eq = e.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(key + ": entry " + (out.size() + 1) + " is not KEY=VALUE");
            }
            out.put(e.substring(0, eq).trim(), e.substring(eq + 1));
        }
        return out;
    }
}
