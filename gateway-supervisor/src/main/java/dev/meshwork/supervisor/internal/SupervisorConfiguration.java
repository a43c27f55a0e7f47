package dev.meshwork.supervisor.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * The keys of one {@code dev.meshwork.supervisor~NAME} factory configuration. Durations are in
 * milliseconds; a key's name is the method name with {@code _} read as {@code .}.
 */
@ObjectClassDefinition(id = "dev.meshwork.supervisor", name = "Meshwork gateway supervisor",
        description = "Supervises one local gateway process (one factory configuration per gateway).")
public @interface SupervisorConfiguration {

    @AttributeDefinition(description = "The gateway's name; empty = the part of the PID after '~'.")
    String name() default "";

    @AttributeDefinition(description = "The program to run (absolute path or on PATH). Required.")
    String command() default "";

    @AttributeDefinition(description = "Arguments of the program.")
    String[] args() default {};

    @AttributeDefinition(description = "Working directory; empty = the node's working directory.")
    String workingDir() default "";

    @AttributeDefinition(description = "Extra environment variables, each KEY=VALUE.")
    String[] env() default {};

    @AttributeDefinition(description = "Regex: environment variables and --flags whose names match have their values "
            + "redacted from every log line.")
    String redact_pattern() default "(?i)secret|token|password|key";

    @AttributeDefinition(description = "TCP port the gateway listens on (0 = none). A foreign process holding it makes the start fail; "
            + "probes default to it.")
    int port() default 0;

    @AttributeDefinition(description = "Start the gateway when the configuration arrives.")
    boolean autoStart() default true;

    @AttributeDefinition(description = "Readiness probe type (meshwork.probe.type: tcp, http, ws, log, or none).")
    String readiness_type() default "none";

    @AttributeDefinition(description = "Readiness probe parameters, each key=value (port, host, path, url, status, pattern).")
    String[] readiness_params() default {};

    @AttributeDefinition(description = "Time the gateway has to become ready, ms.")
    long readiness_timeout_ms() default 30_000;

    @AttributeDefinition(description = "Pause between readiness attempts, ms.")
    long readiness_retry_ms() default 100;

    @AttributeDefinition(description = "Heartbeat probe type (or none).")
    String heartbeat_type() default "none";

    @AttributeDefinition(description = "Heartbeat probe parameters, each key=value.")
    String[] heartbeat_params() default {};

    @AttributeDefinition(description = "Time between heartbeats, ms.")
    long heartbeat_interval_ms() default 10_000;

    @AttributeDefinition(description = "Time one heartbeat may take, ms.")
    long heartbeat_timeout_ms() default 5_000;

    @AttributeDefinition(description = "Consecutive heartbeat misses that restart the gateway.")
    int heartbeat_misses() default 3;

    @AttributeDefinition(description = "Restart backoff base, ms (full jitter).")
    long backoff_base_ms() default 1_000;

    @AttributeDefinition(description = "Restart backoff cap, ms.")
    long backoff_cap_ms() default 30_000;

    @AttributeDefinition(description = "Up this long (ms) and the backoff starts over.")
    long backoff_stable_ms() default 60_000;

    @AttributeDefinition(description = "Governor: at most this many automatic restarts per window.")
    int governor_maxRestarts() default 5;

    @AttributeDefinition(description = "Governor window, ms.")
    long governor_window_ms() default 60_000;

    @AttributeDefinition(description = "In FAILED, try again after this long, ms.")
    long governor_slowRetry_ms() default 300_000;

    @AttributeDefinition(description = "Exit codes after which the gateway is not restarted until its configuration changes.")
    int[] permanentExitCodes() default {78};

    @AttributeDefinition(description = "Reload signal (HUP, USR1, USR2); empty = reload by restarting.")
    String reload_signal() default "";

    @AttributeDefinition(description = "After the reload signal, the gateway must still be healthy after this long, ms.")
    long reload_verify_ms() default 2_000;

    @AttributeDefinition(description = "SIGTERM to SIGKILL, ms.")
    long stop_grace_ms() default 5_000;

    @AttributeDefinition(description = "How a live gateway is restarted (explicit restart, heartbeat restart, reload "
            + "fallback). stop-start: stop the process, then start the new one on 'port'. blue-green: start the new process "
            + "on the other port ('port' = blue, 'restart.alternatePort' = green), wait until it passes readiness, then stop "
            + "the old one; if the new one fails, it is stopped and the old one keeps serving. Pass the port to the process "
            + "with ${port} in command, args or env values (and in probe parameters).",
            options = {@Option(label = "stop, then start", value = "stop-start"),
                @Option(label = "blue/green: start the new one, then stop the old one", value = "blue-green")})
    String restart_strategy() default "stop-start";

    @AttributeDefinition(description = "blue-green only: the green port, used by every other process; ${port} is this "
            + "port or 'port' in turn. 0 = not set (required with blue-green).")
    int restart_alternatePort() default 0;

    @AttributeDefinition(description = "blue-green only: after the new process took over, the old one keeps running "
            + "this long (ms) before SIGTERM, so clients and proxies following the active port can move.")
    long restart_drain_ms() default 1_000;

    @AttributeDefinition(description = "Restart and reload requests within this window coalesce, ms.")
    long debounce_ms() default 2_000;

    @AttributeDefinition(description = "Output log levels, ordered LEVEL=regex rules (TRACE, DEBUG, INFO, WARN, ERROR, DROP); "
            + "unmatched stdout lines log at INFO, stderr at WARN.")
    String[] output_levels() default {"ERROR=(?i)\\b(error|fatal|panic|exception)\\b", "WARN=(?i)\\bwarn(ing)?\\b",
        "DEBUG=(?i)\\bdebug\\b"};

    @AttributeDefinition(description = "Distinct (normalised) lines remembered for de-duplication.")
    int output_dedupEntries() default 256;

    @AttributeDefinition(description = "A repeated line is logged again as a summary every this many repeats.")
    int output_summaryEvery() default 100;

    @AttributeDefinition(description = "Output lines kept for the error report of a failed start.")
    int output_startupLines() default 50;

    @AttributeDefinition(description = "Most output lines logged per second per stream.")
    int output_linesPerSecond() default 200;
}
